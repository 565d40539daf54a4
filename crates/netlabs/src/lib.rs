//! What every netlabs program needs and none of them should have to show:
//!
//! - [`cli`]: options (`--bind`, `--port`, `--host`, `-h`), exit 2 on a
//!   mistake;
//! - [`net`]: opening sockets, the first line `en écoute sur ADDR:PORT`,
//!   trying every address of a host name, what to do when `accept` fails;
//! - [`error`]: one French line on stderr, exit 1;
//! - [`output`]: [`log!`] (stdout) and [`warn!`] (stderr), which never
//!   panic on a closed stream; with [`fail!`] (`erreur : …` and exit 1)
//!   and [`Why`] (an error in the system's words), one way to log and to
//!   fail in every program;
//! - [`french`]: numbers as French writes them (`1 octet`, `2 octets`,
//!   `1 048 576`, `2,5 s`, `a, b et c`);
//! - [`lines`]: cutting a TCP byte stream into lines, with a length limit;
//! - [`procfs`]: what Linux's `/proc` tells of a process seen from outside
//!   (the owner of a listening socket, its threads, memory, CPU time);
//! - [`records`]: whole records in a file (append or undo, cut a torn
//!   tail, replace by rename) and the check of a path given on the command
//!   line;
//! - [`sys`]: the workspace's only foreign functions, `poll(2)` among them;
//! - [`udp`]: the answer budget that keeps UDP servers out of echo loops;
//! - [`markup`]: text made safe in XML and SVG;
//! - [`temp`]: a fresh folder for a test's files.
//!
//! The programs themselves stay in their own crates and read top to bottom,
//! like the course's Python.

// `unsafe` is allowed in `sys` alone. Every other module forbids it (an
// `allow` inside cannot lift a `forbid`); this root, which declares
// modules and nothing else, denies it (`Cargo.toml`). The root cannot
// forbid it too: no module below could then allow it, `sys` included.
#[allow(unsafe_code)]
pub mod sys;

#[forbid(unsafe_code)]
pub mod cli;
#[forbid(unsafe_code)]
pub mod error;
#[forbid(unsafe_code)]
pub mod french;
#[forbid(unsafe_code)]
pub mod lines;
#[forbid(unsafe_code)]
pub mod markup;
#[forbid(unsafe_code)]
pub mod net;
#[forbid(unsafe_code)]
pub mod output;
#[forbid(unsafe_code)]
pub mod procfs;
#[forbid(unsafe_code)]
pub mod records;
#[forbid(unsafe_code)]
pub mod temp;
#[forbid(unsafe_code)]
pub mod udp;

pub use cli::Args;
pub use error::{Why, fail};
pub use french::{octets, plural, thousands};
pub use output::{log, warn};

#[cfg(test)]
mod tests {
    /// Every module of this crate but `sys` is declared with
    /// `#[forbid(unsafe_code)]`, and `sys` is the only one allowed.
    #[test]
    fn unsafe_is_forbidden_in_every_module_but_sys() {
        let source = include_str!("lib.rs");
        let lines: Vec<&str> = source.lines().collect();
        let mut modules = 0;
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = line.strip_prefix("pub mod ").or(line.strip_prefix("mod ")) else {
                continue;
            };
            let name = name.trim_end_matches(';');
            if name == "tests {" {
                continue;
            }
            modules += 1;
            let expected = if name == "sys" {
                "#[allow(unsafe_code)]"
            } else {
                "#[forbid(unsafe_code)]"
            };
            assert_eq!(lines[i - 1], expected, "module {name}");
        }
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "rs"))
            })
            .count();
        assert_eq!(modules, files - 1, "a file of src/ is not declared here");
        assert!(!source.contains(&["unsafe", " {"].concat()));
    }
}
