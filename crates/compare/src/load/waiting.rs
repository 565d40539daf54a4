//! The run of the second picture, `attente.svg`: a few clients connect
//! together, and we note when each is first served.

use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use netlabs::sys::{Events, PollFd, poll_fds};

use super::{close, connect_all, drained, receive, send};

/// When one client of the waiting picture was connected, first served, and
/// done, in seconds since they all connected.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Strip {
    pub connected: f64,
    /// The first echo; `None`: never served before the limit.
    pub first_echo: Option<f64>,
    /// When it closed after its share, or when the limit cut it.
    pub done: f64,
}

/// `clients` connect together; each does ping-pong for `hold` from its first
/// echo, then closes. Returns one strip per client, or why not. Never lasts
/// more than `limit`.
pub fn waiting(
    addrs: &[SocketAddr],
    clients: usize,
    hold: Duration,
    limit: Duration,
) -> Result<Vec<Strip>, String> {
    let t0 = Instant::now();
    let (mut conns, refused) = connect_all(addrs, clients, 64);
    if conns.len() < clients {
        return Err(refused.unwrap_or_else(|| "aucune connexion".into()));
    }
    let at = |t: Instant| (t - t0).as_secs_f64();
    let mut strips: Vec<Strip> = conns
        .iter()
        .map(|c| Strip {
            connected: at(c.sent_at),
            first_echo: None,
            done: 0.0,
        })
        .collect();
    let mut fds: Vec<PollFd> = conns
        .iter()
        .map(|c| PollFd::new(&c.stream, Events::IN))
        .collect();
    let mut buf = vec![0u8; 16 * 1024];
    let mut open = conns.len();
    let mut lost = 0u64;
    let mut mangled = false;
    for i in 0..conns.len() {
        if send(&mut conns[i]).is_err() {
            strips[i].done = at(Instant::now());
            close(&mut conns[i], &mut open, &mut lost);
            fds[i] = PollFd::from_raw(-1, Events::NONE);
        }
    }
    let deadline = t0 + limit;
    let mut drain = [0u8; 4096];
    while fds.iter().any(|fd| fd.fd() >= 0) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        // Wake up in time to close a client whose share is over.
        let wake = strips
            .iter()
            .zip(&conns)
            .filter(|(_, c)| c.open)
            .filter_map(|(s, _)| s.first_echo)
            .map(|f| t0 + Duration::from_secs_f64(f) + hold)
            .fold(deadline, Instant::min);
        if poll_fds(&mut fds, Some(wake.saturating_duration_since(now))).is_err() {
            break;
        }
        let now = Instant::now();
        for i in 0..conns.len() {
            let ready = fds[i].revents();
            if fds[i].fd() < 0 || ready.is_empty() && !conns[i].open {
                continue;
            }
            if !conns[i].open {
                // Its share is over: read its last echo until the server closes.
                if drained(&conns[i].stream, &mut drain) {
                    fds[i] = PollFd::from_raw(-1, Events::NONE);
                }
                continue;
            }
            let mut outcome = Ok(());
            if ready.contains(Events::OUT) {
                outcome = send(&mut conns[i]);
            }
            if outcome.is_ok() && ready.intersects(Events::IN | Events::HUP | Events::ERR) {
                outcome = receive(&mut conns[i], &mut buf).map(|echo| {
                    if echo.is_some() && strips[i].first_echo.is_none() {
                        strips[i].first_echo = Some(at(Instant::now()));
                    }
                });
            }
            let share_over = strips[i]
                .first_echo
                .is_some_and(|f| at(now) >= f + hold.as_secs_f64());
            if let Err(e) = &outcome {
                mangled |= e.kind() == std::io::ErrorKind::InvalidData;
                strips[i].done = at(now);
                close(&mut conns[i], &mut open, &mut lost);
                fds[i] = PollFd::from_raw(-1, Events::NONE);
            } else if share_over {
                // Done, as a client closes: the server reads end-of-file (a
                // blocking server then takes the next one).
                strips[i].done = at(now);
                conns[i].open = false;
                open -= 1;
                let _ = conns[i].stream.shutdown(Shutdown::Write);
                fds[i] = PollFd::new(&conns[i].stream, Events::IN);
            } else {
                fds[i] = PollFd::new(&conns[i].stream, conns[i].interest());
            }
        }
    }
    if mangled {
        return Err("les octets renvoyés diffèrent de ceux envoyés".into());
    }
    let end = at(Instant::now());
    for (strip, c) in strips.iter_mut().zip(&conns) {
        if c.open {
            strip.done = end;
        }
    }
    Ok(strips)
}
