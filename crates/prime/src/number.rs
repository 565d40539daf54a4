//! Reading an integer from the bytes of one message, as Python's `int()`
//! reads it in the course's `number = int(data)`.
//!
//! Accepted: spaces and tabs around, an optional `+` or `-`, ASCII decimal
//! digits with single underscores between digits (`1_000`, like Python).
//! Everything else (`4j`, `1.5`, `0x10`, an empty message) is not an
//! integer. Python's integers have no size limit; ours stop at `u64::MAX`,
//! and a larger positive number is told apart so the server can say so.

/// What one message holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Number {
    /// A non-negative integer that fits in 64 bits.
    Unsigned(u64),
    /// A negative integer, of any size, as decimal text (`-5`): never prime.
    Negative(String),
    /// A positive integer above `u64::MAX`, as decimal text.
    TooLarge(String),
    /// Not an integer at all (`4j`, `1.5`, empty…).
    NotInteger,
}

/// Reads `text` like Python's `int(text)`, with our 64-bit limit.
pub fn parse(text: &[u8]) -> Number {
    let text = trim_blanks(text);
    let (negative, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let Some(digits) = digits_of(body) else {
        return Number::NotInteger;
    };
    // Leading zeros change nothing (`007` is 7; `-0` is 0).
    let significant = digits.trim_start_matches('0');
    let digits = if significant.is_empty() {
        "0"
    } else {
        significant
    };
    if negative && digits != "0" {
        return Number::Negative(format!("-{digits}"));
    }
    match digits.parse::<u64>() {
        Ok(n) => Number::Unsigned(n),
        // Only digits are left, so the one possible failure is the size.
        Err(_) => Number::TooLarge(digits.to_string()),
    }
}

/// Spaces and tabs around the number are allowed, as in `int(" 17 ")`.
fn trim_blanks(text: &[u8]) -> &[u8] {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = text.iter().position(|b| !blank(b)).unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |i| i + 1);
    &text[start..end]
}

/// The digits of `body` without underscores, if it is one or more ASCII
/// digits with single underscores between them; `None` otherwise.
fn digits_of(body: &[u8]) -> Option<String> {
    let mut digits = String::with_capacity(body.len());
    let mut previous_was_digit = false;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                digits.push(b as char);
                previous_was_digit = true;
            }
            // An underscore must follow a digit, and be followed by one.
            b'_' if previous_was_digit => previous_was_digit = false,
            _ => return None,
        }
    }
    (previous_was_digit).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(text: &str) -> Number {
        parse(text.as_bytes())
    }

    #[test]
    fn what_python_int_accepts() {
        assert_eq!(unsigned("17"), Number::Unsigned(17));
        assert_eq!(unsigned("  17\t"), Number::Unsigned(17));
        assert_eq!(unsigned("+17"), Number::Unsigned(17));
        assert_eq!(unsigned("1_000"), Number::Unsigned(1000));
        assert_eq!(unsigned("0_7"), Number::Unsigned(7));
        assert_eq!(unsigned("007"), Number::Unsigned(7));
        assert_eq!(unsigned("0"), Number::Unsigned(0));
        assert_eq!(unsigned("-0"), Number::Unsigned(0));
        assert_eq!(unsigned("000"), Number::Unsigned(0));
        assert_eq!(unsigned("18446744073709551615"), Number::Unsigned(u64::MAX));
    }

    #[test]
    fn what_python_int_refuses() {
        for text in [
            "", " ", "4j", "1.5", "0x10", "1e3", "_1", "1_", "1__0", "+", "-", "- 5", "+-5", "--5",
            "1 2", "١٢", "17\n", "٣", "+_1", "1_ 0",
        ] {
            assert_eq!(unsigned(text), Number::NotInteger, "{text:?}");
        }
        assert_eq!(parse(b"\xff\xfe"), Number::NotInteger);
        assert_eq!(parse(b"1\x007"), Number::NotInteger);
    }

    #[test]
    fn negatives_of_any_size() {
        assert_eq!(unsigned("-5"), Number::Negative("-5".into()));
        assert_eq!(unsigned(" -0_05 "), Number::Negative("-5".into()));
        let huge = format!("-{}", "9".repeat(500));
        assert_eq!(unsigned(&huge), Number::Negative(huge.clone()));
    }

    #[test]
    fn above_64_bits_is_too_large() {
        assert_eq!(
            unsigned("18446744073709551616"),
            Number::TooLarge("18446744073709551616".into())
        );
        assert_eq!(
            unsigned("0_018_446_744_073_709_551_616"),
            Number::TooLarge("18446744073709551616".into())
        );
        assert_eq!(
            unsigned(&"1".repeat(100)),
            Number::TooLarge("1".repeat(100))
        );
        // Syntax comes first: a long non-number is not "too large".
        assert_eq!(
            unsigned(&format!("{}x", "1".repeat(100))),
            Number::NotInteger
        );
    }
}
