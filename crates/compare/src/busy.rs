//! Is the machine busy? What else took CPU while compare measured.
//!
//! On a machine shared with other programs (a compilation, a browser, other
//! students on the same server), the models compete for the cores with
//! them, and not equally: the thread server's hundred threads get more of a
//! contested processor than `poll`'s single one, and the ranking can turn
//! over. So compare reads, at the start and at the end of each measurement,
//! the CPU time of the server, its own, and the whole machine's
//! (`/proc/stat`, every core, steal included: time the hypervisor gave to
//! other virtual machines). What the machine spent beyond the server and
//! compare was taken by others.
//!
//! The reading is a [`Probe`] given to the load generator: in compare it
//! reads `/proc` ([`ProcProbe`]), in a test it hands out made-up figures;
//! [`Usage::others`] and [`note`] are plain arithmetic on those figures.

use std::time::Duration;

use netlabs::procfs;

/// Above this share of the machine's CPU taken by others, compare says the
/// machine is busy and that the ranking may be wrong. On 2 cores, 10 % is a
/// fifth of a core: a thread server then already gets a larger share of the
/// contested core than a single-threaded one, and the two can swap places at
/// C = 10 (seen when a compilation ran beside compare).
pub const BUSY_SHARE: f64 = 0.10;

/// CPU counters at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reading {
    /// The measured server, all its threads; `None` when it is not known (a
    /// server of another machine).
    pub server: Option<Duration>,
    /// compare itself.
    pub generator: Option<Duration>,
    /// The whole machine, every core added up.
    pub machine: Option<Machine>,
}

/// What the cores of the machine did, added up since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Machine {
    /// Working: user, nice, system, interrupts.
    pub busy: Duration,
    /// Idle, or waiting for a disk.
    pub idle: Duration,
    /// Taken by the hypervisor for other virtual machines.
    pub steal: Duration,
}

/// Reads the counters: `/proc` in compare, made-up figures in a test.
pub trait Probe {
    fn read(&mut self) -> Reading;
}

/// What one measurement cost: the difference of two readings, or the sum
/// of several measurements'.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    pub server: Option<Duration>,
    pub generator: Option<Duration>,
    pub machine: Option<Machine>,
}

impl Usage {
    /// From `before` to `after`.
    pub fn between(before: &Reading, after: &Reading) -> Usage {
        let since = |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
        let machine = match (before.machine, after.machine) {
            (Some(a), Some(b)) => Some(Machine {
                busy: b.busy.saturating_sub(a.busy),
                idle: b.idle.saturating_sub(a.idle),
                steal: b.steal.saturating_sub(a.steal),
            }),
            _ => None,
        };
        Usage {
            server: since(before.server, after.server),
            generator: since(before.generator, after.generator),
            machine,
        }
    }

    /// The two together (unknown if either is).
    pub fn add(&self, other: &Usage) -> Usage {
        let sum = |a: Option<Duration>, b: Option<Duration>| Some(a? + b?);
        let machine = match (self.machine, other.machine) {
            (Some(a), Some(b)) => Some(Machine {
                busy: a.busy + b.busy,
                idle: a.idle + b.idle,
                steal: a.steal + b.steal,
            }),
            _ => None,
        };
        Usage {
            server: sum(self.server, other.server),
            generator: sum(self.generator, other.generator),
            machine,
        }
    }

    /// The share of the machine's CPU (0 to 1) that neither the server nor
    /// compare used and that was not idle: other programs, and steal.
    /// `None` when a figure is missing.
    pub fn others(&self) -> Option<f64> {
        let machine = self.machine?;
        let ours = self.server? + self.generator?;
        let total = machine.busy + machine.idle + machine.steal;
        if total.is_zero() {
            return None;
        }
        let others = machine.busy.saturating_sub(ours) + machine.steal;
        Some((others.as_secs_f64() / total.as_secs_f64()).min(1.0))
    }
}

/// What others took during the whole run, as the line printed on stderr,
/// under the table and on the picture; `busy` is true when it may change
/// the ranking. `usages`: one per measurement whose server compare knows
/// (for a server of another machine, its CPU is unknown and the
/// measurement cannot tell its server from the others).
pub fn note(usages: &[Usage]) -> (String, bool) {
    let known: Vec<&Usage> = usages.iter().filter(|u| u.others().is_some()).collect();
    let Some(first) = known.first() else {
        return (
            "Charge de la machine inconnue (pas de /proc, ou aucun serveur de cette machine)."
                .into(),
            false,
        );
    };
    let all = known[1..].iter().fold(**first, |sum, u| sum.add(u));
    let share = all.others().unwrap_or(0.0);
    let percent = (share * 100.0).round() as u64;
    if share >= BUSY_SHARE {
        (
            format!(
                "Machine occupée : {percent} % du CPU pris par d'autres pendant la mesure ; relancez au calme."
            ),
            true,
        )
    } else {
        (
            format!("Machine calme : {percent} % du CPU pris par d'autres pendant la mesure."),
            false,
        )
    }
}

/// The `/proc` of this machine: the server's process when it is known,
/// this process, and `/proc/stat`.
pub struct ProcProbe {
    pub server_pid: Option<u32>,
}

impl Probe for ProcProbe {
    fn read(&mut self) -> Reading {
        Reading {
            server: self.server_pid.and_then(procfs::cpu_time),
            generator: procfs::own_cpu_time(),
            machine: machine_times(),
        }
    }
}

/// The first line of `/proc/stat`: `cpu  user nice system idle iowait irq
/// softirq steal …`, in ticks of 1/100 s (`USER_HZ`, 100 on every Linux
/// that compare runs on), every core added up.
fn machine_times() -> Option<Machine> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_stat(stat.lines().next()?)
}

fn parse_stat(line: &str) -> Option<Machine> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let ticks: Vec<u64> = fields.map_while(|f| f.parse().ok()).collect();
    let tick = |i: usize| Duration::from_millis(ticks.get(i).copied().unwrap_or(0) * 10);
    if ticks.len() < 4 {
        return None;
    }
    Some(Machine {
        busy: tick(0) + tick(1) + tick(2) + tick(5) + tick(6),
        idle: tick(3) + tick(4),
        steal: tick(7),
    })
}

/// `/proc/loadavg`'s first figure: processes running or ready to, on
/// average over the last minute.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A probe that hands out readings where, between two calls, the server
    /// used `server` ms, compare `generator` ms, and the machine `busy` ms of
    /// work and `idle` ms idle (two cores: busy + idle = 2 × wall).
    struct Fake {
        now: Reading,
        step: (u64, u64, u64, u64, u64),
    }

    impl Probe for Fake {
        fn read(&mut self) -> Reading {
            let now = self.now;
            let ms = Duration::from_millis;
            let (server, generator, busy, idle, steal) = self.step;
            let m = self.now.machine.unwrap_or_default();
            self.now = Reading {
                server: Some(now.server.unwrap_or_default() + ms(server)),
                generator: Some(now.generator.unwrap_or_default() + ms(generator)),
                machine: Some(Machine {
                    busy: m.busy + ms(busy),
                    idle: m.idle + ms(idle),
                    steal: m.steal + ms(steal),
                }),
            };
            now
        }
    }

    fn usages(step: (u64, u64, u64, u64, u64), count: usize) -> Vec<Usage> {
        let mut probe = Fake {
            now: Reading::default(),
            step,
        };
        // A real first reading: counters since boot.
        probe.read();
        (0..count)
            .map(|_| {
                let a = probe.read();
                let b = probe.read();
                Usage::between(&a, &b)
            })
            .collect()
    }

    #[test]
    fn a_quiet_machine_is_said_quiet() {
        // 600 ms on 2 cores: server 500, compare 480, 20 more by others.
        let list = usages((500, 480, 1000, 200, 0), 5);
        let (line, busy) = note(&list);
        assert!(!busy, "{line}");
        assert_eq!(
            line,
            "Machine calme : 2 % du CPU pris par d'autres pendant la mesure."
        );
    }

    #[test]
    fn others_taking_a_core_are_said() {
        // Server and compare share one core; a compilation takes the other.
        let list = usages((300, 300, 1200, 0, 0), 5);
        let (line, busy) = note(&list);
        assert!(busy);
        assert_eq!(
            line,
            "Machine occupée : 50 % du CPU pris par d'autres pendant la mesure ; relancez au calme."
        );
    }

    #[test]
    fn steal_counts_as_taken_by_others() {
        let list = usages((500, 500, 1000, 0, 200), 1);
        let (line, busy) = note(&list);
        assert!(busy && line.contains(" 17 % "), "{line}");
    }

    #[test]
    fn unknown_servers_are_left_out() {
        let mut list = usages((300, 300, 1200, 0, 0), 2);
        for u in &mut list {
            u.server = None;
        }
        let (line, busy) = note(&list);
        assert!(!busy && line.contains("inconnue"), "{line}");
        // One known measurement is enough to judge.
        list.extend(usages((500, 480, 1000, 200, 0), 1));
        assert!(!note(&list).1);
    }

    #[test]
    fn proc_stat_is_read() {
        let m = parse_stat("cpu  10 2 3 400 5 6 7 8 0 0").unwrap();
        assert_eq!(m.busy, Duration::from_millis((10 + 2 + 3 + 6 + 7) * 10));
        assert_eq!(m.idle, Duration::from_millis(4050));
        assert_eq!(m.steal, Duration::from_millis(80));
        assert!(parse_stat("cpu0 1 2 3 4").is_none());
        assert!(parse_stat("cpu 1 2").is_none());
    }
}
