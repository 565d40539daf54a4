//! The three roles of the triforce that a program writes itself: the
//! [`Protocol`] (what to do with bytes), the [`Factory`] (one protocol per
//! connection, and the state that outlives a connection) and, for the
//! client side, the [`ClientFactory`]. The third role, the
//! [`Transport`](crate::Transport), is the reactor's.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::Transport;

/// What to do with the bytes of one connection (Twisted's `Protocol`).
///
/// The reactor calls, in this order: [`connection_made`] once,
/// [`data_received`] for every chunk read, [`connection_lost`] once. A
/// protocol never touches a socket: it writes through the
/// [`Transport`] it is handed, and the reactor sends the bytes.
///
/// Twisted keeps the transport in `self.transport`; here it is passed to
/// each call, so a protocol needs no "not connected yet" state. A protocol
/// that must write later (from a timer, from another thread) keeps a clone
/// of it: a `Transport` is a cheap handle.
///
/// [`connection_made`]: Protocol::connection_made
/// [`data_received`]: Protocol::data_received
/// [`connection_lost`]: Protocol::connection_lost
pub trait Protocol {
    /// The connection is open (Twisted's `connectionMade`): a good place to
    /// greet the peer.
    fn connection_made(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// Some bytes came (Twisted's `dataReceived`). TCP is a stream: `data`
    /// is whatever one read returned, part of a message or several of them.
    fn data_received(&mut self, transport: &Transport, data: &[u8]);

    /// Every byte written has been sent: the queue of the transport, which
    /// the peer had left to fill up, is empty again. A protocol that stopped
    /// writing to a slow peer (it looked at [`Transport::pending`]) writes
    /// again here.
    ///
    /// Twisted says this to a *producer*: a protocol that writes for ever
    /// registers itself with `transport.registerProducer(self, True)`, the
    /// transport calls its `pauseProducing()` when its buffer fills and
    /// `resumeProducing()` when it is empty again. Here the reactor owns
    /// the protocol and its transport side by side, so it simply tells the
    /// protocol; pausing is the protocol's own choice, made before it
    /// writes (`transport.pending() > LIMIT`: skip), and this call is
    /// `resumeProducing`. It comes only after the queue had to hold bytes
    /// (never for writes the socket took at once), and not once the
    /// connection is closing.
    fn write_drained(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// The connection is closed (Twisted's `connectionLost`); the protocol
    /// is dropped right after.
    fn connection_lost(&mut self, reason: Reason) {
        let _ = reason;
    }
}

/// Builds one protocol per connection (Twisted's `Factory`), and holds what
/// lives longer than a connection (a counter, an open file…).
pub trait Factory {
    /// A connection from `peer` was accepted (Twisted's `buildProtocol`).
    /// `None` refuses it: the reactor closes the connection at once.
    fn build_protocol(&mut self, peer: SocketAddr) -> Option<Box<dyn Protocol>>;

    /// The factory starts serving: called by `listen_tcp` (or
    /// `connect_tcp`) before any connection (Twisted's `startFactory`): a
    /// place to open a file the protocols share.
    ///
    /// It may fail, saying why in one French line (`impossible d'ouvrir
    /// … ; …`): `listen_tcp` then closes its socket again and returns the
    /// failure, as Twisted's `listenTCP` raises what `startFactory` raised;
    /// `stop_factory` is not called. A server's `main` prints it and exits.
    fn start_factory(&mut self) -> Result<(), String> {
        Ok(())
    }

    /// The factory is done: called when the reactor stops, or when the
    /// connection of a client factory is over (Twisted's `stopFactory`).
    fn stop_factory(&mut self) {}
}

/// A factory for the client side (Twisted's `ClientFactory`): also told
/// when the connection could not be made.
pub trait ClientFactory: Factory {
    /// No connection could be made (Twisted's `clientConnectionFailed`);
    /// `reason` says why, in French (`connexion refusée par …`).
    fn client_connection_failed(&mut self, reason: &str) {
        let _ = reason;
    }
}

/// Why a connection ended, given to [`Protocol::connection_lost`].
#[derive(Debug)]
pub enum Reason {
    /// Closed cleanly: the peer closed its side, or we called
    /// `lose_connection` (Twisted's `ConnectionDone`).
    Done,
    /// Lost on an error, such as a reset by the peer (Twisted's
    /// `ConnectionLost`); unsent bytes are dropped.
    Lost(io::Error),
}

impl Reason {
    /// True for a clean close.
    pub fn is_clean(&self) -> bool {
        matches!(self, Reason::Done)
    }
}

/// In French, for log lines: `fermée proprement` or `perdue (…)`.
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Done => write!(f, "fermée proprement"),
            Reason::Lost(e) => write!(f, "perdue ({})", netlabs::Why(e)),
        }
    }
}
