//! The echo checks (TP5b): every byte comes back, exactly, in order —
//! whatever the bytes, whatever their size, for as long as the client
//! stays — and the server outlives its clients, even rude ones.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::report::{Check, Failure, Report};
use crate::wire::{self, ANSWER_WAIT, Datagram, End, Udp, show, size, unique};
use crate::{Target, tcp};

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
const WRITER_HEAD_START: Duration = Duration::from_secs(3);

/// How long the bulk echo may make no progress before we stop waiting.
const BULK_IDLE: Duration = Duration::from_secs(2);

/// The largest UDP payload over IPv4 (65 535 − 8 − 20): the catalogue's
/// echo-udp-server sends such a datagram back whole.
const BIG_DATAGRAM: usize = 65507;

pub fn tcp(target: &Target, report: &mut Report) {
    let id = unique();
    report.check("un message revient à l'identique", || {
        echo_once(target, format!("bonjour {id}\n").as_bytes())
    });
    report.check("la connexion sert plusieurs messages", || {
        several_messages(target, &id)
    });
    report.check("octets quelconques (binaire, UTF-8 invalide)", || {
        let mut bytes = format!("{id} ").into_bytes();
        bytes.extend_from_slice(b"caf\xc3\xa9 \xff\xfe\x00\x01 \xe9t\xe9\r\n");
        bytes.extend((0..=255u8).rev());
        bytes.push(b'\n');
        echo_once(target, &bytes)
    });
    report.check("message sans fin de ligne", || {
        echo_once(target, format!("sans fin de ligne {id}").as_bytes())
    });
    report.check("espaces et tabulations gardés", || {
        echo_once(
            target,
            format!("  deux  espaces\tet {id} tab \t \r\n").as_bytes(),
        )
    });
    report.check("8 Mio reviennent entiers et dans l'ordre", || bulk(target));
    report.check(
        "survit à un client qui réinitialise sa connexion (RST)",
        || tcp::reset_survival(target, "TP5b 1.2"),
    );
}

/// Sends `bytes` on a new connection; they must come back, exactly.
fn echo_once(target: &Target, bytes: &[u8]) -> Check {
    let mut conn = target.open()?;
    send(&mut conn, bytes)?;
    let got = conn.exactly(bytes.len(), ANSWER_WAIT);
    if got.complete() && got.bytes == bytes {
        // Nothing may follow: an echo adds nothing.
        let extra = conn.extra(Duration::from_millis(100));
        if extra.is_empty() {
            return Ok(());
        }
        let mut all = got.bytes;
        all.extend_from_slice(&extra);
        return Err(Failure::new(
            show(bytes),
            show(&all),
            added_meaning(bytes, &all),
        ));
    }
    let meaning = echo_meaning(bytes, &got.bytes, &got.end);
    Err(Failure::new(show(bytes), got, meaning))
}

fn send(conn: &mut wire::Conn, bytes: &[u8]) -> Check {
    conn.send(bytes).map_err(|e| {
        Failure::new(
            show(bytes),
            wire::write_error(&e),
            "le serveur ne lit pas ce qu'on lui envoie",
        )
    })
}

/// What a wrong echo of `sent` most likely means.
fn echo_meaning(sent: &[u8], got: &[u8], end: &End) -> String {
    let not_utf8 = std::str::from_utf8(sent).is_err();
    if got.is_empty() && matches!(end, End::Closed | End::Reset) {
        if not_utf8 {
            return "connexion fermée sur des octets qui ne sont pas de l'UTF-8 : le serveur les décode (decode) et plante ; un écho renvoie les octets tels quels, recv et send manipulent des tableaux d'octets — TP5b 1.1".into();
        }
        return "connexion fermée sans réponse : le serveur plante-t-il ? la boucle recv/send renvoie ce que recv a lu — TP5b 1.2".into();
    }
    if got.is_empty() && !sent.ends_with(b"\n") {
        return "rien ne revient tant que la ligne n'est pas finie : le serveur attend une fin de ligne (readline ?) ; un écho renvoie chaque recv tel quel, sans attendre — TP5b 1.2".into();
    }
    if got.is_empty() {
        return "rien ne revient : après recv, le serveur doit renvoyer les octets reçus avec send/sendall — TP5b 1.2".into();
    }
    if let Some(how) = changed_how(sent, got) {
        return format!("les octets reviennent changés : {how}");
    }
    if sent.starts_with(got) {
        return "une partie seulement revient : chaque recv doit être renvoyé en entier (sendall) — TP5b 2.1".into();
    }
    "les octets revenus diffèrent de ceux envoyés : un écho renvoie exactement ce que recv a lu — TP5b 1.2".into()
}

/// How an echo that came back different was most likely changed, when
/// it shows: decoded as text, its case changed, its spaces cleaned.
fn changed_how(sent: &[u8], got: &[u8]) -> Option<&'static str> {
    const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();
    let has = |b: &[u8], needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    if has(got, REPLACEMENT) && !has(sent, REPLACEMENT) {
        return Some(
            "des octets qui ne sont pas de l'UTF-8 sont devenus � (U+FFFD) : le serveur décode les octets en texte (decode(errors='replace')) puis les ré-encode ; un écho renvoie les octets tels quels, sans decode — TP5b 1.1",
        );
    }
    let latin1: Vec<u8> = sent
        .iter()
        .flat_map(|&b| char::from(b).to_string().into_bytes())
        .collect();
    if sent.iter().any(|b| !b.is_ascii()) && latin1.starts_with(got) {
        return Some(
            "chaque octet non ASCII est devenu deux octets : le serveur décode en latin-1 puis ré-encode en UTF-8 ; un écho renvoie les octets tels quels, sans decode — TP5b 1.1",
        );
    }
    let len = sent.len().min(got.len());
    if got[..len] != sent[..len] && got[..len].eq_ignore_ascii_case(&sent[..len]) {
        return Some(
            "les lettres ont changé de casse (upper, lower, capitalize ?) ; un écho renvoie les octets reçus, sans rien changer — TP5b 1.2",
        );
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if text(got)
        .split_whitespace()
        .eq(text(sent).split_whitespace())
    {
        return Some(
            "les espaces ou la fin de ligne ont changé : le serveur nettoie le texte (strip, split…) ; un écho renvoie les octets reçus, sans rien retirer ni ajouter — TP5b 1.2",
        );
    }
    if std::str::from_utf8(sent).is_err() && std::str::from_utf8(got).is_ok() {
        return Some(
            "des octets qui ne sont pas de l'UTF-8 ont changé : le serveur les décode (decode/encode, errors=…) ; un écho renvoie les octets tels quels, sans decode — TP5b 1.1",
        );
    }
    None
}

fn added_meaning(sent: &[u8], got: &[u8]) -> String {
    if got.starts_with(sent) && got.len() == sent.len() + 1 && got.ends_with(b"\n") {
        return "le serveur ajoute une fin de ligne (print ?) : un écho renvoie les octets reçus, sans rien ajouter — TP5b 1.2".into();
    }
    "le serveur renvoie plus que ce qu'il a reçu : un écho renvoie exactement ce que recv a lu, une fois — TP5b 1.2".into()
}

/// Three messages on one connection, each answered before the next.
fn several_messages(target: &Target, id: &str) -> Check {
    let mut conn = target.open()?;
    for n in 1..=3 {
        let msg = format!("message {n} sur la même connexion {id}\n").into_bytes();
        send(&mut conn, &msg)?;
        let got = conn.exactly(msg.len(), ANSWER_WAIT);
        if !(got.complete() && got.bytes == msg) {
            let meaning = if n > 1 && got.bytes.is_empty() {
                format!(
                    "le message {n} n'a pas d'écho (le premier en avait un) : le serveur ferme ou oublie la connexion après un message ; il faut une boucle recv/send jusqu'à ce que recv renvoie b'' — TP5b 1.2"
                )
            } else {
                echo_meaning(&msg, &got.bytes, &got.end)
            };
            return Err(Failure::new(show(&msg), got, meaning));
        }
    }
    Ok(())
}

/// 8 MiB of varied bytes, written by one thread while this one waits,
/// then reads: all of it must come back, in order.
fn bulk(target: &Target) -> Check {
    let started = Instant::now();
    let mut conn = target.open()?;
    let data = Arc::new(wire::pattern(BULK, wire::seed()));
    let mut writer = conn
        .stream
        .try_clone()
        .map_err(|e| Failure::new("8 Mio", e.to_string(), "erreur locale"))?;
    let written = Arc::new(AtomicUsize::new(0));
    let (to_send, progress) = (Arc::clone(&data), Arc::clone(&written));
    let sender = std::thread::spawn(move || {
        for chunk in to_send.chunks(64 * 1024) {
            writer.write_all(chunk).map_err(|e| wire::write_error(&e))?;
            progress.fetch_add(chunk.len(), Ordering::Relaxed);
        }
        Ok::<(), String>(())
    });
    wait_for_writer(&written);

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
    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
    let sent = sender
        .join()
        .unwrap_or_else(|_| Err("envoi interrompu".into()));
    bulk_verdict(&data, &got, &end, sent, started.elapsed())
}

/// What the bulk echo shows: all of it back (ok), bytes changed or lost
/// in the middle, too many, or the echo stopped short — and why, in the
/// course's words.
fn bulk_verdict(
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
            Some(how) => format!("les octets reviennent changés : {how}"),
            None if got.len() < BULK => "des octets manquent au milieu : `send` n'envoie pas tout, `sendall` oui ; sur une socket non bloquante (ou avec un délai), send renvoie combien d'octets il a pu envoyer, le reste est perdu si on l'ignore — TP5b 2.1".into(),
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
        (End::TimedOut(_), _) => "`send` n'envoie pas tout, `sendall` oui : sur une socket non bloquante (ou avec un délai), send renvoie combien d'octets il a pu envoyer, le reste est perdu si on l'ignore — TP5b 2.1".into(),
        _ => "le serveur a fermé la connexion en cours de route : une exception (decode sur des octets quelconques, BlockingIOError d'un send non bloquant ?) ; un écho renvoie les octets tels quels, avec sendall — TP5b 2.1".into(),
    };
    Err(Failure::new(what, came, meaning))
}

/// Waits until the writer has written everything or has stalled for
/// [`STALLED`], at most [`WRITER_HEAD_START`].
fn wait_for_writer(written: &AtomicUsize) {
    let start = Instant::now();
    let mut last = (0, Instant::now());
    while start.elapsed() < WRITER_HEAD_START {
        std::thread::sleep(Duration::from_millis(20));
        let now = written.load(Ordering::Relaxed);
        if now >= BULK {
            return;
        }
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= STALLED {
            return;
        }
    }
}

pub fn udp(target: &Target, report: &mut Report) {
    let id = unique();
    report.check("un datagramme revient à l'identique", || {
        datagram_back(target, format!("bonjour {id}\n").as_bytes())
    });
    report.check("la réponse vient du port du serveur", || {
        same_port(target, &id)
    });
    report.check("octets quelconques (binaire, UTF-8 invalide)", || {
        let mut bytes = format!("{id} ").into_bytes();
        bytes.extend((0..=255u8).rev());
        datagram_back(target, &bytes)
    });
    report.check("un datagramme de 65 507 octets revient entier", || {
        let mut bytes = wire::pattern(BIG_DATAGRAM, wire::seed());
        bytes[..id.len()].copy_from_slice(id.as_bytes());
        datagram_back(target, &bytes)
    });
    report.check("deux clients, chacun sa réponse", || {
        two_clients(target, &id)
    });
    report.note(
        "UDP : pas de connexion, une seule boucle recvfrom/sendto sert tout le monde — TP5b 1.4"
            .into(),
    );
}

fn datagram_back(target: &Target, bytes: &[u8]) -> Check {
    let answer = open_udp(target)?.ask(bytes, ANSWER_WAIT);
    judge_datagram(bytes, answer)
}

/// `bytes` must have come back whole and unchanged.
fn judge_datagram(bytes: &[u8], answer: Datagram) -> Check {
    match &answer {
        Datagram::From(got, _) if got == bytes => Ok(()),
        Datagram::From(got, _) => {
            let meaning = if got.len() < bytes.len() && bytes.starts_with(got) {
                format!(
                    "le datagramme revient coupé à {} : recvfrom(N) ne garde que N octets d'un datagramme, le reste est perdu ; passez 65535 — TP5b 1.4",
                    size(got.len())
                )
            } else if std::str::from_utf8(bytes).is_err() {
                "les octets reviennent changés : le serveur les décode (decode) ; un écho renvoie les octets tels quels — TP5b 1.1".into()
            } else {
                "le datagramme revient changé : sendto doit renvoyer exactement ce que recvfrom a lu — TP5b 1.4".into()
            };
            Err(Failure::new(sent_udp(bytes), answer, meaning))
        }
        _ => {
            let meaning = if bytes.len() > 2048 {
                "pas de réponse à un gros datagramme : le serveur plante-t-il (recvfrom trop petit, decode) ? — TP5b 1.4"
            } else if std::str::from_utf8(bytes).is_err() {
                "pas de réponse à des octets qui ne sont pas de l'UTF-8 : le serveur les décode (decode) et plante ? un écho renvoie les octets tels quels — TP5b 1.1"
            } else {
                "pas de réponse : le serveur doit renvoyer chaque datagramme avec sendto(data, addr), l'adresse que recvfrom a donnée — TP5b 1.4"
            };
            Err(Failure::new(sent_udp(bytes), answer, meaning))
        }
    }
}

fn sent_udp(bytes: &[u8]) -> String {
    if bytes.len() > 64 {
        format!("un datagramme de {}, {}", size(bytes.len()), show(bytes))
    } else {
        show(bytes)
    }
}

fn open_udp(target: &Target) -> Result<Udp, Failure> {
    Udp::open(target.addr)
        .map_err(|e| Failure::new("rien", format!("{e}"), "socket UDP locale impossible"))
}

/// The answer must come from the address and port we wrote to: a
/// "connected" client (`nc -u`, `connect` then `send`) only takes
/// datagrams from there.
fn same_port(target: &Target, id: &str) -> Check {
    let udp = open_udp(target)?;
    let bytes = format!("origine {id}\n").into_bytes();
    match udp.ask(&bytes, ANSWER_WAIT) {
        Datagram::From(_, from) if from == netlabs::net::canonical(target.addr) => Ok(()),
        answer @ Datagram::From(..) => Err(Failure::new(
            format!("{} à {}", show(&bytes), target.addr),
            answer,
            "la réponse part d'une autre socket que celle qui a reçu : un client connecté (nc -u, connect) ne la voit pas ; répondez avec sendto sur la socket du recvfrom — TP5b 1.4",
        )),
        answer => Err(Failure::new(
            show(&bytes),
            answer,
            "pas de réponse : le serveur doit renvoyer chaque datagramme avec sendto — TP5b 1.4",
        )),
    }
}

/// Two sockets (two ports) ask in turn: each answer goes to its asker.
fn two_clients(target: &Target, id: &str) -> Check {
    let a = open_udp(target)?;
    let b = open_udp(target)?;
    // Each datagram its own text (the turn number), so that A's second
    // answer cannot be its first one coming back late.
    for (turn, (who, udp)) in [("A", &a), ("B", &b), ("A", &a)].into_iter().enumerate() {
        let bytes = format!("client {who} {id} tour {}\n", turn + 1).into_bytes();
        match udp.ask(&bytes, ANSWER_WAIT) {
            Datagram::From(got, _) if got == bytes => {}
            answer => {
                return Err(Failure::new(
                    format!("{} depuis le client {who}", show(&bytes)),
                    answer,
                    "chaque réponse doit aller à l'adresse que recvfrom a donnée pour ce datagramme, pas au premier client — TP5b 1.4",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_echo_says_how() {
        let sent = b"caf\xc3\xa9 \xff\xfe ok\n";
        let replaced = "café \u{fffd}\u{fffd} ok\n".as_bytes();
        assert!(
            changed_how(sent, replaced)
                .unwrap()
                .contains("decode(errors='replace')")
        );
        let latin1 = "cafÃ© ÿþ ok\n".as_bytes();
        assert!(changed_how(sent, latin1).unwrap().contains("latin-1"));
        assert!(
            changed_how(b"Bonjour\n", b"BONJOUR\n")
                .unwrap()
                .contains("casse")
        );
        assert!(
            changed_how(b"  a b \r\n", b"a b\n")
                .unwrap()
                .contains("strip")
        );
        assert_eq!(changed_how(b"abc\n", b"xyz\n"), None);
    }

    #[test]
    fn a_bulk_echo_that_stops_short_says_why() {
        let data = wire::pattern(BULK, 7);
        let meaning = |got: &[u8], end: End, took: u64| {
            bulk_verdict(&data, got, &end, Ok(()), Duration::from_secs(took))
                .unwrap_err()
                .meaning
        };
        // Nothing at all came back: not a matter of send and sendall.
        let idle = End::TimedOut(BULK_IDLE);
        assert!(meaning(&[], idle.clone(), 5).starts_with("rien ne revient"));
        // The beginning, then nothing: the end of a send was lost.
        assert!(meaning(&data[..1000], idle, 5).contains("`sendall` oui"));
        // Still coming when the time was up: slow, not wrong.
        let slow = meaning(&data[..1000], End::TimedOut(BULK_DEADLINE), 10);
        assert!(
            slow.contains("très lentement (100 octets par seconde)"),
            "{slow}"
        );
        // All of it, right: ok.
        assert!(bulk_verdict(&data, &data, &End::Complete, Ok(()), Duration::ZERO).is_ok());
    }
}
