//! What a server does when `accept` fails: the one policy of every server,
//! blocking (one thread, a thread per client), polling or reactor.
//!
//! A client that left before we took it, or a signal: accept again at
//! once. Anything else — no descriptor left (`EMFILE`), the system short
//! of memory — leaves the client in the backlog, and `accept` would fail
//! again at once: stop trying for [`ACCEPT_RETRY_PAUSE`], and say so on
//! stderr once per episode, not ten times a second. [`AcceptPause`] is what
//! a server remembers of it.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::Why;

/// How long a server waits before it calls `accept` again after a failure
/// that would come back at once (no descriptor left…): long enough not to
/// spin at 100% CPU, short enough that the waiting clients hardly notice.
pub const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The former name of [`ACCEPT_RETRY_PAUSE`].
pub const FULL_PAUSE: Duration = ACCEPT_RETRY_PAUSE;

/// `sc, addr = s.accept()` for a blocking server: waits for the next
/// client and returns it, with its address as people read it
/// ([`canonical`](super::canonical)). A failed `accept` never stops the
/// server: it pauses as [`AcceptPause`] says.
pub fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let mut pause = AcceptPause::default();
    loop {
        match listener.accept() {
            Ok((stream, peer)) => return (stream, super::canonical(peer)),
            Err(e) => {
                if pause.failed(&e) == Retry::AfterPause {
                    std::thread::sleep(ACCEPT_RETRY_PAUSE);
                }
            }
        }
    }
}

/// When to call `accept` again after it failed.
#[derive(Debug, PartialEq, Eq)]
pub enum Retry {
    /// At once: the failure concerned one client only.
    Now,
    /// After [`ACCEPT_RETRY_PAUSE`]: the failure would come back at once.
    AfterPause,
}

/// What a server remembers of its failed `accept`s: until when it leaves
/// the listening socket alone, and whether this episode of failures was
/// told already. A polling server or a reactor stops watching the
/// listening socket while [`AcceptPause::until`] is in the future.
#[derive(Debug, Default)]
pub struct AcceptPause {
    until: Option<Instant>,
    told: bool,
}

impl AcceptPause {
    /// `accept` failed with `err`: says when to try again, pausing for
    /// [`ACCEPT_RETRY_PAUSE`] from now when it is not at once, and warns on
    /// stderr at the start of an episode.
    pub fn failed(&mut self, err: &io::Error) -> Retry {
        let retry = accept_failed(err, &mut self.told);
        if retry == Retry::AfterPause {
            self.until = Some(Instant::now() + ACCEPT_RETRY_PAUSE);
        }
        retry
    }

    /// `accept` succeeded: a descriptor was free, the episode is over.
    #[inline]
    pub fn accepted(&mut self) {
        self.told = false;
        self.until = None;
    }

    /// Descriptors were freed (a client left): try `accept` again now,
    /// without ending the episode (only a success does).
    #[inline]
    pub fn resume(&mut self) {
        self.until = None;
    }

    /// What is left of the pause under way, for a `poll` time-out; `None`
    /// when there is none (the clock is read only during a pause).
    #[inline] // called at every turn of a polling loop
    pub fn left(&self) -> Option<Duration> {
        self.until.and_then(|_| self.left_at(Instant::now()))
    }

    /// What is left of the pause at `now` (a reactor reads its clock once
    /// a turn); `None` when there is none, or once it is over.
    #[inline]
    pub fn left_at(&self, now: Instant) -> Option<Duration> {
        self.until
            .filter(|&until| now < until)
            .map(|until| until - now)
    }
}

/// The policy itself, for a caller that keeps its own state: `told` is
/// whether this episode was told already (set here; the caller sets it
/// back to `false` when an `accept` succeeds). A non-blocking server
/// handles `WouldBlock`, "nobody is waiting", before it asks.
pub fn accept_failed(err: &io::Error, told: &mut bool) -> Retry {
    if is_aborted(err) {
        return Retry::Now;
    }
    if !*told {
        *told = true;
        if is_out_of_descriptors(err) {
            crate::warn!(
                "accept impossible : plus de descripteur libre ({}) ; les nouveaux clients attendent",
                Why(err)
            );
        } else {
            crate::warn!(
                "accept a échoué ({}) ; nouvel essai dans un instant",
                Why(err)
            );
        }
    }
    Retry::AfterPause
}

/// True when `accept` failed for one client only: it left before we took
/// it (`ECONNABORTED`), or a signal interrupted the call (`EINTR`).
pub fn is_aborted(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
    )
}

/// True when `accept` failed because the process (`EMFILE`) or the system
/// (`ENFILE`) has no descriptor left. The pending connection stays in the
/// backlog, so the listening socket stays readable: a server must wait for
/// a descriptor to free up instead of calling `accept` again at once.
pub fn is_out_of_descriptors(err: &io::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    matches!(err.raw_os_error(), Some(EMFILE | ENFILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_clients_trouble_is_retried_at_once_and_starts_no_episode() {
        // (A lasting failure, told once per episode, is tested end to end
        // with the servers: tests/echo.rs and tests/reactor.rs.)
        let mut pause = AcceptPause::default();
        let now = Instant::now();
        for kind in [io::ErrorKind::ConnectionAborted, io::ErrorKind::Interrupted] {
            assert_eq!(pause.failed(&io::Error::from(kind)), Retry::Now);
        }
        assert!(!pause.told);
        assert_eq!(pause.left_at(now), None);
        assert_eq!(pause.left(), None);
    }

    #[test]
    fn a_lasting_failure_pauses_until_a_client_leaves_or_one_is_accepted() {
        let mut pause = AcceptPause::default();
        let emfile = io::Error::from_raw_os_error(24);
        assert_eq!(pause.failed(&emfile), Retry::AfterPause);
        let now = Instant::now();
        let left = pause.left_at(now).expect("paused");
        assert!(left <= ACCEPT_RETRY_PAUSE && left > Duration::ZERO);
        assert!(pause.left().is_some());
        assert_eq!(pause.left_at(now + ACCEPT_RETRY_PAUSE), None, "over");
        pause.resume();
        assert_eq!(pause.left_at(now), None);
        assert!(pause.told, "the episode goes on until an accept succeeds");
        pause.accepted();
        assert!(!pause.told);
    }

    #[test]
    fn out_of_descriptors_is_recognised() {
        assert!(is_out_of_descriptors(&io::Error::from_raw_os_error(24)));
        assert!(!is_out_of_descriptors(&io::Error::from_raw_os_error(111)));
    }
}
