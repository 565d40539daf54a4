//! TP5b: the echo servers and clients, run as a student runs them, and the
//! abuse the multi-client servers must survive (the lab contract, docs/contrat.md).

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use util::{KillOnDrop, Server, WAIT, client, connect, pattern};

/// Every TCP echo server, blocking one included.
const TCP_SERVERS: [&str; 4] = [
    "echo-server",
    "echo-thread-server",
    "echo-poll-server",
    "echo-reactor-server",
];

/// The servers that must serve many clients at once and survive abuse.
const MULTI_SERVERS: [&str; 3] = [
    "echo-thread-server",
    "echo-poll-server",
    "echo-reactor-server",
];

fn start(name: &str) -> Server {
    Server::start(name, &["--port", "0"])
}

/// Sends `data` and checks that exactly the same bytes come back.
fn assert_echo(stream: &mut TcpStream, data: &[u8]) {
    stream.write_all(data).unwrap();
    let mut back = vec![0; data.len()];
    stream.read_exact(&mut back).expect("the echo came back");
    assert_eq!(back, data);
}

/// Sends `data` from a second thread while reading the echo here (a large
/// payload would otherwise fill both directions and block), and checks it.
fn assert_bulk_echo(stream: &TcpStream, data: Arc<Vec<u8>>) {
    let mut writer = stream.try_clone().unwrap();
    let to_send = Arc::clone(&data);
    let sender = thread::spawn(move || writer.write_all(&to_send));
    let mut back = vec![0; data.len()];
    (&*stream).read_exact(&mut back).expect("the whole echo");
    sender.join().unwrap().expect("the whole payload was sent");
    assert!(back == *data, "the echo differs from what was sent");
}

/// `SERVER | head -1`: starts `cmd` with its stdout in a pipe, reads the
/// first line (empty if the program ended without one), then closes the
/// pipe. Fails after [`WAIT`].
fn head_one(cmd: &mut Command) -> (KillOnDrop, String) {
    use std::io::{BufRead, BufReader};
    let mut child = KillOnDrop(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut first = String::new();
        let _ = BufReader::new(stdout).read_line(&mut first);
        let _ = tx.send(first); // the reader is dropped: the pipe is closed
    });
    let first = rx.recv_timeout(WAIT).expect("the first line, in time");
    (child, first)
}

#[test]
fn echo_client_against_every_tcp_server() {
    for name in TCP_SERVERS {
        let server = start(name);
        assert_eq!(
            server.addr.to_string(),
            format!("[::]:{}", server.port()),
            "{name}"
        );
        client("echo-client")
            .args(["--host", "127.0.0.1", "--port", &server.port_arg()])
            .write_stdin("hého\nligne 2\n\nnon envoyée\n")
            .assert()
            .success()
            .stdout("hého\nligne 2\n");
        server.wait_for_log("déconnexion de 127.0.0.1:");
        assert!(server.log().contains("connexion de 127.0.0.1:"), "{name}");
    }
}

#[test]
fn echo_client_over_ipv4_and_ipv6() {
    let server = start("echo-poll-server");
    for host in ["127.0.0.1", "::1", "[::1]", "localhost"] {
        client("echo-client")
            .args(["--host", host, "--port", &server.port_arg()])
            .write_stdin(format!("par {host}\n"))
            .assert()
            .success()
            .stdout(format!("par {host}\n"));
    }
    server.wait_for_log("connexion de [::1]:");
}

#[test]
fn echo_client_sends_a_last_line_without_newline() {
    let server = start("echo-thread-server");
    client("echo-client")
        .args(["--port", &server.port_arg()])
        .write_stdin("sans fin de ligne")
        .assert()
        .success()
        .stdout("sans fin de ligne");
}

#[test]
fn echo_client_passes_binary_lines_and_a_5_mib_line() {
    let server = start("echo-server");
    let mut line = pattern(5 * 1024 * 1024, 7);
    line.retain(|&b| b != b'\n');
    line.push(b'\n');
    let mut input = b"\x00\xff\xfe binaire\n".to_vec();
    input.extend_from_slice(&line);
    client("echo-client")
        .args(["--port", &server.port_arg()])
        .write_stdin(input.clone())
        .assert()
        .success()
        .stdout(predicate::eq(input));
}

#[test]
fn echo_client_against_a_python_server() {
    // The TP's own server, in Python (docs/python/tp5b/echo_tcp.py, the
    // file the lab sheet names), on a free port.
    if !util::have("python3", "serveur echo du TP en Python") {
        return;
    }
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/python/tp5b/echo_tcp.py"
    ))
    .arg("0");
    let server = Server::spawn(cmd);
    client("echo-client")
        .args(["--port", &server.port_arg()])
        .write_stdin("hého\n")
        .assert()
        .success()
        .stdout("hého\n");
}

#[test]
fn every_byte_value_and_utf8_come_back() {
    let all_bytes: Vec<u8> = (0..=255).collect();
    for name in TCP_SERVERS {
        let server = start(name);
        let mut stream = connect(server.loopback());
        assert_echo(&mut stream, "hého".as_bytes());
        assert_echo(&mut stream, &all_bytes);
    }
}

#[test]
fn five_mib_echoed_byte_exact_by_every_server() {
    let data = Arc::new(pattern(5 * 1024 * 1024, 42));
    for name in TCP_SERVERS {
        let server = start(name);
        let stream = connect(server.loopback());
        assert_bulk_echo(&stream, Arc::clone(&data));
        // The client closes its side: the server says goodbye with the count.
        stream.shutdown(Shutdown::Write).unwrap();
        server.wait_for_log(&format!("({} octets renvoyés)", data.len()));
    }
}

#[test]
fn the_echo_is_finished_after_the_client_stops_sending() {
    // A client may send everything, shut its sending side, then read:
    // nothing of the echo may be lost when the server sees the end.
    let data = pattern(3 * 1024 * 1024, 3);
    for name in MULTI_SERVERS {
        let server = start(name);
        let mut stream = connect(server.loopback());
        let mut writer = stream.try_clone().unwrap();
        let to_send = data.clone();
        let sender = thread::spawn(move || {
            writer.write_all(&to_send).unwrap();
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut back = Vec::new();
        stream.read_to_end(&mut back).unwrap();
        sender.join().unwrap();
        assert!(
            back == data,
            "{name}: {} of {} bytes",
            back.len(),
            data.len()
        );
    }
}

#[test]
fn the_blocking_server_makes_a_second_client_wait() {
    let server = start("echo-server");
    let mut first = connect(server.loopback());
    assert_echo(&mut first, b"premier\n");

    // The second connection is made (the system accepts it into the
    // backlog) but nobody reads it while the first client is served.
    let mut second = connect(server.loopback());
    second.write_all(b"second\n").unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0; 16];
    let waited = second.read(&mut buf);
    assert!(
        waited.is_err(),
        "the second client was served while the first was connected: {waited:?}"
    );

    // The first leaves: the second is served at last, its bytes intact.
    drop(first);
    second.set_read_timeout(Some(WAIT)).unwrap();
    let mut back = [0; 7];
    second.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"second\n");
}

#[test]
fn multi_client_servers_serve_a_second_client_at_once() {
    for name in MULTI_SERVERS {
        let server = start(name);
        let mut first = connect(server.loopback());
        assert_echo(&mut first, b"premier\n");
        let mut second = connect(server.loopback());
        assert_echo(&mut second, b"second\n");
        assert_echo(&mut first, b"encore\n");
    }
}

#[test]
fn a_thousand_concurrent_clients_lose_nothing() {
    const WORKERS: usize = 20;
    const PER_WORKER: usize = 50;
    const ROUNDS: usize = 3;
    for name in MULTI_SERVERS {
        let server = start(name);
        let addr = server.loopback();
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                thread::spawn(move || {
                    let mut conns: Vec<TcpStream> =
                        (0..PER_WORKER).map(|_| connect(addr)).collect();
                    for round in 0..ROUNDS {
                        // Everyone sends, then everyone reads: all 1000
                        // clients have a message in flight at once.
                        let msgs: Vec<Vec<u8>> = (0..PER_WORKER)
                            .map(|c| pattern(64, (w * 1000 + c * 10 + round) as u32))
                            .collect();
                        for (conn, msg) in conns.iter_mut().zip(&msgs) {
                            conn.write_all(msg).unwrap();
                        }
                        for (conn, msg) in conns.iter_mut().zip(&msgs) {
                            let mut back = vec![0; msg.len()];
                            conn.read_exact(&mut back).unwrap();
                            assert_eq!(&back, msg);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a worker failed");
        }
    }
}

// One test per server (the longest of this file, run side by side).
#[test]
fn a_client_that_never_reads_neither_slows_others_nor_grows_memory_threads() {
    a_client_that_never_reads_neither_slows_others_nor_grows_memory(MULTI_SERVERS[0]);
}

#[test]
fn a_client_that_never_reads_neither_slows_others_nor_grows_memory_poll() {
    a_client_that_never_reads_neither_slows_others_nor_grows_memory(MULTI_SERVERS[1]);
}

#[test]
fn a_client_that_never_reads_neither_slows_others_nor_grows_memory_reactor() {
    a_client_that_never_reads_neither_slows_others_nor_grows_memory(MULTI_SERVERS[2]);
}

fn a_client_that_never_reads_neither_slows_others_nor_grows_memory(name: &str) {
    // At most this much is offered; a server without backpressure swallows
    // all of it, one with backpressure stops reading after about 1 MiB.
    const OFFERED: usize = 32 * 1024 * 1024;
    let server = start(name);
    let mut probe = connect(server.loopback());
    assert_echo(&mut probe, b"avant\n");
    let before = util::rss_kib(server.pid());

    // The flooder sends until the connection takes no more for a
    // second (the server stopped reading it), and reads nothing.
    let data = Arc::new(pattern(OFFERED, 9));
    let flooder = connect(server.loopback());
    flooder
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut writer = flooder.try_clone().unwrap();
    let to_send = Arc::clone(&data);
    let sender = thread::spawn(move || {
        let mut sent = 0;
        while sent < to_send.len() {
            match writer.write(&to_send[sent..(sent + 65536).min(to_send.len())]) {
                Ok(n) => sent += n,
                Err(_) => break, // a second without progress
            }
        }
        sent
    });

    // Meanwhile another client is served as usual.
    for i in 0..50 {
        let started = Instant::now();
        assert_echo(&mut probe, format!("ping {i}\n").as_bytes());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{name}: ping {i} slow"
        );
    }
    let sent = sender.join().unwrap();
    assert!(
        sent < OFFERED,
        "{name}: {sent} bytes went into a client that reads nothing: no backpressure?"
    );
    match (before, util::rss_kib(server.pid())) {
        (Some(before), Some(now)) => assert!(
            now < before + 4 * 1024,
            "{name}: memory grew from {before} KiB to {now} KiB holding the flood"
        ),
        _ => util::skip("pas de /proc : la mémoire du serveur n'est pas mesurée"),
    }

    // Now the flooder reads: every byte it sent comes back, in order.
    let mut back = vec![0; sent];
    (&flooder).read_exact(&mut back).unwrap();
    assert!(back[..] == data[..sent], "{name}: the flood's echo differs");
    assert_echo(&mut probe, b"apres\n");
}

#[test]
fn clients_that_vanish_mid_stream_do_not_hurt_the_server() {
    for name in MULTI_SERVERS {
        let server = start(name);
        let addr = server.loopback();
        let chunk = pattern(256 * 1024, 5);
        for _ in 0..30 {
            let mut c = connect(addr);
            // Send a lot, read nothing, and go: closing with unread data
            // makes the system reset the connection.
            let _ = c.write_all(&chunk);
        }
        let mut probe = connect(addr);
        assert_echo(&mut probe, b"toujours la\n");
        server.wait_for_log("erreur");
    }
}

#[test]
fn five_thousand_idle_connections_all_still_echo() {
    const IDLE: usize = 5000;
    let _ = netlabs::sys::raise_fd_limit();
    for name in MULTI_SERVERS {
        let server = start(name);
        let addr = server.loopback();
        let mut idle: Vec<TcpStream> = (0..IDLE).map(|_| connect(addr)).collect();
        let mut fresh = connect(addr);
        assert_echo(&mut fresh, b"nouveau\n");
        for (i, conn) in idle.iter_mut().enumerate() {
            conn.write_all(&[(i % 251) as u8]).unwrap();
        }
        for (i, conn) in idle.iter_mut().enumerate() {
            let mut b = [0; 1];
            conn.read_exact(&mut b).unwrap();
            assert_eq!(b[0], (i % 251) as u8, "{name}: connection {i}");
        }
    }
}

#[test]
fn running_out_of_descriptors_neither_spins_nor_kills_the_server() {
    if !util::skip_unless(cfg!(target_os = "linux"), "pas de /proc (Linux seulement)") {
        return;
    }
    for name in MULTI_SERVERS {
        // Lower the server's descriptor limit (soft and hard) to 32.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "ulimit -n 32 && exec \"$0\" --port 0"]);
        cmd.arg(util::bin(name));
        let mut server = Server::spawn(cmd);
        let addr = server.loopback();

        // More clients than descriptors: the last ones wait in the backlog.
        let mut conns: Vec<TcpStream> = (0..60).map(|_| connect(addr)).collect();
        let mut first = conns.remove(0);
        assert_echo(&mut first, b"servi\n");
        server.wait_for_error("plus de descripteur libre");

        // Out of descriptors, it must not spin: little CPU over half a second.
        let cpu_before = util::cpu_time(server.pid()).unwrap();
        thread::sleep(Duration::from_millis(500));
        let cpu = util::cpu_time(server.pid()).unwrap() - cpu_before;
        assert!(
            cpu < Duration::from_millis(200),
            "{name}: {cpu:?} of CPU in 0.5 s"
        );
        assert!(server.is_running(), "{name} died");
        // Said once, not at every new try (ten times a second). In the
        // thread server, a new thread's first allocation briefly opens a
        // file (glibc reads /sys/devices/system/cpu/online): if it does so
        // just as the limit is reached, an accept succeeds in between, and
        // a second, shorter "full" episode is told too.
        let said = server.errors().matches("plus de descripteur libre").count();
        let most = if name == "echo-thread-server" { 2 } else { 1 };
        assert!(
            (1..=most).contains(&said),
            "{name}: said {said} times, stderr:\n{}",
            server.errors()
        );

        // Free descriptors (the first 40 clients leave, more than were
        // accepted): every client still waiting is served.
        drop(first);
        conns.drain(..39);
        for (i, conn) in conns.iter_mut().enumerate() {
            assert_echo(conn, format!("client {i}\n").as_bytes());
        }
    }
}

#[test]
fn udp_client_and_server() {
    let server = start("echo-udp-server");
    assert!(server.first_line.starts_with("en attente sur [::]:"));
    client("echo-udp-client")
        .args(["--host", "127.0.0.1", "--port", &server.port_arg()])
        .write_stdin("hého\nencore\n\nnon envoyée\n")
        .assert()
        .success()
        .stdout("hého\nencore\n");
    client("echo-udp-client")
        .args(["--host", "::1", "--port", &server.port_arg()])
        .write_stdin("en IPv6\n")
        .assert()
        .success()
        .stdout("en IPv6\n");
    server.wait_for_log("datagramme de [::1]:");
}

#[test]
fn a_60000_byte_datagram_comes_back_whole() {
    let server = start("echo-udp-server");
    let mut line = vec![b'x'; 59_999];
    line.push(b'\n');
    client("echo-udp-client")
        .args(["--host", "127.0.0.1", "--port", &server.port_arg()])
        .write_stdin(line.clone())
        .assert()
        .success()
        .stdout(predicate::eq(line));
    server.wait_for_log(": 60000 octets");

    // The largest IPv4 datagram, straight from a socket.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket.connect(("127.0.0.1", server.port())).unwrap();
    let big = pattern(65_507, 11);
    socket.send(&big).unwrap();
    let mut back = vec![0; 70_000];
    let n = socket.recv(&mut back).unwrap();
    assert!(back[..n] == big[..], "got {n} bytes back");
}

#[test]
fn udp_client_says_when_no_answer_comes() {
    // A socket that receives and never answers: the 1 s time-out.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    client("echo-udp-client")
        .args(["--host", "127.0.0.1", "--port", &port])
        .write_stdin("perdu ?\nencore ?\n")
        .assert()
        .success()
        .stdout("pas de réponse (datagramme perdu ?)\npas de réponse (datagramme perdu ?)\n");
    assert!(started.elapsed() >= Duration::from_secs(2));

    // Nobody at all on that port: same message, and the client goes on.
    drop(silent);
    client("echo-udp-client")
        .args(["--host", "127.0.0.1", "--port", &port])
        .write_stdin("personne ?\n")
        .assert()
        .success()
        .stdout("pas de réponse (datagramme perdu ?)\n");
}

#[test]
fn tcp_client_says_when_no_server_listens() {
    let port = util::free_tcp_port().to_string();
    client("echo-client")
        .args(["--host", "127.0.0.1", "--port", &port])
        .write_stdin("x\n")
        .assert()
        .code(1)
        .stderr(format!(
            "erreur : connexion refusée par 127.0.0.1:{port} ; le serveur est-il lancé ?\n"
        ));
}

#[test]
fn bad_options_exit_2_with_the_usage() {
    // Each program, and the seed section its help must name.
    let all = [
        ("echo-server", "1.2 Version TCP"),
        ("echo-thread-server", "2.2 version thread"),
        ("echo-poll-server", "2.1 version select"),
        ("echo-reactor-server", "twisted-protocole-fabrique"),
        ("echo-udp-server", "1.4 version UDP"),
        ("echo-client", "1.3 Client Echo"),
        ("echo-udp-client", "1.4 version UDP"),
    ];
    for (name, section) in all {
        for bad in [
            &["--bogus"][..],
            &["--port", "abc"],
            &["--port", "70000"],
            &["--port", "-1"],
            &["--port"],
            &["extra"],
        ] {
            client(name).args(bad).assert().code(2).stdout("").stderr(
                predicate::str::starts_with("erreur : ").and(predicate::str::contains("usage : ")),
            );
        }
        for help in ["-h", "--help"] {
            client(name).arg(help).assert().success().stdout(
                predicate::str::contains("TP5b")
                    .and(predicate::str::contains(section))
                    .and(predicate::str::contains("usage : ")),
            );
        }
    }
    for name in ["echo-server", "echo-poll-server", "echo-udp-server"] {
        for bad in [&["--bind", "nulle-part"][..], &["--bind"]] {
            client(name)
                .args(bad)
                .assert()
                .code(2)
                .stderr(predicate::str::contains("usage : "));
        }
    }
}

#[test]
fn every_documented_bind_spelling_is_accepted() {
    let can_v6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    for (bind, shown) in [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("::1", "[::1]"),
        ("[::1]", "[::1]"),
        ("::", "[::]"),
    ] {
        if bind.contains(':') && !can_v6 {
            continue;
        }
        for name in ["echo-server", "echo-poll-server"] {
            let server = Server::start(name, &["--bind", bind, "--port", "0"]);
            assert_eq!(
                server.first_line,
                format!("en écoute sur {shown}:{}", server.port()),
            );
            let mut stream = connect(server.loopback());
            assert_echo(&mut stream, b"bind\n");
        }
        let server = Server::start("echo-udp-server", &["--bind", bind, "--port", "0"]);
        assert_eq!(
            server.first_line,
            format!("en attente sur {shown}:{}", server.port()),
        );
    }
}

#[test]
fn a_busy_port_is_one_french_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for name in TCP_SERVERS {
        client(name)
            .args(["--bind", "127.0.0.1", "--port", &port])
            .assert()
            .code(1)
            .stdout("")
            .stderr(format!(
                "erreur : le port {port} est déjà utilisé (Address already in use) ; arrêtez l'autre serveur ou choisissez --port\n"
            ));
    }
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    client("echo-udp-server")
        .args(["--bind", "127.0.0.1", "--port", &port])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!(
            "erreur : le port {port} est déjà utilisé"
        )));
}

#[test]
fn help_and_usage_errors_into_a_closed_pipe_keep_their_exit_code() {
    // `echo-server --help | true`: the reader is gone before we write.
    // Printing must not panic (exit 101): help still exits 0, a bad
    // option 2.
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Stdio::from(writer)
    };
    for name in ["echo-server", "echo-client"] {
        let help = Command::new(util::bin(name))
            .arg("--help")
            .stdout(closed())
            .status()
            .unwrap();
        assert_eq!(help.code(), Some(0), "{name} --help");
        let bad = Command::new(util::bin(name))
            .arg("--bogus")
            .stderr(closed())
            .status()
            .unwrap();
        assert_eq!(bad.code(), Some(2), "{name} --bogus");
    }
}

#[test]
fn a_closed_log_never_stops_a_server() {
    for name in TCP_SERVERS {
        // `echo-server | head -1`: the reader of the log goes away.
        let (mut child, first) = head_one(
            Command::new(util::bin(name))
                .args(["--bind", "127.0.0.1", "--port", "0"])
                .stderr(Stdio::null()),
        );
        let addr = util::parse_first_line(first.trim_end());
        // Each connection now writes its log lines into a closed pipe.
        for i in 0..3 {
            let mut stream = connect(addr);
            assert_echo(&mut stream, format!("encore {i}\n").as_bytes());
        }
        assert!(child.0.try_wait().unwrap().is_none(), "{name} stopped");
    }
}

#[test]
fn a_closed_log_never_stops_a_server_out_of_descriptors() {
    for name in [
        "echo-thread-server",
        "echo-poll-server",
        "echo-reactor-server",
    ] {
        // `echo-poll-server 2>&1 | head -1` with few descriptors: the
        // warning about EMFILE goes into a closed pipe, and must not kill
        // the server (`eprintln!` would panic there).
        let (mut child, first) = head_one(
            Command::new("sh")
                .args(["-c", "ulimit -n 32 && exec \"$0\" --port 0 2>&1"])
                .arg(util::bin(name)),
        );
        let port = util::parse_first_line(first.trim_end()).port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));

        // More clients than descriptors: accept fails with EMFILE.
        let mut conns: Vec<TcpStream> = (0..60).map(|_| connect(addr)).collect();
        assert_echo(&mut conns[0], b"servi\n");
        let last = conns.len() - 1;
        conns[last].write_all(b"en attente\n").unwrap();
        // Every descriptor is taken: accept has failed, and the warning
        // went into the closed pipe.
        let pid = child.0.id();
        if util::skip_unless(
            util::open_descriptors(pid).is_some(),
            "pas de /proc : l'épuisement des descripteurs n'est pas observé",
        ) {
            util::wait_until(
                || util::open_descriptors(pid).is_some_and(|n| n >= 32),
                || format!("{name} never ran out of descriptors"),
            );
        }
        assert!(child.0.try_wait().unwrap().is_none(), "{name} died");

        // Descriptors free up: the last client, which waited, is served.
        conns.drain(..40);
        let mut back = [0; 11];
        conns.last_mut().unwrap().read_exact(&mut back).unwrap();
        assert_eq!(&back, b"en attente\n", "{name}");
    }
}

#[test]
fn localhost_finds_a_server_on_either_loopback() {
    // The contract: `localhost` is both ::1 and 127.0.0.1, whatever
    // /etc/hosts says; the clients try each.
    let mut binds = vec!["127.0.0.1"];
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        binds.push("::1");
    }
    for bind in binds {
        let server = Server::start("echo-poll-server", &["--bind", bind, "--port", "0"]);
        client("echo-client")
            .args(["--host", "localhost", "--port", &server.port_arg()])
            .write_stdin("par localhost\n")
            .assert()
            .success()
            .stdout("par localhost\n");
        let server = Server::start("echo-udp-server", &["--bind", bind, "--port", "0"]);
        client("echo-udp-client")
            .args(["--host", "localhost", "--port", &server.port_arg()])
            .write_stdin("par localhost\n")
            .assert()
            .success()
            .stdout("par localhost\n");
    }
}

#[test]
fn the_default_address_is_port_7777_for_ipv4_and_ipv6() {
    // The real default, no option at all. Port 7777 may be taken on this
    // machine (a student's server, another test run): then say so and skip.
    for name in ["echo-poll-server", "echo-udp-server"] {
        let (mut child, first) = head_one(Command::new(util::bin(name)).stderr(Stdio::piped()));
        if first.is_empty() {
            let mut why = String::new();
            let _ = child.0.stderr.take().unwrap().read_to_string(&mut why);
            assert!(why.contains("déjà utilisé"), "{name}: {why}");
            util::skip(format!("le port 7777 est pris : {name} non essayé"));
            continue;
        }
        let udp = name == "echo-udp-server";
        let expected = if udp {
            "en attente sur [::]:7777\n"
        } else {
            "en écoute sur [::]:7777\n"
        };
        assert_eq!(first, expected, "{name}");
        for host in ["127.0.0.1", "::1"] {
            if udp {
                client("echo-udp-client")
                    .args(["--host", host])
                    .write_stdin("défaut\n")
                    .assert()
                    .success()
                    .stdout("défaut\n");
            } else {
                client("echo-client")
                    .args(["--host", host])
                    .write_stdin("défaut\n")
                    .assert()
                    .success()
                    .stdout("défaut\n");
            }
        }
    }
}

#[test]
fn echo_client_shows_a_partial_echo_and_why_it_stopped() {
    // A student's server that uses `send` once and closes: only part of
    // the echo comes back. The client shows that part, then says so.
    let script = r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
sc, addr = s.accept()
data = sc.recv(1500)
sc.send(data[:3])
sc.close()
"#;
    let Some(server) = util::python_server(script, "serveur echo défectueux en Python") else {
        return;
    };
    client("echo-client")
        .args(["--host", "127.0.0.1", "--port", &server.port_arg()])
        .write_stdin("bonjour\n")
        .assert()
        .code(1)
        .stdout("bon")
        .stderr(
            "erreur : le serveur a fermé la connexion avant de tout renvoyer (3 octets sur 8)\n",
        );
}

#[test]
fn echo_client_against_a_line_by_line_python_server() {
    // A server that echoes whole lines only (`readline`): the last line,
    // without its newline, comes back once the client says it is done.
    let script = r#"
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind(("::1", 0))
s.listen(1)
print("en écoute sur [::1]:%d" % s.getsockname()[1], flush=True)
sc, addr = s.accept()
f = sc.makefile("rwb")
for line in f:
    f.write(line)
    f.flush()
sc.close()
"#;
    if !util::skip_unless(
        std::net::TcpListener::bind("[::1]:0").is_ok(),
        "pas d'IPv6 sur cette machine",
    ) {
        return;
    }
    let Some(server) = util::python_server(script, "serveur echo ligne par ligne en Python") else {
        return;
    };
    client("echo-client")
        .args(["--host", "::1", "--port", &server.port_arg()])
        .write_stdin("une\ndeux sans fin")
        .assert()
        .success()
        .stdout("une\ndeux sans fin");
}

/// Sends each of `payloads` as one UDP datagram to 127.0.0.1:`to` whose
/// source says 127.0.0.1:`from`: a raw socket that writes the IP header
/// itself, as a forger on the network would. Needs root; returns false
/// (the test is skipped, saying why) where that is not possible.
fn forge_udp(from: u16, to: u16, payloads: &[String]) -> bool {
    let script = r#"
import socket, struct, sys
src, dst = int(sys.argv[1]), int(sys.argv[2])
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
except PermissionError:
    sys.exit(3)
lo = socket.inet_aton("127.0.0.1")
for line in sys.stdin.buffer:
    udp = struct.pack("!HHHH", src, dst, 8 + len(line), 0) + line
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, lo, lo)
    s.sendto(ip + udp, ("127.0.0.1", 0))
"#;
    if !util::have("python3", "un datagramme à l'adresse source forgée") {
        return false;
    }
    let mut forger = Command::new("python3")
        .args(["-c", script, &from.to_string(), &to.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3");
    let lines: String = payloads.iter().map(|p| format!("{p}\n")).collect();
    forger
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let status = util::wait_exit(&mut forger);
    if status.code() == Some(3) {
        util::skip("une socket brute (adresse source forgée) demande les droits de root");
        return false;
    }
    assert!(status.success(), "the forging script failed");
    true
}

/// Two UDP servers, and a burst of `burst` distinct datagrams to `a` that
/// claim to come from `b` (or from `a` itself when `b` is `None`): the
/// loop they start ends within a few seconds, said once, and the servers
/// go quiet. Returns false when skipped.
fn udp_loop_ends_by_itself(a: &str, b: Option<&str>, burst: usize) -> bool {
    let args = ["--bind", "127.0.0.1", "--port", "0"];
    let first = Server::start(a, &args);
    let second = b.map(|b| Server::start(b, &args));
    let source = second.as_ref().unwrap_or(&first).port();
    let payloads: Vec<String> = (0..burst).map(|i| format!("boucle {i}")).collect();
    if !forge_udp(source, first.port(), &payloads) {
        return false;
    }
    let forged = Instant::now();
    let servers: Vec<&Server> = [Some(&first), second.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    let said = |s: &&Server| {
        let log = s.log();
        log.contains("boucle d'écho avec") || log.contains("notre propre adresse")
    };
    let logs = || {
        servers
            .iter()
            .map(|s| s.log())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    util::wait_until(
        || servers.iter().any(said),
        || {
            format!(
                "{a} and {b:?} never ended their loop of {burst}; logs:\n{}",
                logs()
            )
        },
    );
    let lasted = forged.elapsed();
    // Over for good: no more CPU spent, no more lines logged.
    let cpu = |s: &&Server| util::cpu_time(s.pid()).unwrap_or_default();
    let lines = |s: &&Server| s.log().lines().count();
    // Nothing left in flight: no datagram queued for either, both asleep
    // (waiting in recv, their last line written).
    util::wait_until(
        || {
            servers
                .iter()
                .all(|s| udp_queued(s.port()) == 0 && asleep(s.pid()))
        },
        || format!("{a} and {b:?} never went quiet; logs:\n{}", logs()),
    );
    let before: Vec<_> = servers.iter().map(|s| (cpu(s), lines(s))).collect();
    thread::sleep(Duration::from_secs(1));
    for (s, (cpu_before, lines_before)) in servers.iter().zip(before) {
        let spent = cpu(s) - cpu_before;
        assert!(
            spent < Duration::from_millis(200),
            "{a} and {b:?}, {burst} in flight: still {spent:?} of CPU a second"
        );
        assert_eq!(lines(s), lines_before, "still logging:\n{}", s.log());
        assert!(
            lines_before < 2_000,
            "{lines_before} lines logged for one loop"
        );
        assert!(
            s.log().matches("boucle d'écho avec").count() <= 1,
            "{}",
            s.log()
        );
    }
    eprintln!("{a} et {b:?}, {burst} en vol : boucle finie après {lasted:?}");
    // Ended by the guard (2 s of a loop's rate), not by chance; a loaded
    // machine slows the loop below that rate at times, and the guard waits.
    assert!(
        lasted < Duration::from_secs(15),
        "{a} and {b:?}: the loop of {burst} lasted {lasted:?}; logs:\n{}",
        logs()
    );
    // And a real client is still answered.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket.send_to(b"17", first.loopback()).unwrap();
    let mut buf = [0u8; 100];
    let (n, _) = socket
        .recv_from(&mut buf)
        .expect("no answer after the loop");
    assert!(n > 0);
    true
}

/// Runs loop cases side by side, each in its own thread.
fn udp_loops_end(cases: Vec<(&'static str, Option<&'static str>, usize)>) {
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(a, b, burst)| thread::spawn(move || udp_loop_ends_by_itself(a, b, burst)))
        .collect();
    // Every case to its end (each stops its own servers), then the verdict.
    let failed = runs
        .into_iter()
        .map(|run| run.join())
        .filter(Result::is_err)
        .count();
    assert_eq!(failed, 0, "{failed} loop cases failed (see above)");
}

#[test]
fn a_forged_datagram_starts_no_endless_loop_between_udp_servers() {
    udp_loops_end(vec![
        ("echo-udp-server", Some("echo-udp-server"), 1),
        ("echo-udp-server", Some("prime-udp-server"), 1),
        ("prime-udp-server", Some("prime-udp-server"), 1),
        ("echo-udp-server", None, 1),
        ("prime-udp-server", None, 1),
    ]);
}

#[test]
fn a_forged_burst_of_any_size_starts_no_endless_loop_either() {
    // Seventeen datagrams were enough to slip past a memory of sixteen
    // answers; a thousand overflow the socket buffers, and what is left
    // loops as hard as it can.
    udp_loops_end(vec![
        ("echo-udp-server", Some("echo-udp-server"), 17),
        ("echo-udp-server", Some("echo-udp-server"), 1000),
        ("echo-udp-server", Some("prime-udp-server"), 100),
        ("prime-udp-server", Some("prime-udp-server"), 17),
    ]);
}

#[test]
fn a_udp_client_repeating_the_same_line_is_answered_every_time() {
    // yes bonjour | echo-udp-client, for three seconds: each line is our
    // last answer, sent back as fast as we answer — but it waits for us.
    let server = Server::start("echo-udp-server", &["--bind", "127.0.0.1", "--port", "0"]);
    let mut child = KillOnDrop(
        Command::new(util::bin("echo-udp-client"))
            .args(["--host", "127.0.0.1", "--port", &server.port_arg()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("echo-udp-client"),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    let mut stdout = child.0.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).unwrap();
        out
    });
    let started = Instant::now();
    let mut sent = 0usize;
    while started.elapsed() < Duration::from_secs(3) {
        if stdin.write_all(&b"bonjour\n".repeat(64)).is_err() {
            break;
        }
        sent += 64;
    }
    drop(stdin);
    let status = util::wait_exit(&mut child.0);
    let out = reader.join().unwrap();
    assert!(status.success());
    let unanswered = out.lines().filter(|l| *l != "bonjour").count();
    eprintln!(
        "yes bonjour | echo-udp-client : {} lignes en {:?}, {unanswered} sans réponse",
        out.lines().count(),
        started.elapsed()
    );
    assert_eq!(
        (out.lines().count(), unanswered),
        (sent, 0),
        "log:\n{}",
        server.log()
    );
    assert!(!server.log().contains("boucle"), "{}", server.log());
}

#[test]
fn a_udp_ping_and_a_heartbeat_are_answered_every_time() {
    // The same payload over and over, a thousand times a second and a
    // hundred times a second, from sockets that do not wait for answers;
    // and 2000 identical datagrams awaited one by one, as fast as it goes.
    let server = Server::start("echo-udp-server", &["--bind", "127.0.0.1", "--port", "0"]);
    let to = server.loopback();
    let pace = |payload: &'static [u8], every: Duration, count: usize| {
        thread::spawn(move || {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let reader = socket.try_clone().unwrap();
            let counting = thread::spawn(move || {
                let (mut answered, mut buf) = (0, [0u8; 64]);
                while answered < count {
                    match reader.recv_from(&mut buf) {
                        Ok((n, _)) => answered += usize::from(&buf[..n] == payload),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break, // two seconds without an answer
                    }
                }
                answered
            });
            let started = Instant::now();
            for i in 0..count {
                let due = started + every * i as u32;
                thread::sleep(due.saturating_duration_since(Instant::now()));
                socket.send_to(payload, to).unwrap();
            }
            let answered = counting.join().unwrap();
            // What the system dropped for want of room in our buffer is
            // not the server's doing.
            answered + udp_drops(socket.local_addr().unwrap().port())
        })
    };
    let ping = pace(b"ping", Duration::from_millis(1), 3_000);
    let heartbeat = pace(b"vivant", Duration::from_millis(10), 300);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 64];
    for i in 0..2_000 {
        socket.send_to(b"bonjour\n", to).unwrap();
        let (n, _) = socket
            .recv_from(&mut buf)
            .unwrap_or_else(|e| panic!("datagram {i} unanswered ({e})"));
        assert_eq!(&buf[..n], b"bonjour\n");
    }
    let (ping, heartbeat) = (ping.join().unwrap(), heartbeat.join().unwrap());
    // Nor what it dropped before the server could read it.
    let lost = udp_drops(server.port());
    assert!(
        ping + lost >= 3_000 && heartbeat + lost >= 300,
        "{ping} pings and {heartbeat} heartbeats answered, {lost} lost by the system; log:\n{}",
        server.log()
    );
    assert!(
        !server.log().contains("plus de réponse"),
        "{}",
        server.log()
    );
}

/// The datagrams the system dropped for the UDP socket bound to `port`
/// of 127.0.0.1 (its buffer was full), as `/proc/net/udp` counts them (0
/// where there is no `/proc`).
fn udp_drops(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some(local.as_str()))
        .filter_map(|line| line.split_whitespace().last()?.parse::<usize>().ok())
        .sum()
}

/// The bytes queued for reading on the UDP socket bound to
/// `127.0.0.1:port` (the `rx_queue` of `/proc/net/udp`).
fn udp_queued(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some(local.as_str()))
        .filter_map(|line| {
            let queues = line.split_whitespace().nth(4)?;
            usize::from_str_radix(queues.split(':').nth(1)?, 16).ok()
        })
        .sum()
}

/// True when every thread of process `pid` sleeps (state `S` in
/// `/proc/PID/task/*/stat`): waiting for something, running nothing.
/// Without `/proc`, true: nothing tells, the caller does not wait.
fn asleep(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return !std::path::Path::new("/proc/self").exists();
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
            // The state follows the command name, which is in parentheses.
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('S'))
        })
    })
}

/// Sends `count` distinct datagrams made by `make`, at most `window` of
/// them unanswered at a time, and returns how many were answered and how
/// fast.
fn udp_burst(to: std::net::SocketAddr, count: usize, make: fn(usize) -> String) -> (usize, f64) {
    const WINDOW: usize = 32;
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(to).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let started = Instant::now();
    let (mut sent, mut answered) = (0, 0);
    let mut buf = [0u8; 2048];
    while answered < count {
        while sent < count && sent - answered < WINDOW {
            socket.send(make(sent).as_bytes()).unwrap();
            sent += 1;
        }
        match socket.recv(&mut buf) {
            Ok(_) => answered += 1,
            // A child of another test ending (SIGCHLD) interrupts recv.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("after {answered} answers: {e}");
                break; // silence: the server stopped answering us
            }
        }
    }
    (answered, answered as f64 / started.elapsed().as_secs_f64())
}

#[test]
fn a_fast_udp_client_is_answered_thousands_of_times_a_second() {
    for (name, make) in [
        (
            "echo-udp-server",
            (|i| format!("datagramme {i}")) as fn(usize) -> String,
        ),
        ("prime-udp-server", |i| (i + 2).to_string()),
    ] {
        let server = Server::start(name, &["--bind", "127.0.0.1", "--port", "0"]);
        let (answered, rate) = udp_burst(server.addr, 30_000, make);
        eprintln!("{name} : {answered} réponses, {rate:.0} par seconde");
        assert_eq!(
            answered,
            30_000,
            "{name} stopped answering; log:\n{}",
            server.log()
        );
        assert!(
            server.log().lines().count() < 30_000,
            "{name}: the log is not bounded"
        );
    }
}

/// An echo server like Twisted's plain `Echo` protocol: what it reads goes
/// out on a later turn of its loop, and the end of the stream closes the
/// connection at once, dropping what was not sent yet.
const CLOSES_ON_END_OF_STREAM: &str = r#"
import select, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    pending = b""
    while True:
        r, w, _ = select.select([c], [c] if pending else [], [])
        if r:
            data = c.recv(65536)
            if not data:
                break  # connectionLost: `pending` is lost
            pending += data
            time.sleep(0.2)  # the reactor's turn ends; writes go out on the next
        elif w:
            pending = pending[c.send(pending):]
    c.close()
"#;

#[test]
fn echo_client_waits_for_every_echo_before_it_closes() {
    let Some(server) = util::python_server(CLOSES_ON_END_OF_STREAM, "serveur façon Twisted")
    else {
        return;
    };
    let port = server.port_arg();
    client("echo-client")
        .args(["--host", "127.0.0.1", "--port", &port])
        .write_stdin("a\nb\n\n")
        .assert()
        .success()
        .stdout("a\nb\n");
    client("echo-client")
        .args(["--host", "127.0.0.1", "--port", &port])
        .write_stdin("un\ndeux\ntrois sans fin")
        .assert()
        .success()
        .stdout("un\ndeux\ntrois sans fin");
}

#[test]
fn echo_client_says_at_once_that_the_server_died() {
    let server = start("echo-thread-server");
    let mut echo_client = util::KillOnDrop(
        Command::new(util::bin("echo-client"))
            .args(["--port", &server.port_arg()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdin = echo_client.0.stdin.take().unwrap();
    let mut stdout = echo_client.0.stdout.take().unwrap();
    stdin.write_all(b"un\n").unwrap();
    let mut echo = [0u8; 3];
    stdout.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"un\n");
    drop(server); // killed

    // The next line typed gets the error, at once, while stdin stays open.
    stdin.write_all(b"deux\n").unwrap();
    let status = util::wait_exit(&mut echo_client.0);
    let mut errors = String::new();
    let mut stderr = echo_client.0.stderr.take().unwrap();
    stderr.read_to_string(&mut errors).unwrap();
    assert_eq!(status.code(), Some(1), "{errors}");
    assert!(errors.starts_with("erreur : "), "{errors}");
    assert!(
        errors.contains("aucun octet sur 5") || errors.contains("réception impossible"),
        "{errors}"
    );
    drop(stdin);
}
