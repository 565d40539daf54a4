//! Which concurrency model the server looks like from outside — told as
//! information, never as a failure (a blocking server is the right answer
//! to TP5b 1.2):
//!
//! 1. a first client connects and is served, and stays; is a second one
//!    served meanwhile? If not, how long did it wait, and was it served
//!    once the first left? (one client at a time: the blocking model);
//! 2. are many clients connected together all served? (select/poll,
//!    threads, a reactor);
//! 3. does a client that sends without reading slow the others? (a
//!    blocking `sendall` inside a select loop stops everyone).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::report::Report;
use crate::tcp::{ping, ping_answer, ping_bytes, session};
use crate::wire::{ANSWER_WAIT, seconds};
use crate::{Kind, Target};

/// How long a second client waits before we call the server "one client
/// at a time". Served in milliseconds otherwise.
const SECOND_CLIENT_WAIT: Duration = Duration::from_secs(2);

/// How long the second client may still wait once the first has left.
const AFTER_FIRST_LEFT: Duration = Duration::from_secs(3);

/// How many clients stay connected together in step 2: more than a
/// thread pool of a few, few enough for a backlog of 1 (`listen(1)`, as
/// the TP says) — each is served before the next connects.
const MANY: usize = 20;

/// The longest the clients of step 2 may take to connect and be served
/// once each (then they all ask together, and have ANSWER_WAIT).
const MANY_DEADLINE: Duration = Duration::from_secs(4);

/// More than the socket buffers between two processes on one machine can
/// hold (a few MiB each way): an echo server that read this much from a
/// client that reads nothing holds the echo in its own memory.
const UNBOUNDED: usize = 64 << 20;

/// How long the client of step 3 sends without reading.
const FLOOD_TIME: Duration = Duration::from_millis(1500);

pub fn diagnose(target: &Target, report: &mut Report) {
    let Some(concurrent) = second_client(target, report) else {
        return;
    };
    if concurrent {
        many_clients(target, report);
        flooder(target, report);
    }
}

/// Step 1. Returns whether a second client was served while the first
/// stayed, or `None` when the server could not be diagnosed at all.
fn second_client(target: &Target, report: &mut Report) -> Option<bool> {
    let unable = |report: &mut Report, why: &str| {
        report.note(format!("modèle : diagnostic impossible, {why}"));
        None
    };
    let Ok(mut first) = session(target) else {
        return unable(report, "le serveur n'accepte plus de connexion");
    };
    if ping(target.kind, &mut first, 10, ANSWER_WAIT).is_err() {
        return unable(report, "le serveur ne répond pas à une requête simple");
    }
    let Ok(mut second) = target.open() else {
        return unable(report, "une deuxième connexion est refusée");
    };
    let start = Instant::now();
    // pesto greets first: the greeting is the sign of being served.
    let request = ping_bytes(target.kind, 11);
    let sent = if target.kind == Kind::Pesto {
        Ok(())
    } else {
        second.send(&request)
    };
    let answer = |conn: &mut crate::wire::Conn, wait| {
        if target.kind == Kind::Pesto {
            conn.line(wait)
        } else {
            ping_answer(target.kind, conn, &request, wait)
        }
    };
    if sent.is_ok() && answer(&mut second, SECOND_CLIENT_WAIT).complete() {
        report.note(format!(
            "modèle : un deuxième client est servi pendant que le premier reste connecté (en {}) : plusieurs clients à la fois, comme select (TP5b 2.1), les threads (2.2) ou un réacteur (Twisted)",
            seconds(start.elapsed())
        ));
        return Some(true);
    }
    drop(first);
    let left = Instant::now();
    if sent.is_ok() && answer(&mut second, AFTER_FIRST_LEFT).complete() {
        let advice = if target.kind == Kind::Kv {
            " ; le catalogue demande plusieurs clients à la fois pour kv"
        } else {
            ""
        };
        report.note(format!(
            "modèle : un client à la fois : le deuxième client a attendu {} et n'a été servi qu'une fois le premier parti ({} après) — le modèle bloquant de TP5b 1.2 ; voir 2.1 et 2.2 pour en servir plusieurs{advice}",
            seconds(left - start),
            seconds(left.elapsed())
        ));
    } else {
        report.note(format!(
            "modèle : un deuxième client n'est pas servi, ni pendant {} avec le premier, ni {} après son départ : le serveur est-il bloqué ?",
            seconds(SECOND_CLIENT_WAIT),
            seconds(AFTER_FIRST_LEFT)
        ));
    }
    Some(false)
}

/// Step 2: MANY clients connect one by one, each served before the next
/// comes, all staying; then all ask again together. The whole step has
/// one deadline, so a server that answers slowly cannot stretch it.
fn many_clients(target: &Target, report: &mut Report) {
    let start = Instant::now();
    let deadline = start + MANY_DEADLINE;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut conns = Vec::new();
    for n in 0..MANY {
        if left().is_zero() {
            break;
        }
        match session(target) {
            Ok(mut c) => {
                if ping(target.kind, &mut c, 100 + n, left().min(ANSWER_WAIT)).is_err() {
                    break;
                }
                conns.push(c);
            }
            Err(_) => break,
        }
    }
    let connected = conns.len();
    // All ask at once, then every answer is read, within ANSWER_WAIT.
    let requests: Vec<Vec<u8>> = (0..connected)
        .map(|n| ping_bytes(target.kind, 200 + n))
        .collect();
    for (c, r) in conns.iter_mut().zip(&requests) {
        let _ = c.send(r);
    }
    let asked = Instant::now();
    let served = conns
        .iter_mut()
        .zip(&requests)
        .map(|(c, r)| {
            let wait = (asked + ANSWER_WAIT).saturating_duration_since(Instant::now());
            ping_answer(target.kind, c, r, wait.max(Duration::from_millis(1))).complete()
        })
        .filter(|&ok| ok)
        .count();
    if served == MANY {
        report.note(format!(
            "modèle : {MANY} clients connectés ensemble, tous servis (en {})",
            seconds(start.elapsed())
        ));
    } else {
        report.note(format!(
            "modèle : sur {MANY} clients qui se connectent l'un après l'autre et restent, {connected} {} servis en {}, puis {served} {} quand tous demandent ensemble",
            if connected > 1 { "ont été" } else { "a été" },
            seconds(MANY_DEADLINE),
            if served > 1 { "servis" } else { "servi" },
        ));
    }
}

/// Step 3: one client sends for FLOOD_TIME without ever reading its
/// answers; meanwhile, another client asks. Is it served, and how fast?
fn flooder(target: &Target, report: &mut Report) {
    let Ok(flood) = target.open() else { return };
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut stream = flood.stream;
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    let chunk: Vec<u8> = ping_bytes(target.kind, 300).repeat(64 * 1024 / 16);
    let (stop2, sent2) = (Arc::clone(&stop), Arc::clone(&sent));
    let deadline = Instant::now() + FLOOD_TIME;
    let writer = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
            match stream.write(&chunk) {
                Ok(n) => {
                    sent2.fetch_add(n, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Blocked (the server stopped reading us, as it should
                // with backpressure) or closed: keep the socket open, idle,
                // until the end of the step.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        stream
    });
    // Let the flood fill the buffers, then ask from another client.
    std::thread::sleep(FLOOD_TIME / 2);
    let asked = Instant::now();
    let outcome = session(target).map(|mut c| ping(target.kind, &mut c, 301, ANSWER_WAIT));
    stop.store(true, Ordering::Relaxed);
    // The writer hands the flooding socket back: it closes here, only once
    // the other client has been timed.
    drop(writer.join());
    let sent = sent.load(Ordering::Relaxed);
    let volume = format!("{:.1} Mio", sent as f64 / (1 << 20) as f64).replace('.', ",");
    match outcome {
        // An echo server that read far more than the socket buffers hold
        // from a client that reads nothing keeps the echo in memory.
        Ok(Ok(took)) if target.kind == Kind::Echo && sent > UNBOUNDED => report.note(format!(
            "modèle : un client qui envoie sans lire ne gêne pas les autres (un autre client servi en {}), mais le serveur a lu {volume} de ce client, bien plus qu'il n'a pu lui renvoyer : le reste de l'écho attend dans sa mémoire, qui grandit sans limite — cessez de lire un client tant que son écho n'est pas parti (TP5b 2.1 ; asyncio : await writer.drain() ; Twisted : pauseProducing)",
            seconds(took)
        )),
        Ok(Ok(took)) => report.note(format!(
            "modèle : un client qui envoie sans lire ({volume} envoyés) ne gêne pas les autres : un autre client servi en {}",
            seconds(took)
        )),
        _ => report.note(format!(
            "modèle : un client qui envoie sans lire ({volume} envoyés) bloque les autres : un autre client n'a pas été servi en {} ; dans une boucle select, un sendall bloquant vers ce client arrête tout le serveur — cessez de lire un client tant que sa réponse n'est pas partie (TP5b 2.1), ou un thread par client (2.2)",
            seconds(asked.elapsed())
        )),
    }
}
