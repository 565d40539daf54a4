//! The JUnit XML report (`--junit FICHIER`), for a teacher's CI: one test
//! suite per server checked, one `testcase` per check. A failed check is a
//! `failure`; a failed `remarque` (a promise beyond the course) is a
//! `skipped` whose message starts with `remarque :` — a CI shows it without
//! failing — unless `--strict` made it a failure. The model notes go in
//! `system-out`.
//!
//! The path is checked before any check runs: a folder, a device, a pipe
//! or a socket, or a place where nothing can be written, is one French line
//! and exit 1 at once. A symbolic link is followed, even a dangling one:
//! its target is written, the link stays.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::report::Report;

/// Several reports (one per student for `--class`) as one JUnit document.
pub fn xml(suites: &[(&str, &Report)]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = suites.iter().map(|(_, r)| r.outcomes.len()).sum();
    let failed: usize = suites.iter().map(|(_, r)| r.failed()).sum();
    let time: f64 = suites.iter().map(|(_, r)| r.elapsed().as_secs_f64()).sum();
    let _ = writeln!(
        xml,
        "<testsuites name=\"labcheck\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\" time=\"{time:.3}\">"
    );
    for (class, report) in suites {
        suite(&mut xml, class, report);
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn suite(xml: &mut String, class: &str, report: &Report) {
    let total = report.outcomes.len();
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{total}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\">",
        escape(&report.title),
        report.failed(),
        report.remarks(),
        report.elapsed().as_secs_f64()
    );
    for o in &report.outcomes {
        let _ = write!(
            xml,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape(class),
            escape(&o.name),
            o.time.as_secs_f64()
        );
        match &o.failure {
            None => xml.push_str("/>\n"),
            Some(f) if report.counts_as_failure(o.level) => {
                let _ = writeln!(
                    xml,
                    ">\n      <failure message=\"{}\" type=\"ÉCHEC\">{}</failure>\n    </testcase>",
                    escape(&f.meaning),
                    escape(&f.text())
                );
            }
            Some(f) => {
                let _ = writeln!(
                    xml,
                    ">\n      <skipped message=\"remarque : {}\">{}</skipped>\n    </testcase>",
                    escape(&f.meaning),
                    escape(&f.text())
                );
            }
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(
            xml,
            "    <system-out>{}</system-out>",
            escape(&report.notes.join("\n"))
        );
    }
    xml.push_str("  </testsuite>\n");
}

/// Text made safe inside XML (one escape for the whole workspace).
pub use netlabs::markup::escape;

/// The file a `--junit` path names: a symbolic link is followed, link after
/// link (a dangling one too: its target will be created), a relative
/// target read from the link's folder.
pub fn resolve(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    // A loop of links ends somewhere: 40 hops, as the kernel allows.
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    path
}

/// Refuses at once a `--junit` path that cannot take the report: not a
/// regular file (a folder, a device, a pipe, a socket), or a place where
/// nothing can be written. Tried by creating, then removing, the very
/// temporary file the report will go through.
pub fn check_path(path: &Path) -> Result<(), String> {
    let file = resolve(path);
    if let Ok(meta) = std::fs::metadata(&file)
        && !meta.is_file()
    {
        return Err(format!(
            "{} n'est pas un fichier ordinaire (dossier, périphérique, tube ou socket) ; choisissez un nom de fichier pour --junit",
            path.display()
        ));
    }
    let tmp = temporary(&file);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&tmp);
            Ok(())
        }
        Err(e) => Err(format!(
            "impossible d'écrire le rapport {} ({}) ; choisissez un fichier dans un dossier où vous pouvez écrire",
            path.display(),
            netlabs::Why(&e)
        )),
    }
}

/// Beside the file, under a name no one else uses (pid and clock).
fn temporary(file: &Path) -> PathBuf {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rapport".into());
    dir.join(format!(".{name}.{}.tmp", crate::wire::unique()))
}

/// Writes the report whole or not at all: a temporary file beside the
/// target (the link's target, for a link), created exclusively, flushed,
/// then renamed over it.
pub fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    let file = resolve(path);
    let tmp = temporary(&file);
    let result = (|| {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        std::fs::rename(&tmp, &file)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Failure, Level};
    use std::time::Duration;

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y"), "x\\x01y");
        assert_eq!(escape("l1\nl2"), "l1&#10;l2");
    }

    #[test]
    fn a_remark_is_skipped_unless_strict() {
        let fail = || Err(Failure::new("a", "b", "au-delà"));
        let mut report = Report::new("t".into(), false, false);
        report.record("x", Level::Beyond, fail(), Duration::ZERO);
        let text = xml(&[("labcheck.prime", &report)]);
        assert!(text.contains("<skipped message=\"remarque : au-delà\">"));
        assert!(text.contains("failures=\"0\" errors=\"0\" skipped=\"1\""));
        let mut strict = Report::new("t".into(), false, true);
        strict.record("x", Level::Beyond, fail(), Duration::ZERO);
        assert!(xml(&[("c", &strict)]).contains("<failure "));
    }

    #[test]
    fn a_dangling_link_is_followed() {
        let dir = std::env::temp_dir().join(format!("labcheck-junit-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let link = dir.join("lien.xml");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("cible.xml", &link).unwrap();
        assert_eq!(resolve(&link), dir.join("cible.xml"));
        check_path(&link).unwrap();
        write_whole(&link, "x").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(dir.join("cible.xml")).unwrap(), "x");
        assert!(check_path(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
