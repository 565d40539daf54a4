// Serveur echo TCP en Rust, un thread par client (TP5b 2.2).
//
// ERREUR : après `let n = stream.read(&mut buf)?`, l'écho écrit tout le
// tampon, `write_all(&buf)`, et non `&buf[..n]` : chaque message revient
// suivi de zéros (ou des restes du message précédent) jusqu'à 1024
// octets. Remède : `write_all(&buf[..n])`.
//     rustc echo_buf_entier.rs && ./echo_buf_entier 7777
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

fn handle(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_n) => {
                if stream.write_all(&buf).is_err() {
                    break;
                }
            }
        }
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(7777);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    println!("en écoute sur {}", listener.local_addr().expect("adresse"));
    for stream in listener.incoming() {
        if let Ok(s) = stream {
            thread::spawn(move || handle(s));
        }
    }
}
