//! The limit on open descriptors (`getrlimit(2)`, `setrlimit(2)`): many
//! systems start a program at 1024, too few for thousands of clients.

use std::io;
use std::os::raw::c_int;

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

/// macOS refuses a soft limit above `OPEN_MAX` (10 240), whatever the hard
/// limit says (often "unlimited").
const MACOS_OPEN_MAX: u64 = 10_240;

unsafe extern "C" {
    fn getrlimit(resource: c_int, rlim: *mut RLimit) -> c_int;
    fn setrlimit(resource: c_int, rlim: *const RLimit) -> c_int;
}

/// Raises this process's soft limit on open descriptors as far as the
/// system lets it — the hard limit, or on macOS at most 10 240 — and
/// returns the limit in force. It never lowers it: a soft limit already
/// above the ceiling stays as it is. `ulimit -n N` in the shell that starts
/// the program lowers both limits, so a test can still run a server short
/// of descriptors.
pub fn raise_fd_limit() -> io::Result<u64> {
    let mut limit = RLimit { current: 0, max: 0 };
    // SAFETY: `limit` is a valid, writable `struct rlimit` that lives across
    // the call; getrlimit writes exactly that struct.
    super::zero_or_error(unsafe { getrlimit(RLIMIT_NOFILE, &mut limit) })?;
    let ceiling = if cfg!(target_os = "macos") {
        MACOS_OPEN_MAX
    } else {
        u64::MAX
    };
    let wanted = raised(limit.current, limit.max, ceiling);
    if wanted == limit.current {
        return Ok(limit.current);
    }
    let raised = RLimit {
        current: wanted,
        max: limit.max,
    };
    // SAFETY: `raised` is a valid `struct rlimit` that setrlimit only reads.
    super::zero_or_error(unsafe { setrlimit(RLIMIT_NOFILE, &raised) })?;
    Ok(wanted)
}

/// The soft limit to ask for: the hard limit `max`, capped by `ceiling`,
/// and never below the `current` one.
fn raised(current: u64, max: u64, ceiling: u64) -> u64 {
    max.min(ceiling).max(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fd_limit_is_at_least_what_it_was() {
        assert!(raise_fd_limit().unwrap() >= 64);
    }

    #[test]
    fn the_soft_limit_goes_up_to_the_ceiling_and_never_down() {
        assert_eq!(raised(1024, 4096, u64::MAX), 4096);
        assert_eq!(raised(256, u64::MAX, MACOS_OPEN_MAX), MACOS_OPEN_MAX);
        // Above macOS's ceiling already (raised by hand): left as it is.
        assert_eq!(raised(20_000, u64::MAX, MACOS_OPEN_MAX), 20_000);
        assert_eq!(raised(4096, 4096, u64::MAX), 4096);
    }
}
