//! The node's L1 side: the rollup contracts on an in-process revm chain that survives restarts
//! (`rollup.l1 = "in-process"`) or on an Ethereum node over JSON-RPC (`"json-rpc"`, feature
//! `json-rpc`), and the two threads that move batches to it.
//!
//! - [`L1Bridge`] owns the chain (in-process: its transaction log under `data/l1/`; both: the
//!   deployment in `data/l1/deployment.json`) and a mirror of the contract's two queues (deposits, forced
//!   commands) that the engine takes from when it opens a batch ([`crate::engine::L1Queues`]):
//!   the engine never waits for the chain.
//! - The **publisher** ([`propose_batch`]) packs a cut batch's own commands into blobs and
//!   proposes them with `propose(depositsUpTo, forcedUpTo)` from the batch's take. Batches are
//!   proposed in order, each once: a restarted node first re-proposes, from its journal, the cut
//!   batches L1 has not seen.
//! - The **settler** ([`settler_thread`]) follows the chain as any node would
//!   ([`L1Follower`]: events and blobs only), checks each derived batch's root against the
//!   node's, runs the settlement program on it, and settles. In-process the program runs
//!   natively and a development committee attests its public values: a re-execution, **not a
//!   proof** (the same `settle` call takes an SP1 proof through SP1's gateway in production;
//!   `zkclob-prover`'s `e2e_l1` test settles with SP1's executor). A root mismatch stops
//!   settling and raises `zkclob_l1_root_mismatch`.
//!
//! The node assumes it is the rollup's only proposer (a based rollup lets anyone propose; a
//! foreign proposal would shift batch numbers, which the settler's root check catches).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use alloy_primitives::{keccak256, Address as L1Address, B256, U256};
use serde::{Deserialize, Serialize};
use zkclob_rollup::kzg::BlobSidecar;
use zkclob_rollup::l1::committee::{Committee, CommitteeMember};
use zkclob_rollup::l1::derive::{L1Follower, SyncedBatch};
use zkclob_rollup::l1::rollup::{deploy_test_token, RollupEvents};
use zkclob_rollup::l1::settlement::{encode_public_values, open_blob};
use zkclob_rollup::l1::{AssetUnits, Chain, DevChain, L1Config, Settlement, WithdrawalClaim, L1};
use zkclob_rollup::pipeline::BatchBlobs;
use zkclob_state::withdrawals::withdrawal_proof;
use zkclob_state::{ExchangeState, NativeCrypto, Withdrawal};

use crate::engine::{CutBatch, EngineHandle, L1Queues};
use crate::entry::{L1Deposit, L1Take};

/// The verification key the in-process rollup is deployed with: names what settles it (the
/// settlement program re-executed natively, attested by the development committee).
pub fn dev_program_vkey() -> B256 {
    keccak256(b"zkclob settlement program: native re-execution attested by the dev committee (not a proof)")
}

/// What runs the settlement program before the committee attests its public values. Neither is
/// a proof: the native run is the program's Rust code on this machine, the SP1 run its RISC-V
/// build in SP1's executor (the same ELF the proving path proves).
pub enum SettleWith {
    /// `zkclob_rollup::program::run`, natively.
    Native,
    /// The guest in SP1's executor (`prover = "sp1-execute"` or `"sp1-prove"`); its public
    /// values must equal the native run's.
    #[cfg(feature = "sp1")]
    Sp1(zkclob_prover::sp1::Sp1Backend),
}

/// Development committee size and threshold (k-of-n).
const COMMITTEE: u32 = 3;
const THRESHOLD: usize = 2;
/// Sending accounts by role (an index into [`Chain::accounts`], wrapped: with one configured
/// key, it does everything): proposer, settler, faucet.
const PROPOSER: usize = 1;
const SETTLER: usize = 2;
const FAUCET: usize = 3;

/// The rollup's contracts on whichever chain the node uses.
pub type NodeL1 = L1<Box<dyn Chain>>;

/// The account for `role` on `chain`.
fn account(chain: &dyn Chain, role: usize) -> L1Address {
    let accounts = chain.accounts();
    accounts[role % accounts.len()]
}

/// Which L1 the node opens.
#[derive(Clone, Debug)]
pub enum L1Target {
    /// The in-process revm chain with this chain id, persisted in the L1 directory.
    InProcess {
        /// Chain id.
        chain_id: u64,
    },
    /// An Ethereum node over JSON-RPC (feature `json-rpc`).
    JsonRpc {
        /// Its endpoint.
        url: String,
        /// The keys the node sends with.
        keys: Vec<B256>,
    },
}

impl L1Target {
    /// "in-process" or "json-rpc".
    pub fn name(&self) -> &'static str {
        match self {
            L1Target::InProcess { .. } => "in-process",
            L1Target::JsonRpc { .. } => "json-rpc",
        }
    }
}

/// Where the contracts are, recorded once deployed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Deployment {
    /// The `Rollup` contract.
    pub rollup: L1Address,
    /// Its `CommitteeVerifier`.
    pub verifier: L1Address,
    /// The program verification key the rollup checks.
    pub program_vkey: B256,
    /// L2 asset id → its L1 token (`None`: native ETH).
    pub tokens: BTreeMap<u32, Option<L1Address>>,
    /// L1 block of the deployment.
    pub block: u64,
}

/// The queue entries the L1 holds, as events announced them (the engine takes from here).
#[derive(Debug, Default)]
struct Queues {
    deposits: Vec<L1Deposit>,
    forced: Vec<Vec<u8>>,
    next_block: u64,
}

/// What the settler learned of settled batches' withdrawals (for claims).
#[derive(Debug, Default)]
struct SettledWithdrawals {
    /// Per settled batch (= proposal index): its first withdrawal's number and its withdrawals.
    batches: BTreeMap<u64, (u64, Vec<Withdrawal>)>,
}

/// The in-process L1, shared by the engine (queues), the publisher, the settler and the API.
pub struct L1Bridge {
    chain: Mutex<NodeL1>,
    kind: &'static str,
    queues: Mutex<Queues>,
    deployment: Deployment,
    committee: Committee,
    genesis: ExchangeState,
    withdrawals: Mutex<SettledWithdrawals>,
    /// The node's post-root of each batch not yet settled (the settler compares).
    node_roots: Mutex<BTreeMap<u64, [u8; 32]>>,
    dir: PathBuf,
}

/// What [`L1Bridge::status`] reports.
#[derive(Clone, Debug, Serialize)]
pub struct L1Status {
    /// "in-process" or "json-rpc".
    pub l1: &'static str,
    /// L1 chain id.
    pub chain_id: u64,
    /// L1 head block.
    pub block: u64,
    /// The `Rollup` contract.
    pub rollup: String,
    /// Its verifier.
    pub verifier: String,
    /// What settles batches here.
    pub verification: &'static str,
    /// Proposals made.
    pub proposals: u64,
    /// Batches settled.
    pub settled: u64,
    /// The last settled state root.
    pub settled_root: String,
    /// Deposits queued on L1 / consumed by settled batches.
    pub deposits: [u64; 2],
    /// Forced commands queued / consumed by settled batches.
    pub forced: [u64; 2],
    /// Asset id → L1 token ("ETH" for native ether).
    pub tokens: BTreeMap<u32, String>,
}

/// A withdrawal claimable on L1, with its proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClaimInfo {
    /// Settled batch index (proposal index).
    pub batch_index: u64,
    /// Withdrawal number since genesis.
    pub index: u64,
    /// L2 asset.
    pub asset: u32,
    /// Atoms.
    pub atoms: String,
    /// Sibling path, bottom up, hex.
    pub proof: Vec<String>,
    /// Whether it was claimed already.
    pub claimed: bool,
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

impl L1Bridge {
    /// Opens the L1 (`target`) with its record in `dir`, deploying the contracts on first start
    /// (genesis root of `genesis`, one asset per `assets` entry: "ETH" is native ether, others
    /// get a test token, one L1 unit per L2 atom).
    pub fn open(
        dir: &Path,
        target: &L1Target,
        genesis: ExchangeState,
        assets: &[(String, u32)],
        escape_delay_blocks: u64,
        inclusion_delay_blocks: u64,
    ) -> anyhow::Result<L1Bridge> {
        let (chain, replayed): (Box<dyn Chain>, u64) = match target {
            L1Target::InProcess { chain_id } => {
                let (chain, replayed) = DevChain::open_logged(dir, *chain_id).map_err(err)?;
                (Box::new(chain), replayed.records)
            }
            #[cfg(feature = "json-rpc")]
            L1Target::JsonRpc { url, keys } => {
                let chain = zkclob_rollup::l1::rpc::RpcChain::connect(url, keys, dir).map_err(err)?;
                tracing::info!(url, chain_id = Chain::chain_id(&chain), "connected to the L1 node");
                (Box::new(chain), 0)
            }
            #[cfg(not(feature = "json-rpc"))]
            L1Target::JsonRpc { .. } => {
                anyhow::bail!("this build has no JSON-RPC L1 client (feature json-rpc)")
            }
        };
        let committee = Committee::new((1..=COMMITTEE).map(CommitteeMember::dev).collect());
        let record = dir.join("deployment.json");
        let mut root_state = genesis.clone();
        let genesis_root =
            zkclob_state::StateCommitment::build(zkclob_state::merkle::Sha256Hasher, &mut root_state)
                .map_err(|e| anyhow::anyhow!("genesis commitment: {e:?}"))?
                .root();
        let (l1, deployment) = if record.exists() {
            let deployment: Deployment = serde_json::from_slice(&std::fs::read(&record)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", record.display()))?;
            let l1 = L1::at(chain, deployment.rollup, deployment.verifier, deployment.program_vkey)
                .map_err(err)?;
            if l1.settled_count().map_err(err)? == 0
                && l1.state_root().map_err(err)? != B256::from(genesis_root)
            {
                anyhow::bail!(
                    "the rollup in {} starts from another root than this exchange's genesis 0x{}",
                    dir.display(),
                    hex::encode(genesis_root)
                );
            }
            tracing::info!(replayed, rollup = %deployment.rollup, l1 = target.name(), "L1 rollup re-attached");
            (l1, deployment)
        } else {
            let mut chain = chain;
            let deployer = account(chain.as_ref(), 0);
            let mut tokens = BTreeMap::new();
            let mut eth = None;
            let mut token_units = Vec::new();
            for (name, id) in assets {
                let units = AssetUnits { asset_id: *id, units_per_atom: 1 };
                if name == "ETH" {
                    eth = Some(units);
                    tokens.insert(*id, None);
                } else {
                    let token = deploy_test_token(&mut chain, deployer, name, name, 18).map_err(err)?;
                    token_units.push((token, units));
                    tokens.insert(*id, Some(token));
                }
            }
            let config = L1Config {
                committee: committee.addresses(),
                threshold: THRESHOLD as u64,
                program_vkey: dev_program_vkey(),
                genesis_root: genesis_root.into(),
                escape_delay_blocks,
                inclusion_delay_blocks,
                eth,
                tokens: token_units,
            };
            let l1 = L1::deploy(chain, deployer, &config).map_err(err)?;
            let deployment = Deployment {
                rollup: l1.rollup_address(),
                verifier: l1.verifier_address(),
                program_vkey: config.program_vkey,
                tokens,
                block: l1.chain().head().map_err(err)?,
            };
            let tmp = dir.join("deployment.json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&deployment)?)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &record)?;
            tracing::info!(rollup = %deployment.rollup, l1 = target.name(), "rollup contracts deployed");
            (l1, deployment)
        };
        let bridge = L1Bridge {
            chain: Mutex::new(l1),
            kind: target.name(),
            queues: Mutex::new(Queues::default()),
            deployment,
            committee,
            genesis,
            withdrawals: Mutex::new(SettledWithdrawals::default()),
            node_roots: Mutex::new(BTreeMap::new()),
            dir: dir.to_path_buf(),
        };
        bridge.refresh(&bridge.lock());
        Ok(bridge)
    }

    fn lock(&self) -> MutexGuard<'_, NodeL1> {
        self.chain.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads new `Deposited` / `CommandForced` events into the queue mirror.
    fn refresh(&self, l1: &NodeL1) {
        let mut q = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let events = l1.chain().head().map_err(err).and_then(|head| {
            let events = l1.events_between(q.next_block, head).map_err(err)?;
            Ok((head, events))
        });
        let (head, events) = match events {
            Ok(e) => e,
            Err(e) => {
                // The next refresh reads from the same block again.
                tracing::warn!(error = %e, "L1 queue mirror: cannot read events; retrying later");
                return;
            }
        };
        for e in events {
            match e.event {
                RollupEvents::Deposited(d) if d.index == U256::from(q.deposits.len()) => q
                    .deposits
                    .push(L1Deposit { asset_id: d.assetId, atoms: d.atoms, l2_address: d.l2Address.0 }),
                RollupEvents::CommandForced(f) if f.index == U256::from(q.forced.len()) => {
                    q.forced.push(f.command.to_vec())
                }
                _ => {}
            }
        }
        q.next_block = head + 1;
    }

    /// Runs `f` on the chain (then updates the queue mirror): tests and tools that act on L1
    /// as users would.
    pub fn with_l1<T>(&self, f: impl FnOnce(&mut NodeL1) -> T) -> T {
        let mut l1 = self.lock();
        let out = f(&mut l1);
        self.refresh(&l1);
        out
    }

    /// The deployment.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The L1 directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The queue counts (deposits, forced) after the first `k` proposals (all of them for
    /// `None`), with that number of proposals: where the batch after them starts taking.
    pub fn counts_at(&self, k: Option<u64>) -> anyhow::Result<(u64, (u64, u64))> {
        let l1 = self.lock();
        let n = l1.proposal_count().map_err(err)?;
        let k = k.unwrap_or(n).min(n);
        if k == 0 {
            return Ok((0, (0, 0)));
        }
        let p = l1.proposal(k - 1).map_err(err)?;
        Ok((k, (p.depositCount, p.forcedCount)))
    }

    /// Batches settled.
    pub fn settled(&self) -> anyhow::Result<u64> {
        self.lock().settled_count().map_err(err)
    }

    /// Records the node's root of a batch for the settler's check.
    pub fn expect_root(&self, batch: u64, root: [u8; 32]) {
        self.node_roots.lock().unwrap_or_else(|p| p.into_inner()).insert(batch, root);
    }

    /// A development deposit from the faucet account: `atoms` of `asset` for `to` (mints the
    /// test token first). Credited on L2 by the next batch the node opens.
    pub fn faucet_deposit(&self, to: [u8; 20], asset: u32, atoms: u128) -> anyhow::Result<(u64, u64)> {
        let token = *self
            .deployment
            .tokens
            .get(&asset)
            .ok_or_else(|| anyhow::anyhow!("asset {asset} is not accepted by the rollup"))?;
        let amount = U256::from(atoms);
        self.with_l1(|l1| {
            let from = account(l1.chain().as_ref(), FAUCET);
            let included = match token {
                None => {
                    let need = amount + U256::from(10u64).pow(U256::from(18u64));
                    if l1.balance_of(from).map_err(err)? < need {
                        l1.chain_mut()
                            .dev_set_balance(from, need.saturating_mul(U256::from(1_000u64)))
                            .map_err(err)?;
                    }
                    l1.deposit_eth(from, to, amount)
                }
                Some(token) => {
                    l1.mint_and_approve_token(token, from, amount).map_err(err)?;
                    l1.deposit_token(from, token, amount, to)
                }
            }
            .map_err(err)?;
            Ok((included.event.index.saturating_to(), included.block))
        })
    }

    /// Proposes a cut batch: `blobs` (its own commands, [`BatchBlobs::from_batch`]) and the
    /// queue counts of its take.
    pub fn propose(&self, batch: &CutBatch, blobs: &BatchBlobs) -> anyhow::Result<(u64, u64)> {
        let (deposits, forced) = batch
            .l1_up_to
            .ok_or_else(|| anyhow::anyhow!("batch {} has no L1 take", batch.header.batch_number))?;
        self.with_l1(|l1| {
            let proposer = account(l1.chain().as_ref(), PROPOSER);
            let included = l1.propose_up_to(proposer, &blobs.sidecars, deposits, forced).map_err(err)?;
            let index: u64 = included.event.index.saturating_to();
            if index + 1 != batch.header.batch_number {
                anyhow::bail!(
                    "batch {} became proposal {index}: someone else proposed in between",
                    batch.header.batch_number
                );
            }
            Ok((included.block, included.gas_used))
        })
    }

    /// The L1 side at a glance.
    pub fn status(&self) -> anyhow::Result<L1Status> {
        let l1 = self.lock();
        let tokens = self
            .deployment
            .tokens
            .iter()
            .map(|(id, t)| (*id, t.map_or("ETH".to_string(), |a| a.to_string())))
            .collect();
        Ok(L1Status {
            l1: self.kind,
            chain_id: l1.chain().chain_id(),
            block: l1.chain().head().map_err(err)?,
            rollup: self.deployment.rollup.to_string(),
            verifier: self.deployment.verifier.to_string(),
            verification: "development committee (2 of 3) attesting a native re-execution of the settlement program: not a proof",
            proposals: l1.proposal_count().map_err(err)?,
            settled: l1.settled_count().map_err(err)?,
            settled_root: l1.state_root().map_err(err)?.to_string(),
            deposits: [l1.deposit_count().map_err(err)?, l1.deposits_consumed().map_err(err)?],
            forced: [l1.forced_count().map_err(err)?, l1.forced_consumed().map_err(err)?],
            tokens,
        })
    }

    /// The withdrawals of `who` in batches the settler settled, with their claim proofs.
    pub fn claims_of(&self, who: &[u8; 20]) -> anyhow::Result<Vec<ClaimInfo>> {
        let settled = self.withdrawals.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (&batch_index, (first, withdrawals)) in &settled.batches {
            for (position, w) in withdrawals.iter().enumerate() {
                if &w.to.0 != who {
                    continue;
                }
                let proof =
                    withdrawal_proof(&NativeCrypto, *first, withdrawals, position).unwrap_or_default();
                out.push(ClaimInfo {
                    batch_index,
                    index: first + position as u64,
                    asset: w.asset.0,
                    atoms: w.amount.0.to_string(),
                    proof: proof.iter().map(|p| format!("0x{}", hex::encode(p))).collect(),
                    claimed: false,
                });
            }
        }
        drop(settled);
        let l1 = self.lock();
        for c in &mut out {
            c.claimed = l1.is_claimed(c.index).map_err(err)?;
        }
        Ok(out)
    }

    /// The claim of `info` for `who`, as the contract takes it.
    pub fn claim(&self, who: [u8; 20], info: &ClaimInfo) -> anyhow::Result<WithdrawalClaim> {
        let proof = info
            .proof
            .iter()
            .map(|p| p.parse::<B256>().map_err(err))
            .collect::<anyhow::Result<Vec<B256>>>()?;
        Ok(WithdrawalClaim {
            batch_index: info.batch_index,
            index: info.index,
            to: who,
            asset_id: info.asset,
            atoms: info.atoms.parse().map_err(err)?,
            proof,
        })
    }

    /// Settles one batch the follower derived: runs the settlement program on its input,
    /// compares with the follower, opens each blob at the program's point, has the committee
    /// attest, and calls `settle`. Returns (block, gas).
    fn settle(&self, batch: &SyncedBatch, with: &SettleWith) -> anyhow::Result<(u64, u64, String)> {
        let input = batch
            .program_input
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the follower built no program input"))?;
        let out = zkclob_rollup::program::run(&NativeCrypto, input).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let public_values = zkclob_rollup::program::encode_public_values(&out.public_values);
        let ran = match with {
            SettleWith::Native => "a native re-execution".to_string(),
            #[cfg(feature = "sp1")]
            SettleWith::Sp1(backend) => {
                let exec = backend.execute_settlement(input).map_err(err)?;
                if exec.public_values != public_values {
                    anyhow::bail!("SP1's execution of the settlement program committed other public values");
                }
                format!("the SP1 executor's run of the settlement program ({} cycles)", exec.cycles)
            }
        };
        let mut openings = Vec::new();
        let mut kzg_proofs = Vec::new();
        for (blob, opening) in input.blobs.iter().zip(&out.public_values.blobs) {
            let blob = zkclob_rollup::blob::Blob::from_bytes(blob).map_err(err)?;
            let sidecar = BlobSidecar::new(blob).map_err(err)?;
            let (o, p) = open_blob(&sidecar, &opening.z).map_err(err)?;
            if o.y.0 != opening.y {
                anyhow::bail!("c-kzg's evaluation differs from the program's");
            }
            openings.push(o);
            kzg_proofs.push(p);
        }
        let followed = batch.public_values(openings);
        if encode_public_values(&followed).as_ref() != public_values.as_slice() {
            let program = zkclob_rollup::l1::settlement::decode_public_values(&public_values).map_err(err)?;
            anyhow::bail!(
                "the settlement program's public values differ from the follower's: {program:?} vs {followed:?}"
            );
        }
        let signers: Vec<usize> = (0..THRESHOLD).collect();
        let mut l1 = self.lock();
        let proof = self.committee.attest(
            &signers,
            self.deployment.program_vkey,
            &public_values,
            l1.chain().chain_id(),
            self.deployment.verifier,
        );
        let settler = account(l1.chain().as_ref(), SETTLER);
        let settlement = Settlement {
            proposal_index: batch.proposal,
            public_values: public_values.into(),
            proof,
            kzg_proofs,
        };
        let included = l1.settle(settler, &settlement).map_err(err)?;
        self.refresh(&l1);
        Ok((included.block, included.gas_used, ran))
    }
}

impl L1Queues for Arc<L1Bridge> {
    fn take(&self, deposits_from: u64, forced_from: u64) -> L1Take {
        let q = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        L1Take {
            deposits_from,
            deposits: q.deposits.get(deposits_from as usize..).unwrap_or_default().to_vec(),
            forced_from,
            forced: q.forced.get(forced_from as usize..).unwrap_or_default().to_vec(),
        }
    }

    fn pending(&self, deposits_from: u64, forced_from: u64) -> bool {
        let q = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        q.deposits.len() as u64 > deposits_from || q.forced.len() as u64 > forced_from
    }
}

/// Proposes one cut batch and reports it; false once proposing failed (later batches would be
/// misnumbered, so the publisher stops).
pub fn propose_batch(bridge: &L1Bridge, handle: &EngineHandle, batch: &CutBatch, blobs: &BatchBlobs) -> bool {
    let n = batch.header.batch_number;
    bridge.expect_root(n, batch.post_root);
    match bridge.propose(batch, blobs) {
        Ok((block, gas)) => {
            handle.metrics().l1_proposed.fetch_add(1, Relaxed);
            let _ = handle.set_l1_status(n, format!("proposed in L1 block {block} ({gas} gas)"));
            true
        }
        Err(e) => {
            handle.metrics().l1_failures.fetch_add(1, Relaxed);
            tracing::error!(batch = n, error = %e, "L1 proposal failed; no more batches are proposed");
            let _ = handle.set_l1_status(n, format!("proposal FAILED: {e}"));
            false
        }
    }
}

/// The settler: follows L1 every `interval`, and settles each derived batch whose root equals
/// the node's. Stops on `stop` (between two batches: the rest wait for the next start), on a
/// root mismatch, or on a failed settlement.
pub fn settler_thread(
    bridge: Arc<L1Bridge>,
    handle: EngineHandle,
    interval: Duration,
    stop: Arc<AtomicBool>,
    with: SettleWith,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("zkclob-settler".into()).spawn(move || {
        let mut follower = match L1Follower::new(bridge.genesis.clone()) {
            Ok(f) => f.collect_program_inputs(true),
            Err(e) => {
                tracing::error!(error = %e, "settler: cannot start the L1 follower");
                return;
            }
        };
        while !stop.load(Relaxed) {
            let synced = {
                let l1 = bridge.lock();
                follower.sync(&l1)
            };
            let batches = match synced {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "settler: L1 sync failed; retrying");
                    std::thread::sleep(interval);
                    continue;
                }
            };
            let settled = bridge.settled().unwrap_or(u64::MAX);
            for batch in batches {
                // Stopping: the rest are settled after the next start (as proposals that arrive
                // while it sleeps are), instead of holding the shutdown for the whole backlog.
                if stop.load(Relaxed) {
                    break;
                }
                let n = batch.derived.header.batch_number;
                if batch.proposal < settled {
                    // Settled before a restart: only learn its withdrawals.
                    remember_withdrawals(&bridge, &batch);
                    continue;
                }
                let expected = bridge.node_roots.lock().unwrap_or_else(|p| p.into_inner()).remove(&n);
                match expected {
                    Some(root) if root != batch.post_root => {
                        handle.metrics().l1_root_mismatch.store(1, Relaxed);
                        let msg = format!(
                            "L1 derives root 0x{} for batch {n}, the node cut 0x{}; settling stops",
                            hex::encode(batch.post_root),
                            hex::encode(root)
                        );
                        tracing::error!("{msg}");
                        let _ = handle.set_l1_status(n, format!("MISMATCH: {msg}"));
                        return;
                    }
                    Some(_) => {}
                    None => {
                        tracing::warn!(batch = n, "settler: no node root to compare (cut before a restart)")
                    }
                }
                match bridge.settle(&batch, &with) {
                    Ok((block, gas, ran)) => {
                        remember_withdrawals(&bridge, &batch);
                        handle.metrics().l1_settled.fetch_add(1, Relaxed);
                        let why = batch
                            .derived
                            .empty
                            .as_ref()
                            .map_or(String::new(), |r| format!("; derived EMPTY: {r:?}"));
                        let _ = handle.set_l1_status(
                            n,
                            format!(
                                "settled in L1 block {block} ({gas} gas); L1 derives the node's root; \
                                 dev committee attestation of {ran} (not a proof){why}"
                            ),
                        );
                    }
                    Err(e) => {
                        handle.metrics().l1_failures.fetch_add(1, Relaxed);
                        tracing::error!(batch = n, error = %e, "settlement failed; settling stops");
                        let _ = handle.set_l1_status(n, format!("settlement FAILED: {e}"));
                        return;
                    }
                }
            }
            std::thread::sleep(interval);
        }
    })
}

fn remember_withdrawals(bridge: &L1Bridge, batch: &SyncedBatch) {
    if batch.withdrawals.is_empty() {
        return;
    }
    bridge
        .withdrawals
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .batches
        .insert(batch.proposal, (batch.first_withdrawal, batch.withdrawals.clone()));
}
