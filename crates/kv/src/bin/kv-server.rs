//! `kv-server` — the key-value server that Chapitre 2.2 announces (« un
//! mini serveur de données clé-valeur »), for many clients at once.
//!
//! The course's server serves one client and stops; this one gives each
//! client its own thread (as TP5b 2.2 « version thread » does), and all the
//! threads share one store behind a lock. One line per command:
//! `SET key value` → `OK`, `GET key` → `VALUE value` or `NOTFOUND`,
//! `DEL key` → `OK` or `NOTFOUND`, `KEYS` → `KEYS k1 k2 …`, else `ERR …`.
//!
//! `--save FILE` keeps the data across restarts: a saver thread writes the
//! whole store to `FILE.tmp`, flushes it to the disk, then renames it over
//! `FILE`. A rename is atomic: whenever the server stops, even killed in the
//! middle of a save, `FILE` is the old version or the new one, never half
//! of one.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin kv-server -- --save data.kv   # en écoute sur 127.0.0.1:8807
//! nc 127.0.0.1 8807                             # SET nom Ada ⏎ → OK, GET nom ⏎
//! kv-client KEYS                                # from another terminal
//! cat data.kv                                   # SET nom Ada
//! ss -tnp | grep 8807                           # one connection per client
//! ```

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use kv::{Change, MAX_LINE, PORT, Store};
use netlabs::Args;
use netlabs::error::reason;
use netlabs::lines::{Line, LineBuffer};
use netlabs::log;
use netlabs::net;

/// Bytes taken from a client per read. Commands are reassembled across
/// reads, so this only sets how much work one read brings.
const BUF_SIZE: usize = 16 * 1024;

/// The least time between two saves. Under a burst of `SET`s the store is
/// saved about ten times a second, not once per command (each save writes
/// the whole store); a crash loses at most the changes of the last instant.
const SAVE_INTERVAL: Duration = Duration::from_millis(100);

/// After a failed save, how long before the next try (the disk may be
/// full, or the folder read-only, for a while).
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Answers waiting to be sent are written once they reach this size, so a
/// client's pending answers never take more than about this much memory
/// (plus one answer).
const REPLY_FLUSH: usize = 64 * 1024;

const USAGE: &str = "\
kv-server — serveur clé-valeur, plusieurs clients à la fois (Chapitre 2.2, le « mini serveur de données clé-valeur » annoncé)

usage : kv-server [--bind ADDR] [--port N] [--save FICHIER]
  --bind ADDR       adresse d'écoute (défaut 127.0.0.1)
  --port N          port TCP (défaut 8807 ; 0 = un port libre choisi par le système)
  --save FICHIER    garde les données d'un lancement à l'autre dans FICHIER
  -h, --help        cette aide

Commandes, une par ligne : SET clé valeur | GET clé | DEL clé | KEYS
Essayez : nc 127.0.0.1 8807";

/// What the client threads and the saver share.
struct Shared {
    state: Mutex<State>,
    /// Rung when the store changes, to wake the saver.
    changed: Condvar,
}

struct State {
    store: Store,
    /// True when the store changed since the last snapshot was taken.
    dirty: bool,
}

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind("127.0.0.1");
    let port = args.port(PORT);
    let save: Option<PathBuf> = args.value("--save");
    args.finish();

    // Read the saved data first: a bad file stops us before we listen.
    let store = match &save {
        Some(path) => load(path),
        None => Store::new(),
    };
    let count = store.len();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            store,
            dirty: false,
        }),
        changed: Condvar::new(),
    });

    if let Some(path) = save {
        // Save once now: a file we cannot write is better found at once.
        let bytes = lock(&shared).store.snapshot();
        if let Err(e) = write_atomically(&path, &bytes) {
            netlabs::fail(format!(
                "impossible d'écrire {} ({}) ; choisissez un autre --save",
                path.display(),
                reason(&e)
            ));
        }
        let saver_shared = Arc::clone(&shared);
        thread::Builder::new()
            .name("sauvegarde".into())
            .spawn(move || saver(&saver_shared, &path))
            .unwrap_or_else(|e| netlabs::fail(format!("thread impossible ({})", reason(&e))));
    }

    // s = socket(…); s.bind(…); s.listen(…)
    let listener = net::listen(bind, port);
    log(format_args!("{count} clé(s) chargée(s)"));

    let mut next_id = 1u64;
    loop {
        // conn, addr = s.accept()
        let (stream, peer) = net::accept(&listener);
        let name = format!("client-{next_id}");
        next_id += 1;
        log(format_args!("connexion de {peer} (thread {name})"));

        // threading.Thread(target=serve, args=(conn,)).start()
        let shared = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(name.clone())
            .spawn(move || serve(stream, peer, &shared));
        if let Err(e) = spawned {
            // No thread left for it: this client is dropped, the others go on.
            netlabs::warn!("pas de thread pour {peer} : {}", reason(&e));
        }
    }
}

/// One client's thread: read commands, run each on the shared store,
/// write the answers, until the client closes.
fn serve(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let me = thread::current().name().unwrap_or("?").to_string();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut lines = LineBuffer::new(MAX_LINE);
    let mut replies = Vec::new();
    let mut commands = 0u64;
    let ending = loop {
        // data = conn.recv(…): blocks this thread only.
        let n = match stream.read(&mut buf) {
            Ok(0) => {
                // A last command without its `\n` (printf 'KEYS' | nc -N).
                lines.finish();
                if let Some(Line::Complete(last)) = lines.next_line() {
                    commands += 1;
                    let mut reply = Vec::new();
                    run(shared, last, &mut reply);
                    let _ = stream.write_all(&reply);
                }
                break "déconnexion".to_string();
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => break format!("connexion perdue ({})", reason(&e)),
        };
        lines.push(&buf[..n]);
        let mut lost = None;
        while let Some(line) = lines.next_line() {
            commands += 1;
            match line {
                Line::Complete(command) => run(shared, command, &mut replies),
                Line::TooLong => replies.extend_from_slice(
                    format!("ERR ligne de plus de {MAX_LINE} octets : ignorée\n").as_bytes(),
                ),
            }
            // One read may hold thousands of `GET`s of a large value: send
            // the answers as they pile up rather than hold them all.
            if replies.len() >= REPLY_FLUSH {
                lost = send(&mut stream, &mut replies).err();
                if lost.is_some() {
                    break;
                }
            }
        }
        if lost.is_none() {
            lost = send(&mut stream, &mut replies).err();
        }
        if let Some(e) = lost {
            break format!("connexion perdue ({})", reason(&e));
        }
    };
    log(format_args!(
        "{ending} de {peer} (thread {me}, {commands} commande(s))"
    ));
}

/// Writes the answers gathered so far. The lock is not held here: a client
/// that reads slowly blocks this write, and only its own thread with it.
fn send(stream: &mut TcpStream, replies: &mut Vec<u8>) -> std::io::Result<()> {
    let sent = stream.write_all(replies);
    replies.clear();
    sent
}

/// Runs one command under the lock.
///
/// The lock is held for the command alone — a few map operations in
/// memory — and never across a read or a write on a socket: a client that
/// stops reading would otherwise hold it while its write blocks, and every
/// other client would wait behind it.
fn run(shared: &Shared, command: &[u8], replies: &mut Vec<u8>) {
    let mut state = lock(shared);
    if state.store.execute(command, replies) == Change::Changed {
        state.dirty = true;
        shared.changed.notify_one();
    }
}

/// The saver thread: waits for a change, takes a snapshot under the lock,
/// then writes it with the lock released, and again.
fn saver(shared: &Shared, path: &Path) {
    // True while saves fail: the failure is told once, not at every try,
    // and the recovery is told too.
    let mut failing = false;
    loop {
        let snapshot = {
            let mut state = lock(shared);
            while !state.dirty {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            state.dirty = false;
            // Built under the lock, so it is one consistent moment of the
            // store; a copy in memory, short next to the disk write.
            state.store.snapshot()
        };
        match write_atomically(path, &snapshot) {
            Ok(()) => {
                if failing {
                    log(format_args!("sauvegarde de {} rétablie", path.display()));
                    failing = false;
                }
                thread::sleep(SAVE_INTERVAL);
            }
            Err(e) => {
                // Keep serving, and try again a little later.
                if !failing {
                    netlabs::warn!(
                        "sauvegarde de {} impossible : {} ; le serveur continue et réessaie chaque seconde",
                        path.display(),
                        reason(&e)
                    );
                    failing = true;
                }
                lock(shared).dirty = true;
                thread::sleep(RETRY_INTERVAL);
            }
        }
    }
}

/// Writes `bytes` to `path` so that `path` is never seen half-written:
/// write a temporary file beside it, flush it to the disk, rename it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    // Without this, a power cut after the rename could leave an empty file.
    file.sync_all()?;
    drop(file);
    // Atomic on the same file system: readers see the old file or the new.
    fs::rename(&tmp, path)?;
    // Make the rename itself durable (best effort: not every system allows
    // opening a directory).
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Reads the save file, or starts empty if there is none yet.
fn load(path: &Path) -> Store {
    match fs::read(path) {
        Ok(bytes) => Store::load(&bytes).unwrap_or_else(|why| {
            netlabs::fail(format!(
                "{} n'est pas un fichier de kv-server : {why} ; corrigez-le ou choisissez un autre --save",
                path.display()
            ))
        }),
        Err(e) if e.kind() == ErrorKind::NotFound => Store::new(),
        Err(e) => netlabs::fail(format!(
            "impossible de lire {} ({}) ; vérifiez le chemin et les droits",
            path.display(),
            reason(&e)
        )),
    }
}

/// Takes the lock. A thread that panicked while holding it cannot have
/// left the map half-changed (each command is one map operation), so the
/// data is still good: we keep using it rather than stop every client.
fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
