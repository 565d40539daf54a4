//! [`LineReceiver`]: lines out of a byte stream (Twisted's
//! `twisted.protocols.basic.LineReceiver`).
//!
//! TCP delivers bytes, not messages: one read may hold half a line, or
//! three lines and a half. The receiver keeps the unfinished end of a read
//! and hands the protocol whole lines, one [`LineProtocol::line_received`]
//! per line, without its end (`\n` or `\r\n`).

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
    /// `lineLengthExceeded`); `line` is what was received of it. By
    /// default the connection is closed. The rest of that read is dropped.
    fn line_length_exceeded(&mut self, transport: &Transport, line: &[u8]) {
        let _ = line;
        transport.lose_connection();
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
/// are not delivered, as in Twisted.
pub struct LineReceiver<P> {
    inner: P,
    /// The start of a line whose end has not come yet.
    buffer: Vec<u8>,
    max_length: usize,
}

impl<P: LineProtocol> LineReceiver<P> {
    /// Wraps `inner`, with lines of at most [`MAX_LINE_LENGTH`] bytes.
    pub fn new(inner: P) -> LineReceiver<P> {
        LineReceiver {
            inner,
            buffer: Vec::new(),
            max_length: MAX_LINE_LENGTH,
        }
    }

    /// Sets the longest line accepted, its end not counted.
    pub fn with_max_length(mut self, max_length: usize) -> LineReceiver<P> {
        self.max_length = max_length;
        self
    }

    /// The wrapped protocol.
    pub fn get_ref(&self) -> &P {
        &self.inner
    }

    /// Hands one line to the protocol; false when the rest of the read
    /// must be dropped (closing, or a line too long).
    fn deliver(&mut self, transport: &Transport, line: &[u8]) -> bool {
        if transport.is_disconnecting() {
            return false;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.max_length {
            self.inner.line_length_exceeded(transport, line);
            return false;
        }
        self.inner.line_received(transport, line);
        true
    }

    fn too_long(&mut self, transport: &Transport, start: &[u8]) {
        self.inner.line_length_exceeded(transport, start);
        self.buffer.clear();
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
        let mut rest = data;
        // 1. Finish the line an earlier read started.
        if !self.buffer.is_empty() {
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                self.buffer.extend_from_slice(rest);
                // `+ 1`: a line of the maximum length may wait for the `\n`
                // of its `\r\n`.
                if self.buffer.len() > self.max_length + 1 {
                    let start = std::mem::take(&mut self.buffer);
                    self.too_long(transport, &start);
                }
                return;
            };
            self.buffer.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let line = std::mem::take(&mut self.buffer);
            let go_on = self.deliver(transport, &line);
            // Give the buffer back, emptied, to reuse its memory.
            self.buffer = line;
            self.buffer.clear();
            if !go_on {
                return;
            }
        }
        // 2. Whole lines inside this read: handed over without a copy.
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let line = &rest[..end];
            rest = &rest[end + 1..];
            if !self.deliver(transport, line) {
                return;
            }
        }
        // 3. The start of the next line waits for the next read.
        if rest.len() > self.max_length + 1 {
            self.too_long(transport, rest);
        } else {
            self.buffer.extend_from_slice(rest);
        }
    }

    fn connection_lost(&mut self, reason: Reason) {
        self.inner.connection_lost(reason);
    }
}

impl Transport {
    /// Writes `line` then `\r\n` (Twisted's `LineReceiver.sendLine`), in
    /// one piece.
    pub fn send_line(&self, line: &[u8]) {
        self.write_pair(line, b"\r\n");
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
        fn line_length_exceeded(&mut self, transport: &Transport, _line: &[u8]) {
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
    fn lines_split_and_joined_across_reads_in_every_chunk_size() {
        let input = b"hello\r\nwrite: a b\n\n\r\nlast\r\nunfinished";
        let want: Vec<&[u8]> = vec![b"hello", b"write: a b", b"", b"", b"last"];
        for chunk in 1..=9 {
            let (receiver, t) = feed(input, chunk, MAX_LINE_LENGTH);
            assert_eq!(receiver.get_ref().seen, want, "chunks of {chunk} bytes");
            assert_eq!(t.value(), b"5\r\n10\r\n0\r\n0\r\n4\r\n");
            assert_eq!(receiver.buffer, b"unfinished");
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
            assert!(receiver.buffer.len() <= 11);
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
