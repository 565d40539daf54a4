//! `echo-client` — sends what you type to an echo server and prints the
//! echo.
//!
//! Mirrors TP5b, 1.3 « Client Echo »: read a line from stdin, send it,
//! print what comes back; an empty line (just Enter) or the end of input
//! (Ctrl-D) ends the session.
//!
//! TCP is a stream: the echo of one line may come back in several pieces,
//! so we read until we have as many bytes as we sent. And a server cannot
//! echo what it cannot send: if we wrote a 5 MiB line before reading, the
//! server would wait for us to read and we would wait for it to read — a
//! deadlock. So a second thread reads the echo while the main thread sends.
//!
//! At the end, we wait for every echo before we close anything. Closing
//! our sending side as soon as stdin ends (`shutdown(SHUT_WR)`) looks
//! polite, but many servers — Twisted's plain echo among them — close the
//! connection as soon as they see that end, and drop what they had not
//! sent yet. Only a last line without a newline is special: a server that
//! echoes whole lines waits for its end, or for ours; so if its echo does
//! not come within a moment, we close our side after all.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin echo-server &
//! cargo run --bin echo-client           # type: hého ⏎  → hého
//! printf 'un\ndeux\n' | echo-client --host 127.0.0.1
//! ```

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use echo::PORT;
use netlabs::{Args, Why, fail, net};

const USAGE: &str = "\
echo-client — client echo TCP : envoie chaque ligne lue, affiche l'écho (TP5b, 1.3 Client Echo)

usage : echo-client [--host HÔTE] [--port N]
  --host HÔTE   serveur (défaut localhost : ::1 et 127.0.0.1, essayées l'une après l'autre)
  --port N      port TCP (défaut 7777)
  -h, --help    cette aide

Une ligne vide ou la fin de l'entrée (Ctrl-D) termine.";

/// How long we wait for the echo of a last line without a newline before
/// closing our sending side: a server that echoes whole lines needs that
/// end to send it.
const LAST_LINE_WAIT: Duration = Duration::from_secs(1);

/// How much of an echo one `recv` may take: a long line comes back in
/// fewer system calls than with the TP's 1500 bytes.
const READ_SIZE: usize = 64 * 1024;

/// One line sent: its length, and whether it ends with a newline.
struct Sent {
    len: usize,
    whole: bool,
}

fn main() {
    let mut args = Args::parse(USAGE);
    let host = args.host("localhost");
    let port = args.port(PORT);
    args.finish();

    // s = socket(...); s.connect((host, port)) — each address in turn.
    let stream = net::connect(&host, port);
    let reader = stream
        .try_clone()
        .unwrap_or_else(|e| fail!("socket inutilisable ({})", Why(&e)));

    // The main thread tells the printer how many bytes each line makes.
    let (lengths, lengths_rx) = mpsc::channel::<Sent>();
    let printer = thread::spawn(move || print_echoes(reader, lengths_rx));

    let sent = send_lines(&stream, lengths);
    // Every echo back before we close: the printer ends after the last.
    if printer.join().is_err() {
        fail!("le fil d'affichage s'est arrêté");
    }
    if let Err(message) = sent {
        fail!("{message}");
    }
    // s.close(), on leaving main.
}

/// Sends each line of stdin (with its newline) until an empty line or the
/// end of input; reports each line's length to the printer.
fn send_lines(mut stream: &TcpStream, lengths: mpsc::Sender<Sent>) -> Result<(), String> {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        // line = sys.stdin.readline() — bytes, so any input goes through.
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()), // end of input
            Ok(_) => {}
            Err(e) => {
                return Err(format!("lecture de l'entrée impossible ({})", Why(&e)));
            }
        }
        if line == b"\n" || line == b"\r\n" {
            return Ok(()); // the empty line: "\n"
        }
        // s.sendall(line.encode("utf-8"))
        if let Err(e) = stream.write_all(&line) {
            return Err(format!(
                "envoi impossible ({}) ; le serveur a-t-il fermé la connexion ?",
                Why(&e)
            ));
        }
        let whole = line.ends_with(b"\n");
        if lengths
            .send(Sent {
                len: line.len(),
                whole,
            })
            .is_err()
        {
            return Ok(()); // the printer stopped: it says why
        }
    }
}

/// Reads back exactly as many bytes as each line had, and prints them.
/// A failure is said at once, for the line it concerns, and ends the
/// program: the main thread may be waiting for the next line typed.
fn print_echoes(stream: TcpStream, lengths: mpsc::Receiver<Sent>) {
    let mut stdout = io::stdout().lock();
    let mut echo = Vec::new();
    for sent in lengths {
        echo.clear();
        // data = s.recv(…) until all of it is back, or the server closes.
        let received = read_echo(&stream, &sent, &mut echo);
        // print(data.decode("utf-8")) — the bytes as they came, even an
        // incomplete echo: what the server did send is worth seeing.
        if stdout
            .write_all(&echo)
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return; // nobody reads our output any more
        }
        if let Err(e) = received {
            fail!("réception impossible ({})", Why(&e));
        }
        if echo.len() < sent.len {
            fail!(
                "le serveur a fermé la connexion avant de tout renvoyer ({} sur {})",
                netlabs::octets(echo.len() as u64),
                sent.len
            );
        }
    }
}

/// Reads the echo of one line into `echo`, until all of it is back or the
/// server closes. For a last line without a newline, closes our sending
/// side if its echo is late (see the top of this file).
fn read_echo(mut stream: &TcpStream, sent: &Sent, echo: &mut Vec<u8>) -> io::Result<()> {
    let patience = if sent.whole {
        None
    } else {
        Some(LAST_LINE_WAIT)
    };
    stream.set_read_timeout(patience)?;
    let mut buf = [0u8; READ_SIZE];
    while echo.len() < sent.len {
        let want = (sent.len - echo.len()).min(buf.len());
        match stream.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => echo.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                stream.shutdown(Shutdown::Write)?;
                stream.set_read_timeout(None)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
