//! The persistence lesson in numbers: `SET` round trips per second, and
//! the server's CPU time per `SET`, with the journal (`--save`) and with
//! the journal forced to the disk (`--save --fsync`, group commit), for
//! C = 1, 10 and 50 clients — beside Redis on the same ping-pong where
//! `redis-server` is installed (its inline commands, `appendonly yes`,
//! `appendfsync no` or `always`).
//!
//! `make bench` (or `cargo bench -p kv --bench kv_set`) builds kv-server
//! with optimisations, then for each case runs kv and Redis one after the
//! other, `--rounds` times (alternated: a machine that slows down slows
//! both), and prints the medians and the ratio kv / Redis. Each client
//! sends `SET k<client>_<n> <32 bytes>` and waits for its answer before
//! the next.
//!
//! Options (after `--`): `--duration SECS` (2), `--clients 1,10,50`,
//! `--rounds N` (3), `--dir FOLDER` (where the journals go, `/var/tmp`: a
//! normal disk, not memory — `/tmp` is often a `tmpfs`, where `fsync`
//! costs nothing). The table is written to `target/bench/kv_set.md`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const KV_SERVER: Option<&str> = option_env!("CARGO_BIN_EXE_kv-server");

/// Warm-up before each measurement: connections settle, caches fill.
const WARM_UP: Duration = Duration::from_millis(300);

/// Each client cycles through this many keys.
const KEYS: u64 = 1000;

/// The value of every `SET`.
const VALUE: &str = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";

struct Options {
    duration: Duration,
    clients: Vec<usize>,
    rounds: usize,
    dir: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Kv,
    Redis,
}

/// One measurement: `SET`s per second, server CPU microseconds per `SET`,
/// and answers that were not `OK`.
#[derive(Clone, Copy)]
struct Measure {
    rate: f64,
    cpu_us: f64,
    bad: u64,
}

fn main() {
    let options = parse_options();
    let Some(kv) = KV_SERVER else {
        eprintln!("kv-server introuvable : lancez ce banc par cargo bench -p kv");
        return;
    };
    let redis = have_redis();
    let mut report = String::new();
    report.push_str(&format!(
        "## kv-server : SET aller-retour, {} s par mesure, médianes de {} mesures alternées\n\n",
        options.duration.as_secs_f64(),
        options.rounds
    ));
    report.push_str(&format!(
        "Journal dans {} ; {} cœurs.\n",
        options.dir.display(),
        thread::available_parallelism().map_or(1, |n| n.get())
    ));
    if redis {
        report.push_str("Référence : redis-server (appendonly yes), mêmes commandes en ligne.\n\n");
        report.push_str(
            "| cas | C | kv SET/s | kv µs CPU/SET | Redis SET/s | Redis µs CPU/SET | débit kv/Redis | CPU kv/Redis |\n|---|---|---|---|---|---|---|---|\n",
        );
    } else {
        report.push_str("redis-server absent (apt-get install redis-server) : kv seul.\n\n");
        report.push_str("| cas | C | kv SET/s | kv µs CPU/SET |\n|---|---|---|---|\n");
    }
    eprint!("{report}");
    let mut table = String::new();
    for fsync in [false, true] {
        for &c in &options.clients {
            let mut kv_runs = Vec::new();
            let mut redis_runs = Vec::new();
            for _ in 0..options.rounds {
                kv_runs.push(measure(Kind::Kv, kv, fsync, c, &options));
                if redis {
                    redis_runs.push(measure(Kind::Redis, kv, fsync, c, &options));
                }
            }
            let case = if fsync { "--save --fsync" } else { "--save" };
            let k = median(&kv_runs);
            let row = if redis {
                let r = median(&redis_runs);
                format!(
                    "| `{case}` | {c} | {:.0} | {:.1} | {:.0} | {:.1} | {:.2}× | {:.2}× |\n",
                    k.rate,
                    k.cpu_us,
                    r.rate,
                    r.cpu_us,
                    k.rate / r.rate,
                    k.cpu_us / r.cpu_us
                )
            } else {
                format!("| `{case}` | {c} | {:.0} | {:.1} |\n", k.rate, k.cpu_us)
            };
            if k.bad > 0 {
                eprintln!("kv : {} réponses autres que OK", k.bad);
            }
            eprint!("{row}");
            table.push_str(&row);
        }
    }
    report.push_str(&table);
    println!("\n{report}");
    // target/release/deps/kv_set-… → target/bench/
    let exe = std::env::current_exe().unwrap_or_default();
    if let Some(target) = exe.ancestors().nth(3) {
        let out = target.join("bench");
        if std::fs::create_dir_all(&out).is_ok() {
            let file = out.join("kv_set.md");
            if std::fs::write(&file, &report).is_ok() {
                eprintln!("tableau écrit dans {}", file.display());
            }
        }
    }
}

fn parse_options() -> Options {
    let mut options = Options {
        duration: Duration::from_secs(2),
        clients: vec![1, 10, 50],
        rounds: 3,
        dir: PathBuf::from("/var/tmp"),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--duration" => {
                options.duration = Duration::from_secs_f64(value.parse().unwrap_or(2.0));
                i += 1;
            }
            "--clients" => {
                options.clients = value.split(',').filter_map(|c| c.parse().ok()).collect();
                i += 1;
            }
            "--rounds" => {
                options.rounds = value.parse().unwrap_or(3).max(1);
                i += 1;
            }
            "--dir" => {
                options.dir = PathBuf::from(value);
                i += 1;
            }
            _ => {} // cargo bench passes `--bench`
        }
        i += 1;
    }
    options
}

fn have_redis() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A server started for one measurement, in a fresh folder: killed and its
/// folder removed on drop.
struct Running {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(kind: Kind, kv: &str, fsync: bool, base: &Path) -> Running {
    let dir = base.join(format!(
        "kv-bench-{}-{}",
        std::process::id(),
        Instant::now().elapsed().subsec_nanos() ^ rand_bits()
    ));
    std::fs::create_dir_all(&dir).expect("bench folder");
    match kind {
        Kind::Kv => {
            let mut cmd = Command::new(kv);
            cmd.args(["--port", "0", "--save"])
                .arg(dir.join("kv.journal"));
            if fsync {
                cmd.arg("--fsync");
            }
            let mut child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start kv-server");
            let mut first = String::new();
            let mut out = BufReader::new(child.stdout.take().unwrap());
            out.read_line(&mut first).expect("first line");
            // Keep reading its log so that it never blocks on a full pipe.
            thread::spawn(move || {
                let mut line = String::new();
                while matches!(out.read_line(&mut line), Ok(n) if n > 0) {
                    line.clear();
                }
            });
            let addr = first
                .trim()
                .rsplit(' ')
                .next()
                .and_then(|a| a.parse().ok())
                .expect("en écoute sur ADDR:PORT");
            Running { child, addr, dir }
        }
        Kind::Redis => {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--appendonly", "yes", "--appendfsync"])
                .arg(if fsync { "always" } else { "no" })
                .args(["--daemonize", "no", "--protected-mode", "no"])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let end = Instant::now() + Duration::from_secs(10);
            while TcpStream::connect(addr).is_err() && Instant::now() < end {
                thread::sleep(Duration::from_millis(20));
            }
            Running { child, addr, dir }
        }
    }
}

/// A few random bits, for folder names.
fn rand_bits() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish() as u32
}

/// C clients, each sending `SET` and waiting for its answer, for the
/// duration after a warm-up; the server's CPU time is read from `/proc`
/// at both ends of the measured window.
fn measure(kind: Kind, kv: &str, fsync: bool, clients: usize, options: &Options) -> Measure {
    let server = start(kind, kv, fsync, &options.dir);
    let pid = server.child.id();
    let barrier = Arc::new(Barrier::new(clients + 1));
    let warm_up_end = Arc::new(Barrier::new(clients + 1));
    let finished = Arc::new(Barrier::new(clients + 1));
    let duration = options.duration;
    let workers: Vec<_> = (0..clients)
        .map(|id| {
            let (addr, barrier, warm) =
                (server.addr, Arc::clone(&barrier), Arc::clone(&warm_up_end));
            let finished = Arc::clone(&finished);
            thread::spawn(move || {
                let stream = TcpStream::connect(addr).expect("connect");
                stream.set_nodelay(true).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                let mut one = |n: u64| -> bool {
                    let command = format!("SET k{id}_{} {VALUE}\n", n % KEYS);
                    line.clear();
                    writer.write_all(command.as_bytes()).is_ok()
                        && reader.read_line(&mut line).is_ok_and(|n| n > 0)
                        && line.starts_with("+OK") | line.starts_with("OK")
                };
                barrier.wait();
                let mut n = 0;
                let warm_end = Instant::now() + WARM_UP;
                while Instant::now() < warm_end {
                    one(n);
                    n += 1;
                }
                warm.wait();
                let end = Instant::now() + duration;
                let (mut done, mut bad) = (0u64, 0u64);
                while Instant::now() < end {
                    if one(n) {
                        done += 1;
                    } else {
                        bad += 1;
                    }
                    n += 1;
                }
                // Connections stay open until the server's CPU time is
                // read: a thread-per-client server's threads end with them.
                finished.wait();
                (done, bad)
            })
        })
        .collect();
    barrier.wait();
    warm_up_end.wait();
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    // Every client has done its last SET: time and CPU are read before
    // any connection closes.
    thread::sleep(duration);
    finished.wait();
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds(pid);
    let (mut done, mut bad) = (0, 0);
    for worker in workers {
        let (d, b) = worker.join().unwrap_or((0, 1));
        done += d;
        bad += b;
    }
    let cpu_us = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) if done > 0 => (b - a) * 1e6 / done as f64,
        _ => f64::NAN,
    };
    Measure {
        rate: done as f64 / elapsed,
        cpu_us,
        bad,
    }
}

/// The CPU time of a process, every thread it ever had included: user +
/// system time of `/proc/PID/stat`, in ticks of 1/100 s (enough over a
/// measurement of seconds). The per-thread counters would be finer, but
/// forget the threads that have ended.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The median of each figure.
fn median(runs: &[Measure]) -> Measure {
    let mid = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    Measure {
        rate: mid(runs.iter().map(|m| m.rate).collect()),
        cpu_us: mid(runs.iter().map(|m| m.cpu_us).collect()),
        bad: runs.iter().map(|m| m.bad).sum(),
    }
}
