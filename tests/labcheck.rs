//! `labcheck` run as a teacher runs it: against every
//! server of the workspace, which must all pass; against small Python
//! servers in the lab's own style (`tests/labcheck_servers/`), correct ones
//! that pass and broken ones, one student mistake each, that must fail
//! with the right explanation; against hostile servers that must not make
//! it hang; and its usage, exit codes and JUnit report.
//!
//! The runs of a group go in parallel threads, a few at a time (see
//! [`RUNS_AT_ONCE`]): each run mostly waits on its server, so the whole
//! file stays fast on a small machine.

mod util;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use util::{Server, free_tcp_port, have};

/// What one run of labcheck printed, and how it ended.
struct Run {
    code: i32,
    out: String,
    err: String,
    took: Duration,
}

impl Run {
    /// The block printed for a failed check: its `ÉCHEC` line and the
    /// indented lines under it.
    fn failure(&self, check: &str) -> Option<String> {
        let mut lines = self.out.lines();
        // A failed `remarque` (beyond the course) prints its block alike.
        lines
            .find(|l| (l.starts_with("ÉCHEC") || l.starts_with("remarque")) && l.contains(check))?;
        let block: Vec<&str> = lines.take_while(|l| l.starts_with("       ")).collect();
        Some(block.join("\n"))
    }

    fn last_line(&self) -> &str {
        self.out.lines().last().unwrap_or("")
    }

    fn explain(&self) -> String {
        format!(
            "exit {} after {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.took, self.out, self.err
        )
    }
}

/// At most this many labcheck runs at once, whichever test started them:
/// a run mostly waits on its server, but dozens of 8 MiB echoes at once on
/// two busy cores would make a correct server look slow.
const RUNS_AT_ONCE: usize = 3;

/// How many runs are going on (see [`RUNS_AT_ONCE`]).
static RUNNING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// A place among the runs going on, given back when dropped.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let (count, freed) = &RUNNING;
        let mut n = count.lock().unwrap_or_else(|e| e.into_inner());
        while *n >= RUNS_AT_ONCE {
            n = freed.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        *count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        freed.notify_one();
    }
}

/// Runs `labcheck ARGS…`, once a place is free among the runs going on;
/// every run is bounded by the tool itself, and by a watchdog here in
/// case it were not.
fn labcheck(args: &[&str]) -> Run {
    let _shared = ALONE.read().unwrap_or_else(|e| e.into_inner());
    let _slot = Slot::take();
    run_labcheck(args)
}

/// Held (written) by the test that times labcheck: no other run of this
/// file goes on meanwhile, so that the time measured is the tool's own,
/// not that of the other tests' 8 MiB echoes on two cores.
static ALONE: RwLock<()> = RwLock::new(());

/// Runs labcheck now, without waiting for a place.
fn run_labcheck(args: &[&str]) -> Run {
    let start = Instant::now();
    let output = util::client("labcheck")
        .args(args)
        .timeout(Duration::from_secs(90))
        .output()
        .expect("run labcheck");
    Run {
        code: output.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: start.elapsed(),
    }
}

/// A Python server on a free port: the course's own file where one fits
/// (`docs/python/…`, the very file the sheets run, which takes the port as
/// its only argument; `variant` is then empty), or a server of
/// `tests/labcheck_servers/` with its variant. `None` (test skipped, said
/// so) where python3 is absent.
fn python(file: &str, variant: &str) -> Option<Server> {
    if !have("python3", "les serveurs d'essai de labcheck sont en Python") {
        return None;
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut cmd = Command::new("python3");
    if file.starts_with("docs/python/") {
        cmd.arg(format!("{root}/{file}")).arg("0");
    } else {
        cmd.arg(format!("{root}/tests/labcheck_servers/{file}"))
            .args([variant, "0"]);
    }
    Some(Server::spawn(cmd))
}

/// Checks `server` as `kind` on its loopback address.
fn check(kind: &str, server: &Server) -> Run {
    labcheck(&[kind, &server.loopback().to_string()])
}

/// A run in its own thread; `None` when skipped (no python3).
type Job<T> = thread::JoinHandle<Option<T>>;

/// What each run, started in its own thread, gave.
fn joined<T>(handles: Vec<thread::JoinHandle<T>>) -> Vec<T> {
    handles
        .into_iter()
        .map(|h| h.join().expect("a labcheck run panicked"))
        .collect()
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("netlabs-labcheck-{}-{name}", std::process::id()))
}

#[test]
fn every_project_server_passes_its_check() {
    let pesto_file = temp_path("pesto.txt");
    let pesto_arg = pesto_file.to_str().expect("UTF-8 temp path").to_string();
    // (kind, server, its arguments, number of checks)
    let servers: Vec<(&str, &str, Vec<String>, usize)> = vec![
        ("echo", "echo-server", vec![], 11),
        ("echo", "echo-thread-server", vec![], 11),
        ("echo", "echo-poll-server", vec![], 11),
        ("echo", "echo-reactor-server", vec![], 11),
        ("echo-udp", "echo-udp-server", vec![], 5),
        ("prime", "prime-server", vec!["--forever".into()], 16),
        ("prime-udp", "prime-udp-server", vec![], 8),
        ("kv", "kv-server", vec![], 14),
        (
            "pesto",
            "pesto-server",
            vec!["--file".into(), pesto_arg],
            12,
        ),
    ];
    // The servers start together; labcheck runs alone (no other test's
    // run meanwhile), two at a time, so that the time bound holds on a
    // loaded machine.
    let started: Vec<(&str, &str, usize, Server)> = servers
        .into_iter()
        .map(|(kind, name, args, checks)| {
            let mut all = vec!["--port".to_string(), "0".into()];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            (kind, name, checks, Server::start(name, &all))
        })
        .collect();
    let alone = ALONE.write().unwrap_or_else(|e| e.into_inner());
    let mut runs = Vec::new();
    for pair in started.chunks(2) {
        let jobs: Vec<thread::JoinHandle<Run>> = pair
            .iter()
            .map(|(kind, _, _, server)| {
                let args = [kind.to_string(), server.loopback().to_string()];
                thread::spawn(move || run_labcheck(&[&args[0], &args[1]]))
            })
            .collect();
        for ((_, name, checks, _), run) in pair.iter().zip(joined(jobs)) {
            runs.push((*name, *checks, run));
        }
    }
    drop(alone);
    for (name, checks, run) in runs {
        assert_eq!(run.code, 0, "{name}: {}", run.explain());
        assert_eq!(
            run.last_line(),
            format!("{checks} passed, 0 failed"),
            "{name}: {}",
            run.explain()
        );
        assert!(!run.out.contains("ÉCHEC"), "{name}: {}", run.explain());
        // The promise: a full run on a correct local server takes under
        // 10 s (timed from when the run could start: at most
        // RUNS_AT_ONCE go on together, so that a loaded machine does not
        // stretch one run with the others' 8 MiB echoes).
        assert!(
            run.took < Duration::from_secs(10),
            "{name} took {:?}: {}",
            run.took,
            run.explain()
        );
        // On this machine, the process is found and its model told (TCP:
        // the model steps; a UDP server has no model to tell).
        assert!(
            name.contains("udp") || run.out.contains("langage Rust"),
            "{name}: {}",
            run.explain()
        );
        match name {
            "echo-server" | "prime-server" => assert!(
                run.out.contains("un client à la fois") && run.out.contains("TP5b 1.2"),
                "{name} is diagnosed as one client at a time: {}",
                run.explain()
            ),
            "echo-thread-server" | "kv-server" => assert!(
                run.out.contains("plusieurs clients à la fois")
                    && run
                        .out
                        .contains("20 clients connectés ensemble, tous servis"),
                "{name} serves several clients: {}",
                run.explain()
            ),
            _ => {}
        }
        assert!(run.err.is_empty(), "{name}: {}", run.explain());
    }
    let saved = std::fs::read_to_string(&pesto_file).unwrap_or_default();
    let _ = std::fs::remove_file(&pesto_file);
    assert!(
        saved.contains("labcheck "),
        "pesto's write: was saved: {saved:?}"
    );
}

#[test]
fn python_servers_in_the_lab_style_pass_and_their_model_is_named() {
    let cases: Vec<(&str, &str, &str, &[&str])> = vec![
        (
            "echo",
            "echo_tcp.py",
            "blocking",
            &[
                "un client à la fois",
                "le modèle bloquant de TP5b 1.2 ; voir 2.1 et 2.2",
            ],
        ),
        (
            "echo",
            "echo_tcp.py",
            "select",
            &[
                "plusieurs clients à la fois",
                "un client qui envoie sans lire",
                "bloque les autres",
                "sendall bloquant",
            ],
        ),
        (
            "echo",
            "docs/python/tp5b/echo_thread.py",
            "",
            &[
                "plusieurs clients à la fois",
                "20 clients connectés ensemble",
            ],
        ),
        ("echo-udp", "docs/python/tp5b/echo_udp.py", "", &["UDP"]),
        (
            "prime",
            "prime_tcp.py",
            "ok",
            &["plusieurs clients à la fois"],
        ),
        ("kv", "kv.py", "ok", &["plusieurs clients à la fois"]),
        ("pesto", "pesto.py", "ok", &["plusieurs clients à la fois"]),
    ];
    let jobs: Vec<Job<Run>> = cases
        .iter()
        .map(|&(kind, file, variant, _)| {
            thread::spawn(move || Some(check(kind, &python(file, variant)?)))
        })
        .collect();
    for (&(_, file, variant, notes), run) in cases.iter().zip(joined(jobs)) {
        let Some(run) = run else { continue };
        assert_eq!(run.code, 0, "{file} {variant}: {}", run.explain());
        assert!(
            run.last_line().ends_with(" passed, 0 failed"),
            "{file} {variant}: {}",
            run.explain()
        );
        for note in notes {
            assert!(
                run.out.contains(note),
                "{file} {variant} should say {note:?}: {}",
                run.explain()
            );
        }
    }
}

/// A student mistake: kind, file, variant, the check that must fail, and
/// words its explanation must hold.
type Mistake = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// One student mistake per server; labcheck must fail the right check and
/// say why in the course's words. One test per kind, so that a failure
/// names its group.
fn mistakes(cases: Vec<Mistake>) {
    let jobs: Vec<Job<Run>> = cases
        .iter()
        .map(|&(kind, file, variant, _, _)| {
            thread::spawn(move || Some(check(kind, &python(file, variant)?)))
        })
        .collect();
    for (&(_, file, variant, failed, words), run) in cases.iter().zip(joined(jobs)) {
        let Some(run) = run else { continue };
        assert_eq!(run.code, 1, "{file} {variant}: {}", run.explain());
        let block = run.failure(failed).unwrap_or_else(|| {
            panic!(
                "{file} {variant} should fail « {failed} »: {}",
                run.explain()
            )
        });
        assert!(
            block.contains("envoyé : ") && block.contains("reçu   : "),
            "{file} {variant}, « {failed} »: {block}\n{}",
            run.explain()
        );
        // "a|b": either will do (a server that closes with data unread
        // resets the connection instead of closing it, depending on timing).
        for word in words {
            assert!(
                word.split('|').any(|w| block.contains(w)),
                "{file} {variant}, « {failed} » should say {word:?}:\n{block}"
            );
        }
        let failures = run.out.lines().filter(|l| l.starts_with("ÉCHEC")).count();
        let passes = run.out.lines().filter(|l| l.starts_with("ok ")).count();
        assert_eq!(
            run.last_line(),
            format!("{passes} passed, {failures} failed"),
            "{}",
            run.explain()
        );
        assert!(run.err.is_empty(), "{}", run.explain());
        // A server right but for one thing fails one check, not all those
        // that meet the same thing on the way.
        if [
            ("prime_tcp.py", "crlf"),
            ("pesto.py", "crlf-only"),
            ("kv.py", "strip"),
        ]
        .contains(&(file, variant))
        {
            assert_eq!(failures, 1, "{file} {variant}: {}", run.explain());
        }
        if file.ends_with("serveur_udp.py") {
            assert!(
                run.out
                    .contains("pas vérifié : le serveur n'a encore rien répondu"),
                "{}",
                run.explain()
            );
            assert!(run.took < Duration::from_secs(10), "{}", run.explain());
        }
    }
}

#[test]
fn echo_mistakes_fail_with_their_explanation() {
    mistakes(vec![
        (
            "echo",
            "docs/python/tp5b/echo_tcp.py",
            "",
            "survit à un client qui part au milieu d'un gros écho",
            &["sans tout lire", "BrokenPipeError"],
        ),
        (
            "echo",
            "docs/python/tp5b/echo_select.py",
            "",
            "survit à un client qui part au milieu d'un gros écho",
            &["sans tout lire", "BrokenPipeError"],
        ),
        (
            "echo",
            "echo_tcp.py",
            "decode",
            "octets quelconques",
            &["\\xff\\xfe", "decode", "TP5b 1.1"],
        ),
        (
            "echo",
            "echo_tcp.py",
            "strip",
            "espaces et tabulations gardés",
            &["strip", "TP5b 1.2"],
        ),
        (
            "echo",
            "echo_tcp.py",
            "readline",
            "message sans fin de ligne",
            &["rien en 2 s", "readline"],
        ),
        (
            "echo",
            "echo_tcp.py",
            "send",
            "8 Mio reviennent entiers",
            &[
                "8 Mio (8 388 608 octets)",
                "`send` n'envoie pas tout, `sendall` oui",
                "TP5b 2.1",
            ],
        ),
        (
            "echo",
            "echo_tcp.py",
            "once",
            "la connexion sert plusieurs messages",
            &[
                "message 2",
                "connexion fermée|connexion réinitialisée",
                "boucle recv/send",
            ],
        ),
    ]);
}

#[test]
fn prime_mistakes_fail_with_their_explanation() {
    mistakes(vec![
        (
            "prime",
            // The course's server serves one connection, then exits: that is
            // its first failure, found by the knock after the first contact.
            "docs/python/chapitre-2.2/serveur_tcp.py",
            "",
            "première requête",
            &["refusée", "boucle autour d'accept"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "one-recv",
            "deux nombres dans une seule écriture",
            &[
                "b'4\\n17\\n'",
                "b'E\\n'",
                "un recv pour un message",
                "Chapitre 2.2 1.1",
            ],
        ),
        (
            "prime",
            "prime_tcp.py",
            "one-recv",
            "un nombre coupé en deux écritures",
            &["b'F\\n' dès b'1'", "TCP découpe"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "no-newline",
            "17 → T suivi de \\n",
            &["b'T' puis plus rien", "pas de fin de ligne"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "no-newline",
            "deux nombres dans une seule écriture",
            &["b'FT'", "pas de fin de ligne"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "two",
            "2 et 3 sont premiers",
            &["b'2\\n'", "b'F\\n' (attendu b'T\\n')", "2 est premier"],
        ),
        // T\r\n fails the first check only, and says why.
        (
            "prime",
            "prime_tcp.py",
            "crlf",
            "17 → T suivi de \\n",
            &["b'T\\r\\n'", "finit par \\r\\n"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "isdigit",
            "les négatifs → F",
            &["b'-5\\n'", "b'E\\n'", "isdigit()"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "abs",
            "les négatifs → F",
            &["b'-5\\n'", "abs()"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "float",
            "près de 2**64",
            &["18446744073709551557", "float"],
        ),
        (
            "prime",
            "prime_tcp.py",
            "crash",
            "ce qui n'est pas un entier → E",
            &[
                "b'4j\\n'",
                "connexion fermée|connexion réinitialisée",
                "planté",
            ],
        ),
    ]);
}

#[test]
fn prime_udp_mistakes_fail_with_their_explanation() {
    mistakes(vec![
        // A UDP server that never answers: one failure that says so, the
        // other checks not run (not seven time-outs in a row).
        (
            "prime-udp",
            "docs/python/chapitre-2.2/serveur_udp.py",
            "",
            "17 → T suivi de \\n",
            &["rien en 2 s", "sendto(réponse, addr)"],
        ),
    ]);
}

#[test]
fn echo_udp_mistakes_fail_with_their_explanation() {
    mistakes(vec![
        (
            "echo-udp",
            "echo_udp.py",
            "other-port",
            "la réponse vient du port du serveur",
            &["depuis 127.0.0.1:", "autre socket", "TP5b 1.4"],
        ),
        (
            "echo-udp",
            "echo_udp.py",
            "small",
            "65 507 octets revient entier",
            &["coupé à 1 500 octets", "recvfrom(N)"],
        ),
    ]);
}

#[test]
fn kv_mistakes_fail_with_their_explanation() {
    mistakes(vec![
        (
            "kv",
            "kv.py",
            "upper",
            "commandes en minuscules",
            &["b'set ", "ERR", "upper()"],
        ),
        ("kv", "kv.py", "order", "KEYS triées", &["_kc, ", "sorted"]),
        (
            "kv",
            "kv.py",
            "strip",
            "une valeur avec des espaces",
            &[" \\t\\n')", "strip", "rstrip('\\r\\n')"],
        ),
        (
            "kv",
            "kv.py",
            "split",
            "une valeur avec des espaces",
            &["b'VALUE deux\\n'", "split(' ', 2)"],
        ),
    ]);
}

#[test]
fn pesto_mistakes_fail_with_their_explanation() {
    mistakes(vec![
        (
            "pesto",
            "pesto.py",
            "lf",
            "lignes finies par \\r\\n",
            &["established!\\n'", "sendLine"],
        ),
        (
            "pesto",
            "pesto.py",
            "stay",
            "goodbye → réponse, puis connexion fermée",
            &["attendu la fermeture", "loseConnection"],
        ),
        (
            "pesto",
            "pesto.py",
            "data",
            "deux lignes dans une seule écriture",
            &["Unknown command: hello\\r\\nhello", "lineReceived"],
        ),
        // Twisted's LineOnlyReceiver with its default delimiter: only the
        // bare-\n check fails, and names the delimiter.
        (
            "pesto",
            "pesto.py",
            "crlf-only",
            "une ligne finie par \\n seul",
            &["b'hello\\n'", "delimiter", "rstrip(b'\\r')"],
        ),
    ]);
}

/// Servers that stall, flood, trickle or answer at random: labcheck ends,
/// in bounded time, with failures and no panic.
#[test]
fn hostile_servers_never_hang_labcheck() {
    let cases = [
        ("echo", "stall"),
        ("echo", "flood"),
        ("kv", "random"),
        ("pesto", "flood"),
    ];
    let jobs: Vec<Job<(&str, &str, Run)>> = cases
        .into_iter()
        .map(|(kind, variant)| {
            thread::spawn(move || {
                let server = python("hostile.py", variant)?;
                Some((kind, variant, check(kind, &server)))
            })
        })
        .collect();
    for (kind, variant, run) in joined(jobs).into_iter().flatten() {
        assert_eq!(run.code, 1, "{kind} {variant}: {}", run.explain());
        assert!(
            run.last_line().ends_with(" failed"),
            "{kind} {variant}: {}",
            run.explain()
        );
        assert!(
            !run.err.contains("panicked"),
            "{kind} {variant}: {}",
            run.explain()
        );
        assert!(
            run.took < Duration::from_secs(60),
            "{kind} {variant}: {}",
            run.explain()
        );
        // A server that answers nothing is told once, at once: the other
        // checks are not run, each waiting its time-out.
        if variant == "stall" {
            assert!(run.took < Duration::from_secs(10), "{}", run.explain());
            assert!(
                run.out
                    .contains("pas vérifié : le serveur n'a encore rien répondu"),
                "{}",
                run.explain()
            );
        }
    }
}

#[test]
fn nothing_listening_is_one_french_line_and_exit_1() {
    let port = free_tcp_port().to_string();
    let run = labcheck(&["echo", &format!("127.0.0.1:{port}")]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(run.out.is_empty(), "{}", run.explain());
    assert_eq!(run.err.lines().count(), 1, "{}", run.explain());
    assert!(
        run.err
            .starts_with("erreur : rien n'écoute en TCP sur 127.0.0.1:"),
        "{}",
        run.explain()
    );
    assert!(
        run.err.contains("le serveur est-il lancé"),
        "{}",
        run.explain()
    );

    // localhost: both addresses are tried and named.
    let run = labcheck(&["kv", &format!("localhost:{port}")]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.err.contains("[::1]:") && run.err.contains("127.0.0.1:"),
        "{}",
        run.explain()
    );

    // prime: the reminder that prime-server serves one connection only.
    let run = labcheck(&["prime", &format!("[::1]:{port}")]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.err.contains("prime-server --forever"),
        "{}",
        run.explain()
    );
}

#[test]
fn prime_server_without_forever_is_told_to_use_it() {
    let server = Server::start("prime-server", &["--port", "0"]);
    let run = check("prime", &server);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(run.out.contains("ÉCHEC"), "{}", run.explain());
    assert!(
        run.out.contains("prime-server --forever"),
        "{}",
        run.explain()
    );
}

#[test]
fn usage_mistakes_exit_2_and_help_is_french() {
    let help = labcheck(&["-h"]);
    assert_eq!(help.code, 0);
    for word in [
        "usage : labcheck",
        "echo-udp",
        "prime-server --forever",
        "--junit",
        "N passed, N failed",
    ] {
        assert!(
            help.out.contains(word),
            "help should mention {word}: {}",
            help.out
        );
    }
    for args in [
        &[][..],
        &["echo"],
        &["smtp", "localhost:25"],
        &["echo", "localhost"],
        &["echo", "localhost:0"],
        &["echo", "localhost:99999"],
        &["echo", "localhost:7777", "de trop"],
        &["--bogus", "echo", "localhost:7777"],
    ] {
        let run = labcheck(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.explain());
        assert!(
            run.err.starts_with("erreur : "),
            "{args:?}: {}",
            run.explain()
        );
        assert!(
            run.err.contains("usage : labcheck"),
            "{args:?}: {}",
            run.explain()
        );
        assert!(run.out.is_empty(), "{args:?}: {}", run.explain());
    }
}

#[test]
fn junit_report_has_one_case_per_check_and_escaped_failures() {
    let Some(server) = python("echo_tcp.py", "strip") else {
        return;
    };
    let report = temp_path("rapport.xml");
    let report_arg = report.to_str().expect("UTF-8 temp path");
    let run = labcheck(&[
        "--junit",
        report_arg,
        "echo",
        &server.loopback().to_string(),
    ]);
    assert_eq!(run.code, 1, "{}", run.explain());
    let xml = std::fs::read_to_string(&report).expect("the report is written");
    let _ = std::fs::remove_file(&report);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    let failed = run.out.lines().filter(|l| l.starts_with("ÉCHEC")).count();
    assert!(failed > 0);
    assert_eq!(xml.matches("<testcase ").count(), 11, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), failed, "{xml}");
    assert!(
        xml.contains(&format!("tests=\"11\" failures=\"{failed}\"")),
        "{xml}"
    );
    // The failure text is in, escaped: b'…' has apostrophes, "→" stays.
    assert!(xml.contains("envoyé : b&apos;  deux  espaces"), "{xml}");
    assert!(xml.contains("strip"), "{xml}");
    assert!(
        !xml.contains("b'"),
        "raw apostrophes inside attributes: {xml}"
    );
    assert!(xml.contains("<system-out>modèle : "), "{xml}");

    // A folder is refused at once, before any check.
    let run = labcheck(&["--junit", "/", "echo", &server.loopback().to_string()]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.out.is_empty() && run.err.contains("n'est pas un fichier ordinaire"),
        "{}",
        run.explain()
    );

    // A dangling symbolic link is followed: its target is written, the
    // link stays. A pipe, or a folder where nothing can be written, is
    // refused at once.
    let dir = util::TempDir::new("labcheck-junit");
    let link = dir.file("lien.xml");
    std::os::unix::fs::symlink(dir.file("cible.xml"), &link).expect("symlink");
    let run = labcheck(&[
        "--junit",
        link.to_str().unwrap(),
        "echo",
        &server.loopback().to_string(),
    ]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(
        std::fs::read_to_string(dir.file("cible.xml"))
            .unwrap()
            .contains("<testsuite ")
    );
    let fifo = dir.file("tube");
    if Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let run = labcheck(&[
            "--junit",
            fifo.to_str().unwrap(),
            "echo",
            &server.loopback().to_string(),
        ]);
        assert_eq!(run.code, 1, "{}", run.explain());
        assert!(
            run.out.is_empty() && run.err.contains("pas un fichier ordinaire"),
            "{}",
            run.explain()
        );
    }
    let run = labcheck(&[
        "--junit",
        "/proc/rapport.xml",
        "echo",
        &server.loopback().to_string(),
    ]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.out.is_empty() && run.err.contains("impossible d'écrire le rapport"),
        "{}",
        run.explain()
    );

    // Nothing listening: the report says so too.
    let report = temp_path("vide.xml");
    let port = free_tcp_port().to_string();
    let run = labcheck(&[
        "--junit",
        report.to_str().unwrap(),
        "echo",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_eq!(run.code, 1, "{}", run.explain());
    let xml = std::fs::read_to_string(&report).expect("the report is written");
    let _ = std::fs::remove_file(&report);
    assert!(
        xml.contains("<failure ") && xml.contains("rien n&apos;écoute"),
        "{xml}"
    );
}

/// A server written like the course's (trial division, int() on the line)
/// passes every check of the course; the exact answer near 2**64 is a
/// `remarque`, a failure only with --strict, a `skipped` case in JUnit.
#[test]
fn the_course_server_passes_and_beyond_the_course_is_a_remark() {
    let Some(server) = python("prime_tcp.py", "cours") else {
        return;
    };
    let run = check("prime", &server);
    assert_eq!(run.code, 0, "{}", run.explain());
    assert!(
        run.last_line().ends_with(" passed, 0 failed"),
        "{}",
        run.explain()
    );
    assert!(
        run.out.contains("remarque exact et immédiat près de 2**64"),
        "{}",
        run.explain()
    );
    assert!(run.out.contains("langage Python"), "{}", run.explain());
    let Some(server) = python("prime_tcp.py", "cours") else {
        return;
    };
    let report = temp_path("strict.xml");
    let run = labcheck(&[
        "--strict",
        "--junit",
        report.to_str().unwrap(),
        "prime",
        &server.loopback().to_string(),
    ]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.last_line().ends_with(" passed, 1 failed"),
        "{}",
        run.explain()
    );
    let xml = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    assert!(xml.contains("<failure ") && xml.contains("2**64"), "{xml}");
}

/// A class of a dozen servers, some broken, some not running: one table,
/// each student's first failure, the most common failures, one JUnit suite
/// per student; a bad line is named.
#[test]
fn a_class_is_checked_in_one_command() {
    if !have("python3", "les serveurs d'essai de labcheck sont en Python") {
        return;
    }
    let servers: Vec<(&str, &str, Option<Server>)> = vec![
        ("alice", "echo", python("echo_tcp.py", "blocking")),
        ("bruno", "echo", python("echo_tcp.py", "select")),
        ("chloe", "echo", python("echo_tcp.py", "strip")),
        ("david", "echo", python("echo_tcp.py", "decode")),
        ("emma", "echo", python("echo_tcp.py", "once")),
        ("farid", "prime", python("prime_tcp.py", "ok")),
        ("gina", "prime", python("prime_tcp.py", "two")),
        ("hugo", "prime", python("prime_tcp.py", "cours")),
        ("ines", "kv", python("kv.py", "ok")),
        ("jules", "kv", python("kv.py", "order")),
        ("kim", "echo-udp", python("echo_udp.py", "small")),
        ("leo", "echo", None),
    ];
    let dir = util::TempDir::new("labcheck-class");
    let mut text = String::from("# TP5b et Chapitre 2.2\n\n");
    for (name, kind, server) in &servers {
        let place = match server {
            Some(s) => s.loopback().to_string(),
            None => format!("127.0.0.1:{}", free_tcp_port()),
        };
        text.push_str(&format!("{name} {kind} {place}\n"));
    }
    let file = dir.file("classe.txt");
    std::fs::write(&file, &text).unwrap();
    let xml = dir.file("classe.xml");
    let run = labcheck(&[
        "--class",
        file.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.explain());
    let row = |name: &str| {
        run.out
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {}", run.explain()))
            .to_string()
    };
    assert!(row("alice").ends_with("—"), "{}", run.explain());
    assert!(row("hugo").ends_with("—"), "{}", run.explain());
    assert!(
        row("chloe").ends_with("message sans fin de ligne"),
        "{}",
        run.explain()
    );
    assert!(
        row("gina").ends_with("2 et 3 sont premiers, 9 et 25 non"),
        "{}",
        run.explain()
    );
    assert!(
        row("leo").ends_with("le serveur répond"),
        "{}",
        run.explain()
    );
    assert!(
        run.out
            .contains("les vérifications qui échouent le plus souvent :"),
        "{}",
        run.explain()
    );
    assert!(
        run.out.contains("serveurs sur 12 : tout passe"),
        "{}",
        run.explain()
    );
    let report = std::fs::read_to_string(&xml).expect("the class report");
    assert_eq!(report.matches("<testsuite ").count(), 12, "{report}");
    assert!(
        report.contains("classname=\"labcheck.chloe.echo\""),
        "{report}"
    );
    // Every wait bounded: a dozen servers, four at a time.
    assert!(run.took < Duration::from_secs(90), "{}", run.explain());

    std::fs::write(&file, "alice echo 127.0.0.1:7\nbob smtp 127.0.0.1:25\n").unwrap();
    let run = labcheck(&["--class", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.err
            .contains("ligne 2 : « bob smtp 127.0.0.1:25 » : sorte inconnue"),
        "{}",
        run.explain()
    );
}
