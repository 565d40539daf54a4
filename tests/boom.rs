//! `boom-server` (seed `bite-sized-twisted-triforce.txt`, "Toward a better
//! boom") played over raw sockets, as telnet or nc would: the negotiation,
//! two players, a move one makes and the other sees, a bomb that burns a
//! tile after its fuse, a player who leaves; a player who floods and never
//! reads, who must slow nobody; a player who stops reading, and gets the
//! board of the moment once it reads again; the 27th player, refused.
//! No sleep: each step reads until the expected screen comes, bounded by
//! `WAIT`.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use util::{Server, WAIT, client};

/// `IAC WILL ECHO IAC WILL SUPPRESS-GO-AHEAD`: character mode, please.
const CHARACTER_MODE: [u8; 6] = [255, 251, 1, 255, 251, 3];
/// What Linux's telnet answers: `IAC DO ECHO IAC DO SUPPRESS-GO-AHEAD`.
const TELNET_ANSWER: [u8; 6] = [255, 253, 1, 255, 253, 3];
/// ANSI "home, clear screen": each screen starts with it.
const CLEAR: &str = "\x1b[H\x1b[2J";

/// One player's connection, and what it received not yet looked at.
struct Player {
    stream: TcpStream,
    received: Vec<u8>,
}

impl Player {
    fn join(server: &Server) -> Player {
        let stream = util::connect(server.loopback());
        Player {
            stream,
            received: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send keys");
    }

    /// Reads until `n` bytes came; returns them (and forgets them).
    fn first_bytes(&mut self, n: usize) -> Vec<u8> {
        while self.received.len() < n {
            self.read_some();
        }
        self.received.drain(..n).collect()
    }

    /// Reads screens until one satisfies `wanted`, and forgets the ones
    /// before it; fails after `WAIT`, showing the last screen seen.
    fn wait_screen(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            // Where each screen starts in what came (bytes: a read may end
            // in the middle of an `é`).
            let clear = CLEAR.as_bytes();
            let starts: Vec<usize> = (0..self.received.len())
                .filter(|&i| self.received[i..].starts_with(clear))
                .collect();
            for (k, &start) in starts.iter().enumerate() {
                let end = starts.get(k + 1).copied().unwrap_or(self.received.len());
                let screen = String::from_utf8_lossy(&self.received[start + clear.len()..end]);
                if wanted(&screen) {
                    let screen = screen.into_owned();
                    self.received.drain(..start);
                    return screen;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no screen with {what}; last one:\n{}",
                String::from_utf8_lossy(&self.received[starts.last().copied().unwrap_or(0)..])
            );
            // The screens before the last one did not match: forget them,
            // so that megabytes of them are not scanned again and again.
            if let Some(&last) = starts.last() {
                self.received.drain(..last);
            }
            self.read_some();
        }
    }

    fn read_some(&mut self) {
        let mut buf = vec![0u8; 256 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => panic!("the server closed the connection"),
            Ok(n) => self.received.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no screen within {WAIT:?}: {e}"),
        }
    }
}

/// Row `y` of a screen, as drawn: `| A . % … |`.
fn row(screen: &str, y: usize) -> &str {
    screen
        .lines()
        .nth(1 + y)
        .unwrap_or("")
        .trim_end_matches('\r')
}

#[test]
fn two_players_a_move_seen_by_the_other_and_a_bomb_that_burns_a_tile() {
    let server = Server::start("boom-server", &["--bind", "127.0.0.1", "--port", "0"]);
    assert_eq!(
        server.first_line,
        format!("en écoute sur 127.0.0.1:{}", server.port())
    );

    // A comes: the telnet offers first, then a screen.
    let mut a = Player::join(&server);
    assert_eq!(a.first_bytes(6), CHARACTER_MODE);
    a.send(&TELNET_ANSWER);
    let screen = a.wait_screen("A alone", |s| s.contains("joueurs : A (vous) en vie\r\n"));
    assert_eq!(row(&screen, 0), "| A . % % % % % % % % % |");
    assert!(screen.contains("touches : w haut, a gauche, s bas, d droite, e bombe"));

    // B comes, in the opposite corner; A sees B.
    let mut b = Player::join(&server);
    let screen = b.wait_screen("B", |s| s.contains("A en vie, B (vous) en vie"));
    assert_eq!(row(&screen, 10), "| % % % % % % % % % . B |");
    a.wait_screen("B on A's screen", |s| {
        s.contains("A (vous) en vie, B en vie")
    });

    // A moves right, the key cut from a telnet command: B sees it.
    a.send(&[255, 253]);
    a.send(&[24, b'd']);
    b.wait_screen("A moved", |s| row(s, 0) == "| . A % % % % % % % % % |");

    // A drops a bomb, then steps aside as nc would send it (keys, Enter).
    a.send(b"e\r\na\r\0s\n");
    let screen = b.wait_screen("the bomb", |s| row(s, 1) == "| A # % # % # % # % # % |");
    assert_eq!(row(&screen, 0), "| . o % % % % % % % % % |");

    // 2 s later it explodes: (2, 0) burns and is EMPTY once the fire is
    // out; A, out of reach, is alive.
    let screen = b.wait_screen("the tile burnt", |s| {
        row(s, 0) == "| . . . % % % % % % % % |"
    });
    assert!(screen.contains("A en vie, B (vous) en vie"), "{screen}");

    // B leaves: gone from A's board and legend.
    drop(b);
    let screen = a.wait_screen("B gone", |s| s.contains("joueurs : A (vous) en vie\r\n"));
    assert_eq!(row(&screen, 10), "| % % % % % % % % % . . |");
    server.wait_for_log("B part");
    assert!(server.log().contains("A arrive"), "{}", server.log());
}

#[test]
fn a_pawn_that_stays_on_its_bomb_dies_and_stays_dead() {
    let server = Server::start(
        "boom-server",
        &["--port", "0", "--width", "5", "--height", "5"],
    );
    assert_eq!(
        server.first_line,
        format!("en écoute sur 0.0.0.0:{}", server.port())
    );
    let mut a = Player::join(&server);
    a.send(b"e");
    let screen = a.wait_screen("A dead", |s| s.contains("A (vous) mort"));
    assert!(screen.contains("vous êtes mort"));
    a.send(b"d");
    let screen = a.wait_screen("the fire out", |s| row(s, 0) == "| a . % % % |");
    assert!(screen.contains("A (vous) mort"));
    server.wait_for_log("A est mort");
}

#[test]
fn a_player_who_floods_and_never_reads_slows_nobody() {
    let server = Server::start("boom-server", &["--bind", "127.0.0.1", "--port", "0"]);
    let mut a = Player::join(&server);
    a.wait_screen("A", |s| s.contains("A (vous) en vie"));
    let mut b = Player::join(&server);
    b.wait_screen("B", |s| s.contains("B (vous) en vie"));
    // C sends keys and telnet requests as fast as it can, and never reads
    // a byte of its screens nor of the answers.
    let mut c = util::connect(server.loopback());
    let flood = thread::spawn(move || {
        let keys = [b"dasw".repeat(4096), [255, 253, 24].repeat(4096)].concat();
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end && c.write_all(&keys).is_ok() {}
        c
    });
    // Meanwhile A plays, and B, who reads, sees every move.
    for _ in 0..10 {
        a.send(b"d");
        b.wait_screen("A on the right", |s| row(s, 0).starts_with("| . A"));
        a.send(b"a");
        b.wait_screen("A on the left", |s| row(s, 0).starts_with("| A ."));
    }
    let c = flood.join().expect("the flood");
    drop(c);
    server.wait_for_log("C part");
}

#[test]
fn a_player_who_stops_reading_gets_the_board_of_the_moment_once_it_reads_again() {
    let server = Server::start("boom-server", &["--bind", "127.0.0.1", "--port", "0"]);
    let mut a = Player::join(&server);
    a.wait_screen("A", |s| s.contains("A (vous) en vie"));
    let mut b = Player::join(&server);
    b.wait_screen("B", |s| s.contains("B (vous) en vie"));
    // B stops reading, and asks for telnet options as fast as it can:
    // each refusal the server owes it piles up in the server's queue.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = b.stream.try_clone().expect("a second handle");
    let flood = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let requests = [255, 253, 24].repeat(4096);
            while !stop.load(Ordering::Relaxed) && writer.write_all(&requests).is_ok() {}
        })
    };
    // A plays until the server has stopped sending B its screens.
    let deadline = Instant::now() + WAIT;
    while !server.log().contains("B ne lit plus ses écrans") {
        assert!(Instant::now() < deadline, "B never fell behind");
        a.send(b"d");
        a.wait_screen("A on the right", |s| row(s, 0).starts_with("| . A"));
        a.send(b"a");
        a.wait_screen("A on the left", |s| row(s, 0).starts_with("| A ."));
    }
    stop.store(true, Ordering::Relaxed);
    flood.join().expect("the flood");
    // A's last move: B, behind, is not sent that screen now...
    a.send(b"s");
    a.wait_screen("A down", |s| row(s, 1).starts_with("| A #"));
    // ... but as soon as it has read everything, with nothing changing on
    // the board any more.
    let screen = b.wait_screen("the board of the moment", |s| {
        row(s, 1).starts_with("| A #") && s.contains("touches : ")
    });
    assert_eq!(row(&screen, 0), "| . . % % % % % % % % % |");
    server.wait_for_log("B a rattrapé son retard : il reçoit l'écran du moment");
}

#[test]
fn one_player_too_many_is_refused_politely() {
    let server = Server::start("boom-server", &["--bind", "127.0.0.1", "--port", "0"]);
    let full = boom::game::MAX_PAWNS; // one per letter, A to Z
    let mut players: Vec<Player> = (0..full).map(|_| Player::join(&server)).collect();
    let last = char::from(b'A' + (full - 1) as u8);
    players[full - 1].wait_screen("the last letter", |s| {
        s.contains(&format!("{last} (vous) en vie"))
    });
    let mut late = util::connect(server.loopback());
    let mut said = Vec::new();
    late.read_to_end(&mut said)
        .expect("the refusal, then the end");
    let said = String::from_utf8_lossy(&said);
    assert!(
        said.contains(&format!("la partie est pleine ({full} joueurs au plus")),
        "{said}"
    );
    server.wait_for_log("refusé : la partie est pleine");
    // One leaves: the next one gets its letter.
    players.remove(3);
    server.wait_for_log("D part");
    let mut d = Player::join(&server);
    d.wait_screen("D again", |s| s.contains("D (vous) en vie"));
}

#[test]
fn help_names_the_seed_and_bad_options_are_refused() {
    client("boom-server")
        .arg("--help")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Toward a better boom")
                .and(predicate::str::contains("--width")),
        );
    for bad in [
        &["--width", "10"][..],
        &["--height", "41"],
        &["--width", "deux"],
        &["--port", "99999"],
        &["--colour"],
    ] {
        client("boom-server")
            .args(bad)
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                predicate::str::starts_with("erreur : ")
                    .and(predicate::str::contains("usage : boom-server")),
            );
    }
}

#[test]
fn a_busy_port_is_one_french_line_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    client("boom-server")
        .args(["--bind", "127.0.0.1", "--port", &port])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "erreur : le port {port} est déjà utilisé"
        )));
}
