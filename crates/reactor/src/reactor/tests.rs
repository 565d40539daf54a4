//! The tests of starting and listening (a factory that cannot start, a
//! busy port) and of an accept pause, seen from inside the loop.

use super::*;

struct Nobody;
impl Factory for Nobody {
    fn build_protocol(&mut self, _peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        None
    }
}

/// Cannot start: says why, and records whether it was stopped.
struct Broken(Rc<std::cell::Cell<bool>>);
impl Factory for Broken {
    fn build_protocol(&mut self, _peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        None
    }
    fn start_factory(&mut self) -> Result<(), String> {
        Err("impossible d'ouvrir le fichier".into())
    }
    fn stop_factory(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn a_factory_that_cannot_start_makes_listen_fail_and_frees_the_port() {
    let mut reactor = Reactor::new().unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let stopped = Rc::new(std::cell::Cell::new(false));
    let err = reactor
        .listen_tcp(addr, Broken(Rc::clone(&stopped)))
        .unwrap_err();
    assert!(matches!(err, Error::Start(_)), "{err:?}");
    assert_eq!(err.to_string(), "impossible d'ouvrir le fichier");
    assert!(reactor.ports.is_empty());
    std::net::TcpListener::bind(addr).expect("the port is free again");
    reactor.shut_down(); // what `run` does at its end
    assert!(!stopped.get(), "never started, never stopped");
}

/// A client factory that cannot start either, and hears why.
struct BrokenClient(Rc<std::cell::RefCell<Vec<String>>>);
impl Factory for BrokenClient {
    fn build_protocol(&mut self, _peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        None
    }
    fn start_factory(&mut self) -> Result<(), String> {
        Err("pas de fichier".into())
    }
    fn stop_factory(&mut self) {
        self.0.borrow_mut().push("stop".into());
    }
}
impl ClientFactory for BrokenClient {
    fn client_connection_failed(&mut self, reason: &str) {
        self.0.borrow_mut().push(reason.into());
    }
}

#[test]
fn a_client_factory_that_cannot_start_is_told_and_nothing_is_tried() {
    let mut reactor = Reactor::new().unwrap();
    let heard = Rc::new(std::cell::RefCell::new(Vec::new()));
    reactor.connect_tcp("127.0.0.1", 1, BrokenClient(Rc::clone(&heard)));
    assert!(reactor.connecting.is_empty(), "no connection tried");
    reactor.shut_down();
    assert_eq!(*heard.borrow(), ["pas de fichier"], "never stopped");
}

#[test]
fn a_busy_port_says_so_in_french() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let mut reactor = Reactor::new().unwrap();
    let err = reactor.listen_tcp(addr, Nobody).unwrap_err();
    assert!(matches!(err, Error::Bind(..)), "{err:?}");
    let said = err.to_string();
    assert!(
        said.starts_with(&format!("le port {} est déjà utilisé", addr.port())),
        "{said}"
    );
}

#[test]
fn an_accept_pause_bounds_the_sleep_until_it_is_over_then_no_more() {
    let mut reactor = Reactor::new().unwrap();
    reactor
        .listen_tcp("127.0.0.1:0".parse().unwrap(), Nobody)
        .unwrap();
    let now = Instant::now();
    assert_eq!(reactor.poll_timeout(now), None, "nothing to wait for");
    let out_of_descriptors = std::io::Error::from_raw_os_error(24); // EMFILE
    assert_eq!(
        reactor.ports[0].pause.failed(&out_of_descriptors),
        Retry::AfterPause
    );
    let after = Instant::now();
    // The pause ends ACCEPT_RETRY_PAUSE after the failure, which came
    // between `now` and `after`.
    let pause = net::ACCEPT_RETRY_PAUSE;
    assert!(reactor.poll_timeout(now).expect("paused") >= pause);
    assert!(reactor.poll_timeout(after).expect("paused") <= pause);
    // Over: the listening socket is watched again, and poll must sleep
    // until something happens. A zero time-out would spin.
    assert_eq!(reactor.poll_timeout(after + pause), None);
    assert_eq!(reactor.poll_timeout(after + 2 * pause), None);
}
