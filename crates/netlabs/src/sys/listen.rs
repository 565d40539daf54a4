//! `listen(2)` once more, to raise a listening socket's accept backlog
//! above the 128 std gives it.

use std::io;
use std::os::fd::AsRawFd;
use std::os::raw::c_int;

unsafe extern "C" {
    fn listen(socket: c_int, backlog: c_int) -> c_int;
}

/// Calls `listen(2)` again on a socket that std already put in the listening
/// state, to raise its accept backlog from std's 128 to `backlog` (the kernel
/// caps it at `net.core.somaxconn`).
pub fn set_backlog(socket: &impl AsRawFd, backlog: u32) -> io::Result<()> {
    let backlog = backlog.min(c_int::MAX as u32) as c_int;
    // SAFETY: listen takes a descriptor number and an integer; it reads no
    // memory of ours. A closed or non-socket descriptor gives -1, not UB.
    super::zero_or_error(unsafe { listen(socket.as_raw_fd(), backlog) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};

    #[test]
    fn the_backlog_can_be_raised_on_a_listening_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        set_backlog(&listener, 4096).unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(set_backlog(&udp, 10).is_err(), "listen on UDP must fail");
    }
}
