//! `kv-client` — talks to `kv-server`: one command from the arguments, or
//! one per line from the standard input, and prints every answer.
//!
//! Two threads, so that sending and receiving never wait for each other:
//! this one sends the commands, another prints the answers as they come.
//! Many commands can be in flight at once (a file of ten thousand `SET`s
//! goes in one stream, without a round trip per line); the server answers
//! in order, one line per command. So the client is done when it has as
//! many answer lines as it sent commands — or when the server closes,
//! whichever comes first: a server that keeps the connection open after
//! the last answer does not keep us waiting.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin kv-server &
//! kv-client SET ville Lyon                 # OK
//! kv-client GET ville                      # VALUE Lyon
//! printf 'SET a 1\nKEYS\n' | kv-client     # OK, KEYS a ville
//! kv-client < data.kv                      # replay a save file
//! ```

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use kv::PORT;
use netlabs::{Args, Why, fail, net};

const USAGE: &str = "\
kv-client — client du serveur clé-valeur (Chapitre 2.2, le « mini serveur de données clé-valeur » annoncé)

usage : kv-client [--host HÔTE] [--port N] [COMMANDE…]
  --host HÔTE   serveur (défaut 127.0.0.1)
  --port N      port TCP (défaut 8807)
  -h, --help    cette aide

Avec des arguments, ils forment une commande : kv-client SET ville Lyon
Sans argument, chaque ligne de l'entrée est une commande : SET clé valeur | GET clé | DEL clé | KEYS";

/// How much of the answers one `recv` may take: a `KEYS` of a big store
/// comes in a few reads.
const READ_SIZE: usize = 16 * 1024;

fn main() {
    let mut args = Args::parse(USAGE);
    let host = args.host("127.0.0.1");
    let port = args.port(PORT);
    let words = args.rest();

    // s = socket(…); s.connect((host, port))
    let stream = net::connect(&host, port);
    let reader = stream
        .try_clone()
        .unwrap_or_else(|e| fail!("socket inutilisable ({})", Why(&e)));

    // The answers, printed by a second thread as they arrive.
    let count = Arc::new(Count::new());
    let printer = {
        let count = Arc::clone(&count);
        thread::spawn(move || print_answers(reader, &count))
    };

    let sent = if words.is_empty() {
        send_lines(&stream, io::stdin().lock())
    } else {
        let command = format!("{}\n", words.join(" "));
        (&stream).write_all(command.as_bytes()).map(|_| 1)
    };
    if let Ok(commands) = sent {
        // Every answer already there: wake the printer, which may be
        // waiting in `read` for bytes that will never come.
        if count.all_sent(commands) {
            let _ = stream.shutdown(Shutdown::Read);
        }
    }
    // No more commands: tell the server (it answers what it has, then
    // closes, which ends the printer too).
    let _ = stream.shutdown(Shutdown::Write);

    let printed = printer.join().unwrap_or(Ok(()));
    if let Err(e) = sent.and(printed) {
        fail!("connexion perdue avec le serveur ({})", Why(&e));
    }
}

/// Commands sent and answers received, shared by the two threads. Each
/// side updates its own number, then reads the other's: whichever comes
/// second sees that every answer is in.
struct Count {
    /// How many commands were sent, once all are (`u64::MAX` until then).
    sent: AtomicU64,
    /// How many answer lines came.
    answered: AtomicU64,
}

impl Count {
    fn new() -> Count {
        Count {
            sent: AtomicU64::new(u64::MAX),
            answered: AtomicU64::new(0),
        }
    }

    /// The sender is done, after `commands` commands: true if every answer
    /// is already there.
    fn all_sent(&self, commands: u64) -> bool {
        self.sent.store(commands, Ordering::SeqCst);
        self.answered.load(Ordering::SeqCst) >= commands
    }

    /// `lines` more answers came: true if they were the last ones.
    fn answers(&self, lines: u64) -> bool {
        let answered = self.answered.fetch_add(lines, Ordering::SeqCst) + lines;
        answered >= self.sent.load(Ordering::SeqCst)
    }
}

/// Sends each input line as one command, `\n` added if the last one has
/// none; returns how many were sent.
fn send_lines(mut stream: &TcpStream, mut input: impl BufRead) -> io::Result<u64> {
    let mut line = Vec::new();
    let mut sent = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(sent);
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        stream.write_all(&line)?;
        sent += 1;
    }
}

/// Copies the server's answers to stdout until the last one, or until the
/// server closes.
fn print_answers(mut stream: TcpStream, count: &Count) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut buf = [0u8; READ_SIZE];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
            return Ok(()); // nobody reads our output any more
        }
        let lines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        if count.answers(lines) {
            return Ok(());
        }
    }
}
