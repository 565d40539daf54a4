//! What compare writes: the table (Markdown, the same text on the terminal
//! and in `compare.md`) and two SVG pictures drawn by hand, line by line.
//!
//! An SVG file is text: a `<svg>` element holding lines (`<line>`,
//! `<polyline>`), rectangles (`<rect>`) and `<text>`, placed in pixels, y
//! growing downwards. A browser draws it; `docs/modeles.md` embeds it.

use std::fmt::Write;

use crate::load::{Step, Strip};
use netlabs::thousands;

/// One row of the table: a server at one C.
#[derive(Clone, Debug)]
pub struct Row {
    /// The model (`echo-poll-server`) or the `--target` name.
    pub server: String,
    pub step: Step,
}

/// One panel of the waiting picture: a server and its clients' strips, or
/// why there are none.
#[derive(Clone, Debug)]
pub struct Panel {
    pub server: String,
    pub strips: Result<Vec<Strip>, String>,
}

/// The columns of the table.
const HEADER: [&str; 11] = [
    "serveur",
    "C",
    "allers-retours/s",
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

/// The sentence under the table: is the load generator cheaper than the
/// server it measures, at C ≥ 10, on every row where both are known? Where
/// it is not, names the rows, one group per server, and says why in course
/// terms.
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
    let cheaper = "Le générateur coûte moins de CPU par aller-retour que le serveur";
    let all = match checked {
        0 => {
            return "CPU du générateur et du serveur : rien à comparer (aucune ligne à C ≥ 10 d'un serveur lancé par compare).".into();
        }
        1 => "la seule ligne à C ≥ 10".to_string(),
        n => format!("les {n} lignes à C ≥ 10"),
    };
    if above.is_empty() {
        return format!("{cheaper} sur {all} : ce n'est pas lui qui limite le débit.");
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
                "{name} à C = {} ({} µs contre {} µs ; {why})",
                french_list(&cs),
                us(|r| r.1),
                us(|r| r.2)
            )
        })
        .collect();
    let n_above: usize = above.iter().map(|g| g.2.len()).sum();
    if n_above == checked {
        format!(
            "Le générateur coûte au moins autant de CPU par aller-retour que le serveur sur {all} : {}.",
            french_list(&groups)
        )
    } else {
        format!(
            "{cheaper} sur {} sur {checked} à C ≥ 10 ; pas pour {}.",
            lines(checked - n_above),
            french_list(&groups)
        )
    }
}

/// C, then the generator's and the server's CPU per round trip (µs).
type Costs = (usize, f64, f64);

/// Why a ping-pong client cannot cost less than a server that serves one
/// client at a time: the server only reads and writes, the client must also
/// wait for the echo among its C sockets.
#[cfg(target_os = "linux")]
const WHY_ONE_SERVED: &str = "un seul client servi : epoll_wait + read + write contre read + write";
#[cfg(not(target_os = "linux"))]
const WHY_ONE_SERVED: &str = "un seul client servi : poll + read + write contre read + write";

/// `a`, `a et b`, `a, b et c`.
fn french_list(items: &[String]) -> String {
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

// ------------------------------------------------------------- pictures

/// One colour per server, distinct enough side by side (and in grey).
const COLOURS: [&str; 8] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

/// A server's colour, the same in every picture and every run: each model
/// of TP5b has its own, the `--target` servers take the others in turn
/// (`k`: the server's rank among those drawn).
fn colour(server: &str, k: usize) -> &'static str {
    match crate::MODELS.iter().position(|(name, ..)| *name == server) {
        Some(model) => COLOURS[model],
        None => COLOURS[crate::MODELS.len() + k % (COLOURS.len() - crate::MODELS.len())],
    }
}

/// The servers, in the order of the rows.
fn servers(rows: &[Row]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for row in rows {
        if !names.contains(&row.server.as_str()) {
            names.push(&row.server);
        }
    }
    names
}

/// `compare.svg`: round trips per second against clients (log scale), one
/// line per server, with a point per measured C.
pub fn throughput_svg(rows: &[Row], title_detail: &str) -> String {
    const W: f64 = 860.0;
    const H: f64 = 500.0;
    const LEFT: f64 = 90.0;
    const RIGHT: f64 = 230.0; // room for the legend
    const TOP: f64 = 60.0;
    const BOTTOM: f64 = 70.0;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);

    let mut ladder: Vec<usize> = rows.iter().map(|r| r.step.clients).collect();
    ladder.sort_unstable();
    ladder.dedup();
    let (lo, hi) = match (ladder.first(), ladder.last()) {
        (Some(&lo), Some(&hi)) => ((lo.max(1) as f64).log10(), (hi.max(1) as f64).log10()),
        _ => (0.0, 1.0),
    };
    // One C alone: centre it.
    let (lo, hi) = if hi - lo < 1e-9 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let span = hi - lo;
    let x = |c: usize| LEFT + pw * (0.04 + 0.92 * (((c.max(1) as f64).log10() - lo) / span));
    let top_rate = rows
        .iter()
        .filter(|r| r.step.round_trips > 0)
        .map(|r| r.step.rate())
        .fold(0.0, f64::max);
    let (y_max, y_step) = nice_axis(top_rate);
    let y = |rate: f64| TOP + ph * (1.0 - rate / y_max);

    let mut svg = svg_open(
        W,
        H,
        "Allers-retours par seconde selon le nombre de clients",
        title_detail,
    );
    // Horizontal grid and y labels.
    let mut v = 0.0;
    while v <= y_max + y_step / 2.0 {
        let yy = y(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/>"##,
            LEFT + pw
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="ylab">{}</text>"#,
            LEFT - 8.0,
            yy + 4.0,
            thousands(v.round() as u64)
        );
        v += y_step;
    }
    // Vertical ticks at each C of the ladder.
    for &c in &ladder {
        let xx = x(c);
        let _ = writeln!(
            svg,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/>"##,
            TOP + ph
        );
        let _ = writeln!(
            svg,
            r#"<text x="{xx:.1}" y="{:.1}" class="xlab">{}</text>"#,
            TOP + ph + 20.0,
            thousands(c as u64)
        );
    }
    // Axes and their names.
    let _ = writeln!(
        svg,
        r##"<path d="M{LEFT},{TOP} V{:.1} H{:.1}" fill="none" stroke="#333"/>"##,
        TOP + ph,
        LEFT + pw
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" class="axis">clients simultanés C (échelle logarithmique)</text>"#,
        LEFT + pw / 2.0,
        H - 22.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(22 {:.1}) rotate(-90)" class="axis">allers-retours par seconde</text>"#,
        TOP + ph / 2.0
    );
    // One line per server, a dot per measured point, the legend.
    for (k, name) in servers(rows).iter().enumerate() {
        let colour = colour(name, k);
        let points: Vec<(f64, f64, &Step)> = rows
            .iter()
            .filter(|r| r.server == *name && r.step.round_trips > 0)
            .map(|r| (x(r.step.clients), y(r.step.rate()), &r.step))
            .collect();
        let list: Vec<String> = points
            .iter()
            .map(|(px, py, _)| format!("{px:.1},{py:.1}"))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline class="serie" points="{}" fill="none" stroke="{colour}" stroke-width="2.5"/>"#,
            list.join(" ")
        );
        for (px, py, s) in &points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{px:.1}" cy="{py:.1}" r="4" fill="{colour}"><title>{} : C = {}, {} allers-retours/s, servis {}/{}</title></circle>"#,
                escape(name),
                s.clients,
                thousands(s.rate().round() as u64),
                s.served,
                s.clients
            );
        }
        let ly = TOP + 10.0 + 24.0 * k as f64;
        let lx = LEFT + pw + 24.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2.5"/>"#,
            lx + 26.0
        );
        let _ = writeln!(
            svg,
            r#"<circle cx="{:.1}" cy="{ly:.1}" r="4" fill="{colour}"/>"#,
            lx + 13.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="legend">{}</text>"#,
            lx + 34.0,
            ly + 4.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// `attente.svg`: one panel per server; in each, one strip per client over
/// time: grey while it waits, in colour while it is served.
pub fn waiting_svg(panels: &[Panel], hold_secs: f64) -> String {
    const W: f64 = 860.0;
    const LEFT: f64 = 90.0;
    const RIGHT: f64 = 30.0;
    const TOP: f64 = 96.0;
    const STRIP: f64 = 18.0;
    const GAP: f64 = 5.0;
    const PANEL_HEAD: f64 = 26.0;
    const PANEL_GAP: f64 = 18.0;
    let pw = W - LEFT - RIGHT;
    let clients = panels
        .iter()
        .filter_map(|p| p.strips.as_ref().ok().map(Vec::len))
        .max()
        .unwrap_or(1)
        .max(1);
    let panel_h = PANEL_HEAD + clients as f64 * (STRIP + GAP);
    let height = TOP + panels.len() as f64 * (panel_h + PANEL_GAP) + 50.0;
    let last = panels
        .iter()
        .filter_map(|p| p.strips.as_ref().ok())
        .flatten()
        .map(|s| s.done)
        .fold(hold_secs, f64::max);
    let (t_max, t_step) = nice_axis(last);
    let x = |t: f64| LEFT + pw * (t / t_max).clamp(0.0, 1.0);

    let hold = decimal(hold_secs, 2);
    let hold = hold.trim_end_matches('0').trim_end_matches(',');
    let mut svg = svg_open(
        W,
        height,
        &format!("Qui est servi, et quand : {clients} clients se connectent ensemble"),
        &format!(
            "chacun fait du ping-pong pendant {hold} s dès son premier écho, puis se déconnecte"
        ),
    );
    // Legend.
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="60" width="28" height="12" fill="#ccc"/><text x="{}" y="70" class="legend">connecté, attend (pas encore d'écho)</text>"##,
        LEFT + 34.0
    );
    // The served colour is each server's own, as in compare.svg.
    let colours = panels.iter().enumerate().map(|(k, p)| colour(&p.server, k));
    for (k, colour) in colours.take(4).enumerate() {
        let _ = writeln!(
            svg,
            r#"<rect x="{:.1}" y="60" width="7" height="12" fill="{colour}"/>"#,
            LEFT + 330.0 + 7.0 * k as f64
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="70" class="legend">servi : ses messages reviennent (couleur du serveur)</text>"#,
        LEFT + 364.0
    );
    let bottom = TOP + panels.len() as f64 * (panel_h + PANEL_GAP);
    // Time grid, shared by every panel so that they compare.
    let mut t = 0.0;
    while t <= t_max + t_step / 2.0 {
        let xx = x(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#e4e4e4"/>"##,
            TOP - 6.0,
            bottom - PANEL_GAP + 4.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{xx:.1}" y="{:.1}" class="xlab">{} s</text>"#,
            bottom + 4.0,
            decimal(t, if t_step < 1.0 { 1 } else { 0 })
        );
        t += t_step;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" class="axis">temps depuis la connexion des clients</text>"#,
        LEFT + pw / 2.0,
        bottom + 30.0
    );
    for (k, panel) in panels.iter().enumerate() {
        let colour = colour(&panel.server, k);
        let top = TOP + k as f64 * (panel_h + PANEL_GAP);
        let _ = writeln!(svg, r#"<g class="model">"#);
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{:.1}" class="panel">{}</text>"#,
            top + 16.0,
            escape(&panel.server)
        );
        match &panel.strips {
            Err(why) => {
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" class="failure">pas de mesure : {}</text>"#,
                    LEFT + 10.0,
                    top + PANEL_HEAD + 16.0,
                    escape(why)
                );
            }
            Ok(strips) => {
                for (i, s) in strips.iter().enumerate() {
                    let sy = top + PANEL_HEAD + i as f64 * (STRIP + GAP);
                    let _ = writeln!(
                        svg,
                        r#"<text x="{:.1}" y="{:.1}" class="ylab">client {}</text>"#,
                        LEFT - 8.0,
                        sy + 13.0,
                        i + 1
                    );
                    let wait_end = s.first_echo.unwrap_or(s.done);
                    let _ = writeln!(
                        svg,
                        r##"<rect x="{:.1}" y="{sy:.1}" width="{:.1}" height="{STRIP}" fill="#ccc"><title>client {} : attend {} s</title></rect>"##,
                        x(s.connected),
                        (x(wait_end) - x(s.connected)).max(0.5),
                        i + 1,
                        decimal(wait_end - s.connected, 2)
                    );
                    match s.first_echo {
                        Some(first) => {
                            let _ = writeln!(
                                svg,
                                r#"<rect x="{:.1}" y="{sy:.1}" width="{:.1}" height="{STRIP}" fill="{colour}"><title>client {} : servi de {} s à {} s</title></rect>"#,
                                x(first),
                                (x(s.done) - x(first)).max(1.0),
                                i + 1,
                                decimal(first, 2),
                                decimal(s.done, 2)
                            );
                        }
                        None => {
                            let _ = writeln!(
                                svg,
                                r#"<text x="{:.1}" y="{:.1}" class="failure">jamais servi</text>"#,
                                x(s.done) + 6.0,
                                sy + 13.0
                            );
                        }
                    }
                }
            }
        }
        let _ = writeln!(svg, "</g>");
    }
    svg.push_str("</svg>\n");
    svg
}

/// The start of a picture: its size, styles, white background, then its
/// title and subtitle (escaped: a `--target` name may hold `<` or `&`).
fn svg_open(w: f64, h: f64, title: &str, subtitle: &str) -> String {
    let mut svg = format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h:.0}" viewBox="0 0 {w} {h:.0}" font-family="DejaVu Sans, Verdana, sans-serif">
<style>
text {{ font-size: 13px; fill: #222; }}
.title {{ font-size: 17px; font-weight: bold; text-anchor: middle; }}
.sub {{ font-size: 12px; fill: #555; text-anchor: middle; }}
.axis {{ font-size: 13px; text-anchor: middle; }}
.xlab {{ font-size: 12px; text-anchor: middle; }}
.ylab {{ font-size: 12px; text-anchor: end; }}
.legend {{ font-size: 13px; }}
.panel {{ font-size: 14px; font-weight: bold; }}
.failure {{ font-size: 12px; fill: #b00; }}
</style>
<rect width="100%" height="100%" fill="white"/>
"##
    );
    let middle = w / 2.0;
    let _ = writeln!(
        svg,
        r#"<text x="{middle}" y="28" class="title">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r#"<text x="{middle}" y="47" class="sub">{}</text>"#,
        escape(subtitle)
    );
    svg
}

/// A round top for an axis starting at 0, and the step between its ticks
/// (1, 2 or 5 times a power of ten, about five ticks).
fn nice_axis(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return (1.0, 0.2);
    }
    let raw = max / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    ((max / step).ceil() * step, step)
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
            "Le générateur coûte moins de CPU par aller-retour que le serveur sur la seule ligne à C ≥ 10 : ce n'est pas lui qui limite le débit."
        );
        let all_below = [
            below[0].clone(),
            cpu_row("echo-poll-server", 100, 100, (31, 25)),
        ];
        assert!(generator_note(&all_below).contains("que le serveur sur les 2 lignes à C ≥ 10 :"));

        let mixed = [
            cpu_row("echo-server", 10, 1, (35, 41)),
            cpu_row("echo-poll-server", 10, 10, (31, 25)),
            cpu_row("echo-server", 100, 1, (133, 151)),
            cpu_row("echo-poll-server", 100, 100, (31, 31)),
        ];
        let note = generator_note(&mixed);
        assert!(
            note.starts_with("Le générateur coûte moins de CPU par aller-retour que le serveur sur 1 ligne sur 4 à C ≥ 10 ; pas pour echo-server à C = 10 et 100 (4,1 / 15,1 µs contre 3,5 / 13,3 µs ; un seul client servi : "),
            "{note}"
        );
        assert!(
            note.ends_with(" et echo-poll-server à C = 100 (3,1 µs contre 3,1 µs ; un read et un write par aller-retour de part et d'autre)."),
            "{note}"
        );

        let none_below = [mixed[0].clone(), mixed[2].clone()];
        let note = generator_note(&none_below);
        assert!(
            note.starts_with("Le générateur coûte au moins autant de CPU par aller-retour que le serveur sur les 2 lignes à C ≥ 10 : echo-server à C = 10 et 100 ("),
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
    fn nice_axes() {
        assert_eq!(nice_axis(183_000.0), (200_000.0, 50_000.0));
        assert_eq!(nice_axis(2.6), (3.0, 1.0));
        assert_eq!(nice_axis(0.0), (1.0, 0.2));
        let (top, step) = nice_axis(2.45);
        assert!(top >= 2.45 && step > 0.0);
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn a_server_keeps_its_colour_whatever_the_order() {
        assert_eq!(colour("echo-server", 3), colour("echo-server", 0));
        assert_ne!(colour("echo-server", 0), colour("echo-poll-server", 0));
        // A target never takes a model's colour.
        for k in 0..8 {
            let target = colour("python-select", k);
            assert!(crate::MODELS.iter().all(|(m, ..)| colour(m, 0) != target));
        }
    }
}
