//! `signal(2)`, for one signal: `SIGXFSZ`.
//!
//! A process that writes past its file-size limit (`ulimit -f` in the
//! shell that started it) is sent `SIGXFSZ`, whose default action ends it
//! (exit status 153 = 128 + 25). A server that keeps a file must not die
//! of a write: ignored, the signal leaves the write to fail with `EFBIG`,
//! an error like a full disk, which the server undoes and answers (`ERR`,
//! `Message not saved!`) before going on.

#![allow(unsafe_code)]

use std::io;
use std::os::raw::c_int;

/// `SIGXFSZ`: 25 on Linux (x86, ARM) and on macOS.
const SIGXFSZ: c_int = 25;

/// `SIG_IGN`, the "ignore it" handler: `(void (*)(int)) 1`.
const SIG_IGN: usize = 1;

/// `SIG_ERR`, what `signal` returns on failure: `(void (*)(int)) -1`.
const SIG_ERR: usize = usize::MAX;

unsafe extern "C" {
    /// `sighandler_t signal(int signum, sighandler_t handler)`; a handler
    /// is a pointer, passed here as the integer `SIG_IGN`.
    fn signal(signum: c_int, handler: usize) -> usize;
}

/// Ignores `SIGXFSZ` for the whole process, so that a write past the
/// file-size limit fails with `EFBIG` instead of killing the process.
pub fn ignore_file_size_limit() -> io::Result<()> {
    // SAFETY: SIG_IGN installs no code of ours: the kernel just drops the
    // signal. No memory is passed; the call only changes the disposition.
    if unsafe { signal(SIGXFSZ, SIG_IGN) } == SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignoring_the_signal_succeeds() {
        ignore_file_size_limit().unwrap();
        ignore_file_size_limit().unwrap();
    }
}
