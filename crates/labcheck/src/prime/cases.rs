//! The questions of the prime checks, each with its only right answer and
//! what a wrong one means in the course's words.

/// One question, its only right answer, and what a wrong one means.
pub struct Case {
    pub ask: &'static str,
    pub want: &'static str,
    pub meaning: &'static str,
}

pub const fn case(ask: &'static str, want: &'static str, meaning: &'static str) -> Case {
    Case { ask, want, meaning }
}

pub const SMALL: &[Case] = &[
    case(
        "2",
        "T",
        "2 est premier (le seul pair) : isprime doit le dire avant d'écarter les nombres pairs — Chapitre 2.2 1.1",
    ),
    case("3", "T", "3 est premier — Chapitre 2.2 1.1"),
    case(
        "9",
        "F",
        "9 = 3 × 3 : la division doit aller jusqu'à √n compris, range(3, int(n**0.5) + 1, 2) — Chapitre 2.2 1.1",
    ),
    case(
        "25",
        "F",
        "25 = 5 × 5 : la division doit aller jusqu'à √n compris — Chapitre 2.2 1.1",
    ),
    case("4", "F", "4 = 2 × 2 n'est pas premier — Chapitre 2.2 1.1"),
    case("97", "T", "97 est premier — Chapitre 2.2 1.1"),
];

pub const NOT_PRIME: &[Case] = &[
    case("0", "F", "0 n'est pas premier (n < 2) — Chapitre 2.2 1.1"),
    case("1", "F", "1 n'est pas premier (n < 2) — Chapitre 2.2 1.1"),
    case(
        "-5",
        "F",
        "un nombre négatif n'est jamais premier (n < 2), pas de abs() — Chapitre 2.2 1.1, la liste du client",
    ),
    case(
        "-7",
        "F",
        "un nombre négatif n'est jamais premier (n < 2), pas de abs() — Chapitre 2.2 1.1",
    ),
    case(
        "-2",
        "F",
        "un nombre négatif n'est jamais premier — Chapitre 2.2 1.1",
    ),
];

/// Beyond the course (a `remarque`): a negative number wider than 64 bits,
/// which `int()` takes and C's `strtol` reports as out of range.
pub const HUGE_NEGATIVE: &[Case] = &[case(
    "-18446744073709551557",
    "F",
    "un nombre négatif n'est jamais premier, quelle que soit sa taille (en C, strtol signale ERANGE : c'est encore un entier, négatif) — Chapitre 2.2 1.1",
)];

pub const NOT_INTEGERS: &[Case] = &[
    case(
        "4j",
        "E",
        "4j n'est pas un entier (int() lève ValueError) : le cours répond E — Chapitre 2.2 1.1",
    ),
    case(
        "abc",
        "E",
        "abc n'est pas un entier : réponse E — Chapitre 2.2 1.1",
    ),
    case(
        "1.5",
        "E",
        "1.5 n'est pas un entier (int('1.5') échoue) : réponse E — Chapitre 2.2 1.1",
    ),
    case(
        "",
        "E",
        "une ligne vide n'est pas un entier : réponse E — Chapitre 2.2 1.1",
    ),
    case(
        "0x11",
        "E",
        "int() refuse 0x11 : réponse E — Chapitre 2.2 1.1",
    ),
];

pub const LIKE_INT: &[Case] = &[
    case(
        "  17  ",
        "T",
        "int() accepte les espaces autour : '  17  ' est 17, premier — Chapitre 2.2 1.1",
    ),
    case(
        "+29",
        "T",
        "int() accepte le signe + : 29 est premier — Chapitre 2.2 1.1",
    ),
    case(
        "\t5",
        "T",
        "int() accepte une tabulation devant : 5 est premier — Chapitre 2.2 1.1",
    ),
];

/// Beyond the course: Python's int() takes `1_000`, which a C or Rust
/// parser need not (a `remarque`, failing only with --strict).
pub const UNDERSCORES: &[Case] = &[case(
    "1_000",
    "F",
    "int() de Python accepte 1_000 (mille, pas premier) ; c'est une particularité de Python, au-delà du protocole du cours — Chapitre 2.2 1.1",
)];

pub const COURSE_LIST: &[Case] = &[
    case("4", "F", "4 n'est pas premier — Chapitre 2.2 1.1"),
    case("5", "T", "5 est premier — Chapitre 2.2 1.1"),
    case("17", "T", "17 est premier — Chapitre 2.2 1.1"),
    case("29", "T", "29 est premier — Chapitre 2.2 1.1"),
    case(
        "1125899906842624",
        "F",
        "2**50 n'est pas premier — Chapitre 2.2 1.1",
    ),
    case(
        "1125899906842623",
        "F",
        "2**50 - 1 n'est pas premier (divisible par 3) — Chapitre 2.2 1.1",
    ),
];

pub const NEAR_2_64: &[Case] = &[
    case(
        "18446744073709551557",
        "T",
        "18446744073709551557, le plus grand premier sous 2**64 : la réponse doit venir tout de suite, exacte (Miller–Rabin déterministe ; la division jusqu'à √n prend des heures ici, et un float perd les derniers chiffres) — Chapitre 2.2 1.1",
    ),
    case(
        "18446744073709551615",
        "F",
        "2**64 - 1 = 3 × 5 × 17 × 257 × 641 × 65537 × 6700417 n'est pas premier : un float (n**0.5, float(n)) perd les derniers chiffres — Chapitre 2.2 1.1",
    ),
    case(
        "18446744030759878681",
        "F",
        "4294967291² n'est pas premier : √n se calcule en entiers (math.isqrt), pas en float — Chapitre 2.2 1.1",
    ),
    case(
        "18446743979220271189",
        "F",
        "4294967279 × 4294967291 n'est pas premier — Chapitre 2.2 1.1",
    ),
    case(
        "18446744073709551533",
        "T",
        "18446744073709551533 est premier — Chapitre 2.2 1.1",
    ),
];
