//! The workspace's only foreign functions: `poll(2)`, `listen(2)`, the
//! descriptor limit (`getrlimit(2)` / `setrlimit(2)`), the bytes a TCP
//! peer has not acknowledged yet (`ioctl(SIOCOUTQ)`, for `oneshot`), and on
//! Linux `epoll(7)` (`epoll_create1`, `epoll_ctl`, `epoll_wait`, for
//! `compare`'s load generator).
//!
//! The Rust standard library wraps sockets but not `poll`, which the
//! `select` version of TP5b (2.1) needs, and it calls `listen` with a fixed
//! backlog of 128, too small for a burst of thousands of connections (the
//! extra ones wait for SYN retries, a second or more). So we declare these
//! few C functions by hand, exactly as `man 2 poll` shows them, and wrap each
//! in a safe function. Every `unsafe` block of the workspace is in this file
//! and says why it is sound; the compiler refuses `unsafe` anywhere else
//! (`unsafe_code` lint, see the workspace's `Cargo.toml`).
//!
//! Python's `select.select(r, w, x)` is the same idea with three lists;
//! `poll` takes one array of `pollfd` records instead, each saying which
//! events we wait for (`events`) and, on return, which happened (`revents`).

#![allow(unsafe_code)]

pub mod signal;

use std::io;
use std::ops::BitOr;
use std::os::fd::{AsRawFd, RawFd};
#[cfg(target_os = "linux")]
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_short};
use std::time::Duration;

/// `nfds_t`, the type of poll's second argument, differs between systems.
#[cfg(target_os = "linux")]
#[allow(non_camel_case_types)]
type nfds_t = std::os::raw::c_ulong;
#[cfg(not(target_os = "linux"))]
#[allow(non_camel_case_types)]
type nfds_t = std::os::raw::c_uint;

/// `struct rlimit`: `rlim_t` is 64 bits on Linux (64-bit) and macOS.
#[repr(C)]
struct RLimit {
    current: u64,
    max: u64,
}

#[cfg(target_os = "linux")]
const RLIMIT_NOFILE: c_int = 7;
#[cfg(not(target_os = "linux"))]
const RLIMIT_NOFILE: c_int = 8;

unsafe extern "C" {
    fn poll(fds: *mut PollFd, nfds: nfds_t, timeout: c_int) -> c_int;
    fn listen(socket: c_int, backlog: c_int) -> c_int;
    fn getrlimit(resource: c_int, rlim: *mut RLimit) -> c_int;
    fn setrlimit(resource: c_int, rlim: *const RLimit) -> c_int;
}

/// Which events a descriptor waits for, or reports: the `POLL*` constants
/// (same values on Linux and macOS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Events(c_short);

impl Events {
    /// Nothing: the descriptor stays in the list but is not watched.
    pub const NONE: Events = Events(0);
    /// `POLLIN`: data to read, a connection to accept, or the peer closed.
    pub const IN: Events = Events(0x001);
    /// `POLLOUT`: room in the send buffer, a write will not block.
    pub const OUT: Events = Events(0x004);
    /// `POLLERR`: an error is pending on the socket (reported, never asked).
    pub const ERR: Events = Events(0x008);
    /// `POLLHUP`: the peer hung up (reported, never asked).
    pub const HUP: Events = Events(0x010);
    /// `POLLNVAL`: the descriptor is not open (a bug of ours).
    pub const NVAL: Events = Events(0x020);

    /// True when every event of `other` is in `self`.
    pub fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// True when `self` and `other` share at least one event.
    pub fn intersects(self, other: Events) -> bool {
        self.0 & other.0 != 0
    }

    /// True when no event is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, other: Events) -> Events {
        Events(self.0 | other.0)
    }
}

/// One entry of the array given to `poll`: C's `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

impl PollFd {
    /// Watch `fd` for `events`.
    pub fn new(fd: &impl AsRawFd, events: Events) -> PollFd {
        PollFd::from_raw(fd.as_raw_fd(), events)
    }

    /// Watch a raw descriptor number for `events`.
    pub fn from_raw(fd: RawFd, events: Events) -> PollFd {
        PollFd {
            fd,
            events: events.0,
            revents: 0,
        }
    }

    /// The descriptor this entry watches.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// What `poll` reported for this descriptor on its last return.
    pub fn revents(&self) -> Events {
        Events(self.revents)
    }
}

/// Waits until one of `fds` is ready or `timeout` has passed (`None`: no
/// limit), and returns how many entries have events in `revents`.
///
/// The time-out is rounded up to whole milliseconds (poll's unit) so that a
/// timer never fires early, and a call interrupted by a signal (`EINTR`) is
/// simply made again.
pub fn poll_fds(fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<usize> {
    let millis = millis(timeout);
    loop {
        // SAFETY: `fds` is a valid, exclusively borrowed slice of `#[repr(C)]`
        // pollfd records; we pass its exact length, and poll writes only the
        // `revents` field of those records, before it returns.
        let n = unsafe { poll(fds.as_mut_ptr(), fds.len() as nfds_t, millis) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A time-out in poll's and epoll_wait's unit, whole milliseconds, rounded
/// up so that a timer never fires early; `None` is -1, no limit.
fn millis(timeout: Option<Duration>) -> c_int {
    match timeout {
        None => -1,
        Some(t) => {
            let ms = t.as_nanos().div_ceil(1_000_000);
            ms.min(c_int::MAX as u128) as c_int
        }
    }
}

/// Calls `listen(2)` again on a socket that std already put in the listening
/// state, to raise its accept backlog from std's 128 to `backlog` (the kernel
/// caps it at `net.core.somaxconn`).
pub fn set_backlog(socket: &impl AsRawFd, backlog: u32) -> io::Result<()> {
    let backlog = backlog.min(c_int::MAX as u32) as c_int;
    // SAFETY: listen takes a descriptor number and an integer; it reads no
    // memory of ours. A closed or non-socket descriptor gives -1, not UB.
    let r = unsafe { listen(socket.as_raw_fd(), backlog) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Raises this process's soft limit on open descriptors to its hard limit
/// (many systems start programs at 1024, too few for thousands of clients),
/// and returns the new limit. `ulimit -n N` in the shell that starts the
/// program lowers both limits, so a test can still run a server short of
/// descriptors.
pub fn raise_fd_limit() -> io::Result<u64> {
    let mut limit = RLimit { current: 0, max: 0 };
    // SAFETY: `limit` is a valid, writable `struct rlimit` that lives across
    // the call; getrlimit writes exactly that struct.
    if unsafe { getrlimit(RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.current >= limit.max {
        return Ok(limit.current);
    }
    // macOS refuses more than OPEN_MAX (10240) in the soft limit.
    let wanted = if cfg!(target_os = "macos") {
        limit.max.min(10240)
    } else {
        limit.max
    };
    let raised = RLimit {
        current: wanted,
        max: limit.max,
    };
    // SAFETY: `raised` is a valid `struct rlimit` that setrlimit only reads.
    if unsafe { setrlimit(RLIMIT_NOFILE, &raised) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(wanted)
}

/// Bytes written on a TCP socket that its peer has not acknowledged yet,
/// sent or still waiting in our send queue: 0 when every byte is in the
/// peer's machine. std has no such call; `oneshot` needs it to count a
/// download only when the client really has every byte.
///
/// Linux: `ioctl(fd, SIOCOUTQ, &int)` (`man 7 tcp`). macOS: the closest,
/// `getsockopt(SOL_SOCKET, SO_NWRITE)`, the bytes in the send buffer, which
/// keeps each byte until it is acknowledged. Elsewhere: `Unsupported`.
pub fn unacknowledged(socket: &impl AsRawFd) -> io::Result<usize> {
    let mut queued: c_int = 0;
    #[cfg(target_os = "linux")]
    // SAFETY: SIOCOUTQ writes one `int` through the pointer, which points
    // to `queued`, alive and writable for the whole call. A descriptor that
    // is not a TCP socket gives -1, not UB.
    let r = unsafe { ioctl(socket.as_raw_fd(), SIOCOUTQ, &mut queued as *mut c_int) };
    #[cfg(target_os = "macos")]
    let r = {
        let mut len = std::mem::size_of::<c_int>() as u32;
        // SAFETY: getsockopt writes at most `len` bytes (one `int`) into
        // `queued` and the actual length into `len`; both live across it.
        unsafe {
            getsockopt(
                socket.as_raw_fd(),
                SOL_SOCKET,
                SO_NWRITE,
                &mut queued as *mut c_int as *mut std::ffi::c_void,
                &mut len,
            )
        }
    };
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    let r: c_int = {
        let _ = socket;
        return Err(io::ErrorKind::Unsupported.into());
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(queued.max(0) as usize)
}

/// `SIOCOUTQ` (the same number as `TIOCOUTQ`) on every Linux architecture
/// but a few exotic ones.
#[cfg(target_os = "linux")]
const SIOCOUTQ: std::os::raw::c_ulong = 0x5411;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    /// Variadic in C; the request is `unsigned long` in glibc (`int` in
    /// musl, passed in the same 64-bit register).
    fn ioctl(fd: c_int, request: std::os::raw::c_ulong, ...) -> c_int;
}

#[cfg(target_os = "macos")]
const SOL_SOCKET: c_int = 0xffff;
#[cfg(target_os = "macos")]
const SO_NWRITE: c_int = 0x1024;

#[cfg(target_os = "macos")]
unsafe extern "C" {
    fn getsockopt(
        socket: c_int,
        level: c_int,
        name: c_int,
        value: *mut std::ffi::c_void,
        len: *mut u32,
    ) -> c_int;
}

// ------------------------------------------------------------- epoll (Linux)

/// `struct epoll_event`, as `<sys/epoll.h>` and the kernel define it: the
/// events, then 64 bits the kernel gives back untouched (we put a number
/// there, the caller's "token"). On x86 and x86-64 the kernel declares it
/// `packed` (12 bytes, so that 32- and 64-bit programs share one layout);
/// elsewhere it has C's usual padding (16 bytes).
#[cfg(target_os = "linux")]
#[repr(C)]
#[cfg_attr(any(target_arch = "x86", target_arch = "x86_64"), repr(packed))]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    events: u32,
    token: u64,
}

#[cfg(target_os = "linux")]
const _: () = assert!(
    std::mem::size_of::<EpollEvent>()
        == if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
            12
        } else {
            16
        }
);

#[cfg(target_os = "linux")]
impl EpollEvent {
    /// An empty record, for the array `epoll_wait` fills.
    pub const EMPTY: EpollEvent = EpollEvent {
        events: 0,
        token: 0,
    };

    /// The number given with the descriptor to [`Epoll::add`].
    pub fn token(&self) -> u64 {
        self.token // a copy: no reference into a packed struct
    }

    /// What happened: the `EPOLL*` bits are the `POLL*` ones.
    pub fn events(&self) -> Events {
        let events = self.events;
        Events(events as c_short)
    }
}

/// `EPOLL_CLOEXEC` (= `O_CLOEXEC`) on x86, ARM, RISC-V and most others.
#[cfg(target_os = "linux")]
const EPOLL_CLOEXEC: c_int = 0o2_000_000;
#[cfg(target_os = "linux")]
const EPOLL_CTL_ADD: c_int = 1;
#[cfg(target_os = "linux")]
const EPOLL_CTL_DEL: c_int = 2;
#[cfg(target_os = "linux")]
const EPOLL_CTL_MOD: c_int = 3;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn epoll_create1(flags: c_int) -> c_int;
    fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, event: *mut EpollEvent) -> c_int;
    fn epoll_wait(epfd: c_int, events: *mut EpollEvent, maxevents: c_int, timeout: c_int) -> c_int;
}

/// An epoll instance: a set of descriptors the kernel watches for us, so
/// that waiting costs the ready ones only. `poll` is given the whole list at
/// every call and hooks itself on every descriptor again each time; with
/// epoll the list stays in the kernel between calls (level-triggered: a
/// descriptor with data left is reported again, as with `poll`).
/// The instance is closed when the value is dropped.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

#[cfg(target_os = "linux")]
impl Epoll {
    /// A new, empty instance (closed in child processes after `exec`).
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes a flag word and reads no memory of ours.
        let fd = unsafe { epoll_create1(EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened by epoll_create1 and belongs to no
        // one else: the OwnedFd is its only owner and closes it once.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `fd` for `events`; each report on it will carry `token`.
    pub fn add(&self, fd: &impl AsRawFd, events: Events, token: u64) -> io::Result<()> {
        self.control(EPOLL_CTL_ADD, fd.as_raw_fd(), events, token)
    }

    /// Changes what a watched `fd` waits for.
    pub fn modify(&self, fd: &impl AsRawFd, events: Events, token: u64) -> io::Result<()> {
        self.control(EPOLL_CTL_MOD, fd.as_raw_fd(), events, token)
    }

    /// Stops watching `fd` (closing it does so too).
    pub fn delete(&self, fd: &impl AsRawFd) -> io::Result<()> {
        self.control(EPOLL_CTL_DEL, fd.as_raw_fd(), Events::NONE, 0)
    }

    fn control(&self, op: c_int, fd: RawFd, events: Events, token: u64) -> io::Result<()> {
        let mut event = EpollEvent {
            events: events.0 as u16 as u32,
            token,
        };
        // SAFETY: `event` is a valid `struct epoll_event` that lives across
        // the call and that epoll_ctl only reads; a bad descriptor gives -1.
        let r = unsafe { epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Waits until a watched descriptor is ready or `timeout` has passed
    /// (`None`: no limit), fills the start of `events` with what happened
    /// and returns how many. Time-out and `EINTR` as [`poll_fds`].
    pub fn wait(&self, events: &mut [EpollEvent], timeout: Option<Duration>) -> io::Result<usize> {
        let millis = millis(timeout);
        let max = events.len().min(c_int::MAX as usize) as c_int;
        loop {
            // SAFETY: `events` is a valid, exclusively borrowed array of at
            // least `max` `#[repr(C)]` epoll_event records; the kernel
            // writes at most `max` of them, before epoll_wait returns.
            let n = unsafe { epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, millis) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::time::Instant;

    #[test]
    fn poll_times_out_with_nothing_ready() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut fds = [PollFd::new(&listener, Events::IN)];
        let start = Instant::now();
        let n = poll_fds(&mut fds, Some(Duration::from_millis(30))).unwrap();
        assert_eq!(n, 0);
        assert!(fds[0].revents().is_empty());
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn poll_reports_a_pending_connection_and_data() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut fds = [PollFd::new(&listener, Events::IN)];
        assert_eq!(poll_fds(&mut fds, Some(Duration::from_secs(5))).unwrap(), 1);
        assert!(fds[0].revents().contains(Events::IN));

        let (server_side, _) = listener.accept().unwrap();
        let mut fds = [PollFd::new(&server_side, Events::IN | Events::OUT)];
        poll_fds(&mut fds, Some(Duration::from_secs(5))).unwrap();
        assert!(fds[0].revents().contains(Events::OUT));
        assert!(!fds[0].revents().intersects(Events::IN));

        client.write_all(b"x").unwrap();
        let mut fds = [PollFd::new(&server_side, Events::IN)];
        assert_eq!(poll_fds(&mut fds, Some(Duration::from_secs(5))).unwrap(), 1);
        assert!(fds[0].revents().contains(Events::IN));
    }

    #[test]
    fn a_closed_descriptor_is_reported_invalid() {
        let mut fds = [PollFd::from_raw(987_654, Events::IN)];
        poll_fds(&mut fds, Some(Duration::ZERO)).unwrap();
        assert!(fds[0].revents().contains(Events::NVAL));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn epoll_reports_what_poll_reports_with_the_token() {
        let epoll = Epoll::new().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut events = [EpollEvent::EMPTY; 4];
        epoll.add(&listener, Events::IN, 7).unwrap();
        let start = Instant::now();
        let n = epoll
            .wait(&mut events, Some(Duration::from_millis(30)))
            .unwrap();
        assert_eq!(n, 0);
        assert!(start.elapsed() >= Duration::from_millis(30));

        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert_eq!(
            epoll
                .wait(&mut events, Some(Duration::from_secs(5)))
                .unwrap(),
            1
        );
        assert_eq!(events[0].token(), 7);
        assert!(events[0].events().contains(Events::IN));

        let (server_side, _) = listener.accept().unwrap();
        epoll.delete(&listener).unwrap();
        epoll
            .add(&server_side, Events::IN | Events::OUT, 42)
            .unwrap();
        assert_eq!(
            epoll
                .wait(&mut events, Some(Duration::from_secs(5)))
                .unwrap(),
            1
        );
        assert_eq!(events[0].token(), 42);
        assert!(events[0].events().contains(Events::OUT));
        assert!(!events[0].events().intersects(Events::IN));

        epoll.modify(&server_side, Events::IN, 43).unwrap();
        assert_eq!(epoll.wait(&mut events, Some(Duration::ZERO)).unwrap(), 0);
        client.write_all(b"x").unwrap();
        assert_eq!(
            epoll
                .wait(&mut events, Some(Duration::from_secs(5)))
                .unwrap(),
            1
        );
        assert_eq!(events[0].token(), 43);
        assert!(events[0].events().contains(Events::IN));

        // A descriptor that is not open, or watched twice, is refused.
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(epoll.delete(&udp).is_err());
        assert!(epoll.add(&server_side, Events::IN, 1).is_err());
    }

    #[test]
    fn the_backlog_can_be_raised_on_a_listening_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        set_backlog(&listener, 4096).unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(set_backlog(&udp, 10).is_err(), "listen on UDP must fail");
    }

    #[test]
    fn the_fd_limit_is_at_least_what_it_was() {
        assert!(raise_fd_limit().unwrap() >= 64);
    }

    #[test]
    fn events_combine_and_test() {
        let both = Events::IN | Events::OUT;
        assert!(both.contains(Events::IN));
        assert!(both.contains(Events::OUT));
        assert!(!both.contains(Events::HUP));
        assert!(!Events::IN.contains(Events::NONE));
        assert!(Events::NONE.is_empty());
    }

    #[test]
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    fn unacknowledged_bytes_wait_for_a_reader() {
        use std::io::Read;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server_side, _) = listener.accept().unwrap();
        assert_eq!(unacknowledged(&server_side).unwrap(), 0);
        // More than the client's buffers hold: some stay unacknowledged
        // while it does not read.
        server_side.set_nonblocking(true).unwrap();
        let chunk = vec![7u8; 1 << 16];
        let mut sent = 0;
        loop {
            match server_side.write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(unacknowledged(&server_side).unwrap() > 0);
        // Once the client has read everything, everything is acknowledged.
        let mut buf = vec![0u8; sent];
        client.read_exact(&mut buf).unwrap();
        let start = Instant::now();
        while unacknowledged(&server_side).unwrap() > 0 {
            assert!(start.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
