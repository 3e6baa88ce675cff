//! Compression of the encoded batch: zlib (RFC 1950 around RFC 1951 deflate) via `miniz_oxide`.
//!
//! The compressed bytes are what the blobs carry, and the zkVM guest decompresses them, so the
//! decoder must be pure Rust, `no_std` + `alloc`, and small: `miniz_oxide`'s inflater is all
//! three, and Taiko's blobs use the same format. The choice against zstd is measured in the
//! crate README (zstd saves only a few percent here because a third of every signed command is a
//! 64-byte signature that no compressor can shrink).
//!
//! Output is deterministic for a given `miniz_oxide` version and [`ZLIB_LEVEL`]; nothing relies
//! on that: any valid zlib stream of the batch decodes to the same batch, so a different encoder
//! only changes the blob bytes, which the KZG commitments then bind.
//!
//! [`decompress`] takes a hard output limit (a deflate stream can expand ~1000×; a 127 KB blob
//! could otherwise claim 130 MB), checks the Adler-32 trailer, and refuses bytes after the end of
//! the stream, so the compressed payload has no slack for hidden data.
//!
//! ```
//! use zkclob_rollup::compress::{compress, decompress, DecompressError};
//! let data = vec![7u8; 10_000];
//! let packed = compress(&data);
//! assert!(packed.len() < 100);
//! assert_eq!(decompress(&packed, 10_000).unwrap(), data);
//! assert_eq!(decompress(&packed, 9_999), Err(DecompressError::OutputTooLarge { max_bytes: 9_999 }));
//! ```

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress as inflate, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use thiserror::Error;

/// The deflate level the sequencer uses (0–10 in `miniz_oxide`; 9 is zlib's "best").
pub const ZLIB_LEVEL: u8 = 9;

/// Why compressed bytes could not be decompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecompressError {
    /// The output would exceed the caller's limit.
    #[error("decompressed output exceeds the limit of {max_bytes} bytes")]
    OutputTooLarge {
        /// The limit.
        max_bytes: usize,
    },
    /// The stream ended before its end-of-stream marker and checksum.
    #[error("compressed stream is truncated")]
    Truncated,
    /// The zlib header or the deflate data is invalid.
    #[error("compressed stream is corrupt")]
    Corrupt,
    /// The Adler-32 checksum of the output does not match the trailer.
    #[error("Adler-32 checksum mismatch")]
    ChecksumMismatch,
    /// Bytes follow the end of the zlib stream.
    #[error("{count} bytes after the end of the compressed stream")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// Compresses `data` as one zlib stream at [`ZLIB_LEVEL`].
pub fn compress(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, ZLIB_LEVEL)
}

/// Decompresses one zlib stream that must span all of `compressed` and expand to at most
/// `max_output_bytes`. Never allocates more than `max_output_bytes + 1` bytes of output.
pub fn decompress(compressed: &[u8], max_output_bytes: usize) -> Result<Vec<u8>, DecompressError> {
    let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    // One byte past the limit, so that output of exactly the limit can finish (the inflater
    // reports "more output" when the buffer is full, even at the end) and anything longer is seen.
    let cap = max_output_bytes.saturating_add(1);
    let mut out = vec![0u8; compressed.len().saturating_mul(4).max(64).min(cap)];
    let mut state = Box::<DecompressorOxide>::default();
    let mut input = compressed;
    let mut out_pos = 0usize;
    loop {
        let (status, consumed, written) = inflate(&mut state, input, &mut out, out_pos, flags);
        out_pos += written;
        input = input.get(consumed..).unwrap_or(&[]);
        match status {
            TINFLStatus::Done => break,
            TINFLStatus::HasMoreOutput if out.len() < cap => {
                let grown = out.len().saturating_mul(2).min(cap);
                out.resize(grown, 0);
            }
            TINFLStatus::HasMoreOutput => {
                return Err(DecompressError::OutputTooLarge { max_bytes: max_output_bytes })
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(DecompressError::Truncated)
            }
            TINFLStatus::Adler32Mismatch => return Err(DecompressError::ChecksumMismatch),
            // `Failed`, `BadParam`, and variants that optional features of the crate add.
            _ => return Err(DecompressError::Corrupt),
        }
    }
    if out_pos > max_output_bytes {
        return Err(DecompressError::OutputTooLarge { max_bytes: max_output_bytes });
    }
    if !input.is_empty() {
        return Err(DecompressError::TrailingBytes { count: input.len() });
    }
    out.truncate(out_pos);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_round_trips() {
        let packed = compress(&[]);
        assert_eq!(decompress(&packed, 0).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn output_of_exactly_the_limit_is_accepted_and_one_past_is_refused() {
        let data: Vec<u8> = (0..5_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let packed = compress(&data);
        assert_eq!(decompress(&packed, data.len()).unwrap(), data);
        assert_eq!(
            decompress(&packed, data.len() - 1),
            Err(DecompressError::OutputTooLarge { max_bytes: data.len() - 1 })
        );
    }

    #[test]
    fn empty_and_garbage_inputs_are_errors() {
        assert_eq!(decompress(&[], 100), Err(DecompressError::Truncated));
        assert_eq!(decompress(&[0xff, 0xff, 0xff], 100), Err(DecompressError::Corrupt));
    }
}
