//! The key-value store that Chapitre 2.2 sets out to build (« un mini
//! serveur de données clé-valeur »), in three small parts:
//!
//! - [`Store`]: the data and the commands on it (`SET`, `GET`, `DEL`,
//!   `KEYS`), with no socket, so unit tests need no network;
//! - lines: cutting a TCP stream into lines is `netlabs::lines`, shared
//!   with `prime-server`; here with a 64 KiB bound;
//! - the save file: [`Store::snapshot`] and [`Store::load`].
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
//! Command names are case-insensitive; a key is one word (no space, tab);
//! a value is everything after the one space or tab that follows the key,
//! at least one byte, spaces included. Keys and values are bytes, not
//! necessarily UTF-8.
//!
//! ## The save file
//!
//! The file is the list of `SET` commands that rebuilds the data, one per
//! line, keys sorted: `SET key value\n`. Nothing needs escaping, because
//! the protocol itself guarantees that a key holds no space, tab or line
//! end and a value no line end — exactly the bytes the file uses as
//! separators. A student can read it, and even replay it:
//! `kv-client < data.kv`.

use std::collections::BTreeMap;
use std::fmt;

/// The longest line we accept, its end not counted: the bound on what one
/// client can make the server hold before a command is complete.
pub const MAX_LINE: usize = 64 * 1024;

/// The default port: next to the course's 8809 (TCP) and 8808 (UDP).
pub const PORT: u16 = 8807;

/// The data: keys to values, kept sorted so that `KEYS` and the save file
/// come out in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Store {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
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

/// Did a command change the data (so that it must be saved)?
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Change {
    Changed,
    Unchanged,
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
    let text = &text[text
        .iter()
        .position(|b| !is_blank(*b))
        .unwrap_or(text.len())..];
    let end = text.iter().position(|b| is_blank(*b)).unwrap_or(text.len());
    text.split_at(end)
}

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
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// Runs one line: appends the answer line (with its `\n`) to `reply`,
    /// and says whether the data changed.
    pub fn execute(&mut self, line: &[u8], reply: &mut Vec<u8>) -> Change {
        let command = match parse(line) {
            Ok(command) => command,
            Err(why) => {
                reply.extend_from_slice(format!("ERR {why}\n").as_bytes());
                return Change::Unchanged;
            }
        };
        match command {
            Command::Set(key, value) => {
                self.data.insert(key.to_vec(), value.to_vec());
                reply.extend_from_slice(b"OK\n");
                Change::Changed
            }
            Command::Get(key) => {
                match self.data.get(key) {
                    Some(value) => {
                        reply.extend_from_slice(b"VALUE ");
                        reply.extend_from_slice(value);
                        reply.push(b'\n');
                    }
                    None => reply.extend_from_slice(b"NOTFOUND\n"),
                }
                Change::Unchanged
            }
            Command::Del(key) => {
                if self.data.remove(key).is_some() {
                    reply.extend_from_slice(b"OK\n");
                    Change::Changed
                } else {
                    reply.extend_from_slice(b"NOTFOUND\n");
                    Change::Unchanged
                }
            }
            Command::Keys => {
                reply.extend_from_slice(b"KEYS");
                for key in self.data.keys() {
                    reply.push(b' ');
                    reply.extend_from_slice(key);
                }
                reply.push(b'\n');
                Change::Unchanged
            }
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

    /// The whole store as the bytes of the save file: `SET key value\n` per
    /// key, sorted.
    pub fn snapshot(&self) -> Vec<u8> {
        let size: usize = self.data.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
        let mut out = Vec::with_capacity(size);
        for (key, value) in &self.data {
            out.extend_from_slice(b"SET ");
            out.extend_from_slice(key);
            out.push(b' ');
            out.extend_from_slice(value);
            out.push(b'\n');
        }
        out
    }

    /// Rebuilds a store from the bytes of a save file. Only `SET` lines
    /// are allowed; the error names the first bad line (counted from 1).
    pub fn load(file: &[u8]) -> Result<Store, String> {
        let mut store = Store::new();
        if file.is_empty() {
            return Ok(store);
        }
        let Some(body) = file.strip_suffix(b"\n") else {
            return Err("la dernière ligne n'a pas de fin de ligne : fichier tronqué ?".into());
        };
        for (index, line) in body.split(|&b| b == b'\n').enumerate() {
            match parse(line) {
                Ok(Command::Set(key, value)) => {
                    store.data.insert(key.to_vec(), value.to_vec());
                }
                Ok(_) => {
                    return Err(format!(
                        "ligne {} : seules des commandes SET sont permises",
                        index + 1
                    ));
                }
                Err(why) => return Err(format!("ligne {} : {why}", index + 1)),
            }
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(store: &mut Store, line: &str) -> String {
        let mut reply = Vec::new();
        store.execute(line.as_bytes(), &mut reply);
        String::from_utf8(reply).unwrap()
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
        let mut s = Store::new();
        assert_eq!(run(&mut s, "GET a"), "NOTFOUND\n");
        assert_eq!(run(&mut s, "SET a 1"), "OK\n");
        assert_eq!(run(&mut s, "set b deux mots"), "OK\n");
        assert_eq!(run(&mut s, "Get b"), "VALUE deux mots\n");
        assert_eq!(run(&mut s, "KEYS"), "KEYS a b\n");
        assert_eq!(run(&mut s, "DEL a"), "OK\n");
        assert_eq!(run(&mut s, "del a"), "NOTFOUND\n");
        assert_eq!(run(&mut s, "keys"), "KEYS b\n");
        assert_eq!(run(&mut s, "SET b autre"), "OK\n");
        assert_eq!(run(&mut s, "GET b"), "VALUE autre\n");
        assert_eq!(run(&mut s, "DEL b"), "OK\n");
        assert_eq!(run(&mut s, "KEYS"), "KEYS\n");
    }

    #[test]
    fn values_keep_their_spaces_and_keys_their_case() {
        let mut s = Store::new();
        assert_eq!(run(&mut s, "SET k  deux espaces "), "OK\n");
        assert_eq!(run(&mut s, "GET k"), "VALUE  deux espaces \n");
        assert_eq!(run(&mut s, "SET\tK\tx"), "OK\n");
        assert_eq!(run(&mut s, "KEYS"), "KEYS K k\n");
        assert_eq!(run(&mut s, "  GET   K  "), "VALUE x\n");
    }

    #[test]
    fn errors() {
        let mut s = Store::new();
        for line in [
            "", "   ", "SET", "SET a", "SET a ", "GET", "GET a b", "DEL", "DEL a b", "KEYS a",
            "PUT a b", "\u{fffd}",
        ] {
            let answer = run(&mut s, line);
            assert!(answer.starts_with("ERR "), "{line:?} → {answer:?}");
            assert!(answer.ends_with('\n') && answer.matches('\n').count() == 1);
        }
        assert!(s.is_empty());
    }

    #[test]
    fn changes_are_reported() {
        let mut s = Store::new();
        let mut r = Vec::new();
        assert_eq!(s.execute(b"SET a 1", &mut r), Change::Changed);
        assert_eq!(s.execute(b"GET a", &mut r), Change::Unchanged);
        assert_eq!(s.execute(b"DEL zz", &mut r), Change::Unchanged);
        assert_eq!(s.execute(b"DEL a", &mut r), Change::Changed);
    }

    #[test]
    fn a_snapshot_loads_back_the_same_store_even_with_odd_bytes() {
        let mut s = Store::new();
        let mut r = Vec::new();
        s.execute(b"SET a 1", &mut r);
        s.execute(b"SET bin \xff\x00\r\\ \t end", &mut r);
        s.execute(b"SET \xc3\xa9t\xc3\xa9 chaud", &mut r);
        s.execute(b"SET sp  lead", &mut r);
        let file = s.snapshot();
        assert_eq!(Store::load(&file).unwrap(), s);
        assert_eq!(Store::load(b"").unwrap(), Store::new());
    }

    #[test]
    fn a_bad_file_is_refused_with_its_line() {
        assert!(
            Store::load(b"SET a 1\nSET b")
                .unwrap_err()
                .contains("tronqué")
        );
        assert!(
            Store::load(b"SET a 1\nGET a\n")
                .unwrap_err()
                .starts_with("ligne 2")
        );
        assert!(
            Store::load(b"SET a 1\n\n")
                .unwrap_err()
                .starts_with("ligne 2")
        );
    }
}
