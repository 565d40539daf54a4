//! `epoll(7)` (Linux): a set of descriptors the kernel keeps watching
//! between calls (`epoll_create1`, `epoll_ctl`, `epoll_wait`), for
//! `compare`'s load generator.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::raw::{c_int, c_short};
use std::time::Duration;

use super::Events;

/// `struct epoll_event`, as `<sys/epoll.h>` and the kernel define it: the
/// events, then 64 bits the kernel gives back untouched (we put a number
/// there, the caller's "token"). On x86 and x86-64 the kernel declares it
/// `packed` (12 bytes, so that 32- and 64-bit programs share one layout);
/// elsewhere it has C's usual padding (16 bytes).
#[repr(C)]
#[cfg_attr(any(target_arch = "x86", target_arch = "x86_64"), repr(packed))]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    events: u32,
    token: u64,
}

const _: () = assert!(
    std::mem::size_of::<EpollEvent>()
        == if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
            12
        } else {
            16
        }
);

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
const EPOLL_CLOEXEC: c_int = 0o2_000_000;
const EPOLL_CTL_ADD: c_int = 1;
const EPOLL_CTL_DEL: c_int = 2;
const EPOLL_CTL_MOD: c_int = 3;

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
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    /// A new, empty instance (closed in child processes after `exec`).
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes a flag word and reads no memory of ours.
        let fd = super::check(unsafe { epoll_create1(EPOLL_CLOEXEC) })?;
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
        super::zero_or_error(unsafe { epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) })
    }

    /// Waits until a watched descriptor is ready or `timeout` has passed
    /// (`None`: no limit), fills the start of `events` with what happened
    /// and returns how many. Time-out and `EINTR` as
    /// [`poll_fds`](super::poll_fds).
    pub fn wait(&self, events: &mut [EpollEvent], timeout: Option<Duration>) -> io::Result<usize> {
        let millis = super::millis(timeout);
        let max = events.len().min(c_int::MAX as usize) as c_int;
        // SAFETY: `events` is a valid, exclusively borrowed array of at
        // least `max` `#[repr(C)]` epoll_event records; the kernel writes at
        // most `max` of them, before epoll_wait returns.
        let ready = super::retry_on_eintr(|| unsafe {
            epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, millis)
        })?;
        Ok(ready as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::time::Instant;

    #[test]
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
        let five_seconds = Some(Duration::from_secs(5));
        assert_eq!(epoll.wait(&mut events, five_seconds).unwrap(), 1);
        assert_eq!(events[0].token(), 7);
        assert!(events[0].events().contains(Events::IN));

        let (server_side, _) = listener.accept().unwrap();
        epoll.delete(&listener).unwrap();
        epoll
            .add(&server_side, Events::IN | Events::OUT, 42)
            .unwrap();
        assert_eq!(epoll.wait(&mut events, five_seconds).unwrap(), 1);
        assert_eq!(events[0].token(), 42);
        assert!(events[0].events().contains(Events::OUT));
        assert!(!events[0].events().intersects(Events::IN));

        epoll.modify(&server_side, Events::IN, 43).unwrap();
        assert_eq!(epoll.wait(&mut events, Some(Duration::ZERO)).unwrap(), 0);
        client.write_all(b"x").unwrap();
        assert_eq!(epoll.wait(&mut events, five_seconds).unwrap(), 1);
        assert_eq!(events[0].token(), 43);
        assert!(events[0].events().contains(Events::IN));

        // A descriptor that is not open, or watched twice, is refused.
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(epoll.delete(&udp).is_err());
        assert!(epoll.add(&server_side, Events::IN, 1).is_err());
    }
}
