//! Chapitre 2.2: the key-value server the chapter announces — its protocol,
//! many clients at once, and saves that survive a crash (CATALOGUE
//! section 3).

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use util::{LineConn, Server, TempDir, WAIT, client, wait_for_file};

fn start(extra: &[&str]) -> Server {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    Server::start("kv-server", &args)
}

fn start_saving(file: &Path) -> Server {
    start(&["--save", file.to_str().unwrap()])
}

#[test]
fn the_protocol_line_by_line() {
    let server = start(&[]);
    assert_eq!(
        server.first_line,
        format!("en écoute sur 127.0.0.1:{}", server.port())
    );
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("GET ville"), "NOTFOUND\n");
    assert_eq!(c.ask("SET ville Lyon"), "OK\n");
    assert_eq!(c.ask("GET ville"), "VALUE Lyon\n");
    assert_eq!(c.ask("set phrase une valeur  avec des espaces"), "OK\n");
    assert_eq!(c.ask("Get phrase"), "VALUE une valeur  avec des espaces\n");
    assert_eq!(c.ask("SET ville Paris"), "OK\n");
    assert_eq!(c.ask("KEYS"), "KEYS phrase ville\n");
    assert_eq!(c.ask("DEL ville"), "OK\n");
    assert_eq!(c.ask("del ville"), "NOTFOUND\n");
    assert_eq!(c.ask("keys"), "KEYS phrase\n");
    for bad in [
        "",
        "FOO bar",
        "SET",
        "SET seule",
        "GET",
        "GET a b",
        "DEL",
        "KEYS x",
    ] {
        let answer = c.ask(bad);
        assert!(answer.starts_with("ERR "), "{bad:?} → {answer:?}");
    }
    // \r\n endings, bytes that are not UTF-8, a command in two writes.
    c.send(b"SET bin \xff\xfe\r\nGET bin\r\n");
    assert_eq!(c.line(), "OK\n");
    let mut raw = Vec::new();
    c.reader.read_until(b'\n', &mut raw).unwrap();
    assert_eq!(raw, b"VALUE \xff\xfe\n");
    c.send(b"GE");
    c.send(b"T phrase\n");
    assert_eq!(c.line(), "VALUE une valeur  avec des espaces\n");
}

#[test]
fn a_line_over_64_kib_gets_err_and_the_connection_goes_on() {
    let server = start(&[]);
    let mut c = LineConn::open(server.addr);
    let mut long = b"SET k ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 100 * 1024));
    long.extend_from_slice(b"\nSET k court\nGET k\n");
    c.send(&long);
    assert!(c.line().starts_with("ERR "));
    assert_eq!(c.line(), "OK\n");
    assert_eq!(c.line(), "VALUE court\n");

    // Just under the limit is fine.
    let value = "v".repeat(64 * 1024 - "SET big ".len());
    assert_eq!(c.ask(&format!("SET big {value}")), "OK\n");
    assert_eq!(c.ask("GET big"), format!("VALUE {value}\n"));
}

#[test]
fn kv_client_with_arguments_and_with_standard_input() {
    let server = start(&[]);
    let port = server.port_arg();
    client("kv-client")
        .args(["--port", &port, "SET", "nom", "Ada", "Lovelace"])
        .assert()
        .success()
        .stdout("OK\n");
    client("kv-client")
        .args(["--port", &port, "GET", "nom"])
        .assert()
        .success()
        .stdout("VALUE Ada Lovelace\n");
    client("kv-client")
        .args(["--port", &port])
        .write_stdin("SET a 1\nKEYS\nDEL a\nGET a\nBOGUS\nKEYS")
        .assert()
        .success()
        .stdout(
            predicate::str::is_match("^OK\nKEYS a nom\nOK\nNOTFOUND\nERR [^\n]+\nKEYS nom\n$")
                .unwrap(),
        );
    // Ten thousand commands in one stream, answered in order.
    let mut input = String::new();
    for i in 0..10_000 {
        input.push_str(&format!("SET n{i} {i}\n"));
    }
    input.push_str("GET n9999\n");
    let expected = format!("{}VALUE 9999\n", "OK\n".repeat(10_000));
    client("kv-client")
        .args(["--port", &port])
        .write_stdin(input)
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn kv_client_without_a_server() {
    let port = util::free_tcp_port().to_string();
    client("kv-client")
        .args(["--port", &port, "KEYS"])
        .assert()
        .code(1)
        .stderr(format!(
            "erreur : connexion refusée par 127.0.0.1:{port} ; le serveur est-il lancé ?\n"
        ));
}

#[test]
fn twenty_clients_at_once() {
    const CLIENTS: usize = 20;
    const KEYS_EACH: usize = 100;
    let server = start(&[]);
    let addr = server.addr;
    // Every client connects before any of them sends: all are served at once.
    let conns: Vec<LineConn> = (0..CLIENTS).map(|_| LineConn::open(addr)).collect();
    let workers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(c, mut conn)| {
            thread::spawn(move || {
                for k in 0..KEYS_EACH {
                    assert_eq!(conn.ask(&format!("SET c{c}-k{k} valeur {c} {k}")), "OK\n");
                    // A shared counter key, written by everyone.
                    assert_eq!(conn.ask(&format!("SET dernier {c}")), "OK\n");
                }
                for k in 0..KEYS_EACH {
                    assert_eq!(
                        conn.ask(&format!("GET c{c}-k{k}")),
                        format!("VALUE valeur {c} {k}\n")
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a client failed");
    }
    let mut c = LineConn::open(addr);
    let keys = c.ask("KEYS");
    assert_eq!(keys.split_whitespace().count(), 1 + CLIENTS * KEYS_EACH + 1);
    let last = c.ask("GET dernier");
    assert!(last.starts_with("VALUE "), "{last}");
    server.wait_for_log("(thread client-20)");
}

#[test]
fn a_client_that_never_reads_does_not_block_the_others() {
    let server = start(&[]);
    let mut c = LineConn::open(server.addr);
    let big = "x".repeat(60 * 1024);
    assert_eq!(c.ask(&format!("SET big {big}")), "OK\n");

    let before = util::rss_kib(server.pid());

    // This one asks for megabytes of answers and reads none: its thread
    // ends up blocked in write. It must not hold the store's lock then,
    // nor pile up the answers in memory.
    let mut hog = LineConn::open(server.addr);
    let flooding = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&flooding);
    let mut hog_writer = hog.writer.try_clone().unwrap();
    let flooder = thread::spawn(move || {
        let requests = "GET big\n".repeat(1000);
        while flag.load(Ordering::SeqCst) {
            if hog_writer.write_all(requests.as_bytes()).is_err() {
                break;
            }
        }
    });
    thread::sleep(Duration::from_millis(200)); // let the hog fill its buffers
    for i in 0..50 {
        let started = Instant::now();
        assert_eq!(c.ask(&format!("SET k{i} v")), "OK\n");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "SET {i} waited for the hog"
        );
    }
    if let (Some(before), Some(peak)) = (before, util::peak_rss_kib(server.pid())) {
        assert!(
            peak < before + 16 * 1024,
            "memory grew from {before} KiB to a peak of {peak} KiB"
        );
    }
    flooding.store(false, Ordering::SeqCst);
    hog.writer.shutdown(Shutdown::Both).ok();
    let mut sink = Vec::new();
    let _ = hog.reader.read_to_end(&mut sink);
    flooder.join().unwrap();
}

#[test]
fn saved_data_comes_back_after_a_restart() {
    let dir = TempDir::new("restart");
    let file = dir.file("data.kv");
    {
        let server = start_saving(&file);
        server.wait_for_log("0 clé(s) chargée(s)");
        let mut c = LineConn::open(server.addr);
        assert_eq!(c.ask("SET ville Lyon"), "OK\n");
        assert_eq!(c.ask("SET phrase deux  mots"), "OK\n");
        assert_eq!(c.ask("SET tmp x"), "OK\n");
        assert_eq!(c.ask("DEL tmp"), "OK\n");
        // The whole file, deletion included, once the saver has run.
        wait_for_file(&file, "SET phrase deux  mots\nSET ville Lyon\n");
        // Dropping the server kills it (SIGKILL): no chance to save at exit.
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, "SET phrase deux  mots\nSET ville Lyon\n");
    let server = start_saving(&file);
    let mut c = LineConn::open(server.addr);
    wait_for_file(&file, "SET ville Lyon\n");
    assert_eq!(c.ask("GET ville"), "VALUE Lyon\n");
    assert_eq!(c.ask("GET phrase"), "VALUE deux  mots\n");
    // The save file is a list of SET commands: kv-client can replay it.
    let replay = std::fs::read(&file).unwrap();
    let other = start(&[]);
    client("kv-client")
        .args(["--port", &other.port_arg()])
        .write_stdin(replay)
        .assert()
        .success();
    let mut o = LineConn::open(other.addr);
    assert_eq!(o.ask("GET phrase"), "VALUE deux  mots\n");
}

#[test]
fn a_crash_during_heavy_writes_leaves_a_whole_consistent_file() {
    const WRITERS: usize = 4;
    const BATCH: usize = 200;
    let dir = TempDir::new("crash");
    let file = dir.file("data.kv");
    for round in 0..2 {
        let server = start_saving(&file);
        let addr = server.addr;
        if round == 0 {
            // Two megabytes of data first: each save then takes a while,
            // long enough for a careless writer to be caught half-way.
            let mut c = LineConn::open(addr);
            let value = "p".repeat(1000);
            let preload: String = (0..2000).map(|i| format!("SET pre{i} {value}\n")).collect();
            c.send(preload.as_bytes());
            for _ in 0..2000 {
                assert_eq!(c.line(), "OK\n");
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        // Each writer sets a{w} then b{w} to the same rising number. Any
        // snapshot of one moment has a = b or a = b + 1, never a < b.
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let Ok(stream) = TcpStream::connect(addr) else {
                        return;
                    };
                    stream.set_read_timeout(Some(WAIT)).unwrap();
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut i = 0u64;
                    let mut line = String::new();
                    while !stop.load(Ordering::SeqCst) {
                        let mut batch = String::new();
                        for _ in 0..BATCH {
                            i += 1;
                            batch.push_str(&format!("SET a{w} {i}\nSET b{w} {i}\n"));
                        }
                        if writer.write_all(batch.as_bytes()).is_err() {
                            return; // the server was killed
                        }
                        for _ in 0..2 * BATCH {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        // While saves follow one another, anyone reading the file must
        // always find a whole one: never the half of a save in progress.
        wait_for_file(&file, &format!("SET b{} ", WRITERS - 1));
        let watching = Instant::now();
        let mut reads = 0;
        while watching.elapsed() < Duration::from_millis(400 + 100 * round) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                is_whole_save(&bytes),
                "a half-written file was seen after {reads} reads"
            );
            reads += 1;
        }
        drop(server); // SIGKILL, in the middle of the traffic
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().unwrap();
        }

        // The file is whole, and the server loads it again.
        assert!(is_whole_save(&std::fs::read(&file).unwrap()));
        let restarted = start_saving(&file);
        restarted.wait_for_log("clé(s) chargée(s)");
        let mut c = LineConn::open(restarted.addr);
        for w in 0..WRITERS {
            let value = |key: &str, c: &mut LineConn| -> u64 {
                let answer = c.ask(&format!("GET {key}"));
                answer
                    .trim_end()
                    .strip_prefix("VALUE ")
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let a = value(&format!("a{w}"), &mut c);
            let b = value(&format!("b{w}"), &mut c);
            assert!(
                a == b || a == b + 1,
                "writer {w}: a = {a}, b = {b}: not one moment"
            );
        }
    }
}

/// True when `bytes` is a complete save of the crash test: SET lines only,
/// the last one ended, and the preloaded keys all there.
fn is_whole_save(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    text.ends_with('\n')
        && text.lines().all(|l| l.starts_with("SET "))
        && text.lines().filter(|l| l.starts_with("SET pre")).count() == 2000
}

#[test]
fn a_bad_save_file_stops_the_server_with_one_line() {
    let dir = TempDir::new("bad");
    let file = dir.file("data.kv");
    std::fs::write(&file, "SET a 1\nGET a\n").unwrap();
    client("kv-server")
        .args(["--port", "0", "--save", file.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with("erreur : ").and(predicate::str::contains("ligne 2")));
    let nowhere = dir.file("pas/de/dossier.kv");
    client("kv-server")
        .args(["--port", "0", "--save", nowhere.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("erreur : impossible d'écrire"));
}

#[test]
fn bad_options_exit_2_and_help_names_the_chapter() {
    for name in ["kv-server", "kv-client"] {
        for bad in [&["--bogus"][..], &["--port", "abc"], &["--port"]] {
            client(name).args(bad).assert().code(2).stderr(
                predicate::str::starts_with("erreur : ").and(predicate::str::contains("usage : ")),
            );
        }
        client(name).arg("--help").assert().success().stdout(
            predicate::str::contains("Chapitre 2.2").and(predicate::str::contains("usage : ")),
        );
    }
    client("kv-server").arg("extra").assert().code(2);
    client("kv-server").arg("--save").assert().code(2);
}

#[test]
fn empty_store_odd_values_and_localhost() {
    let server = start(&[]);
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("KEYS"), "KEYS\n", "no key yet");
    assert_eq!(c.ask("SET a b c"), "OK\n");
    assert_eq!(
        c.ask("GET a"),
        "VALUE b c\n",
        "the value is the rest of the line"
    );
    assert!(c.ask("set k").starts_with("ERR "), "a value is needed");
    assert!(c.ask("set k ").starts_with("ERR "), "of at least one byte");
    assert_eq!(c.ask("sEt k  x"), "OK\n");
    assert_eq!(c.ask("gEt k"), "VALUE  x\n");
    assert_eq!(c.ask("KEYS"), "KEYS a k\n");
    // The server listens on 127.0.0.1; `localhost` may give ::1 first.
    client("kv-client")
        .args([
            "--host",
            "localhost",
            "--port",
            &server.port_arg(),
            "GET",
            "a",
        ])
        .assert()
        .success()
        .stdout("VALUE b c\n");
}

#[test]
fn kv_client_ends_with_the_last_answer_even_if_the_server_stays() {
    // A foreign server that answers every line but never closes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let mut open = Vec::new();
        for _ in 0..3 {
            let (conn, _) = listener.accept().unwrap();
            let mut writer = conn.try_clone().unwrap();
            let reader = BufReader::new(conn.try_clone().unwrap());
            for line in reader.split(b'\n') {
                let Ok(line) = line else { break };
                let answer: &[u8] = if line.starts_with(b"GET") {
                    b"NOTFOUND\n"
                } else {
                    b"OK\n"
                };
                writer.write_all(answer).unwrap();
            }
            open.push(conn); // kept open after the client's end of input
        }
        let _ = done_rx.recv_timeout(WAIT);
    });
    client("kv-client")
        .args(["--port", &port, "SET", "a", "1"])
        .assert()
        .success()
        .stdout("OK\n");
    client("kv-client")
        .args(["--port", &port])
        .write_stdin("SET a 1\nGET b\nSET c 2\n")
        .assert()
        .success()
        .stdout("OK\nNOTFOUND\nOK\n");
    client("kv-client")
        .args(["--port", &port])
        .write_stdin("")
        .assert()
        .success()
        .stdout("");
    done_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn a_save_that_fails_is_told_once_and_retried() {
    let dir = TempDir::new("retry");
    let sub = dir.file("sous-dossier");
    std::fs::create_dir(&sub).unwrap();
    let file = sub.join("data.kv");
    let server = start_saving(&file);
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("SET a 1"), "OK\n");
    wait_for_file(&file, "SET a 1\n");

    // The folder disappears: saves fail, the server goes on serving.
    std::fs::remove_dir_all(&sub).unwrap();
    for i in 0..20 {
        assert_eq!(c.ask(&format!("SET k{i} v")), "OK\n");
        thread::sleep(Duration::from_millis(20));
    }
    server.wait_for_error("sauvegarde de");
    assert_eq!(c.ask("GET k19"), "VALUE v\n");

    // The folder is back: the next try saves everything, and says so.
    std::fs::create_dir(&sub).unwrap();
    server.wait_for_log("rétablie");
    wait_for_file(&file, "SET k19 v\n");
    assert_eq!(
        server.errors().matches("sauvegarde de").count(),
        1,
        "told once, not at every try: {}",
        server.errors()
    );
}
