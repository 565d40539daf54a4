//! Talking to the server under test, with every wait bounded.
//!
//! A check never calls a blocking `read` without a deadline: each read is
//! given what is left of an absolute deadline, so a server that trickles
//! one byte a second cannot stretch a wait either. Reads are bounded in
//! bytes too ([`MAX_READ`]), so a server that floods cannot fill memory.
//! What came back is a [`Got`]: the bytes, and how the reading ended
//! (complete, connection closed, time-out, reset), shown the way Python
//! shows bytes (`b'T\n'`), since the course is in Python.

use std::cell::Cell;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::rc::Rc;
use std::time::{Duration, Instant};

use netlabs::Why;
use netlabs::sys::{Events, PollFd, poll_fds};

/// How long a connection may take to be set up. On loopback a listening
/// server answers in microseconds, even when it is busy: the kernel, not
/// the program, completes the handshake.
pub const CONNECT_WAIT: Duration = Duration::from_secs(2);

/// How long a small answer may take. A local server answers in
/// milliseconds; two seconds leave room for a busy machine and a slow
/// interpreter.
pub const ANSWER_WAIT: Duration = Duration::from_secs(2);

/// Once part of an answer has come, how long the rest may take: a server
/// sends an answer in one go, so a line left without its end is known as
/// such within a second, not after the whole [`ANSWER_WAIT`].
pub const REST_WAIT: Duration = Duration::from_secs(1);

/// How long a write may block (the server stopped reading).
pub const WRITE_WAIT: Duration = Duration::from_secs(3);

/// The most bytes kept from one reading: far above any expected answer
/// (1 MiB echo included), so a server that floods is cut off, not stored.
pub const MAX_READ: usize = 2 << 20;

/// Set by a connection (or a UDP socket) at the first byte the server sends
/// it; shared by every connection to one server, so that a first check that
/// fails before any byte came is known as a server that answers nothing.
pub type Heard = Rc<Cell<bool>>;

/// How a reading ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// What was waited for came.
    Complete,
    /// The server closed the connection (`recv` returned `b''`).
    Closed,
    /// Nothing more came before the deadline.
    TimedOut(Duration),
    /// The server reset the connection (it died, or closed with unread data).
    Reset,
    /// More than [`MAX_READ`] bytes came.
    TooMuch,
    /// Any other error, in the system's words.
    Error(String),
}

/// What came back from the server, and how the reading ended.
#[derive(Debug, Clone)]
pub struct Got {
    pub bytes: Vec<u8>,
    pub end: End,
}

impl Got {
    pub fn complete(&self) -> bool {
        self.end == End::Complete
    }

    /// How the reading ended, in a few words, for a sentence.
    pub fn end_words(&self) -> String {
        self.end.words()
    }
}

impl End {
    /// How a reading ended, in a few words, for a sentence.
    pub fn words(&self) -> String {
        match self {
            End::Complete => "réponse complète".into(),
            End::Closed => "connexion fermée".into(),
            End::Reset => "connexion réinitialisée".into(),
            End::TimedOut(wait) => format!("rien en {}", seconds(*wait)),
            End::TooMuch => format!("plus de {}", size(MAX_READ)),
            End::Error(why) => why.clone(),
        }
    }
}

impl fmt::Display for Got {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = match &self.end {
            End::Complete => String::new(),
            End::Closed => "connexion fermée par le serveur".into(),
            End::TimedOut(wait) => format!("plus rien en {}", seconds(*wait)),
            End::Reset => "connexion réinitialisée (RST) par le serveur".into(),
            End::TooMuch => format!("plus de {} : lecture arrêtée", size(MAX_READ)),
            End::Error(why) => format!("erreur de lecture ({why})"),
        };
        if let (true, End::TimedOut(wait)) = (self.bytes.is_empty(), &self.end) {
            return write!(f, "rien en {}", seconds(*wait));
        }
        match (self.bytes.is_empty(), tail.is_empty()) {
            (true, true) => f.write_str("aucun octet"),
            (true, false) => write!(f, "rien, {tail}"),
            (false, true) => f.write_str(&show(&self.bytes)),
            (false, false) => write!(f, "{} puis {tail}", show(&self.bytes)),
        }
    }
}

/// One TCP connection to the server under test. Bytes read beyond what a
/// caller asked for stay in `pending` for the next read.
pub struct Conn {
    pub stream: TcpStream,
    pending: Vec<u8>,
    heard: Heard,
    /// The least time the first byte of an answer is given: a server known
    /// to answer late (see `Target::patience`) gets this long every time.
    pub patience: Duration,
    /// The server's language, when known, for advice in its words.
    pub lang: crate::advice::Lang,
}

/// Connects to `addr` within [`CONNECT_WAIT`].
pub fn connect(addr: SocketAddr, heard: &Heard) -> io::Result<Conn> {
    let stream = TcpStream::connect_timeout(&addr, CONNECT_WAIT)?;
    // Small messages go out at once, each in its own segment when we
    // pause between them (needed to split a line over two writes).
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(WRITE_WAIT))?;
    Ok(Conn {
        stream,
        pending: Vec::new(),
        heard: Rc::clone(heard),
        patience: Duration::ZERO,
        lang: crate::advice::Lang::Unknown,
    })
}

impl Conn {
    /// `sendall`, bounded by [`WRITE_WAIT`].
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads until `done(bytes so far)` says the answer is whole, the
    /// server closes, or `wait` has passed. Returns the bytes up to
    /// `done`'s cut (the rest is kept for the next read).
    pub fn read_until(&mut self, wait: Duration, done: impl Fn(&[u8]) -> Option<usize>) -> Got {
        let wait = wait.max(self.patience);
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 64 * 1024];
        loop {
            if let Some(cut) = done(&self.pending) {
                let rest = self.pending.split_off(cut);
                let bytes = std::mem::replace(&mut self.pending, rest);
                return Got {
                    bytes,
                    end: End::Complete,
                };
            }
            if self.pending.len() > MAX_READ {
                return self.take(End::TooMuch);
            }
            // Nothing yet: wait up to the deadline. Part of an answer: its
            // rest comes within REST_WAIT, or not at all.
            let mut left = deadline.saturating_duration_since(Instant::now());
            let mut waited = wait;
            if !self.pending.is_empty() {
                left = left.min(REST_WAIT);
                waited = waited.min(REST_WAIT);
            }
            if left.is_zero() {
                return self.take(End::TimedOut(waited));
            }
            match self.read_some(&mut buf, left) {
                Ok(0) => return self.take(End::Closed),
                Ok(n) => {
                    self.heard.set(true);
                    self.pending.extend_from_slice(&buf[..n]);
                }
                Err(e) if is_timeout(&e) => return self.take(End::TimedOut(waited)),
                Err(e) if is_reset(&e) => return self.take(End::Reset),
                Err(e) => return self.take(End::Error(Why(&e).to_string())),
            }
        }
    }

    /// Everything read so far, and how the reading ended.
    fn take(&mut self, end: End) -> Got {
        Got {
            bytes: std::mem::take(&mut self.pending),
            end,
        }
    }

    fn read_some(&mut self, buf: &mut [u8], left: Duration) -> io::Result<usize> {
        // set_read_timeout refuses zero; a few microseconds left is 1 ms.
        self.stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        loop {
            match self.stream.read(buf) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// The next line, `\n` included.
    pub fn line(&mut self, wait: Duration) -> Got {
        self.read_until(wait, |b| b.iter().position(|&c| c == b'\n').map(|i| i + 1))
    }

    /// Exactly `n` bytes.
    pub fn exactly(&mut self, n: usize, wait: Duration) -> Got {
        self.read_until(wait, |b| (b.len() >= n).then_some(n))
    }

    /// Everything until the server closes (or `wait` passes).
    pub fn until_closed(&mut self, wait: Duration) -> Got {
        self.read_until(wait, |_| None)
    }

    /// Whatever else comes within `wait` (to see what follows an answer).
    pub fn extra(&mut self, wait: Duration) -> Vec<u8> {
        self.until_closed(wait).bytes
    }

    /// True when bytes are waiting to be read, within `wait` (without
    /// reading them).
    pub fn readable_within(&self, wait: Duration) -> bool {
        let mut fds = [PollFd::new(&self.stream, Events::IN)];
        matches!(poll_fds(&mut fds, Some(wait)), Ok(1))
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
    )
}

/// What a failed write means, in French.
pub fn write_error(e: &io::Error) -> String {
    if is_timeout(e) {
        format!(
            "envoi bloqué plus de {} : le serveur ne lit plus",
            seconds(WRITE_WAIT)
        )
    } else if is_reset(e) {
        "envoi impossible, connexion fermée ou réinitialisée par le serveur".into()
    } else {
        format!("envoi impossible ({})", Why(e))
    }
}

/// A UDP socket of our own, not connected, so that we see from which
/// address each answer comes.
pub struct Udp {
    pub socket: UdpSocket,
    pub server: SocketAddr,
    heard: Heard,
}

/// One datagram that came back, and from where.
pub enum Datagram {
    From(Vec<u8>, SocketAddr),
    Nothing(Duration),
    /// The system was told that no socket is bound there (ICMP port
    /// unreachable, seen by a connected socket as `ECONNREFUSED`).
    Refused,
    /// An answer that came only after the usual wait (the first question).
    Late(Vec<u8>, SocketAddr, Duration),
    Error(String),
}

impl fmt::Display for Datagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datagram::From(bytes, from) => write!(f, "{} depuis {from}", show(bytes)),
            Datagram::Nothing(wait) => write!(f, "rien en {}", seconds(*wait)),
            Datagram::Late(bytes, from, took) => {
                write!(f, "{} depuis {from}, après {}", show(bytes), seconds(*took))
            }
            Datagram::Refused => {
                f.write_str("port fermé (ICMP port injoignable) : plus aucun programme n'y reçoit")
            }
            Datagram::Error(why) => write!(f, "erreur ({why})"),
        }
    }
}

impl Udp {
    pub fn open(server: SocketAddr, heard: &Heard) -> io::Result<Udp> {
        let any: SocketAddr = if server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        Ok(Udp {
            socket: UdpSocket::bind(any)?,
            server,
            heard: Rc::clone(heard),
        })
    }

    /// A socket connected to the server: it only hears the server's own
    /// port, and it learns when nothing is bound there any more (the ICMP
    /// "port unreachable" comes back as `ECONNREFUSED`).
    pub fn connected(server: SocketAddr, heard: &Heard) -> io::Result<Udp> {
        let udp = Udp::open(server, heard)?;
        udp.socket.connect(server)?;
        Ok(udp)
    }

    /// Sends `datagram` to the server and returns the first datagram that
    /// comes back within `wait`, whoever sent it.
    pub fn ask(&self, datagram: &[u8], wait: Duration) -> Datagram {
        self.discard_waiting();
        // A connected socket sends with send (send_to is refused there).
        let sent = match self.socket.peer_addr() {
            Ok(_) => self.socket.send(datagram),
            Err(_) => self.socket.send_to(datagram, self.server),
        };
        match sent {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return Datagram::Refused,
            Err(e) => return Datagram::Error(Why(&e).to_string()),
        }
        self.next(wait)
    }

    /// The next datagram within `wait`.
    pub fn next(&self, wait: Duration) -> Datagram {
        let mut buf = vec![0u8; 65536];
        let _ = self.socket.set_read_timeout(Some(wait));
        match self.socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                self.heard.set(true);
                buf.truncate(n);
                Datagram::From(buf, netlabs::net::canonical(from))
            }
            Err(e) if is_timeout(&e) => Datagram::Nothing(wait),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => Datagram::Refused,
            Err(e) => Datagram::Error(Why(&e).to_string()),
        }
    }

    /// Throws away datagrams already waiting (late answers), a bounded
    /// number of them: a flooding server cannot keep us here.
    fn discard_waiting(&self) {
        let mut buf = [0u8; 2048];
        if self.socket.set_nonblocking(true).is_ok() {
            for _ in 0..1000 {
                if self.socket.recv_from(&mut buf).is_err() {
                    break;
                }
            }
            let _ = self.socket.set_nonblocking(false);
        }
    }
}

/// Bytes as Python shows them (`b'T\n'`, `b'\xff\xfe'`), cut after a
/// few dozen bytes with the total size.
pub fn show(bytes: &[u8]) -> String {
    const SHOWN: usize = 48;
    // Like Python: double quotes when there is a ' and no ".
    let shown = &bytes[..bytes.len().min(SHOWN)];
    let quote = if shown.contains(&b'\'') && !shown.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = format!("b{}", quote as char);
    for &b in shown {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            q if q == quote => {
                out.push('\\');
                out.push(q as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote as char);
    if bytes.len() > SHOWN {
        out.push_str(&format!("… ({} en tout)", size(bytes.len())));
    }
    out
}

/// `1 octet`, `2 octets`, `884 248 octets`, `1 Mio (1 048 576 octets)`.
pub fn size(n: usize) -> String {
    let bytes = match n {
        0 => return "aucun octet".into(),
        1 => "1 octet".to_string(),
        _ => format!("{} octets", group(n)),
    };
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} Mio ({bytes})", n >> 20)
    } else {
        bytes
    }
}

/// `1048576` → `1 048 576`, as French writes numbers.
pub fn group(n: usize) -> String {
    netlabs::thousands(n as u64)
}

/// `2 s`, `2,5 s`, `12 ms`: the workspace's one way to say a duration.
pub use netlabs::french::seconds;

/// A token no earlier run could have left behind (pid and clock), so that
/// no check passes on an answer meant for someone else.
pub fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", std::process::id(), nanos % (1 << 40))
}

/// Varied bytes from a seed (xorshift): a lost, changed or reordered byte
/// shows.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A seed that differs from run to run.
pub fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    nanos ^ ((std::process::id() as u64) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_as_python_does() {
        assert_eq!(show(b"T\n"), "b'T\\n'");
        assert_eq!(show(b"\xff\xfe\\"), "b'\\xff\\xfe\\\\'");
        assert_eq!(show(b"don't"), "b\"don't\"");
        assert_eq!(show(b"'\""), "b'\\'\"'");
        assert!(show(&[b'a'; 100]).ends_with("… (100 octets en tout)"));
    }

    #[test]
    fn sizes_and_numbers_read_in_french() {
        assert_eq!(size(0), "aucun octet");
        assert_eq!(size(1), "1 octet");
        assert_eq!(size(884_248), "884 248 octets");
        assert_eq!(size(1 << 20), "1 Mio (1 048 576 octets)");
        assert_eq!(group(100), "100");
        assert_eq!(seconds(Duration::from_millis(2500)), "2,5 s");
        assert_eq!(seconds(Duration::from_secs(2)), "2 s");
    }

    #[test]
    fn what_came_back_reads_as_a_sentence() {
        let got = Got {
            bytes: b"T".to_vec(),
            end: End::TimedOut(Duration::from_secs(2)),
        };
        assert_eq!(got.to_string(), "b'T' puis plus rien en 2 s");
        let got = Got {
            bytes: vec![],
            end: End::Closed,
        };
        assert_eq!(got.to_string(), "rien, connexion fermée par le serveur");
    }
}
