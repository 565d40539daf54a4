//! The board's state and what can be read from it: its tiles, who stands
//! where, which tile is free, where a newcomer goes, what each tile shows.
//! The rules that change it are in `game.rs`.

use std::collections::BTreeMap;

use reactor::DelayedCall;

use super::{
    Direction, GLYPH_BOMB, GLYPH_EMPTY, GLYPH_FIRE, GLYPH_HARD, GLYPH_SOFT, NAMES, PawnId,
    PawnView, Pos, Refusal, Tile,
};

/// The tiles and everything on them.
pub(super) struct Board {
    pub(super) width: usize,
    pub(super) height: usize,
    /// Row after row: tile `(x, y)` is at `y * width + x`.
    pub(super) tiles: Vec<Tile>,
    /// In the order they joined (ids only grow): the legend's order.
    pub(super) pawns: BTreeMap<PawnId, Pawn>,
    /// At most one bomb per tile.
    pub(super) bombs: BTreeMap<Pos, Bomb>,
    /// The burning tiles, each with the call that puts it out.
    pub(super) fire: BTreeMap<Pos, DelayedCall>,
    /// How many pawns ever joined: the next id, and the next name.
    pub(super) joined: u64,
}

/// A player's pawn.
pub(super) struct Pawn {
    pub(super) name: char,
    pub(super) pos: Pos,
    pub(super) alive: bool,
    pub(super) bombs: u32,
    pub(super) flame: usize,
}

/// A bomb on a tile, until it explodes.
pub(super) struct Bomb {
    pub(super) owner: PawnId,
    pub(super) flame: usize,
    /// The call that explodes it, cancelled if a chain explodes it first.
    pub(super) fuse: DelayedCall,
}

impl Board {
    pub(super) fn contains(&self, (x, y): Pos) -> bool {
        x < self.width && y < self.height
    }

    /// The tile at `pos`, which must be on the board.
    pub(super) fn tile(&self, (x, y): Pos) -> Tile {
        self.tiles[y * self.width + x]
    }

    pub(super) fn set(&mut self, (x, y): Pos, tile: Tile) {
        self.tiles[y * self.width + x] = tile;
    }

    /// The tile next to `pos` in `direction`, if it is on the board.
    pub(super) fn next(&self, (x, y): Pos, direction: Direction) -> Option<Pos> {
        let next = match direction {
            Direction::Up => (x, y.checked_sub(1)?),
            Direction::Left => (x.checked_sub(1)?, y),
            Direction::Down => (x, y + 1),
            Direction::Right => (x + 1, y),
        };
        self.contains(next).then_some(next)
    }

    pub(super) fn live_pawn(&self, id: PawnId) -> Result<&Pawn, Refusal> {
        match self.pawns.get(&id) {
            Some(pawn) if pawn.alive => Ok(pawn),
            Some(_) => Err(Refusal::YoureDead),
            None => Err(Refusal::IllegalMove),
        }
    }

    /// Not HARD, and no pawn, bomb or fire on it.
    pub(super) fn is_free(&self, pos: Pos) -> bool {
        self.tile(pos) != Tile::Hard
            && !self.bombs.contains_key(&pos)
            && !self.fire.contains_key(&pos)
            && !self.pawns.values().any(|p| p.pos == pos)
    }

    /// The free corner farthest from every pawn, else the free tile
    /// farthest from every pawn; ties go to the first in the list (for
    /// corners: top left, bottom right, top right, bottom left).
    pub(super) fn free_spot(&self) -> Option<Pos> {
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
    pub(super) fn free_name(&self) -> char {
        let start = (self.joined % NAMES.len() as u64) as usize;
        let taken = |c: char| self.pawns.values().any(|p| p.name == c);
        (0..NAMES.len())
            .map(|i| NAMES[(start + i) % NAMES.len()] as char)
            .find(|&c| !taken(c))
            .unwrap_or('?')
    }

    pub(super) fn glyph(&self, pos: Pos) -> char {
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
    pub(super) fn view(&self) -> PawnView {
        PawnView {
            name: self.name,
            pos: self.pos,
            alive: self.alive,
            bombs: self.bombs,
        }
    }
}
