//! The echo checks (TP5b): every byte comes back, exactly, in order —
//! whatever the bytes, whatever their size, for as long as the client
//! stays — and the server outlives its clients, even rude ones.

mod bulk;
pub mod udp;

use std::time::Duration;

use crate::advice::{Lang, Topic, say};
use crate::report::{Check, Failure};
use crate::target::Target;
use crate::verdict::Risk;
use crate::wire::{self, End, show, unique};
use crate::{Run, Spec, tcp};

pub fn tcp(target: &Target, run: &mut Run) {
    let id = unique();
    run.check(
        "première requête : rien avant, une réponse à temps",
        || tcp::first_contact(target),
    );
    run.check("un message revient à l'identique", || {
        echo_once(target, format!("bonjour {id}\n").as_bytes())
    });
    run.check("la connexion sert plusieurs messages", || {
        several_messages(target, &id)
    });
    run.check("octets quelconques (binaire, UTF-8 invalide)", || {
        let mut bytes = format!("{id} ").into_bytes();
        bytes.extend_from_slice(b"caf\xc3\xa9 \xff\xfe\x00\x01 \xe9t\xe9\r\n");
        bytes.extend((0..=255u8).rev());
        bytes.push(b'\n');
        echo_once(target, &bytes)
    });
    run.check("message sans fin de ligne", || {
        echo_once(target, format!("sans fin de ligne {id}").as_bytes())
    });
    run.check("espaces et tabulations gardés", || {
        echo_once(
            target,
            format!("  deux  espaces\tet {id} tab \t \r\n").as_bytes(),
        )
    });
    run.check("8 Mio reviennent entiers et dans l'ordre", || {
        bulk::bulk(target)
    });
    let leaves = Spec {
        risk: Risk::LeftUnread,
        ..Spec::COURSE
    };
    run.check_as(
        leaves,
        "survit à un client qui part au milieu d'un gros écho",
        || bulk::leave_midway(target),
    );
    let resets = Spec {
        risk: Risk::Reset,
        ..Spec::COURSE
    };
    run.check_as(
        resets,
        "survit à un client qui réinitialise sa connexion (RST)",
        || tcp::reset_survival(target, "TP5b 1.2"),
    );
    run.common_tcp();
}

/// Sends `bytes` on a new connection; they must come back, exactly.
fn echo_once(target: &Target, bytes: &[u8]) -> Check {
    let mut conn = target.open()?;
    send(&mut conn, bytes)?;
    let got = conn.exactly(bytes.len(), target.answer_wait());
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
    let meaning = echo_meaning(target.lang(), bytes, &got.bytes, &got.end);
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
fn echo_meaning(lang: Lang, sent: &[u8], got: &[u8], end: &End) -> String {
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
    // Text came back in the checks before; these bytes are not text: the
    // thread that decodes them died (UnicodeDecodeError), silently.
    if got.is_empty() && not_utf8 {
        return "rien ne revient pour des octets qui ne sont pas de l'UTF-8, alors que du texte revient : le serveur les décode (data.decode()) et le fil qui sert ce client meurt sur UnicodeDecodeError ; un écho renvoie les octets tels quels, sans decode — recv et sendall manipulent des bytes — TP5b 1.1".into();
    }
    if got.is_empty() {
        return format!(
            "rien ne revient : après recv, le serveur doit renvoyer les octets reçus ({}) — TP5b 1.2",
            say(lang, Topic::SendAll)
        );
    }
    if let Some(how) = changed_how(sent, got) {
        return format!("les octets reviennent changés : {how}");
    }
    // Cut right before the first NUL byte: a C string length.
    if sent.starts_with(got) && sent.get(got.len()) == Some(&0) {
        return "l'écho s'arrête juste avant le premier octet nul (\\x00) : le serveur mesure ce qu'il renvoie avec strlen, comme une chaîne C ; renvoyez les n octets que recv a rendus : send(c, buf, n, 0) — TP5b 1.2".into();
    }
    if sent.starts_with(got) {
        return format!(
            "une partie seulement revient : chaque recv doit être renvoyé en entier ({}) — TP5b 2.1",
            say(lang, Topic::SendAll)
        );
    }
    "les octets revenus diffèrent de ceux envoyés : un écho renvoie exactement ce que recv a lu — TP5b 1.2".into()
}

/// How an echo that came back different was most likely changed, when
/// it shows: decoded as text, its case changed, its spaces cleaned.
pub(crate) fn changed_how(sent: &[u8], got: &[u8]) -> Option<&'static str> {
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
    // Something, then the start of what was sent (an answer read to the
    // length of the request is cut before its end).
    let prefixed = (1..got.len()).any(|at| {
        let rest = &got[at..];
        rest.len() >= sent.len().min(4) && sent.starts_with(rest)
    });
    if prefixed && !sent.is_empty() {
        return Some(
            "le serveur ajoute un préfixe devant l'écho (« Echo: », un nom…) : il renvoie plus que ce qu'il a reçu ; un écho renvoie les octets reçus, sans rien ajouter — TP5b 1.2",
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
        let got = conn.exactly(msg.len(), target.answer_wait());
        if !(got.complete() && got.bytes == msg) {
            let meaning = if n > 1 && got.bytes.is_empty() {
                format!(
                    "le message {n} n'a pas d'écho (le premier en avait un) : le serveur ferme ou oublie la connexion après un message ; il faut une boucle recv/send jusqu'à ce que le client parte ({}) — TP5b 1.2",
                    say(target.lang(), Topic::EndOfConnection)
                )
            } else {
                echo_meaning(target.lang(), &msg, &got.bytes, &got.end)
            };
            return Err(Failure::new(show(&msg), got, meaning));
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
        assert!(
            changed_how(b"abc\n", b"Echo: abc\n")
                .unwrap()
                .contains("préfixe")
        );
        assert!(
            changed_how(b"bonjour 1\n", b"Echo: bonj")
                .unwrap()
                .contains("préfixe")
        );
    }

    #[test]
    fn a_c_string_cut_and_a_silent_decode_are_named() {
        let sent = b"ab \xff\x00\x01\n";
        let cut = echo_meaning(Lang::C, sent, b"ab \xff", &End::TimedOut(Duration::ZERO));
        assert!(cut.contains("strlen"));
        let silent = echo_meaning(Lang::Python, sent, b"", &End::TimedOut(Duration::ZERO));
        assert!(silent.contains("decode"));
        let text = echo_meaning(Lang::Python, b"ab\n", b"", &End::TimedOut(Duration::ZERO));
        assert!(!text.contains("decode") && text.contains("sendall"));
    }
}
