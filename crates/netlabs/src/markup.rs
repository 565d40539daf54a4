//! Text made safe inside XML and SVG (`compare`'s pictures, `labcheck`'s
//! JUnit report).

use std::fmt::Write;

/// Text made safe inside XML, in an attribute or an element: the five
/// special characters escaped, line ends kept as `&#10;`, and the control
/// characters XML 1.0 forbids shown as `\xNN` (bytes are shown the Python
/// way already).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_and_control_characters_are_escaped() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("l1\nl2\t\u{1}"), "l1&#10;l2&#9;\\x01");
        assert_eq!(escape("déjà"), "déjà");
    }
}
