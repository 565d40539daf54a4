//! The pesto checks (the Pesto tutorial's command server, Twisted):
//! a greeting on connect, `\r\n` line endings as `sendLine` writes them,
//! `hello`, `write: ` saved and acknowledged, any other line answered
//! `Unknown command: …`, `goodbye` answered then the connection closed,
//! lines cut however TCP delivers them (`lineReceived`, not
//! `dataReceived`).

use std::time::Duration;

use crate::report::{Check, Failure};
use crate::target::Target;
use crate::tcp;
use crate::verdict::Risk;
use crate::wire::{ANSWER_WAIT, Conn, End, Got, show, unique};
use crate::{Run, Spec};

const SECTION: &str = "Pesto, Server (docs/twisted.md 6)";
const GREETING: &[u8] = b"Connection with the server established!\r\n";
const HELLO: &[u8] = b"Hello! How are you?\r\n";
const SAVED: &[u8] = b"Message saved!\r\n";
const GOODBYE: &[u8] = b"Noooo don't go awayyyyy...\r\n";

pub fn checks(target: &Target, run: &mut Run) {
    let id = unique();
    run.check("accueil à la connexion", || {
        let mut c = target.open()?;
        let got = c.line(ANSWER_WAIT);
        if got.complete() && trim_end(&got.bytes) == trim_end(GREETING) {
            return Ok(());
        }
        Err(Failure::new(
            "rien (une connexion)",
            format!("{got} (attendu {})", show(GREETING)),
            format!("connectionMade envoie « Connection with the server established! » dès la connexion — {SECTION}"),
        ))
    });
    run.check("lignes finies par \\r\\n", || crlf_endings(target));
    run.check("hello → Hello! How are you?", || {
        let mut c = tcp::session(target)?;
        exchange(
            &mut c,
            b"hello\r\n",
            HELLO,
            "à hello, le serveur répond « Hello! How are you? » ; une ligne finie par \\r\\n (sendLine du client, telnet) est la ligne hello : retirez le \\r",
        )
    });
    run.check("une ligne finie par \\n seul (nc) est lue aussi", || {
        let mut c = tcp::session(target)?;
        exchange(
            &mut c,
            b"hello\n",
            HELLO,
            "LineOnlyReceiver ne coupe que sur son delimiter, b'\\r\\n' par défaut : une ligne finie par \\n seul (nc, un script) n'arrive jamais à lineReceived ; mettez delimiter = b'\\n' et retirez le \\r final (line.rstrip(b'\\r'))",
        )
    });
    run.check("write: → Message saved!", || {
        let mut c = tcp::session(target)?;
        let line = format!("write: labcheck {id} : bonjour à tous\r\n");
        exchange(
            &mut c,
            line.as_bytes(),
            SAVED,
            "write: TEXTE enregistre TEXTE dans le fichier puis répond « Message saved! »",
        )
    });
    run.check("commande inconnue → Unknown command: …", || {
        let mut c = tcp::session(target)?;
        let line = format!("bonjour {id}");
        let want = format!("Unknown command: {line}\r\n");
        exchange(&mut c, format!("{line}\r\n").as_bytes(), want.as_bytes(), "toute autre ligne reçoit « Unknown command: » suivi de la ligne (le billet ne répond rien : le client ne sait pas que sa commande est perdue)")
    });
    run.check("deux lignes dans une seule écriture", || {
        two_lines_in_one_write(target)
    });
    run.check("une ligne coupée en deux écritures", || {
        one_line_in_two_writes(target)
    });
    run.check("goodbye → réponse, puis connexion fermée", || {
        goodbye_closes(target)
    });
    let resets = Spec {
        risk: Risk::Reset,
        ..Spec::COURSE
    };
    run.check_as(
        resets,
        "survit à un client qui réinitialise sa connexion (RST)",
        || tcp::reset_survival(target, SECTION),
    );
    run.common_tcp();
}

/// The greeting, then the answer to hello, end with `\r\n`: every line
/// the server writes, not just the first.
fn crlf_endings(target: &Target) -> Check {
    let meaning = format!(
        "sendLine finit chaque ligne par \\r\\n (le délimiteur de LineReceiver), pas \\n seul — {SECTION}"
    );
    let mut c = target.open()?;
    let greeting = c.line(ANSWER_WAIT);
    if !(greeting.complete() && greeting.bytes.ends_with(b"\r\n")) {
        return Err(Failure::new(
            "rien (une connexion)",
            format!("{greeting} (attendu {})", show(GREETING)),
            meaning,
        ));
    }
    c.send(b"hello\r\n").map_err(|e| {
        Failure::new(
            "b'hello\\r\\n'",
            crate::wire::write_error(&e),
            meaning.clone(),
        )
    })?;
    let answer = c.line(ANSWER_WAIT);
    if answer.complete() && !answer.bytes.ends_with(b"\r\n") && answer.bytes.len() > 1 {
        return Err(Failure::new(
            "b'hello\\r\\n'",
            format!("{answer} (attendu {})", show(HELLO)),
            meaning,
        ));
    }
    // No answer, or the wrong words: the hello check says so.
    Ok(())
}

/// `hello\r\nhello\r\n` in one write: two lines, two answers.
fn two_lines_in_one_write(target: &Target) -> Check {
    let mut c = tcp::session(target)?;
    let sent = b"hello\r\nhello\r\n";
    c.send(sent)
        .map_err(|e| Failure::new(show(sent), crate::wire::write_error(&e), "envoi impossible"))?;
    let mut came = Vec::new();
    let mut end = None;
    for _ in 0..2 {
        let got = c.line(ANSWER_WAIT);
        came.extend_from_slice(&got.bytes);
        if !got.complete() {
            end = Some(got.end);
            break;
        }
    }
    let lines: Vec<&[u8]> = came
        .split_inclusive(|&b| b == b'\n')
        .map(trim_end)
        .collect();
    if lines == [trim_end(HELLO), trim_end(HELLO)] {
        return Ok(());
    }
    Err(Failure::new(
        format!("{} en une seule écriture", show(sent)),
        format!(
            "{} (attendu deux fois {})",
            Got {
                bytes: came,
                end: end.unwrap_or(End::Complete)
            },
            show(HELLO)
        ),
        format!(
            "dataReceived reçoit des octets, pas des lignes : deux lignes peuvent arriver ensemble ; utilisez lineReceived de LineOnlyReceiver — {SECTION}"
        ),
    ))
}

/// `hel`, then a moment later `lo\r\n`: one line, `hello`, and no answer
/// before its end.
fn one_line_in_two_writes(target: &Target) -> Check {
    let mut c = tcp::session(target)?;
    // `exchange` adds the section to the meaning; the early failure
    // says it itself.
    let meaning = "dataReceived reçoit des octets, pas des lignes : une ligne peut arriver en deux morceaux ; utilisez lineReceived de LineOnlyReceiver";
    c.send(b"hel").map_err(|e| {
        Failure::new(
            "b'hel'",
            crate::wire::write_error(&e),
            format!("{meaning} — {SECTION}"),
        )
    })?;
    let early = c.line(Duration::from_millis(300));
    if !early.bytes.is_empty() {
        return Err(Failure::new(
            "b'hel' puis, 0,3 s après, b'lo\\r\\n'",
            format!("{} dès b'hel'", show(&early.bytes)),
            format!("{meaning} — {SECTION}"),
        ));
    }
    exchange(&mut c, b"lo\r\n", HELLO, meaning).map_err(|f| Failure {
        sent: "b'hel' puis, 0,3 s après, b'lo\\r\\n'".into(),
        ..f
    })
}

/// `goodbye`: the answer, then the server closes the connection.
fn goodbye_closes(target: &Target) -> Check {
    let mut c = tcp::session(target)?;
    exchange(
        &mut c,
        b"goodbye\r\n",
        GOODBYE,
        "à goodbye, le serveur répond « Noooo don't go awayyyyy... »",
    )?;
    let after = c.until_closed(ANSWER_WAIT);
    if after.bytes.is_empty() && after.end == crate::wire::End::Closed {
        return Ok(());
    }
    Err(Failure::new(
        "b'goodbye\\r\\n'",
        format!("{} puis {after} (attendu la fermeture)", show(GOODBYE)),
        format!(
            "après goodbye, le serveur ferme la connexion : self.transport.loseConnection() — {SECTION}"
        ),
    ))
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &bytes[..end]
}

/// Sends `line`, expects `want` as the next line (its words; a `\n`
/// ending instead of `\r\n` is its own check).
fn exchange(c: &mut Conn, line: &[u8], want: &[u8], meaning: &str) -> Check {
    c.send(line)
        .map_err(|e| Failure::new(show(line), crate::wire::write_error(&e), meaning))?;
    let got = c.line(ANSWER_WAIT);
    if got.complete() && trim_end(&got.bytes) == trim_end(want) {
        return Ok(());
    }
    let meaning = if got.bytes.is_empty() {
        format!(
            "pas de réponse ({}) : {meaning} — {SECTION}",
            got.end_words()
        )
    } else {
        format!("{meaning} — {SECTION}")
    };
    Err(Failure::new(
        show(line),
        format!("{got} (attendu {})", show(want)),
        meaning,
    ))
}
