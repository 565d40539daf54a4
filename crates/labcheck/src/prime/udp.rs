//! The prime checks over UDP (Chapitre 2.2 1.2): one datagram in, one
//! datagram out, from the server's own port.

use super::cases::*;
use super::{BEYOND, answer_meaning, same_answer};
use crate::report::{Check, Failure};
use crate::target::Target;
use crate::wire::{Datagram, show};
use crate::{Run, Spec};

pub fn checks(target: &Target, run: &mut Run) {
    run.check("17 → T suivi de \\n", || {
        let seventeen = case("17", "T", "17 est premier");
        // Asked already, while looking for the server: its answer is kept.
        match target.first_answer.borrow_mut().take() {
            Some((_, answer)) => judge(target, &seventeen, answer, true),
            None => datagrams(target, &[seventeen], true),
        }
    });
    run.check("la réponse vient du port du serveur", || same_port(target));
    run.check("la liste du cours", || {
        datagrams(target, COURSE_LIST, false)
    });
    run.check("2 et 3 sont premiers, 9 et 25 non", || {
        datagrams(target, SMALL, false)
    });
    run.check("0, 1 et les négatifs → F", || {
        datagrams(target, NOT_PRIME, false)
    });
    run.check("ce qui n'est pas un entier → E", || {
        // Never an empty datagram: it stops the course's server.
        datagrams(target, &NOT_INTEGERS[..3], false)
    });
    run.check_as(BEYOND, "un négatif au-delà de 64 bits → F", || {
        datagrams(target, HUGE_NEGATIVE, false)
    });
    // Last, with no knock after it: a server that divides up to √n is
    // busy for hours after this.
    let last = Spec {
        knock: false,
        ..BEYOND
    };
    run.check_as(last, "exact et immédiat près de 2**64", || {
        datagrams(target, NEAR_2_64, false)
    });
    run.note(
        "UDP : pas de connexion, une seule boucle recvfrom/sendto sert tout le monde — Chapitre 2.2 1.2".into(),
    );
}

/// Each case in its own datagram (`17\n`, like the course's client),
/// answered by one datagram.
/// `first`: the first check, where `T\r\n` is wrong (elsewhere it counts
/// as `T\n`, as over TCP).
fn datagrams(target: &Target, cases: &[Case], first: bool) -> Check {
    let udp = target.udp()?;
    for c in cases {
        let line = format!("{}\n", c.ask);
        judge(
            target,
            c,
            udp.ask(line.as_bytes(), target.answer_wait()),
            first,
        )?;
    }
    Ok(())
}

/// The answer to one case.
fn judge(target: &Target, c: &Case, answer: Datagram, first: bool) -> Check {
    let line = format!("{}\n", c.ask);
    let want = format!("{}\n", c.want);
    let meaning = match &answer {
        Datagram::From(got, _) if got.as_slice() == want.as_bytes() => return Ok(()),
        Datagram::From(got, _) if !first && same_answer(got, want.as_bytes()) => return Ok(()),
        Datagram::Late(_, _, took) => format!(
            "la réponse arrive après {} : le serveur attend (sleep ?) ou calcule longtemps avant de répondre ; un client n'attend pas si longtemps — la suite lui laisse ce délai — Chapitre 2.2 1.2",
            crate::wire::seconds(*took)
        ),
        Datagram::From(got, _) => answer_meaning(
            target.lang(),
            got,
            &crate::wire::End::Complete,
            want.as_bytes(),
            c.meaning,
        ),
        _ => format!(
            "pas de réponse : le serveur doit répondre à chaque datagramme par sendto(réponse, addr) — Chapitre 2.2 1.2 ({})",
            c.meaning
        ),
    };
    Err(Failure::new(
        show(line.as_bytes()),
        format!("{answer} (attendu {})", show(want.as_bytes())),
        meaning,
    ))
}

fn same_port(target: &Target) -> Check {
    let udp = target.udp()?;
    match udp.ask(b"29\n", target.answer_wait()) {
        Datagram::From(_, from) if from == netlabs::net::canonical(target.addr) => Ok(()),
        answer @ Datagram::From(..) => Err(Failure::new(
            format!("b'29\\n' à {}", target.addr),
            answer,
            "la réponse doit partir de la socket qui a reçu (sendto sur la même socket), sinon un client connecté ne la voit pas — Chapitre 2.2 1.2",
        )),
        answer => Err(Failure::new(
            "b'29\\n'",
            answer,
            "pas de réponse : le serveur doit répondre à chaque datagramme par sendto(réponse, addr) — Chapitre 2.2 1.2",
        )),
    }
}
