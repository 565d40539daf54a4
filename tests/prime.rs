//! Chapitre 2.2: the prime servers and clients, run as a student runs them,
//! and the bytes a careless or hostile client sends (the lab contract, docs/contrat.md).

mod util;

use std::io::Read;
use std::net::{Shutdown, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use util::{LineConn, Server, WAIT, client};

/// What prime-client prints for the course's list, against our server.
const COURSE_TRANSCRIPT: &str = "\
Envoi d'un message 4j
\tUne erreur est détectée par le serveur
Envoi d'un message 4
\tLe nombre n'est pas un nombre premier
Envoi d'un message 5
\tLe nombre est bien un nombre premier
Envoi d'un message -5
\tLe nombre n'est pas un nombre premier
Envoi d'un message 17
\tLe nombre est bien un nombre premier
Envoi d'un message 29
\tLe nombre est bien un nombre premier
Envoi d'un message 1125899906842624
\tLe nombre n'est pas un nombre premier
Envoi d'un message 1125899906842623
\tLe nombre n'est pas un nombre premier
";

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    Server::start("prime-server", &args)
}

#[test]
fn the_course_list_over_one_connection() {
    let mut server = server(&[]);
    assert_eq!(
        server.first_line,
        format!("en écoute sur 127.0.0.1:{}", server.port())
    );
    client("prime-client")
        .args(["--port", &server.port_arg()])
        .assert()
        .success()
        .stdout(COURSE_TRANSCRIPT);
    // Like the course's server: one connection, then it stops.
    assert!(server.wait_exit().success());
    let log = server.log();
    for phrase in [
        "Connexion acceptée: 127.0.0.1:",
        "'4j' n'est pas un entier",
        "'4' n'est pas un nombre premier",
        "'17' est un nombre premier",
        "'-5' n'est pas un nombre premier",
    ] {
        assert!(
            log.contains(phrase),
            "{phrase:?} missing from the log:\n{log}"
        );
    }
}

#[test]
fn the_course_answers_byte_for_byte() {
    let server = server(&[]);
    let mut conn = LineConn::open(server.addr);
    conn.send(b"4j\n4\n5\n-5\n17\n29\n1125899906842624\n1125899906842623\n");
    assert_eq!(conn.answers(8), "E\nF\nT\nF\nT\nT\nF\nF\n");
}

#[test]
fn several_numbers_in_one_write_and_one_number_in_two_writes() {
    let server = server(&[]);
    let mut conn = LineConn::open(server.addr);
    conn.send(b"2\r\n3\n4\n  5\t\n+7\n1_000\n");
    assert_eq!(conn.answers(6), "T\nT\nF\nT\nT\nF\n");

    // Half a number: no answer may come before its end.
    conn.send(b"10");
    assert!(
        conn.silent_for(Duration::from_millis(200)),
        "answered half a number"
    );
    conn.send(b"07\n");
    assert_eq!(conn.answers(1), "F\n"); // 1007 = 19 · 53
    conn.send(b"100");
    assert!(conn.silent_for(Duration::from_millis(100)));
    conn.send(b"9\r");
    assert!(conn.silent_for(Duration::from_millis(100)));
    conn.send(b"\n");
    assert_eq!(conn.answers(1), "T\n"); // 1009 is prime
}

#[test]
fn the_largest_64_bit_prime_is_answered_at_once() {
    let server = server(&[]);
    let mut conn = LineConn::open(server.addr);
    let started = Instant::now();
    conn.send(b"18446744073709551557\n");
    assert_eq!(conn.answers(1), "T\n");
    // Trial division would take minutes; Miller–Rabin microseconds (this
    // bound leaves room for a debug build on a busy machine).
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    conn.send(b"18446744073709551615\n2305843009213693951\n");
    assert_eq!(conn.answers(2), "F\nT\n");
}

#[test]
fn bad_input_gets_e_and_the_connection_goes_on() {
    let server = server(&[]);
    let mut conn = LineConn::open(server.addr);
    let mut input = Vec::new();
    input.extend_from_slice(b"18446744073709551616\n"); // 2^64: too large
    input.extend_from_slice(format!("{}\n", "9".repeat(300)).as_bytes());
    input.extend_from_slice(format!("-{}\n", "9".repeat(300)).as_bytes()); // negative: F
    input.extend_from_slice(b"\x00\x01\x02\xff junk\n");
    input.extend_from_slice(b"\xc3\x28\xa0\xa1\n"); // invalid UTF-8
    input.extend_from_slice(b"\n"); // empty line
    input.extend_from_slice(b"1.5\n0x11\n1__0\n_1\n4j\n");
    input.extend_from_slice(&vec![b'7'; 5 * prime::MAX_LINE]); // a line too long
    input.extend_from_slice(b"\n17\n");
    conn.send(&input);
    assert_eq!(conn.answers(13), "E\nE\nF\nE\nE\nE\nE\nE\nE\nE\nE\nE\nT\n");
    server.wait_for_log("trop grand");
    server.wait_for_log(&format!("ligne de plus de {} octets", prime::MAX_LINE));

    // A line that never ends gets its E early; memory stays bounded.
    conn.send(&vec![b'1'; 200 * 1024]);
    assert_eq!(conn.answers(1), "E\n");
    conn.send(b"\n5\n");
    assert_eq!(conn.answers(1), "T\n");
}

#[test]
fn the_last_number_without_a_line_end_is_answered() {
    let mut server = server(&[]);
    let mut conn = LineConn::open(server.addr);
    conn.send(b"4\n17");
    conn.writer.shutdown(Shutdown::Write).unwrap();
    let mut rest = String::new();
    conn.reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "F\nT\n");
    assert!(server.wait_exit().success());
}

#[test]
fn the_last_line_cut_by_the_close_follows_the_rules_of_every_line() {
    // `17` padded to one byte over the limit. Ended by `\n` or by the
    // close, it is the same line, too long: `E`.
    let mut long = b"17".to_vec();
    long.resize(prime::MAX_LINE + 1, b' ');
    for end in [&b"\n"[..], b""] {
        let server = server(&["--forever"]);
        let mut conn = LineConn::open(server.addr);
        conn.send(&long);
        conn.send(end);
        conn.writer.shutdown(Shutdown::Write).unwrap();
        let mut rest = String::new();
        conn.reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "E\n", "ended by {end:?}");
    }
    // Its `\r` is dropped, as before a `\n`.
    let server = server(&["--forever"]);
    let mut conn = LineConn::open(server.addr);
    conn.send(b"17\r");
    conn.writer.shutdown(Shutdown::Write).unwrap();
    let mut rest = String::new();
    conn.reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "T\n");
}

#[test]
fn forever_serves_one_client_after_the_other_the_default_only_one() {
    let mut server = server(&["--forever"]);
    for _ in 0..3 {
        client("prime-client")
            .args(["--port", &server.port_arg(), "97", "-5", "abc"])
            .assert()
            .success()
            .stdout(
                "Envoi d'un message 97\n\tLe nombre est bien un nombre premier\n\
                 Envoi d'un message -5\n\tLe nombre n'est pas un nombre premier\n\
                 Envoi d'un message abc\n\tUne erreur est détectée par le serveur\n",
            );
    }
    // The course's loop: one connection per number.
    client("prime-client")
        .args(["--port", &server.port_arg(), "--connection-per-number"])
        .assert()
        .success()
        .stdout(COURSE_TRANSCRIPT);
    assert!(server.is_running());

    // Without --forever, the second connection of the loop fails: refused
    // if the server is gone, or reset if the system had already queued it
    // in the backlog of a server that was about to exit.
    let mut once = self::server(&[]);
    let output = client("prime-client")
        .args([
            "--port",
            &once.port_arg(),
            "--connection-per-number",
            "5",
            "7",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.starts_with(
            "Envoi d'un message 5\n\tLe nombre est bien un nombre premier\nEnvoi d'un message 7\n"
        ) || stdout == "Envoi d'un message 5\n\tLe nombre est bien un nombre premier\n",
        "{stdout}"
    );
    if output.status.code() == Some(1) {
        assert!(
            stderr.contains("connexion refusée") && stderr.contains("--forever"),
            "{stderr}"
        );
    } else {
        assert!(
            stdout.ends_with("Envoi d'un message 7\n\tPas de réponses\n"),
            "{stdout}"
        );
    }
    assert!(once.wait_exit().success());
}

#[test]
fn prime_client_reads_what_a_foreign_server_sends() {
    // The course's own server (docs/python/chapitre-2.2/serveur_tcp.py, the
    // very file the lab sheet runs): one recv per message, and an answer of
    // one letter without `\n`.
    if !util::have("python3", "serveur du cours en Python") {
        return;
    }
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/python/chapitre-2.2/serveur_tcp.py"
    ))
    .arg("0");
    let server = Server::spawn(cmd);
    client("prime-client")
        .args(["--port", &server.port_arg(), "4j", "17", "4"])
        .assert()
        .success()
        .stdout(
            "Envoi d'un message 4j\n\tLa donnée reçue n'est pas comprise : b'E'\n\
             Envoi d'un message 17\n\tLa donnée reçue n'est pas comprise : b'T'\n\
             Envoi d'un message 4\n\tLa donnée reçue n'est pas comprise : b'F'\n",
        );
    // And the course's own prints, as the sheet shows them.
    server.wait_for_log("Donnée reçue: b'17\\n'\nb'T'");
}

#[test]
fn prime_client_when_the_server_is_gone_or_silent() {
    let port = util::free_tcp_port().to_string();
    client("prime-client")
        .args(["--port", &port])
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "erreur : connexion refusée par 127.0.0.1:{port} ; le serveur est-il lancé ?\n"
        ));

    // A server that accepts, reads and closes without a word.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mute = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf);
    });
    client("prime-client")
        .args(["--port", &port, "17", "4"])
        .assert()
        .code(1)
        .stdout("Envoi d'un message 17\n\tPas de réponses\n")
        .stderr(predicate::str::starts_with("erreur : "));
    mute.join().unwrap();
}

#[test]
fn udp_pair_and_the_empty_datagram_that_stops_the_server() {
    let mut server = Server::start("prime-udp-server", &["--port", "0"]);
    assert_eq!(
        server.first_line,
        format!("en attente sur 127.0.0.1:{}", server.port())
    );
    client("prime-udp-client")
        .args(["--port", &server.port_arg()])
        .assert()
        .success()
        .stdout(COURSE_TRANSCRIPT);
    assert!(server.is_running(), "UDP has no connection to end");
    server.wait_for_log("Connexion reçue: 127.0.0.1:");
    server.wait_for_log("'29' est un nombre premier");

    client("prime-udp-client")
        .args(["--port", &server.port_arg(), "--stop", "7", "-7"])
        .assert()
        .success()
        .stdout(
            "Envoi d'un message 7\n\tLe nombre est bien un nombre premier\n\
             Envoi d'un message -7\n\tLe nombre n'est pas un nombre premier\n\
             Envoi du datagramme vide : le serveur s'arrête\n",
        );
    assert!(server.wait_exit().success());
}

#[test]
fn udp_server_takes_one_datagram_as_one_message() {
    let server = Server::start("prime-udp-server", &["--port", "0"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket.connect(server.addr).unwrap();
    let ask = |datagram: &[u8]| {
        socket.send(datagram).unwrap();
        let mut buf = [0u8; 64];
        let n = socket.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(ask(b"17"), "T\n");
    assert_eq!(ask(b"17\r\n"), "T\n");
    assert_eq!(ask(b" 18446744073709551557 "), "T\n");
    assert_eq!(ask(b"4\n5\n"), "E\n", "two lines are not one integer");
    assert_eq!(ask(b"\xff"), "E\n");
    assert_eq!(ask(&vec![b'3'; 2000]), "E\n");
    assert_eq!(ask(b"-3"), "F\n");
}

#[test]
fn udp_client_says_when_no_answer_comes() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    client("prime-udp-client")
        .args(["--port", &port, "17"])
        .assert()
        .success()
        .stdout("Envoi d'un message 17\n\tPas de réponses\n");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn bad_options_exit_2_and_help_names_the_chapter() {
    for name in [
        "prime-server",
        "prime-client",
        "prime-udp-server",
        "prime-udp-client",
    ] {
        for bad in [
            &["--bogus"][..],
            &["--port", "abc"],
            &["--port"],
            &["--port", "70000"],
        ] {
            client(name).args(bad).assert().code(2).stderr(
                predicate::str::starts_with("erreur : ").and(predicate::str::contains("usage : ")),
            );
        }
        client(name).arg("-h").assert().success().stdout(
            predicate::str::contains("Chapitre 2.2").and(predicate::str::contains("usage : ")),
        );
    }
    for name in ["prime-server", "prime-udp-server"] {
        client(name).arg("extra").assert().code(2);
        client(name).args(["--bind", "nulle-part"]).assert().code(2);
    }
}

#[test]
fn a_busy_port_is_one_french_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    client("prime-server")
        .args(["--port", &port])
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "erreur : le port {port} est déjà utilisé (Address already in use) ; arrêtez l'autre serveur ou choisissez --port\n"
        ));
}

#[test]
fn python_int_spellings_end_to_end() {
    let server = server(&[]);
    let mut conn = LineConn::open(server.addr);
    let ten_pow_30 = format!("1{}", "0".repeat(30));
    let cases: [(&str, &str); 14] = [
        ("+17", "T"),
        (" 17 ", "T"),
        ("\t17\t", "T"),
        ("0_0_1_7", "T"),
        ("1_", "E"),
        ("_1", "E"),
        ("1__0", "E"),
        ("١٧", "E"), // Arabic-Indic digits: Python takes them, the contract does not
        (&ten_pow_30, "E"),
        ("0", "F"),
        ("1", "F"),
        ("-0", "F"),
        ("-17", "F"),
        ("+-1", "E"),
    ];
    let mut input = String::new();
    let mut expected = String::new();
    for (text, answer) in &cases {
        input.push_str(text);
        input.push('\n');
        expected.push_str(answer);
        expected.push('\n');
    }
    input.push_str(&format!("-{ten_pow_30}\n"));
    expected.push_str("F\n");
    conn.send(input.as_bytes());
    assert_eq!(conn.answers(cases.len() + 1), expected);
    server.wait_for_log(&format!("'{ten_pow_30}' est trop grand"));
    server.wait_for_log("'١٧' n'est pas un entier");
}

#[test]
fn clients_try_every_address_of_localhost() {
    // The servers listen on 127.0.0.1 only; `localhost` may give ::1 first.
    let server = server(&[]);
    client("prime-client")
        .args(["--host", "localhost", "--port", &server.port_arg(), "17"])
        .assert()
        .success()
        .stdout("Envoi d'un message 17\n\tLe nombre est bien un nombre premier\n");

    let udp = Server::start("prime-udp-server", &["--port", "0"]);
    client("prime-udp-client")
        .args(["--host", "localhost", "--port", &udp.port_arg(), "4"])
        .assert()
        .success()
        .stdout("Envoi d'un message 4\n\tLe nombre n'est pas un nombre premier\n");
}

#[test]
fn prime_client_stays_in_step_after_an_answer_too_long() {
    // A foreign server whose first answer is 3000 bytes long: the client
    // shows its start, skips the rest of that line, and reads the next
    // answer as the answer to the next number.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let odd = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut writer = conn;
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut long = vec![b'x'; 3000];
        long.push(b'\n');
        writer.write_all(&long).unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        writer.write_all(b"T\n").unwrap();
        line.clear();
        let _ = reader.read_line(&mut line);
    });
    let output = client("prime-client")
        .args(["--port", &port, "1", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.starts_with(
            "Envoi d'un message 1\n\tLa donnée reçue n'est pas comprise : b'xxxxxxxxxx"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("Envoi d'un message 2\n\tLe nombre est bien un nombre premier\n"),
        "{stdout}"
    );
    odd.join().unwrap();
}
