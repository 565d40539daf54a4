//! A server that runs on this machine, seen through `/proc`: the process
//! that owns the listening socket, its language, its threads and child
//! processes (the model, for real), and the CPU it burns while it should
//! be idle (a busy loop).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use netlabs::procfs::{self, Proto};

use crate::advice::Lang;

/// The server's process, when it is ours to look at.
#[derive(Debug, Clone)]
pub struct Local {
    pub pid: u32,
    /// `python3 serveur.py`, `./serveur`…
    pub command: String,
    pub lang: Lang,
}

impl Local {
    /// The process that owns the socket at `addr`, if it is on this machine
    /// and this user may look into it.
    pub fn find(udp: bool, addr: SocketAddr) -> Option<Local> {
        let proto = if udp { Proto::Udp } else { Proto::Tcp };
        let pid = procfs::server_process(proto, addr)?;
        let (exe, command) = procfs::command(pid).unwrap_or_default();
        Some(Local {
            pid,
            lang: Lang::of_process(&exe, &command),
            command,
        })
    }

    pub fn alive(&self) -> bool {
        procfs::is_alive(self.pid)
    }

    /// The CPU time of the server and its children (a forking server's
    /// clients are served by its children).
    pub fn cpu(&self) -> Duration {
        let own = procfs::cpu_time(self.pid).unwrap_or_default();
        procfs::children(self.pid)
            .into_iter()
            .filter_map(procfs::cpu_time)
            .fold(own, |sum, t| sum + t)
    }

    /// How much of one core the server wanted over `window`, in percent:
    /// the time its threads (and children) ran or waited for a core, per
    /// second of wall time. A busy loop always wants a core, however busy
    /// the machine: on a loaded machine it runs a fraction of the time and
    /// waits the rest, where a server that waits for its clients does
    /// neither. Where `/proc/PID/task/*/schedstat` is missing, the CPU
    /// time alone (which a loaded machine lowers).
    pub fn cpu_share(&self, window: Duration) -> u32 {
        let demand = || -> Option<Duration> {
            let mut total = demand_of(self.pid)?;
            for child in procfs::children(self.pid) {
                total += demand_of(child).unwrap_or_default();
            }
            Some(total)
        };
        let start = Instant::now();
        match demand() {
            Some(before) => {
                std::thread::sleep(window);
                let after = demand().unwrap_or(before);
                share(after.saturating_sub(before), start.elapsed())
            }
            None => {
                let before = self.cpu();
                std::thread::sleep(window);
                share(self.cpu().saturating_sub(before), start.elapsed())
            }
        }
    }

    /// Is one of its threads (or children's) running or ready to run,
    /// now? (`R` in `/proc/PID/task/*/stat`.)
    pub fn runnable(&self) -> bool {
        std::iter::once(self.pid)
            .chain(procfs::children(self.pid))
            .any(|pid| {
                let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                    return false;
                };
                tasks.flatten().any(|task| {
                    std::fs::read_to_string(task.path().join("stat"))
                        .is_ok_and(|stat| state(&stat) == Some('R'))
                })
            })
    }

    /// Threads and child processes, now.
    pub fn shape(&self) -> Shape {
        Shape {
            threads: procfs::threads(self.pid).unwrap_or(1),
            children: procfs::children(self.pid).len() as u64,
        }
    }
}

/// `used` per `wall`, in percent of one core.
fn share(used: Duration, wall: Duration) -> u32 {
    if wall.is_zero() {
        return 0;
    }
    (used.as_secs_f64() * 100.0 / wall.as_secs_f64()).round() as u32
}

/// The time the threads of `pid` ran or waited for a core (the first two
/// fields of each thread's `schedstat`, in ns).
fn demand_of(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(task) = task else { continue };
        // A thread that ended meanwhile counts no more.
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total += run_and_wait(&text)?;
    }
    Some(Duration::from_nanos(total))
}

/// The state letter of a `stat` line: after the command, which is in
/// parentheses and may hold anything.
fn state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// `schedstat`'s "time on a core, time waiting for one, timeslices".
fn run_and_wait(schedstat: &str) -> Option<u64> {
    let mut fields = schedstat.split_whitespace().map(|f| f.parse::<u64>().ok());
    let run = fields.next()??;
    let wait = fields.next()??;
    Some(run + wait)
}

/// What a process looks like at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub threads: u64,
    pub children: u64,
}

/// The model, from the process's shape with one client connected (`idle`)
/// and with `clients` more connected at once (`busy`).
pub fn model(idle: Shape, busy: Shape, clients: u64) -> String {
    let more_threads = busy.threads.saturating_sub(idle.threads);
    let more_children = busy.children.saturating_sub(idle.children);
    let seen = format!(
        "{} et {} avec {clients} clients connectés (contre {} et {} sans client)",
        netlabs::plural(busy.threads, "aucun thread", "thread", "threads"),
        netlabs::plural(
            busy.children,
            "aucun processus enfant",
            "processus enfant",
            "processus enfants"
        ),
        idle.threads,
        idle.children,
    );
    // Most clients got their own: a few may have been served and gone.
    let most = clients * 3 / 4;
    if more_children >= most {
        format!("{seen} : un processus enfant par client (fork) — TP5b 2.2, version processus")
    } else if more_threads >= most {
        format!("{seen} : un thread par client — TP5b 2.2")
    } else if more_threads > 1 {
        format!("{seen} : un groupe fixe de threads (pool) qui se partagent les clients — TP5b 2.2")
    } else {
        format!(
            "{seen} : un seul thread pour tous les clients — select/poll (TP5b 2.1) ou une boucle d'événements (asyncio, Twisted)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demand_is_run_plus_wait_and_share_is_per_wall_time() {
        assert_eq!(run_and_wait("197986210 7408824 462\n"), Some(205395034));
        assert_eq!(run_and_wait("12"), None);
        assert_eq!(state("42 (a) b) R 1 2"), Some('R'));
        assert_eq!(state("42 (python3) S 1"), Some('S'));
        assert_eq!(state("42"), None);
        assert_eq!(run_and_wait(""), None);
        // A busy loop on a loaded machine: 0.1 s on a core and 0.2 s
        // waiting for one, in 0.3 s: it wanted the whole core.
        let wanted = Duration::from_millis(100) + Duration::from_millis(200);
        assert_eq!(share(wanted, Duration::from_millis(300)), 100);
        assert_eq!(
            share(Duration::from_millis(3), Duration::from_millis(300)),
            1
        );
        assert_eq!(share(Duration::from_millis(3), Duration::ZERO), 0);
    }

    fn shape(threads: u64, children: u64) -> Shape {
        Shape { threads, children }
    }

    #[test]
    fn the_model_is_read_from_threads_and_children() {
        assert!(model(shape(2, 0), shape(22, 0), 20).contains("un thread par client"));
        assert!(model(shape(1, 1), shape(1, 21), 20).contains("fork"));
        assert!(model(shape(1, 0), shape(1, 0), 20).contains("un seul thread"));
        // Java starts with a dozen threads of its own: what counts is how
        // many came with the clients.
        assert!(model(shape(18, 0), shape(18, 0), 20).contains("un seul thread"));
        assert!(model(shape(5, 0), shape(9, 0), 20).contains("pool"));
    }

    #[test]
    fn this_process_is_found_and_measured() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let local = Local::find(false, listener.local_addr().unwrap()).unwrap();
        assert_eq!(local.pid, std::process::id());
        assert_eq!(local.lang, Lang::Rust);
        assert!(local.alive());
        assert!(local.shape().threads >= 1);
    }
}
