//! Test doubles, to test a protocol with no socket and no real time
//! (Twisted's `twisted.internet.testing`):
//!
//! - [`StringTransport`] records what the protocol writes, and can stand
//!   for a peer that stops reading ([`StringTransport::stall`]);
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
//!
//! A peer that does not read: a protocol that writes ticks for ever stops
//! while too much waits for the peer, and goes on when told
//! `write_drained` (the reactor says it once the queue is sent; the test
//! says it after [`StringTransport::drain`]).
//!
//! ```
//! use reactor::testing::StringTransport;
//! use reactor::{Protocol, Transport};
//!
//! /// Writes `tick` on every read, unless 8 bytes already wait.
//! struct Ticker;
//! impl Ticker {
//!     fn tick(&self, transport: &Transport) {
//!         if transport.pending() < 8 {
//!             transport.write(b"tick");
//!         }
//!     }
//! }
//! impl Protocol for Ticker {
//!     fn data_received(&mut self, transport: &Transport, _data: &[u8]) {
//!         self.tick(transport);
//!     }
//!     fn write_drained(&mut self, transport: &Transport) {
//!         self.tick(transport);
//!     }
//! }
//!
//! let t = StringTransport::new();
//! let mut p = Ticker;
//! t.stall(); // the peer stops reading
//! for _ in 0..5 {
//!     p.data_received(&t, b"?");
//! }
//! assert_eq!(t.text(), "ticktick", "paused at 8 bytes waiting");
//! assert_eq!(t.drain(), 8); // the peer reads them
//! p.write_drained(&t);
//! assert_eq!(t.text(), "tickticktick");
//! ```

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::ops::Deref;
use std::rc::Rc;

use crate::Transport;
use crate::transport::Link;

/// A transport with no socket that keeps every byte written (Twisted's
/// `StringTransport`). It dereferences to a [`Transport`], so it is given
/// to a protocol as is: `protocol.data_received(&t, b"…")`.
///
/// It keeps the promises of the real one: what is written after
/// `lose_connection` (or `lose_write_connection`) is ignored, and
/// `is_disconnecting` says so. Its peer reads everything at once
/// (`pending()` is 0) until the test [`stall`](StringTransport::stall)s
/// it: then what is written stays pending, as with a peer that does not
/// read, until [`drain`](StringTransport::drain).
#[derive(Clone)]
pub struct StringTransport {
    transport: Transport,
    record: Rc<Record>,
}

/// What a `StringTransport` keeps.
struct Record {
    peer: SocketAddr,
    host: SocketAddr,
    /// Every byte written (Twisted's `value()`).
    written: RefCell<Vec<u8>>,
    /// `lose_connection` was called (Twisted's `disconnecting`).
    disconnecting: Cell<bool>,
    /// `lose_write_connection` was called.
    write_closed: Cell<bool>,
    /// The peer does not read: what is written adds to `pending`.
    stalled: Cell<bool>,
    pending: Cell<usize>,
}

impl StringTransport {
    /// A transport "connected" from `127.0.0.1:54321` to `127.0.0.1:1234`.
    pub fn new() -> StringTransport {
        StringTransport::with_peer("127.0.0.1:54321".parse().expect("a valid address"))
    }

    /// A transport whose peer is `peer`.
    pub fn with_peer(peer: SocketAddr) -> StringTransport {
        let record = Rc::new(Record {
            peer,
            host: "127.0.0.1:1234".parse().expect("a valid address"),
            written: RefCell::new(Vec::new()),
            disconnecting: Cell::new(false),
            write_closed: Cell::new(false),
            stalled: Cell::new(false),
            pending: Cell::new(0),
        });
        let link: Rc<dyn Link> = record.clone();
        StringTransport {
            transport: Transport::new(link),
            record,
        }
    }

    /// Everything written so far (Twisted's `value()`).
    pub fn value(&self) -> Vec<u8> {
        self.record.written.borrow().clone()
    }

    /// Everything written so far, as text (invalid UTF-8 shown as `�`).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.record.written.borrow()).into_owned()
    }

    /// Forgets what was written (Twisted's `clear()`).
    pub fn clear(&self) {
        self.record.written.borrow_mut().clear();
    }

    /// The peer stops reading: from now on, what is written stays
    /// [`pending`](Transport::pending) until [`drain`](StringTransport::drain).
    pub fn stall(&self) {
        self.record.stalled.set(true);
    }

    /// The peer reads everything pending, and goes on reading. Returns
    /// how many bytes it took. The reactor would now tell the protocol
    /// [`write_drained`](crate::Protocol::write_drained): a test calls it.
    pub fn drain(&self) -> usize {
        self.record.stalled.set(false);
        self.record.pending.replace(0)
    }

    /// True once `lose_write_connection` was called.
    pub fn is_write_closed(&self) -> bool {
        self.record.write_closed.get()
    }
}

impl Link for Record {
    fn write(&self, data: &[u8]) {
        if self.disconnecting.get() || self.write_closed.get() {
            return;
        }
        self.written.borrow_mut().extend_from_slice(data);
        if self.stalled.get() {
            self.pending.set(self.pending.get() + data.len());
        }
    }

    fn lose_connection(&self) {
        self.disconnecting.set(true);
    }

    fn lose_write_connection(&self) {
        self.write_closed.set(true);
    }

    fn peer(&self) -> SocketAddr {
        self.peer
    }

    fn host(&self) -> SocketAddr {
        self.host
    }

    fn pending(&self) -> usize {
        self.pending.get()
    }

    fn is_disconnecting(&self) -> bool {
        self.disconnecting.get()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_records_what_is_written_until_the_connection_is_lost() {
        let t = StringTransport::new();
        t.write(b"one ");
        t.send_line(b"two");
        assert_eq!(t.value(), b"one two\r\n");
        assert_eq!(t.pending(), 0, "its peer reads everything at once");
        t.clear();
        t.write(b"three");
        t.lose_connection();
        assert!(t.is_disconnecting());
        t.write(b"ignored, as on a real connection");
        assert_eq!(t.text(), "three");
    }

    #[test]
    fn a_half_close_stops_writes_but_not_the_connection() {
        let t = StringTransport::new();
        t.lose_write_connection();
        t.write(b"ignored");
        assert!(t.is_write_closed());
        assert!(!t.is_disconnecting());
        assert_eq!(t.value(), b"");
    }

    #[test]
    fn a_stalled_peer_leaves_writes_pending_until_it_drains() {
        let t = StringTransport::new();
        t.write(b"taken");
        t.stall();
        t.write(b"12345");
        t.write(b"678");
        assert_eq!(t.pending(), 8);
        assert_eq!(t.text(), "taken12345678", "recorded all the same");
        assert_eq!(t.drain(), 8);
        assert_eq!(t.pending(), 0);
        t.write(b"9");
        assert_eq!(t.pending(), 0, "reading again");
    }

    #[test]
    fn clones_are_the_same_connection() {
        let t = StringTransport::new();
        let kept: Transport = (*t).clone();
        kept.write(b"from a timer");
        assert_eq!(t.text(), "from a timer");
        assert!(kept.same_connection(&t));
        assert!(!kept.same_connection(&StringTransport::new()));
    }
}
