//! The load generator: C clients doing ping-pong, all driven by one thread.
//!
//! Each client sends a message of S bytes, waits until all of it has come
//! back — checked byte for byte against what it sent — then sends the next.
//! One thread for every client keeps the generator's own CPU low (no thread
//! switch, one wait for many ready sockets): client and server share the
//! same cores, and the generator must never be what limits the rate. A
//! round trip still costs one `read` and one `write`, as in the server:
//! that is most of its price (see `docs/modeles.md`).
//!
//! - [`pingpong`]: the driver, a [`Session`] of C clients measured in
//!   short rounds;
//! - [`watch`]: how it waits for its sockets (`epoll` or `poll`);
//! - [`waiting`]: the "who is served when" run of the second picture;
//! - [`histogram`]: the latencies;
//! - below, what they share: opening the connections, one client's send and
//!   receive, the polite goodbye.

pub mod histogram;
pub mod pingpong;
pub mod waiting;
pub mod watch;

pub use histogram::Histogram;
pub use pingpong::{Plan, Session, Step};
pub use waiting::{Strip, waiting};

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use netlabs::Why;
use netlabs::sys::{Events, PollFd, poll_fds};

/// All the connections of a step must be open within this time, plus
/// `CONNECT_PER_CLIENT` for each.
pub const CONNECT_BUDGET: Duration = Duration::from_secs(3);
const CONNECT_PER_CLIENT: Duration = Duration::from_millis(5);

/// A server whose accept queue is full (the seed's `listen(1)`!) drops our
/// SYN, and the kernel would send it again only after a second: we give up
/// a connect after this long and try again at once instead.
const CONNECT_RETRY: Duration = Duration::from_millis(25);

/// How long the goodbyes at the end of a step may take.
const FAREWELL: Duration = Duration::from_millis(300);

/// One client's connection and where it is in its round trip.
pub(crate) struct Client {
    stream: TcpStream,
    /// The message in flight; its first 8 bytes count the round trips, so an
    /// old echo never passes for a new one.
    message: Vec<u8>,
    sent: usize,
    received: usize,
    sent_at: Instant,
    served: bool,
    open: bool,
}

impl Client {
    /// What its socket is watched for: room to write while the message is
    /// not all sent (rare: 64 bytes fit at once), and the echo.
    pub(crate) fn interest(&self) -> Events {
        if self.sent < self.message.len() {
            Events::IN | Events::OUT
        } else {
            Events::IN
        }
    }
}

/// Says goodbye politely: shuts our sending side (the server reads
/// end-of-file, as when a client closes), then reads what is still coming
/// until the server closes too, for `limit` at most. A socket closed with
/// unread data sends a reset instead, and a naive server dies of it
/// (Python's `recv` raises `ConnectionResetError`).
pub(crate) fn farewell(clients: &[Client], limit: Duration) {
    let open: Vec<&Client> = clients.iter().filter(|c| c.open).collect();
    let mut fds: Vec<PollFd> = open
        .iter()
        .map(|c| {
            let _ = c.stream.shutdown(Shutdown::Write);
            PollFd::new(&c.stream, Events::IN)
        })
        .collect();
    let deadline = Instant::now() + limit;
    let mut left = fds.len();
    let mut buf = [0u8; 4096];
    while left > 0 {
        let now = Instant::now();
        if now >= deadline || poll_fds(&mut fds, Some(deadline - now)).unwrap_or(0) == 0 {
            break;
        }
        for (fd, c) in fds.iter_mut().zip(&open) {
            if fd.fd() < 0 || fd.revents().is_empty() {
                continue;
            }
            if drained(&c.stream, &mut buf) {
                *fd = PollFd::from_raw(-1, Events::NONE);
                left -= 1;
            }
        }
    }
}

/// Reads and throws away what came; true once the peer has closed.
pub(crate) fn drained(stream: &TcpStream, buf: &mut [u8]) -> bool {
    match (&*stream).read(buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
        ),
    }
}

/// Opens up to `count` connections, non-blocking, within [`CONNECT_BUDGET`];
/// returns them, and why it stopped early if it did.
pub(crate) fn connect_all(
    addrs: &[SocketAddr],
    count: usize,
    size: usize,
) -> (Vec<Client>, Option<String>) {
    let deadline = Instant::now() + CONNECT_BUDGET + CONNECT_PER_CLIENT * count as u32;
    let mut clients = Vec::with_capacity(count);
    let mut addr = None;
    for i in 0..count {
        let (stream, a) = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let why = if clients.is_empty() {
                    "pas de réponse à la connexion (délai dépassé)".to_string()
                } else {
                    full_queue(clients.len())
                };
                return (clients, Some(why));
            }
            let attempt = match addr {
                Some(a) => TcpStream::connect_timeout(&a, left.min(CONNECT_RETRY)).map(|s| (s, a)),
                None => connect_first(addrs, left.min(CONNECT_BUDGET)),
            };
            match attempt {
                Ok(ok) => break ok,
                Err(e) if e.kind() == io::ErrorKind::TimedOut && addr.is_some() => continue,
                Err(e) => return (clients, Some(refusal(&e))),
            }
        };
        addr = Some(a);
        if stream.set_nodelay(true).is_err() || stream.set_nonblocking(true).is_err() {
            return (clients, Some("réglage de la socket impossible".into()));
        }
        let mut message: Vec<u8> = (0..size).map(|k| (i * 31 + k) as u8 | 0x20).collect();
        stamp(&mut message, 0);
        clients.push(Client {
            stream,
            message,
            sent: 0,
            received: 0,
            sent_at: Instant::now(),
            served: false,
            open: true,
        });
    }
    (clients, None)
}

/// Why connections stop being answered after `connected` of them: the
/// server no longer accepts, and its accept queue (the `listen` backlog)
/// is full. Rust's std listens with 128, as Python's `listen()` does by
/// default: a server that serves one client and queues 129 more holds 130.
fn full_queue(connected: usize) -> String {
    if (128..=132).contains(&connected) {
        "file d'attente de listen pleine (backlog de 128, le défaut de std et de Python)".into()
    } else {
        "file d'attente de listen pleine".into()
    }
}

/// The first address of `addrs` that accepts a connection.
fn connect_first(addrs: &[SocketAddr], limit: Duration) -> io::Result<(TcpStream, SocketAddr)> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "aucune adresse");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, limit) {
            Ok(s) => return Ok((s, *addr)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The French words for a failed connect.
fn refusal(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => format!("connexion refusée ({})", Why(e)),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            "pas de réponse à la connexion (délai dépassé)".into()
        }
        _ => format!("connexion impossible ({})", Why(e)),
    }
}

/// Writes the round-trip number into the message's first bytes.
fn stamp(message: &mut [u8], round: u64) {
    let bytes = round.to_le_bytes();
    let n = message.len().min(8);
    message[..n].copy_from_slice(&bytes[..n]);
}

/// Sends what is left of the message, until the socket's buffer is full
/// (then [`Client::interest`] asks for room, `OUT`).
pub(crate) fn send(client: &mut Client) -> io::Result<()> {
    while client.sent < client.message.len() {
        match (&client.stream).write(&client.message[client.sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => client.sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads what came back and checks it against what was sent; a whole echo
/// is one round trip: the next message goes at once, and its latency is
/// returned. Other bytes than those sent are `InvalidData`.
pub(crate) fn receive(client: &mut Client, buf: &mut [u8]) -> io::Result<Option<Duration>> {
    let n = match (&client.stream).read(buf) {
        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
        Err(e) => return Err(e),
    };
    let expected = client.message.get(client.received..client.received + n);
    if expected != Some(&buf[..n]) || client.received + n > client.sent {
        // More than was sent, or other bytes: not an echo.
        return Err(io::ErrorKind::InvalidData.into());
    }
    client.received += n;
    if client.received < client.message.len() {
        return Ok(None); // the echo comes in pieces: wait for the rest
    }
    let now = Instant::now();
    let latency = now - client.sent_at;
    let round = u64::from_le_bytes(first8(&client.message)).wrapping_add(1);
    stamp(&mut client.message, round);
    client.sent = 0;
    client.received = 0;
    client.sent_at = now;
    send(client)?;
    Ok(Some(latency))
}

fn first8(message: &[u8]) -> [u8; 8] {
    let mut bytes = [0u8; 8];
    let n = message.len().min(8);
    bytes[..n].copy_from_slice(&message[..n]);
    bytes
}

/// Counts a client that failed, and leaves it be.
pub(crate) fn close(client: &mut Client, open: &mut usize, errors: &mut u64) {
    if client.open {
        client.open = false;
        *open -= 1;
        *errors += 1;
    }
}
