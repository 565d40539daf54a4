//! The load generator: C clients doing ping-pong, all driven by one thread
//! with `epoll(7)` on Linux, `poll(2)` elsewhere.
//!
//! Each client sends a message of S bytes, waits until all of it has come
//! back — checked byte for byte against what it sent — then sends the next.
//! One thread for every client keeps the generator's own CPU low (no thread
//! switch, one wait for many ready sockets): client and server share the
//! same cores, and the generator must never be what limits the rate.
//!
//! Why epoll and not poll, like the servers it measures: `poll` is given
//! the whole list at every call and hooks itself on every socket again each
//! time; with epoll the list stays in the kernel, and a wait costs the ready
//! sockets only. A client that waits costs nothing (the blocking server
//! keeps C − 1 of them waiting for the whole step). A round trip still
//! costs one `read` and one `write`, as in the server: that is most of its
//! price, and against `poll` or the reactor the generator costs as much as
//! the server, not less (see `docs/modeles.md`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
use netlabs::sys::{Epoll, EpollEvent};
use netlabs::sys::{Events, PollFd, poll_fds};
use netlabs::{Why, procfs};

/// All the connections of a step must be open within this time, plus
/// `CONNECT_PER_CLIENT` for each.
pub const CONNECT_BUDGET: Duration = Duration::from_secs(3);
const CONNECT_PER_CLIENT: Duration = Duration::from_millis(5);

/// A server whose accept queue is full (the seed's `listen(1)`!) drops our
/// SYN, and the kernel would send it again only after a second: we give up
/// a connect after this long and try again at once instead.
const CONNECT_RETRY: Duration = Duration::from_millis(25);

/// A server that has sent no echo for this long (or a third of the step)
/// at the end of a step has stopped answering: its row is marked.
const SILENCE: Duration = Duration::from_millis(500);

/// How long the goodbyes at the end of a step may take.
const FAREWELL: Duration = Duration::from_millis(300);

/// What one step (one server, one C) measured.
#[derive(Clone, Debug, Default)]
pub struct Step {
    /// C, the clients asked for.
    pub clients: usize,
    /// How many connections were actually open.
    pub connected: usize,
    /// How many clients had at least one echo during the measurement.
    pub served: usize,
    /// Round trips completed during the measurement.
    pub round_trips: u64,
    /// Length of the measurement, in seconds (after the warm-up).
    pub seconds: f64,
    /// Latency of each round trip of the measurement.
    pub latency: Histogram,
    /// Connections lost, echoes different from what was sent.
    pub errors: u64,
    /// The server's CPU time during the measurement (when compare started it).
    pub server_cpu: Option<Duration>,
    /// The load generator's own CPU time during the measurement.
    pub own_cpu: Option<Duration>,
    /// The server's threads at the end (when compare started it).
    pub threads: Option<u64>,
    /// The server's peak resident memory, KiB (when compare started it).
    pub peak_kib: Option<u64>,
    /// What went wrong, in French, when the row must be marked.
    pub failure: Option<String>,
}

impl Step {
    /// A step that could not run at all.
    pub fn failed(clients: usize, why: impl Into<String>) -> Step {
        Step {
            clients,
            failure: Some(why.into()),
            ..Step::default()
        }
    }

    /// Round trips per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.round_trips as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// CPU per round trip, in microseconds.
    pub fn per_round_trip(&self, cpu: Option<Duration>) -> Option<f64> {
        let cpu = cpu?;
        (self.round_trips > 0).then(|| cpu.as_secs_f64() * 1e6 / self.round_trips as f64)
    }
}

/// How one step is run.
pub struct Plan {
    pub clients: usize,
    pub size: usize,
    pub warm_up: Duration,
    pub duration: Duration,
    /// The server's process id, when compare started it (its CPU is read).
    pub server_pid: Option<u32>,
}

/// One client's connection and where it is in its round trip.
struct Client {
    stream: TcpStream,
    /// The message in flight; its first 8 bytes count the round trips, so an
    /// old echo never passes for a new one.
    message: Vec<u8>,
    sent: usize,
    received: usize,
    sent_at: Instant,
    served: bool,
    open: bool,
}

impl Client {
    /// What its socket is watched for: room to write while the message is
    /// not all sent (rare: 64 bytes fit at once), and the echo.
    fn interest(&self) -> Events {
        if self.sent < self.message.len() {
            Events::IN | Events::OUT
        } else {
            Events::IN
        }
    }
}

/// Runs one ping-pong step against `addrs` (the first that accepts).
/// `tick` is called about every 100 ms with the time left, for progress.
pub fn ping_pong(addrs: &[SocketAddr], plan: &Plan, tick: &mut dyn FnMut(Duration)) -> Step {
    drive::<Watcher>(addrs, plan, tick)
}

/// [`ping_pong`] with the clients' sockets watched by `W`.
fn drive<W: Watch>(addrs: &[SocketAddr], plan: &Plan, tick: &mut dyn FnMut(Duration)) -> Step {
    let mut step = Step {
        clients: plan.clients,
        ..Step::default()
    };
    let (mut clients, refused) = connect_all(addrs, plan.clients, plan.size);
    step.connected = clients.len();
    if clients.is_empty() {
        step.failure = Some(refused.unwrap_or_else(|| "aucune connexion".into()));
        return step;
    }
    let mut watcher = match W::new(clients.len()) {
        Ok(w) => w,
        Err(e) => {
            step.failure = Some(format!("{} a échoué ({})", W::NAME, Why(&e)));
            farewell(&clients, FAREWELL);
            return step;
        }
    };
    let mut buf = vec![0u8; plan.size.clamp(16 * 1024, 256 * 1024)];
    let mut open = clients.len();
    for (i, client) in clients.iter_mut().enumerate() {
        let started =
            send(client).and_then(|()| watcher.watch(i, &client.stream, client.interest()));
        if started.is_err() {
            watcher.forget(i, &client.stream);
            close(client, &mut open, &mut step.errors);
        }
    }

    let start = Instant::now();
    let measure_from = start + plan.warm_up;
    let end = measure_from + plan.duration;
    let mut measuring = false;
    let mut cpu_at_start = (None, None);
    let mut measure_start = measure_from;
    let mut next_tick = start;
    let mut ready = Vec::with_capacity(clients.len());
    while open > 0 {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if now >= next_tick {
            tick(end - now);
            next_tick = now + Duration::from_millis(100);
        }
        if !measuring && now >= measure_from {
            measuring = true;
            measure_start = now;
            cpu_at_start = (
                plan.server_pid.and_then(procfs::cpu_time),
                procfs::own_cpu_time(),
            );
        }
        let wake = if measuring { end } else { measure_from }.min(next_tick);
        if let Err(e) = watcher.wait(wake.saturating_duration_since(now), &mut ready) {
            step.failure = Some(format!("{} a échoué ({})", W::NAME, Why(&e)));
            break;
        }
        for &(i, events) in &ready {
            let client = &mut clients[i];
            if !client.open {
                continue;
            }
            let watched = client.interest();
            let mut outcome = Ok(());
            if events.contains(Events::OUT) {
                outcome = send(client);
            }
            if outcome.is_ok() && events.intersects(Events::IN | Events::HUP | Events::ERR) {
                outcome = receive(client, &mut buf, measuring, &mut step);
            }
            if outcome.is_ok() && client.interest() != watched {
                outcome = watcher.set(i, &client.stream, client.interest());
            }
            if outcome.is_err() {
                watcher.forget(i, &client.stream);
                close(client, &mut open, &mut step.errors);
            }
        }
    }
    let stop = Instant::now();
    if measuring {
        step.seconds = (stop - measure_start).as_secs_f64();
        let since =
            |now: Option<Duration>, then: Option<Duration>| Some(now?.saturating_sub(then?));
        if let Some(pid) = plan.server_pid {
            step.server_cpu = since(procfs::cpu_time(pid), cpu_at_start.0);
            step.threads = procfs::status_field(pid, "Threads:");
            step.peak_kib = procfs::status_field(pid, "VmHWM:");
        }
        step.own_cpu = since(procfs::own_cpu_time(), cpu_at_start.1);
    }
    step.served = clients.iter().filter(|c| c.served).count();
    // A served client's `sent_at` is the time of its last echo.
    let last_echo = clients.iter().filter(|c| c.served).map(|c| c.sent_at).max();
    let silence = last_echo.map(|t| stop.saturating_duration_since(t));
    farewell(&clients, FAREWELL);
    if step.failure.is_none() {
        step.failure = if open == 0 && step.round_trips == 0 {
            Some("a fermé toutes les connexions".into())
        } else if step.round_trips == 0 {
            Some(format!(
                "aucun écho en {} s",
                crate::report::decimal(plan.duration.as_secs_f64(), 1)
            ))
        } else if open == 0 {
            Some("a fermé toutes les connexions en cours de mesure".into())
        } else {
            silence
                .filter(|quiet| *quiet > SILENCE.max(plan.duration / 3))
                .map(|quiet| {
                    format!(
                        "ne répond plus depuis {} s",
                        crate::report::decimal(quiet.as_secs_f64(), 1)
                    )
                })
        };
    }
    if let (None, Some(why)) = (&step.failure, refused)
        && step.connected < plan.clients
    {
        step.failure = Some(format!(
            "{} connexions sur {} seulement : {why}",
            step.connected, plan.clients
        ));
    }
    step
}

/// Says goodbye politely: shuts our sending side (the server reads
/// end-of-file, as when a client closes), then reads what is still coming
/// until the server closes too, for `limit` at most. A socket closed with
/// unread data sends a reset instead, and a naive server dies of it
/// (Python's `recv` raises `ConnectionResetError`).
fn farewell(clients: &[Client], limit: Duration) {
    let open: Vec<&Client> = clients.iter().filter(|c| c.open).collect();
    let mut fds: Vec<PollFd> = open
        .iter()
        .map(|c| {
            let _ = c.stream.shutdown(Shutdown::Write);
            PollFd::new(&c.stream, Events::IN)
        })
        .collect();
    let deadline = Instant::now() + limit;
    let mut left = fds.len();
    let mut buf = [0u8; 4096];
    while left > 0 {
        let now = Instant::now();
        if now >= deadline || poll_fds(&mut fds, Some(deadline - now)).unwrap_or(0) == 0 {
            break;
        }
        for (fd, c) in fds.iter_mut().zip(&open) {
            if fd.fd() < 0 || fd.revents().is_empty() {
                continue;
            }
            if drained(&c.stream, &mut buf) {
                *fd = PollFd::from_raw(-1, Events::NONE);
                left -= 1;
            }
        }
    }
}

/// Reads and throws away what came; true once the peer has closed.
fn drained(stream: &TcpStream, buf: &mut [u8]) -> bool {
    match (&*stream).read(buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
        ),
    }
}

/// Opens up to `count` connections, non-blocking, within [`CONNECT_BUDGET`];
/// returns them, and why it stopped early if it did.
fn connect_all(addrs: &[SocketAddr], count: usize, size: usize) -> (Vec<Client>, Option<String>) {
    let deadline = Instant::now() + CONNECT_BUDGET + CONNECT_PER_CLIENT * count as u32;
    let mut clients = Vec::with_capacity(count);
    let mut addr = None;
    for i in 0..count {
        let (stream, a) = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (
                    clients,
                    Some("pas de réponse à la connexion (délai dépassé)".into()),
                );
            }
            let attempt = match addr {
                Some(a) => TcpStream::connect_timeout(&a, left.min(CONNECT_RETRY)).map(|s| (s, a)),
                None => connect_first(addrs, left.min(CONNECT_BUDGET)),
            };
            match attempt {
                Ok(ok) => break ok,
                Err(e) if e.kind() == io::ErrorKind::TimedOut && addr.is_some() => continue,
                Err(e) => return (clients, Some(refusal(&e))),
            }
        };
        addr = Some(a);
        if stream.set_nodelay(true).is_err() || stream.set_nonblocking(true).is_err() {
            return (clients, Some("réglage de la socket impossible".into()));
        }
        let mut message: Vec<u8> = (0..size).map(|k| (i * 31 + k) as u8 | 0x20).collect();
        stamp(&mut message, 0);
        clients.push(Client {
            stream,
            message,
            sent: 0,
            received: 0,
            sent_at: Instant::now(),
            served: false,
            open: true,
        });
    }
    (clients, None)
}

/// The first address of `addrs` that accepts a connection.
fn connect_first(addrs: &[SocketAddr], limit: Duration) -> io::Result<(TcpStream, SocketAddr)> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "aucune adresse");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, limit) {
            Ok(s) => return Ok((s, *addr)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The French words for a failed connect.
fn refusal(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => format!("connexion refusée ({})", Why(e)),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            "pas de réponse à la connexion (délai dépassé)".into()
        }
        _ => format!("connexion impossible ({})", Why(e)),
    }
}

/// Writes the round-trip number into the message's first bytes.
fn stamp(message: &mut [u8], round: u64) {
    let bytes = round.to_le_bytes();
    let n = message.len().min(8);
    message[..n].copy_from_slice(&bytes[..n]);
}

/// Sends what is left of the message, until the socket's buffer is full
/// (then [`Client::interest`] asks for room, `OUT`).
fn send(client: &mut Client) -> io::Result<()> {
    while client.sent < client.message.len() {
        match (&client.stream).write(&client.message[client.sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => client.sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads what came back, checks it against what was sent; a whole echo is
/// one round trip, and the next message goes at once.
fn receive(
    client: &mut Client,
    buf: &mut [u8],
    measuring: bool,
    step: &mut Step,
) -> io::Result<()> {
    let n = match (&client.stream).read(buf) {
        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
        Err(e) => return Err(e),
    };
    let expected = client.message.get(client.received..client.received + n);
    if expected != Some(&buf[..n]) || client.received + n > client.sent {
        // More than was sent, or other bytes: not an echo.
        return Err(io::ErrorKind::InvalidData.into());
    }
    client.received += n;
    if client.received < client.message.len() {
        return Ok(()); // the echo comes in pieces: wait for the rest
    }
    let now = Instant::now();
    if measuring {
        step.round_trips += 1;
        step.latency.record(now - client.sent_at);
        client.served = true;
    }
    let round = u64::from_le_bytes(first8(&client.message)).wrapping_add(1);
    stamp(&mut client.message, round);
    client.sent = 0;
    client.received = 0;
    client.sent_at = now;
    send(client)
}

fn first8(message: &[u8]) -> [u8; 8] {
    let mut bytes = [0u8; 8];
    let n = message.len().min(8);
    bytes[..n].copy_from_slice(&message[..n]);
    bytes
}

/// Counts a client that failed, and leaves it be.
fn close(client: &mut Client, open: &mut usize, errors: &mut u64) {
    if client.open {
        client.open = false;
        *open -= 1;
        *errors += 1;
    }
}

// ------------------------------------------------------------- watching

/// How [`ping_pong`] waits for its clients' sockets: each client is a
/// `slot` (its index), watched for `IN`, or `IN | OUT` while its message is
/// not all sent.
trait Watch: Sized {
    /// The system call, for the French line when it fails.
    const NAME: &'static str;
    fn new(slots: usize) -> io::Result<Self>;
    fn watch(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()>;
    fn set(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()>;
    fn forget(&mut self, slot: usize, stream: &TcpStream);
    /// Waits at most `timeout`, and puts the ready slots in `ready`.
    fn wait(&mut self, timeout: Duration, ready: &mut Vec<(usize, Events)>) -> io::Result<()>;
}

/// On Linux, epoll; elsewhere (macOS...), poll.
#[cfg(target_os = "linux")]
type Watcher = EpollWatcher;
#[cfg(not(target_os = "linux"))]
type Watcher = PollWatcher;

/// The kernel keeps the list: a client is registered once, and a wait
/// costs the ready ones only.
#[cfg(target_os = "linux")]
struct EpollWatcher {
    epoll: Epoll,
    events: Vec<EpollEvent>,
}

/// At most this many ready sockets are taken per `epoll_wait`; the others
/// stay ready for the next.
#[cfg(target_os = "linux")]
const EPOLL_BATCH: usize = 1024;

#[cfg(target_os = "linux")]
impl Watch for EpollWatcher {
    const NAME: &'static str = "epoll";

    fn new(slots: usize) -> io::Result<Self> {
        Ok(EpollWatcher {
            epoll: Epoll::new()?,
            events: vec![EpollEvent::EMPTY; slots.clamp(1, EPOLL_BATCH)],
        })
    }

    fn watch(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.epoll.add(stream, events, slot as u64)
    }

    fn set(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.epoll.modify(stream, events, slot as u64)
    }

    fn forget(&mut self, _slot: usize, stream: &TcpStream) {
        let _ = self.epoll.delete(stream); // never watched: nothing to undo
    }

    fn wait(&mut self, timeout: Duration, ready: &mut Vec<(usize, Events)>) -> io::Result<()> {
        let n = self.epoll.wait(&mut self.events, Some(timeout))?;
        ready.clear();
        ready.extend(
            self.events[..n]
                .iter()
                .map(|e| (e.token() as usize, e.events())),
        );
        Ok(())
    }
}

/// A socket that has had no event for this long leaves the main `poll` and
/// is looked at every [`PARKED_EVERY`] only. The blocking server keeps
/// C − 1 clients waiting for the whole step: polling them at every round
/// trip of the one it serves would make the generator cost C times more
/// than the server. A late echo is seen at most this much later, on a
/// latency of [`PARK_AFTER`] or more: a few per cent. (epoll needs none of
/// this: a socket that waits costs it nothing.)
const PARK_AFTER: Duration = Duration::from_millis(100);
const PARKED_EVERY: Duration = Duration::from_millis(5);

/// Where there is no epoll: the whole list is given to `poll` at every
/// wait, minus the sockets that have waited long (parked, see [`PARK_AFTER`]).
#[cfg_attr(target_os = "linux", allow(dead_code))]
struct PollWatcher {
    /// Per slot: its socket and what it waits for (`NONE`: forgotten), since
    /// when it has had no event, and whether it is parked.
    wants: Vec<(RawFd, Events)>,
    quiet_since: Vec<Instant>,
    parked: Vec<bool>,
    /// The main poll: `fds[k]` is slot `slots[k]`; `stale` once it must be
    /// built again.
    fds: Vec<PollFd>,
    slots: Vec<usize>,
    stale: bool,
    parked_count: usize,
    next_check: Instant,
}

#[cfg_attr(target_os = "linux", allow(dead_code))]
impl PollWatcher {
    /// Parks the slots quiet for too long, and brings back those of the
    /// parked that are ready (a `poll` of the parked alone, without waiting).
    fn check_parked(&mut self, now: Instant) {
        let mut look = Vec::new();
        let mut which = Vec::new();
        for slot in 0..self.wants.len() {
            let (fd, events) = self.wants[slot];
            if events.is_empty() {
                continue;
            }
            if !self.parked[slot] && now - self.quiet_since[slot] >= PARK_AFTER {
                self.parked[slot] = true;
                self.stale = true;
            }
            if self.parked[slot] {
                look.push(PollFd::from_raw(fd, events));
                which.push(slot);
            }
        }
        self.parked_count = look.len();
        if look.is_empty() || poll_fds(&mut look, Some(Duration::ZERO)).unwrap_or(0) == 0 {
            return;
        }
        for (fd, slot) in look.iter().zip(which) {
            if !fd.revents().is_empty() {
                self.parked[slot] = false;
                self.quiet_since[slot] = now;
                self.parked_count -= 1;
                self.stale = true;
            }
        }
    }
}

impl Watch for PollWatcher {
    const NAME: &'static str = "poll";

    fn new(slots: usize) -> io::Result<Self> {
        Ok(PollWatcher {
            wants: vec![(-1, Events::NONE); slots],
            quiet_since: vec![Instant::now(); slots],
            parked: vec![false; slots],
            fds: Vec::with_capacity(slots),
            slots: Vec::with_capacity(slots),
            stale: true,
            parked_count: 0,
            next_check: Instant::now(),
        })
    }

    fn watch(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.wants[slot] = (stream.as_raw_fd(), events);
        self.quiet_since[slot] = Instant::now();
        self.stale = true;
        Ok(())
    }

    fn set(&mut self, slot: usize, stream: &TcpStream, events: Events) -> io::Result<()> {
        self.watch(slot, stream, events)
    }

    fn forget(&mut self, slot: usize, _stream: &TcpStream) {
        self.wants[slot].1 = Events::NONE;
        if self.parked[slot] {
            self.parked[slot] = false;
            self.parked_count -= 1;
        }
        self.stale = true;
    }

    fn wait(&mut self, timeout: Duration, ready: &mut Vec<(usize, Events)>) -> io::Result<()> {
        let now = Instant::now();
        if now >= self.next_check {
            self.check_parked(now);
            self.next_check = now + PARKED_EVERY;
        }
        if self.stale {
            self.fds.clear();
            self.slots.clear();
            for (slot, &(fd, events)) in self.wants.iter().enumerate() {
                if !events.is_empty() && !self.parked[slot] {
                    self.fds.push(PollFd::from_raw(fd, events));
                    self.slots.push(slot);
                }
            }
            self.stale = false;
        }
        let timeout = if self.parked_count > 0 {
            timeout.min(self.next_check.saturating_duration_since(now))
        } else {
            timeout
        };
        ready.clear();
        if poll_fds(&mut self.fds, Some(timeout))? == 0 {
            return Ok(());
        }
        let now = Instant::now();
        for (fd, &slot) in self.fds.iter().zip(&self.slots) {
            if !fd.revents().is_empty() {
                ready.push((slot, fd.revents()));
                self.quiet_since[slot] = now;
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------- waiting

/// When one client of the waiting picture was connected, first served, and
/// done, in seconds since they all connected.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Strip {
    pub connected: f64,
    /// The first echo; `None`: never served before the limit.
    pub first_echo: Option<f64>,
    /// When it closed after its share, or when the limit cut it.
    pub done: f64,
}

/// `clients` connect together; each does ping-pong for `hold` from its first
/// echo, then closes. Returns one strip per client, or why not. Never lasts
/// more than `limit`.
pub fn waiting(
    addrs: &[SocketAddr],
    clients: usize,
    hold: Duration,
    limit: Duration,
) -> Result<Vec<Strip>, String> {
    let t0 = Instant::now();
    let (mut conns, refused) = connect_all(addrs, clients, 64);
    if conns.len() < clients {
        return Err(refused.unwrap_or_else(|| "aucune connexion".into()));
    }
    let at = |t: Instant| (t - t0).as_secs_f64();
    let mut strips: Vec<Strip> = conns
        .iter()
        .map(|c| Strip {
            connected: at(c.sent_at),
            first_echo: None,
            done: 0.0,
        })
        .collect();
    let mut fds: Vec<PollFd> = conns
        .iter()
        .map(|c| PollFd::new(&c.stream, Events::IN))
        .collect();
    let mut scratch = Step::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut open = conns.len();
    let mut lost = 0u64;
    for i in 0..conns.len() {
        if send(&mut conns[i]).is_err() {
            strips[i].done = at(Instant::now());
            close(&mut conns[i], &mut open, &mut lost);
            fds[i] = PollFd::from_raw(-1, Events::NONE);
        }
    }
    let deadline = t0 + limit;
    let mut drain = [0u8; 4096];
    while fds.iter().any(|fd| fd.fd() >= 0) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        // Wake up in time to close a client whose share is over.
        let wake = strips
            .iter()
            .zip(&conns)
            .filter(|(_, c)| c.open)
            .filter_map(|(s, _)| s.first_echo)
            .map(|f| t0 + Duration::from_secs_f64(f) + hold)
            .fold(deadline, Instant::min);
        if poll_fds(&mut fds, Some(wake.saturating_duration_since(now))).is_err() {
            break;
        }
        let now = Instant::now();
        for i in 0..conns.len() {
            let ready = fds[i].revents();
            if fds[i].fd() < 0 || ready.is_empty() && !conns[i].open {
                continue;
            }
            if !conns[i].open {
                // Its share is over: read its last echo until the server closes.
                if drained(&conns[i].stream, &mut drain) {
                    fds[i] = PollFd::from_raw(-1, Events::NONE);
                }
                continue;
            }
            let mut outcome = Ok(());
            if ready.contains(Events::OUT) {
                outcome = send(&mut conns[i]);
            }
            if outcome.is_ok() && ready.intersects(Events::IN | Events::HUP | Events::ERR) {
                let before = scratch.round_trips;
                outcome = receive(&mut conns[i], &mut buf, true, &mut scratch);
                if scratch.round_trips > before && strips[i].first_echo.is_none() {
                    strips[i].first_echo = Some(at(Instant::now()));
                }
            }
            let share_over = strips[i]
                .first_echo
                .is_some_and(|f| at(now) >= f + hold.as_secs_f64());
            if outcome.is_err() {
                strips[i].done = at(now);
                close(&mut conns[i], &mut open, &mut lost);
                fds[i] = PollFd::from_raw(-1, Events::NONE);
            } else if share_over {
                // Done, as a client closes: the server reads end-of-file (a
                // blocking server then takes the next one).
                strips[i].done = at(now);
                conns[i].open = false;
                open -= 1;
                let _ = conns[i].stream.shutdown(Shutdown::Write);
                fds[i] = PollFd::new(&conns[i].stream, Events::IN);
            } else {
                fds[i] = PollFd::new(&conns[i].stream, conns[i].interest());
            }
        }
    }
    let end = at(Instant::now());
    for (strip, c) in strips.iter_mut().zip(&conns) {
        if c.open {
            strip.done = end;
        }
    }
    Ok(strips)
}

// ------------------------------------------------------------- latency

/// Latencies counted in buckets, three significant digits of microseconds:
/// memory stays the same however long the measurement (a list of every
/// latency would grow by megabytes a second).
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

/// Buckets: 0..999 µs exactly, then 900 buckets per power of ten, up to
/// 10^9 µs (over 16 minutes).
const DECADES: usize = 6;

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; 1000 + DECADES * 900],
            total: 0,
        }
    }
}

impl Histogram {
    /// Counts one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = latency.as_micros().min(u64::MAX as u128) as u64;
        let index = Self::index(micros).min(self.counts.len() - 1);
        self.counts[index] += 1;
        self.total += 1;
    }

    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latency under which `p` % of them fall, in microseconds
    /// (`None` when there is none).
    pub fn percentile(&self, p: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(Self::value(index));
            }
        }
        Some(Self::value(self.counts.len() - 1))
    }

    fn index(micros: u64) -> usize {
        if micros < 1000 {
            return micros as usize;
        }
        let mut decade = 0;
        let mut m = micros;
        while m >= 1000 {
            m /= 10;
            decade += 1;
        }
        1000 + (decade - 1) * 900 + (m as usize - 100)
    }

    fn value(index: usize) -> u64 {
        if index < 1000 {
            return index as u64;
        }
        let decade = (index - 1000) / 900 + 1;
        let mantissa = ((index - 1000) % 900 + 100) as u64;
        mantissa * 10u64.pow(decade as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_keeps_three_digits() {
        let mut h = Histogram::default();
        for us in [5u64, 7, 25, 999, 1234, 56_789, 3_000_000] {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.count(), 7);
        assert_eq!(h.percentile(0.0), Some(5));
        assert_eq!(h.percentile(50.0), Some(999));
        assert_eq!(h.percentile(60.0), Some(1230));
        assert_eq!(h.percentile(80.0), Some(56_700));
        assert_eq!(h.percentile(100.0), Some(3_000_000));
        assert_eq!(Histogram::default().percentile(50.0), None);
        for us in [0, 999, 1000, 1999, 10_000, 999_999_999] {
            let v = Histogram::value(Histogram::index(us));
            assert!(v <= us && us - v <= us / 100, "{us} -> {v}");
        }
    }

    /// An echo server, one thread per connection, for the tests below;
    /// `serve` says how many connections it answers (the others wait).
    fn echo_server(serve: usize) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut waiting = Vec::new();
            for (k, conn) in listener.incoming().enumerate() {
                let Ok(mut conn) = conn else { return };
                if k >= serve {
                    waiting.push(conn);
                    continue;
                }
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = conn.read(&mut buf) {
                        if conn.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn short_plan(clients: usize) -> Plan {
        Plan {
            clients,
            size: 64,
            warm_up: Duration::from_millis(20),
            duration: Duration::from_millis(300),
            server_pid: None,
        }
    }

    #[test]
    fn every_client_is_served_whatever_watches_them() {
        let addr = echo_server(usize::MAX);
        for step in [
            drive::<Watcher>(&[addr], &short_plan(5), &mut |_| {}),
            drive::<PollWatcher>(&[addr], &short_plan(5), &mut |_| {}),
        ] {
            assert_eq!(step.failure, None);
            assert_eq!((step.connected, step.served, step.errors), (5, 5, 0));
            assert!(step.round_trips > 0 && step.own_cpu.is_some());
            assert_eq!(step.latency.count(), step.round_trips);
        }
    }

    #[test]
    fn clients_that_wait_do_not_stop_the_one_served() {
        // The poll watcher parks the waiting ones after PARK_AFTER: the
        // served client goes on, and none of them is lost.
        for step in [
            drive::<Watcher>(&[echo_server(1)], &short_plan(4), &mut |_| {}),
            drive::<PollWatcher>(&[echo_server(1)], &short_plan(4), &mut |_| {}),
        ] {
            assert_eq!(step.failure, None);
            assert_eq!((step.connected, step.served, step.errors), (4, 1, 0));
            assert!(step.round_trips > 0);
        }
    }

    #[test]
    fn a_refused_connection_is_a_marked_step() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let plan = Plan {
            clients: 3,
            size: 64,
            warm_up: Duration::ZERO,
            duration: Duration::from_millis(50),
            server_pid: None,
        };
        let step = ping_pong(&[addr], &plan, &mut |_| {});
        assert_eq!(step.connected, 0);
        assert!(step.failure.unwrap().contains("connexion refusée"));
    }
}
