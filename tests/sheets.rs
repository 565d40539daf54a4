//! The lab sheets, followed by a test. Each sheet is a main path (a
//! two-hour lab) and a "Pour aller plus loin" page. The main path is
//! walked end to end, in order: every server it starts shows the first
//! line the sheet shows, and every marked transcript is typed again,
//! command by command; what the programs print today must be what the
//! sheet shows. The plus pages' transcripts are typed again too. A main
//! path stays at most about three times the length of its course text.
//!
//! # How a transcript is marked
//!
//! An HTML comment, invisible once the Markdown is rendered, on the line
//! just before a fenced block:
//!
//! ```text
//! <!-- transcript -->
//! ```text
//! $ echo-client --host 127.0.0.1 --port 7777
//! erreur : connexion refusée par 127.0.0.1:7777 ; le serveur est-il lancé ?
//! ```
//! ```
//!
//! - Lines starting with `$ ` are commands; the lines after one, up to the
//!   next command, are what it prints (stdout and stderr together, as on a
//!   screen). Lines such as `[1] 12345` (bash's job notice, which a script
//!   does not print) are not compared.
//! - `<!-- transcript: CMD -->` first starts CMD in the background (a server
//!   the sheet runs in another terminal), waits for its first line, runs the
//!   commands, then stops it. `CMD1 ;; CMD2` starts two.
//! - `<!-- journal -->` before the block that follows a transcript compares
//!   that block with what the server of the transcript printed (its first
//!   line included only when the block shows it).
//!
//! Only quick, deterministic blocks are marked: no interactive session, no
//! `strace`, no measure.
//!
//! # How a block is run
//!
//! As a student in a fresh terminal: one new `bash` per block, with
//! `target/debug` first in `PATH`, in a folder of its own per sheet (the
//! sheet's blocks share it, in order, so a file written by one block is
//! there for the next; `docs` and `crates` lead to the repository's). Each
//! block runs in a network namespace of its own (`unshare -rn`), with its
//! own loopback: the sheets use the default ports (`prime-server`, then
//! `prime-client`), exactly as a student types them, and no other program
//! on the machine can hold those ports. Where namespaces are not allowed,
//! the test says so and is skipped.
//!
//! Each command has [`COMMAND_WAIT`] to finish. Background jobs left by a
//! block are killed at its end. Addresses, ports, process ids and times
//! differ from run to run: they are replaced by `ADDR`, `N` and `HH:MM:SS`
//! on both sides before comparing (see [`normalise`]).

mod util;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// How long one command of a sheet may take before the test fails.
const COMMAND_WAIT: Duration = Duration::from_secs(10);

/// The sheets, in the README's order: each main path (a two-hour lab),
/// its "Pour aller plus loin" page, and the length of the course text it
/// follows, in lines.
const SHEETS: &[Sheet] = &[
    Sheet {
        main: "tp5b-echo.md",
        plus: "tp5b-echo-plus.md",
        course_lines: 139,
    },
    Sheet {
        main: "chapitre-2.2.md",
        plus: "chapitre-2.2-plus.md",
        course_lines: 265,
    },
    Sheet {
        main: "twisted.md",
        plus: "twisted-plus.md",
        course_lines: 494,
    },
];

/// A lab sheet: its main path and the page that goes further.
struct Sheet {
    main: &'static str,
    plus: &'static str,
    course_lines: usize,
}

/// Servers a main path starts that no transcript can drive: their client
/// is a person at a keyboard (telnet in character mode). Their first line
/// is still checked.
const INTERACTIVE_ONLY: &[&str] = &["boom-server"];

/// Tools a block may use that are not ours; a block that names a missing
/// one is skipped, with the reason printed.
const TOOLS: &[&str] = &["nc", "telnet", "curl", "wget", "python3", "strace"];

/// Ends the output of each command in the shell's stream.
const END: &str = "\u{1e}fin\u{1e}";

/// The "Pour aller plus loin" pages: every marked transcript replayed.
/// (The main paths are walked by [`main_path_of_each_sheet_end_to_end`].)
#[test]
fn every_marked_transcript_of_every_plus_page() {
    if !namespaces_work() {
        skip_without_namespaces();
        return;
    }
    let bin_dir = build_every_binary();
    let mut failures = Vec::new();
    let mut walked = 0;
    for sheet in SHEETS {
        let (text, dir) = (read_sheet(sheet.plus), Folder::new(sheet.plus));
        for block in &marked_blocks(&text) {
            walked += run_marked(sheet.plus, block, &bin_dir, &dir.path, &mut failures);
        }
    }
    assert!(walked > 0, "no marked transcript found in the plus pages");
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Each sheet's main path, as a student walks it in one session, in order:
/// every server it starts in a block of its own (`$ echo-server`, then its
/// first line) starts and says what the sheet shows, and every marked
/// transcript is typed again. Every server the main path starts must be
/// driven by at least one transcript (its client, with the shown input),
/// so that a drift of a default port, a first line or an answer turns
/// `make test` red.
#[test]
fn main_path_of_each_sheet_end_to_end() {
    if !namespaces_work() {
        skip_without_namespaces();
        return;
    }
    let bin_dir = build_every_binary();
    let mut failures = Vec::new();
    for sheet in SHEETS {
        let (text, dir) = (read_sheet(sheet.main), Folder::new(sheet.main));
        let blocks = marked_blocks(&text);
        let starts = server_starts(&text, &bin_dir);
        for start in &starts {
            if let Err(why) = check_start(start, &bin_dir, &dir.path) {
                failures.push(format!("{}, ligne {} :\n{why}", sheet.main, start.line));
            }
        }
        for block in &blocks {
            run_marked(sheet.main, block, &bin_dir, &dir.path, &mut failures);
        }
        for start in &starts {
            let name = start.command.split_whitespace().next().unwrap_or("");
            let driven = blocks.iter().flat_map(|b| &b.servers).any(|s| {
                s.split(';')
                    .any(|part| part.split_whitespace().next() == Some(name))
            }) || name == "python3"
                && blocks
                    .iter()
                    .flat_map(|b| &b.servers)
                    .any(|s| *s == start.command)
                || INTERACTIVE_ONLY.contains(&name);
            if !driven {
                failures.push(format!(
                    "{}, ligne {} : le parcours lance « {} » mais aucune transcription marquée \
                     ne le fait tourner avec son client",
                    sheet.main, start.line, start.command
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// A main path fits a two-hour lab: at most about three times the course
/// text it follows (5 % of slack), the rest on its "plus" page.
#[test]
fn each_main_path_is_at_most_about_three_times_its_course() {
    for sheet in SHEETS {
        let lines = read_sheet(sheet.main).lines().count();
        let budget = sheet.course_lines * 3 * 105 / 100;
        assert!(
            lines <= budget,
            "{}: {lines} lines, more than about 3 × {} (the course text): \
             move what goes beyond the lab to {}",
            sheet.main,
            sheet.course_lines,
            sheet.plus
        );
        let plus = read_sheet(sheet.plus);
        assert!(
            read_sheet(sheet.main).contains(sheet.plus) && plus.contains(sheet.main),
            "{} and {} must link to each other",
            sheet.main,
            sheet.plus
        );
    }
}

fn skip_without_namespaces() {
    util::skip(
        "unshare -rn (un réseau à soi, pour les ports par défaut des fiches) \
         n'est pas permis ici",
    );
}

fn read_sheet(name: &str) -> String {
    std::fs::read_to_string(root().join("docs").join(name)).expect("read the sheet")
}

/// Runs one marked block (or says why it is skipped); 1 if it ran.
fn run_marked(
    sheet: &str,
    block: &Block,
    bin_dir: &Path,
    dir: &Path,
    failures: &mut Vec<String>,
) -> usize {
    if let Some(tool) = missing_tool(block) {
        eprintln!("SKIP: {sheet}:{} : {tool} absent", block.line);
        return 0;
    }
    if let Err(why) = run_block(block, bin_dir, dir) {
        failures.push(format!("{sheet}, bloc de la ligne {} :\n{why}", block.line));
    }
    1
}

/// A block of a main path that starts a server: `$ CMD`, then the first
/// line the server prints.
struct Start {
    line: usize,
    command: String,
    first_line: String,
}

/// The unmarked blocks whose first command starts one of our servers (or
/// a course's Python server) and whose next line is its first line.
fn server_starts(text: &str, bin_dir: &Path) -> Vec<Start> {
    let lines: Vec<&str> = text.lines().collect();
    let mut starts = Vec::new();
    for (i, pair) in lines.windows(3).enumerate() {
        let marked = i > 0 && lines[i - 1].trim_start().starts_with("<!--");
        let Some(command) = pair[1].trim_start().strip_prefix("$ ") else {
            continue;
        };
        if !pair[0].trim_start().starts_with("```") || marked {
            continue;
        }
        let first_line = pair[2].trim();
        if !(first_line.starts_with("en écoute sur ") || first_line.starts_with("en attente sur "))
        {
            continue;
        }
        let program = command.split_whitespace().next().unwrap_or("");
        if program == "python3" || bin_dir.join(program).exists() {
            starts.push(Start {
                line: i + 2,
                command: command.to_string(),
                first_line: first_line.to_string(),
            });
        }
    }
    starts
}

/// Starts one server as the sheet does and compares its first line.
fn check_start(start: &Start, bin_dir: &Path, dir: &Path) -> Result<(), String> {
    let mut shell = Shell::start(bin_dir, dir)?;
    let log = dir.join(".demarrage.log");
    let _ = std::fs::remove_file(&log);
    shell.run(&format!("{} >{} 2>&1 &", start.command, log.display()))?;
    let got = match wait_for_lines(&log, 1) {
        Ok(text) | Err(text) => text,
    };
    let first = got.lines().next().unwrap_or("").trim_end().to_string();
    shell.finish()?;
    // Compared as is: in its own network namespace, a server on its
    // default port prints exactly the address and port the sheet shows.
    if first == start.first_line {
        return Ok(());
    }
    Err(format!(
        "$ {}\n--- la fiche montre :\n{}\n--- le programme affiche :\n{}",
        start.command,
        start.first_line,
        got.trim_end()
    ))
}

/// One marked fenced block of a sheet.
struct Block {
    /// Line number of its first line in the sheet (1-based).
    line: usize,
    /// Servers to start first (`<!-- transcript: CMD -->`).
    servers: Vec<String>,
    /// Each command and the lines the sheet shows after it.
    steps: Vec<(String, Vec<String>)>,
    /// The server's log, as the next block (`<!-- journal -->`) shows it.
    journal: Option<Vec<String>>,
}

/// Finds the marked blocks of a sheet.
fn marked_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks: Vec<Block> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let marker = lines[i].trim();
        let Some(inner) = marker
            .strip_prefix("<!--")
            .and_then(|m| m.strip_suffix("-->"))
            .map(str::trim)
        else {
            i += 1;
            continue;
        };
        let (kind, arg) = inner.split_once(':').unwrap_or((inner, ""));
        if kind != "transcript" && kind != "journal" {
            i += 1;
            continue;
        }
        // The fenced block right after the marker.
        assert!(
            lines
                .get(i + 1)
                .is_some_and(|l| l.trim_start().starts_with("```")),
            "line {}: a marker must stand just before a fenced block",
            i + 1
        );
        let start = i + 2;
        let end = (start..lines.len())
            .find(|&j| lines[j].trim_start().starts_with("```"))
            .unwrap_or_else(|| panic!("line {}: unclosed block", i + 2));
        // A block inside a list item is indented like its fence.
        let fence = lines[i + 1];
        let indent = fence.len() - fence.trim_start().len();
        let body: Vec<String> = lines[start..end]
            .iter()
            .map(|l| {
                let blank = l.len() - l.trim_start().len();
                l[blank.min(indent)..].to_string()
            })
            .collect();
        if kind == "journal" {
            let last = blocks
                .last_mut()
                .unwrap_or_else(|| panic!("line {}: a journal follows a transcript", i + 1));
            assert!(
                !last.servers.is_empty(),
                "line {}: a journal needs a server in the transcript before",
                i + 1
            );
            last.journal = Some(body);
        } else {
            let servers = arg
                .split(";;")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            blocks.push(Block {
                line: start,
                servers,
                steps: steps(&body),
                journal: None,
            });
        }
        i = end + 1;
    }
    blocks
}

/// Cuts a transcript into commands and what each prints.
fn steps(body: &[String]) -> Vec<(String, Vec<String>)> {
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    for line in body {
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push((command.to_string(), Vec::new()));
        } else if let Some((_, out)) = steps.last_mut() {
            out.push(line.clone());
        } else {
            panic!("a transcript starts with a command (`$ …`), not with {line:?}");
        }
    }
    steps
}

/// The first tool the block needs that this machine lacks.
fn missing_tool(block: &Block) -> Option<&'static str> {
    let words: Vec<&str> = block
        .servers
        .iter()
        .chain(block.steps.iter().map(|(c, _)| c))
        .flat_map(|c| c.split(|ch: char| ch.is_whitespace() || "|;&()$".contains(ch)))
        .collect();
    TOOLS
        .iter()
        .copied()
        .find(|tool| words.contains(tool) && !util::have(tool, "fiche de TP"))
}

/// Runs one block in a fresh shell and compares each command's output with
/// the sheet's.
fn run_block(block: &Block, bin_dir: &Path, dir: &Path) -> Result<(), String> {
    let mut shell = Shell::start(bin_dir, dir)?;
    let mut logs = Vec::new();
    for (n, server) in block.servers.iter().enumerate() {
        let log = dir.join(format!(".serveur-{n}.log"));
        let _ = std::fs::remove_file(&log);
        shell.run(&format!("{server} >{} 2>&1 &", log.display()))?;
        wait_for_lines(&log, 1)
            .map_err(|got| format!("le serveur « {server} » n'a rien affiché ({got:?})"))?;
        logs.push(log);
    }
    for (command, expected) in &block.steps {
        let got = shell.run(command)?;
        compare(&format!("$ {command}"), expected, &got)?;
    }
    if let Some(journal) = &block.journal {
        let log = &logs[0];
        let shows_first = journal.first().is_some_and(|l| l.contains(" sur "));
        let wanted = journal.len() + usize::from(!shows_first);
        let got = match wait_for_lines(log, wanted) {
            Ok(text) | Err(text) => text,
        };
        let got = if shows_first {
            got
        } else {
            got.split_once('\n')
                .map(|(_, rest)| rest.to_string())
                .unwrap_or_default()
        };
        compare("(journal du serveur)", journal, &got)?;
    }
    shell.finish()
}

/// Compares what the sheet shows with what came, line by line, after
/// [`normalise`]; the error shows both.
fn compare(what: &str, expected: &[String], got: &str) -> Result<(), String> {
    let want: Vec<String> = expected
        .iter()
        .filter(|l| !is_job_notice(l))
        .map(|l| normalise(l))
        .collect();
    let came: Vec<String> = got.lines().map(normalise).collect();
    if want == came {
        return Ok(());
    }
    Err(format!(
        "{what}\n--- la fiche montre :\n{}\n--- le programme affiche :\n{}",
        expected.join("\n"),
        got.trim_end()
    ))
}

/// `[1] 12345`, `[1]+  Done …`: what an interactive bash says of its jobs.
fn is_job_notice(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(']')
}

/// What changes from run to run becomes a constant: IPv4 addresses and
/// `[::1]` (`ADDR`: `localhost` is either, depending on the machine),
/// numbers after `:`, `', `, `pid=`, `port ` or `htons(` (ports and process
/// ids: `N`), and times of day (`HH:MM:SS`). Trailing blanks go.
fn normalise(line: &str) -> String {
    let line = line.replace("[::1]", "127.0.0.1");
    let chars: Vec<char> = line.trim_end().chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        // A time of day: 13:06:46 (and its fraction).
        if let Some(len) = time_at(&chars[i..]) {
            out.push_str("HH:MM:SS");
            i += len;
            continue;
        }
        // An IPv4 address: four numbers and three dots.
        if let Some(len) = ipv4_at(&chars[i..]) {
            out.push_str("ADDR");
            i += len;
            continue;
        }
        let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            let before: String = out
                .chars()
                .rev()
                .take(7)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let variable = [":", "', ", "pid=", "port ", "htons("]
                .iter()
                .any(|p| before.ends_with(p));
            if variable {
                out.push('N');
            } else {
                out.extend(&chars[i..i + digits]);
            }
            i += digits;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Length of `HH:MM:SS` (with an optional `.fraction`) at the start of `s`.
fn time_at(s: &[char]) -> Option<usize> {
    let d = |i: usize| s.get(i).is_some_and(char::is_ascii_digit);
    let c = |i: usize| s.get(i) == Some(&':');
    if !(d(0) && d(1) && c(2) && d(3) && d(4) && c(5) && d(6) && d(7)) {
        return None;
    }
    let mut len = 8;
    if s.get(8) == Some(&'.') && d(9) {
        len = 9 + s[9..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    Some(len)
}

/// Length of a dotted IPv4 address at the start of `s`.
fn ipv4_at(s: &[char]) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        let digits = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        i += digits;
        if part < 3 {
            if s.get(i) != Some(&'.') {
                return None;
            }
            i += 1;
        }
    }
    Some(i)
}

/// Waits until `file` has `n` lines; its text either way.
fn wait_for_lines(file: &Path, n: usize) -> Result<String, String> {
    let deadline = Instant::now() + COMMAND_WAIT;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.lines().count() >= n && text.ends_with('\n') {
            return Ok(text);
        }
        if Instant::now() > deadline {
            return Err(text);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A bash in its own network namespace, fed one command at a time.
struct Shell {
    child: Child,
    output: Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

impl Shell {
    fn start(bin_dir: &Path, dir: &Path) -> Result<Shell, String> {
        use std::os::unix::process::CommandExt;
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut child = Command::new("unshare")
            .args(["-rn", "bash", "--noprofile", "--norc", "-s"])
            .current_dir(dir)
            .env("PATH", path)
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: the end of the block kills it whole.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("unshare : {e}"))?;
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        let mut shell = Shell {
            child,
            output: rx,
            pending: Vec::new(),
        };
        // The loopback of a new namespace is down until told otherwise.
        let up = shell.run("exec 2>&1; ip link set lo up")?;
        if !up.is_empty() {
            return Err(format!("ip link set lo up : {up}"));
        }
        Ok(shell)
    }

    /// Runs one command line, its input empty, and returns what it printed
    /// (stdout and stderr, as on a screen).
    fn run(&mut self, command: &str) -> Result<String, String> {
        let script = format!("{{ {command}\n}} </dev/null 2>&1; printf '{END}'\n");
        self.child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(script.as_bytes())
            .map_err(|e| format!("$ {command}\n(le shell ne lit plus : {e})"))?;
        let deadline = Instant::now() + COMMAND_WAIT;
        loop {
            if let Some(at) = find(&self.pending, END.as_bytes()) {
                let out = String::from_utf8_lossy(&self.pending[..at]).into_owned();
                self.pending.drain(..at + END.len());
                return Ok(out);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.pending.extend(bytes),
                Err(_) => {
                    return Err(format!(
                        "$ {command}\n(pas fini au bout de {} s ; affiché jusque-là :)\n{}",
                        COMMAND_WAIT.as_secs(),
                        String::from_utf8_lossy(&self.pending)
                    ));
                }
            }
        }
    }

    /// Kills the block's background jobs and ends the shell.
    fn finish(mut self) -> Result<(), String> {
        let _ = self.run("kill $(jobs -p) 2>/dev/null; wait");
        let _ = self.child.stdin.take();
        Ok(())
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        // Whatever is left of the block (a job that ignored the end): the
        // whole process group goes.
        let _ = Command::new("kill")
            .args(["-9", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A sheet's own folder, with `docs` and `crates` leading to the
/// repository's; removed at the end.
struct Folder {
    path: PathBuf,
}

impl Folder {
    fn new(sheet: &str) -> Folder {
        let path = std::env::temp_dir().join(format!(
            "netlabs-fiche-{}-{}",
            sheet.trim_end_matches(".md"),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temporary folder");
        for name in ["docs", "crates"] {
            std::os::unix::fs::symlink(root().join(name), path.join(name)).expect("symlink");
        }
        Folder { path }
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every program of the workspace, built if missing; their folder.
fn build_every_binary() -> PathBuf {
    let mut dir = None;
    for krate in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let krate = krate.expect("crate").path();
        // `src/main.rs` is the binary named after its crate (`labcheck`).
        if krate.join("src/main.rs").exists()
            && let Some(name) = krate.file_name().and_then(|n| n.to_str())
        {
            dir = util::bin(name).parent().map(Path::to_path_buf);
        }
        for file in std::fs::read_dir(krate.join("src/bin"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            if let Some(name) = name.strip_suffix(".rs") {
                dir = util::bin(name).parent().map(Path::to_path_buf);
            }
        }
    }
    dir.expect("at least one program")
}

/// True when this machine lets a user open a network namespace of its own
/// and bring its loopback up.
fn namespaces_work() -> bool {
    Command::new("unshare")
        .args(["-rn", "sh", "-c", "ip link set lo up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn normalise_hides_what_changes_between_runs() {
    assert_eq!(
        normalise("connexion de 127.0.0.1:51378 à 13:06:46.123  "),
        "connexion de ADDR:N à HH:MM:SS"
    );
    assert_eq!(
        normalise("Connexion acceptée: ('127.0.0.1', 33724)"),
        "Connexion acceptée: ('ADDR', N)"
    );
    assert_eq!(
        normalise("Envoi d'un message 1125899906842624"),
        "Envoi d'un message 1125899906842624"
    );
    assert_eq!(normalise("connexion de [::1]:45026"), "connexion de ADDR:N");
    assert!(is_job_notice("[1] 12345"));
    assert!(!is_job_notice("[::1]:7777"));
}
