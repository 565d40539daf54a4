//! `poll(2)`: wait until one of many descriptors is ready.
//!
//! Python's `select.select(r, w, x)` is the same idea with three lists;
//! `poll` takes one array of `pollfd` records instead, each saying which
//! events we wait for (`events`) and, on return, which happened (`revents`).

use std::io;
use std::ops::BitOr;
use std::os::fd::{AsRawFd, RawFd};
use std::os::raw::{c_int, c_short};
use std::time::Duration;

/// `nfds_t`, the type of poll's second argument, differs between systems.
#[cfg(target_os = "linux")]
#[allow(non_camel_case_types)]
type nfds_t = std::os::raw::c_ulong;
#[cfg(not(target_os = "linux"))]
#[allow(non_camel_case_types)]
type nfds_t = std::os::raw::c_uint;

unsafe extern "C" {
    fn poll(fds: *mut PollFd, nfds: nfds_t, timeout: c_int) -> c_int;
}

/// Which events a descriptor waits for, or reports: the `POLL*` constants
/// (same values on Linux and macOS; `epoll`'s `EPOLL*` bits are the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Events(pub(super) c_short);

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
    let millis = super::millis(timeout);
    // SAFETY: `fds` is a valid, exclusively borrowed slice of `#[repr(C)]`
    // pollfd records; we pass its exact length, and poll writes only the
    // `revents` field of those records, before it returns.
    let ready =
        super::retry_on_eintr(|| unsafe { poll(fds.as_mut_ptr(), fds.len() as nfds_t, millis) })?;
    Ok(ready as usize)
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
    fn events_combine_and_test() {
        let both = Events::IN | Events::OUT;
        assert!(both.contains(Events::IN));
        assert!(both.contains(Events::OUT));
        assert!(!both.contains(Events::HUP));
        assert!(!Events::IN.contains(Events::NONE));
        assert!(Events::NONE.is_empty());
    }
}
