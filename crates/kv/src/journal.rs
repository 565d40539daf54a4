//! The save file (`--save FILE`): a journal, compacted into a snapshot.
//!
//! An `OK` is a promise: the change it acknowledges must survive whatever
//! ends the server next — Ctrl-C, SIGTERM, `kill -9`. So every `SET` and
//! `DEL` is first appended to the file, one line per change, and only then
//! done in memory and answered `OK` (as Redis's append-only file does).
//! Once `write` has returned, the bytes are the system's: the process may
//! die, they reach the disk. With `--fsync`, each append is also forced to
//! the disk before the `OK` and survives a power cut, at a cost (measured
//! in the lab sheet).
//!
//! The file is a list of commands a student can read, and even replay
//! with `kv-client < data.kv`:
//!
//! ```text
//! SET ville Lyon
//! SET ville Paris
//! DEL ville
//! SET nom Ada
//! ```
//!
//! Nothing needs escaping: the protocol already guarantees that a key
//! holds no space, tab or line end and a value no line end — exactly the
//! bytes the file uses as separators.
//!
//! Left alone, the journal would grow for ever (a million `SET`s of one key
//! are a million lines for one value). So it is *compacted*: the whole
//! store is written as a snapshot, one `SET` per key, to a temporary file,
//! flushed and renamed over the journal; the appends go on after it. That
//! happens at start-up, and whenever the journal has grown past
//! [`COMPACT_FACTOR`] times the snapshot (and past [`COMPACT_MIN`]): each
//! compaction writes the live data once, after at least three times as
//! many bytes of appends, so its cost stays a fraction of theirs.
//!
//! At start-up, a last line without its `\n` is a record that a kill cut in
//! the middle of its write: no `OK` was sent for it, it is dropped with a
//! log line. Anything else that is not a `SET` or `DEL` line means the
//! file is not ours: one French error, exit 1.

use std::fs;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use netlabs::{Why, log, octets, records, warn};

use crate::{Command, Store, parse};

/// Compact when the journal is this many times larger than a snapshot.
pub const COMPACT_FACTOR: u64 = 4;

/// ... and at least this large: a small journal is cheap to read, and
/// compacting it after every few `SET`s would cost more than it saves.
pub const COMPACT_MIN: u64 = 1024 * 1024;

/// The save file, open for appending.
#[derive(Debug)]
pub struct Journal {
    /// The file written (a symbolic link given to `--save` is followed).
    path: PathBuf,
    file: File,
    /// `--fsync`: each append is forced to the disk.
    sync: bool,
    /// The bytes in the file.
    length: u64,
    /// Compact once `length` passes this.
    compact_at: u64,
    /// True while appends fail: said once, and its end said too.
    failing: bool,
}

/// What [`open`] found in the file.
#[derive(Debug)]
pub struct Loaded {
    pub store: Store,
    pub journal: Journal,
    /// What to log once the server has printed its first line: a torn
    /// record dropped, the start-up compaction.
    pub notes: Vec<String>,
}

/// Opens the save file at `path` (checked by `records::check_path`): reads
/// it if it exists, rebuilds the store, then compacts it into a snapshot.
/// The error is one French sentence, for `fail!`.
pub fn open(path: &Path, sync: bool, max_memory: usize) -> Result<Loaded, String> {
    let shown = path.display();
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(format!(
                "impossible de lire {shown} ({}) ; vérifiez le chemin et les droits",
                Why(&e)
            ));
        }
    };
    let (whole, torn) = records::split_torn_tail(&bytes);
    let store = load(whole, max_memory).map_err(|why| {
        format!("{shown} n'est pas un fichier de kv-server : {why} ; corrigez-le ou choisissez un autre --save")
    })?;
    // Writing now also finds at once a file we cannot write.
    let snapshot = store.snapshot();
    let file = records::replace(path, &snapshot).map_err(|e| {
        format!(
            "impossible d'écrire {shown} ({}) ; choisissez un autre --save",
            Why(&e)
        )
    })?;
    let length = snapshot.len() as u64;
    let mut notes = Vec::new();
    if !torn.is_empty() {
        // A record a kill cut in the middle: it never got its OK.
        notes.push(format!(
            "{shown} : dernier enregistrement incomplet ({} sans fin de ligne), ignoré",
            octets(torn.len() as u64)
        ));
    }
    if (bytes.len() as u64) > length {
        notes.push(format!(
            "journal {shown} compacté : {} → {}",
            octets(bytes.len() as u64),
            octets(length)
        ));
    }
    let journal = Journal {
        path: path.to_path_buf(),
        file,
        sync,
        length,
        compact_at: threshold(length),
        failing: false,
    };
    Ok(Loaded {
        store,
        journal,
        notes,
    })
}

/// Rebuilds a store from whole records (each line ended by `\n`): `SET`
/// and `DEL` only; the error names the first bad line (counted from 1).
pub fn load(records: &[u8], max_memory: usize) -> Result<Store, String> {
    let mut store = Store::new(max_memory);
    let Some(body) = records.strip_suffix(b"\n") else {
        return Ok(store); // empty
    };
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        match parse(line) {
            Ok(Command::Set(key, value)) => store.set(key, value),
            Ok(Command::Del(key)) => {
                store.del(key);
            }
            Ok(_) => {
                return Err(format!(
                    "ligne {} : seules des commandes SET et DEL sont permises",
                    index + 1
                ));
            }
            Err(why) => return Err(format!("ligne {} : {why}", index + 1)),
        }
    }
    if store.memory() > max_memory {
        return Err(format!(
            "ses données prennent {} octets, plus que --max-memory ({max_memory}) ; relancez avec un --max-memory plus grand",
            store.memory()
        ));
    }
    Ok(store)
}

/// The line a change is saved as: `SET key value\n` or `DEL key\n`.
pub fn record(command: &Command) -> Vec<u8> {
    let (word, key, value): (&[u8], _, _) = match *command {
        Command::Set(key, value) => (b"SET ", key, Some(value)),
        Command::Del(key) => (b"DEL ", key, None),
        Command::Get(key) => (b"GET ", key, None),
        Command::Keys => (b"KEYS", &[][..], None),
    };
    let mut line =
        Vec::with_capacity(word.len() + key.len() + value.map_or(0, |v| v.len() + 1) + 1);
    line.extend_from_slice(word);
    line.extend_from_slice(key);
    if let Some(value) = value {
        line.push(b' ');
        line.extend_from_slice(value);
    }
    line.push(b'\n');
    line
}

/// The size past which a journal whose snapshot is `snapshot` bytes is
/// compacted.
fn threshold(snapshot: u64) -> u64 {
    (COMPACT_FACTOR * snapshot).max(COMPACT_MIN)
}

impl Journal {
    /// Appends the record of `command`, whole or not at all (a failed
    /// write is undone: see `netlabs::records::append`).
    pub fn write(&mut self, command: &Command) -> io::Result<()> {
        let record = record(command);
        match records::append(&mut self.file, &record, self.sync) {
            Ok(()) => {
                self.length += record.len() as u64;
                if self.failing {
                    self.failing = false;
                    log!("sauvegarde dans {} rétablie", self.path.display());
                }
                Ok(())
            }
            Err(e) => {
                if !self.failing {
                    self.failing = true;
                    warn!(
                        "sauvegarde dans {} impossible : {} ; les écritures reçoivent ERR tant que cela dure",
                        self.path.display(),
                        Why(&e)
                    );
                }
                Err(e)
            }
        }
    }

    /// Compacts the journal into a snapshot of `store` if it has grown
    /// past its threshold. A compaction that fails (disk full) changes
    /// nothing: the journal is still whole, and appends go on in it; the
    /// next try waits until it has grown as much again.
    pub fn compact_if_grown(&mut self, store: &Store) {
        if self.length <= self.compact_at {
            return;
        }
        let snapshot = store.snapshot();
        let before = self.length;
        match records::replace(&self.path, &snapshot) {
            Ok(file) => {
                self.file = file;
                self.length = snapshot.len() as u64;
                self.compact_at = threshold(self.length);
                log!(
                    "journal {} compacté : {} → {}",
                    self.path.display(),
                    octets(before),
                    octets(self.length)
                );
            }
            Err(e) => {
                self.compact_at = self.length + threshold(snapshot.len() as u64);
                warn!(
                    "compactage de {} impossible ({}) ; le journal reste entier, nouvel essai plus tard",
                    self.path.display(),
                    Why(&e)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Db, MAX_MEMORY};

    /// A fresh folder of the system's temporary folder, removed on drop.
    struct Folder(PathBuf);

    impl Folder {
        fn new(name: &str) -> Folder {
            let dir =
                std::env::temp_dir().join(format!("netlabs-kvj-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Folder(dir)
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn ask(db: &Db, line: &str) -> String {
        let mut out = Vec::new();
        db.run(line.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn open_db(path: &Path) -> Db {
        let loaded = open(path, false, MAX_MEMORY).unwrap();
        Db::new(loaded.store, Some(loaded.journal))
    }

    #[test]
    fn every_change_is_in_the_file_before_its_ok() {
        let folder = Folder::new("ok");
        let path = folder.0.join("data.kv");
        let db = open_db(&path);
        assert_eq!(ask(&db, "SET a 1"), "OK\n");
        assert_eq!(fs::read(&path).unwrap(), b"SET a 1\n");
        assert_eq!(ask(&db, "set b  deux"), "OK\n");
        assert_eq!(ask(&db, "DEL a"), "OK\n");
        assert_eq!(ask(&db, "DEL a"), "NOTFOUND\n");
        assert_eq!(ask(&db, "GET b"), "VALUE  deux\n");
        assert_eq!(fs::read(&path).unwrap(), b"SET a 1\nSET b  deux\nDEL a\n");
        // Reopened (a restart): compacted into a snapshot.
        drop(db);
        let loaded = open(&path, false, MAX_MEMORY).unwrap();
        assert_eq!(loaded.store.get(b"b"), Some(&b" deux"[..]));
        assert_eq!(
            loaded.notes,
            [format!(
                "journal {} compacté : 26 octets → 12 octets",
                path.display()
            )]
        );
        assert_eq!(fs::read(&path).unwrap(), b"SET b  deux\n");
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_anything_else_refused() {
        let folder = Folder::new("torn");
        let path = folder.0.join("data.kv");
        fs::write(&path, b"SET a 1\nDEL a\nSET b 2\nSET c tronq").unwrap();
        let loaded = open(&path, false, MAX_MEMORY).unwrap();
        assert_eq!(
            loaded.notes[0],
            format!(
                "{} : dernier enregistrement incomplet (11 octets sans fin de ligne), ignoré",
                path.display()
            )
        );
        assert_eq!(loaded.store.len(), 1);
        assert_eq!(fs::read(&path).unwrap(), b"SET b 2\n");

        for (bad, line) in [
            (&b"SET a 1\nGET a\n"[..], "ligne 2 "),
            (b"SET a 1\n\nSET b 2\n", "ligne 2 "),
            (b"bonjour\n", "ligne 1 "),
        ] {
            fs::write(&path, bad).unwrap();
            let why = open(&path, false, MAX_MEMORY).unwrap_err();
            assert!(why.contains(line), "{why}");
            assert_eq!(fs::read(&path).unwrap(), bad, "a bad file is left alone");
        }
        fs::write(&path, b"SET a 1234567890\n").unwrap();
        assert!(open(&path, false, 10).unwrap_err().contains("--max-memory"));
    }

    #[test]
    fn the_journal_is_compacted_once_it_outgrows_the_data() {
        let folder = Folder::new("compact");
        let path = folder.0.join("data.kv");
        let db = open_db(&path);
        let value = "v".repeat(1000);
        let mut largest = 0;
        for i in 0..3000 {
            assert_eq!(ask(&db, &format!("SET cle {i}{value}")), "OK\n");
            largest = largest.max(fs::metadata(&path).unwrap().len());
        }
        assert!(largest <= COMPACT_MIN + 1100, "grew to {largest}");
        let text = fs::read(&path).unwrap();
        assert!(text.len() < COMPACT_MIN as usize);
        let store = load(&text, MAX_MEMORY).unwrap();
        assert_eq!(store.get(b"cle"), Some(format!("2999{value}").as_bytes()));
        // Nothing else in the folder: the temporary files were renamed.
        assert_eq!(fs::read_dir(&folder.0).unwrap().count(), 1);
    }

    #[test]
    fn a_refused_append_answers_err_and_keeps_nothing() {
        // /dev/full refuses every write like a full disk (ENOSPC).
        let Ok(full) = fs::OpenOptions::new().append(true).open("/dev/full") else {
            return;
        };
        let journal = Journal {
            path: "/dev/full".into(),
            file: full,
            sync: false,
            length: 0,
            compact_at: COMPACT_MIN,
            failing: false,
        };
        let mut store = Store::new(MAX_MEMORY);
        store.set(b"a", b"1");
        let db = Db::new(store, Some(journal));
        let answer = ask(&db, "SET a 2");
        assert!(answer.starts_with("ERR sauvegarde impossible"), "{answer}");
        assert!(ask(&db, "SET b 2").starts_with("ERR "));
        assert!(ask(&db, "DEL a").starts_with("ERR "));
        assert_eq!(
            ask(&db, "GET a"),
            "VALUE 1\n",
            "nothing of the refused writes"
        );
        assert_eq!(ask(&db, "KEYS"), "KEYS a\n");
    }

    #[test]
    fn records_read_back_as_the_commands() {
        for line in [
            &b"SET k v"[..],
            b"SET bin \xff\x00\r\\ \t end",
            b"SET sp  lead",
            b"DEL k",
        ] {
            let command = parse(line).unwrap();
            let record = record(&command);
            assert_eq!(record.strip_suffix(b"\n").unwrap(), line);
        }
    }
}
