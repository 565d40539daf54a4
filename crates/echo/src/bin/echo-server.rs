//! `echo-server` — the echo service over TCP, one client at a time.
//!
//! Mirrors TP5b, 1.2 « Version TCP »: accept a connection, then read up to
//! 1500 bytes and send them back until the client closes, then accept the
//! next one. While a client is connected, the others wait: that is the
//! lesson of this step, and what 2.1 (`echo-poll-server`) and 2.2
//! (`echo-thread-server`) change.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin echo-server           # en écoute sur [::]:7777
//! nc localhost 7777                     # type lines: they come back
//! nc 127.0.0.1 7777                     # a second nc waits for the first
//! ss -tnp | grep 7777                   # both connections are established
//! strace -f -e trace=network target/debug/echo-server
//! ```

use std::net::TcpListener;

use echo::{BIND, BUF_SIZE, PORT, echo_until_closed, farewell};
use netlabs::{Args, log, net};

const USAGE: &str = "\
echo-server — serveur echo TCP, un client à la fois (TP5b, 1.2 Version TCP)

usage : echo-server [--bind ADDR] [--port N]
  --bind ADDR   adresse d'écoute (défaut :: = toutes, IPv6 et IPv4)
  --port N      port TCP (défaut 7777 ; 0 = un port libre choisi par le système)
  -h, --help    cette aide

Essayez : nc localhost 7777";

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    args.finish();

    // s = socket(AF_INET6, SOCK_STREAM); s.bind(("", 7777)); s.listen(1)
    let listener: TcpListener = net::listen(bind, port);

    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        // sc, addr = s.accept(): waits for the next client. A failed
        // accept never stops the server (no descriptor left: net::accept
        // waits for one, the client waits in the backlog).
        let (mut stream, peer) = net::accept(&listener);
        log!("connexion de {peer}");
        // Small writes go out at once: no Nagle delay on the echo.
        let _ = stream.set_nodelay(true);

        // The recv/send loop, right here: the next client waits.
        let outcome = echo_until_closed(&mut stream, &mut buf);
        log!("{}", farewell(peer, &outcome));
    }
}
