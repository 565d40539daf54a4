//! What Linux's `/proc` tells of a process seen from outside: which process
//! owns a listening socket, its threads, children, peak memory, CPU time
//! and executable. `compare` and `labcheck` both look at servers this way;
//! elsewhere (macOS), every function answers `None` or an empty list.
//!
//! The owner of a socket is found the way `ss -p` finds it: the socket's
//! inode is in `/proc/net/tcp` (or `tcp6`, `udp`, `udp6`), and a process
//! holding it has a descriptor that reads `socket:[INODE]` in
//! `/proc/PID/fd`. Only the processes this user may look into are seen.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Which table of `/proc/net` to look in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// The processes holding the socket that listens on (TCP) or is bound to
/// (UDP) `addr`, a wildcard address (`0.0.0.0`, `::`) counting as every
/// local one. Sorted, the parent first when a forking server shares its
/// socket with its children. Empty where there is no `/proc`, for an
/// address of another machine, or for another user's process.
pub fn socket_owners(proto: Proto, addr: SocketAddr) -> Vec<u32> {
    let inodes = socket_inodes(proto, addr);
    if inodes.is_empty() {
        return Vec::new();
    }
    let mut pids = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue; // another user's process, or one that just ended
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|target| {
                let target = target.to_string_lossy();
                target
                    .strip_prefix("socket:[")
                    .and_then(|rest| rest.strip_suffix(']'))
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|inode| inodes.contains(&inode))
            })
        });
        if holds {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    pids
}

/// The one process that serves `addr`: of the owners, the one whose parent
/// is not itself an owner (the forking server's parent, not a child).
pub fn server_process(proto: Proto, addr: SocketAddr) -> Option<u32> {
    let owners = socket_owners(proto, addr);
    owners
        .iter()
        .copied()
        .find(|&pid| parent(pid).is_none_or(|ppid| !owners.contains(&ppid)))
}

/// The inodes of the sockets of `/proc/net/{tcp,tcp6}` (or udp) that
/// listen on `addr`'s port at its address or at a wildcard.
fn socket_inodes(proto: Proto, addr: SocketAddr) -> Vec<u64> {
    let (files, wanted_state) = match proto {
        Proto::Tcp => (["/proc/net/tcp", "/proc/net/tcp6"], "0A"), // LISTEN
        Proto::Udp => (["/proc/net/udp", "/proc/net/udp6"], "07"), // unconnected
    };
    let mut inodes = Vec::new();
    for file in files {
        let Ok(table) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            if *state != wanted_state {
                continue;
            }
            let Some(local) = parse_hex_addr(local) else {
                continue;
            };
            if local.port() == addr.port()
                && (local.ip().is_unspecified() || same_ip(local.ip(), addr.ip()))
                && let Ok(inode) = inode.parse::<u64>()
                && inode != 0
            {
                inodes.push(inode);
            }
        }
    }
    inodes
}

/// The address that the UDP socket of this machine bound to `local` is
/// connected to (a client that called `connect`: the system then hands it
/// only that address's datagrams), or `None`: not connected, not a socket
/// of this machine, or no `/proc`.
pub fn udp_connected_to(local: SocketAddr) -> Option<SocketAddr> {
    for file in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(table) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(here), Some(there), Some(&"01")) =
                (fields.get(1), fields.get(2), fields.get(3))
            else {
                continue; // 01: connected
            };
            if let (Some(here), Some(there)) = (parse_hex_addr(here), parse_hex_addr(there))
                && here.port() == local.port()
                && same_ip(here.ip(), local.ip())
            {
                return Some(there);
            }
        }
    }
    None
}

/// `127.0.0.1` and `::ffff:127.0.0.1` are one address.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// `0100007F:1E61` (IPv4) or 32 hex digits and a port (IPv6), as the
/// kernel writes them: each 32-bit word in the machine's byte order.
fn parse_hex_addr(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The fields of `/proc/PID/stat` after the command name (which may hold
/// spaces and parentheses): `fields[0]` is the state, `fields[1]` the parent.
fn stat_fields(pid: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(rest.split(' ').map(str::to_string).collect())
}

/// The parent's PID.
pub fn parent(pid: u32) -> Option<u32> {
    stat_fields(&pid.to_string())?.get(1)?.parse().ok()
}

/// True while `/proc/PID` exists and is not a zombie (where there is a
/// `/proc`; elsewhere, always false).
pub fn is_alive(pid: u32) -> bool {
    stat_fields(&pid.to_string())
        .and_then(|f| f.first().cloned())
        .is_some_and(|state| state != "Z" && state != "X")
}

/// A number field of `/proc/PID/status`: `Threads:`, or `VmHWM:` (the peak
/// resident memory, in KiB).
pub fn status_field(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// The number of threads of a process.
pub fn threads(pid: u32) -> Option<u64> {
    status_field(pid, "Threads:")
}

/// The processes whose parent is `pid` (a forking server's children).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut kids: Vec<u32> = procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| parent(p) == Some(pid) && is_alive(p))
        .collect();
    kids.sort_unstable();
    kids
}

/// The process's executable (`/proc/PID/exe`), and its command line
/// (`/proc/PID/cmdline`, arguments joined by spaces): together they tell
/// `python3 serveur.py` from `java Serveur` or a compiled program.
pub fn command(pid: u32) -> Option<(String, String)> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    Some((exe, args.join(" ")))
}

/// CPU time of a process, all its threads: the sum of the nanosecond
/// counters of `/proc/PID/task/*/schedstat`, or else user + system time of
/// `/proc/PID/stat` (ticks of 1/100 s, too coarse for a short step);
/// `None` where there is no `/proc`.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    cpu_time_of(&pid.to_string())
}

/// The CPU time of this process.
pub fn own_cpu_time() -> Option<Duration> {
    cpu_time_of("self")
}

fn cpu_time_of(pid: &str) -> Option<Duration> {
    runtime_of_tasks(pid).or_else(|| {
        let fields = stat_fields(pid)?;
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some(Duration::from_millis((utime + stime) * 10))
    })
}

/// The sum of the first field (time on a CPU, ns) of every thread's
/// `schedstat`.
fn runtime_of_tasks(pid: &str) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // a thread that ended meanwhile
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// How many descriptors a process has open (`/proc/PID/fd`).
pub fn open_descriptors(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};

    fn have_proc() -> bool {
        std::path::Path::new("/proc/self/stat").exists()
    }

    #[test]
    fn hex_addresses_are_read_as_the_kernel_writes_them() {
        let v4 =
            parse_hex_addr(&format!("{:08X}:1E61", u32::from_ne_bytes([127, 0, 0, 1]))).unwrap();
        assert_eq!(v4, "127.0.0.1:7777".parse().unwrap());
        let v6 = parse_hex_addr("00000000000000000000000000000000:0050").unwrap();
        assert_eq!(v6, "[::]:80".parse().unwrap());
        assert!(parse_hex_addr("zz:1").is_none());
        assert!(parse_hex_addr("0100007F").is_none());
    }

    #[test]
    fn the_owner_of_a_listening_socket_is_this_process() {
        if !have_proc() {
            return;
        }
        let me = std::process::id();
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        assert_eq!(socket_owners(Proto::Tcp, addr), vec![me]);
        assert_eq!(server_process(Proto::Tcp, addr), Some(me));
        let any = TcpListener::bind("[::]:0").unwrap();
        let port = any.local_addr().unwrap().port();
        let seen = SocketAddr::from(([127, 0, 0, 1], port));
        assert_eq!(server_process(Proto::Tcp, seen), Some(me));
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(
            server_process(Proto::Udp, udp.local_addr().unwrap()),
            Some(me)
        );
        drop(tcp);
        assert!(socket_owners(Proto::Tcp, addr).is_empty());
    }

    #[test]
    fn status_cpu_and_command_are_read() {
        if !have_proc() {
            return;
        }
        let me = std::process::id();
        assert!(own_cpu_time().is_some());
        assert!(cpu_time(me).is_some());
        assert!(threads(me).unwrap() >= 1);
        assert!(status_field(me, "VmHWM:").unwrap() > 0);
        assert!(status_field(me, "NoSuchField:").is_none());
        assert!(is_alive(me));
        assert!(parent(me).is_some());
        let (exe, line) = command(me).unwrap();
        assert!(!exe.is_empty() && !line.is_empty());
        assert!(children(me).iter().all(|&c| parent(c) == Some(me)));
    }
}
