//! The node's configuration: TOML with embedded defaults, environment overrides, validation,
//! and hot reload of the parameters that are safe to change while the node runs.
//!
//! **Environment overrides.** `ZKCLOB_<KEY>` sets a top-level key and `ZKCLOB_<SECTION>__<KEY>`
//! a key of a section, e.g. `ZKCLOB_LISTEN=127.0.0.1:9000`, `ZKCLOB_ENGINE__BATCH_MAX_MS=50`,
//! `ZKCLOB_LIMITS__RATE_PER_SEC=100`. Values are read as TOML literals (numbers, booleans) and
//! fall back to strings. Variables whose first part is not a config key (other tools share the
//! prefix) are ignored; an unknown key inside a section is an error.
//!
//! **Hot reload.** The node watches its config file; on a change it loads and validates the
//! whole file (with the environment applied again). If only live-safe keys changed
//! ([`LIVE_KEYS`]: rate limits, batch size and interval, log level) it applies them; if any
//! other key changed, or validation fails, or applying fails, nothing changes (the old values
//! stay or are put back) and the error is logged. Every attempt is appended to
//! `<data_dir>/config-history.jsonl` with a version number, the changes and the outcome.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zkclob_core::{AssetId, MarketId, MarketSpec, Price, Qty};
use zkclob_state::FeeSchedule;

use crate::api::Limits;
use crate::engine::EngineConfig;

/// Keys that may change while the node runs.
pub const LIVE_KEYS: &[&str] =
    &["limits.rate_per_sec", "limits.burst", "engine.batch_max_commands", "engine.batch_max_ms", "log.level"];

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Data directory (journal, snapshots, keys, config history).
    pub data_dir: PathBuf,
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// Chain id of a new exchange.
    pub chain_id: u64,
    /// Logging.
    pub log: LogConfig,
    /// Engine.
    pub engine: EngineSection,
    /// API limits.
    pub limits: Limits,
    /// Development conveniences.
    pub dev: DevSection,
    /// Prover of cut batches: "none"; "native-reexecute" (runs each batch from its witness
    /// natively, as the guests do: a check, not a proof); "sp1-execute" / "zisk-execute" (the
    /// guest in the zkVM's executor: cycles, no proof); "sp1-prove" (a real SP1 core proof per
    /// batch: minutes to hours, tens of GB). The zkVM ones need the `sp1` / `zisk` features.
    pub prover: String,
    /// Guest ELF for the zkVM provers (default `target/guests/zkclob-guest-<backend>.elf`).
    pub prover_elf: Option<PathBuf>,
    /// What goes to L1.
    pub rollup: RollupSection,
    /// Markets a new exchange opens with.
    pub markets: Vec<MarketConfig>,
    /// Asset symbols.
    pub assets: BTreeMap<String, u32>,
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// trace, debug, info, warn or error.
    pub level: String,
    /// "pretty" or "json".
    pub format: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into(), format: "pretty".into() }
    }
}

/// The default of `engine.group_commit_min_us`.
pub const GROUP_COMMIT_MIN_US: u64 = 0;

/// Engine settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// Cut a batch after this many commands.
    pub batch_max_commands: usize,
    /// Cut a batch this many ms after it opened.
    pub batch_max_ms: u64,
    /// Engine queue capacity.
    pub queue_capacity: usize,
    /// Most requests per group commit.
    pub max_group: usize,
    /// fdatasync on every group commit.
    pub fsync: bool,
    /// The shortest time between two group commits, µs: a ready group waits up to this (from
    /// the previous commit) for more commands to share its fdatasync (0: commit at once).
    pub group_commit_min_us: u64,
    /// Journal segment size, MiB.
    pub segment_mb: u64,
    /// Zeros written ahead of the journal's last record, KiB (0: none): a group commit then
    /// changes no file size, and its fdatasync writes the data alone.
    pub preallocate_kb: u64,
    /// Snapshot every this many batches.
    pub snapshot_every: u64,
    /// Depth levels per side in market data.
    pub depth_levels: usize,
    /// Check order entry's signatures eight at a time on a thread of their own (AVX-512 IFMA,
    /// about three times libsecp256k1's speed per signature under load); used only where the
    /// CPU has the instructions. `false`: every API worker checks its own with libsecp256k1.
    pub batched_signature_checks: bool,
    /// With batched checks: the rate (commands/s reaching order entry) from which signatures go
    /// to the checker thread; below it order entry checks each itself, which saves a thread
    /// hand-over (~0.1 ms at 5,000/s). 0: always through the checker. Unset (the default): the
    /// rate at which checking on order entry would take a quarter of a core, from the time one
    /// libsecp256k1 check takes on this machine, measured at start-up (about 11,000/s where a
    /// check takes 23 µs; the log says what was chosen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batched_signature_checks_from: Option<u64>,
    /// Real-time priority (1..=99) for the threads an acknowledgement waits for: the engine,
    /// the signature checkers and the API workers run in `SCHED_RR` at it. 0 (the default):
    /// ordinary threads. Needs `CAP_SYS_NICE` or `RLIMIT_RTPRIO`; for a machine or cores given
    /// to the node. Read at start.
    pub realtime_priority: u8,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            batch_max_commands: 1_000,
            batch_max_ms: 200,
            queue_capacity: 65_536,
            max_group: 4_096,
            fsync: true,
            group_commit_min_us: GROUP_COMMIT_MIN_US,
            segment_mb: 64,
            preallocate_kb: 256,
            snapshot_every: 100,
            depth_levels: 20,
            batched_signature_checks: true,
            batched_signature_checks_from: None,
            realtime_priority: 0,
        }
    }
}

/// Rollup settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RollupSection {
    /// Pack every cut batch into EIP-4844 blobs with KZG commitments (≈ 35 ms of CPU per blob on
    /// a background thread) and back each blob up under its CIDv1 in `blob_dir`. Off by default
    /// until batches are posted to L1 (`--demo` turns it on).
    pub blobs: bool,
    /// Content-addressed blob store, relative to the data directory.
    pub blob_dir: PathBuf,
    /// The L1 the node posts to: `"off"`; `"in-process"` — the rollup contracts on an
    /// in-process revm chain persisted under `l1_dir` (`--demo` turns it on); or `"json-rpc"` —
    /// an Ethereum node at `l1_rpc_url` (needs a build with the `json-rpc` feature). With an L1,
    /// every batch takes the L1 deposit and forced-inclusion queues first, is proposed as blobs,
    /// and is settled once the settler's L1 follower derives the same root.
    pub l1: String,
    /// JSON-RPC endpoint of the L1 node (`l1 = "json-rpc"`).
    pub l1_rpc_url: String,
    /// Hex secp256k1 secret keys the node sends L1 transactions with (`l1 = "json-rpc"`): the
    /// first proposes, settles and pays faucet deposits (on a development node). The environment
    /// variable `ZKCLOB_L1_PRIVATE_KEYS` (comma-separated) takes precedence, so keys need not be
    /// written into a configuration file.
    pub l1_private_keys: Vec<String>,
    /// The L1 directory, relative to the data directory: the deployment record and the blobs sent
    /// (both modes) and, in-process, the chain's transaction log.
    pub l1_dir: PathBuf,
    /// Chain id of the in-process L1 (what committee attestations sign for).
    pub l1_chain_id: u64,
    /// L1 blocks without a settlement after which anyone may freeze the rollup.
    pub escape_delay_blocks: u64,
    /// L1 blocks after which a queued deposit or forced command must be in a proposal. A node
    /// whose proposals lag further behind its batches than this can no longer propose the
    /// batches that did not take such an entry (`QueueEntryDue`): the in-process chain makes a
    /// block per transaction (two per batch: proposal and settlement), so the default is
    /// generous.
    pub inclusion_delay_blocks: u64,
    /// Settle proposed batches on L1 (in-process: the settlement program re-executed natively
    /// and attested by a development committee, which is not a proof).
    pub settle: bool,
}

impl Default for RollupSection {
    fn default() -> Self {
        RollupSection {
            blobs: false,
            blob_dir: "blobs".into(),
            l1: "off".into(),
            l1_rpc_url: "http://127.0.0.1:8545".into(),
            l1_private_keys: Vec::new(),
            l1_dir: "l1".into(),
            l1_chain_id: 31_337,
            escape_delay_blocks: 7_200,
            inclusion_delay_blocks: 1_800,
            settle: true,
        }
    }
}

impl RollupSection {
    /// Whether batches go to an L1.
    pub fn l1_on(&self) -> bool {
        self.l1 != "off"
    }
}

/// Development settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevSection {
    /// `POST /v1/dev/faucet` credits accounts as an L1 deposit would. Until the rollup's L1
    /// deposits exist it is how accounts get funds; turn it off for anything real.
    pub faucet: bool,
    /// The operator's secret key file (hex), relative to the data directory; created on first
    /// start if missing.
    pub operator_key: PathBuf,
}

impl Default for DevSection {
    fn default() -> Self {
        DevSection { faucet: true, operator_key: "operator.key".into() }
    }
}

/// A market a new exchange opens with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Id.
    pub id: u32,
    /// Symbol, e.g. "ETH-USDC".
    pub name: String,
    /// Base asset id.
    pub base_asset: u32,
    /// Quote asset id.
    pub quote_asset: u32,
    /// Tick size.
    pub tick_size: i64,
    /// Lot size.
    pub lot_size: u64,
    /// Smallest order, lots.
    pub min_qty: u64,
    /// Largest order, lots.
    pub max_qty: u64,
    /// Lowest price, ticks.
    pub min_price: i64,
    /// Highest price, ticks.
    pub max_price: i64,
    /// Base atoms per lot.
    pub base_atoms_per_lot: u64,
    /// Quote atoms per tick per lot.
    pub quote_atoms_per_tick_lot: u64,
    /// Maker fee, bps.
    pub maker_bps: u16,
    /// Taker fee, bps.
    pub taker_bps: u16,
}

impl MarketConfig {
    /// The spec and fees.
    pub fn spec(&self) -> (MarketSpec, FeeSchedule) {
        (
            MarketSpec {
                market_id: MarketId(self.id),
                base_asset: AssetId(self.base_asset),
                quote_asset: AssetId(self.quote_asset),
                tick_size: self.tick_size,
                lot_size: self.lot_size,
                min_qty: Qty(self.min_qty),
                max_qty: Qty(self.max_qty),
                min_price: Price(self.min_price),
                max_price: Price(self.max_price),
                base_atoms_per_lot: self.base_atoms_per_lot as u128,
                quote_atoms_per_tick_lot: self.quote_atoms_per_tick_lot as u128,
            },
            FeeSchedule { maker_bps: self.maker_bps, taker_bps: self.taker_bps },
        )
    }
}

/// The two demo markets: ETH-USDC (asset 1 in asset 3) and BTC-USDC (asset 2 in asset 3).
pub fn demo_markets() -> Vec<MarketConfig> {
    let m = |id, name: &str, base, tick| MarketConfig {
        id,
        name: name.into(),
        base_asset: base,
        quote_asset: 3,
        tick_size: tick,
        lot_size: 1,
        min_qty: 1,
        max_qty: 1_000_000,
        min_price: 1,
        max_price: 100_000_000,
        base_atoms_per_lot: 1_000_000,
        quote_atoms_per_tick_lot: 1,
        maker_bps: 2,
        taker_bps: 5,
    };
    vec![m(1, "ETH-USDC", 1, 1), m(2, "BTC-USDC", 2, 1)]
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            data_dir: "./data".into(),
            listen: "127.0.0.1:8080".parse().expect("literal address"),
            chain_id: 1337,
            log: LogConfig::default(),
            engine: EngineSection::default(),
            limits: Limits::default(),
            dev: DevSection::default(),
            prover: "none".into(),
            prover_elf: None,
            rollup: RollupSection::default(),
            markets: demo_markets(),
            assets: [("ETH".to_string(), 1), ("BTC".to_string(), 2), ("USDC".to_string(), 3)]
                .into_iter()
                .collect(),
        }
    }
}

/// Why a configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("{0}")]
    Parse(String),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut t = table;
    for p in parents {
        let entry = t.entry(p.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        t = entry.as_table_mut().expect("made a table");
    }
    t.insert(last.clone(), value);
}

impl NodeConfig {
    /// Loads `file` (or the defaults when `None`), then applies `env` overrides (pairs of
    /// name and value, e.g. from `std::env::vars()`), then validates.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<NodeConfig, ConfigError> {
        let text = match file {
            Some(p) => {
                std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.into(), source })?
            }
            None => String::new(),
        };
        let mut table: toml::Table =
            text.parse().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        let known = match toml::Value::try_from(NodeConfig::default()) {
            Ok(toml::Value::Table(t)) => t.keys().cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("ZKCLOB_") else { continue };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            // Other tools share the prefix (ZKCLOB_SKIP_ZKVM, ...): only names whose first part
            // is a config key are overrides; within a section, unknown keys are errors.
            if !known.contains(&path[0]) {
                continue;
            }
            let value = format!("v = {v}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(v));
            set_path(&mut table, &path, value);
        }
        let cfg: NodeConfig =
            table.try_into().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        let e = &self.engine;
        if e.batch_max_commands == 0 || e.batch_max_commands > zkclob_state::command::MAX_BATCH_COMMANDS {
            return bad(format!(
                "engine.batch_max_commands must be 1..={}",
                zkclob_state::command::MAX_BATCH_COMMANDS
            ));
        }
        if e.batch_max_ms == 0 || e.batch_max_ms > 60_000 {
            return bad("engine.batch_max_ms must be 1..=60000".into());
        }
        if e.queue_capacity == 0 || e.max_group == 0 {
            return bad("engine.queue_capacity and engine.max_group must be positive".into());
        }
        if e.segment_mb == 0 || e.segment_mb > 1024 {
            return bad("engine.segment_mb must be 1..=1024".into());
        }
        if e.preallocate_kb > 65_536 {
            return bad("engine.preallocate_kb must be 0..=65536".into());
        }
        if e.realtime_priority > crate::sched::MAX_REALTIME_PRIORITY {
            return bad("engine.realtime_priority must be 0..=99 (0: ordinary threads)".into());
        }
        if !(self.limits.rate_per_sec > 0.0 && self.limits.rate_per_sec.is_finite()) {
            return bad("limits.rate_per_sec must be a positive number".into());
        }
        if !(self.limits.burst >= 1.0 && self.limits.burst.is_finite()) {
            return bad("limits.burst must be at least 1".into());
        }
        if !["trace", "debug", "info", "warn", "error"].contains(&self.log.level.as_str()) {
            return bad(format!(
                "log.level must be trace, debug, info, warn or error, not {:?}",
                self.log.level
            ));
        }
        if !["pretty", "json"].contains(&self.log.format.as_str()) {
            return bad(format!("log.format must be pretty or json, not {:?}", self.log.format));
        }
        if !["none", "native-reexecute", "sp1-execute", "sp1-prove", "zisk-execute"]
            .contains(&self.prover.as_str())
        {
            return bad(format!(
                "prover must be none, native-reexecute, sp1-execute, sp1-prove or zisk-execute, not {:?}",
                self.prover
            ));
        }
        if !["off", "in-process", "json-rpc"].contains(&self.rollup.l1.as_str()) {
            return bad(format!("rollup.l1 must be off, in-process or json-rpc, not {:?}", self.rollup.l1));
        }
        if self.rollup.l1 == "json-rpc" && !cfg!(feature = "json-rpc") {
            return bad("rollup.l1 = \"json-rpc\" needs a build with the `json-rpc` feature \
                        (cargo build --release -p zkclob-cli --features json-rpc)"
                .into());
        }
        if self.rollup.l1_on()
            && (self.rollup.inclusion_delay_blocks == 0 || self.rollup.escape_delay_blocks == 0)
        {
            return bad(
                "rollup.inclusion_delay_blocks and rollup.escape_delay_blocks must be positive".into()
            );
        }
        let mut ids: Vec<u32> = self.markets.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.markets.len() {
            return bad("two markets share an id".into());
        }
        for m in &self.markets {
            let (spec, _) = m.spec();
            spec.validate().map_err(|e| ConfigError::Invalid(format!("market {}: {e:?}", m.name)))?;
        }
        Ok(())
    }

    /// The engine's settings.
    pub fn engine_config(&self, operator: zkclob_state::Address) -> EngineConfig {
        let mut c = EngineConfig::new(&self.data_dir, self.chain_id, operator);
        c.batch_max_commands = self.engine.batch_max_commands;
        c.batch_max_ms = self.engine.batch_max_ms;
        c.queue_capacity = self.engine.queue_capacity;
        c.max_group = self.engine.max_group;
        c.fsync = self.engine.fsync;
        c.group_commit_min = std::time::Duration::from_micros(self.engine.group_commit_min_us);
        c.segment_bytes = self.engine.segment_mb << 20;
        c.preallocate_bytes = self.engine.preallocate_kb << 10;
        c.realtime_priority = self.engine.realtime_priority;
        c.snapshot_every = self.engine.snapshot_every;
        c.depth_levels = self.engine.depth_levels;
        c
    }

    /// The keys whose values differ, as (key, old, new).
    pub fn diff(&self, new: &NodeConfig) -> Vec<(String, String, String)> {
        let flat = |c: &NodeConfig| {
            let mut out = BTreeMap::new();
            let v = toml::Value::try_from(c).expect("config serializes");
            flatten("", &v, &mut out);
            out
        };
        let (a, b) = (flat(self), flat(new));
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        keys.into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| {
                (k.clone(), a.get(k).cloned().unwrap_or_default(), b.get(k).cloned().unwrap_or_default())
            })
            .collect()
    }
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn defaults_validate_and_env_overrides_apply() {
        let c = NodeConfig::load(None, env(&[])).unwrap();
        assert_eq!(c, NodeConfig::default());
        let c = NodeConfig::load(
            None,
            env(&[
                ("ZKCLOB_ENGINE__BATCH_MAX_MS", "50"),
                ("ZKCLOB_LISTEN", "127.0.0.1:9999"),
                ("ZKCLOB_LIMITS__RATE_PER_SEC", "12.5"),
                ("ZKCLOB_LOG__FORMAT", "json"),
                ("ZKCLOB_SKIP_ZKVM", "1"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.engine.batch_max_ms, 50);
        assert_eq!(c.listen.port(), 9999);
        assert_eq!(c.limits.rate_per_sec, 12.5);
        assert_eq!(c.log.format, "json");
    }

    #[test]
    fn bad_values_and_unknown_keys_are_refused_with_the_key_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        for (text, needle) in [
            ("[engine]\nbatch_max_ms = 0\n", "batch_max_ms"),
            ("[engine]\npreallocate_kb = 65537\n", "preallocate_kb"),
            ("[engine]\nrealtime_priority = 100\n", "realtime_priority"),
            ("[engine]\nrealtime_priority = -1\n", "realtime_priority"),
            ("[engine]\nbatch_max_comands = 5\n", "batch_max_comands"),
            ("[log]\nlevel = \"loud\"\n", "log.level"),
            ("[limits]\nrate_per_sec = -1.0\nburst = 5.0\n", "rate_per_sec"),
            ("listen = \"nowhere\"\n", "listen"),
            ("chain_id = \"x\"\n", "chain_id"),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = NodeConfig::load(Some(&p), env(&[])).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?} -> {e}");
        }
    }

    #[test]
    fn diff_names_the_changed_keys() {
        let a = NodeConfig::default();
        let mut b = a.clone();
        b.limits.burst = 7.0;
        b.engine.batch_max_ms = 5;
        let keys: Vec<String> = a.diff(&b).into_iter().map(|(k, _, _)| k).collect();
        assert_eq!(keys, ["engine.batch_max_ms", "limits.burst"]);
    }
}
