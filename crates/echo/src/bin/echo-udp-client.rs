//! `echo-udp-client` — sends each line you type as one UDP datagram and
//! prints the echo.
//!
//! The client half of TP5b, 1.4 « version UDP ». Unlike TCP, nothing
//! promises the datagram arrives, nor its answer: we wait one second, then
//! say it was lost and go on. An empty line or the end of input ends.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin echo-udp-server &
//! cargo run --bin echo-udp-client       # type: hého ⏎  → hého
//! echo-udp-client --port 9              # nobody there: pas de réponse
//! ```

use std::io::{self, BufRead, Write};
use std::time::Duration;

use echo::PORT;
use netlabs::net::{Reply, UdpClient};
use netlabs::{Args, Why, fail, warn};

/// How long to wait for each echo before calling the datagram lost.
const REPLY_TIMEOUT: Duration = Duration::from_secs(1);

/// The largest UDP payload (65535 minus the IPv4 and UDP headers).
const MAX_DATAGRAM: usize = 65507;

const LOST: &str = "pas de réponse (datagramme perdu ?)";

const USAGE: &str = "\
echo-udp-client — client echo UDP : une ligne = un datagramme (TP5b, 1.4 version UDP)

usage : echo-udp-client [--host HÔTE] [--port N]
  --host HÔTE   serveur (défaut localhost : ::1 et 127.0.0.1, essayées l'une après l'autre)
  --port N      port UDP (défaut 7777)
  -h, --help    cette aide

Attend 1 s chaque réponse. Une ligne vide ou la fin de l'entrée termine.";

fn main() {
    let mut args = Args::parse(USAGE);
    let host = args.host("localhost");
    let port = args.port(PORT);
    args.finish();

    // s = socket(AF_INET6, SOCK_DGRAM) — "connected" to the server, so the
    // system hands us only its datagrams.
    let mut client = UdpClient::connect(&host, port);
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut line = Vec::new();
    let mut reply = vec![0u8; MAX_DATAGRAM + 1];
    let mut told_refused = false;

    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) if line == b"\n" || line == b"\r\n" => break,
            Ok(_) => {}
            Err(e) => fail!("lecture de l'entrée impossible ({})", Why(&e)),
        }
        if line.len() > MAX_DATAGRAM {
            warn!(
                "ligne trop longue pour un datagramme ({} octets, {MAX_DATAGRAM} au plus) : non envoyée",
                line.len()
            );
            continue;
        }

        // s.sendto(line, addr); data, addr = s.recvfrom(…), 1 s at most.
        let answer = client
            .request(&line, &mut reply, REPLY_TIMEOUT)
            .unwrap_or_else(|e| fail!("envoi vers {} impossible ({})", client.peer(), Why(&e)));
        let shown = match answer {
            Reply::Datagram(n) => stdout.write_all(&reply[..n]),
            Reply::TimedOut => writeln!(stdout, "{LOST}"),
            Reply::Refused => {
                if !told_refused {
                    // The server's machine answered "port unreachable" (ICMP).
                    warn!(
                        "(le système signale qu'aucun serveur n'attend sur le port {port} de {host})"
                    );
                    told_refused = true;
                }
                writeln!(stdout, "{LOST}")
            }
        };
        if shown.and_then(|_| stdout.flush()).is_err() {
            break; // nobody reads our output any more
        }
    }
}
