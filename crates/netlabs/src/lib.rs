//! What every netlabs program needs and none of them should have to show:
//!
//! - [`cli`]: options (`--bind`, `--port`, `--host`, `-h`), exit 2 on a
//!   mistake;
//! - [`net`]: opening sockets, the first line `en écoute sur ADDR:PORT`,
//!   trying every address of a host name;
//! - [`error`]: one French line on stderr, exit 1;
//! - [`lines`]: cutting a TCP byte stream into lines, with a length limit;
//! - [`procfs`]: what Linux's `/proc` tells of a process seen from outside
//!   (the owner of a listening socket, its threads, memory, CPU time);
//! - [`records`]: whole records in a file (append or undo, cut a torn
//!   tail, replace by rename) and the check of a path given on the command
//!   line;
//! - [`sys`]: the workspace's only foreign functions, `poll(2)` among them;
//! - [`udp`]: the answer budget that keeps UDP servers out of echo loops;
//! - [`log!`] (stdout), [`warn!`] (stderr), [`fail!`] (`erreur : …` and
//!   exit 1) and [`Why`] (an error in the system's words): one way to log
//!   and to fail in every program; [`plural`] and [`octets`]: counts in
//!   French.
//!
//! The programs themselves stay in their own crates and read top to bottom,
//! like the course's Python.

pub mod cli;
pub mod error;
pub mod lines;
pub mod net;
pub mod procfs;
pub mod records;
pub mod sys;
pub mod udp;

pub use cli::Args;
pub use error::{Why, fail};

/// Prints one log line on stdout and flushes it. Unlike `println!`, it
/// never panics: a server whose output was closed (`echo-server | head -1`)
/// goes on serving.
pub fn log(line: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `log!("connexion de {peer}")`: like `println!`, through [`log()`].
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        // In a program's own unit tests (`cargo test`), through the test
        // harness, which shows the line only if the test fails.
        if cfg!(test) {
            ::std::println!($($arg)*)
        } else {
            $crate::log(format_args!($($arg)*))
        }
    };
}

/// Prints one line on stderr. Unlike `eprintln!`, it never panics: a server
/// started as `echo-server 2>&1 | head -1` must not die on its next warning.
pub fn warn(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `warn!("accept a échoué : {why}")`: like `eprintln!`, through [`warn()`].
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        // As in `log!`: a unit test shows the line only if it fails.
        if cfg!(test) {
            ::std::eprintln!($($arg)*)
        } else {
            $crate::warn(format_args!($($arg)*))
        }
    };
}

/// A count in French words, for log lines: `plural(n, "aucun octet",
/// "octet", "octets")` reads `aucun octet`, `1 octet`, `2 octets`. French
/// puts 0 and 1 in the singular; `aucun`/`aucune` reads better than 0, and
/// its gender is the caller's to choose.
pub fn plural(n: u64, none: &str, one: &str, many: &str) -> String {
    match n {
        0 => none.to_string(),
        1 => format!("1 {one}"),
        _ => format!("{n} {many}"),
    }
}

/// A count of bytes in French words: `aucun octet`, `1 octet`, `2 octets`.
pub fn octets(n: u64) -> String {
    plural(n, "aucun octet", "octet", "octets")
}

/// `1048576` → `1 048 576`: French groups digits by three with a space.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{octets, plural, thousands};

    #[test]
    fn digits_grouped_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1 000");
        assert_eq!(thousands(1_048_576), "1 048 576");
    }

    #[test]
    fn french_counts() {
        assert_eq!(octets(0), "aucun octet");
        assert_eq!(octets(1), "1 octet");
        assert_eq!(octets(2), "2 octets");
        assert_eq!(
            plural(
                1,
                "aucune connexion ouverte",
                "connexion ouverte",
                "connexions ouvertes"
            ),
            "1 connexion ouverte"
        );
    }
}
