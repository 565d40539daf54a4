//! A client's side: resolve a host name to every address it has, and
//! connect to the first that answers, or say in French why none did.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::Why;
use crate::error::{self, fail};

/// How long a client waits for `connect` before giving up on an address.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Every address `host` resolves to (`localhost` gives `::1` and
/// `127.0.0.1`), or one French line and exit 1.
pub fn resolve(host: &str, port: u16) -> Vec<SocketAddr> {
    addresses(host, port).unwrap_or_else(|message| fail(message))
}

/// Connects to `host:port`, trying each address in turn, and returns the
/// first connection made. If none works, prints one French line naming the
/// cause (refused, not found, time-out…) and exits 1.
pub fn connect(host: &str, port: u16) -> TcpStream {
    try_connect(host, port).unwrap_or_else(|message| fail(message))
}

/// Like [`connect`], but returns the French message instead of exiting.
pub fn try_connect(host: &str, port: u16) -> Result<TcpStream, String> {
    let mut failures = Vec::new();
    for addr in addresses(host, port)? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => failures.push((addr, e)),
        }
    }
    Err(error::connect_message(&failures))
}

/// Every address of `host`, at least one, or the French message saying
/// the host was not found.
fn addresses(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    match lookup(host, port) {
        Ok(addrs) if addrs.is_empty() => Err(error::host_not_found(host, "aucune adresse")),
        Ok(addrs) => Ok(addrs),
        Err(e) => Err(error::host_not_found(host, Why(&e))),
    }
}

/// `getaddrinfo`, plus one rule: `localhost` is always both loopback
/// addresses, `::1` and `127.0.0.1` (RFC 6761), even where `/etc/hosts`
/// names only one of them, so that a client finds a server that listens on
/// either.
fn lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let mut addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if host.eq_ignore_ascii_case("localhost") {
        for ip in [
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        ] {
            let addr = SocketAddr::new(ip, port);
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn refused_connection_is_named_in_french() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let message = try_connect("127.0.0.1", port).unwrap_err();
        assert_eq!(
            message,
            format!("connexion refusée par 127.0.0.1:{port} ; le serveur est-il lancé ?")
        );
    }

    #[test]
    fn connect_tries_every_address_of_localhost() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // `localhost` may resolve to ::1 first, where nobody listens.
        let stream = try_connect("localhost", port).unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
    }

    #[test]
    fn localhost_is_both_loopback_addresses() {
        let addrs = lookup("localhost", 7777).unwrap();
        assert!(addrs.contains(&"[::1]:7777".parse().unwrap()), "{addrs:?}");
        assert!(
            addrs.contains(&"127.0.0.1:7777".parse().unwrap()),
            "{addrs:?}"
        );
        assert_eq!(lookup("127.0.0.1", 7).unwrap().len(), 1);
    }
}
