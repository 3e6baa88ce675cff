//! Signature checks per second: libsecp256k1 one at a time (the node's `FastCrypto`) against
//! the eight-lane AVX-512 IFMA verifier (`secp_x8`), on valid signatures of 64 keys: eight at a
//! time, one lane used, and 64 in one `verify_many` call (one scalar inversion for all); and
//! 64 through a `Verifier` that holds the keys' tables, and one that builds them.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zkclob_core::{Amount, AssetId};
use zkclob_node::crypto::{FastCrypto, Keypair};
use zkclob_state::{signing_hash, Action, Command, Crypto};

fn bench(c: &mut Criterion) {
    let items: Vec<([u8; 64], [u8; 32], [u8; 64])> = (0..64u32)
        .map(|i| {
            let key = Keypair::from_seed(&i.to_le_bytes());
            let action = Action::Withdraw { asset: AssetId(1), amount: Amount(u128::from(i) + 1) };
            let Command::Signed(c) = key.sign(1, 0, action) else { unreachable!("a signed command") };
            (c.signer, signing_hash(&FastCrypto, 1, c.nonce, &c.action), c.signature)
        })
        .collect();
    let mut group = c.benchmark_group("secp256k1_verify");
    group.throughput(Throughput::Elements(8));
    group.bench_function("libsecp256k1_x8", |b| {
        b.iter(|| {
            let mut ok = 0;
            for (pk, hash, sig) in &items[..8] {
                ok += FastCrypto.secp256k1_verify(black_box(pk), hash, sig) as usize;
            }
            assert_eq!(ok, 8);
        })
    });
    #[cfg(target_arch = "x86_64")]
    if zkclob_node::secp_x8::available() {
        use zkclob_node::secp_x8::{verify, verify_many, Item};
        let all: Vec<Item<'_>> =
            items.iter().map(|(pubkey, prehash, sig)| Item { pubkey, prehash, sig }).collect();
        let group8 = &all[..8];
        group.bench_function("secp_x8", |b| {
            b.iter(|| assert_eq!(verify(black_box(group8)), [true; 8]));
        });
        // A checker's take of 64: eight groups, one scalar inversion for all of them.
        group.throughput(Throughput::Elements(64));
        group.bench_function("secp_x8_many_64", |b| {
            b.iter(|| assert!(verify_many(black_box(&all)).iter().all(|&v| v)));
        });
        // The same take with the 64 keys' tables held (a market maker's keys, signing again).
        let mut warm = zkclob_node::secp_x8::Verifier::new(zkclob_node::secp_x8::DEFAULT_KEY_TABLES);
        for _ in 0..2 {
            warm.verify(&all);
        }
        assert_eq!(warm.tables(), 64);
        group.bench_function("secp_x8_keyed_64", |b| {
            b.iter(|| assert!(warm.verify(black_box(&all)).iter().all(|&v| v)));
        });
        // And what building the 64 tables costs, on top of checking the take with them.
        group.bench_function("secp_x8_keyed_64_building", |b| {
            b.iter_batched(
                || {
                    let mut v = zkclob_node::secp_x8::Verifier::new(zkclob_node::secp_x8::DEFAULT_KEY_TABLES);
                    v.verify(&all);
                    v
                },
                |mut v| assert!(v.verify(black_box(&all)).iter().all(|&v| v)),
                criterion::BatchSize::LargeInput,
            );
        });
        group.throughput(Throughput::Elements(1));
        group.bench_function("secp_x8_one_lane", |b| {
            b.iter(|| assert!(verify(black_box(&group8[..1]))[0]));
        });
    } else {
        eprintln!("this CPU lacks AVX-512 IFMA: secp_x8 not measured");
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
