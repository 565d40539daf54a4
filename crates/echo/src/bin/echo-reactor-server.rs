//! `echo-reactor-server` — the echo service written the Twisted way: a
//! protocol that writes back what it receives, a factory, and the reactor
//! of the `reactor` crate doing all the socket work.
//!
//! Mirrors `twisted-protocole-fabrique.txt` (the `Echo` protocol, without
//! its greeting) for TP5b's echo service, so that it can be compared with
//! the three other models. Put this file beside `echo-poll-server.rs`:
//! it is the same single thread and the same `poll(2)`, but the loop is in
//! the library, and what is left here is only what echo *does*. Everything
//! the poll server does by hand — queue what the socket does not take,
//! stop reading a client that does not read (backpressure), stop accepting
//! for a moment when no descriptor is left — the reactor does for every
//! protocol.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin echo-reactor-server   # en écoute sur [::]:7777
//! nc localhost 7777                     # in several terminals at once
//! ps -L -p $(pgrep echo-reactor)        # one thread, however many clients
//! strace -e trace=poll,read,write,writev,accept4 target/debug/echo-reactor-server
//! ```

use std::net::SocketAddr;

use echo::{BIND, PORT, farewell};
use netlabs::{Args, fail, log};
use reactor::{Factory, Protocol, Reason, Transport};

const USAGE: &str = "\
echo-reactor-server — serveur echo TCP sur le réacteur (Protocol, Transport, Factory)
(TP5b, le service echo écrit comme dans twisted-protocole-fabrique)

usage : echo-reactor-server [--bind ADDR] [--port N]
  --bind ADDR   adresse d'écoute (défaut :: = toutes, IPv6 et IPv4)
  --port N      port TCP (défaut 7777 ; 0 = un port libre choisi par le système)
  -h, --help    cette aide

Essayez : nc localhost 7777 dans plusieurs terminaux à la fois";

/// What echo does with the bytes of one connection.
struct Echo {
    peer: SocketAddr,
    echoed: u64,
}

impl Protocol for Echo {
    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        // Sent at once if the socket takes it; the reactor queues the rest.
        transport.write(data);
        self.echoed += data.len() as u64;
    }

    fn connection_lost(&mut self, reason: Reason) {
        let outcome = match reason {
            Reason::Done => Ok(self.echoed),
            Reason::Lost(e) => Err(e),
        };
        log!("{}", farewell(self.peer, &outcome));
    }
}

/// One `Echo` per connection.
struct EchoFactory;

impl Factory for EchoFactory {
    fn build_protocol(&mut self, peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        log!("connexion de {peer}");
        Some(Box::new(Echo { peer, echoed: 0 }))
    }
}

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    args.finish();

    // Many clients means many descriptors: lift the soft limit (often 1024).
    let _ = netlabs::sys::raise_fd_limit();
    if let Err(e) = reactor::serve(SocketAddr::new(bind, port), EchoFactory) {
        fail(e);
    }
}
