//! The store and its journal, shared by every client's thread.
//!
//! One lock guards the store. It is held for the command alone — a few
//! map operations in memory and, with `--save`, the copy of the record
//! into the journal's open batch — and never for a write to the disk nor
//! to a client: a client that stops reading blocks in its write, a batch
//! waits for its `fsync`, and if either held the lock then, every other
//! client would wait behind it. The answers wait *after* the lock is let
//! go, for the journal (see [`crate::journal`]); a change's `OK` may even
//! be left to the leader of its batch, who sees that it is sent (see
//! [`Db::run_for`]).

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use netlabs::{Why, warn};

use crate::journal::{self, Client, Journal, Ticket};
use crate::{Applied, Change, Command, KEYS_PIECE, Refusal, Store, parse};

/// A compaction's thread needs little stack: its snapshot is on the heap.
const COMPACTION_STACK: usize = 256 * 1024;

/// What becomes of a change's answer.
enum Reply {
    /// Written by this thread: `OK` or `NOTFOUND`.
    Now(&'static str),
    /// Left to the leader of its batch, who sees that it is sent (see
    /// `Journal::deliver`).
    Left,
}

/// Writes the answer to a change, unless it was left to a leader.
fn write_answer(out: &mut impl Write, answer: Result<Reply, Refusal>) -> io::Result<()> {
    match answer {
        Ok(Reply::Now(word)) => writeln!(out, "{word}"),
        Ok(Reply::Left) => Ok(()),
        Err(why) => writeln!(out, "ERR {why}"),
    }
}

/// The store and its journal, shared by every client's thread.
pub struct Db {
    store: Arc<Mutex<Store>>,
    /// With `--save`, where every change is written before its `OK`.
    journal: Option<Arc<Journal>>,
}

impl Db {
    /// A store shared by the clients, saved in `journal` if there is one.
    pub fn new(store: Store, journal: Option<Journal>) -> Db {
        Db {
            store: Arc::new(Mutex::new(store)),
            journal: journal.map(Arc::new),
        }
    }

    /// How many keys the store holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Runs one command line and writes its answer line to `out`.
    pub fn run(&self, line: &[u8], out: &mut impl Write) -> io::Result<()> {
        let command = match parse(line) {
            Ok(command) => command,
            Err(why) => return writeln!(out, "ERR {why}"),
        };
        match command {
            Command::Get(key) => match self.read(|store| store.get(key).map(<[u8]>::to_vec)) {
                Some(value) => {
                    out.write_all(b"VALUE ")?;
                    out.write_all(&value)?;
                    out.write_all(b"\n")
                }
                None => out.write_all(b"NOTFOUND\n"),
            },
            Command::Keys => self.keys(out),
            Command::Change(change) => write_answer(out, self.change(&change, None)),
        }
    }

    /// Runs one command line for `client` and writes its answer line to
    /// `out`, like [`Db::run`] — but the `OK` of a change may be left to
    /// the leader of its batch: it is sent to `client` once the batch is
    /// written (see [`Journal::push`]): this thread can go back to reading
    /// at once. `may_leave`: none of the client's answers waits in `out`
    /// to be sent before this one. Any other answer is written once the
    /// `OK`s left before it are sent ([`Client::wait`]), so that the
    /// client gets its answers in the order of its commands.
    pub fn run_for(
        &self,
        line: &[u8],
        out: &mut impl Write,
        client: &Arc<Client>,
        may_leave: bool,
    ) -> io::Result<()> {
        if let Ok(Command::Change(change)) = parse(line) {
            // Only with `--fsync`. Without it, a batch is written in a few
            // microseconds: its writers wait little, and send their `OK`s
            // from their own threads, side by side on the machine's cores
            // — faster than one leader sending them all, one after the
            // other (measured).
            let leave =
                may_leave && self.journal.as_ref().is_some_and(|j| j.sync) && client.may_leave();
            let answer = self.change(&change, leave.then_some(client));
            if !matches!(answer, Ok(Reply::Left)) {
                client.wait();
                write_answer(out, answer)?;
            }
            return Ok(());
        }
        client.wait();
        self.run(line, out)
    }

    /// Reads the store with `f` under the lock (a copy, so that the lock
    /// is let go before the answer is written), and returns what it read
    /// once every change it may have seen is in the journal: no one is
    /// answered from a change the disk may still refuse. If the disk did
    /// refuse it, the change was taken back: read again.
    fn read<T>(&self, mut f: impl FnMut(&Store) -> T) -> T {
        loop {
            let (value, ticket) = {
                let store = self.lock();
                (f(&store), self.ticket())
            };
            if self.settle(ticket).is_ok() {
                return value;
            }
        }
    }

    /// `SET` or `DEL`: done in memory and put in the journal's open batch
    /// in one step under the lock, so that the journal's order is the
    /// store's; then, lock let go, its `OK` waits for the batch to be
    /// written — or is left to the batch's leader, with `client`. A write
    /// the disk refuses was taken back, in memory as on disk: the client
    /// gets `ERR`, never an `OK` that a restart would take back.
    fn change(&self, change: &Change, client: Option<&Arc<Client>>) -> Result<Reply, Refusal> {
        let Some(journal) = &self.journal else {
            return match self.lock().apply(change)? {
                Applied::Done(_) => Ok(Reply::Now("OK")),
                Applied::NotFound => Ok(Reply::Now("NOTFOUND")),
            };
        };
        loop {
            let mut store = self.lock();
            let answer = match store.apply(change) {
                Ok(Applied::Done(undo)) => {
                    let pushed = journal.push(change, undo, client);
                    drop(store);
                    if pushed.compact {
                        self.compact_aside();
                    }
                    if pushed.left {
                        return Ok(Reply::Left);
                    }
                    return match journal.settle(pushed.ticket, &self.store) {
                        Ok(()) => Ok(Reply::Now("OK")),
                        Err(why) => Err(journal::refusal(&why)),
                    };
                }
                Ok(Applied::NotFound) => Ok(Reply::Now("NOTFOUND")),
                Err(refusal) => Err(refusal),
            };
            // Nothing done: answered once every change it saw is written.
            // `NOTFOUND` or a full store may come from a change taken back
            // since: then look again.
            let ticket = journal.ticket();
            drop(store);
            if journal.settle(ticket, &self.store).is_ok() {
                return answer;
            }
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
            let last = self.read(|store| {
                piece.clear();
                store.keys_after(after.as_deref(), &mut piece, KEYS_PIECE)
            });
            out.write_all(&piece)?;
            match last {
                Some(key) => after = Some(key),
                None => return out.write_all(b"\n"),
            }
        }
    }

    /// Writes a compaction in a thread of its own, so that this client
    /// gets its answer now. With no thread to be had, the compaction is
    /// given up, and tried again later.
    fn compact_aside(&self) {
        let Some(journal) = &self.journal else {
            return;
        };
        let (journal, store) = (Arc::clone(journal), Arc::clone(&self.store));
        let spawned = thread::Builder::new()
            .name("compactage".into())
            .stack_size(COMPACTION_STACK)
            .spawn(move || journal.compact(&store));
        if let Err(e) = spawned {
            warn!("pas de thread pour compacter le journal ({})", Why(&e));
            if let Some(journal) = &self.journal {
                journal.abandon();
            }
        }
    }

    /// With `--fsync`, sends the `OK`s whose batch is written and that no
    /// thread has sent yet (see [`Journal::deliver`]): call it before
    /// going back to reading a client.
    pub fn deliver(&self) {
        if let Some(journal) = self.journal.as_ref().filter(|j| j.sync) {
            journal.deliver();
        }
    }

    /// What an answer read under the lock waits for.
    fn ticket(&self) -> Ticket {
        self.journal
            .as_ref()
            .map_or_else(Ticket::default, |journal| journal.ticket())
    }

    /// Waits for the journal to hold what `ticket` names.
    fn settle(&self, ticket: Ticket) -> Result<(), String> {
        match &self.journal {
            Some(journal) => journal.settle(ticket, &self.store),
            None => Ok(()),
        }
    }

    /// Takes the lock. A thread that panicked while holding it cannot have
    /// left the map half-changed (each change is one map operation), so
    /// the data is still good: we keep using it rather than stop every
    /// client.
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MAX_KEY, MAX_MEMORY};

    fn run(db: &Db, line: &str) -> String {
        let mut out = Vec::new();
        db.run(line.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn db() -> Db {
        Db::new(Store::new(MAX_MEMORY), None)
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
        let room = crate::entry_cost(MAX_KEY, 1) + crate::entry_cost(1, 400);
        let s = Db::new(Store::new(room), None);
        let long = "k".repeat(MAX_KEY + 1);
        assert!(run(&s, &format!("SET {long} v")).starts_with("ERR clé de plus de 256 octets"));
        assert_eq!(run(&s, &format!("SET {} v", &long[1..])), "OK\n");
        let big = "v".repeat(600);
        assert!(run(&s, &format!("SET b {big}")).starts_with("ERR mémoire pleine"));
        assert_eq!(run(&s, "KEYS").len(), "KEYS \n".len() + MAX_KEY);
        // Replacing a value counts the new one instead of the old one.
        assert_eq!(run(&s, &format!("SET b {}", &big[..300])), "OK\n");
        assert_eq!(run(&s, &format!("SET b {}", &big[..400])), "OK\n");
        assert_eq!(run(&s, &format!("DEL {}", &long[1..])), "OK\n");
        assert_eq!(run(&s, &format!("SET b {big}")), "OK\n");
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
        let last = s.lock().keys_after(None, &mut piece, KEYS_PIECE);
        assert!(last.is_some() && piece.len() < KEYS_PIECE + 20);
    }
}
