//! The arena: the game and every player's connection, and when each one
//! gets its screen. What the server's factory and its protocols share (the
//! seed's `self.board` and `self.protocols`).
//!
//! One loop serves everyone, so no player may hold it up:
//!
//! - screens go out at most once a frame ([`FRAME`]): keys pressed, bombs
//!   and fires within the same 20 ms make one screen, not one each;
//! - a player whose socket does not take its screens (it does not read)
//!   is skipped while more than [`MAX_BEHIND`] bytes wait for it, and gets
//!   the screen of that moment as soon as everything is sent: its protocol
//!   is told `write_drained` by the reactor (Twisted's `resumeProducing`),
//!   and calls [`Arena::drained`]. No timer looks at it in between.
//!
//! Tested with no socket: a `StringTransport` per player (one that
//! `stall`s stands for a player who does not read) and a manual clock.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use netlabs::{log, octets};
use reactor::{Clock, DelayedCall, Transport};

use crate::game::{Game, PawnId};
use crate::screen::Frame;

/// At most one screen per frame. A player who floods keys costs the others
/// 50 screens a second at most.
pub const FRAME: Duration = Duration::from_millis(20);

/// A player more than this many bytes behind (written by us, not yet taken
/// by its socket: it does not read) is sent no new screen, nor answers to
/// its telnet requests; it gets the latest screen once it has caught up.
/// About 30 screens of the default board: never a backlog of stale frames
/// in our memory.
pub const MAX_BEHIND: usize = 16 * 1024;

/// The game and the players' connections, shared through an `Rc` by the
/// factory and each protocol. On the reactor's one thread, nothing to lock
/// (see the reactor crate's page for why not Twisted's `self.factory`
/// back-reference).
pub struct Arena {
    game: Game,
    clock: Clock,
    players: RefCell<BTreeMap<PawnId, Player>>,
    /// The next screen, when one is scheduled.
    redraw: RefCell<Option<DelayedCall>>,
    /// When the last screen was sent, to keep one frame between two.
    last_frame: Cell<Option<Duration>>,
}

struct Player {
    transport: Transport,
    /// Screens were skipped: the latest is owed once the socket drains.
    behind: bool,
    /// As last drawn, to log a death once.
    alive: bool,
}

/// True when `transport` has more than [`MAX_BEHIND`] bytes unsent: its
/// player gets nothing more until it reads.
pub fn is_behind(transport: &Transport) -> bool {
    transport.pending() > MAX_BEHIND
}

impl Arena {
    /// The arena of `game`, its frames timed on `clock` (the game's): it
    /// is told by the game of every change (even the timers').
    pub fn new(game: Game, clock: Clock) -> Rc<Arena> {
        let arena = Rc::new(Arena {
            game,
            clock,
            players: RefCell::new(BTreeMap::new()),
            redraw: RefCell::new(None),
            last_frame: Cell::new(None),
        });
        // A weak handle: the game belongs to the arena, and must not keep
        // it alive for ever through its listener.
        let weak = Rc::downgrade(&arena);
        arena.game.on_change(move |_| {
            if let Some(arena) = weak.upgrade() {
                Arena::request_redraw(&arena);
            }
        });
        arena
    }

    /// The game.
    pub fn game(&self) -> &Game {
        &self.game
    }

    /// Pawn `id` is played through `transport`: it gets every screen from
    /// the next frame on.
    pub fn add_player(&self, id: PawnId, transport: Transport) {
        let player = Player {
            transport,
            behind: false,
            alive: true,
        };
        self.players.borrow_mut().insert(id, player);
    }

    /// Pawn `id`'s player left: no more screens for it.
    pub fn remove_player(&self, id: PawnId) {
        self.players.borrow_mut().remove(&id);
    }

    /// How many players get screens.
    pub fn player_count(&self) -> usize {
        self.players.borrow().len()
    }

    /// Everything written to pawn `id`'s player is sent (its protocol was
    /// told `write_drained`): if screens were skipped, it gets the one of
    /// this moment.
    pub fn drained(&self, id: PawnId) {
        let mut players = self.players.borrow_mut();
        let Some(player) = players.get_mut(&id) else {
            return;
        };
        if player.behind {
            player.behind = false;
            player
                .transport
                .write(Frame::of(&self.game).screen(id).as_bytes());
            log!(
                "{} a rattrapé son retard : il reçoit l'écran du moment",
                self.name(id)
            );
        }
    }

    /// Something changed: a screen for everyone, at the next frame.
    fn request_redraw(this: &Rc<Arena>) {
        if this.redraw.borrow().as_ref().is_some_and(|c| c.is_active()) {
            return; // already scheduled: it will show this change too
        }
        let now = this.clock.now();
        let delay = match this.last_frame.get() {
            Some(last) => (last + FRAME).saturating_sub(now),
            None => Duration::ZERO,
        };
        let call = crate::later(&this.clock, delay, this, |arena| arena.redraw_all());
        *this.redraw.borrow_mut() = Some(call);
    }

    /// The seed's "for p in self.factory.protocols: p.draw()": the screen
    /// of this moment to each player, except those too far behind, who are
    /// marked and get theirs when they have drained.
    fn redraw_all(&self) {
        self.last_frame.set(Some(self.clock.now()));
        self.log_deaths();
        let frame = Frame::of(&self.game);
        for (&id, player) in self.players.borrow_mut().iter_mut() {
            if !is_behind(&player.transport) {
                player.transport.write(frame.screen(id).as_bytes());
                player.behind = false; // owed nothing more
            } else if !player.behind {
                player.behind = true;
                log!(
                    "{} ne lit plus ses écrans ({} en attente) : plus d'écran jusqu'à ce qu'il ait tout lu",
                    self.name(id),
                    octets(player.transport.pending() as u64)
                );
            }
        }
    }

    /// A server log line for each pawn that died since the last frame.
    fn log_deaths(&self) {
        for (&id, player) in self.players.borrow_mut().iter_mut() {
            let Some(pawn) = self.game.pawn(id) else {
                continue;
            };
            if player.alive && !pawn.alive {
                player.alive = false;
                log!("{} est mort", pawn.name);
            }
        }
    }

    fn name(&self, id: PawnId) -> char {
        self.game.pawn(id).map_or('?', |p| p.name)
    }
}
