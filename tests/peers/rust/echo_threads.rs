//! Serveur echo TCP, un thread par client (TP5b 2.2), en Rust, un seul
//! fichier, sans Cargo.
//!
//! Juste : `Ok(0)` (le client est parti) termine la boucle, `write_all`
//! envoie tout (comme sendall), une erreur ne termine que ce client.
//!
//!     rustc echo_threads.rs && ./echo_threads 7777
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(7777);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let port = listener.local_addr().unwrap().port();
    println!("en écoute sur 127.0.0.1:{port}");
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                thread::spawn(move || servir(stream));
            }
            Err(e) => eprintln!("accept : {e}"),
        }
    }
}

fn servir(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
}
