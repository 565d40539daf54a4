//! The TP5b benchmark: the echo servers side by side, measured from outside.
//!
//! `make bench` (or `cargo bench -p echo --bench echo_models`) builds the
//! servers with optimisations, then for each model:
//!
//! 1. **ping-pong**: C clients (1, 10, 100, 1000) each send a 64-byte
//!    message and wait for its echo before sending the next, for a few
//!    seconds: the very table of `compare` (crate `compare`, whose load
//!    generator, server start and table this benchmark calls), every model
//!    at every C.
//! 2. **hold**: N connections (10 000) open at once, each echoing one byte;
//!    reported: peak memory, and per connection.
//! 3. **bulk**: 256 MiB through one connection, every byte checked.
//!
//! Options (after `--`): `--duration SECS` (3), `--clients 1,10,100,1000`,
//! `--size BYTES` (64), `--hold N` (10000), `--bulk-mib N` (256),
//! `--models a,b,…`, `--only pingpong,hold,bulk`. The table is printed in
//! Markdown and written to `target/bench/echo_models.md`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use compare::load::{self, Plan, Step};
use compare::report::{self, Row};
use compare::server::{self, Server};

/// Every echo server this crate builds.
const MODELS: &[(&str, Option<&str>)] = &[
    ("echo-server", option_env!("CARGO_BIN_EXE_echo-server")),
    (
        "echo-thread-server",
        option_env!("CARGO_BIN_EXE_echo-thread-server"),
    ),
    (
        "echo-poll-server",
        option_env!("CARGO_BIN_EXE_echo-poll-server"),
    ),
    (
        "echo-reactor-server",
        option_env!("CARGO_BIN_EXE_echo-reactor-server"),
    ),
];

/// Warm-up before each measurement: connections settle, caches fill.
const WARM_UP: Duration = Duration::from_millis(500);

struct Options {
    duration: Duration,
    clients: Vec<usize>,
    size: usize,
    hold: usize,
    bulk_mib: usize,
    models: Vec<String>,
    only: Vec<String>,
}

fn main() {
    server::guard_if_asked(); // compare's servers are started through a guard
    let options = parse_options();
    let _ = netlabs::sys::raise_fd_limit();
    let mut report = String::new();
    let machine = compare::machine();
    report.push_str(&format!("Machine : {machine}\n\n"));
    eprintln!("{machine}");

    let models: Vec<(&str, &str)> = MODELS
        .iter()
        .filter_map(|(name, path)| path.map(|p| (*name, p)))
        .filter(|(name, _)| options.models.is_empty() || options.models.iter().any(|m| m == name))
        .collect();

    if wants(&options, "pingpong") {
        report.push_str(&ping_pong_table(&options, &models));
    }
    if wants(&options, "hold") {
        report.push_str(&hold_table(&options, &models));
    }
    if wants(&options, "bulk") {
        report.push_str(&bulk_table(&options, &models));
    }

    println!("\n{report}");
    // target/release/deps/echo_models-… → target/bench/
    let exe = std::env::current_exe().unwrap_or_default();
    let Some(target) = exe.ancestors().nth(3) else {
        return;
    };
    let out = target.join("bench");
    if std::fs::create_dir_all(&out).is_ok() {
        let file = out.join("echo_models.md");
        if std::fs::write(&file, &report).is_ok() {
            eprintln!("tableau écrit dans {}", file.display());
        }
    }
}

fn wants(options: &Options, part: &str) -> bool {
    options.only.is_empty() || options.only.iter().any(|p| p == part)
}

// ---------------------------------------------------------------- ping-pong

/// compare's own measurement: the same generator, the same table.
fn ping_pong_table(options: &Options, models: &[(&str, &str)]) -> String {
    let mut rows = Vec::new();
    for &c in &options.clients {
        for &(name, path) in models {
            eprintln!("ping-pong : {name}, C = {c}…");
            let step = match Server::start(Path::new(path)) {
                Err(why) => Step::failed(c, why),
                Ok(server) => {
                    let plan = Plan {
                        clients: c,
                        size: options.size,
                        warm_up: WARM_UP,
                        duration: options.duration,
                        server_pid: Some(server.pid),
                    };
                    load::ping_pong(&[server.addr], &plan, &mut |_| {})
                }
            };
            rows.push(Row {
                server: name.to_string(),
                step,
            });
        }
    }
    format!(
        "## Ping-pong : {} octets, {} s par mesure\n\n{}\n{}\n\n",
        options.size,
        options.duration.as_secs_f64(),
        report::table(&rows),
        report::generator_note(&rows)
    )
}

// --------------------------------------------------------------------- hold

fn hold_table(options: &Options, models: &[(&str, &str)]) -> String {
    let n = options.hold;
    let mut out = format!(
        "## {n} connexions ouvertes à la fois, chacune renvoie un octet\n\n\
         | modèle | connexions qui ont répondu | threads | mémoire max | par connexion | durée |\n\
         |---|---:|---:|---:|---:|---:|\n"
    );
    for &(name, path) in models {
        if name == "echo-server" {
            continue;
        }
        eprintln!("hold : {name}, {n} connexions…");
        let Ok(server) = Server::start(Path::new(path)) else {
            out.push_str(&format!("| {name} | ne démarre pas |\n"));
            continue;
        };
        let base = status(server.pid, "VmRSS:");
        let started = Instant::now();
        let held = hold(server.addr, n);
        let elapsed = started.elapsed();
        // Measured while every connection is still open.
        let threads = status(server.pid, "Threads:");
        let peak = status(server.pid, "VmHWM:");
        let answered = held.map(|(answered, conns)| {
            drop(conns);
            answered
        });
        let per = (peak.saturating_sub(base)) as f64 * 1024.0 / n as f64;
        out.push_str(&format!(
            "| {name} | {} | {threads} | {} | {:.1} Kio | {:.1} s |\n",
            match answered {
                Ok(k) => format!("{k} / {n}"),
                Err(e) => format!("échec : {e}"),
            },
            mib(peak),
            per / 1024.0,
            elapsed.as_secs_f64(),
        ));
    }
    out.push('\n');
    out
}

/// Opens `n` connections, then has every one of them echo one byte while
/// all are open; returns how many answered, and the connections, still open.
fn hold(addr: SocketAddr, n: usize) -> io::Result<(usize, Vec<TcpStream>)> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        conns.push(s);
    }
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(&[i as u8])?;
    }
    let mut answered = 0;
    for (i, s) in conns.iter_mut().enumerate() {
        let mut b = [0u8; 1];
        if s.read_exact(&mut b).is_ok() && b[0] == i as u8 {
            answered += 1;
        }
    }
    Ok((answered, conns))
}

// --------------------------------------------------------------------- bulk

fn bulk_table(options: &Options, models: &[(&str, &str)]) -> String {
    let total = options.bulk_mib * 1024 * 1024;
    let mut out = format!(
        "## Bulk : {} Mio dans une connexion, chaque octet vérifié\n\n\
         | modèle | débit | CPU serveur | mémoire max | octets identiques |\n\
         |---|---:|---:|---:|---:|\n",
        options.bulk_mib
    );
    for &(name, path) in models {
        eprintln!("bulk : {name}…");
        let Ok(server) = Server::start(Path::new(path)) else {
            out.push_str(&format!("| {name} | ne démarre pas |\n"));
            continue;
        };
        let cpu0 = netlabs::procfs::cpu_time(server.pid).unwrap_or_default();
        let started = Instant::now();
        let result = bulk(server.addr, total);
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = netlabs::procfs::cpu_time(server.pid)
            .unwrap_or_default()
            .saturating_sub(cpu0);
        let peak = status(server.pid, "VmHWM:");
        let (rate, ok) = match result {
            Ok(true) => (
                format!("{:.2} Go/s", total as f64 / elapsed / 1e9),
                "oui".to_string(),
            ),
            Ok(false) => ("—".into(), "NON".into()),
            Err(e) => ("—".into(), format!("échec : {e}")),
        };
        out.push_str(&format!(
            "| {name} | {rate} | {:.2} s | {} | {ok} |\n",
            cpu.as_secs_f64(),
            mib(peak)
        ));
    }
    out.push('\n');
    out
}

/// Sends `total` bytes of a known pattern from one thread and checks every
/// byte of the echo in this one.
fn bulk(addr: SocketAddr, total: usize) -> io::Result<bool> {
    const CHUNK: usize = 256 * 1024;
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = stream.try_clone()?;
    let sender = thread::spawn(move || -> io::Result<()> {
        let mut chunk = vec![0u8; CHUNK];
        let mut offset = 0;
        while offset < total {
            let len = CHUNK.min(total - offset);
            fill(&mut chunk[..len], offset);
            writer.write_all(&chunk[..len])?;
            offset += len;
        }
        Ok(())
    });
    let mut got = vec![0u8; CHUNK];
    let mut expected = vec![0u8; CHUNK];
    let mut offset = 0;
    let mut same = true;
    let mut reader = &stream;
    while offset < total {
        let n = reader.read(&mut got)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "fermée trop tôt",
            ));
        }
        fill(&mut expected[..n], offset);
        same &= got[..n] == expected[..n];
        offset += n;
    }
    sender
        .join()
        .map_err(|_| io::Error::other("émetteur arrêté"))??;
    Ok(same)
}

/// The pattern at `offset`: every 8-byte word holds its own index (mixed),
/// so a lost, doubled or moved chunk never matches. Built a word at a time
/// (the compiler vectorises it): the checking client must not be slower
/// than the servers it measures.
fn fill(buf: &mut [u8], offset: usize) {
    let word = |index: usize| {
        (index as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .to_le_bytes()
    };
    // The bytes before the first whole word, one at a time.
    let head = ((8 - offset % 8) % 8).min(buf.len());
    let (head_bytes, rest) = buf.split_at_mut(head);
    for (i, b) in head_bytes.iter_mut().enumerate() {
        let pos = offset + i;
        *b = word(pos / 8)[pos % 8];
    }
    // The whole words, then the start of the last one.
    let first = (offset + head) / 8;
    let whole = rest.len() / 8;
    let mut words = rest.chunks_exact_mut(8);
    for (k, chunk) in (&mut words).enumerate() {
        chunk.copy_from_slice(&word(first + k));
    }
    let tail = words.into_remainder();
    let n = tail.len();
    tail.copy_from_slice(&word(first + whole)[..n]);
}

// ------------------------------------------------------------------ plumbing

/// A number field of `/proc/PID/status`, 0 where there is none.
fn status(pid: u32, key: &str) -> u64 {
    netlabs::procfs::status_field(pid, key).unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} Mio", kib as f64 / 1024.0)
}

const USAGE: &str = "\
echo_models — le banc d'essai des serveurs echo de TP5b (ping-pong, connexions ouvertes, gros transfert)

usage : cargo bench -p echo --bench echo_models -- [OPTIONS]
  --duration SECS     durée d'une mesure de ping-pong (défaut 3)
  --clients LISTE     nombres de clients, par exemple 1,10,100,1000 (le défaut)
  --size OCTETS       taille d'un message de ping-pong (défaut 64)
  --hold N            connexions ouvertes ensemble (défaut 10000)
  --bulk-mib N        Mio envoyés dans une seule connexion (défaut 256)
  --models LISTE      serveurs mesurés (défaut : les quatre), parmi
                      echo-server, echo-thread-server, echo-poll-server, echo-reactor-server
  --only LISTE        parties mesurées, parmi pingpong, hold, bulk (défaut : toutes)
  -h, --help          cette aide

Pour le seul ping-pong, avec les images : l'outil compare (make demo).
";

/// The options, each checked: a mistake prints the usage and exits 2, as
/// every program of the workspace does.
fn parse_options() -> Options {
    let mut args = netlabs::Args::parse(USAGE);
    args.flag("--bench"); // what `cargo bench` adds to every benchmark's arguments
    let positive = |args: &netlabs::Args, name: &str, n: usize| {
        if n == 0 {
            args.usage_error(&format!("{name} attend un nombre plus grand que 0"));
        }
        n
    };
    let secs: f64 = args.value("--duration").unwrap_or(3.0);
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        args.usage_error(
            "--duration attend un nombre de secondes entre 0 et 3600, par exemple 3 ou 0.5",
        );
    }
    let clients: Vec<usize> = match args.value::<String>("--clients") {
        None => vec![1, 10, 100, 1000],
        Some(text) => text
            .split(',')
            .map(|c| match c.trim().parse() {
                Ok(n) if n > 0 => n,
                _ => args.usage_error(&format!(
                    "--clients attend des nombres plus grands que 0 séparés par des virgules (reçu « {text} »)"
                )),
            })
            .collect(),
    };
    let size = args.value("--size").unwrap_or(64);
    let size = positive(&args, "--size", size);
    let hold = args.value("--hold").unwrap_or(10_000);
    let hold = positive(&args, "--hold", hold);
    let bulk_mib = args.value("--bulk-mib").unwrap_or(256);
    let bulk_mib = positive(&args, "--bulk-mib", bulk_mib);
    let names: Vec<&str> = MODELS.iter().map(|(name, _)| *name).collect();
    let models = list(&mut args, "--models", &names);
    let only = list(&mut args, "--only", &["pingpong", "hold", "bulk"]);
    args.finish();
    Options {
        duration: Duration::from_secs_f64(secs),
        clients,
        size,
        hold,
        bulk_mib,
        models,
        only,
    }
}

/// `--NAME a,b,…`, each one of `known` (not given: all of them).
fn list(args: &mut netlabs::Args, name: &str, known: &[&str]) -> Vec<String> {
    let Some(text) = args.value::<String>(name) else {
        return Vec::new();
    };
    let items: Vec<String> = text.split(',').map(|i| i.trim().to_string()).collect();
    if let Some(bad) = items.iter().find(|i| !known.contains(&i.as_str())) {
        args.usage_error(&format!(
            "{name} : « {bad} » inconnu ; choisissez parmi {}",
            known.join(", ")
        ));
    }
    items
}
