//! The prime checks (Chapitre 2.2): one line in, one line out (`T`, `F`
//! or `E`, then `\n`), right for every 64-bit integer at once, with a
//! stream cut into lines however TCP delivers it.

use std::time::Duration;

use crate::report::{Check, Failure, Report};
use crate::wire::{ANSWER_WAIT, Conn, Datagram, Udp, show};
use crate::{Target, tcp};

/// One question, its only right answer, and what a wrong one means.
struct Case {
    ask: &'static str,
    want: &'static str,
    meaning: &'static str,
}

const fn case(ask: &'static str, want: &'static str, meaning: &'static str) -> Case {
    Case { ask, want, meaning }
}

const SMALL: &[Case] = &[
    case(
        "2",
        "T",
        "2 est premier (le seul pair) : isprime doit le dire avant d'écarter les nombres pairs — Chapitre 2.2 1.1",
    ),
    case("3", "T", "3 est premier — Chapitre 2.2 1.1"),
    case(
        "9",
        "F",
        "9 = 3 × 3 : la division doit aller jusqu'à √n compris, range(3, int(n**0.5) + 1, 2) — Chapitre 2.2 1.1",
    ),
    case(
        "25",
        "F",
        "25 = 5 × 5 : la division doit aller jusqu'à √n compris — Chapitre 2.2 1.1",
    ),
    case("4", "F", "4 = 2 × 2 n'est pas premier — Chapitre 2.2 1.1"),
    case("97", "T", "97 est premier — Chapitre 2.2 1.1"),
];

const NOT_PRIME: &[Case] = &[
    case("0", "F", "0 n'est pas premier (n < 2) — Chapitre 2.2 1.1"),
    case("1", "F", "1 n'est pas premier (n < 2) — Chapitre 2.2 1.1"),
    case(
        "-5",
        "F",
        "un nombre négatif n'est jamais premier (n < 2), pas de abs() — Chapitre 2.2 1.1, la liste du client",
    ),
    case(
        "-7",
        "F",
        "un nombre négatif n'est jamais premier (n < 2), pas de abs() — Chapitre 2.2 1.1",
    ),
    case(
        "-2",
        "F",
        "un nombre négatif n'est jamais premier — Chapitre 2.2 1.1",
    ),
    case(
        "-18446744073709551557",
        "F",
        "un nombre négatif n'est jamais premier, quelle que soit sa taille — Chapitre 2.2 1.1",
    ),
];

const NOT_INTEGERS: &[Case] = &[
    case(
        "4j",
        "E",
        "4j n'est pas un entier (int() lève ValueError) : le cours répond E — Chapitre 2.2 1.1",
    ),
    case(
        "abc",
        "E",
        "abc n'est pas un entier : réponse E — Chapitre 2.2 1.1",
    ),
    case(
        "1.5",
        "E",
        "1.5 n'est pas un entier (int('1.5') échoue) : réponse E — Chapitre 2.2 1.1",
    ),
    case(
        "",
        "E",
        "une ligne vide n'est pas un entier : réponse E — Chapitre 2.2 1.1",
    ),
    case(
        "0x11",
        "E",
        "int() refuse 0x11 : réponse E — Chapitre 2.2 1.1",
    ),
];

const LIKE_INT: &[Case] = &[
    case(
        "  17  ",
        "T",
        "int() accepte les espaces autour : '  17  ' est 17, premier — Chapitre 2.2 1.1",
    ),
    case(
        "+29",
        "T",
        "int() accepte le signe + : 29 est premier — Chapitre 2.2 1.1",
    ),
    case(
        "1_000",
        "F",
        "int() accepte 1_000 (mille), pas premier — Chapitre 2.2 1.1",
    ),
    case(
        "\t5",
        "T",
        "int() accepte une tabulation devant : 5 est premier — Chapitre 2.2 1.1",
    ),
];

const COURSE_LIST: &[Case] = &[
    case("4", "F", "4 n'est pas premier — Chapitre 2.2 1.1"),
    case("5", "T", "5 est premier — Chapitre 2.2 1.1"),
    case("17", "T", "17 est premier — Chapitre 2.2 1.1"),
    case("29", "T", "29 est premier — Chapitre 2.2 1.1"),
    case(
        "1125899906842624",
        "F",
        "2**50 n'est pas premier — Chapitre 2.2 1.1",
    ),
    case(
        "1125899906842623",
        "F",
        "2**50 - 1 n'est pas premier (divisible par 3) — Chapitre 2.2 1.1",
    ),
];

const NEAR_2_64: &[Case] = &[
    case(
        "18446744073709551557",
        "T",
        "18446744073709551557, le plus grand premier sous 2**64 : la réponse doit venir tout de suite, exacte (Miller–Rabin déterministe ; la division jusqu'à √n prend des heures ici, et un float perd les derniers chiffres) — Chapitre 2.2 1.1",
    ),
    case(
        "18446744073709551615",
        "F",
        "2**64 - 1 = 3 × 5 × 17 × 257 × 641 × 65537 × 6700417 n'est pas premier : un float (n**0.5, float(n)) perd les derniers chiffres — Chapitre 2.2 1.1",
    ),
    case(
        "18446744030759878681",
        "F",
        "4294967291² n'est pas premier : √n se calcule en entiers (math.isqrt), pas en float — Chapitre 2.2 1.1",
    ),
    case(
        "18446743979220271189",
        "F",
        "4294967279 × 4294967291 n'est pas premier — Chapitre 2.2 1.1",
    ),
    case(
        "18446744073709551533",
        "T",
        "18446744073709551533 est premier — Chapitre 2.2 1.1",
    ),
];

pub fn tcp(target: &Target, report: &mut Report) {
    report.check("17 → T suivi de \\n", || {
        let mut conn = target.open()?;
        exchange_exact(
            &mut conn,
            b"17\n",
            b"T\n",
            "17 est premier — Chapitre 2.2 1.1",
        )
    });
    report.check("la liste du cours sur une seule connexion", || {
        ask_each(target, COURSE_LIST)
    });
    report.check("2 et 3 sont premiers, 9 et 25 non", || {
        ask_each(target, SMALL)
    });
    report.check("0, 1 et les négatifs → F", || {
        ask_each(target, NOT_PRIME)
    });
    report.check("ce qui n'est pas un entier → E", || {
        ask_each(target, NOT_INTEGERS)
    });
    report.check("accepté comme int() : espaces, signe, 1_000", || {
        ask_each(target, LIKE_INT)
    });
    report.check("fin de ligne \\r\\n acceptée", || {
        let mut conn = target.open()?;
        exchange(&mut conn, b"17\r\n", b"T\n", "17\\r\\n est la ligne 17 (fin de ligne de telnet) : int() ignore \\r ; réponse T\\n — Chapitre 2.2 1.1")
    });
    report.check("deux nombres dans une seule écriture", || {
        two_in_one_write(target)
    });
    report.check("un nombre coupé en deux écritures", || {
        one_in_two_writes(target)
    });
    report.check(
        "survit à un client qui réinitialise sa connexion (RST)",
        || tcp::reset_survival(target, "TP5b 1.2, Chapitre 2.2 1.1"),
    );
    // Last: a server that divides up to √n is busy for hours after this.
    report.check("exact et immédiat près de 2**64", || {
        ask_each(target, NEAR_2_64)
    });
}

/// Asks each case in turn on one connection.
fn ask_each(target: &Target, cases: &[Case]) -> Check {
    let mut conn = target.open()?;
    for c in cases {
        let line = format!("{}\n", c.ask);
        let want = format!("{}\n", c.want);
        exchange(&mut conn, line.as_bytes(), want.as_bytes(), c.meaning)?;
    }
    Ok(())
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
fn same_answer(got: &[u8], want: &[u8]) -> bool {
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
    let meaning = answer_meaning(&got.bytes, &got.end, want, meaning);
    Err(Failure::new(show(line), came, meaning))
}

/// A wrong answer's likeliest cause; `fallback` when it is simply wrong.
fn answer_meaning(got: &[u8], end: &crate::wire::End, want: &[u8], fallback: &str) -> String {
    use crate::wire::End;
    if got.strip_suffix(b"\r\n").is_some() && same_answer(got, want) {
        return "la réponse finit par \\r\\n : le protocole répond T\\n, F\\n ou E\\n, fini par \\n seul (le client du cours compare avec b'T\\n') — Chapitre 2.2 1.1".into();
    }
    if same_answer(got, b"E\n") && !same_answer(want, b"E\n") {
        return "le serveur répond E (pas un entier) à un entier que int() accepte : convertissez avec int(), qui prend signe, espaces et 1_000, pas avec isdigit() ni une expression régulière — Chapitre 2.2 1.1".into();
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

pub fn udp(target: &Target, report: &mut Report) {
    report.check("17 → T suivi de \\n", || {
        datagrams(target, &[case("17", "T", "17 est premier")], true)
    });
    report.check("la réponse vient du port du serveur", || same_port(target));
    report.check("la liste du cours", || {
        datagrams(target, COURSE_LIST, false)
    });
    report.check("2 et 3 sont premiers, 9 et 25 non", || {
        datagrams(target, SMALL, false)
    });
    report.check("0, 1 et les négatifs → F", || {
        datagrams(target, NOT_PRIME, false)
    });
    report.check("ce qui n'est pas un entier → E", || {
        // Never an empty datagram: it stops the course's server.
        datagrams(target, &NOT_INTEGERS[..3], false)
    });
    report.check("exact et immédiat près de 2**64", || {
        datagrams(target, NEAR_2_64, false)
    });
    report.note(
        "UDP : pas de connexion, une seule boucle recvfrom/sendto sert tout le monde — Chapitre 2.2 1.2".into(),
    );
}

/// Each case in its own datagram (`17\n`, like the course's client),
/// answered by one datagram.
/// `first`: the first check, where `T\r\n` is wrong (elsewhere it counts
/// as `T\n`, as over TCP).
fn datagrams(target: &Target, cases: &[Case], first: bool) -> Check {
    let udp = Udp::open(target.addr)
        .map_err(|e| Failure::new("rien", e.to_string(), "socket UDP locale impossible"))?;
    for c in cases {
        let line = format!("{}\n", c.ask);
        let want = format!("{}\n", c.want);
        let answer = udp.ask(line.as_bytes(), ANSWER_WAIT);
        let meaning = match &answer {
            Datagram::From(got, _) if got.as_slice() == want.as_bytes() => continue,
            Datagram::From(got, _) if !first && same_answer(got, want.as_bytes()) => continue,
            Datagram::From(got, _) => {
                answer_meaning(got, &crate::wire::End::Complete, want.as_bytes(), c.meaning)
            }
            _ => format!(
                "pas de réponse : le serveur doit répondre à chaque datagramme par sendto(réponse, addr) — Chapitre 2.2 1.2 ({})",
                c.meaning
            ),
        };
        return Err(Failure::new(
            show(line.as_bytes()),
            format!("{answer} (attendu {})", show(want.as_bytes())),
            meaning,
        ));
    }
    Ok(())
}

fn same_port(target: &Target) -> Check {
    let udp = Udp::open(target.addr)
        .map_err(|e| Failure::new("rien", e.to_string(), "socket UDP locale impossible"))?;
    match udp.ask(b"29\n", ANSWER_WAIT) {
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
