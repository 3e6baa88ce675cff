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
