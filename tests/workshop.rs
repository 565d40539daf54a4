//! The workshop, `crates/atelier`, belongs to the student: whatever they
//! put in it — a program `cargo fmt` would rewrite, dead code clippy warns
//! about, a half-written file — the project's own checks (`make test`:
//! formatting, lints, every test) look only at the project. `make atelier`
//! checks the student's programs, alone.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use util::TempDir;

/// The cargo subcommands that read a crate's sources.
const READS_SOURCES: &[&str] = &["build", "check", "clippy", "fmt", "test", "bench", "run"];

/// A student's first draft: formatted by no one, with a variable never
/// read (clippy and rustc warn) — and still no reason for `make test` to fail.
const UNTIDY: &str = "fn main(){let inutile=1;println!(\"bonjour\")}\n";

#[test]
fn no_cargo_command_of_the_project_checks_reads_the_workshop() {
    if !util::have("make", "les commandes de make test, lues par make -n") {
        return;
    }
    let targets = ["test", "build", "demo", "bench"];
    let out = Command::new("make")
        .args(["-n", "--no-print-directory"])
        .args(targets)
        .current_dir(root())
        .output()
        .expect("make -n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|line| Some((line, cargo_subcommand(line)?)))
        .collect();
    for needed in ["fmt", "clippy", "test", "build", "bench"] {
        assert!(
            commands.iter().any(|(_, sub)| *sub == needed),
            "no cargo {needed} in make -n {targets:?}:\n{text}"
        );
    }
    for (line, sub) in commands {
        if sub == "fmt" {
            // `cargo fmt` has no `--exclude`: the crates are named one by one.
            assert!(
                line.contains(" -p ") && !line.contains("-p atelier") && !line.contains("--all"),
                "{line}"
            );
        } else {
            assert!(line.contains("--exclude atelier"), "{line}");
        }
    }
}

#[test]
fn an_untidy_student_program_leaves_the_project_formatting_check_green() {
    if !util::have("make", "make fmt dans une copie du projet") {
        return;
    }
    // A copy of the sources (not of `target/`), with the draft planted in
    // its workshop: the real workshop is the student's and stays untouched.
    let copy = TempDir::new("atelier-brouillon");
    for file in ["Cargo.toml", "Cargo.lock", "Makefile", "rustfmt.toml"] {
        if root().join(file).exists() {
            std::fs::copy(root().join(file), copy.file(file)).expect("copy a file");
        }
    }
    copy_tree(&root().join("crates"), &copy.file("crates"));
    copy_tree(&root().join("tests"), &copy.file("tests"));
    let draft = copy.file("crates/atelier/src/bin/brouillon.rs");
    std::fs::write(&draft, UNTIDY).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let student = Command::new(&cargo)
        .args(["fmt", "-p", "atelier", "--", "--check"])
        .current_dir(&copy.0)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("cargo fmt");
    assert!(
        !student.status.success()
            && String::from_utf8_lossy(&student.stdout).contains("brouillon.rs"),
        "the draft should be untidy for cargo fmt: {student:?}"
    );

    let project = Command::new("make")
        .args(["--no-print-directory", "fmt"])
        .env("CARGO", &cargo)
        .env("CARGO_NET_OFFLINE", "true")
        .current_dir(&copy.0)
        .output()
        .expect("make fmt");
    assert!(
        project.status.success(),
        "make fmt failed on a student's draft:\n{}\n{}",
        String::from_utf8_lossy(&project.stdout),
        String::from_utf8_lossy(&project.stderr)
    );
}

/// The plus pages tell how to copy a lab's server and its library into
/// the workshop as one program of many files: `kv-server` as `mon-kv`
/// (chapter 2.2), `boom-server` as `mon-boom` (Twisted). Their commands,
/// typed in a copy of the sources, must give programs that compile: a
/// module added to a lab's crate and forgotten in a recipe fails here, not
/// in front of a student.
#[test]
fn the_many_file_workshop_recipes_of_the_plus_pages_compile() {
    if !util::have("bash", "les commandes des recettes, tapées par bash") {
        return;
    }
    let recipes = [
        ("docs/chapitre-2.2-plus.md", "mon-kv"),
        ("docs/twisted-plus.md", "mon-boom"),
    ];
    let copy = TempDir::new("atelier-recettes");
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(root().join(file), copy.file(file)).expect("copy a file");
    }
    copy_tree(&root().join("crates"), &copy.file("crates"));
    copy_tree(&root().join("tests"), &copy.file("tests"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (page, program) in recipes {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        let marker = format!("mkdir -p crates/atelier/src/bin/{program}");
        let commands = recipe(&text, &marker);
        assert!(
            commands.iter().any(|c| c.starts_with("cp "))
                && commands.iter().any(|c| c.starts_with("sed ")),
            "{page}: the recipe lost its cp and sed lines: {commands:?}"
        );
        for command in commands.iter().filter(|c| !c.starts_with("cargo ")) {
            let out = Command::new("bash")
                .args(["-c", command])
                .current_dir(&copy.0)
                .output()
                .expect("bash");
            assert!(
                out.status.success(),
                "{page}\n$ {command}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let check = Command::new(&cargo)
            .args(["check", "--quiet", "--bin", program])
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TARGET_DIR", copy.file("target"))
            .current_dir(&copy.0)
            .output()
            .expect("cargo check");
        assert!(
            check.status.success(),
            "{page}: the recipe's {program} does not compile:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

/// The commands (`$ ` lines, prompt removed) of the first fenced block of
/// `page` that contains `marker`.
fn recipe(page: &str, marker: &str) -> Vec<String> {
    let blocks: Vec<&str> = page.split("```").collect();
    let block = blocks
        .iter()
        .skip(1)
        .step_by(2)
        .find(|b| b.contains(marker))
        .unwrap_or_else(|| panic!("no block with {marker:?}"));
    block
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("$ "))
        .map(str::to_string)
        .collect()
}

/// The cargo subcommand a line of `make -n` runs, if it runs cargo
/// (`cargo` itself, or the full path `$CARGO` names).
fn cargo_subcommand(line: &str) -> Option<&str> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.trim_start_matches('\'').ends_with("cargo"))?;
    let sub = *words.get(at + 1)?;
    READS_SOURCES.contains(&sub).then_some(sub)
}

/// Copies the folder `from` to `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn a_cargo_command_is_told_from_the_rest() {
    assert_eq!(
        cargo_subcommand("/home/x/.cargo/bin/cargo test --workspace"),
        Some("test")
    );
    assert_eq!(
        cargo_subcommand("echo 'cargo test --workspace'"),
        Some("test")
    );
    assert_eq!(cargo_subcommand("cargo clean"), None);
    assert_eq!(cargo_subcommand("target/release/compare --clients 1"), None);
}
