//! The two SVG pictures, drawn by hand, line by line: `compare.svg`
//! (round trips per second against clients) and `attente.svg` (who is
//! served when).
//!
//! An SVG file is text: a `<svg>` element holding lines (`<line>`,
//! `<polyline>`), circles, rectangles (`<rect>`) and `<text>`, placed in
//! pixels, y growing downwards. A browser draws it; `docs/modeles.md`
//! embeds it.

use std::fmt::Write;

use crate::load::{Step, Strip};
use crate::report::{Row, decimal, escape};
use netlabs::thousands;

/// One panel of the waiting picture: a server and its clients' strips, or
/// why there are none.
#[derive(Clone, Debug)]
pub struct Panel {
    pub server: String,
    pub strips: Result<Vec<Strip>, String>,
}

/// The colours of the four models of TP5b, in the order of [`crate::MODELS`]:
/// each keeps its own in every picture, whatever `--models` says.
const MODEL_COLOURS: [&str; 4] = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];

/// The colours of the `--target` servers: ten more, distinct side by side
/// from each other and from the models'.
const TARGET_COLOURS: [&str; 10] = [
    "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#000080", "#f2b701",
    "#00a087", "#222222",
];

/// The colour of each server of `names`, the same in every picture and
/// every run. A model has its own. A target's comes from its name (a hash),
/// so that it does not change with `--models` or with the order of the
/// `--target` options; two targets whose names fall on the same colour are
/// taken in alphabetical order, the second moving to the next free one.
pub fn colours(names: &[&str]) -> Vec<&'static str> {
    let mut targets: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| model_colour(n).is_none())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let mut taken = [false; TARGET_COLOURS.len()];
    let mut chosen: Vec<(&str, &'static str)> = Vec::new();
    for name in targets {
        let first = (fnv1a(name) % TARGET_COLOURS.len() as u64) as usize;
        let slot = (0..TARGET_COLOURS.len())
            .map(|k| (first + k) % TARGET_COLOURS.len())
            .find(|&k| !taken[k])
            .unwrap_or(first); // more targets than colours: they share
        taken[slot] = true;
        chosen.push((name, TARGET_COLOURS[slot]));
    }
    names
        .iter()
        .map(|n| {
            model_colour(n).unwrap_or_else(|| {
                chosen
                    .iter()
                    .find(|(t, _)| t == n)
                    .map_or(TARGET_COLOURS[0], |(_, c)| c)
            })
        })
        .collect()
}

fn model_colour(name: &str) -> Option<&'static str> {
    let model = crate::MODELS.iter().position(|(m, ..)| *m == name)?;
    Some(MODEL_COLOURS[model])
}

/// FNV-1a, a hash that is the same in every run and on every machine
/// (std's own hasher promises neither).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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
/// line per server, a point per C with its spread (min – max of the
/// rounds) as an error bar. A marked cell is a hollow point, its reason
/// listed under the chart; `k/C servis` is written beside a point where
/// not every client was served. `busy`: the line saying the machine was
/// busy, written in red under the title.
pub fn throughput_svg(rows: &[Row], title_detail: &str, busy: Option<&str>) -> String {
    const W: f64 = 860.0;
    const LEFT: f64 = 90.0;
    const RIGHT: f64 = 230.0; // room for the legend
    const PH: f64 = 370.0; // the plot's height
    const NOTE: f64 = 18.0; // one line of the notes under the chart
    let top = if busy.is_some() { 84.0 } else { 64.0 };
    let pw = W - LEFT - RIGHT;
    let marked: Vec<&Row> = rows.iter().filter(|r| r.step.failure.is_some()).collect();
    let notes_top = top + PH + 70.0;
    let notes: Vec<String> = marked
        .iter()
        .flat_map(|row| {
            let why = row.step.failure.as_deref().unwrap_or("");
            let line = format!(
                "○ {}, C = {} : {why}",
                row.server,
                thousands(row.step.clients as u64)
            );
            wrap(&line, NOTE_WIDTH)
        })
        .collect();
    let height = notes_top + NOTE * notes.len() as f64 + 12.0;

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
    let x = |c: usize| LEFT + pw * (0.06 + 0.88 * (((c.max(1) as f64).log10() - lo) / span));
    let top_rate = rows
        .iter()
        .filter(|r| r.step.round_trips > 0)
        .map(|r| r.step.spread().map_or(r.step.rate(), |(_, high)| high))
        .fold(0.0, f64::max);
    let (y_max, y_step) = nice_axis(top_rate);
    let y = |rate: f64| top + PH * (1.0 - rate / y_max);

    let mut svg = svg_open(
        W,
        height,
        "Allers-retours par seconde selon le nombre de clients",
        title_detail,
    );
    if let Some(line) = busy {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="68" class="busy">{}</text>"#,
            W / 2.0,
            escape(line)
        );
    }
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
            r##"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/>"##,
            top + PH
        );
        let _ = writeln!(
            svg,
            r#"<text x="{xx:.1}" y="{:.1}" class="xlab">{}</text>"#,
            top + PH + 20.0,
            thousands(c as u64)
        );
    }
    // Axes and their names.
    let _ = writeln!(
        svg,
        r##"<path d="M{LEFT},{top} V{:.1} H{:.1}" fill="none" stroke="#333"/>"##,
        top + PH,
        LEFT + pw
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" class="axis">clients simultanés C (échelle logarithmique)</text>"#,
        LEFT + pw / 2.0,
        top + PH + 46.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(22 {:.1}) rotate(-90)" class="axis">allers-retours par seconde</text>"#,
        top + PH / 2.0
    );
    // One line per server, a point per C, the legend. Each series is moved
    // a few pixels sideways, so that error bars at one C do not hide each
    // other.
    let names = servers(rows);
    let palette = colours(&names);
    let mut labels: Vec<(f64, f64)> = Vec::new();
    for (k, (name, colour)) in names.iter().zip(&palette).enumerate() {
        let dodge = (k as f64 - (names.len() as f64 - 1.0) / 2.0) * 5.0;
        let x = |c: usize| x(c) + dodge;
        let mine: Vec<&Step> = rows
            .iter()
            .filter(|r| r.server == *name)
            .map(|r| &r.step)
            .collect();
        let line: Vec<String> = mine
            .iter()
            .filter(|s| s.round_trips > 0)
            .map(|s| format!("{:.1},{:.1}", x(s.clients), y(s.rate())))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline class="serie" points="{}" fill="none" stroke="{colour}" stroke-width="2.5"/>"#,
            line.join(" ")
        );
        for s in &mine {
            point(&mut svg, name, colour, s, x(s.clients), &y, &mut labels);
        }
        let ly = top + 10.0 + 24.0 * k as f64;
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
    // What the marks mean, under the server names.
    let ly = top + 10.0 + 24.0 * names.len() as f64 + 12.0;
    let lx = LEFT + pw + 24.0;
    let _ = writeln!(
        svg,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#444"/><text x="{:.1}" y="{:.1}" class="legend">min – max des mesures</text>"##,
        lx + 13.0,
        ly - 7.0,
        lx + 13.0,
        ly + 7.0,
        lx + 34.0,
        ly + 4.0
    );
    if !marked.is_empty() {
        let _ = writeln!(
            svg,
            r##"<circle class="marked" cx="{:.1}" cy="{:.1}" r="5" fill="white" stroke="#444" stroke-width="2"/><text x="{:.1}" y="{:.1}" class="legend">mesure marquée</text>"##,
            lx + 13.0,
            ly + 24.0,
            lx + 34.0,
            ly + 28.0
        );
    }
    // The reasons of the marked cells, long ones on several lines.
    for (i, line) in notes.iter().enumerate() {
        // SVG collapses spaces: a continued line is moved right instead.
        let indent = if line.starts_with(' ') { 14.0 } else { 0.0 };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="failure">{}</text>"#,
            LEFT + indent,
            notes_top + NOTE * i as f64,
            escape(line.trim_start())
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// How many characters a note line under the chart holds.
const NOTE_WIDTH: usize = 110;

/// `text` cut at spaces into lines of at most `width` characters (a longer
/// word stays whole); the lines after the first are indented.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.trim().is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, "    ".into()));
        } else if !line.is_empty() && !line.ends_with("    ") {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// One cell of the table as a point: its error bar, the point (hollow when
/// the cell is marked) with the numbers on hover, and `k/C servis` beside
/// it when not every client was served, moved up when another label is
/// already there (`labels`: those placed so far).
fn point(
    svg: &mut String,
    name: &str,
    colour: &str,
    s: &Step,
    px: f64,
    y: &dyn Fn(f64) -> f64,
    labels: &mut Vec<(f64, f64)>,
) {
    let py = y(s.rate());
    if let Some((low, high)) = s.spread().filter(|_| s.round_trips > 0) {
        let (y0, y1) = (y(low), y(high));
        let _ = writeln!(
            svg,
            r#"<path class="spread" d="M{:.1},{y0:.1} H{:.1} M{px:.1},{y0:.1} V{y1:.1} M{:.1},{y1:.1} H{:.1}" stroke="{colour}" stroke-width="1.5" fill="none"/>"#,
            px - 4.0,
            px + 4.0,
            px - 4.0,
            px + 4.0
        );
    }
    let title = format!(
        "{} : C = {}, {} allers-retours/s, servis {}/{}",
        escape(name),
        thousands(s.clients as u64),
        thousands(s.rate().round() as u64),
        s.served,
        s.clients
    );
    match &s.failure {
        Some(why) => {
            let _ = writeln!(
                svg,
                r#"<circle class="marked" cx="{px:.1}" cy="{py:.1}" r="5.5" fill="white" stroke="{colour}" stroke-width="2.5"><title>{title} ; marquée : {}</title></circle>"#,
                escape(why)
            );
        }
        None => {
            let _ = writeln!(
                svg,
                r#"<circle cx="{px:.1}" cy="{py:.1}" r="4" fill="{colour}"><title>{title}</title></circle>"#
            );
        }
    }
    if s.round_trips > 0 && s.served < s.clients {
        let mut ly = py - 8.0;
        while labels
            .iter()
            .any(|&(lx, y)| (lx - px).abs() < 40.0 && (y - ly).abs() < 13.0)
        {
            ly -= 13.0;
        }
        labels.push((px, ly));
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{ly:.1}" class="served" style="fill: {colour}">{}/{} servis</text>"#,
            px + 8.0,
            s.served,
            thousands(s.clients as u64)
        );
    }
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
        &format!(
            "Qui est servi, et quand : {} ensemble",
            netlabs::plural(
                clients as u64,
                "aucun client ne se connecte",
                "client se connecte",
                "clients se connectent"
            )
        ),
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
    let names: Vec<&str> = panels.iter().map(|p| p.server.as_str()).collect();
    let palette = colours(&names);
    for (k, colour) in palette.iter().take(4).enumerate() {
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
    for (k, (panel, colour)) in panels.iter().zip(&palette).enumerate() {
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
.busy {{ font-size: 13px; font-weight: bold; fill: #b00; text-anchor: middle; }}
.served {{ font-size: 11px; font-weight: bold; }}
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

    #[test]
    fn nice_axes() {
        assert_eq!(nice_axis(183_000.0), (200_000.0, 50_000.0));
        assert_eq!(nice_axis(2.6), (3.0, 1.0));
        assert_eq!(nice_axis(0.0), (1.0, 0.2));
        let (top, step) = nice_axis(2.45);
        assert!(top >= 2.45 && step > 0.0);
    }

    #[test]
    fn long_notes_are_wrapped() {
        assert_eq!(wrap("a b c", 10), ["a b c"]);
        assert_eq!(wrap("aaaa bbbb cccc", 9), ["aaaa bbbb", "    cccc"]);
        assert_eq!(wrap("aaaaaaaaaaaa b", 5), ["aaaaaaaaaaaa", "    b"]);
    }

    #[test]
    fn a_server_keeps_its_colour_whatever_the_others() {
        let alone = colours(&["python"]);
        let among = colours(&["echo-poll-server", "zz", "python", "echo-server"]);
        assert_eq!(alone[0], among[2]);
        assert_eq!(among[0], colours(&["echo-poll-server"])[0]);
        assert_ne!(among[0], among[3]);
        // Ten targets and the four models: fourteen colours, all different.
        let mut names: Vec<String> = (0..10).map(|k| format!("cible-{k}")).collect();
        names.extend(crate::MODELS.iter().map(|(m, ..)| m.to_string()));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut all = colours(&names);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 14);
    }
}
