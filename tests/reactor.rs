//! The servers on the reactor (`twisted-echo`, `obstinate-server`,
//! `echo-reactor-server`) run as a student runs them, with real sockets,
//! and the abuse a multi-client echo server must survive (CATALOGUE
//! sections 2 and 4).

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Arc, Once};
use std::thread;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use util::{Server, WAIT, client};

/// `echo-reactor-server`, built first if needed. It belongs to the `echo`
/// crate: Cargo hands this test only the binaries of `reactor`, and a
/// plain `cargo build --bin` run from this crate's folder does not see the
/// others, so we name the package.
fn echo_reactor_server() -> &'static str {
    const NAME: &str = "echo-reactor-server";
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let target = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target folder");
        if !target.join(NAME).exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "--quiet", "-p", "echo", "--bin", NAME]);
            if target.ends_with("release") {
                build.arg("--release");
            }
            assert!(
                build.status().expect("cargo build").success(),
                "cargo build -p echo --bin {NAME}"
            );
        }
    });
    NAME
}

/// A connection whose every read and write gives up after [`WAIT`].
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// Reads exactly `len` bytes, as text.
fn read_text(stream: &mut TcpStream, len: usize) -> String {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).expect("the expected bytes");
    String::from_utf8_lossy(&buf).into_owned()
}

fn greeting(n: usize) -> String {
    format!("Hello. We are {n} connexions using this protocol\r\n")
}

/// Varied bytes, so that a loss or a reordering shows.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn twisted_echo_greets_with_the_number_of_connections_then_echoes() {
    let server = Server::start("twisted-echo", &["--port", "0"]);
    assert_eq!(
        server.addr.to_string(),
        format!("127.0.0.1:{}", server.port())
    );
    let mut first = connect(server.addr);
    assert_eq!(read_text(&mut first, greeting(1).len()), greeting(1));
    let mut second = connect(server.addr);
    assert_eq!(read_text(&mut second, greeting(2).len()), greeting(2));
    first.write_all(b"ping\r\n").unwrap();
    assert_eq!(read_text(&mut first, 6), "ping\r\n");

    drop(first);
    server.wait_for_log("1 connexions ouvertes");
    let mut third = connect(server.addr);
    assert_eq!(read_text(&mut third, greeting(2).len()), greeting(2));
    server.wait_for_log("connexion de 127.0.0.1:");
}

#[test]
fn twisted_echo_max_refuses_through_build_protocol() {
    let server = Server::start("twisted-echo", &["--port", "0", "--max", "1"]);
    let mut first = connect(server.addr);
    assert_eq!(read_text(&mut first, greeting(1).len()), greeting(1));
    // The second is accepted by the system, then closed by the reactor at
    // once: no greeting, end of data (or a reset).
    let mut refused = connect(server.addr);
    let mut buf = [0; 64];
    assert!(matches!(refused.read(&mut buf), Ok(0) | Err(_)));
    server.wait_for_log("refusée : déjà 1 connexions ouvertes (--max)");
    // The first is still served, and once it leaves there is room again.
    first.write_all(b"x").unwrap();
    assert_eq!(read_text(&mut first, 1), "x");
    drop(first);
    server.wait_for_log("0 connexions ouvertes");
    let mut again = connect(server.addr);
    assert_eq!(read_text(&mut again, greeting(1).len()), greeting(1));
}

#[test]
fn obstinate_server_says_no_once_per_read() {
    let server = Server::start("obstinate-server", &["--port", "0"]);
    assert_eq!(
        server.addr.to_string(),
        format!("0.0.0.0:{}", server.port())
    );
    let mut stream = connect(server.loopback());
    // One chunk at a time, each answered before the next: one `no` each.
    for chunk in ["Are you there?\r\n", "x", "Are you sure?\r\n"] {
        stream.write_all(chunk.as_bytes()).unwrap();
        assert_eq!(read_text(&mut stream, 4), "no\r\n");
    }
    stream.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing more: {rest:?}");
    server.wait_for_log("déconnexion de 127.0.0.1:");
}

#[test]
fn echo_reactor_server_echoes_5_mib_byte_exact_and_logs_each_client() {
    let server = Server::start(echo_reactor_server(), &["--port", "0"]);
    assert_eq!(server.addr.to_string(), format!("[::]:{}", server.port()));
    let stream = connect(server.loopback());
    let data = Arc::new(pattern(5 * 1024 * 1024, 7));
    let mut writer = stream.try_clone().unwrap();
    let to_send = Arc::clone(&data);
    let sender = thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut back = Vec::with_capacity(data.len());
    (&stream).read_to_end(&mut back).unwrap();
    sender.join().unwrap();
    assert!(
        back == *data,
        "the echo differs ({} bytes back)",
        back.len()
    );
    // The loopback of a server on `::` is `::1`.
    server.wait_for_log(&format!("({} octets renvoyés)", data.len()));
    assert!(
        server.log().contains("connexion de [::1]:"),
        "{}",
        server.log()
    );
}

#[test]
fn echo_reactor_server_bounds_a_client_that_sends_without_reading() {
    const OFFERED: usize = 8 * 1024 * 1024;
    let server = Server::start(echo_reactor_server(), &["--port", "0"]);
    let addr = server.loopback();
    let mut probe = connect(addr);
    probe.write_all(b"avant").unwrap();
    assert_eq!(read_text(&mut probe, 5), "avant");
    let rss_before = util::rss_kib(server.pid());

    // 8 MiB offered, nothing read: the server must stop reading this client
    // at about 1 MiB of unsent echo, instead of keeping it all (or blocking
    // everyone). The sender gives up after a second without progress.
    let data = Arc::new(pattern(OFFERED, 3));
    let greedy = connect(addr);
    greedy
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut writer = greedy.try_clone().unwrap();
    let to_send = Arc::clone(&data);
    let sender = thread::spawn(move || {
        let mut sent = 0;
        while sent < to_send.len() {
            match writer.write(&to_send[sent..(sent + 65536).min(to_send.len())]) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });

    // Meanwhile the others are served, at once.
    for i in 0..20 {
        let started = Instant::now();
        let ping = format!("ping {i:02}");
        probe.write_all(ping.as_bytes()).unwrap();
        assert_eq!(read_text(&mut probe, ping.len()), ping);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "ping {i} was slow"
        );
    }
    let sent = sender.join().unwrap();
    if let (Some(before), Some(now)) = (rss_before, util::rss_kib(server.pid())) {
        assert!(
            now < before + 4 * 1024,
            "memory grew from {before} to {now} KiB holding the flood"
        );
    }

    // Everything sent comes back, in order, once we read.
    let mut back = vec![0; sent];
    (&greedy).read_exact(&mut back).unwrap();
    assert!(back[..] == data[..sent], "the echo differs");
}

#[test]
fn echo_reactor_server_survives_vanishing_and_idle_clients() {
    let server = Server::start(echo_reactor_server(), &["--port", "0"]);
    let addr = server.loopback();
    // A client that vanishes mid-stream, leaving its echo unread (reset).
    for _ in 0..5 {
        let mut gone = connect(addr);
        gone.write_all(&pattern(512 * 1024, 9)).unwrap();
        drop(gone);
    }
    // Many idle connections.
    let idle: Vec<TcpStream> = (0..300).map(|_| connect(addr)).collect();
    let mut other = connect(addr);
    other.write_all(b"hello").unwrap();
    assert_eq!(read_text(&mut other, 5), "hello");
    drop(idle);
    server.wait_for_log("(erreur : ");
    server.wait_for_log("déconnexion de [::1]:");
}

#[test]
fn echo_reactor_server_out_of_descriptors_neither_spins_nor_dies() {
    if !util::have("sh", "ulimit -n to run out of descriptors") {
        return;
    }
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 40 && exec \"$0\" --port 0"])
        .arg(util::bin(echo_reactor_server()));
    let server = Server::spawn(cmd);
    let addr = server.loopback();
    // More clients than descriptors: the extra ones wait in the backlog.
    let crowd: Vec<TcpStream> = (0..60).map(|_| connect(addr)).collect();
    let deadline = Instant::now() + WAIT;
    while !server.errors().contains("plus de descripteur libre") {
        assert!(Instant::now() < deadline, "no EMFILE: {}", server.errors());
        thread::sleep(Duration::from_millis(10));
    }
    // No spinning: half a second of waiting costs almost no CPU.
    if let Some(before) = util::cpu_time(server.pid()) {
        thread::sleep(Duration::from_millis(500));
        let used = util::cpu_time(server.pid()).unwrap() - before;
        assert!(
            used < Duration::from_millis(200),
            "the server spun: {used:?} of CPU"
        );
    }
    // Descriptors free up: the server serves again.
    drop(crowd);
    let mut late = connect(addr);
    late.write_all(b"back").unwrap();
    assert_eq!(read_text(&mut late, 4), "back");
}

#[test]
fn bad_options_exit_2_and_help_names_the_seed() {
    let servers = [
        ("twisted-echo", "twisted-protocole-fabrique"),
        ("obstinate-server", "bite-sized-twisted-triforce"),
        (echo_reactor_server(), "twisted-protocole-fabrique"),
    ];
    for (name, seed) in servers {
        client(name)
            .arg("--bogus")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("option inconnue : --bogus"));
        client(name).args(["--port", "x"]).assert().code(2);
        client(name)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains(seed).and(predicate::str::contains("usage")));
    }
    client("twisted-echo")
        .args(["--max", "-1"])
        .assert()
        .code(2);
}

#[test]
fn a_busy_port_is_one_french_line_and_exit_1() {
    let server = Server::start("twisted-echo", &["--port", "0"]);
    client("twisted-echo")
        .args(["--port", &server.port_arg()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "erreur : le port {} est déjà utilisé (Address already in use) ; arrêtez l'autre serveur ou choisissez --port\n",
            server.port()
        ));
}
