//! The large echoes: 8 MiB that must all come back, in order (a `send`
//! that sends only part of its bytes is caught there), and a client that
//! leaves in the middle of a large echo, which must not kill the server.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::changed_how;
use crate::advice::{Lang, Topic, say};
use crate::report::{Check, Failure};
use crate::target::Target;
use crate::wire::{self, End, size};

/// The bulk test: more than the socket buffers on the way can hold (a
/// few MiB on Linux's loopback), so that a `send` that sends only part of
/// its bytes is caught.
const BULK: usize = 8 << 20;

/// The client of the bulk test reads only once it has written everything,
/// or once its writing has stalled this long (the buffers are full: a
/// correct server is blocked in `sendall`, waiting for us), as a slow
/// network would. Meanwhile a `send` on a non-blocking socket sends only
/// part of its bytes, or raises `BlockingIOError`.
const STALLED: Duration = Duration::from_millis(300);

/// The longest the whole bulk test may take. 8 MiB cross the loopback in
/// well under a second, even through a Python server reading 16 bytes at
/// a time on a busy machine; a correct server slower still (one byte per
/// `recv`) gets this long, as long as its echo comes at a pace that ends
/// in time (checked from [`BULK_PATIENCE`] on): a server that trickles is
/// cut off there.
const BULK_DEADLINE: Duration = Duration::from_secs(40);

/// How long the bulk test waits before it checks the pace (see
/// [`BULK_DEADLINE`]).
const BULK_PATIENCE: Duration = Duration::from_secs(8);

/// The longest the reader waits for the writer before reading anyway.
const WRITER_HEAD_START: Duration = Duration::from_secs(6);

/// How long the bulk echo may make no progress before we stop waiting.
const BULK_IDLE: Duration = Duration::from_secs(2);

/// 8 MiB of varied bytes, written by one thread while this one waits,
/// then reads: all of it must come back, in order.
pub fn bulk(target: &Target) -> Check {
    let mut conn = target.open()?;
    let data = Arc::new(wire::pattern(BULK, wire::seed()));
    let mut writer = conn
        .stream
        .try_clone()
        .map_err(|e| Failure::new("8 Mio", e.to_string(), "erreur locale"))?;
    let written = Arc::new(AtomicUsize::new(0));
    // Set when labcheck itself stops the writer: its error then is ours,
    // not the server's.
    let stopped = Arc::new(AtomicBool::new(false));
    let (to_send, progress, ours) = (
        Arc::clone(&data),
        Arc::clone(&written),
        Arc::clone(&stopped),
    );
    let sender = std::thread::spawn(move || {
        for chunk in to_send.chunks(64 * 1024) {
            match writer.write_all(chunk) {
                Ok(()) => progress.fetch_add(chunk.len(), Ordering::Relaxed),
                Err(_) if ours.load(Ordering::Relaxed) => return Ok(()),
                Err(e) => return Err(wire::write_error(&e)),
            };
        }
        Ok::<(), String>(())
    });
    // The patience clock starts when the first byte can come back: once
    // the first chunk is on its way (not when connecting, which a busy
    // machine may make slow).
    let mut peeked = vec![0u8; BULK];
    // Progress: bytes written, echo waiting for us, a local server that
    // runs or waits for a core (a starved server on a busy machine is not
    // a blocked one).
    let started = wait_for_writer(&written, || {
        let queued = if conn.readable_within(Duration::ZERO) {
            conn.stream.peek(&mut peeked).unwrap_or(0)
        } else {
            0
        };
        let running = target.local.as_ref().is_some_and(|l| l.runnable());
        (queued, running)
    });
    drop(peeked);

    // Read until all came back, or no progress for BULK_IDLE.
    let mut got: Vec<u8> = Vec::with_capacity(BULK);
    let end = loop {
        let elapsed = started.elapsed();
        let left = BULK_DEADLINE.saturating_sub(elapsed);
        // Past BULK_PATIENCE, go on only at a pace that brings all of it
        // back before BULK_DEADLINE: a slow but correct server does, a
        // server that trickles does not.
        let pace = got.len() as f64 / elapsed.as_secs_f64();
        let late = elapsed >= BULK_PATIENCE && pace * BULK_DEADLINE.as_secs_f64() < BULK as f64;
        if left.is_zero() || late {
            break End::TimedOut(BULK_DEADLINE);
        }
        let more = conn.read_until(BULK_IDLE.min(left), |b| (!b.is_empty()).then_some(b.len()));
        let from = got.len();
        got.extend_from_slice(&more.bytes);
        // Done when all came back, or as soon as a byte differs.
        let until = got.len().min(BULK);
        if got.len() >= BULK || got[from.min(until)..until] != data[from.min(until)..until] {
            break End::Complete;
        }
        if !more.complete() {
            break more.end;
        }
    };
    // The verdict is known: a writer still blocked (the server no longer
    // reads us) is released at once.
    stopped.store(true, Ordering::Relaxed);
    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
    let sent = sender
        .join()
        .unwrap_or_else(|_| Err("envoi interrompu".into()));
    let took = started.elapsed();
    // Right so far, and still coming, only slowly: a server that reads a
    // few bytes per recv is slow, not wrong.
    if end == End::TimedOut(BULK_DEADLINE) && !got.is_empty() && data.starts_with(&got) {
        target.notes.borrow_mut().push(format!(
            "lent : l'écho de {} revient juste mais lentement ({} par seconde ; {} vérifiés en {}) : le serveur lit-il quelques octets par recv ? recv(1500) et sendall suffisent — TP5b 1.2",
            size(BULK),
            size((got.len() as f64 / took.as_secs_f64().max(0.001)) as usize),
            size(got.len()),
            wire::seconds(took)
        ));
        return Ok(());
    }
    bulk_verdict(target.lang(), &data, &got, &end, sent, took)
}

/// What the bulk echo shows: all of it back (ok), bytes changed or lost
/// in the middle, too many, or the echo stopped short — and why, in the
/// course's words.
fn bulk_verdict(
    lang: Lang,
    data: &[u8],
    got: &[u8],
    end: &End,
    sent: Result<(), String>,
    took: Duration,
) -> Check {
    let what = format!("{} d'octets variés, d'un coup", size(BULK));
    if let Some(at) = got.iter().zip(data).position(|(a, b)| a != b) {
        let window = |b: &[u8]| b[at..b.len().min(at + 4096)].to_vec();
        let meaning = match changed_how(&window(data), &window(got)) {
            _ if overtaken(data, got, at) => "des octets reviennent dans le désordre (un morceau attendu là arrive plus loin) : deux lecteurs se partagent cette socket, chacun renvoie ce qu'il a lu ; le plus souvent, un thread par client qui lit une variable globale (conn) que le prochain accept remplace, au lieu de la socket reçue en paramètre : handle(sc) ne doit utiliser que sc — TP5b 2.2".into(),
            Some(how) => format!("les octets reviennent changés : {how}"),
            None if got.len() < BULK => format!("des octets manquent au milieu : `send` n'envoie pas tout, `sendall` oui ; sur une socket non bloquante (ou avec un délai), send renvoie combien d'octets il a pu envoyer, le reste est perdu si on l'ignore ; {} — TP5b 2.1 ; avec un thread par client, ils peuvent aussi être partis chez un autre lecteur : chaque thread ne doit utiliser que la socket reçue en paramètre, pas une variable globale conn que le prochain accept remplace — TP5b 2.2", say(lang, Topic::SendAll)),
            None => "des octets sont changés ou dans le désordre : chaque recv doit être renvoyé tel quel, dans l'ordre — TP5b 1.2".into(),
        };
        return Err(Failure::new(
            what,
            format!(
                "{} sur {} octets, différents à partir de l'octet {}",
                wire::group(got.len()),
                wire::group(BULK),
                wire::group(at)
            ),
            meaning,
        ));
    }
    if got.len() > BULK {
        return Err(Failure::new(
            what,
            format!("{} : trop", size(got.len())),
            "le serveur renvoie plus que ce qu'il a reçu : un écho renvoie exactement ce que recv a lu, une fois — TP5b 1.2",
        ));
    }
    if got.len() == BULK {
        return Ok(());
    }
    // A true beginning came back, then nothing more.
    // Stopped by the bulk deadline (not by BULK_IDLE): still coming.
    let too_slow = *end == End::TimedOut(BULK_DEADLINE);
    let came = match end {
        _ if too_slow => format!(
            "{} en {}, et ça continuait",
            size(got.len()),
            wire::seconds(took)
        ),
        End::TimedOut(_) if got.is_empty() => format!("rien en {}", wire::seconds(BULK_IDLE)),
        End::TimedOut(_) => format!(
            "{} puis plus rien en {}",
            size(got.len()),
            wire::seconds(BULK_IDLE)
        ),
        End::Closed => format!("{} puis connexion fermée par le serveur", size(got.len())),
        End::Reset => format!("{} puis connexion réinitialisée (RST)", size(got.len())),
        _ => format!("{} puis {}", size(got.len()), end.words()),
    };
    let after_last_newline = data.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
    let meaning = match (end, sent) {
        (_, Err(why)) if got.is_empty() => format!("{why} ; rien n'est revenu"),
        _ if got.is_empty() => "rien ne revient : après recv, le serveur doit renvoyer les octets reçus avec sendall — TP5b 1.2".into(),
        _ if Some(got.len()) == after_last_newline => "tout revient sauf ce qui suit le dernier \\n : le serveur attend une fin de ligne (readline ?) ; un écho renvoie chaque recv tel quel — TP5b 1.2".into(),
        _ if too_slow => format!("l'écho revient juste mais très lentement ({} par seconde) : le serveur lit-il quelques octets par recv, ou attend-il (sleep) ? recv(1500) et sendall suffisent — TP5b 1.2", size((got.len() as f64 / took.as_secs_f64().max(0.001)) as usize)),
        (End::TimedOut(_), _) => format!("`send` n'envoie pas tout, `sendall` oui : sur une socket non bloquante (ou avec un délai), send renvoie combien d'octets il a pu envoyer, le reste est perdu si on l'ignore ; {} — TP5b 2.1", say(lang, Topic::SendAll)),
        _ => "le serveur a fermé la connexion en cours de route : une exception (decode sur des octets quelconques, BlockingIOError d'un send non bloquant ?) ; un écho renvoie les octets tels quels, avec sendall — TP5b 2.1".into(),
    };
    Err(Failure::new(what, came, meaning))
}

/// True if the echo, first wrong at `at`, goes on with bytes sent later
/// and the bytes due at `at` come after them: not lost (a `send` that
/// drops leaves a hole), not added (a prefix is no bytes of ours), but
/// overtaken — two readers take turns on one socket, each sending what it
/// read.
fn overtaken(data: &[u8], got: &[u8], at: usize) -> bool {
    let found = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    let due = &data[at..data.len().min(at + 64)];
    let came = &got[at..got.len().min(at + 64)];
    due.len() == 64
        && came.len() == 64
        && found(&data[at + 1..], came)
        && found(&got[at + 1..], due)
}

/// Waits until the writer has written everything, or until nothing has
/// moved for [`STALLED`]: neither the writer, nor the echo waiting in our
/// socket, nor the server (`other` says how much is queued and whether a
/// local server is running or waiting for a core: a slow server on a busy
/// machine still moves), at most [`WRITER_HEAD_START`]; returns when the
/// writer's first chunk was seen gone.
fn wait_for_writer(written: &AtomicUsize, mut other: impl FnMut() -> (usize, bool)) -> Instant {
    let start = Instant::now();
    let mut first = None;
    let mut last = ((0, 0), Instant::now());
    while start.elapsed() < WRITER_HEAD_START {
        std::thread::sleep(Duration::from_millis(20));
        let (queued, running) = other();
        let now = (written.load(Ordering::Relaxed), queued);
        if now.0 > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if now.0 >= BULK {
            break;
        }
        if now != last.0 || running {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= STALLED {
            break;
        }
    }
    first.unwrap_or_else(Instant::now)
}

/// How much the client of [`leave_midway`] sends, at most: more than the
/// buffers both ways can hold, so that the server is stuck writing its
/// echo to us when we leave.
const MIDWAY: usize = 16 << 20;

/// Clients leave while the server is still writing their echo to them,
/// in the two ways that happen:
///
/// 1. a client sends a large message, ends its sending (FIN), reads
///    nothing and closes: the server, still writing the echo, meets a
///    connection its client has closed both ways, and its write fails
///    with `EPIPE`;
/// 2. a client sends without reading its echo until the buffers both ways
///    are full (the server is then blocked writing to it), and closes with
///    the echo unread (RST).
///
/// `EPIPE` kills a C program with SIGPIPE unless it is ignored, and raises
/// `BrokenPipeError` or `ConnectionResetError` in Python. The knock that
/// follows every check tells whether the server survived; this check only
/// sets the scene.
pub fn leave_midway(target: &Target) -> Check {
    let mut conn = target.open()?;
    let data = wire::pattern(1 << 20, wire::seed());
    let _ = conn
        .stream
        .set_write_timeout(Some(Duration::from_millis(200)));
    let _ = conn.stream.write_all(&data);
    // FIN first: the server, seeing the end of our sending, is told that
    // its writes fail with EPIPE (not ECONNRESET) once we close for good.
    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
    // Once the server has read what it could and waits, blocked writing
    // the echo to us, we leave.
    target.settle();
    drop(conn);
    target.settle();

    let mut conn = target.open()?;
    let _ = conn
        .stream
        .set_write_timeout(Some(Duration::from_millis(200)));
    let chunk = wire::pattern(256 * 1024, wire::seed() + 1);
    let mut sent = 0;
    // A write that blocks (the buffers are full) ends the sending.
    while sent < MIDWAY && conn.stream.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    drop(conn);
    // The knock comes once the server has met our leaving (or is gone).
    target.settle();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meaning(got: &[u8], data: &[u8]) -> String {
        let end = End::TimedOut(Duration::from_secs(2));
        let failure = bulk_verdict(Lang::Python, data, got, &end, Ok(()), Duration::ZERO)
            .expect_err("a wrong echo passed");
        format!("{failure:?}")
    }

    #[test]
    fn bytes_overtaken_name_two_readers_and_bytes_skipped_name_sendall() {
        let data = wire::pattern(10_000, 7);
        // Two threads on one socket: 1500 bytes read by the second are
        // sent before the first's.
        let swapped = [&data[..3000], &data[4500..6000], &data[3000..4500]].concat();
        let told = meaning(&swapped, &data);
        assert!(
            told.contains("globale") && !told.contains("sendall"),
            "{told}"
        );
        // A send that drops what it could not send: a hole, never filled.
        // A second reader whose echo has not come yet looks the same: the
        // hole names `sendall` first, then the global `conn`.
        let dropped = [&data[..3000], &data[4500..6000]].concat();
        let told = meaning(&dropped, &data);
        assert!(
            told.contains("des octets manquent")
                && told.contains("sendall")
                && told.find("sendall") < told.find("globale"),
            "{told}"
        );
        // A prefix before each echo: bytes added, none of ours overtaken.
        let prefixed = [&b"Echo: "[..], &data[..5000]].concat();
        let told = meaning(&prefixed, &data);
        assert!(
            told.contains("préfixe") && !told.contains("globale"),
            "{told}"
        );
    }
}
