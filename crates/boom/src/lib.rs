//! `boom`: a Bomberman that players join with telnet, on our reactor — the
//! game that the seed `bite-sized-twisted-triforce.txt` builds in "Toward a
//! better boom" (a `Protocol` and a `Factory` around a game board).
//!
//! Two modules a test can drive with no socket and no real time, and the
//! server that puts them on the network:
//!
//! - [`game`]: the board, the pawns, the bombs and the fire, every rule;
//!   its timers (a bomb's fuse, a fire that goes out) run on a
//!   [`reactor::Clock`]: the reactor's in the server, a manual one that a
//!   test moves forward by hand;
//! - [`telnet`]: what a telnet client sends besides keys (option
//!   negotiation, sub-negotiations, `\r\n`, `\r\0`), filtered out;
//! - `src/bin/boom-server.rs`: the protocol (one per player), the factory
//!   (one board for every protocol), the screens.
//!
//! The lab sheet is the « boom » section of `docs/twisted.md`.

#![warn(missing_docs)]

pub mod game;
pub mod telnet;
