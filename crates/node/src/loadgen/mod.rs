//! An open-loop load generator for a running node (`zkclob loadgen`).
//!
//! **Setup** (not measured): fund `accounts` accounts through the development faucet, read
//! their nonces, then pre-sign every command of the run (warmup included) on
//! [`SIGNING_THREADS`] threads. Signing costs more than the node spends on a command, so signing
//! during the run would measure the generator instead of the node.
//!
//! **Open loop.** Command `k` is handed to its WebSocket at its intended time
//! `t0 + k / rate`, whether or not earlier commands were answered, as a binary frame (8-byte
//! little-endian id `k`, then the borsh command). Its latency is the ack's arrival minus the
//! *intended* send time, so a node that stalls shows up as latency and not as a lower send
//! rate (no coordinated omission). The run is one thread without an async runtime (the
//! `wire` module): the frames are WebSocket-encoded before the clock starts, and one `ppoll` over
//! every socket waits for the next intended time or the next ack, whichever comes first (1 µs
//! timer slack, at least 100 µs between rounds of sends). The report gives the
//! generator's own lateness (`send_lag_us_p50`, `send_lag_us_p99`): it is part of the latency,
//! and a large value says the generator, not the node, fell behind.
//!
//! **Ordering.** Command `k` belongs to account `k % accounts`, and account `a` always uses
//! connection `a % connections`: commands on one connection reach the engine in the order
//! sent, so each account's nonces arrive in sequence.
//!
//! **Bounds.** Sending stops at `warmup + duration` (plus [`SEND_GRACE`]); what the generator
//! could not hand to its socket by then counts as `not_sent`. It then waits at most
//! [`ACK_WAIT`] for outstanding acks and counts the rest as `timeout` (or `connection_lost`).
//! Memory is the pre-signed set: at most [`MAX_PLANNED_COMMANDS`] frames of about 200 bytes.
//!
//! **Per-account rate limit.** The node limits each account (`limits.rate_per_sec`, 2,000/s by
//! default), and the API does not publish the value. `run` raises `accounts` so that each is
//! offered at most [`ACCOUNT_RATE_SHARE`] of the default limit; the report gives both the
//! requested and the used number.
//!
//! **Nonce cascade.** A command that fails before the journal (overloaded, rate limited, lost
//! on a broken connection) or that the journal rejects consumes no nonce, so the account's
//! later pre-signed commands are refused with `nonce_gap`. The error breakdown shows the first
//! cause and the cascade under their own codes; re-signing during the run would put signing
//! into the measured path.
//!
//! ```no_run
//! use std::time::Duration;
//! use zkclob_node::loadgen::{run, LoadgenConfig};
//! # fn main() -> anyhow::Result<()> {
//! let cfg = LoadgenConfig::new("127.0.0.1:8080".parse()?, 5_000, Duration::from_secs(10));
//! let report = run(&cfg, true)?;
//! println!("{}", serde_json::to_string(&report)?);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{MarketId, Price, Qty, Side};
use zkclob_state::{Action, Address, OrderParams};

use crate::api::Limits;
use crate::client::Client;
use crate::crypto::Keypair;

mod wire;

/// Most commands one run may plan (warmup included): about 1 GiB of pre-signed frames.
pub const MAX_PLANNED_COMMANDS: u64 = 5_000_000;
/// Most WebSocket connections.
pub const MAX_CONNECTIONS: usize = 1_024;
/// Most accounts.
pub const MAX_ACCOUNTS: usize = 100_000;
/// How long after the last intended send time the generator still waits for acks.
pub const ACK_WAIT: Duration = Duration::from_secs(5);
/// How long after the end of the run a connection may still hand a scheduled frame to its
/// socket: the hand-off from the schedule thread takes a moment, and the last frames of a run
/// should not count as `not_sent` for that alone.
pub const SEND_GRACE: Duration = Duration::from_millis(100);
/// Threads that pre-sign commands.
pub const SIGNING_THREADS: usize = 2;
/// Largest share of the node's default per-account rate limit offered to one account.
pub const ACCOUNT_RATE_SHARE: f64 = 0.5;
/// Every this many commands of an account is a mass cancel, so resting orders stay bounded.
pub const MASS_CANCEL_EVERY: u64 = 10;
/// Limit prices lie within this many ticks of [`MID_PRICE`].
pub const PRICE_SPREAD_TICKS: i64 = 20;
/// Orders are 1 to this many lots.
pub const MAX_ORDER_LOTS: u64 = 10;
/// The price orders gather around (clamped to the market's price band).
pub const MID_PRICE: i64 = 2_000;

/// Time from the end of setup to the first intended send, so the schedule does not start late.
const START_DELAY: Duration = Duration::from_millis(20);
/// The shortest wait between two rounds of sends: at 50,000 commands/s a round sends about
/// five, and the generator wakes for its schedule 10,000 times a second rather than 50,000
/// (the wait is part of every command's measured latency: 50 µs on average).
const SEND_QUANTUM: Duration = Duration::from_micros(100);
/// How often a reader that has nothing to read checks whether it is done.
const READ_POLL: Duration = Duration::from_millis(20);

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadgenConfig {
    /// The node's API address.
    pub target: SocketAddr,
    /// Offered commands per second (all accounts together).
    pub rate: u64,
    /// Measured time.
    pub duration: Duration,
    /// WebSocket connections (default 8).
    pub connections: usize,
    /// Accounts (default 64); raised if the per-account rate limit needs it.
    pub accounts: usize,
    /// The market traded (default 1).
    pub market: u32,
    /// Seeds the account keys and the order mix.
    pub seed: u64,
    /// Time run before measuring (default 1 s); its commands are sent but not measured.
    pub warmup: Duration,
}

impl LoadgenConfig {
    /// A run at `rate` for `duration` against `target`, the rest at defaults.
    pub fn new(target: SocketAddr, rate: u64, duration: Duration) -> LoadgenConfig {
        LoadgenConfig {
            target,
            rate,
            duration,
            connections: 8,
            accounts: 64,
            market: 1,
            seed: 0,
            warmup: Duration::from_secs(1),
        }
    }
}

/// Outcomes of a set of commands. Every planned command is counted once: acked (applied or
/// rejected) or an error, so `acked + errors` is the number planned.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Handed to the socket.
    pub sent: u64,
    /// Journaled: applied or rejected.
    pub acked: u64,
    /// Journaled and applied.
    pub applied: u64,
    /// Journaled, receipt rejected.
    pub rejected: u64,
    /// Rejections by code.
    pub rejected_by_code: BTreeMap<String, u64>,
    /// Refused by the engine without journaling (nonce, unknown account); also in `errors`.
    pub refused: u64,
    /// Not acked: refusals, API errors (overloaded, rate_limited...), `not_sent`, `timeout`,
    /// `connection_lost`.
    pub errors: u64,
    /// Errors by code.
    pub errors_by_code: BTreeMap<String, u64>,
}

impl Counts {
    fn add_error(&mut self, code: &str) {
        self.errors += 1;
        *self.errors_by_code.entry(code.to_string()).or_default() += 1;
    }
}

/// The result of a run. Counts and latencies are of the measured commands (intended send time
/// after the warmup); `per_account_applied` counts all of them.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    /// Offered commands per second.
    pub offered_rate: u64,
    /// Measured time, seconds.
    pub duration_s: f64,
    /// Warmup, seconds.
    pub warmup_s: f64,
    /// Connections used.
    pub connections: usize,
    /// Accounts used.
    pub accounts: usize,
    /// Accounts asked for.
    pub accounts_requested: usize,
    /// Commands planned in the measured window.
    pub planned: u64,
    /// Measured commands handed to a socket.
    pub sent: u64,
    /// Measured commands journaled (applied or rejected).
    pub acked: u64,
    /// `acked / duration_s`. Acks that arrive in the wait after the run count too, so under
    /// overload this is above what the node sustained; see `acks_in_window_per_sec`.
    pub acked_per_sec: f64,
    /// Acks (of any command) that arrived during the measured window, per second: the rate
    /// the node sustained.
    pub acks_in_window_per_sec: f64,
    /// Measured commands applied.
    pub applied: u64,
    /// Measured commands journaled with a rejected receipt.
    pub rejected: u64,
    /// Rejections by code.
    pub rejected_by_code: BTreeMap<String, u64>,
    /// Measured commands refused by the engine (also counted in `errors`).
    pub refused: u64,
    /// Measured commands not acked.
    pub errors: u64,
    /// Errors by code.
    pub errors_by_code: BTreeMap<String, u64>,
    /// Ack latency from the intended send time, µs: median.
    pub latency_us_p50: u32,
    /// 99th percentile.
    pub latency_us_p99: u32,
    /// 99.9th percentile.
    pub latency_us_p999: u32,
    /// Largest.
    pub latency_us_max: u32,
    /// How late the generator wrote a measured command, after its intended send time, µs:
    /// median. A large lag means the generator, not the node, fell behind (it is part of the
    /// latency above all the same).
    pub send_lag_us_p50: u32,
    /// The same, 99th percentile.
    pub send_lag_us_p99: u32,
    /// Outcomes of the warmup's commands.
    pub warmup: Counts,
    /// Replies that matched no outstanding command.
    pub unmatched_replies: u64,
    /// Applied commands of each account, warmup included (account `i` has key
    /// [`account_key`]`(seed, i)`).
    pub per_account_applied: Vec<u64>,
    /// Funding and reading nonces, seconds.
    pub setup_s: f64,
    /// Pre-signing, seconds.
    pub sign_s: f64,
}

/// The key of loadgen account `i` for `seed`.
pub fn account_key(seed: u64, i: usize) -> Keypair {
    Keypair::from_seed(format!("loadgen-{seed}-{i}").as_bytes())
}

/// Runs the load: setup, pre-signing, the timed run, the report. Prints nothing but, if
/// `progress`, one status line per second on stderr.
pub fn run(cfg: &LoadgenConfig, progress: bool) -> anyhow::Result<LoadReport> {
    let shape = Shape::new(cfg)?;
    let started = Instant::now();
    let setup = setup(cfg, &shape)?;
    let setup_s = started.elapsed().as_secs_f64();
    let signing = Instant::now();
    let frames = presign(&setup, &shape, cfg.seed)?;
    let sign_s = signing.elapsed().as_secs_f64();

    let mut conns = (0..shape.connections)
        .map(|i| wire::Conn::connect(cfg.target).with_context(|| format!("opening WebSocket {i}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let t0 = Instant::now() + START_DELAY;
    let clock = Clock { t0, end: t0 + cfg.warmup + cfg.duration };
    let mut state = RunState::new(shape, t0, (t0 + cfg.warmup, clock.end));
    drive(&mut state, &mut conns, frames, clock, progress);
    state.finish();
    Ok(state.report(cfg, setup_s, sign_s))
}

/// The plan's arithmetic: which account, connection and time each command has.
#[derive(Clone, Copy, Debug)]
struct Shape {
    rate: u64,
    accounts: usize,
    accounts_requested: usize,
    connections: usize,
    /// Commands planned, warmup included.
    total: u64,
    /// The first this many are the warmup's.
    warmup_count: u64,
}

impl Shape {
    fn new(cfg: &LoadgenConfig) -> anyhow::Result<Shape> {
        if cfg.rate == 0 || cfg.duration.is_zero() {
            bail!("loadgen needs a positive rate and duration");
        }
        if !(1..=MAX_CONNECTIONS).contains(&cfg.connections) {
            bail!("connections must be 1..={MAX_CONNECTIONS}, got {}", cfg.connections);
        }
        let per_account_max = Limits::default().rate_per_sec * ACCOUNT_RATE_SHARE;
        let accounts = cfg.accounts.max((cfg.rate as f64 / per_account_max).ceil() as usize);
        if !(1..=MAX_ACCOUNTS).contains(&accounts) {
            bail!(
                "accounts must be 1..={MAX_ACCOUNTS}, got {accounts} (at least one per {per_account_max}/s)"
            );
        }
        let warmup_count = commands_before(cfg.rate, cfg.warmup);
        let total = commands_before(cfg.rate, cfg.warmup + cfg.duration);
        if total > MAX_PLANNED_COMMANDS {
            bail!("rate × (warmup + duration) plans {total} commands, more than {MAX_PLANNED_COMMANDS}");
        }
        let connections = cfg.connections.min(accounts);
        Ok(Shape {
            rate: cfg.rate,
            accounts,
            accounts_requested: cfg.accounts,
            connections,
            total,
            warmup_count,
        })
    }

    /// Command `k`'s send time after `t0`.
    fn intended(&self, k: u64) -> Duration {
        Duration::from_nanos((k as u128 * 1_000_000_000 / self.rate as u128) as u64)
    }

    fn account(&self, k: u64) -> usize {
        (k % self.accounts as u64) as usize
    }

    fn connection(&self, k: u64) -> usize {
        self.account(k) % self.connections
    }

    /// How many of the plan's commands account `a` sends.
    fn commands_of(&self, a: usize) -> u64 {
        (self.total + self.accounts as u64 - 1 - a as u64) / self.accounts as u64
    }
}

/// Commands whose intended time `k / rate` is before `d`.
fn commands_before(rate: u64, d: Duration) -> u64 {
    (d.as_nanos() * rate as u128).div_ceil(1_000_000_000) as u64
}

/// What the generator needs of a market, from `GET /v1/markets`.
#[derive(Clone, Copy, Debug)]
struct MarketParams {
    id: u32,
    base_asset: u32,
    quote_asset: u32,
    tick_size: i64,
    lot_size: u64,
    min_qty: u64,
    max_qty: u64,
    min_price: i64,
    max_price: i64,
    base_atoms_per_lot: u128,
    quote_atoms_per_tick_lot: u128,
}

impl MarketParams {
    fn from_json(m: &Value) -> anyhow::Result<MarketParams> {
        let int = |k: &str| m[k].as_i64().ok_or_else(|| anyhow!("market field {k} missing in {m}"));
        let big = |k: &str| -> anyhow::Result<u128> {
            m[k].as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow!("market field {k} missing in {m}"))
        };
        Ok(MarketParams {
            id: int("id")? as u32,
            base_asset: int("base_asset")? as u32,
            quote_asset: int("quote_asset")? as u32,
            tick_size: int("tick_size")?,
            lot_size: int("lot_size")? as u64,
            min_qty: int("min_qty")? as u64,
            max_qty: int("max_qty")? as u64,
            min_price: int("min_price")?,
            max_price: int("max_price")?,
            base_atoms_per_lot: big("base_atoms_per_lot")?,
            quote_atoms_per_tick_lot: big("quote_atoms_per_tick_lot")?,
        })
    }

    /// A price `offset_ticks` ticks from the mid, on the grid and in the band (the band's
    /// ends are on the grid).
    fn price(&self, offset_ticks: i64) -> i64 {
        let mid = MID_PRICE / self.tick_size * self.tick_size;
        (mid + offset_ticks * self.tick_size).clamp(self.min_price, self.max_price)
    }

    /// `lots` lots on the lot grid, within the order size limits (which are on the grid).
    fn qty(&self, lots: u64) -> u64 {
        (lots * self.lot_size).clamp(self.min_qty, self.max_qty)
    }

    fn order(&self, side: Side, offset_ticks: i64, lots: u64) -> Action {
        Action::Place(OrderParams {
            market: MarketId(self.id),
            side,
            kind: OrderKind::Limit,
            price: Price(self.price(offset_ticks)),
            qty: Qty(self.qty(lots)),
            tif: TimeInForce::Gtc,
            post_only: false,
            display_qty: None,
            stp: StpMode::CancelNewest,
        })
    }

    /// Base and quote atoms that cover `commands` orders even if every one locked the most it
    /// can and no fill ever paid anything back, twice over.
    fn funding(&self, commands: u64) -> (u128, u128) {
        let lots = self.qty(MAX_ORDER_LOTS) as u128 * commands.max(1) as u128 * 2;
        let price = self.price(PRICE_SPREAD_TICKS).max(1) as u128;
        (
            lots.saturating_mul(self.base_atoms_per_lot),
            lots.saturating_mul(price).saturating_mul(self.quote_atoms_per_tick_lot),
        )
    }
}

struct Setup {
    chain_id: u64,
    market: MarketParams,
    keys: Vec<Keypair>,
    nonces: Vec<u64>,
}

fn setup(cfg: &LoadgenConfig, shape: &Shape) -> anyhow::Result<Setup> {
    let mut c = Client::connect(cfg.target)?;
    let chain_id = c
        .chain_id()
        .with_context(|| format!("reading /v1/info: is a zkclob node listening at {}?", cfg.target))?;
    let market = find_market(&mut c, cfg.market)?;
    let keys: Vec<Keypair> = (0..shape.accounts).map(|i| account_key(cfg.seed, i)).collect();
    let mut nonces = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let who = key.address();
        let (base, quote) = market.funding(shape.commands_of(i));
        faucet(&mut c, &who, market.base_asset, base)?;
        faucet(&mut c, &who, market.quote_asset, quote)?;
        nonces.push(c.nonce(&who).with_context(|| format!("reading the nonce of {who}"))?);
    }
    Ok(Setup { chain_id, market, keys, nonces })
}

fn find_market(c: &mut Client, id: u32) -> anyhow::Result<MarketParams> {
    let all = c.get("/v1/markets")?.ok().context("reading /v1/markets")?;
    let list = all.as_array().ok_or_else(|| anyhow!("/v1/markets is not a list: {all}"))?;
    match list.iter().find(|m| m["id"].as_u64() == Some(id as u64)) {
        Some(m) => MarketParams::from_json(m),
        None => {
            let ids: Vec<String> = list.iter().map(|m| format!("{} ({})", m["id"], m["name"])).collect();
            bail!("the node has no market {id}; it has: {}", ids.join(", "))
        }
    }
}

fn faucet(c: &mut Client, who: &Address, asset: u32, amount: u128) -> anyhow::Result<()> {
    let body = json!({"address": who.to_string(), "asset": asset, "amount": amount.to_string()});
    let r = c.post_json("/v1/dev/faucet", &body)?;
    if r.status == 404 && r.body["error"]["code"] == "faucet_disabled" {
        bail!(
            "the node's development faucet is off (HTTP 404 faucet_disabled); loadgen funds its accounts \
             through it: run the node with `dev.faucet = true` (or ZKCLOB_DEV__FAUCET=true)"
        );
    }
    let out = r.ok().with_context(|| format!("funding {who} with asset {asset} through the faucet"))?;
    match out["status"].as_str() {
        Some("applied") => Ok(()),
        // A node with an L1: the faucet deposited there; wait for the batch that credits it.
        Some("deposited_on_l1") => {
            let t0 = std::time::Instant::now();
            while c.available(who, asset)? < amount {
                if t0.elapsed() > std::time::Duration::from_secs(30) {
                    bail!("the L1 deposit to {who} was not credited within 30 s: {out}");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Ok(())
        }
        _ => bail!("the faucet deposit to {who} was not applied: {out}"),
    }
}

/// Pre-signs every account's commands, as WebSocket frames ready to write, indexed by account.
fn presign(setup: &Setup, shape: &Shape, seed: u64) -> anyhow::Result<Vec<Vec<Vec<u8>>>> {
    let signed = std::thread::scope(|s| {
        let handles = (0..SIGNING_THREADS)
            .map(|t| {
                std::thread::Builder::new().name("loadgen-sign".into()).spawn_scoped(s, move || {
                    (t..shape.accounts)
                        .step_by(SIGNING_THREADS)
                        .map(|a| (a, sign_account(setup, shape, seed, a)))
                        .collect::<Vec<_>>()
                })
            })
            .collect::<std::io::Result<Vec<_>>>()
            .context("starting the signing threads")?;
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow!("a signing thread panicked")))
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let mut frames = vec![Vec::new(); shape.accounts];
    for (a, f) in signed.into_iter().flatten() {
        frames[a] = f;
    }
    Ok(frames)
}

/// Account `a`'s commands with consecutive nonces: limit orders on alternating sides around
/// the mid (some cross), and every [`MASS_CANCEL_EVERY`]th a mass cancel.
fn sign_account(setup: &Setup, shape: &Shape, seed: u64, a: usize) -> Vec<Vec<u8>> {
    let key = &setup.keys[a];
    let mut rng = SplitMix64(seed ^ (a as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let n = shape.commands_of(a);
    let mut out = Vec::with_capacity(n as usize);
    let mut orders = a as u64; // half the accounts start on each side
    for j in 0..n {
        let action = if j % MASS_CANCEL_EVERY == MASS_CANCEL_EVERY - 1 {
            Action::MassCancel { market: MarketId(setup.market.id), side: None }
        } else {
            orders += 1;
            let side = if orders.is_multiple_of(2) { Side::Buy } else { Side::Sell };
            let offset = rng.below(2 * PRICE_SPREAD_TICKS as u64 + 1) as i64 - PRICE_SPREAD_TICKS;
            setup.market.order(side, offset, 1 + rng.below(MAX_ORDER_LOTS))
        };
        let command = key.sign(setup.chain_id, setup.nonces[a] + j, action);
        let k = j * shape.accounts as u64 + a as u64;
        let mut payload = k.to_le_bytes().to_vec();
        borsh::to_writer(&mut payload, &command).expect("writing to a Vec cannot fail");
        let mut frame = Vec::with_capacity(payload.len() + 8);
        wire::encode_binary(&payload, (rng.next() as u32).to_le_bytes(), &mut frame);
        out.push(frame);
    }
    out
}

/// A small deterministic generator (SplitMix64): the order mix needs no more.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for small `n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
struct Clock {
    t0: Instant,
    /// The end of the run: `t0 + warmup + duration`.
    end: Instant,
}

/// The timed run on this thread: at each wake, every command whose intended time has come is
/// queued on its connection and written, every ack that arrived is read, and then one `ppoll`
/// waits for the next intended time or the next ack, whichever is first. The thread's timer
/// slack is 1 µs, so waits end on time. Ends when every sent command is answered, or
/// [`ACK_WAIT`] after the end.
fn drive(
    state: &mut RunState,
    conns: &mut [wire::Conn],
    frames: Vec<Vec<Vec<u8>>>,
    clock: Clock,
    progress: bool,
) {
    crate::sched::precise_sleeps();
    let shape = state.shape;
    let mut per_account: Vec<std::vec::IntoIter<Vec<u8>>> = frames.into_iter().map(Vec::into_iter).collect();
    let mut live = vec![true; conns.len()];
    let mut fds = Vec::with_capacity(conns.len());
    let send_until = clock.end + SEND_GRACE;
    let give_up = clock.end + ACK_WAIT;
    let mut next_report = clock.t0 + Duration::from_secs(1);
    let mut k = 0;
    loop {
        let now = Instant::now();
        // Queue what is due, then write it.
        if now < send_until {
            while k < shape.total && clock.t0 + shape.intended(k) <= now {
                let c = shape.connection(k);
                if let Some(frame) = per_account[shape.account(k)].next() {
                    // A stopped connection leaves the command unsent; the report counts it so.
                    if live[c] {
                        state.mark_sent(k);
                        conns[c].queue(&frame);
                    }
                }
                k += 1;
            }
        }
        for (c, conn) in conns.iter_mut().enumerate() {
            if live[c] && conn.wants_write() && conn.flush().is_err() {
                live[c] = false;
                state.lost[c] = true;
            }
        }
        // Read the acks of every connection the last wait saw readable.
        for (c, conn) in conns.iter_mut().enumerate() {
            if !live[c] || !wire::readable(&fds, c) {
                continue;
            }
            let at = Instant::now();
            let read = conn.read(|m| {
                if let wire::Incoming::Text(t) = m {
                    state.on_reply(t, at);
                }
            });
            if read.is_err() {
                live[c] = false;
                state.lost[c] = true;
            }
        }
        let now = Instant::now();
        if progress && now >= next_report {
            state.print_progress(clock);
            next_report += Duration::from_secs(1);
        }
        let sending = k < shape.total && now < send_until;
        let waiting = live.iter().zip(&state.in_flight).any(|(&alive, &n)| alive && n > 0);
        if (!sending && !waiting) || now >= give_up || !live.contains(&true) {
            break;
        }
        // Sends wait for at least SEND_QUANTUM after this round: one wake-up per few commands
        // at high rates (their lateness counts in their latency all the same).
        let mut wake =
            if sending { (clock.t0 + shape.intended(k)).max(now + SEND_QUANTUM) } else { now + READ_POLL };
        wake = wake.min(give_up);
        if progress {
            wake = wake.min(next_report);
        }
        fds.clear();
        if wake > now {
            wire::wait(conns, &live, wake - now, &mut fds);
        }
    }
    for (c, conn) in conns.iter_mut().enumerate() {
        if live[c] {
            conn.close();
        }
    }
}

/// A reply frame, as far as the generator reads it (borrowed: no allocation per ack).
#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(borrow)]
    channel: std::borrow::Cow<'a, str>,
    id: Option<u64>,
    #[serde(borrow)]
    status: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    error: Option<ReplyError<'a>>,
}

#[derive(Deserialize)]
struct ReplyError<'a> {
    #[serde(borrow)]
    code: std::borrow::Cow<'a, str>,
}

enum Outcome {
    Applied,
    Rejected(String),
    Refused(String),
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    Unsent,
    Sent,
    Answered,
}

/// The run's bookkeeping, shared by the connections (one thread: a `RefCell`).
struct RunState {
    shape: Shape,
    t0: Instant,
    /// The measured window: from the end of the warmup to the end of the run.
    window: (Instant, Instant),
    acks_in_window: u64,
    progress: Vec<Progress>,
    in_flight: Vec<u64>,
    lost: Vec<bool>,
    warmup: Counts,
    measured: Counts,
    unmatched: u64,
    per_account_applied: Vec<u64>,
    latencies_us: Vec<u32>,
    send_lags_us: Vec<u32>,
}

impl RunState {
    fn new(shape: Shape, t0: Instant, window: (Instant, Instant)) -> RunState {
        RunState {
            shape,
            t0,
            window,
            acks_in_window: 0,
            progress: vec![Progress::Unsent; shape.total as usize],
            in_flight: vec![0; shape.connections],
            lost: vec![false; shape.connections],
            warmup: Counts::default(),
            measured: Counts::default(),
            unmatched: 0,
            per_account_applied: vec![0; shape.accounts],
            latencies_us: Vec::with_capacity((shape.total - shape.warmup_count) as usize),
            send_lags_us: Vec::with_capacity((shape.total - shape.warmup_count) as usize),
        }
    }

    fn counts(&mut self, k: u64) -> &mut Counts {
        if k < self.shape.warmup_count {
            &mut self.warmup
        } else {
            &mut self.measured
        }
    }

    fn print_progress(&self, clock: Clock) {
        let (w, m) = (&self.warmup, &self.measured);
        eprintln!(
            "loadgen {:>4.0}s  sent {:>9}  acked {:>9}  errors {:>7}  in flight {:>7}",
            clock.t0.elapsed().as_secs_f64(),
            w.sent + m.sent,
            w.acked + m.acked,
            w.errors + m.errors,
            self.in_flight.iter().sum::<u64>(),
        );
    }

    fn mark_sent(&mut self, k: u64) {
        if k >= self.shape.warmup_count {
            let lag = Instant::now().saturating_duration_since(self.t0 + self.shape.intended(k));
            self.send_lags_us.push(u32::try_from(lag.as_micros()).unwrap_or(u32::MAX));
        }
        self.progress[k as usize] = Progress::Sent;
        self.in_flight[self.shape.connection(k)] += 1;
        self.counts(k).sent += 1;
    }

    fn on_reply(&mut self, text: &str, at: Instant) {
        let Ok(r) = serde_json::from_str::<Reply>(text) else {
            self.unmatched += 1;
            return;
        };
        let code = r.error.map_or_else(|| "unknown".to_string(), |e| e.code.into_owned());
        let outcome = match (&*r.channel, r.status.as_deref()) {
            ("ack", Some("applied")) => Outcome::Applied,
            ("ack", Some("rejected")) => Outcome::Rejected(code),
            ("ack", _) => Outcome::Refused(code),
            ("error", _) => Outcome::Failed(code),
            _ => return, // market data or a lag notice: not a reply to a command
        };
        match r.id.filter(|&k| self.progress.get(k as usize) == Some(&Progress::Sent)) {
            Some(k) => self.resolve(k, outcome, at),
            None => self.unmatched += 1,
        }
    }

    fn resolve(&mut self, k: u64, outcome: Outcome, at: Instant) {
        self.progress[k as usize] = Progress::Answered;
        self.in_flight[self.shape.connection(k)] -= 1;
        let latency_us = at.saturating_duration_since(self.t0 + self.shape.intended(k)).as_micros();
        let latency_us = u32::try_from(latency_us).unwrap_or(u32::MAX);
        let measured = k >= self.shape.warmup_count;
        let acked = matches!(outcome, Outcome::Applied | Outcome::Rejected(_));
        if acked && (self.window.0..self.window.1).contains(&at) {
            self.acks_in_window += 1;
        }
        if matches!(outcome, Outcome::Applied) {
            self.per_account_applied[self.shape.account(k)] += 1;
        }
        let c = self.counts(k);
        match outcome {
            Outcome::Applied => c.applied += 1,
            Outcome::Rejected(code) => {
                c.rejected += 1;
                *c.rejected_by_code.entry(code).or_default() += 1;
            }
            Outcome::Refused(code) => {
                c.refused += 1;
                c.add_error(&code);
            }
            Outcome::Failed(code) => c.add_error(&code),
        }
        if acked {
            c.acked += 1;
            if measured {
                self.latencies_us.push(latency_us);
            }
        }
    }

    /// Counts the commands left without an answer.
    fn finish(&mut self) {
        for k in 0..self.shape.total {
            let code = match self.progress[k as usize] {
                Progress::Answered => continue,
                Progress::Unsent => "not_sent",
                Progress::Sent if self.lost[self.shape.connection(k)] => "connection_lost",
                Progress::Sent => "timeout",
            };
            self.counts(k).add_error(code);
        }
    }

    fn report(mut self, cfg: &LoadgenConfig, setup_s: f64, sign_s: f64) -> LoadReport {
        self.latencies_us.sort_unstable();
        self.send_lags_us.sort_unstable();
        let l = &self.latencies_us;
        let m = self.measured;
        let duration_s = cfg.duration.as_secs_f64();
        LoadReport {
            offered_rate: cfg.rate,
            duration_s,
            warmup_s: cfg.warmup.as_secs_f64(),
            connections: self.shape.connections,
            accounts: self.shape.accounts,
            accounts_requested: self.shape.accounts_requested,
            planned: self.shape.total - self.shape.warmup_count,
            sent: m.sent,
            acked: m.acked,
            acked_per_sec: m.acked as f64 / duration_s,
            acks_in_window_per_sec: self.acks_in_window as f64 / duration_s,
            applied: m.applied,
            rejected: m.rejected,
            rejected_by_code: m.rejected_by_code,
            refused: m.refused,
            errors: m.errors,
            errors_by_code: m.errors_by_code,
            latency_us_p50: percentile(l, 50_000),
            latency_us_p99: percentile(l, 99_000),
            latency_us_p999: percentile(l, 99_900),
            latency_us_max: l.last().copied().unwrap_or(0),
            send_lag_us_p50: percentile(&self.send_lags_us, 50_000),
            send_lag_us_p99: percentile(&self.send_lags_us, 99_000),
            warmup: self.warmup,
            unmatched_replies: self.unmatched,
            per_account_applied: self.per_account_applied,
            setup_s,
            sign_s,
        }
    }
}

/// The nearest-rank percentile of sorted values, `per_100k` in thousandths of a percent;
/// zero when there are none.
pub(crate) fn percentile<T: Copy + Default>(sorted: &[T], per_100k: u64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = (sorted.len() as u64 * per_100k).div_ceil(100_000).max(1);
    sorted[(rank - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(rate: u64, accounts: usize) -> LoadgenConfig {
        let mut c = LoadgenConfig::new("127.0.0.1:1".parse().unwrap(), rate, Duration::from_secs(2));
        c.accounts = accounts;
        c
    }

    #[test]
    fn shape_plans_warmup_and_measured_commands_and_pins_accounts_to_connections() {
        let s = Shape::new(&cfg(1_000, 16)).unwrap();
        assert_eq!((s.warmup_count, s.total), (1_000, 3_000));
        assert_eq!((0..16).map(|a| s.commands_of(a)).sum::<u64>(), s.total);
        for k in 0..s.total {
            assert_eq!(s.connection(k), s.account(k) % s.connections);
        }
        assert_eq!(s.intended(1_000), Duration::from_secs(1));
    }

    #[test]
    fn accounts_are_raised_to_stay_under_the_per_account_rate_limit() {
        let s = Shape::new(&cfg(80_000, 64)).unwrap();
        assert_eq!(s.accounts, 80);
        assert_eq!(s.accounts_requested, 64);
        assert!(Shape::new(&cfg(3_000_000, 64)).is_err(), "a plan past MAX_PLANNED_COMMANDS is refused");
        assert!(Shape::new(&cfg(0, 64)).is_err());
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u32> = (1..=1_000).collect();
        assert_eq!(percentile(&v, 50_000), 500);
        assert_eq!(percentile(&v, 99_000), 990);
        assert_eq!(percentile(&v, 99_900), 999);
        assert_eq!(percentile(&[7], 99_900), 7);
        assert_eq!(percentile::<u32>(&[], 50_000), 0);
    }

    #[test]
    fn generated_orders_stay_on_the_market_grid_and_in_its_bands() {
        let m = MarketParams {
            id: 1,
            base_asset: 1,
            quote_asset: 3,
            tick_size: 5,
            lot_size: 10,
            min_qty: 20,
            max_qty: 50,
            min_price: 1_990,
            max_price: 2_010,
            base_atoms_per_lot: 1,
            quote_atoms_per_tick_lot: 1,
        };
        for off in -PRICE_SPREAD_TICKS..=PRICE_SPREAD_TICKS {
            let p = m.price(off);
            assert!(p % 5 == 0 && (1_990..=2_010).contains(&p), "{p}");
        }
        for lots in 1..=MAX_ORDER_LOTS {
            let q = m.qty(lots);
            assert!(q.is_multiple_of(10) && (20..=50).contains(&q), "{q}");
        }
    }
}
