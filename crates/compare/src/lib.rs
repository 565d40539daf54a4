//! `compare`: the four echo servers of TP5b side by side, measured from
//! outside, as one table and two pictures (the binary is `src/main.rs`).
//!
//! - [`server`]: start a server on a free port through a guard that kills it
//!   if compare dies; read its CPU, threads and memory in `/proc`;
//! - [`load`]: the load generator, C clients in one thread with `epoll`
//!   (`poll` off Linux), every echo checked, measured in short rounds; and
//!   the "who is served when" run;
//! - [`busy`]: what else took CPU during the measurement;
//! - [`report`]: the Markdown table and its notes; [`pictures`]: the two
//!   SVG pictures.
//!
//! The benchmark `cargo bench -p compare` (10 000 connections, one bulk
//! transfer) uses these same pieces.

pub mod busy;
pub mod load;
pub mod pictures;
pub mod report;
pub mod server;

use std::time::Duration;

/// The echo servers of TP5b, in the course's order: binary name, the short
/// names `--models` also accepts, and the model in a few words.
pub const MODELS: [(&str, &[&str], &str); 4] = [
    (
        "echo-server",
        &["bloquant", "blocking"],
        "bloquant, un client à la fois",
    ),
    (
        "echo-thread-server",
        &["thread", "threads"],
        "un thread par client",
    ),
    (
        "echo-poll-server",
        &["poll", "select"],
        "un thread, poll(2)",
    ),
    (
        "echo-reactor-server",
        &["reactor", "réacteur", "reacteur"],
        "le réacteur à la Twisted",
    ),
];

/// The largest C accepted: each client is a descriptor on both sides.
pub const MAX_CLIENTS: usize = 20_000;

/// The largest message accepted (the servers' backpressure bound is 1 MiB).
pub const MAX_SIZE: usize = 1 << 20;

/// The longest step accepted, in seconds.
pub const MAX_DURATION: f64 = 3600.0;

/// `--clients 1,10,100`: positive whole numbers, sorted, without repeats.
pub fn parse_clients(text: &str) -> Result<Vec<usize>, String> {
    let mut list = Vec::new();
    for item in text.split(',') {
        let n: usize = item.trim().parse().map_err(|_| {
            format!("--clients attend des nombres séparés par des virgules, comme 1,10,100 (reçu « {text} »)")
        })?;
        if n == 0 || n > MAX_CLIENTS {
            return Err(format!(
                "--clients : chaque nombre va de 1 à {MAX_CLIENTS} (reçu {n})"
            ));
        }
        list.push(n);
    }
    list.sort_unstable();
    list.dedup();
    Ok(list)
}

/// `--duration 3`, `0.5` or `0,5`: seconds, more than 0.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let secs: f64 =
        text.trim().replace(',', ".").parse().map_err(|_| {
            format!("--duration attend des secondes, comme 3 ou 0,5 (reçu « {text} »)")
        })?;
    if !(secs > 0.0 && secs <= MAX_DURATION) {
        return Err(format!(
            "--duration : entre 0 (exclu) et {MAX_DURATION} secondes (reçu {text})"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `--size 64`: bytes per message, 1 to [`MAX_SIZE`].
pub fn parse_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_SIZE).contains(&n) => Ok(n),
        _ => Err(format!(
            "--size attend un nombre d'octets de 1 à {MAX_SIZE} (reçu « {text} »)"
        )),
    }
}

/// `--models poll,echo-thread-server`: binary names or short names, in the
/// order given, without repeats; `aucun` for none (only `--target` servers).
pub fn parse_models(text: &str) -> Result<Vec<&'static str>, String> {
    let mut list = Vec::new();
    if text.trim() == "aucun" {
        return Ok(list);
    }
    for item in text.split(',').map(str::trim) {
        let found = MODELS
            .iter()
            .find(|(name, short, _)| *name == item || short.contains(&item));
        match found {
            Some((name, _, _)) if !list.contains(name) => list.push(*name),
            Some(_) => {}
            None => {
                return Err(format!(
                    "--models : modèle inconnu « {item} » ; au choix : bloquant, thread, poll, reactor (ou echo-server, echo-thread-server, echo-poll-server, echo-reactor-server)"
                ));
            }
        }
    }
    Ok(list)
}

/// A server compare did not start: `--target NAME=HOST:PORT`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub name: String,
    pub host: String,
    pub port: u16,
}

/// `--target python=127.0.0.1:8000`, `--target t=[::1]:8000`,
/// `--target t=localhost:8000`.
pub fn parse_target(text: &str) -> Result<Target, String> {
    let bad =
        || format!("--target attend NOM=HÔTE:PORT, comme python=127.0.0.1:8000 (reçu « {text} »)");
    let (name, address) = text.split_once('=').ok_or_else(bad)?;
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    let name = name.trim();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || host.is_empty() {
        return Err(bad());
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Target {
            name: name.to_string(),
            host: host.to_string(),
            port,
        }),
        _ => Err(format!(
            "--target : le port va de 1 à 65535 (reçu « {port} » dans « {text} »)"
        )),
    }
}

/// The machine the figures come from: `2 cœurs, Intel Xeon …, linux`.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "processeur inconnu".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cœurs, {cpu}, {}", std::env::consts::OS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_lists() {
        assert_eq!(parse_clients("1,10,100,1000").unwrap(), [1, 10, 100, 1000]);
        assert_eq!(parse_clients("100, 1,1").unwrap(), [1, 100]);
        for bad in ["", "1,,2", "0", "1,0", "x", "-1", "1;2", "20001", "1.5"] {
            assert!(parse_clients(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_sizes() {
        assert_eq!(parse_duration("0,5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        for bad in ["0", "-1", "x", "nan", "inf", "4000", ""] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_size("64").unwrap(), 64);
        for bad in ["0", "-3", "2000000", "x"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn models_long_and_short() {
        assert_eq!(
            parse_models("bloquant,echo-poll-server,poll,réacteur").unwrap(),
            ["echo-server", "echo-poll-server", "echo-reactor-server"]
        );
        assert!(parse_models("poll,nginx").unwrap_err().contains("nginx"));
        assert!(parse_models("").is_err());
        assert!(parse_models("aucun").unwrap().is_empty());
    }

    #[test]
    fn targets() {
        let t = parse_target("python=127.0.0.1:8000").unwrap();
        assert_eq!(
            (t.name.as_str(), t.host.as_str(), t.port),
            ("python", "127.0.0.1", 8000)
        );
        let t = parse_target("v6=[::1]:9").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9));
        for bad in [
            "python",
            "=127.0.0.1:1",
            "p=127.0.0.1",
            "p=:80",
            "p=h:0",
            "p=h:70000",
            "p=h:x",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?}");
        }
    }
}
