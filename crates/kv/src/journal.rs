//! The save file (`--save FILE`): a journal, written by group commit, and
//! compacted now and then into a snapshot.
//!
//! An `OK` is a promise: the change it acknowledges must survive whatever
//! ends the server next — Ctrl-C, SIGTERM, `kill -9`. So every `SET` and
//! `DEL` is written at the end of the file, one line per change, *before*
//! its `OK` is sent (as Redis's append-only file does). Once `write` has
//! returned, the bytes are the system's: the process may die, they reach
//! the disk. With `--fsync`, they are also forced to the disk (`fsync`)
//! before the `OK`, and survive a power cut.
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
//! ## Group commit
//!
//! An `fsync` waits for the disk: a few milliseconds on a real disk, about
//! 0.1 to 1 ms on a fast SSD. One `fsync` per `SET`, one after the other,
//! caps the server at a few hundred to a few thousand `SET`s per second,
//! however many clients wait. But one `fsync` forces *everything* written
//! to the file before it. So the changes that arrive while a flush runs
//! wait together, in memory, in a *batch*; when the flush ends, the whole
//! batch is written with one `write` and forced with one `fsync`, and
//! each of its writers gets its `OK`. Ten clients: about ten changes per
//! `fsync`; fifty clients: fifty. The throughput grows with the number of
//! clients, each client still waits for one or two `fsync`s — this is
//! *group commit*, what databases and Redis do.
//!
//! Who writes the batch? We chose a **leader**, not a journal thread: the
//! first writer of a batch leads it. It waits for the file to be free (it
//! is held by the leader of the batch before, see `Queue::busy`, "the
//! pen"), takes the whole batch, and writes it. With `--fsync`, the
//! writers who come after it leave it their `OK`: their thread goes
//! straight back to reading its client. Once the `fsync` is done and the
//! pen handed on (the next batch is written meanwhile), the leader puts
//! their `OK`s in an *outbox* and sends them — helped by every thread
//! that is about to go back to reading its own client, since it is
//! running anyway: the `OK`s go out from both cores at once, and the
//! clients are back sooner (see [`Journal::push`], [`Journal::deliver`],
//! [`Client`]). Without that, each writer would sleep until the batch is
//! written, then wake up to send its own `OK`: two thread switches more
//! per `SET`, measured the largest cost of a `SET` at fifty clients. A
//! journal thread with a queue would be as correct, but with one client it
//! costs two thread switches per `SET` (wake the journal thread, be woken
//! by it); the leader writes its own change with no switch at all. Without
//! `--fsync` the same batches save system calls: one `write` for all the
//! changes that arrived during the previous one; their writers wait a few
//! microseconds, and send their own `OK`s.
//!
//! No thread must ever wait for someone else's client: an `OK` is sent
//! only to a socket that had nothing waiting to go out (a short line then
//! goes at once). A client leaves at most one `OK` at a time, and its
//! thread writes nothing of its own while that `OK` is not sent: each
//! client gets its answers in the order of its commands.
//!
//! The order of the file is the order of the store: a change is done in
//! memory and put in the batch in the same step, under the store's lock
//! (see `db`). A change waiting in a batch is already visible in memory;
//! so that no one is answered from a change the disk may still refuse,
//! *every* answer waits for the batch of the changes it may have seen (a
//! `GET` too, see `Db::run`). If the disk refuses a batch (full, `ulimit
//! -f`), its changes and the next batch's are taken back in memory, last
//! first ([`crate::Undo`]), the file is cut back to where the batch
//! began, and each of their writers gets `ERR`: nothing of them stays.
//!
//! ## Compaction
//!
//! Left alone, the journal would grow for ever (a million `SET`s of one key
//! are a million lines for one value). So it is *compacted*: the whole
//! store is written as a snapshot, one `SET` per key, to a temporary file,
//! flushed and renamed over the journal. That happens at start-up, and
//! whenever the journal has grown past [`COMPACT_FACTOR`] times the
//! snapshot (and past [`COMPACT_MIN`]): each compaction writes the live
//! data once, after at least three times as many bytes of appends, so its
//! cost stays a fraction of theirs.
//!
//! Compaction stops no one for longer than a copy in memory. Redis forks
//! a child process, which sees the memory as it was at the fork. We copy
//! instead: under the store's lock, the snapshot is made as bytes in
//! memory (fast: no system call), and the journal's length at that moment
//! noted. Then, with no lock held, a thread writes these bytes to the
//! temporary file and forces them to the disk, while the clients go on:
//! their changes are appended to the *old* file, as usual, and acknowledged
//! from it. Then it copies those changes — the old file's bytes past the
//! noted length — after the snapshot, again while many more arrive, and
//! only the last few holding the pen for a moment, forces them, and
//! renames. No acknowledged change is lost: it is in the old
//! file, and in the new one before the new one replaces it. Changes that
//! arrive during that moment wait in the queue, and go to the new file.
//!
//! At start-up, a last line without its `\n` is a record that a kill cut in
//! the middle of its write: no `OK` was sent for it, it is dropped with a
//! log line. Anything else that is not a `SET` or `DEL` line means the
//! file is not ours: one French error, exit 1. If there is no room for the
//! start-up snapshot (a full disk), the server starts from the journal as
//! it is, and compacts later.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::mem;
use std::net::TcpStream;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, Thread, ThreadId};
use std::time::{Duration, Instant};

use netlabs::records::{self, Temp, Unavailable};
use netlabs::{Why, log, octets, plural, sys, warn};

use crate::{Change, Command, Refusal, Store, Undo, parse};

/// Compact when the journal is this many times larger than a snapshot.
pub const COMPACT_FACTOR: u64 = 4;

/// ... and at least this large: a small journal is cheap to read, and
/// compacting it after every few `SET`s would cost more than it saves.
pub const COMPACT_MIN: u64 = 1024 * 1024;

/// A compaction copies the changes that arrived while it wrote its
/// snapshot with no lock held, until fewer than this many bytes are left:
/// those are copied holding the pen, while new changes wait.
const TAIL_UNDER_PEN: u64 = 256 * 1024;

/// The save file, shared by every client's thread.
#[derive(Debug)]
pub struct Journal {
    /// The file written (a symbolic link given to `--save` is followed).
    path: PathBuf,
    /// `--fsync`: each batch is forced to the disk before its `OK`s.
    pub(crate) sync: bool,
    /// The batch being filled, and who holds the pen.
    queue: Mutex<Queue>,
    /// The file. Only the holder of the pen (`Queue::busy`) locks it, so
    /// this lock never makes anyone wait.
    pen: Mutex<Pen>,
    /// A compaction waiting for the pen is woken here.
    pen_free: Condvar,
    /// A leader gathering its batch is woken here (`--fsync` only).
    fuller: Condvar,
    /// The clients whose `OK` is due — their batch is written — and not
    /// sent yet. The leader puts them here; it sends them, and so does
    /// every thread about to go back to reading (see
    /// [`Journal::deliver`]).
    outbox: Mutex<Vec<Arc<Client>>>,
}

#[derive(Debug)]
struct Queue {
    /// The records of the open batch, in the order of the store.
    records: Vec<u8>,
    /// How to take back each change of the open batch, in the same order.
    undo: Vec<Undo>,
    /// The sockets of the open batch's writers who left their answer to
    /// its leader (see [`Journal::push`]).
    replies: Vec<Arc<Client>>,
    /// The open batch has its leader: a writer leading it, or waiting for
    /// the pen to lead it.
    led: bool,
    /// The open batch: the changes made since the last one was taken.
    open: Arc<Batch>,
    /// The batch being written, if any.
    in_flight: Option<Arc<Batch>>,
    /// Someone holds the pen: a leader writing a batch, or a compaction
    /// moving the file. No one else touches the file meanwhile.
    busy: bool,
    /// A compaction waits for the pen (it gets it before the next leader).
    compaction_waits: bool,
    /// With `--fsync`, for `Journal::gather`: the threads whose changes
    /// are in the open batch; those of the batch last written; how many of
    /// those are back with a change in the open batch; how long the last
    /// write and `fsync` took; and whether a leader waits on `fuller`.
    writers: Vec<ThreadId>,
    last_writers: HashSet<ThreadId>,
    returned: usize,
    last_flush: Duration,
    gathering: bool,
    /// The length the file will have once every record handed to the
    /// journal is written.
    length: u64,
    /// Compact once `length` passes this.
    compact_at: u64,
    /// A compaction is under way.
    compacting: bool,
    /// An empty buffer with room, swapped with `records` by each leader so
    /// that the next batch does not grow a new one from nothing.
    spare: Vec<u8>,
}

#[derive(Debug)]
struct Pen {
    file: File,
    /// The bytes in the file.
    length: u64,
    /// True while writes fail: said once, and its end said too.
    failing: bool,
}

/// A batch of changes written together, and what became of it.
#[derive(Debug)]
struct Batch {
    /// Set once, when the batch is written (`Ok`) or refused (the reason).
    outcome: OnceLock<Result<(), String>>,
    /// The threads asleep until `outcome` is set (or until one of them is
    /// woken to lead the batch). Only touched under the queue's lock.
    ///
    /// Why not a `Condvar`? Woken by `notify_all`, fifty sleepers would
    /// all take the queue's lock again, one after the other, only to read
    /// `outcome`; parked threads read it with no lock at all.
    sleepers: Mutex<Vec<Thread>>,
}

impl Batch {
    fn new() -> Arc<Batch> {
        Arc::new(Batch {
            outcome: OnceLock::new(),
            sleepers: Mutex::new(Vec::new()),
        })
    }
}

/// What an answer waits for before it is sent: the batch of the last
/// change it may have seen (none when every change is written).
#[derive(Debug, Clone, Default)]
pub struct Ticket(Option<Arc<Batch>>);

/// A client's socket, shared by its thread and the threads that send the
/// `OK`s it leaves to a leader (see [`Journal::push`]).
#[derive(Debug)]
pub struct Client {
    socket: TcpStream,
    /// An `OK` left to a leader is not sent yet (one at most).
    owed: AtomicBool,
    /// Held by the thread that sends that `OK`.
    sending: Mutex<()>,
    /// The client's thread, asleep until it is sent (see [`Client::wait`]).
    waiting: Mutex<Option<Thread>>,
}

impl Client {
    pub fn new(socket: TcpStream) -> Client {
        Client {
            socket,
            owed: AtomicBool::new(false),
            sending: Mutex::new(()),
            waiting: Mutex::new(None),
        }
    }

    /// The socket, to read from and write to.
    pub fn socket(&self) -> &TcpStream {
        &self.socket
    }

    /// True if this client may leave its next `OK` to a leader: the
    /// write that sends it must never block, so no other `OK` may be owed, and
    /// the socket must have nothing waiting to go out (every byte sent
    /// before has been received: `ioctl(SIOCOUTQ)` says 0) — then a short
    /// line goes at once. A client that sends without reading fills its
    /// socket: its answers come from its own thread, which may wait.
    pub fn may_leave(&self) -> bool {
        !self.owed.load(Ordering::Acquire) && matches!(sys::unacknowledged(&self.socket), Ok(0))
    }

    /// Waits until the `OK` left to a leader, if any, is sent: call it
    /// before writing anything else on the socket, so that the client
    /// gets its answers in the order of its commands. Most often it is,
    /// and this costs nothing.
    pub fn wait(&self) {
        while self.owed.load(Ordering::Acquire) {
            let mut waiting = lock(&self.waiting);
            if !self.owed.load(Ordering::Acquire) {
                break;
            }
            *waiting = Some(thread::current());
            drop(waiting);
            thread::park();
        }
        // A thread that has taken the `OK` may still be sending it.
        drop(lock(&self.sending));
    }

    /// Sends the `OK` (or `ERR`) this client left a leader. It is no longer
    /// owed as soon as the sender has it in hand: its client may read it and
    /// send its next change before that `write` returns, and that
    /// one can be left too.
    fn send(&self, line: &[u8]) {
        let _sending = lock(&self.sending);
        self.owed.store(false, Ordering::Release);
        if let Some(thread) = lock(&self.waiting).take() {
            thread.unpark();
        }
        let _ = (&self.socket).write_all(line);
    }
}

/// What became of a change put in the journal (see [`Journal::push`]).
#[derive(Debug)]
pub struct Pushed {
    /// What the change's answer waits for.
    pub ticket: Ticket,
    /// The answer was left to the batch's leader, who sees that it is sent.
    pub left: bool,
    /// The journal has outgrown its threshold: a compaction is now under
    /// way; call [`Journal::compact`] (or [`Journal::abandon`]).
    pub compact: bool,
}

/// A compaction to do, prepared under the store's lock.
#[derive(Debug)]
pub struct Compaction {
    snapshot: Vec<u8>,
    /// The journal's length when the snapshot was made: what follows in
    /// the old file is copied after the snapshot.
    from: u64,
    /// The changes the snapshot holds are all written once this is.
    after: Ticket,
}

/// A save file opened and read, not changed yet (see [`open`]).
#[derive(Debug)]
pub struct Opened {
    path: PathBuf,
    file: File,
    bytes: Vec<u8>,
    torn: usize,
    store: Store,
}

/// Opens the save file at `path` (checked by `records::check_path`),
/// takes its lock — one server per file — and reads it: the store it
/// holds. Nothing is changed yet: a second server, or a bad file, is
/// refused here with the file as it was. The error is one French
/// sentence, for `fail!`.
pub fn open(path: &Path, max_memory: usize) -> Result<Opened, String> {
    let shown = path.display();
    let mut file = records::open_locked(path).map_err(|why| match why {
        Unavailable::InUse(_) => format!(
            "{} ; arrêtez-le ou donnez à --save un autre fichier",
            why.describe(path)
        ),
        Unavailable::Failed(e) => format!(
            "impossible d'écrire {shown} ({}) ; vérifiez le chemin et les droits, ou choisissez un autre --save",
            Why(&e)
        ),
    })?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| {
        format!(
            "impossible de lire {shown} ({}) ; vérifiez le chemin et les droits",
            Why(&e)
        )
    })?;
    let (whole, torn) = records::split_torn_tail(&bytes);
    let store = load(whole, max_memory).map_err(|why| {
        format!("{shown} n'est pas un fichier de kv-server : {why} ; corrigez-le ou choisissez un autre --save")
    })?;
    let torn = torn.len();
    Ok(Opened {
        path: path.to_path_buf(),
        file,
        bytes,
        torn,
        store,
    })
}

impl Opened {
    /// The keys read.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when the file held no key.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Makes the file ready for appending, once the server's port is
    /// bound: removes the temporary files a killed run left, and compacts
    /// the journal into a snapshot — or, if there is no room for one,
    /// only cuts a torn last record off and starts from the journal as it
    /// is. Returns the store, the journal, and what to log.
    pub fn start(self, sync: bool) -> Result<(Store, Journal, Vec<String>), String> {
        let Opened {
            path,
            mut file,
            bytes,
            torn,
            store,
        } = self;
        let shown = path.display();
        let mut notes = Vec::new();
        match records::remove_stale_temps(&path) {
            Ok((0, _)) => {}
            Ok((count, size)) => notes.push(format!(
                "{} d'un arrêt brutal {} ({})",
                plural(count, "", "fichier temporaire", "fichiers temporaires"),
                if count == 1 {
                    "supprimé"
                } else {
                    "supprimés"
                },
                octets(size)
            )),
            Err(e) => notes.push(format!(
                "fichiers temporaires d'un arrêt brutal non examinés ({})",
                Why(&e)
            )),
        }
        if torn > 0 {
            // A record a kill cut in the middle: it never got its OK.
            notes.push(format!(
                "{shown} : dernier enregistrement incomplet ({} sans fin de ligne), ignoré",
                octets(torn as u64)
            ));
        }
        let snapshot = snapshot(&store);
        let length;
        let mut compact_at = None;
        if torn == 0 && bytes == snapshot {
            length = bytes.len() as u64; // already a snapshot
        } else {
            match records::replace(&path, &snapshot) {
                Ok(new) => {
                    file = new; // the old file, and its lock, are let go
                    length = snapshot.len() as u64;
                    if bytes.len() as u64 > length {
                        notes.push(format!(
                            "journal {shown} compacté : {} → {}",
                            octets(bytes.len() as u64),
                            octets(length)
                        ));
                    }
                }
                Err(e) => {
                    // No room for a snapshot (a full disk, `ulimit -f`):
                    // the journal is whole, start from it as it is.
                    let cut = records::cut_torn_tail(&mut file).map_err(|cut| {
                        format!(
                            "impossible de compacter {shown} ({}) ni d'en couper la dernière ligne incomplète ({}) ; libérez de la place",
                            Why(&e),
                            Why(&cut)
                        )
                    })?;
                    length = (bytes.len() - cut as usize) as u64;
                    compact_at = Some(length + threshold(snapshot.len() as u64));
                    notes.push(format!(
                        "compactage de {shown} impossible ({}) : démarrage sur le journal tel quel, nouvel essai plus tard",
                        Why(&e)
                    ));
                }
            }
        }
        let journal = Journal {
            path,
            sync,
            queue: Mutex::new(Queue {
                records: Vec::new(),
                undo: Vec::new(),
                replies: Vec::new(),
                led: false,
                open: Batch::new(),
                in_flight: None,
                busy: false,
                compaction_waits: false,
                writers: Vec::new(),
                last_writers: HashSet::new(),
                returned: 0,
                last_flush: Duration::ZERO,
                gathering: false,
                length,
                compact_at: compact_at.unwrap_or(threshold(length)),
                compacting: false,
                spare: Vec::new(),
            }),
            pen: Mutex::new(Pen {
                file,
                length,
                failing: false,
            }),
            pen_free: Condvar::new(),
            fuller: Condvar::new(),
            outbox: Mutex::new(Vec::new()),
        };
        Ok((store, journal, notes))
    }
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
            Ok(Command::Change(Change::Set(key, value))) => {
                store.set(key, value);
            }
            Ok(Command::Change(Change::Del(key))) => {
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

/// Appends the line a change is saved as, `SET key value\n` or
/// `DEL key\n`, to `out`.
pub fn record(change: &Change, out: &mut Vec<u8>) {
    match *change {
        Change::Set(key, value) => {
            out.extend_from_slice(b"SET ");
            out.extend_from_slice(key);
            out.push(b' ');
            out.extend_from_slice(value);
        }
        Change::Del(key) => {
            out.extend_from_slice(b"DEL ");
            out.extend_from_slice(key);
        }
    }
    out.push(b'\n');
}

/// The whole store as the bytes of a snapshot: `SET key value\n` per key,
/// sorted.
pub fn snapshot(store: &Store) -> Vec<u8> {
    let mut out = Vec::with_capacity(store.bytes() + 6 * store.len());
    snapshot_into(store, &mut out);
    out
}

/// Appends the snapshot of `store` to `out`.
fn snapshot_into(store: &Store, out: &mut Vec<u8>) {
    for (key, value) in store.iter() {
        record(&Change::Set(key, value), out);
    }
}

/// The size past which a journal whose snapshot is `snapshot` bytes is
/// compacted.
fn threshold(snapshot: u64) -> u64 {
    (COMPACT_FACTOR * snapshot).max(COMPACT_MIN)
}

/// Takes a lock even if a thread panicked holding it: every change under
/// these locks is a few assignments that leave the data whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Journal {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        lock(&self.queue)
    }

    /// Puts `change`, just done in the store, in the open batch, with how
    /// to take it back. Call it holding the store's lock: the batch then
    /// has the changes in the order of the store.
    ///
    /// The first writer of a batch is its leader: it writes the batch, at
    /// once if the pen is free, else as soon as it is put down. The writers
    /// who come after it may leave their `OK` to it, by giving `reply_to`,
    /// their client: it is sent there once the batch is written (see
    /// [`Journal::deliver`]), and their thread goes straight back to reading its client
    /// — instead of sleeping until the batch is written, then waking up to
    /// send its `OK` itself: two thread switches fewer per `SET`, the
    /// largest cost of a `SET` once fifty clients share each `fsync`.
    /// Give `reply_to` only when [`Client::may_leave`] says so: the leader
    /// must never wait for someone else's client.
    pub fn push(&self, change: &Change, undo: Undo, reply_to: Option<&Arc<Client>>) -> Pushed {
        let mut queue = self.queue();
        let before = queue.records.len();
        record(change, &mut queue.records);
        queue.length += (queue.records.len() - before) as u64;
        queue.undo.push(undo);
        if self.sync {
            let me = thread::current().id();
            queue.writers.push(me);
            if queue.last_writers.contains(&me) {
                queue.returned += 1;
                if queue.gathering && queue.returned == queue.last_writers.len() {
                    self.fuller.notify_one();
                }
            }
        }
        let left = match reply_to {
            Some(client) if queue.led => {
                client.owed.store(true, Ordering::Relaxed);
                queue.replies.push(Arc::clone(client));
                true
            }
            // The first writer: the leader (or one who cannot leave its
            // answer, and waits for the batch, see `Journal::settle`).
            _ => {
                queue.led = true;
                false
            }
        };
        let compact = !queue.compacting && queue.length > queue.compact_at;
        if compact {
            queue.compacting = true;
        }
        Pushed {
            ticket: Ticket(Some(Arc::clone(&queue.open))),
            left,
            compact,
        }
    }

    /// What an answer that read the store waits for: the last batch with a
    /// change in it, written or not. Call it holding the store's lock.
    pub fn ticket(&self) -> Ticket {
        ticket_of(&self.queue())
    }

    /// Waits until the batch of `ticket` is written (and forced, with
    /// `--fsync`): `Ok` then, or the reason the disk refused it (its
    /// changes are then taken back in `store`). If no one is writing, this
    /// thread becomes the leader and writes the open batch itself.
    pub fn settle(&self, ticket: Ticket, store: &Mutex<Store>) -> Result<(), String> {
        let Some(batch) = ticket.0 else {
            return Ok(());
        };
        // Most often already written: no lock to take.
        if let Some(outcome) = batch.outcome.get() {
            return outcome.clone();
        }
        let mut queue = self.queue();
        loop {
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone();
            }
            // The pen is free (and not promised to a waiting compaction,
            // which would never get it under a steady flow of writes):
            // lead our batch.
            if !queue.busy && !queue.compaction_waits && Arc::ptr_eq(&batch, &queue.open) {
                queue = self.lead(queue, store);
                continue;
            }
            // Someone holds the pen: sleep until our batch is written, or
            // until we are woken to lead it. (A wake-up that comes before
            // `park` is kept for it: none is lost.)
            lock(&batch.sleepers).push(thread::current());
            drop(queue);
            thread::park();
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone();
            }
            queue = self.queue();
        }
    }

    /// The leader's work: takes the open batch (the changes arriving from
    /// now on start the next one), writes it with the queue's lock
    /// released — the slow part, `write` and `fsync` — then says how it
    /// went to the batch's sleepers, hands the pen on, and sends the
    /// answers left to it.
    fn lead<'a>(
        &'a self,
        mut queue: MutexGuard<'a, Queue>,
        store: &Mutex<Store>,
    ) -> MutexGuard<'a, Queue> {
        queue.busy = true;
        if self.sync {
            queue = self.gather(queue);
        }
        let batch = mem::replace(&mut queue.open, Batch::new());
        let spare = mem::take(&mut queue.spare);
        let records = mem::replace(&mut queue.records, spare);
        let undo = mem::take(&mut queue.undo);
        let replies = mem::take(&mut queue.replies);
        let writers = mem::take(&mut queue.writers);
        queue.led = false;
        queue.in_flight = Some(Arc::clone(&batch));
        drop(queue);

        let started = Instant::now();
        let written = self.write(&records);
        let took = started.elapsed();

        // Refused: take back, last first, every change not in the file —
        // the next batch's (made after ours, perhaps from what ours did),
        // then ours — and refuse them all. The next batch is closed: the
        // changes arriving from now on start another.
        let mut next = None;
        match &written {
            Ok(()) => drop(undo), // the old values: freed with no lock held
            Err(why) => {
                let mut store = lock(store);
                let mut queue = self.queue();
                let refused = mem::replace(&mut queue.open, Batch::new());
                for change in queue.undo.drain(..).rev().chain(undo.into_iter().rev()) {
                    store.undo(change);
                }
                queue.length -= (records.len() + queue.records.len()) as u64;
                queue.records.clear();
                queue.writers.clear();
                queue.led = false;
                next = Some((refused, mem::take(&mut queue.replies), why.clone()));
            }
        }
        let mut queue = self.queue();
        finish(&batch, written.clone());
        if let Some((refused, _, why)) = &next {
            finish(refused, Err(why.clone()));
        }
        if self.sync {
            // The writers of this batch, who are about to get their `OK`:
            // those who write again will be waited for by the next leader.
            // (Those who pushed during this flush were not among them.)
            queue.last_writers.clear();
            queue.last_writers.extend(writers);
            queue.returned = 0;
            queue.last_flush = took;
        }
        queue.busy = false;
        queue.in_flight = None;
        let mut records = records;
        records.clear();
        if queue.spare.capacity() < records.capacity() {
            queue.spare = records;
        }
        self.pass_pen(&queue);
        drop(queue);
        // The pen put down, the answers left to us go out: the next leader
        // meanwhile gathers and writes its batch. (Each writer sends
        // nothing else to its client before, see `Client::wait`.) The
        // `OK`s go to the outbox, and we send them with whoever helps.
        match &written {
            Ok(()) => {
                lock(&self.outbox).extend(replies);
                self.deliver();
            }
            Err(why) => refuse(&replies, why),
        }
        if let Some((_, replies, why)) = next {
            refuse(&replies, &why);
        }
        self.queue()
    }

    /// With `--fsync`, before taking the batch, waits a little for the
    /// writers of the batch just written to come back with their next
    /// change. Without this, two groups form and stay: the writers of
    /// batch A get their `OK` while batch B's leader flushes, so they fill
    /// batch C, and so on — half of the clients per `fsync`, when all of
    /// them could share one. So the leader waits, holding the pen, until
    /// every writer of the last batch has a change in this one, or for at
    /// most as long as the last flush took (PostgreSQL's `commit_delay`,
    /// measured on the disk instead of set by hand). One client alone is
    /// back at once: it never waits.
    fn gather<'a>(&'a self, mut queue: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        let deadline = Instant::now() + queue.last_flush;
        while queue.returned < queue.last_writers.len() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            // Rather than wait for the last batch's writers, help send
            // their `OK`s: they come back sooner.
            if let Some(client) = self.take_due() {
                drop(queue);
                client.send(b"OK\n");
                queue = self.queue();
                continue;
            }
            queue.gathering = true;
            queue = self
                .fuller
                .wait_timeout(queue, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
            queue.gathering = false;
        }
        queue
    }

    /// Sends the `OK`s due, until none is left. The leader of a batch
    /// calls it once the batch is written; every client's thread calls it
    /// too before going back to reading (it is running anyway): the `OK`s
    /// of a batch go out from several threads at once, on every core,
    /// instead of one after the other from the leader alone — and the
    /// clients they answer are back sooner with their next change.
    pub fn deliver(&self) {
        while let Some(client) = self.take_due() {
            client.send(b"OK\n");
        }
    }

    /// One client whose `OK` is due, taken out of the outbox.
    fn take_due(&self) -> Option<Arc<Client>> {
        lock(&self.outbox).pop()
    }

    /// Hands the pen on, once put down: to a compaction waiting for it,
    /// else to one writer of the open batch, which will lead it.
    fn pass_pen(&self, queue: &Queue) {
        if queue.compaction_waits {
            self.pen_free.notify_one();
        } else if let Some(next) = lock(&queue.open.sleepers).pop() {
            next.unpark();
        }
    }

    /// Appends a batch to the file, whole or not at all (a failed write is
    /// undone: see `netlabs::records::append_at`), and forces it to the
    /// disk with `--fsync`. Called by the holder of the pen only.
    fn write(&self, records: &[u8]) -> Result<(), String> {
        let mut pen = lock(&self.pen);
        let start = pen.length;
        match records::append_at(&mut pen.file, start, records, self.sync) {
            Ok(()) => {
                pen.length += records.len() as u64;
                if pen.failing {
                    pen.failing = false;
                    log!("sauvegarde dans {} rétablie", self.path.display());
                }
                Ok(())
            }
            Err(e) => {
                if !pen.failing {
                    pen.failing = true;
                    warn!(
                        "sauvegarde dans {} impossible : {} ; les écritures reçoivent ERR tant que cela dure",
                        self.path.display(),
                        Why(&e)
                    );
                }
                Err(Why(&e).to_string())
            }
        }
    }

    /// Prepares the compaction under the store's lock: the snapshot's
    /// bytes, copied from `store` into `buf`, and the journal's length at
    /// that moment. This copy is the only part of a compaction that makes
    /// the other clients wait: `buf` comes with its memory already touched,
    /// so that the copy is a copy, not thousands of page faults.
    fn prepare(&self, store: &Store, mut buf: Vec<u8>) -> Compaction {
        let queue = self.queue();
        let from = queue.length;
        let after = ticket_of(&queue);
        drop(queue);
        buf.clear();
        snapshot_into(store, &mut buf);
        Compaction {
            snapshot: buf,
            from,
            after,
        }
    }

    /// Compacts the journal, once [`Journal::push`] said so: the snapshot
    /// is copied under the store's lock, then written with no lock held
    /// but, at the end, the pen for a moment. A compaction that fails
    /// (disk full) changes nothing: the journal is whole, appends go on in
    /// it; the next try waits until it has grown as much again.
    pub fn compact(&self, store: &Mutex<Store>) {
        // The room for the snapshot, its pages touched before the lock:
        // filled with spaces, not zeros (zeroed memory may come from the
        // system untouched, and be faulted in under the lock).
        let size = {
            let store = lock(store);
            store.bytes() + 6 * store.len()
        };
        let buf = vec![b' '; size + size / 16];
        let job = self.prepare(&lock(store), buf);
        let done = self.try_compact(&job, store);
        let mut queue = self.queue();
        queue.compacting = false;
        match done {
            Ok((before, after)) => {
                // From the snapshot's size: the changes copied after it
                // are not live data.
                queue.compact_at = threshold(job.snapshot.len() as u64);
                log!(
                    "journal {} compacté : {} → {}",
                    self.path.display(),
                    octets(before),
                    octets(after)
                );
            }
            Err(e) => {
                queue.compact_at = queue.length + threshold(job.snapshot.len() as u64);
                warn!(
                    "compactage de {} impossible ({}) ; le journal reste entier, nouvel essai plus tard",
                    self.path.display(),
                    Why(&e)
                );
            }
        }
    }

    /// Gives up a compaction prepared but never run (no thread for it):
    /// the next try waits until the journal has doubled.
    pub fn abandon(&self) {
        let mut queue = self.queue();
        queue.compacting = false;
        queue.compact_at = 2 * queue.length;
    }

    /// The steps of [`Journal::compact`]; returns the file's length before
    /// and after.
    fn try_compact(&self, job: &Compaction, store: &Mutex<Store>) -> io::Result<(u64, u64)> {
        // 1. Every change in the snapshot must be in the journal: one the
        //    disk refuses is taken back, and must not stay in a snapshot.
        self.settle(job.after.clone(), store)
            .map_err(io::Error::other)?;
        // 2. The snapshot, written and forced with no lock held: clients
        //    go on meanwhile, appending to the old file.
        let mut temp = Temp::beside(&self.path)?;
        temp.file().write_all(&job.snapshot)?;
        // 3. The changes appended since the snapshot was made, copied after
        //    it, still with no lock held: bytes already in the old file
        //    never change (a refused batch is cut off past them), so they
        //    can be read while new ones are appended. Again while the
        //    changes of the previous copy's time are many.
        let old = lock(&self.pen).file.try_clone()?;
        let mut copied = job.from;
        loop {
            let length = lock(&self.pen).length;
            if length - copied <= TAIL_UNDER_PEN {
                break;
            }
            copy_tail(&old, copied, length, temp.file())?;
            copied = length;
        }
        temp.file().sync_data()?;
        // 4. The pen, for a moment: no batch is written while the last
        //    changes are copied and the file replaced.
        let mut queue = self.queue();
        while queue.busy {
            queue.compaction_waits = true;
            queue = self
                .pen_free
                .wait(queue)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        queue.compaction_waits = false;
        queue.busy = true;
        drop(queue);
        let moved = (|| {
            let mut pen = lock(&self.pen);
            // Acknowledged from the old file, every change is in the new
            // one before it replaces the old.
            copy_tail(&pen.file, copied, pen.length, temp.file())?;
            let tail = pen.length - job.from;
            let file = temp.commit(&self.path)?;
            let before = pen.length;
            pen.file = file;
            pen.length = job.snapshot.len() as u64 + tail;
            Ok((before, pen.length))
        })();
        // 5. The pen put down: the batch that waited goes to the new file.
        let mut queue = self.queue();
        if let Ok((_, length)) = moved {
            queue.length = length + queue.records.len() as u64;
        }
        queue.busy = false;
        self.pass_pen(&queue);
        moved
    }
}

/// The ticket of the last batch with a change in it, if any.
fn ticket_of(queue: &Queue) -> Ticket {
    if !queue.records.is_empty() {
        Ticket(Some(Arc::clone(&queue.open)))
    } else {
        Ticket(queue.in_flight.clone())
    }
}

/// Sends `ERR` to the writers of a refused batch who left their answer
/// to its leader. Their sockets had nothing waiting to go out (see
/// [`Client::may_leave`]): a short line goes at once. A client gone
/// meanwhile is its own thread's business, which sees it when it reads.
fn refuse(replies: &[Arc<Client>], why: &str) {
    let line = format!("ERR {}\n", refusal(why));
    for client in replies {
        client.send(line.as_bytes());
    }
}

/// The answer to a change the disk refused: nothing of it stays.
pub fn refusal(why: &str) -> Refusal {
    Refusal(format!(
        "sauvegarde impossible ({why}) : rien n'a été changé"
    ))
}

/// Says how a batch went, and wakes its sleepers.
fn finish(batch: &Batch, outcome: Result<(), String>) {
    let _ = batch.outcome.set(outcome);
    for sleeper in lock(&batch.sleepers).drain(..) {
        sleeper.unpark();
    }
}

/// Copies the bytes `from..to` of `file` to the end of `out`.
fn copy_tail(file: &File, from: u64, to: u64, out: &mut File) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = from;
    while at < to {
        let n = buf.len().min((to - at) as usize);
        file.read_exact_at(&mut buf[..n], at)?;
        out.write_all(&buf[..n])?;
        at += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Db, MAX_MEMORY};
    use netlabs::temp::TempDir;
    use std::fs;

    fn ask(db: &Db, line: &str) -> String {
        let mut out = Vec::new();
        db.run(line.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn start(path: &Path) -> (Store, Journal, Vec<String>) {
        open(path, MAX_MEMORY).unwrap().start(false).unwrap()
    }

    fn open_db(path: &Path) -> Db {
        let (store, journal, _) = start(path);
        Db::new(store, Some(journal))
    }

    #[test]
    fn every_change_is_in_the_file_before_its_ok() {
        let folder = TempDir::new("journal-ok");
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
        let (store, _journal, notes) = start(&path);
        assert_eq!(store.get(b"b"), Some(&b" deux"[..]));
        assert_eq!(
            notes,
            [format!(
                "journal {} compacté : 26 octets → 12 octets",
                path.display()
            )]
        );
        assert_eq!(fs::read(&path).unwrap(), b"SET b  deux\n");
    }

    #[test]
    fn one_server_per_file() {
        let folder = TempDir::new("journal-lock");
        let path = folder.0.join("data.kv");
        fs::write(&path, b"SET a 1\nSET a 2\n").unwrap();
        let first = open(&path, MAX_MEMORY).unwrap();
        let why = open(&path, MAX_MEMORY).unwrap_err();
        assert!(
            why.contains(&format!("(processus {})", std::process::id())),
            "{why}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"SET a 1\nSET a 2\n");
        // Still held once compacted into a new file.
        let (_store, journal, _) = first.start(false).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"SET a 2\n");
        assert!(open(&path, MAX_MEMORY).is_err());
        drop(journal);
        assert!(open(&path, MAX_MEMORY).is_ok());
    }

    #[test]
    fn stale_temporaries_are_removed_and_only_they() {
        let folder = TempDir::new("journal-temps");
        let path = folder.0.join("data.kv");
        let stale = folder.0.join("data.kv.0123456789abcdef.tmp");
        fs::write(&stale, b"SET x 1\n").unwrap();
        let others = [
            "data.kv.0123456789ABCDEF.tmp",
            "data.kv.0123456789abcde.tmp",
            "autre.kv.0123456789abcdef.tmp",
            "data.kv.0123456789abcdef.tmp.bak",
        ];
        for name in others {
            fs::write(folder.0.join(name), b"x").unwrap();
        }
        let (_store, _journal, notes) = start(&path);
        assert_eq!(
            notes,
            ["1 fichier temporaire d'un arrêt brutal supprimé (8 octets)"]
        );
        assert!(!stale.exists());
        for name in others {
            assert!(folder.0.join(name).exists(), "{name} kept");
        }
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_anything_else_refused() {
        let folder = TempDir::new("journal-torn");
        let path = folder.0.join("data.kv");
        fs::write(&path, b"SET a 1\nDEL a\nSET b 2\nSET c tronq").unwrap();
        let (store, _journal, notes) = start(&path);
        assert_eq!(
            notes[0],
            format!(
                "{} : dernier enregistrement incomplet (11 octets sans fin de ligne), ignoré",
                path.display()
            )
        );
        assert_eq!(store.len(), 1);
        assert_eq!(fs::read(&path).unwrap(), b"SET b 2\n");
        drop(_journal);

        for (bad, line) in [
            (&b"SET a 1\nGET a\n"[..], "ligne 2 "),
            (b"SET a 1\n\nSET b 2\n", "ligne 2 "),
            (b"bonjour\n", "ligne 1 "),
        ] {
            fs::write(&path, bad).unwrap();
            let why = open(&path, MAX_MEMORY).unwrap_err();
            assert!(why.contains(line), "{why}");
            assert_eq!(fs::read(&path).unwrap(), bad, "a bad file is left alone");
        }
        fs::write(&path, b"SET a 1234567890\n").unwrap();
        assert!(open(&path, 10).unwrap_err().contains("--max-memory"));
    }

    #[test]
    fn the_journal_is_compacted_once_it_outgrows_the_data() {
        let folder = TempDir::new("journal-compact");
        let path = folder.0.join("data.kv");
        let db = open_db(&path);
        let value = "v".repeat(1000);
        for i in 0..3000 {
            assert_eq!(ask(&db, &format!("SET cle {i}{value}")), "OK\n");
        }
        // 3 MB of changes to one key: compactions, in their own thread,
        // keep the file smaller than that (bounded wait for the first).
        let written = 3000 * (value.len() as u64 + 10);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while fs::metadata(&path).unwrap().len() >= written {
            assert!(std::time::Instant::now() < deadline, "never compacted");
            std::thread::yield_now();
        }
        drop(db);
        let text = fs::read(&path).unwrap();
        let store = load(&text, MAX_MEMORY).unwrap();
        assert_eq!(store.get(b"cle"), Some(format!("2999{value}").as_bytes()));
    }

    #[test]
    fn a_refused_batch_answers_err_and_keeps_nothing() {
        // /dev/full refuses every write like a full disk (ENOSPC).
        let Ok(full) = fs::OpenOptions::new().append(true).open("/dev/full") else {
            return;
        };
        let mut store = Store::new(MAX_MEMORY);
        store.set(b"a", b"1");
        let journal = Journal {
            path: "/dev/full".into(),
            sync: false,
            queue: Mutex::new(Queue {
                records: Vec::new(),
                undo: Vec::new(),
                replies: Vec::new(),
                led: false,
                open: Batch::new(),
                in_flight: None,
                busy: false,
                compaction_waits: false,
                writers: Vec::new(),
                last_writers: HashSet::new(),
                returned: 0,
                last_flush: Duration::ZERO,
                gathering: false,
                length: 0,
                compact_at: COMPACT_MIN,
                compacting: false,
                spare: Vec::new(),
            }),
            pen: Mutex::new(Pen {
                file: full,
                length: 0,
                failing: false,
            }),
            pen_free: Condvar::new(),
            fuller: Condvar::new(),
            outbox: Mutex::new(Vec::new()),
        };
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
            let Ok(Command::Change(change)) = parse(line) else {
                panic!("not a change")
            };
            let mut out = Vec::new();
            record(&change, &mut out);
            assert_eq!(out.strip_suffix(b"\n").unwrap(), line);
        }
    }
}
