//! French error lines for the failures students meet most: a busy port, a
//! port reserved to root, a refused connection, an unknown host.
//!
//! Each message names the cause, with the system's own words in
//! parentheses, and the way out, for example:
//! `erreur : le port 7777 est déjà utilisé (Address already in use) ; arrêtez l'autre serveur ou choisissez --port`.

use std::fmt::Display;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::process;

/// Prints `erreur : MESSAGE` on stderr and exits 1.
pub fn fail(message: impl Display) -> ! {
    crate::warn(format_args!("erreur : {message}"));
    process::exit(1)
}

/// `fail!("le fichier {name} est introuvable")`: like `eprintln!` then
/// `exit(1)`, through [`fail()`]: the line reads `erreur : …`.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        $crate::error::fail(format_args!($($arg)*))
    };
}

/// Shows an error as the system's own words, without Rust's
/// `(os error N)`: `warn!("envoi impossible ({})", Why(&e))`.
pub struct Why<'a>(pub &'a io::Error);

impl Display for Why<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.to_string();
        match text.find(" (os error") {
            Some(cut) => f.write_str(&text[..cut]),
            None => f.write_str(&text),
        }
    }
}

/// The message saying why `bind` failed on `addr`, and what to do about it.
pub fn bind_message(addr: SocketAddr, err: &io::Error) -> String {
    let why = Why(err);
    let port = addr.port();
    match err.kind() {
        ErrorKind::AddrInUse => format!(
            "le port {port} est déjà utilisé ({why}) ; arrêtez l'autre serveur ou choisissez --port"
        ),
        ErrorKind::PermissionDenied if port < 1024 => format!(
            "le port {port} est réservé à root, comme tous les ports sous 1024 ({why}) ; choisissez --port 1024 ou plus"
        ),
        ErrorKind::AddrNotAvailable => format!(
            "l'adresse {} n'est pas une adresse de cette machine ({why}) ; essayez --bind 127.0.0.1, ::1, 0.0.0.0 ou ::",
            addr.ip()
        ),
        _ => format!("impossible d'écouter sur {addr} ({why})"),
    }
}

/// The former name of [`bind_message`].
pub use bind_message as bind;

/// The message saying why no connection could be made, from the error met
/// at each address.
pub fn connect_message(failures: &[(SocketAddr, io::Error)]) -> String {
    let addrs: Vec<String> = failures.iter().map(|(a, _)| a.to_string()).collect();
    let addrs = crate::french::list(&addrs);
    let all = |kind: ErrorKind| failures.iter().all(|(_, e)| e.kind() == kind);
    if all(ErrorKind::ConnectionRefused) {
        return format!("connexion refusée par {addrs} ; le serveur est-il lancé ?");
    }
    if all(ErrorKind::TimedOut) {
        return format!(
            "pas de réponse de {addrs} (délai dépassé) ; la machine est-elle joignable, un pare-feu bloque-t-il le port ?"
        );
    }
    // Mixed causes: the last one is usually the most telling (IPv4 after IPv6).
    let Some((addr, err)) = failures.last() else {
        return "aucune adresse à essayer".to_string();
    };
    let why = Why(err);
    match err.kind() {
        ErrorKind::ConnectionRefused => {
            format!("connexion refusée par {addr} ({why}) ; le serveur est-il lancé ?")
        }
        ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable => {
            format!("{addr} est injoignable ({why}) ; vérifiez l'adresse et le réseau")
        }
        _ => format!("impossible de se connecter à {addr} ({why})"),
    }
}

/// The former name of [`connect_message`].
pub use connect_message as connect;

/// The message saying that the name could not be resolved.
pub fn host_not_found(host: &str, why: impl Display) -> String {
    format!("hôte introuvable : {host} ({why}) ; vérifiez le nom, ou essayez --host 127.0.0.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_port_message_is_the_documented_one() {
        let err = io::Error::from_raw_os_error(98);
        if err.kind() != ErrorKind::AddrInUse {
            return; // not Linux's errno numbering
        }
        let addr: SocketAddr = "[::]:7777".parse().unwrap();
        assert_eq!(
            bind_message(addr, &err),
            "le port 7777 est déjà utilisé (Address already in use) ; arrêtez l'autre serveur ou choisissez --port"
        );
    }

    #[test]
    fn reserved_port_mentions_root() {
        let err = io::Error::from(ErrorKind::PermissionDenied);
        let addr: SocketAddr = "0.0.0.0:7".parse().unwrap();
        assert!(bind_message(addr, &err).contains("réservé à root"));
    }

    #[test]
    fn why_drops_the_os_error_number() {
        let err = io::Error::from_raw_os_error(111);
        let why = Why(&err).to_string();
        assert!(!why.contains("os error"));
        assert!(!why.is_empty());
    }

    #[test]
    fn refused_everywhere_lists_every_address() {
        let refused = || io::Error::from(ErrorKind::ConnectionRefused);
        let failures = vec![
            ("[::1]:7777".parse().unwrap(), refused()),
            ("127.0.0.1:7777".parse().unwrap(), refused()),
        ];
        assert_eq!(
            connect_message(&failures),
            "connexion refusée par [::1]:7777 et 127.0.0.1:7777 ; le serveur est-il lancé ?"
        );
    }
}
