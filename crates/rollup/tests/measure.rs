//! Measurements for the README, not pass/fail tests. Run with
//!
//! ```text
//! cargo test -p zkclob-rollup --release --features zstd-compare --test measure -- --ignored --nocapture
//! ```
//!
//! (without `zstd-compare` the zstd rows are skipped).

mod common;

use std::time::{Duration, Instant};

use zkclob_rollup::batch_data::{self, MAX_BATCH_DATA_BYTES};
use zkclob_rollup::blob::{self, blobs_needed};
use zkclob_rollup::compress;
use zkclob_rollup::evaluation::evaluate_blob_polynomial;
use zkclob_rollup::kzg;
use zkclob_rollup::pipeline::{decode_blobs, BatchBlobs};
use zkclob_state::Command;

/// Mean time of `reps` runs of `f` (after one warm-up run).
fn mean<T>(reps: u32, mut f: impl FnMut() -> T) -> Duration {
    std::hint::black_box(f());
    let start = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(f());
    }
    start.elapsed() / reps
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

fn without_signatures(commands: &[Command]) -> Vec<Command> {
    commands
        .iter()
        .cloned()
        .map(|c| match c {
            Command::Signed(mut s) => {
                s.signature = [0; 64];
                Command::Signed(s)
            }
            deposit => deposit,
        })
        .collect()
}

/// An estimate of a batch format with a per-batch signer table: every signer key replaced by
/// zeros (standing in for a small index) and the distinct keys appended once.
fn with_signer_table(commands: &[Command]) -> Vec<u8> {
    let mut keys: Vec<[u8; 64]> = Vec::new();
    let stripped: Vec<Command> = commands
        .iter()
        .cloned()
        .map(|c| match c {
            Command::Signed(mut s) => {
                if !keys.contains(&s.signer) {
                    keys.push(s.signer);
                }
                s.signer = [0; 64];
                Command::Signed(s)
            }
            deposit => deposit,
        })
        .collect();
    let mut data = batch_data::encode(&common::header(1), &stripped).unwrap();
    keys.iter().for_each(|k| data.extend_from_slice(k));
    data
}

#[cfg(feature = "zstd-compare")]
fn zstd_row(data: &[u8]) -> String {
    let z3 = zstd::bulk::compress(data, 3).unwrap();
    let z19 = zstd::bulk::compress(data, 19).unwrap();
    let fastest = ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest);
    for packed in [&z3, &z19, &fastest] {
        let mut out = Vec::with_capacity(data.len());
        ruzstd::decoding::FrameDecoder::new().decode_all_to_vec(packed, &mut out).unwrap();
        assert_eq!(out, data, "ruzstd decodes what zstd wrote");
    }
    format!("zstd-3 {:>7}  zstd-19 {:>7}  ruzstd-fastest {:>7}", z3.len(), z19.len(), fastest.len())
}

#[cfg(not(feature = "zstd-compare"))]
fn zstd_row(_: &[u8]) -> String {
    "(zstd: build with --features zstd-compare)".into()
}

fn size_row(label: &str, commands: &[Command]) {
    let data = batch_data::encode(&common::header(1), commands).unwrap();
    let z6 = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let z9 = compress::compress(&data);
    println!(
        "{label:<44} raw {:>7}  zlib-6 {:>7}  zlib-9 {:>7} ({:>4.1}%, {} blob)  {}",
        data.len(),
        z6.len(),
        z9.len(),
        100.0 * z9.len() as f64 / data.len() as f64,
        blobs_needed(z9.len()),
        zstd_row(&data)
    );
}

#[test]
#[ignore = "measurement; run explicitly with --release"]
fn measure_sizes_and_speeds() {
    println!("\n== bytes per 1,000 commands ==");
    for accounts in [10, 100, 1_000] {
        let orders = common::orders(1_000, accounts, 1);
        size_row(&format!("1,000 signed orders, {accounts} accounts"), &orders);
        size_row("  same, signatures zeroed", &without_signatures(&orders));
        let table = with_signer_table(&orders);
        println!(
            "  same, signer table (estimate)              raw {:>7}  zlib-9 {:>7}",
            table.len(),
            compress::compress(&table).len()
        );
    }
    let mixed = common::mixed(1_000, 100, 2);
    size_row("1,000 mixed commands, 100 accounts", &mixed);

    println!("\n== 20,000 signed orders, 100 accounts ==");
    let big = common::orders(20_000, 100, 3);
    let data = batch_data::encode(&common::header(2), &big).unwrap();
    let packed = compress::compress(&data);
    println!("raw {} B, zlib-9 {} B, {} blobs", data.len(), packed.len(), blobs_needed(packed.len()));
    let t = mean(3, || compress::compress(&data));
    println!("zlib-9 compress   {:>8.1} MB/s ({:?})", mb_per_s(data.len(), t), t);
    let t = mean(3, || miniz_oxide::deflate::compress_to_vec_zlib(&data, 6));
    println!("zlib-6 compress   {:>8.1} MB/s ({:?})", mb_per_s(data.len(), t), t);
    let t = mean(10, || compress::decompress(&packed, MAX_BATCH_DATA_BYTES).unwrap());
    println!("zlib decompress   {:>8.1} MB/s ({:?})", mb_per_s(data.len(), t), t);
    #[cfg(feature = "zstd-compare")]
    {
        let z19 = zstd::bulk::compress(&data, 19).unwrap();
        println!("zstd-19 {} B, {} blobs", z19.len(), blobs_needed(z19.len()));
        let t = mean(3, || zstd::bulk::compress(&data, 19).unwrap());
        println!("zstd-19 compress  {:>8.1} MB/s ({:?})", mb_per_s(data.len(), t), t);
        let t = mean(10, || {
            let mut out = Vec::with_capacity(data.len());
            ruzstd::decoding::FrameDecoder::new().decode_all_to_vec(&z19, &mut out).unwrap();
            out
        });
        println!("ruzstd decompress {:>8.1} MB/s ({:?})", mb_per_s(data.len(), t), t);
    }

    println!("\n== KZG (c-kzg, precompute 0) and the pure-Rust evaluation ==");
    let load = Instant::now();
    let blob0 = blob::pack(&packed).unwrap().remove(0);
    let commitment = kzg::blob_to_commitment(&blob0).unwrap();
    println!("first commitment incl. trusted setup load {:?}", load.elapsed());
    let t = mean(5, || kzg::blob_to_commitment(&blob0).unwrap());
    println!("blob_to_commitment      {t:?}");
    let proof = kzg::compute_blob_kzg_proof(&blob0, &commitment).unwrap();
    let t = mean(5, || kzg::compute_blob_kzg_proof(&blob0, &commitment).unwrap());
    println!("compute_blob_kzg_proof  {t:?}");
    let t = mean(5, || kzg::verify_blob_kzg_proof(&blob0, &commitment, &proof).unwrap());
    println!("verify_blob_kzg_proof   {t:?}");
    let z = [0x22u8; 32];
    let (point_proof, y) = kzg::compute_kzg_proof(&blob0, &z).unwrap();
    let t = mean(5, || kzg::compute_kzg_proof(&blob0, &z).unwrap());
    println!("compute_kzg_proof       {t:?}");
    let t = mean(5, || kzg::verify_kzg_proof(&commitment, &z, &y, &point_proof).unwrap());
    println!("verify_kzg_proof        {t:?}");
    assert_eq!(evaluate_blob_polynomial(&blob0, &z).unwrap(), y);
    let t = mean(10, || evaluate_blob_polynomial(&blob0, &z).unwrap());
    println!("evaluate_blob_polynomial (pure Rust) {t:?}");

    println!("\n== pipeline, 1,000 signed orders, 100 accounts ==");
    let orders = common::orders(1_000, 100, 4);
    let t = mean(3, || BatchBlobs::from_batch(&common::header(3), &orders).unwrap());
    println!("BatchBlobs::from_batch  {t:?}");
    let blobs = BatchBlobs::from_batch(&common::header(3), &orders).unwrap().blobs();
    let t = mean(10, || decode_blobs(&blobs).unwrap());
    println!("decode_blobs            {t:?}");
}
