//! `echo-udp-server` — the echo service over UDP.
//!
//! Mirrors TP5b, 1.4 « version UDP »: no connection, no accept; one loop of
//! `recvfrom` (a datagram and who sent it) and `sendto` (the same datagram
//! back to that address). One socket serves every client.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin echo-udp-server       # en attente sur [::]:7777
//! nc -u localhost 7777                  # each line is one datagram
//! ss -uanp | grep 7777                  # one socket, no connection
//! strace -e trace=network target/debug/echo-udp-server
//! ```
//!
//! An echo server answers whoever the datagram says sent it, and anyone
//! can write any source address: one forged datagram "from" another echo
//! server starts a ping-pong between the two that never ends by itself.
//! So every answer first asks the budget of `netlabs::udp`: never to our
//! own address, and no more to a peer whose datagrams are our own answers
//! coming back at the speed of a machine, for seconds, without a pause — a
//! loop, logged once. A client that repeats the same line, even as fast as
//! we answer (`yes bonjour | echo-udp-client`), is answered every time:
//! it waits for us, and its socket says so. The log itself has a budget: a
//! flood is summarised, not written line by line.

use std::time::Instant;

use echo::{BIND, PORT};
use netlabs::net::{self, canonical};
use netlabs::udp::Peers;
use netlabs::{Args, Why, log, warn};

/// Large enough for any datagram: UDP's largest payload is 65507 bytes over
/// IPv4 (65535 minus the IP and UDP headers). A smaller buffer would cut
/// long datagrams silently.
const BUF_SIZE: usize = 65536;

const USAGE: &str = "\
echo-udp-server — serveur echo UDP (TP5b, 1.4 version UDP)

usage : echo-udp-server [--bind ADDR] [--port N]
  --bind ADDR   adresse d'attente (défaut :: = toutes, IPv6 et IPv4)
  --port N      port UDP (défaut 7777 ; 0 = un port libre choisi par le système)
  -h, --help    cette aide

Essayez : nc -u localhost 7777";

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    args.finish();

    // s = socket(AF_INET6, SOCK_DGRAM); s.bind(("", 7777))
    let socket = net::bind_udp(bind, port);
    let mut peers = Peers::for_socket(&socket);

    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        // data, addr = s.recvfrom(65536)
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(datagram) => datagram,
            Err(e) => {
                // On Linux, an ICMP "port unreachable" for an earlier reply
                // can surface here; it concerns that client only.
                warn!("recvfrom a échoué : {}", Why(&e));
                continue;
            }
        };
        let data = &buf[..n];
        // Our own address, a loop, a flood: no answer (and few words).
        let verdict = peers.check(from, data, data, Instant::now());
        for note in &verdict.notes {
            log!("{note}");
        }
        if verdict.show {
            let size = netlabs::octets(n as u64);
            log!("datagramme de {} : {size}", canonical(from));
        }
        if !verdict.answer {
            continue;
        }
        // s.sendto(data, addr)
        if let Err(e) = socket.send_to(data, from) {
            warn!("sendto vers {} a échoué : {}", canonical(from), Why(&e));
        }
    }
}
