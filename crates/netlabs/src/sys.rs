//! The workspace's only foreign functions, one small file per family:
//!
//! - [`poll`](mod@poll): `poll(2)`, waiting for many sockets at once;
//! - [`listen`](mod@listen): `listen(2)` again, for a larger accept backlog;
//! - [`fd_limit`]: the descriptor limit (`getrlimit(2)`, `setrlimit(2)`);
//! - [`unacknowledged`](mod@unacknowledged): the bytes a TCP peer has not
//!   acknowledged yet (`ioctl(SIOCOUTQ)`, for `oneshot`);
//! - [`epoll`] (Linux): `epoll(7)`, for `compare`'s load generator.
//!
//! The Rust standard library wraps sockets but not `poll`, which the
//! `select` version of TP5b (2.1) needs, and it calls `listen` with a fixed
//! backlog of 128, too small for a burst of thousands of connections (the
//! extra ones wait for SYN retries, a second or more). So we declare these
//! few C functions by hand, exactly as their `man` page shows them, and
//! wrap each in a safe function. Every `unsafe` block of the workspace is
//! in this folder and says why it is sound.
//!
//! The compiler holds that promise: every other crate inherits
//! `unsafe_code = "forbid"` from the workspace's `Cargo.toml`, and in this
//! crate every module but this one is declared `#[forbid(unsafe_code)]`
//! (see `lib.rs`). A `forbid` cannot be lifted by an `allow` below it,
//! which is why this crate cannot simply forbid at its root: the lint is
//! set module by module instead.
//!
//! Each C call reports failure the same way, -1 and `errno`: [`check`] and
//! [`zero_or_error`] turn that into an `io::Result` once for all, and
//! [`retry_on_eintr`] makes a waiting call again when a signal cut it short.

pub mod signal;

use std::io;
use std::os::raw::c_int;
use std::time::Duration;

pub mod fd_limit;
pub mod listen;
pub mod poll;
pub mod unacknowledged;

#[cfg(target_os = "linux")]
pub mod epoll;

#[cfg(target_os = "linux")]
pub use epoll::{Epoll, EpollEvent};
pub use fd_limit::raise_fd_limit;
pub use listen::set_backlog;
pub use poll::{Events, PollFd, poll_fds};
pub use unacknowledged::unacknowledged;

/// A C call's result: a negative number is a failure, whose cause is in
/// `errno`; anything else is the call's answer.
fn check(result: c_int) -> io::Result<c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// For the calls that answer 0 on success and -1 on failure.
fn zero_or_error(result: c_int) -> io::Result<()> {
    check(result).map(|_| ())
}

/// Makes `call` again while it fails with `EINTR`: a signal arrived while
/// it waited, which says nothing about what it waited for.
fn retry_on_eintr(mut call: impl FnMut() -> c_int) -> io::Result<c_int> {
    loop {
        match check(call()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_outs_are_rounded_up_to_whole_milliseconds() {
        assert_eq!(millis(None), -1);
        assert_eq!(millis(Some(Duration::ZERO)), 0);
        assert_eq!(millis(Some(Duration::from_micros(1))), 1);
        assert_eq!(millis(Some(Duration::from_millis(30))), 30);
        assert_eq!(millis(Some(Duration::from_secs(u64::MAX))), c_int::MAX);
    }

    #[test]
    fn a_failure_is_the_os_error_and_eintr_is_tried_again() {
        assert_eq!(check(3).unwrap(), 3);
        assert!(zero_or_error(0).is_ok());
        let mut calls = 0;
        let got = retry_on_eintr(|| {
            calls += 1;
            calls
        });
        assert_eq!((got.unwrap(), calls), (1, 1));
    }
}
