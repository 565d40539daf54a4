//! `echo-poll-server` — the echo service over TCP, every client in one
//! thread, with `poll(2)`.
//!
//! Mirrors TP5b, 2.1 « version select »: one loop asks the system which
//! sockets are ready (Python's `select.select`, here its modern form
//! `poll`), then serves exactly those — a new connection on the listening
//! socket, data from a client — and never waits on any single client.
//!
//! Two things the TP's version leaves out, and a real server cannot:
//! - `sendall` would block the whole loop on a client that does not read;
//!   here the echo the socket did not take waits in that client's queue,
//!   sent when `poll` says the socket has room again (`POLLOUT`), and we
//!   stop reading a client whose queue passes 1 MiB (backpressure);
//! - `accept` fails when no descriptor is left (`EMFILE`); the waiting
//!   client stays in the backlog, so the listening socket stays "ready" and
//!   a naive loop spins at 100% CPU. We stop watching it for a moment.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin echo-poll-server      # en écoute sur [::]:7777
//! nc localhost 7777                     # in several terminals at once
//! ps -L -p $(pidof echo-poll-server)   # one thread, however many clients
//! strace -e trace=poll,read,write,accept4 target/debug/echo-poll-server
//! ```

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use echo::{BIND, PORT, farewell};
use netlabs::net::{self, AcceptPause, Retry, canonical, is_transient};
use netlabs::sys::{Events, PollFd, poll_fds};
use netlabs::{Args, Why, fail, log, warn};

/// One read buffer for all clients: tens of KiB let a bulk transfer go at
/// memory speed, and only one exists however many clients there are.
const READ_SIZE: usize = 64 * 1024;

/// Stop reading a client while this much of its echo is still unsent: a
/// client that sends without reading must not make us grow without end.
const MAX_PENDING: usize = 1024 * 1024;

const USAGE: &str = "\
echo-poll-server — serveur echo TCP, tous les clients dans un thread avec poll (TP5b, 2.1 version select)

usage : echo-poll-server [--bind ADDR] [--port N]
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
    let listener: TcpListener = net::listen(bind, port);
    // accept() must return at once when nobody is waiting.
    if let Err(e) = listener.set_nonblocking(true) {
        fail!("socket non bloquante impossible ({})", Why(&e));
    }

    // l = [] — the clients, and the list given to poll, rebuilt every turn:
    // entry 0 is the listening socket, entry i + 1 is clients[i].
    let mut clients: Vec<Client> = Vec::new();
    let mut fds: Vec<PollFd> = Vec::new();
    let mut gone: Vec<usize> = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    let mut pause = AcceptPause::default();

    loop {
        // 1. Say what we wait for: new clients (unless paused), and for each
        //    client data to read and/or room to write.
        let paused = pause.left();
        fds.clear();
        let listen_for = if paused.is_some() {
            Events::NONE
        } else {
            Events::IN
        };
        fds.push(PollFd::new(&listener, listen_for));
        fds.extend(clients.iter().map(|c| PollFd::new(&c.stream, c.interest())));

        // 2. select.select(l + [s], [], []): sleep until something is ready
        //    (or, while accepting is paused, until the pause ends).
        if let Err(e) = poll_fds(&mut fds, paused) {
            fail!("poll a échoué ({})", Why(&e));
        }

        // 3. Serve every ready client. Never change `clients` while
        //    scanning it: note who is gone, remove them after.
        for (i, (client, fd)) in clients.iter_mut().zip(&fds[1..]).enumerate() {
            let ready = fd.revents();
            if ready.is_empty() {
                continue;
            }
            if let Some(outcome) = client.serve(ready, &mut buf) {
                log!("{}", farewell(client.peer, &outcome));
                gone.push(i);
            }
        }

        // 4. Forget them (dropping a TcpStream closes it), last index first
        //    so that swap_remove never moves one still to be removed.
        for &i in gone.iter().rev() {
            clients.swap_remove(i);
        }
        if !gone.is_empty() {
            pause.resume(); // descriptors were freed: accept again now
        }
        gone.clear();

        // 5. The listening socket is ready: sc, addr = s.accept(), for all.
        if fds[0].revents().contains(Events::IN) {
            accept_all(&listener, &mut clients, &mut pause);
        }
    }
}

/// Accepts every waiting connection. When `accept` fails in a way that
/// would come back at once (no descriptor left, `EMFILE`), stops watching
/// the listening socket for a moment: `pause` says until when.
fn accept_all(listener: &TcpListener, clients: &mut Vec<Client>, pause: &mut AcceptPause) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                pause.accepted(); // a descriptor was free: the episode is over
                let peer = canonical(peer);
                // Non-blocking: a read or write must never stop the loop.
                // No Nagle delay: a small echo goes out at once.
                if let Err(e) = stream.set_nonblocking(true) {
                    warn!("connexion de {peer} refermée : {}", Why(&e));
                    continue;
                }
                let _ = stream.set_nodelay(true);
                log!("connexion de {peer} (descripteur {})", stream.as_raw_fd());
                clients.push(Client::new(stream, peer));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => {
                if pause.failed(&e) == Retry::AfterPause {
                    return;
                }
            }
        }
    }
}

/// One connected client, and the echo it has not taken yet.
struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    /// Bytes read but not yet written back: the socket's send buffer was
    /// full because the client does not read fast enough.
    pending: VecDeque<u8>,
    /// The client closed its sending side: finish the echo, then close.
    finished_sending: bool,
    echoed: u64,
}

impl Client {
    fn new(stream: TcpStream, peer: SocketAddr) -> Client {
        Client {
            stream,
            peer,
            pending: VecDeque::new(),
            finished_sending: false,
            echoed: 0,
        }
    }

    /// What to wait for: data while we have room for its echo, room to
    /// write while some echo is pending.
    fn interest(&self) -> Events {
        let mut events = Events::NONE;
        if !self.finished_sending && self.pending.len() < MAX_PENDING {
            events = events | Events::IN;
        }
        if !self.pending.is_empty() {
            events = events | Events::OUT;
        }
        events
    }

    /// Does what `poll` says can be done without blocking. Returns how the
    /// connection ended once it has, else `None`.
    fn serve(&mut self, ready: Events, buf: &mut [u8]) -> Option<io::Result<u64>> {
        let problem = Events::ERR | Events::HUP;
        if ready.intersects(Events::OUT | problem)
            && !self.pending.is_empty()
            && let Err(e) = self.send_pending()
        {
            return Some(Err(e));
        }
        if ready.intersects(Events::IN | problem) && self.interest().contains(Events::IN) {
            // One read per wake-up: poll will tell us again if more is
            // waiting (no extra read just to meet EAGAIN).
            match self.stream.read(buf) {
                Ok(0) => self.finished_sending = true,
                Ok(n) => {
                    if let Err(e) = self.echo(&buf[..n]) {
                        return Some(Err(e));
                    }
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        if self.finished_sending && self.pending.is_empty() {
            return Some(Ok(self.echoed));
        }
        None
    }

    /// Writes `data` back now if the socket takes it, queues the rest.
    fn echo(&mut self, mut data: &[u8]) -> io::Result<()> {
        if self.pending.is_empty() {
            let n = match self.stream.write(data) {
                Ok(n) => n,
                Err(e) if is_transient(&e) => 0,
                Err(e) => return Err(e),
            };
            self.echoed += n as u64;
            data = &data[n..];
        }
        self.pending.extend(data);
        Ok(())
    }

    /// Writes as much of the queue as the socket takes.
    fn send_pending(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            let (front, _) = self.pending.as_slices();
            match self.stream.write(front) {
                Ok(n) => {
                    self.pending.drain(..n);
                    self.echoed += n as u64;
                }
                Err(e) if is_transient(&e) => break,
                Err(e) => return Err(e),
            }
        }
        if self.pending.is_empty() && self.pending.capacity() > READ_SIZE {
            // Give back the memory a slow reader made us take.
            self.pending = VecDeque::new();
        }
        Ok(())
    }
}
