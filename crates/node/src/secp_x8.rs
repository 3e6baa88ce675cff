//! Eight secp256k1 ECDSA verifications at once, one per lane of AVX-512 IFMA registers.
//!
//! The node checks every order's signature on arrival, and with libsecp256k1 that check was
//! most of the node's CPU (25 µs per order on this machine). This module gives the same answers
//! (a test holds it to libsecp256k1 on valid, corrupted, high-`s`, out-of-range and off-curve
//! inputs) about three times faster per signature when eight are checked together:
//!
//! - **Field.** Elements of GF(p) in radix 2^52, five 52-bit limbs, eight elements per set of
//!   five `__m512i`. Products use `vpmadd52{lo,hi}uq` (25 of each), then fold the high half with
//!   2^260 ≡ 0x1000003D10 (mod p). Every operation returns limbs below 2^52 with the top limb
//!   at most 2^48 (a value below 2p), which is what the multiplier's 52-bit inputs need.
//! - **Curve.** Jacobian coordinates, and tables of affine points, so that every addition is
//!   a mixed one (8 products and 3 squares; a doubling is 3 and 4). These formulas are
//!   incomplete: a lane whose digit is zero keeps its sum (a masked blend), a lane whose sum is
//!   still infinity takes the entry, and an addition of a point to itself or its negation,
//!   which only crafted scalars reach, leaves Z = 0 for good: that lane's answer is "unsure" and
//!   libsecp256k1 gives it. Tables become affine with one field inversion for all their entries
//!   (Montgomery's trick; the inversion is Fermat's, 255 squares and 15 products).
//! - **Verification.** `x(u1·G + u2·P) ≡ r (mod n)` with `u1 = z/s`, `u2 = r/s`: u2 split by the
//!   endomorphism into halves below 2^128 against per-lane tables of `0..15·P` and its λ image,
//!   a nibble at a time; u1 a byte at a time against shared tables of `0..255·G` and
//!   `0..255·2^128·G` (built with `k256`); 124 doublings and 96 additions, table entries fetched
//!   by gathers. The comparison is made without inverting (`X == r·Z²`, or `X == (r+n)·Z²` when
//!   `r + n < p`), as libsecp256k1 does.
//! - **Scalars** (mod n) by `k256`, with one inversion per call (Montgomery's trick):
//!   [`verify_many`] shares it across all the signatures it is given.
//! - **Keys that sign again.** A [`Verifier`] keeps a table of each such key's multiples
//!   (`e·2^(32j)·P`, 7.5 KiB) and splits u1 by the endomorphism too, so every half-scalar goes in
//!   by 32-bit chunks at once: 28 doublings instead of 124, and no table of P to build per check.
//!   Criterion: 64 signatures of 64 known keys in 245 µs against 352 µs without the tables (a
//!   Zen 5 host, projective coordinates); on a Zen 4 host 401 µs with Jacobian coordinates
//!   against about 460 µs projective (`docs/benchmarks.md`).
//!
//! Like libsecp256k1's `verify`, a signature is refused when `r` or `s` is zero or not below
//! `n`, when `s` is high (`s > n/2`), or when the public key is not a point of the curve with
//! coordinates below `p`. Verification is variable-time in nothing secret: every input is public.
//!
//! [`available`] says whether this CPU has the instructions; [`verify`] checks up to eight,
//! [`verify_many`] any number, [`Verifier::verify`] any number with key tables.

use core::arch::x86_64::*;
use k256::elliptic_curve::ops::{Invert, Reduce};
use k256::elliptic_curve::scalar::IsHigh;
use k256::elliptic_curve::PrimeField;
use k256::{FieldBytes, Scalar, U256};
use std::sync::OnceLock;

/// Lanes per call.
pub const LANES: usize = 8;

/// One signature to check: the signer's uncompressed public key (`x || y`), the 32-byte
/// prehash, and the compact signature (`r || s`), as [`zkclob_state::Crypto::secp256k1_verify`]
/// takes them.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    /// `x || y`, big-endian.
    pub pubkey: &'a [u8; 64],
    /// The signed hash.
    pub prehash: &'a [u8; 32],
    /// `r || s`, big-endian.
    pub sig: &'a [u8; 64],
}

/// Whether this CPU can run [`verify`] (AVX-512 F, DQ and IFMA).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512ifma")
    })
}

/// Checks up to [`LANES`] signatures; `out[i]` is whether `items[i]` verifies. The cost is that
/// of eight, however many are given.
///
/// # Panics
/// If more than [`LANES`] items are given, or the CPU lacks the instructions ([`available`]).
pub fn verify(items: &[Item<'_>]) -> [bool; LANES] {
    assert!(items.len() <= LANES, "at most {LANES} signatures per call");
    let mut out = [false; LANES];
    out[..items.len()].copy_from_slice(&verify_many(items));
    out
}

/// Checks any number of signatures, eight lanes at a time, with one scalar inversion for all
/// of them (Montgomery's trick across the whole slice: an inversion costs about what 200
/// scalar products do, 7 µs here, against 45 µs for eight verifications); `out[i]` is whether
/// `items[i]` verifies. A last group of fewer than eight costs what eight do.
///
/// # Panics
/// If the CPU lacks the instructions ([`available`]).
pub fn verify_many(items: &[Item<'_>]) -> Vec<bool> {
    assert!(available(), "this CPU lacks AVX-512 IFMA");
    let parsed: Vec<Option<Parsed>> = items.iter().map(parse).collect();
    // w = 1/s for every parsed signature with one inversion; u1 = z·w, u2 = r·w.
    let s: Vec<Scalar> = parsed.iter().map(|p| p.as_ref().map_or(Scalar::ONE, |p| p.s)).collect();
    let w = inverses(&s);
    let mut out = vec![false; items.len()];
    let parsed_idx: Vec<usize> = (0..items.len()).filter(|&i| parsed[i].is_some()).collect();
    for group in parsed_idx.chunks(LANES) {
        run_plain(items, &parsed, &w, group, &mut out);
    }
    out
}

/// The inverses of nonzero scalars, with one inversion: the prefix products, the inverse of
/// their total, then back down the list.
fn inverses(s: &[Scalar]) -> Vec<Scalar> {
    let mut prefix = Vec::with_capacity(s.len());
    let mut acc = Scalar::ONE;
    for x in s {
        prefix.push(acc);
        acc *= x;
    }
    // Every scalar is nonzero (parsed, or the filler 1), so the product is invertible.
    let mut inv = Option::<Scalar>::from(acc.invert_vartime()).expect("a product of nonzero scalars");
    let mut out = vec![Scalar::ZERO; s.len()];
    for i in (0..s.len()).rev() {
        out[i] = inv * prefix[i];
        inv *= s[i];
    }
    out
}

/// One signature by libsecp256k1, as the node's `FastCrypto` checks it (lanes whose scalars do
/// not split as expected, and the tests' reference).
fn libsecp256k1(item: &Item<'_>) -> bool {
    use zkclob_state::Crypto;
    crate::crypto::FastCrypto.secp256k1_verify(item.pubkey, item.prehash, item.sig)
}

/// Constants of secp256k1's endomorphism λ·(x, y) = (β·x, y), for splitting a scalar
/// `k = k1 + k2·λ (mod n)` into halves below 2^128 (the lattice of Gallant, Lambert and
/// Vanstone, with the rounding constants g1, g2 as libsecp256k1 and `k256` use them).
struct Glv {
    minus_lambda: Scalar,
    minus_b1: Scalar,
    minus_b2: Scalar,
    g1: [u64; 4],
    g2: [u64; 4],
}

fn glv() -> &'static Glv {
    static GLV: OnceLock<Glv> = OnceLock::new();
    GLV.get_or_init(|| {
        let scalar = |hex: &str| {
            let b: [u8; 32] = hex::decode(hex).expect("hex").try_into().expect("32 bytes");
            Option::<Scalar>::from(Scalar::from_repr(b.into())).expect("below n")
        };
        let w = |hex: &str| words(&hex::decode(hex).expect("hex"));
        Glv {
            minus_lambda: scalar("ac9c52b33fa3cf1f5ad9e3fd77ed9ba4a880b9fc8ec739c2e0cfc810b51283cf"),
            minus_b1: scalar("00000000000000000000000000000000e4437ed6010e88286f547fa90abfe4c3"),
            minus_b2: scalar("fffffffffffffffffffffffffffffffe8a280ac50774346dd765cda83db1562c"),
            g1: w("3086d221a7d46bcde86c90e49284eb153daa8a1471e8ca7fe893209a45dbb031"),
            g2: w("e4437ed6010e88286f547fa90abfe4c4221208ac9df506c61571b4ae8ac47f71"),
        }
    })
}

/// The 512-bit product of two 256-bit integers (little-endian words).
fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let x = t[i + j] as u128 + a[i] as u128 * b[j] as u128 + carry;
            t[i + j] = x as u64;
            carry = x >> 64;
        }
        t[i + 4] = carry as u64;
    }
    t
}

/// `round(k·g / 2^384)` (below 2^128 for g < 2^256).
fn mul_shift_384(k: &[u64; 4], g: &[u64; 4]) -> Scalar {
    let t = mul_wide(k, g);
    let v = ((t[7] as u128) << 64 | t[6] as u128) + (t[5] >> 63) as u128;
    let mut be = [0u8; 32];
    be[16..].copy_from_slice(&v.to_be_bytes());
    Option::<Scalar>::from(Scalar::from_repr(be.into())).expect("below 2^128")
}

/// `(k1, k2)` with `k1 + k2·λ ≡ k (mod n)`, each of magnitude below 2^128 (as a scalar that may
/// be "negative", i.e. above n/2).
fn split(k: &Scalar) -> (Scalar, Scalar) {
    let c = glv();
    let kw = words(&k.to_bytes());
    let r2 = mul_shift_384(&kw, &c.g1) * c.minus_b1 + mul_shift_384(&kw, &c.g2) * c.minus_b2;
    (*k + r2 * c.minus_lambda, r2)
}

/// `|k|` as 16 big-endian bytes and whether k is negative; `None` if |k| ≥ 2^128.
fn magnitude(k: &Scalar) -> Option<([u8; 16], bool)> {
    let neg = bool::from(k.is_high());
    let m: [u8; 32] = if neg { (-*k).to_bytes().into() } else { k.to_bytes().into() };
    m[..16].iter().all(|b| *b == 0).then(|| (m[16..].try_into().expect("16 bytes"), neg))
}

/// The field prime p, little-endian 64-bit words.
const P: [u64; 4] = [0xFFFF_FFFE_FFFF_FC2F, u64::MAX, u64::MAX, u64::MAX];
/// The group order n, little-endian 64-bit words.
const N: [u64; 4] =
    [0xBFD2_5E8C_D036_4141, 0xBAAE_DCE6_AF48_A03B, 0xFFFF_FFFF_FFFF_FFFE, 0xFFFF_FFFF_FFFF_FFFF];

/// A 256-bit integer from 32 big-endian bytes, as little-endian words.
fn words(be: &[u8]) -> [u64; 4] {
    let mut w = [0u64; 4];
    for (i, word) in w.iter_mut().enumerate() {
        let at = 32 - 8 * (i + 1);
        *word = u64::from_be_bytes(be[at..at + 8].try_into().expect("8 bytes"));
    }
    w
}

/// `a < b` for little-endian words.
fn less(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// `a + b`, or `None` on overflow past 2^256.
fn add_words(a: &[u64; 4], b: &[u64; 4]) -> Option<[u64; 4]> {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(carry as u64);
        out[i] = s2;
        carry = c1 || c2;
    }
    (!carry).then_some(out)
}

/// Five 52-bit limbs of a value below 2^256.
fn limbs(w: &[u64; 4]) -> [u64; 5] {
    const M: u64 = (1 << 52) - 1;
    [
        w[0] & M,
        (w[0] >> 52 | w[1] << 12) & M,
        (w[1] >> 40 | w[2] << 24) & M,
        (w[2] >> 28 | w[3] << 36) & M,
        w[3] >> 16,
    ]
}

/// The value of five 52-bit limbs (below 2^260) reduced below p.
fn canonical(l: &[u64; 5]) -> [u64; 4] {
    let mut acc: u128 = 0;
    let mut w = [0u64; 5];
    let mut bits = 0u32;
    let mut wi = 0;
    for &limb in l {
        acc |= (limb as u128) << bits;
        bits += 52;
        while bits >= 64 {
            w[wi] = acc as u64;
            wi += 1;
            acc >>= 64;
            bits -= 64;
        }
    }
    w[wi] = acc as u64;
    // w[4] holds the bits above 2^256 (at most four).
    let mut v = [w[0], w[1], w[2], w[3]];
    let mut high = w[4];
    while high > 0 || !less(&v, &P) {
        // v − p = v + (2^256 − p) − 2^256.
        let k = 0x1_0000_03D1u64;
        let (s0, c0) = v[0].overflowing_add(k);
        v[0] = s0;
        let mut carry = c0;
        for word in v.iter_mut().skip(1) {
            let (s, c) = word.overflowing_add(carry as u64);
            *word = s;
            carry = c;
        }
        if carry {
            high += 1;
        }
        high -= 1;
    }
    v
}

/// One item's public inputs, checked and converted.
struct Parsed {
    r: Scalar,
    s: Scalar,
    z: Scalar,
    px: [u64; 5],
    py: [u64; 5],
    r_fe: [u64; 5],
    /// `r + n` as a field element when it is below p (then a point with that x also gives r).
    r_plus_n: Option<[u64; 5]>,
}

fn parse(item: &Item<'_>) -> Option<Parsed> {
    let scalar = |be: &[u8]| -> Option<Scalar> {
        let s = Option::<Scalar>::from(Scalar::from_repr(*FieldBytes::from_slice(be)))?;
        (!bool::from(s.is_zero())).then_some(s)
    };
    let r = scalar(&item.sig[..32])?;
    let s = scalar(&item.sig[32..])?;
    if bool::from(s.is_high()) {
        return None;
    }
    let z = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(item.prehash));
    let (x, y) = (words(&item.pubkey[..32]), words(&item.pubkey[32..]));
    if !less(&x, &P) || !less(&y, &P) {
        return None;
    }
    let rw = words(&item.sig[..32]);
    let r_plus_n = add_words(&rw, &N).filter(|v| less(v, &P)).map(|v| limbs(&v));
    Some(Parsed { r, s, z, px: limbs(&x), py: limbs(&y), r_fe: limbs(&rw), r_plus_n })
}

/// The eight lanes' inputs to the vector part.
struct Lanes {
    px: [[u64; 5]; LANES],
    py: [[u64; 5]; LANES],
    /// u1 = lo + hi·2^128, big-endian halves (G and 2^128·G take them).
    g_lo: [[u8; 16]; LANES],
    g_hi: [[u8; 16]; LANES],
    /// u2 = ±k1 ± k2·λ: the magnitudes, big-endian, and the signs (bit per lane).
    k1: [[u8; 16]; LANES],
    k2: [[u8; 16]; LANES],
    neg1: u8,
    neg2: u8,
    r: [[u64; 5]; LANES],
    r_plus_n: [Option<[u64; 5]>; LANES],
}

impl Lanes {
    /// Every lane checks u1 = u2 = 1 against G: the filler of unused lanes.
    fn dummy() -> Lanes {
        let (gx, gy) = generator();
        let mut one = [0u8; 16];
        one[15] = 1;
        Lanes {
            px: [gx; LANES],
            py: [gy; LANES],
            g_lo: [one; LANES],
            g_hi: [[0; 16]; LANES],
            k1: [one; LANES],
            k2: [[0; 16]; LANES],
            neg1: 0,
            neg2: 0,
            r: [[0; 5]; LANES],
            r_plus_n: [None; LANES],
        }
    }

    /// Sets lane `i` to compute `u1·G + u2·P`; false if u2 does not split into halves below
    /// 2^128 (the lane is then left as it was).
    fn set_scalars(&mut self, i: usize, u1: &Scalar, u2: &Scalar) -> bool {
        let Some(((m1, n1), (m2, n2))) = halves(u2) else { return false };
        let u1: [u8; 32] = u1.to_bytes().into();
        self.g_hi[i] = u1[..16].try_into().expect("16 bytes");
        self.g_lo[i] = u1[16..].try_into().expect("16 bytes");
        self.k1[i] = m1;
        self.k2[i] = m2;
        set_bit(&mut self.neg1, i, n1);
        set_bit(&mut self.neg2, i, n2);
        true
    }
}

/// `k = ±k1 ± k2·λ`: the halves' magnitudes (big-endian) and signs; `None` if a half is not
/// below 2^128 (not expected: the split's halves are proven below it).
type Halves = (([u8; 16], bool), ([u8; 16], bool));

fn halves(k: &Scalar) -> Option<Halves> {
    let (k1, k2) = split(k);
    Some((magnitude(&k1)?, magnitude(&k2)?))
}

/// Sets lane `i`'s bit of a per-lane mask to `on`.
fn set_bit(mask: &mut u8, i: usize, on: bool) {
    *mask = *mask & !(1 << i) | (on as u8) << i;
}

/// Chunks of a 128-bit scalar half in a [`KeyTable`], and their bits.
const KEY_CHUNKS: usize = 4;
const CHUNK_BITS: usize = 32;
/// Words of a [`KeyTable`]: 16 points of 15 limbs (x, β·x, y) for each chunk.
const KEY_TABLE: usize = KEY_CHUNKS * 16 * 15;

/// One public key's multiples, `e·2^(32j)·P` for `e < 16` and chunk `j < 4`, as affine points
/// of 15 limbs: x, β·x (the endomorphism's image) and y (`[j][e][limb]`, 7.5 KiB; entry 0 is a
/// placeholder). With it, a check of that key's signature needs 28 doublings instead of 124
/// ([`Verifier`]).
struct KeyTable(Box<[u64; KEY_TABLE]>);

impl KeyTable {
    fn zeroed() -> KeyTable {
        KeyTable(Box::new([0; KEY_TABLE]))
    }
}

/// The eight lanes' inputs to a check with key tables.
struct KeyedLanes<'a> {
    tables: [&'a KeyTable; LANES],
    /// u2 = ±k1 ± k2·λ (against P), u1 = ±a1 ± a2·λ (against G): magnitudes, big-endian, and
    /// the signs (bit per lane).
    k1: [[u8; 16]; LANES],
    k2: [[u8; 16]; LANES],
    a1: [[u8; 16]; LANES],
    a2: [[u8; 16]; LANES],
    neg1: u8,
    neg2: u8,
    nega1: u8,
    nega2: u8,
    r: [[u64; 5]; LANES],
    r_plus_n: [Option<[u64; 5]>; LANES],
}

impl<'a> KeyedLanes<'a> {
    /// Every lane on `table` with zero scalars (its verdict is false and ignored).
    fn filler(table: &'a KeyTable) -> KeyedLanes<'a> {
        KeyedLanes {
            tables: [table; LANES],
            k1: [[0; 16]; LANES],
            k2: [[0; 16]; LANES],
            a1: [[0; 16]; LANES],
            a2: [[0; 16]; LANES],
            neg1: 0,
            neg2: 0,
            nega1: 0,
            nega2: 0,
            r: [[0; 5]; LANES],
            r_plus_n: [None; LANES],
        }
    }

    /// Sets lane `i`; false if a scalar does not split into halves below 2^128 (the lane is
    /// then left as it was).
    fn set(&mut self, i: usize, table: &'a KeyTable, p: &Parsed, u1: &Scalar, u2: &Scalar) -> bool {
        let (Some(((m1, n1), (m2, n2))), Some(((g1, ng1), (g2, ng2)))) = (halves(u2), halves(u1)) else {
            return false;
        };
        self.tables[i] = table;
        (self.k1[i], self.k2[i], self.a1[i], self.a2[i]) = (m1, m2, g1, g2);
        set_bit(&mut self.neg1, i, n1);
        set_bit(&mut self.neg2, i, n2);
        set_bit(&mut self.nega1, i, ng1);
        set_bit(&mut self.nega2, i, ng2);
        self.r[i] = p.r_fe;
        self.r_plus_n[i] = p.r_plus_n;
        true
    }
}

/// Slots of [`Verifier`]'s record of keys seen once.
const SEEN_SLOTS: usize = 4096;

/// What a [`Verifier`] did, counted since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Signatures checked in lanes with their key's table.
    pub keyed: u64,
    /// Signatures checked in lanes without it.
    pub lanes: u64,
    /// Signatures checked one by one by libsecp256k1 (too few left over for a group of eight).
    pub one_by_one: u64,
    /// Key tables built.
    pub tables_built: u64,
    /// Signatures of keyed lanes checked again by libsecp256k1 because an addition met its own
    /// operand or its negation (crafted scalars; see `madd`).
    pub unsure: u64,
}

/// Checks signatures eight at a time and keeps tables of multiples of the public keys it sees
/// again (`e·2^(32j)·P` for e < 16, j < 4: 7.5 KiB each, at most `capacity` of them, the least
/// recently used dropped first). A key gets a table the second time it is seen: building eight
/// at once costs about three fifths of a group of eight's check, and every later check of that
/// key costs about three tenths less (criterion: 64 known keys in 245 µs against 352 µs; a market
/// maker signs order after order with the same key); a key seen once never pays for it. Groups too small to fill the lanes profitably (fewer than three without
/// tables, one with them) are checked one by one by libsecp256k1. The answers are
/// libsecp256k1's in every case (tests hold both paths to it).
pub struct Verifier {
    tables: std::collections::HashMap<[u8; 64], (KeyTable, u64)>,
    capacity: usize,
    /// A fingerprint of the last key seen in each slot.
    seen: Box<[u64; SEEN_SLOTS]>,
    /// The number of the current call, for least-recently-used eviction.
    clock: u64,
    counts: Counts,
}

/// Key tables a [`Verifier`] keeps by default: 2 MiB.
pub const DEFAULT_KEY_TABLES: usize = 256;

/// The smallest group checked in lanes without key tables: eight lanes cost what libsecp256k1
/// takes for about two signatures.
const MIN_GROUP: usize = 3;
/// The same with key tables: eight lanes then cost a little more than one signature does.
const MIN_KEYED_GROUP: usize = 2;

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("tables", &self.tables.len())
            .field("capacity", &self.capacity)
            .field("counts", &self.counts)
            .finish()
    }
}

impl Verifier {
    /// A verifier that keeps up to `capacity` key tables (0: none, every check without).
    pub fn new(capacity: usize) -> Verifier {
        Verifier {
            tables: std::collections::HashMap::new(),
            capacity,
            seen: Box::new([0; SEEN_SLOTS]),
            clock: 0,
            counts: Counts::default(),
        }
    }

    /// What it has done so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Key tables held.
    pub fn tables(&self) -> usize {
        self.tables.len()
    }

    fn fingerprint(key: &[u8; 64]) -> (usize, u64) {
        let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().expect("8 bytes"));
        let f = word(0) ^ word(32).rotate_left(17) ^ word(56).rotate_left(41);
        ((f >> 52) as usize % SEEN_SLOTS, f | 1)
    }

    fn seen_before(&self, key: &[u8; 64]) -> bool {
        let (slot, f) = Self::fingerprint(key);
        self.seen[slot] == f
    }

    fn mark_seen(&mut self, key: &[u8; 64]) {
        let (slot, f) = Self::fingerprint(key);
        self.seen[slot] = f;
    }

    /// Builds the tables of `keys` (parsed, distinct, not held), eight at a time, and keeps
    /// those of points on the curve.
    fn build(&mut self, keys: &[(&[u8; 64], &Parsed)]) {
        for group in keys.chunks(LANES) {
            let (gx, gy) = generator();
            let mut px = [gx; LANES];
            let mut py = [gy; LANES];
            for (i, (_, p)) in group.iter().enumerate() {
                px[i] = p.px;
                py[i] = p.py;
            }
            // SAFETY: callers assert `available()`.
            let tables = unsafe { simd::build_key_tables(&px, &py, group.len()) };
            for ((key, _), table) in group.iter().zip(tables) {
                let Some(table) = table else { continue };
                if self.tables.len() >= self.capacity {
                    let oldest = self.tables.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k);
                    if let Some(k) = oldest {
                        self.tables.remove(&k);
                    }
                }
                self.tables.insert(**key, (table, self.clock));
                self.counts.tables_built += 1;
            }
        }
    }

    /// Whether each signature verifies (`out[i]` for `items[i]`), as libsecp256k1 answers.
    ///
    /// # Panics
    /// If the CPU lacks the instructions ([`available`]).
    pub fn verify(&mut self, items: &[Item<'_>]) -> Vec<bool> {
        assert!(available(), "this CPU lacks AVX-512 IFMA");
        self.clock += 1;
        let parsed: Vec<Option<Parsed>> = items.iter().map(parse).collect();
        // Keys seen before and without a table get one now.
        if self.capacity > 0 {
            let mut build: Vec<(&[u8; 64], &Parsed)> = Vec::new();
            for (item, p) in items.iter().zip(&parsed) {
                let Some(p) = p else { continue };
                if !self.tables.contains_key(item.pubkey)
                    && self.seen_before(item.pubkey)
                    && !build.iter().any(|(k, _)| *k == item.pubkey)
                {
                    build.push((item.pubkey, p));
                }
            }
            self.build(&build);
        }
        let s: Vec<Scalar> = parsed.iter().map(|p| p.as_ref().map_or(Scalar::ONE, |p| p.s)).collect();
        let w = inverses(&s);
        let mut keyed = Vec::new();
        let mut plain = Vec::new();
        for (i, (item, p)) in items.iter().zip(&parsed).enumerate() {
            if p.is_none() {
                continue;
            }
            match self.tables.get_mut(item.pubkey) {
                Some((_, used)) => {
                    *used = self.clock;
                    keyed.push(i);
                }
                None => {
                    self.mark_seen(item.pubkey);
                    plain.push(i);
                }
            }
        }
        let mut out = vec![false; items.len()];
        let one_by_one = |idx: &[usize], out: &mut Vec<bool>| {
            for &i in idx {
                out[i] = libsecp256k1(&items[i]);
            }
        };
        let (keyed_lanes, keyed_rest) = keyed.split_at(lanes_worth(keyed.len(), MIN_KEYED_GROUP));
        for group in keyed_lanes.chunks(LANES) {
            let first = &self.tables[items[group[0]].pubkey].0;
            let mut lanes = KeyedLanes::filler(first);
            let mut fallback = Vec::new();
            for (lane, &i) in group.iter().enumerate() {
                let p = parsed[i].as_ref().expect("parsed");
                let table = &self.tables[items[i].pubkey].0;
                if !lanes.set(lane, table, p, &(p.z * w[i]), &(p.r * w[i])) {
                    fallback.push(i);
                }
            }
            // SAFETY: `available()` was asserted above.
            let verdicts = unsafe { simd::run_keyed(&lanes) };
            for (lane, &i) in group.iter().enumerate() {
                out[i] = verdicts[lane].unwrap_or_else(|| {
                    self.counts.unsure += 1;
                    libsecp256k1(&items[i])
                });
            }
            one_by_one(&fallback, &mut out);
        }
        let (plain_lanes, plain_rest) = plain.split_at(lanes_worth(plain.len(), MIN_GROUP));
        for group in plain_lanes.chunks(LANES) {
            run_plain(items, &parsed, &w, group, &mut out);
        }
        one_by_one(keyed_rest, &mut out);
        one_by_one(plain_rest, &mut out);
        self.counts.keyed += keyed_lanes.len() as u64;
        self.counts.lanes += plain_lanes.len() as u64;
        self.counts.one_by_one += (keyed_rest.len() + plain_rest.len()) as u64;
        out
    }
}

/// How many of `n` signatures go in lanes: the full groups of eight, and the last group too if
/// it has at least `min`.
fn lanes_worth(n: usize, min: usize) -> usize {
    let rest = n % LANES;
    if rest >= min {
        n
    } else {
        n - rest
    }
}

/// Checks `group` (up to eight indices into `items`, all parsed) in lanes without key tables,
/// with `w[i] = 1/s`, into `out`.
fn run_plain(items: &[Item<'_>], parsed: &[Option<Parsed>], w: &[Scalar], group: &[usize], out: &mut [bool]) {
    let mut lanes = Lanes::dummy();
    let mut fallback = [false; LANES];
    for (lane, &i) in group.iter().enumerate() {
        let p = parsed[i].as_ref().expect("parsed");
        lanes.px[lane] = p.px;
        lanes.py[lane] = p.py;
        lanes.r[lane] = p.r_fe;
        lanes.r_plus_n[lane] = p.r_plus_n;
        // Not expected (the split's halves are proven below 2^128): check this one alone.
        fallback[lane] = !lanes.set_scalars(lane, &(p.z * w[i]), &(p.r * w[i]));
    }
    // SAFETY: callers assert `available()`.
    let verdicts = unsafe { simd::run(&lanes) };
    for (lane, &i) in group.iter().enumerate() {
        out[i] = match verdicts[lane] {
            Some(v) if !fallback[lane] => v,
            _ => libsecp256k1(&items[i]),
        };
    }
}

/// G's affine coordinates as limbs.
fn generator() -> ([u64; 5], [u64; 5]) {
    const GX: [u64; 4] =
        [0x59F2_815B_16F8_1798, 0x029B_FCDB_2DCE_28D9, 0x55A0_6295_CE87_0B07, 0x79BE_667E_F9DC_BBAC];
    const GY: [u64; 4] =
        [0x9C47_D08F_FB10_D4B8, 0xFD17_B448_A685_5419, 0x5DA4_FBFC_0E11_08A8, 0x483A_DA77_26A3_C465];
    (limbs(&GX), limbs(&GY))
}

/// Entries of a window table: 16 affine points of 10 limbs (x, y) for 8 lanes, laid out
/// `[entry][limb][lane]` so that one gather fetches one limb of every lane's entry.
const TABLE: usize = 16 * 10 * LANES;

/// Entries of a shared table of multiples of G: `0..255·B`.
const G_ENTRIES: usize = 256;
/// A shared table: 256 affine points of 15 limbs (x, β·x, y), one copy (`[entry][limb]`).
const G_TABLE: usize = G_ENTRIES * 15;

mod simd {
    use super::*;

    const M52: u64 = (1 << 52) - 1;
    const M48: u64 = (1 << 48) - 1;
    /// 2^260 mod p.
    const R260: u64 = 0x10_0000_3D10;
    /// 2^256 mod p.
    const K256: u64 = 0x1_0000_03D1;
    /// 4p in limbs, each limb at least any limb of a subtrahend (limbs 0..3 below 2^52, the top
    /// one at most 2^49 + 1): `a − b` is computed as `a + 4p − b`.
    const FOUR_P: [u64; 5] = [
        0x3F_FFFB_FFFF_F0BC,
        0x3F_FFFF_FFFF_FFFC,
        0x3F_FFFF_FFFF_FFFC,
        0x3F_FFFF_FFFF_FFFC,
        0x3_FFFF_FFFF_FFFC,
    ];

    /// Eight field elements. Limbs 0..3 are below 2^52 and the top limb below 2^52 too, as the
    /// multiplier's 52-bit inputs need. Bounds on the top limb: at most 2^48 out of every
    /// operation but `add`; `add` gives the sum of its inputs' top limbs plus one. The formulas
    /// below add at most two such values (≤ 2^49 + 1 each, so ≤ 2^50 + 3), and subtract only
    /// values with a top limb of at most 2^49 + 1.
    #[derive(Clone, Copy)]
    pub(super) struct Fe([__m512i; 5]);

    /// Eight points in Jacobian coordinates: `(X, Y, Z)` is the affine `(X/Z², Y/Z³)`.
    #[derive(Clone, Copy)]
    struct Pt {
        x: Fe,
        y: Fe,
        z: Fe,
    }

    /// Eight affine points (table entries).
    #[derive(Clone, Copy)]
    struct Aff {
        x: Fe,
        y: Fe,
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn splat(v: u64) -> __m512i {
        _mm512_set1_epi64(v as i64)
    }

    /// Carries limb `k`'s bits above 52 into limb `k + 1`, for each `k` of `limbs` in order.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn carry(t: &mut [__m512i], limbs: core::ops::Range<usize>) {
        let m = splat(M52);
        for k in limbs {
            let c = _mm512_srli_epi64::<52>(t[k]);
            t[k] = _mm512_and_si512(t[k], m);
            t[k + 1] = _mm512_add_epi64(t[k + 1], c);
        }
    }

    /// Carries limbs of up to 63 bits into the normal form.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn normalize(mut t: [__m512i; 5]) -> Fe {
        carry(&mut t, 0..4);
        // Bits from 2^256 up: below 2^16, times 2^256 mod p below 2^49.
        let top = _mm512_srli_epi64::<48>(t[4]);
        t[4] = _mm512_and_si512(t[4], splat(M48));
        t[0] = _mm512_madd52lo_epu64(t[0], top, splat(K256));
        carry(&mut t, 0..4);
        Fe(t)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn add(a: &Fe, b: &Fe) -> Fe {
        // One carry pass: the top limb keeps the sum's high bits (see `Fe`'s bounds).
        let mut t: [__m512i; 5] = core::array::from_fn(|i| _mm512_add_epi64(a.0[i], b.0[i]));
        carry(&mut t, 0..4);
        Fe(t)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn sub(a: &Fe, b: &Fe) -> Fe {
        #[cfg(debug_assertions)]
        assert!(
            store(b).iter().all(|l| l[..4].iter().all(|x| *x < 1 << 52) && l[4] <= (1 << 49) + 1),
            "a subtrahend beyond 4p's limbs"
        );
        normalize(core::array::from_fn(|i| {
            _mm512_sub_epi64(_mm512_add_epi64(a.0[i], splat(FOUR_P[i])), b.0[i])
        }))
    }

    /// `a · c` for a small constant (`c < 2^11`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn mul_small(a: &Fe, c: u64) -> Fe {
        let c = splat(c);
        normalize(core::array::from_fn(|i| _mm512_mullo_epi64(a.0[i], c)))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    pub(super) fn mul(a: &Fe, b: &Fe) -> Fe {
        #[cfg(debug_assertions)]
        for f in [a, b] {
            // The multiplier reads 52 bits of each limb: a wider one would be cut silently.
            assert!(store(f).iter().flatten().all(|l| *l < 1 << 52), "a limb too wide to multiply");
        }
        let zero = _mm512_setzero_si512();
        let mut t = [zero; 10];
        for i in 0..5 {
            for j in 0..5 {
                t[i + j] = _mm512_madd52lo_epu64(t[i + j], a.0[i], b.0[j]);
                t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a.0[i], b.0[j]);
            }
        }
        // Columns hold at most ten 52-bit terms (< 2^56).
        reduce(t)
    }

    /// The 512-bit value of ten columns of at most ten 52-bit terms each (< 2^56), mod p.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn reduce(mut t: [__m512i; 10]) -> Fe {
        let zero = _mm512_setzero_si512();
        // Make limbs 5..9 52 bits, the multiplier's inputs below (limb 4's excess goes up
        // too); limbs 0..3 keep theirs until after the fold. The value is below 2^514 and the
        // limbs below 9 are at least 0, so the top limb ends below 2^46.
        carry(&mut t, 4..9);
        // Fold limbs 5..9 (weight 2^260·2^52k) down with 2^260 ≡ R260 (below 2^37): limbs
        // 0..3 end below 2^56 + 2^52 + 2^37, limb 4 below 2^54. The high half of the top one
        // lands at 2^260 again (c5, below 2^31).
        let r = splat(R260);
        for k in 5..9 {
            t[k - 5] = _mm512_madd52lo_epu64(t[k - 5], t[k], r);
            t[k - 4] = _mm512_madd52hi_epu64(t[k - 4], t[k], r);
        }
        t[4] = _mm512_madd52lo_epu64(t[4], t[9], r);
        let c5 = _mm512_madd52hi_epu64(zero, t[9], r);
        carry(&mut t, 0..4);
        // Everything from 2^256 up (below 2^42) times 2^256 mod p.
        let top = _mm512_add_epi64(_mm512_srli_epi64::<48>(t[4]), _mm512_slli_epi64::<4>(c5));
        t[4] = _mm512_and_si512(t[4], splat(M48));
        let k = splat(K256);
        t[0] = _mm512_madd52lo_epu64(t[0], top, k);
        t[1] = _mm512_madd52hi_epu64(t[1], top, k);
        carry(&mut t, 0..4);
        Fe([t[0], t[1], t[2], t[3], t[4]])
    }

    /// `a²`: the 25 limb products of [`mul`] less the ten repeated ones (cross products are
    /// summed once and doubled).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn sqr(a: &Fe) -> Fe {
        #[cfg(debug_assertions)]
        assert!(store(a).iter().flatten().all(|l| *l < 1 << 52), "a limb too wide to multiply");
        let zero = _mm512_setzero_si512();
        let mut t = [zero; 10];
        for i in 0..5 {
            for j in i + 1..5 {
                t[i + j] = _mm512_madd52lo_epu64(t[i + j], a.0[i], a.0[j]);
                t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a.0[i], a.0[j]);
            }
        }
        for c in t.iter_mut() {
            *c = _mm512_add_epi64(*c, *c);
        }
        for i in 0..5 {
            t[2 * i] = _mm512_madd52lo_epu64(t[2 * i], a.0[i], a.0[i]);
            t[2 * i + 1] = _mm512_madd52hi_epu64(t[2 * i + 1], a.0[i], a.0[i]);
        }
        // At most nine 52-bit terms a column (four cross products doubled, one square).
        reduce(t)
    }

    /// `a^(2^n)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn sqr_n(a: &Fe, n: usize) -> Fe {
        let mut r = *a;
        for _ in 0..n {
            r = sqr(&r);
        }
        r
    }

    /// `1/a` (`0` for `0`): `a^(p−2)`, by libsecp256k1's addition chain (runs of ones of
    /// lengths 2, 3, 6, 9, 11, 22, 44, 88, 176, 220, 223): 255 squarings and 15 products.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn invert(a: &Fe) -> Fe {
        let x2 = mul(&sqr(a), a);
        let x3 = mul(&sqr(&x2), a);
        let x6 = mul(&sqr_n(&x3, 3), &x3);
        let x9 = mul(&sqr_n(&x6, 3), &x3);
        let x11 = mul(&sqr_n(&x9, 2), &x2);
        let x22 = mul(&sqr_n(&x11, 11), &x11);
        let x44 = mul(&sqr_n(&x22, 22), &x22);
        let x88 = mul(&sqr_n(&x44, 44), &x44);
        let x176 = mul(&sqr_n(&x88, 88), &x88);
        let x220 = mul(&sqr_n(&x176, 44), &x44);
        let x223 = mul(&sqr_n(&x220, 3), &x3);
        // p − 2 = 223 ones, 0, 22 ones, 0000, 1, 0, 11, 0, 1.
        let t = mul(&sqr_n(&x223, 23), &x22);
        let t = mul(&sqr_n(&t, 5), a);
        let t = mul(&sqr_n(&t, 3), &x2);
        mul(&sqr_n(&t, 2), a)
    }

    /// `P + Q` for an affine `Q` (madd-2004-hmv, a = 0: 8 products, 3 squares). Right when
    /// `P ≠ ±Q` and P is finite. When `P = ±Q` (H = 0) the result has `Z = 0`, and a zero Z
    /// stays zero through every later addition and doubling: such a lane ends unsure, never
    /// wrong ([`verdicts`]).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn madd(p: &Pt, q: &Aff) -> Pt {
        let zz = sqr(&p.z);
        let u2 = mul(&q.x, &zz);
        let s2 = mul(&q.y, &mul(&p.z, &zz));
        let h = sub(&u2, &p.x);
        let r = sub(&s2, &p.y);
        let hh = sqr(&h);
        let hhh = mul(&h, &hh);
        let v = mul(&p.x, &hh);
        let x = sub(&sub(&sqr(&r), &hhh), &add(&v, &v));
        let y = sub(&mul(&r, &sub(&v, &x)), &mul(&p.y, &hhh));
        Pt { x, y, z: mul(&p.z, &h) }
    }

    /// `2P` (a = 0: 3 products, 4 squares): `S = 4·X·Y²`, `M = 3·X²`, `X' = M² − 2S`,
    /// `Y' = M·(S − X') − 8·Y⁴`, `Z' = 2·Y·Z`. Right for every finite point of the curve (none
    /// has y = 0); `Z = 0` stays 0.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn jdbl(p: &Pt) -> Pt {
        let xx = sqr(&p.x);
        let yy = sqr(&p.y);
        let s = mul_small(&mul(&p.x, &yy), 4);
        let m = mul_small(&xx, 3);
        let x = sub(&sqr(&m), &add(&s, &s));
        let y = sub(&mul(&m, &sub(&s, &x)), &mul_small(&sqr(&yy), 8));
        Pt { x, y, z: mul_small(&mul(&p.y, &p.z), 2) }
    }

    /// `a` in the lanes clear in `mask`, `b` in those set.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn pick(mask: u8, a: &Fe, b: &Fe) -> Fe {
        Fe(core::array::from_fn(|k| _mm512_mask_blend_epi64(mask, a.0[k], b.0[k])))
    }

    /// A running sum: the point, and the lanes where it is still infinity (which Jacobian
    /// coordinates with incomplete formulas do not hold: their point is a placeholder).
    struct Acc {
        p: Pt,
        infinite: u8,
    }

    impl Acc {
        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn new() -> Acc {
            let one = constant([1, 0, 0, 0, 0]);
            Acc { p: Pt { x: one, y: one, z: one }, infinite: 0xFF }
        }

        /// Adds `q` in the lanes of `nonzero` (the others' digit is zero, their entry a
        /// placeholder): lanes still at infinity take `q`, the others `acc + q`.
        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn add(&mut self, q: &Aff, nonzero: u8) {
            if nonzero == 0 {
                return;
            }
            let s = madd(&self.p, q);
            let (from_s, from_q) = (nonzero & !self.infinite, nonzero & self.infinite);
            let one = constant([1, 0, 0, 0, 0]);
            self.p = Pt {
                x: pick(from_q, &pick(from_s, &self.p.x, &s.x), &q.x),
                y: pick(from_q, &pick(from_s, &self.p.y, &s.y), &q.y),
                z: pick(from_q, &pick(from_s, &self.p.z, &s.z), &one),
            };
            self.infinite &= !nonzero;
        }

        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn double(&mut self) {
            if self.infinite != 0xFF {
                self.p = jdbl(&self.p);
            }
        }
    }

    /// The affine forms of `points` (each lane's Z nonzero; a lane with a zero Z gets zeros
    /// throughout), with one inversion for all of them (Montgomery's trick).
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn batch_affine(points: &[Pt]) -> Vec<Aff> {
        let mut prefix = Vec::with_capacity(points.len());
        let mut all = constant([1, 0, 0, 0, 0]);
        for p in points {
            prefix.push(all);
            all = mul(&all, &p.z);
        }
        let mut inv = invert(&all);
        let zero = constant([0; 5]);
        let mut out = vec![Aff { x: zero, y: zero }; points.len()];
        for i in (0..points.len()).rev() {
            let zi = mul(&inv, &prefix[i]);
            inv = mul(&inv, &points[i].z);
            let zi2 = sqr(&zi);
            out[i] = Aff { x: mul(&points[i].x, &zi2), y: mul(&points[i].y, &mul(&zi2, &zi)) };
        }
        out
    }

    /// `0..15·b` for every lane's affine `b`, affine; entry 0 (infinity) is a placeholder,
    /// `b` again, never added (its digit is zero).
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn multiples(bases: &[Aff]) -> Vec<[Aff; 16]> {
        let mut jac = Vec::with_capacity(bases.len() * 14);
        for b in bases {
            let mut cur = jdbl(&Pt { x: b.x, y: b.y, z: constant([1, 0, 0, 0, 0]) });
            jac.push(cur);
            // e·b = (e−1)·b + b, never an addition of ±b to itself for 3 ≤ e ≤ 15.
            for _ in 3..16 {
                cur = madd(&cur, b);
                jac.push(cur);
            }
        }
        let aff = batch_affine(&jac);
        bases
            .iter()
            .zip(aff.chunks(14))
            .map(|(b, m)| core::array::from_fn(|e| if e < 2 { *b } else { m[e - 2] }))
            .collect()
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn load(l: &[[u64; 5]; LANES]) -> Fe {
        Fe(core::array::from_fn(|k| {
            let v: [u64; LANES] = core::array::from_fn(|lane| l[lane][k]);
            // SAFETY: eight u64 are 64 bytes; unaligned load.
            unsafe { _mm512_loadu_si512(v.as_ptr().cast()) }
        }))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    pub(super) fn store(f: &Fe) -> [[u64; 5]; LANES] {
        let mut out = [[0u64; 5]; LANES];
        for k in 0..5 {
            let mut v = [0u64; LANES];
            // SAFETY: eight u64 are 64 bytes; unaligned store.
            unsafe { _mm512_storeu_si512(v.as_mut_ptr().cast(), f.0[k]) };
            for (o, x) in out.iter_mut().zip(v) {
                o[k] = x;
            }
        }
        out
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn constant(l: [u64; 5]) -> Fe {
        Fe(core::array::from_fn(|k| splat(l[k])))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn put(table: &mut [u64; TABLE], entry: usize, p: &Aff) {
        for (c, f) in [&p.x, &p.y].into_iter().enumerate() {
            for k in 0..5 {
                let at = (entry * 10 + c * 5 + k) * LANES;
                // SAFETY: `at + 8 <= TABLE` for entry < 16; unaligned store.
                unsafe { _mm512_storeu_si512(table[at..at + LANES].as_mut_ptr().cast(), f.0[k]) };
            }
        }
    }

    /// Each lane's entry `entries[lane]` of a per-lane table.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn lookup(table: &[u64; TABLE], entries: &[u64; LANES]) -> Aff {
        let v: [u64; LANES] = core::array::from_fn(|lane| entries[lane] * 80 + lane as u64);
        // SAFETY: eight u64; unaligned load.
        let idx = unsafe { _mm512_loadu_si512(v.as_ptr().cast()) };
        let base = table.as_ptr() as *const i64;
        // SAFETY: entry e < 16, limb k < 10, lane < 8: (e·10 + k)·8 + lane < TABLE.
        let g = |k: usize| unsafe { _mm512_i64gather_epi64::<8>(idx, base.add(k * LANES)) };
        Aff { x: Fe(core::array::from_fn(g)), y: Fe(core::array::from_fn(|k| g(5 + k))) }
    }

    /// A shared table's entries `0..255·b` (entry 0 zeros, never added): x, β·x and y of each,
    /// one copy (every lane gathers from the same table). Built with `k256`.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn shared_table(b: &k256::ProjectivePoint) -> Box<[u64; G_TABLE]> {
        use k256::elliptic_curve::sec1::ToEncodedPoint;
        let mut t = Box::new([0u64; G_TABLE]);
        let beta = constant(limbs(&BETA));
        let mut p = *b;
        for e in 1..G_ENTRIES {
            let a = p.to_affine().to_encoded_point(false);
            let (x, y) = (limbs(&words(a.x().expect("finite"))), limbs(&words(a.y().expect("finite"))));
            let bx = store(&mul(&constant(x), &beta))[0];
            for (c, l) in [x, bx, y].into_iter().enumerate() {
                t[e * 15 + c * 5..e * 15 + c * 5 + 5].copy_from_slice(&l);
            }
            p += b;
        }
        t
    }

    /// The shared tables `0..255·G` and `0..255·2^128·G`: u1's halves go in a byte at a time.
    fn g_tables() -> &'static [Box<[u64; G_TABLE]>; 2] {
        static G: OnceLock<[Box<[u64; G_TABLE]>; 2]> = OnceLock::new();
        G.get_or_init(|| {
            let g = k256::ProjectivePoint::GENERATOR;
            let g128 = (0..128).fold(g, |p, _| p.double());
            // SAFETY: only reached from `run`, which requires the instructions.
            unsafe { [shared_table(&g), shared_table(&g128)] }
        })
    }

    /// The lanes whose digit is nonzero.
    fn nonzero(digits: &[u64; LANES]) -> u8 {
        digits.iter().enumerate().fold(0, |m, (lane, &d)| m | ((d != 0) as u8) << lane)
    }

    /// Byte `j` (0 = least significant) of each lane's 128-bit big-endian scalar.
    fn bytes(s: &[[u8; 16]; LANES], j: usize) -> [u64; LANES] {
        core::array::from_fn(|lane| u64::from(s[lane][15 - j]))
    }

    /// Nibble `w` (0 = least significant) of each lane's 128-bit big-endian scalar.
    fn nibbles(s: &[[u8; 16]; LANES], w: usize) -> [u64; LANES] {
        core::array::from_fn(|lane| {
            let byte = s[lane][15 - w / 2];
            u64::from(if w.is_multiple_of(2) { byte & 15 } else { byte >> 4 })
        })
    }

    /// `−a` in the lanes set in `mask`, `a` in the others.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn neg_where(mask: u8, a: &Fe) -> Fe {
        if mask == 0 {
            return *a;
        }
        pick(mask, a, &sub(&constant([0; 5]), a))
    }

    /// β, the cube root of unity of the endomorphism.
    const BETA: [u64; 4] =
        [0xC139_6C28_7195_01EE, 0x9CF0_4975_12F5_8995, 0x6E64_479E_AC34_34E9, 0x7AE9_6A2B_657C_0710];

    /// `u1·G + u2·P` for every lane: u1 = lo + hi·2^128 against G and 2^128·G, a byte at a
    /// time; u2 = ±k1 ± k2·λ against ±P and ±λP, a nibble at a time, whose affine table is that
    /// of ±P with x times β. 128-bit scalars: 124 doublings and 96 additions.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn double_mul(lanes: &Lanes) -> Acc {
        let p = Aff { x: load(&lanes.px), y: neg_where(lanes.neg1, &load(&lanes.py)) };
        let ps = multiples(&[p]).pop().expect("one base");
        let mut t1 = Box::new([0u64; TABLE]);
        let mut t2 = Box::new([0u64; TABLE]);
        let beta = constant(limbs(&BETA));
        for (e, q) in ps.iter().enumerate() {
            put(&mut t1, e, q);
            put(&mut t2, e, &Aff { x: mul(&q.x, &beta), y: neg_where(lanes.neg1 ^ lanes.neg2, &q.y) });
        }
        let [tg, tg128] = g_tables();
        let mut acc = Acc::new();
        for w in (0..32).rev() {
            if w != 31 {
                for _ in 0..4 {
                    acc.double();
                }
            }
            for (t, k) in [(&t1, &lanes.k1), (&t2, &lanes.k2)] {
                let d = nibbles(k, w);
                acc.add(&lookup(t, &d), nonzero(&d));
            }
            // Byte j is worth 2^(8j): it goes in where 8j doublings remain, at nibble w = 2j.
            if w % 2 == 0 {
                for (t, half) in [(tg, &lanes.g_lo), (tg128, &lanes.g_hi)] {
                    let l = Lookup::shared(t, &bytes(half, w / 2), false, 0);
                    acc.add(&gather(&l), l.nonzero);
                }
            }
        }
        acc
    }

    /// Each lane's verdict: P on the curve, R = u1·G + u2·P not infinity, x(R) ≡ r (mod n);
    /// `None` where an addition met its own operand or its negation (see [`madd`]).
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, DQ and IFMA.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    pub(super) unsafe fn run(lanes: &Lanes) -> [Option<bool>; LANES] {
        let on_curve = on_curve(&lanes.px, &lanes.py);
        verdicts(&double_mul(lanes), &lanes.r, &lanes.r_plus_n, on_curve)
    }

    /// Whether each lane's `(x, y)` is a point of the curve: `y² = x³ + 7`.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn on_curve(px: &[[u64; 5]; LANES], py: &[[u64; 5]; LANES]) -> [bool; LANES] {
        let (x, y) = (load(px), load(py));
        let lhs = store(&sqr(&y));
        let rhs = store(&add(&mul(&sqr(&x), &x), &constant([7, 0, 0, 0, 0])));
        core::array::from_fn(|lane| canonical(&lhs[lane]) == canonical(&rhs[lane]))
    }

    /// Each lane's verdict on `R`: P on the curve (`on_curve`), R not infinity, and
    /// x(R) ≡ r (mod n), compared without inverting (`X == r·Z²`, or `X == (r+n)·Z²` when
    /// `r + n < p`), as libsecp256k1 does. `None` for a lane whose Z became zero while its
    /// sum was finite: an addition of a point to itself or its negation, which [`madd`] does
    /// not compute; the caller asks libsecp256k1.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn verdicts(
        r: &Acc,
        rs: &[[u64; 5]; LANES],
        r_plus_n: &[Option<[u64; 5]>; LANES],
        on_curve: [bool; LANES],
    ) -> [Option<bool>; LANES] {
        let zz = sqr(&r.p.z);
        let rz = store(&mul(&load(rs), &zz));
        let rnz = store(&mul(&load(&r_plus_n.map(|v| v.unwrap_or([0; 5]))), &zz));
        let (rx, z) = (store(&r.p.x), store(&r.p.z));
        core::array::from_fn(|lane| {
            if !on_curve[lane] || r.infinite >> lane & 1 == 1 {
                return Some(false);
            }
            if canonical(&z[lane]) == [0; 4] {
                return None;
            }
            let x = canonical(&rx[lane]);
            Some(x == canonical(&rz[lane]) || (r_plus_n[lane].is_some() && x == canonical(&rnz[lane])))
        })
    }

    /// The key tables of up to eight affine points, one per lane (`n` lanes used): entry `e` of
    /// chunk `j` is `e·2^(32j)·P` ([`KeyTable`]). `None` for a point that is not on the curve.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, DQ and IFMA.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    pub(super) unsafe fn build_key_tables(
        px: &[[u64; 5]; LANES],
        py: &[[u64; 5]; LANES],
        n: usize,
    ) -> Vec<Option<KeyTable>> {
        let on_curve = on_curve(px, py);
        let mut out: Vec<Option<KeyTable>> =
            on_curve[..n].iter().map(|&ok| ok.then(KeyTable::zeroed)).collect();
        // Keys off the curve (sent again and again, say) cost the check and nothing more.
        if out.iter().all(Option::is_none) {
            return out;
        }
        // The chunks' bases 2^(32j)·P, then their multiples, each set with one inversion.
        let p = Aff { x: load(px), y: load(py) };
        let mut doubled = Vec::with_capacity(KEY_CHUNKS - 1);
        let mut b = Pt { x: p.x, y: p.y, z: constant([1, 0, 0, 0, 0]) };
        for _ in 1..KEY_CHUNKS {
            for _ in 0..CHUNK_BITS {
                b = jdbl(&b);
            }
            doubled.push(b);
        }
        let mut bases = vec![p];
        bases.extend(batch_affine(&doubled));
        let beta = constant(limbs(&BETA));
        for (j, entries) in multiples(&bases).iter().enumerate() {
            for (e, q) in entries.iter().enumerate() {
                let (x, bx, y) = (store(&q.x), store(&mul(&q.x, &beta)), store(&q.y));
                for (lane, table) in out.iter_mut().enumerate() {
                    let Some(table) = table else { continue };
                    let at = (j * 16 + e) * 15;
                    table.0[at..at + 5].copy_from_slice(&x[lane]);
                    table.0[at + 5..at + 10].copy_from_slice(&bx[lane]);
                    table.0[at + 10..at + 15].copy_from_slice(&y[lane]);
                }
            }
        }
        out
    }

    /// The shared tables `0..255·2^(32i)·G` for `i < 4`: with u1 split by the endomorphism
    /// into two halves below 2^128, each half goes in a byte of each 32-bit chunk at a time.
    fn g_tables_32() -> &'static [Box<[u64; G_TABLE]>; KEY_CHUNKS] {
        static G: OnceLock<[Box<[u64; G_TABLE]>; KEY_CHUNKS]> = OnceLock::new();
        G.get_or_init(|| {
            let mut b = k256::ProjectivePoint::GENERATOR;
            core::array::from_fn(|i| {
                if i > 0 {
                    b = (0..CHUNK_BITS).fold(b, |p, _| p.double());
                }
                // SAFETY: only reached from `run_keyed`, which requires the instructions.
                unsafe { shared_table(&b) }
            })
        })
    }

    /// One table lookup in a key table or a shared G table: every lane's entry, as a word offset
    /// from `base` (an entry is 15 words: x, β·x, y), and what to do with it.
    struct Lookup {
        base: *const u64,
        at: [i64; LANES],
        /// (β·x, y) instead of (x, y).
        beta: bool,
        /// Lanes whose y is negated.
        neg: u8,
        /// Lanes whose digit is nonzero (the others' entry is a placeholder).
        nonzero: u8,
        /// Four doublings come before this lookup's addition.
        double_first: bool,
    }

    impl Lookup {
        /// Entries `digits[lane]` of a shared table (G's multiples), read as (β·x, y) with
        /// `beta` and y negated in the lanes of `neg`.
        fn shared(table: &[u64; G_TABLE], digits: &[u64; LANES], beta: bool, neg: u8) -> Lookup {
            let at = core::array::from_fn(|lane| digits[lane] as i64 * 15);
            Lookup { base: table.as_ptr(), at, beta, neg, nonzero: nonzero(digits), double_first: false }
        }
    }

    /// The lookup's entries.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn gather(l: &Lookup) -> Aff {
        // SAFETY: eight i64; unaligned load.
        let idx = unsafe { _mm512_loadu_si512(l.at.as_ptr().cast()) };
        let x0 = if l.beta { 5 } else { 0 };
        // SAFETY: each lane reads words `at[lane] + k` for k < 15: its own entry, inside its
        // table (a key table's entry is below KEY_CHUNKS·16 ([`lookups`]), a shared table's
        // below 256, a byte). `base.add(k)` stays inside the table at `base`.
        let g = |k: usize| unsafe { _mm512_i64gather_epi64::<8>(idx, (l.base as *const i64).add(k)) };
        Aff {
            x: Fe(core::array::from_fn(|k| g(x0 + k))),
            y: neg_where(l.neg, &Fe(core::array::from_fn(|k| g(10 + k)))),
        }
    }

    /// Asks for the lookup's entries (120 bytes a lane: up to three cache lines) ahead of their
    /// use: a lookup's first gather waited for memory in about half of the lanes' own time at
    /// 50,000/s, when the other threads had pushed the tables out of the caches.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn prefetch(l: &Lookup) {
        for &at in &l.at {
            let p = l.base.wrapping_offset(at as isize) as *const i8;
            for line in [0, 64, 119] {
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(line));
            }
        }
    }

    /// Nibble `8j + step` of each lane's 128-bit scalar (in chunk `j`), and its entry in a key
    /// table, `16·j + nibble`.
    fn chunk_entries(s: &[[u8; 16]; LANES], j: usize, step: usize) -> ([u64; LANES], u8) {
        let n = nibbles(s, 8 * j + step);
        (core::array::from_fn(|lane| (16 * j) as u64 + n[lane]), nonzero(&n))
    }

    /// `u1·G + u2·P` with every lane's P from its [`KeyTable`]: u2 = ±k1 ± k2·λ and
    /// u1 = ±a1 ± a2·λ, each half below 2^128 in four 32-bit chunks. P's chunks go in a nibble
    /// at a time and G's a byte at a time, all chunks at once: 28 doublings and 96 additions,
    /// against 124 and 96 (plus a table of P built for each check) without the key's table.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    fn double_mul_keyed(lanes: &KeyedLanes<'_>) -> Acc {
        let plan = lookups(lanes);
        // Far enough ahead for memory to answer during an addition or two.
        const AHEAD: usize = 2;
        for l in plan.iter().take(AHEAD) {
            prefetch(l);
        }
        let mut acc = Acc::new();
        for (n, l) in plan.iter().enumerate() {
            if let Some(next) = plan.get(n + AHEAD) {
                prefetch(next);
            }
            if l.double_first {
                for _ in 0..4 {
                    acc.double();
                }
            }
            if l.nonzero != 0 {
                acc.add(&gather(l), l.nonzero);
            }
        }
        acc
    }

    /// The 96 lookups of a keyed check, in order.
    fn lookups(lanes: &KeyedLanes<'_>) -> Vec<Lookup> {
        let base = lanes.tables[0].0.as_ptr();
        let offsets: [i64; LANES] =
            core::array::from_fn(|i| (lanes.tables[i].0.as_ptr() as i64 - base as i64) / 8);
        let tg = g_tables_32();
        let mut plan = Vec::with_capacity(96);
        for step in (0..CHUNK_BITS / 4).rev() {
            let mut double_first = step != CHUNK_BITS / 4 - 1;
            for j in 0..KEY_CHUNKS {
                for (k, beta, neg) in [(&lanes.k1, false, lanes.neg1), (&lanes.k2, true, lanes.neg2)] {
                    let (entries, nonzero) = chunk_entries(k, j, step);
                    // Lane i's table starts `offsets[i]` words from lane 0's.
                    let at = core::array::from_fn(|lane| offsets[lane] + entries[lane] as i64 * 15);
                    plan.push(Lookup { base, at, beta, neg, nonzero, double_first });
                    double_first = false;
                }
            }
            // Byte b of a chunk is worth 2^(8b) there: it goes in where 8b doublings remain.
            if step % 2 == 0 {
                for (i, t) in tg.iter().enumerate() {
                    for (a, beta, neg) in [(&lanes.a1, false, lanes.nega1), (&lanes.a2, true, lanes.nega2)] {
                        plan.push(Lookup::shared(t, &bytes(a, 4 * i + step / 2), beta, neg));
                    }
                }
            }
        }
        plan
    }

    /// Each lane's verdict, with P from its key table (on the curve: tables are built only for
    /// points that are); `None` as in [`run`].
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, DQ and IFMA.
    #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
    pub(super) unsafe fn run_keyed(lanes: &KeyedLanes<'_>) -> [Option<bool>; LANES] {
        verdicts(&double_mul_keyed(lanes), &lanes.r, &lanes.r_plus_n, [true; LANES])
    }

    #[cfg(test)]
    pub(super) mod testing {
        use super::*;

        /// Eight field products through the vector multiplier.
        pub fn mul8(a: &[[u64; 5]; LANES], b: &[[u64; 5]; LANES]) -> [[u64; 5]; LANES] {
            // SAFETY: tests call this only where `available()`.
            unsafe { mul_store(a, b) }
        }

        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn mul_store(a: &[[u64; 5]; LANES], b: &[[u64; 5]; LANES]) -> [[u64; 5]; LANES] {
            store(&mul(&load(a), &load(b)))
        }

        /// Eight squares and eight inverses.
        pub fn sqr_inv8(a: &[[u64; 5]; LANES]) -> ([[u64; 5]; LANES], [[u64; 5]; LANES]) {
            // SAFETY: tests call this only where `available()`.
            unsafe { sqr_inv_store(a) }
        }

        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn sqr_inv_store(a: &[[u64; 5]; LANES]) -> ([[u64; 5]; LANES], [[u64; 5]; LANES]) {
            (store(&sqr(&load(a))), store(&invert(&load(a))))
        }

        /// Jacobian `(X, Y, Z)` of `u1·G + u2·P` per lane (Z = 0 for infinity, and for a lane
        /// where an addition met its own operand).
        pub fn double_mul_jacobian(
            px: &[[u64; 5]; LANES],
            py: &[[u64; 5]; LANES],
            u1: &[Scalar; LANES],
            u2: &[Scalar; LANES],
        ) -> [([u64; 5], [u64; 5], [u64; 5]); LANES] {
            let mut lanes = Lanes::dummy();
            lanes.px = *px;
            lanes.py = *py;
            for i in 0..LANES {
                assert!(lanes.set_scalars(i, &u1[i], &u2[i]), "u2 splits");
            }
            // SAFETY: tests call this only where `available()`.
            unsafe { dm(&lanes) }
        }

        /// The same through key tables built for each lane's P.
        pub fn double_mul_keyed_jacobian(
            px: &[[u64; 5]; LANES],
            py: &[[u64; 5]; LANES],
            u1: &[Scalar; LANES],
            u2: &[Scalar; LANES],
        ) -> [([u64; 5], [u64; 5], [u64; 5]); LANES] {
            // SAFETY: tests call this only where `available()`.
            let tables: Vec<KeyTable> = unsafe { build_key_tables(px, py, LANES) }
                .into_iter()
                .map(|t| t.expect("points on the curve"))
                .collect();
            let mut lanes = KeyedLanes::filler(&tables[0]);
            for i in 0..LANES {
                let p = Parsed {
                    r: Scalar::ONE,
                    s: Scalar::ONE,
                    z: Scalar::ONE,
                    px: px[i],
                    py: py[i],
                    r_fe: [0; 5],
                    r_plus_n: None,
                };
                assert!(lanes.set(i, &tables[i], &p, &u1[i], &u2[i]), "scalars split");
            }
            // SAFETY: as above.
            unsafe { dmk(&lanes) }
        }

        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn jacobian(acc: &Acc) -> [([u64; 5], [u64; 5], [u64; 5]); LANES] {
            let z = pick(acc.infinite, &acc.p.z, &constant([0; 5]));
            let (x, y, z) = (store(&acc.p.x), store(&acc.p.y), store(&z));
            core::array::from_fn(|i| (x[i], y[i], z[i]))
        }

        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn dmk(lanes: &KeyedLanes<'_>) -> [([u64; 5], [u64; 5], [u64; 5]); LANES] {
            jacobian(&double_mul_keyed(lanes))
        }

        #[target_feature(enable = "avx512f,avx512dq,avx512ifma")]
        fn dm(lanes: &Lanes) -> [([u64; 5], [u64; 5], [u64; 5]); LANES] {
            jacobian(&double_mul(lanes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::{Message, PublicKey, SecretKey, SECP256K1};

    /// A deterministic stream of bytes for test inputs.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes32(&mut self) -> [u8; 32] {
            let mut b = [0u8; 32];
            for c in b.chunks_mut(8) {
                c.copy_from_slice(&self.next().to_le_bytes());
            }
            b
        }
    }

    fn signed(rng: &mut Rng) -> ([u8; 64], [u8; 32], [u8; 64]) {
        let sk = loop {
            if let Ok(k) = SecretKey::from_byte_array(rng.bytes32()) {
                break k;
            }
        };
        let pk = PublicKey::from_secret_key(SECP256K1, &sk).serialize_uncompressed();
        let hash = rng.bytes32();
        let sig = SECP256K1.sign_ecdsa(Message::from_digest(hash), &sk).serialize_compact();
        (pk[1..].try_into().unwrap(), hash, sig)
    }

    fn skip() -> bool {
        if !available() {
            eprintln!("this CPU lacks AVX-512 IFMA: secp_x8 is not exercised here");
            return true;
        }
        false
    }

    #[test]
    fn field_products_match_u256_arithmetic() {
        if skip() {
            return;
        }
        let mut rng = Rng(0x5eed);
        for round in 0..200 {
            let mut a = [[0u64; 5]; LANES];
            let mut b = [[0u64; 5]; LANES];
            let mut want = [[0u64; 4]; LANES];
            for lane in 0..LANES {
                // Values below p, plus edge values: 0, 1, p−1 and limbs at their bounds.
                let pick = |rng: &mut Rng, which: u64| -> [u64; 4] {
                    match which {
                        0 => [0; 4],
                        1 => [1, 0, 0, 0],
                        2 => [P[0] - 1, P[1], P[2], P[3]],
                        _ => canonical(&limbs(&words(&rng.bytes32()))),
                    }
                };
                let (x, y) = (pick(&mut rng, (round + lane as u64) % 7), pick(&mut rng, round % 5));
                a[lane] = limbs(&x);
                b[lane] = limbs(&y);
                want[lane] = mulmod(&x, &y);
            }
            let got = simd::testing::mul8(&a, &b);
            for lane in 0..LANES {
                assert!(got[lane][..4].iter().all(|l| *l < 1 << 52) && got[lane][4] <= 1 << 48);
                assert_eq!(canonical(&got[lane]), want[lane], "round {round} lane {lane}");
            }
        }
    }

    /// `a·b mod p` by schoolbook words (the test's reference).
    fn mulmod(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        let t = mul_wide(a, b);
        const K: u128 = 0x1_0000_03D1;
        let mut r = [0u64; 4];
        let mut carry = 0u128;
        for i in 0..4 {
            let x = t[i] as u128 + t[i + 4] as u128 * K + carry;
            r[i] = x as u64;
            carry = x >> 64;
        }
        // carry < 2^35: fold it once more; a last carry out is folded as 2^256 ≡ K.
        while carry > 0 {
            let mut c = carry * K;
            for word in r.iter_mut() {
                let x = *word as u128 + c;
                *word = x as u64;
                c = x >> 64;
            }
            carry = c;
        }
        while !less(&r, &P) {
            let mut borrow = false;
            for k in 0..4 {
                let (d1, b1) = r[k].overflowing_sub(P[k]);
                let (d2, b2) = d1.overflowing_sub(borrow as u64);
                r[k] = d2;
                borrow = b1 || b2;
            }
        }
        r
    }

    #[test]
    fn field_squares_and_inverses_match_u256_arithmetic() {
        if skip() {
            return;
        }
        let mut rng = Rng(0x5e1f);
        let one = [1, 0, 0, 0];
        for round in 0..100u64 {
            let a: [[u64; 5]; LANES] = core::array::from_fn(|lane| match (round + lane as u64) % 9 {
                0 => [0; 5],
                1 => limbs(&one),
                2 => limbs(&[P[0] - 1, P[1], P[2], P[3]]),
                // Not canonical: every limb at its bound (the value is above p).
                3 => [(1 << 52) - 1, (1 << 52) - 1, (1 << 52) - 1, (1 << 52) - 1, 1 << 48],
                _ => limbs(&words(&rng.bytes32())),
            });
            let (sq, inv) = simd::testing::sqr_inv8(&a);
            for lane in 0..LANES {
                let x = canonical(&a[lane]);
                assert!(sq[lane][..4].iter().all(|l| *l < 1 << 52) && sq[lane][4] <= 1 << 48);
                assert_eq!(canonical(&sq[lane]), mulmod(&x, &x), "square, round {round} lane {lane}");
                let want = if x == [0; 4] { [0; 4] } else { one };
                assert_eq!(mulmod(&canonical(&inv[lane]), &x), want, "inverse, round {round} lane {lane}");
            }
        }
    }

    #[test]
    fn an_addition_of_a_point_to_itself_is_checked_by_libsecp256k1() {
        use k256::elliptic_curve::sec1::ToEncodedPoint;
        use k256::ProjectivePoint;
        if skip() {
            return;
        }
        // Key 1 (P = G) and u1 = u2 = 5: both scalars' only digit is 5, in the same place, so
        // the sum meets 5·G + 5·G, which the lanes' addition does not compute. R = 10·G.
        let u = Scalar::from(5u64);
        let gen = ProjectivePoint::GENERATOR.to_affine().to_encoded_point(false);
        let rx = (ProjectivePoint::GENERATOR * (u + u)).to_affine().to_encoded_point(false);
        let r = <Scalar as Reduce<U256>>::reduce_bytes(rx.x().unwrap());
        // u2 = r/s = u and u1 = z/s = u; a high s is negated, which negates both.
        let s = r * u.invert().unwrap();
        let z = u * s;
        let s = if bool::from(s.is_high()) { -s } else { s };
        let mut pubkey = [0u8; 64];
        pubkey[..32].copy_from_slice(gen.x().unwrap());
        pubkey[32..].copy_from_slice(gen.y().unwrap());
        let prehash: [u8; 32] = z.to_bytes().into();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r.to_bytes());
        sig[32..].copy_from_slice(&s.to_bytes());
        let mut wrong = prehash;
        wrong[31] ^= 1;
        let good = Item { pubkey: &pubkey, prehash: &prehash, sig: &sig };
        let bad = Item { pubkey: &pubkey, prehash: &wrong, sig: &sig };
        assert!(libsecp256k1(&good) && !libsecp256k1(&bad));
        assert!(verify_many(&[good; LANES]).iter().all(|&v| v), "lanes without key tables");
        assert!(verify_many(&[bad; LANES]).iter().all(|&v| !v));
        let mut verifier = Verifier::new(4);
        for round in 0..3 {
            assert!(verifier.verify(&[good; LANES]).iter().all(|&v| v), "round {round}");
            assert!(verifier.verify(&[bad; LANES]).iter().all(|&v| !v), "round {round}");
        }
        // The key got its table in the second round, and its lanes were all unsure after.
        assert_eq!(verifier.counts().tables_built, 1);
        assert_eq!(verifier.counts().unsure, 16);
    }

    #[test]
    fn double_scalar_multiples_with_and_without_key_tables_match_k256() {
        use k256::elliptic_curve::sec1::ToEncodedPoint;
        use k256::{ProjectivePoint, Scalar};
        if skip() {
            return;
        }
        let mut rng = Rng(42);
        for round in 0..20 {
            let mut px = [[0u64; 5]; LANES];
            let mut py = [[0u64; 5]; LANES];
            let mut u1 = [Scalar::ZERO; LANES];
            let mut u2 = [Scalar::ZERO; LANES];
            let mut want = Vec::new();
            for lane in 0..LANES {
                let d = <Scalar as Reduce<U256>>::reduce_bytes(&rng.bytes32().into());
                let p = (ProjectivePoint::GENERATOR * d).to_affine();
                let enc = p.to_encoded_point(false);
                px[lane] = limbs(&words(enc.x().unwrap()));
                py[lane] = limbs(&words(enc.y().unwrap()));
                // Small, zero and full-size scalars; lane 7 of round 0 makes u1·G = −u2·P.
                let (a, b) = match (round, lane) {
                    (0, 0) => (Scalar::ZERO, Scalar::ZERO),
                    (0, 1) => (Scalar::ONE, Scalar::ZERO),
                    (0, 2) => (Scalar::ZERO, Scalar::ONE),
                    (0, 3) => (-Scalar::ONE, -Scalar::ONE),
                    (0, 7) => (-d, Scalar::ONE),
                    _ => (
                        <Scalar as Reduce<U256>>::reduce_bytes(&rng.bytes32().into()),
                        <Scalar as Reduce<U256>>::reduce_bytes(&rng.bytes32().into()),
                    ),
                };
                u1[lane] = a;
                u2[lane] = b;
                let r = ProjectivePoint::GENERATOR * a + ProjectivePoint::from(p) * b;
                want.push(r.to_affine().to_encoded_point(false));
            }
            let plain = simd::testing::double_mul_jacobian(&px, &py, &u1, &u2);
            let keyed = simd::testing::double_mul_keyed_jacobian(&px, &py, &u1, &u2);
            for (lane, got) in (0..LANES).flat_map(|lane| [(lane, &plain), (lane, &keyed)]) {
                let (x, y, z) = &got[lane];
                let z = canonical(z);
                if want[lane].is_identity() {
                    assert_eq!(z, [0; 4], "round {round} lane {lane}: infinity");
                    continue;
                }
                assert_ne!(z, [0; 4], "round {round} lane {lane}: finite");
                // Jacobian (X, Y, Z) is the affine (x, y) when X = x·Z² and Y = y·Z³.
                let (ax, ay) = (words(want[lane].x().unwrap()), words(want[lane].y().unwrap()));
                let zz = mulmod(&z, &z);
                assert_eq!(canonical(x), mulmod(&ax, &zz), "x {round}/{lane}");
                assert_eq!(canonical(y), mulmod(&ay, &mulmod(&zz, &z)), "y {round}/{lane}");
            }
        }
    }

    #[test]
    fn scalars_split_into_halves_below_2_128() {
        let lambda = -glv().minus_lambda;
        let mut rng = Rng(3);
        let mut ks: Vec<Scalar> = vec![Scalar::ZERO, Scalar::ONE, -Scalar::ONE, lambda, -lambda];
        ks.extend((0..2_000).map(|_| <Scalar as Reduce<U256>>::reduce_bytes(&rng.bytes32().into())));
        for k in ks {
            let (k1, k2) = split(&k);
            assert_eq!(k1 + k2 * lambda, k);
            assert!(magnitude(&k1).is_some() && magnitude(&k2).is_some(), "{k:?}");
        }
        // λ is a cube root of unity: the endomorphism's scalar.
        assert_eq!(lambda * lambda * lambda, Scalar::ONE);
    }

    /// Runs `items` through [`verify`] in groups of 1..=8 and compares with libsecp256k1.
    fn agree(items: &[([u8; 64], [u8; 32], [u8; 64])]) -> usize {
        let mut valid = 0;
        let mut at = 0;
        let mut size = 1;
        while at < items.len() {
            let group: Vec<Item<'_>> = items[at..(at + size).min(items.len())]
                .iter()
                .map(|(pubkey, prehash, sig)| Item { pubkey, prehash, sig })
                .collect();
            let got = verify(&group);
            for (i, item) in group.iter().enumerate() {
                let want = libsecp256k1(item);
                assert_eq!(got[i], want, "item {} ({:?})", at + i, item);
                valid += want as usize;
            }
            at += group.len();
            size = size % LANES + 1;
        }
        // The same items through `verify_many`, in runs of other lengths (one inversion each).
        let mut at = 0;
        for size in [1, 5, 8, 9, 16, 23, 40].into_iter().cycle() {
            if at >= items.len() {
                break;
            }
            let run: Vec<Item<'_>> = items[at..(at + size).min(items.len())]
                .iter()
                .map(|(pubkey, prehash, sig)| Item { pubkey, prehash, sig })
                .collect();
            let got = verify_many(&run);
            assert_eq!(got.len(), run.len());
            for (i, item) in run.iter().enumerate() {
                assert_eq!(got[i], libsecp256k1(item), "item {} of a run of {size} ({:?})", at + i, item);
            }
            at += run.len();
        }
        // Through verifiers that keep key tables: the first pass sees every key once, the
        // later ones check with the tables of the keys seen before. One with room for two
        // tables evicts all the time.
        let all: Vec<Item<'_>> =
            items.iter().map(|(pubkey, prehash, sig)| Item { pubkey, prehash, sig }).collect();
        let want: Vec<bool> = all.iter().map(libsecp256k1).collect();
        for capacity in [DEFAULT_KEY_TABLES, 2] {
            let mut v = Verifier::new(capacity);
            for pass in 0..3 {
                let mut at = 0;
                for size in [1, 2, 3, 8, 9, 17, 40, 64].into_iter().cycle() {
                    if at >= all.len() {
                        break;
                    }
                    let run = &all[at..(at + size).min(all.len())];
                    assert_eq!(v.verify(run), want[at..at + run.len()], "pass {pass}, capacity {capacity}");
                    at += run.len();
                }
                assert!(v.tables() <= capacity);
            }
            let c = v.counts();
            assert_eq!(
                c.keyed + c.lanes + c.one_by_one,
                3 * all.iter().filter(|i| parse(i).is_some()).count() as u64
            );
            if capacity == DEFAULT_KEY_TABLES && valid > 0 {
                assert!(c.keyed > 0 && c.tables_built > 0, "{c:?}");
            }
        }
        valid
    }

    #[test]
    fn batched_inverses_match_single_ones() {
        let mut rng = Rng(5);
        let s: Vec<Scalar> = (0..19)
            .map(|_| {
                <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&rng.bytes32())) + Scalar::ONE
            })
            .collect();
        for n in 0..=s.len() {
            let got = inverses(&s[..n]);
            assert_eq!(got.len(), n);
            for (x, w) in s.iter().zip(&got) {
                assert_eq!(*x * w, Scalar::ONE);
                assert_eq!(*w, Option::<Scalar>::from(x.invert()).unwrap());
            }
        }
    }

    #[test]
    fn agrees_with_libsecp256k1_on_valid_and_corrupted_signatures() {
        if skip() {
            return;
        }
        let mut rng = Rng(7);
        let mut items = Vec::new();
        for i in 0..400 {
            let (mut pk, mut hash, mut sig) = signed(&mut rng);
            match i % 8 {
                0..=2 => {}
                3 => hash[(i / 8) % 32] ^= 1 << (i % 8),
                4 => sig[(i / 8) % 64] ^= 1 << (i % 8),
                5 => pk[(i / 8) % 64] ^= 1 << (i % 8), // almost always off the curve
                6 => {
                    // Another key's valid point: on the curve, wrong key.
                    pk = signed(&mut rng).0;
                }
                _ => {
                    // High s: n − s verifies mathematically but is refused by the low-s rule.
                    let s = Scalar::from_repr(*FieldBytes::from_slice(&sig[32..])).unwrap();
                    sig[32..].copy_from_slice(&(-s).to_bytes());
                }
            }
            items.push((pk, hash, sig));
        }
        let valid = agree(&items);
        assert_eq!(valid, 150, "three in eight are left valid");
    }

    #[test]
    fn agrees_with_libsecp256k1_on_out_of_range_values() {
        if skip() {
            return;
        }
        let mut rng = Rng(99);
        let be = |w: [u64; 4]| -> [u8; 32] {
            let mut b = [0u8; 32];
            for i in 0..4 {
                b[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&w[i].to_be_bytes());
            }
            b
        };
        let n = be(N);
        let p = be(P);
        let mut items = Vec::new();
        for case in 0..10 {
            let (mut pk, hash, mut sig) = signed(&mut rng);
            match case {
                0 => sig[..32].fill(0),             // r = 0
                1 => sig[32..].fill(0),             // s = 0
                2 => sig[..32].copy_from_slice(&n), // r = n
                3 => sig[32..].copy_from_slice(&n), // s = n
                4 => sig[..32].fill(0xff),          // r > n
                5 => pk[..32].copy_from_slice(&p),  // x = p
                6 => pk[32..].copy_from_slice(&p),  // y = p
                7 => pk.fill(0),                    // (0, 0): not on the curve
                8 => {
                    // y replaced by p − y: still on the curve (−P), so the signature fails.
                    let y = words(&pk[32..]);
                    let mut neg = [0u64; 4];
                    let mut borrow = false;
                    for k in 0..4 {
                        let (d1, b1) = P[k].overflowing_sub(y[k]);
                        let (d2, b2) = d1.overflowing_sub(borrow as u64);
                        neg[k] = d2;
                        borrow = b1 || b2;
                    }
                    pk[32..].copy_from_slice(&be(neg));
                }
                _ => {}
            }
            items.push((pk, hash, sig));
        }
        assert_eq!(agree(&items), 1);
    }

    /// A signature whose R has x ≥ n, so that r = x − n and only the `r + n` comparison
    /// accepts it (libsecp256k1 does the same); built with a key chosen to fit
    /// (P = (s·R − z·G)/r).
    #[test]
    fn accepts_r_whose_point_has_x_above_n() {
        use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
        use k256::{AffinePoint, EncodedPoint, ProjectivePoint};
        if skip() {
            return;
        }
        let mut found = Vec::new();
        // x = n + k for small k: find ones that are on the curve.
        for k in 1u64..200 {
            let x = add_words(&N, &[k, 0, 0, 0]).unwrap();
            let mut xb = [0u8; 33];
            xb[0] = 2;
            for i in 0..4 {
                xb[1 + 32 - 8 * (i + 1)..1 + 32 - 8 * i].copy_from_slice(&x[i].to_be_bytes());
            }
            let Ok(enc) = EncodedPoint::from_bytes(xb) else { continue };
            let Some(r_point) = Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&enc)) else {
                continue;
            };
            let r = Scalar::from(k);
            let s = Scalar::from(12345u64);
            let z = Scalar::from(777u64);
            let p = (ProjectivePoint::from(r_point) * s - ProjectivePoint::GENERATOR * z)
                * Option::<Scalar>::from(r.invert()).unwrap();
            let pe = p.to_affine().to_encoded_point(false);
            let mut pk = [0u8; 64];
            pk[..32].copy_from_slice(pe.x().unwrap());
            pk[32..].copy_from_slice(pe.y().unwrap());
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r.to_bytes());
            sig[32..].copy_from_slice(&s.to_bytes());
            let hash: [u8; 32] = z.to_bytes().into();
            found.push((pk, hash, sig));
            if found.len() == 3 {
                break;
            }
        }
        assert_eq!(found.len(), 3);
        let mut with_wrong = found.clone();
        with_wrong[1].1[31] ^= 1;
        with_wrong.extend(found.iter().cloned());
        assert_eq!(agree(&with_wrong), 5, "all but the altered one verify, as in libsecp256k1");
    }
}
