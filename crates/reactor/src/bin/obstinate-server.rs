//! `obstinate-server` — the seed's `ObstinateProtocol`: answers `no\r\n`
//! to everything.
//!
//! Mirrors `bite-sized-twisted-triforce.txt` ("Parts of the Triforce" and
//! "Magic glue"): a protocol, a factory that makes one per connection, and
//! the reactor listening on port 8900.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin obstinate-server   # en écoute sur 0.0.0.0:8900
//! telnet 127.0.0.1 8900              # type a line: no
//! nc 127.0.0.1 8900                  # same, without telnet's negotiation
//! ```
//!
//! What to observe: `no` comes once per `data_received`, that is once per
//! read, not once per line. telnet sends a line at a time, so it looks like
//! "one answer per line"; paste three lines at once and they may come in
//! one read and get one `no`. TCP carries bytes, not messages.

use std::net::SocketAddr;

use netlabs::{Args, fail, log};
use reactor::{Factory, Protocol, Reason, Transport};

/// The seed's port; `TCP4ServerEndpoint(reactor, 8900)` listens on every
/// IPv4 interface.
const PORT: u16 = 8900;
const BIND: &str = "0.0.0.0";

const USAGE: &str = "\
obstinate-server — le protocole ObstinateProtocol : répond no à tout
(bite-sized-twisted-triforce : « Parts of the Triforce », « Magic glue »)

usage : obstinate-server [--bind ADDR] [--port N]
  --bind ADDR   adresse d'écoute (défaut 0.0.0.0 = toutes les interfaces IPv4)
  --port N      port TCP (défaut 8900 ; 0 = un port libre choisi par le système)
  -h, --help    cette aide

Essayez : telnet 127.0.0.1 8900, tapez une ligne : no";

/// class ObstinateProtocol(Protocol)
struct ObstinateProtocol {
    peer: SocketAddr,
}

impl Protocol for ObstinateProtocol {
    fn data_received(&mut self, transport: &Transport, _data: &[u8]) {
        // self.transport.write('no\r\n'), whatever came.
        transport.write(b"no\r\n");
    }

    fn connection_lost(&mut self, reason: Reason) {
        log!("déconnexion de {} (connexion {reason})", self.peer);
    }
}

/// factory = Factory(); factory.protocol = ObstinateProtocol
struct ObstinateFactory;

impl Factory for ObstinateFactory {
    fn build_protocol(&mut self, peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        log!("connexion de {peer}");
        Some(Box::new(ObstinateProtocol { peer }))
    }
}

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    args.finish();

    // The magic glue: endpoint.listen(factory), then reactor.run().
    // A busy port comes back here: one French line, exit 1.
    if let Err(e) = reactor::serve(SocketAddr::new(bind, port), ObstinateFactory) {
        fail(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reactor::testing::{StringTransport, chunks};

    #[test]
    fn one_no_per_chunk_whatever_came() {
        let input = b"Are you there?\r\nAre you lying?\r\n\xff\x00binary";
        for size in 1..=9 {
            let t = StringTransport::new();
            let mut p = ObstinateFactory.build_protocol(t.peer()).unwrap();
            p.connection_made(&t);
            assert_eq!(t.value(), b"", "nothing before the first bytes");
            let reads = chunks(input, size).count();
            for piece in chunks(input, size) {
                p.data_received(&t, piece);
            }
            assert_eq!(t.value(), b"no\r\n".repeat(reads), "chunks of {size}");
        }
    }
}
