//! Serveur echo TCP en Rust, un seul fichier, un seul thread sans select :
//! sockets non bloquantes, on fait le tour des clients, puis une courte
//! pause « pour ne pas prendre tout le processeur ».
//!
//! ERREUR : `write` au lieu de `write_all`, et ce qu'il rend est ignoré.
//! Sur une socket non bloquante, `write` n'écrit que ce qui tient dans le
//! tampon d'envoi et rend ce nombre, ou `WouldBlock` quand il est plein :
//! le reste est perdu. Petits messages : rien ne se voit ; des mégaoctets :
//! des octets manquent. Remède : garder ce qui n'est pas parti pour le tour
//! suivant (ou, en bloquant, `write_all`, qui boucle jusqu'à tout envoyer,
//! comme le `sendall` de Python).
//!
//!     rustc echo_write.rs && ./echo_write 7777
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(7777);
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("en écoute sur 127.0.0.1:{}", listener.local_addr()?.port());
    listener.set_nonblocking(true)?;
    let mut clients: Vec<TcpStream> = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        // Les nouveaux clients.
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(true)?;
                    clients.push(stream);
                }
                Err(_) => break,
            }
        }
        // Un tour des clients : ce qui est arrivé repart.
        let mut partis = Vec::new();
        for (i, c) in clients.iter_mut().enumerate() {
            match c.read(&mut buf) {
                Ok(0) => partis.push(i),
                Ok(n) => match c.write(&buf[..n]) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => partis.push(i),
                },
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => partis.push(i),
            }
        }
        for i in partis.into_iter().rev() {
            clients.remove(i);
        }
        thread::sleep(Duration::from_millis(1));
    }
}
