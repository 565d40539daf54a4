//! Starting a server to measure, and reading its costs in `/proc`.
//!
//! A server that compare starts must never outlive it, however compare
//! ends: Ctrl-C, `kill`, even `kill -9`. Ctrl-C alone would be enough
//! (the terminal sends SIGINT to the whole foreground process group, servers
//! included), but std has no way to catch a signal, nor to ask the kernel to
//! kill a child when its parent dies. So each server is started through a
//! *guard*: compare runs its own executable again (with [`GUARD_ENV`] set),
//! with a pipe on the guard's stdin. The guard starts the server, tells its
//! pid and first line, then blocks reading that pipe. The pipe reaches
//! end-of-file when compare closes it — or when compare dies, for whatever
//! reason, since the kernel closes a dead process's descriptors. Then the
//! guard kills the server, waits for it, and exits.
//!
//! ```text
//! compare ──stdin pipe──▶ guard ──spawn──▶ echo-poll-server --port 0
//!         ◀── "PID\n" + first line ──┘
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use netlabs::sys::{Events, PollFd, poll_fds};
use netlabs::{Why, procfs};

/// Set in the guard's environment: "you are a guard, not compare".
pub const GUARD_ENV: &str = "NETLABS_COMPARE_GUARD";

/// How long a server has to print its first line: a healthy one does it in
/// milliseconds, a loaded 2-core machine may take a second.
pub const START_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a guard has to kill its server and exit once told to.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// A server started by compare, through its guard: stopped when dropped.
pub struct Server {
    guard: Child,
    stdin: Option<ChildStdin>,
    /// The server's own process id (not the guard's), for `/proc/PID/…`.
    pub pid: u32,
    /// The address of its first line, `en écoute sur ADDR:PORT`.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `path --bind 127.0.0.1 --port 0` through a guard and reads its
    /// first line. The error is a French phrase for the table.
    pub fn start(path: &Path) -> Result<Server, String> {
        // `/proc/self/exe` is this very program even if its file was
        // replaced meanwhile (a `cargo build` during a long run).
        let exe = match Path::new("/proc/self/exe") {
            linux if linux.exists() => linux.to_path_buf(),
            _ => std::env::current_exe()
                .map_err(|e| format!("exécutable de compare introuvable ({})", Why(&e)))?,
        };
        let mut guard = Command::new(exe)
            .env(GUARD_ENV, "1")
            .arg(path)
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("ne démarre pas ({})", Why(&e)))?;
        let stdin = guard.stdin.take();
        let mut server = Server {
            guard,
            stdin,
            pid: 0,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let Some(mut out) = server.guard.stdout.take() else {
            return Err("ne démarre pas".into());
        };
        let lines = read_lines_within(&mut out, 2, START_TIMEOUT);
        let pid_line = lines.first().map(String::as_str).unwrap_or("");
        let first = lines.get(1).map(String::as_str).unwrap_or("");
        if let Some(why) = pid_line.strip_prefix('!').or(first.strip_prefix('!')) {
            return Err(format!("ne démarre pas : {}", why.trim()));
        }
        server.pid = pid_line
            .parse()
            .map_err(|_| "ne démarre pas (aucune réponse de son gardien)".to_string())?;
        if lines.len() < 2 {
            return Err(format!(
                "pas de première ligne en {} s",
                START_TIMEOUT.as_secs()
            ));
        }
        server.addr = first
            .strip_prefix("en écoute sur ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("première ligne inattendue : « {first} »"))?;
        Ok(server)
    }

    /// True while the server process exists (and is not a zombie).
    pub fn is_alive(&self) -> bool {
        procfs::is_alive(self.pid)
    }
}

impl Drop for Server {
    /// Closing the pipe tells the guard to kill the server; wait for it, but
    /// only so long.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !matches!(self.guard.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
        let _ = self.guard.kill();
        let _ = self.guard.wait();
    }
}

/// Reads up to `count` lines from a child's stdout, within `limit` in all
/// (poll, so that a silent child cannot block us).
fn read_lines_within(out: &mut ChildStdout, count: usize, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 512];
    while bytes.iter().filter(|&&b| b == b'\n').count() < count {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let mut fds = [PollFd::new(&out.as_raw_fd(), Events::IN)];
        match poll_fds(&mut fds, Some(deadline - now)) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => break,
        }
        match out.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&bytes)
        .lines()
        .take(count)
        .map(str::to_string)
        .collect()
}

/// The guard's side: if this process was started as a guard, start the
/// server named by the arguments, report, wait for the pipe to close, kill
/// the server and exit. Does nothing in compare itself. Call it first in
/// `main`.
pub fn guard_if_asked() {
    if std::env::var_os(GUARD_ENV).is_none() {
        return;
    }
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let mut out = io::stdout().lock();
    let Some((program, rest)) = args.split_first() else {
        std::process::exit(2);
    };
    let spawned = Command::new(program)
        .args(rest)
        .env_remove(GUARD_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let _ = writeln!(out, "!{}", Why(&e));
            let _ = out.flush();
            std::process::exit(1);
        }
    };
    let _ = writeln!(out, "{}", child.id());
    let _ = out.flush();
    drop(out);

    // Its stderr: the first line is sent on, to say why it did not start.
    let (first_error, stderr_line) = mpsc::channel();
    if let Some(err) = child.stderr.take() {
        thread::spawn(move || drain_stderr(err, first_error));
    }
    // Its first line (or why there is none), then its log, read by a thread:
    // this one must stay free to watch the pipe, even if the server hangs.
    if let Some(stdout) = child.stdout.take() {
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut out = io::stdout().lock();
            if first.trim().is_empty() {
                // Its stdout has closed: it is ending, and so will its stderr.
                // Wait for that stderr's first line, or its end (bounded).
                let why = stderr_line.recv_timeout(STOP_TIMEOUT).unwrap_or_default();
                let why = if why.trim().is_empty() {
                    "arrêté sans rien dire".to_string()
                } else {
                    why
                };
                let _ = writeln!(out, "!{why}");
            } else {
                let _ = write!(out, "{first}");
            }
            let _ = out.flush();
            drop(out);
            // Keep reading its log so that it never blocks on a full pipe.
            let _ = io::copy(&mut reader, &mut io::sink());
        });
    }
    // Wait until compare closes the pipe, or dies.
    let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    let _ = child.kill();
    let _ = child.wait();
    std::process::exit(0);
}

/// Reads a server's stderr to its end, sending its first line on `first`
/// (dropping `first` unsent if there is none, which ends the other's wait).
fn drain_stderr(from: impl Read, first: mpsc::Sender<String>) {
    let mut reader = BufReader::new(from);
    let mut line = String::new();
    if reader.read_line(&mut line).is_ok() && !line.is_empty() {
        let _ = first.send(line.trim_end().to_string());
    }
    drop(first);
    let _ = io::copy(&mut reader, &mut io::sink());
}
