//! `prime-udp-client` — asks `prime-udp-server` whether numbers are prime.
//!
//! The client of Chapitre 2.2, 1.2: the course's list (or the numbers given
//! as arguments), one datagram per number. Nothing promises that a datagram
//! arrives, nor its answer: we wait one second for each, then print
//! `Pas de réponses` and go on. `--stop` sends the empty datagram that ends
//! the server.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin prime-udp-server &
//! cargo run --bin prime-udp-client -- --stop   # E F T F T T F F, then the end
//! prime-udp-client 17                          # no server: Pas de réponses
//! ```

use std::time::Duration;

use netlabs::net::{Reply, UdpClient};
use netlabs::{Args, Why, fail, log};
use prime::{COURSE_LIST, UDP_PORT, reading};

/// How long to wait for each answer before calling it lost.
const REPLY_TIMEOUT: Duration = Duration::from_secs(1);

/// An answer is one letter and `\n`; a bigger datagram is cut, and shown.
const MAX_ANSWER: usize = 1024;

const USAGE: &str = "\
prime-udp-client — demande au serveur si des nombres sont premiers, par UDP (Chapitre 2.2, 1.2 client)

usage : prime-udp-client [--host HÔTE] [--port N] [--stop] [NOMBRE…]
  --host HÔTE   serveur (défaut 127.0.0.1, comme le cours)
  --port N      port UDP (défaut 8808)
  --stop        envoie à la fin le datagramme vide qui arrête le serveur
  -h, --help    cette aide

Sans NOMBRE : la liste du cours, 4j 4 5 -5 17 29 2**50 2**50-1.
Attend 1 s chaque réponse, sinon : Pas de réponses.";

fn main() {
    let mut args = Args::parse(USAGE);
    let host = args.host("127.0.0.1");
    let port = args.port(UDP_PORT);
    let stop = args.flag("--stop");
    let mut numbers = args.rest();
    if numbers.is_empty() {
        numbers = COURSE_LIST.iter().map(|s| s.to_string()).collect();
    }

    // s = socket(AF_INET, SOCK_DGRAM) — "connected" to the server so the
    // system hands us only its datagrams (the course uses sendto instead).
    let mut client = UdpClient::connect(&host, port);
    let mut reply = [0u8; MAX_ANSWER];

    for number in &numbers {
        log!("Envoi d'un message {number}");
        // s.sendto(message, params); data = s.recv(BUFFER_SIZE), 1 s at most.
        let datagram = format!("{number}\n");
        let answer = client
            .request(datagram.as_bytes(), &mut reply, REPLY_TIMEOUT)
            .unwrap_or_else(|e| fail!("envoi vers {} impossible ({})", client.peer(), Why(&e)));
        match answer {
            Reply::Datagram(n) => log!("{}", reading(&reply[..n])),
            Reply::TimedOut | Reply::Refused => log!("{}", reading(b"")),
        }
    }

    if stop {
        log!("Envoi du datagramme vide : le serveur s'arrête");
        if let Err(e) = client.send(b"") {
            fail!("envoi du datagramme vide impossible ({})", Why(&e));
        }
    }
}
