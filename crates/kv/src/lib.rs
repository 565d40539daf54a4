//! The key-value store that Chapitre 2.2 sets out to build (« un mini
//! serveur de données clé-valeur »), in three small parts:
//!
//! - [`Store`]: the data, its limits and the commands on it (`SET`, `GET`,
//!   `DEL`, `KEYS`), with no socket and no file, so unit tests need
//!   neither;
//! - [`journal`]: the save file, a journal of every change compacted now
//!   and then into a snapshot, so that an `OK` is a promise;
//! - [`Db`]: the store and its journal, shared by every client's thread
//!   behind one lock; [`Db::run`] runs one command line and writes its
//!   answer, never holding the lock while it writes to a client.
//!
//! ## Protocol
//!
//! One command per line (`\n` or `\r\n`), one answer line per command:
//!
//! ```text
//! SET key value   → OK               value = the rest of the line
//! GET key         → VALUE value | NOTFOUND
//! DEL key         → OK | NOTFOUND
//! KEYS            → KEYS k1 k2 …     sorted
//! anything else   → ERR reason
//! ```
//!
//! Command names are case-insensitive; a key is one word (no space, tab),
//! of at most [`MAX_KEY`] bytes; a value is everything after the one space
//! or tab that follows the key, at least one byte, spaces included. Keys
//! and values are bytes, not necessarily UTF-8.
//!
//! ## Bounded memory
//!
//! Whatever clients do, the server holds a bounded amount for them: a line
//! of at most [`MAX_LINE`] bytes while it arrives, a store of at most
//! `--max-memory` bytes (a `SET` past it gets `ERR`), and for a client that
//! does not read its answers, about one answer: `KEYS` is sent in pieces
//! of [`KEYS_PIECE`] bytes, each taken from the store under the lock and
//! written after the lock is released.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

pub mod journal;

use journal::Journal;

/// The longest line we accept, its end not counted: the bound on what one
/// client can make the server hold before a command is complete.
pub const MAX_LINE: usize = 64 * 1024;

/// The default port: next to the course's 8809 (TCP) and 8808 (UDP).
pub const PORT: u16 = 8807;

/// The longest key, in bytes. A key names a value; 256 bytes leave room
/// for any name a person gives, and keep `KEYS` answers readable.
pub const MAX_KEY: usize = 256;

/// The default `--max-memory`: 64 MiB, room for a lab's data (a million
/// small keys) on any lab machine.
pub const MAX_MEMORY: usize = 64 * 1024 * 1024;

/// What one key costs beyond its bytes and its value's: its share of the
/// map's nodes and the two `Vec` headers (an estimate, so that a million
/// one-byte keys count for what they really take).
pub const ENTRY_COST: usize = 64;

/// `KEYS` goes out in pieces of about this many bytes: the most a client
/// that does not read can make the server hold for it.
pub const KEYS_PIECE: usize = 64 * 1024;

/// The data: keys to values, kept sorted so that `KEYS` and the save file
/// come out in order, and what they weigh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The bytes of every key and value.
    bytes: usize,
    /// The bound on [`Store::memory`].
    max_memory: usize,
}

/// One command, read from one line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Set(&'a [u8], &'a [u8]),
    Get(&'a [u8]),
    Del(&'a [u8]),
    Keys,
}

/// Why a line is not a command: the text after `ERR `.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads one line (without its end) as a command.
pub fn parse(line: &[u8]) -> Result<Command<'_>, Refusal> {
    let refuse = |why: &str| Err(Refusal(why.to_string()));
    let (word, rest) = split_word(line);
    if word.is_empty() {
        return refuse("ligne vide : SET, GET, DEL ou KEYS attendu");
    }
    let name = word.to_ascii_uppercase();
    match name.as_slice() {
        b"SET" => {
            let (key, value) = split_word(rest);
            if key.is_empty() {
                return refuse("usage : SET clé valeur");
            }
            // Only one separator is taken: spaces inside a value, even at
            // its start, are part of it.
            match value.split_first() {
                Some((_, value)) if !value.is_empty() => Ok(Command::Set(key, value)),
                _ => refuse("SET attend une valeur d'au moins un octet : SET clé valeur"),
            }
        }
        b"GET" | b"DEL" => {
            let (key, extra) = split_word(rest);
            if key.is_empty() || !trim_blanks(extra).is_empty() {
                return refuse(if name == b"GET" {
                    "usage : GET clé"
                } else {
                    "usage : DEL clé"
                });
            }
            Ok(if name == b"GET" {
                Command::Get(key)
            } else {
                Command::Del(key)
            })
        }
        b"KEYS" if trim_blanks(rest).is_empty() => Ok(Command::Keys),
        b"KEYS" => refuse("usage : KEYS (sans argument)"),
        _ => Err(Refusal(format!(
            "commande inconnue « {} » : SET, GET, DEL ou KEYS attendu",
            // As typed (not upper-cased), cut to 40 bytes.
            String::from_utf8_lossy(&word[..word.len().min(40)]).escape_debug()
        ))),
    }
}

/// Skips blanks, then cuts one word: `(word, what follows it)`. What
/// follows starts with the blank after the word, if any.
fn split_word(text: &[u8]) -> (&[u8], &[u8]) {
    let text = trim_blanks(text);
    let end = text.iter().position(|b| is_blank(*b)).unwrap_or(text.len());
    text.split_at(end)
}

/// The text without its leading blanks.
fn trim_blanks(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|b| !is_blank(*b))
        .unwrap_or(text.len());
    &text[start..]
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl Store {
    /// An empty store that may grow up to `max_memory` bytes.
    pub fn new(max_memory: usize) -> Store {
        Store {
            data: BTreeMap::new(),
            bytes: 0,
            max_memory,
        }
    }

    /// How many keys the store holds.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// What the data takes in memory, counted as `--max-memory` counts it.
    pub fn memory(&self) -> usize {
        self.bytes + self.data.len() * ENTRY_COST
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.data.get(key).map(Vec::as_slice)
    }

    /// True when `key` has a value.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.data.contains_key(key)
    }

    /// Says whether `SET key value` may be done: a key not too long, and
    /// room for the value under `--max-memory`.
    pub fn check_set(&self, key: &[u8], value: &[u8]) -> Result<(), Refusal> {
        if key.len() > MAX_KEY {
            return Err(Refusal(format!("clé de plus de {MAX_KEY} octets")));
        }
        let old = self
            .data
            .get(key)
            .map_or(0, |v| v.len() + key.len() + ENTRY_COST);
        let after = self.memory() - old + key.len() + value.len() + ENTRY_COST;
        if after > self.max_memory {
            return Err(Refusal(format!(
                "mémoire pleine : la table dépasserait --max-memory ({} octets) ; supprimez des clés avec DEL",
                self.max_memory
            )));
        }
        Ok(())
    }

    /// Gives `key` the value `value` (checked by [`Store::check_set`]).
    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        self.bytes += key.len() + value.len();
        if let Some(old) = self.data.insert(key.to_vec(), value.to_vec()) {
            self.bytes -= key.len() + old.len();
        }
    }

    /// Removes `key`; false if it had no value.
    pub fn del(&mut self, key: &[u8]) -> bool {
        match self.data.remove(key) {
            Some(old) => {
                self.bytes -= key.len() + old.len();
                true
            }
            None => false,
        }
    }

    /// Appends ` key` for each key after `after` (from the first key if
    /// `None`), in order, until `out` holds `budget` bytes. Returns the
    /// last key written if more may follow, `None` when all are there.
    pub fn keys_after(
        &self,
        after: Option<&[u8]>,
        out: &mut Vec<u8>,
        budget: usize,
    ) -> Option<Vec<u8>> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        for key in self
            .data
            .range::<[u8], _>((from, Bound::Unbounded))
            .map(|(k, _)| k)
        {
            out.push(b' ');
            out.extend_from_slice(key);
            if out.len() >= budget {
                return Some(key.clone());
            }
        }
        None
    }

    /// The whole store as the bytes of a snapshot: `SET key value\n` per
    /// key, sorted.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes + 6 * self.data.len());
        for (key, value) in &self.data {
            out.extend_from_slice(&journal::record(&Command::Set(key, value)));
        }
        out
    }
}

/// The store and its journal, shared by every client's thread.
pub struct Db {
    state: Mutex<State>,
}

struct State {
    store: Store,
    /// With `--save`, where every change is written before its `OK`.
    journal: Option<Journal>,
}

impl Db {
    /// A store shared by the clients, saved in `journal` if there is one.
    pub fn new(store: Store, journal: Option<Journal>) -> Db {
        Db {
            state: Mutex::new(State { store, journal }),
        }
    }

    /// How many keys the store holds.
    pub fn len(&self) -> usize {
        self.lock().store.len()
    }

    /// True when the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.lock().store.is_empty()
    }

    /// Runs one command line and writes its answer line to `out`.
    ///
    /// The lock is held for the command alone — a few map operations in
    /// memory, and with `--save` one append to the journal — and never
    /// while writing to `out`: a client that stops reading blocks in that
    /// write, and if it held the lock then, every other client would wait
    /// behind it.
    pub fn run(&self, line: &[u8], out: &mut impl Write) -> io::Result<()> {
        let command = match parse(line) {
            Ok(command) => command,
            Err(why) => return writeln!(out, "ERR {why}"),
        };
        match command {
            Command::Get(key) => {
                // A copy, so that the lock is released before the write.
                let value = self.lock().store.get(key).map(<[u8]>::to_vec);
                match value {
                    Some(value) => {
                        out.write_all(b"VALUE ")?;
                        out.write_all(&value)?;
                        out.write_all(b"\n")
                    }
                    None => out.write_all(b"NOTFOUND\n"),
                }
            }
            Command::Set(..) | Command::Del(..) => {
                let answer = self.lock().change(&command);
                match answer {
                    Ok(word) => writeln!(out, "{word}"),
                    Err(why) => writeln!(out, "ERR {why}"),
                }
            }
            Command::Keys => self.keys(out),
        }
    }

    /// `KEYS`, in pieces: the lock is taken for each piece, and released
    /// while the piece is written. A client that does not read stops us
    /// in that write, holding one piece, not the whole list. (Keys set or
    /// deleted meanwhile may or may not be listed; every other key is
    /// listed once, in order.)
    fn keys(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"KEYS")?;
        let mut piece = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            piece.clear();
            let last = self
                .lock()
                .store
                .keys_after(after.as_deref(), &mut piece, KEYS_PIECE);
            out.write_all(&piece)?;
            match last {
                Some(key) => after = Some(key),
                None => return out.write_all(b"\n"),
            }
        }
    }

    /// Takes the lock. A thread that panicked while holding it cannot have
    /// left the map half-changed (each change is one map operation, after
    /// the journal's append), so the data is still good: we keep using it
    /// rather than stop every client.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// `SET` or `DEL`, under the lock: checked, then written to the
    /// journal, and only once the journal has it, done in memory. A write
    /// the journal refuses (disk full) leaves nothing behind, in memory or
    /// on disk: the client gets `ERR`, never an `OK` that a restart would
    /// take back.
    fn change(&mut self, command: &Command) -> Result<&'static str, Refusal> {
        match *command {
            Command::Set(key, value) => self.store.check_set(key, value)?,
            Command::Del(key) if !self.store.contains(key) => return Ok("NOTFOUND"),
            _ => {}
        }
        if let Some(journal) = &mut self.journal {
            journal.write(command).map_err(|e| {
                Refusal(format!(
                    "sauvegarde impossible ({}) : rien n'a été changé",
                    netlabs::Why(&e)
                ))
            })?;
        }
        match *command {
            Command::Set(key, value) => self.store.set(key, value),
            Command::Del(key) => {
                self.store.del(key);
            }
            _ => {}
        }
        if let Some(journal) = &mut self.journal {
            journal.compact_if_grown(&self.store);
        }
        Ok("OK")
    }
}

/// Reads a size for `--max-memory`: bytes, or with a suffix `K`, `M` or
/// `G` (powers of 1024: `64M`).
pub fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "O" | "B" => 0,
        "K" | "KO" | "KIB" | "KIO" => 10,
        "M" | "MO" | "MIB" | "MIO" => 20,
        "G" | "GO" | "GIB" | "GIO" => 30,
        _ => return None,
    };
    let n: usize = digits.parse().ok()?;
    n.checked_mul(1usize << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(db: &Db, line: &str) -> String {
        let mut out = Vec::new();
        db.run(line.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn db() -> Db {
        Db::new(Store::new(MAX_MEMORY), None)
    }

    #[test]
    fn an_unknown_command_is_named_as_typed() {
        assert_eq!(
            parse(b"bonjour toi"),
            Err(Refusal(
                "commande inconnue « bonjour » : SET, GET, DEL ou KEYS attendu".into()
            ))
        );
    }

    #[test]
    fn the_four_commands() {
        let s = db();
        assert_eq!(run(&s, "GET a"), "NOTFOUND\n");
        assert_eq!(run(&s, "SET a 1"), "OK\n");
        assert_eq!(run(&s, "set b deux mots"), "OK\n");
        assert_eq!(run(&s, "Get b"), "VALUE deux mots\n");
        assert_eq!(run(&s, "KEYS"), "KEYS a b\n");
        assert_eq!(run(&s, "DEL a"), "OK\n");
        assert_eq!(run(&s, "del a"), "NOTFOUND\n");
        assert_eq!(run(&s, "keys"), "KEYS b\n");
        assert_eq!(run(&s, "SET b autre"), "OK\n");
        assert_eq!(run(&s, "GET b"), "VALUE autre\n");
        assert_eq!(run(&s, "DEL b"), "OK\n");
        assert_eq!(run(&s, "KEYS"), "KEYS\n");
    }

    #[test]
    fn values_keep_their_spaces_and_keys_their_case() {
        let s = db();
        assert_eq!(run(&s, "SET k  deux espaces "), "OK\n");
        assert_eq!(run(&s, "GET k"), "VALUE  deux espaces \n");
        assert_eq!(run(&s, "SET\tK\tx"), "OK\n");
        assert_eq!(run(&s, "KEYS"), "KEYS K k\n");
        assert_eq!(run(&s, "  GET   K  "), "VALUE x\n");
    }

    #[test]
    fn errors() {
        let s = db();
        for line in [
            "", "   ", "SET", "SET a", "SET a ", "GET", "GET a b", "DEL", "DEL a b", "KEYS a",
            "PUT a b", "\u{fffd}",
        ] {
            let answer = run(&s, line);
            assert!(answer.starts_with("ERR "), "{line:?} → {answer:?}");
            assert!(answer.ends_with('\n') && answer.matches('\n').count() == 1);
        }
        assert_eq!(run(&s, "KEYS"), "KEYS\n");
    }

    #[test]
    fn keys_are_bounded_and_so_is_memory() {
        let s = Db::new(Store::new(900), None);
        let long = "k".repeat(MAX_KEY + 1);
        assert!(run(&s, &format!("SET {long} v")).starts_with("ERR clé de plus de 256 octets"));
        assert_eq!(run(&s, &format!("SET {} v", &long[1..])), "OK\n");
        let big = "v".repeat(600);
        assert!(run(&s, &format!("SET b {big}")).starts_with("ERR mémoire pleine"));
        assert_eq!(run(&s, "KEYS").len(), "KEYS \n".len() + MAX_KEY);
        // Replacing a value counts the new one instead of the old one.
        assert_eq!(run(&s, &format!("SET b {}", &big[..300])), "OK\n");
        assert_eq!(run(&s, &format!("SET b {}", &big[..310])), "OK\n");
        assert_eq!(run(&s, &format!("DEL {}", &long[1..])), "OK\n");
        assert_eq!(run(&s, &format!("SET b {big}")), "OK\n");
    }

    #[test]
    fn memory_is_counted_back_and_forth() {
        let mut store = Store::new(MAX_MEMORY);
        store.set(b"a", b"123");
        store.set(b"a", b"1");
        store.set(b"bb", b"22");
        assert_eq!(store.memory(), 2 + 4 + 2 * ENTRY_COST);
        assert!(store.del(b"a"));
        assert!(!store.del(b"a"));
        assert_eq!(store.memory(), 4 + ENTRY_COST);
    }

    #[test]
    fn keys_come_in_pieces_that_join_into_one_sorted_line() {
        let mut store = Store::new(MAX_MEMORY);
        for i in 0..50_000 {
            store.set(format!("cle{i:05}").as_bytes(), b"v");
        }
        let s = Db::new(store, None);
        let answer = run(&s, "KEYS");
        let keys: Vec<&str> = answer.trim_end().split(' ').collect();
        assert_eq!(keys[0], "KEYS");
        assert_eq!(keys.len(), 50_001);
        assert!(
            keys[1..].windows(2).all(|w| w[0] < w[1]),
            "sorted, each once"
        );
        // The piece size: each piece is just over KEYS_PIECE.
        let mut piece = Vec::new();
        let last = s.lock().store.keys_after(None, &mut piece, KEYS_PIECE);
        assert!(last.is_some() && piece.len() < KEYS_PIECE + 20);
    }

    #[test]
    fn sizes_for_max_memory() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        for bad in ["", "M", "12X", "-1", "1.5M"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }
}
