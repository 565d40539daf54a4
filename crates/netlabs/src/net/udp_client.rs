//! A UDP client that tries every address of a server's name: a datagram
//! socket "connected" to one address at a time, answers matched to their
//! request, refusals told apart from losses.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use super::resolve;
use crate::Why;
use crate::error::fail;

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
}
