//! The canonical byte encoding of one L2 batch as it goes to L1 (before compression).
//!
//! ## Layout (version 1)
//!
//! ```text
//! offset  size  field
//!      0     4  magic "zkcb" (0x7a 0x6b 0x63 0x62)
//!      4     1  version = 0x01
//!      5     8  batch_number, u64 little-endian
//!     13     8  timestamp in ns since the Unix epoch, u64 little-endian
//!     21    32  prev_root
//!     53     4  command_count, u32 little-endian, <= MAX_BATCH_COMMANDS
//!     57     …  command_count commands, each the borsh encoding of `zkclob_state::Command`,
//!               concatenated with no separators; nothing after the last one
//! ```
//!
//! Integers are little-endian like borsh, so the 48 bytes at offset 5 are exactly the borsh
//! encoding of [`BatchHeader`]. Borsh commands are self-delimiting (a variant tag, then
//! fixed-size fields), so no per-command length prefix is needed; that saves 2 bytes a command.
//!
//! ## Limits and totality
//!
//! - at most [`MAX_BATCH_COMMANDS`] commands;
//! - each command at most [`MAX_COMMAND_BYTES`]: the decoder parses a command from a window of
//!   that many bytes, so an oversized one is refused without reading further;
//! - at most [`MAX_BATCH_DATA_BYTES`] in all, checked before parsing.
//!
//! [`decode`] is total: any byte string either decodes to a batch whose [`encode`] is the same
//! bytes, or gives a typed [`DecodeError`]. Borsh has one encoding per value (bools, options and
//! enum tags outside their range are errors), and trailing bytes are refused.
//!
//! ```
//! use zkclob_core::{Amount, AssetId, Timestamp};
//! use zkclob_rollup::batch_data;
//! use zkclob_state::{Address, BatchHeader, Command};
//! let header = BatchHeader { batch_number: 1, timestamp: Timestamp(5), prev_root: [0; 32] };
//! let commands = vec![Command::Deposit { to: Address([1; 20]), asset: AssetId(1), amount: Amount(10) }];
//! let bytes = batch_data::encode(&header, &commands).unwrap();
//! assert_eq!(bytes.len(), batch_data::HEADER_BYTES + 41);
//! assert_eq!(batch_data::decode(&bytes).unwrap(), (header, commands));
//! ```

use alloc::vec::Vec;
use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;
use zkclob_core::Timestamp;
use zkclob_state::command::{MAX_BATCH_COMMANDS, MAX_COMMAND_BYTES};
use zkclob_state::{BatchHeader, Command};

/// The first four bytes of every batch.
pub const MAGIC: [u8; 4] = *b"zkcb";
/// The layout version this module writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the first command.
pub const HEADER_BYTES: usize = 57;
/// Largest encoded batch, in bytes (32 MiB). Also the decompression limit: the compressed bytes of
/// a batch may never expand past it.
pub const MAX_BATCH_DATA_BYTES: usize = 32 << 20;
/// The shortest encoded command (a `Deposit`: tag 1 + address 20 + asset 4 + amount 16), used to
/// refuse command counts the input cannot hold before allocating for them.
pub const MIN_COMMAND_BYTES: usize = 41;

/// Why a batch could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// More than [`MAX_BATCH_COMMANDS`] commands.
    #[error("{count} commands exceed the limit of {MAX_BATCH_COMMANDS}")]
    TooManyCommands {
        /// Commands given.
        count: usize,
    },
    /// A command encodes to more than [`MAX_COMMAND_BYTES`].
    #[error("command {index} encodes to {len} bytes, over the limit of {MAX_COMMAND_BYTES}")]
    CommandTooLarge {
        /// Its position.
        index: usize,
        /// Its encoded length.
        len: usize,
    },
    /// The batch encodes to more than [`MAX_BATCH_DATA_BYTES`].
    #[error("batch encodes to more than {MAX_BATCH_DATA_BYTES} bytes")]
    TooLarge,
}

/// Why bytes are not a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input is longer than [`MAX_BATCH_DATA_BYTES`].
    #[error("input of {len} bytes exceeds the limit of {MAX_BATCH_DATA_BYTES} bytes")]
    TooLarge {
        /// Input length.
        len: usize,
    },
    /// The input is shorter than the header.
    #[error("input of {len} bytes is shorter than the {HEADER_BYTES}-byte header")]
    TruncatedHeader {
        /// Input length.
        len: usize,
    },
    /// The magic is not [`MAGIC`].
    #[error("bad magic {0:02x?}")]
    BadMagic([u8; 4]),
    /// The version is not [`VERSION`].
    #[error("unsupported batch data version {0}")]
    UnsupportedVersion(u8),
    /// The command count is above [`MAX_BATCH_COMMANDS`].
    #[error("{count} commands exceed the limit of {MAX_BATCH_COMMANDS}")]
    TooManyCommands {
        /// The declared count.
        count: u32,
    },
    /// The input is too short for the declared number of commands.
    #[error("input ended inside command {index} of {count}")]
    TruncatedCommands {
        /// The command being read.
        index: usize,
        /// The declared count.
        count: u32,
    },
    /// A command's bytes are not a valid command (bad tag, bool or option byte).
    #[error("command {index} is malformed")]
    MalformedCommand {
        /// Its position.
        index: usize,
    },
    /// A command did not end within [`MAX_COMMAND_BYTES`].
    #[error("command {index} runs past {MAX_COMMAND_BYTES} bytes")]
    CommandTooLarge {
        /// Its position.
        index: usize,
    },
    /// Bytes remain after the last command.
    #[error("{count} trailing bytes after the last command")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// Encodes a batch canonically.
pub fn encode(header: &BatchHeader, commands: &[Command]) -> Result<Vec<u8>, EncodeError> {
    if commands.len() > MAX_BATCH_COMMANDS {
        return Err(EncodeError::TooManyCommands { count: commands.len() });
    }
    let count =
        u32::try_from(commands.len()).map_err(|_| EncodeError::TooManyCommands { count: commands.len() })?;
    let mut out = Vec::with_capacity(HEADER_BYTES + commands.len() * 160);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&header.batch_number.to_le_bytes());
    out.extend_from_slice(&header.timestamp.0.to_le_bytes());
    out.extend_from_slice(&header.prev_root);
    out.extend_from_slice(&count.to_le_bytes());
    debug_assert_eq!(out.len(), HEADER_BYTES);
    for (index, command) in commands.iter().enumerate() {
        let start = out.len();
        command.serialize(&mut out).expect("writing to a Vec is infallible");
        let len = out.len() - start;
        if len > MAX_COMMAND_BYTES {
            return Err(EncodeError::CommandTooLarge { index, len });
        }
        if out.len() > MAX_BATCH_DATA_BYTES {
            return Err(EncodeError::TooLarge);
        }
    }
    Ok(out)
}

/// Decodes a batch. Total: see the module docs.
pub fn decode(bytes: &[u8]) -> Result<(BatchHeader, Vec<Command>), DecodeError> {
    if bytes.len() > MAX_BATCH_DATA_BYTES {
        return Err(DecodeError::TooLarge { len: bytes.len() });
    }
    let (header, count, mut rest) = decode_header(bytes)?;
    if rest.len() / MIN_COMMAND_BYTES < count as usize {
        // Cannot hold `count` commands; saying so now avoids parsing (and allocating) for them.
        let index = rest.len() / MIN_COMMAND_BYTES;
        return Err(DecodeError::TruncatedCommands { index, count });
    }
    let mut commands = Vec::with_capacity(count as usize);
    for index in 0..count as usize {
        let (command, used) = decode_command(rest, index, count)?;
        commands.push(command);
        rest = &rest[used..];
    }
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    Ok((header, commands))
}

/// Parses the 57-byte header: the batch header, the command count and the bytes after it.
fn decode_header(bytes: &[u8]) -> Result<(BatchHeader, u32, &[u8]), DecodeError> {
    let (head, rest) =
        bytes.split_at_checked(HEADER_BYTES).ok_or(DecodeError::TruncatedHeader { len: bytes.len() })?;
    let magic: [u8; 4] = take(head, 0);
    if magic != MAGIC {
        return Err(DecodeError::BadMagic(magic));
    }
    if head[4] != VERSION {
        return Err(DecodeError::UnsupportedVersion(head[4]));
    }
    let header = BatchHeader {
        batch_number: u64::from_le_bytes(take(head, 5)),
        timestamp: Timestamp(u64::from_le_bytes(take(head, 13))),
        prev_root: take(head, 21),
    };
    let count = u32::from_le_bytes(take(head, 53));
    if count as usize > MAX_BATCH_COMMANDS {
        return Err(DecodeError::TooManyCommands { count });
    }
    Ok((header, count, rest))
}

/// The `N` bytes of the 57-byte header at `offset`.
fn take<const N: usize>(head: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&head[offset..offset + N]);
    out
}

/// Parses one command from the front of `bytes`; returns it and the bytes it used.
fn decode_command(bytes: &[u8], index: usize, count: u32) -> Result<(Command, usize), DecodeError> {
    let window_len = bytes.len().min(MAX_COMMAND_BYTES);
    let mut window = &bytes[..window_len];
    match Command::deserialize(&mut window) {
        Ok(command) => Ok((command, window_len - window.len())),
        Err(e) if is_end_of_input(&e) => {
            if window_len == MAX_COMMAND_BYTES && bytes.len() > MAX_COMMAND_BYTES {
                Err(DecodeError::CommandTooLarge { index })
            } else {
                Err(DecodeError::TruncatedCommands { index, count })
            }
        }
        Err(_) => Err(DecodeError::MalformedCommand { index }),
    }
}

/// Borsh reports running out of input as `InvalidData` with a fixed message (borsh 1.x, `de`),
/// the same mapping `zkclob_core::codec` relies on; tests hold it.
fn is_end_of_input(e: &borsh::io::Error) -> bool {
    use alloc::string::ToString;
    e.kind() == borsh::io::ErrorKind::UnexpectedEof || e.to_string() == "Unexpected length of input"
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkclob_core::{Amount, AssetId};
    use zkclob_state::Address;

    fn header() -> BatchHeader {
        BatchHeader { batch_number: 7, timestamp: Timestamp(1_700_000_000_000_000_000), prev_root: [9; 32] }
    }

    fn deposit() -> Command {
        Command::Deposit { to: Address([3; 20]), asset: AssetId(2), amount: Amount(1_000) }
    }

    #[test]
    fn header_bytes_are_magic_version_then_borsh_of_the_header() {
        let bytes = encode(&header(), &[]).unwrap();
        assert_eq!(bytes.len(), HEADER_BYTES);
        assert_eq!(&bytes[..5], b"zkcb\x01");
        assert_eq!(bytes[5..53], borsh::to_vec(&header()).unwrap()[..]);
        assert_eq!(&bytes[53..], &[0, 0, 0, 0]);
    }

    #[test]
    fn a_deposit_is_the_shortest_command() {
        assert_eq!(borsh::to_vec(&deposit()).unwrap().len(), MIN_COMMAND_BYTES);
    }

    #[test]
    fn truncation_inside_a_command_is_reported_as_truncated() {
        let bytes = encode(&header(), &[deposit(), deposit()]).unwrap();
        let cut = &bytes[..bytes.len() - 1];
        // 81 bytes cannot hold two 41-byte commands: refused before parsing.
        assert_eq!(decode(cut), Err(DecodeError::TruncatedCommands { index: 1, count: 2 }));
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 40]);
        // 40 more bytes cannot hold a third command, but the count says two: trailing bytes.
        assert_eq!(decode(&padded), Err(DecodeError::TrailingBytes { count: 40 }));
    }

    #[test]
    fn a_bad_variant_tag_is_malformed() {
        let mut bytes = encode(&header(), &[deposit()]).unwrap();
        bytes[HEADER_BYTES] = 2; // Command has two variants
        assert_eq!(decode(&bytes), Err(DecodeError::MalformedCommand { index: 0 }));
    }
}
