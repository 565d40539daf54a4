//! Command-line options, parsed by hand: `--name VALUE` or `--name=VALUE`,
//! flags like `--forever`, and plain arguments.
//!
//! A program takes the options it knows one by one, then calls
//! [`Args::finish`] (or [`Args::rest`]) so that anything left over is an
//! error. `-h`/`--help` prints the usage and exits 0; a bad option or value
//! prints a French line and the usage on stderr and exits 2, like Unix tools.
//!
//! ```no_run
//! const USAGE: &str = "usage : mon-serveur [--bind ADDR] [--port N]";
//! let mut args = netlabs::Args::parse(USAGE);
//! let bind = args.bind("::");
//! let port = args.port(7777);
//! args.finish();
//! # let _ = (bind, port);
//! ```

use std::io::Write;
use std::net::IpAddr;
use std::process;
use std::str::FromStr;

/// The arguments not yet taken, with the usage to print on a mistake.
#[derive(Debug)]
pub struct Args {
    usage: &'static str,
    rest: Vec<String>,
}

impl Args {
    /// Reads the program's arguments. `-h` or `--help` anywhere before `--`
    /// prints `usage` on stdout and exits 0. An argument that is not valid
    /// UTF-8 (a Latin-1 file name such as `caf\xe9.txt`) is a usage error,
    /// never a panic as `std::env::args()` would make it.
    pub fn parse(usage: &'static str) -> Args {
        let mut rest = Vec::new();
        for arg in std::env::args_os().skip(1) {
            match arg.into_string() {
                Ok(text) => rest.push(text),
                Err(raw) => Args { usage, rest }.usage_error(&format!(
                    "l'argument « {} » n'est pas de l'UTF-8 valide ; renommez le fichier ou passez par un lien au nom en UTF-8",
                    raw.to_string_lossy()
                )),
            }
        }
        Args::from_vec(usage, rest)
    }

    /// Like [`Args::parse`], from a given list (for tests).
    pub fn from_vec(usage: &'static str, rest: Vec<String>) -> Args {
        let before_dashes = rest.iter().take_while(|a| *a != "--");
        if before_dashes
            .into_iter()
            .any(|a| a == "-h" || a == "--help")
        {
            // print! would panic on a closed stdout (`--help | head -1`).
            let _ = writeln!(std::io::stdout().lock(), "{}", usage.trim_end());
            process::exit(0);
        }
        Args { usage, rest }
    }

    /// Takes a flag such as `--forever`: true if it was given.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        let end = self.options_end();
        let mut i = 0;
        self.rest.retain(|a| {
            i += 1;
            !(i <= end && a == name)
        });
        self.rest.len() != before
    }

    /// Takes `--name VALUE` or `--name=VALUE` and parses VALUE; the last one
    /// given wins. A missing or unparsable value is a usage error.
    pub fn value<T: FromStr>(&mut self, name: &str) -> Option<T> {
        self.values(name).pop()
    }

    /// Takes every `--name VALUE` or `--name=VALUE`, in the order given, for
    /// an option that may be repeated (`--target A --target B`).
    pub fn values<T: FromStr>(&mut self, name: &str) -> Vec<T> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < self.options_end() {
            let arg = &self.rest[i];
            if arg == name {
                if i + 1 >= self.options_end() {
                    self.usage_error(&format!("l'option {name} attend une valeur"));
                }
                let value = self.rest.remove(i + 1);
                self.rest.remove(i);
                found.push(self.parse_value(name, &value));
            } else if let Some(value) = arg.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
                let value = value.to_string();
                self.rest.remove(i);
                found.push(self.parse_value(name, &value));
            } else {
                i += 1;
            }
        }
        found
    }

    /// `--port N` (0 lets the system choose a free port).
    pub fn port(&mut self, default: u16) -> u16 {
        self.value("--port").unwrap_or(default)
    }

    /// `--bind ADDR`: `127.0.0.1`, `::1` or `[::1]`, `0.0.0.0`, `::`.
    pub fn bind(&mut self, default: &str) -> IpAddr {
        let text = self.value::<String>("--bind");
        let text = text.as_deref().unwrap_or(default);
        match parse_ip(text) {
            Some(ip) => ip,
            None => self.usage_error(&format!(
                "--bind attend une adresse IP comme 127.0.0.1, ::1, 0.0.0.0 ou :: (reçu « {text} »)"
            )),
        }
    }

    /// `--host HOST`: a name (`localhost`) or an address; brackets around
    /// an IPv6 address are removed.
    pub fn host(&mut self, default: &str) -> String {
        let host = self.value::<String>("--host");
        let host = host.as_deref().unwrap_or(default);
        if host.is_empty() {
            self.usage_error("--host attend un nom ou une adresse");
        }
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    }

    /// Takes every remaining plain argument (after `--`, everything is
    /// plain); an unknown option left over is a usage error. A negative
    /// number such as `-5` is a plain argument, not an option.
    pub fn rest(mut self) -> Vec<String> {
        let end = self.options_end();
        if let Some(unknown) = self.rest[..end].iter().find(|a| looks_like_option(a)) {
            self.usage_error(&format!("option inconnue : {unknown}"));
        }
        if end < self.rest.len() {
            self.rest.remove(end);
        }
        std::mem::take(&mut self.rest)
    }

    /// Checks that nothing is left: any argument still there is an error.
    pub fn finish(self) {
        if let Some(extra) = self.rest.first() {
            let what = if looks_like_option(extra) {
                "option inconnue"
            } else {
                "argument inattendu"
            };
            self.usage_error(&format!("{what} : {extra}"));
        }
    }

    /// Prints `erreur : MESSAGE` and the usage on stderr, then exits 2.
    pub fn usage_error(&self, message: &str) -> ! {
        usage_error(self.usage, message)
    }

    fn parse_value<T: FromStr>(&self, name: &str, value: &str) -> T {
        match value.parse() {
            Ok(v) => v,
            Err(_) => self.usage_error(&format!("valeur invalide pour {name} : « {value} »")),
        }
    }

    /// Options are looked for before a `--`, never after it.
    fn options_end(&self) -> usize {
        self.rest
            .iter()
            .position(|a| a == "--")
            .unwrap_or(self.rest.len())
    }
}

/// Prints `erreur : MESSAGE` and `usage` on stderr, then exits 2: for a
/// mistake seen after [`Args::rest`] has taken the arguments.
pub fn usage_error(usage: &str, message: &str) -> ! {
    crate::warn(format_args!("erreur : {message}\n{}", usage.trim_end()));
    process::exit(2)
}

/// `::1`, `[::1]`, `127.0.0.1`… as an address.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse().ok()
}

fn looks_like_option(arg: &str) -> bool {
    arg.starts_with('-') && arg.len() > 1 && !arg[1..].starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::from_vec("usage", list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn values_in_both_spellings_and_defaults() {
        let mut a = args(&["--port", "0", "--bind=[::1]"]);
        assert_eq!(a.port(7777), 0);
        assert_eq!(a.bind("::"), "::1".parse::<IpAddr>().unwrap());
        a.finish();
        let mut a = args(&[]);
        assert_eq!(a.port(7777), 7777);
        assert_eq!(a.bind("::"), "::".parse::<IpAddr>().unwrap());
        assert_eq!(a.host("localhost"), "localhost");
    }

    #[test]
    fn host_brackets_are_removed() {
        let mut a = args(&["--host", "[::1]"]);
        assert_eq!(a.host("localhost"), "::1");
    }

    #[test]
    fn flags_and_plain_arguments_with_negative_numbers() {
        let mut a = args(&["4", "--forever", "-5", "--", "--port"]);
        assert!(a.flag("--forever"));
        assert!(!a.flag("--stop"));
        assert_eq!(a.port(1), 1, "--port after -- is not an option");
        assert_eq!(a.rest(), vec!["4", "-5", "--port"]);
    }

    #[test]
    fn repeated_values_are_all_taken_in_order() {
        let mut a = args(&[
            "--target",
            "a",
            "--port",
            "1",
            "--target=b",
            "--",
            "--target",
            "c",
        ]);
        assert_eq!(a.values::<String>("--target"), vec!["a", "b"]);
        assert_eq!(a.port(0), 1);
        assert_eq!(a.rest(), vec!["--target", "c"]);
    }

    #[test]
    fn the_last_value_wins() {
        let mut a = args(&["--port", "1", "--port=2"]);
        assert_eq!(a.port(0), 2);
    }

    #[test]
    fn parse_ip_accepts_every_documented_spelling() {
        for text in ["127.0.0.1", "::1", "[::1]", "0.0.0.0", "::"] {
            assert!(parse_ip(text).is_some(), "{text}");
        }
        assert!(parse_ip("localhost").is_none());
        assert!(parse_ip("[::1").is_none());
    }

    #[test]
    fn options_are_told_from_numbers() {
        assert!(looks_like_option("--bogus"));
        assert!(looks_like_option("-x"));
        assert!(!looks_like_option("-5"));
        assert!(!looks_like_option("-"));
    }
}
