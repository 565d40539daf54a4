//! Opening sockets the way every netlabs program does, one idea a file:
//!
//! - [`server`]: bind and listen (a large backlog), and the first line a
//!   server prints;
//! - [`client`]: resolve a host name and connect to the first of its
//!   addresses that answers;
//! - [`accept`](mod@accept): what a server does when `accept` fails;
//! - [`udp_client`]: a UDP client that tries every address of a name.
//!
//! Each failure a student meets is one French line on stderr and exit 1.
//!
//! | Python                                   | here                      |
//! |------------------------------------------|---------------------------|
//! | `s = socket(...)`, `bind`, `listen`      | [`listen`]                |
//! | `sc, addr = s.accept()`                  | [`accept()`]              |
//! | `s = socket(..., SOCK_DGRAM)`, `bind`    | [`bind_udp`]              |
//! | `s = socket(...)`, `s.connect((h, p))`   | [`connect`]               |

use std::io;
use std::net::SocketAddr;

pub mod accept;
pub mod client;
pub mod server;
pub mod udp_client;

pub use accept::{
    ACCEPT_RETRY_PAUSE, AcceptPause, FULL_PAUSE, Retry, accept, accept_failed, is_aborted,
    is_out_of_descriptors,
};
pub use client::{CONNECT_TIMEOUT, connect, resolve, try_connect};
pub use server::{BACKLOG, announce_tcp, bind_tcp, bind_udp, listen};
pub use udp_client::{Reply, UdpClient};

/// The address to show for a peer: an IPv4 client of a dual-stack socket
/// arrives as `::ffff:127.0.0.1`, shown as `127.0.0.1`.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// True when a read, a write or an `accept` on a non-blocking socket did
/// nothing but is no error: `WouldBlock`, not ready after all (`poll` will
/// say when), or `Interrupted`, a signal came (try again later).
pub fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_peers_are_shown_as_ipv4() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        assert_eq!(canonical(mapped).to_string(), "127.0.0.1:5000");
        let v6: SocketAddr = "[::1]:5000".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }

    #[test]
    fn nothing_ready_is_no_error() {
        assert!(is_transient(&io::Error::from(io::ErrorKind::WouldBlock)));
        assert!(is_transient(&io::Error::from(io::ErrorKind::Interrupted)));
        assert!(!is_transient(&io::Error::from(
            io::ErrorKind::ConnectionReset
        )));
    }
}
