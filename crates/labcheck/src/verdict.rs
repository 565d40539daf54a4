//! After every check, labcheck knocks again (a fresh connection, a fresh
//! datagram): does the server still serve? This module turns what the
//! check saw and what the knock found into the check's verdict — pure
//! logic, tested without a socket.
//!
//! - The server still answers: the check's own verdict stands.
//! - It is gone (connection refused, ICMP "port unreachable", its process
//!   ended): the check killed it. That is this check's failure, named as a
//!   death with its likely cause, and nothing after it is run (so nothing
//!   after it is blamed on another cause).
//! - It accepts but answers no one: it is stuck since this check — most
//!   often in a loop on a connection whose client left (`recv` returning
//!   nothing, not handled); the CPU it burns says so when it is local.

use crate::advice::{Lang, Topic, say};
use crate::report::{Check, Failure};
use crate::target::Target;

/// What the knock after a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// A fresh client was served.
    Alive,
    /// Nothing receives there any more: the server ended.
    Dead,
    /// A fresh connection is accepted (by the system) or a datagram sent,
    /// but no answer came; `cpu`: the share of a core the local process
    /// burnt meanwhile, in percent, when known.
    Silent { cpu: Option<u32> },
    /// Not asked (a check after which the server is busy by design).
    Unknown,
}

/// What a check did that may kill a server, to name the death.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    /// Ordinary requests, the client leaving politely.
    Plain,
    /// A client that left with its answer unread (RST).
    Reset,
    /// A client that left while the server was still writing to it.
    LeftUnread,
}

/// The share of a core a process that should wait may want (run, or wait
/// its turn to run) before it is taken for spinning: a busy loop wants a
/// whole core (100 %) however loaded the machine; a server woken now and
/// then (a poll with a time-out, a timer) wants little, even though on a
/// loaded machine each wake waits its turn (14 % seen at a load of 18 on
/// 2 cores, with the server at nice 10).
pub const BUSY: u32 = 50;

/// The check's verdict once the knock after it is known. `heard`: whether
/// the server ever answered anything (a server that never did is the first
/// check's business, not a death).
pub fn after(check: Check, life: Life, risk: Risk, target: &Target) -> Check {
    let seen = Seen {
        heard: target.heard.get(),
        lang: target.lang(),
        udp: target.kind.is_udp(),
        hint: target.kind.hint(),
    };
    judge(check, life, risk, seen)
}

/// What is known of the server, for the verdict.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    /// Has it ever answered anything?
    pub heard: bool,
    pub lang: Lang,
    pub udp: bool,
    /// What to add for this kind (prime-server's --forever).
    pub hint: &'static str,
}

/// The verdict, from values only.
pub fn judge(check: Check, life: Life, risk: Risk, seen: Seen) -> Check {
    match life {
        Life::Alive | Life::Unknown => check,
        Life::Dead => Err(died(check, risk, seen)),
        Life::Silent { .. } if !seen.heard => check,
        Life::Silent { cpu } => Err(stuck(check, cpu, risk, seen.lang)),
    }
}

fn died(check: Check, risk: Risk, seen: Seen) -> Failure {
    let lang = seen.lang;
    let cause = match risk {
        Risk::LeftUnread => format!(
            "le serveur est mort quand un client est parti sans tout lire : écrire vers un client parti lève une erreur, ou tue le programme (SIGPIPE) ; {}",
            say(lang, Topic::SigPipe)
        ),
        Risk::Reset => format!(
            "le serveur est mort après un client parti brutalement (RST) : recv ou send y échouent (ConnectionResetError) ; {} — TP5b 1.2",
            say(lang, Topic::CatchReset)
        ),
        Risk::Plain if seen.udp => "le serveur s'est arrêté pendant cette vérification : s'arrête-t-il après un datagramme (il faut une boucle while True autour de recvfrom et sendto — TP5b 1.4), ou a-t-il planté sur ce qu'on lui a envoyé ?".to_string(),
        // Served, then gone: it serves one client and ends.
        Risk::Plain if check.is_ok() => format!("le serveur a servi le client de cette vérification, puis s'est arrêté : il ne sert qu'une connexion ; il faut une boucle autour d'accept, et, dedans, la boucle recv/send du client jusqu'à son départ ; {} — TP5b 1.2{}", say(lang, Topic::AcceptLoop), seen.hint),
        Risk::Plain => format!("le serveur est mort pendant cette vérification : a-t-il planté sur ce qu'on lui a envoyé, ou s'arrête-t-il après un client (il faut une boucle autour d'accept — TP5b 1.2) ?{}", seen.hint),
    };
    let gone = "le serveur ne tourne plus (mort pendant une vérification plus haut)";
    match check {
        Ok(()) if seen.udp => Failure::new(
            "cette vérification, puis un nouveau datagramme",
            "port fermé (ICMP port injoignable) : plus rien ne reçoit",
            cause,
        )
        .fatal(gone),
        Ok(()) => Failure::new(
            "cette vérification, puis une nouvelle connexion",
            "refusée : plus rien n'écoute",
            cause,
        )
        .fatal(gone),
        // The check itself found the server gone: the death says it all.
        Err(f) if f.fatal.is_some() => Failure {
            meaning: cause,
            ..f
        }
        .fatal(gone),
        // What the check saw stays; its meaning is the death.
        Err(f) => Failure {
            meaning: format!("{cause} (ce qui a été vu : {})", f.meaning),
            ..f
        }
        .fatal(gone),
    }
}

fn stuck(check: Check, cpu: Option<u32>, risk: Risk, lang: Lang) -> Failure {
    let spinning = match cpu {
        Some(share) if share >= BUSY => {
            format!(" ; il réclame {share} % d'un cœur sans rien faire : il tourne en rond")
        }
        _ => String::new(),
    };
    let cause = if risk == Risk::LeftUnread {
        format!(
            "le serveur ne sert plus personne depuis qu'un client est parti sans tout lire{spinning} : il est resté bloqué dans un envoi vers ce client, ou ce client l'a fait planter ; {} — TP5b 2.1",
            say(lang, Topic::SigPipe)
        )
    } else {
        format!(
            "le client de cette vérification a été servi, puis le serveur ne sert plus personne (une nouvelle connexion reste sans réponse){spinning} : quand un client part, recv ne bloque plus et renvoie une lecture vide ; si la boucle ne s'arrête pas là, elle tourne sur une connexion fermée et n'accepte plus personne — {} — TP5b 1.2",
            say(lang, Topic::EndOfConnection)
        )
    };
    let why = "le serveur ne répond plus (depuis une vérification plus haut)";
    match check {
        Ok(()) => Failure::new(
            "cette vérification, puis une requête sur une nouvelle connexion",
            "rien",
            cause,
        )
        .fatal(why),
        Err(f) => Failure {
            meaning: format!(
                "{} ; et depuis, le serveur ne répond plus à personne",
                f.meaning
            ),
            ..f
        }
        .fatal(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(lang: Lang) -> Seen {
        Seen {
            heard: true,
            lang,
            udp: false,
            hint: "",
        }
    }

    fn after(check: Check, life: Life, risk: Risk, heard: bool, lang: Lang) -> Check {
        judge(
            check,
            life,
            risk,
            Seen {
                heard,
                ..seen(lang)
            },
        )
    }

    fn failed() -> Check {
        Err(Failure::new("a", "b", "vu"))
    }

    #[test]
    fn a_living_server_keeps_the_check_verdict() {
        assert_eq!(
            after(Ok(()), Life::Alive, Risk::Plain, true, Lang::C),
            Ok(())
        );
        assert_eq!(
            after(failed(), Life::Alive, Risk::Plain, true, Lang::C),
            failed()
        );
        assert_eq!(
            after(Ok(()), Life::Unknown, Risk::Plain, true, Lang::C),
            Ok(())
        );
    }

    #[test]
    fn a_death_is_the_check_failure_with_its_cause() {
        let f = after(Ok(()), Life::Dead, Risk::LeftUnread, true, Lang::C).unwrap_err();
        assert!(f.meaning.contains("sans tout lire") && f.meaning.contains("SIG_IGN"));
        assert!(f.fatal.is_some());
        let f = after(Ok(()), Life::Dead, Risk::LeftUnread, true, Lang::Python).unwrap_err();
        assert!(f.meaning.contains("BrokenPipeError") && !f.meaning.contains("SIG_IGN"));
        // What the check saw is kept.
        let f = after(failed(), Life::Dead, Risk::Reset, true, Lang::Unknown).unwrap_err();
        assert_eq!(f.sent, "a");
        assert!(f.meaning.contains("RST") && f.meaning.contains("vu"));
    }

    #[test]
    fn a_server_that_ends_after_one_client_is_told_to_loop_on_accept() {
        let f = after(Ok(()), Life::Dead, Risk::Plain, true, Lang::Python).unwrap_err();
        assert!(f.meaning.contains("boucle autour d'accept"));
        assert!(!f.meaning.contains("if not data"));
        // A check that failed, then a death: a crash is as likely.
        let f = after(failed(), Life::Dead, Risk::Plain, true, Lang::Python).unwrap_err();
        assert!(f.meaning.contains("planté"));
    }

    #[test]
    fn a_server_stuck_after_a_client_left_is_named() {
        let f = after(
            Ok(()),
            Life::Silent { cpu: Some(97) },
            Risk::Plain,
            true,
            Lang::Python,
        )
        .unwrap_err();
        assert!(f.meaning.contains("97 %") && f.meaning.contains("if not data"));
        assert!(f.fatal.is_some());
        // A server that never said anything is not "stuck since".
        assert_eq!(
            after(
                failed(),
                Life::Silent { cpu: None },
                Risk::Plain,
                false,
                Lang::C
            ),
            failed()
        );
    }
}
