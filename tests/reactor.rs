//! The servers on the reactor (`twisted-echo`, `obstinate-server`) run as
//! a student runs them, with real sockets.
//! `echo-reactor-server` is tested with the other echo servers, abuse
//! included, in `tests/echo.rs`.

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::thread;
use std::time::Duration;

use predicates::prelude::*;
use util::{Server, client, connect};

/// Reads exactly `len` bytes, as text.
fn read_text(stream: &mut TcpStream, len: usize) -> String {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).expect("the expected bytes");
    String::from_utf8_lossy(&buf).into_owned()
}

fn greeting(n: usize) -> String {
    format!("Hello. We are {n} connexions using this protocol\r\n")
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
    server.wait_for_log("1 connexion ouverte");
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
    server.wait_for_log("refusée : déjà 1 connexion ouverte (--max)");
    // The first is still served, and once it leaves there is room again.
    first.write_all(b"x").unwrap();
    assert_eq!(read_text(&mut first, 1), "x");
    drop(first);
    server.wait_for_log("aucune connexion ouverte");
    let mut again = connect(server.addr);
    assert_eq!(read_text(&mut again, greeting(1).len()), greeting(1));
}

#[test]
fn twisted_echo_listens_on_ipv6_loopback_too() {
    let server = Server::start("twisted-echo", &["--bind", "[::1]", "--port", "0"]);
    assert_eq!(server.addr.to_string(), format!("[::1]:{}", server.port()));
    let mut conn = connect(server.addr);
    assert_eq!(read_text(&mut conn, greeting(1).len()), greeting(1));
    server.wait_for_log("connexion de [::1]:");
}

#[test]
fn twisted_echo_out_of_descriptors_waits_without_spinning_then_serves() {
    if !cfg!(target_os = "linux") {
        return; // reads /proc
    }
    // A descriptor limit of 32: the clients after the 30th or so wait in
    // the backlog, `accept` fails with EMFILE.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 32 && exec \"$0\" --port 0"]);
    cmd.arg(util::bin("twisted-echo"));
    let mut server = Server::spawn(cmd);
    let mut conns: Vec<TcpStream> = (0..50).map(|_| connect(server.addr)).collect();
    server.wait_for_error("plus de descripteur libre");
    // Half a second out of descriptors: little CPU, and the message is
    // said once, not at every new try.
    let cpu_before = util::cpu_time(server.pid()).unwrap();
    thread::sleep(Duration::from_millis(500));
    let cpu = util::cpu_time(server.pid()).unwrap() - cpu_before;
    assert!(cpu < Duration::from_millis(200), "{cpu:?} of CPU in 0.5 s");
    assert!(server.is_running(), "the server died");
    let said = server.errors().matches("plus de descripteur libre").count();
    assert_eq!(said, 1, "stderr:\n{}", server.errors());

    // The first 30 leave (more than were accepted): every client that
    // waited in the backlog is accepted and greeted.
    let waiting = conns.split_off(30);
    drop(conns);
    for mut conn in waiting {
        assert_eq!(read_text(&mut conn, 13), "Hello. We are");
    }
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
fn bad_options_exit_2_and_help_names_the_seed() {
    let servers = [
        ("twisted-echo", "twisted-protocole-fabrique"),
        ("obstinate-server", "bite-sized-twisted-triforce"),
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
