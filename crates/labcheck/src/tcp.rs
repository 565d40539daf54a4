//! What every TCP kind shares: a small request that any correct server of
//! the kind answers at once (the "ping" the model diagnosis times), and
//! the check that a client resetting its connection does not kill the
//! server.

use std::time::{Duration, Instant};

use crate::report::{Check, Failure};
use crate::wire::{ANSWER_WAIT, Conn, Got, seconds, show, write_error};
use crate::{Kind, Target};

/// How long the server is given to meet a reset before we knock again: if
/// the reset kills it, the next connection finds nobody.
const AFTER_RESET: Duration = Duration::from_millis(250);

/// A connection ready for requests: for pesto, its greeting line read.
pub fn session(target: &Target) -> Result<Conn, Failure> {
    let mut conn = target.open()?;
    if target.kind == Kind::Pesto {
        let got = conn.line(ANSWER_WAIT);
        if !got.complete() {
            return Err(Failure::new(
                "rien (une connexion)",
                got,
                "pas de ligne d'accueil : connectionMade doit envoyer « Connection with the server established! » — Pesto, Server",
            ));
        }
    }
    Ok(conn)
}

/// The smallest request of each kind, and when its answer is whole.
pub fn ping_bytes(kind: Kind, n: usize) -> Vec<u8> {
    match kind {
        Kind::Echo => format!("labcheck ping {n} {}\n", crate::wire::unique()).into_bytes(),
        Kind::Prime | Kind::PrimeUdp => b"7\n".to_vec(),
        Kind::Kv => format!("GET labcheck-ping-{n}\n").into_bytes(),
        // As the seed's client and telnet end lines (LineOnlyReceiver's
        // default delimiter); a bare `\n` is a check of its own.
        Kind::Pesto => b"hello\r\n".to_vec(),
        Kind::EchoUdp => b"ping\n".to_vec(),
    }
}

/// Reads the answer to `request` (sent before), within `wait`.
pub fn ping_answer(kind: Kind, conn: &mut Conn, request: &[u8], wait: Duration) -> Got {
    match kind {
        // An echo answer is the same bytes back.
        Kind::Echo => conn.exactly(request.len(), wait),
        _ => conn.line(wait),
    }
}

/// Sends a ping and waits up to `wait` for its answer; returns how long it
/// took, or what came instead.
pub fn ping(kind: Kind, conn: &mut Conn, n: usize, wait: Duration) -> Result<Duration, Got> {
    let request = ping_bytes(kind, n);
    let start = Instant::now();
    if let Err(e) = conn.send(&request) {
        return Err(Got {
            bytes: Vec::new(),
            end: crate::wire::End::Error(write_error(&e)),
        });
    }
    let got = ping_answer(kind, conn, &request, wait);
    // Any answer shows the client is served, even a wrong one (a missing
    // end of line is a check's business, not the model's).
    if got.complete() || !got.bytes.is_empty() {
        Ok(start.elapsed())
    } else {
        Err(got)
    }
}

/// A client sends a request, leaves the answer unread and closes: with
/// unread bytes in its buffer, its system resets the connection (RST)
/// instead of closing it politely. The server's next `recv` (or `send`)
/// then fails with `ConnectionResetError`, which must end that client
/// only, never the server.
pub fn reset_survival(target: &Target, section: &str) -> Check {
    let mut conn = target.open()?;
    let request = ping_bytes(target.kind, 1);
    conn.send(&request).map_err(|e| {
        Failure::new(
            show(&request),
            write_error(&e),
            "le serveur n'accepte pas la requête",
        )
    })?;
    // Wait for the answer to be there, unread (pesto's greeting is
    // enough): without unread bytes, closing sends no RST, and a server
    // that never answers has failed elsewhere already.
    if !conn.readable_within(ANSWER_WAIT) {
        return Err(Failure::new(
            show(&request),
            format!("rien en {}", seconds(ANSWER_WAIT)),
            "pas de réponse à une requête simple (voir les échecs plus haut) : la fermeture brutale (RST) ne peut pas se vérifier sans réponse laissée non lue",
        ));
    }
    drop(conn);
    std::thread::sleep(AFTER_RESET);
    let meaning = format!(
        "après un client parti brutalement (RST), le serveur ne répond plus : recv ou send y lève ConnectionResetError ; attrapez-la (try/except) pour fermer ce client seulement, et continuer — {section}"
    );
    let mut conn = match session(target) {
        Ok(conn) => conn,
        Err(f) => {
            return Err(Failure::new(
                format!(
                    "{}, fermée sans lire la réponse (RST), puis {}",
                    show(&request),
                    f.sent
                ),
                f.got,
                meaning,
            ));
        }
    };
    match ping(target.kind, &mut conn, 2, ANSWER_WAIT) {
        Ok(_) => Ok(()),
        Err(got) => Err(Failure::new(
            format!(
                "{} sur une connexion fermée sans lire la réponse (RST), puis {} sur une nouvelle",
                show(&request),
                show(&ping_bytes(target.kind, 2))
            ),
            got,
            meaning,
        )),
    }
}
