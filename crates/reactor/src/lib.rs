//! Twisted's triforce in Rust: [`Protocol`], [`Transport`], [`Factory`],
//! and the [`Reactor`] that glues them, on one thread and `poll(2)`.
//!
//! Mirrors the seeds `twisted-protocole-fabrique.txt` (Protocol and
//! Factory), `bite-sized-twisted-triforce.txt` (the triforce and its
//! "magic glue") and `pesto-twisted-client-server.txt` (LineReceiver, a
//! client factory, a reactor in its own thread). The lab sheet is
//! `docs/twisted.md`.
//!
//! - a **Protocol** decides what to do with the bytes of one connection:
//!   `connection_made`, `data_received`, `connection_lost`;
//! - its **Transport** carries the bytes: `write`, `lose_connection`,
//!   `peer`; it buffers what the socket does not take at once, and the
//!   protocol is told `write_drained` when that is sent;
//! - a **Factory** builds one protocol per connection (`build_protocol`,
//!   `None` refuses it) and keeps what outlives a connection;
//! - the **Reactor** owns the sockets and runs the loop: `listen_tcp`,
//!   `connect_tcp`, `call_later`, `call_from_thread`, `stop`, `run`.
//!
//! # The seed's `Echo`, in Rust
//!
//! ```no_run
//! use std::cell::Cell;
//! use std::net::SocketAddr;
//! use std::rc::Rc;
//! use reactor::{Factory, Protocol, Reactor, Reason, Transport};
//!
//! struct Echo {
//!     // The factory's counter, shared (see "Shared state" below).
//!     num_protocols: Rc<Cell<usize>>,
//! }
//!
//! impl Protocol for Echo {
//!     fn connection_made(&mut self, transport: &Transport) {
//!         self.num_protocols.set(self.num_protocols.get() + 1);
//!         let hello = format!(
//!             "Hello. We are {} connexions using this protocol\r\n",
//!             self.num_protocols.get()
//!         );
//!         transport.write(hello.as_bytes());
//!     }
//!     fn data_received(&mut self, transport: &Transport, data: &[u8]) {
//!         transport.write(data);
//!     }
//!     fn connection_lost(&mut self, _reason: Reason) {
//!         self.num_protocols.set(self.num_protocols.get() - 1);
//!     }
//! }
//!
//! struct EchoFactory {
//!     num_protocols: Rc<Cell<usize>>,
//! }
//!
//! impl Factory for EchoFactory {
//!     fn build_protocol(&mut self, _peer: SocketAddr) -> Option<Box<dyn Protocol>> {
//!         let num_protocols = Rc::clone(&self.num_protocols);
//!         Some(Box::new(Echo { num_protocols }))
//!     }
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut reactor = Reactor::new()?;
//!     let factory = EchoFactory { num_protocols: Rc::new(Cell::new(0)) };
//!     // endpoint = TCP4ServerEndpoint(reactor, 8098, interface='localhost')
//!     // endpoint.listen(EchoFactory())
//!     let addr = reactor.listen_tcp("127.0.0.1:8098".parse()?, factory)?;
//!     println!("en écoute sur {addr}");
//!     reactor.run()?; // reactor.run()
//!     Ok(())
//! }
//! ```
//!
//! A server's `main` does these three steps with [`serve`], which also
//! prints the first line; a failure (a busy port, a factory that cannot
//! start) comes back as an [`Error`] whose text is the French line to
//! print before exiting 1.
//!
//! The same protocol, tested with no socket (Twisted's `StringTransport`):
//!
//! ```
//! # use std::{cell::Cell, rc::Rc};
//! # use reactor::{Protocol, Transport};
//! # struct Echo { num_protocols: Rc<Cell<usize>> }
//! # impl Protocol for Echo {
//! #     fn connection_made(&mut self, t: &Transport) {
//! #         self.num_protocols.set(self.num_protocols.get() + 1);
//! #         t.write(format!("Hello. We are {} connexions using this protocol\r\n",
//! #             self.num_protocols.get()).as_bytes());
//! #     }
//! #     fn data_received(&mut self, t: &Transport, data: &[u8]) { t.write(data); }
//! # }
//! use reactor::testing::StringTransport;
//!
//! let count = Rc::new(Cell::new(1)); // one connection is already open
//! let mut echo = Echo { num_protocols: Rc::clone(&count) };
//! let t = StringTransport::new();
//! echo.connection_made(&t);
//! echo.data_received(&t, b"ping");
//! assert_eq!(t.text(), "Hello. We are 2 connexions using this protocol\r\nping");
//! assert_eq!(count.get(), 2);
//! ```
//!
//! # Shared state: `Rc<RefCell<…>>` instead of `self.factory`
//!
//! In Twisted, `buildProtocol` sets `p.factory = self`, and the protocol
//! reaches the shared state through that back-reference
//! (`self.factory.numProtocols += 1`). In Rust a protocol cannot hold a
//! reference to the factory that the reactor also holds and calls: the
//! borrow checker allows one writer at a time. So the state that the
//! factory and its protocols share is put in its own box, and each of them
//! holds a handle on it: `Rc` (several owners) around `Cell` (a number) or
//! `RefCell` (anything else: borrowed for a moment, checked at run time).
//! Not `Arc<Mutex<…>>`: everything runs on the reactor's one thread, so
//! there is nothing to lock; the compiler even refuses to send an `Rc` to
//! another thread, which is exactly the rule of a reactor (other threads
//! go through [`ReactorHandle::call_from_thread`]).
//!
//! # What the loop does
//!
//! See [`Reactor::run`] and the module source `reactor.rs`: one `poll` over
//! every socket, one read per ready connection, writes sent at once and
//! queued only for what the socket did not take (the protocol is told
//! [`Protocol::write_drained`] once the queue is sent), reading paused while more
//! than [`MAX_PENDING`] bytes wait for a peer that does not read, accepting
//! paused for a moment when no descriptor is left. Nothing here calls C: the
//! only foreign function, `poll`, is wrapped in `netlabs::sys`.

#![warn(missing_docs)]

mod line;
mod protocol;
mod reactor;
mod serve;
pub mod testing;
mod time;
mod transport;

#[cfg(test)]
mod loop_tests;

pub use crate::line::{LineProtocol, LineReceiver, MAX_LINE_LENGTH};
pub use crate::protocol::{ClientFactory, Factory, Protocol, Reason};
pub use crate::reactor::{Reactor, ReactorHandle};
pub use crate::serve::{Error, Listening, listen, serve};
pub use crate::time::{Clock, DelayedCall};
pub use crate::transport::{MAX_PENDING, Transport};
