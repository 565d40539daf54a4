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
//! Try it:
//!
//! ```text
//! cargo run --bin echo-server &
//! cargo run --bin echo-client           # type: hého ⏎  → hého
//! printf 'un\ndeux\n' | echo-client --host 127.0.0.1
//! ```

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::thread;

use echo::PORT;
use netlabs::Args;
use netlabs::net;

const USAGE: &str = "\
echo-client — client echo TCP : envoie chaque ligne lue, affiche l'écho (TP5b, 1.3 Client Echo)

usage : echo-client [--host HÔTE] [--port N]
  --host HÔTE   serveur (défaut localhost : ::1 et 127.0.0.1, essayées l'une après l'autre)
  --port N      port TCP (défaut 7777)
  -h, --help    cette aide

Une ligne vide ou la fin de l'entrée (Ctrl-D) termine.";

fn main() {
    let mut args = Args::parse(USAGE);
    let host = args.host("localhost");
    let port = args.port(PORT);
    args.finish();

    // s = socket(...); s.connect((host, port)) — each address in turn.
    let stream = net::connect(&host, port);
    let reader = stream.try_clone().unwrap_or_else(|e| {
        netlabs::fail(format!(
            "socket inutilisable ({})",
            netlabs::error::reason(&e)
        ))
    });

    // The main thread tells the printer how many bytes each line makes.
    let (lengths, lengths_rx) = mpsc::channel::<usize>();
    let printer = thread::spawn(move || print_echoes(reader, lengths_rx));

    let sent = send_lines(&stream, lengths);
    // Tell the server we are done (it sees recv() return 0)…
    let _ = stream.shutdown(Shutdown::Write);
    // …and wait for the last echoes.
    let printed = printer
        .join()
        .unwrap_or_else(|_| Err("le fil d'affichage s'est arrêté".into()));

    // The printer's error explains a failed send (the server left), so it
    // comes first.
    if let Err(message) = printed.and(sent) {
        netlabs::fail(message);
    }
}

/// Sends each line of stdin (with its newline) until an empty line or the
/// end of input; reports each line's length to the printer.
fn send_lines(mut stream: &TcpStream, lengths: mpsc::Sender<usize>) -> Result<(), String> {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        // line = sys.stdin.readline() — bytes, so any input goes through.
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()), // end of input
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "lecture de l'entrée impossible ({})",
                    netlabs::error::reason(&e)
                ));
            }
        }
        if line == b"\n" || line == b"\r\n" {
            return Ok(()); // the empty line: "\n"
        }
        // s.sendall(line.encode("utf-8"))
        if let Err(e) = stream.write_all(&line) {
            return Err(format!(
                "envoi impossible ({}) ; le serveur a-t-il fermé la connexion ?",
                netlabs::error::reason(&e)
            ));
        }
        if lengths.send(line.len()).is_err() {
            return Ok(()); // the printer stopped: it says why
        }
    }
}

/// Reads back exactly as many bytes as each line had, and prints them.
fn print_echoes(stream: TcpStream, lengths: mpsc::Receiver<usize>) -> Result<(), String> {
    let mut stdout = io::stdout().lock();
    let mut echo = Vec::new();
    for len in lengths {
        echo.clear();
        // data = s.recv(…) until all of it is back, or the server closes.
        let received = (&stream).take(len as u64).read_to_end(&mut echo);
        // print(data.decode("utf-8")) — the bytes as they came, even an
        // incomplete echo: what the server did send is worth seeing.
        if stdout
            .write_all(&echo)
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return Ok(()); // nobody reads our output any more
        }
        if let Err(e) = received {
            return Err(format!(
                "réception impossible ({})",
                netlabs::error::reason(&e)
            ));
        }
        if echo.len() < len {
            return Err(format!(
                "le serveur a fermé la connexion avant de tout renvoyer ({} octets sur {len})",
                echo.len()
            ));
        }
    }
    Ok(())
}
