//! The BLS12-381 scalar field `Fr`: what EIP-4844 blob field elements live in.
//!
//! A small pure-Rust implementation — four 64-bit limbs in Montgomery form (R = 2^256), CIOS
//! multiplication with `u128` intermediates, inversion by Fermat's little theorem — written here
//! instead of pulling `bls12_381`/`ff` so that the zkVM guest gets exactly this code: `no_std`,
//! no `unsafe`, no tables, no allocation, constant-size loops. It only needs to be correct, not
//! constant-time: every value it sees (blob bytes, the evaluation point) is public.
//!
//! The modulus is
//! `r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001`, and byte encodings
//! are 32-byte **big-endian**, as EIP-4844 specifies (`KZG_ENDIANNESS = "big"`). A byte string
//! whose integer is `>= r` is not a field element ([`Fr::from_bytes_be`] returns `None`).
//!
//! ```
//! use zkclob_rollup::field::Fr;
//! let two = Fr::from_u64(2);
//! let half = two.inverse().expect("2 is not zero");
//! assert_eq!(two * half, Fr::ONE);
//! assert_eq!(Fr::from_bytes_be(&Fr::from_u64(7).to_bytes_be()), Some(Fr::from_u64(7)));
//! ```

use core::ops::{Add, Mul, Sub};

/// The modulus `r`, little-endian limbs.
const MODULUS: [u64; 4] =
    [0xffff_ffff_0000_0001, 0x53bd_a402_fffe_5bfe, 0x3339_d808_09a1_d805, 0x73ed_a753_299d_7d48];
/// `-r^-1 mod 2^64`, for Montgomery reduction.
const INV: u64 = 0xffff_fffe_ffff_ffff;
/// `2^256 mod r`: one in Montgomery form.
const R: [u64; 4] =
    [0x0000_0001_ffff_fffe, 0x5884_b7fa_0003_4802, 0x998c_4fef_ecbc_4ff5, 0x1824_b159_acc5_056f];
/// `2^512 mod r`: converts a canonical integer into Montgomery form.
const R2: [u64; 4] =
    [0xc999_e990_f3f2_9c6d, 0x2b6c_edcb_8792_5c23, 0x05d3_1496_7254_398f, 0x0748_d9d9_9f59_ff11];
/// `r - 2`, the exponent of Fermat inversion.
const MODULUS_MINUS_TWO: [u64; 4] =
    [0xffff_fffe_ffff_ffff, 0x53bd_a402_fffe_5bfe, 0x3339_d808_09a1_d805, 0x73ed_a753_299d_7d48];

/// An element of the BLS12-381 scalar field, kept in Montgomery form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fr([u64; 4]);

impl Fr {
    /// Zero.
    pub const ZERO: Fr = Fr([0; 4]);
    /// One.
    pub const ONE: Fr = Fr(R);

    /// Builds an element from a Montgomery-form limb array; only for constants proven elsewhere.
    pub(crate) const fn from_montgomery_limbs(limbs: [u64; 4]) -> Fr {
        Fr(limbs)
    }

    /// The element `n`.
    pub fn from_u64(n: u64) -> Fr {
        Fr(mont_mul(&[n, 0, 0, 0], &R2))
    }

    /// Parses a 32-byte big-endian integer; `None` if it is not below the modulus.
    pub fn from_bytes_be(bytes: &[u8; 32]) -> Option<Fr> {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            // Limb 0 is the least significant: the last 8 bytes.
            let start = 24 - 8 * i;
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[start..start + 8]);
            *limb = u64::from_be_bytes(word);
        }
        if !less_than(&limbs, &MODULUS) {
            return None;
        }
        Some(Fr(mont_mul(&limbs, &R2)))
    }

    /// The canonical 32-byte big-endian encoding.
    pub fn to_bytes_be(&self) -> [u8; 32] {
        let canonical = mont_mul(&self.0, &[1, 0, 0, 0]);
        let mut out = [0u8; 32];
        for (i, limb) in canonical.iter().enumerate() {
            let start = 24 - 8 * i;
            out[start..start + 8].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// `self * self`.
    pub fn square(&self) -> Fr {
        *self * *self
    }

    /// `self ^ exponent`, the exponent as little-endian limbs.
    pub fn pow(&self, exponent: &[u64; 4]) -> Fr {
        let mut acc = Fr::ONE;
        for limb in exponent.iter().rev() {
            for bit in (0..64).rev() {
                acc = acc.square();
                if (limb >> bit) & 1 == 1 {
                    acc = acc * *self;
                }
            }
        }
        acc
    }

    /// The multiplicative inverse; `None` for zero.
    pub fn inverse(&self) -> Option<Fr> {
        if self.is_zero() {
            return None;
        }
        Some(self.pow(&MODULUS_MINUS_TWO))
    }
}

impl Add for Fr {
    type Output = Fr;
    fn add(self, rhs: Fr) -> Fr {
        let (sum, carry) = add_limbs(&self.0, &rhs.0);
        // Both inputs are below r < 2^255, so the sum never carries out; reduce once.
        debug_assert!(!carry);
        Fr(reduce_once(sum))
    }
}

impl Sub for Fr {
    type Output = Fr;
    fn sub(self, rhs: Fr) -> Fr {
        let (diff, borrow) = sub_limbs(&self.0, &rhs.0);
        if borrow {
            Fr(add_limbs(&diff, &MODULUS).0)
        } else {
            Fr(diff)
        }
    }
}

impl Mul for Fr {
    type Output = Fr;
    fn mul(self, rhs: Fr) -> Fr {
        Fr(mont_mul(&self.0, &rhs.0))
    }
}

/// `a + b * c + carry`, as (low, high) words.
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let wide = u128::from(a) + u128::from(b) * u128::from(c) + u128::from(carry);
    (wide as u64, (wide >> 64) as u64)
}

fn add_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        out[i] = s2;
        carry = c1 | c2;
    }
    (out, carry)
}

fn sub_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        out[i] = d2;
        borrow = b1 | b2;
    }
    (out, borrow)
}

fn less_than(a: &[u64; 4], b: &[u64; 4]) -> bool {
    sub_limbs(a, b).1
}

/// Maps `[0, 2r)` to `[0, r)`.
fn reduce_once(x: [u64; 4]) -> [u64; 4] {
    let (diff, borrow) = sub_limbs(&x, &MODULUS);
    if borrow {
        x
    } else {
        diff
    }
}

/// Montgomery product `a * b * 2^-256 mod r` (CIOS). Inputs below r give an output below r.
fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut t = [0u64; 6];
    for &bi in b.iter() {
        let mut carry = 0u64;
        for j in 0..4 {
            (t[j], carry) = mac(t[j], a[j], bi, carry);
        }
        let (t4, c4) = t[4].overflowing_add(carry);
        t[4] = t4;
        t[5] = u64::from(c4);

        let m = t[0].wrapping_mul(INV);
        let (_, mut carry) = mac(t[0], m, MODULUS[0], 0);
        for j in 1..4 {
            (t[j - 1], carry) = mac(t[j], m, MODULUS[j], carry);
        }
        let (t3, c3) = t[4].overflowing_add(carry);
        t[3] = t3;
        t[4] = t[5] + u64::from(c3);
    }
    // r < 2^255, so the result is below 2r < 2^256 and t[4] is zero; one subtraction suffices.
    debug_assert_eq!(t[4], 0);
    reduce_once([t[0], t[1], t[2], t[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minus_one() -> Fr {
        Fr::ZERO - Fr::ONE
    }

    #[test]
    fn modulus_minus_one_is_the_largest_canonical_encoding() {
        let mut bytes = minus_one().to_bytes_be();
        assert_eq!(bytes[0], 0x73);
        assert_eq!(bytes[31], 0x00);
        assert!(Fr::from_bytes_be(&bytes).is_some());
        bytes[31] = 0x01; // r itself
        assert!(Fr::from_bytes_be(&bytes).is_none());
        assert!(Fr::from_bytes_be(&[0xff; 32]).is_none());
    }

    #[test]
    fn montgomery_constants_are_consistent() {
        assert_eq!(Fr::ONE.to_bytes_be()[31], 1);
        assert_eq!(Fr::from_u64(1), Fr::ONE);
        assert_eq!(Fr::from_u64(0), Fr::ZERO);
        assert_eq!(minus_one() + Fr::ONE, Fr::ZERO);
        assert_eq!(minus_one() * minus_one(), Fr::ONE);
    }

    #[test]
    fn small_arithmetic_matches_integers() {
        let a = Fr::from_u64(u64::MAX);
        let b = Fr::from_u64(3);
        let product = a * b; // 3 * (2^64 - 1) = 2^65 + 2^64 - 3 < r
        let mut expected = [0u8; 32];
        expected[23] = 2; // 2^64 * 2
        expected[24..32].copy_from_slice(&(u64::MAX - 2).to_be_bytes());
        assert_eq!(product.to_bytes_be(), expected);
        assert_eq!(b - a + a, b);
        assert_eq!(Fr::from_u64(5).pow(&[3, 0, 0, 0]), Fr::from_u64(125));
    }

    #[test]
    fn inverse_of_nonzero_multiplies_to_one_and_zero_has_none() {
        for n in [1u64, 2, 7, 4096, u64::MAX] {
            let x = Fr::from_u64(n);
            assert_eq!(x * x.inverse().expect("nonzero"), Fr::ONE);
        }
        let big = minus_one() - Fr::from_u64(12345);
        assert_eq!(big * big.inverse().expect("nonzero"), Fr::ONE);
        assert_eq!(Fr::ZERO.inverse(), None);
    }
}
