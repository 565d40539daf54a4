//! Is `n` prime? Two answers: the course's trial division, and the
//! deterministic Miller–Rabin test the servers use.
//!
//! The course's `isprime` tries every odd divisor up to √n: fine for the
//! numbers of its list, but `2^61 - 1` (a prime) takes about a billion
//! divisions, seconds of CPU while the client waits. Miller–Rabin answers
//! any 64-bit number with at most twelve modular exponentiations: a few
//! microseconds. `cargo bench -p prime` shows both.

/// The first twelve primes. Miller–Rabin with exactly these bases is proven
/// to give no false answer for any n < 3.317·10^24 (Sorenson and Webster,
/// 2015), far above `u64::MAX` ≈ 1.8·10^19: the test is exact, not
/// probabilistic, for every `u64`.
const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

/// True when `n` is prime: deterministic Miller–Rabin, exact for every u64.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    // Small divisors first: they settle most numbers at once, and the
    // bases themselves are prime.
    for p in BASES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    // Here n is odd and > 37. Write n - 1 = d · 2^s with d odd.
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    BASES.iter().all(|&a| passes_round(n, a, d, s))
}

/// One Miller–Rabin round with base `a`: false proves `n` composite
/// (`a` is a witness); true means `n` is a strong probable prime to base `a`.
fn passes_round(n: u64, a: u64, d: u64, s: u32) -> bool {
    let mut x = pow_mod(a, d, n);
    if x == 1 || x == n - 1 {
        return true;
    }
    for _ in 1..s {
        x = mul_mod(x, x, n);
        if x == n - 1 {
            return true;
        }
    }
    false
}

/// `a · b mod m` without overflow: the product of two u64 fits in a u128.
fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((a as u128 * b as u128) % m as u128) as u64
}

/// `base^exp mod m` by repeated squaring (Python's `pow(base, exp, m)`).
fn pow_mod(mut base: u64, mut exp: u64, m: u64) -> u64 {
    let mut result = 1 % m;
    base %= m;
    while exp > 0 {
        if exp & 1 == 1 {
            result = mul_mod(result, base, m);
        }
        base = mul_mod(base, base, m);
        exp >>= 1;
    }
    result
}

/// The course's `isprime`, line by line: trial division by 2, then by every
/// odd x from 3 while x ≤ √n. Exact but slow for large primes (√n steps).
pub fn is_prime_trial(n: u64) -> bool {
    // negative numbers, 0 and 1 are not primes
    if n < 2 {
        return false;
    }
    // 2 is the only even prime number
    if n == 2 {
        return true;
    }
    // all other even numbers are not primes
    if n & 1 == 0 {
        return false;
    }
    // odd divisors from 3 up to the square root; `x <= n / x` is `x*x <= n`
    // without overflow (Python's `int(n**0.5)` goes through a float and can
    // be off by one for numbers above 2^52).
    let mut x = 3;
    while x <= n / x {
        if n.is_multiple_of(x) {
            return false;
        }
        x += 2;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny xorshift64 generator: reproducible "random" numbers, std only.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn agrees_with_trial_division_below_ten_thousand() {
        for n in 0..10_000 {
            assert_eq!(is_prime(n), is_prime_trial(n), "{n}");
        }
    }

    #[test]
    fn agrees_with_trial_division_on_random_values_below_ten_million() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200_000 {
            let n = rng.next() % 10_000_000;
            assert_eq!(is_prime(n), is_prime_trial(n), "{n}");
        }
        // Odd numbers only, where the real work is.
        for _ in 0..100_000 {
            let n = (rng.next() % 10_000_000) | 1;
            assert_eq!(is_prime(n), is_prime_trial(n), "{n}");
        }
    }

    #[test]
    fn agrees_with_trial_division_on_random_values_up_to_2_pow_40() {
        // √(2^40) = 2^20 divisions at most: fast enough for a few hundred.
        let mut rng = XorShift(12345);
        for _ in 0..300 {
            let n = (rng.next() >> 24) | 1;
            assert_eq!(is_prime(n), is_prime_trial(n), "{n}");
        }
    }

    #[test]
    fn known_primes() {
        let primes = [
            2,
            3,
            5,
            37,
            41,
            7919,
            2_147_483_647,              // 2^31 - 1
            1_125_899_906_842_597,      // largest prime below 2^50
            2_305_843_009_213_693_951,  // 2^61 - 1
            18_446_744_073_709_551_557, // 2^64 - 59, largest prime in a u64
            4_294_967_291,              // largest prime below 2^32
            9_223_372_036_854_775_783,  // largest prime below 2^63
        ];
        for p in primes {
            assert!(is_prime(p), "{p} is prime");
        }
    }

    #[test]
    fn known_composites_of_the_course() {
        assert!(!is_prime(1 << 50));
        assert!(!is_prime((1 << 50) - 1)); // 3 · 11 · 31 · 251 · 601 · 1801 · 4051
        assert!(!is_prime(u64::MAX));
        assert!(!is_prime(0));
        assert!(!is_prime(1));
        assert!(!is_prime(4));
    }

    #[test]
    fn carmichael_numbers_are_composite() {
        // They fool Fermat's test for every base prime to them.
        let carmichael = [
            561,
            1105,
            1729,
            2465,
            2821,
            6601,
            8911,
            41_041,
            825_265,
            321_197_185,
            5_394_826_801,
            232_250_619_601,
            9_746_347_772_161,
        ];
        for n in carmichael {
            assert!(!is_prime(n), "{n}");
            if n < 1 << 40 {
                assert!(!is_prime_trial(n), "{n}");
            }
        }
    }

    #[test]
    fn strong_pseudoprimes_to_the_first_bases_are_composite() {
        // Each fools Miller–Rabin with the first k prime bases; with twelve
        // bases none of them can. (OEIS A014233.)
        let strong = [
            2047,                      // base 2
            1_373_653,                 // bases 2, 3
            25_326_001,                // bases 2, 3, 5
            3_215_031_751,             // bases 2, 3, 5, 7
            2_152_302_898_747,         // bases up to 11
            3_474_749_660_383,         // bases up to 13
            341_550_071_728_321,       // bases up to 17 (and 19)
            3_825_123_056_546_413_051, // bases up to 23 (and 29, 31)
        ];
        for n in strong {
            assert!(!is_prime(n), "{n}");
        }
        // Each fools its bases indeed: the test set is the right one.
        assert!(passes_round(2047, 2, 1023, 1));
    }

    #[test]
    fn products_of_two_large_primes_are_composite() {
        let p = 4_294_967_291u64; // largest prime below 2^32
        let q = 4_294_967_279u64;
        assert!(!is_prime(p * q));
        assert!(!is_prime(p * p));
    }

    #[test]
    fn pow_mod_matches_small_cases() {
        assert_eq!(pow_mod(2, 10, 1000), 24);
        assert_eq!(pow_mod(3, 0, 7), 1);
        assert_eq!(pow_mod(5, 3, 1), 0);
        assert_eq!(mul_mod(u64::MAX - 1, u64::MAX - 1, u64::MAX), 1);
    }
}
