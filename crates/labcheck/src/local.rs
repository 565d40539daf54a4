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

    /// The share of one core the server used over `window`, in percent.
    pub fn cpu_share(&self, window: Duration) -> u32 {
        let (before, start) = (self.cpu(), Instant::now());
        std::thread::sleep(window);
        let used = self.cpu().saturating_sub(before);
        (used.as_secs_f64() * 100.0 / start.elapsed().as_secs_f64()).round() as u32
    }

    /// Threads and child processes, now.
    pub fn shape(&self) -> Shape {
        Shape {
            threads: procfs::threads(self.pid).unwrap_or(1),
            children: procfs::children(self.pid).len() as u64,
        }
    }
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
