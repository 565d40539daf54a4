//! The game, with no socket in it: a board of tiles, pawns that walk and
//! drop bombs, bombs that explode after their fuse, fire that kills and
//! then goes out. The seed's `Board`, `Pawn`, `YoureDead` and
//! `IllegalMove`.
//!
//! Time comes from a [`Clock`]: a bomb's fuse and a fire's end are
//! [`Clock::call_later`] calls. The server gives the reactor's clock, so
//! they run in its loop; a test gives [`Clock::manual`] and moves time
//! forward by hand, so two seconds of fuse take no time at all:
//!
//! ```
//! use std::time::Duration;
//! use boom::game::{Game, Tile};
//! use reactor::Clock;
//!
//! let clock = Clock::manual();
//! let game = Game::new(5, 5, clock.clone());
//! let a = game.join().unwrap(); // in the corner (0, 0)
//! assert_eq!(game.row(0), "A . % % %");
//! game.drop_bomb(a).unwrap();
//! game.step(a, boom::game::Direction::Right).unwrap();
//! clock.advance(Duration::from_millis(1999));
//! assert_eq!(game.row(0), "o A % % %"); // the fuse still burns
//! clock.advance(Duration::from_millis(1));
//! assert_eq!(game.row(0), "* * % % %"); // fire, and A stood in it
//! clock.advance(Duration::from_secs(1));
//! assert_eq!(game.row(0), ". a % % %"); // out; A stays dead
//! ```
//!
//! The rules:
//!
//! - a `W×H` board of EMPTY, HARD (where x and y are both odd) and SOFT
//!   tiles (everything else at start);
//! - each pawn (`A`, `B`, `C`…, wrapping after `Z`) is placed in a free
//!   corner (the one farthest from the other pawns); inserting it clears
//!   its tile and the four around it;
//! - a pawn moves only onto an EMPTY tile of the board with no bomb on it;
//! - it has 1 bomb, a flame of 1 tile and a fuse of 2 s; the bomb comes
//!   back to it when it explodes;
//! - an explosion sets fire to the bomb's tile and to the tiles around it,
//!   up to the flame's size in each direction: HARD stops the flame with no
//!   fire, SOFT burns (becomes EMPTY) and stops it, another bomb hit
//!   explodes at once (and stops it: its own flame goes on from there);
//! - fire lasts 1 s; a tile set on fire again burns 1 s from then;
//! - a pawn in fire, or walking into it, dies: it can no longer move nor
//!   drop bombs, and stays dead.
//!
//! Where the rules above are silent, our choices:
//!
//! - **more players than corners.** A fifth player is not refused: with no
//!   free corner, the pawn goes to the free tile farthest from every other
//!   pawn (ties: the first in reading order), and the tiles around it are
//!   cleared as for a corner. A tile is free when it is not HARD and holds
//!   no pawn (alive or dead), no bomb and no fire.
//! - **a full game.** At most [`MAX_PAWNS`] pawns, one per letter: every
//!   letter on the board names one player, and the legend of the screens
//!   stays a few lines long. A player who comes then, or when no tile at
//!   all is free, is refused ([`Game::join`] returns `None`). The letters
//!   still wrap: after `Z` the next one in turn is `A` again, if `A` left.
//! - **memory.** A pawn is removed when its player leaves; a bomb and a
//!   burning tile are one entry each, removed when they explode or go out:
//!   the game holds at most one entry per tile, however many come and go.
//! - **the bomb of a player who left** still explodes.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use reactor::{Clock, DelayedCall};

/// The board's default size (the seed's game).
pub const WIDTH: usize = 11;
/// See [`WIDTH`].
pub const HEIGHT: usize = 11;

/// Bombs a pawn may have on the board at once.
pub const BOMBS: u32 = 1;
/// How many tiles the flame reaches in each direction.
pub const FLAME: usize = 1;
/// How long a bomb waits before it explodes.
pub const FUSE: Duration = Duration::from_secs(2);
/// How long a tile burns.
pub const FIRE: Duration = Duration::from_secs(1);

/// Pawn names, given in turn (the seed's `string.uppercase[num % 26]`).
const NAMES: &[u8; 26] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Pawns on the board at once: one per letter, so that no two players
/// share a name, and a screen stays small whatever the number of
/// connections (each screen names every player).
pub const MAX_PAWNS: usize = NAMES.len();

/// How each thing is drawn in [`Game::row`]. A live pawn is its letter, a
/// dead one its letter in lower case.
pub const GLYPH_EMPTY: char = '.';
/// See [`GLYPH_EMPTY`].
pub const GLYPH_HARD: char = '#';
/// See [`GLYPH_EMPTY`].
pub const GLYPH_SOFT: char = '%';
/// See [`GLYPH_EMPTY`].
pub const GLYPH_BOMB: char = 'o';
/// See [`GLYPH_EMPTY`].
pub const GLYPH_FIRE: char = '*';

/// A tile of the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tile {
    /// Nothing: a pawn may walk here.
    Empty,
    /// Indestructible: stops the flame.
    Hard,
    /// Destructible: burns (and becomes EMPTY) when the flame reaches it.
    Soft,
}

/// Where a pawn goes: keys `w`, `a`, `s`, `d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `w`: y - 1.
    Up,
    /// `a`: x - 1.
    Left,
    /// `s`: y + 1.
    Down,
    /// `d`: x + 1.
    Right,
}

const DIRECTIONS: [Direction; 4] = [
    Direction::Up,
    Direction::Left,
    Direction::Down,
    Direction::Right,
];

/// A tile's place: `(x, y)`, `(0, 0)` top left.
pub type Pos = (usize, usize);

/// Names a pawn for as long as its player is connected. Never reused, even
/// when the letter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PawnId(u64);

/// Why a move or a bomb was refused (the seed's two exceptions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The pawn is dead (`YoureDead`).
    YoureDead,
    /// Not allowed: off the board, a wall, a bomb in the way, no bomb left,
    /// already a bomb here, or no such pawn (`IllegalMove`).
    IllegalMove,
}

/// What the outside sees of a pawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PawnView {
    /// Its letter.
    pub name: char,
    /// Where it is (or where it died).
    pub pos: Pos,
    /// False once it has been in fire.
    pub alive: bool,
    /// Bombs it may still drop now.
    pub bombs: u32,
}

/// The game: a handle, cheap to clone (an `Rc`); clones share one board.
///
/// Everything runs on one thread (the reactor's): the board is in a
/// `RefCell`, borrowed only inside a method, never while the change
/// listener or a timer runs.
#[derive(Clone)]
pub struct Game {
    inner: Rc<Inner>,
}

struct Inner {
    board: RefCell<Board>,
    clock: Clock,
    /// Told after every change (a move, a bomb, an explosion, a fire that
    /// goes out, a pawn that comes or goes): the server redraws then.
    listener: RefCell<Option<Listener>>,
}

/// What [`Game::on_change`] keeps.
type Listener = Box<dyn Fn(&Game)>;

struct Board {
    width: usize,
    height: usize,
    /// Row after row: tile `(x, y)` is at `y * width + x`.
    tiles: Vec<Tile>,
    /// In the order they joined (ids only grow): the legend's order.
    pawns: BTreeMap<PawnId, Pawn>,
    /// At most one bomb per tile.
    bombs: BTreeMap<Pos, Bomb>,
    /// The burning tiles, each with the call that puts it out.
    fire: BTreeMap<Pos, DelayedCall>,
    /// How many pawns ever joined: the next id, and the next name.
    joined: u64,
}

struct Pawn {
    name: char,
    pos: Pos,
    alive: bool,
    bombs: u32,
    flame: usize,
}

struct Bomb {
    owner: PawnId,
    flame: usize,
    /// The call that explodes it, cancelled if a chain explodes it first.
    fuse: DelayedCall,
}

impl Game {
    /// A new board of `width × height` tiles (at least 1 × 1), its timers
    /// on `clock`.
    pub fn new(width: usize, height: usize, clock: Clock) -> Game {
        let (width, height) = (width.max(1), height.max(1));
        let mut tiles = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                let hard = x % 2 == 1 && y % 2 == 1;
                tiles.push(if hard { Tile::Hard } else { Tile::Soft });
            }
        }
        let board = Board {
            width,
            height,
            tiles,
            pawns: BTreeMap::new(),
            bombs: BTreeMap::new(),
            fire: BTreeMap::new(),
            joined: 0,
        };
        Game {
            inner: Rc::new(Inner {
                board: RefCell::new(board),
                clock,
                listener: RefCell::new(None),
            }),
        }
    }

    /// Calls `f` after every change of the board, including the ones the
    /// timers make. `f` may read the game (to draw it).
    pub fn on_change(&self, f: impl Fn(&Game) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Box::new(f));
    }

    /// A new pawn (the seed's `board.insertPawn`): in a free corner, or on
    /// the free tile farthest from the others; `None` if the game is full
    /// ([`MAX_PAWNS`] pawns, or no tile free).
    pub fn join(&self) -> Option<PawnId> {
        let id = {
            let mut b = self.inner.board.borrow_mut();
            if b.pawns.len() >= MAX_PAWNS {
                return None;
            }
            let pos = b.free_spot()?;
            let id = PawnId(b.joined);
            let name = b.free_name();
            b.joined += 1;
            let around: Vec<Pos> = DIRECTIONS.iter().filter_map(|&d| b.next(pos, d)).collect();
            for p in std::iter::once(pos).chain(around) {
                if b.tile(p) == Tile::Soft {
                    b.set(p, Tile::Empty);
                }
            }
            let pawn = Pawn {
                name,
                pos,
                alive: true,
                bombs: BOMBS,
                flame: FLAME,
            };
            b.pawns.insert(id, pawn);
            id
        };
        self.changed();
        Some(id)
    }

    /// The pawn's player left: the pawn goes (its bomb, if any, still
    /// explodes).
    pub fn leave(&self, id: PawnId) {
        let removed = self.inner.board.borrow_mut().pawns.remove(&id).is_some();
        if removed {
            self.changed();
        }
    }

    /// Moves a pawn one tile (keys `w`, `a`, `s`, `d`). Walking into fire
    /// is allowed, and deadly.
    pub fn step(&self, id: PawnId, direction: Direction) -> Result<(), Refusal> {
        {
            let mut b = self.inner.board.borrow_mut();
            let from = b.live_pawn(id)?.pos;
            let to = b.next(from, direction).ok_or(Refusal::IllegalMove)?;
            if b.tile(to) != Tile::Empty || b.bombs.contains_key(&to) {
                return Err(Refusal::IllegalMove);
            }
            let burning = b.fire.contains_key(&to);
            let pawn = b.pawns.get_mut(&id).ok_or(Refusal::IllegalMove)?;
            pawn.pos = to;
            if burning {
                pawn.alive = false;
            }
        }
        self.changed();
        Ok(())
    }

    /// Drops a bomb where the pawn stands (key `e`); it explodes after
    /// [`FUSE`].
    pub fn drop_bomb(&self, id: PawnId) -> Result<(), Refusal> {
        {
            let mut b = self.inner.board.borrow_mut();
            let pawn = b.live_pawn(id)?;
            let (pos, flame) = (pawn.pos, pawn.flame);
            if pawn.bombs == 0 || b.bombs.contains_key(&pos) {
                return Err(Refusal::IllegalMove);
            }
            let fuse = self.later(FUSE, move |game| game.fuse_burnt(pos));
            if let Some(pawn) = b.pawns.get_mut(&id) {
                pawn.bombs -= 1;
            }
            let bomb = Bomb {
                owner: id,
                flame,
                fuse,
            };
            b.bombs.insert(pos, bomb);
        }
        self.changed();
        Ok(())
    }

    // ---- What the outside may look at ------------------------------------

    /// The board's size, `(width, height)`.
    pub fn size(&self) -> (usize, usize) {
        let b = self.inner.board.borrow();
        (b.width, b.height)
    }

    /// The tile at `pos` (HARD off the board).
    pub fn tile(&self, pos: Pos) -> Tile {
        let b = self.inner.board.borrow();
        if b.contains(pos) {
            b.tile(pos)
        } else {
            Tile::Hard
        }
    }

    /// True if a bomb waits at `pos`.
    pub fn has_bomb(&self, pos: Pos) -> bool {
        self.inner.board.borrow().bombs.contains_key(&pos)
    }

    /// True while `pos` burns.
    pub fn on_fire(&self, pos: Pos) -> bool {
        self.inner.board.borrow().fire.contains_key(&pos)
    }

    /// A pawn, if its player is still there.
    pub fn pawn(&self, id: PawnId) -> Option<PawnView> {
        self.inner.board.borrow().pawns.get(&id).map(Pawn::view)
    }

    /// Every pawn, in the order they joined.
    pub fn pawns(&self) -> Vec<(PawnId, PawnView)> {
        let b = self.inner.board.borrow();
        b.pawns.iter().map(|(&id, p)| (id, p.view())).collect()
    }

    /// How many bombs and burning tiles the game holds (to check that it
    /// does not grow).
    pub fn entries(&self) -> usize {
        let b = self.inner.board.borrow();
        b.pawns.len() + b.bombs.len() + b.fire.len()
    }

    /// Row `y` as text, one glyph per tile separated by spaces: `A . % #`.
    /// On a tile, a live pawn shows first, then fire, a bomb, a dead pawn,
    /// and the tile itself.
    pub fn row(&self, y: usize) -> String {
        let b = self.inner.board.borrow();
        let mut text = String::with_capacity(2 * b.width);
        if y >= b.height {
            return text;
        }
        for x in 0..b.width {
            if x > 0 {
                text.push(' ');
            }
            text.push(b.glyph((x, y)));
        }
        text
    }

    // ---- Timers ----------------------------------------------------------

    /// Schedules `f` on the game's clock, with a weak handle on the game
    /// (see [`crate::later`]).
    fn later(&self, delay: Duration, f: impl FnOnce(&Game) + 'static) -> DelayedCall {
        crate::later(&self.inner.clock, delay, &self.inner, move |inner| {
            f(&Game {
                inner: Rc::clone(inner),
            })
        })
    }

    /// The fuse of the bomb at `pos` is burnt: it explodes.
    fn fuse_burnt(&self, pos: Pos) {
        {
            let mut b = self.inner.board.borrow_mut();
            self.explode(&mut b, pos);
        }
        self.changed();
    }

    /// The bomb at `pos` explodes, and every bomb its flame reaches, at
    /// once (a queue rather than recursion: a long chain cannot overflow
    /// the stack).
    fn explode(&self, b: &mut Board, pos: Pos) {
        let mut chain = VecDeque::from([pos]);
        while let Some(at) = chain.pop_front() {
            let Some(bomb) = b.bombs.remove(&at) else {
                continue; // already exploded in this chain
            };
            bomb.fuse.cancel();
            // The bomb comes back to its pawn (if its player is still here).
            if let Some(owner) = b.pawns.get_mut(&bomb.owner) {
                owner.bombs += 1;
            }
            self.ignite(b, at);
            for direction in DIRECTIONS {
                let mut p = at;
                for _ in 0..bomb.flame {
                    let Some(next) = b.next(p, direction) else {
                        break; // the edge of the board
                    };
                    p = next;
                    match b.tile(p) {
                        Tile::Hard => break,
                        Tile::Soft => {
                            b.set(p, Tile::Empty);
                            self.ignite(b, p);
                            break;
                        }
                        Tile::Empty => {
                            self.ignite(b, p);
                            if b.bombs.contains_key(&p) {
                                chain.push_back(p);
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sets `pos` on fire for [`FIRE`] from now (again, if it burns
    /// already), and kills every pawn there.
    fn ignite(&self, b: &mut Board, pos: Pos) {
        if let Some(old) = b.fire.remove(&pos) {
            old.cancel();
        }
        let out = self.later(FIRE, move |game| game.fire_out(pos));
        b.fire.insert(pos, out);
        for pawn in b.pawns.values_mut().filter(|p| p.pos == pos) {
            pawn.alive = false;
        }
    }

    fn fire_out(&self, pos: Pos) {
        let removed = self.inner.board.borrow_mut().fire.remove(&pos).is_some();
        if removed {
            self.changed();
        }
    }

    /// Tells the listener; the board is not borrowed now, so it may read it.
    fn changed(&self) {
        if let Some(listener) = self.inner.listener.borrow().as_ref() {
            listener(self);
        }
    }
}

impl Board {
    fn contains(&self, (x, y): Pos) -> bool {
        x < self.width && y < self.height
    }

    /// The tile at `pos`, which must be on the board.
    fn tile(&self, (x, y): Pos) -> Tile {
        self.tiles[y * self.width + x]
    }

    fn set(&mut self, (x, y): Pos, tile: Tile) {
        self.tiles[y * self.width + x] = tile;
    }

    /// The tile next to `pos` in `direction`, if it is on the board.
    fn next(&self, (x, y): Pos, direction: Direction) -> Option<Pos> {
        let next = match direction {
            Direction::Up => (x, y.checked_sub(1)?),
            Direction::Left => (x.checked_sub(1)?, y),
            Direction::Down => (x, y + 1),
            Direction::Right => (x + 1, y),
        };
        self.contains(next).then_some(next)
    }

    fn live_pawn(&self, id: PawnId) -> Result<&Pawn, Refusal> {
        match self.pawns.get(&id) {
            Some(pawn) if pawn.alive => Ok(pawn),
            Some(_) => Err(Refusal::YoureDead),
            None => Err(Refusal::IllegalMove),
        }
    }

    /// Not HARD, and no pawn, bomb or fire on it.
    fn is_free(&self, pos: Pos) -> bool {
        self.tile(pos) != Tile::Hard
            && !self.bombs.contains_key(&pos)
            && !self.fire.contains_key(&pos)
            && !self.pawns.values().any(|p| p.pos == pos)
    }

    /// The free corner farthest from every pawn, else the free tile
    /// farthest from every pawn; ties go to the first in the list (for
    /// corners: top left, bottom right, top right, bottom left).
    fn free_spot(&self) -> Option<Pos> {
        let (right, bottom) = (self.width - 1, self.height - 1);
        let corners = [(0, 0), (right, bottom), (right, 0), (0, bottom)];
        let tiles = (0..self.height).flat_map(|y| (0..self.width).map(move |x| (x, y)));
        self.farthest(corners.into_iter())
            .or_else(|| self.farthest(tiles))
    }

    /// Among the free tiles of `candidates`, the first of those farthest
    /// (in steps) from the nearest pawn.
    fn farthest(&self, candidates: impl Iterator<Item = Pos>) -> Option<Pos> {
        let distance = |(x, y): Pos| {
            self.pawns
                .values()
                .map(|p| x.abs_diff(p.pos.0) + y.abs_diff(p.pos.1))
                .min()
                .unwrap_or(usize::MAX)
        };
        let mut best: Option<(usize, Pos)> = None;
        for pos in candidates.filter(|&pos| self.is_free(pos)) {
            let d = distance(pos);
            if best.is_none_or(|(far, _)| d > far) {
                best = Some((d, pos));
            }
        }
        best.map(|(_, pos)| pos)
    }

    /// The next letter in turn (after `Z`, `A` again), skipping the
    /// letters in use: there is one left, since pawns are fewer than
    /// letters when one joins.
    fn free_name(&self) -> char {
        let start = (self.joined % NAMES.len() as u64) as usize;
        let taken = |c: char| self.pawns.values().any(|p| p.name == c);
        (0..NAMES.len())
            .map(|i| NAMES[(start + i) % NAMES.len()] as char)
            .find(|&c| !taken(c))
            .unwrap_or('?')
    }

    fn glyph(&self, pos: Pos) -> char {
        let mut dead = None;
        for pawn in self.pawns.values().filter(|p| p.pos == pos) {
            if pawn.alive {
                return pawn.name;
            }
            dead.get_or_insert(pawn.name.to_ascii_lowercase());
        }
        if self.fire.contains_key(&pos) {
            return GLYPH_FIRE;
        }
        if self.bombs.contains_key(&pos) {
            return GLYPH_BOMB;
        }
        if let Some(dead) = dead {
            return dead;
        }
        match self.tile(pos) {
            Tile::Empty => GLYPH_EMPTY,
            Tile::Hard => GLYPH_HARD,
            Tile::Soft => GLYPH_SOFT,
        }
    }
}

impl Pawn {
    fn view(&self) -> PawnView {
        PawnView {
            name: self.name,
            pos: self.pos,
            alive: self.alive,
            bombs: self.bombs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Direction::{Down, Left, Right, Up};
    use super::*;
    use std::cell::Cell;

    const MS: Duration = Duration::from_millis(1);

    /// A 5×5 game on a manual clock.
    fn game() -> (Game, Clock) {
        let clock = Clock::manual();
        (Game::new(5, 5, clock.clone()), clock)
    }

    /// A joins, drops its bomb at (1, 0), and takes shelter at (0, 1), out
    /// of the flame's reach.
    fn bomb_then_shelter(g: &Game) -> PawnId {
        let a = g.join().unwrap();
        g.step(a, Right).unwrap();
        g.drop_bomb(a).unwrap();
        g.step(a, Left).unwrap();
        g.step(a, Down).unwrap();
        a
    }

    /// The whole board, one row a line.
    fn picture(game: &Game) -> Vec<String> {
        (0..game.size().1).map(|y| game.row(y)).collect()
    }

    #[test]
    fn a_new_board_has_hard_tiles_where_x_and_y_are_odd_soft_elsewhere() {
        let (g, _) = game();
        assert_eq!(
            picture(&g),
            [
                "% % % % %",
                "% # % # %",
                "% % % % %",
                "% # % # %",
                "% % % % %"
            ]
        );
        assert_eq!(g.tile((1, 1)), Tile::Hard);
        assert_eq!(g.tile((2, 1)), Tile::Soft);
        assert_eq!(g.tile((5, 0)), Tile::Hard, "off the board");
    }

    #[test]
    fn pawns_take_the_corners_and_clear_around_them() {
        let (g, _) = game();
        let ids: Vec<PawnId> = (0..4).map(|_| g.join().unwrap()).collect();
        assert_eq!(
            picture(&g),
            [
                "A . % . C",
                ". # % # .",
                "% % % % %",
                ". # % # .",
                "D . % . B"
            ]
        );
        let names: String = g.pawns().iter().map(|(_, p)| p.name).collect();
        assert_eq!(names, "ABCD");
        assert_eq!(g.pawn(ids[1]).unwrap().pos, (4, 4));
        assert!(g.pawns().iter().all(|(_, p)| p.alive && p.bombs == 1));
    }

    #[test]
    fn the_free_corner_farthest_from_the_others_is_taken() {
        let (g, _) = game();
        let a = g.join().unwrap();
        g.step(a, Right).unwrap(); // A leaves its corner for (1, 0)
        let b = g.join().unwrap();
        assert_eq!(g.pawn(b).unwrap().pos, (4, 4), "not (0, 0), next to A");
        g.step(a, Left).unwrap();
        g.step(a, Down).unwrap(); // A (0, 1)
        let c = g.join().unwrap();
        assert_eq!(g.pawn(c).unwrap().pos, (4, 0), "5 steps from A, 4 from B");
    }

    #[test]
    fn with_the_corners_taken_a_pawn_goes_farthest_from_the_others() {
        let (g, _) = game();
        for _ in 0..4 {
            g.join().unwrap();
        }
        g.join().unwrap();
        // (2, 2) is 4 tiles from every corner; its HARD neighbours stay.
        assert_eq!(picture(&g)[1..4], [". # . # .", "% . E . %", ". # . # ."]);
        // A tile gets free again when its pawn leaves.
        let first = g.pawns()[0].0;
        g.leave(first);
        g.join().unwrap();
        assert_eq!(g.row(0), "F . % . C");
    }

    #[test]
    fn a_full_board_refuses_a_pawn_and_leaving_frees_everything() {
        let clock = Clock::manual();
        let g = Game::new(3, 3, clock);
        // 3×3: 8 tiles that are not HARD, so 8 pawns.
        let ids: Vec<PawnId> = (0..8).map(|_| g.join().unwrap()).collect();
        assert_eq!(g.join(), None, "no free tile left");
        for id in ids {
            g.leave(id);
        }
        assert_eq!(g.entries(), 0, "nothing kept of who left");
        assert!(g.join().is_some());
    }

    #[test]
    fn names_wrap_after_z_and_skip_the_letters_in_use() {
        let clock = Clock::manual();
        let g = Game::new(11, 11, clock);
        let a = g.join().unwrap(); // A stays
        for _ in 1..26 {
            let id = g.join().unwrap();
            g.leave(id);
        }
        // The 27th would be A again, but A is here: B.
        let next = g.join().unwrap();
        assert_eq!(g.pawn(a).unwrap().name, 'A');
        assert_eq!(g.pawn(next).unwrap().name, 'B');
        assert_eq!(g.entries(), 2, "the 25 who left left nothing behind");
    }

    #[test]
    fn one_pawn_per_letter_at_most() {
        let clock = Clock::manual();
        let g = Game::new(11, 11, clock);
        let ids: Vec<PawnId> = (0..MAX_PAWNS).map(|_| g.join().unwrap()).collect();
        let names: String = g.pawns().iter().map(|(_, p)| p.name).collect();
        assert_eq!(names, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert_eq!(g.join(), None, "a 27th would share a letter");
        // M leaves: the next one is M, the only letter free.
        g.leave(ids[12]);
        let next = g.join().unwrap();
        assert_eq!(g.pawn(next).unwrap().name, 'M');
        assert_eq!(g.join(), None);
    }

    #[test]
    fn moves_go_onto_empty_tiles_only() {
        let (g, _) = game();
        let a = g.join().unwrap();
        assert_eq!(g.step(a, Up), Err(Refusal::IllegalMove), "off the board");
        assert_eq!(g.step(a, Left), Err(Refusal::IllegalMove), "off the board");
        assert_eq!(g.step(a, Right), Ok(()));
        assert_eq!(g.step(a, Right), Err(Refusal::IllegalMove), "SOFT");
        assert_eq!(g.step(a, Down), Err(Refusal::IllegalMove), "HARD");
        assert_eq!(g.row(0), ". A % % %");
        assert_eq!(g.step(a, Left), Ok(()));
        assert_eq!(g.step(a, Down), Ok(()));
        assert_eq!(g.pawn(a).unwrap().pos, (0, 1));
    }

    #[test]
    fn a_bomb_blocks_the_way_and_one_bomb_at_a_time() {
        let (g, _) = game();
        let a = g.join().unwrap();
        assert_eq!(g.drop_bomb(a), Ok(()));
        assert_eq!(g.pawn(a).unwrap().bombs, 0);
        assert_eq!(g.drop_bomb(a), Err(Refusal::IllegalMove), "only one");
        assert_eq!(g.step(a, Right), Ok(()), "walking off one's bomb is fine");
        assert_eq!(g.step(a, Left), Err(Refusal::IllegalMove), "not back on it");
        assert_eq!(g.row(0), "o A % % %");
        let unknown = PawnId(99);
        assert_eq!(g.step(unknown, Left), Err(Refusal::IllegalMove));
        assert_eq!(g.drop_bomb(unknown), Err(Refusal::IllegalMove));
    }

    #[test]
    fn the_bomb_explodes_after_its_fuse_and_comes_back() {
        let (g, clock) = game();
        let a = bomb_then_shelter(&g);
        clock.advance(FUSE - MS);
        assert!(g.has_bomb((1, 0)));
        assert_eq!(g.pawn(a).unwrap().bombs, 0);
        clock.advance(MS);
        assert!(!g.has_bomb((1, 0)));
        assert_eq!(g.pawn(a).unwrap().bombs, 1, "the bomb came back");
        // Fire on the bomb's tile and one tile around: (0,0), (2,0) burnt
        // from SOFT; (1,1) is HARD: no fire there.
        assert_eq!(picture(&g)[..2], ["* * * % %", "A # % # %"]);
        assert_eq!(g.tile((2, 0)), Tile::Empty);
        assert!(g.pawn(a).unwrap().alive);
        g.drop_bomb(a).unwrap(); // a second bomb, now that it is back
    }

    #[test]
    fn soft_stops_the_flame_and_hard_stops_it_without_fire() {
        let clock = Clock::manual();
        let g = Game::new(11, 11, clock.clone());
        let a = g.join().unwrap();
        // A longer flame shows where it stops (the rules' flame is 1).
        g.inner.board.borrow_mut().pawns.get_mut(&a).unwrap().flame = 3;
        g.step(a, Right).unwrap();
        g.step(a, Left).unwrap();
        g.step(a, Down).unwrap(); // (0, 1)
        g.drop_bomb(a).unwrap();
        g.step(a, Up).unwrap();
        g.step(a, Right).unwrap(); // (1, 0), away from column 0 and row 1
        clock.advance(FUSE);
        // Right: (1,1) HARD, no fire. Down: (0,2) SOFT burns and stops it,
        // (0,3) stays SOFT. Up: (0,0) EMPTY, then the edge.
        assert_eq!(
            picture(&g)[..4],
            [
                "* A % % % % % % % % %",
                "* # % # % # % # % # %",
                "* % % % % % % % % % %",
                "% # % # % # % # % # %"
            ]
        );
        assert!(!g.on_fire((1, 1)));
        assert_eq!(g.tile((1, 1)), Tile::Hard);
        assert_eq!(g.tile((0, 2)), Tile::Empty);
        assert_eq!(g.tile((0, 3)), Tile::Soft);
    }

    #[test]
    fn the_flame_spreads_over_empty_tiles_up_to_its_size() {
        let (g, clock) = game();
        let a = g.join().unwrap();
        g.inner.board.borrow_mut().pawns.get_mut(&a).unwrap().flame = 2;
        // Clear row 0 by hand: the flame runs along EMPTY tiles.
        for x in 0..5 {
            g.inner.board.borrow_mut().set((x, 0), Tile::Empty);
        }
        g.drop_bomb(a).unwrap();
        g.step(a, Down).unwrap(); // (0, 1): in reach (2 tiles down)
        clock.advance(FUSE);
        assert_eq!(g.row(0), "* * * . .", "two tiles, not three");
        assert_eq!(g.row(1), "* # % # %");
        assert_eq!(g.row(2), "* % % % %", "SOFT (0, 2) burnt");
        assert!(!g.pawn(a).unwrap().alive);
    }

    #[test]
    fn a_bomb_in_the_flame_explodes_at_once() {
        let (g, clock) = game();
        let a = g.join().unwrap();
        let c = {
            g.join().unwrap(); // B in (4, 4)
            g.join().unwrap() // C in (4, 0)
        };
        // Clear row 0 so that A and C can get close.
        for x in 0..5 {
            g.inner.board.borrow_mut().set((x, 0), Tile::Empty);
        }
        g.step(a, Right).unwrap(); // A (1, 0)
        g.drop_bomb(a).unwrap();
        g.step(a, Left).unwrap();
        g.step(a, Down).unwrap(); // A (0, 1), safe
        clock.advance(Duration::from_millis(1500));
        g.step(c, Left).unwrap(); // C (3, 0)
        g.step(c, Left).unwrap(); // C (2, 0)
        g.drop_bomb(c).unwrap(); // C's bomb would explode at 3.5 s
        g.step(c, Right).unwrap();
        g.step(c, Right).unwrap();
        g.step(c, Down).unwrap(); // C (4, 1), safe
        clock.advance(Duration::from_millis(500));
        // A's bomb at 2 s reached C's bomb at (2, 0), which exploded too:
        // fire as far as (3, 0).
        assert_eq!(g.row(0), "* * * * .");
        assert_eq!(g.row(1), "A # * # C", "SOFT (2, 1) burnt by C's bomb");
        assert_eq!(g.pawn(c).unwrap().bombs, 1, "C's bomb came back at once");
        assert_eq!(clock.pending(), 5, "five fires, no fuse left");
        clock.advance(Duration::from_secs(5));
        assert_eq!(g.row(0), ". . . . .", "and nothing at 3.5 s");
    }

    #[test]
    fn fire_lasts_one_second_and_a_new_flame_lights_it_again() {
        let (g, clock) = game();
        let a = g.join().unwrap();
        g.join().unwrap(); // B
        let c = g.join().unwrap(); // C in (4, 0)
        for x in 0..5 {
            g.inner.board.borrow_mut().set((x, 0), Tile::Empty);
        }
        g.step(a, Right).unwrap();
        g.drop_bomb(a).unwrap(); // A's bomb at (1, 0): fire (0..=2, 0) at 2 s
        g.step(a, Left).unwrap();
        g.step(a, Down).unwrap();
        clock.advance(Duration::from_millis(500));
        g.step(c, Left).unwrap(); // C (3, 0)
        g.drop_bomb(c).unwrap(); // C's bomb at (3, 0): fire (2..=4, 0) at 2.5 s
        g.step(c, Right).unwrap();
        g.step(c, Down).unwrap();
        clock.advance(Duration::from_millis(1500)); // 2 s
        assert_eq!(g.row(0), "* * * o .");
        clock.advance(Duration::from_millis(500)); // 2.5 s: (2, 0) lit again
        assert_eq!(g.row(0), "* * * * *");
        clock.advance(Duration::from_millis(500)); // 3 s: A's fire out
        assert_eq!(g.row(0), ". . * * *", "(2, 0) burns until 3.5 s");
        clock.advance(Duration::from_millis(499));
        assert!(g.on_fire((2, 0)));
        clock.advance(MS);
        assert_eq!(g.row(0), ". . . . .");
        assert_eq!(clock.pending(), 0);
    }

    #[test]
    fn a_pawn_in_the_fire_dies_and_stays_dead() {
        let (g, clock) = game();
        let a = g.join().unwrap();
        let b = g.join().unwrap();
        g.drop_bomb(a).unwrap();
        clock.advance(FUSE);
        assert!(!g.pawn(a).unwrap().alive, "stood on its bomb");
        assert!(g.pawn(b).unwrap().alive);
        assert_eq!(g.step(a, Right), Err(Refusal::YoureDead));
        assert_eq!(g.drop_bomb(a), Err(Refusal::YoureDead));
        assert_eq!(g.row(0), "* * % % %", "fire over the body");
        clock.advance(FIRE);
        assert_eq!(g.row(0), "a . % % %", "a dead pawn: lower case");
        assert_eq!(g.step(a, Right), Err(Refusal::YoureDead), "still dead");
        // Its bomb came back, but a dead pawn cannot use it.
        assert_eq!(g.pawn(a).unwrap().bombs, 1);
    }

    #[test]
    fn walking_into_fire_kills() {
        let (g, clock) = game();
        let a = bomb_then_shelter(&g);
        clock.advance(FUSE);
        assert!(g.pawn(a).unwrap().alive);
        assert_eq!(g.step(a, Up), Ok(()), "into the fire at (0, 0)");
        assert!(!g.pawn(a).unwrap().alive);
        assert_eq!(g.step(a, Down), Err(Refusal::YoureDead));
    }

    #[test]
    fn the_listener_hears_every_change_and_may_read_the_board() {
        let (g, clock) = game();
        let seen = Rc::new(Cell::new(0));
        let rows = Rc::new(RefCell::new(Vec::new()));
        {
            let (seen, rows) = (Rc::clone(&seen), Rc::clone(&rows));
            g.on_change(move |game| {
                seen.set(seen.get() + 1);
                rows.borrow_mut().push(game.row(0));
            });
        }
        let a = g.join().unwrap(); // 1
        g.step(a, Right).unwrap(); // 2
        let _ = g.step(a, Right); // refused: no change
        g.drop_bomb(a).unwrap(); // 3
        g.step(a, Left).unwrap(); // 4
        g.step(a, Down).unwrap(); // 5
        clock.advance(FUSE); // 6: the explosion
        clock.advance(FIRE); // 7, 8, 9: three tiles go out
        assert_eq!(seen.get(), 9);
        assert_eq!(rows.borrow().last().unwrap(), ". . . % %");
        g.leave(a); // 10
        g.leave(a); // already gone: no change
        assert_eq!(seen.get(), 10);
    }

    #[test]
    fn memory_stays_bounded_however_many_come_and_go() {
        let clock = Clock::manual();
        let g = Game::new(11, 11, clock.clone());
        // Ten players at a time; each drops a bomb, walks, and leaves
        // later, often with its bomb still ticking.
        let mut present = VecDeque::new();
        for round in 0..2000 {
            let id = g.join().unwrap();
            let _ = g.drop_bomb(id);
            let _ = g.step(id, if round % 2 == 0 { Right } else { Down });
            present.push_back(id);
            if present.len() > 10 {
                g.leave(present.pop_front().unwrap());
            }
            clock.advance(Duration::from_millis(300));
            // Ten pawns, ten bombs, and what burns: one entry per tile.
            assert!(g.entries() <= 10 + 10 + 11 * 11, "round {round}");
        }
        for id in present {
            g.leave(id);
        }
        // In steps: a call made by a call is due a second after it ran.
        for _ in 0..50 {
            clock.advance(Duration::from_millis(100));
        }
        assert_eq!(g.entries(), 0);
        assert_eq!(clock.pending(), 0, "every fuse and fire done");
    }

    #[test]
    fn a_dropped_game_leaves_its_timers_harmless() {
        let (g, clock) = game();
        let a = g.join().unwrap();
        g.drop_bomb(a).unwrap();
        drop(g);
        clock.advance(FUSE); // the fuse finds no game, and does nothing
        assert_eq!(clock.pending(), 0);
    }
}
