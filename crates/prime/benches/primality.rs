//! How long one answer takes: the course's trial division against
//! Miller–Rabin, on the numbers where it shows.
//!
//! `cargo bench -p prime` (std only, no benchmark framework: `harness =
//! false` in Cargo.toml, so this `main` runs as it is, on stable Rust).
//!
//! Miller–Rabin is timed over many calls and averaged. Trial division of a
//! large prime takes √n / 2 divisions: for `2^61 - 1` about 7.6·10^8, so it
//! runs ONCE (seconds); for `2^64 - 59` it would take about 2.1·10^9
//! divisions, so it is not run but estimated from the `2^61 - 1` run
//! (× √(2^64 / 2^61) ≈ 2.83), and the output says so.

use std::hint::black_box;
use std::time::{Duration, Instant};

use prime::primality::{is_prime, is_prime_trial};

/// The numbers of the issue: the largest prime below 2^64, a Mersenne
/// prime, and the course's `2**50 - 1` (composite: trial division stops at
/// its factor 3 at once).
const CASES: [(&str, u64); 3] = [
    ("2^64 - 59", 18_446_744_073_709_551_557),
    ("2^61 - 1", (1 << 61) - 1),
    ("2^50 - 1", (1 << 50) - 1),
];

/// How long Miller–Rabin is repeated to average out the clock's grain.
const MR_BUDGET: Duration = Duration::from_millis(300);

fn main() {
    println!(
        "temps par réponse (une seule mesure pour la division par essais d'un grand premier)\n"
    );
    println!(
        "{:<12} {:>8} {:>18} {:>26}",
        "nombre", "premier", "Miller–Rabin", "division par essais"
    );
    let mut trial_2_61 = None;
    for (name, n) in CASES {
        let mr = time_miller_rabin(n);
        let trial = if n == CASES[0].1 {
            // Not run: estimated from 2^61 - 1, measured just after.
            None
        } else {
            let started = Instant::now();
            let answer = is_prime_trial(black_box(n));
            let took = started.elapsed();
            assert_eq!(answer, is_prime(n), "both methods agree on {name}");
            Some(took)
        };
        if n == (1 << 61) - 1 {
            trial_2_61 = trial;
        }
        let trial_text = match trial {
            Some(t) => format!("{t:.2?} (1 mesure)"),
            None => "voir plus bas".to_string(),
        };
        println!(
            "{name:<12} {:>8} {:>15.0?} {trial_text:>26}",
            is_prime(n),
            mr
        );
    }
    if let Some(t) = trial_2_61 {
        let estimate = t.mul_f64((2f64).powf(1.5));
        println!(
            "\n2^64 - 59 par division par essais : non lancée (≈ 2,1·10^9 divisions) ; \
             estimée à {estimate:.1?} d'après 2^61 - 1 × √8"
        );
    }
}

/// Average time of one Miller–Rabin answer for `n`.
fn time_miller_rabin(n: u64) -> Duration {
    let started = Instant::now();
    let mut calls = 0u32;
    while started.elapsed() < MR_BUDGET {
        for _ in 0..1000 {
            black_box(is_prime(black_box(n)));
        }
        calls += 1000;
    }
    started.elapsed() / calls
}
