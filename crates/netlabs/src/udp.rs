//! Keeping a UDP server that answers every datagram from being turned into
//! a weapon: the classic echo loop.
//!
//! UDP has no connection, so the source address of a datagram is whatever
//! the sender wrote in it. Send one datagram to echo server A with the
//! source address of echo server B (or of A itself), and A answers B, B
//! answers A, A answers B… for ever: each burns a core and writes hundreds
//! of thousands of log lines a second. (The same loop with `chargen` and
//! `echo` is why those old services are off everywhere.)
//!
//! [`Peers`] is the answer budget a UDP server consults before each
//! `sendto`:
//!
//! - it never answers its own address and port (a loop on itself);
//! - it sees a loop: the datagrams a peer sends are our own recent answers
//!   coming back, one after another without a pause, ten thousand times
//!   and for a second at least — no person typing does that;
//! - it caps the answers per peer per second (a token bucket) far above
//!   what a real client sends, thousands a second;
//! - a peer caught looping or flooding gets no answer for a while, and
//!   that is logged once;
//! - the details of each datagram are logged within a budget too (a
//!   hundred lines at once, then ten a second), so that the log stays
//!   readable and bounded, with a count of what was not shown.
//!
//! Everything takes the current [`Instant`] as an argument, so that the
//! tests below drive it with hand-made instants, no real time.
//!
//! ```text
//! let verdict = peers.check(from, datagram, &reply, Instant::now());
//! for note in &verdict.notes { log!("{note}") }
//! if verdict.show { log!("datagramme de {from}…") }
//! if verdict.answer { socket.send_to(&reply, from) }
//! ```

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::net::canonical;

/// Answers a peer may get per second, sustained: more than a client in a
/// tight loop gets on the loopback (about 60 000 a second, measured), ten
/// thousand times what a person types. Loops are found by their repeats
/// below; this cap is for the floods that repeat nothing.
const ANSWER_RATE: f64 = 100_000.0;

/// Answers a peer may get at once, above the rate: a client may send a
/// second's worth in one burst.
const ANSWER_BURST: f64 = 100_000.0;

/// A loop is this many datagrams in a row that are our own answers coming
/// back (a test client may well send a few thousand identical ones)…
const LOOP_REPEATS: u32 = 10_000;

/// …over at least this long (a quick burst of identical datagrams from a
/// test client is not a loop)…
const LOOP_SPAN: Duration = Duration::from_secs(1);

/// …with no pause longer than this between two of them.
const LOOP_GAP: Duration = Duration::from_millis(100);

/// How many of our last answers to a peer we remember (their hashes):
/// several loops started at once interleave their datagrams.
const REMEMBERED: usize = 16;

/// How long a peer caught looping or flooding gets no answer: the loop is
/// dead as soon as one side stops answering.
const SILENCE: Duration = Duration::from_secs(10);

/// The most peers we remember: forged sources must not grow our memory.
const MAX_PEERS: usize = 4096;

/// Datagram details logged at once, then per second, for all peers
/// together: a person typing sees every line; a flood is summarised.
const LOG_BURST: f64 = 100.0;
const LOG_RATE: f64 = 10.0;

/// What to do with one datagram.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Send the answer.
    pub answer: bool,
    /// Log this datagram's details.
    pub show: bool,
    /// Lines to log first: a loop found, datagrams not shown.
    pub notes: Vec<String>,
}

/// What we remember of one peer.
struct Peer {
    /// Its address is our own (then it is never answered).
    is_us: bool,
    /// Hashes of our last answers to it, the newest at `next - 1`.
    answers: [Option<u64>; REMEMBERED],
    next: usize,
    /// The current run of our answers coming back: when it began, how
    /// many, and when the last one came.
    run_start: Instant,
    run_length: u32,
    last_seen: Instant,
    /// Token bucket: answers it may still get, refilled at [`ANSWER_RATE`].
    tokens: f64,
    refilled: Instant,
    /// No answer before this instant.
    silent_until: Option<Instant>,
}

/// The answer budget of one UDP server: see the module's documentation.
pub struct Peers {
    local: SocketAddr,
    peers: HashMap<SocketAddr, Peer>,
    log_tokens: f64,
    log_refilled: Option<Instant>,
    not_shown: u64,
}

impl Peers {
    /// The budget of a server whose socket is bound to `local`.
    pub fn new(local: SocketAddr) -> Peers {
        Peers {
            local: canonical(local),
            peers: HashMap::new(),
            log_tokens: LOG_BURST,
            log_refilled: None,
            not_shown: 0,
        }
    }

    /// The budget of a server on `socket`, as bound by
    /// [`bind_udp`](crate::net::bind_udp).
    pub fn for_socket(socket: &UdpSocket) -> Peers {
        let local = socket
            .local_addr()
            .unwrap_or_else(|e| crate::fail!("adresse locale inconnue ({})", crate::Why(&e)));
        Peers::new(local)
    }

    /// Decides about `datagram`, received from `from` at `now`, whose
    /// answer would be `reply`; when the verdict says answer, the caller
    /// sends `reply`, and this budget counts it as sent.
    pub fn check(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        reply: &[u8],
        now: Instant,
    ) -> Verdict {
        let from = canonical(from);
        let mut verdict = Verdict::default();
        verdict.show = self.log_budget(now, &mut verdict.notes);
        self.make_room(from, now);
        let local = self.local;
        let peer = self.peers.entry(from).or_insert_with(|| Peer {
            is_us: is_us(from, local),
            answers: [None; REMEMBERED],
            next: 0,
            run_start: now,
            run_length: 0,
            last_seen: now,
            tokens: ANSWER_BURST,
            refilled: now,
            silent_until: None,
        });
        verdict.answer = peer.consider(from, hash(datagram), now, &mut verdict.notes);
        if verdict.answer {
            peer.answers[peer.next] = Some(hash(reply));
            peer.next = (peer.next + 1) % REMEMBERED;
        }
        verdict
    }

    /// How many peers are remembered (bounded by `MAX_PEERS`).
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True when no peer is remembered.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Before a new peer enters a full table: forget the peers quiet for
    /// [`SILENCE`], or else the quarter quiet for the longest (a quarter at
    /// once, so that a flood of forged sources costs one sort now and then,
    /// not a scan per datagram).
    fn make_room(&mut self, from: SocketAddr, now: Instant) {
        if self.peers.len() < MAX_PEERS || self.peers.contains_key(&from) {
            return;
        }
        self.peers
            .retain(|_, p| now.saturating_duration_since(p.last_seen) < SILENCE);
        if self.peers.len() >= MAX_PEERS {
            let mut seen: Vec<Instant> = self.peers.values().map(|p| p.last_seen).collect();
            let (_, &mut cutoff, _) = seen.select_nth_unstable(MAX_PEERS / 4);
            self.peers.retain(|_, p| p.last_seen > cutoff);
        }
    }

    /// Spends one line of the log budget if there is one; counts the
    /// datagrams not shown and says how many when showing resumes.
    fn log_budget(&mut self, now: Instant, notes: &mut Vec<String>) -> bool {
        let since = self
            .log_refilled
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        self.log_refilled = Some(now);
        self.log_tokens = (self.log_tokens + since.as_secs_f64() * LOG_RATE).min(LOG_BURST);
        if self.log_tokens < 1.0 {
            self.not_shown += 1;
            return false;
        }
        self.log_tokens -= 1.0;
        if self.not_shown > 0 {
            let not_shown = crate::plural(
                self.not_shown,
                "aucun datagramme non détaillé",
                "datagramme non détaillé",
                "datagrammes non détaillés",
            );
            notes.push(format!("({not_shown} dans ce journal)"));
            self.not_shown = 0;
        }
        true
    }
}

impl Peer {
    /// True when this peer may be answered now; a note when it may not,
    /// the first time.
    fn consider(
        &mut self,
        from: SocketAddr,
        datagram: u64,
        now: Instant,
        notes: &mut Vec<String>,
    ) -> bool {
        let gap = now.saturating_duration_since(self.last_seen);
        self.last_seen = now;
        if self.is_us {
            // (For us, `run_length` only marks that it was said.)
            if self.run_length == 0 {
                notes.push(format!(
                    "datagramme venu de notre propre adresse {from} : jamais de réponse (elle nous reviendrait)"
                ));
                self.run_length = 1;
            }
            return false;
        }
        if let Some(until) = self.silent_until {
            if now < until {
                return false;
            }
            self.silent_until = None;
            self.run_length = 0;
            self.tokens = ANSWER_BURST;
        }

        // A loop: what comes back is what we just sent, again and again.
        if self.answers.contains(&Some(datagram)) && gap <= LOOP_GAP && self.run_length > 0 {
            self.run_length += 1;
        } else if self.answers.contains(&Some(datagram)) {
            self.run_start = now;
            self.run_length = 1;
        } else {
            self.run_length = 0;
        }
        if self.run_length >= LOOP_REPEATS
            && now.saturating_duration_since(self.run_start) >= LOOP_SPAN
        {
            notes.push(format!(
                "boucle d'écho avec {from} : nos réponses nous reviennent ({} fois de suite) ; plus de réponse à {from} pendant {} s",
                self.run_length,
                SILENCE.as_secs()
            ));
            return self.silence(now);
        }

        // The budget: a token per answer, refilled at ANSWER_RATE.
        let since = now.saturating_duration_since(self.refilled);
        self.refilled = now;
        self.tokens = (self.tokens + since.as_secs_f64() * ANSWER_RATE).min(ANSWER_BURST);
        if self.tokens < 1.0 {
            notes.push(format!(
                "{from} envoie plus de {} datagrammes par seconde : plus de réponse à {from} pendant {} s",
                ANSWER_RATE as u64,
                SILENCE.as_secs()
            ));
            return self.silence(now);
        }
        self.tokens -= 1.0;
        true
    }

    /// No answer for [`SILENCE`]; returns false (no answer now either).
    fn silence(&mut self, now: Instant) -> bool {
        self.silent_until = Some(now + SILENCE);
        self.run_length = 0;
        false
    }
}

/// True when `from` is our own socket: our port, and an address of this
/// machine (when we are bound to every address, the system tells: only a
/// local address can be bound).
fn is_us(from: SocketAddr, local: SocketAddr) -> bool {
    if from.port() != local.port() {
        return false;
    }
    if !local.ip().is_unspecified() {
        return from.ip() == local.ip();
    }
    from.ip().is_loopback() || is_local_address(from.ip())
}

/// True when `ip` is an address of this machine.
fn is_local_address(ip: IpAddr) -> bool {
    !ip.is_unspecified() && UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "127.0.0.1:7777";

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn at(start: Instant, micros: u64) -> Instant {
        start + Duration::from_micros(micros)
    }

    #[test]
    fn our_own_address_is_never_answered_and_said_once() {
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
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
    fn a_loop_is_cut_after_a_second_and_logged_once() {
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
        let other = addr("127.0.0.1:8808");
        // Another echo server answers each answer of ours within 0.2 ms.
        let mut cut_at = None;
        let mut notes = Vec::new();
        for i in 0..20_000u64 {
            let v = peers.check(other, b"ping", b"ping", at(start, i * 200));
            notes.extend(v.notes.into_iter().filter(|n| n.contains("boucle")));
            if !v.answer {
                cut_at = Some(i);
                break;
            }
        }
        let cut_at = cut_at.expect("the loop was never cut");
        assert!(
            (9_990..=10_010).contains(&cut_at),
            "cut after {cut_at} answers, not after 10 000 (two seconds at 5000 a second)"
        );
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("boucle d'écho avec 127.0.0.1:8808"),
            "{notes:?}"
        );
        // Silent for a while, without a word…
        let v = peers.check(other, b"ping", b"ping", at(start, 10_000 * 200 + 1_000_000));
        assert!(!v.answer && v.notes.iter().all(|n| !n.contains("boucle")));
        // …then answered again.
        let later = start + Duration::from_secs(2) + SILENCE + Duration::from_millis(1);
        assert!(peers.check(other, b"ping", b"ping", later).answer);
    }

    #[test]
    fn prime_answers_coming_back_are_a_loop_too() {
        // prime-udp-server answers `E\n` to `E\n`: the datagram differs
        // from the first one, but each is our last answer coming back.
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
        let other = addr("127.0.0.1:9000");
        assert!(peers.check(other, b"17", b"T\n", start).answer);
        let mut answered = 1;
        for i in 1..100_000u64 {
            if !peers.check(other, b"E\n", b"E\n", at(start, i * 50)).answer {
                break;
            }
            answered += 1;
        }
        assert!(answered < 25_000, "{answered} answers in the loop");
    }

    #[test]
    fn interleaved_loops_are_cut_too() {
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
        let other = addr("127.0.0.1:9000");
        let payloads: [&[u8]; 3] = [b"a", b"b", b"c"];
        let mut answered = 0u64;
        for i in 0..100_000u64 {
            let p = payloads[(i % 3) as usize];
            if !peers.check(other, p, p, at(start, i * 100)).answer {
                break;
            }
            answered += 1;
        }
        assert!(answered < 20_000, "{answered} answers in the loop");
    }

    #[test]
    fn a_person_typing_the_same_line_is_always_answered() {
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
        let person = addr("127.0.0.1:40000");
        // Five lines a second for an hour, all the same.
        for i in 0..18_000u64 {
            let v = peers.check(person, b"hello\n", b"hello\n", at(start, i * 200_000));
            assert!(v.answer, "line {i} unanswered");
        }
    }

    #[test]
    fn a_fast_client_is_answered_thousands_of_times_a_second() {
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
        let client = addr("127.0.0.1:40000");
        // 10 000 distinct datagrams a second for 10 seconds.
        for i in 0..100_000u64 {
            let n = i.to_string();
            let v = peers.check(client, n.as_bytes(), n.as_bytes(), at(start, i * 100));
            assert!(v.answer, "datagram {i} unanswered");
        }
        // Thousands of the same datagram, even over seconds, are no loop.
        let later = start + Duration::from_secs(20);
        for i in 0..9_000u64 {
            let v = peers.check(
                client,
                b"ping",
                b"ping",
                later + Duration::from_micros(i * 500),
            );
            assert!(v.answer, "datagram {i} of the burst unanswered");
        }
    }

    #[test]
    fn a_flood_beyond_the_budget_is_cut_and_said() {
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
        let flood = addr("127.0.0.1:40000");
        let mut notes = Vec::new();
        let mut answered = 0u64;
        // A million distinct datagrams a second, for a second.
        for i in 0..1_000_000u64 {
            let n = i.to_string();
            let v = peers.check(flood, n.as_bytes(), b"x", at(start, i));
            notes.extend(v.notes.into_iter().filter(|n| n.contains("par seconde")));
            answered += v.answer as u64;
        }
        assert!(
            (100_000..120_000).contains(&answered),
            "{answered} answered"
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn the_log_is_bounded_and_says_what_it_did_not_show() {
        let start = Instant::now();
        let mut peers = Peers::new(addr(SERVER));
        let client = addr("127.0.0.1:40000");
        let mut shown = 0;
        // 10 000 datagrams in one second.
        for i in 0..10_000u64 {
            let n = i.to_string();
            shown += peers
                .check(client, n.as_bytes(), n.as_bytes(), at(start, i * 100))
                .show as u32;
        }
        assert!(
            (100..=111).contains(&shown),
            "{shown} lines for 10 000 datagrams"
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
        let mut peers = Peers::new(addr(SERVER));
        for i in 0..3 * MAX_PEERS as u64 {
            let from = SocketAddr::new("127.0.0.2".parse().unwrap(), 1024 + i as u16);
            assert!(peers.check(from, b"x", b"x", at(start, i)).answer);
        }
        assert!(peers.len() <= MAX_PEERS, "{} peers", peers.len());
    }
}
