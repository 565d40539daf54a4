//! The ping-pong driver: a [`Session`] holds C clients connected to one
//! server and measures them in short rounds.
//!
//! Why rounds: on a shared machine, the rate of one long measurement
//! depends on what else ran during those seconds. compare measures every
//! server of a C in turn, several times over (server A, B, C, D, then A, B,
//! C, D again…), so that a slow moment hits them all alike, and each cell
//! of the table is the median of its rounds, with the lowest and highest
//! beside it. The connections stay open between rounds: a round only needs
//! a short warm-up.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use netlabs::Why;

use super::watch::{Watch, Watcher};
use super::{Client, FAREWELL, Histogram, close, connect_all, farewell, receive, send};
use crate::busy::{Probe, Usage};

/// The warm-up of every round but the first: the connections are open and
/// the server has run; a tenth of a second lets the sleeping cores wake up
/// and the echoes left in flight by the pause come back, unmeasured.
pub const REWARM: Duration = Duration::from_millis(100);

/// A server that has sent no echo for this long (or a third of the
/// measured time) at the end of its last round has stopped answering: its
/// row is marked.
const SILENCE: Duration = Duration::from_millis(500);

/// How long the generator waits for an echo without sleeping, when at most
/// one client is served (C = 1, or the blocking server).
///
/// Why: with a single client, every round trip wakes the server, then the
/// client. On a virtual machine, waking a process asleep on the *other*
/// core costs an inter-processor interrupt that the hypervisor must deliver
/// (tens of µs, charged to the process that wakes the other), while waking
/// one on the same core costs almost nothing. Where the scheduler puts the
/// two processes decides, run by run, between ~50 000 round trips per
/// second (same core) and ~12 000 (two cores): the 3–4× swings of C = 1.
/// A generator that does not sleep while it waits for the echo is never
/// woken: the server's answer finds it running, wherever it is, and C = 1
/// reads the same from one run to the next (~35 000 here). The time spent
/// so is not counted in compare's CPU per round trip (it is waiting, not
/// work). At C ≥ 10, an echo is nearly always ready and nothing spins.
pub const SPIN: Duration = Duration::from_micros(200);

/// How one step is run (one server, one C), for [`ping_pong`].
pub struct Plan {
    pub clients: usize,
    pub size: usize,
    /// Before the first round.
    pub warm_up: Duration,
    /// Measured in all, split into `rounds`.
    pub duration: Duration,
    pub rounds: u32,
}

/// What one step (one server, one C) measured, over all its rounds.
#[derive(Clone, Debug, Default)]
pub struct Step {
    /// C, the clients asked for.
    pub clients: usize,
    /// How many connections were actually open.
    pub connected: usize,
    /// How many clients had at least one echo during a measured round.
    pub served: usize,
    /// Round trips completed, every round added up.
    pub round_trips: u64,
    /// Time measured, every round added up (warm-ups left out), seconds.
    pub seconds: f64,
    /// The rate of each round, round trips per second.
    pub rates: Vec<f64>,
    /// Latency of each round trip measured.
    pub latency: Histogram,
    /// Connections lost, echoes different from what was sent.
    pub errors: u64,
    /// CPU time of the server, of the generator (time spent waiting without
    /// sleeping left out: see [`SPIN`]) and of the machine during the rounds.
    pub server_cpu: Option<Duration>,
    pub own_cpu: Option<Duration>,
    pub usage: Option<Usage>,
    /// The server's threads and peak resident memory (KiB), read at the end
    /// when its process is known.
    pub threads: Option<u64>,
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

    /// Round trips per second: the median of the rounds (or, without
    /// rounds, the whole count over the whole time).
    pub fn rate(&self) -> f64 {
        if !self.rates.is_empty() {
            return median(&self.rates);
        }
        if self.seconds > 0.0 {
            self.round_trips as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The lowest and the highest round, when there were two or more.
    pub fn spread(&self) -> Option<(f64, f64)> {
        if self.rates.len() < 2 {
            return None;
        }
        let low = self.rates.iter().copied().fold(f64::INFINITY, f64::min);
        let high = self.rates.iter().copied().fold(0.0, f64::max);
        Some((low, high))
    }

    /// CPU per round trip, in microseconds.
    pub fn per_round_trip(&self, cpu: Option<Duration>) -> Option<f64> {
        let cpu = cpu?;
        (self.round_trips > 0).then(|| cpu.as_secs_f64() * 1e6 / self.round_trips as f64)
    }
}

/// The middle value (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Opens a session, runs `plan.rounds` rounds one after the other, and
/// closes it: one server measured alone (a test, the benchmark).
pub fn ping_pong(
    addrs: &[SocketAddr],
    plan: &Plan,
    probe: &mut dyn Probe,
    tick: &mut dyn FnMut(Duration),
) -> Step {
    let mut session = match Session::open(addrs, plan.clients, plan.size) {
        Ok(session) => session,
        Err(why) => return Step::failed(plan.clients, why),
    };
    let rounds = plan.rounds.max(1);
    for r in 0..rounds {
        let warm_up = if r == 0 {
            plan.warm_up
        } else {
            plan.warm_up.min(REWARM)
        };
        session.round(warm_up, plan.duration / rounds, probe, tick);
    }
    session.finish()
}

/// C clients connected to one server, each with its message in flight.
pub struct Session<W: Watch = Watcher> {
    clients: Vec<Client>,
    watcher: W,
    open: usize,
    buf: Vec<u8>,
    /// Clients that have had an echo, warm-ups included: while there is at
    /// most one, the generator waits without sleeping ([`SPIN`]).
    echoed: Vec<bool>,
    echoed_count: usize,
    /// Echoes that were not what was sent; connections the server closed.
    mangled: u64,
    /// Measured time since the last echo, at the end of the last round.
    quiet: Duration,
    /// Why not all C clients are connected.
    refused: Option<String>,
    spun: Duration,
    step: Step,
}

impl Session<Watcher> {
    /// Connects `clients` clients to the first of `addrs` that accepts and
    /// sends each its first message; why not, when none connects.
    pub fn open(addrs: &[SocketAddr], clients: usize, size: usize) -> Result<Session, String> {
        Session::open_with(addrs, clients, size)
    }
}

impl<W: Watch> Session<W> {
    /// [`Session::open`] with the sockets watched by `W`.
    pub fn open_with(addrs: &[SocketAddr], count: usize, size: usize) -> Result<Self, String> {
        let (mut clients, refused) = connect_all(addrs, count, size);
        if clients.is_empty() {
            return Err(refused.unwrap_or_else(|| "aucune connexion".into()));
        }
        let mut watcher = match W::new(clients.len()) {
            Ok(w) => w,
            Err(e) => {
                farewell(&clients, FAREWELL);
                return Err(format!("{} a échoué ({})", W::NAME, Why(&e)));
            }
        };
        let mut step = Step {
            clients: count,
            connected: clients.len(),
            ..Step::default()
        };
        let mut open = clients.len();
        for (i, client) in clients.iter_mut().enumerate() {
            let started =
                send(client).and_then(|()| watcher.watch(i, &client.stream, client.interest()));
            if started.is_err() {
                watcher.forget(i, &client.stream);
                close(client, &mut open, &mut step.errors);
            }
        }
        Ok(Session {
            echoed: vec![false; clients.len()],
            echoed_count: 0,
            buf: vec![0u8; size.clamp(16 * 1024, 256 * 1024)],
            clients,
            watcher,
            open,
            mangled: 0,
            quiet: Duration::ZERO,
            refused,
            spun: Duration::ZERO,
            step,
        })
    }

    /// One round: `warm_up`, then `duration` measured, the CPU read through
    /// `probe` at both ends of the measured part. `tick` is called about
    /// every 100 ms with the time left, for progress.
    pub fn round(
        &mut self,
        warm_up: Duration,
        duration: Duration,
        probe: &mut dyn Probe,
        tick: &mut dyn FnMut(Duration),
    ) {
        if self.open == 0 || self.step.failure.is_some() {
            return;
        }
        let start = Instant::now();
        let measure_from = start + warm_up;
        let end = measure_from + duration;
        let mut measuring = false;
        let mut before = None;
        let mut measure_start = measure_from;
        let mut round_trips = 0u64;
        let mut spun = Duration::ZERO;
        let mut last_echo = None;
        let mut next_tick = start;
        let mut ready = Vec::with_capacity(self.clients.len().min(1024));
        while self.open > 0 {
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
                spun = Duration::ZERO;
                before = Some(probe.read());
            }
            let wake = if measuring { end } else { measure_from }.min(next_tick);
            let spin = if self.echoed_count <= 1 {
                SPIN
            } else {
                Duration::ZERO
            };
            let timeout = wake.saturating_duration_since(now);
            match wait(&mut self.watcher, timeout, spin, &mut ready) {
                Ok(waited) => spun += waited,
                Err(e) => {
                    self.step.failure = Some(format!("{} a échoué ({})", W::NAME, Why(&e)));
                    break;
                }
            }
            for &(i, events) in &ready {
                match self.serve(i, events) {
                    Ok(Some(latency)) => {
                        if !self.echoed[i] {
                            self.echoed[i] = true;
                            self.echoed_count += 1;
                        }
                        if measuring {
                            round_trips += 1;
                            self.step.latency.record(latency);
                            self.clients[i].served = true;
                            last_echo = Some(Instant::now());
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        if e.kind() == io::ErrorKind::InvalidData {
                            self.mangled += 1;
                        }
                        let client = &mut self.clients[i];
                        self.watcher.forget(i, &client.stream);
                        close(client, &mut self.open, &mut self.step.errors);
                    }
                }
            }
        }
        let stop = Instant::now();
        let Some(before) = before else {
            return; // every connection closed during the warm-up
        };
        let usage = Usage::between(&before, &probe.read());
        let seconds = (stop - measure_start).as_secs_f64();
        self.step.round_trips += round_trips;
        self.step.seconds += seconds;
        if seconds > 0.0 {
            self.step.rates.push(round_trips as f64 / seconds);
        }
        self.step.usage = Some(match self.step.usage {
            Some(sum) => sum.add(&usage),
            None => usage,
        });
        self.spun += spun;
        self.quiet = match last_echo {
            Some(t) => stop.saturating_duration_since(t),
            None => self.quiet + (stop - measure_start),
        };
    }

    /// What to do for client `i` whose socket is ready: the rest of its
    /// message, its echo; `Some(latency)` for a whole round trip.
    fn serve(&mut self, i: usize, events: netlabs::sys::Events) -> io::Result<Option<Duration>> {
        use netlabs::sys::Events;
        let client = &mut self.clients[i];
        if !client.open {
            return Ok(None);
        }
        let watched = client.interest();
        if events.contains(Events::OUT) {
            send(client)?;
        }
        let mut echo = None;
        if events.intersects(Events::IN | Events::HUP | Events::ERR) {
            echo = receive(client, &mut self.buf)?;
        }
        if client.interest() != watched {
            self.watcher.set(i, &client.stream, client.interest())?;
        }
        Ok(echo)
    }

    /// Says goodbye to the server and tells what the rounds measured, the
    /// row marked with the reason if the server refused, changed the bytes,
    /// closed, or fell silent.
    pub fn finish(self) -> Step {
        farewell(&self.clients, FAREWELL);
        let mut step = self.step;
        step.served = self.clients.iter().filter(|c| c.served).count();
        if let Some(usage) = step.usage {
            step.server_cpu = usage.server;
            step.own_cpu = usage.generator.map(|cpu| cpu.saturating_sub(self.spun));
        }
        if step.failure.is_none() {
            step.failure = verdict(&step, self.open, self.mangled, self.quiet);
        }
        if let (None, Some(why)) = (&step.failure, self.refused)
            && step.connected < step.clients
        {
            step.failure = Some(format!(
                "{} sur {} seulement : {why}",
                netlabs::plural(
                    step.connected as u64,
                    "aucune connexion",
                    "connexion",
                    "connexions"
                ),
                step.clients
            ));
        }
        step
    }
}

/// Why a step that ran must be marked, if it must: what was seen.
fn verdict(step: &Step, open: usize, mangled: u64, quiet: Duration) -> Option<String> {
    if mangled > 0 {
        // The server answered, but not with what it received: compare
        // closed those connections itself.
        return Some(format!(
            "les octets renvoyés diffèrent de ceux envoyés ({})",
            netlabs::plural(mangled, "", "écho faux", "échos faux")
        ));
    }
    let measured = Duration::from_secs_f64(step.seconds);
    if open == 0 && step.round_trips == 0 {
        Some("a fermé toutes les connexions".into())
    } else if step.round_trips == 0 {
        Some(format!(
            "aucun écho en {} s",
            crate::report::decimal(measured.as_secs_f64(), 1)
        ))
    } else if open == 0 {
        Some("a fermé toutes les connexions en cours de mesure".into())
    } else if quiet > SILENCE.max(measured / 3) {
        Some(format!(
            "ne répond plus depuis {} s",
            crate::report::decimal(quiet.as_secs_f64(), 1)
        ))
    } else {
        None
    }
}

/// Waits for ready sockets, at most `timeout`; first without sleeping for
/// up to `spin` (see [`SPIN`]). Returns the CPU time spent so: the time of
/// the wait calls that found nothing, each a microsecond or so; a longer
/// one means that another process ran meanwhile, and that time is not ours.
fn wait<W: Watch>(
    watcher: &mut W,
    timeout: Duration,
    spin: Duration,
    ready: &mut Vec<(usize, netlabs::sys::Events)>,
) -> io::Result<Duration> {
    /// A wait that finds nothing and lasts longer than this was interrupted.
    const PREEMPTED: Duration = Duration::from_micros(50);
    if spin.is_zero() {
        watcher.wait(timeout, ready)?;
        return Ok(Duration::ZERO);
    }
    let started = Instant::now();
    let until = started + spin.min(timeout);
    let mut spun = Duration::ZERO;
    let mut last = started;
    loop {
        watcher.wait(Duration::ZERO, ready)?;
        let now = Instant::now();
        if now - last < PREEMPTED {
            spun += now - last;
        }
        last = now;
        if !ready.is_empty() || now >= until {
            break;
        }
        std::hint::spin_loop();
    }
    if ready.is_empty() {
        watcher.wait(timeout.saturating_sub(last - started), ready)?;
    }
    Ok(spun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::busy::Reading;
    use crate::load::watch::PollWatcher;
    use std::io::{Read, Write};

    /// No /proc: the tests look at the sockets only.
    struct NoProbe;
    impl Probe for NoProbe {
        fn read(&mut self) -> Reading {
            Reading::default()
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

    /// Three rounds of 0.1 s with the sockets watched by `W`. The first
    /// warm-up gives every client its first echo before anything is
    /// counted, even on a busy machine slow to run the server's threads.
    fn run<W: Watch>(addr: SocketAddr, clients: usize) -> Step {
        let mut session = Session::<W>::open_with(&[addr], clients, 64).unwrap();
        for warm_up in [500, 20, 20] {
            session.round(
                Duration::from_millis(warm_up),
                Duration::from_millis(100),
                &mut NoProbe,
                &mut |_| {},
            );
        }
        session.finish()
    }

    #[test]
    fn every_client_is_served_whatever_watches_them() {
        let addr = echo_server(usize::MAX);
        for step in [run::<Watcher>(addr, 5), run::<PollWatcher>(addr, 5)] {
            assert_eq!(step.failure, None);
            assert_eq!((step.connected, step.served, step.errors), (5, 5, 0));
            assert_eq!(step.rates.len(), 3);
            assert!(step.round_trips > 0);
            assert_eq!(step.latency.count(), step.round_trips);
            let (low, high) = step.spread().unwrap();
            assert!(low <= step.rate() && step.rate() <= high);
        }
    }

    #[test]
    fn clients_that_wait_do_not_stop_the_one_served() {
        // The poll watcher parks the waiting ones after a while: the served
        // client goes on, and none of them is lost.
        for step in [
            run::<Watcher>(echo_server(1), 4),
            run::<PollWatcher>(echo_server(1), 4),
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
            rounds: 1,
        };
        let step = ping_pong(&[addr], &plan, &mut NoProbe, &mut |_| {});
        assert_eq!(step.connected, 0);
        assert!(step.failure.unwrap().contains("connexion refusée"));
    }

    /// Made-up counters: between two readings, the server used 2 ms,
    /// compare 3 ms, the machine 10 ms of work and 2 ms idle.
    struct Counting(u64);
    impl Probe for Counting {
        fn read(&mut self) -> Reading {
            self.0 += 1;
            let ms = |k: u64| Some(Duration::from_millis(k * self.0));
            Reading {
                server: ms(2),
                generator: ms(3),
                machine: Some(crate::busy::Machine {
                    busy: Duration::from_millis(10 * self.0),
                    idle: Duration::from_millis(2 * self.0),
                    steal: Duration::ZERO,
                }),
            }
        }
    }

    #[test]
    fn each_round_reads_the_probe_at_both_ends_of_its_measure() {
        let mut session = Session::open(&[echo_server(usize::MAX)], 2, 64).unwrap();
        let mut probe = Counting(0);
        for _ in 0..3 {
            session.round(
                Duration::ZERO,
                Duration::from_millis(50),
                &mut probe,
                &mut |_| {},
            );
        }
        let step = session.finish();
        let usage = step.usage.unwrap();
        assert_eq!(usage.server, Some(Duration::from_millis(6)));
        assert_eq!(usage.machine.unwrap().busy, Duration::from_millis(30));
        // 30 ms of work, 15 of them ours: 15 of the machine's 36 ms went to others.
        assert_eq!(
            crate::busy::note(&[usage]).0,
            "Machine occupée : 42 % du CPU pris par d'autres pendant la mesure ; relancez au calme."
        );
        assert_eq!(step.server_cpu, Some(Duration::from_millis(6)));
    }

    #[test]
    fn medians_and_spreads() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        let step = Step {
            rates: vec![10.0, 30.0, 20.0],
            ..Step::default()
        };
        assert_eq!(step.rate(), 20.0);
        assert_eq!(step.spread(), Some((10.0, 30.0)));
    }
}
