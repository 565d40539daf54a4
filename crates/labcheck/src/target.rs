//! The server under test: where it answers, what it is known to do (speak
//! first, answer late), its process when it runs on this machine, and the
//! knock that tells, after each check, whether it still serves.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use crate::Kind;
use crate::advice::Lang;
use crate::local::Local;
use crate::report::Failure;
use crate::verdict::{BUSY, Life};
use crate::wire::{self, ANSWER_WAIT, Conn, Datagram, End, Heard, Udp};

/// The longest [`Target::settle`] watches a local server.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);
/// One look of [`Target::settle`]: the server wanted a core less than
/// [`SETTLED`] percent of it.
const SETTLE_WINDOW: Duration = Duration::from_millis(30);
const SETTLED: u32 = 5;
/// What a remote server is given to deal with a client's leaving.
const SETTLE_REMOTE: Duration = Duration::from_millis(200);

pub struct Target {
    pub kind: Kind,
    pub addr: SocketAddr,
    /// Has the server ever sent a byte? Shared by every connection to it.
    pub heard: Heard,
    /// What the server says first on every connection, set aside before
    /// any check reads (a greeting is said once, as a failure, not seen
    /// as the start of every answer).
    pub greeting: RefCell<Option<Vec<u8>>>,
    /// How long an answer may take at least: longer for a server found
    /// to answer late, so that its other checks judge what it answers.
    pub patience: Cell<Duration>,
    /// UDP: the answer to the first check's question, asked while looking
    /// for the server (a server that answers one datagram then exits gives
    /// its only answer to the first check, not to a probe).
    pub first_answer: RefCell<Option<(Vec<u8>, Datagram)>>,
    /// The connection that found the server, kept for the first contact.
    pub first_conn: RefCell<Option<Conn>>,
    /// The process, when the server runs on this machine.
    pub local: Option<Local>,
    /// What a check saw that is worth saying without failing it (a slow
    /// but right echo); the run prints them after that check.
    pub notes: RefCell<Vec<String>>,
}

impl Target {
    pub fn new(kind: Kind, addr: SocketAddr) -> Target {
        Target {
            kind,
            addr,
            heard: Rc::new(Cell::new(false)),
            greeting: RefCell::new(None),
            patience: Cell::new(Duration::ZERO),
            first_answer: RefCell::new(None),
            first_conn: RefCell::new(None),
            local: Local::find(kind.is_udp(), addr),
            notes: RefCell::new(Vec::new()),
        }
    }

    /// The student's language, when the process tells it.
    pub fn lang(&self) -> Lang {
        self.local.as_ref().map_or(Lang::Unknown, |l| l.lang)
    }

    /// How long a small answer may take.
    pub fn answer_wait(&self) -> Duration {
        ANSWER_WAIT.max(self.patience.get())
    }

    /// A new connection, its greeting (if the server has one) set aside;
    /// or the failure that says the server is gone.
    pub fn open(&self) -> Result<Conn, Failure> {
        let mut conn = self.open_raw()?;
        let greeting = self.greeting.borrow().clone();
        if let Some(greeting) = greeting {
            // The same number of lines (a greeting may name the client).
            let lines = greeting.iter().filter(|&&b| b == b'\n').count();
            if lines == 0 {
                conn.exactly(greeting.len(), self.answer_wait());
            } else {
                for _ in 0..lines {
                    conn.line(self.answer_wait());
                }
            }
        }
        Ok(conn)
    }

    /// A new connection, nothing read yet.
    pub fn open_raw(&self) -> Result<Conn, Failure> {
        if let Some(conn) = self.first_conn.borrow_mut().take() {
            return Ok(conn);
        }
        match wire::connect(self.addr, &self.heard) {
            Ok(mut conn) => {
                conn.patience = self.patience.get();
                conn.lang = self.lang();
                Ok(conn)
            }
            Err(e) => {
                let failure = Failure::new(
                    format!("une nouvelle connexion à {}", self.addr),
                    format!("refusée ({})", netlabs::Why(&e)),
                    format!(
                        "le serveur ne tourne plus : s'est-il arrêté après le client précédent (il faut une boucle autour d'accept — TP5b 1.2), ou sur une exception ?{}",
                        self.kind.hint()
                    ),
                );
                Err(if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    failure.fatal("le serveur ne tourne plus (voir plus haut)")
                } else {
                    failure
                })
            }
        }
    }

    /// A UDP socket of our own, for one check.
    pub fn udp(&self) -> Result<Udp, Failure> {
        Udp::open(self.addr, &self.heard)
            .map_err(|e| Failure::new("rien", e.to_string(), "socket UDP locale impossible"))
    }

    /// Does the server still serve? A fresh client asks the smallest
    /// request of its kind. When no answer comes, the CPU of a local server
    /// is measured: a server that answers no one and burns a core is
    /// spinning.
    pub fn knock(&self) -> Life {
        if let Some(local) = &self.local
            && !local.alive()
        {
            return Life::Dead;
        }
        let life = if self.kind.is_udp() {
            self.knock_udp()
        } else {
            self.knock_tcp()
        };
        match life {
            Life::Silent { .. } => {
                if let Some(local) = &self.local
                    && !local.alive()
                {
                    return Life::Dead;
                }
                // Answering no one: is it waiting, or spinning?
                let cpu = self
                    .local
                    .as_ref()
                    .map(|l| l.cpu_share(Duration::from_millis(300)));
                Life::Silent { cpu }
            }
            other => other,
        }
    }

    fn knock_tcp(&self) -> Life {
        let mut conn = match crate::tcp::session(self) {
            Ok(conn) => conn,
            Err(f) if f.fatal.is_some() => return Life::Dead,
            Err(_) => return Life::Silent { cpu: None },
        };
        match crate::tcp::ping(self, &mut conn, 0, self.answer_wait()) {
            Ok(_) => Life::Alive,
            // Accepted by the system, then closed without a word: a server
            // on its way out (its listening socket still there for a
            // moment). Once more, a little later: refused means it ended.
            Err(got) if got.bytes.is_empty() && matches!(got.end, End::Closed | End::Reset) => {
                std::thread::sleep(Duration::from_millis(300));
                match wire::connect(self.addr, &self.heard) {
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Life::Dead,
                    _ if self.local.as_ref().is_some_and(|l| !l.alive()) => Life::Dead,
                    _ => Life::Silent { cpu: None },
                }
            }
            // Any answer shows a server alive: whether it is the right
            // one is the checks' business.
            Err(got) if !got.bytes.is_empty() => Life::Alive,
            Err(_) => Life::Silent { cpu: None },
        }
    }

    fn knock_udp(&self) -> Life {
        let ping = crate::tcp::ping_bytes(self.kind, 0);
        // Unconnected first: an answer from another port (a check of its
        // own) still shows the server alive.
        let Ok(udp) = Udp::open(self.addr, &self.heard) else {
            return Life::Unknown;
        };
        if let Datagram::From(..) = udp.ask(&ping, self.answer_wait()) {
            return Life::Alive;
        }
        // Silence: a connected socket learns whether anything is still
        // bound there (ICMP port unreachable → ECONNREFUSED).
        let Ok(udp) = Udp::connected(self.addr, &self.heard) else {
            return Life::Unknown;
        };
        match udp.ask(&ping, self.answer_wait()) {
            Datagram::From(..) => Life::Alive,
            Datagram::Refused => Life::Dead,
            _ => Life::Silent { cpu: None },
        }
    }

    /// Waits until the server has dealt with what a client just did (left
    /// with its echo unread, say): a local server, until it is gone or
    /// waits again (its threads neither ran nor waited for a core over a
    /// short window, and none is ready to run), at most [`SETTLE_LIMIT`]; a remote one cannot be
    /// watched, and gets [`SETTLE_REMOTE`].
    pub fn settle(&self) {
        let Some(local) = &self.local else {
            std::thread::sleep(SETTLE_REMOTE);
            return;
        };
        let start = std::time::Instant::now();
        while start.elapsed() < SETTLE_LIMIT && local.alive() {
            if local.cpu_share(SETTLE_WINDOW) < SETTLED && !local.runnable() {
                return;
            }
        }
    }

    /// Is the local server burning a core while it should wait? Measured
    /// over `window`; `None` when the server is not local.
    pub fn idle_cpu(&self, window: Duration) -> Option<u32> {
        let local = self.local.as_ref()?;
        let share = local.cpu_share(window);
        // A short burst (a garbage collector, a JIT) is not a loop: a high
        // figure is measured again, longer.
        if share >= BUSY {
            return Some(share.min(local.cpu_share(window * 2)));
        }
        Some(share)
    }
}
