//! The two measurements of the TP5b echo servers that `compare` itself
//! does not make (its ping-pong table is `target/release/compare`):
//!
//! 1. **hold**: N connections (10 000) open at once, each echoing one byte;
//!    reported: threads, peak memory, and per connection.
//! 2. **bulk**: 256 MiB through one connection, every byte checked.
//!
//! `make bench` (or `cargo bench -p compare --bench echo_models`) runs it.
//! The servers are the release binaries beside this benchmark's folder
//! (`target/release/`), built first if they are missing. Options (after
//! `--`): `--hold N` (10000), `--bulk-mib N` (256), `--models a,b,…`,
//! `--only hold,bulk`. The tables are printed in Markdown and written to
//! `target/bench/echo_models.md`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use std::path::PathBuf;
use std::process::Command;

use compare::report::decimal;
use compare::server::{self, Server};

struct Options {
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
    netlabs::warn!("{machine}");

    let paths = binaries();
    let models: Vec<(&str, &str)> = paths
        .iter()
        .map(|(name, path)| (*name, path.to_str().unwrap_or_default()))
        .filter(|(name, _)| options.models.is_empty() || options.models.iter().any(|m| m == name))
        .collect();

    if wants(&options, "hold") {
        report.push_str(&hold_table(&options, &models));
    }
    if wants(&options, "bulk") {
        report.push_str(&bulk_table(&options, &models));
    }

    {
        use std::io::Write; // a closed stdout (`| head`) is no reason to panic
        let _ = writeln!(io::stdout().lock(), "\n{report}");
    }
    // target/release/deps/echo_models-… → target/bench/
    let exe = std::env::current_exe().unwrap_or_default();
    let Some(target) = exe.ancestors().nth(3) else {
        return;
    };
    let out = target.join("bench");
    if std::fs::create_dir_all(&out).is_ok() {
        let file = out.join("echo_models.md");
        if std::fs::write(&file, &report).is_ok() {
            netlabs::warn!("tableau écrit dans {}", file.display());
        }
    }
}

fn wants(options: &Options, part: &str) -> bool {
    options.only.is_empty() || options.only.iter().any(|p| p == part)
}

// --------------------------------------------------------------------- hold

fn hold_table(options: &Options, models: &[(&str, &str)]) -> String {
    let n = options.hold;
    let mut out = format!(
        "## {} à la fois, chacune renvoie un octet\n\n\
         | modèle | connexions qui ont répondu | threads | mémoire max | par connexion | durée |\n\
         |---|---:|---:|---:|---:|---:|\n",
        netlabs::plural(
            n as u64,
            "aucune connexion ouverte",
            "connexion ouverte",
            "connexions ouvertes"
        )
    );
    for &(name, path) in models {
        if name == "echo-server" {
            continue;
        }
        netlabs::warn!(
            "hold : {name}, {}…",
            netlabs::plural(n as u64, "aucune connexion", "connexion", "connexions")
        );
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
            "| {name} | {} | {threads} | {} | {} Kio | {} s |\n",
            match answered {
                Ok(k) => format!("{k} / {n}"),
                Err(e) => format!("échec : {e}"),
            },
            mib(peak),
            decimal(per / 1024.0, 1),
            decimal(elapsed.as_secs_f64(), 1),
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
        netlabs::warn!("bulk : {name}…");
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
                format!("{} Go/s", decimal(total as f64 / elapsed / 1e9, 2)),
                "oui".to_string(),
            ),
            Ok(false) => ("—".into(), "NON".into()),
            Err(e) => ("—".into(), format!("échec : {e}")),
        };
        out.push_str(&format!(
            "| {name} | {rate} | {} s | {} | {ok} |\n",
            decimal(cpu.as_secs_f64(), 2),
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

/// The release binaries of the four models, beside this benchmark's
/// folder (`target/release/deps/echo_models-…` → `target/release/`),
/// built with cargo if one is missing.
fn binaries() -> Vec<(&'static str, PathBuf)> {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .ancestors()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or_default();
    let list: Vec<(&str, PathBuf)> = compare::MODELS
        .iter()
        .map(|(name, ..)| (*name, dir.join(name)))
        .collect();
    if list.iter().any(|(_, p)| !p.is_file()) {
        netlabs::warn!("compilation des serveurs : cargo build --release -p echo -p reactor");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let _ = Command::new(cargo)
            .args(["build", "--release", "-p", "echo", "-p", "reactor"])
            .status();
    }
    list.into_iter().filter(|(_, p)| p.is_file()).collect()
}

/// A number field of `/proc/PID/status`, 0 where there is none.
fn status(pid: u32, key: &str) -> u64 {
    netlabs::procfs::status_field(pid, key).unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{} Mio", decimal(kib as f64 / 1024.0, 1))
}

const USAGE: &str = "\
echo_models — les serveurs echo de TP5b : 10 000 connexions ouvertes, un gros transfert

usage : cargo bench -p compare --bench echo_models -- [OPTIONS]
  --hold N            connexions ouvertes ensemble (défaut 10000)
  --bulk-mib N        Mio envoyés dans une seule connexion (défaut 256)
  --models LISTE      serveurs mesurés (défaut : les quatre), parmi
                      echo-server, echo-thread-server, echo-poll-server, echo-reactor-server
  --only LISTE        parties mesurées, parmi hold, bulk (défaut : toutes)
  -h, --help          cette aide

Pour le ping-pong (C clients), avec les images : target/release/compare.
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
    let hold = args.value("--hold").unwrap_or(10_000);
    let hold = positive(&args, "--hold", hold);
    let bulk_mib = args.value("--bulk-mib").unwrap_or(256);
    let bulk_mib = positive(&args, "--bulk-mib", bulk_mib);
    let names: Vec<&str> = compare::MODELS.iter().map(|(name, ..)| *name).collect();
    let models = list(&mut args, "--models", &names);
    let only = list(&mut args, "--only", &["hold", "bulk"]);
    args.finish();
    Options {
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
