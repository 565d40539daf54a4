//! The TP5b benchmark: the echo servers side by side, measured from outside.
//!
//! `make bench` (or `cargo bench -p echo --bench echo_models`) builds the
//! servers with optimisations, then for each model:
//!
//! 1. **ping-pong**: C clients (1, 10, 100, 1000) each send a 64-byte
//!    message and wait for its echo before sending the next, for a few
//!    seconds. Reported: round trips per second, p50/p99 latency, the
//!    server's CPU time per round trip (from `/proc/PID/stat`), its threads
//!    and peak memory (`VmHWM`). The load comes from one thread using
//!    `poll`, so that the client side costs as little CPU as possible: on
//!    a 2-core machine client and server share the cores.
//! 2. **hold**: N connections (10 000) open at once, each echoing one byte;
//!    reported: peak memory, and per connection.
//! 3. **bulk**: 256 MiB through one connection, every byte checked.
//!
//! Options (after `--`): `--duration SECS` (3), `--clients 1,10,100,1000`,
//! `--size BYTES` (64), `--hold N` (10000), `--bulk-mib N` (256),
//! `--models a,b,…`, `--only pingpong,hold,bulk`. The table is printed in
//! Markdown and written to `target/bench/echo_models.md`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use netlabs::sys::{Events, PollFd, poll_fds};

/// Every echo server this crate builds (the reactor one when it exists).
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
    let options = parse_options();
    let _ = netlabs::sys::raise_fd_limit();
    let mut report = String::new();
    let machine = machine_line();
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

struct PingPong {
    round_trips: u64,
    seconds: f64,
    latencies: Vec<u32>, // nanoseconds
    server_cpu: Duration,
    threads: u64,
    peak_kib: u64,
    errors: u64,
}

fn ping_pong_table(options: &Options, models: &[(&str, &str)]) -> String {
    let mut out = format!(
        "## Ping-pong : {} octets, {} s par mesure\n\n\
         | modèle | C | allers-retours/s | p50 | p99 | CPU serveur / aller-retour | threads | mémoire max | erreurs |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        options.size,
        options.duration.as_secs_f64()
    );
    for &c in &options.clients {
        for &(name, path) in models {
            if name == "echo-server" && c > 1 {
                continue; // serves one client at a time: the others would wait forever
            }
            eprintln!("ping-pong : {name}, C = {c}…");
            let server = BenchServer::start(path);
            let r = ping_pong(server.addr, c, options.size, options.duration, server.pid());
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    out.push_str(&format!("| {name} | {c} | échec : {e} |||||||\n"));
                    continue;
                }
            };
            let rate = r.round_trips as f64 / r.seconds;
            let cpu_per = r.server_cpu.as_secs_f64() * 1e6 / r.round_trips.max(1) as f64;
            out.push_str(&format!(
                "| {name} | {c} | {:.0} | {} | {} | {:.1} µs | {} | {} | {} |\n",
                rate,
                micros(percentile(&r.latencies, 50.0)),
                micros(percentile(&r.latencies, 99.0)),
                cpu_per,
                r.threads,
                mib(r.peak_kib),
                r.errors,
            ));
        }
    }
    out.push('\n');
    out
}

/// C clients in one thread: each sends `size` bytes, waits for all of them
/// to come back, records the time, sends again.
fn ping_pong(
    addr: SocketAddr,
    clients: usize,
    size: usize,
    duration: Duration,
    pid: u32,
) -> io::Result<PingPong> {
    let message = vec![b'x'; size];
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        conns.push(s);
    }
    let mut sent_at = vec![Instant::now(); clients];
    let mut received = vec![0usize; clients];
    let mut fds: Vec<PollFd> = conns.iter().map(|s| PollFd::new(s, Events::IN)).collect();
    let mut buf = vec![0u8; 64 * 1024];
    let mut latencies: Vec<u32> = Vec::with_capacity(1 << 20);
    let mut errors = 0u64;

    for (i, s) in conns.iter_mut().enumerate() {
        (&*s).write_all(&message)?;
        sent_at[i] = Instant::now();
    }
    let start = Instant::now();
    let measure_from = start + WARM_UP;
    let end = measure_from + duration;
    let mut cpu_start = None;
    let mut round_trips = 0u64;

    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if cpu_start.is_none() && now >= measure_from {
            cpu_start = Some((cpu_time(pid), now));
        }
        let timeout = if cpu_start.is_none() {
            measure_from
        } else {
            end
        } - now;
        if poll_fds(&mut fds, Some(timeout))? == 0 {
            continue;
        }
        for i in 0..clients {
            if fds[i].revents().is_empty() {
                continue;
            }
            let n = match (&conns[i]).read(&mut buf) {
                Ok(n) if n > 0 => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                _ => {
                    // Closed or failed: count it and stop watching it.
                    errors += 1;
                    fds[i] = PollFd::from_raw(-1, Events::NONE);
                    continue;
                }
            };
            received[i] += n;
            if received[i] < size {
                continue; // the echo came in pieces: wait for the rest
            }
            received[i] -= size;
            let now = Instant::now();
            if cpu_start.is_some() {
                latencies.push((now - sent_at[i]).as_nanos().min(u32::MAX as u128) as u32);
                round_trips += 1;
            }
            if (&conns[i]).write_all(&message).is_err() {
                errors += 1;
                fds[i] = PollFd::from_raw(-1, Events::NONE);
                continue;
            }
            sent_at[i] = now;
        }
    }
    let (cpu0, t0) = cpu_start.unwrap_or((cpu_time(pid), Instant::now()));
    let seconds = t0.elapsed().as_secs_f64();
    let server_cpu = cpu_time(pid).saturating_sub(cpu0);
    let (threads, peak_kib) = (proc_status(pid, "Threads:"), proc_status(pid, "VmHWM:"));
    latencies.sort_unstable();
    Ok(PingPong {
        round_trips,
        seconds,
        latencies,
        server_cpu,
        threads,
        peak_kib,
        errors,
    })
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
        let server = BenchServer::start(path);
        let base = proc_status(server.pid(), "VmRSS:");
        let started = Instant::now();
        let held = hold(server.addr, n);
        let elapsed = started.elapsed();
        // Measured while every connection is still open.
        let threads = proc_status(server.pid(), "Threads:");
        let peak = proc_status(server.pid(), "VmHWM:");
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
        let server = BenchServer::start(path);
        let cpu0 = cpu_time(server.pid());
        let started = Instant::now();
        let result = bulk(server.addr, total);
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_time(server.pid()).saturating_sub(cpu0);
        let peak = proc_status(server.pid(), "VmHWM:");
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

/// A server started for one measurement, killed when dropped.
struct BenchServer {
    child: Child,
    addr: SocketAddr,
}

impl BenchServer {
    fn start(path: &str) -> BenchServer {
        let mut child = Command::new(path)
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).expect("first line");
        let addr = first
            .trim()
            .strip_prefix("en écoute sur ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        // Keep draining its log so it never blocks on a full pipe.
        thread::spawn(move || io::copy(&mut out, &mut io::sink()));
        BenchServer { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU time of a process, from `/proc/PID/stat` (ticks of
/// 1/100 s).
fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    let Some(close) = stat.rfind(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// A number field of `/proc/PID/status` (`VmHWM:` in KiB, `Threads:`).
fn proc_status(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l[key.len()..].split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn micros(nanos: u32) -> String {
    format!("{:.0} µs", nanos as f64 / 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} Mio", kib as f64 / 1024.0)
}

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "processeur inconnu".into());
    let cores = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cores} cœurs, {cpu}, {}", std::env::consts::OS)
}

fn parse_options() -> Options {
    let mut options = Options {
        duration: Duration::from_secs(3),
        clients: vec![1, 10, 100, 1000],
        size: 64,
        hold: 10_000,
        bulk_mib: 256,
        models: Vec::new(),
        only: Vec::new(),
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut it = args.iter();
    let list = |v: Option<&String>| -> Vec<String> {
        v.map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--duration" => {
                let secs: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(3.0);
                options.duration = Duration::from_secs_f64(secs);
            }
            "--clients" => {
                options.clients = list(it.next())
                    .iter()
                    .filter_map(|c| c.parse().ok())
                    .collect();
            }
            "--size" => options.size = it.next().and_then(|v| v.parse().ok()).unwrap_or(64),
            "--hold" => options.hold = it.next().and_then(|v| v.parse().ok()).unwrap_or(10_000),
            "--bulk-mib" => {
                options.bulk_mib = it.next().and_then(|v| v.parse().ok()).unwrap_or(256)
            }
            "--models" => options.models = list(it.next()),
            "--only" => options.only = list(it.next()),
            other => eprintln!("option ignorée : {other}"),
        }
    }
    options
}
