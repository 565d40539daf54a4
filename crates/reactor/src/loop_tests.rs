//! The reactor with real sockets and real time: timers, wake-ups from
//! another thread, backpressure, a peer that resets, refusal, half-close,
//! client connections. Every wait is bounded.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::{
    ClientFactory, Factory, MAX_PENDING, Protocol, Reactor, ReactorHandle, Reason, Transport,
};

const WAIT: Duration = Duration::from_secs(10);

/// Runs a reactor in its own thread; `setup` runs there first and returns
/// the address it listens on.
fn spawn_reactor(
    setup: impl FnOnce(&mut Reactor) -> SocketAddr + Send + 'static,
) -> (ReactorHandle, SocketAddr, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let mut reactor = Reactor::new().unwrap();
        let addr = setup(&mut reactor);
        tx.send((reactor.handle(), addr)).unwrap();
        reactor.run().unwrap();
    });
    let (handle, addr) = rx.recv_timeout(WAIT).expect("the reactor started");
    (handle, addr, thread)
}

fn stop(handle: ReactorHandle, thread: JoinHandle<()>) {
    handle.stop();
    thread.join().unwrap();
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// Echo, telling the test how each connection ended and the largest queue
/// it saw.
struct Echo {
    ended: Sender<Reason>,
    max_pending: Arc<AtomicUsize>,
}

impl Protocol for Echo {
    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        transport.write(data);
        self.max_pending
            .fetch_max(transport.pending(), Ordering::SeqCst);
    }
    fn connection_lost(&mut self, reason: Reason) {
        let _ = self.ended.send(reason);
    }
}

struct EchoFactory {
    ended: Sender<Reason>,
    max_pending: Arc<AtomicUsize>,
    /// Refuse every connection after this many.
    accept: usize,
}

impl Factory for EchoFactory {
    fn build_protocol(&mut self, _peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        if self.accept == 0 {
            return None;
        }
        self.accept -= 1;
        Some(Box::new(Echo {
            ended: self.ended.clone(),
            max_pending: Arc::clone(&self.max_pending),
        }))
    }
}

fn echo_server(
    accept: usize,
) -> (
    ReactorHandle,
    SocketAddr,
    JoinHandle<()>,
    mpsc::Receiver<Reason>,
    Arc<AtomicUsize>,
) {
    let (ended, reasons) = mpsc::channel();
    let max_pending = Arc::new(AtomicUsize::new(0));
    let max2 = Arc::clone(&max_pending);
    let (handle, addr, thread) = spawn_reactor(move |reactor| {
        let factory = EchoFactory {
            ended,
            max_pending: max2,
            accept,
        };
        reactor
            .listen_tcp("127.0.0.1:0".parse().unwrap(), factory)
            .unwrap()
    });
    (handle, addr, thread, reasons, max_pending)
}

#[test]
fn timers_fire_in_order_and_can_be_cancelled() {
    let mut reactor = Reactor::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    for ms in [30u64, 10, 20] {
        let log = Rc::clone(&log);
        reactor.call_later(Duration::from_millis(ms), move || log.borrow_mut().push(ms));
    }
    let log2 = Rc::clone(&log);
    let cancelled = reactor.call_later(Duration::from_millis(15), move || {
        log2.borrow_mut().push(15)
    });
    assert!(cancelled.cancel());
    let handle = reactor.handle();
    reactor.call_later(Duration::from_millis(40), move || handle.stop());
    let start = Instant::now();
    reactor.run().unwrap();
    assert_eq!(*log.borrow(), [10, 20, 30]);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(40), "stopped early: {took:?}");
    assert!(took < WAIT, "the loop slept past its timers: {took:?}");
}

#[test]
fn call_from_thread_wakes_a_sleeping_loop() {
    // No timer, no socket: without the wake-up, poll would sleep for ever.
    // The loop runs other threads' calls only when poll says the wake-up
    // socket is readable, so the call below runs only through the wake-up,
    // whether it comes before that poll or during it.
    let (handle, _addr, thread) = spawn_reactor(|_| "127.0.0.1:0".parse().unwrap());
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    handle.call_from_thread(move |reactor| {
        tx.send(reactor.connection_count()).unwrap();
        reactor.stop();
    });
    assert_eq!(rx.recv_timeout(WAIT).expect("the call ran"), 0);
    thread.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn echo_survives_a_client_that_does_not_read() {
    let (handle, addr, thread, _reasons, max_pending) = echo_server(usize::MAX);
    let stream = connect(addr);
    let data: Arc<Vec<u8>> = Arc::new((0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect());
    let mut writer = stream.try_clone().unwrap();
    let to_send = Arc::clone(&data);
    let sender = thread::spawn(move || writer.write_all(&to_send));

    // The server queues up to about MAX_PENDING, then stops reading us.
    let deadline = Instant::now() + WAIT;
    while max_pending.load(Ordering::SeqCst) < MAX_PENDING {
        assert!(Instant::now() < deadline, "the queue never filled");
        thread::sleep(Duration::from_millis(5));
    }
    // Meanwhile another client is served.
    let mut other = connect(addr);
    other.write_all(b"still there?").unwrap();
    let mut back = [0; 12];
    other.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"still there?");

    // Now read everything: every byte, in order.
    let mut echo = vec![0; data.len()];
    (&stream).read_exact(&mut echo).unwrap();
    sender.join().unwrap().unwrap();
    assert!(echo == *data, "the echo differs");
    let max = max_pending.load(Ordering::SeqCst);
    // It stops reading once MAX_PENDING is reached: one read more at most.
    assert!(
        max <= MAX_PENDING + crate::reactor::READ_SIZE,
        "the queue grew to {max} bytes"
    );
    stop(handle, thread);
}

#[test]
fn a_peer_that_resets_is_reported_lost_and_others_go_on() {
    /// Sends 4 MiB at once: more than the socket takes, so some is queued.
    struct Flood(Sender<Reason>);
    impl Protocol for Flood {
        fn connection_made(&mut self, transport: &Transport) {
            transport.write(&vec![b'x'; 4 * 1024 * 1024]);
        }
        fn data_received(&mut self, transport: &Transport, data: &[u8]) {
            transport.write(data);
        }
        fn connection_lost(&mut self, reason: Reason) {
            let _ = self.0.send(reason);
        }
    }
    struct FloodFactory(Sender<Reason>);
    impl Factory for FloodFactory {
        fn build_protocol(&mut self, _: SocketAddr) -> Option<Box<dyn Protocol>> {
            Some(Box::new(Flood(self.0.clone())))
        }
    }
    let (tx, reasons) = mpsc::channel();
    let (handle, addr, thread) = spawn_reactor(move |reactor| {
        reactor
            .listen_tcp("127.0.0.1:0".parse().unwrap(), FloodFactory(tx))
            .unwrap()
    });
    let mut stream = connect(addr);
    let mut some = [0; 1000];
    stream.read_exact(&mut some).unwrap();
    // Closing with unread data makes the system send a reset (RST).
    drop(stream);
    let reason = reasons.recv_timeout(WAIT).expect("connection_lost");
    assert!(matches!(reason, Reason::Lost(_)), "{reason:?}");

    let mut other = connect(addr);
    other.read_exact(&mut some).unwrap();
    assert_eq!(some, [b'x'; 1000]);
    stop(handle, thread);
}

#[test]
fn a_refused_connection_is_closed_at_once() {
    let (handle, addr, thread, reasons, _) = echo_server(1);
    let mut first = connect(addr);
    let mut refused = connect(addr);
    let mut buf = [0; 8];
    // Refused: closed without a byte (end of data, or a reset).
    assert!(matches!(refused.read(&mut buf), Ok(0) | Err(_)));
    first.write_all(b"ok").unwrap();
    first.read_exact(&mut buf[..2]).unwrap();
    assert_eq!(&buf[..2], b"ok");
    drop(first);
    assert!(reasons.recv_timeout(WAIT).unwrap().is_clean());
    stop(handle, thread);
}

#[test]
fn a_half_close_gets_its_whole_echo_then_the_end() {
    let (handle, addr, thread, reasons, _) = echo_server(usize::MAX);
    let mut stream = connect(addr);
    let data = vec![7u8; 300_000];
    let mut writer = stream.try_clone().unwrap();
    let to_send = data.clone();
    let sender = thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echo = Vec::new();
    stream.read_to_end(&mut echo).unwrap();
    sender.join().unwrap();
    assert_eq!(echo.len(), data.len());
    assert!(reasons.recv_timeout(WAIT).unwrap().is_clean());
    stop(handle, thread);
}

/// Says hello, and tells the test what happened.
struct Hello(Sender<String>);
impl Protocol for Hello {
    fn connection_made(&mut self, transport: &Transport) {
        transport.write(b"hello\n");
        transport.lose_write_connection();
    }
    fn data_received(&mut self, _: &Transport, data: &[u8]) {
        let _ = self.0.send(String::from_utf8_lossy(data).into_owned());
    }
    fn connection_lost(&mut self, reason: Reason) {
        let _ = self.0.send(format!("lost: {}", reason.is_clean()));
    }
}
struct HelloFactory(Sender<String>);
impl Factory for HelloFactory {
    fn build_protocol(&mut self, _: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Hello(self.0.clone())))
    }
    fn stop_factory(&mut self) {
        let _ = self.0.send("stop_factory".into());
    }
}
impl ClientFactory for HelloFactory {
    fn client_connection_failed(&mut self, reason: &str) {
        let _ = self.0.send(format!("failed: {reason}"));
    }
}

#[test]
fn connect_tcp_builds_a_protocol_or_says_why_not() {
    let (echo, addr, echo_thread, _, _) = echo_server(usize::MAX);
    let (tx, events) = mpsc::channel();
    let port = addr.port();
    // A port nobody listens on: bound by the system, then released. (Not
    // port 1: root may listen there, and tests may run as root.)
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (handle, _, thread) = spawn_reactor(move |reactor| {
        reactor.connect_tcp("127.0.0.1", port, HelloFactory(tx.clone()));
        reactor.connect_tcp("127.0.0.1", closed, HelloFactory(tx));
        addr
    });
    let mut seen: Vec<String> = (0..5).map(|_| events.recv_timeout(WAIT).unwrap()).collect();
    seen.sort();
    assert_eq!(
        seen[0],
        format!("failed: connexion refusée par 127.0.0.1:{closed} ; le serveur est-il lancé ?")
    );
    assert_eq!(seen[1], "hello\n", "the echo of our hello");
    assert_eq!(
        seen[2], "lost: true",
        "the echo server closed after our half-close"
    );
    assert_eq!(seen[3..], ["stop_factory", "stop_factory"]);
    stop(handle, thread);
    stop(echo, echo_thread);
}

#[test]
fn lose_connection_sends_everything_queued_then_closes() {
    /// Writes 24 MiB (more than the socket takes at once), then hangs up;
    /// tells the test how much was still queued when it did.
    struct Bye(Sender<usize>);
    impl Protocol for Bye {
        fn connection_made(&mut self, transport: &Transport) {
            transport.write(&vec![b'z'; 24 * 1024 * 1024]);
            transport.write(b"bye");
            transport.lose_connection();
            transport.write(b"ignored: written after lose_connection");
            let _ = self.0.send(transport.pending());
        }
        fn data_received(&mut self, _: &Transport, _: &[u8]) {}
    }
    struct ByeFactory(Sender<usize>);
    impl Factory for ByeFactory {
        fn build_protocol(&mut self, _: SocketAddr) -> Option<Box<dyn Protocol>> {
            Some(Box::new(Bye(self.0.clone())))
        }
    }
    let (queued, queued_rx) = mpsc::channel();
    let (handle, addr, thread) = spawn_reactor(|reactor| {
        reactor
            .listen_tcp("127.0.0.1:0".parse().unwrap(), ByeFactory(queued))
            .unwrap()
    });
    let mut stream = connect(addr);
    // Not read yet: when it hung up, most of it was still queued.
    let queued = queued_rx.recv_timeout(WAIT).expect("connection_made ran");
    assert!(queued > 0, "everything went out at once: nothing to check");
    let mut all = Vec::new();
    stream
        .read_to_end(&mut all)
        .expect("everything, then the end");
    assert_eq!(all.len(), 24 * 1024 * 1024 + 3);
    assert!(all.ends_with(b"zbye"));
    stop(handle, thread);
}

#[test]
fn write_drained_lets_a_producer_write_again_once_the_peer_has_read() {
    /// Twisted's streaming producer, in the reactor's words: writes its
    /// chunks while the transport sends them at once, pauses as soon as
    /// some wait (`pending`), and goes on when told `write_drained`; after
    /// the last chunk, `done`, and it hangs up.
    struct Producer {
        sent: usize,
        /// Chunks the socket did not take whole: each must be followed by
        /// one `write_drained`. (A chunk may be taken whole while the peer
        /// reads on another core: `send` goes on as room is made.)
        queued: usize,
        drained: usize,
        report: Sender<Report>,
    }
    #[derive(Debug, PartialEq)]
    enum Report {
        /// After the first chunks, before the peer reads: what waits.
        Started(usize),
        /// Told `write_drained` for the n-th time, with what waits then.
        Drained(usize, usize),
        /// The connection is over: how often drained, how many queued.
        Lost { drained: usize, queued: usize },
    }
    /// More than a loopback socket holds (its buffers and the peer's, a
    /// few MiB): a chunk nobody reads yet is left queued.
    const CHUNK: usize = 16 * 1024 * 1024;
    const CHUNKS: usize = 2;
    impl Producer {
        fn produce(&mut self, transport: &Transport) {
            while transport.pending() == 0 {
                if self.sent == CHUNKS {
                    transport.write(b"done");
                    transport.lose_connection();
                    return;
                }
                self.sent += 1;
                transport.write(&vec![b'0' + self.sent as u8; CHUNK]);
                if transport.pending() > 0 {
                    self.queued += 1;
                }
            }
        }
    }
    impl Protocol for Producer {
        fn connection_made(&mut self, transport: &Transport) {
            self.produce(transport);
            let _ = self.report.send(Report::Started(transport.pending()));
        }
        fn data_received(&mut self, _: &Transport, _: &[u8]) {}
        fn write_drained(&mut self, transport: &Transport) {
            self.drained += 1;
            let _ = self
                .report
                .send(Report::Drained(self.drained, transport.pending()));
            self.produce(transport);
        }
        fn connection_lost(&mut self, _: Reason) {
            let _ = self.report.send(Report::Lost {
                drained: self.drained,
                queued: self.queued,
            });
        }
    }
    struct ProducerFactory(Sender<Report>);
    impl Factory for ProducerFactory {
        fn build_protocol(&mut self, _: SocketAddr) -> Option<Box<dyn Protocol>> {
            Some(Box::new(Producer {
                sent: 0,
                queued: 0,
                drained: 0,
                report: self.0.clone(),
            }))
        }
    }
    let (tx, reports) = mpsc::channel();
    let (handle, addr, thread) = spawn_reactor(move |reactor| {
        reactor
            .listen_tcp("127.0.0.1:0".parse().unwrap(), ProducerFactory(tx))
            .unwrap()
    });
    let mut stream = connect(addr);
    // Nobody reads yet: the first chunk waits, the producer paused.
    let started = reports.recv_timeout(WAIT).unwrap();
    assert!(
        matches!(started, Report::Started(n) if n > 0),
        "{started:?}"
    );
    let mut all = Vec::new();
    let end = stream.read_to_end(&mut all);
    assert!(end.is_ok(), "{end:?} after {} bytes", all.len());
    assert_eq!(all.len(), CHUNKS * CHUNK + 4);
    assert!(all[..CHUNK].iter().all(|&b| b == b'1'));
    assert!(all[CHUNK..2 * CHUNK].iter().all(|&b| b == b'2'));
    assert!(all.ends_with(b"2done"));
    // Told once per chunk left queued, each time with nothing left to
    // send; not for `done` (it went out at once), nor after it (closing).
    let mut drained = 0;
    loop {
        match reports.recv_timeout(WAIT).unwrap() {
            Report::Drained(n, pending) => {
                drained += 1;
                assert_eq!((n, pending), (drained, 0));
            }
            Report::Lost {
                drained: told,
                queued,
            } => {
                assert_eq!((told, queued), (drained, drained));
                assert!((1..=CHUNKS).contains(&queued));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    stop(handle, thread);
}

#[test]
fn writes_the_socket_takes_at_once_are_never_followed_by_write_drained() {
    /// Answers each read with `ok`, and tells how often it was drained.
    struct Small(Sender<usize>, usize);
    impl Protocol for Small {
        fn data_received(&mut self, transport: &Transport, _: &[u8]) {
            transport.write(b"ok");
            let _ = self.0.send(self.1);
        }
        fn write_drained(&mut self, _: &Transport) {
            self.1 += 1;
        }
    }
    struct SmallFactory(Sender<usize>);
    impl Factory for SmallFactory {
        fn build_protocol(&mut self, _: SocketAddr) -> Option<Box<dyn Protocol>> {
            Some(Box::new(Small(self.0.clone(), 0)))
        }
    }
    let (tx, counts) = mpsc::channel();
    let (handle, addr, thread) = spawn_reactor(move |reactor| {
        reactor
            .listen_tcp("127.0.0.1:0".parse().unwrap(), SmallFactory(tx))
            .unwrap()
    });
    let mut stream = connect(addr);
    for _ in 0..20 {
        stream.write_all(b"?").unwrap();
        let mut ok = [0; 2];
        stream.read_exact(&mut ok).unwrap();
    }
    let seen: Vec<usize> = (0..20)
        .map(|_| counts.recv_timeout(WAIT).unwrap())
        .collect();
    assert_eq!(seen, [0; 20]);
    stop(handle, thread);
}
