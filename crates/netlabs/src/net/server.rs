//! A server's socket: bind, listen with a large backlog, and print the
//! first line (`en écoute sur ADDR:PORT`, `en attente sur ADDR:PORT`) that
//! tests and tools wait for.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};

use crate::Why;
use crate::error::{self, fail};
use crate::sys;

/// How many connections may wait for `accept` (capped by the kernel's
/// `net.core.somaxconn`). std uses 128; a burst of a thousand clients
/// would then wait for SYN retries.
pub const BACKLOG: u32 = 4096;

/// Binds a TCP socket to `addr` and listens on it with a large backlog.
///
/// std does what the course does by hand: on Unix it sets `SO_REUSEADDR`
/// before `bind`, so a restarted server does not wait for the old
/// connections in `TIME_WAIT`. An IPv6 address such as `::` also accepts
/// IPv4 clients (as `::ffff:127.0.0.1`) where the system allows it, which
/// is Linux's and macOS's default (`net.ipv6.bindv6only = 0`).
pub fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    sys::set_backlog(&listener, BACKLOG)?;
    Ok(listener)
}

/// Binds and listens on `bind:port`, prints `en écoute sur ADDR:PORT` (the
/// real port, after `--port 0` too), and returns the listener. On failure,
/// prints one French line and exits 1.
pub fn listen(bind: IpAddr, port: u16) -> TcpListener {
    let addr = SocketAddr::new(bind, port);
    let listener = bind_tcp(addr).unwrap_or_else(|e| fail(error::bind_message(addr, &e)));
    let local = listener
        .local_addr()
        .unwrap_or_else(|e| crate::fail!("adresse locale inconnue ({})", Why(&e)));
    announce_tcp(local);
    listener
}

/// Prints a TCP server's first line, `en écoute sur ADDR:PORT`, and flushes
/// it at once: tests and tools wait for it before they connect.
pub fn announce_tcp(addr: SocketAddr) {
    announce("en écoute sur", addr);
}

/// Binds a UDP socket on `bind:port`, prints `en attente sur ADDR:PORT`,
/// and returns it. On failure, prints one French line and exits 1.
pub fn bind_udp(bind: IpAddr, port: u16) -> UdpSocket {
    let addr = SocketAddr::new(bind, port);
    let socket = UdpSocket::bind(addr).unwrap_or_else(|e| fail(error::bind_message(addr, &e)));
    let local = socket
        .local_addr()
        .unwrap_or_else(|e| crate::fail!("adresse locale inconnue ({})", Why(&e)));
    announce("en attente sur", local);
    socket
}

fn announce(what: &str, addr: SocketAddr) {
    let mut out = io::stdout().lock();
    // A closed stdout must not stop a server: ignore the error.
    let _ = writeln!(out, "{what} {addr}");
    let _ = out.flush();
}
