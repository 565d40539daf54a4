//! The bytes a TCP peer has not acknowledged yet: Linux's
//! `ioctl(SIOCOUTQ)`, macOS's `getsockopt(SO_NWRITE)`.

use std::io;
use std::os::fd::AsRawFd;
use std::os::raw::c_int;

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
    super::zero_or_error(r)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    fn unacknowledged_bytes_wait_for_a_reader() {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        use std::time::{Duration, Instant};
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
