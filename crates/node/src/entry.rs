//! What the node writes to its journal: one borsh-encoded [`Entry`] per record.

use borsh::{BorshDeserialize, BorshSerialize};
use zkclob_state::{Address, BatchHeader, Command};

/// Version of the entry encoding, in [`Entry::Genesis`]; replay refuses other versions.
pub const ENTRY_VERSION: u32 = 1;

/// One journal record.
// `Command` dominates; boxing it would add an allocation per journaled command.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Entry {
    /// The first record of a new exchange: what [`zkclob_state::ExchangeState::new`] takes.
    Genesis {
        /// Encoding version of the entries that follow.
        version: u32,
        /// Chain id signatures commit to.
        chain_id: u64,
        /// The operator's address.
        operator: Address,
    },
    /// A batch opens: every command until the next [`Entry::Cut`] belongs to it.
    BatchOpen(BatchHeader),
    /// A command the engine applied, with the time the node received it (data, never read by
    /// the transition).
    Command {
        /// Nanoseconds since the Unix epoch at receipt.
        received_ns: u64,
        /// The command.
        command: Command,
        /// The client's label for a new order (node metadata, unsigned; see `index`).
        client_id: Option<String>,
    },
    /// The open batch is closed with this many commands; `root` is the state root after it.
    /// Replay recomputes it and stops if it differs.
    Cut {
        /// The batch.
        batch_number: u64,
        /// Its commands.
        commands: u32,
        /// The state root after it.
        root: [u8; 32],
    },
    /// L1 mode: the rollup queue entries the open batch takes, journaled right after its
    /// [`Entry::BatchOpen`] and applied before the batch's own commands, exactly as derivation
    /// applies them (deposits, then the forced commands that decode to a signed command).
    L1Take(L1Take),
}

/// The deposits and forced commands a batch takes from the L1 queues (what its proposal will
/// name with `propose(depositsUpTo, forcedUpTo)`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct L1Take {
    /// Deposits taken before this batch, counted from the first.
    pub deposits_from: u64,
    /// The deposits taken, in queue order.
    pub deposits: Vec<L1Deposit>,
    /// Forced commands taken before this batch.
    pub forced_from: u64,
    /// The forced commands' bytes, in queue order (one that does not decode is taken and skipped).
    pub forced: Vec<Vec<u8>>,
}

/// One L1 deposit as the queue records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct L1Deposit {
    /// L2 asset id.
    pub asset_id: u32,
    /// Atoms credited.
    pub atoms: u128,
    /// The L2 account credited.
    pub l2_address: [u8; 20],
}

impl L1Take {
    /// Deposits taken in total after this batch.
    pub fn deposits_to(&self) -> u64 {
        self.deposits_from + self.deposits.len() as u64
    }

    /// Forced commands taken in total after this batch.
    pub fn forced_to(&self) -> u64 {
        self.forced_from + self.forced.len() as u64
    }

    /// Whether it takes nothing.
    pub fn is_empty(&self) -> bool {
        self.deposits.is_empty() && self.forced.is_empty()
    }

    /// The L2 commands it stands for, in derivation's order
    /// ([`zkclob_rollup::derivation::derive_batch`]).
    pub fn commands(&self) -> Vec<Command> {
        let deposits = self.deposits.iter().map(|d| {
            zkclob_rollup::derivation::DepositRecord {
                asset_id: d.asset_id,
                atoms: d.atoms,
                l2_address: d.l2_address,
            }
            .to_command()
        });
        let forced = self.forced.iter().filter_map(|b| zkclob_rollup::derivation::forced_command(b));
        deposits.chain(forced).collect()
    }
}

impl Entry {
    /// The canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec is infallible")
    }

    /// Decodes one record's payload; the whole payload must be consumed.
    pub fn decode(bytes: &[u8]) -> Result<Entry, std::io::Error> {
        borsh::from_slice(bytes)
    }
}
