//! Chapitre 2.2, « Programmation réseau »: the server that tells whether a
//! number is prime, over TCP (`prime-server`, `prime-client`) and UDP
//! (`prime-udp-server`, `prime-udp-client`).
//!
//! The protocol is the course's: the client sends one integer as text, the
//! server answers one line, `T\n` (prime, *True*), `F\n` (not prime,
//! *False*) or `E\n` (not an integer, *Erreur*). What both sides share lives
//! here, so that each program file shows only its sockets:
//!
//! - [`primality`]: the course's trial division, and Miller–Rabin;
//! - [`number`]: reading an integer like Python's `int()`;
//! - [`judge`] (server side) and [`reading`] (client side) of one message.
//!
//! Cutting the TCP stream into lines is `netlabs::lines`, shared with
//! `kv-server` and the reactor.

pub mod number;
pub mod primality;

use std::fmt;

use number::Number;

/// The course's TCP port (`params = ('127.0.0.1', 8809)`).
pub const TCP_PORT: u16 = 8809;

/// The course's UDP port (`params = ('127.0.0.1', 8808)`).
pub const UDP_PORT: u16 = 8808;

/// The course's address: loopback only, a lab server is not for the world.
pub const BIND: &str = "127.0.0.1";

/// The course's `BUFFER_SIZE = 1024`, also the longest line we read: a
/// 64-bit number has 20 digits, so 1024 bytes leave room for blanks and
/// underscores and still bound what a client can make us keep.
pub const MAX_LINE: usize = 1024;

/// The course's list, `[4j, 4, 5, -5, 17, 29, 2**50, 2**50-1]`, as the text
/// the client sends (`4j` is a complex number in Python: not an integer).
pub const COURSE_LIST: [&str; 8] = [
    "4j",
    "4",
    "5",
    "-5",
    "17",
    "29",
    "1125899906842624",
    "1125899906842623",
];

/// The server's answer to one message, and the phrase it logs.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The bytes sent back: `T\n`, `F\n` or `E\n`.
    pub reply: &'static [u8],
    /// The course's phrase for the log, such as `'17' est un nombre premier`.
    pub phrase: String,
}

/// The course's `try: number = int(data) … if isprime(number)` for one
/// message (a line without its end, or a whole datagram).
pub fn judge(message: &[u8]) -> Verdict {
    let not_prime = |text: &dyn fmt::Display| Verdict {
        reply: b"F\n",
        phrase: format!("'{text}' n'est pas un nombre premier"),
    };
    match number::parse(message) {
        Number::Unsigned(n) if primality::is_prime(n) => Verdict {
            reply: b"T\n",
            phrase: format!("'{n}' est un nombre premier"),
        },
        Number::Unsigned(n) => not_prime(&n),
        Number::Negative(text) => not_prime(&text),
        Number::TooLarge(text) => Verdict {
            reply: b"E\n",
            phrase: format!(
                "'{}' est trop grand : au-delà de 2^64 - 1 = {}, ce serveur ne sait pas répondre",
                shorten(text.as_bytes()),
                u64::MAX
            ),
        },
        Number::NotInteger => Verdict {
            reply: b"E\n",
            phrase: format!("'{}' n'est pas un entier", shorten(message)),
        },
    }
}

/// The answer to a line longer than [`MAX_LINE`].
pub fn judge_too_long() -> Verdict {
    Verdict {
        reply: b"E\n",
        phrase: format!(
            "ligne de plus de {MAX_LINE} octets : pas un entier, ignorée jusqu'à sa fin"
        ),
    }
}

/// How a client reads the server's answer: the course's `if data == b'E\n'`
/// chain, as the line it prints (with the course's leading tab).
pub fn reading(answer: &[u8]) -> String {
    match answer {
        b"" => "\tPas de réponses".to_string(),
        b"E\n" => "\tUne erreur est détectée par le serveur".to_string(),
        b"T\n" => "\tLe nombre est bien un nombre premier".to_string(),
        b"F\n" => "\tLe nombre n'est pas un nombre premier".to_string(),
        other => format!("\tLa donnée reçue n'est pas comprise : {}", Shown(other)),
    }
}

/// Bytes shown as Python shows them in the course's logs: `b'4j\n'`.
pub struct Shown<'a>(pub &'a [u8]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Long data is cut: a log line stays readable.
        let cut = self.0.len() > SHOWN_MAX;
        let bytes = &self.0[..self.0.len().min(SHOWN_MAX)];
        write!(f, "b'{}'", bytes.escape_ascii())?;
        if cut {
            write!(f, "… ({} octets)", self.0.len())?;
        }
        Ok(())
    }
}

/// How many bytes of a message a log line shows.
const SHOWN_MAX: usize = 60;

/// The text of a message for a phrase: invalid UTF-8 and control bytes
/// escaped, long text cut.
fn shorten(message: &[u8]) -> String {
    let shown = &message[..message.len().min(SHOWN_MAX)];
    let mut text: String = String::from_utf8_lossy(shown).escape_debug().collect();
    if message.len() > SHOWN_MAX {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_list_gets_the_course_answers() {
        let replies: Vec<&[u8]> = COURSE_LIST
            .iter()
            .map(|t| judge(t.as_bytes()).reply)
            .collect();
        let expected: Vec<&[u8]> = vec![
            b"E\n", b"F\n", b"T\n", b"F\n", b"T\n", b"T\n", b"F\n", b"F\n",
        ];
        assert_eq!(replies, expected);
    }

    #[test]
    fn the_course_phrases() {
        assert_eq!(judge(b"17").phrase, "'17' est un nombre premier");
        assert_eq!(judge(b"4").phrase, "'4' n'est pas un nombre premier");
        assert_eq!(judge(b"4j").phrase, "'4j' n'est pas un entier");
        assert_eq!(judge(b"-5").phrase, "'-5' n'est pas un nombre premier");
        assert_eq!(
            judge(b" 1_000 ").phrase,
            "'1000' n'est pas un nombre premier"
        );
    }

    #[test]
    fn limits_of_the_convention() {
        assert_eq!(judge(b"18446744073709551557").reply, b"T\n");
        let too_large = judge(b"18446744073709551616");
        assert_eq!(too_large.reply, b"E\n");
        assert!(too_large.phrase.contains("trop grand"));
        let minus_huge = format!("-{}", "7".repeat(300));
        assert_eq!(judge(minus_huge.as_bytes()).reply, b"F\n");
        assert_eq!(judge(b"").reply, b"E\n");
        assert_eq!(
            judge(b"\xff\xfe\x00").phrase,
            "'\u{fffd}\u{fffd}\\0' n'est pas un entier"
        );
        assert_eq!(judge_too_long().reply, b"E\n");
    }

    #[test]
    fn the_client_reads_answers_like_the_course() {
        assert_eq!(reading(b"T\n"), "\tLe nombre est bien un nombre premier");
        assert_eq!(reading(b""), "\tPas de réponses");
        assert_eq!(reading(b"T"), "\tLa donnée reçue n'est pas comprise : b'T'");
        assert_eq!(
            reading(b"\xffok\n"),
            "\tLa donnée reçue n'est pas comprise : b'\\xffok\\n'"
        );
    }
}
