//! The whole node put together: logging, the operator key, the engine (recovered from disk),
//! the prover worker, the HTTP server, config hot reload, and a clean shutdown on Ctrl-C or
//! SIGTERM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::json;
use zkclob_core::MarketId;
use zkclob_state::merkle::Sha256Hasher;
use zkclob_state::{Action, Command, ExchangeState, NativeCrypto, StateCommitment, Witness};

use crate::api::{Api, Limits, Names};
use crate::config::NodeConfig;
use crate::crypto::{FastCrypto, Keypair};
use crate::engine::{CutBatch, Engine, EngineHandle};
use crate::index::Index;
use crate::l1::L1Bridge;
use crate::metrics::Metrics;

/// Where the tracing subscriber's level can be changed at run time.
pub type LogHandle =
    tracing_subscriber::reload::Handle<tracing_subscriber::filter::LevelFilter, tracing_subscriber::Registry>;

fn level(s: &str) -> tracing_subscriber::filter::LevelFilter {
    s.parse().unwrap_or(tracing_subscriber::filter::LevelFilter::INFO)
}

/// Installs the global subscriber (pretty or JSON lines on stderr). Returns the level handle;
/// `None` if a subscriber was already installed (tests).
pub fn init_logging(cfg: &NodeConfig) -> Option<LogHandle> {
    use tracing_subscriber::layer::SubscriberExt;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(level(&cfg.log.level));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    let ok = if cfg.log.format == "json" {
        tracing::subscriber::set_global_default(registry.with(fmt.json())).is_ok()
    } else {
        tracing::subscriber::set_global_default(registry.with(fmt)).is_ok()
    };
    ok.then_some(handle)
}

/// Loads the operator key from `path`, creating it (mode 0600) on first start.
pub fn operator_key(path: &Path) -> anyhow::Result<Keypair> {
    if path.exists() {
        let text = std::fs::read_to_string(path)?;
        let bytes = hex::decode(text.trim().trim_start_matches("0x"))
            .map_err(|e| anyhow::anyhow!("{}: not a hex secret key: {e}", path.display()))?;
        let secret: [u8; 32] =
            bytes.try_into().map_err(|_| anyhow::anyhow!("{}: a secret key is 32 bytes", path.display()))?;
        return Ok(Keypair::from_secret(&secret)?);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let k = Keypair::generate()?;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(f, "0x{}", hex::encode(k.secret_bytes()))?;
    f.sync_all()?;
    Ok(k)
}

/// The operator commands a new exchange starts with: one AddMarket per configured market.
pub fn genesis_commands(cfg: &NodeConfig, operator: &Keypair) -> Vec<Command> {
    cfg.markets
        .iter()
        .map(|m| {
            let (spec, fees) = m.spec();
            operator.sign(cfg.chain_id, 0, Action::AddMarket { spec, fees })
        })
        .collect()
}

/// Human names for the API.
pub fn names(cfg: &NodeConfig) -> Names {
    Names {
        markets: cfg.markets.iter().map(|m| (m.id, m.name.clone())).collect(),
        assets: cfg.assets.iter().map(|(n, id)| (*id, n.clone())).collect(),
    }
}

/// Opens the engine for `cfg` (recovering from disk, catching the index up), without starting
/// it.
pub fn open_engine(cfg: &NodeConfig, metrics: Arc<Metrics>, index: Option<&Index>) -> anyhow::Result<Engine> {
    let key = operator_key(&cfg.data_dir.join(&cfg.dev.operator_key))?;
    let genesis = genesis_commands(cfg, &key);
    Ok(Engine::open_indexed(cfg.engine_config(key.address()), genesis, metrics, index)?)
}

/// The prover behind `prover = "<backend>-<mode>"`: which backend, and whether it proves or only
/// executes.
#[derive(Clone, Debug)]
pub struct ProverChoice {
    /// `native`, `sp1` or `zisk`.
    pub backend: String,
    /// Make a proof (else execute only).
    pub prove: bool,
    /// Guest ELF for zkVM backends.
    pub elf: PathBuf,
}

/// Parses the `prover` setting: `none`, `native-reexecute`, `sp1-execute`, `sp1-prove`,
/// `zisk-execute`. Fails when the backend was not built in (cargo features `sp1`, `zisk`).
pub fn prover_choice(cfg: &NodeConfig) -> anyhow::Result<Option<ProverChoice>> {
    let (backend, prove) = match cfg.prover.as_str() {
        "none" => return Ok(None),
        "native-reexecute" => ("native", false),
        "sp1-execute" => ("sp1", false),
        "sp1-prove" => ("sp1", true),
        "zisk-execute" => ("zisk", false),
        other => anyhow::bail!("unknown prover {other:?}"),
    };
    let built = (backend != "sp1" || cfg!(feature = "sp1")) && (backend != "zisk" || cfg!(feature = "zisk"));
    if !built {
        anyhow::bail!("prover {:?} needs zkclob built with `--features {backend}`", cfg.prover);
    }
    let elf = cfg
        .prover_elf
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/guests/zkclob-guest-{backend}.elf")));
    if backend != "native" && !elf.exists() {
        anyhow::bail!(
            "prover {:?}: guest ELF {} not found (build it with scripts/build-guests.sh)",
            cfg.prover,
            elf.display()
        );
    }
    Ok(Some(ProverChoice { backend: backend.into(), prove, elf }))
}

/// What runs the settlement program before settling: SP1's executor when the prover is an SP1
/// one (its guest ELF runs settlements too), else the native code.
fn settle_with(choice: Option<&ProverChoice>) -> anyhow::Result<crate::l1::SettleWith> {
    match choice {
        #[cfg(feature = "sp1")]
        Some(c) if c.backend == "sp1" => {
            Ok(crate::l1::SettleWith::Sp1(zkclob_prover::sp1::Sp1Backend::from_elf_file(&c.elf)?))
        }
        _ => Ok(crate::l1::SettleWith::Native),
    }
}

fn make_backend(c: &ProverChoice) -> anyhow::Result<Box<dyn zkclob_prover::Prover>> {
    Ok(match c.backend.as_str() {
        #[cfg(feature = "sp1")]
        "sp1" => Box::new(zkclob_prover::sp1::Sp1Backend::from_elf_file(&c.elf)?),
        #[cfg(feature = "zisk")]
        "zisk" => Box::new(zkclob_prover::zisk::ZiskBackend::new(&c.elf)?),
        "native" => Box::new(zkclob_prover::NativeBackend),
        other => anyhow::bail!("backend {other} not built in"),
    })
}

/// The prover thread: keeps a shadow state one batch behind the engine, builds each cut batch's
/// witness from it, and runs the batch from the witness with the chosen backend — natively (the
/// guests' code; a check, not a proof), in a zkVM's executor, or proving — comparing the post-root
/// with the node's. The engine never waits for it.
fn prover_thread(
    mut shadow: ExchangeState,
    handle: EngineHandle,
    rx: std::sync::mpsc::Receiver<CutBatch>,
    choice: ProverChoice,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("zkclob-prover".into())
        .spawn(move || {
            let backend = match make_backend(&choice) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "prover backend unavailable");
                    return;
                }
            };
            let mut commitment = match StateCommitment::build(Sha256Hasher, &mut shadow) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = ?e, "prover: cannot commit to the state");
                    return;
                }
            };
            shadow.record_events(false);
            for b in rx {
                let n = b.header.batch_number;
                let status = match Witness::generate(&shadow, commitment.tree(), &NativeCrypto, &b.commands) {
                    Ok(witness) => {
                        let file = zkclob_prover::BatchFile {
                            header: b.header,
                            commands: b.commands.clone(),
                            witness,
                            native_post_root: b.post_root,
                        };
                        let run = if choice.prove {
                            backend.prove(&file).map(|(proof, exec)| (exec, Some(proof.len())))
                        } else {
                            backend.execute(&file).map(|exec| (exec, None))
                        };
                        match run {
                            Ok((exec, _)) if exec.output.post_root != b.post_root => {
                                format!("MISMATCH: {} reached 0x{}", backend.name(), hex::encode(exec.output.post_root))
                            }
                            Ok((exec, Some(bytes))) => format!(
                                "proved by {}: {bytes}-byte proof, post-root matches; {} cycles",
                                backend.name(),
                                exec.cycles.map_or("?".into(), |c| c.to_string())
                            ),
                            Ok((exec, None)) if backend.name() == "native" => format!(
                                "native re-execution from the witness matched the root (not a proof); batch hash 0x{}",
                                hex::encode(exec.output.batch_hash)
                            ),
                            Ok((exec, None)) => format!(
                                "{} execution from the witness matched the root (not a proof): {} cycles",
                                backend.name(),
                                exec.cycles.map_or("?".into(), |c| c.to_string())
                            ),
                            Err(e) => format!("FAILED: {e}"),
                        }
                    }
                    Err(e) => format!("FAILED to build the witness: {e}"),
                };
                if status.starts_with("MISMATCH") || status.starts_with("FAILED") {
                    tracing::error!(batch = n, %status, "prover");
                }
                let applied = shadow.apply_batch(&FastCrypto, &b.header, commitment.root(), &b.commands);
                let updated = applied
                    .map_err(|e| format!("{e:?}"))
                    .and_then(|_| commitment.update(&mut shadow).map_err(|e| format!("{e:?}")));
                if let Err(e) = updated {
                    tracing::error!(batch = n, error = %e, "prover: shadow state failed; stopping the prover");
                    return;
                }
                handle.metrics().prover_backlog.fetch_sub(1, Relaxed);
                handle.metrics().batches_proven.fetch_add(1, Relaxed);
                if handle.set_proof_status(n, status).is_err() {
                    return;
                }
            }
        })
        .expect("spawning the prover thread")
}

/// The blob publisher: packs each cut batch's own commands into EIP-4844 blobs (batch data →
/// zlib → blobs), computes each blob's KZG commitment and versioned hash, and stores the blob
/// under its CIDv1. With an L1 it then proposes the batch there ([`crate::l1::propose_batch`]),
/// starting with `backlog` (cut batches L1 has not seen, re-read from the journal after a
/// restart); after a failed proposal it only packs (later batches would be misnumbered).
fn publisher_thread(
    dir: PathBuf,
    handle: EngineHandle,
    rx: std::sync::mpsc::Receiver<CutBatch>,
    l1: Option<Arc<L1Bridge>>,
    backlog: Vec<CutBatch>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let store = zkclob_rollup::cas::CasStore::open(&dir)?;
    Ok(std::thread::Builder::new().name("zkclob-blobs".into()).spawn(move || {
        let mut proposing = l1.is_some();
        for b in backlog.into_iter().chain(rx) {
            let n = b.header.batch_number;
            // With an L1 each blob also needs its KZG proof (the sidecar); without, the
            // commitment alone.
            let mut sidecars = None;
            let packed: Result<Vec<(zkclob_rollup::blob::Blob, [u8; 32])>, String> = if l1.is_some() {
                zkclob_rollup::pipeline::BatchBlobs::from_batch(&b.header, b.own_commands())
                    .map(|bb| {
                        let out = bb.sidecars.iter().map(|s| (s.blob.clone(), s.versioned_hash)).collect();
                        sidecars = Some(bb);
                        out
                    })
                    .map_err(|e| e.to_string())
            } else {
                zkclob_rollup::encode_blobs(&b.header, b.own_commands()).map_err(|e| e.to_string()).and_then(
                    |blobs| {
                        blobs
                            .into_iter()
                            .map(|blob| {
                                let c = zkclob_rollup::kzg::blob_to_commitment(&blob)
                                    .map_err(|e| e.to_string())?;
                                Ok((blob, zkclob_rollup::versioned_hash(&c)))
                            })
                            .collect()
                    },
                )
            };
            let packed = match packed {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(batch = n, error = %e, "cannot pack the batch into blobs");
                    continue;
                }
            };
            let mut refs = Vec::with_capacity(packed.len());
            for (blob, versioned_hash) in &packed {
                match store.put(blob.as_bytes()) {
                    Ok(cid) => {
                        handle.metrics().blobs.fetch_add(1, Relaxed);
                        refs.push(crate::engine::BlobRef {
                            versioned_hash: format!("0x{}", hex::encode(versioned_hash)),
                            cid: cid.to_string(),
                        });
                    }
                    Err(e) => tracing::error!(batch = n, error = %e, "blob store failed"),
                }
            }
            if let (Some(bridge), Some(sidecars), true) = (&l1, &sidecars, proposing) {
                proposing = crate::l1::propose_batch(bridge, &handle, &b, sidecars);
            }
            // After the engine stopped, only proposing matters.
            let _ = handle.set_blobs(n, refs);
        }
    })?)
}

/// One config change attempt, as recorded in `config-history.jsonl`.
fn record_change(data_dir: &Path, version: u64, changes: &[(String, String, String)], outcome: &str) {
    let at = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let line = json!({
        "version": version, "unix_time": at, "outcome": outcome,
        "changes": changes.iter().map(|(k, a, b)| json!({"key": k, "old": a, "new": b})).collect::<Vec<_>>(),
    });
    let path = data_dir.join("config-history.jsonl");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{line}").and_then(|_| f.sync_data()));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot record the config change");
    }
}

/// The live half of the config: what reload may change and how.
pub struct Live {
    current: NodeConfig,
    version: u64,
    limits: Arc<RwLock<Limits>>,
    log: Option<LogHandle>,
    engine: EngineHandle,
}

impl Live {
    /// Tries to move to `new`: only [`crate::config::LIVE_KEYS`] may differ. On any error the
    /// old values stay. Returns the outcome recorded.
    pub async fn reload(&mut self, new: Result<NodeConfig, String>) -> String {
        let new = match new {
            Ok(n) => n,
            Err(e) => {
                self.version += 1;
                let outcome = format!("rejected: {e}");
                record_change(&self.current.data_dir, self.version, &[], &outcome);
                return outcome;
            }
        };
        let changes = self.current.diff(&new);
        if changes.is_empty() {
            return "unchanged".into();
        }
        self.version += 1;
        let fixed: Vec<&str> = changes
            .iter()
            .map(|(k, _, _)| k.as_str())
            .filter(|k| !crate::config::LIVE_KEYS.contains(k))
            .collect();
        let outcome = if !fixed.is_empty() {
            format!("rejected: {} cannot change while the node runs (restart to apply)", fixed.join(", "))
        } else {
            let old_limits = *self.limits.read().expect("limits lock");
            *self.limits.write().expect("limits lock") = new.limits;
            let mut ok =
                self.engine.configure(new.engine.batch_max_commands, new.engine.batch_max_ms).await.is_ok();
            if ok {
                if let Some(h) = &self.log {
                    ok = h.modify(|f| *f = level(&new.log.level)).is_ok();
                }
            }
            if ok {
                self.current = new;
                "applied".to_string()
            } else {
                // Roll back what was applied.
                *self.limits.write().expect("limits lock") = old_limits;
                let _ = self
                    .engine
                    .configure(self.current.engine.batch_max_commands, self.current.engine.batch_max_ms)
                    .await;
                "rejected: applying failed; rolled back".to_string()
            }
        };
        record_change(&self.current.data_dir, self.version, &changes, &outcome);
        if outcome == "applied" {
            tracing::info!(version = self.version, ?changes, "configuration reloaded");
        } else {
            tracing::error!(version = self.version, %outcome, "configuration change refused");
        }
        outcome
    }
}

/// A running node (for tests and embedding).
pub struct RunningNode {
    /// The engine.
    pub engine: EngineHandle,
    /// The address the API listens on.
    pub addr: std::net::SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    publisher: Option<std::thread::JoinHandle<()>>,
    settler: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    l1: Option<Arc<L1Bridge>>,
}

impl RunningNode {
    /// Blocks until the server stops (Ctrl-C, SIGTERM).
    pub fn wait(&mut self) {
        if let Some(t) = self.server.take() {
            let _ = t.join();
        }
    }

    /// The in-process L1, in L1 mode.
    pub fn l1(&self) -> Option<&Arc<L1Bridge>> {
        self.l1.as_ref()
    }

    /// Stops the server and the engine (cut, snapshot), lets the publisher propose what was
    /// cut, and stops the settler.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.server.take() {
            let _ = t.join();
        }
        self.engine.shutdown();
        if let Some(t) = self.publisher.take() {
            let _ = t.join();
        }
        if let Some((stop, t)) = self.settler.take() {
            stop.store(true, Relaxed);
            let _ = t.join();
        }
    }
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Starts a node for `cfg` on its own threads and returns once it listens. `config_file` is
/// watched for hot reload when given.
pub fn start(
    cfg: NodeConfig,
    config_file: Option<PathBuf>,
    log: Option<LogHandle>,
) -> anyhow::Result<RunningNode> {
    let choice = prover_choice(&cfg)?;
    let metrics = Arc::new(Metrics::default());
    // Say plainly if another process holds the directory (before the index's own lock does).
    drop(crate::engine::lock_data_dir(&cfg.data_dir)?);
    let index = Index::open(&cfg.data_dir.join("index.redb"))?;
    let mut engine = open_engine(&cfg, metrics, Some(&index))?;
    let r = engine.recovery().clone();
    tracing::info!(
        created = r.created, snapshot_batch = ?r.snapshot_batch, replayed = r.replayed,
        torn_tail = ?r.torn_tail, root = %r.root, millis = r.millis, "state recovered"
    );
    for s in &r.snapshots_skipped {
        tracing::warn!(skipped = %s, "corrupt snapshot skipped");
    }
    engine.cut_open_batch();
    // L1 mode: open the in-process L1, find what it has not seen, and let the engine take its
    // queues from where the last batch stopped.
    let (l1, backlog) = if cfg.rollup.l1_on() {
        let genesis = ExchangeState::new(engine.state().chain_id, engine.state().operator);
        let assets: Vec<(String, u32)> = cfg.assets.iter().map(|(n, id)| (n.clone(), *id)).collect();
        let target = l1_target(&cfg.rollup)?;
        let bridge = Arc::new(L1Bridge::open(
            &cfg.data_dir.join(&cfg.rollup.l1_dir),
            &target,
            genesis,
            &assets,
            cfg.rollup.escape_delay_blocks,
            cfg.rollup.inclusion_delay_blocks,
        )?);
        let (proposed, at_proposed) = bridge.counts_at(None)?;
        let last = engine.state().batch_number;
        if proposed > last {
            anyhow::bail!(
                "the in-process L1 holds {proposed} proposals but the journal only {last} batches: \
                 {} does not belong to this data directory",
                bridge.dir().display()
            );
        }
        let (backlog, cursor) =
            engine.batches_after(proposed, at_proposed).map_err(|e| anyhow::anyhow!(e))?;
        // The settler compares every unsettled batch's derived root with the node's.
        let settled = bridge.settled()?;
        let (_, at_settled) = bridge.counts_at(Some(settled))?;
        match engine.batches_after(settled, at_settled) {
            Ok((unsettled, _)) => {
                unsettled.iter().for_each(|b| bridge.expect_root(b.header.batch_number, b.post_root))
            }
            Err(e) => {
                tracing::warn!(error = %e, "settler: some unsettled batches have no node root to compare")
            }
        }
        if !backlog.is_empty() {
            tracing::info!(
                batches = backlog.len(),
                from = proposed + 1,
                "re-proposing batches L1 has not seen"
            );
        }
        engine.set_l1(Box::new(bridge.clone()), cursor);
        (Some(bridge), backlog)
    } else {
        (None, Vec::new())
    };
    let choice_for_settler = choice.clone();
    let prover = match choice {
        Some(choice) => {
            let (tx, rx) = std::sync::mpsc::channel();
            engine.set_prover(tx);
            Some((engine.state().clone(), rx, choice))
        }
        None => None,
    };
    let publisher = if cfg.rollup.blobs || l1.is_some() {
        let (tx, rx) = std::sync::mpsc::channel();
        engine.set_publisher(tx);
        Some(rx)
    } else {
        None
    };
    let handle = engine.start();
    let publisher = match publisher {
        Some(rx) => Some(publisher_thread(
            cfg.data_dir.join(&cfg.rollup.blob_dir),
            handle.clone(),
            rx,
            l1.clone(),
            backlog,
        )?),
        None => None,
    };
    let settler = match &l1 {
        Some(bridge) if cfg.rollup.settle => {
            let stop = Arc::new(AtomicBool::new(false));
            let interval = Duration::from_millis(cfg.engine.batch_max_ms.clamp(50, 1_000));
            let with = settle_with(choice_for_settler.as_ref())?;
            let t = crate::l1::settler_thread(bridge.clone(), handle.clone(), interval, stop.clone(), with)?;
            Some((stop, t))
        }
        _ => None,
    };
    if let Some((shadow, rx, choice)) = prover {
        prover_thread(shadow, handle.clone(), rx, choice);
    }
    let limits = Arc::new(RwLock::new(cfg.limits));
    let api = Api::new(handle.clone(), limits.clone(), names(&cfg), cfg.dev.faucet)
        .with_index(index)
        .with_l1(l1.clone());
    let (api, batched) = if cfg.engine.batched_signature_checks {
        api.with_batched_checks(cfg.engine.batched_signature_checks_from)
    } else {
        (api, None)
    };
    if let Some(from) = batched {
        tracing::info!(
            from_per_sec = from,
            "signature checks: eight at a time (AVX-512 IFMA) from {from} commands/s, one by one below"
        );
    } else {
        tracing::info!("signature checks: libsecp256k1, one per command");
    }
    let std_listener = std::net::TcpListener::bind(cfg.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.listen))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut live = Live { current: cfg.clone(), version: 0, limits, log, engine: handle.clone() };
    // With the signature checks on a thread of their own, one worker does the rest of order
    // entry with less hand-over between threads; without, two share the checks.
    let api_workers = if batched.is_some() { 1 } else { 2 };
    let (realtime, metrics) = (handle.realtime_priority(), handle.metrics().clone());
    let server = std::thread::Builder::new().name("zkclob-api".into()).spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(api_workers)
            .enable_all()
            .thread_name("zkclob-api-worker")
            // Order entry runs on the workers; tokio's blocking threads start here too, and
            // what runs on them returns to the ordinary class first (`sched::ordinary`).
            .on_thread_start(move || {
                crate::sched::ack_path(realtime, "API worker", &metrics);
            })
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            if let Some(file) = config_file {
                tokio::spawn(async move {
                    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
                    let mut seen = mtime(&file);
                    loop {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        let now = mtime(&file);
                        if now != seen {
                            seen = now;
                            let loaded =
                                NodeConfig::load(Some(&file), std::env::vars()).map_err(|e| e.to_string());
                            live.reload(loaded).await;
                        }
                    }
                });
            }
            let shutdown = async move {
                tokio::select! {
                    _ = stop_rx => {}
                    _ = tokio::signal::ctrl_c() => { tracing::info!("interrupt: shutting down"); }
                    _ = terminate() => { tracing::info!("SIGTERM: shutting down"); }
                }
            };
            if let Err(e) = crate::api::serve(listener, api.router(), shutdown).await {
                tracing::error!(error = %e, "server stopped");
            }
        });
    })?;
    tracing::info!(%addr, "listening");
    Ok(RunningNode {
        engine: handle,
        addr,
        shutdown: Some(stop_tx),
        server: Some(server),
        publisher,
        settler,
        l1,
    })
}

async fn terminate() {
    #[cfg(unix)]
    {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

/// Recovers the state in `cfg.data_dir` offline (snapshot + journal) and returns its root,
/// batch number and what recovery did. Writes nothing but what recovery itself repairs (a torn
/// journal tail).
pub fn state_root(cfg: &NodeConfig) -> anyhow::Result<(String, u64, crate::engine::Recovery)> {
    let journal = cfg.data_dir.join("journal");
    if !journal.exists() {
        anyhow::bail!("{} holds no journal: nothing to recover", cfg.data_dir.display());
    }
    let metrics = Arc::new(Metrics::default());
    let key_file = cfg.data_dir.join(&cfg.dev.operator_key);
    if !key_file.exists() {
        anyhow::bail!("{} is missing: this is not a node's data directory", key_file.display());
    }
    let key = operator_key(&key_file)?;
    let mut ecfg = cfg.engine_config(key.address());
    ecfg.create_if_missing = false;
    let engine = Engine::open(ecfg, Vec::new(), metrics)?;
    let r = engine.recovery().clone();
    Ok((r.root.clone(), engine.state().batch_number, r))
}

/// The market ids and names of a config, for clients.
pub fn market_names(cfg: &NodeConfig) -> Vec<(MarketId, String)> {
    cfg.markets.iter().map(|m| (MarketId(m.id), m.name.clone())).collect()
}

/// The L1 that `rollup` names; JSON-RPC keys come from `ZKCLOB_L1_PRIVATE_KEYS` (comma-separated)
/// when set, else from the configuration.
fn l1_target(rollup: &crate::config::RollupSection) -> anyhow::Result<crate::l1::L1Target> {
    if rollup.l1 != "json-rpc" {
        return Ok(crate::l1::L1Target::InProcess { chain_id: rollup.l1_chain_id });
    }
    let from_env = std::env::var("ZKCLOB_L1_PRIVATE_KEYS").ok().filter(|v| !v.trim().is_empty());
    let texts: Vec<String> = match &from_env {
        Some(v) => v.split(',').map(|k| k.trim().to_string()).collect(),
        None => rollup.l1_private_keys.clone(),
    };
    if texts.is_empty() {
        anyhow::bail!(
            "rollup.l1 = \"json-rpc\" needs a key: set ZKCLOB_L1_PRIVATE_KEYS or rollup.l1_private_keys"
        );
    }
    let keys = texts
        .iter()
        .enumerate()
        .map(|(i, k)| {
            k.parse::<alloy_primitives::B256>()
                .map_err(|_| anyhow::anyhow!("L1 private key {} is not 32 bytes of hex", i + 1))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(crate::l1::L1Target::JsonRpc { url: rollup.l1_rpc_url.clone(), keys })
}
