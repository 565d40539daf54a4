//! `labcheck` — checks a lab server written by anyone, in any language,
//! from outside, as a client would: `echo`, `echo-udp`, `prime`,
//! `prime-udp`, `kv`, `pesto`.
//!
//! A run is a list of checks. After each one, labcheck knocks again (a
//! fresh connection, a fresh datagram): a server that died or got stuck
//! fails the check that did it, named as such, and the checks left are
//! written down as not run ([`verdict`]). When the server runs on this
//! machine, its process tells its language (for advice in that language),
//! its model (threads, children, one thread for all) and whether it burns
//! CPU while it should wait ([`local`]).
//!
//! The program (`main.rs`) only reads its arguments: one server
//! ([`check_one`]) or a whole class ([`class`]).

pub mod advice;
pub mod class;
mod echo;
pub mod junit;
mod kv;
pub mod local;
mod model;
mod pesto;
mod prime;
pub mod report;
pub mod target;
mod tcp;
pub mod verdict;
pub mod wire;

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use netlabs::Why;

use report::{Check, Failure, Level, Report};
use target::Target;
use verdict::{Life, Risk};
use wire::{ANSWER_WAIT, Datagram, Udp};

/// What kind of server is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Echo,
    EchoUdp,
    Prime,
    PrimeUdp,
    Kv,
    Pesto,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        Some(match text {
            "echo" => Kind::Echo,
            "echo-udp" => Kind::EchoUdp,
            "prime" => Kind::Prime,
            "prime-udp" => Kind::PrimeUdp,
            "kv" => Kind::Kv,
            "pesto" => Kind::Pesto,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Echo => "echo",
            Kind::EchoUdp => "echo-udp",
            Kind::Prime => "prime",
            Kind::PrimeUdp => "prime-udp",
            Kind::Kv => "kv",
            Kind::Pesto => "pesto",
        }
    }

    pub fn is_udp(self) -> bool {
        matches!(self, Kind::EchoUdp | Kind::PrimeUdp)
    }

    /// What to add when the server cannot be reached.
    pub fn hint(self) -> &'static str {
        match self {
            Kind::Prime => {
                " (prime-server sans --forever ne sert qu'une connexion puis s'arrête : lancez prime-server --forever)"
            }
            _ => "",
        }
    }
}

/// How a run goes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// A failed `remarque` (a promise beyond the course) counts as a failure.
    pub strict: bool,
    /// Print each line as it comes.
    pub loud: bool,
}

/// `localhost:7777`, `[::1]:7777`, `127.0.0.1:7777` → host and port.
pub fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|&p| p != 0)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// Every address of `host` (`localhost` is both loopbacks), or one French
/// sentence saying the name is unknown.
pub fn addresses(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    // netlabs::net::resolve adds both loopbacks to `localhost`; its own
    // message for an unknown name speaks of --host, which labcheck has
    // not, so the name is looked up here first.
    if let Err(e) = (host, port).to_socket_addrs() {
        return Err(format!(
            "hôte introuvable : {host} ({}) ; vérifiez le nom, ou essayez 127.0.0.1:{port}",
            Why(&e)
        ));
    }
    Ok(netlabs::net::resolve(host, port))
}

/// Checks one server: finds the address that answers, runs the checks of
/// its kind, then the model. `Err`: nothing answers (one French sentence).
pub fn check_one(
    kind: Kind,
    place: &str,
    addrs: &[SocketAddr],
    options: Options,
) -> Result<Report, String> {
    let target = find_server(kind, addrs)?;
    let mut run = Run {
        report: Report::new(
            format!("labcheck {} {place} ({})", kind.name(), target.addr),
            options.loud,
            options.strict,
        ),
        target: &target,
    };
    match kind {
        Kind::Echo => echo::tcp(&target, &mut run),
        Kind::EchoUdp => echo::udp::checks(&target, &mut run),
        Kind::Prime => prime::tcp(&target, &mut run),
        Kind::PrimeUdp => prime::udp(&target, &mut run),
        Kind::Kv => kv::checks(&target, &mut run),
        Kind::Pesto => pesto::checks(&target, &mut run),
    }
    let report = run.report;
    report.finish();
    Ok(report)
}

/// A run in progress: the server, and the report where each check ends.
pub struct Run<'a> {
    pub report: Report,
    pub target: &'a Target,
}

/// How a check is run.
#[derive(Clone, Copy)]
pub struct Spec {
    pub level: Level,
    /// What the check does that may kill a server (to name a death).
    pub risk: Risk,
    /// Knock after the check (not after one that leaves the server busy by
    /// design, such as a long computation).
    pub knock: bool,
}

impl Spec {
    pub const COURSE: Spec = Spec {
        level: Level::Course,
        risk: Risk::Plain,
        knock: true,
    };
}

impl Run<'_> {
    /// Runs a check of the course, then knocks.
    pub fn check(&mut self, name: &str, check: impl FnOnce() -> Check) {
        self.check_as(Spec::COURSE, name, check);
    }

    /// Runs a check as `spec` says: not at all once the run gave up;
    /// otherwise the check, then the knock that tells whether the server
    /// still serves, and the verdict of both.
    pub fn check_as(&mut self, spec: Spec, name: &str, check: impl FnOnce() -> Check) {
        if self.report.given_up().is_some() {
            self.report.not_run(name, spec.level);
            return;
        }
        let start = Instant::now();
        let first = self.report.outcomes.is_empty();
        let mut result = check();
        let time = start.elapsed();
        // A check that found the server gone (refused) needs no knock: it
        // died during this check, or the one before, whose knock came too
        // early to see it.
        let gone = matches!(&result, Err(f) if f.fatal.is_some());
        let life = if gone {
            Life::Dead
        } else if spec.knock {
            self.target.knock()
        } else {
            Life::Unknown
        };
        if !(gone && first) {
            result = verdict::after(result, life, spec.risk, self.target);
        }
        // A first check that failed with not one byte from the server: it
        // answers nothing (no send, a crash); the others would each wait
        // their time-out to say the same (pesto's commands may still be
        // answered without a greeting: there, every check runs).
        if first && result.is_err() && !self.target.heard.get() && self.target.kind != Kind::Pesto {
            self.report
                .give_up("le serveur n'a encore rien répondu (voir la première vérification)");
        }
        self.report.record(name, spec.level, result, time);
        for note in self.target.notes.take() {
            self.report.note(note);
        }
    }

    pub fn note(&mut self, text: String) {
        self.report.note(text);
    }

    /// The checks every TCP kind shares, after the kind's own: two clients
    /// taking turns (and the model steps, which need it), a server idle.
    pub fn common_tcp(&mut self) {
        let target = self.target;
        let mut turns = None;
        self.check(
            "deux clients connectés, chacun son tour (A, B, A, B)",
            || {
                turns = Some(tcp::turns(target)?);
                Ok(())
            },
        );
        if target.local.is_some() {
            self.check("au repos, le serveur ne consomme pas de CPU", || {
                tcp::idle(target)
            });
        }
        if self.report.given_up().is_none() {
            model::diagnose(target, self, turns);
        }
    }
}

/// The first address of the name where a server answers (`localhost` is
/// both `::1` and `127.0.0.1`; a server may listen on one only), or one
/// French sentence saying that nothing listens. For UDP, the first
/// datagram is the first check's own question (a server that answers one
/// datagram then exits gives its only answer to that check): its answer is
/// kept for it.
fn find_server(kind: Kind, addrs: &[SocketAddr]) -> Result<Target, String> {
    let mut failures = Vec::new();
    for &addr in addrs {
        let target = Target::new(kind, addr);
        if kind.is_udp() {
            let question = udp_first_question(kind);
            match udp_first(&target, &question) {
                Ok(answer) => {
                    *target.first_answer.borrow_mut() = Some((question, answer));
                    return Ok(target);
                }
                Err(e) => failures.push((addr, e)),
            }
        } else {
            match wire::connect(addr, &target.heard) {
                Ok(conn) => {
                    // Kept for the first contact: a server that serves one
                    // connection then exits is told so by the next one.
                    *target.first_conn.borrow_mut() = Some(conn);
                    return Ok(target);
                }
                Err(e) => failures.push((addr, e)),
            }
        }
    }
    let shown: Vec<String> = failures.iter().map(|(a, _)| a.to_string()).collect();
    let refused = failures
        .iter()
        .all(|(_, e)| e.kind() == std::io::ErrorKind::ConnectionRefused);
    let proto = if kind.is_udp() { "UDP" } else { "TCP" };
    if refused {
        Err(format!(
            "rien n'écoute en {proto} sur {} (connexion refusée) ; le serveur est-il lancé, sur ce port ?{}",
            shown.join(" ni sur "),
            kind.hint()
        ))
    } else {
        let why: Vec<String> = failures
            .iter()
            .map(|(a, e)| format!("{a} : {}", Why(e)))
            .collect();
        Err(format!(
            "impossible de joindre le serveur ({}) ; le serveur est-il lancé, sur ce port ?{}",
            why.join(", "),
            kind.hint()
        ))
    }
}

/// The question of the first UDP check.
fn udp_first_question(kind: Kind) -> Vec<u8> {
    match kind {
        Kind::PrimeUdp => b"17\n".to_vec(),
        _ => format!("bonjour {}\n", wire::unique()).into_bytes(),
    }
}

/// How much longer a first UDP question waits, once, when nothing came.
const UDP_SLOW_WAIT: Duration = Duration::from_secs(2);

/// Asks the first question on a connected socket: `ECONNREFUSED` (ICMP
/// port unreachable) means nothing receives there; an answer or silence is
/// the first check's business. Silence is waited for once more, so that
/// a late answer is told from none.
fn udp_first(target: &Target, question: &[u8]) -> std::io::Result<Datagram> {
    // Not connected: an answer from another port is still seen (and
    // judged by its own check).
    let udp = Udp::open(target.addr, &target.heard)?;
    let started = Instant::now();
    match udp.ask(question, ANSWER_WAIT) {
        Datagram::Nothing(_) => match udp.next(UDP_SLOW_WAIT) {
            Datagram::From(bytes, from) => {
                target
                    .patience
                    .set((started.elapsed() * 2).clamp(ANSWER_WAIT, Duration::from_secs(10)));
                Ok(Datagram::Late(bytes, from, started.elapsed()))
            }
            // Silence from a local server: its socket is there (it was
            // found in /proc), nothing more to learn.
            _ if target.local.is_some() => Ok(Datagram::Nothing(ANSWER_WAIT)),
            // Silence: a connected socket learns whether anything is
            // bound there at all (ICMP port unreachable).
            _ => match Udp::connected(target.addr, &target.heard)?.ask(question, ANSWER_WAIT) {
                Datagram::Refused => Err(std::io::ErrorKind::ConnectionRefused.into()),
                _ => Ok(Datagram::Nothing(ANSWER_WAIT)),
            },
        },
        answer => Ok(answer),
    }
}

/// A failure that says nothing listens (for a JUnit report of a run that
/// could not start).
pub fn unreachable_report(kind: Kind, place: &str, why: &str, options: Options) -> Report {
    let mut report = Report::new(
        format!("labcheck {} {place}", kind.name()),
        false,
        options.strict,
    );
    report.record(
        "le serveur répond",
        Level::Course,
        Err(Failure::new("une connexion", why, why.to_string())),
        Duration::ZERO,
    );
    report
}
