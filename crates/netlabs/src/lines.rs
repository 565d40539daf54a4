//! Cutting a TCP byte stream into lines.
//!
//! TCP carries a stream of bytes, not a sequence of messages: one `recv`
//! may return two lines, half a line, or a line and a half, depending on
//! how the sender wrote them and how the network cut them. The course's
//! server takes one `recv` for one message; that works on a quiet loopback
//! and fails as soon as two numbers travel together. So we frame: a message
//! is a line, ended by `\n` (a `\r` before it is dropped too), and we keep
//! the bytes of an unfinished line until the rest arrives.
//!
//! A line may not grow without limit: past `max` bytes (its end not
//! counted) it is reported once as [`Line::TooLong`] and the rest of it,
//! up to its `\n`, is skipped. Memory stays bounded by `max` plus one read.
//!
//! When the peer closes, [`LineBuffer::finish`] ends a last line sent
//! without its `\n` (`printf 17 | nc -N`): it then follows the same rules
//! as every other line.
//!
//! Used by the line servers of chapter 2.2, `prime-server` (1024 bytes a
//! line) and `kv-server` (64 KiB), and under the reactor's `LineReceiver`.

/// One framed message.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A whole line, without its `\n` or `\r\n`.
    Complete(&'a [u8]),
    /// A line longer than the limit: answer it once; its rest is skipped.
    TooLong,
}

/// The bytes received but not yet cut into lines.
#[derive(Debug)]
pub struct LineBuffer {
    max: usize,
    pending: Vec<u8>,
    /// Where the next line starts in `pending`.
    start: usize,
    /// How far from `start` we already looked for `\n` (so that a long line
    /// arriving byte by byte is not scanned again and again).
    searched: usize,
    /// True while skipping the rest of a line already reported too long.
    skipping: bool,
}

impl LineBuffer {
    /// A buffer for lines of at most `max` bytes, their end not counted.
    pub fn new(max: usize) -> LineBuffer {
        LineBuffer {
            max,
            pending: Vec::new(),
            start: 0,
            searched: 0,
            skipping: false,
        }
    }

    /// Adds the bytes of one read.
    pub fn push(&mut self, data: &[u8]) {
        // Drop the lines already handed out before growing the buffer.
        if self.start > 0 {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        self.pending.extend_from_slice(data);
    }

    /// The next line, if a whole one (or a too-long one) is there.
    pub fn next_line(&mut self) -> Option<Line<'_>> {
        loop {
            let rest = &self.pending[self.start..];
            match rest[self.searched..].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let end = self.start + self.searched + i;
                    let begin = self.start;
                    self.start = end + 1;
                    self.searched = 0;
                    if self.skipping {
                        // The end of the line already answered: skip it.
                        self.skipping = false;
                        continue;
                    }
                    let mut line = &self.pending[begin..end];
                    if let Some(stripped) = line.strip_suffix(b"\r") {
                        line = stripped;
                    }
                    if line.len() > self.max {
                        return Some(Line::TooLong);
                    }
                    return Some(Line::Complete(line));
                }
                None if self.skipping => {
                    // Still inside a too-long line: forget what came.
                    self.pending.clear();
                    self.start = 0;
                    self.searched = 0;
                    return None;
                }
                // `max + 1`: the last byte may be the `\r` of a `\r\n`.
                None if rest.len() > self.max + 1 => {
                    self.skipping = true;
                    self.pending.clear();
                    self.start = 0;
                    self.searched = 0;
                    return Some(Line::TooLong);
                }
                None => {
                    self.searched = rest.len();
                    return None;
                }
            }
        }
    }

    /// The stream ended (the peer closed): a last line cut without its
    /// `\n` is ended as if the `\n` had come, so that [`next_line`] gives
    /// it under the rules of every other line: its `\r` dropped, its
    /// length checked. The rest of a line already reported too long stays
    /// skipped.
    ///
    /// [`next_line`]: LineBuffer::next_line
    pub fn finish(&mut self) {
        if self.pending.len() > self.start {
            self.push(b"\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in chunks of `size` bytes and collects what comes out.
    fn frame(input: &[u8], size: usize, max: usize) -> Vec<Option<Vec<u8>>> {
        let mut buffer = LineBuffer::new(max);
        let mut out = Vec::new();
        for chunk in input.chunks(size) {
            buffer.push(chunk);
            take_lines(&mut buffer, &mut out);
        }
        out
    }

    /// Every line ready in `buffer`, a too-long one as `None`.
    fn take_lines(buffer: &mut LineBuffer, out: &mut Vec<Option<Vec<u8>>>) {
        while let Some(line) = buffer.next_line() {
            out.push(match line {
                Line::Complete(l) => Some(l.to_vec()),
                Line::TooLong => None,
            });
        }
    }

    fn some(text: &str) -> Option<Vec<u8>> {
        Some(text.as_bytes().to_vec())
    }

    #[test]
    fn lines_joined_or_split_in_any_way_come_out_the_same() {
        let input = b"4j\n4\r\n5\n\n-5\n17\n";
        let expected = vec![
            some("4j"),
            some("4"),
            some("5"),
            some(""),
            some("-5"),
            some("17"),
        ];
        for size in 1..=input.len() {
            assert_eq!(frame(input, size, 1024), expected, "chunks of {size}");
        }
    }

    #[test]
    fn a_too_long_line_is_reported_once_and_skipped() {
        let mut input = vec![b'7'; 5 * 1024];
        input.extend_from_slice(b"\n17\n");
        for size in [1, 7, 1000, 1500, 1_000_000] {
            assert_eq!(
                frame(&input, size, 1024),
                vec![None, some("17")],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn the_limit_does_not_count_the_line_end() {
        let mut exact = vec![b'1'; 1024];
        exact.extend_from_slice(b"\r\n");
        for size in [1, 3, 1025, 2000] {
            assert_eq!(frame(&exact, size, 1024).len(), 1);
            assert!(frame(&exact, size, 1024)[0].is_some(), "chunks of {size}");
        }
        let mut over = vec![b'1'; 1025];
        over.push(b'\n');
        for size in [1, 1025, 2000] {
            assert_eq!(frame(&over, size, 1024), vec![None], "chunks of {size}");
        }
    }

    #[test]
    fn memory_stays_bounded_on_an_endless_line() {
        let mut buffer = LineBuffer::new(1024);
        let chunk = [b'x'; 1500];
        let mut too_long = 0;
        for _ in 0..1000 {
            buffer.push(&chunk);
            while let Some(line) = buffer.next_line() {
                assert_eq!(line, Line::TooLong);
                too_long += 1;
            }
            assert!(buffer.pending.len() <= 1024 + 1 + chunk.len());
        }
        assert_eq!(too_long, 1);
    }

    /// Feeds `input`, then ends the stream as a peer's close does.
    fn frame_then_close(input: &[u8], max: usize) -> Vec<Option<Vec<u8>>> {
        let mut buffer = LineBuffer::new(max);
        let mut out = Vec::new();
        buffer.push(input);
        take_lines(&mut buffer, &mut out);
        buffer.finish();
        take_lines(&mut buffer, &mut out);
        out
    }

    #[test]
    fn an_unfinished_line_waits_for_its_end() {
        let mut buffer = LineBuffer::new(10);
        buffer.push(b"12\n3");
        assert_eq!(buffer.next_line(), Some(Line::Complete(b"12")));
        assert_eq!(buffer.next_line(), None);
        buffer.push(b"4\n");
        assert_eq!(buffer.next_line(), Some(Line::Complete(b"34")));
    }

    #[test]
    fn the_last_line_cut_by_the_close_follows_the_rules_of_every_line() {
        assert_eq!(
            frame_then_close(b"4\n17", 1024),
            vec![some("4"), some("17")]
        );
        // Its `\r` is dropped, as before a `\n`.
        assert_eq!(frame_then_close(b"SET k v\r", 1024), vec![some("SET k v")]);
        // Its length is checked: one byte over the limit is too long, with
        // or without its `\n`.
        let mut over = b"17".to_vec();
        over.resize(1025, b' ');
        assert_eq!(frame_then_close(&over, 1024), vec![None]);
        over.push(b'\n');
        assert_eq!(frame_then_close(&over, 1024), vec![None]);
        // A line already reported too long is not reported again.
        assert_eq!(frame_then_close(&[b'x'; 3000], 1024), vec![None]);
        // Nothing after the last `\n`: no line more.
        assert_eq!(frame_then_close(b"4\n", 1024), vec![some("4")]);
        assert_eq!(frame_then_close(b"", 1024), vec![]);
    }
}
