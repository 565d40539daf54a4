//! The little of telnet (RFC 854) a game needs: ask for character mode,
//! and tell keys from the commands a telnet client sends besides them.
//!
//! A telnet client starts in line mode: it echoes what is typed itself and
//! sends a whole line on Enter. The server asks for character mode with
//! two offers, [`CHARACTER_MODE`]: "I will echo" (`IAC WILL ECHO`: the
//! client stops echoing, and since we echo nothing, keys do not show) and
//! "I will suppress go-ahead" (`IAC WILL SUPPRESS-GO-AHEAD`: a full-duplex
//! line). Linux's `telnet` then sends each key as it is pressed.
//!
//! What comes back is keys mixed with commands, each starting with the
//! byte `IAC` (255):
//!
//! | bytes                          | meaning                                  |
//! |--------------------------------|------------------------------------------|
//! | `IAC DO/DONT/WILL/WONT option` | option negotiation (3 bytes)             |
//! | `IAC SB option … IAC SE`       | a sub-negotiation (the terminal's name…) |
//! | `IAC IAC`                      | the data byte 255                        |
//! | `IAC x`, any other `x`         | a command: `IP` (Ctrl-C), `NOP`, `GA`…   |
//! | `\r\n`, `\r\0`                 | Enter (NVT end of line, carriage return) |
//!
//! [`Filter`] removes all of them, whether a read cuts them in two or
//! brings several at once, and keeps the keys. It is pure: bytes in, keys
//! and answers out, no socket, tested on its own.

/// "Interpret as command": what starts every telnet command.
pub const IAC: u8 = 255;
/// `IAC DONT x`: please do not use option `x`.
pub const DONT: u8 = 254;
/// `IAC DO x`: please use option `x`.
pub const DO: u8 = 253;
/// `IAC WONT x`: I will not use option `x`.
pub const WONT: u8 = 252;
/// `IAC WILL x`: I will use option `x`.
pub const WILL: u8 = 251;
/// Starts a sub-negotiation.
pub const SB: u8 = 250;
/// "Interrupt process": what telnet sends for Ctrl-C in some modes.
pub const IP: u8 = 244;
/// Ends a sub-negotiation.
pub const SE: u8 = 240;
/// Option 1: the server echoes (RFC 857).
pub const ECHO: u8 = 1;
/// Option 3: no go-ahead signals (RFC 858).
pub const SUPPRESS_GO_AHEAD: u8 = 3;

/// The two offers that put a telnet client in character mode. `nc` shows
/// them as six stray bytes, wiped at once by the screen's clearing.
pub const CHARACTER_MODE: [u8; 6] = [IAC, WILL, ECHO, IAC, WILL, SUPPRESS_GO_AHEAD];

/// The key a telnet "interrupt process" (`IAC IP`) stands for: Ctrl-C.
pub const CTRL_C: u8 = 0x03;

/// Where the filter is in the stream; the only memory it needs between
/// two reads (a few bytes, whatever a client sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Keys.
    Data,
    /// After `\r`: a `\n` or `\0` completes it.
    CarriageReturn,
    /// After `IAC`.
    Command,
    /// After `IAC DO` (or DONT, WILL, WONT): the option comes next.
    Negotiation(u8),
    /// Inside `IAC SB … IAC SE`: everything is skipped.
    Sub,
    /// After an `IAC` inside a sub-negotiation.
    SubCommand,
}

/// Keeps the keys of a telnet stream, drops its commands (see the
/// [module page](self)).
#[derive(Clone, Debug)]
pub struct Filter {
    state: State,
}

impl Filter {
    /// A filter at the start of a connection.
    pub fn new() -> Filter {
        Filter { state: State::Data }
    }

    /// Reads `input`: pushes the keys on `keys`, and on `answers` the
    /// replies owed to the client (a refusal, `WONT` or `DONT`, for every
    /// option it asks for or offers, except the two we offered).
    pub fn feed(&mut self, input: &[u8], keys: &mut Vec<u8>, answers: &mut Vec<u8>) {
        for &byte in input {
            self.state = match (self.state, byte) {
                (State::Data | State::CarriageReturn, IAC) => State::Command,
                (State::Data | State::CarriageReturn, b'\r') => State::CarriageReturn,
                // Enter is not a key: `\r\n`, `\r\0` (telnet), `\n` (nc).
                (State::CarriageReturn, b'\n' | 0) | (State::Data, b'\n') => State::Data,
                (State::Data | State::CarriageReturn, _) => {
                    keys.push(byte);
                    State::Data
                }
                (State::Command, IAC) => {
                    keys.push(IAC); // IAC IAC: the data byte 255
                    State::Data
                }
                (State::Command, DO | DONT | WILL | WONT) => State::Negotiation(byte),
                (State::Command, SB) => State::Sub,
                (State::Command, IP) => {
                    keys.push(CTRL_C);
                    State::Data
                }
                // NOP, GA, AYT, a stray SE…: a two-byte command, skipped.
                (State::Command, _) => State::Data,
                (State::Negotiation(verb), option) => {
                    answer(verb, option, answers);
                    State::Data
                }
                (State::Sub, IAC) => State::SubCommand,
                (State::Sub, _) => State::Sub,
                (State::SubCommand, SE) => State::Data,
                (State::SubCommand, IAC) => State::Sub, // 255 inside: data
                // A malformed end: treat as the command it looks like.
                (State::SubCommand, _) => {
                    self.state = State::Command;
                    self.feed(&[byte], keys, answers);
                    self.state
                }
            };
        }
    }
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::new()
    }
}

/// What to reply to `IAC verb option`. We refuse what we did not offer;
/// `DO ECHO` and `DO SUPPRESS-GO-AHEAD` accept our offers and need no
/// reply; `DONT` and `WONT` need none either (we use no other option). A
/// reply only ever follows a request, never another reply, so two programs
/// following these rules cannot loop (RFC 854, "do not acknowledge a state
/// you are already in").
fn answer(verb: u8, option: u8, answers: &mut Vec<u8>) {
    match verb {
        DO if option != ECHO && option != SUPPRESS_GO_AHEAD => {
            answers.extend_from_slice(&[IAC, WONT, option]);
        }
        WILL => answers.extend_from_slice(&[IAC, DONT, option]),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reactor::testing::chunks;

    /// Feeds `input` in reads of `size` bytes; returns keys and answers.
    fn filter(input: &[u8], size: usize) -> (Vec<u8>, Vec<u8>) {
        let mut f = Filter::new();
        let (mut keys, mut answers) = (Vec::new(), Vec::new());
        for piece in chunks(input, size) {
            f.feed(piece, &mut keys, &mut answers);
        }
        (keys, answers)
    }

    /// Every cut of `input` gives the same keys and answers as one read.
    fn in_every_chunking(input: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let whole = filter(input, input.len());
        for size in 1..=9 {
            assert_eq!(filter(input, size), whole, "reads of {size} bytes");
        }
        whole
    }

    #[test]
    fn plain_keys_pass_through() {
        assert_eq!(in_every_chunking(b"wasde"), (b"wasde".to_vec(), vec![]));
    }

    #[test]
    fn negotiation_is_skipped_and_unknown_options_refused() {
        // What Linux's telnet answers to our offers, and more it may say:
        // DO ECHO, DO SGA (accepted, no reply), WILL TERMINAL-TYPE (24),
        // DO NAWS (31), WONT LINEMODE (34), DONT STATUS (5).
        let input = [
            b"w".as_slice(),
            &[IAC, DO, ECHO, IAC, DO, SUPPRESS_GO_AHEAD],
            b"a",
            &[IAC, WILL, 24, IAC, DO, 31],
            b"s",
            &[IAC, WONT, 34, IAC, DONT, 5],
            b"d",
        ]
        .concat();
        let (keys, answers) = in_every_chunking(&input);
        assert_eq!(keys, b"wasd");
        assert_eq!(answers, [IAC, DONT, 24, IAC, WONT, 31]);
    }

    #[test]
    fn an_option_that_looks_like_a_key_is_not_one() {
        // Option 119 is `w`, 97 is `a`, 101 is `e`: still options.
        let input = [IAC, DO, b'w', IAC, WONT, b'a', IAC, WILL, b'e', b's'];
        let (keys, answers) = in_every_chunking(&input);
        assert_eq!(keys, b"s");
        assert_eq!(answers, [IAC, WONT, b'w', IAC, DONT, b'e']);
    }

    #[test]
    fn sub_negotiations_are_skipped_whole() {
        // IAC SB TERMINAL-TYPE IS "xterm" IAC SE, then one with an escaped
        // 255 and key-like bytes inside, then IAC SB NAWS 0 80 0 24 IAC SE.
        let input = [
            b"w".as_slice(),
            &[IAC, SB, 24, 0],
            b"xterm",
            &[IAC, SE],
            b"a",
            &[IAC, SB, 99, IAC, IAC, b'w', b'a', b's', b'd', IAC, SE],
            &[IAC, SB, 31, 0, 80, 0, 24, IAC, SE],
            b"d",
        ]
        .concat();
        assert_eq!(in_every_chunking(&input), (b"wad".to_vec(), vec![]));
    }

    #[test]
    fn line_ends_and_escaped_iac_and_commands() {
        // `\r\n` and `\r\0` (Enter in telnet), `\n` (nc), IAC IAC (255),
        // NOP (241), GA (249), AYT (246), and IP (Ctrl-C as a command).
        let input = [
            b"w\r\n".as_slice(),
            b"a\r\0",
            b"s\n",
            &[IAC, IAC],
            &[IAC, 241, IAC, 249, IAC, 246],
            b"\rd",
            &[IAC, IP],
        ]
        .concat();
        let (keys, _) = in_every_chunking(&input);
        assert_eq!(keys, [b'w', b'a', b's', 255, b'd', CTRL_C]);
    }

    #[test]
    fn a_sub_negotiation_cut_short_ends_as_a_command() {
        // IAC SB 24 then IAC WILL 1 (no SE): the WILL is understood.
        let input = [IAC, SB, 24, b'x', IAC, WILL, 1, b'e'];
        assert_eq!(
            in_every_chunking(&input),
            (b"e".to_vec(), vec![IAC, DONT, 1])
        );
    }

    #[test]
    fn any_bytes_never_panic_and_keys_never_outnumber_input() {
        let mut x = 12345u32;
        let noise: Vec<u8> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Many IACs and command bytes among the rest.
                if x.is_multiple_of(3) {
                    240 + (x % 16) as u8
                } else {
                    x as u8
                }
            })
            .collect();
        let (keys, answers) = in_every_chunking(&noise);
        assert!(keys.len() <= noise.len());
        assert!(answers.len() <= noise.len());
    }
}
