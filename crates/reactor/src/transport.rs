//! The [`Transport`]: what a protocol writes through.
//!
//! It carries the socket, the bytes the socket has not taken yet, and what
//! the protocol asked about closing. The protocol calls [`Transport::write`]
//! and [`Transport::lose_connection`]; the reactor reads the socket, sends
//! the queued bytes when `poll` says there is room, and closes the
//! connection once everything is sent.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, ErrorKind, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::rc::Rc;

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
    /// The peer closed its side (a read returned 0): nothing more to read.
    read_closed: bool,
    /// `lose_connection`: stop reading, send what is queued, then close.
    closing: bool,
    /// `lose_write_connection`: send what is queued, then close our side
    /// (`shutdown(Write)`) and go on reading until the peer closes.
    write_closing: bool,
    /// Our side is shut down.
    write_closed: bool,
    /// A read or a write failed: the connection is lost.
    error: Option<io::Error>,
    /// The reactor's "a connection may be over" flag, raised whenever this
    /// one starts to end, so that the reactor looks for finished
    /// connections only when there may be one (`None` when recording).
    may_be_over: Option<Rc<Cell<bool>>>,
}

impl Transport {
    /// A transport on a connected, non-blocking socket (the reactor's).
    pub(crate) fn new(
        socket: TcpStream,
        peer: SocketAddr,
        host: SocketAddr,
        may_be_over: Rc<Cell<bool>>,
    ) -> Transport {
        let transport = Transport::with_socket(Some(socket), peer, host);
        transport.link.borrow_mut().may_be_over = Some(may_be_over);
        transport
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
            read_closed: false,
            closing: false,
            write_closing: false,
            write_closed: false,
            error: None,
            may_be_over: None,
        };
        Transport {
            link: Rc::new(RefCell::new(link)),
        }
    }

    /// Sends `data` to the peer (Twisted's `transport.write`): at once if
    /// the socket takes it, later for what it does not. Never blocks.
    /// Ignored once [`lose_connection`](Transport::lose_connection) or
    /// [`lose_write_connection`](Transport::lose_write_connection) was
    /// called, or the connection is lost.
    pub fn write(&self, data: &[u8]) {
        self.write_pair(data, b"");
    }

    /// Writes two pieces as if they were one (a line and its end, say), in
    /// one system call (`writev`) when the socket takes them.
    pub(crate) fn write_pair(&self, first: &[u8], second: &[u8]) {
        let mut link = self.link.borrow_mut();
        let link = &mut *link;
        if link.closing || link.write_closing || link.error.is_some() {
            return;
        }
        let mut sent = 0;
        // Nothing queued before these bytes: try the socket at once.
        if link.output.is_empty()
            && let Some(socket) = &link.socket
        {
            let written = if second.is_empty() {
                (&*socket).write(first)
            } else {
                (&*socket).write_vectored(&[IoSlice::new(first), IoSlice::new(second)])
            };
            match written {
                Ok(n) => sent = n,
                Err(e) if is_transient(&e) => {}
                Err(e) => {
                    link.fail(e);
                    return;
                }
            }
        }
        // Queue what the socket did not take.
        for part in [first, second] {
            let skip = sent.min(part.len());
            sent -= skip;
            link.output.extend(&part[skip..]);
        }
    }

    /// Closes the connection once every byte written is sent (Twisted's
    /// `loseConnection`); nothing more is read. The protocol is then told
    /// `connection_lost(Reason::Done)`.
    pub fn lose_connection(&self) {
        let mut link = self.link.borrow_mut();
        link.closing = true;
        link.may_be_over();
    }

    /// Closes our sending side once every byte written is sent (a
    /// half-close, `shutdown(SHUT_WR)`: the peer reads "end of data"), and
    /// goes on reading until the peer closes its side too (Twisted's
    /// `loseWriteConnection`).
    pub fn lose_write_connection(&self) {
        let mut link = self.link.borrow_mut();
        link.write_closing = true;
        link.shut_down_if_sent();
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

    /// True once `lose_connection` was called (Twisted's `disconnecting`).
    pub fn is_disconnecting(&self) -> bool {
        self.link.borrow().closing
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
    /// after all, the peer closed, or the read failed (noted for the reap).
    pub(crate) fn read_into(&self, buf: &mut [u8]) -> usize {
        let mut link = self.link.borrow_mut();
        let Some(socket) = &link.socket else { return 0 };
        match (&*socket).read(buf) {
            Ok(0) => {
                // The peer closed its side: finish sending, then close.
                link.read_closed = true;
                link.may_be_over();
                0
            }
            Ok(n) => n,
            Err(e) if is_transient(&e) => 0,
            Err(e) => {
                link.fail(e);
                0
            }
        }
    }

    /// Sends as much of the queue as the socket takes.
    pub(crate) fn flush(&self) {
        let mut link = self.link.borrow_mut();
        let link = &mut *link;
        while !link.output.is_empty() && link.error.is_none() {
            let Some(socket) = &link.socket else { return };
            let (front, _) = link.output.as_slices();
            match (&*socket).write(front) {
                Ok(n) => {
                    link.output.drain(..n);
                }
                Err(e) if is_transient(&e) => break,
                Err(e) => link.fail(e),
            }
        }
        if link.output.is_empty() {
            if link.output.capacity() > KEEP_CAPACITY {
                link.output = VecDeque::new();
            }
            // All sent: a connection waiting for that to close may go now.
            if link.closing || link.read_closed {
                link.may_be_over();
            }
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
        if !link.output.is_empty() && link.error.is_none() {
            events = events | Events::OUT;
        }
        PollFd::new(socket, events)
    }

    /// True when the connection is over: an error, or a close (ours or the
    /// peer's) with nothing left to send.
    pub(crate) fn is_finished(&self) -> bool {
        let link = self.link.borrow();
        link.error.is_some() || (link.output.is_empty() && (link.closing || link.read_closed))
    }

    /// Why it ended, once finished; drops the socket (closing it).
    pub(crate) fn close(&self) -> crate::Reason {
        let mut link = self.link.borrow_mut();
        link.socket = None;
        link.closing = true;
        match link.error.take() {
            Some(e) => crate::Reason::Lost(e),
            None => crate::Reason::Done,
        }
    }
}

impl Link {
    /// A read or a write failed: the connection is lost.
    fn fail(&mut self, e: io::Error) {
        self.error = Some(e);
        self.may_be_over();
    }

    fn may_be_over(&self) {
        if let Some(flag) = &self.may_be_over {
            flag.set(true);
        }
    }

    /// Read while the connection is open, the peer still sends, and the
    /// peer reads its answers (less than `MAX_PENDING` queued).
    fn wants_to_read(&self) -> bool {
        self.error.is_none()
            && !self.read_closed
            && !self.closing
            && self.output.len() < MAX_PENDING
    }

    fn shut_down_if_sent(&mut self) {
        if self.write_closing && !self.write_closed && self.output.is_empty() {
            self.write_closed = true;
            if let Some(socket) = &self.socket {
                // A peer already gone makes this fail; the read will tell.
                let _ = socket.shutdown(Shutdown::Write);
            }
        }
    }
}

/// `WouldBlock`: not ready after all, `poll` will say when. `Interrupted`:
/// a signal came, try again later. Neither is the peer's fault.
fn is_transient(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}
