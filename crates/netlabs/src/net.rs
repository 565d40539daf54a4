//! Opening sockets the way every netlabs program does: the first line a
//! server prints, and one French line on stderr (exit 1) when it fails.
//!
//! | Python                                   | here                      |
//! |------------------------------------------|---------------------------|
//! | `s = socket(...)`, `bind`, `listen`      | [`listen`]                |
//! | `s = socket(..., SOCK_DGRAM)`, `bind`    | [`bind_udp`]              |
//! | `s = socket(...)`, `s.connect((h, p))`   | [`connect`]               |

use std::io::{self, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket,
};
use std::time::Duration;

use crate::Why;
use crate::error::{self, fail};
use crate::sys;

/// How many connections may wait for `accept` (capped by the kernel's
/// `net.core.somaxconn`). std uses 128; a burst of a thousand clients
/// would then wait for SYN retries.
pub const BACKLOG: u32 = 4096;

/// How long a client waits for `connect` before giving up on an address.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
    let listener = bind_tcp(addr).unwrap_or_else(|e| fail(error::bind(addr, &e)));
    announce_tcp(local_addr(&listener));
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
    let socket = UdpSocket::bind(addr).unwrap_or_else(|e| fail(error::bind(addr, &e)));
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

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|e| crate::fail!("adresse locale inconnue ({})", Why(&e)))
}

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
    Err(error::connect(&failures))
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

/// The address to show for a peer: an IPv4 client of a dual-stack socket
/// arrives as `::ffff:127.0.0.1`, shown as `127.0.0.1`.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// How long a server waits before it calls `accept` again after a failure
/// that would come back at once (no descriptor left…): long enough not to
/// spin at 100% CPU, short enough that the waiting clients hardly notice.
pub const FULL_PAUSE: Duration = Duration::from_millis(100);

/// `sc, addr = s.accept()` for a blocking server: waits for the next
/// client and returns it, with its address as people read it
/// ([`canonical`]). A failed `accept` never stops the server: see
/// [`accept_failed`].
pub fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let mut told = false;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => return (stream, canonical(peer)),
            Err(e) => match accept_failed(&e, &mut told) {
                Retry::Now => {}
                Retry::AfterPause => std::thread::sleep(FULL_PAUSE),
            },
        }
    }
}

/// When to call `accept` again after it failed.
#[derive(Debug, PartialEq, Eq)]
pub enum Retry {
    /// At once: the failure concerned one client only.
    Now,
    /// After [`FULL_PAUSE`]: the failure would come back at once.
    AfterPause,
}

/// The one policy for a failed `accept`, shared by every server, blocking
/// or not (a non-blocking one handles `WouldBlock`, "nobody is waiting",
/// before it asks).
///
/// A client that left before we took it, or a signal ([`is_aborted`]):
/// accept again at once. Anything else — no descriptor left (`EMFILE`),
/// the system short of memory — leaves the client in the backlog, and
/// `accept` would fail again at once: pause, and say so on stderr once per
/// episode, not ten times a second. `told` remembers that: the caller sets
/// it back to `false` when an `accept` succeeds, ending the episode.
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

/// True when a read, a write or an `accept` on a non-blocking socket did
/// nothing but is no error: `WouldBlock`, not ready after all (`poll` will
/// say when), or `Interrupted`, a signal came (try again later).
pub fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
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

/// A UDP socket "connected" to a server, trying each address of its name in
/// turn: after `connect`, the system gives us only that peer's datagrams,
/// and tells us (`ECONNREFUSED`) when the peer's machine says nobody
/// listens there, so we can try the next address (`localhost` is both
/// `::1` and `127.0.0.1`).
#[derive(Debug)]
pub struct UdpClient {
    socket: UdpSocket,
    addrs: Vec<SocketAddr>,
    current: usize,
}

/// What became of one request sent by [`UdpClient::request`].
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// A datagram came back, of this many bytes (in the caller's buffer).
    Datagram(usize),
    /// Nothing came back in time: lost, or nobody answered.
    TimedOut,
    /// Every address refused: no server listens on that port.
    Refused,
}

impl UdpClient {
    /// Resolves `host` and connects to its first address, or prints one
    /// French line and exits 1.
    pub fn connect(host: &str, port: u16) -> UdpClient {
        // `resolve` gives at least one address, or exits.
        let addrs = resolve(host, port);
        let first = addrs[0];
        let socket = udp_socket_for(first).unwrap_or_else(|e| fail(udp_error(first, &e)));
        UdpClient {
            socket,
            addrs,
            current: 0,
        }
    }

    /// The server address in use now.
    pub fn peer(&self) -> SocketAddr {
        self.addrs[self.current]
    }

    /// Sends `datagram` to the current address, and waits for nothing. An
    /// error left by an earlier request (a refusal) is not this one's.
    pub fn send(&self, datagram: &[u8]) -> io::Result<()> {
        self.discard_late_replies(&mut [0u8; 1])?;
        self.socket.send(datagram).map(|_| ())
    }

    /// Sends `datagram` and waits up to `timeout` for the answer, written to
    /// `reply`. When the current address refuses, tries the next ones.
    pub fn request(
        &mut self,
        datagram: &[u8],
        reply: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Reply> {
        for _ in 0..self.addrs.len() {
            match self.try_once(datagram, reply, timeout) {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.switch_to((self.current + 1) % self.addrs.len())?;
                }
                other => return other,
            }
        }
        // Every address refused; we are back at the one we started from.
        Ok(Reply::Refused)
    }

    fn try_once(&self, datagram: &[u8], reply: &mut [u8], timeout: Duration) -> io::Result<Reply> {
        self.discard_late_replies(reply)?;
        self.socket.send(datagram)?;
        self.socket.set_read_timeout(Some(timeout))?;
        match self.socket.recv(reply) {
            Ok(n) => Ok(Reply::Datagram(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(Reply::TimedOut)
            }
            Err(e) => Err(e),
        }
    }

    /// Throws away the datagrams already waiting: answers to earlier
    /// requests that came after their time-out. Without this, a late answer
    /// would be taken for the answer to the next request.
    fn discard_late_replies(&self, scratch: &mut [u8]) -> io::Result<()> {
        self.socket.set_nonblocking(true)?;
        let drained = loop {
            match self.socket.recv(scratch) {
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                // An error left by an earlier send (ECONNREFUSED…) was about
                // that earlier datagram: this one gets its own chance.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                Err(e) => break Err(e),
            }
        };
        self.socket.set_nonblocking(false)?;
        drained
    }

    fn switch_to(&mut self, index: usize) -> io::Result<()> {
        if index != self.current {
            let addr = self.addrs[index];
            if addr.is_ipv4() != self.peer().is_ipv4() {
                self.socket = udp_socket_for(addr)?;
            } else {
                self.socket.connect(addr)?;
            }
            self.current = index;
        }
        Ok(())
    }
}

/// A UDP socket on any local address and port of `addr`'s family,
/// connected to `addr`.
fn udp_socket_for(addr: SocketAddr) -> io::Result<UdpSocket> {
    let any: IpAddr = if addr.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0))?;
    socket.connect(addr)?;
    Ok(socket)
}

fn udp_error(addr: SocketAddr, err: &io::Error) -> String {
    format!(
        "impossible de préparer l'envoi vers {addr} ({}) ; vérifiez l'adresse et le réseau",
        Why(err)
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
        let listener = bind_tcp("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = listener.local_addr().unwrap().port();
        // `localhost` may resolve to ::1 first, where nobody listens.
        let stream = try_connect("localhost", port).unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
    }

    #[test]
    fn a_late_answer_is_not_taken_for_the_next_one() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let mut client = UdpClient::connect("127.0.0.1", port);
        let mut reply = [0; 16];
        // Nobody answers "1" in time...
        let got = client.request(b"1", &mut reply, Duration::from_millis(50));
        assert_eq!(got.unwrap(), Reply::TimedOut);
        // ...then its answer comes late, before "2" is sent.
        let mut buf = [0; 16];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        server.send_to(b"late 1", from).unwrap();
        let answer = std::thread::spawn(move || {
            loop {
                let (n, from) = server.recv_from(&mut buf).unwrap();
                if &buf[..n] == b"2" {
                    server.send_to(b"answer 2", from).unwrap();
                    return;
                }
            }
        });
        assert_eq!(n, 1);
        // Wait until "late 1" is there, waiting on the client's socket.
        let mut fds = [crate::sys::PollFd::new(
            &client.socket,
            crate::sys::Events::IN,
        )];
        assert_eq!(
            crate::sys::poll_fds(&mut fds, Some(Duration::from_secs(5))).unwrap(),
            1
        );
        let got = client.request(b"2", &mut reply, Duration::from_secs(5));
        assert_eq!(got.unwrap(), Reply::Datagram(8));
        assert_eq!(&reply[..8], b"answer 2");
        answer.join().unwrap();
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

    #[test]
    fn udp_client_falls_back_and_reports_refusal() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let mut client = UdpClient::connect("localhost", port);
        let echo = std::thread::spawn(move || {
            let mut buf = [0; 16];
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n], from).unwrap();
        });
        let mut reply = [0; 16];
        let got = client
            .request(b"hi", &mut reply, Duration::from_secs(5))
            .unwrap();
        assert_eq!(got, Reply::Datagram(2));
        assert_eq!(&reply[..2], b"hi");
        echo.join().unwrap();

        // Nobody listens any more: refused (Linux) or timed out.
        let got = client
            .request(b"hi", &mut reply, Duration::from_millis(300))
            .unwrap();
        assert!(matches!(got, Reply::Refused | Reply::TimedOut), "{got:?}");
    }

    #[test]
    fn one_clients_trouble_is_retried_at_once_and_starts_no_episode() {
        // (A lasting failure, told once per episode, is tested end to end
        // with the servers: tests/echo.rs and tests/reactor.rs.)
        let mut told = false;
        for kind in [io::ErrorKind::ConnectionAborted, io::ErrorKind::Interrupted] {
            assert_eq!(accept_failed(&io::Error::from(kind), &mut told), Retry::Now);
        }
        assert!(!told);
        assert!(is_transient(&io::Error::from(io::ErrorKind::WouldBlock)));
        assert!(!is_transient(&io::Error::from(
            io::ErrorKind::ConnectionReset
        )));
    }

    #[test]
    fn out_of_descriptors_is_recognised() {
        assert!(is_out_of_descriptors(&io::Error::from_raw_os_error(24)));
        assert!(!is_out_of_descriptors(&io::Error::from_raw_os_error(111)));
    }
}
