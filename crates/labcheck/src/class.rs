//! `labcheck --class FICHIER`: a whole class at once. The file lists one
//! student a line, `NOM SORTE HÔTE:PORT` (blank lines and `#` comments
//! allowed); the servers are checked a few at a time, each run bounded in
//! time like a single one; then one table says who passes, with each
//! student's first failure, and which checks fail most often. With
//! `--junit`, one test suite per student.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::report::Report;
use crate::{Kind, Options, junit};

/// How many servers are checked at once: each run mostly waits on its
/// server, but a few 8 MiB echoes and CPU measures at once are enough on
/// a small machine.
const AT_ONCE: usize = 4;

/// One line of the class file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub name: String,
    pub kind: Kind,
    pub place: String,
    pub host: String,
    pub port: u16,
}

/// The students of a class file, or a French sentence naming the first bad
/// line.
pub fn parse(text: &str) -> Result<Vec<Student>, String> {
    let mut students = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = |why: String| format!("ligne {} : « {line} » : {why}", n + 1);
        let [name, kind, place] = words.as_slice() else {
            return Err(bad(
                "il faut trois mots, NOM SORTE HÔTE:PORT (par exemple : alice echo 127.0.0.1:7777)"
                    .into(),
            ));
        };
        let kind = Kind::parse(kind).ok_or_else(|| {
            bad(format!(
                "sorte inconnue « {kind} » : echo, echo-udp, prime, prime-udp, kv ou pesto"
            ))
        })?;
        let (host, port) = crate::split_host_port(place).ok_or_else(|| {
            bad(format!(
                "« {place} » n'est pas de la forme HÔTE:PORT (127.0.0.1:7777, [::1]:7777)"
            ))
        })?;
        if students.iter().any(|s: &Student| s.name == *name) {
            return Err(bad(format!("{name} est déjà nommé plus haut")));
        }
        students.push(Student {
            name: name.to_string(),
            kind,
            place: place.to_string(),
            host,
            port,
        });
    }
    if students.is_empty() {
        return Err(
            "aucun étudiant dans le fichier : une ligne NOM SORTE HÔTE:PORT par étudiant".into(),
        );
    }
    Ok(students)
}

/// Checks every student of `file`; prints the table; returns the exit code.
pub fn run(file: &Path, junit_path: Option<&Path>, strict: bool) -> i32 {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => netlabs::fail!(
            "impossible de lire {} ({}) ; donnez un fichier, une ligne NOM SORTE HÔTE:PORT par étudiant",
            file.display(),
            netlabs::Why(&e)
        ),
    };
    let students = match parse(&text) {
        Ok(students) => students,
        Err(why) => netlabs::fail!("{} : {why}", file.display()),
    };
    netlabs::log!(
        "labcheck --class {} : {}, {AT_ONCE} à la fois",
        file.display(),
        netlabs::plural(
            students.len() as u64,
            "aucun serveur",
            "serveur",
            "serveurs"
        )
    );
    let reports = check_all(&students, strict);
    for line in table(&students, &reports) {
        netlabs::log!("{line}");
    }
    if let Some(path) = junit_path {
        let suites: Vec<(String, &Report)> = students
            .iter()
            .zip(&reports)
            .map(|(s, r)| (format!("labcheck.{}.{}", s.name, s.kind.name()), r))
            .collect();
        let named: Vec<(&str, &Report)> = suites.iter().map(|(n, r)| (n.as_str(), *r)).collect();
        if let Err(e) = junit::write_whole(path, &junit::xml(&named)) {
            netlabs::fail!(
                "impossible d'écrire le rapport {} ({})",
                path.display(),
                netlabs::Why(&e)
            );
        }
    }
    let failed: usize = reports.iter().map(Report::failed).sum();
    let passed: usize = reports.iter().map(Report::passed).sum();
    netlabs::log!("{passed} passed, {failed} failed");
    if failed == 0 { 0 } else { 1 }
}

/// Each student's report, in the file's order, checked `AT_ONCE` at a time.
fn check_all(students: &[Student], strict: bool) -> Vec<Report> {
    let next = Arc::new(Mutex::new(0usize));
    let results: Arc<Mutex<Vec<Option<Report>>>> =
        Arc::new(Mutex::new((0..students.len()).map(|_| None).collect()));
    let students = Arc::new(students.to_vec());
    let workers: Vec<_> = (0..AT_ONCE.min(students.len()))
        .map(|_| {
            let (next, results, students) = (
                Arc::clone(&next),
                Arc::clone(&results),
                Arc::clone(&students),
            );
            std::thread::spawn(move || {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(student) = students.get(i) else {
                        break;
                    };
                    let report = check_student(student, strict);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(report);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
    results
        .iter_mut()
        .zip(students.iter())
        .map(|(r, s)| {
            r.take().unwrap_or_else(|| {
                crate::unreachable_report(
                    s.kind,
                    &s.place,
                    "la vérification s'est arrêtée",
                    Options::default(),
                )
            })
        })
        .collect()
}

/// One student's run, quiet; a server that cannot be reached is one
/// failed check that says so.
fn check_student(student: &Student, strict: bool) -> Report {
    let options = Options {
        strict,
        loud: false,
    };
    let found = crate::addresses(&student.host, student.port)
        .and_then(|addrs| crate::check_one(student.kind, &student.place, &addrs, options));
    match found {
        Ok(report) => report,
        Err(why) => crate::unreachable_report(student.kind, &student.place, &why, options),
    }
}

/// The summary: one row per student, then the checks that fail most often.
pub fn table(students: &[Student], reports: &[Report]) -> Vec<String> {
    let mut rows = vec![[
        "NOM".to_string(),
        "SORTE".into(),
        "ADRESSE".into(),
        "ok".into(),
        "échecs".into(),
        "premier échec".into(),
    ]];
    for (s, r) in students.iter().zip(reports) {
        rows.push([
            s.name.clone(),
            s.kind.name().into(),
            s.place.clone(),
            r.passed().to_string(),
            r.failed().to_string(),
            r.first_failure().map_or("—".into(), |o| o.name.clone()),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    let pad = widths[c].saturating_sub(cell.chars().count());
                    if c == 5 {
                        cell.clone()
                    } else {
                        format!("{cell}{}", " ".repeat(pad))
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect();
    let all_pass = reports.iter().filter(|r| r.failed() == 0).count();
    lines.push(format!(
        "{} sur {} : tout passe",
        netlabs::plural(all_pass as u64, "aucun serveur", "serveur", "serveurs"),
        students.len()
    ));
    // Which checks fail most often (a check not run, after a server died,
    // is not counted: its cause is counted where it happened).
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reports {
        for o in &r.outcomes {
            if let Some(f) = &o.failure
                && r.counts_as_failure(o.level)
                && !f.meaning.starts_with("pas vérifié")
            {
                *counts.entry(o.name.as_str()).or_default() += 1;
            }
        }
    }
    let mut most: Vec<(&str, usize)> = counts.into_iter().collect();
    most.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if !most.is_empty() {
        lines.push("les vérifications qui échouent le plus souvent :".into());
        for (name, n) in most.iter().take(10) {
            lines.push(format!(
                "  {} : {name}",
                netlabs::plural(*n as u64, "aucun serveur", "serveur", "serveurs")
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Failure, Level};
    use std::time::Duration;

    #[test]
    fn a_class_file_is_read_and_a_bad_line_named() {
        let students =
            parse("# TP5b\n\nalice echo 127.0.0.1:7000\nbob prime [::1]:7001 # en retard\n")
                .unwrap();
        assert_eq!(students.len(), 2);
        assert_eq!(students[1].kind, Kind::Prime);
        assert_eq!(students[1].host, "::1");
        let err = parse("alice echo 127.0.0.1:7000\nbob smtp 127.0.0.1:25\n").unwrap_err();
        assert!(
            err.starts_with("ligne 2 : « bob smtp 127.0.0.1:25 » : sorte inconnue"),
            "{err}"
        );
        assert!(parse("carol echo\n").unwrap_err().contains("trois mots"));
        assert!(
            parse("d echo localhost\n")
                .unwrap_err()
                .contains("HÔTE:PORT")
        );
        assert!(
            parse("a echo h:1\na kv h:2\n")
                .unwrap_err()
                .contains("déjà nommé")
        );
        assert!(parse("# rien\n").is_err());
    }

    #[test]
    fn the_table_names_each_first_failure_and_the_most_common() {
        let students = parse("alice echo h:1\nbob echo h:2\n").unwrap();
        let mut a = Report::new("a".into(), false, false);
        a.record("x", Level::Course, Ok(()), Duration::ZERO);
        let mut b = Report::new("b".into(), false, false);
        b.record(
            "x",
            Level::Course,
            Err(Failure::new("s", "g", "m")),
            Duration::ZERO,
        );
        let lines = table(&students, &[a, b]);
        assert!(
            lines[1].starts_with("alice") && lines[1].ends_with("—"),
            "{lines:?}"
        );
        assert!(lines[2].ends_with("x"), "{lines:?}");
        assert!(lines.contains(&"1 serveur sur 2 : tout passe".to_string()));
        assert!(lines.contains(&"  1 serveur : x".to_string()));
    }
}
