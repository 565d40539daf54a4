//! What every TCP kind shares: the smallest request of each kind (the
//! "ping" that the knock after each check and the model steps send), the
//! first contact (does the server speak first? answer late?), and the
//! checks that are about serving clients rather than about the protocol —
//! a client that resets, two clients taking turns, a server idle.

use std::time::{Duration, Instant};

use crate::Kind;
use crate::advice::{Lang, Topic, say};
use crate::report::{Check, Failure};
use crate::target::Target;
use crate::verdict::BUSY;
use crate::wire::{ANSWER_WAIT, Conn, End, Got, seconds, show, write_error};

/// How long labcheck listens, right after connecting and before sending
/// anything, for a server that speaks first.
const GREETING_WAIT: Duration = Duration::from_millis(300);

/// When a first request meets silence, how much longer labcheck waits, once,
/// to tell a slow server from a silent one.
const SLOW_WAIT: Duration = Duration::from_secs(4);

/// How long the server is given to meet a reset before we knock again: if
/// the reset kills it, the next connection finds nobody.
const AFTER_RESET: Duration = Duration::from_millis(250);

/// How long a CPU measure of an idle server lasts.
const IDLE_WINDOW: Duration = Duration::from_millis(300);

/// pesto's answer to `hello`.
pub const HELLO: &[u8] = b"Hello! How are you?\r\n";

/// A connection ready for requests: for pesto, its greeting line read.
pub fn session(target: &Target) -> Result<Conn, Failure> {
    let mut conn = target.open()?;
    if target.kind == Kind::Pesto {
        let got = conn.line(target.answer_wait());
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

/// The smallest request of each kind.
pub fn ping_bytes(kind: Kind, n: usize) -> Vec<u8> {
    match kind {
        Kind::Echo => format!("labcheck ping {n} {}\n", crate::wire::unique()).into_bytes(),
        Kind::Prime | Kind::PrimeUdp => b"7\n".to_vec(),
        Kind::Kv => format!("GET labcheck-ping-{n}-{}\n", crate::wire::unique()).into_bytes(),
        // As the seed's client and telnet end lines (LineOnlyReceiver's
        // default delimiter); a bare `\n` is a check of its own.
        Kind::Pesto => b"hello\r\n".to_vec(),
        Kind::EchoUdp => format!("ping {}\n", crate::wire::unique()).into_bytes(),
    }
}

/// Is `got` the right answer to the ping `request`? The bytes are compared
/// (any bytes are not an answer); an end of line `\r\n` for `\n`, or none,
/// is a check's business, not the ping's.
pub fn is_answer(kind: Kind, request: &[u8], got: &[u8]) -> bool {
    let trim = |b: &[u8]| -> Vec<u8> {
        let end = b
            .iter()
            .rposition(|&c| c != b'\n' && c != b'\r')
            .map_or(0, |i| i + 1);
        b[..end].to_vec()
    };
    match kind {
        Kind::Echo | Kind::EchoUdp => got == request,
        Kind::Prime | Kind::PrimeUdp => trim(got) == b"T",
        Kind::Kv => trim(got) == b"NOTFOUND",
        Kind::Pesto => trim(got) == trim(HELLO),
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
/// took, or what came instead of the right answer.
pub fn ping(target: &Target, conn: &mut Conn, n: usize, wait: Duration) -> Result<Duration, Got> {
    let request = ping_bytes(target.kind, n);
    let start = Instant::now();
    if let Err(e) = conn.send(&request) {
        return Err(Got {
            bytes: Vec::new(),
            end: End::Error(write_error(&e)),
        });
    }
    let got = ping_answer(target.kind, conn, &request, wait);
    if is_answer(target.kind, &request, &got.bytes) {
        Ok(start.elapsed())
    } else {
        Err(got)
    }
}

/// The first contact, before any other check: on a fresh connection,
/// labcheck first listens (does the server speak first?), then sends the
/// smallest request and waits (does it answer, and in time?). A greeting
/// is said here once, then set aside on every later connection; a late
/// answer is said here once, then waited for by every later check.
pub fn first_contact(target: &Target) -> Check {
    let mut conn = target.open_raw()?;
    let early = conn.until_closed(GREETING_WAIT);
    let greeting = early.bytes.clone();
    if greeting.is_empty() && matches!(early.end, End::Closed | End::Reset) {
        return Err(Failure::new(
            "rien (une connexion)",
            &early,
            "le serveur ferme la connexion aussitôt acceptée, avant toute requête : il faut lire le client (recv) puis lui répondre avant de fermer — TP5b 1.2",
        ));
    }
    if !greeting.is_empty() {
        *target.greeting.borrow_mut() = Some(greeting.clone());
    }
    let request = ping_bytes(target.kind, 0);
    conn.send(&request).map_err(|e| {
        Failure::new(
            show(&request),
            write_error(&e),
            "le serveur ne lit pas ce qu'on lui envoie",
        )
    })?;
    let start = Instant::now();
    let mut got = ping_answer(target.kind, &mut conn, &request, ANSWER_WAIT);
    let mut late = None;
    if got.bytes.is_empty() && matches!(got.end, End::TimedOut(_)) {
        got = ping_answer(target.kind, &mut conn, &request, SLOW_WAIT);
        if got.bytes.is_empty() {
            return Err(Failure::new(
                show(&request),
                format!("rien en {}", seconds(ANSWER_WAIT + SLOW_WAIT)),
                silent_meaning(target),
            ));
        }
        late = Some(start.elapsed());
    }
    let mut problems = Vec::new();
    if !greeting.is_empty() {
        problems.push(format!(
            "le serveur parle le premier : il envoie {} dès la connexion, avant toute requête ; le protocole {} n'a pas de message d'accueil, et un client qui envoie sa requête puis lit la réponse (comme celui du cours) lit cet accueil à la place — retirez cet envoi (affichez-le plutôt dans le terminal du serveur) ; la suite le met de côté",
            show(&greeting),
            target.kind.name()
        ));
    }
    if let Some(took) = late {
        // The other checks wait this long, and more: they judge the
        // answers, not the delay again.
        target
            .patience
            .set((took * 2).clamp(ANSWER_WAIT, Duration::from_secs(10)));
        problems.push(format!(
            "la réponse arrive après {} : le serveur attend (sleep ?) ou calcule longtemps avant de répondre ; un client n'attend pas si longtemps",
            seconds(took)
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let sent = if greeting.is_empty() {
        show(&request)
    } else {
        format!(
            "rien (une connexion, {} d'attente), puis {}",
            seconds(GREETING_WAIT),
            show(&request)
        )
    };
    let came = match late {
        Some(took) => format!("{} après {}", show(&got.bytes), seconds(took)),
        None if greeting.is_empty() => got.to_string(),
        None => format!(
            "{} avant toute requête, puis {}",
            show(&greeting),
            show(&got.bytes)
        ),
    };
    let failure = Failure::new(sent, came, problems.join(" ; et "));
    // A server this slow would make every other check wait as long: the
    // run stops here, the cause said once.
    Err(match late {
        Some(_) => failure.fatal(
            "le serveur répond trop tard pour vérifier la suite (voir la première vérification)",
        ),
        None => failure,
    })
}

/// What silence to the very first request means, for each kind.
fn silent_meaning(target: &Target) -> String {
    let send = say(target.lang(), Topic::SendAll);
    match target.kind {
        Kind::Echo => format!(
            "rien ne revient, même en attendant : le serveur doit renvoyer les octets reçus ({send}) — TP5b 1.2"
        ),
        Kind::Prime => format!(
            "pas de réponse à 7\\n, même en attendant : le serveur lit-il jusqu'au \\n ? attend-il une autre fin de ligne (le LineReceiver de Twisted coupe sur \\r\\n par défaut : delimiter = b'\\n') ? répond-il ({send}) ? — Chapitre 2.2 1.1"
        ),
        _ => format!(
            "pas de réponse à une commande, même en attendant : le serveur lit-il jusqu'au \\n, et répond-il ({send}) ? — Chapitre 2.2"
        ),
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
    if !conn.readable_within(target.answer_wait()) {
        return Err(Failure::new(
            show(&request),
            format!("rien en {}", seconds(target.answer_wait())),
            "pas de réponse à une requête simple (voir les échecs plus haut) : la fermeture brutale (RST) ne peut pas se vérifier sans réponse laissée non lue",
        ));
    }
    drop(conn);
    std::thread::sleep(AFTER_RESET);
    let meaning = format!(
        "après un client parti brutalement (RST), le serveur ne répond plus : recv ou send y lève ConnectionResetError ; {}, et continuer — {section}",
        say(target.lang(), Topic::CatchReset)
    );
    let mut conn = match session(target) {
        Ok(conn) => conn,
        Err(f) => {
            return Err(Failure {
                sent: format!(
                    "{}, fermée sans lire la réponse (RST), puis {}",
                    show(&request),
                    f.sent
                ),
                got: f.got,
                meaning,
                fatal: f.fatal,
            });
        }
    };
    match ping(target, &mut conn, 2, target.answer_wait()) {
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

/// How long a second client may wait for its answer while the first stays
/// connected, before the server is taken for "one client at a time".
pub const SECOND_CLIENT_WAIT: Duration = Duration::from_millis(1500);

/// How long the second client may still wait once the first has left.
const AFTER_FIRST_LEFT: Duration = Duration::from_secs(3);

/// What the turns of two clients showed of the model (for the model notes).
#[derive(Debug, Clone)]
pub struct Turns {
    /// Was the second client served while the first stayed?
    pub concurrent: bool,
    pub note: String,
}

/// Two clients connected together take turns: A, B, A, B. A server that
/// serves one client at a time makes B wait until A leaves — its model,
/// not a failure. A select loop that reads the socket accepted last
/// (`conn`) instead of the one select says is ready (`sc`) serves B, then
/// no longer A.
pub fn turns(target: &Target) -> Result<Turns, Failure> {
    let wait = target.answer_wait();
    // Both connect before either speaks: a select loop that reads the
    // socket accepted last has accepted B when A speaks, whether it was
    // waiting in select or stuck in a recv on A (a closed socket left in
    // its list makes select return at once, and recv then waits on the
    // last client: it looks like a blocking server, unless B is already
    // there). A server of one client at a time serves A, the first.
    let mut a = session(target)?;
    let mut b = target.open()?;
    if let Err(got) = ping(target, &mut a, 40, wait) {
        // A lone client is served (the checks above): A is not, because
        // B is connected.
        let meaning = wrong_turn(
            target,
            &got,
            &[],
            "A, connecté le premier, n'est pas servi dès qu'un client B s'est connecté",
        );
        return Err(Failure::new(
            format!(
                "deux clients connectés, A puis B ; B ne dit rien, A envoie {}",
                show(&ping_bytes(target.kind, 40))
            ),
            got,
            meaning,
        ));
    }
    let start = Instant::now();
    // pesto greets first: the greeting is the sign of being served.
    let request = ping_bytes(target.kind, 41);
    let sent = if target.kind == Kind::Pesto {
        Ok(())
    } else {
        b.send(&request)
    };
    let answer = |conn: &mut Conn, wait| {
        let got = if target.kind == Kind::Pesto {
            conn.line(wait)
        } else {
            ping_answer(target.kind, conn, &request, wait)
        };
        !got.bytes.is_empty()
    };
    if sent.is_ok() && answer(&mut b, SECOND_CLIENT_WAIT.max(target.patience.get())) {
        let note = format!(
            "modèle : un deuxième client est servi pendant que le premier reste connecté (en {}) : plusieurs clients à la fois, comme select (TP5b 2.1), les threads (2.2) ou un réacteur (Twisted)",
            seconds(start.elapsed())
        );
        // Now A again, then B again: each must be served in turn.
        let request_b = request.clone();
        let request = ping_bytes(target.kind, 42);
        if let Err(got) = ping(target, &mut a, 42, wait) {
            let meaning = wrong_turn(
                target,
                &got,
                &request_b,
                "le client A n'est plus servi dès qu'un client B a parlé",
            );
            return Err(Failure::new(
                format!(
                    "deux clients connectés ; A servi, puis B servi, puis A envoie {}",
                    show(&request)
                ),
                got,
                meaning,
            ));
        }
        if let Err(got) = ping(target, &mut b, 43, wait) {
            let meaning = wrong_turn(
                target,
                &got,
                &request,
                "le client B n'est plus servi après un tour de A",
            );
            return Err(Failure::new(
                format!(
                    "deux clients connectés, à tour de rôle : A, B, A, puis B envoie {}",
                    show(&ping_bytes(target.kind, 43))
                ),
                got,
                meaning,
            ));
        }
        return Ok(Turns {
            concurrent: true,
            note,
        });
    }
    drop(a);
    let left = Instant::now();
    let note = if sent.is_ok() && answer(&mut b, AFTER_FIRST_LEFT.max(wait)) {
        let advice = if target.kind == Kind::Kv {
            " ; le serveur clé-valeur doit servir plusieurs clients à la fois"
        } else {
            ""
        };
        format!(
            "modèle : un client à la fois : le deuxième client a attendu {} et n'a été servi qu'une fois le premier parti ({} après) — le modèle bloquant de TP5b 1.2 ; voir 2.1 et 2.2 pour en servir plusieurs{advice}",
            seconds(left - start),
            seconds(left.elapsed())
        )
    } else {
        format!(
            "modèle : un deuxième client n'est pas servi, ni pendant {} avec le premier, ni {} après son départ : le serveur est-il bloqué ?",
            seconds(SECOND_CLIENT_WAIT),
            seconds(AFTER_FIRST_LEFT)
        )
    };
    Ok(Turns {
        concurrent: false,
        note,
    })
}

/// Why a client got `got` (not its answer) in the turns: bytes another
/// client sent (`other`) come to it (the server sends to every client);
/// other bytes (a wrong answer, said by the checks above); or nothing,
/// the select mistake.
fn wrong_turn(target: &Target, got: &Got, other: &[u8], what: &str) -> String {
    if got.bytes.is_empty() && matches!(got.end, End::Closed | End::Reset) {
        return "le serveur a fermé la connexion de ce client, qui n'était pas parti : une connexion se sert requête après requête, jusqu'à ce que le client parte (recv vide) — TP5b 1.2".into();
    }
    if got.bytes.is_empty() {
        return wrong_socket(target, what);
    }
    // Another ping's bytes (each ping's are unique): the echo of another
    // client's request, or of an earlier one sent to both.
    let theirs = |req: &[u8]| !req.is_empty() && got.bytes.windows(req.len()).any(|w| w == req);
    let mine = theirs(other) || got.bytes.starts_with(b"labcheck ping ");
    if mine && target.kind == Kind::Echo {
        "ce client reçoit ce qu'un autre client a envoyé : le serveur renvoie chaque message à tous les clients (une diffusion, comme un chat) ; un écho répond au seul client qui a parlé, sur sa socket — TP5b 2.1".into()
    } else {
        "la réponse n'est pas celle attendue (voir les vérifications plus haut) : chaque client doit recevoir la réponse à sa propre requête".into()
    }
}

/// The classic select mistake, in TP5b 2.1's terms, after `what` was seen.
fn wrong_socket(target: &Target, what: &str) -> String {
    // Several threads (not Java's own dozen): a thread per client that
    // reads a shared variable, not the socket it was given.
    let threads = target.local.as_ref().map_or(1, |l| l.shape().threads);
    if threads >= 3 && target.lang() != Lang::Java {
        return format!(
            "{what} : le serveur a un thread par client, mais chaque thread lit une variable globale (conn) que le prochain accept remplace, au lieu de la socket reçue en paramètre : handle(sc) doit n'utiliser que sc, son paramètre (threading.Thread(None, handle, None, (sc,))) — TP5b 2.2"
        );
    }
    let how = match target.lang() {
        Lang::C => {
            "en C : parcourez les descripteurs et lisez chaque fd où FD_ISSET(fd, &prets) est vrai, pas la variable du dernier accept"
        }
        Lang::Python => {
            "en Python : for sc in prets: … sc.recv(…), sc.sendall(…), pas conn, la socket du dernier accept"
        }
        _ => {
            "pour chaque socket de la liste rendue par select (for sc in prets), lisez et répondez sur celle-là, pas sur la dernière acceptée"
        }
    };
    format!(
        "{what} : après select, le serveur lit la socket acceptée en dernier au lieu de celle que select dit prête ; il attend alors sur un client qui ne dit rien — {how} — TP5b 2.1"
    )
}

/// A local server waits without burning CPU: with a client connected that
/// says nothing, and once that client has left.
pub fn idle(target: &Target) -> Check {
    let mut conn = session(target)?;
    let _ = ping(target, &mut conn, 50, target.answer_wait());
    let connected = target.idle_cpu(IDLE_WINDOW).unwrap_or(0);
    if connected >= BUSY {
        return Err(Failure::new(
            "un client connecté qui ne dit rien",
            format!(
                "le serveur réclame {connected} % d'un cœur pendant ce temps (il tourne, ou attend son tour pour tourner)"
            ),
            "boucle active : le serveur tourne sans attendre alors qu'il n'a rien à faire — select/poll à qui l'on demande l'écriture (wlist, EVENT_WRITE) alors qu'il n'y a rien à envoyer, une socket non bloquante relue en boucle (BlockingIOError attrapée, puis on recommence), un délai de 0 ; ne demandez l'écriture que tant qu'il reste à envoyer, et laissez select attendre (sans délai) — TP5b 2.1",
        ));
    }
    drop(conn);
    let after = target.idle_cpu(IDLE_WINDOW).unwrap_or(0);
    if after >= BUSY {
        return Err(Failure::new(
            "un client qui se connecte, reçoit sa réponse, puis part",
            format!(
                "le serveur réclame ensuite {after} % d'un cœur (il tourne, ou attend son tour pour tourner)"
            ),
            format!(
                "boucle active après le départ d'un client : sa boucle tourne sur une connexion fermée — {} ; ou, avec select, la socket fermée reste dans la liste (retirez-la et fermez-la) — TP5b 1.2 et 2.1",
                say(target.lang(), Topic::EndOfConnection)
            ),
        ));
    }
    Ok(())
}
