//! compare — the TP5b echo servers side by side: one command, one table,
//! two pictures (seed `tp5b-socket-serveur.txt`, sections 1.2, 2.1 and 2.2,
//! and the reactor of `twisted-protocole-fabrique`).
//!
//! For each C of the ladder (1, 10, 100, 1000 clients) and each server,
//! compare starts the server on a free port (`--port 0`, reading its first
//! line `en écoute sur …`) and connects C clients doing ping-pong (send
//! 64 bytes, wait for all of them to come back, again). Then it measures the
//! servers in turn, five short rounds each, and writes one row per server:
//! round trips per second (the median of the rounds, and the lowest and
//! highest), latency, how many of the C clients were actually served, the
//! server's CPU per round trip, threads and peak memory (from `/proc`), and
//! errors; under the table, whether other programs took CPU meanwhile.
//! Then, for each server, five clients connect together and it draws who
//! was served when.
//!
//! ```sh
//! cargo build --release --workspace
//! target/release/compare                          # the whole ladder, ~1 min 30
//! target/release/compare --clients 1,10 --duration 1 --models bloquant,poll
//! python3 echo_select.py 8000 &                   # your own server, then:
//! target/release/compare --target python=127.0.0.1:8000
//! ```
//!
//! While it runs, `ss -tn | grep -c ESTAB` counts the connections and
//! `ps -L -p PID` the server's threads. The results go to `target/compare/`:
//! `compare.md` (the table), `compare.svg` and `attente.svg` (open them in a
//! browser); `docs/modeles.md` says how to read them.
//!
//! What to observe: the blocking server at C = 10 serves `1/10` clients
//! (the other nine wait in the backlog: TP5b 1.2); in `attente.svg` it draws
//! a staircase, the others draw parallel bars; threads cost a thread and its
//! stack per client, `poll` one thread for all.

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use compare::busy::{self, ProcProbe, Usage};
use compare::load::pingpong::REWARM;
use compare::load::{self, Session, Step};
use compare::pictures::{self, Panel};
use compare::report::{self, Row};
use compare::server::{self, Server};
use compare::{MODELS, Target};
use netlabs::procfs::{self, Proto};
use netlabs::{Why, fail, warn};

const USAGE: &str = "\
usage : compare [--duration SECS] [--clients 1,10,100,1000] [--size OCTETS]
                [--models LISTE] [--target NOM=HÔTE:PORT]... [--out DOSSIER]

Les serveurs echo de TP5b côte à côte (1.2 bloquant, 2.2 thread, 2.1 select/poll,
et le réacteur de twisted-protocole-fabrique) : compare les lance lui-même
(binaires à côté du sien ; cargo build --release --workspace), les charge avec
C clients en ping-pong, et écrit un tableau et deux images.

  --duration SECS     durée mesurée par serveur et par C, en 5 mesures
                      alternées (défaut 3 ; 0,5 accepté)
  --clients LISTE     les valeurs de C (défaut 1,10,100,1000)
  --size OCTETS       taille de chaque message (défaut 64)
  --models LISTE      parmi bloquant, thread, poll, reactor, ou leurs noms
                      echo-server, echo-thread-server, echo-poll-server,
                      echo-reactor-server (défaut : les quatre ; aucun : seulement
                      les --target)
  --target NOM=HÔTE:PORT  ajoute un serveur déjà lancé (le vôtre, en Python ?)
                      au tableau ; répétable
  --out DOSSIER       où écrire compare.md, compare.svg, attente.svg
                      (défaut target/compare)

Code de sortie : 0 si toutes les mesures ont eu lieu, 1 si une ligne au moins
est marquée (serveur qui ne démarre pas, refuse ou ne répond plus), 2 pour
une option invalide.";

/// How many clients connect together for the waiting picture: enough for a
/// staircase, few enough to read each strip.
const WAITING_CLIENTS: usize = 5;

/// Longest share of the server each of those clients takes (shorter when
/// `--duration` is shorter, so that a quick run stays quick).
const WAITING_HOLD: Duration = Duration::from_millis(500);

/// Longest warm-up before the first round: connections settle, caches fill.
const WARM_UP: Duration = Duration::from_millis(500);

/// How many rounds make a cell: its median and spread. Five rounds of
/// 0.6 s (the default 3 s split) keep a whole run near a minute and a half,
/// and the median of five ignores two bad moments.
const ROUNDS: u32 = 5;

struct Options {
    duration: Duration,
    clients: Vec<usize>,
    size: usize,
    models: Vec<&'static str>,
    targets: Vec<Target>,
    out: PathBuf,
}

/// A server in the table: one compare starts, or one already running.
enum Subject {
    Model {
        name: String,
        binary: Result<PathBuf, String>,
    },
    Target {
        name: String,
        addrs: Result<Vec<SocketAddr>, String>,
    },
}

fn main() {
    server::guard_if_asked(); // compare runs itself as each server's guard
    let options = parse_options();
    let _ = netlabs::sys::raise_fd_limit(); // C = 1000 needs 1000 descriptors
    if let Err(e) = std::fs::create_dir_all(&options.out) {
        fail!(
            "impossible de créer le dossier {} ({}) ; choisissez --out",
            options.out.display(),
            Why(&e)
        );
    }
    let subjects = subjects(&options);
    if cfg!(debug_assertions) {
        warn!(
            "attention : compare et les serveurs sont une compilation de mise au point (debug) ; leurs chiffres ne veulent rien dire : cargo build --release --workspace, puis target/release/compare"
        );
    }
    let load = busy::load_average();

    // The ladder: at each C, every server, in rounds taken in turn.
    let timing = Timing {
        warm_up: WARM_UP.min(options.duration / 4),
        round: options.duration / ROUNDS,
    };
    let mut progress = Progress::new(options.clients.len() * subjects.len());
    let mut rows = Vec::new();
    for &clients in &options.clients {
        rows.extend(measure(
            &subjects,
            clients,
            options.size,
            &timing,
            &mut progress,
        ));
    }
    let usages: Vec<Usage> = rows.iter().filter_map(|r| r.step.usage).collect();
    let (machine, busy) = busy::note(&usages);
    if busy {
        warn!("attention : {machine}");
    }

    // Who is served when: a handful of clients connecting together.
    let hold = WAITING_HOLD.min(options.duration / 2);
    let mut panels = Vec::new();
    for subject in &subjects {
        progress.say(&format!(
            "attente : {WAITING_CLIENTS} clients ensemble sur {}",
            subject.name()
        ));
        panels.push(Panel {
            server: subject.name().to_string(),
            strips: waiting(subject, hold),
        });
    }

    let text = document(&options, &timing, load, &rows, &machine);
    quiet_print(&text);
    let md = options.out.join("compare.md");
    let chart = options.out.join("compare.svg");
    let picture = options.out.join("attente.svg");
    let detail = format!(
        "messages de {}, médiane de {ROUNDS} mesures de {} s par point",
        netlabs::octets(options.size as u64),
        report::seconds(timing.round.as_secs_f64())
    );
    write(&md, &text);
    let busy_line = busy.then_some(machine.as_str());
    write(&chart, &pictures::throughput_svg(&rows, &detail, busy_line));
    write(
        &picture,
        &pictures::waiting_svg(&panels, hold.as_secs_f64()),
    );

    let marked = rows.iter().filter(|r| r.step.failure.is_some()).count()
        + panels.iter().filter(|p| p.strips.is_err()).count();
    if marked > 0 {
        warn!(
            "erreur : {} dans le tableau ou l'image : un serveur n'a pas démarré, a refusé, s'est arrêté ou a mal répondu",
            netlabs::plural(marked as u64, "", "mesure marquée", "mesures marquées")
        );
    }
    quiet_print(&format!(
        "fichiers écrits : {}, {}, {}\n",
        md.display(),
        chart.display(),
        picture.display()
    ));
    if marked > 0 {
        std::process::exit(1);
    }
}

/// How long each part of a step lasts.
struct Timing {
    /// Before the first round.
    warm_up: Duration,
    /// One measured round.
    round: Duration,
}

fn parse_options() -> Options {
    let mut args = netlabs::Args::parse(USAGE);
    let duration = match args.value::<String>("--duration") {
        Some(text) => or_usage(&args, compare::parse_duration(&text)),
        None => Duration::from_secs(3),
    };
    let clients = match args.value::<String>("--clients") {
        Some(text) => or_usage(&args, compare::parse_clients(&text)),
        None => vec![1, 10, 100, 1000],
    };
    let size = match args.value::<String>("--size") {
        Some(text) => or_usage(&args, compare::parse_size(&text)),
        None => 64,
    };
    let models = match args.value::<String>("--models") {
        Some(text) => or_usage(&args, compare::parse_models(&text)),
        None => MODELS.iter().map(|(name, _, _)| *name).collect(),
    };
    let mut targets: Vec<Target> = Vec::new();
    for text in args.values::<String>("--target") {
        let target = or_usage(&args, compare::parse_target(&text));
        if models.contains(&target.name.as_str()) || targets.iter().any(|t| t.name == target.name) {
            args.usage_error(&format!(
                "--target : le nom « {} » est déjà pris",
                target.name
            ));
        }
        targets.push(target);
    }
    if models.is_empty() && targets.is_empty() {
        args.usage_error("rien à mesurer : --models aucun demande au moins un --target");
    }
    let out = args
        .value::<String>("--out")
        .unwrap_or_else(|| "target/compare".into());
    if out.is_empty() {
        args.usage_error("--out attend un dossier");
    }
    args.finish();
    Options {
        duration,
        clients,
        size,
        models,
        targets,
        out: PathBuf::from(out),
    }
}

/// A value, or the usage and exit 2.
fn or_usage<T>(args: &netlabs::Args, parsed: Result<T, String>) -> T {
    match parsed {
        Ok(value) => value,
        Err(message) => args.usage_error(&message),
    }
}

/// The servers to measure: the models' binaries beside compare's own
/// executable, then the targets, resolved.
fn subjects(options: &Options) -> Vec<Subject> {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut list = Vec::new();
    for name in &options.models {
        let path = dir.join(name);
        let binary = if path.is_file() {
            Ok(path)
        } else {
            warn!(
                "erreur : {name} introuvable dans {} ; compilez les serveurs : cargo build --release --workspace",
                dir.display()
            );
            Err("binaire introuvable (cargo build --release --workspace)".to_string())
        };
        list.push(Subject::Model {
            name: name.to_string(),
            binary,
        });
    }
    for t in &options.targets {
        let addrs = match (t.host.as_str(), t.port).to_socket_addrs() {
            Ok(addrs) => Ok(addrs.collect()),
            Err(e) => Err(format!("hôte introuvable : {} ({})", t.host, Why(&e))),
        };
        list.push(Subject::Target {
            name: t.name.clone(),
            addrs,
        });
    }
    list
}

impl Subject {
    fn name(&self) -> &str {
        match self {
            Subject::Model { name, .. } | Subject::Target { name, .. } => name,
        }
    }
}

/// One C: a fresh server for each model (its peak memory is this C's),
/// every server's clients connected, then [`ROUNDS`] rounds taking the
/// servers in turn — each round starting one server further, so that none
/// is always first after a pause.
fn measure(
    subjects: &[Subject],
    clients: usize,
    size: usize,
    timing: &Timing,
    progress: &mut Progress,
) -> Vec<Row> {
    let mut cells: Vec<Cell> = subjects
        .iter()
        .map(|s| Cell::open(s, clients, size))
        .collect();
    for r in 0..ROUNDS as usize {
        let warm_up = if r == 0 {
            timing.warm_up
        } else {
            timing.warm_up.min(REWARM)
        };
        let n = cells.len();
        for k in 0..n {
            let cell = &mut cells[(k + r) % n];
            let label = format!(
                "{}, C = {} (mesure {}/{ROUNDS})",
                cell.name,
                netlabs::thousands(clients as u64),
                r + 1
            );
            cell.round(warm_up, timing.round, &mut |left| {
                progress.tick(&label, left)
            });
        }
    }
    cells
        .into_iter()
        .map(|cell| {
            let name = cell.name.to_string();
            progress.start();
            let step = cell.finish();
            let outcome = match &step.failure {
                Some(why) => format!("MARQUÉ : {why}"),
                None => format!(
                    "{} allers-retours/s, servis {}/{}",
                    netlabs::thousands(step.rate().round() as u64),
                    step.served,
                    clients
                ),
            };
            let label = format!("{name}, C = {}", netlabs::thousands(clients as u64));
            progress.done(&label, &outcome);
            Row { server: name, step }
        })
        .collect()
}

/// One server at one C: its process (when it runs on this machine) and
/// its clients.
struct Cell<'a> {
    name: &'a str,
    /// The server compare started, stopped when the cell is dropped.
    server: Option<Server>,
    /// The server's process, for its CPU, threads and memory.
    pid: Option<u32>,
    session: Result<Session, String>,
    clients: usize,
}

impl<'a> Cell<'a> {
    fn open(subject: &'a Subject, clients: usize, size: usize) -> Cell<'a> {
        let name = subject.name();
        let failed = |why: &str| Cell {
            name,
            server: None,
            pid: None,
            session: Err(why.to_string()),
            clients,
        };
        match subject {
            Subject::Model { binary, .. } => {
                let path = match binary {
                    Ok(path) => path,
                    Err(why) => return failed(why),
                };
                match Server::start(path) {
                    Err(why) => failed(&why),
                    Ok(server) => Cell {
                        name,
                        pid: Some(server.pid),
                        session: Session::open(&[server.addr], clients, size),
                        server: Some(server),
                        clients,
                    },
                }
            }
            Subject::Target { addrs, .. } => match addrs {
                Err(why) => failed(why),
                Ok(addrs) => Cell {
                    name,
                    server: None,
                    // A server of this machine: the process that owns its
                    // listening socket, as `ss -tlp` shows it.
                    pid: addrs
                        .iter()
                        .find_map(|a| procfs::server_process(Proto::Tcp, *a)),
                    session: Session::open(addrs, clients, size),
                    clients,
                },
            },
        }
    }

    fn round(&mut self, warm_up: Duration, round: Duration, tick: &mut dyn FnMut(Duration)) {
        if let Ok(session) = &mut self.session {
            let mut probe = ProcProbe {
                server_pid: self.pid,
            };
            session.round(warm_up, round, &mut probe, tick);
        }
    }

    /// The cell's step, with the server's threads and peak memory, and the
    /// cause when the server died.
    fn finish(self) -> Step {
        // Threads are counted while every client is still connected.
        let threads = self.pid.and_then(procfs::threads);
        let peak_kib = self.pid.and_then(|pid| procfs::status_field(pid, "VmHWM:"));
        let mut step = match self.session {
            Ok(session) => session.finish(),
            Err(why) => Step::failed(self.clients, why),
        };
        (step.threads, step.peak_kib) = (threads, peak_kib);
        if self.pid.is_some_and(|pid| !procfs::is_alive(pid)) {
            step.failure = Some("le serveur s'est arrêté en cours de mesure (plantage ?)".into());
        }
        drop(self.server);
        step
    }
}

/// The waiting picture's run on one server (a fresh one for a model).
fn waiting(subject: &Subject, hold: Duration) -> Result<Vec<load::Strip>, String> {
    // The blocking server serves them one after the other: give it time.
    let limit = hold * (WAITING_CLIENTS as u32 + 2) + Duration::from_secs(1);
    match subject {
        Subject::Model { binary, .. } => {
            let server = Server::start(binary.as_ref()?)?;
            load::waiting(&[server.addr], WAITING_CLIENTS, hold, limit)
        }
        Subject::Target { addrs, .. } => {
            load::waiting(addrs.as_ref()?, WAITING_CLIENTS, hold, limit)
        }
    }
}

/// The text of the results: the same on stdout and in `compare.md`.
fn document(
    options: &Options,
    timing: &Timing,
    load: Option<f64>,
    rows: &[Row],
    machine: &str,
) -> String {
    let ladder: Vec<String> = options
        .clients
        .iter()
        .map(|c| netlabs::thousands(*c as u64))
        .collect();
    let build = if cfg!(debug_assertions) {
        "compilation de mise au point (debug) : chiffres sans valeur"
    } else {
        "compilation optimisée (release)"
    };
    let load = match load {
        Some(l) => format!(
            "- Charge moyenne de la machine au départ : {} (/proc/loadavg).\n",
            report::decimal(l, 2)
        ),
        None => String::new(),
    };
    format!(
        "# Les modèles côte à côte\n\n\
         - Machine : {} ; {build}.\n\
         {load}\
         - Ping-pong de {}, C = {} ; pour chaque serveur et chaque C, {ROUNDS} mesures de {} s après {} s d'échauffement.\n\
         - « servis » : clients qui ont reçu au moins un écho pendant la mesure. \
         CPU par aller-retour (a-r) lu dans /proc, serveur et générateur de charge (compare).\n\n\
         {}\n{}\n\n{}\n\n{machine}\n\n",
        compare::machine(),
        netlabs::octets(options.size as u64),
        ladder.join(", "),
        report::seconds(timing.round.as_secs_f64()),
        report::seconds(timing.warm_up.as_secs_f64()),
        report::table(rows),
        report::rounds_note(ROUNDS, timing.round),
        report::generator_note(rows),
    )
}

/// Writes to stdout and says nothing if no one reads it any more
/// (`compare | head -1`): the files are still written.
fn quiet_print(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        fail!("impossible d'écrire {} ({})", path.display(), Why(&e));
    }
}

/// Progress on stderr: a countdown on a terminal, else one line per step.
struct Progress {
    terminal: bool,
    step: usize,
    steps: usize,
}

impl Progress {
    fn new(steps: usize) -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            step: 0,
            steps,
        }
    }

    fn start(&mut self) {
        self.step += 1;
    }

    fn tick(&self, label: &str, left: Duration) {
        if self.terminal {
            eprint_quiet(&format!(
                "\r\x1b[K[{}/{}] {label} : encore {} s",
                self.step + 1,
                self.steps,
                report::decimal(left.as_secs_f64(), 1)
            ));
        }
    }

    fn done(&self, label: &str, outcome: &str) {
        let clear = if self.terminal { "\r\x1b[K" } else { "" };
        warn!("{clear}[{}/{}] {label} : {outcome}", self.step, self.steps);
    }

    fn say(&self, line: &str) {
        warn!("{line}");
    }
}

/// `eprint!` that never panics on a closed stderr.
fn eprint_quiet(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
