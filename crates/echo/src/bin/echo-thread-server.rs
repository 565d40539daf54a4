//! `echo-thread-server` — the echo service over TCP, one thread per client.
//!
//! Mirrors TP5b, 2.2 « version thread »: the main thread only accepts; each
//! client gets a new thread that runs the same recv/send loop as
//! `echo-server` (diff the two files: only the dispatch changed). Simple,
//! and every client is served at once — but each one costs a thread (a
//! stack, a kernel task, a context switch per message).
//!
//! Try it:
//!
//! ```text
//! cargo run --bin echo-thread-server    # en écoute sur [::]:7777
//! nc localhost 7777                     # in two or three terminals at once
//! ps -L -p $(pidof echo-thread-server)  # one thread per client
//! strace -f -e trace=network target/debug/echo-thread-server
//! ```

use std::net::TcpListener;
use std::thread;

use echo::{BIND, BUF_SIZE, PORT, echo_until_closed, farewell};
use netlabs::{Args, Why, log, net, warn};

/// Each thread needs little stack (its buffer is on the heap); 64 KiB
/// instead of std's 2 MiB keeps thousands of clients affordable.
const STACK_SIZE: usize = 64 * 1024;

const USAGE: &str = "\
echo-thread-server — serveur echo TCP, un thread par client (TP5b, 2.2 version thread)

usage : echo-thread-server [--bind ADDR] [--port N]
  --bind ADDR   adresse d'écoute (défaut :: = toutes, IPv6 et IPv4)
  --port N      port TCP (défaut 7777 ; 0 = un port libre choisi par le système)
  -h, --help    cette aide

Essayez : nc localhost 7777 dans plusieurs terminaux à la fois";

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    args.finish();

    // Many clients means many descriptors: lift the soft limit (often 1024).
    let _ = netlabs::sys::raise_fd_limit();
    // s = socket(AF_INET6, SOCK_STREAM); s.bind(("", 7777)); s.listen(1)
    let listener: TcpListener = net::listen(bind, port);

    let mut served: u64 = 0;
    loop {
        // sc, addr = s.accept(): waits for the next client. A failed
        // accept never stops the server (no descriptor left: net::accept
        // waits for one, the client waits in the backlog).
        let (mut stream, peer) = net::accept(&listener);
        served += 1;
        let name = format!("client-{served}");
        log!("connexion de {peer} (thread {name})");
        // Small writes go out at once: no Nagle delay on the echo.
        let _ = stream.set_nodelay(true);

        // t = threading.Thread(None, handle, None, (sc,)); t.start()
        let spawned = thread::Builder::new()
            .name(name)
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let mut buf = vec![0u8; BUF_SIZE];
                let outcome = echo_until_closed(&mut stream, &mut buf);
                log!("{}", farewell(peer, &outcome));
            });
        if let Err(e) = spawned {
            // Out of threads or memory: drop this client, keep the others.
            warn!(
                "impossible de créer un thread pour {peer} ({}) ; connexion fermée",
                Why(&e)
            );
        }
    }
}
