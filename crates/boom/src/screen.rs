//! What a player sees: the board in its frame, who plays, the keys. Pure
//! text, drawn from a [`Game`]; the [`arena`](crate::arena) sends it.
//!
//! ```text
//! +-----------+
//! | A . % % % |
//! | . # % # % |
//! | % % % % % |
//! | % # % # % |
//! | % % % % B |
//! +-----------+
//! joueurs : A (vous) en vie, B en vie
//! touches : w haut, a gauche, s bas, d droite, e bombe (nc : touche puis Entrée)
//! ```

use std::fmt::Write as _;

use crate::game::{Game, PawnId, PawnView};

/// ANSI: cursor to the top left, then clear the screen. Every screen
/// starts with it.
pub const CLEAR: &str = "\x1b[H\x1b[2J";

/// Characters in a line of the screen, at most: an 80-column terminal
/// shows each line whole (at the 80th, some terminals already wrap).
pub const COLUMNS: usize = 79;

/// The last line of every screen (78 characters).
pub const KEYS: &str =
    "touches : w haut, a gauche, s bas, d droite, e bombe (nc : touche puis Entrée)";

/// One frame: the board in its frame (`+---+`, `| A . % |`…) and the
/// pawns, the same for everyone; [`Frame::screen`] makes each player's.
pub struct Frame {
    grid: String,
    pawns: Vec<(PawnId, PawnView)>,
}

impl Frame {
    /// What every screen of this moment shows, drawn once for all players.
    pub fn of(game: &Game) -> Frame {
        let (width, height) = game.size();
        let border = format!("+{}+\r\n", "-".repeat(2 * width + 1));
        let mut grid = String::with_capacity((border.len() + 2) * (height + 2));
        grid.push_str(CLEAR);
        grid.push_str(&border);
        for y in 0..height {
            let _ = write!(grid, "| {} |\r\n", game.row(y));
        }
        grid.push_str(&border);
        Frame {
            grid,
            pawns: game.pawns(),
        }
    }

    /// One player's screen: clear, the grid, who plays (alive or dead, and
    /// which one is "you"; on more lines if one is not enough), the keys.
    pub fn screen(&self, you: PawnId) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{self, MAX_PAWNS};
    use reactor::Clock;

    #[test]
    fn a_screen_shows_the_board_who_plays_and_the_keys() {
        let game = Game::new(5, 5, Clock::manual());
        let a = game.join().unwrap();
        let b = game.join().unwrap();
        let frame = Frame::of(&game);
        assert_eq!(
            frame.screen(b).replace("\r\n", "\n"),
            format!(
                "{CLEAR}+-----------+\n\
                 | A . % % % |\n\
                 | . # % # % |\n\
                 | % % % % % |\n\
                 | % # % # . |\n\
                 | % % % . B |\n\
                 +-----------+\n\
                 joueurs : A en vie, B (vous) en vie\n\
                 {KEYS}\n"
            )
        );
        assert!(
            frame
                .screen(a)
                .contains("joueurs : A (vous) en vie, B en vie\r\n")
        );
    }

    #[test]
    fn a_screen_of_26_players_one_dead_fits_an_80_by_24_terminal() {
        let clock = Clock::manual();
        let game = Game::new(game::WIDTH, game::HEIGHT, clock.clone());
        let ids: Vec<PawnId> = (0..MAX_PAWNS).map(|_| game.join().unwrap()).collect();
        game.drop_bomb(ids[0]).unwrap();
        clock.advance(game::FUSE); // A is dead: the longest screen
        let screen = Frame::of(&game).screen(ids[0]);
        assert!(screen.contains("vous êtes mort"), "{screen}");
        assert!(screen.lines().count() <= 24, "{screen}");
        for line in screen.lines() {
            assert!(line.chars().count() <= COLUMNS, "{line:?}");
        }
        // Every player named, the legend on lines of its own.
        assert!(screen.contains("joueurs : A (vous) mort, B en vie, C en vie,"));
        assert!(screen.contains(" Z en vie\r\n"), "{screen}");
    }
}
