//! The UDP echo checks (TP5b 1.4): each datagram comes back whole and
//! unchanged, from the server's own port, to the client that sent it.

use std::time::Duration;

use crate::Run;
use crate::report::{Check, Failure};
use crate::target::Target;
use crate::wire::{self, Datagram, show, size, unique};

/// The largest UDP payload over IPv4 (65 535 − 8 − 20): the project's
/// echo-udp-server sends such a datagram back whole.
const BIG_DATAGRAM: usize = 65507;

pub fn checks(target: &Target, run: &mut Run) {
    let id = unique();
    run.check("un datagramme revient à l'identique", || {
        // Asked already, while looking for the server: its answer is kept.
        match target.first_answer.borrow_mut().take() {
            Some((question, answer)) => judge_datagram(&question, answer),
            None => datagram_back(target, format!("bonjour {id}\n").as_bytes()),
        }
    });
    run.check("la réponse vient du port du serveur", || {
        same_port(target, &id)
    });
    run.check("octets quelconques (binaire, UTF-8 invalide)", || {
        let mut bytes = format!("{id} ").into_bytes();
        bytes.extend((0..=255u8).rev());
        datagram_back(target, &bytes)
    });
    run.check("un datagramme de 65 507 octets revient entier", || {
        let mut bytes = wire::pattern(BIG_DATAGRAM, wire::seed());
        bytes[..id.len()].copy_from_slice(id.as_bytes());
        datagram_back(target, &bytes)
    });
    run.check("deux clients, chacun sa réponse", || {
        two_clients(target, &id)
    });
    run.note(
        "UDP : pas de connexion, une seule boucle recvfrom/sendto sert tout le monde — TP5b 1.4"
            .into(),
    );
}

fn datagram_back(target: &Target, bytes: &[u8]) -> Check {
    let udp = target.udp()?;
    let answer = udp.ask(bytes, target.answer_wait());
    judge_datagram(bytes, answer)?;
    // One datagram, one answer: a second one would be read by the
    // client's next recvfrom as the answer to its next question.
    match udp.next(EXTRA_WAIT) {
        Datagram::From(again, from) => Err(Failure::new(
            sent_udp(bytes),
            format!("la réponse, puis encore {} depuis {from}", show(&again)),
            "le serveur répond deux fois au même datagramme (deux sendto) : le client lit la seconde réponse à la place de celle de sa question suivante ; un sendto par recvfrom — TP5b 1.4",
        )),
        _ => Ok(()),
    }
}

/// How long a second answer to one datagram is waited for.
const EXTRA_WAIT: Duration = Duration::from_millis(300);

/// `bytes` must have come back whole and unchanged.
fn judge_datagram(bytes: &[u8], answer: Datagram) -> Check {
    match &answer {
        Datagram::From(got, _) if got == bytes => Ok(()),
        Datagram::Late(got, _, took) if got == bytes => Err(Failure::new(
            sent_udp(bytes),
            &answer,
            format!(
                "la réponse arrive après {} : le serveur attend (sleep ?) avant de répondre ; un client n'attend pas si longtemps — la suite lui laisse ce délai — TP5b 1.4",
                wire::seconds(*took)
            ),
        )),
        Datagram::Late(got, from, _) => judge_datagram(bytes, Datagram::From(got.clone(), *from)),
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

/// The answer must come from the address and port we wrote to: a
/// "connected" client (`nc -u`, `connect` then `send`) only takes
/// datagrams from there.
fn same_port(target: &Target, id: &str) -> Check {
    let udp = target.udp()?;
    let bytes = format!("origine {id}\n").into_bytes();
    match udp.ask(&bytes, target.answer_wait()) {
        Datagram::From(_, from) if from == netlabs::net::canonical(target.addr) => Ok(()),
        Datagram::From(got, from) => {
            let meaning = format!(
                "la réponse vient du port {} au lieu de {} : elle part d'une autre socket que celle qui a reçu (une socket neuve pour répondre ?) ; un client connecté (nc -u, connect) ne la voit pas ; répondez avec sendto sur la socket du recvfrom — TP5b 1.4",
                from.port(),
                target.addr.port()
            );
            Err(Failure::new(
                format!("{} à {}", show(&bytes), target.addr),
                Datagram::From(got, from),
                meaning,
            ))
        }
        answer => Err(Failure::new(
            show(&bytes),
            answer,
            "pas de réponse : le serveur doit renvoyer chaque datagramme avec sendto — TP5b 1.4",
        )),
    }
}

/// Two sockets (two ports) ask in turn: each answer goes to its asker.
fn two_clients(target: &Target, id: &str) -> Check {
    let a = target.udp()?;
    let b = target.udp()?;
    // Each datagram its own text (the turn number), so that A's second
    // answer cannot be its first one coming back late.
    for (turn, (who, udp)) in [("A", &a), ("B", &b), ("A", &a)].into_iter().enumerate() {
        let bytes = format!("client {who} {id} tour {}\n", turn + 1).into_bytes();
        match udp.ask(&bytes, target.answer_wait()) {
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
