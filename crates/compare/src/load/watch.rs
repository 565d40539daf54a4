//! How the load generator waits for its clients' sockets: `epoll(7)` on
//! Linux, `poll(2)` elsewhere, behind one small trait so that the driver
//! does not care which.
//!
//! Why epoll and not poll, like the servers it measures: `poll` is given
//! the whole list at every call and hooks itself on every socket again each
//! time; with epoll the list stays in the kernel, and a wait costs the ready
//! sockets only. A client that waits costs nothing (the blocking server
//! keeps C − 1 of them waiting for the whole step).

use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
use netlabs::sys::{Epoll, EpollEvent};
use netlabs::sys::{Events, PollFd, poll_fds};

/// How the ping-pong driver waits for its clients' sockets: each client is a
/// `slot` (its index), watched for `IN`, or `IN | OUT` while its message is
/// not all sent.
pub trait Watch: Sized {
    /// The system call, for the French line when it fails.
    const NAME: &'static str;
    fn new(slots: usize) -> io::Result<Self>;
    fn watch(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()>;
    fn set(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()>;
    fn forget(&mut self, slot: usize, stream: &TcpStream);
    /// Waits at most `timeout`, and puts the ready slots in `ready`.
    fn wait(&mut self, timeout: Duration, ready: &mut Vec<(usize, Events)>) -> io::Result<()>;
}

/// On Linux, epoll; elsewhere (macOS...), poll.
#[cfg(target_os = "linux")]
pub type Watcher = EpollWatcher;
#[cfg(not(target_os = "linux"))]
pub type Watcher = PollWatcher;

/// The kernel keeps the list: a client is registered once, and a wait
/// costs the ready ones only.
#[cfg(target_os = "linux")]
pub struct EpollWatcher {
    epoll: Epoll,
    events: Vec<EpollEvent>,
}

/// At most this many ready sockets are taken per `epoll_wait`; the others
/// stay ready for the next.
#[cfg(target_os = "linux")]
const EPOLL_BATCH: usize = 1024;

#[cfg(target_os = "linux")]
impl Watch for EpollWatcher {
    const NAME: &'static str = "epoll";

    fn new(slots: usize) -> io::Result<Self> {
        Ok(EpollWatcher {
            epoll: Epoll::new()?,
            events: vec![EpollEvent::EMPTY; slots.clamp(1, EPOLL_BATCH)],
        })
    }

    fn watch(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.epoll.add(stream, events, slot as u64)
    }

    fn set(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.epoll.modify(stream, events, slot as u64)
    }

    fn forget(&mut self, _slot: usize, stream: &TcpStream) {
        let _ = self.epoll.delete(stream); // never watched: nothing to undo
    }

    fn wait(&mut self, timeout: Duration, ready: &mut Vec<(usize, Events)>) -> io::Result<()> {
        let n = self.epoll.wait(&mut self.events, Some(timeout))?;
        ready.clear();
        ready.extend(
            self.events[..n]
                .iter()
                .map(|e| (e.token() as usize, e.events())),
        );
        Ok(())
    }
}

/// A socket that has had no event for this long leaves the main `poll` and
/// is looked at every [`PARKED_EVERY`] only. The blocking server keeps
/// C − 1 clients waiting for the whole step: polling them at every round
/// trip of the one it serves would make the generator cost C times more
/// than the server. A late echo is seen at most this much later, on a
/// latency of [`PARK_AFTER`] or more: a few per cent. (epoll needs none of
/// this: a socket that waits costs it nothing.)
const PARK_AFTER: Duration = Duration::from_millis(100);
const PARKED_EVERY: Duration = Duration::from_millis(5);

/// Where there is no epoll: the whole list is given to `poll` at every
/// wait, minus the sockets that have waited long (parked, see [`PARK_AFTER`]).
pub struct PollWatcher {
    /// Per slot: its socket and what it waits for (`NONE`: forgotten), since
    /// when it has had no event, and whether it is parked.
    wants: Vec<(RawFd, Events)>,
    quiet_since: Vec<Instant>,
    parked: Vec<bool>,
    /// The main poll: `fds[k]` is slot `slots[k]`; `stale` once it must be
    /// built again.
    fds: Vec<PollFd>,
    slots: Vec<usize>,
    stale: bool,
    parked_count: usize,
    next_check: Instant,
}

impl PollWatcher {
    /// Parks the slots quiet for too long, and brings back those of the
    /// parked that are ready (a `poll` of the parked alone, without waiting).
    fn check_parked(&mut self, now: Instant) {
        let mut look = Vec::new();
        let mut which = Vec::new();
        for slot in 0..self.wants.len() {
            let (fd, events) = self.wants[slot];
            if events.is_empty() {
                continue;
            }
            if !self.parked[slot] && now - self.quiet_since[slot] >= PARK_AFTER {
                self.parked[slot] = true;
                self.stale = true;
            }
            if self.parked[slot] {
                look.push(PollFd::from_raw(fd, events));
                which.push(slot);
            }
        }
        self.parked_count = look.len();
        if look.is_empty() || poll_fds(&mut look, Some(Duration::ZERO)).unwrap_or(0) == 0 {
            return;
        }
        for (fd, slot) in look.iter().zip(which) {
            if !fd.revents().is_empty() {
                self.parked[slot] = false;
                self.quiet_since[slot] = now;
                self.parked_count -= 1;
                self.stale = true;
            }
        }
    }
}

impl Watch for PollWatcher {
    const NAME: &'static str = "poll";

    fn new(slots: usize) -> io::Result<Self> {
        Ok(PollWatcher {
            wants: vec![(-1, Events::NONE); slots],
            quiet_since: vec![Instant::now(); slots],
            parked: vec![false; slots],
            fds: Vec::with_capacity(slots),
            slots: Vec::with_capacity(slots),
            stale: true,
            parked_count: 0,
            next_check: Instant::now(),
        })
    }

    fn watch(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.wants[slot] = (stream.as_raw_fd(), events);
        self.quiet_since[slot] = Instant::now();
        self.stale = true;
        Ok(())
    }

    fn set(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.watch(slot, stream, events)
    }

    fn forget(&mut self, slot: usize, _stream: &TcpStream) {
        self.wants[slot].1 = Events::NONE;
        if self.parked[slot] {
            self.parked[slot] = false;
            self.parked_count -= 1;
        }
        self.stale = true;
    }

    fn wait(&mut self, timeout: Duration, ready: &mut Vec<(usize, Events)>) -> io::Result<()> {
        let now = Instant::now();
        if now >= self.next_check {
            self.check_parked(now);
            self.next_check = now + PARKED_EVERY;
        }
        if self.stale {
            self.fds.clear();
            self.slots.clear();
            for (slot, &(fd, events)) in self.wants.iter().enumerate() {
                if !events.is_empty() && !self.parked[slot] {
                    self.fds.push(PollFd::from_raw(fd, events));
                    self.slots.push(slot);
                }
            }
            self.stale = false;
        }
        let timeout = if self.parked_count > 0 {
            timeout.min(self.next_check.saturating_duration_since(now))
        } else {
            timeout
        };
        ready.clear();
        if poll_fds(&mut self.fds, Some(timeout))? == 0 {
            return Ok(());
        }
        let now = Instant::now();
        for (fd, &slot) in self.fds.iter().zip(&self.slots) {
            if !fd.revents().is_empty() {
                ready.push((slot, fd.revents()));
                self.quiet_since[slot] = now;
            }
        }
        Ok(())
    }
}
