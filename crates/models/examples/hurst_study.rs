//! Monte Carlo study of the Hurst estimators' bias and spread (numbers quoted in docs/models.md).
//! Run: cargo run --release -p zkclob-models --example hurst_study
use zkclob_models::rough::{fbm_from_fgn, fgn_davies_harte, hurst_exponent, HurstMethod};
use zkclob_models::seeded_rng;
use zkclob_models::special::mean_std;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps = 50;
    for n in [1usize << 14, 1 << 16] {
        for h in [0.1, 0.3, 0.5, 0.7] {
            for method in [HurstMethod::Variogram, HurstMethod::RescaledRange, HurstMethod::Dfa] {
                let mut est = Vec::new();
                for seed in 0..reps {
                    let fgn = fgn_davies_harte(h, n, &mut seeded_rng(1000 + seed))?;
                    let path = fbm_from_fgn(&fgn, h, 1.0)?;
                    est.push(hurst_exponent(&path, method)?.hurst);
                }
                let (m, sd) = mean_std(&est);
                println!("n={n:>6} H={h} {method:?}: bias {:+.4} sd {:.4}", m - h, sd);
            }
        }
    }
    Ok(())
}
