//! `prime-udp-server` — tells whether each number it receives is prime, over UDP.
//!
//! Mirrors Chapitre 2.2, 1.2 « Utilisation d'une socket UDP »: no `listen`,
//! no `accept`, no connection: one `recvfrom` loop that gets each datagram
//! with the address of its sender, and answers it with `sendto`. One
//! datagram is one message — UDP keeps the boundaries that TCP does not —
//! so no line framing is needed here. An empty datagram ends the server,
//! the course's special case (`if not data: break`).
//!
//! Try it:
//!
//! ```text
//! cargo run --bin prime-udp-server          # en attente sur 127.0.0.1:8808
//! nc -u 127.0.0.1 8808                      # type 17 ⏎ → T
//! cargo run --bin prime-udp-client -- --stop
//! ss -unp | grep 8808                       # one socket, no connection
//! ```
//!
//! Anyone can write any source address in a datagram: one forged "from"
//! another UDP server (an echo server, or a second prime-udp-server, which
//! answers `E` to our `E`) starts a ping-pong that never ends by itself. So
//! every answer first asks the budget of `netlabs::udp`: never to our own
//! address, and no more to a peer whose datagrams are our own answers
//! coming back at the speed of a machine, for seconds, without a pause (a
//! loop, logged once; a client asking the same number again and again is
//! answered every time). The log has a budget too: a flood is summarised,
//! not written line by line.

use std::io::ErrorKind;
use std::time::Instant;

use netlabs::net::{self, canonical};
use netlabs::udp::Peers;
use netlabs::{Args, Why, log, warn};
use prime::{BIND, MAX_LINE, Shown, UDP_PORT, judge, judge_too_long};

/// Room for the largest UDP datagram: a smaller buffer would silently cut
/// a longer datagram (the system drops the end), and we could not tell.
const BUFFER_SIZE: usize = 65536;

const USAGE: &str = "\
prime-udp-server — dit si un nombre est premier, par UDP (Chapitre 2.2, 1.2 socket UDP)

usage : prime-udp-server [--bind ADDR] [--port N]
  --bind ADDR   adresse (défaut 127.0.0.1, comme le cours)
  --port N      port UDP (défaut 8808 ; 0 = un port libre choisi par le système)
  -h, --help    cette aide

Un datagramme = un nombre ; réponse T, F ou E. Un datagramme vide arrête le serveur.
Essayez : nc -u 127.0.0.1 8808";

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(UDP_PORT);
    args.finish();

    // s = socket(AF_INET, SOCK_DGRAM); s.bind(params) — and nothing else:
    // s.listen(1) and s.accept() have no meaning in UDP.
    let socket = net::bind_udp(bind, port);
    let mut peers = Peers::for_socket(&socket);

    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        // data, addr = s.recvfrom(BUFFER_SIZE)
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                // One client's trouble (an ICMP error) never stops the server.
                warn!("réception impossible : {}", Why(&e));
                continue;
            }
        };
        let data = &buf[..n];

        // if not data: break
        if data.is_empty() {
            log!("Connexion reçue: {}", canonical(peer));
            log!("Donnée reçue: {}", Shown(data));
            log!("Datagramme vide : fin du serveur");
            break;
        }

        // A client may end its number with a line end, as over TCP.
        let message = data
            .strip_suffix(b"\n")
            .map(|d| d.strip_suffix(b"\r").unwrap_or(d))
            .unwrap_or(data);
        let verdict = if message.len() > MAX_LINE {
            judge_too_long()
        } else {
            judge(message)
        };

        // Our own address, a loop, a flood: no answer (and few words).
        let allowed = peers.check(peer, data, verdict.reply, Instant::now());
        for note in &allowed.notes {
            log!("{note}");
        }
        if allowed.show {
            log!("Connexion reçue: {}", canonical(peer));
            log!("Donnée reçue: {}", Shown(data));
            log!("{}", verdict.phrase);
        }
        if !allowed.answer {
            continue;
        }

        // s.sendto(response, addr) — the course computes the response but
        // never sends it; without it, the client could only guess.
        if let Err(e) = socket.send_to(verdict.reply, peer) {
            warn!("envoi vers {} impossible : {}", canonical(peer), Why(&e));
        }
    }
}
