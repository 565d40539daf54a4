//! `oneshot` — serves one file over HTTP for exactly one download, then
//! stops: the `woof` of Chapitre 2.2.
//!
//! The course closes 1.1 with woof: « Un serveur est lancé et propose une
//! URL qu'il suffit de donner à quelqu'un […]. À la fin du téléchargement,
//! le serveur se ferme. » Like the course's first server, it serves and
//! stops; unlike it, it speaks a real protocol, HTTP/1.0, so that any
//! browser, curl or wget is its client. `--count N` allows N downloads.
//!
//! Only a whole, successful download counts: not a `HEAD` (headers only),
//! not a refused request (405 for POST and the like, 400 for junk), not a
//! download the client abandons. Our last `send` returning says only that
//! the bytes are in *our* system's buffers. A download counts when the
//! client has received every byte: its TCP has acknowledged them all (the
//! system tells how many are still unacknowledged), and no reset comes
//! after our close. A client that closes its socket with bytes it never
//! read makes its system answer with a reset: a small file fits whole in
//! the client's buffers and is acknowledged at once, read or not, so the
//! reset that follows our close is what tells us it was thrown away.
//! A client that takes every byte and then cuts the connection (a reset
//! before our close) has its download. And every connection has a
//! deadline: no client, however slow or sly, holds the server for ever.
//!
//! A little longer than one sitting (about 540 lines): how a download
//! ends — acknowledged or not, a reset before or after our close — is told
//! case by case in `received_all` and the helpers after it, and reads best
//! next to the server that calls them; skip them on a first reading.
//!
//! Try it:
//!
//! ```text
//! cargo run --bin oneshot -- notes.pdf      # en écoute sur [::]:8080
//!                                           # Donnez cette adresse : http://…
//! curl -I http://localhost:8080/            # HEAD: does not count
//! curl -OJ http://localhost:8080/           # the download; the server stops
//! printf 'GET / HTTP/1.0\r\n\r\n' | nc -N localhost 8080 | head -8
//! ```

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use netlabs::sys::{self, Events, PollFd};
use netlabs::{Args, Why, cli, fail, log, net, warn};
use oneshot::{
    Method, Refusal, ok_head, parse_request, percent_encode, read_head, refusal_response, send_body,
};

/// HTTP's usual alternative port, the one woof uses too.
const PORT: u16 = 8080;

/// The most bytes of a request head we read: a browser's is under 2 KiB.
const MAX_HEAD: usize = 8 * 1024;

/// The whole head must come within this time, so that a client sending
/// nothing, or a byte now and then, cannot keep a thread forever.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// A client that takes no data for this long is gone: the download fails.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The slowest pace we wait for, 16 KiB a second (a poor mobile link): a
/// connection's deadline gives the file's length at this pace, on top of
/// the time-outs. So the deadline grows with the file, yet always comes.
const SLOWEST_RATE: u64 = 16 * 1024;

/// After our close, how long we watch the connection. A client that took
/// everything closes cleanly at once; one that never read aborts when it
/// gives up, which may take seconds: its reset says the bytes were thrown
/// away. A client still silent after this long (counted from our close,
/// however many bytes it sends meanwhile) keeps every byte, acknowledged:
/// its download counts.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Once every byte is acknowledged, we keep the connection open this long
/// before our close: time for a client that has everything to hang up as
/// it likes, reset included. It also lets us hear a client that closed its
/// sending side first (`shutdown`, `nc -N`): after our close, its system
/// would end the connection without a word, reset or not; before it, a
/// reset from such a client means it left with bytes unread.
const GRACE: Duration = Duration::from_millis(500);

/// How often we ask the system whether every byte is acknowledged (no
/// event tells; a reset does wake us at once).
const ACK_POLL: Duration = Duration::from_millis(5);

const USAGE: &str = "\
oneshot — sert un fichier par HTTP pour un seul téléchargement, puis s'arrête (Chapitre 2.2, l'exemple woof)

usage : oneshot [--bind ADDR] [--port N] [--count N] FICHIER
  --bind ADDR   adresse d'écoute (défaut :: = toutes, IPv6 et IPv4)
  --port N      port TCP (défaut 8080 ; 0 = un port libre choisi par le système)
  --count N     nombre de téléchargements réussis avant de s'arrêter (défaut 1)
  -h, --help    cette aide

Donnez l'adresse affichée ; curl, wget ou un navigateur téléchargent le fichier.";

/// The file on offer.
struct Offer {
    path: PathBuf,
    /// The name the downloader's browser will save it as.
    name: String,
}

/// How many downloads succeeded, and how many are under way.
struct Tally {
    wanted: u64,
    done: u64,
    in_flight: u64,
}

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind("::");
    let port = args.port(PORT);
    let wanted: u64 = args.value("--count").unwrap_or(1);
    if wanted == 0 {
        args.usage_error("--count attend un nombre au moins égal à 1");
    }
    let files = args.rest();
    let [path] = files.as_slice() else {
        cli::usage_error(USAGE, "il faut un FICHIER, et un seul");
    };
    let offer = Arc::new(check_file(Path::new(path)));

    // s = socket(AF_INET6, SOCK_STREAM); s.bind(("", 8080)); s.listen(…)
    let listener = net::listen(bind, port);
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let file_part = percent_encode(&offer.name);
    log!(
        "Donnez cette adresse : http://{}:{port}/{file_part}",
        url_host(bind)
    );
    if bind.is_unspecified() {
        log!("(sur cette machine : http://localhost:{port}/{file_part})");
    }

    let tally = Arc::new(Mutex::new(Tally {
        wanted,
        done: 0,
        in_flight: 0,
    }));
    let (finished, all_done) = mpsc::channel();

    // The accept loop runs in its own thread; this one waits for the end.
    thread::spawn(move || {
        loop {
            // conn, addr = s.accept()
            let (stream, peer) = net::accept(&listener);
            // One thread per client: a browser opening a spare connection
            // it never uses must not make the real download wait.
            let (offer, tally, finished) =
                (Arc::clone(&offer), Arc::clone(&tally), finished.clone());
            let spawned = thread::Builder::new()
                .spawn(move || serve(stream, peer, &offer, &tally, &finished));
            if let Err(e) = spawned {
                warn!("pas de thread pour {peer} : {}", Why(&e));
            }
        }
    });

    // Wait until the last download wanted is complete, then stop.
    let _ = all_done.recv();
    log!(
        "{} : fin du serveur",
        netlabs::plural(
            wanted,
            "aucun téléchargement",
            "téléchargement réussi",
            "téléchargements réussis"
        )
    );
}

/// A missing or unreadable FILE stops us before we listen.
fn check_file(path: &Path) -> Offer {
    match open(path) {
        Ok(Some(_)) => {}
        Ok(None) => fail!(
            "{} n'est pas un fichier ordinaire ; donnez le chemin d'un fichier",
            path.display()
        ),
        Err(e) if e.kind() == ErrorKind::NotFound => fail!(
            "fichier introuvable : {} ({}) ; vérifiez le chemin",
            path.display(),
            Why(&e)
        ),
        Err(e) => fail!(
            "impossible de lire {} ({}) ; vérifiez les droits",
            path.display(),
            Why(&e)
        ),
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fichier".to_string());
    Offer {
        path: path.to_path_buf(),
        name,
    }
}

/// Opens the file to serve and tells its length, or `None` when the path
/// is not an ordinary file. Its kind is looked at first: opening a named
/// pipe (`mkfifo`) would wait for a writer, forever.
fn open(path: &Path) -> std::io::Result<Option<(File, u64)>> {
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let file = File::open(path)?;
    let length = file.metadata()?.len();
    Ok(Some((file, length)))
}

/// The host part of the URL to give: the address others reach us at.
fn url_host(bind: IpAddr) -> String {
    let ip = if bind.is_unspecified() {
        outward_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        bind
    };
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// This machine's address on the way out: "connecting" a UDP socket sends
/// nothing, but makes the system pick the route and so the local address
/// (192.0.2.1 is a documentation address, never a real host).
fn outward_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// One client: read its request, answer it, and count a whole download.
fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    offer: &Offer,
    tally: &Mutex<Tally>,
    finished: &Sender<()>,
) {
    let accepted = Instant::now();
    let request =
        read_head(&mut stream, MAX_HEAD, HEAD_TIMEOUT).and_then(|head| parse_request(&head));
    let (method, target) = match request {
        Ok(request) => request,
        Err(refusal) => return refuse(&mut stream, peer, refusal),
    };
    // The file was checked at start-up, but may have gone since: say so
    // (404) rather than hang up without a word.
    let (mut file, length) = match open(&offer.path) {
        Ok(Some(opened)) => opened,
        Ok(None) => {
            log!(
                "{} n'est plus un fichier ordinaire : {target} demandé par {peer}",
                offer.name
            );
            return refuse(&mut stream, peer, Refusal::Gone);
        }
        Err(e) => {
            log!(
                "{} illisible ({}) : {target} demandé par {peer}",
                offer.name,
                Why(&e)
            );
            return refuse(&mut stream, peer, Refusal::Gone);
        }
    };
    match method {
        Method::Head => {
            log!("HEAD {target} de {peer} : en-têtes seuls, ne compte pas");
            let _ = stream.write_all(ok_head(length, &offer.name).as_bytes());
        }
        Method::Get => {
            if !reserve(tally) {
                return refuse(&mut stream, peer, Refusal::Busy);
            }
            log!("GET {target} de {peer} : envoi de {}", offer.name);
            let deadline = accepted + time_allowed(length);
            let outcome = send_file(&stream, &mut file, length, &offer.name, deadline);
            let (done, wanted) = settle(tally, outcome.is_ok());
            match outcome {
                Ok((bytes, how)) => {
                    log!(
                        "téléchargement réussi par {peer} : {}{how} ({done}/{wanted})",
                        netlabs::octets(bytes)
                    );
                    if done == wanted {
                        let _ = finished.send(());
                    }
                }
                Err(why) => log!("téléchargement abandonné par {peer} : {why} ; ne compte pas"),
            }
        }
    }
}

/// Takes one of the downloads still allowed, if one is left: with
/// `--count 1`, a second client arriving during the first download is told
/// to wait, so that we never send more copies than asked.
fn reserve(tally: &Mutex<Tally>) -> bool {
    let mut t = lock(tally);
    if t.done + t.in_flight < t.wanted {
        t.in_flight += 1;
        true
    } else {
        false
    }
}

/// Gives back the download taken by [`reserve`], counted if it succeeded.
/// Returns how many succeeded, and how many are wanted.
fn settle(tally: &Mutex<Tally>, succeeded: bool) -> (u64, u64) {
    let mut t = lock(tally);
    t.in_flight -= 1;
    if succeeded {
        t.done += 1;
    }
    (t.done, t.wanted)
}

/// How long a connection may last, from its accept: the time-outs, and
/// the file at the slowest pace we wait for.
fn time_allowed(length: u64) -> Duration {
    HEAD_TIMEOUT + SEND_TIMEOUT + Duration::from_secs(length / SLOWEST_RATE) + GRACE + CLOSE_TIMEOUT
}

/// Sends the head and the file, then makes sure the client has it all.
/// Returns the bytes sent and how the client ended, or why the download
/// does not count.
fn send_file(
    stream: &TcpStream,
    file: &mut File,
    length: u64,
    name: &str,
    deadline: Instant,
) -> Result<(u64, &'static str), String> {
    let lost = |e: std::io::Error| format!("connexion perdue ({})", Why(&e));
    let mut out = Until { stream, deadline };
    out.write_all(ok_head(length, name).as_bytes())
        .map_err(lost)?;
    let sent = send_body(file, &mut out, length).map_err(lost)?;
    if sent < length {
        return Err(format!(
            "le fichier a rétréci pendant l'envoi ({} sur {length})",
            netlabs::octets(sent)
        ));
    }
    let how = received_all(stream, deadline)?;
    Ok((sent, how))
}

/// The stream as a writer that gives up at the connection's deadline, or
/// when the client takes nothing for [`SEND_TIMEOUT`].
struct Until<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl Write for Until<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.stream
            .set_write_timeout(Some(left.min(SEND_TIMEOUT)))?;
        (&mut &*self.stream).write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// After our last byte: did the client get them all? Every byte must be
/// acknowledged by its TCP, and no reset must come after our close.
/// Returns, in words, how the client ended when it is worth saying (empty
/// for the usual: every byte acknowledged, then a clean close); or why
/// the download does not count.
fn received_all(stream: &TcpStream, deadline: Instant) -> Result<&'static str, String> {
    // 1. Until every byte is acknowledged (a reset meanwhile is judged by
    //    what was acknowledged when it came).
    if let Some(reset) = wait_acknowledged(stream, deadline)? {
        return after_everything(reset);
    }
    // 2. Every byte is in the client's machine; a moment before our close.
    if let Some(reset) = watch_for_reset(stream, GRACE.min(left(deadline)))? {
        return after_everything(reset);
    }

    // 3. HTTP/1.0: the server closes. Our side first, then wait for
    //    theirs, until a time fixed now, whatever the client sends
    //    meanwhile.
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        // A reset that came in between ends the connection first.
        return match stream.take_error() {
            Ok(Some(reset)) => after_everything(reset),
            _ => Err(format!("connexion perdue ({})", Why(&e))),
        };
    }
    let until = (Instant::now() + CLOSE_TIMEOUT).min(deadline);
    let mut buf = [0u8; 1024];
    loop {
        let wait = until.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Ok(", tout acquitté ; le client garde la connexion ouverte, sans reset");
        }
        stream
            .set_read_timeout(Some(wait))
            .map_err(|e| format!("connexion perdue ({})", Why(&e)))?;
        match (&mut &*stream).read(&mut buf) {
            Ok(0) => return Ok(""), // its clean close: the usual ending
            Ok(_) => {}             // a client may send more; it changes nothing
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // A reset after our close: its system threw away bytes that
            // the program never read.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return Err(
                    "tout était acquitté, mais le client a fermé sans tout lire (reset après notre fermeture)"
                        .to_string(),
                );
            }
            Err(e) => return Err(format!("connexion perdue ({})", Why(&e))),
        }
    }
}

/// A reset before our close, every byte acknowledged. From a client that
/// was still sending (`ECONNRESET`), it hung up having everything — what a
/// browser does once it holds `Content-Length` bytes: the download counts.
/// From a client that had closed its sending side first (`EPIPE`), it
/// only had reading left: a reset says it left with bytes unread (one that
/// has read everything closes without a word).
fn after_everything(reset: std::io::Error) -> Result<&'static str, String> {
    if reset.kind() == ErrorKind::BrokenPipe {
        Err(
            "le client, qui avait fini d'envoyer, a coupé la connexion (reset) sans tout lire"
                .to_string(),
        )
    } else {
        Ok(", tout acquitté, puis le client a coupé la connexion (reset)")
    }
}

/// Waits until the client's TCP has acknowledged every byte we sent: then
/// they are all in its machine. Returns the reset that came once they
/// were, if one did. Fails on a reset that came before, when the client
/// takes nothing for [`SEND_TIMEOUT`], or at the deadline. Where the
/// system cannot tell (neither Linux nor macOS), the close below decides
/// alone.
fn wait_acknowledged(
    stream: &TcpStream,
    deadline: Instant,
) -> Result<Option<std::io::Error>, String> {
    let mut last = (usize::MAX, Instant::now());
    loop {
        let waiting = match sys::unacknowledged(stream) {
            Ok(0) => return Ok(None),
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::Unsupported => return Ok(None),
            Err(e) => return Err(format!("connexion perdue ({})", Why(&e))),
        };
        if waiting < last.0 {
            last = (waiting, Instant::now());
        }
        if last.1.elapsed() >= SEND_TIMEOUT || left(deadline).is_zero() {
            let never = netlabs::plural(
                waiting as u64,
                "aucun octet jamais acquitté",
                "octet jamais acquitté",
                "octets jamais acquittés",
            );
            return Err(format!("{never} par le client"));
        }
        if let Some(reset) = watch_for_reset(stream, ACK_POLL)? {
            // The system still counts what the reset left unacknowledged.
            return match sys::unacknowledged(stream) {
                Ok(0) => Ok(Some(reset)),
                Ok(unread) => Err(format!(
                    "le client a coupé la connexion (reset) avant de tout recevoir : {} jamais {}",
                    netlabs::octets(unread as u64),
                    if unread == 1 {
                        "acquitté"
                    } else {
                        "acquittés"
                    }
                )),
                Err(_) => Err(format!(
                    "le client a coupé la connexion (reset) avant de tout recevoir ({})",
                    Why(&reset)
                )),
            };
        }
    }
}

/// Waits `time`, or less if a reset comes: then returns it (the error
/// the system reports for the connection).
fn watch_for_reset(stream: &TcpStream, time: Duration) -> Result<Option<std::io::Error>, String> {
    // No event asked: poll still reports an error or a hang-up.
    let mut fds = [PollFd::new(stream, Events::NONE)];
    let woken =
        sys::poll_fds(&mut fds, Some(time)).map_err(|e| format!("poll a échoué ({})", Why(&e)))?;
    if woken == 0 {
        return Ok(None);
    }
    // ECONNRESET, or EPIPE when the client had closed its side first.
    Ok(Some(stream.take_error().ok().flatten().unwrap_or_else(
        || std::io::Error::from(ErrorKind::ConnectionReset),
    )))
}

/// Time left before `deadline`.
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Answers a refused request and logs why.
fn refuse(stream: &mut TcpStream, peer: SocketAddr, refusal: Refusal) {
    let (code, phrase) = refusal.status();
    log!("requête de {peer} refusée : {code} {phrase} ; ne compte pas");
    let _ = stream.write_all(refusal_response(refusal).as_bytes());
}

/// Takes the tally's lock (a poisoned lock still holds valid counters).
fn lock(tally: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    tally
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
