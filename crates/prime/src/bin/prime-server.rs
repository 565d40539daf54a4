//! `prime-server` — tells whether each number it receives is prime, over TCP.
//!
//! Mirrors Chapitre 2.2, 1.1 « Utilisation d'une socket TCP »: bind, listen,
//! accept ONE connection, then for each message answer `T` (prime), `F`
//! (not prime) or `E` (not an integer) until the client closes; then the
//! server stops, as the course's does. `--forever` adds the loop around
//! `accept` that the course describes but does not write.
//!
//! Unlike the course, a message is a line (`\n` or `\r\n`) and the answer
//! ends with `\n` too: TCP is a stream of bytes, so one `recv` may hold two
//! numbers or half of one, and only a delimiter tells where a message ends.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin prime-server --forever   # en écoute sur 127.0.0.1:8809
//! nc 127.0.0.1 8809                        # type 17 ⏎ → T, 4 ⏎ → F, 4j ⏎ → E
//! printf '4\n5\n17' | nc -N 127.0.0.1 8809 # three numbers in one write
//! ss -tnp | grep 8809                      # the established connection
//! strace -f -e trace=network target/debug/prime-server
//! ```

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

use netlabs::lines::{Line, LineBuffer};
use netlabs::{Args, Why, log, net};
use prime::{BIND, MAX_LINE, Shown, TCP_PORT, judge, judge_too_long};

/// The course's `BUFFER_SIZE = 1024`: the most one `recv` takes at once.
/// Any size works, since lines are reassembled across reads.
const BUFFER_SIZE: usize = 1024;

const USAGE: &str = "\
prime-server — dit si un nombre est premier, par TCP (Chapitre 2.2, 1.1 socket TCP)

usage : prime-server [--bind ADDR] [--port N] [--forever]
  --bind ADDR   adresse d'écoute (défaut 127.0.0.1, comme le cours)
  --port N      port TCP (défaut 8809 ; 0 = un port libre choisi par le système)
  --forever     boucle autour de accept : servir un client après l'autre
                (sans elle, le serveur s'arrête après la première connexion)
  -h, --help    cette aide

Protocole : une ligne par nombre ; réponse T (premier), F (pas premier), E (pas un entier).
Essayez : nc 127.0.0.1 8809";

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(TCP_PORT);
    let forever = args.flag("--forever");
    args.finish();

    // s = socket(AF_INET, SOCK_STREAM); s.bind(params); s.listen(1)
    let listener = net::listen(bind, port);

    loop {
        // conn, addr = s.accept()
        let (mut stream, peer) = net::accept(&listener);
        log!("Connexion acceptée: {peer}");

        let outcome = answer_until_closed(&mut stream);
        log!("{}", farewell(peer, &outcome));

        if !forever {
            // The course has no loop around accept: one client, then stop.
            log!("Fin du serveur : une seule connexion sans --forever");
            break;
        }
    }
}

/// The course's `while True: data = conn.recv(BUFFER_SIZE)` loop, with the
/// messages cut at line ends: answers every line until the client closes.
fn answer_until_closed(stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = [0u8; BUFFER_SIZE];
    let mut lines = LineBuffer::new(MAX_LINE);
    let mut replies = Vec::new();
    loop {
        // data = conn.recv(BUFFER_SIZE)
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n > 0 {
            log!("Donnée reçue: {}", Shown(&buf[..n]));
            lines.push(&buf[..n]);
        } else {
            // if not data: break — the client closed its side. A last
            // number without its `\n` (printf 17 | nc -N) still counts.
            lines.finish();
        }

        // One read may hold several lines, or part of one: answer each
        // whole line, keep the rest for the next read.
        while let Some(line) = lines.next_line() {
            let verdict = match line {
                Line::Complete(message) => judge(message),
                Line::TooLong => judge_too_long(),
            };
            log!("{}", verdict.phrase);
            replies.extend_from_slice(verdict.reply);
        }

        // conn.send(response) — all the answers of this read in one write:
        // fewer system calls, and no small packets held back by Nagle.
        stream.write_all(&replies)?;
        replies.clear();
        if n == 0 {
            return Ok(());
        }
    }
}

/// The log line for a client that has gone, with what became of it.
fn farewell(peer: SocketAddr, outcome: &io::Result<()>) -> String {
    match outcome {
        Ok(()) => format!("Connexion fermée par {peer}"),
        Err(e) => format!("Connexion perdue avec {peer} : {}", Why(e)),
    }
}
