//! The HTTP/1.0 that `oneshot` speaks: reading a request head (within a
//! size and a time limit), and writing a response head and body. Small
//! enough to read in one go; everything but `read_head` is tested without
//! a network.
//!
//! An HTTP/1.0 exchange (RFC 1945) is text lines ended by `\r\n`:
//!
//! ```text
//! GET /rapport.pdf HTTP/1.0        ← request line: method, target, version
//! Host: 192.168.1.10:8080          ← header lines…
//!                                  ← an empty line ends the head
//!
//! HTTP/1.0 200 OK                  → status line
//! Content-Length: 51234            → headers…
//!
//! …the 51234 bytes of the file…    → body; then the server closes
//! ```

use std::fmt::Write as _;
use std::io::{self, ErrorKind, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What a client asked for, as far as `oneshot` cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Method {
    /// Send the file: one download.
    Get,
    /// Send the headers only (what `curl -I` does): does not count.
    Head,
}

/// A refused request: the status to answer with.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Refusal {
    /// 400: not an HTTP request (junk, a head too long).
    BadRequest,
    /// 405: a real method, but not GET or HEAD (POST, PUT, DELETE…).
    MethodNotAllowed,
    /// 408: the head did not come in time.
    Timeout,
    /// 505: an HTTP version other than 1.x.
    VersionNotSupported,
    /// 503: the downloads still allowed are all in progress.
    Busy,
    /// 404: the file was there at start-up, but can no longer be read.
    Gone,
}

impl Refusal {
    /// The status line's code and reason phrase.
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Refusal::BadRequest => (400, "Bad Request"),
            Refusal::MethodNotAllowed => (405, "Method Not Allowed"),
            Refusal::Timeout => (408, "Request Timeout"),
            Refusal::VersionNotSupported => (505, "HTTP Version Not Supported"),
            Refusal::Busy => (503, "Service Unavailable"),
            Refusal::Gone => (404, "Not Found"),
        }
    }

    /// A short French body, for the person behind the browser.
    pub fn body(self) -> &'static str {
        match self {
            Refusal::BadRequest => "requête HTTP invalide\n",
            Refusal::MethodNotAllowed => "seules les méthodes GET et HEAD sont permises\n",
            Refusal::Timeout => "requête trop lente : délai dépassé\n",
            Refusal::VersionNotSupported => "seul HTTP/1.x est compris\n",
            Refusal::Busy => {
                "le fichier est en cours de téléchargement ; réessayez dans un instant\n"
            }
            Refusal::Gone => "le fichier n'est plus lisible sur le serveur\n",
        }
    }
}

/// Reads the request line of a head (the bytes up to the empty line).
/// The headers after it are not needed: any path gets the file.
pub fn parse_request(head: &[u8]) -> Result<(Method, String), Refusal> {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    let line = std::str::from_utf8(line).map_err(|_| Refusal::BadRequest)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::BadRequest);
    };
    // A method is a "token" of RFC 1945: letters and a few signs.
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !token(method) || target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::BadRequest);
    }
    let Some(number) = version.strip_prefix("HTTP/") else {
        return Err(Refusal::BadRequest);
    };
    match number.split_once('.') {
        Some(("1", minor)) if !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()) => {}
        Some((major, minor))
            if !major.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit()) =>
        {
            return Err(Refusal::VersionNotSupported);
        }
        _ => return Err(Refusal::BadRequest),
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => return Err(Refusal::MethodNotAllowed),
    };
    Ok((method, target.to_string()))
}

/// Reads a request head (up to the empty line) from `stream`, at most
/// `max` bytes and within `limit` in all. Both bounds matter: without
/// them, a client that sends nothing, or one byte a second, or an endless
/// header, would hold the server (and its memory) as long as it likes.
pub fn read_head(stream: &mut TcpStream, max: usize, limit: Duration) -> Result<Vec<u8>, Refusal> {
    let deadline = Instant::now() + limit;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = head_end(&head) {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > max {
            return Err(Refusal::BadRequest);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Refusal::Timeout);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|_| Refusal::BadRequest)?;
        match stream.read(&mut buf) {
            // Closed before the end of the head: nothing sensible to answer.
            Ok(0) => return Err(Refusal::BadRequest),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(Refusal::Timeout);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(Refusal::BadRequest),
        }
    }
}

/// Where the head ends: after `\r\n\r\n`, or `\n\n` from a lax client
/// (typing into `nc` sends bare `\n`).
fn head_end(head: &[u8]) -> Option<usize> {
    let crlf = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let lf = head.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The head of a `200 OK` for a file of `length` bytes named `filename`.
pub fn ok_head(length: u64, filename: &str) -> String {
    format!(
        "HTTP/1.0 200 OK\r\n\
         Content-Type: application/octet-stream\r\n\
         Content-Length: {length}\r\n\
         Content-Disposition: {}\r\n\
         Connection: close\r\n\r\n",
        content_disposition(filename)
    )
}

/// A whole refusal response, head and body.
pub fn refusal_response(refusal: Refusal) -> String {
    let (code, phrase) = refusal.status();
    let body = refusal.body();
    let allow = if refusal == Refusal::MethodNotAllowed {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.0 {code} {phrase}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         {allow}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// `attachment; filename="…"`: the browser saves the file under this name
/// instead of showing it. The quoted name must stay on its line and inside
/// its quotes: line ends, other control characters and anything not ASCII
/// become `_`, and so do `"` and `\` — HTTP allows `\"` inside quotes, but
/// `curl -J` and others stop at the first `"` whatever comes before it. A
/// name changed this way also gets the exact name in the RFC 6266 form
/// `filename*=UTF-8''…`, which browsers and `wget --content-disposition`
/// prefer.
pub fn content_disposition(filename: &str) -> String {
    let plain = |c: char| matches!(c, ' '..='~') && c != '"' && c != '\\';
    let ascii: String = filename
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if !filename.chars().all(plain) {
        value.push_str("; filename*=UTF-8''");
        value.push_str(&percent_encode(filename));
    }
    value
}

/// Percent-encodes everything but letters, digits and `-._~` (RFC 3986's
/// unreserved characters), for a URL path or `filename*`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Sends up to `length` bytes of `file` to `out`; returns how many went.
/// A short count means the file shrank while being sent.
pub fn send_body(file: &mut impl Read, out: &mut impl io::Write, length: u64) -> io::Result<u64> {
    io::copy(&mut file.take(length), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_of_curl_wget_and_a_browser() {
        assert_eq!(
            parse_request(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
            Ok((Method::Get, "/x".into()))
        );
        assert_eq!(
            parse_request(b"HEAD /a/b?c=d HTTP/1.0\r\n\r\n"),
            Ok((Method::Head, "/a/b?c=d".into()))
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.0\n\n"),
            Ok((Method::Get, "/".into()))
        );
    }

    #[test]
    fn other_methods_and_junk() {
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "BREW", "get"] {
            let request = format!("{method} / HTTP/1.0\r\n\r\n");
            assert_eq!(
                parse_request(request.as_bytes()),
                Err(Refusal::MethodNotAllowed),
                "{method}"
            );
        }
        for junk in [
            &b""[..],
            b"\r\n\r\n",
            b"hello\r\n\r\n",
            b"GET /\r\n\r\n",
            b"GET / HTTP/1.0 extra\r\n\r\n",
            b"GET  / HTTP/1.0\r\n\r\n",
            b"GET / FTP/1.0\r\n\r\n",
            b"\xff\xfe / HTTP/1.0\r\n\r\n",
            b"GET /\xc3\xa9 HTTP/1.0\r\n\r\n",
            b"G(T / HTTP/1.0\r\n\r\n",
        ] {
            assert_eq!(parse_request(junk), Err(Refusal::BadRequest), "{junk:?}");
        }
        assert_eq!(
            parse_request(b"GET / HTTP/2.0\r\n\r\n"),
            Err(Refusal::VersionNotSupported)
        );
    }

    #[test]
    fn the_end_of_a_head() {
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\nrest"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\nHost: x\r\n"), None);
    }

    #[test]
    fn filenames_cannot_break_the_header() {
        assert_eq!(
            content_disposition("notes.pdf"),
            "attachment; filename=\"notes.pdf\""
        );
        assert_eq!(
            content_disposition("a\"b\\c.txt"),
            "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"
        );
        assert_eq!(
            content_disposition("notes de cours.pdf"),
            "attachment; filename=\"notes de cours.pdf\""
        );
        let evil = content_disposition("x\r\nSet-Cookie: y");
        assert!(!evil.contains('\r') && !evil.contains('\n'));
        assert_eq!(
            content_disposition("été.txt"),
            "attachment; filename=\"_t_.txt\"; filename*=UTF-8''%C3%A9t%C3%A9.txt"
        );
    }

    #[test]
    fn response_heads() {
        let head = ok_head(12, "f.txt");
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"));
        assert!(head.contains("\r\nContent-Length: 12\r\n"));
        assert!(head.ends_with("\r\n\r\n"));
        let refused = refusal_response(Refusal::MethodNotAllowed);
        assert!(refused.starts_with("HTTP/1.0 405 Method Not Allowed\r\n"));
        assert!(refused.contains("Allow: GET, HEAD\r\n"));
        let body = Refusal::MethodNotAllowed.body();
        assert!(refused.ends_with(body));
        assert!(refused.contains(&format!("Content-Length: {}\r\n", body.len())));
    }

    #[test]
    fn a_silent_slow_or_endless_client_is_cut_short() {
        use std::io::Write;
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();

        let _silent = TcpStream::connect(addr).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        let started = Instant::now();
        assert_eq!(
            read_head(&mut conn, 8192, Duration::from_millis(200)),
            Err(Refusal::Timeout)
        );
        assert!(started.elapsed() < Duration::from_secs(2));

        let mut endless = TcpStream::connect(addr).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        endless.write_all(&[b'a'; 20_000]).unwrap();
        assert_eq!(
            read_head(&mut conn, 8192, Duration::from_secs(5)),
            Err(Refusal::BadRequest)
        );

        // One byte every 20 ms: each read is quick, the whole head is not.
        let mut slow = TcpStream::connect(addr).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        let dripping = std::thread::spawn(move || {
            for _ in 0..100 {
                if slow.write_all(b"G").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let started = Instant::now();
        assert_eq!(
            read_head(&mut conn, 8192, Duration::from_millis(300)),
            Err(Refusal::Timeout)
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        drop(conn);
        dripping.join().unwrap();
    }

    #[test]
    fn a_shrunk_file_sends_less() {
        let mut out = Vec::new();
        assert_eq!(send_body(&mut &b"abc"[..], &mut out, 10).unwrap(), 3);
        assert_eq!(send_body(&mut &b"abcdef"[..], &mut out, 2).unwrap(), 2);
    }
}
