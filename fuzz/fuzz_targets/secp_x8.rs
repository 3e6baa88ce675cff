//! The eight-lane signature check (`zkclob_node::secp_x8`) against libsecp256k1 on signatures
//! made from fuzzed keys and amounts, then altered by the input: a byte of the signature, the key
//! or the hash flipped, `s` negated (high-`s`), or left valid. Both must give the same answer
//! for every lane and every group size, eight at a time (`verify`) and for up to 24 with one
//! scalar inversion (`verify_many`), and through a `Verifier` that keeps the tables of keys it has
//! seen (room for four: it evicts often), twice, so the second pass checks with tables. Does
//! nothing on a CPU without AVX-512 IFMA.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkclob_core::{Amount, AssetId};
use zkclob_node::crypto::{FastCrypto, Keypair};
use zkclob_node::secp_x8::{available, verify, verify_many, Item, Verifier};
use zkclob_state::{signing_hash, Action, Command, Crypto};

/// secp256k1's group order, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

fuzz_target!(|data: &[u8]| {
    if !available() {
        return;
    }
    let mut lanes: Vec<([u8; 64], [u8; 32], [u8; 64])> = Vec::new();
    for c in data.chunks_exact(36).take(24) {
        let key = Keypair::from_seed(&c[1..33]);
        let action = Action::Withdraw { asset: AssetId(1), amount: Amount(u128::from(c[35]) + 1) };
        let Command::Signed(s) = key.sign(5, 0, action) else { unreachable!("signed") };
        let (mut pk, mut hash, mut sig) = (s.signer, signing_hash(&FastCrypto, 5, s.nonce, &s.action), s.signature);
        let (pos, xor) = (c[33] as usize, c[34]);
        match c[0] % 6 {
            0 => {}
            1 => sig[pos % 64] ^= xor,
            2 => pk[pos % 64] ^= xor,
            3 => hash[pos % 32] ^= xor,
            4 => {
                // s → n − s.
                let mut borrow = 0i16;
                for i in (0..32).rev() {
                    let d = N[i] as i16 - sig[32 + i] as i16 - borrow;
                    sig[32 + i] = d.rem_euclid(256) as u8;
                    borrow = (d < 0) as i16;
                }
            }
            _ => sig[..32].copy_from_slice(&hash),
        }
        lanes.push((pk, hash, sig));
    }
    let items: Vec<Item<'_>> = lanes.iter().map(|(pubkey, prehash, sig)| Item { pubkey, prehash, sig }).collect();
    let want: Vec<bool> =
        lanes.iter().map(|(pk, hash, sig)| FastCrypto.secp256k1_verify(pk, hash, sig)).collect();
    let first = items.len().min(8);
    let got = verify(&items[..first]);
    assert_eq!(got[..first], want[..first], "a group of {first}");
    assert_eq!(verify_many(&items), want, "a run of {}", items.len());
    thread_local! {
        static VERIFIER: std::cell::RefCell<Verifier> = std::cell::RefCell::new(Verifier::new(4));
    }
    VERIFIER.with(|v| {
        let mut v = v.borrow_mut();
        for pass in 0..2 {
            assert_eq!(v.verify(&items), want, "pass {pass} of a run of {} with key tables", items.len());
        }
    });
});
