//! Packing a byte payload (the compressed batch) into EIP-4844 blobs, and unpacking it again.
//!
//! A blob is 4096 field elements of 32 bytes, each a big-endian integer that must be below the
//! BLS12-381 scalar modulus. This module uses the simplest layout with that property: **the first
//! byte of every field element is zero** and the other 31 bytes carry data. A field element with
//! a non-zero first byte is refused, which also refuses every element `>= r`.
//!
//! ## Layout (version 1)
//!
//! Every blob of a batch starts with the same header field element, then 4095 data elements:
//!
//! ```text
//! field element 0 (header):
//!   byte 0        0x00
//!   byte 1        layout version = 0x01
//!   byte 2        index of this blob in the batch (0-based)
//!   byte 3        number of blobs in the batch, 1..=MAX_BLOBS_PER_BATCH
//!   bytes 4..8    payload length in bytes across all blobs, u32 big-endian
//!   bytes 8..32   zero (reserved)
//! field elements 1..4096 (data):
//!   byte 0        0x00
//!   bytes 1..32   the next 31 payload bytes
//! ```
//!
//! The payload is cut into consecutive chunks of [`PAYLOAD_BYTES_PER_BLOB`] (= 4095 × 31 =
//! 126,945) bytes; blob `i` carries chunk `i`, filling its data elements in order. Every blob but
//! the last is full; the data after the last payload byte is zero. An empty payload is one blob.
//!
//! Compared with the OP stack's 254-bit packing (130,044 bytes per blob) this gives up 2.4% of
//! capacity for an unpacker that is a byte copy — what the zkVM guest runs over every blob.
//!
//! ## Totality and canonicity
//!
//! [`unpack`] accepts exactly the outputs of [`pack`]: the number of blobs must follow from the
//! payload length, every header must agree (version, index = position, count, length), reserved
//! and padding bytes must be zero. So `pack(unpack(blobs)?) == blobs` whenever unpacking succeeds,
//! and any other input is a typed [`UnpackError`], never a panic.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use thiserror::Error;

/// Field elements in a blob.
pub const FIELD_ELEMENTS_PER_BLOB: usize = 4096;
/// Bytes in a field element.
pub const BYTES_PER_FIELD_ELEMENT: usize = 32;
/// Bytes in a blob (131,072).
pub const BYTES_PER_BLOB: usize = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT;
/// Payload bytes carried by one data field element (its first byte stays zero).
pub const DATA_BYTES_PER_FIELD_ELEMENT: usize = 31;
/// Payload bytes carried by one blob (126,945): every field element but the header.
pub const PAYLOAD_BYTES_PER_BLOB: usize = (FIELD_ELEMENTS_PER_BLOB - 1) * DATA_BYTES_PER_FIELD_ELEMENT;
/// The layout version this module writes and reads.
pub const BLOB_LAYOUT_VERSION: u8 = 1;
/// Most blobs one batch may span (8.1 MB of payload). This is a format limit; the L1 inbox has
/// its own, smaller, per-transaction limit.
pub const MAX_BLOBS_PER_BATCH: usize = 64;
/// Most payload bytes one batch may carry.
pub const MAX_PAYLOAD_BYTES: usize = MAX_BLOBS_PER_BATCH * PAYLOAD_BYTES_PER_BLOB;

/// Bytes of the header field element that carry fields; the rest of it is reserved zeros.
const HEADER_USED_BYTES: usize = 8;

/// One EIP-4844 blob: 131,072 bytes, on the heap.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob(Box<[u8; BYTES_PER_BLOB]>);

impl core::fmt::Debug for Blob {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // 128 KiB of bytes would drown any assertion message; show the header element only.
        write!(f, "Blob(header={:02x?}, ..)", &self.0[..BYTES_PER_FIELD_ELEMENT])
    }
}

/// Why bytes are not a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a blob is {BYTES_PER_BLOB} bytes, got {len}")]
pub struct BlobLengthError {
    /// The length given.
    pub len: usize,
}

impl Blob {
    /// An all-zero blob.
    pub fn zeroed() -> Blob {
        let boxed: Box<[u8]> = vec![0u8; BYTES_PER_BLOB].into_boxed_slice();
        Blob(boxed.try_into().expect("the vector has exactly BYTES_PER_BLOB bytes"))
    }

    /// Copies a 131,072-byte slice into a blob.
    pub fn from_bytes(bytes: &[u8]) -> Result<Blob, BlobLengthError> {
        if bytes.len() != BYTES_PER_BLOB {
            return Err(BlobLengthError { len: bytes.len() });
        }
        let mut blob = Blob::zeroed();
        blob.0.copy_from_slice(bytes);
        Ok(blob)
    }

    /// The blob's bytes.
    pub fn as_bytes(&self) -> &[u8; BYTES_PER_BLOB] {
        &self.0
    }

    /// The blob's bytes, mutably (tests and fault injection).
    pub fn as_bytes_mut(&mut self) -> &mut [u8; BYTES_PER_BLOB] {
        &mut self.0
    }

    /// Field element `index` (`< FIELD_ELEMENTS_PER_BLOB`), or `None` past the end.
    pub fn field_element(&self, index: usize) -> Option<&[u8; BYTES_PER_FIELD_ELEMENT]> {
        let start = index.checked_mul(BYTES_PER_FIELD_ELEMENT)?;
        self.0.get(start..start + BYTES_PER_FIELD_ELEMENT)?.try_into().ok()
    }
}

/// Why a payload could not be packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PackError {
    /// The payload needs more than [`MAX_BLOBS_PER_BATCH`] blobs.
    #[error("payload of {len} bytes exceeds the limit of {max} bytes ({MAX_BLOBS_PER_BATCH} blobs)")]
    TooLarge {
        /// Payload length in bytes.
        len: usize,
        /// [`MAX_PAYLOAD_BYTES`].
        max: usize,
    },
}

/// Why blobs could not be unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UnpackError {
    /// No blobs at all.
    #[error("no blobs")]
    NoBlobs,
    /// More blobs than [`MAX_BLOBS_PER_BATCH`].
    #[error("{count} blobs exceed the limit of {MAX_BLOBS_PER_BATCH}")]
    TooManyBlobs {
        /// Blobs given.
        count: usize,
    },
    /// A field element's first byte is not zero (this includes every element `>= r`).
    #[error("blob {blob}, field element {field_element}: first byte is not zero")]
    NonCanonicalFieldElement {
        /// Position of the blob.
        blob: usize,
        /// Index of the field element.
        field_element: usize,
    },
    /// The layout version is not [`BLOB_LAYOUT_VERSION`].
    #[error("blob {blob}: unsupported layout version {version}")]
    UnsupportedVersion {
        /// Position of the blob.
        blob: usize,
        /// The version byte.
        version: u8,
    },
    /// A blob's index byte is not its position.
    #[error("blob at position {blob} says it is blob {index}")]
    OutOfOrder {
        /// Position of the blob.
        blob: usize,
        /// Its index byte.
        index: u8,
    },
    /// A blob's count or length disagrees with the first blob's, or the count with the blobs given.
    #[error("blob {blob}: header says {count} blobs and {payload_len} bytes, {blobs_given} blobs given")]
    Inconsistent {
        /// Position of the blob.
        blob: usize,
        /// Its count byte.
        count: u8,
        /// Its payload length.
        payload_len: u32,
        /// How many blobs were given.
        blobs_given: usize,
    },
    /// The payload length does not need exactly the declared number of blobs, or is too large.
    #[error("a payload of {payload_len} bytes cannot span {count} blobs")]
    BadLength {
        /// The payload length.
        payload_len: u32,
        /// The blob count.
        count: u8,
    },
    /// Reserved header bytes are not zero.
    #[error("blob {blob}: reserved header bytes are not zero")]
    ReservedNotZero {
        /// Position of the blob.
        blob: usize,
    },
    /// Bytes after the payload's end are not zero.
    #[error("blob {blob}, field element {field_element}: non-zero padding after the payload")]
    NonZeroPadding {
        /// Position of the blob.
        blob: usize,
        /// Index of the field element.
        field_element: usize,
    },
}

/// The number of blobs a payload of `len` bytes takes (at least one).
pub fn blobs_needed(len: usize) -> usize {
    len.div_ceil(PAYLOAD_BYTES_PER_BLOB).max(1)
}

/// Packs `payload` into the blobs of layout version 1.
pub fn pack(payload: &[u8]) -> Result<Vec<Blob>, PackError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(PackError::TooLarge { len: payload.len(), max: MAX_PAYLOAD_BYTES });
    }
    let count = blobs_needed(payload.len());
    // Both fit: count <= MAX_BLOBS_PER_BATCH = 64 and len <= MAX_PAYLOAD_BYTES < 2^32.
    let count_byte = u8::try_from(count).expect("count <= MAX_BLOBS_PER_BATCH");
    let len_bytes = u32::try_from(payload.len()).expect("len <= MAX_PAYLOAD_BYTES").to_be_bytes();
    let mut blobs = Vec::with_capacity(count);
    let mut chunks = payload.chunks(PAYLOAD_BYTES_PER_BLOB);
    for index in 0..count {
        let mut blob = Blob::zeroed();
        let bytes = blob.as_bytes_mut();
        bytes[1] = BLOB_LAYOUT_VERSION;
        bytes[2] = u8::try_from(index).expect("index < count");
        bytes[3] = count_byte;
        bytes[4..8].copy_from_slice(&len_bytes);
        let chunk = chunks.next().unwrap_or(&[]);
        let data_elements = bytes[BYTES_PER_FIELD_ELEMENT..].chunks_exact_mut(BYTES_PER_FIELD_ELEMENT);
        for (element, piece) in data_elements.zip(chunk.chunks(DATA_BYTES_PER_FIELD_ELEMENT)) {
            element[1..1 + piece.len()].copy_from_slice(piece);
        }
        blobs.push(blob);
    }
    Ok(blobs)
}

/// Unpacks blobs written by [`pack`] back into the payload. Total: every input either unpacks
/// or gives an [`UnpackError`].
pub fn unpack(blobs: &[Blob]) -> Result<Vec<u8>, UnpackError> {
    let first = blobs.first().ok_or(UnpackError::NoBlobs)?;
    if blobs.len() > MAX_BLOBS_PER_BATCH {
        return Err(UnpackError::TooManyBlobs { count: blobs.len() });
    }
    let (count, payload_len) = header_fields(first);
    check_header(0, first, count, payload_len, blobs.len())?;
    let payload_len_usize = payload_len as usize;
    if count == 0
        || payload_len_usize > MAX_PAYLOAD_BYTES
        || blobs_needed(payload_len_usize) != usize::from(count)
    {
        return Err(UnpackError::BadLength { payload_len, count });
    }
    let mut payload = Vec::with_capacity(payload_len_usize);
    for (position, blob) in blobs.iter().enumerate() {
        check_header(position, blob, count, payload_len, blobs.len())?;
        let start = position * PAYLOAD_BYTES_PER_BLOB;
        let chunk_len = payload_len_usize.saturating_sub(start).min(PAYLOAD_BYTES_PER_BLOB);
        copy_data(position, blob, chunk_len, &mut payload)?;
    }
    debug_assert_eq!(payload.len(), payload_len_usize);
    Ok(payload)
}

/// The (count, payload length) fields of a blob's header.
fn header_fields(blob: &Blob) -> (u8, u32) {
    let bytes = blob.as_bytes();
    (bytes[3], u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]))
}

fn check_header(
    position: usize,
    blob: &Blob,
    count: u8,
    payload_len: u32,
    blobs_given: usize,
) -> Result<(), UnpackError> {
    let bytes = blob.as_bytes();
    if bytes[0] != 0 {
        return Err(UnpackError::NonCanonicalFieldElement { blob: position, field_element: 0 });
    }
    if bytes[1] != BLOB_LAYOUT_VERSION {
        return Err(UnpackError::UnsupportedVersion { blob: position, version: bytes[1] });
    }
    if usize::from(bytes[2]) != position {
        return Err(UnpackError::OutOfOrder { blob: position, index: bytes[2] });
    }
    let (blob_count, blob_len) = header_fields(blob);
    if blob_count != count || blob_len != payload_len || usize::from(count) != blobs_given {
        return Err(UnpackError::Inconsistent {
            blob: position,
            count: blob_count,
            payload_len: blob_len,
            blobs_given,
        });
    }
    if bytes[HEADER_USED_BYTES..BYTES_PER_FIELD_ELEMENT].iter().any(|&b| b != 0) {
        return Err(UnpackError::ReservedNotZero { blob: position });
    }
    Ok(())
}

/// Appends the first `chunk_len` data bytes of `blob` to `payload`, checking that every data
/// element's first byte and every byte after the chunk is zero.
fn copy_data(
    position: usize,
    blob: &Blob,
    chunk_len: usize,
    payload: &mut Vec<u8>,
) -> Result<(), UnpackError> {
    let elements = blob.as_bytes()[BYTES_PER_FIELD_ELEMENT..].chunks_exact(BYTES_PER_FIELD_ELEMENT);
    let mut remaining = chunk_len;
    for (offset, element) in elements.enumerate() {
        let field_element = offset + 1;
        if element[0] != 0 {
            return Err(UnpackError::NonCanonicalFieldElement { blob: position, field_element });
        }
        let take = remaining.min(DATA_BYTES_PER_FIELD_ELEMENT);
        payload.extend_from_slice(&element[1..1 + take]);
        if element[1 + take..].iter().any(|&b| b != 0) {
            return Err(UnpackError::NonZeroPadding { blob: position, field_element });
        }
        remaining -= take;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_constants_are_as_documented() {
        assert_eq!(BYTES_PER_BLOB, 131_072);
        assert_eq!(PAYLOAD_BYTES_PER_BLOB, 126_945);
        assert!(MAX_PAYLOAD_BYTES < u32::MAX as usize);
        assert!(MAX_BLOBS_PER_BATCH <= u8::MAX as usize);
    }

    #[test]
    fn blobs_needed_at_the_edges() {
        assert_eq!(blobs_needed(0), 1);
        assert_eq!(blobs_needed(1), 1);
        assert_eq!(blobs_needed(PAYLOAD_BYTES_PER_BLOB), 1);
        assert_eq!(blobs_needed(PAYLOAD_BYTES_PER_BLOB + 1), 2);
    }

    #[test]
    fn field_element_accessor_stops_at_the_end() {
        let blob = Blob::zeroed();
        assert!(blob.field_element(FIELD_ELEMENTS_PER_BLOB - 1).is_some());
        assert!(blob.field_element(FIELD_ELEMENTS_PER_BLOB).is_none());
        assert!(blob.field_element(usize::MAX).is_none());
    }
}
