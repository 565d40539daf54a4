//! Test doubles, to test a protocol with no socket and no real time
//! (Twisted's `twisted.internet.testing`):
//!
//! - [`StringTransport`] records what the protocol writes;
//! - [`Clock::manual`](crate::Clock::manual) is a clock the test moves
//!   forward by hand (Twisted's `task.Clock`);
//! - [`chunks`] cuts input into small pieces: replaying a conversation in
//!   1- to 9-byte reads finds the framing bugs that one big read hides.
//!
//! ```
//! use reactor::testing::StringTransport;
//! use reactor::{Protocol, Transport};
//!
//! struct Obstinate;
//! impl Protocol for Obstinate {
//!     fn data_received(&mut self, transport: &Transport, _data: &[u8]) {
//!         transport.write(b"no\r\n");
//!     }
//! }
//!
//! let t = StringTransport::new();
//! let mut p = Obstinate;
//! p.connection_made(&t);
//! p.data_received(&t, b"Are you there?\r\n");
//! assert_eq!(t.value(), b"no\r\n");
//! ```
//!
//! Time, with no waiting: a protocol that hangs up after 5 s of silence is
//! given a clock (the reactor's, `reactor.clock()`, in the real program),
//! and the test gives it a manual one and moves it forward by hand.
//!
//! ```
//! use std::time::Duration;
//! use reactor::testing::StringTransport;
//! use reactor::{Clock, DelayedCall, Protocol, Transport};
//!
//! /// Echoes, and says `bye` then hangs up after 5 s of silence.
//! struct Idle {
//!     clock: Clock,
//!     timer: Option<DelayedCall>,
//! }
//!
//! impl Idle {
//!     fn restart_timer(&mut self, transport: &Transport) {
//!         if let Some(timer) = self.timer.take() {
//!             timer.cancel();
//!         }
//!         let transport = transport.clone();
//!         let hang_up = move || {
//!             transport.write(b"bye\r\n");
//!             transport.lose_connection();
//!         };
//!         self.timer = Some(self.clock.call_later(Duration::from_secs(5), hang_up));
//!     }
//! }
//!
//! impl Protocol for Idle {
//!     fn connection_made(&mut self, transport: &Transport) {
//!         self.restart_timer(transport);
//!     }
//!     fn data_received(&mut self, transport: &Transport, data: &[u8]) {
//!         transport.write(data);
//!         self.restart_timer(transport);
//!     }
//! }
//!
//! let clock = Clock::manual();
//! let t = StringTransport::new();
//! let mut p = Idle { clock: clock.clone(), timer: None };
//! p.connection_made(&t);
//! clock.advance(Duration::from_secs(4));
//! p.data_received(&t, b"hi"); // activity: 5 more seconds
//! clock.advance(Duration::from_secs(4));
//! assert!(!t.is_disconnecting());
//! clock.advance(Duration::from_secs(1));
//! assert_eq!(t.value(), b"hibye\r\n");
//! assert!(t.is_disconnecting());
//! ```

use std::net::SocketAddr;
use std::ops::Deref;

use crate::Transport;

/// A transport with no socket that keeps every byte written (Twisted's
/// `StringTransport`). It dereferences to a [`Transport`], so it is given
/// to a protocol as is: `protocol.data_received(&t, b"…")`.
#[derive(Clone)]
pub struct StringTransport {
    transport: Transport,
}

impl StringTransport {
    /// A transport "connected" from `127.0.0.1:54321` to `127.0.0.1:1234`.
    pub fn new() -> StringTransport {
        StringTransport::with_peer("127.0.0.1:54321".parse().expect("a valid address"))
    }

    /// A transport whose peer is `peer`.
    pub fn with_peer(peer: SocketAddr) -> StringTransport {
        let host = "127.0.0.1:1234".parse().expect("a valid address");
        StringTransport {
            transport: Transport::recording(peer, host),
        }
    }

    /// Everything written so far (Twisted's `value()`).
    pub fn value(&self) -> Vec<u8> {
        self.transport.queued()
    }

    /// Everything written so far, as text (invalid UTF-8 shown as `�`).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.value()).into_owned()
    }

    /// Forgets what was written (Twisted's `clear()`).
    pub fn clear(&self) {
        self.transport.clear_queue();
    }
}

impl Default for StringTransport {
    fn default() -> StringTransport {
        StringTransport::new()
    }
}

impl Deref for StringTransport {
    type Target = Transport;
    fn deref(&self) -> &Transport {
        &self.transport
    }
}

/// `data` cut into pieces of `size` bytes (the last one shorter).
pub fn chunks(data: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    data.chunks(size.max(1))
}
