//! `pesto-client` — the Pesto client: the reactor in its own thread, the
//! main thread reading commands from the keyboard.
//!
//! Mirrors `pesto-twisted-client-server.txt`, "Client side
//! implementation": `Client(LineOnlyReceiver)`, `ClientFactory` and
//! `ReactorThread`. `input()` blocks, and so does `reactor.run()`; each
//! gets its own thread. The main thread never touches a socket: it hands
//! each command to the reactor's thread with `call_from_thread`, which
//! wakes the reactor's `poll` up.
//!
//! Two differences with the seed. It sends each command to the global
//! `receiver` even before the connection is made (when it is still `None`,
//! and `sendMsg` fails); here the main thread waits for the connection to
//! be made or to fail before it reads the first command, and again after
//! each `reconnect`. And its `reconnect` closes the old connection at once,
//! dropping the answers still on the way; here the old connection is
//! closed on our side first (a half-close), so its last answers still
//! come, and the new one is opened once the old one is over: its
//! `Connection lost.` always comes before the new greeting.
//!
//! Type a command and Enter: `hello`, `write: TEXT`, `goodbye`, anything.
//! `reconnect` closes the connection and opens a new one. End of
//! input (Ctrl-D, or the end of a pipe) closes the connection once the
//! server has answered, and exits. Every end of a connection prints
//! `Connection lost.`, ours included, as the seed's `connectionLost` does.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin pesto-server &
//! cargo run --bin pesto-client                       # then type hello
//! printf 'hello\nwrite: bonjour\n' | cargo run --bin pesto-client
//! ps -L -p $(pgrep pesto-client)                     # two threads (three while connecting)
//! ```

use std::cell::RefCell;
use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use netlabs::{Args, Why, fail, log, warn};
use reactor::{
    ClientFactory, Factory, LineProtocol, LineReceiver, Protocol, Reactor, ReactorHandle, Reason,
    Transport,
};

/// The seed's `main`: `host = "127.0.0.1"`, `port = 1234`, where
/// `pesto-server` listens.
const PORT: u16 = 1234;
const HOST: &str = "127.0.0.1";

/// After the end of input, how long to wait for the server's last answers
/// and its close before leaving anyway.
const LAST_ANSWERS: Duration = Duration::from_secs(5);

const USAGE: &str = "\
pesto-client — le client de Pesto : un thread pour le réacteur, un pour le clavier
(pesto-twisted-client-server : « Client side implementation »)

usage : pesto-client [--host HOTE] [--port N]
  --host HOTE   serveur (défaut 127.0.0.1)
  --port N      port TCP (défaut 1234)
  -h, --help    cette aide

Tapez une commande par ligne : hello, write: TEXTE, goodbye…
reconnect ouvre une nouvelle connexion ; fin de l'entrée (Ctrl-D) : on quitte.";

/// Where the client stands with the server.
enum Link {
    /// No connection: not made yet, failed, or lost.
    Down,
    /// Connected: the seed's `receiver`, the protocol's transport.
    Connected(Transport),
    /// `reconnect`: this old connection is closing; once it is over, we
    /// connect again.
    Replacing(Transport),
    /// End of input: once the connection is over, the reactor stops.
    Quitting,
}

thread_local! {
    /// The client's one state, the seed's global `receiver` grown up. It
    /// lives on the reactor's thread, the only one that runs the protocol
    /// and the calls handed over by `call_from_thread`, so the only one
    /// that ever looks here: no lock is needed. It could not live anywhere
    /// else: a `Transport` cannot be sent to another thread (the compiler
    /// checks it).
    static LINK: RefCell<Link> = const { RefCell::new(Link::Down) };
    /// The seed's `ReactorThread.host`, `.port` and `.factory`, reused by
    /// `reconnect`.
    static TARGET: RefCell<Option<Target>> = const { RefCell::new(None) };
}

/// Where to connect, and the factory that serves each connection.
#[derive(Clone)]
struct Target {
    host: String,
    port: u16,
    factory: PestoFactory,
}

/// class Client(LineOnlyReceiver)
struct Client {
    reactor: ReactorHandle,
    /// Tells the main thread that the connection attempt is over.
    settled: mpsc::Sender<()>,
    /// This connection's transport, to know it again in `connection_lost`.
    transport: Option<Transport>,
}

impl LineProtocol for Client {
    /// global receiver; receiver = self
    fn connection_made(&mut self, transport: &Transport) {
        self.transport = Some(transport.clone());
        LINK.with_borrow_mut(|link| *link = Link::Connected(transport.clone()));
        let _ = self.settled.send(());
    }

    /// self.factory.update(line): print what the server says.
    ///
    /// `log!` rather than `println!`, here and below: `println!` panics
    /// when stdout is closed (`pesto-client | head -1`), `log!` does not.
    fn line_received(&mut self, _transport: &Transport, line: &[u8]) {
        log!("{}", String::from_utf8_lossy(line));
    }

    /// def connectionLost(self, reason): print("Connection lost.")
    ///
    /// Said for every end of a connection, as in the seed: the server's
    /// close (after `goodbye`, or a crash), ours at the end of input, the
    /// old one of a `reconnect`. Saying it only when the server closed first
    /// would depend on timing: after `goodbye` the server closes at the very
    /// moment the client may be reaching the end of its input.
    fn connection_lost(&mut self, _reason: Reason) {
        log!("Connection lost.");
        let mine = |other: &Transport| {
            self.transport
                .as_ref()
                .is_some_and(|t| t.same_connection(other))
        };
        let was = LINK.with_borrow_mut(|link| match link {
            Link::Connected(t) | Link::Replacing(t) if mine(t) => {
                std::mem::replace(link, Link::Down)
            }
            Link::Quitting => Link::Quitting,
            _ => Link::Down,
        });
        match was {
            Link::Quitting => self.reactor.stop(),
            // A `reconnect` was waiting for this one to be over: connect
            // now, so that "Connection lost." comes before the new greeting.
            Link::Replacing(_) => self.reactor.call_from_thread(connect),
            Link::Connected(_) | Link::Down => {}
        }
    }
}

/// class ClientFactory(protocol.ClientFactory)
#[derive(Clone)]
struct PestoFactory {
    reactor: ReactorHandle,
    settled: mpsc::Sender<()>,
}

impl Factory for PestoFactory {
    fn build_protocol(&mut self, _peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        let client = Client {
            reactor: self.reactor.clone(),
            settled: self.settled.clone(),
            transport: None,
        };
        Some(Box::new(LineReceiver::new(client)))
    }
}

impl ClientFactory for PestoFactory {
    fn client_connection_failed(&mut self, reason: &str) {
        log!("Connection failed.");
        warn!("erreur : {reason}");
        let _ = self.settled.send(());
    }
}

fn main() {
    let mut args = Args::parse(USAGE);
    let host = args.host(HOST);
    let port = args.port(PORT);
    args.finish();

    // r_thread = ReactorThread(host, port); r_thread.start()
    let (ready, handle) = mpsc::channel();
    let (settled_tx, settled) = mpsc::channel();
    let reactor_thread = thread::spawn(move || reactor_thread(host, port, ready, settled_tx));
    let Ok(reactor) = handle.recv() else {
        // The thread ended before it was ready: join says why.
        join(reactor_thread)
    };
    // Wait for the first connection to be made (or to fail) before reading
    // commands: the seed sends them to `receiver` even while it is still
    // `None`. An error here means the reactor's thread is gone.
    let _ = settled.recv();

    // while True: cmd = input()
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                warn!("erreur : lecture de l'entrée impossible ({})", Why(&e));
                break;
            }
        }
        let command = trim_line_end(&line).to_vec();
        if command == b"reconnect" {
            // r_thread.reconnect(), then wait for the new connection.
            reactor.call_from_thread(reconnect);
            let _ = settled.recv();
        } else {
            // r_thread.send(cmd)
            reactor.call_from_thread(move |_| send(command));
        }
    }
    // End of input: hang up once the server has answered, then leave.
    reactor.call_from_thread(quit);
    join(reactor_thread);
}

/// ReactorThread.run: connectTCP, then reactor.run() in this thread.
fn reactor_thread(
    host: String,
    port: u16,
    ready: mpsc::Sender<ReactorHandle>,
    settled: mpsc::Sender<()>,
) -> io::Result<()> {
    let mut reactor = Reactor::new()?;
    let factory = PestoFactory {
        reactor: reactor.handle(),
        settled,
    };
    // The target stays with the reactor's thread: `reconnect` uses it.
    TARGET.with_borrow_mut(|t| {
        *t = Some(Target {
            host,
            port,
            factory,
        })
    });
    connect(&mut reactor);
    let _ = ready.send(reactor.handle());
    reactor.run()
}

/// reactor.connectTCP(self.host, self.port, self.factory)
fn connect(reactor: &mut Reactor) {
    if let Some(t) = TARGET.with_borrow(|t| t.clone()) {
        reactor.connect_tcp(&t.host, t.port, t.factory);
    }
}

/// Client.sendMsg, run in the reactor's thread.
fn send(command: Vec<u8>) {
    LINK.with_borrow(|link| match link {
        Link::Connected(transport) => transport.send_line(&command),
        _ => log!("Cannot send message to server. No connection."),
    });
}

/// ReactorThread.reconnect: a new connection. The old one, if any, is
/// closed gently first: we close our side, the server sends its last
/// answers and closes, and its `connection_lost` connects again. A server
/// that does not close is cut off after [`LAST_ANSWERS`].
fn reconnect(reactor: &mut Reactor) {
    match LINK.replace(Link::Down) {
        Link::Connected(old) => {
            old.lose_write_connection();
            let stubborn = old.clone();
            reactor.call_later(LAST_ANSWERS, move || stubborn.lose_connection());
            LINK.set(Link::Replacing(old));
        }
        Link::Down => connect(reactor),
        busy @ (Link::Replacing(_) | Link::Quitting) => LINK.set(busy),
    }
}

/// End of input: close our side (the server then sees the end, answers
/// what is left and closes), and stop the reactor when the connection is
/// over — or after [`LAST_ANSWERS`] whatever happens.
fn quit(reactor: &mut Reactor) {
    let handle = reactor.handle();
    reactor.call_later(LAST_ANSWERS, move || handle.stop());
    match LINK.replace(Link::Quitting) {
        Link::Connected(transport) => transport.lose_write_connection(),
        Link::Replacing(_) | Link::Quitting => {} // already closing
        Link::Down => reactor.stop(),
    }
}

fn join(reactor_thread: thread::JoinHandle<io::Result<()>>) -> ! {
    match reactor_thread.join() {
        Ok(Ok(())) => std::process::exit(0),
        Ok(Err(e)) => fail!("le réacteur s'est arrêté ({})", Why(&e)),
        Err(_) => fail!("le thread du réacteur s'est arrêté sur une erreur"),
    }
}

/// The line without its `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}
