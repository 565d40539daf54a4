//! The key-value store that Chapitre 2.2 sets out to build (« un mini
//! serveur de données clé-valeur »), in three small parts:
//!
//! - [`Store`] (this file): the data, its limits and the changes made to
//!   it, with no socket, no file and no thread, so unit tests need none;
//! - [`journal`]: the save file, a journal of every [`Change`] compacted
//!   now and then into a snapshot, written by *group commit*, so that an
//!   `OK` is a promise that costs little;
//! - [`db`]: the store and its journal, shared by every client's thread;
//!   [`Db::run`] runs one command line and writes its answer.
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
//! `--max-memory` bytes counted as the memory it really takes (a `SET`
//! past it gets `ERR`; see [`Store::memory`]), and for a client that does
//! not read its answers, about one answer: `KEYS` is sent in pieces of
//! [`KEYS_PIECE`] bytes, each taken from the store under the lock and
//! written after the lock is released.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

pub mod db;
pub mod journal;

pub use db::Db;

/// The longest line we accept, its end not counted: the bound on what one
/// client can make the server hold before a command is complete.
pub const MAX_LINE: usize = 64 * 1024;

/// The default port: next to the course's 8809 (TCP) and 8808 (UDP).
pub const PORT: u16 = 8807;

/// The longest key, in bytes. A key names a value; 256 bytes leave room
/// for any name a person gives, and keep `KEYS` answers readable.
pub const MAX_KEY: usize = 256;

/// The default `--max-memory`: 64 MiB, room for a lab's data (half a
/// million small keys) on any lab machine.
pub const MAX_MEMORY: usize = 64 * 1024 * 1024;

/// What one key costs beyond the blocks that hold its bytes and its
/// value's: its share of the map's nodes. A node of the `BTreeMap` holds
/// up to 11 keys and 11 values (16 bytes each: a pointer and a length),
/// 384 bytes with the allocator's header, and is at least half full; with
/// the nodes above the leaves, at most 96 bytes per key.
pub const ENTRY_COST: usize = 96;

/// `KEYS` goes out in pieces of about this many bytes: the most a client
/// that does not read can make the server hold for it.
pub const KEYS_PIECE: usize = 64 * 1024;

/// One command, read from one line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `SET` or `DEL`: what changes the store, and what the journal keeps.
    Change(Change<'a>),
    Get(&'a [u8]),
    Keys,
}

/// A change to the store: the only commands the journal saves, replays,
/// and the only ones [`Store::apply`] takes. `GET` and `KEYS` cannot be
/// journaled: they are not `Change`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    Set(&'a [u8], &'a [u8]),
    Del(&'a [u8]),
}

/// Why a line is not a command, or a change cannot be done: the text
/// after `ERR `.
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
                Some((_, value)) if !value.is_empty() => {
                    Ok(Command::Change(Change::Set(key, value)))
                }
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
                Command::Change(Change::Del(key))
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

/// The data: keys to values, kept sorted so that `KEYS` and the save file
/// come out in order, and the memory they take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// `Box<[u8]>` rather than `Vec<u8>`: a pointer and a length, no
    /// spare capacity; 16 bytes a key or value in the map's nodes, not 24.
    data: BTreeMap<Box<[u8]>, Box<[u8]>>,
    /// What the data takes, see [`Store::memory`].
    memory: usize,
    /// The bytes of every key and value.
    bytes: usize,
    /// The bound on [`Store::memory`].
    max_memory: usize,
}

/// What [`Store::apply`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// Done; here is how to take it back.
    Done(Undo),
    /// `DEL` of a key that has no value: nothing to do.
    NotFound,
}

/// How to take back one change: the key, and the value it had before
/// (`None`: it had none). Kept by the journal until the change is written;
/// see [`Store::undo`].
#[derive(Debug, PartialEq, Eq)]
pub struct Undo {
    key: Box<[u8]>,
    before: Option<Box<[u8]>>,
}

/// The memory one key and its value take: a block of the allocator for
/// each (the bytes, plus 8 bytes of header, rounded up to 16, 32 at
/// least: glibc's `malloc`), and [`ENTRY_COST`] for its place in the map.
pub fn entry_cost(key: usize, value: usize) -> usize {
    fn block(bytes: usize) -> usize {
        (bytes + 8).div_ceil(16).max(2) * 16
    }
    block(key) + block(value) + ENTRY_COST
}

impl Store {
    /// An empty store that may grow up to `max_memory` bytes.
    pub fn new(max_memory: usize) -> Store {
        Store {
            data: BTreeMap::new(),
            memory: 0,
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

    /// What the data takes in memory, as `--max-memory` counts it: for
    /// each key, [`entry_cost`] — its bytes and its value's as the
    /// allocator hands them out, and its share of the map. (A store of a
    /// million keys of 8 bytes with values of 8 bytes is 1 million × 160
    /// bytes, not 16: counting only the bytes would let it take ten times
    /// its bound.)
    pub fn memory(&self) -> usize {
        self.memory
    }

    /// The bytes of every key and value, without what holds them.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.data.get(key).map(|v| &v[..])
    }

    /// Every key and its value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.data.iter().map(|(k, v)| (&k[..], &v[..]))
    }

    /// Does `change` if it may be done — a key not too long, room under
    /// `--max-memory` — and says how to take it back.
    pub fn apply(&mut self, change: &Change) -> Result<Applied, Refusal> {
        match *change {
            Change::Set(key, value) => {
                if key.len() > MAX_KEY {
                    return Err(Refusal(format!("clé de plus de {MAX_KEY} octets")));
                }
                let old = self.get(key).map_or(0, |v| entry_cost(key.len(), v.len()));
                let after = self.memory - old + entry_cost(key.len(), value.len());
                if after > self.max_memory {
                    return Err(Refusal(format!(
                        "mémoire pleine : la table dépasserait --max-memory ({} octets) ; supprimez des clés avec DEL",
                        self.max_memory
                    )));
                }
                let before = self.set(key, value);
                Ok(Applied::Done(Undo {
                    key: key.into(),
                    before,
                }))
            }
            Change::Del(key) => match self.data.remove_entry(key) {
                Some((key, before)) => {
                    self.memory -= entry_cost(key.len(), before.len());
                    self.bytes -= key.len() + before.len();
                    Ok(Applied::Done(Undo {
                        key,
                        before: Some(before),
                    }))
                }
                None => Ok(Applied::NotFound),
            },
        }
    }

    /// Takes back a change [`Store::apply`] did. Changes are taken back
    /// in the reverse order they were done, the last first.
    pub fn undo(&mut self, undo: Undo) {
        match undo.before {
            Some(value) => {
                self.set(&undo.key, &value);
            }
            None => {
                self.del(&undo.key);
            }
        }
    }

    /// Gives `key` the value `value`, with no check (the journal's replay
    /// checks the whole at the end); returns the value it replaces.
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Option<Box<[u8]>> {
        self.memory += entry_cost(key.len(), value.len());
        self.bytes += key.len() + value.len();
        let before = self.data.insert(key.into(), value.into());
        if let Some(old) = &before {
            self.memory -= entry_cost(key.len(), old.len());
            self.bytes -= key.len() + old.len();
        }
        before
    }

    /// Removes `key`; false if it had no value.
    pub fn del(&mut self, key: &[u8]) -> bool {
        match self.data.remove(key) {
            Some(old) => {
                self.memory -= entry_cost(key.len(), old.len());
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
                return Some(key.to_vec());
            }
        }
        None
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
    fn changes_and_the_other_commands() {
        assert_eq!(
            parse(b"set k  v w"),
            Ok(Command::Change(Change::Set(b"k", b" v w")))
        );
        assert_eq!(parse(b"DEL k"), Ok(Command::Change(Change::Del(b"k"))));
        assert_eq!(parse(b"get k"), Ok(Command::Get(b"k")));
        assert_eq!(parse(b" KEYS "), Ok(Command::Keys));
    }

    #[test]
    fn memory_is_counted_back_and_forth() {
        let mut store = Store::new(MAX_MEMORY);
        store.set(b"a", b"123");
        store.set(b"a", b"1");
        store.set(b"bb", b"22");
        assert_eq!(store.memory(), 2 * (32 + 32 + ENTRY_COST));
        assert!(store.del(b"a"));
        assert!(!store.del(b"a"));
        assert_eq!(store.memory(), 32 + 32 + ENTRY_COST);
        // Blocks of the allocator: 24 bytes fit in 32, 25 take 48.
        assert_eq!(entry_cost(24, 25), 32 + 48 + ENTRY_COST);
    }

    #[test]
    fn a_change_is_refused_past_the_bounds_and_taken_back_exactly() {
        let mut store = Store::new(2 * entry_cost(8, 8));
        let long = vec![b'k'; MAX_KEY + 1];
        assert!(store.apply(&Change::Set(&long, b"v")).is_err());
        let Ok(Applied::Done(first)) = store.apply(&Change::Set(b"a", b"1")) else {
            panic!("refused")
        };
        let Ok(Applied::Done(second)) = store.apply(&Change::Set(b"a", b"2")) else {
            panic!("refused")
        };
        let Ok(Applied::Done(third)) = store.apply(&Change::Set(b"b", b"3")) else {
            panic!("refused")
        };
        let full = store.apply(&Change::Set(b"c", b"4")).unwrap_err();
        assert!(full.0.starts_with("mémoire pleine"), "{full}");
        assert_eq!(store.apply(&Change::Del(b"z")), Ok(Applied::NotFound));
        let Ok(Applied::Done(fourth)) = store.apply(&Change::Del(b"a")) else {
            panic!("refused")
        };
        // Taken back, last first: the store as it was at each step.
        store.undo(fourth);
        assert_eq!(store.get(b"a"), Some(&b"2"[..]));
        store.undo(third);
        store.undo(second);
        assert_eq!(store.get(b"a"), Some(&b"1"[..]));
        store.undo(first);
        assert!(store.is_empty());
        assert_eq!((store.memory(), store.bytes()), (0, 0));
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
