//! `kv-server` — the key-value server that Chapitre 2.2 announces (« un
//! mini serveur de données clé-valeur »), for many clients at once.
//!
//! The course's server serves one client and stops; this one gives each
//! client its own thread (as TP5b 2.2 « version thread » does), and all the
//! threads share one store behind a lock (`kv::Db`). One line per command:
//! `SET key value` → `OK`, `GET key` → `VALUE value` or `NOTFOUND`,
//! `DEL key` → `OK` or `NOTFOUND`, `KEYS` → `KEYS k1 k2 …`, else `ERR …`.
//!
//! `--save FILE` keeps the data across restarts, and an `OK` is a promise:
//! each `SET` and `DEL` is appended to FILE (a journal) *before* its `OK`
//! is sent, so Ctrl-C, SIGTERM or `kill -9` lose nothing acknowledged;
//! with `--fsync`, forced to the disk too, by *group commit*: the changes
//! that arrive while a flush runs are forced together by the next one.
//! Now and then the journal is compacted into a snapshot, written to a
//! temporary file and renamed over FILE (see `kv::journal`). FILE belongs
//! to this server while it runs: a second server started on it refuses.
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

use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use kv::journal::{self, Client};
use kv::{Db, MAX_LINE, MAX_MEMORY, PORT, Store};
use netlabs::lines::{Line, LineBuffer};
use netlabs::{Args, Why, error, fail, log, net, plural, records, sys, warn};

/// Bytes taken from a client per read. Commands are reassembled across
/// reads, so this only sets how much work one read brings.
const BUF_SIZE: usize = 16 * 1024;

/// A client's answers wait in a buffer of this size and go out in one
/// write once the commands of a read are done — or as soon as it is full:
/// a client that sends thousands of `GET`s and reads nothing makes the
/// server hold this much for it, not the thousands of answers.
const REPLY_BUF: usize = 64 * 1024;

/// The default `--max-clients`: each client is a thread, and a thread
/// costs memory and the scheduler's time even asleep. Past this, a new
/// client is told so and closed.
const MAX_CLIENTS: usize = 1000;

/// Each client's thread needs little stack (its buffers are on the heap);
/// 64 KiB instead of std's 2 MiB keeps a thousand clients affordable.
const STACK_SIZE: usize = 64 * 1024;

const USAGE: &str = "\
kv-server — serveur clé-valeur, plusieurs clients à la fois (Chapitre 2.2, le « mini serveur de données clé-valeur » annoncé)

usage : kv-server [--bind ADDR] [--port N] [--save FICHIER [--fsync]] [--max-memory TAILLE] [--max-clients N]
  --bind ADDR          adresse d'écoute (défaut 127.0.0.1)
  --port N             port TCP (défaut 8807 ; 0 = un port libre choisi par le système)
  --save FICHIER       garde les données dans FICHIER : chaque SET et DEL y est écrit avant son OK
                       (un seul serveur par fichier)
  --fsync              avec --save : chaque écriture est forcée sur le disque avant son OK
                       (survit même à une coupure de courant ; les écritures qui arrivent
                       pendant un fsync sont forcées ensemble par le suivant)
  --max-memory TAILLE  mémoire maximale des données (défaut 64M ; suffixes K, M, G) : clés et
                       valeurs comme l'allocateur les range, plus leur place dans la table
  --max-clients N      clients simultanés au plus (défaut 1000) ; au-delà : ERR trop de clients
  -h, --help           cette aide

Commandes, une par ligne : SET clé valeur | GET clé | DEL clé | KEYS
Essayez : nc 127.0.0.1 8807";

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind("127.0.0.1");
    let port = args.port(PORT);
    let save: Option<PathBuf> = args.value("--save");
    let fsync = args.flag("--fsync");
    let max_memory = match args.value::<String>("--max-memory") {
        None => MAX_MEMORY,
        Some(text) => kv::parse_size(&text).unwrap_or_else(|| {
            args.usage_error(&format!(
                "--max-memory attend une taille comme 64M, 512K ou 1000000 (reçu « {text} »)"
            ))
        }),
    };
    let max_clients: usize = args.value("--max-clients").unwrap_or(MAX_CLIENTS);
    if max_clients == 0 {
        args.usage_error("--max-clients attend un nombre d'au moins 1");
    }
    if save
        .as_ref()
        .is_some_and(|path| path.as_os_str().is_empty())
    {
        args.usage_error("--save attend un chemin de fichier");
    }
    if fsync && save.is_none() {
        args.usage_error("--fsync ne sert qu'avec --save FICHIER");
    }
    args.finish();
    // A directory, device, pipe or socket is refused at once; a link is
    // followed to the file it names.
    let save = save.map(|path| {
        records::check_path(&path)
            .unwrap_or_else(|why| fail!("{why} ; donnez à --save le chemin d'un fichier"))
    });
    // Past `ulimit -f`, a write must fail (EFBIG, answered ERR), not kill us.
    if let Err(e) = sys::signal::ignore_file_size_limit() {
        warn!("SIGXFSZ ne peut pas être ignoré ({})", Why(&e));
    }

    // s = socket(…); s.bind(…); s.listen(…) — first, before the save file
    // is changed in any way: a server that cannot listen must leave it
    // as it found it.
    let addr = SocketAddr::new(bind, port);
    let listener = net::bind_tcp(addr).unwrap_or_else(|e| fail!("{}", error::bind(addr, &e)));
    // Then the save file: locked (one server per file) and read. A second
    // server, or a bad file, stops us here, before the first line.
    let opened =
        save.map(|path| journal::open(&path, max_memory).unwrap_or_else(|why| fail!("{why}")));
    net::announce_tcp(listener.local_addr().unwrap_or(addr));
    // Now what cannot be undone: old temporary files removed, the journal
    // compacted.
    let db = match opened {
        Some(opened) => {
            let (store, journal, notes) = opened.start(fsync).unwrap_or_else(|why| fail!("{why}"));
            for note in notes {
                log!("{note}");
            }
            Db::new(store, Some(journal))
        }
        None => Db::new(Store::new(max_memory), None),
    };
    let db = Arc::new(db);
    log!(
        "{}",
        plural(
            db.len() as u64,
            "aucune clé chargée",
            "clé chargée",
            "clés chargées"
        )
    );
    // Many clients means many descriptors: lift the soft limit (often 1024).
    let _ = sys::raise_fd_limit();

    let clients = Arc::new(AtomicUsize::new(0));
    let mut next_id = 1u64;
    loop {
        // conn, addr = s.accept()
        let (mut stream, peer) = net::accept(&listener);
        if clients.load(Ordering::Relaxed) >= max_clients {
            // Refused politely: one line, then closed. The others go on.
            log!("connexion de {peer} refusée : déjà {max_clients} clients");
            let _ = writeln!(
                stream,
                "ERR trop de clients ({max_clients} au plus) ; réessayez plus tard"
            );
            continue;
        }
        let name = format!("client-{next_id}");
        next_id += 1;
        log!("connexion de {peer} (thread {name})");

        // threading.Thread(target=serve, args=(conn,)).start()
        let db = Arc::clone(&db);
        let count = Arc::clone(&clients);
        count.fetch_add(1, Ordering::Relaxed);
        let spawned = thread::Builder::new()
            .name(name.clone())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let outcome = serve(stream, &db);
                count.fetch_sub(1, Ordering::Relaxed);
                log!("{}", farewell(peer, &name, &outcome));
            });
        if let Err(e) = spawned {
            // No thread left for it: this client is dropped, the others go on.
            clients.fetch_sub(1, Ordering::Relaxed);
            warn!("pas de thread pour {peer} : {}", Why(&e));
        }
    }
}

/// Serves one client until it closes: reads its commands, runs each on
/// the shared store, sends the answers. Returns how many commands it sent.
fn serve(stream: TcpStream, db: &Db) -> io::Result<u64> {
    // Shared with the journal's leaders, who may send our `OK`s (below).
    let client = Arc::new(Client::new(stream));
    let mut reader = client.socket();
    let mut answers = BufWriter::with_capacity(REPLY_BUF, client.socket());
    let mut lines = LineBuffer::new(MAX_LINE);
    let mut buf = vec![0u8; BUF_SIZE];
    let mut commands = 0;
    loop {
        // data = conn.recv(…): blocks this thread only.
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // The client closed: a last command without its `\n`
            // (printf 'KEYS' | nc -N) is a line like the others.
            lines.finish();
        } else {
            lines.push(&buf[..n]);
        }
        while let Some(line) = lines.next_line() {
            commands += 1;
            match line {
                Line::Complete(command) => {
                    // With no answer of ours waiting to go out before it,
                    // a change's `OK` may be left to the leader of its
                    // batch: we go back to reading at once.
                    let may_leave = answers.buffer().is_empty();
                    db.run_for(command, &mut answers, &client, may_leave)?;
                }
                Line::TooLong => {
                    client.wait();
                    writeln!(answers, "ERR ligne de plus de {MAX_LINE} octets : ignorée")?
                }
            }
        }
        // conn.sendall(answers)
        answers.flush()?;
        // Before sleeping in `recv`, help send the other clients' `OK`s
        // that are due (with `--fsync`; see `kv::journal`).
        db.deliver();
        if n == 0 {
            return Ok(commands);
        }
    }
}

/// The log line for a client that has gone, with what became of it.
fn farewell(peer: SocketAddr, thread: &str, outcome: &io::Result<u64>) -> String {
    match outcome {
        Ok(n) => format!(
            "déconnexion de {peer} (thread {thread}, {})",
            plural(*n, "aucune commande", "commande", "commandes")
        ),
        Err(e) => format!("connexion perdue avec {peer} (thread {thread}, {})", Why(e)),
    }
}
