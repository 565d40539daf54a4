//! Chapitre 2.2: `oneshot`, the chapter's woof — HTTP/1.0 spoken by hand,
//! then with curl and wget; only whole downloads count: every byte
//! acknowledged by the client, and no reset after the server's close.

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;

use predicates::prelude::*;
use util::{PATTERN_SEED, Server, TempDir, WAIT, client, pattern};

fn start(file: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    Server::start("oneshot", &args)
}

/// Sends `request` on a new connection and returns the whole response.
fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    response
}

/// Splits a response into its head (as text) and body.
fn split(response: &[u8]) -> (String, &[u8]) {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head ended by an empty line");
    (
        String::from_utf8_lossy(&response[..end + 4]).into_owned(),
        &response[end + 4..],
    )
}

#[test]
fn head_post_and_junk_do_not_count_one_get_does() {
    let dir = TempDir::new("basic");
    let file = dir.filled("notes de cours.pdf", 100_000);
    let mut server = start(&file, &[]);
    assert!(
        server.first_line.starts_with("en écoute sur [::]:"),
        "{}",
        server.first_line
    );
    server.wait_for_log("Donnez cette adresse : http://");
    server.wait_for_log(&format!(":{}/notes%20de%20cours.pdf\n", server.port()));
    let addr = server.loopback();

    let (head, body) = {
        let response = exchange(addr, b"HEAD / HTTP/1.0\r\n\r\n");
        let (head, body) = split(&response);
        (head, body.to_vec())
    };
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Length: 100000\r\n"), "{head}");
    assert!(
        head.contains("\r\nContent-Disposition: attachment; filename=\"notes de cours.pdf\"\r\n")
    );
    assert!(body.is_empty());

    let response = exchange(addr, b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    let (head, _) = split(&response);
    assert!(
        head.starts_with("HTTP/1.0 405 Method Not Allowed\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nAllow: GET, HEAD\r\n"));

    for junk in [
        &b"hello\r\n\r\n"[..],
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ] {
        let response = exchange(addr, junk);
        assert!(response.starts_with(b"HTTP/1.0 400 Bad Request\r\n"));
    }
    // A client that connects and leaves without a word.
    drop(TcpStream::connect(addr).unwrap());
    assert!(server.is_running(), "nothing so far was a download");

    let response = exchange(addr, b"GET /anything?x=1 HTTP/1.0\r\nHost: x\r\n\r\n");
    let (head, body) = split(&response);
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"));
    assert!(
        body == pattern(100_000, PATTERN_SEED),
        "the body is the file"
    );
    assert!(server.wait_exit().success());
    server.wait_for_log("téléchargement réussi par [::1]:");
    server.wait_for_log("(1/1)");
    server.wait_for_log("1 téléchargement réussi : fin du serveur");
}

#[test]
fn an_abandoned_download_does_not_count() {
    let dir = TempDir::new("abandon");
    let file = dir.filled("gros.bin", 8 * 1024 * 1024);
    let mut server = start(&file, &[]);
    let addr = server.loopback();

    // Read the head and a little of the body, then close with the rest unread.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut some = [0u8; 4096];
    stream.read_exact(&mut some).unwrap();
    drop(stream);
    server.wait_for_log("téléchargement abandonné par");
    assert!(server.is_running());

    let response = exchange(addr, b"GET / HTTP/1.0\r\n\r\n");
    let (_, body) = split(&response);
    assert_eq!(body.len(), 8 * 1024 * 1024);
    assert!(server.wait_exit().success());
}

#[test]
fn count_allows_several_downloads_and_a_second_client_waits_its_turn() {
    let dir = TempDir::new("count");
    let file = dir.filled("f.bin", 4 * 1024 * 1024);
    let mut server = start(&file, &["--count", "2"]);
    let addr = server.loopback();

    // A first download starts; the client does not read yet.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    server.wait_for_log("envoi de f.bin");

    // Meanwhile an idle connection, and a second full download.
    let idle = TcpStream::connect(addr).unwrap();
    let response = exchange(addr, b"GET /f.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(split(&response).1.len(), 4 * 1024 * 1024);
    server.wait_for_log("(1/2)");

    // Both allowed downloads are taken: a third client is told to wait.
    let response = exchange(addr, b"GET / HTTP/1.0\r\n\r\n");
    assert!(response.starts_with(b"HTTP/1.0 503 Service Unavailable\r\n"));

    // The slow one reads at last, and closes: second success, the server
    // ends.
    let mut all = Vec::new();
    slow.read_to_end(&mut all).unwrap();
    assert_eq!(split(&all).1.len(), 4 * 1024 * 1024);
    drop(slow);
    assert!(server.wait_exit().success());
    drop(idle);
    server.wait_for_log("(2/2)");
}

/// Sends a GET on a new connection, reads nothing, and closes after
/// `wait`: its system resets the connection, since bytes are unread.
fn never_read(addr: SocketAddr, wait: std::time::Duration) {
    let stream = TcpStream::connect(addr).unwrap();
    (&stream).write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    std::thread::sleep(wait);
}

#[test]
fn a_client_that_never_reads_a_small_file_and_aborts_later_does_not_count() {
    // 10 KiB fit in the client's buffers: acknowledged at once, read or
    // not. It gives up four seconds later, long after our close.
    let dir = TempDir::new("neverread");
    let file = dir.filled("petit.pdf", 10 * 1024);
    let mut server = start(&file, &[]);
    let addr = server.loopback();
    never_read(addr, std::time::Duration::from_secs(4));
    server.wait_for_log("téléchargement abandonné par");
    server.wait_for_log("sans tout lire (reset après notre fermeture) ; ne compte pas");
    assert!(server.is_running(), "{}", server.log());
    assert!(!server.log().contains("téléchargement réussi"));

    // One that had closed its sending side and leaves at once, unread.
    let stream = TcpStream::connect(addr).unwrap();
    (&stream).write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    server.wait_for_log("envoi de petit.pdf");
    wait_arrived_unread(&stream, 10 * 1024);
    drop(stream);
    server.wait_for_log("avait fini d'envoyer, a coupé la connexion (reset) sans tout lire");
    assert!(server.is_running(), "{}", server.log());

    let response = exchange(addr, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(split(&response).1.len(), 10 * 1024);
    assert!(server.wait_exit().success());
    server.wait_for_log("(1/1)");
}

/// Waits until the whole response, a head then `body` bytes, is in
/// `stream`'s buffer, unread, and acknowledged: the server's socket (seen
/// in `/proc/net/tcp` where there is one) has no byte left unacknowledged.
fn wait_arrived_unread(stream: &TcpStream, body: usize) {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = vec![0u8; body + 4096];
    let (ours, theirs) = (stream.local_addr().unwrap(), stream.peer_addr().unwrap());
    util::wait_until(
        || {
            let n = stream.peek(&mut buf).unwrap_or(0);
            let arrived = buf[..n]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .is_some_and(|end| n - (end + 4) == body);
            arrived && unacknowledged(theirs.port(), ours.port()).is_none_or(|n| n == 0)
        },
        || format!("the response of {body} bytes never arrived whole and acknowledged"),
    );
}

/// The bytes that the socket from local port `from` to port `to` sent and
/// has not seen acknowledged: the `tx_queue` of its `/proc/net/tcp` line.
/// `None` without `/proc`, or with no such socket.
fn unacknowledged(from: u16, to: u16) -> Option<u64> {
    let port = |field: &str| {
        let hex = field.rsplit(':').next()?;
        u16::from_str_radix(hex, 16).ok()
    };
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|file| {
        let table = std::fs::read_to_string(file).ok()?;
        table.lines().skip(1).find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if port(fields.get(1)?)? != from || port(fields.get(2)?)? != to {
                return None;
            }
            let tx = fields.get(4)?.split(':').next()?;
            u64::from_str_radix(tx, 16).ok()
        })
    })
}

#[test]
fn a_client_that_reads_every_byte_then_resets_counts() {
    // It reads the head and Content-Length bytes, then cuts the
    // connection with a reset (SO_LINGER 0), as a browser may.
    let script = r#"
import socket, struct, sys
s = socket.create_connection(("::1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(65536)
head, body = data.split(b"\r\n\r\n", 1)
length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
while len(body) < length:
    body += s.recv(65536)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print(len(body))
"#;
    if !util::have("python3", "un client qui coupe la connexion par un reset") {
        return;
    }
    for size in [10, 10 * 1024, 1024 * 1024] {
        let dir = TempDir::new(&format!("readreset{size}"));
        let file = dir.filled("cours.pdf", size);
        let mut server = start(&file, &[]);
        let out = Command::new("python3")
            .args(["-c", script, &server.port_arg()])
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            size.to_string()
        );
        assert!(server.wait_exit().success(), "{}", server.log());
        server.wait_for_log("puis le client a coupé la connexion (reset) (1/1)");
    }
}

#[test]
fn curl_downloads_the_file_and_curl_i_does_not_count() {
    if !util::have("curl", "téléchargement avec curl") {
        return;
    }
    let dir = TempDir::new("curl");
    let file = dir.filled("rapport.txt", 300_000);
    let mut server = start(&file, &[]);
    let url = format!("http://localhost:{}/", server.port());
    let head = Command::new("curl").args(["-sSI", &url]).output().unwrap();
    assert!(String::from_utf8_lossy(&head.stdout).contains("filename=\"rapport.txt\""));
    assert!(server.is_running());

    let out = dir.0.join("reçu.txt");
    let status = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-o", out.to_str().unwrap(), &url])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read(&out).unwrap() == pattern(300_000, PATTERN_SEED));
    assert!(server.wait_exit().success());
}

#[test]
fn wget_downloads_the_file() {
    if !util::have("wget", "téléchargement avec wget") {
        return;
    }
    let dir = TempDir::new("wget");
    let file = dir.filled("archive.tar", 1_000_000);
    let mut server = start(&file, &[]);
    let out = dir.0.join("copie.tar");
    let status = Command::new("wget")
        .args(["-q", "-T", "20", "-t", "1", "-O", out.to_str().unwrap()])
        .arg(format!("http://127.0.0.1:{}/archive.tar", server.port()))
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read(&out).unwrap() == pattern(1_000_000, PATTERN_SEED));
    assert!(server.wait_exit().success());
}

#[test]
fn a_half_closed_request_is_served() {
    // `printf 'GET / HTTP/1.0\r\n\r\n' | nc -N host port` closes its
    // sending side after the request.
    let dir = TempDir::new("halfclose");
    let file = dir.filled("petit.txt", 10);
    let mut server = start(&file, &[]);
    let mut stream = TcpStream::connect(server.loopback()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(b"GET / HTTP/1.0\n\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    assert_eq!(split(&response).1, &pattern(10, PATTERN_SEED)[..]);
    assert!(server.wait_exit().success());
}

#[test]
fn a_missing_file_or_a_bad_option() {
    client("oneshot")
        .args(["--port", "0", "/nulle/part/fichier.pdf"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("erreur : fichier introuvable : /nulle/part/fichier.pdf (No such file or directory) ; vérifiez le chemin\n");
    let dir = TempDir::new("options");
    client("oneshot")
        .args(["--port", "0", dir.0.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("n'est pas un fichier ordinaire"));
    let file = dir.filled("x", 1);
    let file = file.to_str().unwrap();
    for bad in [
        &[][..],
        &["--bogus", file],
        &["--port", "abc", file],
        &["--count", "0", file],
        &["--count", "-1", file],
        &[file, file],
    ] {
        client("oneshot").args(bad).assert().code(2).stderr(
            predicate::str::starts_with("erreur : ").and(predicate::str::contains("usage : ")),
        );
    }
    client("oneshot")
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Chapitre 2.2").and(predicate::str::contains("woof")));
    // A Latin-1 file name is not UTF-8: one French line and the usage, no panic.
    use std::os::unix::ffi::OsStrExt;
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    client("oneshot").arg(latin1).assert().code(2).stderr(
        predicate::str::starts_with("erreur : ")
            .and(predicate::str::contains("UTF-8"))
            .and(predicate::str::contains("usage : "))
            .and(predicate::str::contains("panicked").not()),
    );
}

#[test]
fn a_browser_like_request_and_an_empty_file() {
    // HTTP/1.1, keep-alive and Range, as a browser may send: the answer is
    // the whole file in HTTP/1.0, and the connection is closed after it.
    let dir = TempDir::new("browser");
    let file = dir.filled("cours.pdf", 50_000);
    let mut server = start(&file, &[]);
    let response = exchange(
        server.loopback(),
        b"GET /cours.pdf HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\
          Range: bytes=0-99\r\nAccept-Encoding: gzip, deflate\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
    );
    let (head, body) = split(&response);
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Length: 50000\r\n"), "{head}");
    assert_eq!(body, &pattern(50_000, PATTERN_SEED)[..]);
    assert!(server.wait_exit().success());

    let empty = dir.0.join("vide.txt");
    std::fs::write(&empty, b"").unwrap();
    let mut server = start(&empty, &[]);
    let response = exchange(server.loopback(), b"GET / HTTP/1.0\r\n\r\n");
    let (head, body) = split(&response);
    assert!(head.contains("\r\nContent-Length: 0\r\n"), "{head}");
    assert!(body.is_empty());
    assert!(server.wait_exit().success());
    server.wait_for_log(": aucun octet (1/1)");
}

#[test]
fn odd_file_names_keep_the_header_valid() {
    let dir = TempDir::new("names");
    let file = dir.filled("mon \"rapport\" été\\x.txt", 100);
    let server = start(&file, &["--count", "3"]);
    let response = exchange(server.loopback(), b"HEAD / HTTP/1.0\r\n\r\n");
    let (head, _) = split(&response);
    let disposition = head
        .lines()
        .find(|l| l.starts_with("Content-Disposition: "))
        .expect("a Content-Disposition line");
    assert_eq!(
        disposition,
        "Content-Disposition: attachment; filename=\"mon _rapport_ _t__x.txt\"; \
         filename*=UTF-8''mon%20%22rapport%22%20%C3%A9t%C3%A9%5Cx.txt"
    );
    server.wait_for_log("Donnez cette adresse : http://");
    server.wait_for_log("/mon%20%22rapport%22%20%C3%A9t%C3%A9%5Cx.txt\n");

    let url = format!("http://127.0.0.1:{}/x", server.port());
    if util::have("curl", "curl -O -J") {
        // curl -J takes `filename=`, and stops at its first `"`.
        let into = dir.0.join("curl");
        std::fs::create_dir(&into).unwrap();
        let status = Command::new("curl")
            .args(["-sS", "--max-time", "20", "-O", "-J", &url])
            .current_dir(&into)
            .status()
            .unwrap();
        assert!(status.success());
        let got = std::fs::read(into.join("mon _rapport_ _t__x.txt")).unwrap();
        assert_eq!(got, pattern(100, PATTERN_SEED));
    }
    if util::have("wget", "wget --content-disposition") {
        // wget takes the exact name from `filename*`.
        let into = dir.0.join("wget");
        std::fs::create_dir(&into).unwrap();
        let status = Command::new("wget")
            .args(["-q", "-T", "20", "-t", "1", "--content-disposition", &url])
            .current_dir(&into)
            .status()
            .unwrap();
        assert!(status.success());
        let got = std::fs::read(into.join("mon \"rapport\" été\\x.txt")).unwrap();
        assert_eq!(got, pattern(100, PATTERN_SEED));
    }
}

#[test]
fn a_named_pipe_is_refused_at_once() {
    if !util::have("mkfifo", "tube nommé") {
        return;
    }
    let dir = TempDir::new("fifo");
    let fifo = dir.0.join("tube");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Opening a pipe would wait for a writer: the kind is checked first.
    client("oneshot")
        .args(["--port", "0", fifo.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("n'est pas un fichier ordinaire"));
}

#[test]
fn a_file_gone_after_start_up_gets_404_and_does_not_count() {
    let dir = TempDir::new("gone");
    let file = dir.filled("rapport.txt", 10);
    let mut server = start(&file, &[]);
    let addr = server.loopback();
    std::fs::remove_file(&file).unwrap();

    for request in [&b"HEAD / HTTP/1.0\r\n\r\n"[..], b"GET / HTTP/1.0\r\n\r\n"] {
        let response = exchange(addr, request);
        let (head, _) = split(&response);
        assert!(head.starts_with("HTTP/1.0 404 Not Found\r\n"), "{head}");
    }
    server.wait_for_log("rapport.txt illisible");
    assert!(server.is_running(), "a 404 is not a download");

    // The file comes back: it is served again.
    std::fs::write(&file, b"de retour\n").unwrap();
    let response = exchange(addr, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(split(&response).1, b"de retour\n");
    assert!(server.wait_exit().success());
}

#[test]
fn a_file_replaced_by_a_named_pipe_gets_404_without_hanging() {
    if !util::have("mkfifo", "tube nommé") {
        return;
    }
    let dir = TempDir::new("fifo-later");
    let file = dir.filled("rapport.txt", 10);
    let mut server = start(&file, &[]);
    std::fs::remove_file(&file).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&file)
            .status()
            .unwrap()
            .success()
    );
    // Opening the pipe would block this client's thread for ever; the
    // answer must come at once (exchange's reads are bounded by WAIT).
    let started = std::time::Instant::now();
    let response = exchange(server.loopback(), b"GET / HTTP/1.0\r\n\r\n");
    assert!(started.elapsed() < WAIT);
    let (head, _) = split(&response);
    assert!(head.starts_with("HTTP/1.0 404 Not Found\r\n"), "{head}");
    server.wait_for_log("n'est plus un fichier ordinaire");
    assert!(server.is_running(), "a 404 is not a download");
}

/// A client that sends its request, closes its sending side at once, and
/// closes the connection 0.3 s later having read nothing.
fn walk_away(addr: SocketAddr) {
    let stream = TcpStream::connect(addr).unwrap();
    (&stream).write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
}

#[test]
fn a_client_that_half_closes_and_walks_away_does_not_count() {
    // Three sizes, three servers side by side (each client waits 0.3 s).
    std::thread::scope(|scope| {
        for size in [10_000, 100_000, 1_000_000] {
            scope.spawn(move || walk_away_from(size));
        }
    });
}

/// A hundred clients walk away from a server of a `size`-byte file: none
/// counts, and a real download still does.
fn walk_away_from(size: usize) {
    let dir = TempDir::new(&format!("walkaway{size}"));
    let file = dir.filled("cours.pdf", size);
    let mut server = start(&file, &["--count", "1000"]);
    let addr = server.loopback();
    // Rounds of clients at once.
    let (rounds, at_once) = (10, 10);
    for _ in 0..rounds {
        let round: Vec<_> = (0..at_once)
            .map(|_| std::thread::spawn(move || walk_away(addr)))
            .collect();
        for client in round {
            client.join().unwrap();
        }
    }
    // Every one of them is judged, none counted.
    util::wait_until(
        || {
            let log = server.log();
            assert!(
                !log.contains("téléchargement réussi"),
                "{size} bytes: an unread download was counted:\n{log}"
            );
            log.matches("ne compte pas").count() >= rounds * at_once
        },
        || format!("not every walk-away judged:\n{}", server.log()),
    );
    assert!(server.is_running());
    // A real download still counts.
    let response = exchange(addr, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(split(&response).1.len(), size);
    server.wait_for_log("(1/1000)");
}

#[test]
fn a_client_that_never_reads_and_trickles_bytes_cannot_hold_the_server() {
    // It sends its request, never reads, and sends a byte every 1.5 s:
    // the connection's deadline ends it, and the server ends as it should.
    let dir = TempDir::new("trickle");
    let file = dir.filled("petit.txt", 10);
    let mut server = start(&file, &[]);
    let stream = TcpStream::connect(server.loopback()).unwrap();
    (&stream).write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickle = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if (&stream).write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1500));
            }
        })
    };
    let status = server.wait_exit();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    trickle.join().unwrap();
    assert!(status.success());
}
