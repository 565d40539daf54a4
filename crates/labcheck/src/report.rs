//! The verdicts: one line per check as it finishes, model notes, the last
//! line `N passed, N failed`, and the same as a JUnit XML report.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Why a check failed: what we sent, what came back, what it means in the
/// course's words (with the sheet section to read).
#[derive(Debug, Clone)]
pub struct Failure {
    pub sent: String,
    pub got: String,
    pub meaning: String,
}

impl Failure {
    pub fn new(sent: impl Into<String>, got: impl ToString, meaning: impl Into<String>) -> Failure {
        Failure {
            sent: sent.into(),
            got: got.to_string(),
            meaning: meaning.into(),
        }
    }

    /// The three lines printed under `ÉCHEC` (only the last for a check
    /// not run).
    pub fn text(&self) -> String {
        if self.sent.is_empty() {
            return format!("→ {}", self.meaning);
        }
        format!(
            "envoyé : {}\nreçu   : {}\n→ {}",
            self.sent, self.got, self.meaning
        )
    }
}

pub type Check = Result<(), Failure>;

struct Outcome {
    name: String,
    failure: Option<Failure>,
    time: Duration,
}

/// Everything a run found, printed as it goes.
pub struct Report {
    title: String,
    outcomes: Vec<Outcome>,
    notes: Vec<String>,
    started: Instant,
    /// When the first check fails with not one byte from the server, the
    /// others are not run (a pesto server that does not greet may still
    /// answer commands: there, every check is run).
    pub give_up_when_silent: bool,
}

impl Report {
    /// A report that prints its title, then each check as it ends.
    pub fn new(title: String) -> Report {
        netlabs::log!("{title}");
        Report::quiet(title)
    }

    /// A report that prints nothing yet (for `--junit` when nothing
    /// listens).
    pub fn quiet(title: String) -> Report {
        Report {
            title,
            outcomes: Vec::new(),
            notes: Vec::new(),
            started: Instant::now(),
            give_up_when_silent: true,
        }
    }

    /// Keeps an outcome decided elsewhere, without printing it.
    pub fn record(&mut self, name: &str, failure: Option<Failure>) {
        self.outcomes.push(Outcome {
            name: name.to_string(),
            failure,
            time: Duration::ZERO,
        });
    }

    /// Runs one check, prints its line (and on failure, why), keeps it.
    pub fn check(&mut self, name: &str, check: impl FnOnce() -> Check) {
        let start = Instant::now();
        let result = if let Some(why) = crate::GIVEN_UP.get() {
            Err(Failure::new("", "", format!("pas vérifié : {why}")))
        } else {
            check()
        };
        let time = start.elapsed();
        if self.give_up_when_silent
            && self.outcomes.is_empty()
            && result.is_err()
            && !crate::wire::heard_from_server()
        {
            let _ = crate::GIVEN_UP
                .set("le serveur n'a encore rien répondu (voir la première vérification)");
        }
        match &result {
            Ok(()) => netlabs::log!("ok     {name}"),
            Err(failure) => {
                netlabs::log!("ÉCHEC  {name}");
                for line in failure.text().lines() {
                    netlabs::log!("       {line}");
                }
            }
        }
        self.outcomes.push(Outcome {
            name: name.to_string(),
            failure: result.err(),
            time,
        });
    }

    /// An information line about the model: never a failure.
    pub fn note(&mut self, text: String) {
        netlabs::log!("info   {text}");
        self.notes.push(text);
    }

    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.failure.is_some()).count()
    }

    pub fn passed(&self) -> usize {
        self.outcomes.len() - self.failed()
    }

    /// The last line, exactly `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }

    /// The report as JUnit XML: one `testcase` per check, the failure's
    /// text inside, the model notes in `system-out`.
    pub fn junit(&self, kind: &str) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let total = self.outcomes.len();
        let failed = self.failed();
        let time = self.started.elapsed().as_secs_f64();
        let _ = writeln!(
            xml,
            "<testsuites name=\"labcheck\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\" time=\"{time:.3}\">"
        );
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\">",
            escape(&self.title)
        );
        for o in &self.outcomes {
            let _ = write!(
                xml,
                "    <testcase classname=\"labcheck.{}\" name=\"{}\" time=\"{:.3}\"",
                escape(kind),
                escape(&o.name),
                o.time.as_secs_f64()
            );
            match &o.failure {
                None => xml.push_str("/>\n"),
                Some(f) => {
                    let _ = writeln!(
                        xml,
                        ">\n      <failure message=\"{}\" type=\"ÉCHEC\">{}</failure>\n    </testcase>",
                        escape(&f.meaning),
                        escape(&f.text())
                    );
                }
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(
                xml,
                "    <system-out>{}</system-out>",
                escape(&self.notes.join("\n"))
            );
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }
}

/// Text made safe inside XML, in an attribute or an element: the five
/// special characters escaped, and the control characters XML 1.0 forbids
/// shown as `\xNN` (our texts show bytes the Python way already).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Refuses at once a `--junit` path that is not a regular file (a folder,
/// a device…), before any check runs.
pub fn check_junit_path(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(format!(
            "{} n'est pas un fichier ordinaire ; choisissez un nom de fichier pour --junit",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// Writes the report whole or not at all: a temporary file beside the
/// target, created exclusively, flushed, then renamed over it.
pub fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    // A symbolic link is followed: the file it points to is replaced.
    let resolved = std::fs::canonicalize(path).ok();
    let path = resolved.as_deref().unwrap_or(path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rapport".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::wire::unique()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y"), "x\\x01y");
        assert_eq!(escape("l1\nl2"), "l1&#10;l2");
    }
}
