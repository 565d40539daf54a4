//! `pesto-server` — the Pesto command server: one line, one command.
//!
//! Mirrors `pesto-twisted-client-server.txt`, "Server side
//! implementation": `Server(LineOnlyReceiver)` and `ServerFactory`, whose
//! `startFactory` opens `file.txt` and `stopFactory` closes it.
//!
//! | the client sends | the server answers                          |
//! |------------------|---------------------------------------------|
//! | (connects)       | `Connection with the server established!`   |
//! | `hello`          | `Hello! How are you?`                       |
//! | `goodbye`        | `Noooo don't go awayyyyy...`, then closes   |
//! | `write: TEXT`    | appends TEXT to the file, `Message saved!`  |
//! | anything else    | `Unknown command: …`                        |
//!
//! Two bugs of the seed are not copied. `data.lstrip("write: ")` removes
//! every leading character found in the set `w r i t e : space`, not the
//! prefix: `write: test` is saved as `st`. And its `Server` overrides
//! `dataReceived`, so `LineOnlyReceiver` never cuts lines: two commands in
//! one read, or one command in two reads, go wrong. Here the
//! [`LineReceiver`] hands over whole lines, and only the prefix is removed.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin pesto-server          # en écoute sur 127.0.0.1:1234
//! telnet 127.0.0.1 1234                 # hello, write: bonjour, goodbye
//! nc 127.0.0.1 1234                     # the same, with \n line ends
//! cat file.txt                          # bonjour
//! ```

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;

use netlabs::{Args, Why, fail, log, octets, records, warn};
use reactor::{Factory, LineProtocol, LineReceiver, Protocol, Reason, Transport};

/// The seed's port. It writes files, so it listens on loopback only unless
/// `--bind` says otherwise.
const PORT: u16 = 1234;
const BIND: &str = "127.0.0.1";

/// The seed's `open('file.txt', 'a')`, in the folder the server runs in.
const FILE: &str = "file.txt";

const USAGE: &str = "\
pesto-server — le serveur de commandes de Pesto : hello, goodbye, write: TEXTE
(pesto-twisted-client-server : « Server side implementation »)

usage : pesto-server [--bind ADDR] [--port N] [--file CHEMIN]
  --bind ADDR     adresse d'écoute (défaut 127.0.0.1 : il écrit des fichiers)
  --port N        port TCP (défaut 1234 ; 0 = un port libre choisi par le système)
  --file CHEMIN   fichier où write: ajoute ses lignes (défaut file.txt)
  -h, --help      cette aide

Essayez : telnet 127.0.0.1 1234, puis hello, write: bonjour, goodbye";

/// The seed's `ServerFactory.fp` and `saveText`: the file every protocol
/// writes to. The factory and its protocols share it through an `Rc`
/// (one thread: nothing to lock); `RefCell` lets whoever holds it write.
#[derive(Clone)]
struct Journal {
    file: Rc<RefCell<Option<File>>>,
}

impl Journal {
    /// def saveText(self, data): fp.write(data + '\n'); fp.flush()
    ///
    /// The bytes are saved as they came: the seed decodes them as UTF-8
    /// first (and fails on anything else); a file takes any bytes.
    ///
    /// The text and its newline are one record, appended whole or not at
    /// all (`netlabs::records::append`): a write cut short — a full disk —
    /// is undone before `Message not saved!`, so the file never keeps half
    /// a line, and the next line is never glued to one. The file is opened
    /// in append mode: each line lands at the end, never mixed with
    /// another, and is the system's (on its way to the disk) at once.
    fn save_text(&self, text: &[u8]) -> io::Result<()> {
        let mut file = self.file.borrow_mut();
        let Some(file) = file.as_mut() else {
            return Err(io::Error::other("le fichier est fermé"));
        };
        let mut record = Vec::with_capacity(text.len() + 1);
        record.extend_from_slice(text);
        record.push(b'\n');
        records::append(file, &record, false)
    }
}

/// class Server(LineOnlyReceiver)
struct Server {
    peer: SocketAddr,
    journal: Journal,
}

impl LineProtocol for Server {
    fn connection_made(&mut self, transport: &Transport) {
        transport.send_line(b"Connection with the server established!");
        log!("client connecté : {}", self.peer);
    }

    fn line_received(&mut self, transport: &Transport, line: &[u8]) {
        log!("reçu de {} : {}", self.peer, String::from_utf8_lossy(line));
        match line {
            b"hello" => transport.send_line(b"Hello! How are you?"),
            b"goodbye" => {
                transport.send_line(b"Noooo don't go awayyyyy...");
                transport.lose_connection();
            }
            _ => match line.strip_prefix(b"write: ") {
                Some(text) => self.write(transport, text),
                None => transport.send_line(&[b"Unknown command: ", line].concat()),
            },
        }
    }

    /// lineLengthExceeded: Twisted's default closes the connection; we do
    /// the same, and say why in the log.
    fn line_length_exceeded(&mut self, transport: &Transport) {
        log!(
            "ligne de plus de {} octets reçue de {} : connexion fermée",
            reactor::MAX_LINE_LENGTH,
            self.peer
        );
        transport.lose_connection();
    }

    fn connection_lost(&mut self, reason: Reason) {
        log!("connexion avec {} terminée ({reason})", self.peer);
    }
}

impl Server {
    fn write(&self, transport: &Transport, text: &[u8]) {
        match self.journal.save_text(text) {
            Ok(()) => transport.send_line(b"Message saved!"),
            Err(e) => {
                warn!("erreur : écriture impossible ({})", Why(&e));
                transport.send_line(b"Message not saved!");
            }
        }
    }
}

/// class ServerFactory(protocol.Factory)
struct ServerFactory {
    path: PathBuf,
    journal: Journal,
}

impl Factory for ServerFactory {
    fn build_protocol(&mut self, peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        let server = Server {
            peer,
            journal: self.journal.clone(),
        };
        Some(Box::new(LineReceiver::new(server)))
    }

    /// self.fp = open('file.txt', 'a')
    ///
    /// A last line without its newline is a record that a kill cut in the
    /// middle of its write (it never got its `Message saved!`): it is cut
    /// off, and said on stderr (stdout's first line is the address).
    ///
    /// A file that cannot be opened makes starting fail: `listenTCP`
    /// raises, here `reactor::serve` returns the reason to `main`.
    fn start_factory(&mut self) -> Result<(), String> {
        let shown = self.path.display();
        let opened = records::open_append(&self.path).and_then(|mut file| {
            let cut = records::cut_torn_tail(&mut file)?;
            Ok((file, cut))
        });
        let (file, cut) = opened.map_err(|e| {
            format!("impossible d'ouvrir {shown} en ajout ({}) ; vérifiez le dossier ou choisissez --file", Why(&e))
        })?;
        if cut > 0 {
            warn!(
                "{shown} : dernière ligne incomplète ({} sans fin de ligne, reste d'un arrêt brutal) coupée",
                octets(cut)
            );
        }
        *self.journal.file.borrow_mut() = Some(file);
        Ok(())
    }

    /// self.fp.close()
    fn stop_factory(&mut self) {
        self.journal.file.borrow_mut().take();
    }
}

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    let path: PathBuf = args.value("--file").unwrap_or_else(|| FILE.into());
    if path.as_os_str().is_empty() {
        args.usage_error("--file attend un chemin de fichier");
    }
    args.finish();
    // A directory, device, pipe or socket is refused at once (opening a
    // named pipe would wait for ever); a link is followed to its file.
    let path = records::check_path(&path)
        .unwrap_or_else(|why| fail!("{why} ; donnez à --file le chemin d'un fichier"));

    let factory = ServerFactory {
        path,
        journal: Journal {
            file: Rc::new(RefCell::new(None)),
        },
    };
    // reactor.listenTCP(1234, ServerFactory()); reactor.run(). A busy
    // port, or a file start_factory cannot open, comes back here.
    if let Err(e) = reactor::serve(SocketAddr::new(bind, port), factory) {
        fail(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reactor::testing::{StringTransport, chunks};

    /// A factory writing to a fresh file of the temporary folder.
    fn factory(name: &str) -> ServerFactory {
        let path = std::env::temp_dir().join(format!("pesto-{}-{name}.txt", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut factory = ServerFactory {
            path,
            journal: Journal {
                file: Rc::new(RefCell::new(None)),
            },
        };
        factory.start_factory().unwrap();
        factory
    }

    /// Plays `input` in reads of `size` bytes; returns what was answered.
    fn play(factory: &mut ServerFactory, input: &[u8], size: usize) -> StringTransport {
        let t = StringTransport::new();
        let mut p = factory.build_protocol(t.peer()).unwrap();
        p.connection_made(&t);
        for piece in chunks(input, size) {
            p.data_received(&t, piece);
        }
        t
    }

    fn read(factory: &ServerFactory) -> String {
        std::fs::read_to_string(&factory.path).unwrap()
    }

    #[test]
    fn every_command_in_every_chunking() {
        let input = b"hello\r\nwrite: bonjour \xc3\xa0 tous\nwrite: write: twice\r\nHELLO\nwrite:x\n\ngoodbye\r\nhello\n";
        for size in 1..=9 {
            let mut f = factory(&format!("all-{size}"));
            let t = play(&mut f, input, size);
            assert_eq!(
                t.text(),
                "Connection with the server established!\r\n\
                 Hello! How are you?\r\n\
                 Message saved!\r\n\
                 Message saved!\r\n\
                 Unknown command: HELLO\r\n\
                 Unknown command: write:x\r\n\
                 Unknown command: \r\n\
                 Noooo don't go awayyyyy...\r\n",
                "chunks of {size}"
            );
            assert!(t.is_disconnecting(), "goodbye closes");
            // Only the prefix is removed, once; `lstrip` would have eaten
            // `write: write: t` and left `wice`.
            assert_eq!(read(&f), "bonjour à tous\nwrite: twice\n");
            f.stop_factory();
            let _ = std::fs::remove_file(&f.path);
        }
    }

    #[test]
    fn a_torn_last_line_is_cut_off_at_start() {
        let path = std::env::temp_dir().join(format!("pesto-{}-torn.txt", std::process::id()));
        std::fs::write(&path, b"un\ndeux sans fin").unwrap();
        let mut f = ServerFactory {
            path,
            journal: Journal {
                file: Rc::new(RefCell::new(None)),
            },
        };
        f.start_factory().unwrap();
        assert_eq!(read(&f), "un\n");
        play(&mut f, b"write: trois\n", 5);
        assert_eq!(read(&f), "un\ntrois\n", "not glued to the torn line");
        f.stop_factory();
        let _ = std::fs::remove_file(&f.path);
    }

    #[test]
    fn a_file_that_cannot_be_opened_makes_starting_fail_and_says_why() {
        // A folder: main refuses it before the factory, but the factory
        // must fail cleanly whatever it is given.
        let mut f = ServerFactory {
            path: std::env::temp_dir(),
            journal: Journal {
                file: Rc::new(RefCell::new(None)),
            },
        };
        let why = f.start_factory().unwrap_err();
        assert!(why.starts_with("impossible d'ouvrir "), "{why}");
        assert!(
            why.ends_with("; vérifiez le dossier ou choisissez --file"),
            "{why}"
        );
        assert!(!why.contains('\n'), "one line");
        assert!(f.journal.save_text(b"x").is_err(), "nothing opened");
    }

    #[test]
    fn the_seeds_lstrip_example_keeps_its_text() {
        let mut f = factory("lstrip");
        play(&mut f, b"write: test\nwrite: \n", 3);
        assert_eq!(read(&f), "test\n\n", "lstrip(\"write: \") would save `st`");
        let _ = std::fs::remove_file(&f.path);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_saved_as_they_came() {
        // The seed's `data.decode('utf-8')` would raise on these bytes;
        // we save them unchanged (Latin-1 `é`, a stray 0xff).
        let mut f = factory("latin1");
        let t = play(&mut f, b"write: caf\xe9 \xff\r\n\xff\xfe\n", 2);
        assert_eq!(
            t.value(),
            b"Connection with the server established!\r\n\
              Message saved!\r\n\
              Unknown command: \xff\xfe\r\n"
        );
        assert_eq!(std::fs::read(&f.path).unwrap(), b"caf\xe9 \xff\n");
        let _ = std::fs::remove_file(&f.path);
    }

    #[test]
    fn two_clients_share_the_factorys_file() {
        let mut f = factory("shared");
        play(&mut f, b"write: one\n", 4);
        play(&mut f, b"write: two\n", 4);
        assert_eq!(read(&f), "one\ntwo\n");
        f.stop_factory();
        assert!(
            f.journal.save_text(b"late").is_err(),
            "closed by stop_factory"
        );
        let _ = std::fs::remove_file(&f.path);
    }

    #[test]
    fn a_line_too_long_closes_the_connection_unanswered() {
        let mut f = factory("long");
        let mut input = vec![b'a'; reactor::MAX_LINE_LENGTH + 1];
        input.extend_from_slice(b"\nhello\n");
        for size in [7, 4096] {
            let t = play(&mut f, &input, size);
            assert_eq!(t.text(), "Connection with the server established!\r\n");
            assert!(t.is_disconnecting());
        }
        assert_eq!(read(&f), "");
        let _ = std::fs::remove_file(&f.path);
    }
}
