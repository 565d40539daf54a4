//! The prime checks (Chapitre 2.2): one line in, one line out (`T`, `F`
//! or `E`, then `\n`), right for every integer, with a stream cut into
//! lines however TCP delivers it. The course's server divides by trial:
//! an exact answer at once near 2^64 is a promise beyond the course, a
//! `remarque` (as is Python's `1_000`).

mod cases;
mod udp;

use std::time::Duration;

pub use udp::checks as udp;

use crate::advice::{Lang, Topic, say};
use crate::report::{Check, Failure, Level};
use crate::target::Target;
use crate::verdict::Risk;
use crate::wire::{ANSWER_WAIT, Conn, show};
use crate::{Run, Spec, tcp};
use cases::*;

/// How a check beyond the course is run; the last one leaves a server that
/// divides by trial busy for hours: no knock after it.
/// What `17\r\n` must give, and why.
const CRLF: &str = "17\\r\\n est la ligne 17 (fin de ligne de telnet et de bien des clients) : retirez la fin de ligne, \\r compris, avant de convertir (int() ignore \\r ; en C, strtol s'arrête sur \\r : acceptez-le en fin de ligne) ; réponse T\\n — Chapitre 2.2 1.1";

const BEYOND: Spec = Spec {
    level: Level::Beyond,
    risk: Risk::Plain,
    knock: true,
};

pub fn tcp(target: &Target, run: &mut Run) {
    run.check(
        "première requête : rien avant, une réponse à temps",
        || tcp::first_contact(target),
    );
    run.check("17 → T suivi de \\n", || {
        let mut conn = target.open()?;
        exchange_exact(
            &mut conn,
            b"17\n",
            b"T\n",
            "17 est premier — Chapitre 2.2 1.1",
        )
    });
    run.check("la liste du cours sur une seule connexion", || {
        ask_each(target, COURSE_LIST)
    });
    run.check("2 et 3 sont premiers, 9 et 25 non", || {
        ask_each(target, SMALL)
    });
    run.check("0, 1 et les négatifs → F", || {
        ask_each(target, NOT_PRIME)
    });
    run.check("ce qui n'est pas un entier → E", || {
        ask_each(target, NOT_INTEGERS)
    });
    run.check("accepté comme int() : espaces, signe, tabulation", || {
        ask_each(target, LIKE_INT)
    });
    run.check("fin de ligne \\r\\n acceptée", || {
        let mut conn = target.open()?;
        exchange(&mut conn, b"17\r\n", b"T\n", CRLF).map_err(|f| {
            // E: the \r was kept with the number.
            if f.got.starts_with("b'E") {
                Failure {
                    meaning: CRLF.into(),
                    ..f
                }
            } else {
                f
            }
        })
    });
    run.check("deux nombres dans une seule écriture", || {
        two_in_one_write(target)
    });
    run.check("un nombre coupé en deux écritures", || {
        one_in_two_writes(target)
    });
    let resets = Spec {
        risk: Risk::Reset,
        ..Spec::COURSE
    };
    run.check_as(
        resets,
        "survit à un client qui réinitialise sa connexion (RST)",
        || tcp::reset_survival(target, "TP5b 1.2, Chapitre 2.2 1.1"),
    );
    run.common_tcp();
    run.check_as(BEYOND, "1_000 accepté comme int() de Python", || {
        ask_each(target, UNDERSCORES)
    });
    run.check_as(BEYOND, "un négatif au-delà de 64 bits → F", || {
        ask_each(target, HUGE_NEGATIVE)
    });
    // Last, with no knock after it: a server that divides up to √n is
    // busy for hours after this.
    let last = Spec {
        knock: false,
        ..BEYOND
    };
    run.check_as(last, "exact et immédiat près de 2**64", || {
        ask_each(target, NEAR_2_64)
    });
}

/// Asks each case in turn on one connection.
fn ask_each(target: &Target, cases: &[Case]) -> Check {
    let mut conn = target.open()?;
    for (i, c) in cases.iter().enumerate() {
        let line = format!("{}\n", c.ask);
        let want = format!("{}\n", c.want);
        exchange(&mut conn, line.as_bytes(), want.as_bytes(), c.meaning).map_err(|f| {
            let closed = f.got.starts_with("rien, connexion");
            // Closed after answering the lines before: does a fresh
            // connection answer this very line? Then the server answers
            // one line per connection (it did not crash on this one).
            if i > 0 && closed && answers_alone(target, line.as_bytes()) {
                return Failure {
                    meaning: ONE_LINE.into(),
                    ..f
                };
            }
            if c.want == "F" && f.got.starts_with("b'T") && is_square(c.ask) {
                return Failure {
                    meaning: format!("{} n'est pas premier : c'est un carré ; la division s'arrête avant √n (range(2, int(n ** 0.5)) exclut √n : range(2, int(n ** 0.5) + 1), ou while d * d <= n) — Chapitre 2.2 1.1", c.ask),
                    ..f
                };
            }
            f
        })?;
    }
    Ok(())
}

/// A server that closes the connection after its first answer.
const ONE_LINE: &str = "le serveur ferme la connexion après une réponse : il ne lit qu'une ligne par connexion (un seul recv ?) ; lisez les lignes en boucle, une réponse par ligne, jusqu'à ce que le client parte — Chapitre 2.2 1.1";

/// Is `line` answered on a fresh connection (whatever the answer)?
fn answers_alone(target: &Target, line: &[u8]) -> bool {
    let Ok(mut conn) = target.open() else {
        return false;
    };
    conn.send(line).is_ok() && conn.line(ANSWER_WAIT).complete()
}

/// `9`, `25`, `49`: the square of an integer above 1.
fn is_square(text: &str) -> bool {
    let Ok(n) = text.trim().parse::<u64>() else {
        return false;
    };
    let root = (n as f64).sqrt().round() as u64;
    root > 1 && root * root == n
}

/// Sends `line`, expects exactly `want` (`T\n`) as the next line: the
/// first check, the one that says whether the answer ends as the course's
/// client expects.
fn exchange_exact(conn: &mut Conn, line: &[u8], want: &[u8], meaning: &str) -> Check {
    ask_line(conn, line, want, meaning, |got| got == want).map_err(|f| {
        // Silence to the very first line: most often a server that waits
        // for another end of line.
        if f.got.starts_with("rien en") {
            Failure {
                meaning: format!("{} ; le serveur attend-il une autre fin de ligne ? (le LineReceiver de Twisted coupe sur \\r\\n par défaut : delimiter = b'\\n')", f.meaning),
                ..f
            }
        } else {
            f
        }
    })
}

/// Sends `line`, expects `want` as the next line; `T\r\n` counts as
/// `T\n` here (a server ending its answers with `\r\n` fails the first
/// check only, with its explanation, not every check).
fn exchange(conn: &mut Conn, line: &[u8], want: &[u8], meaning: &str) -> Check {
    ask_line(conn, line, want, meaning, |got| same_answer(got, want))
}

/// `T\n`, or `T\r\n`, for `want` = `T\n`.
pub(super) fn same_answer(got: &[u8], want: &[u8]) -> bool {
    got == want || got.strip_suffix(b"\r\n") == want.strip_suffix(b"\n")
}

/// Sends `line` and reads the next line: `right` says if it is the
/// answer; if not, the failure says what came and why it is wrong.
fn ask_line(
    conn: &mut Conn,
    line: &[u8],
    want: &[u8],
    meaning: &str,
    right: impl Fn(&[u8]) -> bool,
) -> Check {
    conn.send(line)
        .map_err(|e| Failure::new(show(line), crate::wire::write_error(&e), meaning))?;
    let got = conn.line(ANSWER_WAIT);
    if got.complete() && right(&got.bytes) {
        return Ok(());
    }
    let came = format!("{got} (attendu {})", show(want));
    let meaning = answer_meaning(conn.lang, &got.bytes, &got.end, want, meaning);
    Err(Failure::new(show(line), came, meaning))
}

/// A wrong answer's likeliest cause; `fallback` when it is simply wrong.
pub(super) fn answer_meaning(
    lang: Lang,
    got: &[u8],
    end: &crate::wire::End,
    want: &[u8],
    fallback: &str,
) -> String {
    use crate::wire::End;
    let word = String::from_utf8_lossy(got).trim().to_lowercase();
    if matches!(word.as_str(), "true" | "false") {
        return format!(
            "le serveur répond {} : c'est un booléen écrit tel quel (str(True), print) ; le protocole répond une lettre, T\\n, F\\n ou E\\n — Chapitre 2.2 1.1",
            String::from_utf8_lossy(got).trim()
        );
    }
    if got.strip_suffix(b"\r\n").is_some() && same_answer(got, want) {
        return "la réponse finit par \\r\\n : le protocole répond T\\n, F\\n ou E\\n, fini par \\n seul (le client du cours compare avec b'T\\n') — Chapitre 2.2 1.1".into();
    }
    if same_answer(want, b"E\n") && (same_answer(got, b"T\n") || same_answer(got, b"F\n")) {
        return format!(
            "{fallback} ; le serveur prend pour un entier ce qui n'en est pas un (il convertit le début de la ligne et ignore le reste ?) ; {}",
            say(lang, Topic::ParseInt)
        );
    }
    if same_answer(got, b"E\n") && !same_answer(want, b"E\n") {
        return format!(
            "le serveur répond E (pas un entier) à un entier que int() accepte : convertissez avec int(), qui prend signe et espaces, pas avec isdigit() ni une expression régulière ; {} — Chapitre 2.2 1.1",
            say(lang, Topic::ParseInt)
        );
    }
    // Answers with no end of line (`T`, or `FT` for two numbers).
    let bare_answers = |b: &[u8]| b.iter().all(|c| matches!(c, b'T' | b'F' | b'E'));
    let right_letters = got.len() > 1 || want.starts_with(got);
    if !got.is_empty() && bare_answers(got) && right_letters {
        return "la réponse n'a pas de fin de ligne : le protocole répond une ligne, T\\n, F\\n ou E\\n (le client du cours compare avec b'T\\n') — Chapitre 2.2 1.1".into();
    }
    if got.is_empty() {
        return match end {
            End::Closed | End::Reset => format!(
                "connexion fermée sans réponse : le serveur a planté sur cette ligne, ou s'est arrêté (prime-server sans --forever ne sert qu'une connexion) ; {fallback}"
            ),
            End::TimedOut(_) => format!("pas de réponse à temps : {fallback}"),
            _ => fallback.to_string(),
        };
    }
    fallback.to_string()
}

/// `4\n17\n` in one write: two lines, two answers. A server that takes
/// one `recv` for one message answers `E` once (`int(b'4\n17\n')` fails).
fn two_in_one_write(target: &Target) -> Check {
    let mut conn = target.open()?;
    let sent = b"4\n17\n";
    conn.send(sent)
        .map_err(|e| Failure::new(show(sent), crate::wire::write_error(&e), "envoi impossible"))?;
    let first = conn.line(ANSWER_WAIT);
    let second = if first.complete() {
        Some(conn.line(ANSWER_WAIT))
    } else {
        None
    };
    if first.complete()
        && same_answer(&first.bytes, b"F\n")
        && let Some(second) = &second
        && second.complete()
        && same_answer(&second.bytes, b"T\n")
    {
        return Ok(());
    }
    let came = match &second {
        Some(second) => format!(
            "{} puis {second} (attendu b'F\\n' puis b'T\\n')",
            show(&first.bytes)
        ),
        None => format!("{first} (attendu b'F\\n' puis b'T\\n')"),
    };
    if !first.complete() && !first.bytes.is_empty() {
        let meaning = answer_meaning(
            conn.lang,
            &first.bytes,
            &first.end,
            b"F\n",
            "deux nombres, deux lignes : deux réponses, F\\n puis T\\n — Chapitre 2.2 1.1",
        );
        return Err(Failure::new(
            format!("{} en une seule écriture", show(sent)),
            came,
            meaning,
        ));
    }
    Err(Failure::new(
        format!("{} en une seule écriture", show(sent)),
        came,
        "deux nombres arrivés dans le même recv ont reçu une seule réponse : le serveur prend un recv pour un message ; TCP est un flux d'octets, il faut découper les lignes (chercher \\n, garder le reste pour la suite) — Chapitre 2.2 1.1",
    ))
}

/// `1` then, a moment later, `7\n`: one line, one answer (`T`). A server
/// that takes one `recv` for one message answers `F` to the lone `1`.
fn one_in_two_writes(target: &Target) -> Check {
    let mut conn = target.open()?;
    let fail = |came: String| {
        Failure::new(
            "b'1' puis, 0,3 s après, b'7\\n'",
            came,
            "le serveur a répondu avant la fin de la ligne « 17 » : il prend un recv pour un message ; TCP découpe le flux où il veut, il faut attendre le \\n — Chapitre 2.2 1.1",
        )
    };
    conn.send(b"1")
        .map_err(|e| fail(crate::wire::write_error(&e)))?;
    let early = conn.line(Duration::from_millis(300));
    if !early.bytes.is_empty() {
        return Err(fail(format!(
            "{} dès b'1' (attendu rien, puis b'T\\n')",
            show(&early.bytes)
        )));
    }
    conn.send(b"7\n")
        .map_err(|e| fail(crate::wire::write_error(&e)))?;
    let got = conn.line(ANSWER_WAIT);
    if got.complete() && same_answer(&got.bytes, b"T\n") {
        return Ok(());
    }
    let meaning = answer_meaning(
        conn.lang,
        &got.bytes,
        &got.end,
        b"T\n",
        "17 est premier — Chapitre 2.2 1.1",
    );
    Err(Failure::new(
        "b'1' puis, 0,3 s après, b'7\\n'",
        format!("{got} (attendu b'T\\n')"),
        meaning,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squares_are_told() {
        assert!(is_square("9") && is_square("25") && is_square("4"));
        assert!(!is_square("1") && !is_square("17") && !is_square("-9") && !is_square("x"));
    }
}
