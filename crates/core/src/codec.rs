//! The canonical binary codec: borsh, with an explicit size limit and no trailing bytes.
//!
//! Borsh gives one encoding per value (little-endian integers, `u32` length prefixes, enum
//! variants as one byte), which is what hashing and signing need. [`decode`] adds two rules on
//! top: input longer than the caller's limit is refused before parsing, and every byte must be
//! consumed, so a value has exactly one accepted encoding.
//!
//! ```
//! use zkclob_core::{codec, Price, Qty, Side};
//! let bytes = codec::encode(&(Side::Sell, Price(100), Qty(3)));
//! let back: (Side, Price, Qty) = codec::decode(&bytes, 64).unwrap();
//! assert_eq!(back, (Side::Sell, Price(100), Qty(3)));
//! ```

use alloc::vec::Vec;

pub use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CodecError {
    /// The input is longer than the caller allows.
    #[error("input of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Input length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The input ended before the value was complete.
    #[error("input ended early")]
    Truncated,
    /// Bytes remain after the value.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// The bytes do not encode a value of the type (bad enum tag, bad bool, bad UTF-8, ...).
    #[error("malformed input")]
    Malformed,
}

/// Encodes a value canonically.
pub fn encode<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; borsh only fails on writer errors.
    value.serialize(&mut out).expect("writing to a Vec is infallible");
    out
}

/// Decodes a value, refusing inputs longer than `max_len` bytes and inputs with trailing bytes.
pub fn decode<T: BorshDeserialize>(bytes: &[u8], max_len: usize) -> Result<T, CodecError> {
    if bytes.len() > max_len {
        return Err(CodecError::TooLarge { len: bytes.len(), max: max_len });
    }
    let mut rest = bytes;
    let value = T::deserialize(&mut rest).map_err(classify)?;
    if !rest.is_empty() {
        return Err(CodecError::TrailingBytes(rest.len()));
    }
    Ok(value)
}

/// Borsh reports running out of input as `InvalidData` with a fixed message (borsh 1.x, `de`);
/// the golden tests below hold this mapping.
fn classify(e: borsh::io::Error) -> CodecError {
    use alloc::string::ToString;
    if e.kind() == borsh::io::ErrorKind::UnexpectedEof || e.to_string() == "Unexpected length of input" {
        CodecError::Truncated
    } else {
        CodecError::Malformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, MarketSpec, OrderId, Price, Qty, Side};

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        assert_eq!(decode::<u8>(&[0; 10], 4), Err(CodecError::TooLarge { len: 10, max: 4 }));
    }

    #[test]
    fn trailing_and_truncated_inputs_are_errors() {
        assert_eq!(decode::<u16>(&[1, 0, 9], 16), Err(CodecError::TrailingBytes(1)));
        assert_eq!(decode::<u64>(&[1, 0, 9], 16), Err(CodecError::Truncated));
    }

    #[test]
    fn bad_side_tag_is_malformed() {
        assert_eq!(decode::<Side>(&[2], 16), Err(CodecError::Malformed));
        assert_eq!(decode::<Side>(&[1], 16), Ok(Side::Sell));
    }

    #[test]
    fn ids_round_trip() {
        let v = (OrderId(u64::MAX), AccountId(7), Price(-3), Qty(9));
        assert_eq!(decode::<(OrderId, AccountId, Price, Qty)>(&encode(&v), 64), Ok(v));
        let spec = MarketSpec::example();
        assert_eq!(decode::<MarketSpec>(&encode(&spec), 256), Ok(spec));
    }
}
