//! `boom-server` — a Bomberman that players join with telnet: one board,
//! one pawn per connection, bombs and fire on the reactor's timers.
//!
//! Mirrors `bite-sized-twisted-triforce.txt`, "Toward a better boom": the
//! seed's `SimpleProtocol` (one per player: it inserts a pawn, turns keys
//! into moves) and `SimpleFactory` (one board for every protocol), on port
//! 8900. It goes where the seed says "next time": character mode, so no
//! Enter is needed, and a screen redrawn for everyone after each change.
//! The rules are in `boom::game`, the screens and who gets them when in
//! `boom::screen` and `boom::arena`, the telnet side in `boom::telnet`.
//!
//! Try it, in three terminals:
//!
//! ```text
//! cargo run --bin boom-server      # en écoute sur 0.0.0.0:8900
//! telnet 127.0.0.1 8900            # you are A, top left: w a s d, e = bomb
//! telnet 127.0.0.1 8900            # B, bottom right; A sees B come
//! nc 127.0.0.1 8900                # C, with nc: a key, then Enter
//! ```
//!
//! What to observe: one process, one thread (`ss -tnp | grep 8900`) serves
//! every player; a bomb explodes 2 s after `e` although nobody types (a
//! timer, `call_later`, woke the loop up); leave with Ctrl-] then `quit`
//! and the pawn disappears from the others' screens.
//!
//! One loop serves everyone, so no player may hold it up: screens go out
//! at most once a frame (`arena::FRAME`), a read plays a few keys at most
//! (MAX_KEYS), and a player whose socket does not take its screens is
//! skipped until its socket has taken everything (`arena::MAX_BEHIND`; the reactor
//! says when: `write_drained`). Try `yes d | nc 127.0.0.1 8900` beside a
//! telnet player: the telnet player does not notice.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;

use boom::arena::{self, Arena};
use boom::game::{self, Direction, Game, MAX_PAWNS, PawnId};
use boom::telnet::{self, Filter};
use netlabs::{Args, fail, log};
use reactor::{Clock, Factory, Protocol, Reason, Transport};

/// The seed's port, on every IPv4 interface (`telnet <host> 8900`).
const PORT: u16 = 8900;
const BIND: &str = "0.0.0.0";

/// Board sides a terminal can show: odd, so that the HARD tiles (x and y
/// both odd) leave a free ring along every edge and every corner is free;
/// at most 37 tiles, 77 columns with the frame: an 80-column terminal.
/// (In height, 24 lines hold a board of 15 with its frame and the 4 to 6
/// lines under it; a higher one needs a higher terminal.)
const MIN_SIDE: usize = 3;
const MAX_SIDE: usize = 37;

/// Keys played from one read. A person types a few between two reads (nc
/// sends a line: `ddse`); a read of thousands is a flood, and the keys
/// past these are dropped: one player's bytes then cost the loop a short,
/// bounded time per read, and the others do not wait behind them.
const MAX_KEYS: usize = 32;

/// Ctrl-D: leaving, for a player in character mode (Ctrl-C is the other).
const CTRL_D: u8 = 0x04;

const USAGE: &str = "\
boom-server — un Bomberman pour joueurs telnet, sur notre réacteur
(bite-sized-twisted-triforce : « Toward a better boom »)

usage : boom-server [--bind ADDR] [--port N] [--width N] [--height N]
  --bind ADDR    adresse d'écoute (défaut 0.0.0.0 = toutes les interfaces IPv4)
  --port N       port TCP (défaut 8900 ; 0 = un port libre choisi par le système)
  --width N      largeur du plateau, impaire, de 3 à 37 (défaut 11)
  --height N     hauteur du plateau, impaire, de 3 à 37 (défaut 11 ; au-delà
                 de 15, il faut un terminal de plus de 24 lignes)
  -h, --help     cette aide

Jouez : telnet 127.0.0.1 8900 (touches w a s d, e = bombe ; Ctrl-] puis quit
pour partir), ou nc 127.0.0.1 8900 (une touche puis Entrée).";

fn main() {
    let mut args = Args::parse(USAGE);
    let bind = args.bind(BIND);
    let port = args.port(PORT);
    let width = side(&mut args, "--width", game::WIDTH);
    let height = side(&mut args, "--height", game::HEIGHT);
    args.finish();

    // The game's timers (fuses, fires, frames) run on the reactor's clock:
    // we make it first, and hand it to the reactor.
    let clock = Clock::new();
    let arena = Arena::new(Game::new(width, height, clock.clone()), clock.clone());
    // reactor.listenTCP(8900, SimpleFactory(board))
    let listening = reactor::listen(clock, SocketAddr::new(bind, port), BoomFactory { arena })
        .unwrap_or_else(|e| fail(e));
    let local = listening.addr();
    log!(
        "plateau de {width}×{height} ; jouez avec : telnet {} {}",
        loopback(local),
        local.port()
    );
    // reactor.run()
    if let Err(e) = listening.run() {
        fail(e);
    }
}

/// The address a player on this machine types: the loopback one when we
/// listen on every interface.
fn loopback(local: SocketAddr) -> IpAddr {
    match local.ip() {
        ip if !ip.is_unspecified() => ip,
        IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    }
}

/// `--width N` or `--height N`: odd, from MIN_SIDE to MAX_SIDE.
fn side(args: &mut Args, name: &str, default: usize) -> usize {
    let n = args.value::<usize>(name).unwrap_or(default);
    if !(MIN_SIDE..=MAX_SIDE).contains(&n) || n.is_multiple_of(2) {
        args.usage_error(&format!(
            "{name} attend un nombre impair de {MIN_SIDE} à {MAX_SIDE} (reçu {n})"
        ));
    }
    n
}

/// class SimpleFactory(Factory): builds one protocol per player, all in
/// the same arena.
struct BoomFactory {
    arena: Rc<Arena>,
}

impl Factory for BoomFactory {
    fn build_protocol(&mut self, peer: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(BoomProtocol {
            arena: Rc::clone(&self.arena),
            peer,
            pawn: None,
            filter: Filter::new(),
            keys: Vec::new(),
            answers: Vec::new(),
        }))
    }
}

/// class SimpleProtocol(Protocol): one player.
struct BoomProtocol {
    arena: Rc<Arena>,
    peer: SocketAddr,
    /// `self.pawn`; `None` when the board was full.
    pawn: Option<PawnId>,
    filter: Filter,
    /// Reused between reads: what the filter kept, what it owes the client.
    keys: Vec<u8>,
    answers: Vec<u8>,
}

impl Protocol for BoomProtocol {
    /// def connectionMade(self): a pawn, in a free corner.
    fn connection_made(&mut self, transport: &Transport) {
        transport.write(&telnet::CHARACTER_MODE);
        let game = self.arena.game();
        let Some(id) = game.join() else {
            transport.write(
                format!(
                    "la partie est pleine ({MAX_PAWNS} joueurs au plus, une case libre \
                     chacun) ; revenez plus tard\r\n"
                )
                .as_bytes(),
            );
            transport.lose_connection();
            log!("{} refusé : la partie est pleine", self.peer);
            return;
        };
        self.pawn = Some(id);
        // The first screen comes with the next frame (join asked for it).
        self.arena.add_player(id, transport.clone());
        let name = game.pawn(id).map_or('?', |p| p.name);
        log!(
            "{name} arrive ({}) ; {}",
            self.peer,
            count(game.pawns().len())
        );
    }

    /// def dataReceived(self, data): for k in data: …
    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let Some(id) = self.pawn else { return };
        self.keys.clear();
        self.answers.clear();
        self.filter.feed(data, &mut self.keys, &mut self.answers);
        // Answers to a client that does not read its screens would pile up:
        // it gets none while it is behind (they only refuse options).
        if !self.answers.is_empty() && !arena::is_behind(transport) {
            transport.write(&self.answers);
        }
        let game = self.arena.game();
        for &key in self.keys.iter().take(MAX_KEYS) {
            // A refused move (YoureDead, IllegalMove) changes nothing.
            let _ = match key {
                b'w' => game.step(id, Direction::Up),
                b'a' => game.step(id, Direction::Left),
                b's' => game.step(id, Direction::Down),
                b'd' => game.step(id, Direction::Right),
                b'e' => game.drop_bomb(id),
                telnet::CTRL_C | CTRL_D => {
                    transport.lose_connection();
                    break;
                }
                _ => Ok(()), // any other byte: ignored
            };
        }
    }

    /// The player has read everything we wrote (Twisted's resumeProducing):
    /// if it missed screens, it gets the one of this moment.
    fn write_drained(&mut self, _transport: &Transport) {
        if let Some(id) = self.pawn {
            self.arena.drained(id);
        }
    }

    /// def connectionLost(self, reason): the pawn leaves the board.
    fn connection_lost(&mut self, reason: Reason) {
        let Some(id) = self.pawn.take() else { return };
        let game = self.arena.game();
        let name = game.pawn(id).map_or('?', |p| p.name);
        self.arena.remove_player(id);
        game.leave(id);
        log!(
            "{name} part ({}, connexion {reason}) ; {}",
            self.peer,
            count(game.pawns().len())
        );
    }
}

/// "aucun joueur", "1 joueur", "2 joueurs".
fn count(n: usize) -> String {
    netlabs::plural(n as u64, "aucun joueur", "joueur", "joueurs")
}

#[cfg(test)]
mod tests {
    use super::*;
    use boom::arena::{FRAME, MAX_BEHIND};
    use boom::screen::CLEAR;
    use reactor::testing::StringTransport;
    use std::time::Duration;

    /// A 5×5 arena on a manual clock, and its factory.
    fn arena() -> (BoomFactory, Clock) {
        arena_of(5, 5)
    }

    fn arena_of(width: usize, height: usize) -> (BoomFactory, Clock) {
        let clock = Clock::manual();
        let arena = Arena::new(Game::new(width, height, clock.clone()), clock.clone());
        (BoomFactory { arena }, clock)
    }

    /// A player connected to `factory`: its protocol and transport.
    fn player(factory: &mut BoomFactory) -> (Box<dyn Protocol>, StringTransport) {
        let t = StringTransport::new();
        let mut p = factory.build_protocol(t.peer()).unwrap();
        p.connection_made(&t);
        (p, t)
    }

    /// The last whole screen written on `t`, without its escape codes.
    fn last_screen(t: &StringTransport) -> String {
        let text = t.text();
        let last = text.rsplit(CLEAR).next().unwrap_or_default();
        last.replace("\r\n", "\n")
    }

    #[test]
    fn a_player_is_offered_character_mode_then_sees_the_board() {
        let (mut f, clock) = arena();
        let (_a, t) = player(&mut f);
        assert_eq!(
            t.value(),
            telnet::CHARACTER_MODE,
            "no screen before the frame"
        );
        clock.advance(Duration::ZERO);
        let text = t.value();
        assert!(text.starts_with(&[&telnet::CHARACTER_MODE[..], CLEAR.as_bytes()].concat()));
        assert_eq!(
            last_screen(&t),
            "+-----------+\n\
             | A . % % % |\n\
             | . # % # % |\n\
             | % % % % % |\n\
             | % # % # % |\n\
             | % % % % % |\n\
             +-----------+\n\
             joueurs : A (vous) en vie\n\
             touches : w haut, a gauche, s bas, d droite, e bombe (nc : touche puis Entrée)\n"
        );
    }

    #[test]
    fn each_sees_the_others_moves_and_who_leaves() {
        let (mut f, clock) = arena();
        let (mut a, ta) = player(&mut f);
        let (mut b, tb) = player(&mut f);
        clock.advance(Duration::ZERO);
        assert!(last_screen(&ta).contains("joueurs : A (vous) en vie, B en vie\n"));
        assert!(last_screen(&tb).contains("joueurs : A en vie, B (vous) en vie\n"));
        // Keys among telnet commands, cut anywhere: A moves right.
        a.data_received(&ta, &[telnet::IAC, telnet::DO]);
        a.data_received(&ta, &[telnet::ECHO, b'd', telnet::IAC]);
        a.data_received(&ta, &[telnet::IAC, b'\r', 0]);
        clock.advance(FRAME);
        assert!(
            last_screen(&tb).contains("| . A % % % |\n"),
            "{}",
            last_screen(&tb)
        );
        // B leaves: gone from A's board and legend.
        b.connection_lost(Reason::Done);
        clock.advance(FRAME);
        let screen = last_screen(&ta);
        assert!(screen.contains("| % % % . . |\n"), "{screen}");
        assert!(screen.contains("joueurs : A (vous) en vie\n"), "{screen}");
        assert!(!screen.contains('B'));
    }

    #[test]
    fn a_bomb_burns_after_its_fuse_and_kills_who_stays() {
        let (mut f, clock) = arena();
        let (mut a, ta) = player(&mut f);
        a.data_received(&ta, b"e");
        clock.advance(FRAME);
        assert!(
            last_screen(&ta).contains("| A . % % % |"),
            "A over its bomb"
        );
        clock.advance(game::FUSE);
        let screen = last_screen(&ta);
        assert!(
            screen.contains("| * * % % % |\n| * # % # % |\n"),
            "{screen}"
        );
        assert!(screen.contains("joueurs : A (vous) mort\n"));
        assert!(screen.contains("vous êtes mort"));
        a.data_received(&ta, b"d");
        clock.advance(game::FIRE);
        assert!(last_screen(&ta).contains("| a . % % % |"), "dead: no move");
    }

    #[test]
    fn a_flood_of_keys_makes_one_screen_per_frame() {
        let (mut f, clock) = arena();
        let (mut a, ta) = player(&mut f);
        let (_b, tb) = player(&mut f);
        clock.advance(Duration::ZERO);
        tb.clear();
        let flood = b"dada".repeat(10_000);
        a.data_received(&ta, &flood);
        a.data_received(&ta, &flood);
        clock.advance(FRAME);
        assert_eq!(
            tb.text().matches(CLEAR).count(),
            1,
            "one screen, not 80 000"
        );
    }

    #[test]
    fn a_read_plays_its_first_keys_only() {
        let (mut f, clock) = arena();
        let (mut a, ta) = player(&mut f);
        // MAX_KEYS keys that do nothing, then `d`: past the limit, dropped.
        let mut flood = vec![b'x'; MAX_KEYS];
        flood.push(b'd');
        a.data_received(&ta, &flood);
        clock.advance(FRAME);
        assert!(last_screen(&ta).contains("| A . % % % |"), "not moved");
        a.data_received(&ta, b"d");
        clock.advance(FRAME);
        assert!(last_screen(&ta).contains("| . A % % % |"), "moved");
    }

    #[test]
    fn a_client_who_does_not_read_gets_no_telnet_answers() {
        let (mut f, _clock) = arena();
        let (mut a, ta) = player(&mut f);
        // Its socket takes nothing: what is written only piles up.
        ta.stall();
        ta.write(&[0; MAX_BEHIND]);
        let do_ttype = [telnet::IAC, telnet::DO, 24].repeat(1000);
        a.data_received(&ta, &do_ttype);
        let before = ta.pending();
        a.data_received(&ta, &do_ttype);
        assert_eq!(ta.pending(), before, "no answer piled up");
    }

    #[test]
    fn the_27th_player_is_refused_politely() {
        let (mut f, _clock) = arena_of(game::WIDTH, game::HEIGHT);
        let _players: Vec<_> = (0..MAX_PAWNS).map(|_| player(&mut f)).collect();
        let (_late, t) = player(&mut f);
        assert!(
            t.text()
                .contains("la partie est pleine (26 joueurs au plus")
        );
        assert!(t.is_disconnecting());
    }

    #[test]
    fn a_player_who_does_not_read_gets_the_latest_screen_once_drained() {
        let (mut f, clock) = arena();
        let (mut a, ta) = player(&mut f);
        let (mut b, tb) = player(&mut f);
        clock.advance(Duration::ZERO);
        // B stops reading: what is written to it stays pending, as on a
        // socket whose peer does not read. A plays on.
        tb.stall();
        let mut play = |key: &[u8]| {
            a.data_received(&ta, key);
            clock.advance(FRAME);
        };
        let mut frames = 0;
        while tb.pending() <= MAX_BEHIND {
            play(if frames % 2 == 0 { b"d" } else { b"a" });
            frames += 1;
            assert!(frames < 1000);
        }
        let stuck = tb.pending();
        for _ in 0..50 {
            play(b"d");
            play(b"a");
        }
        play(b"d");
        assert_eq!(tb.pending(), stuck, "no screen queued while B is behind");
        assert!(
            last_screen(&ta).contains("| . A % % % |"),
            "A is not slowed"
        );
        assert_eq!(clock.pending(), 0, "no timer waits to look at B");
        // B reads everything: the reactor tells its protocol, which sends
        // the latest screen at once, with no time passing.
        tb.clear();
        assert_eq!(tb.drain(), stuck);
        b.write_drained(&tb);
        assert_eq!(tb.text().matches(CLEAR).count(), 1);
        assert!(last_screen(&tb).contains("| . A % % % |"));
        // Drained again with nothing owed: nothing more.
        b.write_drained(&tb);
        assert_eq!(tb.text().matches(CLEAR).count(), 1);
        // And B gets every frame again.
        play(b"a");
        assert!(last_screen(&tb).contains("| A . % % % |"));
    }

    #[test]
    fn ctrl_c_as_a_key_or_as_a_telnet_command_leaves() {
        for leave in [&[telnet::CTRL_C][..], &[CTRL_D], &[telnet::IAC, telnet::IP]] {
            let (mut f, _clock) = arena();
            let (mut a, ta) = player(&mut f);
            a.data_received(&ta, leave);
            assert!(ta.is_disconnecting(), "{leave:?}");
        }
    }

    #[test]
    fn a_full_board_refuses_politely() {
        let (mut f, _clock) = arena_of(3, 3);
        let players: Vec<_> = (0..8).map(|_| player(&mut f)).collect();
        let (mut late, t) = player(&mut f);
        assert!(t.text().contains("la partie est pleine"));
        assert!(t.is_disconnecting());
        late.data_received(&t, b"wasde"); // no pawn: nothing happens
        late.connection_lost(Reason::Done);
        assert_eq!(f.arena.game().pawns().len(), 8);
        for (mut p, _) in players {
            p.connection_lost(Reason::Done);
        }
        assert_eq!(f.arena.game().entries(), 0);
        assert_eq!(f.arena.player_count(), 0);
    }

    #[test]
    fn unknown_telnet_options_are_refused_on_the_wire() {
        let (mut f, _clock) = arena();
        let (mut a, ta) = player(&mut f);
        ta.clear();
        a.data_received(&ta, &[telnet::IAC, telnet::DO, 24]);
        assert_eq!(ta.value(), [telnet::IAC, telnet::WONT, 24]);
    }

    #[test]
    fn counts_in_french() {
        assert_eq!(count(0), "aucun joueur");
        assert_eq!(count(1), "1 joueur");
        assert_eq!(count(2), "2 joueurs");
    }
}
