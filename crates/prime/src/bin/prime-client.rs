//! `prime-client` — asks `prime-server` whether numbers are prime.
//!
//! Mirrors the client of Chapitre 2.2, 1.1: sends the course's list
//! `4j 4 5 -5 17 29 2**50 2**50-1` (or the numbers given as arguments), one
//! line per number, and prints the course's reading of each answer. By
//! default everything goes over ONE connection, which the course's server
//! (one connection, then it stops) needs; `--connection-per-number` opens a
//! new one per number, as the course's loop does (start the server with
//! `--forever` then).
//!
//! Try it:
//!
//! ```text
//! cargo run --bin prime-server &
//! cargo run --bin prime-client               # E F T F T T F F
//! prime-client 97 -- -1 1_000_003 abc        # your own numbers
//! prime-server --forever & prime-client --connection-per-number
//! ```

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use netlabs::{Args, Why, cli, fail, log, net, warn};
use prime::{COURSE_LIST, TCP_PORT, reading};

/// The course's `BUFFER_SIZE = 1024`: the most one `recv` takes.
const BUFFER_SIZE: usize = 1024;

/// How long to wait for an answer before saying there is none.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

const USAGE: &str = "\
prime-client — demande au serveur si des nombres sont premiers, par TCP (Chapitre 2.2, 1.1 client)

usage : prime-client [--host HÔTE] [--port N] [--connection-per-number] [NOMBRE…]
  --host HÔTE                serveur (défaut 127.0.0.1, comme le cours)
  --port N                   port TCP (défaut 8809)
  --connection-per-number    une connexion par nombre, comme la boucle du cours
                             (il faut alors prime-server --forever)
  -h, --help                 cette aide

Sans NOMBRE : la liste du cours, 4j 4 5 -5 17 29 2**50 2**50-1.
Un nombre négatif s'écrit tel quel : prime-client 7 -5";

/// What came back for one number.
enum Answer {
    /// A whole line, its `\n` included.
    Line(Vec<u8>),
    /// Not a line: bytes with no `\n` after them, or the start of a line
    /// far too long (a foreign server, see the aside at the end).
    Partial(Vec<u8>),
    /// The server closed the connection without answering.
    Closed,
    /// Nothing at all within [`REPLY_TIMEOUT`].
    Silent,
    /// The connection broke.
    Failed(io::Error),
}

fn main() {
    let mut args = Args::parse(USAGE);
    let host = args.host("127.0.0.1");
    let port = args.port(TCP_PORT);
    let per_number = args.flag("--connection-per-number");
    let mut numbers = args.rest();
    if numbers.is_empty() {
        numbers = COURSE_LIST.iter().map(|s| s.to_string()).collect();
    }
    if let Some(bad) = numbers.iter().find(|n| n.contains(['\n', '\r'])) {
        cli::usage_error(
            USAGE,
            &format!("un nombre ne peut pas contenir de fin de ligne : {bad:?}"),
        );
    }

    if per_number {
        // The course's loop: for chiffre in chiffres: s = socket(…); s.connect(…)
        for (i, number) in numbers.iter().enumerate() {
            let mut stream = connect(&host, port, i > 0);
            let mut pending = Vec::new();
            let answer = ask(&mut stream, &mut pending, number);
            show(answer);
            // s.close() when `stream` is dropped.
        }
    } else {
        // s.connect(params), once, for the whole list.
        let mut stream = connect(&host, port, false);
        let mut pending = Vec::new();
        for number in &numbers {
            match ask(&mut stream, &mut pending, number) {
                answer @ (Answer::Line(_) | Answer::Partial(_)) => show(answer),
                lost => {
                    show(lost);
                    // Answers can no longer be matched to questions.
                    fail!("le serveur ne répond plus sur cette connexion ; est-il arrêté ?");
                }
            }
        }
    }
}

/// Connects, or explains in French why not. When a previous connection
/// worked, the likely cause is the course's server, which stops after one.
fn connect(host: &str, port: u16, connected_before: bool) -> TcpStream {
    net::try_connect(host, port).unwrap_or_else(|message| {
        if connected_before {
            fail!("{message} (sans --forever, prime-server s'arrête après une connexion)")
        } else {
            fail!("{message}")
        }
    })
}

/// Sends one number as a line and reads the answer.
fn ask(stream: &mut TcpStream, pending: &mut Vec<u8>, number: &str) -> Answer {
    log!("Envoi d'un message {number}");
    // s.send(('%s\n' % chiffre).encode('utf8')) — the course's format
    // string lost its `%`; this is what it meant.
    if let Err(e) = stream.write_all(format!("{number}\n").as_bytes()) {
        return Answer::Failed(e);
    }
    read_answer(stream, pending)
}

/// The course's `data = s.recv(BUFFER_SIZE)`, made right for a stream: read
/// until a whole line is there, since one recv may bring part of it.
/// Bytes after the `\n` stay in `pending` for the next answer.
fn read_answer(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Answer {
    let mut buf = [0u8; BUFFER_SIZE];
    let mut foreign = Foreign::new();
    loop {
        if let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            return foreign.answer(line);
        }
        let Some(left) = foreign.wait_for_more(pending) else {
            return foreign.silence(pending);
        };
        if stream.set_read_timeout(Some(left)).is_err() {
            return foreign.silence(pending);
        }
        // data = s.recv(BUFFER_SIZE)
        match stream.read(&mut buf) {
            Ok(0) => {
                return match foreign.silence(pending) {
                    Answer::Silent => Answer::Closed,
                    partial => partial,
                };
            }
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return foreign.silence(pending);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Answer::Failed(e),
        }
    }
}

/// The course's `if len(data) == 0 … elif data == b'E\n' …` chain.
fn show(answer: Answer) {
    match answer {
        Answer::Line(data) | Answer::Partial(data) => log!("{}", reading(&data)),
        Answer::Closed | Answer::Silent => log!("{}", reading(b"")),
        Answer::Failed(e) => {
            log!("{}", reading(b""));
            warn!("(connexion perdue : {})", Why(&e));
        }
    }
}

// ---- An aside: a server that is not ours ---------------------------------
//
// Our server answers one letter and `\n`. Another one — the course's own,
// a student's — may send `T` alone, never followed by `\n`, or a line far
// too long. The client must neither wait for a line end that never comes
// nor lose step (take the rest of one answer for the next one): it shows
// what came, as the course does, "La donnée reçue n'est pas comprise".

/// Once the first bytes of an answer came, how long to wait for its `\n`.
/// A server that frames differently (the course's sends `T` alone, without
/// `\n`) never sends it: we then show what came instead of waiting on.
const LINE_END_WAIT: Duration = Duration::from_millis(300);

/// An answer is one letter and `\n`; more than this is not an answer: we
/// show its first bytes and skip the rest of its line, so that the next
/// answer is still read as the next answer.
const MAX_ANSWER: usize = 1024;

/// What `read_answer` remembers of one answer for a foreign server's sake.
struct Foreign {
    /// When to stop waiting: [`REPLY_TIMEOUT`], cut to [`LINE_END_WAIT`]
    /// once bytes came.
    deadline: Instant,
    bytes_came: bool,
    /// The first bytes of an answer too long to keep, while the rest of
    /// its line is read and dropped.
    too_long: Option<Vec<u8>>,
}

impl Foreign {
    fn new() -> Foreign {
        Foreign {
            deadline: Instant::now() + REPLY_TIMEOUT,
            bytes_came: false,
            too_long: None,
        }
    }

    /// The answer, now that its line end came: the line, or the start of a
    /// line too long.
    fn answer(self, line: Vec<u8>) -> Answer {
        match self.too_long {
            Some(start) => Answer::Partial(start),
            None => Answer::Line(line),
        }
    }

    /// Keeps at most [`MAX_ANSWER`] bytes of an answer, and says how long
    /// to wait for more (`None`: no longer).
    fn wait_for_more(&mut self, pending: &mut Vec<u8>) -> Option<Duration> {
        if self.too_long.is_some() {
            pending.clear(); // still inside the answer too long to keep
        } else if pending.len() > MAX_ANSWER {
            self.too_long = Some(std::mem::take(pending));
        }
        if !pending.is_empty() && !self.bytes_came {
            self.bytes_came = true;
            self.deadline = self.deadline.min(Instant::now() + LINE_END_WAIT);
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// No more bytes are coming: what came so far, if anything.
    fn silence(self, pending: &mut Vec<u8>) -> Answer {
        match self.too_long {
            Some(start) => {
                pending.clear(); // the unfinished rest of that answer
                Answer::Partial(start)
            }
            None if pending.is_empty() => Answer::Silent,
            None => Answer::Partial(std::mem::take(pending)),
        }
    }
}
