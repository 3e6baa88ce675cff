//! What the readers share: their error type, limits, and exact number conversions.

use zkclob_book::lobster::ParseError;

/// Most levels per side an [`L2Stream`](super::L2Stream) may show.
pub const MAX_WINDOW_LEVELS: usize = 1000;
/// Most price levels per side the hftbacktest reader keeps in its book.
pub const MAX_BOOK_LEVELS: usize = 100_000;
/// Longest accepted line, bytes.
pub const MAX_LINE_LEN: usize = zkclob_book::lobster::MAX_LINE_LEN;

/// Which LOBSTER file a [`L2ParseErrorKind::Lobster`] error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LobsterFile {
    /// The message file.
    Message,
    /// The orderbook file.
    Orderbook,
}

/// Why input could not be read, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct L2ParseError {
    /// 1-based line number in the input (for LOBSTER, in the file the kind names; 0 for an
    /// invalid option).
    pub line: usize,
    /// What is wrong.
    pub kind: L2ParseErrorKind,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum L2ParseErrorKind {
    /// The line is longer than [`MAX_LINE_LEN`].
    #[error("line longer than {MAX_LINE_LEN} bytes")]
    LineTooLong,
    /// Wrong number of comma-separated fields.
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// Fields expected.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A field is not a number of the expected form.
    #[error("field {field} is not a valid number")]
    BadNumber {
        /// 0-based field index.
        field: usize,
    },
    /// A price or quantity is not a whole number of ticks or lots.
    #[error("field {field} is not on the tick/lot grid")]
    OffGrid {
        /// 0-based field index.
        field: usize,
    },
    /// A level or trade quantity of zero (or negative).
    #[error("field {field}: quantity must be positive")]
    NonPositiveQty {
        /// 0-based field index.
        field: usize,
    },
    /// The row kind of the CSV format is not `bid`, `ask` or `trade`.
    #[error("unknown row kind {0:?}")]
    UnknownKind(String),
    /// A trade's aggressor is not `buy` or `sell`.
    #[error("aggressor must be buy or sell, found {0:?}")]
    BadAggressor(String),
    /// A depth row's level does not continue its side's snapshot (1, 2, 3, … or a lone 0).
    #[error("level {found} out of sequence")]
    LevelSequence {
        /// The level of the row.
        found: usize,
    },
    /// Prices of a side's snapshot do not strictly worsen level by level.
    #[error("prices must strictly worsen from level to level")]
    LevelOrder,
    /// More levels than the window (or, for hftbacktest, than [`MAX_BOOK_LEVELS`]).
    #[error("more than {max} levels on a side")]
    TooManyLevels {
        /// The limit.
        max: usize,
    },
    /// Time goes back.
    #[error("time goes back")]
    TimeReversal,
    /// An hftbacktest event kind the L2 reader does not take (only 1–4 are L2 events).
    #[error("unsupported hftbacktest event kind {0}")]
    UnsupportedEvent(u64),
    /// An hftbacktest depth or trade event without exactly one of `BUY_EVENT`, `SELL_EVENT`.
    #[error("event flags {0:#x} name no side or both")]
    BadSideFlags(u64),
    /// A LOBSTER line is malformed.
    #[error("LOBSTER {file:?} file: {error}")]
    Lobster {
        /// Which file.
        file: LobsterFile,
        /// The book crate's reason.
        error: ParseError,
    },
    /// The LOBSTER orderbook file does not have one row per message (the line is the first one
    /// without a partner).
    #[error("{messages} messages but {rows} orderbook rows")]
    RowCount {
        /// Messages.
        messages: usize,
        /// Rows.
        rows: usize,
    },
    /// A LOBSTER orderbook row has a different number of levels than the first.
    #[error("orderbook row has {found} levels, the first had {expected}")]
    WindowMismatch {
        /// Levels of the first row.
        expected: usize,
        /// Levels of this row.
        found: usize,
    },
    /// A reader option is out of range.
    #[error("invalid option {name} = {value}: {requirement}")]
    InvalidOption {
        /// Option.
        name: &'static str,
        /// Value.
        value: f64,
        /// What it must be.
        requirement: &'static str,
    },
}

impl L2ParseErrorKind {
    /// This error at `line`.
    pub(crate) fn at(self, line: usize) -> L2ParseError {
        L2ParseError { line, kind: self }
    }
}

/// Checks a tick or lot size.
pub(crate) fn check_unit(name: &'static str, unit: f64) -> Result<(), L2ParseError> {
    if unit.is_finite() && unit > 0.0 {
        Ok(())
    } else {
        Err(L2ParseErrorKind::InvalidOption { name, value: unit, requirement: "finite and > 0" }.at(0))
    }
}

/// Checks a window size.
pub(crate) fn check_window(window_levels: usize) -> Result<(), L2ParseError> {
    if (1..=MAX_WINDOW_LEVELS).contains(&window_levels) {
        Ok(())
    } else {
        Err(L2ParseErrorKind::InvalidOption {
            name: "window_levels",
            value: window_levels as f64,
            requirement: "between 1 and MAX_WINDOW_LEVELS",
        }
        .at(0))
    }
}

/// `x / unit` as a whole number, if it is one (to within 10⁻⁶ of a unit, which absorbs the binary
/// representation of decimal prices such as 0.01).
pub(crate) fn to_units(x: f64, unit: f64, field: usize) -> Result<i64, L2ParseErrorKind> {
    const MAX_EXACT: f64 = (1u64 << 53) as f64;
    if !x.is_finite() {
        return Err(L2ParseErrorKind::BadNumber { field });
    }
    let v = x / unit;
    let r = v.round();
    if (v - r).abs() > 1e-6 || r.abs() > MAX_EXACT {
        return Err(L2ParseErrorKind::OffGrid { field });
    }
    Ok(r as i64)
}

/// A quantity in lots: on the grid and not negative (zero allowed: callers decide).
pub(crate) fn to_lots(x: f64, lot: f64, field: usize) -> Result<u64, L2ParseErrorKind> {
    u64::try_from(to_units(x, lot, field)?).map_err(|_| L2ParseErrorKind::NonPositiveQty { field })
}

/// Parses a number field.
pub(crate) fn num<T: std::str::FromStr>(s: &str, field: usize) -> Result<T, L2ParseErrorKind> {
    s.trim().parse::<T>().map_err(|_| L2ParseErrorKind::BadNumber { field })
}

/// Parses `seconds[.fraction]` (fraction up to nine digits) into nanoseconds, without floats.
pub(crate) fn parse_time_ns(s: &str, field: usize) -> Result<i64, L2ParseErrorKind> {
    let bad = L2ParseErrorKind::BadNumber { field };
    let s = s.trim();
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || frac.len() > 9 || !digits(secs) || !digits(frac) {
        return Err(bad);
    }
    let secs: i64 = secs.parse().map_err(|_| bad.clone())?;
    let mut frac_ns: i64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        frac_ns += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    secs.checked_mul(1_000_000_000).and_then(|n| n.checked_add(frac_ns)).ok_or(bad)
}

/// The non-empty, non-comment lines of `text` with their 1-based numbers, length-checked.
pub(crate) fn data_lines(text: &str) -> impl Iterator<Item = Result<(usize, &str), L2ParseError>> {
    text.lines().enumerate().filter_map(|(i, raw)| {
        let line = i + 1;
        if raw.len() > MAX_LINE_LEN {
            return Some(Err(L2ParseErrorKind::LineTooLong.at(line)));
        }
        let l = raw.trim();
        (!l.is_empty() && !l.starts_with('#')).then_some(Ok((line, l)))
    })
}
