//! `labcheck` against servers written the way students write them
//! (`tests/peers/`): in C, Python, Java, Node and Rust, correct ones in
//! every concurrency model, and buggy ones with one mistake each.
//!
//! `tests/peers/manifest.txt` says, for each server, labcheck's expected
//! exit status, what its FIRST failure must name (the real cause, not a
//! consequence), and which model it must tell. Its last column says
//! whether labcheck already says so: rows marked `tenu` are asserted;
//! rows marked `à venir` are run and shown, not asserted, until labcheck
//! learns them (`LABCHECK_PEERS=tout` asserts every row). A server that
//! does not compile or start is always a failure.
//!
//! C and Rust servers are compiled here into a temporary folder, Java ones
//! with `javac`; a language whose tools are missing is skipped
//! (`util::have`, which says so). The servers run concurrently, a few at a time, and the
//! ones that burn a core (their mistake) fewer still, so that the correct
//! ones are not judged on a starved machine.

mod util;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use util::{Server, TempDir};

/// Where the servers and the manifest live.
const PEERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers");

/// The longest one labcheck run may last before the test kills it and
/// calls it a hang (labcheck bounds every wait itself; this is the net).
const RUN_LIMIT: Duration = Duration::from_secs(150);

/// Slots of the runs going on: a run that burns a core takes more.
const SLOTS: usize = 10;
const CALM_COST: usize = 1;
const BURNING_COST: usize = 3;

/// A piece of text to find: every group must match, a group matches when
/// one of its variants is found (case ignored).
#[derive(Debug, Clone)]
struct Phrase {
    text: String,
    groups: Vec<Vec<String>>,
}

impl Phrase {
    /// `-` is no phrase; `a + b ou c` is « a, and b or c ».
    fn parse(text: &str) -> Option<Phrase> {
        let text = text.trim();
        if text == "-" || text.is_empty() {
            return None;
        }
        let groups = text
            .split(" + ")
            .map(|group| {
                group
                    .split(" ou ")
                    .map(|v| v.trim().to_lowercase())
                    .collect()
            })
            .collect();
        Some(Phrase {
            text: text.to_string(),
            groups,
        })
    }

    fn found_in(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.groups
            .iter()
            .all(|group| group.iter().any(|v| text.contains(v.as_str())))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lang {
    C,
    Python,
    Java,
    Node,
    Rust,
}

impl Lang {
    fn of(file: &str) -> Lang {
        match Path::new(file).extension().and_then(|e| e.to_str()) {
            Some("c") => Lang::C,
            Some("py") => Lang::Python,
            Some("java") => Lang::Java,
            Some("js") => Lang::Node,
            Some("rs") => Lang::Rust,
            _ => panic!("manifest: unknown language for {file}"),
        }
    }

    /// The programs the language needs here.
    fn tools(self) -> &'static [&'static str] {
        match self {
            Lang::C => &["gcc"],
            Lang::Python => &["python3"],
            Lang::Java => &["javac", "java"],
            Lang::Node => &["node"],
            Lang::Rust => &["rustc"],
        }
    }
}

/// One row of the manifest.
#[derive(Debug, Clone)]
struct Row {
    line: usize,
    file: String,
    args: Vec<String>,
    exit: i32,
    cause: Option<Phrase>,
    model: Option<Phrase>,
    /// `tenu` in the manifest: asserted.
    held: bool,
    burns: bool,
}

impl Row {
    fn name(&self) -> String {
        format!("{} ({})", self.file, self.args.join(" "))
    }
}

fn read_manifest() -> Vec<Row> {
    let path = format!("{PEERS}/manifest.txt");
    let text = std::fs::read_to_string(&path).expect("read tests/peers/manifest.txt");
    let mut rows = Vec::new();
    let mut burning = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(list) = line.strip_prefix("CPU ") {
            burning.extend(list.split_whitespace().map(str::to_string));
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [file, kind, exit, cause, model, state] = cols[..] else {
            panic!("manifest line {line_no}: six columns expected, got {line:?}");
        };
        assert!(
            Path::new(PEERS).join(file).is_file(),
            "manifest line {line_no}: no file tests/peers/{file}"
        );
        rows.push(Row {
            line: line_no,
            file: file.to_string(),
            args: kind.split_whitespace().map(str::to_string).collect(),
            exit: exit
                .parse()
                .unwrap_or_else(|_| panic!("manifest line {line_no}: exit {exit:?}")),
            cause: Phrase::parse(cause),
            model: Phrase::parse(model),
            held: match state {
                "tenu" => true,
                "à venir" => false,
                other => panic!("manifest line {line_no}: tenu or à venir, not {other:?}"),
            },
            burns: false,
        });
    }
    for file in &burning {
        assert!(
            rows.iter().any(|r| &r.file == file),
            "manifest: CPU names {file}, which has no row"
        );
    }
    for row in &mut rows {
        row.burns = burning.contains(&row.file);
    }
    rows
}

/// Runs a compiler; its output becomes the failure message.
fn compile(mut cmd: Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("{shown} could not start: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{shown} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The compiled programs of `rows` in `dir`: C and Rust one binary per
/// file, Java all classes at once. Each language compiles in its own
/// thread.
fn build(rows: &[Row], langs: &[Lang], dir: &Path) -> Result<(), String> {
    // Binaries share one folder: two sources may not give one name.
    let mut names: Vec<(String, &str)> = rows
        .iter()
        .filter(|r| matches!(Lang::of(&r.file), Lang::C | Lang::Rust))
        .map(|r| (binary_name(&r.file), r.file.as_str()))
        .collect();
    names.sort();
    names.dedup();
    for pair in names.windows(2) {
        assert_ne!(
            pair[0].0, pair[1].0,
            "{} and {} would make one binary",
            pair[0].1, pair[1].1
        );
    }
    let mut jobs = Vec::new();
    for &lang in langs {
        let mut files: Vec<String> = rows
            .iter()
            .filter(|r| Lang::of(&r.file) == lang)
            .map(|r| r.file.clone())
            .collect();
        files.dedup();
        let dir = dir.to_path_buf();
        jobs.push(thread::spawn(move || -> Result<(), String> {
            match lang {
                Lang::C | Lang::Rust => {
                    for file in &files {
                        let out = dir.join(binary_name(file));
                        let mut cmd;
                        if lang == Lang::C {
                            cmd = Command::new("gcc");
                            cmd.args(["-O1", "-Wall", "-pthread", "-o"]);
                        } else {
                            cmd = Command::new("rustc");
                            cmd.args(["--edition", "2021", "-o"]);
                        }
                        cmd.arg(&out).arg(Path::new(PEERS).join(file));
                        compile(cmd)?;
                    }
                    Ok(())
                }
                Lang::Java => {
                    let mut cmd = Command::new("javac");
                    cmd.args(["-encoding", "UTF-8", "-d"]).arg(dir.join("java"));
                    cmd.args(files.iter().map(|f| Path::new(PEERS).join(f)));
                    compile(cmd)
                }
                Lang::Python | Lang::Node => Ok(()),
            }
        }));
    }
    for job in jobs {
        job.join().expect("a compiler thread panicked")?;
    }
    Ok(())
}

/// `c/echo_fork.c` → `echo_fork`: the name a student would give, which
/// tells nothing of the language (labcheck must find it elsewhere).
fn binary_name(file: &str) -> String {
    let name = file.rsplit_once('/').map_or(file, |(_, n)| n);
    name.rsplit_once('.').map_or(name, |(s, _)| s).to_string()
}

/// The command that starts the server of `file` on a free port (every
/// server takes its port as its only argument; 0 is a free one).
fn server_command(file: &str, dir: &Path) -> Command {
    let source = Path::new(PEERS).join(file);
    let mut cmd = match Lang::of(file) {
        Lang::C | Lang::Rust => Command::new(dir.join(binary_name(file))),
        Lang::Python => {
            let mut c = Command::new("python3");
            c.arg(&source);
            c
        }
        Lang::Node => {
            let mut c = Command::new("node");
            c.arg(&source);
            c
        }
        Lang::Java => {
            let class = source.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let mut c = Command::new("java");
            c.arg("-cp").arg(dir.join("java")).arg(class);
            c
        }
    };
    cmd.arg("0");
    cmd
}

/// What one labcheck run printed, and how it ended.
struct Run {
    code: Option<i32>,
    out: String,
    err: String,
    took: Duration,
}

impl Run {
    /// The first failure: its `ÉCHEC` line and the indented lines under it.
    fn first_failure(&self) -> Option<String> {
        let mut lines = self.out.lines();
        let head = lines.find(|l| l.starts_with("ÉCHEC"))?;
        // The explanation is indented under it, whatever its margin.
        let mut block = vec![head];
        block.extend(lines.take_while(|l| l.starts_with(char::is_whitespace)));
        Some(block.join("\n"))
    }

    /// The lines that speak of the model.
    fn model_lines(&self) -> String {
        self.out
            .lines()
            .filter(|l| l.contains("modèle"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One short line: the exit status and the first failure's name.
    fn short(&self) -> String {
        let code = self
            .code
            .map_or("tué (trop long)".to_string(), |c| c.to_string());
        match self.first_failure() {
            Some(block) => format!(
                "sortie {code}, 1er échec : {}",
                block
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("ÉCHEC")
                    .trim()
            ),
            None => format!("sortie {code}, aucun échec"),
        }
    }
}

/// Runs labcheck with `args` then `addr`, within [`RUN_LIMIT`].
fn labcheck(args: &[String], addr: &str) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_labcheck"))
        .args(args)
        .arg(addr)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start labcheck");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let err = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if start.elapsed() < RUN_LIMIT => thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    Run {
        code,
        out: out.join().unwrap_or_default(),
        err: err.join().unwrap_or_default(),
        took: start.elapsed(),
    }
}

/// Is `run` what the row expects? `Err` says what differs. `models` are
/// all the models of the manifest: a server's must be said by a line
/// that names no other (a sentence that names every model proves
/// nothing).
fn judge(row: &Row, run: &Run, models: &[Phrase]) -> Result<(), String> {
    let mut wrong = Vec::new();
    if run.code != Some(row.exit) {
        wrong.push(format!("sortie {:?}, attendu {}", run.code, row.exit));
    }
    if let Some(cause) = &row.cause {
        if row.exit == 0 {
            if !cause.found_in(&run.out) {
                wrong.push(format!("« {} » absent de la sortie", cause.text));
            }
        } else {
            match run.first_failure() {
                Some(block) if cause.found_in(&block) => {}
                Some(_) => wrong.push(format!("le premier échec ne dit pas « {} »", cause.text)),
                None => wrong.push("aucun échec".into()),
            }
        }
    }
    if let Some(model) = &row.model {
        // A line that says the model, and no other (advice elsewhere may
        // name another model as a way out).
        let others: Vec<&Phrase> = models.iter().filter(|m| m.text != model.text).collect();
        let lines = run.model_lines();
        let saying: Vec<&str> = lines.lines().filter(|l| model.found_in(l)).collect();
        if saying.is_empty() {
            wrong.push(format!("le modèle ne dit pas « {} »", model.text));
        } else if saying.iter().all(|l| others.iter().any(|o| o.found_in(l))) {
            let other = others
                .iter()
                .find(|o| o.found_in(saying[0]))
                .map_or("", |o| o.text.as_str());
            wrong.push(format!(
                "la ligne qui dit « {} » dit aussi « {other} »",
                model.text
            ));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join(" ; "))
    }
}

/// The slots of the runs going on (see [`SLOTS`]).
struct Slots {
    used: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn take(self: &Arc<Self>, cost: usize) -> SlotGuard {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used + cost > SLOTS {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += cost;
        SlotGuard {
            slots: Arc::clone(self),
            cost,
        }
    }
}

struct SlotGuard {
    slots: Arc<Slots>,
    cost: usize,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        *self.slots.used.lock().unwrap_or_else(|e| e.into_inner()) -= self.cost;
        self.slots.freed.notify_all();
    }
}

/// What became of one row.
struct Outcome {
    row: Row,
    /// The run, or why there was none (the server did not start).
    run: Result<Run, String>,
}

#[test]
fn each_peer_server_gets_its_verdict_and_its_real_cause() {
    let all = std::env::var("LABCHECK_PEERS").is_ok_and(|v| v == "tout");
    let rows = read_manifest();
    let mut models: Vec<Phrase> = Vec::new();
    for model in rows.iter().filter_map(|r| r.model.clone()) {
        if !models.iter().any(|m| m.text == model.text) {
            models.push(model);
        }
    }

    // Which languages can run here; the others are skipped, visibly.
    let mut langs: Vec<Lang> = Vec::new();
    for lang in rows.iter().map(|r| Lang::of(&r.file)) {
        if !langs.contains(&lang) {
            langs.push(lang);
        }
    }
    let usable: Vec<Lang> = langs
        .into_iter()
        .filter(|&lang| {
            let n = rows.iter().filter(|r| Lang::of(&r.file) == lang).count();
            let why = format!("{n} essais de labcheck sur des serveurs en {lang:?} non faits");
            // The first missing tool is said; the others are not looked for.
            lang.tools().iter().all(|tool| util::have(tool, &why))
        })
        .collect();
    let rows: Vec<Row> = rows
        .into_iter()
        .filter(|r| usable.contains(&Lang::of(&r.file)))
        .collect();

    let dir = TempDir::new("labcheck-peers");
    if let Err(why) = build(&rows, &usable, &dir.0) {
        panic!("a peer server does not compile: {why}");
    }

    // Every row in its own thread, a few at a time; the burning ones
    // first, so that they do not end the test alone.
    let slots = Arc::new(Slots {
        used: Mutex::new(0),
        freed: Condvar::new(),
    });
    let started = Instant::now();
    let mut order: Vec<Row> = rows.clone();
    order.sort_by_key(|r| !r.burns);
    let jobs: Vec<(Row, thread::JoinHandle<Run>)> = order
        .into_iter()
        .map(|row| {
            let slots = Arc::clone(&slots);
            let cmd = server_command(&row.file, &dir.0);
            let args = row.args.clone();
            let cost = if row.burns { BURNING_COST } else { CALM_COST };
            let job = thread::spawn(move || {
                let _slot = slots.take(cost);
                let server = Server::spawn(cmd);
                let run = labcheck(&args, &server.loopback().to_string());
                drop(server);
                run
            });
            (row, job)
        })
        .collect();
    let mut outcomes: Vec<Outcome> = jobs
        .into_iter()
        .map(|(row, job)| Outcome {
            run: job
                .join()
                .map_err(|_| "le serveur n'a pas démarré (voir plus haut)".to_string()),
            row,
        })
        .collect();
    outcomes.sort_by_key(|o| o.row.line);

    // The table, then the rows that must hold.
    let mut table = String::new();
    let mut failures = Vec::new();
    let mut now_right = Vec::new();
    for o in &outcomes {
        let verdict = match &o.run {
            Err(why) => Err(why.clone()),
            Ok(run) => judge(&o.row, run, &models),
        };
        let shown = o.run.as_ref().map_or_else(|e| e.clone(), Run::short);
        let took = o.run.as_ref().map_or(0.0, |r| r.took.as_secs_f64());
        let mark = match (&verdict, o.row.held) {
            (Ok(()), true) => "tenu",
            (Ok(()), false) => "acquis",
            (Err(_), true) => "FAUX",
            (Err(_), false) => "à venir",
        };
        table.push_str(&format!(
            "{mark:<8} {:<40} {shown} [{took:.1} s]\n",
            o.row.name()
        ));
        if let Err(why) = &verdict {
            table.push_str(&format!("         → {why}\n"));
        }
        if verdict.is_ok() && !o.row.held {
            now_right.push(o.row.name());
        }
        let must = o.row.held || all || o.run.is_err();
        if let (Err(why), true) = (&verdict, must) {
            let detail = match &o.run {
                Ok(run) => format!(
                    "exit {:?} after {:.1} s\nstdout:\n{}stderr:\n{}",
                    run.code,
                    run.took.as_secs_f64(),
                    run.out,
                    run.err
                ),
                Err(e) => e.clone(),
            };
            failures.push(format!(
                "{} (manifest line {}): {why}\n{detail}",
                o.row.name(),
                o.row.line
            ));
        }
    }
    eprintln!(
        "labcheck sur {} serveurs d'étudiants en {:.1} s (tenu : exigé et tenu ; FAUX : exigé, pas tenu ; à venir : pas encore tenu ; acquis : marqué à venir, désormais tenu) :\n{table}",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    );
    if !now_right.is_empty() {
        eprintln!(
            "désormais tenus, à marquer « tenu » dans tests/peers/manifest.txt : {}",
            now_right.join(", ")
        );
    }
    assert!(
        failures.is_empty(),
        "{} server(s) not judged as the manifest says:\n\n{}\n\n{table}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The judging itself, on made-up labcheck outputs: the first failure
/// only, every group of a phrase, one of its variants, and a model said
/// alone.
#[test]
fn the_manifest_is_read_and_judged_as_it_says() {
    let rows = read_manifest();
    assert!(rows.len() >= 30, "{} rows", rows.len());
    let cause = Phrase::parse("select + prête ou dernière").unwrap();
    assert!(cause.found_in("lisez la socket que SELECT dit prête"));
    assert!(cause.found_in("select : pas la dernière acceptée"));
    assert!(!cause.found_in("select seulement"));
    assert!(Phrase::parse("-").is_none());

    let models: Vec<Phrase> = ["un thread par client", "un seul thread"]
        .iter()
        .filter_map(|m| Phrase::parse(m))
        .collect();
    let row = Row {
        line: 0,
        file: "x.py".into(),
        args: vec!["echo".into()],
        exit: 1,
        cause: Phrase::parse("select + prête"),
        model: Phrase::parse("un seul thread"),
        held: true,
        burns: false,
    };
    let run = |out: &str, code| Run {
        code: Some(code),
        out: out.into(),
        err: String::new(),
        took: Duration::ZERO,
    };
    let right = "ok     a\nÉCHEC  b\n       → select : la socket prête\nÉCHEC  c\n       → autre\ninfo   modèle : un seul thread pour tous\n1 passed, 2 failed\n";
    assert_eq!(judge(&row, &run(right, 1), &models), Ok(()));
    // The cause said by the second failure only is not enough.
    let second = "ÉCHEC  b\n       → autre\nÉCHEC  c\n       → select : la socket prête\ninfo   modèle : un seul thread\n";
    assert!(judge(&row, &run(second, 1), &models).is_err());
    // A model line that names every model proves nothing.
    let vague = "ÉCHEC  b\n       → select : la socket prête\ninfo   modèle : un seul thread ou un thread par client\n";
    assert!(judge(&row, &run(vague, 1), &models).is_err());
    // Advice naming another model, on a line of its own, is fine.
    let advice = format!("{right}info   modèle : sinon, un thread par client\n");
    assert_eq!(judge(&row, &run(&advice, 1), &models), Ok(()));
    assert!(judge(&row, &run(right, 0), &models).is_err());
}
