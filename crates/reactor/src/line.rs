//! [`LineReceiver`]: lines out of a byte stream (Twisted's
//! `twisted.protocols.basic.LineReceiver`).
//!
//! TCP delivers bytes, not messages: one read may hold half a line, or
//! three lines and a half. The framing itself is `netlabs::lines`, the one
//! the blocking line servers use; this file only adapts it to Twisted's
//! shape: a [`LineProtocol`] is handed whole lines, one
//! [`LineProtocol::line_received`] per line, without its end (`\n` or
//! `\r\n`).

use netlabs::lines::{Line, LineBuffer};

use crate::{Protocol, Reason, Transport};

/// Twisted's `LineReceiver.MAX_LENGTH`: a longer line closes the connection.
pub const MAX_LINE_LENGTH: usize = 16384;

/// What to do with each line (the methods a Twisted `LineReceiver`
/// subclass overrides). Wrap it in a [`LineReceiver`] to get a
/// [`Protocol`].
pub trait LineProtocol {
    /// The connection is open (Twisted's `connectionMade`).
    fn connection_made(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// One whole line came, without its `\n` or `\r\n` (Twisted's
    /// `lineReceived`).
    fn line_received(&mut self, transport: &Transport, line: &[u8]);

    /// A line longer than the maximum came (Twisted's
    /// `lineLengthExceeded`). By default the connection is closed; a
    /// protocol that keeps it open gets the lines after that one.
    fn line_length_exceeded(&mut self, transport: &Transport) {
        transport.lose_connection();
    }

    /// Every byte written has been sent (see
    /// [`Protocol::write_drained`]).
    fn write_drained(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// The connection is closed (Twisted's `connectionLost`).
    fn connection_lost(&mut self, reason: Reason) {
        let _ = reason;
    }
}

/// A [`Protocol`] that cuts the stream into lines for a [`LineProtocol`].
///
/// Lines end with `\n`; a `\r` just before it is removed too, so `\r\n`
/// (telnet, the Twisted default) and `\n` (nc, Unix) both work. Once the
/// transport is closing (after `goodbye`, say) the lines still in the read
/// are not delivered, and an unfinished last line is dropped at the close,
/// as in Twisted.
pub struct LineReceiver<P> {
    inner: P,
    lines: LineBuffer,
}

impl<P: LineProtocol> LineReceiver<P> {
    /// Wraps `inner`, with lines of at most [`MAX_LINE_LENGTH`] bytes.
    pub fn new(inner: P) -> LineReceiver<P> {
        LineReceiver {
            inner,
            lines: LineBuffer::new(MAX_LINE_LENGTH),
        }
    }

    /// Sets the longest line accepted, its end not counted.
    pub fn with_max_length(mut self, max_length: usize) -> LineReceiver<P> {
        self.lines = LineBuffer::new(max_length);
        self
    }

    /// The wrapped protocol.
    pub fn get_ref(&self) -> &P {
        &self.inner
    }
}

impl<P: LineProtocol> Protocol for LineReceiver<P> {
    fn connection_made(&mut self, transport: &Transport) {
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        if transport.is_disconnecting() {
            return; // closing: nothing more is read
        }
        self.lines.push(data);
        while let Some(line) = self.lines.next_line() {
            match line {
                Line::Complete(line) => self.inner.line_received(transport, line),
                Line::TooLong => self.inner.line_length_exceeded(transport),
            }
            if transport.is_disconnecting() {
                return; // the rest of the read is not delivered
            }
        }
    }

    fn write_drained(&mut self, transport: &Transport) {
        self.inner.write_drained(transport);
    }

    fn connection_lost(&mut self, reason: Reason) {
        self.inner.connection_lost(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{StringTransport, chunks};

    /// Records every line, and answers each with its length.
    #[derive(Default)]
    struct Lines {
        seen: Vec<Vec<u8>>,
        too_long: usize,
    }

    impl LineProtocol for Lines {
        fn line_received(&mut self, transport: &Transport, line: &[u8]) {
            self.seen.push(line.to_vec());
            transport.send_line(line.len().to_string().as_bytes());
            if line == b"quit" {
                transport.lose_connection();
            }
        }
        fn line_length_exceeded(&mut self, transport: &Transport) {
            self.too_long += 1;
            transport.lose_connection();
        }
    }

    fn feed(input: &[u8], chunk: usize, max: usize) -> (LineReceiver<Lines>, StringTransport) {
        let t = StringTransport::new();
        let mut receiver = LineReceiver::new(Lines::default()).with_max_length(max);
        receiver.connection_made(&t);
        for piece in chunks(input, chunk) {
            receiver.data_received(&t, piece);
        }
        (receiver, t)
    }

    #[test]
    fn write_drained_reaches_the_line_protocol() {
        #[derive(Default)]
        struct Drained(usize);
        impl LineProtocol for Drained {
            fn line_received(&mut self, _: &Transport, _: &[u8]) {}
            fn write_drained(&mut self, _: &Transport) {
                self.0 += 1;
            }
        }
        let t = StringTransport::new();
        let mut receiver = LineReceiver::new(Drained::default());
        receiver.write_drained(&t);
        assert_eq!(receiver.get_ref().0, 1);
    }

    #[test]
    fn lines_split_and_joined_across_reads_in_every_chunk_size() {
        let input = b"hello\r\nwrite: a b\n\n\r\nlast\r\nunfinished";
        let want: Vec<&[u8]> = vec![b"hello", b"write: a b", b"", b"", b"last"];
        for chunk in 1..=9 {
            let (receiver, t) = feed(input, chunk, MAX_LINE_LENGTH);
            assert_eq!(receiver.get_ref().seen, want, "chunks of {chunk} bytes");
            assert_eq!(t.value(), b"5\r\n10\r\n0\r\n0\r\n4\r\n");
        }
        // And everything in one read.
        let (receiver, _) = feed(input, input.len(), MAX_LINE_LENGTH);
        assert_eq!(receiver.get_ref().seen, want);
    }

    #[test]
    fn a_line_of_the_maximum_length_passes_one_byte_more_closes() {
        for chunk in [1, 3, 7, 9, 100] {
            let (receiver, t) = feed(b"12345\r\n123456\nnever\n", chunk, 5);
            assert_eq!(
                receiver.get_ref().seen,
                vec![b"12345".to_vec()],
                "chunk {chunk}"
            );
            assert_eq!(receiver.get_ref().too_long, 1);
            assert!(t.is_disconnecting());
        }
    }

    #[test]
    fn an_endless_line_is_stopped_without_waiting_for_its_end() {
        let endless = vec![b'x'; 100];
        for chunk in [1, 9, 100] {
            let (receiver, t) = feed(&endless, chunk, 10);
            assert_eq!(receiver.get_ref().too_long, 1, "chunk {chunk}");
            assert!(t.is_disconnecting());
        }
    }

    #[test]
    fn the_default_maximum_is_twisteds() {
        let mut long = vec![b'a'; MAX_LINE_LENGTH];
        long.push(b'\n');
        let (receiver, t) = feed(&long, 4096, MAX_LINE_LENGTH);
        assert_eq!(receiver.get_ref().seen.len(), 1);
        assert!(!t.is_disconnecting());
        let mut longer = vec![b'a'; MAX_LINE_LENGTH + 1];
        longer.extend_from_slice(b"\r\n");
        let (receiver, t) = feed(&longer, 4096, MAX_LINE_LENGTH);
        assert!(receiver.get_ref().seen.is_empty());
        assert!(t.is_disconnecting());
    }

    #[test]
    fn no_line_is_delivered_once_closing() {
        for chunk in 1..=9 {
            let (receiver, t) = feed(b"a\nquit\nb\nc\n", chunk, 100);
            assert_eq!(
                receiver.get_ref().seen,
                vec![b"a".to_vec(), b"quit".to_vec()]
            );
            assert_eq!(t.value(), b"1\r\n4\r\n");
        }
    }
}
