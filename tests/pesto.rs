//! The Pesto server and its client (the Pesto tutorial;
//! docs/contrat.md), run as a student runs them: raw sockets, the
//! client fed through its standard input, many clients writing at once.

mod util;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;

use predicates::prelude::*;
use util::{Interactive, KillOnDrop, Server, TempDir, TempFile, WAIT, client};

const GREETING: &str = "Connection with the server established!\r\n";

fn start(file: &TempFile) -> Server {
    Server::start("pesto-server", &["--port", "0", "--file", file.arg()])
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    BufReader::new(stream)
}

/// The next line from the server, with its `\r\n`.
fn line(conn: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    conn.read_line(&mut line).expect("a line from the server");
    line
}

fn send(conn: &mut BufReader<TcpStream>, bytes: &[u8]) {
    conn.get_mut().write_all(bytes).unwrap();
}

#[test]
fn every_command_over_a_raw_socket() {
    let file = TempFile::new("commands");
    let server = start(&file);
    assert_eq!(
        server.addr.to_string(),
        format!("127.0.0.1:{}", server.port())
    );
    let mut c = connect(server.addr);
    assert_eq!(line(&mut c), GREETING);
    // `\n` and `\r\n` alike, and two commands in one write.
    send(&mut c, b"hello\nwrite: test\r\n");
    assert_eq!(line(&mut c), "Hello! How are you?\r\n");
    assert_eq!(line(&mut c), "Message saved!\r\n");
    // A command cut in three writes is still one command.
    for piece in [&b"wri"[..], b"te: write: bon", b"jour\n"] {
        send(&mut c, piece);
    }
    assert_eq!(line(&mut c), "Message saved!\r\n");
    send(&mut c, b"dance\n");
    assert_eq!(line(&mut c), "Unknown command: dance\r\n");
    send(&mut c, b"goodbye\r\n");
    assert_eq!(line(&mut c), "Noooo don't go awayyyyy...\r\n");
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).expect("closed by the server");
    assert!(rest.is_empty());
    // `lstrip("write: ")` would have saved `st` and `bonjour`.
    assert_eq!(file.read(), "test\nwrite: bonjour\n");
    server.wait_for_log("reçu de 127.0.0.1:");
}

#[test]
fn twenty_clients_writing_at_once_give_4000_whole_lines() {
    const CLIENTS: usize = 20;
    const LINES: usize = 200;
    let file = TempFile::new("concurrent");
    let server = start(&file);
    let addr = server.addr;
    let workers: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || {
                let mut conn = connect(addr);
                assert_eq!(line(&mut conn), GREETING);
                // All the lines, written in pieces of 1 to 9 bytes that cut
                // lines anywhere.
                let text: String = (0..LINES)
                    .map(|l| format!("write: client {c:02} ligne {l:03} {}\n", "x".repeat(l % 17)))
                    .collect();
                let mut sizes = (1..=9).cycle().skip(c);
                let mut rest = text.as_bytes();
                while !rest.is_empty() {
                    let n = sizes.next().unwrap().min(rest.len());
                    send(&mut conn, &rest[..n]);
                    rest = &rest[n..];
                }
                for _ in 0..LINES {
                    assert_eq!(line(&mut conn), "Message saved!\r\n");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a client failed");
    }
    let saved = file.read();
    let lines: Vec<&str> = saved.lines().collect();
    assert_eq!(lines.len(), CLIENTS * LINES);
    let unique: HashSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), CLIENTS * LINES, "a line was lost or doubled");
    for c in 0..CLIENTS {
        for l in 0..LINES {
            let want = format!("client {c:02} ligne {l:03} {}", "x".repeat(l % 17));
            assert!(unique.contains(want.as_str()), "missing: {want}");
        }
    }
}

#[test]
fn a_line_too_long_closes_that_connection_only() {
    let file = TempFile::new("long");
    let server = start(&file);
    let mut long = connect(server.addr);
    let mut other = connect(server.addr);
    assert_eq!(line(&mut long), GREETING);
    assert_eq!(line(&mut other), GREETING);
    // More than 16384 bytes and no end of line.
    let _ = long.get_mut().write_all(&vec![b'a'; 20_000]);
    let mut rest = Vec::new();
    let _ = long.read_to_end(&mut rest); // end of data, or a reset
    assert!(rest.is_empty(), "no answer to a line too long");
    send(&mut other, b"hello\n");
    assert_eq!(line(&mut other), "Hello! How are you?\r\n");
    assert_eq!(file.read(), "");
    server.wait_for_log("ligne de plus de 16384 octets reçue de 127.0.0.1:");
}

#[test]
fn pesto_client_through_stdin() {
    let file = TempFile::new("client");
    let server = start(&file);
    client("pesto-client")
        .args(["--port", &server.port_arg()])
        .write_stdin("hello\nwrite: depuis le client\nwrite: write: encore\r\nbof\n")
        .assert()
        .success()
        .stdout(
            "Connection with the server established!\n\
             Hello! How are you?\n\
             Message saved!\n\
             Message saved!\n\
             Unknown command: bof\n\
             Connection lost.\n",
        );
    assert_eq!(file.read(), "depuis le client\nwrite: encore\n");
}

#[test]
fn pesto_client_input_ending_with_goodbye_prints_the_same_every_time() {
    // The server closes after `goodbye` while the client reaches the end
    // of its input: whichever comes first, the output is the same.
    let file = TempFile::new("goodbye");
    let server = start(&file);
    for _ in 0..10 {
        client("pesto-client")
            .args(["--port", &server.port_arg()])
            .write_stdin("hello\ngoodbye\n")
            .assert()
            .success()
            .stdout(
                "Connection with the server established!\n\
                 Hello! How are you?\n\
                 Noooo don't go awayyyyy...\n\
                 Connection lost.\n",
            );
    }
}

#[test]
fn pesto_client_reconnect_closes_the_old_connection_first() {
    let file = TempFile::new("reconnect");
    let server = start(&file);
    // `reconnect` with a connection open: its last answer, then its end,
    // then the new connection, always in this order.
    client("pesto-client")
        .args(["--port", &server.port_arg()])
        .write_stdin("write: avant\nreconnect\nwrite: après\n")
        .assert()
        .success()
        .stdout(
            "Connection with the server established!\n\
             Message saved!\n\
             Connection lost.\n\
             Connection with the server established!\n\
             Message saved!\n\
             Connection lost.\n",
        );
    assert_eq!(file.read(), "avant\naprès\n");
    server.wait_for_log("client connecté");
}

#[test]
fn pesto_client_interactive_goodbye_then_reconnect() {
    let file = TempFile::new("interactive");
    let server = start(&file);
    let mut c = Interactive::start(
        "pesto-client",
        &["--host", "localhost", "--port", &server.port_arg()],
    );
    assert_eq!(c.line(), "Connection with the server established!");
    c.send("hello\n");
    assert_eq!(c.line(), "Hello! How are you?");
    c.send("goodbye\n");
    assert_eq!(c.line(), "Noooo don't go awayyyyy...");
    assert_eq!(c.line(), "Connection lost.");
    c.send("hello\n");
    assert_eq!(c.line(), "Cannot send message to server. No connection.");
    c.send("reconnect\n");
    assert_eq!(c.line(), "Connection with the server established!");
    c.send("write: revenu\n");
    assert_eq!(c.line(), "Message saved!");
    c.close_stdin();
    assert!(c.wait().success());
    assert_eq!(file.read(), "revenu\n");
}

#[test]
fn pesto_client_without_a_server_says_connection_failed() {
    let port = util::free_tcp_port().to_string();
    client("pesto-client")
        .args(["--port", &port])
        .write_stdin("hello\n")
        .assert()
        .success()
        .stdout("Connection failed.\nCannot send message to server. No connection.\n")
        .stderr(format!(
            "erreur : connexion refusée par 127.0.0.1:{port} ; le serveur est-il lancé ?\n"
        ));
}

#[test]
fn pesto_client_survives_its_server_killed_then_restarted() {
    let file = TempFile::new("restart");
    let server = start(&file);
    let port = server.port_arg();
    let mut c = Interactive::start("pesto-client", &["--port", &port]);
    assert_eq!(c.line(), "Connection with the server established!");
    // The server dies mid-session (as with Ctrl-C).
    drop(server);
    assert_eq!(c.line(), "Connection lost.");
    // Nobody listens: the client says so, and goes on reading stdin.
    c.send("reconnect\n");
    assert_eq!(c.line(), "Connection failed.");
    c.send("hello\n");
    assert_eq!(c.line(), "Cannot send message to server. No connection.");
    // The server is back on the same port: `reconnect` finds it.
    let _server = Server::start("pesto-server", &["--port", &port, "--file", file.arg()]);
    c.send("reconnect\n");
    assert_eq!(c.line(), "Connection with the server established!");
    c.send("write: de retour\n");
    assert_eq!(c.line(), "Message saved!");
    c.close_stdin();
    assert!(c.wait().success());
    assert_eq!(file.read(), "de retour\n");
}

#[test]
fn pesto_client_with_its_output_closed_does_not_panic() {
    use std::process::{Command, Stdio};
    let file = TempFile::new("closed-stdout");
    let server = start(&file);
    // `pesto-client | head -0`: the reader of its stdout is gone at once.
    let mut child = KillOnDrop(
        Command::new(util::bin("pesto-client"))
            .args(["--port", &server.port_arg()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pesto-client"),
    );
    drop(child.0.stdout.take());
    let mut stdin = child.0.stdin.take().unwrap();
    stdin.write_all(b"hello\nwrite: sans sortie\n").unwrap();
    drop(stdin);
    let mut stderr = child.0.stderr.take().unwrap();
    let errors = thread::spawn(move || {
        let mut errors = String::new();
        let _ = stderr.read_to_string(&mut errors);
        errors
    });
    let status = util::wait_exit(&mut child.0);
    let errors = errors.join().unwrap();
    assert!(status.success(), "{status}; stderr: {errors}");
    assert!(!errors.contains("panicked"), "{errors}");
    assert_eq!(file.read(), "sans sortie\n", "the commands still went out");
}

#[test]
fn bad_options_and_an_unopenable_file() {
    for name in ["pesto-server", "pesto-client"] {
        client(name).arg("--bogus").assert().code(2);
        client(name).args(["--port", "99999"]).assert().code(2);
        client(name)
            .arg("-h")
            .assert()
            .success()
            .stdout(predicate::str::contains("pesto-twisted-client-server"));
    }
    client("pesto-server")
        .args(["--port", "0", "--file="])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--file attend un chemin"));
    client("pesto-server")
        .args(["--port", "0", "--file", "/nonexistent-netlabs/dir/file.txt"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::starts_with(
                "erreur : impossible d'ouvrir /nonexistent-netlabs/dir/file.txt",
            )
            // The factory could not start: one line, from main, no panic.
            .and(predicate::function(|e: &str| e.lines().count() == 1)),
        );
}

#[test]
fn a_file_path_that_is_not_a_file_is_refused_at_once() {
    let dir = TempDir::new("pesto-paths");
    for (path, what) in util::paths_that_are_not_files(&dir) {
        util::refused_at_once("pesto-server", "--file", &path, what);
    }
}

#[test]
fn a_link_given_as_file_is_followed() {
    let dir = TempDir::new("pesto-link");
    std::fs::write(dir.file("vrai.txt"), "avant\n").unwrap();
    std::os::unix::fs::symlink("vrai.txt", dir.file("lien.txt")).unwrap();
    let link = dir.file("lien.txt");
    let server = Server::start(
        "pesto-server",
        &["--port", "0", "--file", link.to_str().unwrap()],
    );
    let mut c = connect(server.addr);
    assert_eq!(line(&mut c), GREETING);
    send(&mut c, b"write: apres\n");
    assert_eq!(line(&mut c), "Message saved!\r\n");
    assert!(link.is_symlink());
    assert_eq!(
        std::fs::read_to_string(dir.file("vrai.txt")).unwrap(),
        "avant\napres\n"
    );
}

#[test]
fn a_second_server_on_the_same_file_is_refused_in_either_order() {
    let file = TempFile::new("two");
    // A torn last line: the second server would cut it, under the first.
    std::fs::write(&file.0, "un\ndeux sans fin").unwrap();
    let mut first = start(&file);
    let mut c = connect(first.addr);
    assert_eq!(line(&mut c), GREETING);
    send(&mut c, b"write: trois\n");
    assert_eq!(line(&mut c), "Message saved!\r\n");
    for holder in 0..2 {
        let before = file.read();
        let out = client("pesto-server")
            .args(["--port", "0", "--file", file.arg()])
            .output()
            .unwrap();
        let errors = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{errors}");
        assert!(out.stdout.is_empty(), "no first line");
        assert!(
            errors.starts_with("erreur : ")
                && errors.contains(&format!("(processus {})", first.pid()))
                && errors.lines().count() == 1,
            "{errors}"
        );
        assert_eq!(file.read(), before, "file touched");
        // The first one goes on.
        send(&mut c, format!("write: encore {holder}\n").as_bytes());
        assert_eq!(line(&mut c), "Message saved!\r\n");
        // The other order: the first stopped, a new one takes the file,
        // and the next attempt is refused naming it.
        first.stop_with("KILL");
        first = start(&file);
        c = connect(first.addr);
        assert_eq!(line(&mut c), GREETING);
    }
    assert_eq!(file.read(), "un\ntrois\nencore 0\nencore 1\n");
}

#[test]
fn a_torn_last_line_is_cut_off_at_start_and_said() {
    let file = TempFile::new("torn");
    let torn = "deux, coupé par un kil";
    std::fs::write(&file.0, format!("un\n{torn}")).unwrap();
    let server = start(&file);
    server.wait_for_error(&format!(
        "dernière ligne incomplète ({} octets sans fin de ligne",
        torn.len()
    ));
    assert_eq!(file.read(), "un\n");
    let mut c = connect(server.addr);
    assert_eq!(line(&mut c), GREETING);
    send(&mut c, b"write: trois\n");
    assert_eq!(line(&mut c), "Message saved!\r\n");
    assert_eq!(file.read(), "un\ntrois\n", "not glued to the torn line");
}

#[test]
fn a_full_disk_leaves_nothing_of_a_refused_line() {
    if !util::have("sh", "the file size limit is set with ulimit") {
        return;
    }
    let file = TempFile::new("full");
    // A file size limit (ulimit -f, blocks of 512 bytes) as a full disk:
    // past 16 KiB a write is cut short, then refused (EFBIG). The server
    // ignores SIGXFSZ, the signal that would otherwise kill it.
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -f 32 && exec \"$0\" --port 0 --file \"$1\"",
        util::bin("pesto-server").to_str().unwrap(),
        file.arg(),
    ]);
    let server = Server::spawn(cmd);
    let mut c = connect(server.addr);
    assert_eq!(line(&mut c), GREETING);
    let text = "x".repeat(1000);
    let mut saved = 0;
    loop {
        send(&mut c, format!("write: {text}\n").as_bytes());
        match line(&mut c).as_str() {
            "Message saved!\r\n" => saved += 1,
            "Message not saved!\r\n" => break,
            other => panic!("{other:?}"),
        }
        assert!(saved < 40, "the limit was never met");
    }
    // The refused line left nothing: whole lines only, each one saved.
    assert_eq!(file.read(), format!("{text}\n").repeat(saved));
    server.wait_for_error("écriture impossible");
    // A line that fits is saved again.
    send(&mut c, b"write: court\n");
    assert_eq!(line(&mut c), "Message saved!\r\n");
    assert!(file.read().ends_with(&format!("{text}\ncourt\n")));
}

/// The line client `c` writes as its `n`-th: about 16 KB, its own bytes.
fn big_line(c: usize, n: usize) -> String {
    let fill = char::from(b'a' + ((c * 7 + n) % 26) as u8);
    format!("client {c} ligne {n} {}", fill.to_string().repeat(16_000))
}

#[test]
fn ctrl_c_while_four_clients_write_16_kb_lines_leaves_whole_lines() {
    const CLIENTS: usize = 4;
    if !util::have("kill", "Ctrl-C is sent with kill -INT") {
        return;
    }
    let file = TempFile::new("ctrl-c");
    let mut acked: Vec<HashSet<String>> = vec![HashSet::new(); CLIENTS];
    for round in 0..6 {
        let mut server = start(&file);
        let addr = server.addr;
        let (tx, rx) = std::sync::mpsc::channel();
        let writers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let tx = tx.clone();
                thread::spawn(move || {
                    let mut saved = HashSet::new();
                    // The server may be gone already: Ctrl-C comes once
                    // any client has a few lines saved.
                    let Ok(stream) = TcpStream::connect(addr) else {
                        return saved;
                    };
                    stream.set_read_timeout(Some(WAIT)).unwrap();
                    let mut conn = BufReader::new(stream);
                    let mut greeting = String::new();
                    if conn.read_line(&mut greeting).is_err() || greeting != GREETING {
                        return saved;
                    }
                    for n in round * 1000.. {
                        let text = big_line(c, n);
                        let sent = conn
                            .get_mut()
                            .write_all(format!("write: {text}\n").as_bytes());
                        let mut answer = String::new();
                        if sent.is_err() || conn.read_line(&mut answer).unwrap_or(0) == 0 {
                            return saved; // the server is gone
                        }
                        assert_eq!(answer, "Message saved!\r\n");
                        saved.insert(text);
                        let _ = tx.send(());
                    }
                    saved
                })
            })
            .collect();
        // A few lines saved, then Ctrl-C in the middle of the traffic.
        for _ in 0..8 {
            rx.recv_timeout(WAIT).expect("lines saved");
        }
        server.stop_with("INT");
        for (c, w) in writers.into_iter().enumerate() {
            acked[c].extend(w.join().unwrap());
        }
    }
    // The next start cuts a torn last line, if the last Ctrl-C left one.
    let server = start(&file);
    let mut c = connect(server.addr);
    assert_eq!(line(&mut c), GREETING);
    let saved = file.read();
    assert!(saved.ends_with('\n'));
    let lines: HashSet<&str> = saved.lines().collect();
    assert_eq!(lines.len(), saved.lines().count(), "a line written twice");
    for l in &lines {
        let words: Vec<&str> = l.splitn(5, ' ').collect();
        let (c, n) = (words[1].parse().unwrap(), words[3].parse().unwrap());
        assert_eq!(*l, big_line(c, n), "a line cut or glued to another");
    }
    for (c, lines_of_c) in acked.iter().enumerate() {
        for text in lines_of_c {
            assert!(
                lines.contains(text.as_str()),
                "client {c}: a saved line is missing"
            );
        }
    }
}
