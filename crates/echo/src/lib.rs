//! The echo core shared by the TP5b servers (seed `tp5b-socket-serveur.txt`).
//!
//! The blocking server (1.2) and the thread server (2.2) run the very same
//! loop on each client, [`echo_until_closed`]; they differ only in what
//! calls it — the main thread itself, or a new thread per client — so a
//! `diff` of their two files shows the concurrency model and nothing else.
//! The `poll` server (2.1) cannot block on one client, so it has its own
//! loop, in its own file.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// The service's default port: echo's real one, 7, is reserved to root.
pub const PORT: u16 = 7777;

/// The default address: `::` is every interface, IPv6 and IPv4 alike.
pub const BIND: &str = "::";

/// The TP's buffer, `sc.recv(1500)`: one Ethernet frame's worth, for the
/// blocking and the thread server alike. A larger one moves bulk data
/// faster, with fewer system calls: `make bench` and `docs/modeles.md`
/// measure it.
pub const BUF_SIZE: usize = 1500;

/// Reads what the client sends and writes it back, until the client closes
/// its side; returns how many bytes were echoed.
///
/// ```python
/// while True:
///     data = sc.recv(1500)
///     if len(data) == 0:
///         break
///     sc.sendall(data)
/// ```
pub fn echo_until_closed(stream: &mut (impl Read + Write), buf: &mut [u8]) -> io::Result<u64> {
    let mut echoed = 0;
    loop {
        // `sc.recv(1500)`: waits for at least one byte, returns what came.
        let n = match stream.read(buf) {
            Ok(0) => return Ok(echoed), // the client closed: 0 bytes is "end"
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // `sc.sendall(data)`: `write` may take only part of it; `write_all`
        // loops until every byte is gone (Python's `send` does not!).
        stream.write_all(&buf[..n])?;
        echoed += n as u64;
    }
}

/// The log line for a client that has gone, with what became of it.
pub fn farewell(peer: SocketAddr, outcome: &io::Result<u64>) -> String {
    match outcome {
        Ok(bytes) => format!(
            "déconnexion de {peer} ({})",
            netlabs::plural(
                *bytes,
                "aucun octet renvoyé",
                "octet renvoyé",
                "octets renvoyés"
            )
        ),
        Err(e) => format!("déconnexion de {peer} (erreur : {})", netlabs::Why(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A fake socket: reads from `input` in chunks of at most `chunk`
    /// bytes, records what is written, and writes at most `chunk` bytes
    /// per call, like a socket with a small buffer.
    struct Fake {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
        chunk: usize,
    }

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let limit = buf.len().min(self.chunk);
            self.input.read(&mut buf[..limit])
        }
    }

    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk);
            self.output.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn echoes_every_byte_in_order_through_partial_reads_and_writes() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for chunk in [1, 7, 1500, 65536] {
            let mut fake = Fake {
                input: Cursor::new(data.clone()),
                output: Vec::new(),
                chunk,
            };
            let mut buf = [0; 1500];
            let n = echo_until_closed(&mut fake, &mut buf).unwrap();
            assert_eq!(n, data.len() as u64);
            assert_eq!(fake.output, data, "chunk {chunk}");
        }
    }

    #[test]
    fn farewell_says_how_it_ended() {
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(
            farewell(peer, &Ok(12)),
            "déconnexion de 127.0.0.1:4000 (12 octets renvoyés)"
        );
        let reset = Err(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(farewell(peer, &reset).starts_with("déconnexion de 127.0.0.1:4000 (erreur : "));
    }
}
