//! `labcheck` — checks a lab server written by anyone, in any language,
//! against the catalogue, from outside, as a client would.
//!
//! ```text
//! labcheck echo localhost:7777          # any echo server of TP5b
//! labcheck echo-udp [::1]:7777
//! labcheck prime 127.0.0.1:8809         # prime-server --forever
//! labcheck prime-udp 127.0.0.1:8808
//! labcheck kv 127.0.0.1:8807
//! labcheck pesto 127.0.0.1:1234
//! labcheck --junit rapport.xml echo localhost:7777
//! ```
//!
//! Each check prints `ok` or `ÉCHEC` and its name; a failure says what was
//! sent, what came back, and what it means in the course's words, with the
//! sheet section to read. Then a few `info` lines tell which concurrency
//! model the server looks like from outside (one client at a time, or
//! several) — information, never a failure: the blocking server of TP5b
//! 1.2 is a correct answer to that step. The last line is
//! `N passed, N failed`; the exit status is 0 when every check passed, 1
//! otherwise, 2 on a usage mistake.
//!
//! Every connect, read and write has a deadline, and every read a size
//! limit: a server that stalls, floods or closes at random cannot make
//! labcheck hang. A full run on a correct local server takes a few
//! seconds.

mod echo;
mod kv;
mod model;
mod pesto;
mod prime;
mod report;
mod tcp;
mod wire;

use std::cell::RefCell;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use netlabs::{Args, Why, fail};

use report::{Failure, Report};

const USAGE: &str = "\
labcheck — vérifie un serveur de TP (le vôtre, en Python ou autre) contre le catalogue

usage : labcheck [--junit FICHIER] SORTE HÔTE:PORT
  SORTE            echo       serveur echo TCP (TP5b 1.2, 2.1, 2.2)
                   echo-udp   serveur echo UDP (TP5b 1.4)
                   prime      nombres premiers par TCP (Chapitre 2.2, 1.1) :
                              lancez prime-server --forever, sans quoi il
                              s'arrête après la première connexion
                   prime-udp  nombres premiers par UDP (Chapitre 2.2, 1.2)
                   kv         clé-valeur (Chapitre 2.2, le serveur annoncé)
                   pesto      serveur de commandes de Pesto (Twisted)
  HÔTE:PORT        localhost:7777 (toutes ses adresses sont essayées),
                   [::1]:7777 ou 127.0.0.1:7777
  --junit FICHIER  écrit aussi les résultats en JUnit XML (pour une CI)
  -h, --help       cette aide

Chaque vérification affiche ok ou ÉCHEC ; un échec dit ce qui a été envoyé,
ce qui est revenu et ce que cela veut dire, avec la section du cours.
Les lignes info disent quel modèle (bloquant, select, threads) le serveur
semble suivre : c'est une information, jamais un échec.
Dernière ligne : N passed, N failed. Sortie 0 si tout passe, 1 sinon.

Essayez : echo-server --port 7777 & labcheck echo localhost:7777";

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
    fn parse(text: &str) -> Option<Kind> {
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

    fn is_udp(self) -> bool {
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

/// Set once there is no point going on — a connection refused (the server
/// is gone), or a first check failed with not one byte from the server
/// (it answers nothing: no send, a crash) — with the reason: the checks
/// left are reported as not run, in one line each, instead of each
/// waiting its time-out to say the same thing.
pub static GIVEN_UP: OnceLock<&'static str> = OnceLock::new();

/// The server under test: its kind, the one address that answered, and
/// the connection that found it, kept for the first check (a server that
/// serves one connection and exits, like `prime-server` without
/// `--forever`, thus passes the first check and fails the second, which
/// says why).
pub struct Target {
    pub kind: Kind,
    pub addr: SocketAddr,
    first: RefCell<Option<wire::Conn>>,
}

impl Target {
    /// A new connection, or the failure that says the server is gone.
    pub fn open(&self) -> Result<wire::Conn, Failure> {
        if let Some(conn) = self.first.borrow_mut().take() {
            return Ok(conn);
        }
        wire::connect(self.addr).map_err(|e| {
            if e.kind() == std::io::ErrorKind::ConnectionRefused {
                let _ = GIVEN_UP.set("le serveur ne tourne plus (voir plus haut)");
            }
            Failure::new(
                format!("une nouvelle connexion à {}", self.addr),
                format!("refusée ({})", Why(&e)),
                format!(
                    "le serveur ne tourne plus : s'est-il arrêté après le client précédent (il faut une boucle autour d'accept — TP5b 1.2), ou sur une exception ?{}",
                    self.kind.hint()
                ),
            )
        })
    }
}

fn main() {
    let mut args = Args::parse(USAGE);
    let junit: Option<PathBuf> = args.value("--junit");
    let rest = args.rest();
    // `rest` took the arguments; a fresh Args prints the same usage.
    let usage = Args::from_vec(USAGE, Vec::new());
    let [kind, place] = rest.as_slice() else {
        usage.usage_error(
            "il faut une SORTE et un HÔTE:PORT, par exemple : labcheck echo localhost:7777",
        );
    };
    let Some(kind) = Kind::parse(kind) else {
        usage.usage_error(&format!(
            "sorte inconnue « {kind} » : echo, echo-udp, prime, prime-udp, kv ou pesto"
        ));
    };
    let Some((host, port)) = split_host_port(place) else {
        usage.usage_error(&format!(
            "« {place} » n'est pas de la forme HÔTE:PORT (localhost:7777, [::1]:7777, 127.0.0.1:7777)"
        ));
    };
    // A --junit path that cannot be a report is said at once, not after
    // the checks.
    if let Some(path) = &junit
        && let Err(why) = report::check_junit_path(path)
    {
        fail!("{why}");
    }

    // netlabs::net::resolve adds both loopbacks to `localhost`; its own
    // message for an unknown name speaks of --host, which labcheck has
    // not, so the name is looked up here first.
    if let Err(e) = (host.as_str(), port).to_socket_addrs() {
        fail!(
            "hôte introuvable : {host} ({}) ; vérifiez le nom, ou essayez 127.0.0.1:{port}",
            Why(&e)
        );
    }
    let addrs = netlabs::net::resolve(&host, port);

    // Which address answers? Nothing listening is one line, exit 1 (and a
    // report that says so, for a teacher's CI).
    let (addr, first) = match find_server(kind, &addrs) {
        Ok(found) => found,
        Err(why) => {
            if let Some(path) = &junit {
                let mut report = Report::quiet(format!("labcheck {} {place}", kind.name()));
                report.record(
                    "le serveur répond",
                    Some(Failure::new("une connexion", &why, why.clone())),
                );
                let _ = report::write_whole(path, &report.junit(kind.name()));
            }
            fail!("{why}{}", kind.hint());
        }
    };
    let target = Target {
        kind,
        addr,
        first: RefCell::new(first),
    };

    // The checks of the kind, one line each as they end, then the model.
    let mut report = Report::new(format!("labcheck {} {place} ({addr})", kind.name()));
    report.give_up_when_silent = kind != Kind::Pesto;
    match kind {
        Kind::Echo => echo::tcp(&target, &mut report),
        Kind::EchoUdp => echo::udp(&target, &mut report),
        Kind::Prime => prime::tcp(&target, &mut report),
        Kind::PrimeUdp => prime::udp(&target, &mut report),
        Kind::Kv => kv::checks(&target, &mut report),
        Kind::Pesto => pesto::checks(&target, &mut report),
    }
    if !kind.is_udp() && GIVEN_UP.get().is_none() {
        model::diagnose(&target, &mut report);
    }
    netlabs::log!("{}", report.summary());
    if let Some(path) = &junit
        && let Err(e) = report::write_whole(path, &report.junit(kind.name()))
    {
        fail!(
            "impossible d'écrire le rapport {} ({})",
            path.display(),
            Why(&e)
        );
    }
    std::process::exit(if report.failed() == 0 { 0 } else { 1 });
}

/// `localhost:7777`, `[::1]:7777`, `127.0.0.1:7777` → host and port.
fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|&p| p != 0)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// The first address of the name where a server answers (`localhost` is
/// both `::1` and `127.0.0.1`; a server may listen on one only), or one
/// French sentence saying that nothing listens.
fn find_server(
    kind: Kind,
    addrs: &[SocketAddr],
) -> Result<(SocketAddr, Option<wire::Conn>), String> {
    let mut failures = Vec::new();
    for &addr in addrs {
        let found = if kind.is_udp() {
            udp_listens(addr).map(|()| None)
        } else {
            wire::connect(addr).map(Some)
        };
        match found {
            Ok(conn) => return Ok((addr, conn)),
            Err(e) => failures.push((addr, e)),
        }
    }
    let shown: Vec<String> = failures.iter().map(|(a, _)| a.to_string()).collect();
    let refused = failures
        .iter()
        .all(|(_, e)| e.kind() == std::io::ErrorKind::ConnectionRefused);
    let proto = if kind.is_udp() { "UDP" } else { "TCP" };
    if refused {
        Err(format!(
            "rien n'écoute en {proto} sur {} (connexion refusée) ; le serveur est-il lancé, sur ce port ?",
            shown.join(" ni sur ")
        ))
    } else {
        let why: Vec<String> = failures
            .iter()
            .map(|(a, e)| format!("{a} : {}", Why(e)))
            .collect();
        Err(format!(
            "impossible de joindre le serveur ({}) ; le serveur est-il lancé, sur ce port ?",
            why.join(", ")
        ))
    }
}

/// Does anything receive UDP on `addr`? A connected UDP socket is told
/// (`ECONNREFUSED`) when the system answers that no socket is bound there.
/// The probe is a datagram the server must answer anyway: a number for
/// prime-udp (never an empty datagram, which stops prime-udp-server),
/// bytes for echo.
fn udp_listens(addr: SocketAddr) -> std::io::Result<()> {
    let udp = wire::Udp::open(addr)?;
    udp.socket.connect(addr)?;
    udp.socket.send(b"7\n")?;
    udp.socket
        .set_read_timeout(Some(Duration::from_millis(500)))?;
    let mut buf = [0u8; 2048];
    match udp.socket.recv(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Err(e),
        // An answer, or silence: someone may be there; the checks will tell.
        _ => Ok(()),
    }
}
