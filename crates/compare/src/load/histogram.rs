//! Latencies counted in buckets: the p50 and p99 of the table, in memory
//! that does not grow with the length of a measurement.

use std::time::Duration;

/// Latencies counted in buckets, three significant digits of microseconds:
/// memory stays the same however long the measurement (a list of every
/// latency would grow by megabytes a second).
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

/// Buckets: 0..999 µs exactly, then 900 buckets per power of ten, up to
/// 10^9 µs (over 16 minutes).
const DECADES: usize = 6;

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; 1000 + DECADES * 900],
            total: 0,
        }
    }
}

impl Histogram {
    /// Counts one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = latency.as_micros().min(u64::MAX as u128) as u64;
        let index = Self::index(micros).min(self.counts.len() - 1);
        self.counts[index] += 1;
        self.total += 1;
    }

    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latency under which `p` % of them fall, in microseconds
    /// (`None` when there is none).
    pub fn percentile(&self, p: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(Self::value(index));
            }
        }
        Some(Self::value(self.counts.len() - 1))
    }

    fn index(micros: u64) -> usize {
        if micros < 1000 {
            return micros as usize;
        }
        let mut decade = 0;
        let mut m = micros;
        while m >= 1000 {
            m /= 10;
            decade += 1;
        }
        1000 + (decade - 1) * 900 + (m as usize - 100)
    }

    fn value(index: usize) -> u64 {
        if index < 1000 {
            return index as u64;
        }
        let decade = (index - 1000) / 900 + 1;
        let mantissa = ((index - 1000) % 900 + 100) as u64;
        mantissa * 10u64.pow(decade as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_keeps_three_digits() {
        let mut h = Histogram::default();
        for us in [5u64, 7, 25, 999, 1234, 56_789, 3_000_000] {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.count(), 7);
        assert_eq!(h.percentile(0.0), Some(5));
        assert_eq!(h.percentile(50.0), Some(999));
        assert_eq!(h.percentile(60.0), Some(1230));
        assert_eq!(h.percentile(80.0), Some(56_700));
        assert_eq!(h.percentile(100.0), Some(3_000_000));
        assert_eq!(Histogram::default().percentile(50.0), None);
        for us in [0, 999, 1000, 1999, 10_000, 999_999_999] {
            let v = Histogram::value(Histogram::index(us));
            assert!(v <= us && us - v <= us / 100, "{us} -> {v}");
        }
    }
}
