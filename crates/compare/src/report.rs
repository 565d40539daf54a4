//! What compare writes as text: the table (Markdown, the same text on the
//! terminal and in `compare.md`) and the short notes under it.

use std::fmt::Write;

use crate::load::Step;
use netlabs::thousands;

/// One row of the table: a server at one C.
#[derive(Clone, Debug)]
pub struct Row {
    /// The model (`echo-poll-server`) or the `--target` name.
    pub server: String,
    pub step: Step,
}

/// The columns of the table.
const HEADER: [&str; 12] = [
    "serveur",
    "C",
    "allers-retours/s",
    "min – max",
    "p50",
    "p99",
    "servis",
    "CPU serveur / a-r",
    "CPU compare / a-r",
    "threads",
    "mémoire max",
    "erreurs",
];

/// The table in Markdown, columns padded so that it reads as well in a
/// terminal as rendered.
pub fn table(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let width = |col: usize| {
        cells
            .iter()
            .map(|r| r[col].chars().count())
            .chain([HEADER[col].chars().count(), 3])
            .max()
            .unwrap_or(3)
    };
    let widths: Vec<usize> = (0..HEADER.len()).map(width).collect();
    let line = |row: &[String]| {
        let mut out = String::from("|");
        for (col, cell) in row.iter().enumerate() {
            let pad = widths[col] - cell.chars().count();
            if col == 0 {
                let _ = write!(out, " {cell}{} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {}{cell} |", " ".repeat(pad));
            }
        }
        out.push('\n');
        out
    };
    let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    let mut out = line(&header);
    out.push('|');
    for (col, w) in widths.iter().enumerate() {
        let dashes = "-".repeat(*w);
        if col == 0 {
            let _ = write!(out, " {dashes} |");
        } else {
            let _ = write!(out, " {}: |", &dashes[1..]);
        }
    }
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

/// The cells of one row; `—` where there is nothing to say.
fn cells(row: &Row) -> Vec<String> {
    let s = &row.step;
    let dash = || "—".to_string();
    let measured = s.round_trips > 0;
    let micros = |v: Option<u64>| v.map_or_else(dash, |us| format!("{} µs", thousands(us)));
    let cpu = |v: Option<f64>| v.map_or_else(dash, |us| format!("{} µs", decimal(us, 1)));
    let errors = match &s.failure {
        Some(why) if s.errors > 0 => format!("{} ; {why}", s.errors),
        Some(why) => why.clone(),
        None => s.errors.to_string(),
    };
    vec![
        row.server.clone(),
        thousands(s.clients as u64),
        if measured {
            thousands(s.rate().round() as u64)
        } else {
            dash()
        },
        match s.spread() {
            Some((low, high)) if measured => format!(
                "{} – {}",
                thousands(low.round() as u64),
                thousands(high.round() as u64)
            ),
            _ => dash(),
        },
        micros(s.latency.percentile(50.0)),
        micros(s.latency.percentile(99.0)),
        format!("{}/{}", s.served, s.clients),
        cpu(s.per_round_trip(s.server_cpu)),
        cpu(s.per_round_trip(s.own_cpu)),
        s.threads.map_or_else(dash, thousands),
        s.peak_kib
            .map_or_else(dash, |k| format!("{} Mio", decimal(k as f64 / 1024.0, 1))),
        errors,
    ]
}

/// How each rate was measured, under the table.
pub fn rounds_note(rounds: u32, round: std::time::Duration) -> String {
    format!(
        "Chaque débit est la médiane de {rounds} mesures de {} s, les serveurs en alternance. « min – max » : la plus basse et la plus haute.",
        seconds(round.as_secs_f64())
    )
}

/// `0,6`, `3`: seconds as French writes them, without trailing zeros.
pub fn seconds(secs: f64) -> String {
    let text = decimal(secs, 2);
    text.trim_end_matches('0').trim_end_matches(',').to_string()
}

/// The note under the table, in short sentences: is the load generator
/// cheaper than the server it measures, at C ≥ 10, on every row where both
/// are known? Where it is not, names the rows, one group per server, and
/// says why in course terms.
pub fn generator_note(rows: &[Row]) -> String {
    let mut checked = 0;
    // The rows where it costs as much or more, by server and reason, in
    // the table's order.
    let mut above: Vec<(&str, &str, Vec<Costs>)> = Vec::new();
    for row in rows.iter().filter(|r| r.step.clients >= 10) {
        let s = &row.step;
        let (Some(server), Some(own)) =
            (s.per_round_trip(s.server_cpu), s.per_round_trip(s.own_cpu))
        else {
            continue;
        };
        checked += 1;
        if own < server {
            continue;
        }
        let why = if s.served <= 1 {
            WHY_ONE_SERVED
        } else if s.threads == Some(1) {
            "un read et un write par aller-retour de part et d'autre"
        } else {
            "à vérifier"
        };
        match above
            .iter_mut()
            .find(|(name, w, _)| *name == row.server && *w == why)
        {
            Some((_, _, list)) => list.push((s.clients, own, server)),
            None => above.push((&row.server, why, vec![(s.clients, own, server)])),
        }
    }
    let all = match checked {
        0 => return "CPU du générateur et du serveur : rien à comparer à C ≥ 10.".into(),
        1 => "la seule ligne à C ≥ 10".to_string(),
        n => format!("les {n} lignes à C ≥ 10"),
    };
    if above.is_empty() {
        return format!(
            "Le générateur coûte moins de CPU par aller-retour que le serveur, sur {all}. Ce n'est donc pas lui qui limite le débit."
        );
    }
    let groups: Vec<String> = above
        .iter()
        .map(|(name, why, list)| {
            let cs: Vec<String> = list.iter().map(|r| thousands(r.0 as u64)).collect();
            let us = |pick: fn(&Costs) -> f64| {
                let v: Vec<String> = list.iter().map(|r| decimal(pick(r), 1)).collect();
                v.join(" / ")
            };
            format!(
                "{name} à C = {} : {} µs contre {} µs ({why})",
                french_list(&cs),
                us(|r| r.1),
                us(|r| r.2)
            )
        })
        .collect();
    let n_above: usize = above.iter().map(|g| g.2.len()).sum();
    if n_above == checked {
        format!(
            "Le générateur coûte au moins autant de CPU par aller-retour que le serveur, sur {all} : {}.",
            groups.join(" ; ")
        )
    } else {
        format!(
            "Le générateur coûte moins de CPU par aller-retour que le serveur sur {} sur {checked} à C ≥ 10. Exceptions : {}.",
            lines(checked - n_above),
            groups.join(" ; ")
        )
    }
}

/// C, then the generator's and the server's CPU per round trip (µs).
type Costs = (usize, f64, f64);

/// Why a ping-pong client cannot cost less than a server that serves one
/// client at a time: the server only reads and writes, the client must also
/// wait for the echo among its C sockets.
const WHY_ONE_SERVED: &str =
    "un seul client servi : le générateur attend l'écho parmi C sockets, en plus de read + write";

/// `a`, `a et b`, `a, b et c`.
pub fn french_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [first @ .., last] => format!("{} et {last}", first.join(", ")),
    }
}

/// `10.57` with one decimal → `10,6`, as French writes numbers.
pub fn decimal(x: f64, places: usize) -> String {
    format!("{x:.places$}").replace('.', ",")
}

/// `1 ligne`, `12 lignes`.
fn lines(n: usize) -> String {
    netlabs::plural(n as u64, "aucune ligne", "ligne", "lignes")
}

/// Text made safe for XML: a `--target` name may hold `<` or `&`.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A row at C clients, `served` of them served, with the server's and
    /// the generator's CPU per round trip in tenths of µs.
    fn cpu_row(server: &str, clients: usize, served: usize, tenths: (u64, u64)) -> Row {
        let step = Step {
            clients,
            served,
            round_trips: 10_000,
            server_cpu: Some(Duration::from_micros(tenths.0 * 1000)),
            own_cpu: Some(Duration::from_micros(tenths.1 * 1000)),
            threads: Some(1),
            ..Step::default()
        };
        Row {
            server: server.into(),
            step,
        }
    }

    #[test]
    fn the_generator_note_reads_well_in_every_case() {
        assert!(generator_note(&[]).contains("rien à comparer"));
        // C = 1 does not count.
        let one = [cpu_row("echo-server", 1, 1, (30, 40))];
        assert!(generator_note(&one).contains("rien à comparer"));

        let below = [cpu_row("echo-poll-server", 10, 10, (31, 25))];
        assert_eq!(
            generator_note(&below),
            "Le générateur coûte moins de CPU par aller-retour que le serveur, sur la seule ligne à C ≥ 10. Ce n'est donc pas lui qui limite le débit."
        );
        let all_below = [
            below[0].clone(),
            cpu_row("echo-poll-server", 100, 100, (31, 25)),
        ];
        assert!(generator_note(&all_below).contains("que le serveur, sur les 2 lignes à C ≥ 10."));

        let mixed = [
            cpu_row("echo-server", 10, 1, (35, 41)),
            cpu_row("echo-poll-server", 10, 10, (31, 25)),
            cpu_row("echo-server", 100, 1, (133, 151)),
            cpu_row("echo-poll-server", 100, 100, (31, 31)),
        ];
        let note = generator_note(&mixed);
        assert!(
            note.starts_with("Le générateur coûte moins de CPU par aller-retour que le serveur sur 1 ligne sur 4 à C ≥ 10. Exceptions : echo-server à C = 10 et 100 : 4,1 / 15,1 µs contre 3,5 / 13,3 µs (un seul client servi : "),
            "{note}"
        );
        assert!(
            note.ends_with(" ; echo-poll-server à C = 100 : 3,1 µs contre 3,1 µs (un read et un write par aller-retour de part et d'autre)."),
            "{note}"
        );

        let none_below = [mixed[0].clone(), mixed[2].clone()];
        let note = generator_note(&none_below);
        assert!(
            note.starts_with("Le générateur coûte au moins autant de CPU par aller-retour que le serveur, sur les 2 lignes à C ≥ 10 : echo-server à C = 10 et 100 : "),
            "{note}"
        );
        assert!(!note.contains("aucune"), "{note}");
    }

    #[test]
    fn lists_read_as_french() {
        let list =
            |items: &[&str]| french_list(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(list(&["a"]), "a");
        assert_eq!(list(&["a", "b"]), "a et b");
        assert_eq!(list(&["a", "b", "c"]), "a, b et c");
    }

    #[test]
    fn french_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1 000");
        assert_eq!(thousands(1234567), "1 234 567");
        assert_eq!(decimal(10.57, 1), "10,6");
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
