//! Serveur echo TCP bloquant (TP5b 1.2), en Rust, un seul fichier.
//!
//! ERREUR : `Ok(0)` n'est pas traité. `read` rend `Ok(0)` quand le client a
//! fermé : la boucle renvoie alors 0 octet et relit, `read` rend encore
//! `Ok(0)` tout de suite, et ainsi de suite, un cœur à 100 %. Le premier
//! client est servi ; le serveur ne revient jamais à `accept`, aucun autre
//! ne l'est. Remède : `if n == 0 { break; }` (ou `Ok(0) => break` dans un
//! `match`).
//!
//!     rustc echo_ok0.rs && ./echo_ok0 7777
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(7777);
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("en écoute sur 127.0.0.1:{}", listener.local_addr()?.port());
    for stream in listener.incoming() {
        let stream = stream?;
        if let Err(e) = servir(stream) {
            eprintln!("client perdu : {e}");
        }
    }
    Ok(())
}

fn servir(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 1500];
    loop {
        let n = stream.read(&mut buf)?;
        stream.write_all(&buf[..n])?;
    }
}
