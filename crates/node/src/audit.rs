//! The audit log: every journaled command's outcome and every book event it caused, as JSON lines
//! in `<data_dir>/audit/audit-{first_seq:020}.jsonl` (rotated at [`SEGMENT_BYTES`]), written by
//! its own thread from what the engine hands it after each durable group commit.
//!
//! It is a human- and tool-readable view, not a second source of truth: the journal is the
//! durable record (the audit file is flushed per group, not fsynced), and replaying the journal
//! reproduces every line. Lines:
//!
//! ```text
//! {"type":"command","seq":41,"batch":3,"account":"0x..","nonce":7,"action":"place","status":"applied","order_id":12,"filled":0,"resting":5}
//! {"type":"command","seq":42,"batch":3,"account":"0x..","nonce":2,"action":"cancel","status":"rejected","code":"not_your_order"}
//! {"type":"event","batch":3,"market":1,"event":"fill","maker_order":12,"maker_account":4,"taker_order":13,"taker_account":5,"price":2001,"qty":2}
//! ```

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use zkclob_book::Event;
use zkclob_core::MarketId;
use zkclob_state::{Action, Address, Command, Receipt};

use crate::api::reject_text;
use crate::market_data::side_str;

/// Size at which the audit file rotates.
pub const SEGMENT_BYTES: u64 = 64 << 20;

/// One journaled command's outcome.
#[derive(Clone, Debug)]
pub struct AuditCommand {
    /// Journal sequence number.
    pub seq: u64,
    /// Batch.
    pub batch: u64,
    /// Signer (None for deposits).
    pub account: Option<Address>,
    /// Nonce (0 for deposits).
    pub nonce: u64,
    /// place, cancel, amend, mass_cancel, withdraw, add_market, deposit.
    pub action: &'static str,
    /// What it did.
    pub receipt: Receipt,
}

impl AuditCommand {
    /// The audit entry of a journaled command acting for `account` (the signer's address, or a
    /// deposit's recipient).
    pub fn new(seq: u64, batch: u64, command: &Command, account: Address, receipt: Receipt) -> AuditCommand {
        let (nonce, action) = match command {
            Command::Deposit { .. } => (0, "deposit"),
            Command::Signed(s) => (
                s.nonce,
                match s.action {
                    Action::Place(_) => "place",
                    Action::Cancel { .. } => "cancel",
                    Action::Amend { .. } => "amend",
                    Action::MassCancel { .. } => "mass_cancel",
                    Action::Withdraw { .. } => "withdraw",
                    Action::AddMarket { .. } => "add_market",
                    Action::CollectFees { .. } => "collect_fees",
                },
            ),
        };
        let account = Some(account);
        AuditCommand { seq, batch, account, nonce, action, receipt }
    }
}

/// What one group commit hands the audit thread.
#[derive(Clone, Debug, Default)]
pub struct AuditRecord {
    /// Journaled commands, in order.
    pub commands: Vec<AuditCommand>,
    /// Book events, in order, with their batch and market.
    pub events: Vec<(u64, MarketId, Event)>,
}

/// Appends `text` to `out` as a JSON string's contents.
fn push_escaped(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// A reason's name (its `Debug` form) as a JSON string.
fn push_reason(out: &mut String, reason: &impl std::fmt::Debug) {
    out.push('"');
    push_escaped(out, &format!("{reason:?}"));
    out.push('"');
}

/// One event's line (with its newline), written field by field: the audit thread writes a line
/// per command and per event, and building `serde_json::Value` maps for them cost more than
/// the rest of its work.
fn event_line(out: &mut String, batch: u64, m: MarketId, e: &Event) {
    let _ = write!(out, r#"{{"type":"event","batch":{batch},"market":{},"#, m.0);
    let _ = match *e {
        Event::Accepted { order_id, account, side, price, qty } => write!(
            out,
            r#""event":"accepted","order_id":{},"account":{},"side":"{}","price":{},"qty":{}}}"#,
            order_id.0,
            account.0,
            side_str(side),
            price.0,
            qty.0
        ),
        Event::Fill(f) => write!(
            out,
            concat!(
                r#""event":"fill","maker_order":{},"maker_account":{},"taker_order":{},"#,
                r#""taker_account":{},"taker_side":"{}","price":{},"qty":{},"maker_remaining":{}}}"#
            ),
            f.maker_order.0,
            f.maker_account.0,
            f.taker_order.0,
            f.taker_account.0,
            side_str(f.taker_side),
            f.price.0,
            f.qty.0,
            f.maker_remaining.0
        ),
        Event::Cancelled { order_id, account, cancelled, remaining, reason, .. } => {
            let _ = write!(
                out,
                r#""event":"cancelled","order_id":{},"account":{},"cancelled":{},"remaining":{},"reason":"#,
                order_id.0, account.0, cancelled.0, remaining.0
            );
            push_reason(out, &reason);
            out.push('}');
            Ok(())
        }
        Event::Expired { order_id, account, remaining, .. } => write!(
            out,
            r#""event":"expired","order_id":{},"account":{},"remaining":{}}}"#,
            order_id.0, account.0, remaining.0
        ),
        Event::Amended { order_id, price, qty, priority_kept } => write!(
            out,
            r#""event":"amended","order_id":{},"price":{},"qty":{},"priority_kept":{}}}"#,
            order_id.0, price.0, qty.0, priority_kept
        ),
        Event::Done { order_id, filled, resting } => write!(
            out,
            r#""event":"done","order_id":{},"filled":{},"resting":{}}}"#,
            order_id.0, filled.0, resting.0
        ),
        Event::Rejected { order_id, reason } => {
            let _ = write!(out, r#""event":"rejected","order_id":{},"reason":"#, order_id.0);
            push_reason(out, &reason);
            out.push('}');
            Ok(())
        }
    };
    out.push('\n');
}

/// One command's line (with its newline).
fn command_line(out: &mut String, c: &AuditCommand) {
    let _ = write!(out, r#"{{"type":"command","seq":{},"batch":{},"account":"#, c.seq, c.batch);
    let _ = match c.account {
        Some(a) => write!(out, r#""{a}""#),
        None => write!(out, "null"),
    };
    let _ = write!(out, r#","nonce":{},"action":"{}","status":"#, c.nonce, c.action);
    let _ = match c.receipt {
        Receipt::Applied(a) => {
            out.push_str(r#""applied","order_id":"#);
            let _ = match a.order_id {
                Some(o) => write!(out, "{}", o.0),
                None => write!(out, "null"),
            };
            write!(out, r#","filled":{},"resting":{}}}"#, a.filled.0, a.resting.0)
        }
        Receipt::Rejected(code) => write!(out, r#""rejected","code":"{}"}}"#, reject_text(&code).0),
    };
    out.push('\n');
}

struct Writer {
    dir: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    written: u64,
    /// The group's lines, reused.
    text: String,
}

impl Writer {
    fn file(&mut self, first_seq: u64) -> std::io::Result<&mut std::io::BufWriter<std::fs::File>> {
        if self.file.is_none() || self.written >= SEGMENT_BYTES {
            if let Some(f) = &mut self.file {
                f.flush()?;
            }
            let path = self.dir.join(format!("audit-{first_seq:020}.jsonl"));
            let f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            self.written = f.metadata()?.len();
            self.file = Some(std::io::BufWriter::with_capacity(1 << 16, f));
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn write(&mut self, r: &AuditRecord) -> std::io::Result<()> {
        let first = r.commands.first().map_or(0, |c| c.seq);
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        // Commands and events interleave by batch only; each command's events follow the group.
        for c in &r.commands {
            command_line(&mut text, c);
        }
        for (b, m, e) in &r.events {
            event_line(&mut text, *b, *m, e);
        }
        let f = self.file(first)?;
        let written = f.write_all(text.as_bytes());
        self.written += text.len() as u64;
        self.text = text;
        written
    }

    /// Hands what is buffered to the kernel, and starts writing it to the disk
    /// ([`start_writeback`]).
    fn flush(&mut self) -> std::io::Result<()> {
        let Some(f) = self.file.as_mut() else { return Ok(()) };
        f.flush()?;
        start_writeback(f.get_ref());
        Ok(())
    }
}

/// Starts writing `file`'s dirty pages to the device without waiting for them
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`; nothing elsewhere). The audit log calls it after
/// each pass, so that what it writes reaches the disk in a steady trickle: left to the kernel,
/// it went in bursts (the flusher writes back pages 30 s old, about 25 MB a second of log at
/// 50,000 commands/s), and the journal's commits — whose cache flush must carry whatever else
/// was written before it — waited behind each burst.
fn start_writeback(file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only schedules writeback of its pages.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// The audit thread's pause between passes. Each pass writes every record queued meanwhile (at
/// 50,000 commands/s about 60 groups) with one `write`; the log trails the journal by at most
/// this much more. Without the pause the thread woke for each group commit — 1,700 times a
/// second at 50,000/s, each a `futex` wake-up paid by the engine and a write.
const WRITE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

/// Starts the audit thread writing under `dir`; `realtime_priority` is the ack path's
/// ([`crate::sched`]: how the thread catches up when far behind).
pub(crate) fn start(
    dir: &Path,
    realtime_priority: u8,
) -> std::io::Result<(crate::sched::BackgroundSender<AuditRecord>, std::thread::JoinHandle<()>)> {
    std::fs::create_dir_all(dir)?;
    let (tx, mut rx) = crate::sched::background_queue(realtime_priority);
    let mut w = Writer { dir: dir.to_path_buf(), file: None, written: 0, text: String::new() };
    let thread = std::thread::Builder::new().name("zkclob-audit".into()).spawn(move || {
        rx.enter();
        let report = |r: std::io::Result<()>| {
            if let Err(e) = r {
                tracing::error!(error = %e, "audit log write failed; the journal still holds everything");
            }
        };
        // Everything queued since the last pass, written with one flush; then a pause (see
        // `WRITE_INTERVAL`).
        while let Some(records) = rx.next_pass() {
            for r in &records {
                report(w.write(r));
            }
            report(w.flush());
            std::thread::sleep(WRITE_INTERVAL);
        }
    })?;
    Ok((tx, thread))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use zkclob_book::{CancelReason, Fill, RejectReason};
    use zkclob_core::{AccountId, OrderId, Price, Qty, Side};
    use zkclob_state::{Applied, RejectCode};

    fn parsed(text: &str) -> Vec<Value> {
        assert!(text.ends_with('\n'));
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
    }

    #[test]
    fn every_event_is_one_json_line_with_its_fields() {
        let (o, a) = (OrderId(7), AccountId(3));
        let fill = Fill {
            maker_order: OrderId(5),
            maker_account: AccountId(2),
            taker_order: o,
            taker_account: a,
            taker_side: Side::Buy,
            price: Price(-12),
            qty: Qty(4),
            maker_remaining: Qty(0),
        };
        let events = [
            Event::Accepted { order_id: o, account: a, side: Side::Sell, price: Price(100), qty: Qty(9) },
            Event::Rejected { order_id: o, reason: RejectReason::DuplicateOrderId },
            Event::Fill(fill),
            Event::Cancelled {
                order_id: o,
                account: a,
                side: Side::Sell,
                price: Price(100),
                cancelled: Qty(2),
                remaining: Qty(1),
                reason: CancelReason::SelfTrade,
            },
            Event::Expired {
                order_id: o,
                account: a,
                side: Side::Sell,
                price: Price(100),
                remaining: Qty(3),
            },
            Event::Amended { order_id: o, price: Price(101), qty: Qty(8), priority_kept: false },
            Event::Done { order_id: o, filled: Qty(4), resting: Qty(5) },
        ];
        let mut text = String::new();
        for e in &events {
            event_line(&mut text, 11, MarketId(2), e);
        }
        let lines = parsed(&text);
        let want = [
            json!({"event": "accepted", "order_id": 7, "account": 3, "side": "sell", "price": 100, "qty": 9}),
            json!({"event": "rejected", "order_id": 7, "reason": "DuplicateOrderId"}),
            json!({"event": "fill", "maker_order": 5, "maker_account": 2, "taker_order": 7, "taker_account": 3,
                "taker_side": "buy", "price": -12, "qty": 4, "maker_remaining": 0}),
            json!({"event": "cancelled", "order_id": 7, "account": 3, "cancelled": 2, "remaining": 1,
                "reason": "SelfTrade"}),
            json!({"event": "expired", "order_id": 7, "account": 3, "remaining": 3}),
            json!({"event": "amended", "order_id": 7, "price": 101, "qty": 8, "priority_kept": false}),
            json!({"event": "done", "order_id": 7, "filled": 4, "resting": 5}),
        ];
        for (got, mut want) in lines.into_iter().zip(want) {
            want["type"] = json!("event");
            want["batch"] = json!(11);
            want["market"] = json!(2);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn commands_applied_and_rejected_are_json_lines() {
        let who = Address([0xab; 20]);
        let applied = Receipt::Applied(Applied {
            order_id: Some(OrderId(9)),
            filled: Qty(1),
            resting: Qty(2),
            fills: 1,
        });
        let mut text = String::new();
        command_line(
            &mut text,
            &AuditCommand {
                seq: 4,
                batch: 1,
                account: Some(who),
                nonce: 6,
                action: "place",
                receipt: applied,
            },
        );
        command_line(
            &mut text,
            &AuditCommand {
                seq: 5,
                batch: 1,
                account: None,
                nonce: 0,
                action: "deposit",
                receipt: Receipt::Applied(Applied {
                    order_id: None,
                    filled: Qty(0),
                    resting: Qty(0),
                    fills: 0,
                }),
            },
        );
        command_line(
            &mut text,
            &AuditCommand {
                seq: 6,
                batch: 2,
                account: Some(who),
                nonce: 7,
                action: "cancel",
                receipt: Receipt::Rejected(RejectCode::NotYourOrder),
            },
        );
        let lines = parsed(&text);
        assert_eq!(
            lines[0],
            json!({"type": "command", "seq": 4, "batch": 1, "account": who.to_string(), "nonce": 6,
                "action": "place", "status": "applied", "order_id": 9, "filled": 1, "resting": 2})
        );
        assert_eq!(lines[1]["account"], Value::Null);
        assert_eq!(lines[1]["order_id"], Value::Null);
        assert_eq!(
            lines[2],
            json!({"type": "command", "seq": 6, "batch": 2, "account": who.to_string(), "nonce": 7,
                "action": "cancel", "status": "rejected", "code": reject_text(&RejectCode::NotYourOrder).0})
        );
    }

    #[test]
    fn reasons_are_escaped() {
        let mut s = String::new();
        push_reason(&mut s, &"a \"quoted\" \\ line\n");
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v, json!("\"a \\\"quoted\\\" \\\\ line\\n\""));
    }
}
