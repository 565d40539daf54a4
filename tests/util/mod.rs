//! The harness every test file shares: find a workspace binary (built up
//! to date), start a server on `--port 0` and read its first line, run a
//! client with a time limit, kill every child on drop, wait for an event
//! with a deadline, temporary files removed on drop, and skips said.
//!
//! A child's output is kept, never printed, unless the test fails: then a
//! [`Server`] prints what it logged with the failure.
//!
//! Each crate points its `[[test]]` at a file of this folder, and Cargo only
//! hands a test the binaries of its own crate; [`bin`] finds the others in
//! the same target folder and has `cargo build` bring each up to date once
//! per test process.
//!
//! A test that cannot check anything here (a tool missing, no `/proc`, no
//! root) says so with [`skip`]: the reason is shown at the end of `make
//! test`, and under `NETLABS_STRICT=1` (CI) a skip is a failure.

#![allow(dead_code, unused_imports)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single wait of a test may last before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// How often [`wait_until`] looks again.
const LOOK_AGAIN: Duration = Duration::from_millis(10);

/// Waits until `done()` is true, looking again every few milliseconds;
/// after [`WAIT`], fails with the message `why()` gives. For an event no
/// pipe or socket tells (a file written, a process gone, a log line).
pub fn wait_until(mut done: impl FnMut() -> bool, why: impl FnOnce() -> String) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        if Instant::now() >= deadline {
            panic!("after {WAIT:?}: {}", why());
        }
        thread::sleep(LOOK_AGAIN);
    }
}

/// Waits for `child` to exit by itself; fails after [`WAIT`].
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let pid = child.id();
    let mut status = None;
    wait_until(
        || {
            status = child.try_wait().expect("try_wait");
            status.is_some()
        },
        || format!("process {pid} did not exit"),
    );
    status.expect("exited")
}

/// A child process killed when dropped, even when a test fails.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The path of the workspace binary `name`, built (`cargo build --bin
/// NAME`) the first time this test process asks for it: a no-op when the
/// binary is fresh, and a rebuild when its sources changed since, so a test
/// never runs yesterday's server.
pub fn bin(name: &str) -> PathBuf {
    // One build at a time: parallel tests may ask for the same binary, and
    // cargo would wait for its lock anyway.
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let dir = target_dir();
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // From the workspace root: the binary may be another crate's; never
        // the workshop's, whose programs are the student's, tidy or not.
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root).args([
            "build",
            "--quiet",
            "--workspace",
            "--exclude",
            "atelier",
            "--bin",
            name,
        ]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo build");
        assert!(status.success(), "cargo build --bin {name} failed");
        built.push(name.to_string());
    }
    dir.join(name)
}

/// `target/debug` (or release) beside the running test executable, which
/// lives in its `deps/` folder.
fn target_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let deps = exe.parent().expect("deps folder");
        deps.parent().expect("target folder").to_path_buf()
    })
    .clone()
}

/// A running server: killed when dropped. If the test fails, its output is
/// printed with the failure.
pub struct Server {
    child: KillOnDrop,
    /// The address from its first line (`en écoute sur ADDR:PORT`).
    pub addr: SocketAddr,
    /// The first line itself.
    pub first_line: String,
    log: Arc<Mutex<String>>,
    errors: Arc<Mutex<String>>,
    /// Disconnected when stdout, and stderr, reach their end.
    output_ended: [mpsc::Receiver<()>; 2],
}

impl Server {
    /// Starts `name` with `args` (give `--port 0`), waits for its first
    /// line and parses the address in it.
    pub fn start(name: &str, args: &[&str]) -> Server {
        let mut cmd = Command::new(bin(name));
        cmd.args(args);
        Server::spawn(cmd)
    }

    /// Starts a prepared command (for a shell wrapper such as `ulimit`).
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start server");
        let (errors, stderr_done) = drain(child.stderr.take().unwrap());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        let (stdout_done, stdout_ended) = mpsc::channel::<()>();
        let log = Arc::new(Mutex::new(String::new()));
        let log2 = Arc::clone(&log);
        thread::spawn(move || {
            let _done = stdout_done; // dropped at the end: `stdout_ended` is told
            let mut first = String::new();
            let _ = stdout.read_line(&mut first);
            let _ = tx.send(first);
            // Keep reading so the server never blocks on a full pipe.
            let mut line = String::new();
            while matches!(stdout.read_line(&mut line), Ok(n) if n > 0) {
                log2.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut child = KillOnDrop(child);
        let first_line = match rx.recv_timeout(WAIT) {
            Ok(line) if !line.is_empty() => line.trim_end().to_string(),
            _ => {
                let _ = child.0.kill();
                let _ = child.0.wait();
                let _ = stderr_done.recv_timeout(WAIT);
                panic!(
                    "the server printed no first line; stderr: {}",
                    errors.lock().unwrap()
                );
            }
        };
        let addr = parse_first_line(&first_line);
        Server {
            child,
            addr,
            first_line,
            log,
            errors,
            output_ended: [stdout_ended, stderr_done],
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The port as text, for a client's `--port`.
    pub fn port_arg(&self) -> String {
        self.port().to_string()
    }

    /// `127.0.0.1:PORT` or `[::1]:PORT`, whichever the server accepts
    /// (a server on `::` or `0.0.0.0` accepts the loopback address).
    pub fn loopback(&self) -> SocketAddr {
        let ip = if self.addr.ip().is_unspecified() {
            if self.addr.is_ipv4() {
                "127.0.0.1".parse().unwrap()
            } else {
                "::1".parse().unwrap()
            }
        } else {
            self.addr.ip()
        };
        SocketAddr::new(ip, self.port())
    }

    /// Everything printed on stdout after the first line, so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Everything printed on stderr so far.
    pub fn errors(&self) -> String {
        self.errors.lock().unwrap().clone()
    }

    /// Waits until the log contains `needle`, or fails after [`WAIT`].
    pub fn wait_for_log(&self, needle: &str) {
        wait_until(
            || self.log().contains(needle),
            || format!("the server log never showed {needle:?}"),
        );
    }

    /// Waits until stderr contains `needle`, or fails after [`WAIT`].
    pub fn wait_for_error(&self, needle: &str) {
        wait_until(
            || self.errors().contains(needle),
            || format!("the server's stderr never showed {needle:?}"),
        );
    }

    /// The process id, to read `/proc/PID/…`.
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.0.try_wait(), Ok(None))
    }

    /// Waits for the server to exit by itself; fails after [`WAIT`]. Its
    /// whole output is in [`Server::log`] and [`Server::errors`] after it.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let status = wait_exit(&mut self.child.0);
        // A child of its own may hold the pipes open: bounded, not fatal.
        for ended in &self.output_ended {
            let _ = ended.recv_timeout(WAIT);
        }
        status
    }

    /// Sends `signal` (`INT` as Ctrl-C does, `TERM`, `KILL`) with
    /// `kill(1)`, then waits for the end of the process.
    pub fn stop_with(&mut self, signal: &str) {
        assert!(
            signal != "INT" || !sigint_ignored(),
            "this test process ignores SIGINT (started in the background by a \
             non-interactive shell?), and so does the server it started: Ctrl-C \
             cannot stop it; run the tests in the foreground"
        );
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -{signal} failed");
        self.wait_exit();
    }
}

impl Drop for Server {
    /// A failing test shows what the server said (the test harness prints
    /// a failing test's stderr, and only a failing one's).
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- {}: stdout after the first line ---\n{}--- stderr ---\n{}",
                self.first_line,
                self.log(),
                self.errors()
            );
        }
    }
}

/// True when this process ignores SIGINT, as `/proc/self/status` says
/// (`SigIgn`, a mask in hex, SIGINT's bit being 1 << 1): a child inherits
/// that, and a Ctrl-C then does nothing to it. False without `/proc`.
fn sigint_ignored() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << 1) != 0)
}

/// `en écoute sur [::]:7777` or `en attente sur 127.0.0.1:8808` → address.
pub fn parse_first_line(line: &str) -> SocketAddr {
    let addr = line
        .strip_prefix("en écoute sur ")
        .or_else(|| line.strip_prefix("en attente sur "))
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    addr.parse()
        .unwrap_or_else(|_| panic!("no address in first line: {line:?}"))
}

/// Reads `from` to its end in a thread: what came so far, and a channel
/// closed when the end is reached.
fn drain(mut from: impl Read + Send + 'static) -> (Arc<Mutex<String>>, mpsc::Receiver<()>) {
    let out = Arc::new(Mutex::new(String::new()));
    let out2 = Arc::clone(&out);
    let (done, ended) = mpsc::channel();
    thread::spawn(move || {
        let _done = done; // dropped at the end: `ended` is told
        let mut buf = [0; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            out2.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (out, ended)
}

/// A client process as `assert_cmd` runs it: bounded in time.
pub fn client(name: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(bin(name));
    cmd.timeout(WAIT);
    cmd
}

/// A long-running child fed through its stdin (an interactive client),
/// killed when dropped.
pub struct Interactive {
    pub child: KillOnDrop,
    pub stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    errors: Arc<Mutex<String>>,
}

impl Interactive {
    pub fn start(name: &str, args: &[&str]) -> Interactive {
        let mut child = Command::new(bin(name))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start client");
        let stdin = child.stdin.take();
        let (errors, _) = drain(child.stderr.take().unwrap());
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Interactive {
            child: KillOnDrop(child),
            stdin,
            lines,
            errors,
        }
    }

    /// Sends `text` to the child's stdin.
    pub fn send(&mut self, text: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(text.as_bytes()).expect("write to client");
        stdin.flush().unwrap();
    }

    /// The next line the child prints; fails after [`WAIT`].
    pub fn line(&self) -> String {
        self.lines.recv_timeout(WAIT).unwrap_or_else(|_| {
            panic!(
                "no line from the client; stderr: {}",
                self.errors.lock().unwrap()
            )
        })
    }

    /// Closes stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the child to exit; fails after [`WAIT`].
    pub fn wait(&mut self) -> ExitStatus {
        wait_exit(&mut self.child.0)
    }
}

/// A connection whose every read and write gives up after [`WAIT`].
pub fn connect(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// A line-oriented connection (prime, kv, pesto…): send bytes, read answer
/// lines; every read and write gives up after [`WAIT`].
pub struct LineConn {
    pub writer: std::net::TcpStream,
    pub reader: BufReader<std::net::TcpStream>,
}

impl LineConn {
    pub fn open(addr: std::net::SocketAddr) -> LineConn {
        let stream = connect(addr);
        stream.set_nodelay(true).unwrap();
        LineConn {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.writer.write_all(bytes).expect("send");
    }

    /// The next line, which must end with `\n` (lossy UTF-8).
    pub fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).expect("an answer");
        assert!(line.ends_with(b"\n"), "answer without its end: {line:?}");
        String::from_utf8_lossy(&line).into_owned()
    }

    /// Sends one command line and returns its answer line.
    pub fn ask(&mut self, command: &str) -> String {
        self.send(format!("{command}\n").as_bytes());
        self.line()
    }

    /// The next `n` answer lines, joined.
    pub fn answers(&mut self, n: usize) -> String {
        (0..n).map(|_| self.line()).collect()
    }

    /// True if nothing arrives within `wait`.
    pub fn silent_for(&mut self, wait: Duration) -> bool {
        self.reader.get_ref().set_read_timeout(Some(wait)).unwrap();
        let mut byte = [0u8; 1];
        let silent = self.reader.read(&mut byte).is_err();
        self.reader.get_ref().set_read_timeout(Some(WAIT)).unwrap();
        silent
    }
}

pub use netlabs::temp::{PATTERN_SEED, TempDir, pattern};

/// A fresh file path in the temporary folder (not created), removed when
/// dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("netlabs-{}-{name}.txt", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }

    /// The path, for a program's argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }

    /// What the file holds (empty if it does not exist).
    pub fn read(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Paths a server must refuse as a file to write, each with the words its
/// error line must hold: a folder, a device, a socket, a link to a folder,
/// and a named pipe (where `mkfifo` exists). They are made in `dir`.
pub fn paths_that_are_not_files(dir: &TempDir) -> Vec<(PathBuf, &'static str)> {
    let mut paths = vec![
        (dir.0.clone(), "est un dossier"),
        ("/dev/null".into(), "est un périphérique"),
    ];
    let socket = dir.file("socket");
    // The socket file stays after its listener is closed.
    drop(std::os::unix::net::UnixListener::bind(&socket).expect("a Unix socket"));
    paths.push((socket, "est une socket"));
    let link = dir.file("vers-dossier");
    std::os::unix::fs::symlink(&dir.0, &link).unwrap();
    paths.push((link, "qui est un dossier"));
    let fifo = dir.file("tube");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        paths.push((fifo, "est un tube nommé"));
    } else {
        skip("mkfifo absent : pas de tube nommé parmi les chemins refusés");
    }
    paths
}

/// Runs `server --port 0 OPTION PATH` and expects one French line on
/// stderr naming `what`, nothing on stdout, exit 1, at once (well before
/// [`WAIT`]: a named pipe opened for writing would block for ever).
pub fn refused_at_once(server: &str, option: &str, path: &Path, what: &str) {
    let started = Instant::now();
    let out = client(server)
        .args(["--port", "0", option])
        .arg(path)
        .output()
        .expect("run");
    let errors = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}: {errors}", path.display());
    assert!(out.stdout.is_empty(), "{}", path.display());
    assert!(
        errors.starts_with("erreur : ") && errors.contains(what) && errors.lines().count() == 1,
        "{}: {errors}",
        path.display()
    );
    assert!(started.elapsed() < WAIT / 2, "not at once");
}

/// Waits until `file` contains `needle`; fails after [`WAIT`].
pub fn wait_for_file(file: &Path, needle: &str) {
    wait_until(
        || String::from_utf8_lossy(&std::fs::read(file).unwrap_or_default()).contains(needle),
        || format!("{} never held {needle:?}", file.display()),
    );
}

/// How many descriptors a process has open, where `/proc` exists.
pub fn open_descriptors(pid: u32) -> Option<usize> {
    netlabs::procfs::open_descriptors(pid)
}

/// A port on which nothing listens now (bound, then released).
pub fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The variable under which a skip is a failure: CI sets it, having
/// installed every tool the tests use.
pub const STRICT: &str = "NETLABS_STRICT";

/// The variable naming the file where skips are written, one per line;
/// without it, `skips.txt` in the target folder (where `make test` reads
/// them).
pub const SKIPS: &str = "NETLABS_SKIPS";

/// Says that this test, or a part of it, checks nothing on this machine,
/// and why (`python3 absent`, `pas de /proc`): the caller then returns, or
/// leaves that part out. The reason is printed (`SKIP: test — reason`) and
/// added to the skips file, which `make test` counts and shows at the end,
/// since the test harness hides a passing test's output. Under
/// `NETLABS_STRICT=1` a skip fails the test.
pub fn skip(reason: impl std::fmt::Display) {
    // A test runs in a thread named after it; a thread it spawned has no
    // name.
    let line = match thread::current().name() {
        Some(test) => format!("SKIP: {test} — {reason}"),
        None => format!("SKIP: {reason}"),
    };
    eprintln!("{line}");
    let file = std::env::var_os(SKIPS)
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("..").join("skips.txt"));
    // One `write` of a whole line in append mode: lines of parallel tests
    // do not mix.
    if let Ok(mut out) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        use std::io::Write;
        let _ = out.write_all(format!("{line}\n").as_bytes());
    }
    if std::env::var_os(STRICT).is_some_and(|v| v != "0" && !v.is_empty()) {
        panic!("{line} (a skip is a failure under {STRICT}=1)");
    }
}

/// `cond`, and a [`skip`] with `reason` when it is false:
/// `if !skip_unless(have_proc, "pas de /proc") { return; }`.
pub fn skip_unless(cond: bool, reason: impl std::fmt::Display) -> bool {
    if !cond {
        skip(reason);
    }
    cond
}

/// True when `program` can be run; otherwise a [`skip`] saying which
/// program is missing and what it was for.
pub fn have(program: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    skip_unless(found, format_args!("{program} absent ({why})"))
}

/// Starts `script` with python3 as a server (the script prints its own
/// first line, like ours), or returns `None` after a [`skip`] where python3
/// is absent.
pub fn python_server(script: &str, why: &str) -> Option<Server> {
    if !have("python3", why) {
        return None;
    }
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]);
    Some(Server::spawn(cmd))
}

/// Resident memory of a process in KiB (`VmRSS`), where `/proc` exists.
pub fn rss_kib(pid: u32) -> Option<u64> {
    netlabs::procfs::status_field(pid, "VmRSS:")
}

/// Peak resident memory of a process in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    netlabs::procfs::status_field(pid, "VmHWM:")
}

/// CPU time (user + system) a process has used so far, where `/proc` exists.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    netlabs::procfs::cpu_time(pid)
}
