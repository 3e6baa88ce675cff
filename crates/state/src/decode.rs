//! A hand-written decoder of a batch's commands: the bytes borsh's derived decoding reads, the
//! values it gives, and an error wherever it gives one — in about a third of its cycles inside a
//! zkVM guest, where decoding the input was a quarter of a command's cost (borsh reads every field
//! through `io::Read`, copies each key and signature through two temporaries, and moves every
//! command once more into the growing `Vec`).
//!
//! The common commands — deposits, and signed place, cancel, amend, mass cancel, withdraw and
//! collect-fees — are read here field by field from the slice; `AddMarket` (rare, and the largest)
//! goes through borsh. Tests hold this decoder to borsh's on every kind of command and on
//! thousands of mangled inputs (truncated, bytes flipped, tags out of range), and `fuzz/`
//! compares the two on arbitrary bytes.

use alloc::vec::Vec;
use borsh::io::{Error, ErrorKind, Result};
use borsh::BorshDeserialize;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{Amount, AssetId, MarketId, OrderId, Price, Qty, Side, Timestamp};

use crate::command::{Action, Command, OrderParams, SignedCommand};
use crate::crypto::Address;

/// The fewest bytes any command takes (a deposit: tag, address, asset, amount).
const MIN_COMMAND_BYTES: usize = 1 + 20 + 4 + 16;

fn eof() -> Error {
    Error::new(ErrorKind::UnexpectedEof, "the batch ends inside a command")
}

fn invalid(what: &'static str) -> Error {
    Error::new(ErrorKind::InvalidData, what)
}

/// Reads fixed-size fields off the front of a slice.
struct Reader<'a>(&'a [u8]);

/// Where each command's action lies in the bytes given to [`decode_commands_with_actions`]:
/// `(start, end)` offsets; `(0, 0)` for a deposit, which has none.
pub type ActionSpans = Vec<(usize, usize)>;

impl Reader<'_> {
    #[inline(always)]
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or_else(eof)?;
        self.0 = rest;
        Ok(*head)
    }

    #[inline(always)]
    fn u8(&mut self) -> Result<u8> {
        let (&b, rest) = self.0.split_first().ok_or_else(eof)?;
        self.0 = rest;
        Ok(b)
    }

    #[inline(always)]
    fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }

    #[inline(always)]
    fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }

    #[inline(always)]
    fn u128(&mut self) -> Result<u128> {
        self.array().map(u128::from_le_bytes)
    }

    #[inline(always)]
    fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(invalid("a bool is neither 0 nor 1")),
        }
    }

    #[inline(always)]
    fn side(&mut self) -> Result<Side> {
        match self.u8()? {
            0 => Ok(Side::Buy),
            1 => Ok(Side::Sell),
            _ => Err(invalid("unknown side")),
        }
    }

    fn order(&mut self) -> Result<OrderParams> {
        let market = MarketId(self.u32()?);
        let side = self.side()?;
        let kind = match self.u8()? {
            0 => OrderKind::Limit,
            1 => OrderKind::Market,
            _ => return Err(invalid("unknown order kind")),
        };
        let price = Price(self.u64()? as i64);
        let qty = Qty(self.u64()?);
        let tif = match self.u8()? {
            0 => TimeInForce::Gtc,
            1 => TimeInForce::Ioc,
            2 => TimeInForce::Fok,
            3 => TimeInForce::Gtd(Timestamp(self.u64()?)),
            _ => return Err(invalid("unknown time in force")),
        };
        let post_only = self.bool()?;
        let display_qty = match self.u8()? {
            0 => None,
            1 => Some(Qty(self.u64()?)),
            _ => return Err(invalid("an option tag is neither 0 nor 1")),
        };
        let stp = match self.u8()? {
            0 => StpMode::CancelNewest,
            1 => StpMode::CancelOldest,
            2 => StpMode::CancelBoth,
            3 => StpMode::Decrement,
            _ => return Err(invalid("unknown self-trade prevention mode")),
        };
        Ok(OrderParams { market, side, kind, price, qty, tif, post_only, display_qty, stp })
    }

    fn action(&mut self) -> Result<Action> {
        let tag = *self.0.first().ok_or_else(eof)?;
        if tag == 5 {
            // AddMarket: rare, so borsh's own code reads it (tag included).
            return Action::deserialize(&mut self.0);
        }
        self.u8()?;
        Ok(match tag {
            0 => Action::Place(self.order()?),
            1 => Action::Cancel { market: MarketId(self.u32()?), order_id: OrderId(self.u64()?) },
            2 => Action::Amend {
                market: MarketId(self.u32()?),
                order_id: OrderId(self.u64()?),
                price: Price(self.u64()? as i64),
                qty: Qty(self.u64()?),
            },
            3 => Action::MassCancel {
                market: MarketId(self.u32()?),
                side: match self.u8()? {
                    0 => None,
                    1 => Some(self.side()?),
                    _ => return Err(invalid("an option tag is neither 0 nor 1")),
                },
            },
            4 => Action::Withdraw { asset: AssetId(self.u32()?), amount: Amount(self.u128()?) },
            6 => Action::CollectFees { asset: AssetId(self.u32()?), amount: Amount(self.u128()?) },
            _ => return Err(invalid("unknown action")),
        })
    }

    /// A command and its action's span; `total` is the length of the whole input.
    fn command(&mut self, total: usize) -> Result<(Command, (usize, usize))> {
        match self.u8()? {
            0 => Ok((
                Command::Deposit {
                    to: Address(self.array()?),
                    asset: AssetId(self.u32()?),
                    amount: Amount(self.u128()?),
                },
                (0, 0),
            )),
            1 => {
                let signer = self.array()?;
                let nonce = self.u64()?;
                let start = total - self.0.len();
                let action = self.action()?;
                let end = total - self.0.len();
                let signature = self.array()?;
                Ok((Command::Signed(SignedCommand { signer, nonce, action, signature }), (start, end)))
            }
            _ => Err(invalid("unknown command")),
        }
    }
}

/// Reads a borsh `Vec<Command>` off the front of `buf` (advancing it past what was read), exactly
/// as `Vec::<Command>::deserialize` does.
pub fn decode_commands(buf: &mut &[u8]) -> Result<Vec<Command>> {
    decode_commands_with_actions(buf).map(|(commands, _)| commands)
}

/// [`decode_commands`], also giving where each command's action was read (offsets from the
/// start of `buf`): the canonical encoding of the action, which the signing hash covers, so a
/// guest hashes those bytes as received instead of encoding the action again.
pub fn decode_commands_with_actions(buf: &mut &[u8]) -> Result<(Vec<Command>, ActionSpans)> {
    let total = buf.len();
    let mut r = Reader(buf);
    let count = r.u32()? as usize;
    // Never reserve more than the bytes left could hold: a forged count allocates nothing big.
    let room = count.min(r.0.len() / MIN_COMMAND_BYTES);
    let mut commands = Vec::with_capacity(room);
    let mut spans = Vec::with_capacity(room);
    for _ in 0..count {
        let (command, span) = r.command(total)?;
        commands.push(command);
        spans.push(span);
    }
    *buf = r.0;
    Ok((commands, spans))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::FeeSchedule;
    use borsh::BorshSerialize;
    use zkclob_core::MarketSpec;

    fn every_kind() -> Vec<Command> {
        let signed = |nonce: u64, action: Action| {
            Command::Signed(SignedCommand { signer: [nonce as u8; 64], nonce, action, signature: [7; 64] })
        };
        let place = |tif, display_qty, stp, side, kind, post_only| {
            Action::Place(OrderParams {
                market: MarketId(3),
                side,
                kind,
                price: Price(-42),
                qty: Qty(u64::MAX),
                tif,
                post_only,
                display_qty,
                stp,
            })
        };
        alloc::vec![
            Command::Deposit { to: Address([9; 20]), asset: AssetId(u32::MAX), amount: Amount(u128::MAX) },
            signed(
                1,
                place(TimeInForce::Gtc, None, StpMode::CancelNewest, Side::Buy, OrderKind::Limit, false)
            ),
            signed(
                2,
                place(
                    TimeInForce::Ioc,
                    Some(Qty(5)),
                    StpMode::CancelOldest,
                    Side::Sell,
                    OrderKind::Market,
                    true
                )
            ),
            signed(3, place(TimeInForce::Fok, None, StpMode::CancelBoth, Side::Buy, OrderKind::Limit, true)),
            signed(
                4,
                place(
                    TimeInForce::Gtd(Timestamp(77)),
                    Some(Qty(0)),
                    StpMode::Decrement,
                    Side::Sell,
                    OrderKind::Limit,
                    false
                )
            ),
            signed(5, Action::Cancel { market: MarketId(1), order_id: OrderId(u64::MAX) }),
            signed(
                6,
                Action::Amend {
                    market: MarketId(2),
                    order_id: OrderId(3),
                    price: Price(i64::MIN),
                    qty: Qty(4)
                }
            ),
            signed(7, Action::MassCancel { market: MarketId(2), side: None }),
            signed(8, Action::MassCancel { market: MarketId(2), side: Some(Side::Sell) }),
            signed(9, Action::Withdraw { asset: AssetId(1), amount: Amount(12345) }),
            signed(
                10,
                Action::AddMarket {
                    spec: MarketSpec::example(),
                    fees: FeeSchedule { maker_bps: 1, taker_bps: 2 }
                }
            ),
            signed(11, Action::CollectFees { asset: AssetId(0), amount: Amount(1) }),
        ]
    }

    /// Commands decoded and the bytes left after them.
    type Decoded = Result<(Vec<Command>, usize)>;

    fn both(bytes: &[u8]) -> (Decoded, Decoded) {
        let mut a = bytes;
        let mine = decode_commands(&mut a).map(|v| (v, a.len()));
        let mut b = bytes;
        let theirs = Vec::<Command>::deserialize_reader(&mut b).map(|v| (v, b.len()));
        (mine, theirs)
    }

    fn agree(bytes: &[u8]) {
        match both(bytes) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "different values from {bytes:?}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("decoders disagree on {bytes:?}: mine {a:?}, borsh {b:?}"),
        }
    }

    #[test]
    fn every_kind_of_command_decodes_as_borsh_decodes_it() {
        let commands = every_kind();
        let mut bytes = borsh::to_vec(&commands).unwrap();
        bytes.extend_from_slice(b"tail");
        let (mine, theirs) = both(&bytes);
        assert_eq!(mine.unwrap(), (commands, 4));
        assert_eq!(theirs.unwrap().1, 4);
    }

    #[test]
    fn mangled_batches_get_the_same_verdict_from_both_decoders() {
        let commands = every_kind();
        let good = borsh::to_vec(&commands).unwrap();
        // Every truncation.
        for len in 0..good.len() {
            agree(&good[..len]);
        }
        // Every byte set to values that hit tags, lengths and flags out of range.
        for i in 0..good.len() {
            for v in [0u8, 1, 2, 3, 4, 5, 6, 7, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                agree(&bad);
            }
        }
        // A count far beyond the bytes reserves nothing big and fails.
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        agree(&huge);
        assert!(decode_commands(&mut huge.as_slice()).is_err());
    }

    #[test]
    fn each_span_holds_the_canonical_encoding_of_its_action() {
        let commands = every_kind();
        let bytes = borsh::to_vec(&commands).unwrap();
        let (decoded, spans) = decode_commands_with_actions(&mut bytes.as_slice()).unwrap();
        assert_eq!(decoded, commands);
        for (c, (start, end)) in commands.iter().zip(spans) {
            match c {
                Command::Signed(s) => {
                    assert_eq!(&bytes[start..end], borsh::to_vec(&s.action).unwrap())
                }
                Command::Deposit { .. } => assert_eq!((start, end), (0, 0)),
            }
        }
    }

    #[test]
    fn one_command_at_a_time_round_trips() {
        for c in every_kind() {
            let bytes = borsh::to_vec(&alloc::vec![c.clone()]).unwrap();
            let mut rest = bytes.as_slice();
            assert_eq!(decode_commands(&mut rest).unwrap(), alloc::vec![c.clone()]);
            assert!(rest.is_empty());
            let mut enc = Vec::new();
            c.serialize(&mut enc).unwrap();
            assert_eq!(&bytes[4..], &enc[..]);
        }
    }
}
