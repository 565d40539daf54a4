//! The verdicts: one line per check as it finishes, model notes, the last
//! line `N passed, N failed`. The report is also where a run gives up: once
//! a check found the server gone, the checks left are written down as not
//! run, each in one line, instead of each waiting its time-out.

use std::time::{Duration, Instant};

/// Why a check failed: what we sent, what came back, what it means in the
/// course's words (with the sheet section to read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub sent: String,
    pub got: String,
    pub meaning: String,
    /// Set when going on is pointless (the server is gone): the reason the
    /// checks left give for not running.
    pub fatal: Option<String>,
}

impl Failure {
    pub fn new(sent: impl Into<String>, got: impl ToString, meaning: impl Into<String>) -> Failure {
        Failure {
            sent: sent.into(),
            got: got.to_string(),
            meaning: meaning.into(),
            fatal: None,
        }
    }

    /// The same failure, after which nothing more is checked.
    pub fn fatal(mut self, why: impl Into<String>) -> Failure {
        self.fatal = Some(why.into());
        self
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

/// What a check stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// What the course asks: a failure is a failure.
    Course,
    /// A promise beyond the course's lesson (an exact answer near 2^64 at
    /// once, `1_000`): shown as `remarque`, a failure only with `--strict`.
    Beyond,
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub level: Level,
    pub failure: Option<Failure>,
    pub time: Duration,
}

/// Everything a run found, printed as it goes (unless quiet).
pub struct Report {
    pub title: String,
    pub outcomes: Vec<Outcome>,
    pub notes: Vec<String>,
    started: Instant,
    /// Print each line as it comes (false for a class, where one table
    /// says it all at the end).
    loud: bool,
    /// With `--strict`, a failed `remarque` counts as a failure.
    strict: bool,
    /// Why the checks left are not run, once a check found the server gone.
    given_up: Option<String>,
}

impl Report {
    pub fn new(title: String, loud: bool, strict: bool) -> Report {
        if loud {
            netlabs::log!("{title}");
        }
        Report {
            title,
            outcomes: Vec::new(),
            notes: Vec::new(),
            started: Instant::now(),
            loud,
            strict,
            given_up: None,
        }
    }

    /// Why the checks left will not run, if the run gave up.
    pub fn given_up(&self) -> Option<&str> {
        self.given_up.as_deref()
    }

    /// Stops the run: every check after this one is written down as not run.
    pub fn give_up(&mut self, why: impl Into<String>) {
        if self.given_up.is_none() {
            self.given_up = Some(why.into());
        }
    }

    /// Keeps a check's result, prints its line (and on failure, why). A
    /// fatal failure gives up the rest.
    pub fn record(&mut self, name: &str, level: Level, result: Check, time: Duration) {
        if let Err(Failure {
            fatal: Some(why), ..
        }) = &result
        {
            self.give_up(why.clone());
        }
        if self.loud {
            let word = match (&result, self.counts_as_failure(level)) {
                (Ok(()), _) => "ok    ",
                (Err(_), true) => "ÉCHEC ",
                (Err(_), false) => "remarque",
            };
            // A passed check reads the same whatever its level.
            let tag = if level == Level::Beyond && result.is_err() {
                " (au-delà du cours)"
            } else {
                ""
            };
            netlabs::log!("{word} {name}{tag}");
            if let Err(failure) = &result {
                for line in failure.text().lines() {
                    netlabs::log!("       {line}");
                }
            }
        }
        self.outcomes.push(Outcome {
            name: name.to_string(),
            level,
            failure: result.err(),
            time,
        });
    }

    /// A check not run, because the run gave up.
    pub fn not_run(&mut self, name: &str, level: Level) {
        let why = self.given_up.clone().unwrap_or_default();
        self.record(
            name,
            level,
            Err(Failure::new("", "", format!("pas vérifié : {why}"))),
            Duration::ZERO,
        );
    }

    /// An information line about the model: never a failure.
    pub fn note(&mut self, text: String) {
        if self.loud {
            netlabs::log!("info   {text}");
        }
        self.notes.push(text);
    }

    /// Does a failed check of this level count as a failure?
    pub fn counts_as_failure(&self, level: Level) -> bool {
        level == Level::Course || self.strict
    }

    /// Failures that count (a `remarque` only with `--strict`).
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.failure.is_some() && self.counts_as_failure(o.level))
            .count()
    }

    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.failure.is_none()).count()
    }

    /// Failed checks beyond the course, not counted (without `--strict`).
    pub fn remarks(&self) -> usize {
        self.outcomes.len() - self.passed() - self.failed()
    }

    /// The first failure that counts: its check's name.
    pub fn first_failure(&self) -> Option<&Outcome> {
        self.outcomes
            .iter()
            .find(|o| o.failure.is_some() && self.counts_as_failure(o.level))
    }

    /// The last line, exactly `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }

    /// Ends the run: the remarks' line if any, then the summary.
    pub fn finish(&self) {
        if !self.loud {
            return;
        }
        let remarks = self.remarks();
        if remarks > 0 {
            netlabs::log!(
                "{} au-delà du cours, sans compter dans le total (--strict pour en faire des échecs)",
                netlabs::plural(remarks as u64, "aucune remarque", "remarque", "remarques")
            );
        }
        netlabs::log!("{}", self.summary());
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> Check {
        Err(Failure::new("a", "b", "c"))
    }

    #[test]
    fn a_remark_counts_only_when_strict() {
        let mut report = Report::new("t".into(), false, false);
        report.record("course", Level::Course, Ok(()), Duration::ZERO);
        report.record("beyond", Level::Beyond, failure(), Duration::ZERO);
        assert_eq!(report.summary(), "1 passed, 0 failed");
        assert_eq!(report.remarks(), 1);
        assert!(report.first_failure().is_none());
        let mut strict = Report::new("t".into(), false, true);
        strict.record("beyond", Level::Beyond, failure(), Duration::ZERO);
        assert_eq!(strict.summary(), "0 passed, 1 failed");
        assert_eq!(strict.first_failure().unwrap().name, "beyond");
    }

    #[test]
    fn a_fatal_failure_gives_up_the_rest() {
        let mut report = Report::new("t".into(), false, false);
        report.record(
            "first",
            Level::Course,
            Err(Failure::new("a", "b", "c").fatal("le serveur ne tourne plus")),
            Duration::ZERO,
        );
        assert_eq!(report.given_up(), Some("le serveur ne tourne plus"));
        report.not_run("second", Level::Course);
        let last = report.outcomes.last().unwrap();
        assert_eq!(
            last.failure.as_ref().unwrap().meaning,
            "pas vérifié : le serveur ne tourne plus"
        );
        assert_eq!(report.summary(), "0 passed, 2 failed");
    }
}
