// Serveur de nombres premiers (Chapitre 2.2, 1.1) en Rust, un thread par
// client : BufReader::lines(), trim(), parse::<u64>().
//
// ERREUR : parse::<u64>() refuse un signe moins : « -5 » donne Err, donc
// E, alors que -5 est un entier, non premier (F). Remède : parser en i64
// (ou i128) et répondre F pour tout n < 2.
// Le reste est juste pour le cours : division jusqu'à √n, \r\n admis
// (trim), une réponse par ligne, un client qui part ne coûte que lui.
//     rustc prime_u64.rs && ./prime_u64 8809
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2u64;
    while d <= n / d {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

fn serve(stream: TcpStream) {
    let mut out = match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    };
    for line in BufReader::new(stream).lines() {
        let line = match line {
            Ok(l) => l,
            Err(_) => break,
        };
        let answer = match line.trim().parse::<u64>() {
            Ok(n) if is_prime(n) => "T\n",
            Ok(_) => "F\n",
            Err(_) => "E\n",
        };
        if out.write_all(answer.as_bytes()).is_err() {
            break;
        }
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8809);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    println!("en écoute sur {}", listener.local_addr().expect("adresse"));
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                thread::spawn(move || serve(s));
            }
            Err(e) => eprintln!("accept : {e}"),
        }
    }
}
