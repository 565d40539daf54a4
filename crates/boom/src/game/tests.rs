//! The rules of `game`, on a manual clock: moves, bombs, chains, fire,
//! joining and leaving.

use super::Direction::{Down, Left, Right, Up};
use super::*;
use std::cell::Cell;

const MS: Duration = Duration::from_millis(1);

/// A 5×5 game on a manual clock.
fn game() -> (Game, Clock) {
    let clock = Clock::manual();
    (Game::new(5, 5, clock.clone()), clock)
}

/// A joins, drops its bomb at (1, 0), and takes shelter at (0, 1), out
/// of the flame's reach.
fn bomb_then_shelter(g: &Game) -> PawnId {
    let a = g.join().unwrap();
    g.step(a, Right).unwrap();
    g.drop_bomb(a).unwrap();
    g.step(a, Left).unwrap();
    g.step(a, Down).unwrap();
    a
}

/// The whole board, one row a line.
fn picture(game: &Game) -> Vec<String> {
    (0..game.size().1).map(|y| game.row(y)).collect()
}

#[test]
fn a_new_board_has_hard_tiles_where_x_and_y_are_odd_soft_elsewhere() {
    let (g, _) = game();
    assert_eq!(
        picture(&g),
        [
            "% % % % %",
            "% # % # %",
            "% % % % %",
            "% # % # %",
            "% % % % %"
        ]
    );
    assert_eq!(g.tile((1, 1)), Tile::Hard);
    assert_eq!(g.tile((2, 1)), Tile::Soft);
    assert_eq!(g.tile((5, 0)), Tile::Hard, "off the board");
}

#[test]
fn pawns_take_the_corners_and_clear_around_them() {
    let (g, _) = game();
    let ids: Vec<PawnId> = (0..4).map(|_| g.join().unwrap()).collect();
    assert_eq!(
        picture(&g),
        [
            "A . % . C",
            ". # % # .",
            "% % % % %",
            ". # % # .",
            "D . % . B"
        ]
    );
    let names: String = g.pawns().iter().map(|(_, p)| p.name).collect();
    assert_eq!(names, "ABCD");
    assert_eq!(g.pawn(ids[1]).unwrap().pos, (4, 4));
    assert!(g.pawns().iter().all(|(_, p)| p.alive && p.bombs == 1));
}

#[test]
fn the_free_corner_farthest_from_the_others_is_taken() {
    let (g, _) = game();
    let a = g.join().unwrap();
    g.step(a, Right).unwrap(); // A leaves its corner for (1, 0)
    let b = g.join().unwrap();
    assert_eq!(g.pawn(b).unwrap().pos, (4, 4), "not (0, 0), next to A");
    g.step(a, Left).unwrap();
    g.step(a, Down).unwrap(); // A (0, 1)
    let c = g.join().unwrap();
    assert_eq!(g.pawn(c).unwrap().pos, (4, 0), "5 steps from A, 4 from B");
}

#[test]
fn with_the_corners_taken_a_pawn_goes_farthest_from_the_others() {
    let (g, _) = game();
    for _ in 0..4 {
        g.join().unwrap();
    }
    g.join().unwrap();
    // (2, 2) is 4 tiles from every corner; its HARD neighbours stay.
    assert_eq!(picture(&g)[1..4], [". # . # .", "% . E . %", ". # . # ."]);
    // A tile gets free again when its pawn leaves.
    let first = g.pawns()[0].0;
    g.leave(first);
    g.join().unwrap();
    assert_eq!(g.row(0), "F . % . C");
}

#[test]
fn a_full_board_refuses_a_pawn_and_leaving_frees_everything() {
    let clock = Clock::manual();
    let g = Game::new(3, 3, clock);
    // 3×3: 8 tiles that are not HARD, so 8 pawns.
    let ids: Vec<PawnId> = (0..8).map(|_| g.join().unwrap()).collect();
    assert_eq!(g.join(), None, "no free tile left");
    for id in ids {
        g.leave(id);
    }
    assert_eq!(g.entries(), 0, "nothing kept of who left");
    assert!(g.join().is_some());
}

#[test]
fn names_wrap_after_z_and_skip_the_letters_in_use() {
    let clock = Clock::manual();
    let g = Game::new(11, 11, clock);
    let a = g.join().unwrap(); // A stays
    for _ in 1..26 {
        let id = g.join().unwrap();
        g.leave(id);
    }
    // The 27th would be A again, but A is here: B.
    let next = g.join().unwrap();
    assert_eq!(g.pawn(a).unwrap().name, 'A');
    assert_eq!(g.pawn(next).unwrap().name, 'B');
    assert_eq!(g.entries(), 2, "the 25 who left left nothing behind");
}

#[test]
fn one_pawn_per_letter_at_most() {
    let clock = Clock::manual();
    let g = Game::new(11, 11, clock);
    let ids: Vec<PawnId> = (0..MAX_PAWNS).map(|_| g.join().unwrap()).collect();
    let names: String = g.pawns().iter().map(|(_, p)| p.name).collect();
    assert_eq!(names, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    assert_eq!(g.join(), None, "a 27th would share a letter");
    // M leaves: the next one is M, the only letter free.
    g.leave(ids[12]);
    let next = g.join().unwrap();
    assert_eq!(g.pawn(next).unwrap().name, 'M');
    assert_eq!(g.join(), None);
}

#[test]
fn moves_go_onto_empty_tiles_only() {
    let (g, _) = game();
    let a = g.join().unwrap();
    assert_eq!(g.step(a, Up), Err(Refusal::IllegalMove), "off the board");
    assert_eq!(g.step(a, Left), Err(Refusal::IllegalMove), "off the board");
    assert_eq!(g.step(a, Right), Ok(()));
    assert_eq!(g.step(a, Right), Err(Refusal::IllegalMove), "SOFT");
    assert_eq!(g.step(a, Down), Err(Refusal::IllegalMove), "HARD");
    assert_eq!(g.row(0), ". A % % %");
    assert_eq!(g.step(a, Left), Ok(()));
    assert_eq!(g.step(a, Down), Ok(()));
    assert_eq!(g.pawn(a).unwrap().pos, (0, 1));
}

#[test]
fn a_bomb_blocks_the_way_and_one_bomb_at_a_time() {
    let (g, _) = game();
    let a = g.join().unwrap();
    assert_eq!(g.drop_bomb(a), Ok(()));
    assert_eq!(g.pawn(a).unwrap().bombs, 0);
    assert_eq!(g.drop_bomb(a), Err(Refusal::IllegalMove), "only one");
    assert_eq!(g.step(a, Right), Ok(()), "walking off one's bomb is fine");
    assert_eq!(g.step(a, Left), Err(Refusal::IllegalMove), "not back on it");
    assert_eq!(g.row(0), "o A % % %");
    let unknown = PawnId(99);
    assert_eq!(g.step(unknown, Left), Err(Refusal::IllegalMove));
    assert_eq!(g.drop_bomb(unknown), Err(Refusal::IllegalMove));
}

#[test]
fn the_bomb_explodes_after_its_fuse_and_comes_back() {
    let (g, clock) = game();
    let a = bomb_then_shelter(&g);
    clock.advance(FUSE - MS);
    assert!(g.has_bomb((1, 0)));
    assert_eq!(g.pawn(a).unwrap().bombs, 0);
    clock.advance(MS);
    assert!(!g.has_bomb((1, 0)));
    assert_eq!(g.pawn(a).unwrap().bombs, 1, "the bomb came back");
    // Fire on the bomb's tile and one tile around: (0,0), (2,0) burnt
    // from SOFT; (1,1) is HARD: no fire there.
    assert_eq!(picture(&g)[..2], ["* * * % %", "A # % # %"]);
    assert_eq!(g.tile((2, 0)), Tile::Empty);
    assert!(g.pawn(a).unwrap().alive);
    g.drop_bomb(a).unwrap(); // a second bomb, now that it is back
}

#[test]
fn soft_stops_the_flame_and_hard_stops_it_without_fire() {
    let clock = Clock::manual();
    let g = Game::new(11, 11, clock.clone());
    let a = g.join().unwrap();
    // A longer flame shows where it stops (the rules' flame is 1).
    g.inner.board.borrow_mut().pawns.get_mut(&a).unwrap().flame = 3;
    g.step(a, Right).unwrap();
    g.step(a, Left).unwrap();
    g.step(a, Down).unwrap(); // (0, 1)
    g.drop_bomb(a).unwrap();
    g.step(a, Up).unwrap();
    g.step(a, Right).unwrap(); // (1, 0), away from column 0 and row 1
    clock.advance(FUSE);
    // Right: (1,1) HARD, no fire. Down: (0,2) SOFT burns and stops it,
    // (0,3) stays SOFT. Up: (0,0) EMPTY, then the edge.
    assert_eq!(
        picture(&g)[..4],
        [
            "* A % % % % % % % % %",
            "* # % # % # % # % # %",
            "* % % % % % % % % % %",
            "% # % # % # % # % # %"
        ]
    );
    assert!(!g.on_fire((1, 1)));
    assert_eq!(g.tile((1, 1)), Tile::Hard);
    assert_eq!(g.tile((0, 2)), Tile::Empty);
    assert_eq!(g.tile((0, 3)), Tile::Soft);
}

#[test]
fn the_flame_spreads_over_empty_tiles_up_to_its_size() {
    let (g, clock) = game();
    let a = g.join().unwrap();
    g.inner.board.borrow_mut().pawns.get_mut(&a).unwrap().flame = 2;
    // Clear row 0 by hand: the flame runs along EMPTY tiles.
    for x in 0..5 {
        g.inner.board.borrow_mut().set((x, 0), Tile::Empty);
    }
    g.drop_bomb(a).unwrap();
    g.step(a, Down).unwrap(); // (0, 1): in reach (2 tiles down)
    clock.advance(FUSE);
    assert_eq!(g.row(0), "* * * . .", "two tiles, not three");
    assert_eq!(g.row(1), "* # % # %");
    assert_eq!(g.row(2), "* % % % %", "SOFT (0, 2) burnt");
    assert!(!g.pawn(a).unwrap().alive);
}

#[test]
fn a_bomb_in_the_flame_explodes_at_once() {
    let (g, clock) = game();
    let a = g.join().unwrap();
    let c = {
        g.join().unwrap(); // B in (4, 4)
        g.join().unwrap() // C in (4, 0)
    };
    // Clear row 0 so that A and C can get close.
    for x in 0..5 {
        g.inner.board.borrow_mut().set((x, 0), Tile::Empty);
    }
    g.step(a, Right).unwrap(); // A (1, 0)
    g.drop_bomb(a).unwrap();
    g.step(a, Left).unwrap();
    g.step(a, Down).unwrap(); // A (0, 1), safe
    clock.advance(Duration::from_millis(1500));
    g.step(c, Left).unwrap(); // C (3, 0)
    g.step(c, Left).unwrap(); // C (2, 0)
    g.drop_bomb(c).unwrap(); // C's bomb would explode at 3.5 s
    g.step(c, Right).unwrap();
    g.step(c, Right).unwrap();
    g.step(c, Down).unwrap(); // C (4, 1), safe
    clock.advance(Duration::from_millis(500));
    // A's bomb at 2 s reached C's bomb at (2, 0), which exploded too:
    // fire as far as (3, 0).
    assert_eq!(g.row(0), "* * * * .");
    assert_eq!(g.row(1), "A # * # C", "SOFT (2, 1) burnt by C's bomb");
    assert_eq!(g.pawn(c).unwrap().bombs, 1, "C's bomb came back at once");
    assert_eq!(clock.pending(), 5, "five fires, no fuse left");
    clock.advance(Duration::from_secs(5));
    assert_eq!(g.row(0), ". . . . .", "and nothing at 3.5 s");
}

#[test]
fn fire_lasts_one_second_and_a_new_flame_lights_it_again() {
    let (g, clock) = game();
    let a = g.join().unwrap();
    g.join().unwrap(); // B
    let c = g.join().unwrap(); // C in (4, 0)
    for x in 0..5 {
        g.inner.board.borrow_mut().set((x, 0), Tile::Empty);
    }
    g.step(a, Right).unwrap();
    g.drop_bomb(a).unwrap(); // A's bomb at (1, 0): fire (0..=2, 0) at 2 s
    g.step(a, Left).unwrap();
    g.step(a, Down).unwrap();
    clock.advance(Duration::from_millis(500));
    g.step(c, Left).unwrap(); // C (3, 0)
    g.drop_bomb(c).unwrap(); // C's bomb at (3, 0): fire (2..=4, 0) at 2.5 s
    g.step(c, Right).unwrap();
    g.step(c, Down).unwrap();
    clock.advance(Duration::from_millis(1500)); // 2 s
    assert_eq!(g.row(0), "* * * o .");
    clock.advance(Duration::from_millis(500)); // 2.5 s: (2, 0) lit again
    assert_eq!(g.row(0), "* * * * *");
    clock.advance(Duration::from_millis(500)); // 3 s: A's fire out
    assert_eq!(g.row(0), ". . * * *", "(2, 0) burns until 3.5 s");
    clock.advance(Duration::from_millis(499));
    assert!(g.on_fire((2, 0)));
    clock.advance(MS);
    assert_eq!(g.row(0), ". . . . .");
    assert_eq!(clock.pending(), 0);
}

#[test]
fn a_pawn_in_the_fire_dies_and_stays_dead() {
    let (g, clock) = game();
    let a = g.join().unwrap();
    let b = g.join().unwrap();
    g.drop_bomb(a).unwrap();
    clock.advance(FUSE);
    assert!(!g.pawn(a).unwrap().alive, "stood on its bomb");
    assert!(g.pawn(b).unwrap().alive);
    assert_eq!(g.step(a, Right), Err(Refusal::YoureDead));
    assert_eq!(g.drop_bomb(a), Err(Refusal::YoureDead));
    assert_eq!(g.row(0), "* * % % %", "fire over the body");
    clock.advance(FIRE);
    assert_eq!(g.row(0), "a . % % %", "a dead pawn: lower case");
    assert_eq!(g.step(a, Right), Err(Refusal::YoureDead), "still dead");
    // Its bomb came back, but a dead pawn cannot use it.
    assert_eq!(g.pawn(a).unwrap().bombs, 1);
}

#[test]
fn walking_into_fire_kills() {
    let (g, clock) = game();
    let a = bomb_then_shelter(&g);
    clock.advance(FUSE);
    assert!(g.pawn(a).unwrap().alive);
    assert_eq!(g.step(a, Up), Ok(()), "into the fire at (0, 0)");
    assert!(!g.pawn(a).unwrap().alive);
    assert_eq!(g.step(a, Down), Err(Refusal::YoureDead));
}

#[test]
fn the_listener_hears_every_change_and_may_read_the_board() {
    let (g, clock) = game();
    let seen = Rc::new(Cell::new(0));
    let rows = Rc::new(RefCell::new(Vec::new()));
    {
        let (seen, rows) = (Rc::clone(&seen), Rc::clone(&rows));
        g.on_change(move |game| {
            seen.set(seen.get() + 1);
            rows.borrow_mut().push(game.row(0));
        });
    }
    let a = g.join().unwrap(); // 1
    g.step(a, Right).unwrap(); // 2
    let _ = g.step(a, Right); // refused: no change
    g.drop_bomb(a).unwrap(); // 3
    g.step(a, Left).unwrap(); // 4
    g.step(a, Down).unwrap(); // 5
    clock.advance(FUSE); // 6: the explosion
    clock.advance(FIRE); // 7, 8, 9: three tiles go out
    assert_eq!(seen.get(), 9);
    assert_eq!(rows.borrow().last().unwrap(), ". . . % %");
    g.leave(a); // 10
    g.leave(a); // already gone: no change
    assert_eq!(seen.get(), 10);
}

#[test]
fn memory_stays_bounded_however_many_come_and_go() {
    let clock = Clock::manual();
    let g = Game::new(11, 11, clock.clone());
    // Ten players at a time; each drops a bomb, walks, and leaves
    // later, often with its bomb still ticking.
    let mut present = VecDeque::new();
    for round in 0..2000 {
        let id = g.join().unwrap();
        let _ = g.drop_bomb(id);
        let _ = g.step(id, if round % 2 == 0 { Right } else { Down });
        present.push_back(id);
        if present.len() > 10 {
            g.leave(present.pop_front().unwrap());
        }
        clock.advance(Duration::from_millis(300));
        // Ten pawns, ten bombs, and what burns: one entry per tile.
        assert!(g.entries() <= 10 + 10 + 11 * 11, "round {round}");
    }
    for id in present {
        g.leave(id);
    }
    // In steps: a call made by a call is due a second after it ran.
    for _ in 0..50 {
        clock.advance(Duration::from_millis(100));
    }
    assert_eq!(g.entries(), 0);
    assert_eq!(clock.pending(), 0, "every fuse and fire done");
}

#[test]
fn a_dropped_game_leaves_its_timers_harmless() {
    let (g, clock) = game();
    let a = g.join().unwrap();
    g.drop_bomb(a).unwrap();
    drop(g);
    clock.advance(FUSE); // the fuse finds no game, and does nothing
    assert_eq!(clock.pending(), 0);
}
