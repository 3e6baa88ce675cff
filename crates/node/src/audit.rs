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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};

use serde_json::json;
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

fn event_json(batch: u64, m: MarketId, e: &Event) -> serde_json::Value {
    let mut v = match *e {
        Event::Accepted { order_id, account, side, price, qty } => {
            json!({"event": "accepted", "order_id": order_id.0,
            "account": account.0, "side": side_str(side), "price": price.0, "qty": qty.0})
        }
        Event::Fill(f) => {
            json!({"event": "fill", "maker_order": f.maker_order.0, "maker_account": f.maker_account.0,
            "taker_order": f.taker_order.0, "taker_account": f.taker_account.0, "taker_side": side_str(f.taker_side),
            "price": f.price.0, "qty": f.qty.0, "maker_remaining": f.maker_remaining.0})
        }
        Event::Cancelled { order_id, account, cancelled, remaining, reason } => json!({"event": "cancelled",
            "order_id": order_id.0, "account": account.0, "cancelled": cancelled.0, "remaining": remaining.0,
            "reason": format!("{reason:?}")}),
        Event::Expired { order_id, account, remaining } => json!({"event": "expired", "order_id": order_id.0,
            "account": account.0, "remaining": remaining.0}),
        Event::Amended { order_id, price, qty, priority_kept } => {
            json!({"event": "amended", "order_id": order_id.0,
            "price": price.0, "qty": qty.0, "priority_kept": priority_kept})
        }
        Event::Done { order_id, filled, resting } => json!({"event": "done", "order_id": order_id.0,
            "filled": filled.0, "resting": resting.0}),
        Event::Rejected { order_id, reason } => json!({"event": "rejected", "order_id": order_id.0,
            "reason": format!("{reason:?}")}),
    };
    v["type"] = json!("event");
    v["batch"] = json!(batch);
    v["market"] = json!(m.0);
    v
}

fn command_json(c: &AuditCommand) -> serde_json::Value {
    let mut v = json!({"type": "command", "seq": c.seq, "batch": c.batch,
        "account": c.account.map(|a| a.to_string()), "nonce": c.nonce, "action": c.action});
    match c.receipt {
        Receipt::Applied(a) => {
            v["status"] = json!("applied");
            v["order_id"] = json!(a.order_id.map(|o| o.0));
            v["filled"] = json!(a.filled.0);
            v["resting"] = json!(a.resting.0);
        }
        Receipt::Rejected(code) => {
            v["status"] = json!("rejected");
            v["code"] = json!(reject_text(&code).0);
        }
    }
    v
}

struct Writer {
    dir: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    written: u64,
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
        let f = self.file(first)?;
        let mut n = 0u64;
        // Commands and events interleave by batch only; each command's events follow the group.
        for c in &r.commands {
            let line = command_json(c).to_string();
            n += line.len() as u64 + 1;
            writeln!(f, "{line}")?;
        }
        for (b, m, e) in &r.events {
            let line = event_json(*b, *m, e).to_string();
            n += line.len() as u64 + 1;
            writeln!(f, "{line}")?;
        }
        f.flush()?;
        self.written += n;
        Ok(())
    }
}

/// Starts the audit thread writing under `dir`.
pub fn start(dir: &Path) -> std::io::Result<(Sender<AuditRecord>, std::thread::JoinHandle<()>)> {
    std::fs::create_dir_all(dir)?;
    let (tx, rx): (Sender<AuditRecord>, Receiver<AuditRecord>) = std::sync::mpsc::channel();
    let mut w = Writer { dir: dir.to_path_buf(), file: None, written: 0 };
    let thread = std::thread::Builder::new().name("zkclob-audit".into()).spawn(move || {
        for r in rx {
            if let Err(e) = w.write(&r) {
                tracing::error!(error = %e, "audit log write failed; the journal still holds everything");
            }
        }
    })?;
    Ok((tx, thread))
}
