//! `zkclob lobster-replay`: rebuild a book from LOBSTER messages and compare it with the recorded
//! order book after every message.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use zkclob_book::lobster::{parse_book_row, parse_message, BookRow, Message, Replayer};

pub(crate) const SAMPLE_MESSAGES: &str =
    include_str!("../../../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv");
pub(crate) const SAMPLE_ORDERBOOK: &str =
    include_str!("../../../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv");

/// Arguments of `lobster-replay`.
#[derive(Args, Debug)]
pub struct LobsterReplayArgs {
    /// LOBSTER message file. Default: the embedded AAPL 2012-06-21 sample (998 messages).
    #[arg(long, requires = "orderbook")]
    messages: Option<PathBuf>,
    /// LOBSTER orderbook file matching the messages.
    #[arg(long, requires = "messages")]
    orderbook: Option<PathBuf>,
    /// Print every mismatching row, not only the first.
    #[arg(long)]
    all_mismatches: bool,
}

pub(crate) fn parse_all<T>(
    text: &str,
    what: &str,
    f: impl Fn(&str) -> Result<T, zkclob_book::lobster::ParseError>,
) -> anyhow::Result<Vec<T>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| f(l).with_context(|| format!("{what} line {}", i + 1)))
        .collect()
}

/// Runs the replay and prints `rows matched: N/N` last; fails unless every row matched.
pub fn run(args: LobsterReplayArgs) -> anyhow::Result<()> {
    let (messages_text, book_text, source) = match (&args.messages, &args.orderbook) {
        (Some(m), Some(b)) => (
            std::fs::read_to_string(m).with_context(|| format!("reading {}", m.display()))?,
            std::fs::read_to_string(b).with_context(|| format!("reading {}", b.display()))?,
            format!("{} + {}", m.display(), b.display()),
        ),
        _ => (
            SAMPLE_MESSAGES.to_owned(),
            SAMPLE_ORDERBOOK.to_owned(),
            "embedded AAPL 2012-06-21 sample".to_owned(),
        ),
    };
    let messages: Vec<Message> = parse_all(&messages_text, "message file", parse_message)?;
    let rows: Vec<BookRow> = parse_all(&book_text, "orderbook file", parse_book_row)?;
    if messages.len() != rows.len() {
        bail!(
            "{} messages but {} orderbook rows: the files do not belong together",
            messages.len(),
            rows.len()
        );
    }
    let Some(first) = messages.first() else { bail!("the message file is empty") };
    println!("replaying {} messages from {source}", messages.len());
    let started = std::time::Instant::now();
    let mut replayer = Replayer::new(first, &rows[0]).context("seeding the book from the first row")?;
    let mut matched = 0usize;
    let mut reported = 0usize;
    for (i, (m, row)) in messages.iter().zip(&rows).enumerate() {
        replayer.apply(i, m).with_context(|| format!("applying message {} ({m:?})", i + 1))?;
        replayer.reconcile(row);
        match replayer.compare(row) {
            Ok(()) => matched += 1,
            Err(mm) => {
                if reported == 0 || args.all_mismatches {
                    println!(
                        "row {}: {:?} level {} expected (price {}, size {}) got (price {}, size {})",
                        i + 1,
                        mm.side,
                        mm.level + 1,
                        mm.expected.0,
                        mm.expected.1,
                        mm.actual.0,
                        mm.actual.1
                    );
                }
                reported += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    let s = replayer.stats();
    println!(
        "seeded levels: {}  executions through the engine: {}  priority deviations: {}  untracked references: {}",
        s.seeded_levels, s.engine_executions, s.priority_deviations, s.untracked_refs
    );
    println!(
        "levels entering the window from below: {} already right, {} set from the recorded book",
        s.revealed_levels, s.reconciled_levels
    );
    println!(
        "replay time: {:.3} ms ({} live orders at the end)",
        elapsed.as_secs_f64() * 1e3,
        replayer.book().order_count()
    );
    replayer.book().check_invariants().context("book invariants after the replay")?;
    println!("rows matched: {matched}/{}", rows.len());
    if matched != rows.len() {
        bail!("{} rows did not match", rows.len() - matched);
    }
    Ok(())
}
