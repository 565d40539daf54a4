//! Chapitre 2.2: the key-value server the chapter announces — its protocol,
//! many clients at once, and saves that survive a crash (docs/contrat.md).

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use util::{LineConn, Server, TempDir, WAIT, client};

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
    server.wait_for_log("(thread client-20,");
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
    // The hog's buffers are full once the server stops reading it (its
    // thread blocked in a write): our bytes then wait, unacknowledged.
    wait_until_stuck(&hog.writer);
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

/// Waits until `socket` has bytes its peer does not take: the server's
/// thread for it has stopped reading, blocked in a write the client does
/// not read. More than 64 KiB, more than any one write of our flooders:
/// not bytes merely on their way. (Where the system cannot tell, the test
/// goes on at once.)
fn wait_until_stuck(socket: &TcpStream) {
    util::wait_until(
        || netlabs::sys::unacknowledged(socket).map_or(true, |bytes| bytes > 64 * 1024),
        || "the server never stopped reading this client".to_string(),
    );
}

#[test]
fn saved_data_comes_back_after_a_restart() {
    let dir = TempDir::new("kv-restart");
    let file = dir.file("data.kv");
    {
        let server = start_saving(&file);
        server.wait_for_log("aucune clé chargée");
        let mut c = LineConn::open(server.addr);
        assert_eq!(c.ask("SET ville Lyon"), "OK\n");
        assert_eq!(c.ask("SET phrase deux  mots"), "OK\n");
        assert_eq!(c.ask("SET tmp x"), "OK\n");
        assert_eq!(c.ask("DEL tmp"), "OK\n");
        assert_eq!(c.ask("DEL tmp"), "NOTFOUND\n");
        // Each change is in the journal before its OK: no waiting.
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "SET ville Lyon\nSET phrase deux  mots\nSET tmp x\nDEL tmp\n"
        );
        // Dropping the server kills it (SIGKILL): no chance to save at exit.
    }
    let server = start_saving(&file);
    server.wait_for_log("2 clés chargées");
    // Compacted at start-up into a snapshot: one SET per key, sorted.
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "SET phrase deux  mots\nSET ville Lyon\n"
    );
    assert!(server.log().contains("compacté : 55 octets → 37 octets"));
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("GET ville"), "VALUE Lyon\n");
    assert_eq!(c.ask("GET phrase"), "VALUE deux  mots\n");
    // The save file is a list of commands: kv-client can replay it.
    assert_eq!(c.ask("DEL ville"), "OK\n");
    let replay = std::fs::read(&file).unwrap();
    let other = start(&[]);
    client("kv-client")
        .args(["--port", &other.port_arg()])
        .write_stdin(replay)
        .assert()
        .success()
        .stdout("OK\nOK\nOK\n");
    let mut o = LineConn::open(other.addr);
    assert_eq!(o.ask("KEYS"), "KEYS phrase\n");
}

/// Replays a save file as the server loads it: the keys and values its
/// whole lines give.
fn replay(file: &Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "torn: {text:?}");
    let mut data = std::collections::BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.splitn(3, ' ').collect();
        match words[..] {
            ["SET", key, value] => data.insert(key.to_string(), value.to_string()),
            ["DEL", key] => data.remove(key),
            _ => panic!("not a record: {line:?}"),
        };
    }
    data
}

#[test]
fn ctrl_c_sigterm_and_kill_9_right_after_ok_lose_nothing() {
    if !util::have("kill", "signals are sent with kill") {
        return;
    }
    let dir = TempDir::new("kv-signals");
    let file = dir.file("data.kv");
    let mut round = 0;
    for signal in ["INT", "TERM", "KILL"] {
        for _ in 0..8 {
            round += 1;
            let mut server = start_saving(&file);
            let mut c = LineConn::open(server.addr);
            // The reproduction: two writes, then the end at once.
            assert_eq!(c.ask(&format!("SET a {round}")), "OK\n");
            assert_eq!(c.ask(&format!("SET b {round}")), "OK\n");
            if round % 2 == 0 {
                assert_eq!(c.ask(&format!("DEL a{}", round - 1)), "NOTFOUND\n");
                assert_eq!(c.ask(&format!("SET a{round} x")), "OK\n");
                if round >= 4 {
                    assert_eq!(c.ask(&format!("DEL a{}", round - 2)), "OK\n");
                }
            }
            server.stop_with(signal);
            let data = replay(&file);
            let want = round.to_string();
            assert_eq!(data.get("a"), Some(&want), "SIG{signal}, round {round}");
            assert_eq!(data.get("b"), Some(&want), "SIG{signal}, round {round}");
            let others: Vec<&String> = data.keys().filter(|k| k.len() > 1).collect();
            let last_even = round - round % 2;
            if last_even > 0 {
                assert_eq!(others, [&format!("a{last_even}")], "round {round}");
            }
        }
    }
    // And the server itself loads what was promised.
    let server = start_saving(&file);
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("GET b"), format!("VALUE {round}\n"));
}

#[test]
fn kill_9_in_the_middle_of_heavy_writes_loses_no_acknowledged_write() {
    const WRITERS: usize = 4;
    const BATCH: u64 = 200;
    let dir = TempDir::new("kv-crash");
    let file = dir.file("data.kv");
    let mut previous = [0u64; WRITERS];
    for round in 0..3 {
        let server = start_saving(&file);
        let addr = server.addr;
        // Each writer sets a{w} then b{w} to the same rising number, and
        // returns the last one acknowledged for both.
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let start = previous[w];
                thread::spawn(move || {
                    let Ok(stream) = TcpStream::connect(addr) else {
                        return start;
                    };
                    stream.set_read_timeout(Some(WAIT)).unwrap();
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut acked = start;
                    let mut line = String::new();
                    loop {
                        let batch: String = (acked + 1..=acked + BATCH)
                            .map(|i| format!("SET a{w} {i}\nSET b{w} {i}\n"))
                            .collect();
                        if writer.write_all(batch.as_bytes()).is_err() {
                            return acked; // the server was killed
                        }
                        for i in acked + 1..=acked + BATCH {
                            for _ in 0..2 {
                                line.clear();
                                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                    return acked;
                                }
                                assert_eq!(line, "OK\n");
                            }
                            acked = i;
                        }
                    }
                })
            })
            .collect();
        // The journal passes its compaction threshold (1 MiB) under this
        // traffic: compactions and appends mix before the kill.
        util::wait_until(
            || server.log().contains("compacté") || round > 0,
            || format!("no compaction; log:\n{}", server.log()),
        );
        util::wait_for_file(&file, &format!("SET b{} ", WRITERS - 1));
        drop(server); // SIGKILL, in the middle of the traffic
        let acked: Vec<u64> = writers.into_iter().map(|w| w.join().unwrap()).collect();

        let data = replay(&file);
        for w in 0..WRITERS {
            let value = |key: String| -> u64 { data.get(&key).map_or(0, |v| v.parse().unwrap()) };
            let (a, b) = (value(format!("a{w}")), value(format!("b{w}")));
            assert!(
                b >= acked[w],
                "writer {w}: b = {b}, but {} acknowledged",
                acked[w]
            );
            assert!(
                a == b || a == b + 1,
                "writer {w}: a = {a}, b = {b}: not in order"
            );
            previous[w] = b; // the last number acknowledged for both
        }
    }
}

#[test]
fn a_torn_last_record_is_dropped_with_a_log_line() {
    let dir = TempDir::new("kv-torn");
    let file = dir.file("data.kv");
    std::fs::write(&file, "SET a 1\nSET b 2\nDEL a\nSET c coup").unwrap();
    let server = start_saving(&file);
    server.wait_for_log("dernier enregistrement incomplet (10 octets sans fin de ligne), ignoré");
    server.wait_for_log("1 clé chargée");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "SET b 2\n");
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("KEYS"), "KEYS b\n");
    assert_eq!(c.ask("SET c 3"), "OK\n");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "SET b 2\nSET c 3\n"
    );
}

#[test]
fn a_journal_past_the_threshold_is_compacted() {
    let dir = TempDir::new("kv-compact");
    let file = dir.file("data.kv");
    // At start-up: 3 MB of changes to one key become one line.
    let value = "v".repeat(1000);
    let journal: String = (0..3000).map(|i| format!("SET cle {i}{value}\n")).collect();
    std::fs::write(&file, &journal).unwrap();
    let server = start_saving(&file);
    server.wait_for_log("1 clé chargée");
    assert!(server.log().contains(&format!(
        "compacté : {} octets → 1013 octets",
        journal.len()
    )));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("SET cle 2999{value}\n")
    );
    // While serving: past 1 MiB of journal (four times the data is less),
    // the next change compacts it.
    let mut c = LineConn::open(server.addr);
    let batch: String = (0..1500)
        .map(|i| format!("SET cle {i:04}{value}\n"))
        .collect();
    c.send(batch.as_bytes());
    assert_eq!(c.answers(1500), "OK\n".repeat(1500));
    // The compaction runs in its own thread: its log line comes at its end.
    util::wait_until(
        || server.log().matches("compacté").count() >= 2,
        || format!("no compaction while serving; log:\n{}", server.log()),
    );
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 1024 * 1024, "{size} bytes: never compacted");
    assert_eq!(replay(&file).get("cle"), Some(&format!("1499{value}")));
    // No temporary file left beside it.
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
}

#[test]
fn a_full_disk_gets_err_and_keeps_nothing_of_the_write() {
    if !util::have("sh", "the file size limit is set with ulimit") {
        return;
    }
    let dir = TempDir::new("kv-full");
    let file = dir.file("data.kv");
    // A file size limit (ulimit -f, in blocks of 512 bytes) as a full
    // disk: past 16 KiB a write is cut short, then refused (EFBIG). The
    // server ignores SIGXFSZ, the signal that would otherwise kill it.
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -f 32 && exec \"$0\" --port 0 --save \"$1\"",
        util::bin("kv-server").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let server = Server::spawn(cmd);
    let mut c = LineConn::open(server.addr);
    let value = "v".repeat(1000);
    let mut refused = None;
    for i in 0..40 {
        let answer = c.ask(&format!("SET k{i} {value}"));
        if answer != "OK\n" {
            refused = Some((i, answer));
            break;
        }
    }
    let (i, answer) = refused.expect("the limit was never met");
    assert!(
        answer.starts_with("ERR sauvegarde impossible ("),
        "{answer}"
    );
    assert!(answer.ends_with(") : rien n'a été changé\n"), "{answer}");
    // Nothing of the refused write, in memory or on disk.
    assert_eq!(c.ask(&format!("GET k{i}")), "NOTFOUND\n");
    assert_eq!(
        c.ask(&format!("GET k{}", i - 1)),
        format!("VALUE {value}\n")
    );
    let saved = replay(&file);
    assert_eq!(saved.len(), i, "the acknowledged writes, whole");
    server.wait_for_error("sauvegarde dans");
    // Reads go on, and a write that fits is taken again.
    assert_eq!(c.ask("SET petit 1"), "OK\n");
    server.wait_for_log("rétablie");
    assert_eq!(replay(&file).get("petit").map(String::as_str), Some("1"));
    assert_eq!(
        server.errors().matches("sauvegarde dans").count(),
        1,
        "told once"
    );
}

#[test]
fn a_bad_save_file_stops_the_server_with_one_line() {
    let dir = TempDir::new("kv-bad");
    let file = dir.file("data.kv");
    std::fs::write(&file, "SET a 1\nGET a\n").unwrap();
    client("kv-server")
        .args(["--port", "0", "--save", file.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with("erreur : ").and(predicate::str::contains("ligne 2")));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "SET a 1\nGET a\n");
    let nowhere = dir.file("pas/de/dossier.kv");
    client("kv-server")
        .args(["--port", "0", "--save", nowhere.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("erreur : impossible d'écrire"));
    client("kv-server")
        .args(["--port", "0", "--save", ""])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--save attend un chemin"));
    client("kv-server")
        .args(["--port", "0", "--fsync"])
        .assert()
        .code(2);
    client("kv-server")
        .args(["--port", "0", "--max-memory", "beaucoup"])
        .assert()
        .code(2);
}

#[test]
fn a_save_path_that_is_not_a_file_is_refused_at_once() {
    let dir = TempDir::new("kv-paths");
    for (path, what) in util::paths_that_are_not_files(&dir) {
        util::refused_at_once("kv-server", "--save", &path, what);
    }
}

#[test]
fn a_link_is_followed_and_its_file_replaced() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new("kv-links");
    let target = dir.file("vraies-donnees.kv");
    std::fs::write(&target, "SET a 1\nSET a 2\n").unwrap();
    symlink("vraies-donnees.kv", dir.file("lien.kv")).unwrap();
    {
        let server = start_saving(&dir.file("lien.kv"));
        server.wait_for_log("1 clé chargée");
        let mut c = LineConn::open(server.addr);
        assert_eq!(c.ask("SET b 3"), "OK\n");
    }
    assert!(dir.file("lien.kv").is_symlink(), "the link stays a link");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "SET a 2\nSET b 3\n"
    );

    // A temporary name planted beforehand (the old `FILE.tmp`) is never
    // written through: the real one is drawn at random, created exclusively.
    std::fs::write(dir.file("victime"), "à garder\n").unwrap();
    symlink("victime", dir.file("vraies-donnees.kv.tmp")).unwrap();
    {
        // Every start writes a snapshot through a temporary file.
        let server = start_saving(&dir.file("lien.kv"));
        server.wait_for_log("2 clés chargées");
    }
    assert_eq!(
        std::fs::read_to_string(dir.file("victime")).unwrap(),
        "à garder\n"
    );
    std::fs::remove_file(dir.file("vraies-donnees.kv.tmp")).unwrap();
    std::fs::remove_file(dir.file("victime")).unwrap();

    // A dangling link: the file it names is created.
    symlink("nouveau.kv", dir.file("pendant.kv")).unwrap();
    {
        let server = start_saving(&dir.file("pendant.kv"));
        let mut c = LineConn::open(server.addr);
        assert_eq!(c.ask("SET c 4"), "OK\n");
    }
    assert!(dir.file("pendant.kv").is_symlink());
    assert_eq!(
        std::fs::read_to_string(dir.file("nouveau.kv")).unwrap(),
        "SET c 4\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["lien.kv", "nouveau.kv", "pendant.kv", "vraies-donnees.kv"]
    );
}

#[test]
fn fifty_clients_that_never_read_keys_hold_little_memory() {
    const CLIENTS: usize = 50;
    let dir = TempDir::new("kv-keys");
    let file = dir.file("data.kv");
    // A store of 12 MB, mostly keys: each KEYS answer is 12 MB long.
    let journal: String = (0..48_000)
        .map(|i| format!("SET cle-{i:06}-{} v\n", "k".repeat(240)))
        .collect();
    std::fs::write(&file, &journal).unwrap();
    let server = start_saving(&file);
    server.wait_for_log("48000 clés chargées");
    let Some(before) = util::rss_kib(server.pid()) else {
        util::skip("pas de /proc pour mesurer la mémoire");
        return;
    };
    let hogs: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            let mut hog = util::connect(server.addr);
            hog.write_all(b"KEYS\n").unwrap();
            hog
        })
        .collect();
    // Each answer has begun: a server that builds the whole answer before
    // sending it would now hold 50 of them (600 MB).
    for hog in &hogs {
        let mut first = [0u8; 4];
        // (A wait that a signal interrupts is tried again.)
        while let Err(e) = hog.peek(&mut first) {
            assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "{e}");
        }
        assert_eq!(&first, b"KEYS");
    }
    let mut c = LineConn::open(server.addr);
    let started = Instant::now();
    assert_eq!(c.ask("GET cle-000007-".to_string().as_str()), "NOTFOUND\n");
    assert_eq!(c.ask("SET autre 1"), "OK\n");
    // Served while the hogs wait: a server stuck behind them would answer
    // only once they leave, never in this bound, however busy the machine.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let now = util::rss_kib(server.pid()).unwrap();
    let peak = util::peak_rss_kib(server.pid()).unwrap();
    eprintln!("mémoire : {before} Kio au départ, {now} Kio avec {CLIENTS} clients, pic {peak} Kio");
    assert!(
        now < before + 32 * 1024,
        "memory grew from {before} KiB to {now} KiB"
    );
    drop(hogs);
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

/// Starts `kv-server --port 0 --save FILE EXTRA…` and returns how it ended
/// if it exits at once (a refusal): `(exit code, stdout, stderr)`.
fn refused(file: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = client("kv-server")
        .args(["--port", "0", "--save", file.to_str().unwrap()])
        .args(extra)
        .output()
        .expect("run kv-server");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_second_server_on_the_same_file_is_refused_in_either_order() {
    let dir = TempDir::new("kv-two");
    let file = dir.file("data.kv");
    // A journal that a start-up would compact: the second server
    // renamed a snapshot over it, and the first one's later OKs were lost.
    let journal: String = (0..50).map(|i| format!("SET a {i}\n")).collect();
    std::fs::write(&file, &journal).unwrap();
    let mut acknowledged = Vec::new();
    let mut first = start_saving(&file);
    let mut c = LineConn::open(first.addr);
    for round in 0..2 {
        for i in 0..20 {
            let key = format!("r{round}k{i}");
            assert_eq!(c.ask(&format!("SET {key} {i}")), "OK\n");
            acknowledged.push(key);
        }
        let before = std::fs::read(&file).unwrap();
        // The second one, on the same file: refused at once, naming the
        // first, touching nothing.
        let started = Instant::now();
        let (code, out, err) = refused(&file, &[]);
        assert_eq!(code, Some(1), "{err}");
        assert_eq!(out, "", "no first line");
        assert!(
            err.starts_with("erreur : ")
                && err.contains(&format!("(processus {})", first.pid()))
                && err.lines().count() == 1,
            "{err}"
        );
        assert!(started.elapsed() < WAIT / 2, "not at once");
        assert_eq!(std::fs::read(&file).unwrap(), before, "file touched");
        // The first goes on; its writes are kept.
        for i in 20..40 {
            let key = format!("r{round}k{i}");
            assert_eq!(c.ask(&format!("SET {key} {i}")), "OK\n");
            acknowledged.push(key);
        }
        // The other order: the first is stopped, the second starts, and
        // the first, started again, is the one refused.
        first.stop_with("KILL");
        let second = start_saving(&file);
        // Its start-up done: until then it may be replacing the file by
        // its snapshot, and the lock of the old one, let go, names no one.
        second.wait_for_log("chargée");
        let (code, _, err) = refused(&file, &[]);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("(processus {})", second.pid())),
            "{err}"
        );
        drop(second);
        first = start_saving(&file);
        c = LineConn::open(first.addr);
    }
    for key in &acknowledged {
        assert_ne!(c.ask(&format!("GET {key}")), "NOTFOUND\n", "{key} lost");
    }
    assert_eq!(c.ask("GET a"), "VALUE 49\n");
}

#[test]
fn a_busy_port_leaves_the_save_file_as_it_was() {
    let dir = TempDir::new("kv-busy");
    let file = dir.file("data.kv");
    let journal = "SET a 1\nSET a 2\nSET b tronq";
    std::fs::write(&file, journal).unwrap();
    std::fs::write(dir.file("data.kv.0123456789abcdef.tmp"), "SET x 1\n").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = client("kv-server")
        .args(["--port", &port, "--save", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("déjà utilisé"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), journal);
    assert!(dir.file("data.kv.0123456789abcdef.tmp").exists());
}

#[test]
fn stale_temporaries_of_a_killed_run_are_removed_at_start() {
    let dir = TempDir::new("kv-temps");
    let file = dir.file("data.kv");
    std::fs::write(&file, "SET a 1\n").unwrap();
    let stale = [
        "data.kv.0123456789abcdef.tmp",
        "data.kv.fedcba9876543210.tmp",
    ];
    for name in stale {
        std::fs::write(dir.file(name), "SET a 1\n".repeat(100)).unwrap();
    }
    // Names that are not this server's temporaries: kept.
    let others = [
        "data.kv.tmp",
        "data.kv.0123456789abcdeg.tmp",
        "autre.kv.0123456789abcdef.tmp",
        "data.kv.0123456789abcdef.tmp.old",
    ];
    for name in others {
        std::fs::write(dir.file(name), "x").unwrap();
    }
    let server = start_saving(&file);
    server.wait_for_log("2 fichiers temporaires d'un arrêt brutal supprimés (1600 octets)");
    for name in stale {
        assert!(!dir.file(name).exists(), "{name} left");
    }
    for name in others {
        assert!(dir.file(name).exists(), "{name} removed");
    }
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("GET a"), "VALUE 1\n");
}

#[test]
fn with_no_room_to_compact_the_server_starts_from_the_journal() {
    if !util::have("sh", "the file size limit is set with ulimit") {
        return;
    }
    let dir = TempDir::new("kv-noroom");
    let file = dir.file("data.kv");
    // 20 keys of 1 000 bytes, each set twice: a 40 KB journal, a 20 KB
    // snapshot. Under `ulimit -f 16` (8 KiB) no snapshot can be written,
    // but the journal, whole, can be read.
    let value = "v".repeat(1000);
    let mut journal = String::new();
    for round in 0..2 {
        for i in 0..20 {
            journal.push_str(&format!("SET k{i} {round}{value}\n"));
        }
    }
    journal.push_str("SET torn 1");
    std::fs::write(&file, &journal).unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -f 16 && exec \"$0\" --port 0 --save \"$1\"",
        util::bin("kv-server").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let mut server = Server::spawn(cmd);
    server.wait_for_log("20 clés chargées");
    assert!(
        server
            .log()
            .contains("démarrage sur le journal tel quel, nouvel essai plus tard"),
        "{}",
        server.log()
    );
    let mut c = LineConn::open(server.addr);
    assert_eq!(c.ask("GET k7"), format!("VALUE 1{value}\n"));
    // The torn record was cut off; nothing else changed, and no
    // temporary file is left.
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        journal.strip_suffix("SET torn 1").unwrap()
    );
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
    // Past the limit, a write is refused; the server goes on.
    assert!(c.ask("SET k0 x").starts_with("ERR sauvegarde impossible"));
    assert_eq!(c.ask("GET k0"), format!("VALUE 1{value}\n"));
    assert!(server.is_running());
}

#[test]
fn past_max_clients_a_client_is_told_and_closed() {
    let server = start(&["--max-clients", "3"]);
    let mut held: Vec<LineConn> = (0..3).map(|_| LineConn::open(server.addr)).collect();
    for (i, c) in held.iter_mut().enumerate() {
        assert_eq!(c.ask(&format!("SET c{i} x")), "OK\n");
    }
    let mut fourth = LineConn::open(server.addr);
    assert_eq!(
        fourth.line(),
        "ERR trop de clients (3 au plus) ; réessayez plus tard\n"
    );
    let mut rest = String::new();
    fourth.reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "closed after its line");
    server.wait_for_log("refusée : déjà 3 clients");
    // One leaves: there is room again.
    drop(held.pop());
    server.wait_for_log("déconnexion de");
    let mut again = LineConn::open(server.addr);
    assert_eq!(again.ask("KEYS"), "KEYS c0 c1 c2\n");
}

#[test]
fn group_commit_with_fsync_loses_no_acknowledged_write_under_kill_9() {
    const WRITERS: usize = 12;
    let dir = TempDir::new("kv-group");
    let file = dir.file("data.kv");
    let mut previous = [0u64; WRITERS];
    // The moment of each kill: after a number of acknowledged writes drawn
    // from a seed that changes with the clock (printed, to replay it).
    let mut seed = Instant::now().elapsed().subsec_nanos() | 1;
    eprintln!("seed {seed}");
    for round in 0..4 {
        let server = start(&["--save", file.to_str().unwrap(), "--fsync"]);
        let addr = server.addr;
        let total = Arc::new(std::sync::atomic::AtomicU64::new(0));
        // Each writer sets a{w} then b{w} to the same rising number, one
        // command at a time (each waits for its own fsync, shared with the
        // other writers'), and returns the last number acknowledged for
        // both.
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let start = previous[w];
                let total = Arc::clone(&total);
                thread::spawn(move || {
                    let Ok(stream) = TcpStream::connect(addr) else {
                        return start;
                    };
                    stream.set_read_timeout(Some(WAIT)).unwrap();
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut line = String::new();
                    let mut acked = start;
                    loop {
                        let i = acked + 1;
                        for key in ["a", "b"] {
                            if writer
                                .write_all(format!("SET {key}{w} {i}\n").as_bytes())
                                .is_err()
                            {
                                return acked;
                            }
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return acked; // killed
                            }
                            assert_eq!(line, "OK\n");
                        }
                        acked = i;
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let kill_after = 50 + u64::from(seed % 400);
        util::wait_until(
            || total.load(Ordering::Relaxed) >= kill_after,
            || format!("round {round}: fewer than {kill_after} writes"),
        );
        drop(server); // SIGKILL, in the middle of the traffic
        let acked: Vec<u64> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        let data = replay(&file);
        for w in 0..WRITERS {
            let value = |key: String| -> u64 { data.get(&key).map_or(0, |v| v.parse().unwrap()) };
            let (a, b) = (value(format!("a{w}")), value(format!("b{w}")));
            assert!(
                b >= acked[w],
                "round {round}, writer {w}: b = {b}, but {} acknowledged",
                acked[w]
            );
            assert!(a == b || a == b + 1, "writer {w}: a = {a}, b = {b}");
            previous[w] = b;
        }
    }
}

#[test]
fn a_get_is_answered_while_a_compaction_is_written() {
    let dir = TempDir::new("kv-compacting");
    let file = dir.file("data.kv");
    let server = start_saving(&file);
    let mut writer = LineConn::open(server.addr);
    let mut reader = LineConn::open(server.addr);
    // 160 keys of 60 000 bytes: a 9.6 MB store, compacted after each
    // 38 MB of appends. Each compaction writes 9.6 MB to a temporary file
    // and forces it to the disk, in its own thread.
    let value = "v".repeat(60_000);
    let is_temp = |name: &str| name.starts_with("data.kv.") && name.ends_with(".tmp");
    let compacting = || {
        std::fs::read_dir(&dir.0)
            .unwrap()
            .any(|e| is_temp(&e.unwrap().file_name().to_string_lossy()))
    };
    let mut seen = 0;
    'writes: for round in 0..14 {
        for i in 0..160 {
            assert_eq!(writer.ask(&format!("SET k{i} {round}{value}")), "OK\n");
            let done = server.log().matches("compacté").count();
            if compacting() {
                // A compaction is being written: a GET is answered now,
                // before it ends (its log line comes at its end).
                assert_eq!(reader.ask("GET k0").len(), value.len() + 8);
                if server.log().matches("compacté").count() == done {
                    seen += 1;
                    break 'writes;
                }
            }
        }
    }
    assert!(
        seen > 0,
        "no GET answered during a compaction; log:\n{}",
        server.log()
    );
}

/// `n` clients that each set `w{c}` to a rising number and read it back,
/// one command at a time, until `stop`: they keep batches of several
/// writers forming, whose `OK`s the leaders send. Each returns how many
/// rounds it made; any answer out of order fails it.
fn busy_writers(
    addr: std::net::SocketAddr,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<u64>> {
    (0..n)
        .map(|c| {
            let stop = Arc::clone(stop);
            thread::spawn(move || {
                let mut conn = LineConn::open(addr);
                let mut rounds = 0;
                while !stop.load(Ordering::SeqCst) {
                    rounds += 1;
                    let started = Instant::now();
                    assert_eq!(conn.ask(&format!("SET w{c} {rounds}")), "OK\n");
                    assert_eq!(conn.ask(&format!("GET w{c}")), format!("VALUE {rounds}\n"));
                    assert!(
                        started.elapsed() < Duration::from_secs(5),
                        "client {c} waited {:?}",
                        started.elapsed()
                    );
                }
                rounds
            })
        })
        .collect()
}

#[test]
fn with_group_commit_each_client_gets_its_answers_in_order() {
    let dir = TempDir::new("kv-order");
    let file = dir.file("data.kv");
    let server = start(&["--save", file.to_str().unwrap(), "--fsync"]);
    let stop = Arc::new(AtomicBool::new(false));
    let writers = busy_writers(server.addr, 8, &stop);
    // One client sends its commands without waiting for the answers: an
    // `OK` left to a leader must still come before the answers of the
    // commands that follow it, whoever writes them.
    let mut c = LineConn::open(server.addr);
    for round in 0..50 {
        let mut commands = String::new();
        let mut expected = String::new();
        for i in 0..5 {
            // `FOO` is answered without a look at the store or the journal.
            commands += &format!("SET p{i} {round}\nFOO\nGET p{i}\n");
            expected += &format!(
                "OK\nERR commande inconnue « FOO » : SET, GET, DEL ou KEYS attendu\nVALUE {round}\n"
            );
        }
        commands += &format!("DEL p0\nDEL p0\nSET p0 {round}\n");
        expected += "OK\nNOTFOUND\nOK\n";
        commands += "GET p4\n";
        expected += &format!("VALUE {round}\n");
        c.send(commands.as_bytes());
        assert_eq!(
            c.answers(expected.lines().count()),
            expected,
            "round {round}"
        );
        // A change then an answer that needs neither store nor journal,
        // both in one read: the `OK` first, even if a leader sends it.
        c.send(format!("SET seul {round}\nFOO\n").as_bytes());
        assert_eq!(c.line(), "OK\n", "round {round}");
        assert!(c.line().starts_with("ERR commande inconnue"));
        assert_eq!(c.ask("GET seul"), format!("VALUE {round}\n"));
    }
    stop.store(true, Ordering::SeqCst);
    let rounds: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(rounds > 0);
    // Journal order = store order: the file gives what the store holds.
    let data = replay(&file);
    assert_eq!(data.get("p0").map(String::as_str), Some("49"));
    assert_eq!(c.ask("GET w0"), format!("VALUE {}\n", data["w0"]));
}

#[test]
fn a_client_that_sends_sets_and_never_reads_stalls_no_one_with_fsync() {
    let dir = TempDir::new("kv-sethog");
    let file = dir.file("data.kv");
    let server = start(&["--save", file.to_str().unwrap(), "--fsync"]);
    let mut c = LineConn::open(server.addr);
    let big = "x".repeat(60 * 1024);
    assert_eq!(c.ask(&format!("SET big {big}")), "OK\n");
    let before = util::rss_kib(server.pid());
    // The hog pipelines SETs (and GETs of a big value, to fill its socket
    // sooner) and reads none of its answers: its socket fills, then its
    // thread blocks writing them. A leader that sent an `OK` there then
    // would block too, and every writer with it.
    let hog = util::connect(server.addr);
    let flooding = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&flooding);
    let mut hog_writer = hog.try_clone().unwrap();
    let flooder = thread::spawn(move || {
        let mut i = 0u64;
        while flag.load(Ordering::SeqCst) {
            let sets: String = (i..i + 100)
                .map(|n| format!("SET h{} {n}\nSET g {n}\nGET big\n", n % 100))
                .collect();
            i += 100;
            if hog_writer.write_all(sets.as_bytes()).is_err() {
                break;
            }
        }
    });
    wait_until_stuck(&hog);
    let stop = Arc::new(AtomicBool::new(false));
    let writers = busy_writers(server.addr, 4, &stop);
    for i in 0..50 {
        let started = Instant::now();
        assert_eq!(c.ask(&format!("SET k{i} v")), "OK\n");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "SET {i} waited for the hog"
        );
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        assert!(w.join().unwrap() > 0);
    }
    if let (Some(before), Some(peak)) = (before, util::peak_rss_kib(server.pid())) {
        assert!(
            peak < before + 16 * 1024,
            "memory grew from {before} KiB to a peak of {peak} KiB"
        );
    }
    flooding.store(false, Ordering::SeqCst);
    hog.shutdown(Shutdown::Both).ok();
    flooder.join().unwrap();
}

#[test]
fn a_full_disk_answers_err_to_each_writer_of_a_refused_batch() {
    if !util::have("sh", "the file size limit is set with ulimit") {
        return;
    }
    const WRITERS: usize = 8;
    let dir = TempDir::new("kv-fullgroup");
    let file = dir.file("data.kv");
    // 16 KiB of file at most (ulimit -f 32): a dozen records of 1 KB.
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -f 32 && exec \"$0\" --port 0 --save \"$1\" --fsync",
        util::bin("kv-server").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let server = Server::spawn(cmd);
    let addr = server.addr;
    // Each writer sets its own keys, one at a time, until it gets ERR:
    // it returns the keys acknowledged and the one refused.
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            thread::spawn(move || {
                let mut conn = LineConn::open(addr);
                let value = "v".repeat(1000);
                let mut acked = Vec::new();
                for i in 0.. {
                    let key = format!("w{w}-{i}");
                    let answer = conn.ask(&format!("SET {key} {value}"));
                    if answer != "OK\n" {
                        assert!(
                            answer.starts_with("ERR sauvegarde impossible ("),
                            "{answer}"
                        );
                        return (acked, key);
                    }
                    acked.push(key);
                }
                unreachable!()
            })
        })
        .collect();
    let results: Vec<(Vec<String>, String)> =
        writers.into_iter().map(|w| w.join().unwrap()).collect();
    // On disk: every acknowledged write, and nothing else.
    let saved = replay(&file);
    let mut acked: Vec<&String> = results.iter().flat_map(|(a, _)| a).collect();
    acked.sort();
    let on_disk: Vec<&String> = saved.keys().collect();
    assert_eq!(on_disk, acked);
    // In memory: nothing of a refused write.
    let mut c = LineConn::open(addr);
    for (_, refused) in &results {
        assert_eq!(c.ask(&format!("GET {refused}")), "NOTFOUND\n");
    }
}
