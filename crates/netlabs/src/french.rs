//! Numbers as French writes them, for what people read (logs, reports,
//! tables): counts with their noun in the right number, digits grouped by
//! three, a decimal comma, sizes in Mio, durations, lists.
//!
//! French puts 0 and 1 in the singular (`1 octet`, `2 octets`), writes
//! `1 048 576` and `2,5`, and ends a list with `et`.

use std::time::Duration;

/// A count in French words, for log lines: `plural(n, "aucun octet",
/// "octet", "octets")` reads `aucun octet`, `1 octet`, `2 octets`. French
/// puts 0 and 1 in the singular; `aucun`/`aucune` reads better than 0, and
/// its gender is the caller's to choose.
pub fn plural(n: u64, none: &str, one: &str, many: &str) -> String {
    match n {
        0 => none.to_string(),
        1 => format!("1 {one}"),
        _ => format!("{n} {many}"),
    }
}

/// A count of bytes in French words: `aucun octet`, `1 octet`, `2 octets`
/// (digits not grouped: log lines keep numbers a program can read back;
/// [`thousands`] groups them for a table).
pub fn octets(n: u64) -> String {
    plural(n, "aucun octet", "octet", "octets")
}

/// `1048576` → `1 048 576`: French groups digits by three with a space.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `x` with `places` digits after a decimal comma: `decimal(2.5, 1)` is
/// `2,5`.
pub fn decimal(x: f64, places: usize) -> String {
    format!("{x:.places$}").replace('.', ",")
}

/// A size in mebibytes, one decimal: `mio(1_572_864)` is `1,5 Mio`.
pub fn mio(bytes: u64) -> String {
    format!("{} Mio", decimal(bytes as f64 / (1u64 << 20) as f64, 1))
}

/// A duration as people read it: `moins d'1 ms`, `12 ms`, `2 s`, `2,5 s`.
pub fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "moins d'1 ms".into()
    } else if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", thousands((ms / 1000) as u64))
    } else {
        format!("{} s", decimal(d.as_secs_f64(), 1))
    }
}

/// `a`, `a et b`, `a, b et c`: a French list.
pub fn list<T: AsRef<str>>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} et {}", init.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_grouped_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1 000");
        assert_eq!(thousands(1_048_576), "1 048 576");
    }

    #[test]
    fn french_counts() {
        assert_eq!(octets(0), "aucun octet");
        assert_eq!(octets(1), "1 octet");
        assert_eq!(octets(2), "2 octets");
        assert_eq!(octets(884_248), "884248 octets");
        assert_eq!(
            plural(
                1,
                "aucune connexion ouverte",
                "connexion ouverte",
                "connexions ouvertes"
            ),
            "1 connexion ouverte"
        );
    }

    #[test]
    fn decimals_sizes_and_durations() {
        assert_eq!(decimal(2.5, 1), "2,5");
        assert_eq!(decimal(3.0, 0), "3");
        assert_eq!(mio(1 << 20), "1,0 Mio");
        assert_eq!(mio(3 << 19), "1,5 Mio");
        assert_eq!(seconds(Duration::from_micros(10)), "moins d'1 ms");
        assert_eq!(seconds(Duration::from_millis(12)), "12 ms");
        assert_eq!(seconds(Duration::from_secs(2)), "2 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2,5 s");
    }

    #[test]
    fn lists_end_with_et() {
        assert_eq!(list::<&str>(&[]), "");
        assert_eq!(list(&["a"]), "a");
        assert_eq!(list(&["a", "b"]), "a et b");
        assert_eq!(list(&["a", "b", "c"]), "a, b et c");
    }
}
