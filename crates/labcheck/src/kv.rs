//! The key-value checks (Chapitre 2.2, the store the chapter announces):
//! `SET`/`GET`/`DEL`/`KEYS`, case-insensitive commands, a value that is
//! the rest of the line, sorted `KEYS`, `ERR` for anything else, one
//! store shared by every client, lines cut however TCP delivers them.
//!
//! Every key is new to the server (pid and clock in its name), so no
//! answer can come from an earlier run or another client.

use std::time::Duration;

use crate::report::{Check, Failure};
use crate::target::Target;
use crate::tcp;
use crate::verdict::Risk;
use crate::wire::{ANSWER_WAIT, Conn, show, unique};
use crate::{Run, Spec};

/// Where the sheet explains the store.
const SECTION: &str = "Chapitre 2.2, le serveur clé-valeur (docs/chapitre-2.2.md 7)";

pub fn checks(target: &Target, run: &mut Run) {
    let id = unique();
    run.check(
        "première requête : rien avant, une réponse à temps",
        || tcp::first_contact(target),
    );
    run.check("SET puis GET", || {
        let mut c = target.open()?;
        ask(
            &mut c,
            &format!("SET {} valeur{id}", key(&id, "a")),
            "OK",
            "SET clé valeur répond OK",
        )?;
        ask(
            &mut c,
            &format!("GET {}", key(&id, "a")),
            &format!("VALUE valeur{id}"),
            "GET clé répond VALUE suivi de la valeur",
        )
    });
    run.check("une valeur avec des espaces", || {
        value_with_spaces(target, &id)
    });
    run.check("commandes en minuscules (set, get, Del, keys)", || {
        lower_case_commands(target, &id)
    });
    run.check("GET d'une clé absente → NOTFOUND", || {
        let mut c = target.open()?;
        ask(&mut c, &format!("GET {}", key(&id, "absente")), "NOTFOUND", "une clé jamais écrite n'a pas de valeur : NOTFOUND (pas de KeyError, pas de VALUE vide)")
    });
    run.check("DEL → OK, puis NOTFOUND", || {
        let mut c = target.open()?;
        ask(
            &mut c,
            &format!("SET {} x", key(&id, "d")),
            "OK",
            "SET répond OK",
        )?;
        ask(
            &mut c,
            &format!("DEL {}", key(&id, "d")),
            "OK",
            "DEL d'une clé présente répond OK",
        )?;
        ask(
            &mut c,
            &format!("GET {}", key(&id, "d")),
            "NOTFOUND",
            "une clé effacée n'a plus de valeur : NOTFOUND",
        )?;
        ask(
            &mut c,
            &format!("DEL {}", key(&id, "d")),
            "NOTFOUND",
            "DEL d'une clé absente répond NOTFOUND",
        )
    });
    run.check("KEYS triées", || keys_sorted(target, &id));
    run.check("ERR sur ce qui n'est pas une commande", || {
        not_commands(target, &id)
    });
    run.check("les données sont partagées entre clients", || {
        // One client after the other, so that a server serving one client
        // at a time passes too: sharing is the point here, not concurrency.
        let mut a = target.open()?;
        ask(&mut a, &format!("SET {} partagé{id}", key(&id, "f")), "OK", "SET répond OK")?;
        drop(a);
        let mut b = target.open()?;
        ask(&mut b, &format!("GET {}", key(&id, "f")), &format!("VALUE partagé{id}"), "ce qu'un client a écrit, un autre le lit : un seul dictionnaire pour tout le serveur, pas un par connexion")
    });
    run.check("deux commandes dans une seule écriture", || {
        two_in_one_write(target, &id)
    });
    run.check("une commande coupée en deux écritures", || {
        one_in_two_writes(target, &id)
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

/// A value is the rest of the line: its inner and final spaces and tabs
/// come back.
fn value_with_spaces(target: &Target, id: &str) -> Check {
    let mut c = target.open()?;
    // Short enough to be shown whole in a failure (48 bytes).
    let value = format!("deux  mots\tet {id} \t");
    let meaning = "la valeur est tout le reste de la ligne, espaces compris : découpez en trois au plus, line.split(' ', 2), pas line.split()";
    ask(
        &mut c,
        &format!("SET {} {value}", key(id, "b")),
        "OK",
        meaning,
    )?;
    let get = format!("GET {}", key(id, "b"));
    let got = ask_any(&mut c, &get)?;
    let want = format!("VALUE {value}\n");
    if got == want {
        return Ok(());
    }
    let meaning = if got == format!("VALUE {}\n", value.trim_end()) {
        format!(
            "les espaces à la fin de la valeur ont disparu : le serveur nettoie la ligne (strip) ; ne retirez que la fin de ligne, line.rstrip('\\r\\n') — {SECTION}"
        )
    } else {
        format!("{meaning} — {SECTION}")
    };
    Err(Failure::new(
        show(format!("{get}\n").as_bytes()),
        format!(
            "{} (attendu {})",
            show(got.as_bytes()),
            show(want.as_bytes())
        ),
        meaning,
    ))
}

/// `set`, `get`, `Del`, `keys`: commands whatever their case.
fn lower_case_commands(target: &Target, id: &str) -> Check {
    let mut c = target.open()?;
    let m =
        "les commandes ne dépendent pas de la casse : comparez cmd.upper() à SET, GET, DEL, KEYS";
    ask(&mut c, &format!("set {} petit", key(id, "c")), "OK", m)?;
    ask(&mut c, &format!("get {}", key(id, "c")), "VALUE petit", m)?;
    ask(&mut c, &format!("Del {}", key(id, "c")), "OK", m)?;
    let got = ask_any(&mut c, "keys")?;
    if got.starts_with("KEYS") {
        Ok(())
    } else {
        Err(Failure::new(
            "b'keys\\n'",
            format!("{} (attendu b'KEYS …\\n')", show(got.as_bytes())),
            m,
        ))
    }
}

/// Lines that are not a whole command each get `ERR` and a reason.
fn not_commands(target: &Target, id: &str) -> Check {
    let mut c = target.open()?;
    for line in [
        "BONJOUR tout le monde",
        "",
        "GET",
        &format!("SET {}", key(id, "e")),
        "FROB x",
    ] {
        // An empty line left unanswered (skipped, not refused): the
        // client waits for ever.
        let got = ask_any(&mut c, line).map_err(|f| {
            if line.is_empty() && f.got.starts_with("rien en") {
                Failure {
                    meaning: format!("une ligne vide reste sans réponse : le serveur la saute (if not ligne: continue ?) alors que le client attend une réponse ; répondez ERR à une ligne vide, comme à toute ligne qui n'est pas une commande — {SECTION}"),
                    ..f
                }
            } else {
                f
            }
        })?;
        if !got.starts_with("ERR") {
            return Err(Failure::new(
                show(format!("{line}\n").as_bytes()),
                format!("{} (attendu b'ERR …\\n')", show(got.as_bytes())),
                format!(
                    "une ligne qui n'est pas une commande complète (inconnue, vide, sans clé, sans valeur) reçoit ERR et une raison — {SECTION}"
                ),
            ));
        }
    }
    Ok(())
}

/// Two commands in one write: two answers (a `recv` is not a command).
fn two_in_one_write(target: &Target, id: &str) -> Check {
    let mut c = target.open()?;
    let sent = format!("SET {} un\nGET {}\n", key(id, "g"), key(id, "g"));
    send(&mut c, &sent)?;
    let first = c.line(ANSWER_WAIT);
    let second = if first.complete() {
        Some(c.line(ANSWER_WAIT))
    } else {
        None
    };
    let want = "OK\nVALUE un\n";
    let came = format!(
        "{}{}",
        String::from_utf8_lossy(&first.bytes),
        second
            .as_ref()
            .map(|s| String::from_utf8_lossy(&s.bytes).into_owned())
            .unwrap_or_default()
    );
    if came == want {
        return Ok(());
    }
    Err(Failure::new(
        format!("{} en une seule écriture", show(sent.as_bytes())),
        format!(
            "{} (attendu {})",
            show(came.as_bytes()),
            show(want.as_bytes())
        ),
        format!(
            "deux commandes arrivées dans le même recv : le serveur prend un recv pour une commande ; TCP est un flux, il faut découper les lignes — Chapitre 2.2 1.1 et {SECTION}"
        ),
    ))
}

/// One command in two writes: one answer, after its end of line.
fn one_in_two_writes(target: &Target, id: &str) -> Check {
    let mut c = target.open()?;
    let first = format!("SET {} co", key(id, "h"));
    let meaning = format!(
        "le serveur a répondu avant la fin de la ligne : il prend un recv pour une commande ; TCP découpe le flux où il veut, il faut attendre le \\n — Chapitre 2.2 1.1 et {SECTION}"
    );
    send(&mut c, &first)?;
    let early = c.line(Duration::from_millis(300));
    if !early.bytes.is_empty() {
        return Err(Failure::new(
            format!(
                "{} puis, 0,3 s après, b'up\\xc3\\xa9\\n'",
                show(first.as_bytes())
            ),
            format!("{} dès la première moitié", show(&early.bytes)),
            meaning,
        ));
    }
    send(&mut c, "upé\n")?;
    let got = c.line(ANSWER_WAIT);
    if !(got.complete() && got.bytes == b"OK\n") {
        return Err(Failure::new(
            format!(
                "{} puis, 0,3 s après, b'up\\xc3\\xa9\\n'",
                show(first.as_bytes())
            ),
            format!("{got} (attendu b'OK\\n')"),
            meaning,
        ));
    }
    ask(
        &mut c,
        &format!("GET {}", key(id, "h")),
        "VALUE coupé",
        "la commande coupée en deux est une seule ligne : SET puis GET rendent la valeur entière",
    )
}

/// A key no other run or client uses: `lc`, the run's token, a name.
fn key(id: &str, name: &str) -> String {
    format!("lc{id}_{name}")
}

fn send(c: &mut Conn, text: &str) -> Check {
    c.send(text.as_bytes()).map_err(|e| {
        Failure::new(
            show(text.as_bytes()),
            crate::wire::write_error(&e),
            "le serveur ne lit plus",
        )
    })
}

/// Sends `line` and expects exactly `want` as the answer line.
fn ask(c: &mut Conn, line: &str, want: &str, meaning: &str) -> Check {
    let sent = format!("{line}\n");
    send(c, &sent)?;
    let got = c.line(ANSWER_WAIT);
    let want_line = format!("{want}\n");
    if got.complete() && got.bytes == want_line.as_bytes() {
        return Ok(());
    }
    let meaning = if !got.bytes.is_empty() && !got.bytes.ends_with(b"\n") {
        format!("chaque réponse est une ligne, finie par \\n — {SECTION}")
    } else if got.bytes.is_empty() {
        format!(
            "pas de réponse ({}) : le serveur a-t-il planté sur cette ligne ? {meaning} — {SECTION}",
            got.end_words()
        )
    } else if got.bytes.eq_ignore_ascii_case(want_line.as_bytes()) {
        format!(
            "la réponse a changé de casse : le serveur passe toute la ligne en majuscules (upper()) pour lire la commande, et la valeur avec ; ne mettez en majuscules que le nom de la commande — {SECTION}"
        )
    } else {
        format!("{meaning} — {SECTION}")
    };
    Err(Failure::new(
        show(sent.as_bytes()),
        format!("{got} (attendu {})", show(want_line.as_bytes())),
        meaning,
    ))
}

/// Sends `line` and returns the answer line, whatever it is.
fn ask_any(c: &mut Conn, line: &str) -> Result<String, Failure> {
    let sent = format!("{line}\n");
    send(c, &sent)?;
    let got = c.line(ANSWER_WAIT);
    if got.complete() {
        Ok(String::from_utf8_lossy(&got.bytes).into_owned())
    } else {
        Err(Failure::new(
            show(sent.as_bytes()),
            &got,
            format!(
                "chaque ligne reçoit une réponse d'une ligne : le serveur a-t-il planté ? — {SECTION}"
            ),
        ))
    }
}

/// Three keys written out of order: `KEYS` lists them sorted, and the
/// whole list is sorted (other clients' keys may be there too).
fn keys_sorted(target: &Target, id: &str) -> Check {
    let mut c = target.open()?;
    let names = [key(id, "kc"), key(id, "ka"), key(id, "kb")];
    for k in &names {
        ask(&mut c, &format!("SET {k} v"), "OK", "SET répond OK")?;
    }
    let got = ask_any(&mut c, "KEYS")?;
    let listed: Vec<&str> = got.trim_end().split(' ').collect();
    let meaning_sorted = format!(
        "KEYS donne toutes les clés dans l'ordre alphabétique : sorted(donnees), pas l'ordre d'insertion du dictionnaire — {SECTION}"
    );
    if listed.first() != Some(&"KEYS") {
        return Err(Failure::new(
            "b'KEYS\\n'",
            show(got.as_bytes()),
            format!("KEYS répond une ligne KEYS k1 k2 … — {SECTION}"),
        ));
    }
    let keys = &listed[1..];
    for k in &names {
        if !keys.contains(&k.as_str()) {
            return Err(Failure::new(
                "b'KEYS\\n'",
                show(got.as_bytes()),
                format!("la clé {k} écrite par SET manque — {SECTION}"),
            ));
        }
    }
    if keys.windows(2).any(|w| w[0] > w[1]) {
        let ours: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| names.iter().any(|n| n == k))
            .collect();
        return Err(Failure::new(
            format!(
                "SET {} v, SET {} v, SET {} v, puis b'KEYS\\n'",
                names[0], names[1], names[2]
            ),
            format!(
                "une ligne KEYS de {} clés, où les trois viennent dans cet ordre : {}",
                keys.len(),
                ours.join(", ")
            ),
            meaning_sorted,
        ));
    }
    Ok(())
}
