//! The node's [`Crypto`]: the state transition's hashing (`sha2`, `sha3`, through
//! [`NativeCrypto`]) with signature checks by libsecp256k1, which is about 2.6 times faster than
//! `k256` on this machine (22.6 µs against 59.7 µs per verification) and gives the same answers:
//! both accept only low-`s` signatures over the same prehash (a test holds them to each other).
//!
//! Signatures are checked once, at the API edge, on the server's worker threads; the engine
//! thread then applies the command with [`Verdict`], which answers with that result instead of
//! checking again.

use secp256k1::ecdsa::Signature as EcdsaSignature;
use secp256k1::{Message, PublicKey as SecpPublicKey, SecretKey, SECP256K1};
use zkclob_state::{
    signing_hash, Action, Command, Crypto, NativeCrypto, PublicKey, Signature, SignedCommand,
};

/// Hashing as the state transition does it; ECDSA by libsecp256k1.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastCrypto;

/// The transition's hashing, by [`NativeCrypto`], for a [`Crypto`] impl.
macro_rules! native_hashing {
    () => {
        fn sha256(&self, data: &[u8]) -> [u8; 32] {
            NativeCrypto.sha256(data)
        }

        fn sha256_compress(&self, block: &[u8; 64]) -> [u8; 32] {
            NativeCrypto.sha256_compress(block)
        }

        fn keccak256(&self, data: &[u8]) -> [u8; 32] {
            NativeCrypto.keccak256(data)
        }
    };
}

impl Crypto for FastCrypto {
    native_hashing!();

    fn secp256k1_verify(&self, pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool {
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..].copy_from_slice(pubkey);
        let Ok(key) = SecpPublicKey::from_slice(&sec1) else { return false };
        // `from_compact` refuses r or s ≥ n; libsecp256k1's verification refuses high-s.
        let Ok(sig) = EcdsaSignature::from_compact(sig) else { return false };
        SECP256K1.verify_ecdsa(Message::from_digest(*prehash), &sig, &key).is_ok()
    }
}

/// A [`Crypto`] for one command whose signature was already checked: it answers `verdict` to
/// the signature check and hashes as [`FastCrypto`].
#[derive(Clone, Copy, Debug)]
pub struct Verdict(pub bool);

impl Crypto for Verdict {
    native_hashing!();

    fn secp256k1_verify(&self, _: &PublicKey, _: &[u8; 32], _: &Signature) -> bool {
        self.0
    }

    /// The verdict, without computing the hash it would be checked against.
    fn secp256k1_verify_hashed(&self, _: &PublicKey, _: &Signature, _: impl FnOnce() -> [u8; 32]) -> bool {
        self.0
    }
}

/// Whether a command's signature is valid (deposits carry none: `true`).
pub fn verify_command(chain_id: u64, command: &Command) -> bool {
    match command {
        Command::Deposit { .. } => true,
        Command::Signed(c) => verify_one(chain_id, c),
    }
}

/// One signed command's signature by libsecp256k1.
pub(crate) fn verify_one(chain_id: u64, c: &SignedCommand) -> bool {
    let hash = signing_hash(&FastCrypto, chain_id, c.nonce, &c.action);
    FastCrypto.secp256k1_verify(&c.signer, &hash, &c.signature)
}

/// Whether [`verify_signed`] checks signatures eight at a time on this CPU
/// ([`crate::secp_x8`]: AVX-512 IFMA).
pub fn checks_in_lanes() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::secp_x8::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// Each thread's eight-lane verifier, with the tables of the keys it has seen sign again.
    static VERIFIER: std::cell::RefCell<crate::secp_x8::Verifier> =
        std::cell::RefCell::new(crate::secp_x8::Verifier::new(crate::secp_x8::DEFAULT_KEY_TABLES));
}

/// How [`verify_signed_counted`] checked the signatures it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Checked eight at a time (with or without the key's table).
    pub in_lanes: u64,
    /// Of those, with a table of the signer's key.
    pub keyed: u64,
}

/// Whether each signed command's signature is valid, as [`verify_command`] answers, checking
/// eight at a time with [`crate::secp_x8`] where this CPU can (about three times faster per
/// signature, and about six times for keys that sign again: the thread keeps
/// their tables, [`crate::secp_x8::Verifier`]) and one by one with libsecp256k1 elsewhere.
pub fn verify_signed(chain_id: u64, commands: &[&SignedCommand]) -> Vec<bool> {
    verify_signed_counted(chain_id, commands).0
}

/// [`verify_signed`], and how the signatures were checked.
pub fn verify_signed_counted(chain_id: u64, commands: &[&SignedCommand]) -> (Vec<bool>, CheckCounts) {
    #[cfg(target_arch = "x86_64")]
    if checks_in_lanes() {
        let hashes: Vec<[u8; 32]> =
            commands.iter().map(|c| signing_hash(&FastCrypto, chain_id, c.nonce, &c.action)).collect();
        let items: Vec<crate::secp_x8::Item<'_>> = commands
            .iter()
            .zip(&hashes)
            .map(|(c, prehash)| crate::secp_x8::Item { pubkey: &c.signer, prehash, sig: &c.signature })
            .collect();
        return VERIFIER.with(|v| {
            let mut v = v.borrow_mut();
            let before = v.counts();
            let out = v.verify(&items);
            let after = v.counts();
            let keyed = after.keyed - before.keyed;
            (out, CheckCounts { in_lanes: keyed + after.lanes - before.lanes, keyed })
        });
    }
    (commands.iter().map(|c| verify_one(chain_id, c)).collect(), CheckCounts::default())
}

/// Slots in each thread's cache of recent signers' addresses ([`address_of_signer`]).
const ADDRESS_SLOTS: usize = 256;

thread_local! {
    /// Recent public keys and their addresses, direct-mapped by the key's first byte.
    static ADDRESSES: std::cell::RefCell<Vec<Option<(PublicKey, zkclob_state::Address)>>> =
        std::cell::RefCell::new(vec![None; ADDRESS_SLOTS]);
}

/// The address of a signer's public key, as [`Crypto::address_of`] gives it, from a small cache
/// on this thread: an address is a keccak-256 of the key (about 0.5 µs here), and under load
/// the same accounts sign command after command. The whole key is compared, so a key that
/// shares a slot with another only misses; the cache is bounded (256 entries per thread).
pub fn address_of_signer(pubkey: &PublicKey) -> zkclob_state::Address {
    ADDRESSES.with(|cache| {
        let mut cache = cache.borrow_mut();
        let slot = &mut cache[pubkey[0] as usize % ADDRESS_SLOTS];
        match slot {
            Some((k, a)) if k == pubkey => *a,
            _ => {
                let a = FastCrypto.address_of(pubkey);
                *slot = Some((*pubkey, a));
                a
            }
        }
    })
}

/// A secp256k1 key pair whose address is an account.
#[derive(Clone)]
pub struct Keypair {
    secret: SecretKey,
    /// `x || y` of the public key.
    pub public: PublicKey,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({})", self.address())
    }
}

/// Why a secret key is unusable.
#[derive(Debug, thiserror::Error)]
#[error("not a valid secp256k1 secret key (32 bytes, nonzero, below the group order)")]
pub struct BadKey;

impl Keypair {
    /// The key pair of a 32-byte secret.
    pub fn from_secret(secret: &[u8; 32]) -> Result<Keypair, BadKey> {
        let secret = SecretKey::from_byte_array(*secret).map_err(|_| BadKey)?;
        let full = SecpPublicKey::from_secret_key(SECP256K1, &secret).serialize_uncompressed();
        let mut public = [0u8; 64];
        public.copy_from_slice(&full[1..]);
        Ok(Keypair { secret, public })
    }

    /// A key derived from a seed (sha256 of a domain tag and the seed, retried on the rare
    /// invalid value): for demos, tests and load generation, never for real funds.
    pub fn from_seed(seed: &[u8]) -> Keypair {
        let mut material = b"zkclob/dev-key/v1".to_vec();
        material.extend_from_slice(seed);
        loop {
            let s = NativeCrypto.sha256(&material);
            if let Ok(k) = Keypair::from_secret(&s) {
                return k;
            }
            material.push(0);
        }
    }

    /// A fresh random key from the operating system's generator (via the address-space and
    /// clock entropy of `std`'s hasher seeds and `/dev/urandom`).
    pub fn generate() -> std::io::Result<Keypair> {
        use std::io::Read;
        let mut s = [0u8; 32];
        loop {
            std::fs::File::open("/dev/urandom")?.read_exact(&mut s)?;
            if let Ok(k) = Keypair::from_secret(&s) {
                return Ok(k);
            }
        }
    }

    /// The 32-byte secret.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.secret.secret_bytes()
    }

    /// The account's address.
    pub fn address(&self) -> zkclob_state::Address {
        NativeCrypto.address_of(&self.public)
    }

    /// Signs `action` with `nonce` for `chain_id` (low-`s`, RFC 6979).
    pub fn sign(&self, chain_id: u64, nonce: u64, action: Action) -> Command {
        let hash = signing_hash(&FastCrypto, chain_id, nonce, &action);
        let sig = SECP256K1.sign_ecdsa(Message::from_digest(hash), &self.secret).serialize_compact();
        Command::Signed(SignedCommand { signer: self.public, nonce, action, signature: sig })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkclob_core::{Amount, AssetId};

    #[test]
    fn cached_addresses_are_the_addresses_of_their_keys_even_when_keys_share_a_slot() {
        // Keys are spread over slots by their first byte: 600 keys share the 256 slots, so many
        // evict one another; each lookup must still give its own key's address.
        let keys: Vec<Keypair> = (0u16..600).map(|i| Keypair::from_seed(&i.to_le_bytes())).collect();
        for round in 0..3 {
            for (i, k) in keys.iter().enumerate() {
                let k = if round == 1 { &keys[(i * 7) % keys.len()] } else { k };
                assert_eq!(address_of_signer(&k.public), FastCrypto.address_of(&k.public));
                assert_eq!(address_of_signer(&k.public), k.address());
            }
        }
    }

    #[test]
    fn verify_signed_answers_as_verify_command_for_every_group_size() {
        let commands: Vec<SignedCommand> = (0u8..23)
            .map(|i| {
                let k = Keypair::from_seed(&[i, 1]);
                let action = Action::Withdraw { asset: AssetId(1), amount: Amount(i as u128 + 1) };
                let Command::Signed(mut c) = k.sign(9, i as u64, action) else { unreachable!() };
                // Every third signature is broken, at a different byte each time.
                if i % 3 == 1 {
                    c.signature[(i as usize * 5) % 64] ^= 0x10;
                }
                c
            })
            .collect();
        for n in 0..=commands.len() {
            let refs: Vec<&SignedCommand> = commands[..n].iter().collect();
            let want: Vec<bool> =
                refs.iter().map(|c| verify_command(9, &Command::Signed((*c).clone()))).collect();
            assert_eq!(verify_signed(9, &refs), want, "{n} commands");
        }
        assert_eq!(verify_signed(9, &commands.iter().collect::<Vec<_>>()).iter().filter(|v| **v).count(), 15);
    }

    #[test]
    fn libsecp256k1_and_k256_agree_on_good_forged_high_s_and_garbage_signatures() {
        let mut checked = 0;
        for seed in 0u8..40 {
            let k = Keypair::from_seed(&[seed]);
            let action = Action::Withdraw { asset: AssetId(seed as u32), amount: Amount(seed as u128 + 1) };
            let Command::Signed(c) = k.sign(7, seed as u64, action) else { unreachable!() };
            let hash = signing_hash(&NativeCrypto, 7, c.nonce, &c.action);
            let mut variants = vec![c.signature];
            let mut flipped = c.signature;
            flipped[(seed as usize * 7) % 64] ^= 1 << (seed % 8);
            variants.push(flipped);
            variants.push([0; 64]);
            variants.push([0xff; 64]);
            // The high-s twin: s' = n - s.
            let n: [u8; 32] = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
                .unwrap()
                .try_into()
                .unwrap();
            let mut twin = c.signature;
            let mut borrow = 0i32;
            for i in (0..32).rev() {
                let d = n[i] as i32 - c.signature[32 + i] as i32 - borrow;
                twin[32 + i] = d.rem_euclid(256) as u8;
                borrow = (d < 0) as i32;
            }
            variants.push(twin);
            let mut bad_key = c.signer;
            bad_key[5] ^= 0x40;
            for sig in &variants {
                for key in [&c.signer, &bad_key] {
                    let a = FastCrypto.secp256k1_verify(key, &hash, sig);
                    let b = NativeCrypto.secp256k1_verify(key, &hash, sig);
                    assert_eq!(a, b, "seed {seed}");
                    checked += a as u32;
                }
            }
        }
        assert_eq!(checked, 40, "exactly the genuine signatures verify");
    }
}
