//! What a server's `main` does with the reactor: [`serve`] (Twisted's
//! `reactor.listenTCP(port, factory)` then `reactor.run()`), or [`listen`]
//! then [`Listening::run`] for a server with something to do in between,
//! and the [`Error`] that comes back instead of an exit from deep inside:
//! `main` prints it, one French line, and exits 1.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use netlabs::{Why, net};

use crate::{Clock, Factory, Reactor};

/// What a server's `main` does with its factory — Twisted's
/// `reactor.listenTCP(port, factory)` then `reactor.run()`: makes a
/// reactor, listens on `addr`, prints the first line `en écoute sur
/// ADDR:PORT`, and runs the loop until [`Reactor::stop`].
///
/// A failure comes back for `main` to print, one French line (the port is
/// busy, the factory could not open its file…):
///
/// ```no_run
/// # struct EchoFactory;
/// # impl reactor::Factory for EchoFactory {
/// #     fn build_protocol(&mut self, _: std::net::SocketAddr) -> Option<Box<dyn reactor::Protocol>> { None }
/// # }
/// let addr = "127.0.0.1:8098".parse().unwrap();
/// if let Err(e) = reactor::serve(addr, EchoFactory) {
///     netlabs::fail(e); // erreur : le port 8098 est déjà utilisé (…) ; …
/// }
/// ```
pub fn serve(addr: SocketAddr, factory: impl Factory + 'static) -> Result<(), Error> {
    listen(Clock::new(), addr, factory)?.run()
}

/// The first steps of [`serve`], for a server with more to do in between:
/// a reactor on `clock` (which the factory's timers were given when it
/// was built), listening on `addr` with `factory`, its first line printed.
/// Then [`Listening::run`].
pub fn listen(
    clock: Clock,
    addr: SocketAddr,
    factory: impl Factory + 'static,
) -> Result<Listening, Error> {
    let mut reactor = Reactor::with_clock(clock).map_err(Error::Reactor)?;
    let addr = reactor.listen_tcp(addr, factory)?;
    net::announce_tcp(addr);
    Ok(Listening { reactor, addr })
}

/// A reactor listening, its first line printed: see [`listen`].
pub struct Listening {
    reactor: Reactor,
    addr: SocketAddr,
}

impl Listening {
    /// The address it listens on (the real port, after port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs the loop until [`Reactor::stop`] (Twisted's `reactor.run()`).
    pub fn run(mut self) -> Result<(), Error> {
        self.reactor.run().map_err(Error::Loop)
    }
}

/// Why a server could not start, or its loop stopped. Its `Display` is
/// the French line a server prints (after `erreur : `) before it exits 1.
#[derive(Debug)]
pub enum Error {
    /// No reactor: the system refused the wake-up socket pair.
    Reactor(io::Error),
    /// The port could not be bound (busy, reserved, not an address of
    /// this machine…).
    Bind(SocketAddr, io::Error),
    /// The factory could not start: the reason `start_factory` gave.
    Start(String),
    /// `poll` itself failed: the loop stopped.
    Loop(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Reactor(e) => write!(f, "réacteur impossible à créer ({})", Why(e)),
            Error::Bind(addr, e) => f.write_str(&netlabs::error::bind(*addr, e)),
            Error::Start(reason) => f.write_str(reason),
            Error::Loop(e) => write!(f, "la boucle du réacteur s'est arrêtée ({})", Why(e)),
        }
    }
}

impl std::error::Error for Error {}
