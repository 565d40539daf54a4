//! `boom`: a Bomberman that players join with telnet, on our reactor — the
//! game that the seed `bite-sized-twisted-triforce.txt` builds in "Toward a
//! better boom" (a `Protocol` and a `Factory` around a game board).
//!
//! Modules a test can drive with no socket and no real time, and the
//! server that puts them on the network:
//!
//! - [`game`]: the board, the pawns, the bombs and the fire, every rule;
//!   its timers (a bomb's fuse, a fire that goes out) run on a
//!   [`reactor::Clock`]: the reactor's in the server, a manual one that a
//!   test moves forward by hand;
//! - [`screen`]: what a player sees, as text;
//! - [`arena`]: the game and the players' connections: who gets which
//!   screen when, one frame at a time, none for a player who does not read;
//! - [`telnet`]: what a telnet client sends besides keys (option
//!   negotiation, sub-negotiations, `\r\n`, `\r\0`), filtered out;
//! - `src/bin/boom-server.rs`: the protocol (one per player) and the
//!   factory (one arena for every protocol).
//!
//! The lab sheet is the « boom » section of `docs/twisted.md`.

#![warn(missing_docs)]

use std::rc::Rc;
use std::time::Duration;

use reactor::{Clock, DelayedCall};

pub mod arena;
pub mod game;
pub mod screen;
pub mod telnet;

/// Calls `f` with `this` once `delay` has passed on `clock`, if `this`
/// still exists. The call holds only a weak handle: a game or an arena
/// dropped with calls pending is freed, and the calls do nothing (a strong
/// one would keep it alive, and a game's calls would keep the game for
/// ever through its own timers).
pub(crate) fn later<T: 'static>(
    clock: &Clock,
    delay: Duration,
    this: &Rc<T>,
    f: impl FnOnce(&Rc<T>) + 'static,
) -> DelayedCall {
    let weak = Rc::downgrade(this);
    clock.call_later(delay, move || {
        if let Some(this) = weak.upgrade() {
            f(&this);
        }
    })
}
