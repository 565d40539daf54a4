//! Which concurrency model the server looks like from outside — told as
//! information, never as a failure (a blocking server is the right answer
//! to TP5b 1.2):
//!
//! 1. a first client connects and is served, and stays; is a second one
//!    served meanwhile? (the check of two clients taking turns, in
//!    `tcp::turns`, finds it out and hands its note here);
//! 2. are many clients connected together all served? (select/poll,
//!    threads, a reactor) — and, for a server on this machine, what its
//!    process looks like meanwhile: one thread per client, one child
//!    process per client, or one thread for all;
//! 3. does a client that sends without reading slow the others? (a
//!    blocking `sendall` inside a select loop stops everyone).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::target::Target;
use crate::tcp::{Turns, is_answer, ping, ping_answer, ping_bytes, session};
use crate::wire::{ANSWER_WAIT, seconds};
use crate::{Kind, Run};

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

pub fn diagnose(target: &Target, run: &mut Run, turns: Option<Turns>) {
    let Some(turns) = turns else {
        return;
    };
    run.note(turns.note);
    if let Some(local) = &target.local {
        run.note(format!(
            "processus {} ({}) : langage {}",
            local.pid,
            local.command,
            local.lang.name()
        ));
    }
    if turns.concurrent {
        many_clients(target, run);
        flooder(target, run);
    } else if let Some(local) = &target.local {
        let shape = local.shape();
        run.note(format!(
            "modèle, vu du processus : {} et {}, un seul client servi à la fois",
            netlabs::plural(shape.threads, "aucun thread", "thread", "threads"),
            netlabs::plural(
                shape.children,
                "aucun processus enfant",
                "processus enfant",
                "processus enfants"
            ),
        ));
    }
}

/// Step 2: MANY clients connect one by one, each served before the next
/// comes, all staying; then all ask again together. The whole step has
/// one deadline, so a server that answers slowly cannot stretch it.
fn many_clients(target: &Target, run: &mut Run) {
    let idle = target.local.as_ref().map(|l| l.shape());
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
                if ping(target, &mut c, 100 + n, left().min(target.answer_wait())).is_err() {
                    break;
                }
                conns.push(c);
            }
            Err(_) => break,
        }
    }
    let connected = conns.len();
    // The process, seen while they are all connected: its model, for real.
    let busy = target.local.as_ref().map(|l| l.shape());
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
            let got = ping_answer(target.kind, c, r, wait.max(Duration::from_millis(1)));
            is_answer(target.kind, r, &got.bytes)
        })
        .filter(|&ok| ok)
        .count();
    if served == MANY {
        run.note(format!(
            "modèle : {MANY} clients connectés ensemble, tous servis (en {})",
            seconds(start.elapsed())
        ));
    } else {
        run.note(format!(
            "modèle : sur {MANY} clients qui se connectent l'un après l'autre et restent, {connected} {} servis en {}, puis {served} {} quand tous demandent ensemble",
            if connected > 1 { "ont été" } else { "a été" },
            seconds(MANY_DEADLINE),
            if served > 1 { "servis" } else { "servi" },
        ));
    }
    if let (Some(idle), Some(busy)) = (idle, busy) {
        run.note(format!(
            "modèle, vu du processus : {}",
            crate::local::model(idle, busy, connected as u64)
        ));
    }
}

/// Step 3: one client sends for FLOOD_TIME without ever reading its
/// answers; meanwhile, another client asks. Is it served, and how fast?
fn flooder(target: &Target, run: &mut Run) {
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
    let outcome = session(target).map(|mut c| ping(target, &mut c, 301, target.answer_wait()));
    stop.store(true, Ordering::Relaxed);
    // The writer hands the flooding socket back: it closes here, only once
    // the other client has been timed.
    drop(writer.join());
    let sent = sent.load(Ordering::Relaxed);
    let volume = format!("{:.1} Mio", sent as f64 / (1 << 20) as f64).replace('.', ",");
    match outcome {
        // An echo server that read far more than the socket buffers hold
        // from a client that reads nothing keeps the echo in memory.
        Ok(Ok(took)) if target.kind == Kind::Echo && sent > UNBOUNDED => run.note(format!(
            "modèle : un client qui envoie sans lire ne gêne pas les autres (un autre client servi en {}), mais le serveur a lu {volume} de ce client, bien plus qu'il n'a pu lui renvoyer : le reste de l'écho attend dans sa mémoire, qui grandit sans limite — cessez de lire un client tant que son écho n'est pas parti (TP5b 2.1 ; asyncio : await writer.drain() ; Twisted : pauseProducing)",
            seconds(took)
        )),
        Ok(Ok(took)) => run.note(format!(
            "modèle : un client qui envoie sans lire ({volume} envoyés) ne gêne pas les autres : un autre client servi en {}",
            seconds(took)
        )),
        _ => run.note(format!(
            "modèle : un client qui envoie sans lire ({volume} envoyés) bloque les autres : un autre client n'a pas été servi en {} ; dans une boucle select, un sendall bloquant vers ce client arrête tout le serveur — cessez de lire un client tant que sa réponse n'est pas partie (TP5b 2.1), ou un thread par client (2.2)",
            seconds(asked.elapsed())
        )),
    }
}
