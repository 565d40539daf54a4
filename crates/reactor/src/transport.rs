//! The [`Transport`]: what a protocol writes through.
//!
//! It carries the socket, the bytes the socket has not taken yet, and what
//! the protocol asked about closing. The protocol calls [`Transport::write`]
//! and [`Transport::lose_connection`]; the reactor reads the socket, sends
//! the queued bytes when `poll` says there is room, and closes the
//! connection once everything is sent.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::rc::Rc;

use netlabs::net::is_transient;
use netlabs::sys::{Events, PollFd};

/// The reactor stops reading a connection while this many bytes wait to be
/// sent to it: a peer that sends without reading must not make us grow
/// without end (backpressure). We read again once it has taken some.
pub const MAX_PENDING: usize = 1024 * 1024;

/// A queue that grew past this size is given back to the system once empty,
/// so that one slow reader does not keep a megabyte for ever.
const KEEP_CAPACITY: usize = 64 * 1024;

/// One end of a connection, as a protocol sees it (Twisted's `transport`).
///
/// A `Transport` is a handle: cloning it gives another handle on the same
/// connection (an `Rc`), to keep in a timer or in a factory. It lives on
/// the reactor's thread only; another thread goes through
/// [`ReactorHandle::call_from_thread`](crate::ReactorHandle::call_from_thread).
///
/// Bytes written are sent at once when the socket takes them, and queued
/// otherwise; the reactor sends the queue when `poll` says the socket has
/// room (`POLLOUT`). A transport with no socket records what is written:
/// that is the test double [`StringTransport`](crate::testing::StringTransport).
#[derive(Clone)]
pub struct Transport {
    link: Rc<RefCell<Link>>,
}

/// What a transport knows. Borrowed only inside a method of `Transport`,
/// never across a call to a protocol, so a protocol may call any method at
/// any time.
struct Link {
    /// `None` for a recording transport (tests).
    socket: Option<TcpStream>,
    peer: SocketAddr,
    host: SocketAddr,
    /// Written by the protocol, not yet taken by the socket.
    output: VecDeque<u8>,
    state: State,
}

/// Where a connection is in its life.
///
/// ```text
/// Open ──lose_write_connection──▶ HalfClosing ──queue sent──▶ HalfClosed
///   │                                   │                        │
///   └──── lose_connection, or the peer closes (from any state) ──┴──▶ Closing
/// ```
///
/// and from any state, a failed read or write: `Lost`. The connection is
/// over, and the reactor closes it, when it is `Lost`, or `Closing` with
/// nothing left to send.
#[derive(Debug)]
enum State {
    /// Reading and writing.
    Open,
    /// `lose_write_connection`: our side is shut down once the queue is
    /// sent; reading goes on.
    HalfClosing,
    /// Our side is shut down (the peer read "end of data"); reading goes
    /// on until the peer closes its side.
    HalfClosed,
    /// `lose_connection`, or the peer closed its side: nothing more is
    /// read; the queue is sent, then the connection closes.
    Closing,
    /// A read or a write failed: the connection is lost, the queue dropped.
    Lost(io::Error),
}

impl Transport {
    /// A transport on a connected, non-blocking socket (the reactor's).
    pub(crate) fn new(socket: TcpStream, peer: SocketAddr, host: SocketAddr) -> Transport {
        Transport::with_socket(Some(socket), peer, host)
    }

    /// A transport with no socket: it keeps everything written (tests).
    pub(crate) fn recording(peer: SocketAddr, host: SocketAddr) -> Transport {
        Transport::with_socket(None, peer, host)
    }

    fn with_socket(socket: Option<TcpStream>, peer: SocketAddr, host: SocketAddr) -> Transport {
        let link = Link {
            socket,
            peer,
            host,
            output: VecDeque::new(),
            state: State::Open,
        };
        Transport {
            link: Rc::new(RefCell::new(link)),
        }
    }

    /// Sends `data` to the peer (Twisted's `transport.write`): at once if
    /// the socket takes it, later for what it does not. Never blocks.
    /// Ignored once the connection is closing (by either side) or lost.
    pub fn write(&self, data: &[u8]) {
        let mut link = self.link.borrow_mut();
        let link = &mut *link;
        if !matches!(link.state, State::Open) {
            return;
        }
        let mut sent = 0;
        // Nothing queued before these bytes: try the socket at once.
        if link.output.is_empty()
            && let Some(socket) = &link.socket
        {
            match (&*socket).write(data) {
                Ok(n) => sent = n,
                Err(e) if is_transient(&e) => {}
                Err(e) => {
                    link.state = State::Lost(e);
                    return;
                }
            }
        }
        // Queue what the socket did not take.
        link.output.extend(&data[sent..]);
    }

    /// Writes `line` then `\r\n` (Twisted's `LineReceiver.sendLine`).
    pub fn send_line(&self, line: &[u8]) {
        self.write(&[line, b"\r\n"].concat());
    }

    /// Closes the connection once every byte written is sent (Twisted's
    /// `loseConnection`); nothing more is read. The protocol is then told
    /// `connection_lost(Reason::Done)`.
    pub fn lose_connection(&self) {
        let mut link = self.link.borrow_mut();
        if !matches!(link.state, State::Lost(_)) {
            link.state = State::Closing;
        }
    }

    /// Closes our sending side once every byte written is sent (a
    /// half-close, `shutdown(SHUT_WR)`: the peer reads "end of data"), and
    /// goes on reading until the peer closes its side too (Twisted's
    /// `loseWriteConnection`).
    pub fn lose_write_connection(&self) {
        let mut link = self.link.borrow_mut();
        if matches!(link.state, State::Open) {
            link.state = State::HalfClosing;
            link.shut_down_if_sent();
        }
    }

    /// The peer's address (Twisted's `getPeer()`).
    pub fn peer(&self) -> SocketAddr {
        self.link.borrow().peer
    }

    /// Our own address on this connection (Twisted's `getHost()`).
    pub fn host(&self) -> SocketAddr {
        self.link.borrow().host
    }

    /// True when both handles are on the same connection.
    pub fn same_connection(&self, other: &Transport) -> bool {
        Rc::ptr_eq(&self.link, &other.link)
    }

    /// How many written bytes wait to be sent.
    pub fn pending(&self) -> usize {
        self.link.borrow().output.len()
    }

    /// True once the connection is closing, by either side, or lost
    /// (Twisted's `disconnecting`): what is written now is not sent.
    pub fn is_disconnecting(&self) -> bool {
        matches!(self.link.borrow().state, State::Closing | State::Lost(_))
    }

    /// For a recording transport, everything written so far (Twisted's
    /// `StringTransport.value()`); for a real one, what waits to be sent.
    pub(crate) fn queued(&self) -> Vec<u8> {
        self.link.borrow().output.iter().copied().collect()
    }

    /// Forgets what a recording transport recorded.
    pub(crate) fn clear_queue(&self) {
        self.link.borrow_mut().output.clear();
    }

    // ---- What the reactor does with the socket --------------------------

    /// Reads once into `buf` (one read per wake-up: `poll` says again if
    /// more is waiting). Returns the bytes read; 0 when there was nothing
    /// after all, the peer closed, or the read failed.
    pub(crate) fn read_into(&self, buf: &mut [u8]) -> usize {
        let mut link = self.link.borrow_mut();
        let Some(socket) = &link.socket else { return 0 };
        match (&*socket).read(buf) {
            Ok(0) => {
                // The peer closed its side: finish sending, then close.
                link.state = State::Closing;
                0
            }
            Ok(n) => n,
            Err(e) if is_transient(&e) => 0,
            Err(e) => {
                link.state = State::Lost(e);
                0
            }
        }
    }

    /// Sends as much of the queue as the socket takes.
    pub(crate) fn flush(&self) {
        let mut link = self.link.borrow_mut();
        let link = &mut *link;
        while !link.output.is_empty() && !matches!(link.state, State::Lost(_)) {
            let Some(socket) = &link.socket else { return };
            let (front, _) = link.output.as_slices();
            match (&*socket).write(front) {
                Ok(n) => {
                    link.output.drain(..n);
                }
                Err(e) if is_transient(&e) => break,
                Err(e) => link.state = State::Lost(e),
            }
        }
        if link.output.is_empty() && link.output.capacity() > KEEP_CAPACITY {
            link.output = VecDeque::new();
        }
        link.shut_down_if_sent();
    }

    /// Whether to ask `poll` for data to read (`POLLIN`).
    pub(crate) fn wants_to_read(&self) -> bool {
        self.link.borrow().wants_to_read()
    }

    /// The entry for `poll`: this socket, with `POLLIN` while we read and
    /// `POLLOUT` while bytes wait to be sent.
    pub(crate) fn poll_entry(&self) -> PollFd {
        let link = self.link.borrow();
        let Some(socket) = &link.socket else {
            return PollFd::from_raw(-1, Events::NONE); // poll skips -1
        };
        let mut events = Events::NONE;
        if link.wants_to_read() {
            events = events | Events::IN;
        }
        if !link.output.is_empty() && !matches!(link.state, State::Lost(_)) {
            events = events | Events::OUT;
        }
        PollFd::new(socket, events)
    }

    /// True when the connection is over: lost, or closing with nothing
    /// left to send.
    pub(crate) fn is_finished(&self) -> bool {
        let link = self.link.borrow();
        match link.state {
            State::Lost(_) => true,
            State::Closing => link.output.is_empty(),
            State::Open | State::HalfClosing | State::HalfClosed => false,
        }
    }

    /// Why it ended, once finished; drops the socket (closing it).
    pub(crate) fn close(&self) -> crate::Reason {
        let mut link = self.link.borrow_mut();
        link.socket = None;
        match std::mem::replace(&mut link.state, State::Closing) {
            State::Lost(e) => crate::Reason::Lost(e),
            _ => crate::Reason::Done,
        }
    }
}

impl Link {
    /// Read while the connection is open for reading and the peer reads
    /// its answers (less than `MAX_PENDING` queued).
    fn wants_to_read(&self) -> bool {
        matches!(
            self.state,
            State::Open | State::HalfClosing | State::HalfClosed
        ) && self.output.len() < MAX_PENDING
    }

    /// `HalfClosing` with the queue sent: shut our side down.
    fn shut_down_if_sent(&mut self) {
        if matches!(self.state, State::HalfClosing) && self.output.is_empty() {
            self.state = State::HalfClosed;
            if let Some(socket) = &self.socket {
                // A peer already gone makes this fail; the read will tell.
                let _ = socket.shutdown(Shutdown::Write);
            }
        }
    }
}
