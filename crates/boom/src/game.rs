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

mod board;

use board::{Board, Bomb, Pawn};

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

#[cfg(test)]
mod tests;
