//! The [`Reactor`]: the "magic glue" of the triforce. One thread, one
//! `poll(2)` over every socket, and the calls to the protocols.
//!
//! One turn of the loop, as [`Reactor::run`] does it:
//!
//! 1. run the timers that are due;
//! 2. close the connections that are over, and tell their protocols;
//! 3. build the list for `poll`: the wake-up socket first, then each
//!    listening socket, then each connection with what it waits for;
//! 4. sleep in `poll` until something is ready or the next timer is due;
//! 5. serve what is ready: the connections (send what is queued, and
//!    once all of it is sent tell the protocol `write_drained`; read once,
//!    hand the bytes to the protocol), then the listening sockets
//!    (accept), then the wake-up socket (run the calls other threads
//!    handed over). The calls come last because they may add sockets the
//!    list does not have yet.
//!
//! Nothing is removed from the lists while they are scanned (step 5): new
//! connections are pushed at the end, after the ones in the `poll` list,
//! and finished ones are removed at step 2 of the next turn.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use netlabs::Why;
use netlabs::net::{self, AcceptPause, Retry};
use netlabs::sys::{Events, PollFd, poll_fds};

use crate::time::{Clock, DelayedCall};
use crate::transport::TcpTransport;
use crate::{ClientFactory, Error, Factory, Protocol, Transport};

/// One read buffer for every connection: 64 KiB lets a bulk transfer go at
/// memory speed, and there is only one however many clients there are.
pub(crate) const READ_SIZE: usize = 64 * 1024;

/// Work handed over by another thread.
type ThreadCall = Box<dyn FnOnce(&mut Reactor) + Send>;

/// The event loop (Twisted's `reactor`): owns every socket, calls the
/// protocols, runs the timers. See the [crate page](crate) for an example.
pub struct Reactor {
    clock: Clock,
    ports: Vec<Port>,
    connections: Vec<Connection>,
    /// Client factories waiting for their connection to be made.
    connecting: HashMap<u64, Box<dyn ClientFactory>>,
    next_connector: u64,
    /// Read side of the wake-up socket pair; the write side is in `shared`.
    wake_reader: UnixStream,
    shared: Arc<Shared>,
    running: bool,
    /// The list given to `poll`, kept between turns so that it is not
    /// allocated again each time.
    fds: Vec<PollFd>,
    buf: Vec<u8>,
}

/// A listening socket and the factory that serves it.
struct Port {
    listener: TcpListener,
    factory: Box<dyn Factory>,
    /// Out of descriptors (or another `accept` failure that would come
    /// back at once): not accepting for a moment. Over as soon as a
    /// connection closes, since a descriptor is then free.
    pause: AcceptPause,
}

/// A connection: its socket, the protocol that decides what to do, and
/// the protocol's handle on the socket.
struct Connection {
    tcp: Rc<TcpTransport>,
    /// A handle on `tcp`, the one given to the protocol.
    transport: Transport,
    protocol: Box<dyn Protocol>,
    /// The client factory that made it, told `stop_factory` at the end.
    client_factory: Option<Box<dyn ClientFactory>>,
}

/// What other threads share with the loop: the calls they hand over, and
/// the socket that wakes `poll` up.
struct Shared {
    calls: Mutex<Vec<ThreadCall>>,
    wake_writer: UnixStream,
}

/// A handle on a reactor for other threads: it can be cloned and sent
/// anywhere (`Send + Sync`), unlike the reactor itself.
#[derive(Clone)]
pub struct ReactorHandle {
    shared: Arc<Shared>,
}

impl Reactor {
    /// A reactor with nothing to do yet. Fails only if the system refuses
    /// the wake-up socket pair (no descriptor left).
    pub fn new() -> io::Result<Reactor> {
        Reactor::with_clock(Clock::new())
    }

    /// A reactor whose timers run on `clock`, made beforehand: a program
    /// whose factory needs the clock (a game's timers) makes it first.
    pub fn with_clock(clock: Clock) -> io::Result<Reactor> {
        // The self-pipe trick: another thread writes one byte on one end,
        // the loop's `poll` watches the other end and wakes up.
        let (wake_reader, wake_writer) = UnixStream::pair()?;
        wake_reader.set_nonblocking(true)?;
        wake_writer.set_nonblocking(true)?;
        Ok(Reactor {
            clock,
            ports: Vec::new(),
            connections: Vec::new(),
            connecting: HashMap::new(),
            next_connector: 0,
            wake_reader,
            shared: Arc::new(Shared {
                calls: Mutex::new(Vec::new()),
                wake_writer,
            }),
            running: false,
            fds: Vec::new(),
            buf: vec![0; READ_SIZE],
        })
    }

    /// Listens on `addr` (port 0: a free port) and serves every connection
    /// with a protocol built by `factory` (Twisted's `listenTCP`). Returns
    /// the real address.
    ///
    /// The port is bound first, then the factory is started
    /// (`start_factory`): nothing is opened for a server that cannot have
    /// its port. A factory that cannot start makes this fail, and the port
    /// is closed again.
    pub fn listen_tcp(
        &mut self,
        addr: SocketAddr,
        mut factory: impl Factory + 'static,
    ) -> Result<SocketAddr, Error> {
        let bound = net::bind_tcp(addr).and_then(|listener| {
            listener.set_nonblocking(true)?;
            let local = listener.local_addr()?;
            Ok((listener, local))
        });
        let (listener, local) = bound.map_err(|e| Error::Bind(addr, e))?;
        factory.start_factory().map_err(Error::Start)?;
        self.ports.push(Port {
            listener,
            factory: Box::new(factory),
            pause: AcceptPause::default(),
        });
        Ok(local)
    }

    /// Connects to `host:port`, trying every address the name resolves to,
    /// and serves the connection with a protocol built by `factory`
    /// (Twisted's `connectTCP`). If no connection can be made,
    /// `factory.client_connection_failed(reason)` is called.
    ///
    /// Resolving a name and connecting block, so a short-lived helper
    /// thread does both and hands the socket back to the loop with
    /// [`ReactorHandle::call_from_thread`] (Twisted resolves names in a
    /// thread pool too); the loop never waits.
    ///
    /// A factory that cannot start is told `client_connection_failed` with
    /// its own reason, and no connection is tried.
    pub fn connect_tcp(
        &mut self,
        host: &str,
        port: u16,
        mut factory: impl ClientFactory + 'static,
    ) {
        if let Err(reason) = factory.start_factory() {
            factory.client_connection_failed(&reason);
            return;
        }
        let id = self.next_connector;
        self.next_connector += 1;
        self.connecting.insert(id, Box::new(factory));
        let handle = self.handle();
        let host = host.to_string();
        let spawned = thread::Builder::new()
            .name("connect".into())
            .spawn(move || {
                let result = net::try_connect(&host, port);
                handle.call_from_thread(move |reactor| reactor.connected(id, result));
            });
        if let Err(e) = spawned {
            let reason = format!("pas de thread pour se connecter ({})", Why(&e));
            self.connected(id, Err(reason));
        }
    }

    /// Calls `f` once `delay` has passed (Twisted's `callLater`); the
    /// returned [`DelayedCall`] can cancel it. The loop's `poll` sleeps no
    /// longer than the next call's due time.
    pub fn call_later(&self, delay: Duration, f: impl FnOnce() + 'static) -> DelayedCall {
        self.clock.call_later(delay, f)
    }

    /// The reactor's clock, to give to a protocol that schedules calls (a
    /// test gives it a [`Clock::manual`] instead).
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// A handle for other threads: [`ReactorHandle::call_from_thread`] and
    /// [`ReactorHandle::stop`].
    pub fn handle(&self) -> ReactorHandle {
        ReactorHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Makes [`run`](Reactor::run) return at the end of the current turn
    /// (Twisted's `reactor.stop()`).
    pub fn stop(&mut self) {
        self.running = false;
    }

    /// How many connections are open.
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// Runs the loop until [`stop`](Reactor::stop) (Twisted's
    /// `reactor.run()`). Then closes every connection (each protocol is
    /// told `connection_lost`) and every listening socket, and tells the
    /// factories `stop_factory`. Fails only if `poll` itself fails.
    pub fn run(&mut self) -> io::Result<()> {
        self.running = true;
        let result = self.run_loop();
        self.shut_down();
        result
    }

    fn run_loop(&mut self) -> io::Result<()> {
        while self.running {
            // 1. Timers first: they may write, close, or stop the reactor.
            self.clock.run_due();
            // 2. Connections that are over leave before we build the list.
            self.reap();
            if !self.running {
                break;
            }
            // 3. What each socket waits for.
            let now = Instant::now();
            self.build_poll_list(now);
            // 4. Sleep until something happens or a timer is due.
            let timeout = self.poll_timeout(now);
            poll_fds(&mut self.fds, timeout)?;
            // 5. Serve what is ready: connections, listening sockets, then
            //    the calls of other threads (see the top of this file).
            self.serve_connections();
            self.accept_on_ready_ports();
            if self.fds[0]
                .revents()
                .intersects(Events::IN | Events::ERR | Events::HUP)
            {
                self.run_calls_from_threads();
            }
        }
        Ok(())
    }

    /// The list for `poll`: entry 0 is the wake-up socket, then one entry
    /// per listening socket, then one per connection, in the order of
    /// `self.ports` and `self.connections`.
    fn build_poll_list(&mut self, now: Instant) {
        self.fds.clear();
        self.fds.push(PollFd::new(&self.wake_reader, Events::IN));
        for port in &self.ports {
            let paused = port.pause.left_at(now).is_some();
            let events = if paused { Events::NONE } else { Events::IN };
            self.fds.push(PollFd::new(&port.listener, events));
        }
        for connection in &self.connections {
            self.fds.push(connection.tcp.poll_entry());
        }
    }

    /// Until the next timer, or the end of an accept pause; `None`: no limit.
    /// A pause already over does not count: the listening socket is back in
    /// the list, and a zero time-out would make the loop spin.
    fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        let pause = self.ports.iter().filter_map(|p| p.pause.left_at(now)).min();
        match (self.clock.time_to_next(), pause) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Reads or writes each ready connection. Only the connections that
    /// were in the list are looked at; the list is not changed here.
    fn serve_connections(&mut self) {
        let first = 1 + self.ports.len();
        let problem = Events::ERR | Events::HUP;
        for (connection, fd) in self.connections.iter_mut().zip(&self.fds[first..]) {
            let ready = fd.revents();
            if ready.is_empty() {
                continue;
            }
            let (tcp, transport) = (&connection.tcp, &connection.transport);
            // Room to write: send what is queued. On an error or a hang-up,
            // the write (or the read below) says what happened. Everything
            // sent: the protocol may write again (Twisted's resumeProducing).
            if ready.intersects(Events::OUT | problem) && tcp.pending() > 0 && tcp.flush() {
                connection.protocol.write_drained(transport);
            }
            // Data to read (or end of data): one read, then the protocol.
            if ready.intersects(Events::IN | problem) && tcp.wants_to_read() {
                let n = tcp.read_into(&mut self.buf);
                if n > 0 {
                    connection.protocol.data_received(transport, &self.buf[..n]);
                }
            }
        }
    }

    /// Accepts every waiting connection on each ready listening socket.
    fn accept_on_ready_ports(&mut self) {
        for i in 0..self.ports.len() {
            if self.fds[1 + i]
                .revents()
                .intersects(Events::IN | Events::ERR)
            {
                self.accept_all(i);
            }
        }
    }

    fn accept_all(&mut self, i: usize) {
        loop {
            let port = &mut self.ports[i];
            // s.accept(), non-blocking: WouldBlock means nobody is waiting.
            let (stream, peer) = match port.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => match port.pause.failed(&e) {
                    Retry::Now => continue,
                    Retry::AfterPause => return,
                },
            };
            port.pause.accepted(); // a descriptor was free: the episode is over
            let peer = net::canonical(peer);
            let Ok(host) = prepare(&stream) else { continue };
            // buildProtocol(addr): None refuses; dropping the stream closes it.
            if let Some(protocol) = port.factory.build_protocol(peer) {
                self.add_connection(stream, peer, host, protocol, None);
            }
        }
    }

    /// The helper thread of `connect_tcp` is back with a socket or a reason.
    fn connected(&mut self, id: u64, result: Result<TcpStream, String>) {
        let Some(mut factory) = self.connecting.remove(&id) else {
            return;
        };
        let made = result.and_then(|stream| {
            let peer = stream.peer_addr().map_err(|e| Why(&e).to_string())?;
            let host = prepare(&stream).map_err(|e| Why(&e).to_string())?;
            Ok((stream, net::canonical(peer), host))
        });
        match made {
            Ok((stream, peer, host)) => match factory.build_protocol(peer) {
                Some(protocol) => self.add_connection(stream, peer, host, protocol, Some(factory)),
                None => factory.stop_factory(),
            },
            Err(reason) => {
                factory.client_connection_failed(&reason);
                factory.stop_factory();
            }
        }
    }

    /// makeConnection: the transport is made and given to the protocol.
    fn add_connection(
        &mut self,
        stream: TcpStream,
        peer: SocketAddr,
        host: SocketAddr,
        mut protocol: Box<dyn Protocol>,
        client_factory: Option<Box<dyn ClientFactory>>,
    ) {
        let tcp = TcpTransport::new(stream, peer, host);
        let transport = Transport::new(tcp.clone());
        protocol.connection_made(&transport);
        self.connections.push(Connection {
            tcp,
            transport,
            protocol,
            client_factory,
        });
    }

    /// Closes the connections that are over and tells their protocols.
    /// Removal happens here, outside any scan of the list.
    fn reap(&mut self) {
        let mut i = 0;
        let mut closed_any = false;
        while i < self.connections.len() {
            if !self.connections[i].tcp.is_finished() {
                i += 1;
                continue;
            }
            // swap_remove: the order of connections does not matter.
            let mut connection = self.connections.swap_remove(i);
            let reason = connection.tcp.close();
            connection.protocol.connection_lost(reason);
            if let Some(mut factory) = connection.client_factory {
                factory.stop_factory();
            }
            closed_any = true;
        }
        if closed_any {
            // A descriptor is free again: accept at once if we were full.
            for port in &mut self.ports {
                port.pause.resume();
            }
        }
    }

    /// Empties the wake-up socket, then runs what other threads handed
    /// over. A call that comes after we took the list has written its own
    /// byte, so the next `poll` wakes up for it: none is ever forgotten.
    fn run_calls_from_threads(&mut self) {
        let mut sink = [0u8; 256];
        while matches!((&self.wake_reader).read(&mut sink), Ok(n) if n > 0) {}
        let calls = {
            let mut calls = self
                .shared
                .calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            std::mem::take(&mut *calls)
        };
        for call in calls {
            call(self);
        }
    }

    /// After `run`: last try to send what is queued (without waiting),
    /// then close everything and stop the factories.
    fn shut_down(&mut self) {
        for mut connection in std::mem::take(&mut self.connections) {
            connection.tcp.flush();
            let reason = connection.tcp.close();
            connection.protocol.connection_lost(reason);
            if let Some(mut factory) = connection.client_factory {
                factory.stop_factory();
            }
        }
        for mut port in std::mem::take(&mut self.ports) {
            port.factory.stop_factory();
        }
        for (_, mut factory) in std::mem::take(&mut self.connecting) {
            factory.stop_factory();
        }
    }
}

/// A new connection must never block the loop (non-blocking), and a small
/// write goes out at once (`TCP_NODELAY`: no Nagle delay). Returns our
/// address on it.
fn prepare(stream: &TcpStream) -> io::Result<SocketAddr> {
    stream.set_nonblocking(true)?;
    let _ = stream.set_nodelay(true);
    Ok(net::canonical(stream.local_addr()?))
}

impl ReactorHandle {
    /// Hands `f` to the reactor's thread, which runs it soon, between two
    /// turns of its loop (Twisted's `callFromThread`). The only safe way to
    /// reach protocols and transports from another thread: they are not
    /// shared between threads, the loop's thread does the work.
    pub fn call_from_thread(&self, f: impl FnOnce(&mut Reactor) + Send + 'static) {
        // Queue first, then wake: the loop empties the socket before it
        // takes the queue, so it sees this call in this turn or the next.
        self.shared
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(f));
        // WouldBlock: the socket is full of wake-ups already, fine.
        let _ = (&self.shared.wake_writer).write(&[1]);
    }

    /// Stops the reactor from another thread.
    pub fn stop(&self) {
        self.call_from_thread(|reactor| reactor.stop());
    }
}

#[cfg(test)]
mod tests;
