//! compare: options and bad input, the table and SVG writers on fixed data,
//! a short real run on the four echo servers plus a target that refuses,
//! the waiting staircase of the blocking server, and no server left behind
//! when compare is killed.

mod util;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use compare::busy::ProcProbe;
use compare::load::{self, Step, Strip};
use compare::pictures::{self, Panel};
use compare::report::{self, Row};
use util::{Server, WAIT, bin};

fn compare() -> Command {
    Command::cargo_bin("compare").expect("compare is built")
}

#[test]
fn help_names_the_seed_and_every_option() {
    let out = compare().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in [
        "TP5b",
        "--duration",
        "--clients",
        "--size",
        "--models",
        "--target",
        "--out",
        "bloquant",
    ] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}

#[test]
fn bad_options_print_the_usage_and_exit_2() {
    let cases: &[&[&str]] = &[
        &["--clients", "1,,10"],
        &["--clients", "0"],
        &["--clients", "10,x"],
        &["--clients", ""],
        &["--duration", "0"],
        &["--duration", "-1"],
        &["--duration", "trois"],
        &["--size", "0"],
        &["--size", "99999999"],
        &["--models", "nginx"],
        &["--models", ""],
        &["--models", "aucun"],
        &["--target", "python"],
        &["--target", "p=127.0.0.1:0"],
        &["--target", "p=127.0.0.1"],
        &["--target", "echo-server=127.0.0.1:9"],
        &["--target", "a=127.0.0.1:9", "--target", "a=127.0.0.1:10"],
        &["--out", ""],
        &["--bogus"],
        &["extra"],
        &["--clients"],
    ];
    for args in cases {
        let out = compare().args(*args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("erreur : "), "{args:?}: {err}");
        assert!(err.contains("usage : compare"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// A measured step with made-up numbers.
fn step(clients: usize, served: usize, rate: u64, cpu_us: Option<(u64, u64)>) -> Step {
    let mut s = Step {
        clients,
        connected: clients,
        served,
        round_trips: rate,
        seconds: 1.0,
        errors: 0,
        ..Step::default()
    };
    for us in [20, 30, 40] {
        s.latency.record(Duration::from_micros(us));
    }
    if let Some((server, own)) = cpu_us {
        s.server_cpu = Some(Duration::from_micros(server * rate));
        s.own_cpu = Some(Duration::from_micros(own * rate));
        s.threads = Some(1);
        s.peak_kib = Some(2048);
    }
    s
}

fn fixed_rows() -> Vec<Row> {
    let row = |server: &str, step: Step| Row {
        server: server.into(),
        step,
    };
    vec![
        row("echo-server", step(1, 1, 40_000, Some((10, 9)))),
        row("echo-poll-server", step(1, 1, 35_000, Some((12, 9)))),
        row("py <select> & co", step(1, 1, 20_000, None)),
        row("echo-server", step(10, 1, 39_000, Some((10, 9)))),
        row("echo-poll-server", step(10, 10, 135_000, Some((7, 5)))),
        row(
            "py <select> & co",
            Step::failed(10, "connexion refusée (Connection refused)"),
        ),
    ]
}

#[test]
fn the_table_has_a_row_per_server_and_c_in_order() {
    let rows = fixed_rows();
    let table = report::table(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + rows.len(), "{table}");
    assert!(lines[0].contains("allers-retours/s") && lines[0].contains("servis"));
    for (line, row) in lines[2..].iter().zip(&rows) {
        assert!(line.starts_with(&format!("| {}", row.server)), "{line}");
    }
    assert!(lines[2].contains("40 000") && lines[2].contains("1/1"));
    assert!(
        lines[5].contains("1/10"),
        "blocking at C = 10: {}",
        lines[5]
    );
    assert!(lines[6].contains("135 000") && lines[6].contains("7,0 µs"));
    assert!(
        lines[6].contains("5,0 µs"),
        "the generator's CPU: {}",
        lines[6]
    );
    // A target: no CPU, threads or memory; a failed one is marked.
    assert!(lines[4].matches('—').count() >= 4, "{}", lines[4]);
    assert!(lines[7].contains("connexion refusée"), "{}", lines[7]);
    let note = report::generator_note(&rows);
    assert!(
        note.contains("moins de CPU par aller-retour que le serveur, sur les 2 lignes à C ≥ 10."),
        "{note}"
    );
}

#[test]
fn the_note_names_a_row_where_the_generator_costs_more() {
    let rows = vec![Row {
        server: "echo-thread-server".into(),
        step: step(100, 100, 50_000, Some((4, 6))),
    }];
    let note = report::generator_note(&rows);
    assert!(
        note.contains("au moins autant de CPU par aller-retour que le serveur, sur la seule ligne à C ≥ 10 : echo-thread-server à C = 100 : 6,0 µs contre 4,0 µs ("),
        "{note}"
    );
}

/// Checks that `xml` is well formed enough for a browser: every tag closed
/// in order, every `&` an entity.
fn assert_well_formed(xml: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    let check_text = |text: &str| {
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "bare & in {:?}",
                &entity[..entity.len().min(20)]
            );
        }
    };
    while let Some(open) = rest.find('<') {
        check_text(&rest[..open]);
        rest = &rest[open..];
        let close = if rest.starts_with("<?") {
            rest.find("?>").expect("?> closes <?") + 2
        } else if rest.starts_with("<!--") {
            rest.find("-->").expect("--> closes <!--") + 3
        } else {
            let end = rest.find('>').expect("> closes <");
            let tag = &rest[1..end];
            assert!(!tag.contains('<'), "< inside a tag: {tag}");
            check_text(tag);
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(!name.is_empty(), "tag without a name: {tag}");
            if tag.starts_with('/') {
                assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "</{name}>");
            } else if !tag.ends_with('/') {
                stack.push(name);
            }
            end + 1
        };
        rest = &rest[close..];
    }
    check_text(rest);
    assert!(stack.is_empty(), "never closed: {stack:?}");
}

#[test]
fn the_throughput_picture_is_well_formed_with_one_line_per_server() {
    let svg = pictures::throughput_svg(&fixed_rows(), "64 octets & 1 s", None);
    assert_well_formed(&svg);
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
    assert_eq!(svg.matches("<polyline").count(), 3, "{svg}");
    for label in [
        "clients simultanés",
        "allers-retours par seconde",
        "py &lt;select&gt; &amp; co",
    ] {
        assert!(svg.contains(label), "{label}");
    }
    // The failed target keeps its legend, and its marked cell a point.
    assert_eq!(
        svg.matches("<circle").count(),
        5 + 1 + 3 + 1,
        "5 points, 1 marked, 3 legend dots, the marked one's legend"
    );
}

#[test]
fn the_waiting_picture_is_well_formed_with_one_panel_per_server() {
    let strip = |first: Option<f64>| Strip {
        connected: 0.0,
        first_echo: first,
        done: first.map_or(2.0, |f| f + 0.5),
    };
    let panels = vec![
        Panel {
            server: "echo-server".into(),
            strips: Ok((0..5).map(|i| strip(Some(0.5 * i as f64))).collect()),
        },
        Panel {
            server: "echo-poll-server".into(),
            strips: Ok((0..5).map(|_| strip(Some(0.001))).collect()),
        },
        Panel {
            server: "a <b>".into(),
            strips: Ok(vec![strip(None)]),
        },
        Panel {
            server: "refus".into(),
            strips: Err("connexion refusée".into()),
        },
    ];
    let svg = pictures::waiting_svg(&panels, 0.5);
    assert_well_formed(&svg);
    assert_eq!(svg.matches(r#"<g class="model">"#).count(), 4);
    assert!(svg.contains("jamais servi") && svg.contains("connexion refusée"));
    assert!(svg.contains("a &lt;b&gt;"));
    assert!(svg.contains("temps depuis la connexion"));
}

#[test]
fn the_blocking_server_serves_waiting_clients_one_after_another() {
    let hold = Duration::from_millis(300);
    let limit = Duration::from_secs(10);
    let blocking = Server::start("echo-server", &["--bind", "127.0.0.1", "--port", "0"]);
    let strips = load::waiting(&[blocking.addr], 4, hold, limit).unwrap();
    let mut firsts: Vec<f64> = strips.iter().map(|s| s.first_echo.unwrap()).collect();
    firsts.sort_by(f64::total_cmp);
    for pair in firsts.windows(2) {
        assert!(pair[1] - pair[0] >= 0.29, "a staircase: {firsts:?}");
    }
    let poll = Server::start("echo-poll-server", &["--bind", "127.0.0.1", "--port", "0"]);
    let strips = load::waiting(&[poll.addr], 4, hold, limit).unwrap();
    for s in &strips {
        assert!(s.first_echo.unwrap() < 0.25, "served at once: {strips:?}");
    }
}

#[test]
fn a_short_run_on_the_four_servers_and_a_refusing_target() {
    for name in [
        "echo-server",
        "echo-thread-server",
        "echo-poll-server",
        "echo-reactor-server",
    ] {
        bin(name); // beside compare, built if missing
    }
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out_dir = std::env::temp_dir().join(format!("compare-test-{}", std::process::id()));
    let started = Instant::now();
    let out = compare()
        // 0.6 s a step: long enough for a busy CI machine to schedule every
        // server, short enough for the whole run to take a few seconds.
        .args(["--duration", "0.6", "--clients", "1,3", "--out"])
        .arg(&out_dir)
        .args(["--target", &format!("refus={refused}")])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(started.elapsed() < WAIT, "took {:?}", started.elapsed());
    assert_eq!(
        out.status.code(),
        Some(1),
        "a marked row: exit 1\n{stdout}\n{stderr}"
    );
    let row = |server: &str, c: &str| {
        stdout
            .lines()
            .find(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                cells.get(1) == Some(&server) && cells.get(2) == Some(&c)
            })
            .unwrap_or_else(|| panic!("no row {server} C = {c}:\n{stdout}"))
            .to_string()
    };
    assert!(row("echo-server", "3").contains(" 1/3 "), "{stdout}");
    for server in [
        "echo-thread-server",
        "echo-poll-server",
        "echo-reactor-server",
    ] {
        let r = row(server, "3");
        assert!(r.contains(" 3/3 ") && r.ends_with(" 0 |"), "{r}");
    }
    for c in ["1", "3"] {
        assert!(row("refus", c).contains("connexion refusée"), "{stdout}");
    }
    assert!(
        stderr.contains("[10/10] refus, C = 3"),
        "one line per step: {stderr}"
    );
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("fichiers écrits : "), "{last}");
    for file in ["compare.md", "compare.svg", "attente.svg"] {
        let path = out_dir.join(file);
        assert!(last.contains(&path.display().to_string()), "{last}");
        let text = std::fs::read_to_string(&path).unwrap();
        if file.ends_with(".svg") {
            assert_well_formed(&text);
        } else {
            assert!(stdout.starts_with(&text), "stdout and compare.md agree");
        }
    }
    let waiting = std::fs::read_to_string(out_dir.join("attente.svg")).unwrap();
    assert_eq!(waiting.matches(r#"<g class="model">"#).count(), 5);
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// The parent pid of each process, from `/proc/PID/stat`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let after = &s[s.rfind(')')? + 2..];
                    after.split(' ').nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

#[test]
fn killing_compare_leaves_no_server_running() {
    if !util::skip_unless(
        std::path::Path::new("/proc/self/stat").exists(),
        "pas de /proc pour trouver le processus du serveur",
    ) {
        return;
    }
    bin("echo-poll-server");
    let out_dir = std::env::temp_dir().join(format!("compare-kill-{}", std::process::id()));
    let mut child = compare()
        .args([
            "--models",
            "poll",
            "--clients",
            "1",
            "--duration",
            "60",
            "--out",
        ])
        .arg(&out_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The server is the guard's child, the guard compare's.
    let deadline = Instant::now() + WAIT;
    let server = loop {
        let found: Vec<u32> = children_of(child.id())
            .into_iter()
            .flat_map(children_of)
            .collect();
        if let Some(&pid) = found.first() {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if name.trim() == "echo-poll-serve" {
                break pid;
            }
        }
        assert!(Instant::now() < deadline, "no server started");
        thread::sleep(Duration::from_millis(20));
    };
    // kill -9: compare cannot clean up anything itself.
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + WAIT;
    while netlabs::procfs::is_alive(server) {
        assert!(Instant::now() < deadline, "server {server} still running");
        thread::sleep(Duration::from_millis(20));
    }
    let mut err = String::new();
    let _ = BufReader::new(child.stderr.take().unwrap()).read_line(&mut err);
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn a_server_that_stops_answering_gets_its_row_marked() {
    // Echoes for 0.1 s, then keeps the connection open and says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        use std::io::{Read, Write};
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let started = Instant::now();
        let mut buf = [0u8; 1500];
        while started.elapsed() < Duration::from_millis(100) {
            match conn.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let _ = conn.write_all(&buf[..n]);
                }
                _ => return,
            }
        }
        thread::sleep(Duration::from_secs(3));
    });
    let plan = load::Plan {
        clients: 1,
        size: 64,
        warm_up: Duration::ZERO,
        duration: Duration::from_millis(900),
        rounds: 1,
    };
    let mut probe = ProcProbe { server_pid: None };
    let step = load::pingpong::ping_pong(&[addr], &plan, &mut probe, &mut |_| {});
    assert!(step.round_trips > 0, "it answered at first");
    let why = step.failure.expect("marked");
    assert!(why.starts_with("ne répond plus depuis"), "{why}");
}

/// An echo server in a thread of the test: each connection is answered by
/// `answer` (the bytes received, changed or not).
fn thread_server(answer: fn(&mut [u8])) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            thread::spawn(move || {
                use std::io::{Read, Write};
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = conn.read(&mut buf) {
                    answer(&mut buf[..n]);
                    if conn.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn a_closed_stdout_ends_compare_quietly() {
    let addr = thread_server(|_| {});
    let out_dir = std::env::temp_dir().join(format!("compare-pipe-{}", std::process::id()));
    // `compare … | head -0`: the reading end is closed before compare writes.
    let mut child = compare()
        .args(["--models", "aucun", "--clients", "1", "--duration", "0.2"])
        .args(["--target", &format!("t={addr}"), "--out"])
        .arg(&out_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out_dir.join("compare.svg").is_file(),
        "the files are still written"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn a_marked_cell_is_drawn_hollow_with_its_reason_and_k_of_c_is_written() {
    let mut marked = step(1000, 130, 9_000, None);
    marked.failure = Some("130 connexions sur 1000 seulement : file d'attente pleine".into());
    let mut blocking = step(10, 1, 14_000, None);
    blocking.rates = vec![13_000.0, 14_000.0, 15_500.0];
    let rows = vec![
        Row {
            server: "echo-server".into(),
            step: blocking,
        },
        Row {
            server: "std-bloquant".into(),
            step: marked,
        },
    ];
    let busy =
        "Machine occupée : 40 % du CPU pris par d'autres pendant la mesure ; relancez au calme.";
    let svg = pictures::throughput_svg(&rows, "détail", Some(busy));
    assert_well_formed(&svg);
    let hollow: Vec<&str> = svg
        .lines()
        .filter(|l| l.contains(r#"class="marked""#) && l.contains("cx="))
        .collect();
    assert!(
        hollow
            .iter()
            .any(|l| l.contains(r#"fill="white""#) && l.contains("130 connexions")),
        "{svg}"
    );
    assert!(
        svg.contains("○ std-bloquant, C = 1 000 : 130 connexions sur 1000"),
        "{svg}"
    );
    assert!(
        svg.contains(">1/10 servis<") && svg.contains(">130/1 000 servis<"),
        "{svg}"
    );
    assert!(svg.contains("Machine occupée : 40 %"), "{svg}");
    assert_eq!(svg.matches(r#"class="spread""#).count(), 1, "one error bar");
    // A measured cell is a filled point.
    assert!(
        svg.contains(r##"r="4" fill="#d62728"><title>echo-server"##),
        "{svg}"
    );
}

#[test]
fn every_server_keeps_its_colour_whatever_models_says() {
    let all = pictures::colours(&[
        "echo-server",
        "echo-thread-server",
        "echo-poll-server",
        "echo-reactor-server",
        "python",
        "java",
    ]);
    let some = pictures::colours(&["java", "echo-poll-server", "python"]);
    assert_eq!((all[4], all[5], all[2]), (some[2], some[0], some[1]));
    let targets: Vec<String> = (1..=10).map(|k| format!("etudiant-{k}")).collect();
    let names: Vec<&str> = targets.iter().map(String::as_str).collect();
    let mut distinct = pictures::colours(&names);
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "ten targets, ten colours");
}

#[test]
fn a_target_that_changes_the_bytes_is_said_so() {
    let addr = thread_server(|bytes| bytes.make_ascii_uppercase());
    let plan = load::Plan {
        clients: 3,
        size: 64,
        warm_up: Duration::ZERO,
        duration: Duration::from_millis(200),
        rounds: 2,
    };
    let mut probe = ProcProbe { server_pid: None };
    let step = load::pingpong::ping_pong(&[addr], &plan, &mut probe, &mut |_| {});
    let why = step.failure.expect("marked");
    assert!(
        why.contains("les octets renvoyés diffèrent de ceux envoyés"),
        "{why}"
    );
    assert!(!why.contains("fermé"), "{why}");
}

#[test]
fn a_target_of_this_machine_gets_its_threads_and_memory() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        println!("SKIP: no /proc to find the target's process");
        return;
    }
    let threads = Server::start(
        "echo-thread-server",
        &["--bind", "127.0.0.1", "--port", "0"],
    );
    let out_dir = std::env::temp_dir().join(format!("compare-local-{}", std::process::id()));
    let out = compare()
        .args(["--models", "aucun", "--clients", "3", "--duration", "0.3"])
        .args(["--target", &format!("local={}", threads.addr), "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| local "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // serveur, C, rate, min – max, p50, p99, servis, CPU, CPU, threads, mémoire
    assert_eq!(
        cells[10], "4",
        "3 clients, 3 threads and the main one: {row}"
    );
    assert!(
        cells[11].ends_with("Mio") && cells[8].ends_with("µs"),
        "{row}"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}
