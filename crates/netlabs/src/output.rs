//! Printing for people without ever panicking: `println!` and `eprintln!`
//! panic when their stream is closed (`echo-server | head -1`), and a
//! server must go on serving. [`log!`](crate::log!) writes a line on
//! stdout, [`warn!`](crate::warn!) on stderr.

use std::io::Write;

/// Prints one log line on stdout and flushes it. Unlike `println!`, it
/// never panics: a server whose output was closed (`echo-server | head -1`)
/// goes on serving.
pub fn log(line: impl std::fmt::Display) {
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
