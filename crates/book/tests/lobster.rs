//! The real AAPL LOBSTER sample replays through the engine and matches the recorded book on every
//! row, all 10 levels, both sides.

use zkclob_book::lobster::{parse_book_row, parse_message, Replayer};

const MESSAGES: &str = include_str!("../../../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv");
const ORDERBOOK: &str =
    include_str!("../../../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv");

#[test]
fn aapl_sample_matches_every_row() {
    let messages: Vec<_> = MESSAGES.lines().map(|l| parse_message(l).expect("message")).collect();
    let rows: Vec<_> = ORDERBOOK.lines().map(|l| parse_book_row(l).expect("row")).collect();
    // 999 events: the last line has no trailing newline, so `wc -l` shows 998.
    assert_eq!(messages.len(), 999);
    assert_eq!(rows.len(), messages.len());
    let mut r = Replayer::new(&messages[0], &rows[0]).expect("seed");
    for (i, (m, row)) in messages.iter().zip(&rows).enumerate() {
        r.apply(i, m).expect("apply");
        r.reconcile(row);
        if let Err(mm) = r.compare(row) {
            panic!("row {}: {mm:?}", i + 1);
        }
        r.book().check_invariants().expect("invariants");
    }
    let s = r.stats();
    assert_eq!(s.priority_deviations, 0, "Nasdaq's executions follow our price-time priority");
    assert!(
        s.engine_executions >= 90,
        "executions replayed through the matching engine: {}",
        s.engine_executions
    );
    assert_eq!(s.untracked_refs, 0);
}

#[test]
fn a_wrong_book_is_detected() {
    let messages: Vec<_> = MESSAGES.lines().take(20).map(|l| parse_message(l).unwrap()).collect();
    let rows: Vec<_> = ORDERBOOK.lines().take(20).map(|l| parse_book_row(l).unwrap()).collect();
    let mut r = Replayer::new(&messages[0], &rows[0]).unwrap();
    r.apply(0, &messages[0]).unwrap();
    // Skip message 2 (a new bid inside the window): row 2 must then differ.
    assert!(r.compare(&rows[1]).is_err());
}
