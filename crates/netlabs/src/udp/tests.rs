//! The tests of the UDP answer budget, driven with hand-made instants:
//! loops of every kind cut in time, clients that repeat themselves never.

use super::*;

const SERVER: &str = "127.0.0.1:7777";

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn at(start: Instant, micros: u64) -> Instant {
    start + Duration::from_micros(micros)
}

/// A budget that takes no peer for a client of ours (no `/proc`).
fn budget() -> Peers {
    let mut peers = Peers::new(addr(SERVER));
    peers.is_client = |_, _| false;
    peers
}

/// What a loop with `other` did: `payloads` sent round and round, one
/// datagram every `every` µs, each answered with itself, for at most
/// `seconds`. Returns when the first went unanswered (µs), and the
/// notes about a loop.
fn run_loop(
    peers: &mut Peers,
    other: SocketAddr,
    payloads: &[Vec<u8>],
    every: u64,
    seconds: u64,
) -> (Option<u64>, Vec<String>) {
    let start = Instant::now();
    let mut notes = Vec::new();
    for i in 0..seconds * 1_000_000 / every {
        let p = &payloads[i as usize % payloads.len()];
        let v = peers.check(other, p, p, at(start, i * every));
        notes.extend(v.notes.into_iter().filter(|n| n.contains("boucle")));
        if !v.answer {
            return (Some(i * every), notes);
        }
    }
    (None, notes)
}

/// The time over which a loop is judged (two seconds): a loop is cut
/// at the first datagram of the quarter-second that follows it.
fn judged_over() -> Duration {
    LOOP_WINDOW * LOOP_WINDOWS as u32
}

/// True when a loop was cut where it must be: at the first datagram
/// after [`judged_over`], within a quarter-second.
fn cut_in_time(cut_micros: u64) -> bool {
    let cut = Duration::from_micros(cut_micros);
    (judged_over()..judged_over() + LOOP_WINDOW).contains(&cut)
}

fn distinct(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("boucle {i}\n").into_bytes())
        .collect()
}

#[test]
fn our_own_address_is_never_answered_and_said_once() {
    let start = Instant::now();
    let mut peers = budget();
    let first = peers.check(addr(SERVER), b"x", b"x", start);
    assert!(!first.answer);
    assert_eq!(first.notes.len(), 1);
    assert!(first.notes[0].contains("notre propre adresse 127.0.0.1:7777"));
    for i in 1..1000 {
        let v = peers.check(addr(SERVER), b"x", b"x", at(start, i));
        assert!(!v.answer && v.notes.is_empty());
    }
    // Another port of the same machine is another program.
    assert!(
        peers
            .check(addr("127.0.0.1:7778"), b"x", b"x", start)
            .answer
    );
}

#[test]
fn bound_to_every_address_a_loopback_or_mapped_source_on_our_port_is_us() {
    let start = Instant::now();
    let mut peers = Peers::new(addr("[::]:7777"));
    assert!(
        !peers
            .check(addr("127.0.0.1:7777"), b"x", b"x", start)
            .answer
    );
    assert!(!peers.check(addr("[::1]:7777"), b"x", b"x", start).answer);
    assert!(
        !peers
            .check(addr("[::ffff:127.0.0.2]:7777"), b"x", b"x", start)
            .answer
    );
    // 192.0.2.1 is a documentation address, never this machine's.
    assert!(
        peers
            .check(addr("192.0.2.1:7777"), b"x", b"x", start)
            .answer
    );
}

#[test]
fn a_loop_of_one_datagram_is_cut_within_seconds_and_logged_once() {
    let mut peers = budget();
    let other = addr("127.0.0.1:8808");
    // Another echo server answers each answer of ours: 60 000 a second.
    let (cut, notes) = run_loop(&mut peers, other, &distinct(1), 16, 30);
    let cut = cut.expect("the loop was never cut");
    assert!(
        cut_in_time(cut),
        "cut after {cut} µs, not after two seconds"
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("boucle d'écho avec 127.0.0.1:8808 : nos réponses nous reviennent"),
        "{notes:?}"
    );
    // Silent for a while, without a word…
    let start = Instant::now();
    let v = peers.check(other, b"x", b"x", start + Duration::from_secs(3));
    assert!(!v.answer && v.notes.iter().all(|n| !n.contains("boucle")));
    // …then answered again.
    let later = start + Duration::from_secs(3) + SILENCE;
    assert!(peers.check(other, b"x", b"x", later).answer);
}

#[test]
fn a_loop_of_many_distinct_datagrams_is_cut_as_soon() {
    // A forged burst of 17, 100, 1000 datagrams: each comes back long
    // after it was sent, behind all the others.
    for n in [17, 100, 1000] {
        let mut peers = budget();
        let other = addr("127.0.0.1:8808");
        let (cut, notes) = run_loop(&mut peers, other, &distinct(n), 40, 30);
        let cut = cut.unwrap_or_else(|| panic!("a loop of {n} was never cut"));
        assert!(cut_in_time(cut), "a loop of {n} cut after {cut} µs");
        assert_eq!(notes.len(), 1, "{notes:?}");
    }
}

#[test]
fn a_slow_loop_on_a_busy_machine_is_cut_too() {
    // 6 250 a second: above LOOP_RATE, but an eighth of a fast loop.
    let mut peers = budget();
    let (cut, _) = run_loop(&mut peers, addr("127.0.0.1:9000"), &distinct(3), 160, 30);
    assert!(cut.is_some_and(cut_in_time), "{cut:?}");
}

#[test]
fn prime_answers_coming_back_are_a_loop_too() {
    // prime-udp-server answers `E\n` to a word, and to `E\n`: after the
    // first datagram, each is our last answer coming back.
    let start = Instant::now();
    let mut peers = budget();
    let other = addr("127.0.0.1:9000");
    assert!(peers.check(other, b"boucle\n", b"E\n", start).answer);
    // 50 000 a second, until cut (no later than a second past it).
    let every = 20;
    let at_most = (judged_over() + 4 * LOOP_WINDOW).as_micros() as u64 / every;
    let cut = (1..at_most)
        .find(|i| {
            !peers
                .check(other, b"E\n", b"E\n", at(start, i * every))
                .answer
        })
        .expect("the loop was never cut");
    assert!(cut_in_time(cut * every), "cut after {} µs", cut * every);
}

#[test]
fn clients_that_repeat_themselves_are_answered_every_time() {
    let mut peers = budget();
    let start = Instant::now();
    let mut check = |who: &str, payload: &[u8], micros: u64| {
        let v = peers.check(addr(who), payload, payload, at(start, micros));
        assert!(v.answer, "{who}: unanswered at {micros} µs");
    };
    // Each goes on longer than anything the budget remembers (the two
    // seconds a loop is judged over, the silence of a peer cut).
    let long = SILENCE + judged_over();
    let (per_second, seconds) = (1_000_000, long.as_secs());
    // A heartbeat, 100 a second.
    for i in 0..100 * seconds {
        check("127.0.0.1:40001", b"vivant", i * per_second / 100);
    }
    // A ping, a thousand a second.
    for i in 0..1_000 * seconds {
        check("127.0.0.1:40002", b"ping", i * per_second / 1_000);
    }
    // Just below loop speed: nine tenths of LOOP_RATE.
    let rate = u64::from(LOOP_RATE) * 9 / 10;
    for i in 0..rate * seconds {
        check("127.0.0.1:40003", b"ping", i * per_second / rate);
    }
    // Bursts of 2000 identical datagrams awaited one by one, as fast as
    // the machine goes (60 000 a second), one every second.
    for burst in 0..seconds {
        for i in 0..2_000 {
            check("127.0.0.1:40004", b"bonjour\n", burst * per_second + i * 16);
        }
    }
    // A person typing the same line, five times a second, for an hour.
    for i in 0..5 * 3_600 {
        check("127.0.0.1:40005", b"hello\n", i * per_second / 5);
    }
}

#[test]
fn a_fast_client_is_answered_thousands_of_times_a_second() {
    let start = Instant::now();
    let mut peers = budget();
    let client = addr("127.0.0.1:40000");
    // 50 000 distinct datagrams a second for 4 seconds: none comes
    // back, so no loop.
    for i in 0..200_000u64 {
        let n = i.to_string();
        let v = peers.check(client, n.as_bytes(), n.as_bytes(), at(start, i * 20));
        assert!(v.answer, "datagram {i} unanswered");
    }
}

/// Linux only: elsewhere no `/proc/net/udp` tells a connected socket.
#[test]
#[cfg(target_os = "linux")]
fn a_client_connected_to_us_is_never_taken_for_a_loop() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = server.local_addr().unwrap();
    // yes bonjour | echo-udp-client: a connected socket, as fast as we answer.
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.connect(local).unwrap();
    let mut peers = Peers::new(local);
    let start = Instant::now();
    let from = client.local_addr().unwrap();
    for i in 0..200_000u64 {
        let v = peers.check(from, b"bonjour\n", b"bonjour\n", at(start, i * 25));
        assert!(v.answer, "datagram {i} unanswered");
    }
    // The same from a socket that is not connected to us: a loop.
    let unconnected = UdpSocket::bind("127.0.0.1:0").unwrap();
    let from = unconnected.local_addr().unwrap();
    let start = Instant::now();
    let cut = (0..200_000u64)
        .find(|i| !peers.check(from, b"x", b"x", at(start, i * 25)).answer)
        .expect("no loop found");
    assert!(cut_in_time(cut * 25), "cut after {} µs", cut * 25);
}

#[test]
fn a_flood_beyond_the_budget_is_cut_and_said() {
    let start = Instant::now();
    let mut peers = budget();
    let flood = addr("127.0.0.1:40000");
    let mut notes = Vec::new();
    let mut answered = 0u64;
    // A million distinct datagrams a second, for 0.3 s: the bucket
    // (ANSWER_BURST, refilled at ANSWER_RATE) empties after `expected`
    // answers, then the flood is silenced.
    let flood_rate = 1_000_000.0;
    let expected = ANSWER_BURST / (1.0 - ANSWER_RATE / flood_rate);
    assert!(expected < 300_000.0, "the flood must outlast the bucket");
    for i in 0..300_000u64 {
        let n = i.to_string();
        let v = peers.check(flood, n.as_bytes(), b"x", at(start, i));
        notes.extend(v.notes.into_iter().filter(|n| n.contains("par seconde")));
        answered += v.answer as u64;
    }
    assert!(
        (answered as f64 - expected).abs() <= 2.0,
        "{answered} answered, not {expected:.0}"
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
}

#[test]
fn the_log_is_bounded_and_says_what_it_did_not_show() {
    let start = Instant::now();
    let mut peers = budget();
    let client = addr("127.0.0.1:40000");
    let mut shown = 0;
    // 10 000 datagrams in one second: the burst, then a second's rate.
    for i in 0..10_000u64 {
        let n = i.to_string();
        shown += peers
            .check(client, n.as_bytes(), n.as_bytes(), at(start, i * 100))
            .show as u32;
    }
    let most = (LOG_BURST + LOG_RATE) as u32;
    assert!(
        (most - 1..=most).contains(&shown),
        "{shown} lines for 10 000 datagrams, not {most}"
    );
    // A while later, the next one is shown, after the count.
    let v = peers.check(client, b"x", b"x", start + Duration::from_secs(5));
    assert!(v.show);
    assert_eq!(v.notes.len(), 1);
    assert!(
        v.notes[0].contains("datagrammes non détaillés"),
        "{:?}",
        v.notes
    );
}

#[test]
fn the_peer_table_stays_bounded() {
    let start = Instant::now();
    let mut peers = budget();
    for i in 0..3 * MAX_PEERS as u64 {
        let from = SocketAddr::new("127.0.0.2".parse().unwrap(), 1024 + i as u16);
        assert!(peers.check(from, b"x", b"x", at(start, i)).answer);
    }
    assert!(peers.len() <= MAX_PEERS, "{} peers", peers.len());
}
