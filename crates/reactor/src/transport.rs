//! The [`Transport`]: what a protocol writes through (Twisted's
//! `ITransport`), and the real one behind it, [`TcpTransport`].
//!
//! A protocol only sees a `Transport`: `write`, `lose_connection`, `peer`…
//! Behind it stands either a connection of the reactor (a [`TcpTransport`],
//! in this file: the socket, the bytes it has not taken yet, where the
//! connection is in its life) or the test double
//! [`StringTransport`](crate::testing::StringTransport), which only records
//! what is written. They are two types behind one interface, [`Link`], as
//! in Twisted, where `tcp.Connection` and `StringTransport` both provide
//! `ITransport`: the test double carries no socket, and the real one no
//! recording.
//!
//! The reactor reads the socket of a `TcpTransport`, sends its queued bytes
//! when `poll` says there is room, tells the protocol when the queue has
//! drained ([`Protocol::write_drained`](crate::Protocol::write_drained)),
//! and closes the connection once everything is sent.

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
/// On a real connection, bytes written are sent at once when the socket
/// takes them, and queued otherwise ([`pending`](Transport::pending)); the
/// reactor sends the queue when `poll` says the socket has room
/// (`POLLOUT`). In a test, the same handle stands for a
/// [`StringTransport`](crate::testing::StringTransport).
#[derive(Clone)]
pub struct Transport {
    link: Rc<dyn Link>,
}

/// What stands behind a [`Transport`] (Twisted's `ITransport`): the
/// reactor's [`TcpTransport`], or the test double `StringTransport`. Each
/// keeps its state in a `RefCell` borrowed only inside one of these
/// methods, never across a call to a protocol, so a protocol may call any
/// method at any time.
pub(crate) trait Link {
    fn write(&self, data: &[u8]);
    fn lose_connection(&self);
    fn lose_write_connection(&self);
    fn peer(&self) -> SocketAddr;
    fn host(&self) -> SocketAddr;
    fn pending(&self) -> usize;
    fn is_disconnecting(&self) -> bool;
}

impl Transport {
    /// A handle on `link`, for the reactor (a `TcpTransport`) or a test
    /// double.
    pub(crate) fn new(link: Rc<dyn Link>) -> Transport {
        Transport { link }
    }

    /// Sends `data` to the peer (Twisted's `transport.write`): at once if
    /// the socket takes it, later for what it does not. Never blocks.
    /// Ignored once the connection is closing (by either side) or lost.
    pub fn write(&self, data: &[u8]) {
        self.link.write(data);
    }

    /// Writes `line` then `\r\n` (Twisted's `LineReceiver.sendLine`).
    pub fn send_line(&self, line: &[u8]) {
        self.write(&[line, b"\r\n"].concat());
    }

    /// Closes the connection once every byte written is sent (Twisted's
    /// `loseConnection`); nothing more is read. The protocol is then told
    /// `connection_lost(Reason::Done)`.
    pub fn lose_connection(&self) {
        self.link.lose_connection();
    }

    /// Closes our sending side once every byte written is sent (a
    /// half-close, `shutdown(SHUT_WR)`: the peer reads "end of data"), and
    /// goes on reading until the peer closes its side too (Twisted's
    /// `loseWriteConnection`).
    pub fn lose_write_connection(&self) {
        self.link.lose_write_connection();
    }

    /// The peer's address (Twisted's `getPeer()`).
    pub fn peer(&self) -> SocketAddr {
        self.link.peer()
    }

    /// Our own address on this connection (Twisted's `getHost()`).
    pub fn host(&self) -> SocketAddr {
        self.link.host()
    }

    /// True when both handles are on the same connection.
    pub fn same_connection(&self, other: &Transport) -> bool {
        // Addresses only: two handles on one connection share one `Rc`.
        std::ptr::addr_eq(Rc::as_ptr(&self.link), Rc::as_ptr(&other.link))
    }

    /// How many written bytes wait to be sent: the peer has not taken them
    /// yet. A protocol that writes for ever (a screen per frame, a file)
    /// stops writing while this is high, and starts again when told
    /// [`write_drained`](crate::Protocol::write_drained).
    pub fn pending(&self) -> usize {
        self.link.pending()
    }

    /// True once the connection is closing, by either side, or lost
    /// (Twisted's `disconnecting`): what is written now is not sent.
    pub fn is_disconnecting(&self) -> bool {
        self.link.is_disconnecting()
    }
}

/// The real transport: a connected, non-blocking TCP socket, and what the
/// protocol asked of it (Twisted's `tcp.Connection`). The reactor holds
/// one per connection, and gives its protocol a [`Transport`] on it.
pub(crate) struct TcpTransport {
    inner: RefCell<Tcp>,
}

struct Tcp {
    /// `None` once the reactor closed the connection (a protocol may keep
    /// its handle longer, in a timer).
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

impl Link for TcpTransport {
    fn write(&self, data: &[u8]) {
        let mut tcp = self.inner.borrow_mut();
        let tcp = &mut *tcp;
        if !matches!(tcp.state, State::Open) {
            return;
        }
        let mut sent = 0;
        // Nothing queued before these bytes: try the socket at once.
        if tcp.output.is_empty()
            && let Some(socket) = &tcp.socket
        {
            match (&*socket).write(data) {
                Ok(n) => sent = n,
                Err(e) if is_transient(&e) => {}
                Err(e) => {
                    tcp.state = State::Lost(e);
                    return;
                }
            }
        }
        // Queue what the socket did not take.
        tcp.output.extend(&data[sent..]);
    }

    fn lose_connection(&self) {
        let mut tcp = self.inner.borrow_mut();
        if !matches!(tcp.state, State::Lost(_)) {
            tcp.state = State::Closing;
        }
    }

    fn lose_write_connection(&self) {
        let mut tcp = self.inner.borrow_mut();
        if matches!(tcp.state, State::Open) {
            tcp.state = State::HalfClosing;
            tcp.shut_down_if_sent();
        }
    }

    fn peer(&self) -> SocketAddr {
        self.inner.borrow().peer
    }

    fn host(&self) -> SocketAddr {
        self.inner.borrow().host
    }

    fn pending(&self) -> usize {
        self.inner.borrow().output.len()
    }

    fn is_disconnecting(&self) -> bool {
        matches!(self.inner.borrow().state, State::Closing | State::Lost(_))
    }
}

// ---- What the reactor does with the socket ------------------------------

impl TcpTransport {
    /// A transport on a connected, non-blocking socket.
    pub(crate) fn new(socket: TcpStream, peer: SocketAddr, host: SocketAddr) -> Rc<TcpTransport> {
        let tcp = Tcp {
            socket: Some(socket),
            peer,
            host,
            output: VecDeque::new(),
            state: State::Open,
        };
        Rc::new(TcpTransport {
            inner: RefCell::new(tcp),
        })
    }

    /// How many written bytes wait to be sent.
    pub(crate) fn pending(&self) -> usize {
        Link::pending(self)
    }

    /// Reads once into `buf` (one read per wake-up: `poll` says again if
    /// more is waiting). Returns the bytes read; 0 when there was nothing
    /// after all, the peer closed, or the read failed.
    pub(crate) fn read_into(&self, buf: &mut [u8]) -> usize {
        let mut tcp = self.inner.borrow_mut();
        let Some(socket) = &tcp.socket else { return 0 };
        match (&*socket).read(buf) {
            Ok(0) => {
                // The peer closed its side: finish sending, then close.
                tcp.state = State::Closing;
                0
            }
            Ok(n) => n,
            Err(e) if is_transient(&e) => 0,
            Err(e) => {
                tcp.state = State::Lost(e);
                0
            }
        }
    }

    /// Sends as much of the queue as the socket takes. Returns true when
    /// this emptied the queue of a connection still open for writing: the
    /// moment to tell the protocol `write_drained`.
    pub(crate) fn flush(&self) -> bool {
        let mut tcp = self.inner.borrow_mut();
        let tcp = &mut *tcp;
        let had_some = !tcp.output.is_empty();
        while !tcp.output.is_empty() && !matches!(tcp.state, State::Lost(_)) {
            let Some(socket) = &tcp.socket else { break };
            let (front, _) = tcp.output.as_slices();
            match (&*socket).write(front) {
                Ok(n) => {
                    tcp.output.drain(..n);
                }
                Err(e) if is_transient(&e) => break,
                Err(e) => tcp.state = State::Lost(e),
            }
        }
        if tcp.output.is_empty() && tcp.output.capacity() > KEEP_CAPACITY {
            tcp.output = VecDeque::new();
        }
        tcp.shut_down_if_sent();
        had_some && tcp.output.is_empty() && matches!(tcp.state, State::Open)
    }

    /// Whether to ask `poll` for data to read (`POLLIN`).
    pub(crate) fn wants_to_read(&self) -> bool {
        self.inner.borrow().wants_to_read()
    }

    /// The entry for `poll`: this socket, with `POLLIN` while we read and
    /// `POLLOUT` while bytes wait to be sent.
    pub(crate) fn poll_entry(&self) -> PollFd {
        let tcp = self.inner.borrow();
        let Some(socket) = &tcp.socket else {
            return PollFd::from_raw(-1, Events::NONE); // poll skips -1
        };
        let mut events = Events::NONE;
        if tcp.wants_to_read() {
            events = events | Events::IN;
        }
        if !tcp.output.is_empty() && !matches!(tcp.state, State::Lost(_)) {
            events = events | Events::OUT;
        }
        PollFd::new(socket, events)
    }

    /// True when the connection is over: lost, or closing with nothing
    /// left to send.
    pub(crate) fn is_finished(&self) -> bool {
        let tcp = self.inner.borrow();
        match tcp.state {
            State::Lost(_) => true,
            State::Closing => tcp.output.is_empty(),
            State::Open | State::HalfClosing | State::HalfClosed => false,
        }
    }

    /// Why it ended, once finished; drops the socket (closing it).
    pub(crate) fn close(&self) -> crate::Reason {
        let mut tcp = self.inner.borrow_mut();
        tcp.socket = None;
        match std::mem::replace(&mut tcp.state, State::Closing) {
            State::Lost(e) => crate::Reason::Lost(e),
            _ => crate::Reason::Done,
        }
    }
}

impl Tcp {
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
