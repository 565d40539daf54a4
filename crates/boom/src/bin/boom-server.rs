//! `boom-server` — a Bomberman that players join with telnet: one board,
//! one pawn per connection, bombs and fire on the reactor's timers.
//!
//! Mirrors `bite-sized-twisted-triforce.txt`, "Toward a better boom": the
//! seed's `SimpleProtocol` (one per player: it inserts a pawn, turns keys
//! into moves) and `SimpleFactory` (one board for every protocol), on port
//! 8900. It goes where the seed says "next time": character mode, so no
//! Enter is needed, and a screen redrawn for everyone after each change.
//! The rules are in `boom::game`, the telnet side in `boom::telnet`.
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
//! at most once a frame (FRAME), a read plays a few keys at most
//! (MAX_KEYS), and a player whose socket does not take its screens is
//! skipped until it does (MAX_BEHIND). Try `yes d | nc 127.0.0.1 8900`
//! beside a telnet player: the telnet player does not notice.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::{Rc, Weak};
use std::time::Duration;

use boom::game::{self, Direction, Game, MAX_PAWNS, PawnId, PawnView};
use boom::telnet::{self, Filter};
use netlabs::{Args, Why, fail, log};
use reactor::{Clock, DelayedCall, Factory, Protocol, Reactor, Reason, Transport};

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

/// At most one screen per frame: keys pressed, bombs and fires within the
/// same 20 ms make one screen, not one each. A player who floods keys costs
/// the others 50 screens a second at most.
const FRAME: Duration = Duration::from_millis(20);

/// A player more than this many bytes behind (written by us, not yet
/// taken by its socket: it does not read) is sent no new screen; it gets
/// the latest one when it has caught up. About 30 screens of the default
/// board: never a backlog of stale frames in our memory.
const MAX_BEHIND: usize = 16 * 1024;

/// How often to look whether a player who was behind has caught up (the
/// reactor tells a protocol of no "drained" event: we ask the transport).
const CATCH_UP: Duration = Duration::from_millis(100);

/// Keys played from one read. A person types a few between two reads (nc
/// sends a line: `ddse`); a read of thousands is a flood, and the keys
/// past these are dropped: one player's bytes then cost the loop a short,
/// bounded time per read, and the others do not wait behind them.
const MAX_KEYS: usize = 32;

/// Characters in a line of the screen, at most: an 80-column terminal
/// shows each line whole (at the 80th, some terminals already wrap).
const COLUMNS: usize = 79;

/// The last line of every screen (78 characters).
const KEYS: &str = "touches : w haut, a gauche, s bas, d droite, e bombe (nc : touche puis Entrée)";

/// ANSI: cursor to the top left, then clear the screen.
const CLEAR: &str = "\x1b[H\x1b[2J";

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

    // reactor::serve would make its own reactor; we need its clock first,
    // for the game's timers, so we do its three steps here.
    let mut reactor =
        Reactor::new().unwrap_or_else(|e| fail!("réacteur impossible à créer ({})", Why(&e)));
    let arena = Arena::new(Game::new(width, height, reactor.clock()), reactor.clock());
    let addr = SocketAddr::new(bind, port);
    // reactor.listenTCP(8900, SimpleFactory(board))
    let local = reactor
        .listen_tcp(addr, BoomFactory { arena })
        .unwrap_or_else(|e| fail(netlabs::error::bind(addr, &e)));
    netlabs::net::announce_tcp(local);
    log!(
        "plateau de {width}×{height} ; jouez avec : telnet {} {}",
        loopback(local),
        local.port()
    );
    // reactor.run()
    if let Err(e) = reactor.run() {
        fail!("la boucle du réacteur s'est arrêtée ({})", Why(&e));
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

/// class SimpleFactory(Factory): builds one protocol per player, all on
/// the same board.
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

/// What the factory and its protocols share (the seed's `self.board` and
/// `self.protocols`): the game, and every player's transport to draw on.
/// On the reactor's one thread, an `Rc` is enough: the factory and each
/// protocol hold one (see the reactor crate's page for why not Twisted's
/// `self.factory` back-reference).
struct Arena {
    game: Game,
    clock: Clock,
    players: RefCell<BTreeMap<PawnId, Player>>,
    /// The next screen, when one is scheduled.
    redraw: RefCell<Option<DelayedCall>>,
    /// When the last screen was sent, to keep one frame between two.
    last_frame: Cell<Option<Duration>>,
    /// The next look at players who were behind, when one is scheduled.
    catch_up: RefCell<Option<DelayedCall>>,
}

struct Player {
    transport: Transport,
    /// Screens were skipped: the latest is owed once the socket drains.
    behind: bool,
    /// As last drawn, to log a death once.
    alive: bool,
}

impl Arena {
    /// The arena, told by the game of every change (even the timers').
    fn new(game: Game, clock: Clock) -> Rc<Arena> {
        let arena = Rc::new(Arena {
            game,
            clock,
            players: RefCell::new(BTreeMap::new()),
            redraw: RefCell::new(None),
            last_frame: Cell::new(None),
            catch_up: RefCell::new(None),
        });
        // A weak handle: the game belongs to the arena, and must not keep
        // it alive for ever through its listener.
        let weak = Rc::downgrade(&arena);
        arena.game.on_change(move |_| {
            if let Some(arena) = weak.upgrade() {
                Arena::request_redraw(&arena);
            }
        });
        arena
    }

    /// Something changed: a screen for everyone, at the next frame.
    fn request_redraw(this: &Rc<Arena>) {
        if this.redraw.borrow().as_ref().is_some_and(|c| c.is_active()) {
            return; // already scheduled: it will show this change too
        }
        let now = this.clock.now();
        let delay = match this.last_frame.get() {
            Some(last) => (last + FRAME).saturating_sub(now),
            None => Duration::ZERO,
        };
        let call = later(this, delay, Arena::redraw_all);
        *this.redraw.borrow_mut() = Some(call);
    }

    /// The seed's "for p in self.factory.protocols: p.draw()": one screen
    /// per player, except for those too far behind.
    fn redraw_all(this: &Rc<Arena>) {
        this.last_frame.set(Some(this.clock.now()));
        this.log_deaths();
        Arena::send_screens(this, |_| true);
    }

    /// Players who were behind and have drained get the latest screen.
    fn catch_up(this: &Rc<Arena>) {
        Arena::send_screens(this, |player| player.behind);
    }

    /// The screen of this moment to each player `who` picks, unless its
    /// socket is more than MAX_BEHIND bytes behind: that player is marked,
    /// and looked at again in CATCH_UP.
    fn send_screens(this: &Rc<Arena>, who: fn(&Player) -> bool) {
        let frame = this.frame();
        let mut anyone_behind = false;
        for (&id, player) in this.players.borrow_mut().iter_mut() {
            if !who(player) {
                continue;
            }
            player.behind = player.transport.pending() > MAX_BEHIND;
            if player.behind {
                anyone_behind = true;
            } else {
                player.transport.write(frame.screen(id).as_bytes());
            }
        }
        let scheduled = this
            .catch_up
            .borrow()
            .as_ref()
            .is_some_and(|c| c.is_active());
        if anyone_behind && !scheduled {
            let call = later(this, CATCH_UP, Arena::catch_up);
            *this.catch_up.borrow_mut() = Some(call);
        }
    }

    /// What every screen of this frame shows, drawn once for all players.
    fn frame(&self) -> Frame {
        let (width, height) = self.game.size();
        let border = format!("+{}+\r\n", "-".repeat(2 * width + 1));
        let mut grid = String::with_capacity((border.len() + 2) * (height + 2));
        grid.push_str(CLEAR);
        grid.push_str(&border);
        for y in 0..height {
            let _ = write!(grid, "| {} |\r\n", self.game.row(y));
        }
        grid.push_str(&border);
        Frame {
            grid,
            pawns: self.game.pawns(),
        }
    }

    /// A server log line for each pawn that died since the last frame.
    fn log_deaths(&self) {
        for (&id, player) in self.players.borrow_mut().iter_mut() {
            let Some(pawn) = self.game.pawn(id) else {
                continue;
            };
            if player.alive && !pawn.alive {
                player.alive = false;
                log!("{} est mort", pawn.name);
            }
        }
    }
}

/// One frame: the board in its frame (`+---+`, `| A . % |`…) and the
/// pawns, the same for everyone.
struct Frame {
    grid: String,
    pawns: Vec<(PawnId, PawnView)>,
}

impl Frame {
    /// One player's screen: clear, the grid, who plays (alive or dead, and
    /// which one is "you"; on more lines if one is not enough), the keys.
    fn screen(&self, you: PawnId) -> String {
        let mut screen = String::with_capacity(self.grid.len() + 16 * self.pawns.len() + 200);
        screen.push_str(&self.grid);
        let mut line = String::from("joueurs :");
        let mut you_alive = true;
        for (i, (id, pawn)) in self.pawns.iter().enumerate() {
            let state = if pawn.alive { "en vie" } else { "mort" };
            let mark = if *id == you { " (vous)" } else { "" };
            let comma = if i + 1 < self.pawns.len() { "," } else { "" };
            let item = format!(" {}{mark} {state}{comma}", pawn.name);
            if line.len() + item.len() > COLUMNS {
                screen.push_str(&line);
                screen.push_str("\r\n");
                line = " ".repeat("joueurs :".len()); // under the first name
            }
            line.push_str(&item);
            if *id == you {
                you_alive = pawn.alive;
            }
        }
        screen.push_str(&line);
        screen.push_str("\r\n");
        screen.push_str(KEYS);
        screen.push_str("\r\n");
        if !you_alive {
            screen.push_str(
                "vous êtes mort : regardez la suite, ou partez et revenez pour rejouer\r\n",
            );
        }
        screen
    }
}

/// Calls `f` on the arena after `delay`, if the arena still exists.
fn later(this: &Rc<Arena>, delay: Duration, f: fn(&Rc<Arena>)) -> DelayedCall {
    let weak: Weak<Arena> = Rc::downgrade(this);
    this.clock.call_later(delay, move || {
        if let Some(arena) = weak.upgrade() {
            f(&arena);
        }
    })
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
        let game = &self.arena.game;
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
        let player = Player {
            transport: transport.clone(),
            behind: false,
            alive: true,
        };
        // The first screen comes with the next frame (join asked for it).
        self.arena.players.borrow_mut().insert(id, player);
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
        if !self.answers.is_empty() && transport.pending() <= MAX_BEHIND {
            transport.write(&self.answers);
        }
        let game = &self.arena.game;
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

    /// def connectionLost(self, reason): the pawn leaves the board.
    fn connection_lost(&mut self, reason: Reason) {
        let Some(id) = self.pawn.take() else { return };
        let name = self.arena.game.pawn(id).map_or('?', |p| p.name);
        self.arena.players.borrow_mut().remove(&id);
        self.arena.game.leave(id);
        log!(
            "{name} part ({}, connexion {reason}) ; {}",
            self.peer,
            count(self.arena.game.pawns().len())
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
    use reactor::testing::StringTransport;

    /// A 5×5 arena on a manual clock, and its factory.
    fn arena() -> (BoomFactory, Clock) {
        let clock = Clock::manual();
        let arena = Arena::new(Game::new(5, 5, clock.clone()), clock.clone());
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
        ta.write(&[0; MAX_BEHIND]);
        let do_ttype = [telnet::IAC, telnet::DO, 24].repeat(1000);
        a.data_received(&ta, &do_ttype);
        let before = ta.pending();
        a.data_received(&ta, &do_ttype);
        assert_eq!(ta.pending(), before, "no answer piled up");
    }

    #[test]
    fn a_screen_of_26_players_fits_an_80_by_24_terminal() {
        let clock = Clock::manual();
        let arena = Arena::new(
            Game::new(game::WIDTH, game::HEIGHT, clock.clone()),
            clock.clone(),
        );
        let mut f = BoomFactory { arena };
        let players: Vec<_> = (0..MAX_PAWNS).map(|_| player(&mut f)).collect();
        let (mut a, ta) = players.into_iter().next().unwrap();
        a.data_received(&ta, b"e");
        clock.advance(game::FUSE); // A is dead: the longest screen
        clock.advance(FRAME);
        let screen = last_screen(&ta);
        assert!(screen.contains("vous êtes mort"), "{screen}");
        assert!(screen.lines().count() <= 24, "{screen}");
        for line in screen.lines() {
            assert!(line.chars().count() <= COLUMNS, "{line:?}");
        }
        // Every player named, the legend on lines of its own.
        assert!(screen.contains("joueurs : A (vous) mort, B en vie, C en vie,"));
        assert!(screen.contains(" Z en vie\n"), "{screen}");
        // A 27th is refused, politely.
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
        let (_b, tb) = player(&mut f);
        // B never reads: a recording transport keeps everything, so its
        // "pending" bytes only grow, as with a peer that does not read. A
        // reads: its transport is cleared before each key.
        let mut play = |key: &[u8]| {
            ta.clear();
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
        // B's socket takes everything: the next look sends the latest screen.
        tb.clear();
        clock.advance(CATCH_UP);
        assert_eq!(tb.text().matches(CLEAR).count(), 1);
        assert!(last_screen(&tb).contains("| . A % % % |"));
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
        let clock = Clock::manual();
        let arena = Arena::new(Game::new(3, 3, clock.clone()), clock.clone());
        let mut f = BoomFactory { arena };
        let players: Vec<_> = (0..8).map(|_| player(&mut f)).collect();
        let (mut late, t) = player(&mut f);
        assert!(t.text().contains("la partie est pleine"));
        assert!(t.is_disconnecting());
        late.data_received(&t, b"wasde"); // no pawn: nothing happens
        late.connection_lost(Reason::Done);
        assert_eq!(f.arena.game.pawns().len(), 8);
        for (mut p, _) in players {
            p.connection_lost(Reason::Done);
        }
        assert_eq!(f.arena.game.entries(), 0);
        assert!(f.arena.players.borrow().is_empty());
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
