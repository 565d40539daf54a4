//! Keeping a UDP server that answers every datagram from being turned into
//! a weapon: the echo loop.
//!
//! UDP has no connection, so the source address of a datagram is whatever
//! the sender wrote in it. Send one datagram to echo server A with the
//! source address of echo server B, and A answers B, B answers A, A
//! answers B… for ever: each burns a core and writes hundreds of thousands
//! of log lines a second. Send a hundred such datagrams at once and a
//! hundred ping-pongs run side by side. (The same loop with `chargen` and
//! `echo` is why those old services are off everywhere.)
//!
//! # What a loop is, seen from one server
//!
//! Our own answers coming back to us: peer P sends us exactly what we sent
//! P a moment ago, again and again, as fast as the two machines can go,
//! with no pause — P answers what we send it, we answer what P sends us.
//!
//! The trap is that a perfectly normal client can look like that.
//! `yes bonjour | echo-udp-client` sends `bonjour`, waits for our
//! `bonjour`, sends `bonjour` again: every datagram it sends is our last
//! answer, and it goes as fast as we answer (on this machine, about as fast
//! as two servers in a loop: 50 000 exchanges a second, measured). A client
//! pinging a thousand times a second, or sending a heartbeat forever, sends
//! our answer back too. Repetition alone is not a loop.
//!
//! So a peer is taken for a loop only when all of this holds:
//!
//! 1. **It sends our answers back.** We remember a fingerprint (a hash of
//!    the peer's address and the bytes) of every answer we sent recently,
//!    in one table of [`REMEMBERED`] slots shared by all peers: a fixed
//!    amount of memory that holds far more answers than can be in flight
//!    between two machines (the system's socket buffers hold a few hundred
//!    datagrams), so a burst of 17 or 1000 distinct datagrams is seen as
//!    well as a single one.
//! 2. **At the speed of a machine, without a pause.** At least
//!    [`LOOP_RATE`] of these datagrams a second on average over the last
//!    two seconds ([`LOOP_WINDOWS`] quarter-seconds, none of them empty).
//!    No person types that fast, no ping or heartbeat sends that much; a
//!    quick burst from a test client (2000 identical datagrams, awaited one
//!    by one) is over long before two seconds. An average, not a minimum:
//!    on a busy machine a loop slows down now and then, and is seen all
//!    the same.
//! 3. **And it is not a client.** A client that sends as fast as we answer
//!    forever (`yes | echo-udp-client`) passes 1 and 2; what gives it away is
//!    its socket: a client calls `connect` towards us (the system then hands
//!    it only our datagrams), a server never does — it answers anyone. When
//!    the peer is on this machine, Linux tells in `/proc/net/udp` whether
//!    its socket is connected to us; such a peer is never taken for a loop.
//!
//! A peer taken for a loop gets no answer for [`SILENCE`]: the loop dies as
//! soon as one side stops answering, whatever the number of datagrams in
//! flight, and that is logged once. The other side, if it is one of our
//! servers, sees the same and stops too.
//!
//! What this cannot tell apart: a client on *another* machine, or one with
//! an unconnected socket, that sends back our last answer faster than
//! [`LOOP_RATE`] a second for two seconds without a pause is, seen from here,
//! exactly another server in a loop with us; it is taken for one. Only the
//! sender knows whether it waits for us because it wants to or because it
//! echoes.
//!
//! # The rest of the budget
//!
//! - Never answer our own address and port (a loop on ourselves).
//! - At most [`ANSWER_RATE`] answers per peer and per second (a token
//!   bucket): far above what a real client gets, it bounds a flood that
//!   repeats nothing.
//! - The details of each datagram are logged within a budget too (a hundred
//!   lines at once, then ten a second), so that the log stays readable and
//!   bounded, with a count of what was not shown.
//! - At most [`MAX_PEERS`] peers are remembered: forged sources cannot grow
//!   our memory.
//!
//! Everything takes the current [`Instant`] as an argument, so that its
//! tests (`udp/tests.rs`) drive it with hand-made instants, no real time.
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

/// Our own answers coming back, per second, from which a peer may be in a
/// loop with us. Two of our servers in a loop on one machine exchange
/// 30 000 to 80 000 datagrams a second (measured, debug or release build,
/// one datagram or a thousand in flight), still more than this when the
/// machine is busy with other work; a ping a thousand times a second, a
/// heartbeat, a person typing are far below.
const LOOP_RATE: u32 = 5_000;

/// The speed is counted over quarter-seconds…
const LOOP_WINDOW: Duration = Duration::from_millis(250);

/// …and judged on the average of the last this many, in a row with no
/// pause between them (two seconds): a burst from a test client ends
/// before, a loop never ends by itself, and a loop slowed for a moment by
/// a busy machine is still seen on average.
const LOOP_WINDOWS: usize = 8;

/// Slots of the table of our recent answers (their fingerprints, 8 bytes
/// each: 128 KiB in all, whatever the number of peers).
const REMEMBERED: usize = 1 << 14;

/// How long a peer caught looping or flooding gets no answer: the loop is
/// dead as soon as one side stops answering.
const SILENCE: Duration = Duration::from_secs(10);

/// Answers a peer may get per second, sustained: more than a client in a
/// tight loop gets on the loopback (50 000 to 60 000 a second, measured).
/// Loops are found by our answers coming back; this cap is for the floods
/// that repeat nothing.
const ANSWER_RATE: f64 = 100_000.0;

/// Answers a peer may get at once, above the rate: a client may send a
/// second's worth in one burst.
const ANSWER_BURST: f64 = 100_000.0;

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
    /// Its address is our own (then it is never answered), and we said so.
    is_us: bool,
    said_us: bool,
    last_seen: Instant,
    /// The current quarter-second: when it began, and how many of our
    /// answers came back from this peer in it.
    window_start: Instant,
    returned: u32,
    /// How many came back in each of the quarter-seconds just before it
    /// (a ring, the oldest at `next_window`), and how many of these
    /// quarter-seconds followed one another with no pause.
    windows: [u32; LOOP_WINDOWS],
    next_window: usize,
    in_a_row: usize,
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
    /// Fingerprints of our recent answers, each in the slot its value
    /// picks (0: empty). A newer answer may take an older one's slot: the
    /// table forgets, but a loop sends the same answers round and round,
    /// and they are written again at each turn.
    answers: Vec<u64>,
    log_tokens: f64,
    log_refilled: Option<Instant>,
    not_shown: u64,
    /// Whether a peer is a client whose socket is connected to us (the
    /// tests put their own answer here).
    is_client: fn(SocketAddr, SocketAddr) -> bool,
}

impl Peers {
    /// The budget of a server whose socket is bound to `local`.
    pub fn new(local: SocketAddr) -> Peers {
        Peers {
            local: canonical(local),
            peers: HashMap::new(),
            answers: vec![0; REMEMBERED],
            log_tokens: LOG_BURST,
            log_refilled: None,
            not_shown: 0,
            is_client: connected_to_us,
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
    /// sends `reply`, and this budget remembers it as sent.
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

        // Is it one of our answers to this very peer, coming back?
        let print = fingerprint(from, datagram);
        let returned = self.answers[slot(print)] == print;

        let (local, is_client) = (self.local, self.is_client);
        let peer = self.peers.entry(from).or_insert_with(|| Peer {
            is_us: is_us(from, local),
            said_us: false,
            last_seen: now,
            window_start: now,
            returned: 0,
            windows: [0; LOOP_WINDOWS],
            next_window: 0,
            in_a_row: 0,
            tokens: ANSWER_BURST,
            refilled: now,
            silent_until: None,
        });
        verdict.answer = peer.consider(
            from,
            returned,
            now,
            || is_client(from, local),
            &mut verdict.notes,
        );
        if verdict.answer {
            let print = if reply == datagram {
                print
            } else {
                fingerprint(from, reply)
            };
            self.answers[slot(print)] = print;
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
    /// True when this peer may be answered now (`returned`: its datagram
    /// is one of our recent answers to it); a note when it may not, the
    /// first time.
    fn consider(
        &mut self,
        from: SocketAddr,
        returned: bool,
        now: Instant,
        is_client: impl FnOnce() -> bool,
        notes: &mut Vec<String>,
    ) -> bool {
        self.last_seen = now;
        if self.is_us {
            if !self.said_us {
                notes.push(format!(
                    "datagramme venu de notre propre adresse {from} : jamais de réponse (elle nous reviendrait)"
                ));
                self.said_us = true;
            }
            return false;
        }
        if let Some(until) = self.silent_until {
            if now < until {
                return false;
            }
            self.silent_until = None;
            self.tokens = ANSWER_BURST;
            self.restart_windows(now);
        }

        // A loop: our answers come back at loop speed for two seconds, and
        // the peer is not a client of ours.
        self.count(returned, now);
        if let Some(back) = self.at_loop_speed() {
            self.restart_windows(now);
            if !is_client() {
                let seconds = LOOP_WINDOW.as_secs_f64() * LOOP_WINDOWS as f64;
                notes.push(format!(
                    "boucle d'écho avec {from} : nos réponses nous reviennent ({} en {seconds} s, sans pause) ; plus de réponse à {from} pendant {} s",
                    crate::thousands(back),
                    SILENCE.as_secs()
                ));
                return self.silence(now);
            }
        }

        // The budget: a token per answer, refilled at ANSWER_RATE.
        let since = now.saturating_duration_since(self.refilled);
        self.refilled = now;
        self.tokens = (self.tokens + since.as_secs_f64() * ANSWER_RATE).min(ANSWER_BURST);
        if self.tokens < 1.0 {
            notes.push(format!(
                "{from} envoie plus de {} datagrammes par seconde : plus de réponse à {from} pendant {} s",
                crate::thousands(ANSWER_RATE as u64),
                SILENCE.as_secs()
            ));
            return self.silence(now);
        }
        self.tokens -= 1.0;
        true
    }

    /// Counts one datagram in the current quarter-second. When it is over,
    /// its count joins those of the last ones, unless a whole
    /// quarter-second went by with nothing: a pause, and no loop pauses.
    fn count(&mut self, returned: bool, now: Instant) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= 2 * LOOP_WINDOW {
            self.restart_windows(now);
        } else if elapsed >= LOOP_WINDOW {
            self.windows[self.next_window] = self.returned;
            self.next_window = (self.next_window + 1) % LOOP_WINDOWS;
            self.in_a_row = (self.in_a_row + 1).min(LOOP_WINDOWS);
            self.window_start += LOOP_WINDOW;
            self.returned = 0;
        }
        self.returned += u32::from(returned);
    }

    /// How many of our answers came back over the last two seconds, when
    /// that is at loop speed, on average, without a pause.
    fn at_loop_speed(&self) -> Option<u64> {
        let back: u64 = self.windows.iter().map(|&n| u64::from(n)).sum();
        let seconds = LOOP_WINDOW.as_secs_f64() * LOOP_WINDOWS as f64;
        (self.in_a_row == LOOP_WINDOWS && back as f64 >= f64::from(LOOP_RATE) * seconds)
            .then_some(back)
    }

    /// Forgets the speed seen so far: the next quarter-second starts now.
    fn restart_windows(&mut self, now: Instant) {
        self.window_start = now;
        self.returned = 0;
        self.windows = [0; LOOP_WINDOWS];
        self.in_a_row = 0;
    }

    /// No answer for [`SILENCE`]; returns false (no answer now either).
    fn silence(&mut self, now: Instant) -> bool {
        self.silent_until = Some(now + SILENCE);
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

/// True when `peer` is a socket of this machine connected to our port (a
/// client that called `connect` towards us), as `/proc/net/udp` tells.
fn connected_to_us(peer: SocketAddr, local: SocketAddr) -> bool {
    crate::procfs::udp_connected_to(peer).is_some_and(|to| {
        to.port() == local.port()
            && (local.ip().is_unspecified() || to.ip().to_canonical() == local.ip())
    })
}

/// A datagram's fingerprint: its bytes and the peer it came from or goes
/// to, hashed; never 0 (an empty slot).
fn fingerprint(peer: SocketAddr, bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    peer.hash(&mut hasher);
    bytes.hash(&mut hasher);
    hasher.finish() | 1
}

/// The slot of the table of answers that a fingerprint picks.
fn slot(print: u64) -> usize {
    (print >> 1) as usize % REMEMBERED
}

#[cfg(test)]
mod tests;
