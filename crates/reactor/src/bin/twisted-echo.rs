//! `twisted-echo` — the seed's `Echo` protocol and `EchoFactory` on our
//! reactor: greets each client with the number of open connections, then
//! echoes what it sends.
//!
//! Mirrors `twisted-protocole-fabrique.txt` (the whole program: protocol,
//! factory, endpoint on `localhost:8098`, `reactor.run()`). `--max N` shows
//! what the seed only describes: a `buildProtocol` that returns nothing
//! refuses the connection, and the reactor closes it at once.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin twisted-echo -- --max 2   # en écoute sur 127.0.0.1:8098
//! telnet 127.0.0.1 8098     # Hello. We are 1 connexions using this protocol
//! nc 127.0.0.1 8098         # Hello. We are 2 connexions using this protocol
//! nc 127.0.0.1 8098         # refused: closed at once, nothing received
//! ss -tnp | grep 8098       # one process, one thread, every connection
//! ```

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

use netlabs::{Args, fail, log};
use reactor::{Factory, Protocol, Reason, Transport};

/// The seed's port and interface (`interface='localhost'`).
const PORT: u16 = 8098;
const BIND: &str = "127.0.0.1";

const USAGE: &str = "\
twisted-echo — le protocole Echo et sa fabrique EchoFactory sur notre réacteur
(twisted-protocole-fabrique : « Implémentation d'un serveur TCP complet »)

usage : twisted-echo [--bind ADDR] [--port N] [--max N]
  --bind ADDR   adresse d'écoute (défaut 127.0.0.1, le « localhost » du billet)
  --port N      port TCP (défaut 8098 ; 0 = un port libre choisi par le système)
  --max N       la fabrique refuse toute connexion au-delà de N ouvertes
                (build_protocol renvoie None : le réacteur la ferme aussitôt)
  -h, --help    cette aide

Essayez : telnet 127.0.0.1 8098, puis nc 127.0.0.1 8098 dans un autre terminal";

/// class Echo(Protocol)
struct Echo {
    peer: SocketAddr,
    /// `self.factory.numProtocols`: the counter the factory owns, shared
    /// through an `Rc` (see the reactor crate's page for why not a
    /// back-reference to the factory).
    num_protocols: Rc<Cell<usize>>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: &Transport) {
        self.num_protocols.set(self.num_protocols.get() + 1);
        let hello = format!(
            "Hello. We are {} connexions using this protocol\r\n",
            self.num_protocols.get()
        );
        transport.write(hello.as_bytes());
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        transport.write(data);
    }

    fn connection_lost(&mut self, reason: Reason) {
        self.num_protocols.set(self.num_protocols.get() - 1);
        log!(
            "déconnexion de {} (connexion {reason}) ; {}",
            self.peer,
            netlabs::plural(
                self.num_protocols.get() as u64,
                "aucune connexion ouverte",
                "connexion ouverte",
                "connexions ouvertes"
            )
        );
    }
}

/// class EchoFactory(Factory)
struct EchoFactory {
    num_protocols: Rc<Cell<usize>>,
    /// `--max`: how many connections at once, at most.
    max: Option<usize>,
}

impl Factory for EchoFactory {
    fn build_protocol(&mut self, peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        let open = self.num_protocols.get();
        if self.max.is_some_and(|max| open >= max) {
            let open = netlabs::plural(
                open as u64,
                "aucune connexion",
                "connexion ouverte",
                "connexions ouvertes",
            );
            log!("connexion de {peer} refusée : déjà {open} (--max)");
            return None;
        }
        log!("connexion de {peer}");
        Some(Box::new(Echo {
            peer,
            num_protocols: Rc::clone(&self.num_protocols),
        }))
    }
}

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    let max = args.value::<usize>("--max");
    args.finish();

    let factory = EchoFactory {
        num_protocols: Rc::new(Cell::new(0)),
        max,
    };
    // endpoint = TCP4ServerEndpoint(reactor, 8098, interface='localhost')
    // endpoint.listen(EchoFactory())
    // A busy port comes back here: one French line, exit 1.
    if let Err(e) = reactor::serve(SocketAddr::new(bind, port), factory) {
        fail(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reactor::testing::{StringTransport, chunks};

    fn factory(max: Option<usize>) -> EchoFactory {
        EchoFactory {
            num_protocols: Rc::new(Cell::new(0)),
            max,
        }
    }

    #[test]
    fn each_greeting_counts_the_open_connections() {
        let mut f = factory(None);
        let (a, b) = (StringTransport::new(), StringTransport::new());
        let mut first = f.build_protocol(a.peer()).unwrap();
        first.connection_made(&a);
        let mut second = f.build_protocol(b.peer()).unwrap();
        second.connection_made(&b);
        assert_eq!(
            a.text(),
            "Hello. We are 1 connexions using this protocol\r\n"
        );
        assert_eq!(
            b.text(),
            "Hello. We are 2 connexions using this protocol\r\n"
        );
        first.connection_lost(Reason::Done);
        let c = StringTransport::new();
        let mut third = f.build_protocol(c.peer()).unwrap();
        third.connection_made(&c);
        assert_eq!(
            c.text(),
            "Hello. We are 2 connexions using this protocol\r\n"
        );
    }

    #[test]
    fn echoes_every_byte_in_any_chunking() {
        let data: Vec<u8> = (0..=255u8).collect();
        for size in 1..=9 {
            let t = StringTransport::new();
            let mut p = factory(None).build_protocol(t.peer()).unwrap();
            p.connection_made(&t);
            t.clear();
            for piece in chunks(&data, size) {
                p.data_received(&t, piece);
            }
            assert_eq!(t.value(), data);
        }
    }

    #[test]
    fn max_refuses_through_build_protocol_until_one_leaves() {
        let mut f = factory(Some(2));
        let t = StringTransport::new();
        let mut one = f.build_protocol(t.peer()).unwrap();
        one.connection_made(&t);
        let mut two = f.build_protocol(t.peer()).unwrap();
        two.connection_made(&t);
        assert!(f.build_protocol(t.peer()).is_none(), "the third is refused");
        two.connection_lost(Reason::Done);
        assert!(f.build_protocol(t.peer()).is_some(), "room again");
        assert!(factory(Some(0)).build_protocol(t.peer()).is_none());
    }
}
