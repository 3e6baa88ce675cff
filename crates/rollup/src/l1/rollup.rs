//! [`L1`]: the rollup's contracts deployed on a [`DevChain`], and the calls the node, the
//! prover and derivation make on them: propose (a blob transaction), deposit, force a command,
//! settle, read state and events. Every transaction reports its gas.
//!
//! A transaction that reverts is still included (as on Ethereum: the sender's nonce moves, the
//! contracts' state does not) and comes back as [`L1Error::Reverted`] naming the custom error.

use std::string::{String, ToString};
use std::vec::Vec;

use alloy_primitives::{hex, Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent, SolEventInterface};
use thiserror::Error;

use super::chain::{Chain, ChainError, DevChain, Outcome, Receipt, TxRequest};
use super::contracts::{CommitteeVerifier, Rollup, TestToken};
use super::settlement::KzgOpeningProof;
use crate::kzg::BlobSidecar;

pub use super::contracts::Rollup::RollupEvents;

/// Why an L1 operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum L1Error {
    /// The chain refused the transaction; it was not included.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The transaction was included and reverted.
    #[error("reverted with {error} after {gas_used} gas")]
    Reverted {
        /// The custom error's name (`WrongPreRoot`, `TooFewSignatures`, ...), `Error(string)`,
        /// `Panic`, or the data in hex when no contract here defines it.
        error: String,
        /// The raw revert data.
        data: Bytes,
        /// Gas used.
        gas_used: u64,
    },
    /// The transaction was included and halted (out of gas, ...).
    #[error("halted: {reason}")]
    Halted {
        /// revm's reason.
        reason: String,
    },
    /// A result did not decode, or an expected event is missing: a bug here or in the contracts.
    #[error("unexpected result: {0}")]
    Unexpected(String),
}

impl L1Error {
    /// The custom error's name if this is a revert.
    pub fn revert_name(&self) -> Option<&str> {
        match self {
            L1Error::Reverted { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The name of the error in revert `data`, looked up in every contract here.
pub fn revert_name(data: &[u8]) -> String {
    let Some(selector) = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok()) else {
        return format!("0x{}", hex::encode(data));
    };
    Rollup::RollupErrors::name_by_selector(selector)
        .or_else(|| CommitteeVerifier::CommitteeVerifierErrors::name_by_selector(selector))
        .or_else(|| TestToken::TestTokenErrors::name_by_selector(selector))
        .map(str::to_string)
        .unwrap_or_else(|| match selector {
            [0x08, 0xc3, 0x79, 0xa0] => "Error(string)".to_string(),
            [0x4e, 0x48, 0x7b, 0x71] => "Panic".to_string(),
            _ => format!("0x{}", hex::encode(data)),
        })
}

/// An included, successful transaction and the event of interest it emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Included<E> {
    /// The event.
    pub event: E,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// Its block.
    pub block: u64,
}

/// An event of the rollup contract with the block that emitted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Event {
    /// Block number.
    pub block: u64,
    /// Block timestamp, seconds.
    pub timestamp_s: u64,
    /// The event.
    pub event: RollupEvents,
}

/// An asset the rollup accepts: its L2 id and the L1 base units (wei, token units) per L2 atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetUnits {
    /// L2 asset id.
    pub asset_id: u32,
    /// L1 units per L2 atom (≥ 1).
    pub units_per_atom: u128,
}

/// What [`L1::deploy`] deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Config {
    /// Committee addresses, any order (sorted on deployment).
    pub committee: Vec<Address>,
    /// Signatures needed (k).
    pub threshold: u64,
    /// The zkVM program's verification key.
    pub program_vkey: B256,
    /// The L2 state root before batch 1.
    pub genesis_root: B256,
    /// Blocks without a settlement after which anyone may freeze the rollup (escape hatch).
    pub escape_delay_blocks: u64,
    /// Age in blocks at which a queued deposit or forced command must be in the next proposal.
    pub inclusion_delay_blocks: u64,
    /// ETH, if accepted.
    pub eth: Option<AssetUnits>,
    /// Accepted ERC-20s.
    pub tokens: Vec<(Address, AssetUnits)>,
}

/// Gas of the deployment transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployGas {
    /// `CommitteeVerifier` creation.
    pub verifier: u64,
    /// `Rollup` creation.
    pub rollup: u64,
}

/// A withdrawal claim: which settled batch, the withdrawal's number and fields, and its path in
/// the batch's withdrawals tree (`zkclob_state::withdrawals::withdrawal_proof`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalClaim {
    /// Settled batch (= proposal index).
    pub batch_index: u64,
    /// The withdrawal's number since genesis.
    pub index: u64,
    /// Payee (the L2 account's address, on L1).
    pub to: [u8; 20],
    /// L2 asset id.
    pub asset_id: u32,
    /// Atoms.
    pub atoms: u128,
    /// Sibling path, bottom up.
    pub proof: Vec<B256>,
}

/// One settlement: the next proposal's public values, the verifier's proof, and one KZG
/// opening proof per blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The proposal settled (must be the next one).
    pub proposal_index: u64,
    /// `abi.encode(PublicValues)`.
    pub public_values: Bytes,
    /// The verifier's proof (committee signatures here).
    pub proof: Bytes,
    /// Per blob, in order.
    pub kzg_proofs: Vec<KzgOpeningProof>,
}

/// The rollup's contracts on a chain: the in-process [`DevChain`] by default, or any [`Chain`]
/// (an Ethereum node over JSON-RPC with the `json-rpc` feature).
#[derive(Debug)]
pub struct L1<C: Chain = DevChain> {
    chain: C,
    rollup: Address,
    verifier: Address,
    program_vkey: B256,
    deploy_gas: DeployGas,
}

fn expect_success(receipt: Receipt) -> Result<Receipt, L1Error> {
    match &receipt.outcome {
        Outcome::Success { .. } => Ok(receipt),
        Outcome::Revert { data } => Err(L1Error::Reverted {
            error: revert_name(data),
            data: data.clone(),
            gas_used: receipt.gas_used,
        }),
        Outcome::Halt { reason } => Err(L1Error::Halted { reason: reason.clone() }),
    }
}

fn created(receipt: &Receipt) -> Result<Address, L1Error> {
    match receipt.outcome {
        Outcome::Success { created: Some(address), .. } => Ok(address),
        _ => Err(L1Error::Unexpected("a creation without a contract address".into())),
    }
}

fn first_event<E: SolEvent>(receipt: &Receipt, emitter: Address) -> Result<E, L1Error> {
    receipt
        .logs
        .iter()
        .filter(|log| log.address == emitter)
        .find_map(|log| E::decode_log(log).ok())
        .map(|log| log.data)
        .ok_or_else(|| L1Error::Unexpected(format!("no {} event", E::SIGNATURE)))
}

/// Deploys a [`TestToken`] (anyone may mint it) from `from`.
pub fn deploy_test_token(
    chain: &mut impl Chain,
    from: Address,
    name: &str,
    symbol: &str,
    decimals: u8,
) -> Result<Address, L1Error> {
    let args = TestToken::constructorCall { name_: name.into(), symbol_: symbol.into(), decimals_: decimals };
    let code = [TestToken::BYTECODE.as_ref(), &args.abi_encode()].concat();
    let receipt = expect_success(chain.send_tx(TxRequest::create(from, code))?)?;
    created(&receipt)
}

/// Sends `call` to `to` from `from` and requires success.
pub fn transact<C: SolCall>(
    chain: &mut impl Chain,
    from: Address,
    to: Address,
    call: &C,
) -> Result<Receipt, L1Error> {
    expect_success(chain.send_tx(TxRequest::call(from, to).data(call.abi_encode()))?)
}

/// Runs the view `call` on `to` and decodes its return value.
pub fn view<C: SolCall>(chain: &impl Chain, to: Address, call: &C) -> Result<C::Return, L1Error> {
    let tx = TxRequest::call(Address::ZERO, to).data(call.abi_encode());
    match chain.call_tx(tx)? {
        Outcome::Success { output, .. } => {
            C::abi_decode_returns(&output).map_err(|e| L1Error::Unexpected(e.to_string()))
        }
        Outcome::Revert { data } => Err(L1Error::Reverted { error: revert_name(&data), data, gas_used: 0 }),
        Outcome::Halt { reason } => Err(L1Error::Halted { reason }),
    }
}

impl L1<DevChain> {
    /// ETH balance of `owner`, wei.
    pub fn eth_balance(&self, owner: Address) -> U256 {
        self.chain.balance(owner)
    }
}

impl<C: Chain> L1<C> {
    /// Deploys the `CommitteeVerifier` and the `Rollup` from `deployer` onto `chain`.
    pub fn deploy(mut chain: C, deployer: Address, config: &L1Config) -> Result<L1<C>, L1Error> {
        let mut committee = config.committee.clone();
        committee.sort();
        let args =
            CommitteeVerifier::constructorCall { committee_: committee, k: U256::from(config.threshold) };
        let code = [CommitteeVerifier::BYTECODE.as_ref(), &args.abi_encode()].concat();
        let receipt = expect_success(chain.send_tx(TxRequest::create(deployer, code))?)?;
        let verifier = created(&receipt)?;
        let verifier_gas = receipt.gas_used;

        let asset = |token: Address, units: &AssetUnits| Rollup::AssetConfig {
            token,
            assetId: units.asset_id,
            unitsPerAtom: U256::from(units.units_per_atom),
        };
        let assets = config
            .eth
            .iter()
            .map(|units| asset(Address::ZERO, units))
            .chain(config.tokens.iter().map(|(token, units)| asset(*token, units)))
            .collect();
        let args = Rollup::constructorCall {
            verifier_: verifier,
            programVKey_: config.program_vkey,
            genesisRoot: config.genesis_root,
            escapeDelayBlocks_: config.escape_delay_blocks,
            inclusionDelayBlocks_: config.inclusion_delay_blocks,
            assetConfigs: assets,
        };
        let code = [Rollup::BYTECODE.as_ref(), &args.abi_encode()].concat();
        let receipt = expect_success(chain.send_tx(TxRequest::create(deployer, code))?)?;
        let rollup = created(&receipt)?;
        let deploy_gas = DeployGas { verifier: verifier_gas, rollup: receipt.gas_used };
        Ok(L1 { chain, rollup, verifier, program_vkey: config.program_vkey, deploy_gas })
    }

    /// The rollup already deployed at `rollup` with its verifier at `verifier` on `chain` (a
    /// chain reopened from its log, see [`DevChain::open_logged`]). Fails if no `Rollup` answers
    /// there or its verification key is not `program_vkey`.
    pub fn at(chain: C, rollup: Address, verifier: Address, program_vkey: B256) -> Result<L1<C>, L1Error> {
        let vkey = view(&chain, rollup, &Rollup::programVKeyCall {})?;
        let bound = view(&chain, rollup, &Rollup::verifierCall {})?;
        if vkey != program_vkey || bound != verifier {
            return Err(L1Error::Unexpected(format!(
                "the rollup at {rollup} has vkey {vkey} and verifier {bound}, not {program_vkey} and {verifier}"
            )));
        }
        Ok(L1 { chain, rollup, verifier, program_vkey, deploy_gas: DeployGas { verifier: 0, rollup: 0 } })
    }

    /// The chain.
    pub fn chain(&self) -> &C {
        &self.chain
    }

    /// The chain, to send other transactions or mine blocks.
    pub fn chain_mut(&mut self) -> &mut C {
        &mut self.chain
    }

    /// The `Rollup` contract.
    pub fn rollup_address(&self) -> Address {
        self.rollup
    }

    /// The `CommitteeVerifier` contract.
    pub fn verifier_address(&self) -> Address {
        self.verifier
    }

    /// The program verification key the rollup was deployed with.
    pub fn program_vkey(&self) -> B256 {
        self.program_vkey
    }

    /// Gas of the deployment.
    pub fn deploy_gas(&self) -> DeployGas {
        self.deploy_gas
    }

    fn send_rollup<E: SolEvent>(&mut self, tx: TxRequest) -> Result<Included<E>, L1Error> {
        let receipt = expect_success(self.chain.send_tx(tx)?)?;
        let event = first_event::<E>(&receipt, self.rollup)?;
        Ok(Included { event, gas_used: receipt.gas_used, block: receipt.block })
    }

    /// Proposes a batch that consumes the queues as they are now (read just before): a blob
    /// transaction from `from` carrying `sidecars` and calling `Rollup.propose(deposits, forced)`.
    pub fn propose(
        &mut self,
        from: Address,
        sidecars: &[BlobSidecar],
    ) -> Result<Included<Rollup::Proposed>, L1Error> {
        let (deposits, forced) = (self.deposit_count()?, self.forced_count()?);
        self.propose_up_to(from, sidecars, deposits, forced)
    }

    /// Proposes a batch that consumes the queues up to `deposits` deposits and `forced` forced
    /// commands in total (what its sequencer applied in front of its commands). Reverts with
    /// `QueueCountOutOfRange` below the previous proposal's counts or beyond the queues, and
    /// with `QueueEntryDue` if it leaves out an entry `inclusion_delay_blocks` old.
    pub fn propose_up_to(
        &mut self,
        from: Address,
        sidecars: &[BlobSidecar],
        deposits: u64,
        forced: u64,
    ) -> Result<Included<Rollup::Proposed>, L1Error> {
        let call = Rollup::proposeCall { depositsUpTo: deposits, forcedUpTo: forced };
        let tx = TxRequest::call(from, self.rollup).data(call.abi_encode());
        let receipt = expect_success(self.chain.send_blob_tx(tx, sidecars)?)?;
        let event = first_event::<Rollup::Proposed>(&receipt, self.rollup)?;
        Ok(Included { event, gas_used: receipt.gas_used, block: receipt.block })
    }

    /// Deposits `wei` for `l2_address`.
    pub fn deposit_eth(
        &mut self,
        from: Address,
        l2_address: [u8; 20],
        wei: U256,
    ) -> Result<Included<Rollup::Deposited>, L1Error> {
        let call = Rollup::depositEthCall { l2Address: l2_address.into() };
        self.send_rollup(TxRequest::call(from, self.rollup).data(call.abi_encode()).value(wei))
    }

    /// Deposits `amount` units of `token` for `l2_address` (approve the rollup first, e.g. with
    /// [`L1::approve_token`]).
    pub fn deposit_token(
        &mut self,
        from: Address,
        token: Address,
        amount: U256,
        l2_address: [u8; 20],
    ) -> Result<Included<Rollup::Deposited>, L1Error> {
        let call = Rollup::depositTokenCall { token, amount, l2Address: l2_address.into() };
        self.send_rollup(TxRequest::call(from, self.rollup).data(call.abi_encode()))
    }

    /// Mints `amount` of the test token `token` to `to` and lets the rollup take all of it.
    pub fn mint_and_approve_token(
        &mut self,
        token: Address,
        to: Address,
        amount: U256,
    ) -> Result<(), L1Error> {
        transact(&mut self.chain, to, token, &TestToken::mintCall { to, amount })?;
        self.approve_token(to, token, amount)
    }

    /// `from` approves the rollup for `amount` of `token`.
    pub fn approve_token(&mut self, from: Address, token: Address, amount: U256) -> Result<(), L1Error> {
        transact(&mut self.chain, from, token, &TestToken::approveCall { spender: self.rollup, amount })?;
        Ok(())
    }

    /// Token balance of `owner`.
    pub fn token_balance(&self, token: Address, owner: Address) -> Result<U256, L1Error> {
        view(&self.chain, token, &TestToken::balanceOfCall(owner))
    }

    /// Queues `command` (canonical borsh bytes of an L2 command) for forced inclusion.
    pub fn force_command(
        &mut self,
        from: Address,
        command: &[u8],
    ) -> Result<Included<Rollup::CommandForced>, L1Error> {
        let call = Rollup::forceCommandCall { command: Bytes::copy_from_slice(command) };
        self.send_rollup(TxRequest::call(from, self.rollup).data(call.abi_encode()))
    }

    /// Settles a proposal.
    pub fn settle(
        &mut self,
        from: Address,
        settlement: &Settlement,
    ) -> Result<Included<Rollup::Settled>, L1Error> {
        let call = Rollup::settleCall {
            proposalIndex: U256::from(settlement.proposal_index),
            publicValues: settlement.public_values.clone(),
            proof: settlement.proof.clone(),
            kzgProofs: settlement.kzg_proofs.clone(),
        };
        self.send_rollup(TxRequest::call(from, self.rollup).data(call.abi_encode()))
    }

    /// Claims withdrawal `claim` on L1 (anyone may send it; the payee is fixed by the leaf).
    pub fn claim_withdrawal(
        &mut self,
        from: Address,
        claim: &WithdrawalClaim,
    ) -> Result<Included<Rollup::WithdrawalClaimed>, L1Error> {
        let call = Rollup::claimWithdrawalCall {
            batchIndex: U256::from(claim.batch_index),
            index: claim.index,
            to: claim.to.into(),
            assetId: claim.asset_id,
            atoms: claim.atoms,
            proof: claim.proof.clone(),
        };
        self.send_rollup(TxRequest::call(from, self.rollup).data(call.abi_encode()))
    }

    /// Freezes the rollup (allowed once `escape_delay_blocks` passed without a settlement).
    pub fn freeze(&mut self, from: Address) -> Result<Included<Rollup::Frozen>, L1Error> {
        self.send_rollup(TxRequest::call(from, self.rollup).data(Rollup::freezeCall {}.abi_encode()))
    }

    /// Takes account `account_id`'s whole balance through the escape hatch: `leaf` is its borsh
    /// `AccountLeaf`, `siblings` its 32-hash state-tree path against the last settled root.
    /// Returns the gas used and the `Escaped` events (one per asset paid).
    pub fn escape_withdraw(
        &mut self,
        from: Address,
        account_id: u32,
        leaf: &[u8],
        siblings: &[[u8; 32]],
    ) -> Result<(u64, Vec<Rollup::Escaped>), L1Error> {
        let call = Rollup::escapeWithdrawCall {
            accountId: account_id,
            leaf: Bytes::copy_from_slice(leaf),
            siblings: siblings.iter().map(|s| B256::from(*s)).collect(),
        };
        let receipt =
            expect_success(self.chain.send_tx(TxRequest::call(from, self.rollup).data(call.abi_encode()))?)?;
        let events = receipt
            .logs
            .iter()
            .filter(|log| log.address == self.rollup)
            .filter_map(|log| Rollup::Escaped::decode_log(log).ok().map(|l| l.data))
            .collect();
        Ok((receipt.gas_used, events))
    }

    /// Refunds deposit `index` that no settled batch consumed (after the freeze).
    pub fn refund_deposit(
        &mut self,
        from: Address,
        index: u64,
        record: &super::settlement::DepositRecord,
    ) -> Result<Included<Rollup::DepositRefunded>, L1Error> {
        let call = Rollup::refundDepositCall {
            index: U256::from(index),
            assetId: record.asset_id,
            atoms: record.atoms,
            l2Address: record.l2_address.into(),
        };
        self.send_rollup(TxRequest::call(from, self.rollup).data(call.abi_encode()))
    }

    /// Whether withdrawal number `index` was paid.
    pub fn is_claimed(&self, index: u64) -> Result<bool, L1Error> {
        self.view(&Rollup::isClaimedCall { index: U256::from(index) })
    }

    /// Whether the rollup is frozen.
    pub fn is_frozen(&self) -> Result<bool, L1Error> {
        self.view(&Rollup::frozenCall {})
    }

    /// ETH balance of `owner`, wei, as the chain reports it.
    pub fn balance_of(&self, owner: Address) -> Result<U256, L1Error> {
        Ok(self.chain.balance_of(owner)?)
    }

    /// Runs a view of the rollup contract.
    pub fn view<V: SolCall>(&self, call: &V) -> Result<V::Return, L1Error> {
        view(&self.chain, self.rollup, call)
    }

    /// The last settled state root.
    pub fn state_root(&self) -> Result<B256, L1Error> {
        self.view(&Rollup::stateRootCall {})
    }

    /// Number of proposals.
    pub fn proposal_count(&self) -> Result<u64, L1Error> {
        self.view(&Rollup::proposalCountCall {}).map(|n| n.saturating_to())
    }

    /// Number of settled batches.
    pub fn settled_count(&self) -> Result<u64, L1Error> {
        self.view(&Rollup::settledCountCall {}).map(|n| n.saturating_to())
    }

    /// Proposal `index`.
    pub fn proposal(&self, index: u64) -> Result<Rollup::proposalsReturn, L1Error> {
        self.view(&Rollup::proposalsCall(U256::from(index)))
    }

    /// Settled batch `index`.
    pub fn batch(&self, index: u64) -> Result<Rollup::batchesReturn, L1Error> {
        self.view(&Rollup::batchesCall(U256::from(index)))
    }

    /// Deposits ever queued.
    pub fn deposit_count(&self) -> Result<u64, L1Error> {
        self.view(&Rollup::depositCountCall {}).map(|n| n.saturating_to())
    }

    /// The deposit chain after the first `count` deposits.
    pub fn deposit_chain_at(&self, count: u64) -> Result<B256, L1Error> {
        self.view(&Rollup::depositChainAtCall { count: U256::from(count) })
    }

    /// Forced commands ever queued.
    pub fn forced_count(&self) -> Result<u64, L1Error> {
        self.view(&Rollup::forcedCountCall {}).map(|n| n.saturating_to())
    }

    /// The forced-command chain after the first `count` commands.
    pub fn forced_chain_at(&self, count: u64) -> Result<B256, L1Error> {
        self.view(&Rollup::forcedChainAtCall { count: U256::from(count) })
    }

    /// Deposits consumed by settled batches.
    pub fn deposits_consumed(&self) -> Result<u64, L1Error> {
        self.view(&Rollup::depositsConsumedCall {})
    }

    /// Forced commands consumed by settled batches.
    pub fn forced_consumed(&self) -> Result<u64, L1Error> {
        self.view(&Rollup::forcedConsumedCall {})
    }

    /// The rollup's events from block `from_block` up to the head (inclusive), in order.
    pub fn events_since(&self, from_block: u64) -> Result<Vec<L1Event>, L1Error> {
        let head = self.chain.head()?;
        self.events_between(from_block, head)
    }

    /// The rollup's events in blocks `from_block..=to_block`, in order.
    pub fn events_between(&self, from_block: u64, to_block: u64) -> Result<Vec<L1Event>, L1Error> {
        if from_block > to_block {
            return Ok(Vec::new());
        }
        let receipts = self.chain.logs(self.rollup, from_block, to_block)?;
        Ok(receipts
            .iter()
            .flat_map(|r| {
                r.logs.iter().filter_map(move |log| {
                    RollupEvents::decode_log(log).ok().map(|event| L1Event {
                        block: r.block,
                        timestamp_s: r.timestamp_s,
                        event: event.data,
                    })
                })
            })
            .collect())
    }
}
