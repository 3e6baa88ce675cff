//! Optimisers on synthetic objectives with known optima; walk-forward windows; purged k-fold.

use std::collections::HashSet;
use std::sync::Mutex;

use proptest::prelude::*;
use zkclob_backtest::optimize::{
    optimize, purged_k_fold, walk_forward, walk_forward_windows, BayesConfig, Goal, Kernel, ParamSpace,
    ParamSpec, Params, Phase, Search, WalkForwardConfig, MAX_BATCH, MAX_BAYES_TRIALS, MAX_RANDOM_TRIALS,
};
use zkclob_backtest::BacktestError;

/// The Branin function on x1 ∈ [−5, 10], x2 ∈ [0, 15]: three global minima of 0.397887 at
/// (−π, 12.275), (π, 2.275) and (9.42478, 2.475).
fn branin(p: &Params) -> f64 {
    let (x1, x2) = (p.get("x1").unwrap(), p.get("x2").unwrap());
    let pi = std::f64::consts::PI;
    let (b, c, t) = (5.1 / (4.0 * pi * pi), 5.0 / pi, 1.0 / (8.0 * pi));
    (x2 - b * x1 * x1 + c * x1 - 6.0).powi(2) + 10.0 * (1.0 - t) * x1.cos() + 10.0
}
const BRANIN_MIN: f64 = 0.397_887_357_729_738;

fn branin_space() -> ParamSpace {
    ParamSpace::new(vec![ParamSpec::real("x1", -5.0, 10.0), ParamSpec::real("x2", 0.0, 15.0)]).unwrap()
}

/// A shifted quadratic in 3 dimensions with its maximum 0 at (0.3, 7, 0.01).
fn bowl(p: &Params) -> f64 {
    let a = p.get("a").unwrap() - 0.3;
    let n = (p.get("n").unwrap() - 7.0) / 5.0;
    let g = p.get("g").unwrap().log10() + 2.0;
    -(a * a + n * n + g * g)
}

fn bowl_space() -> ParamSpace {
    ParamSpace::new(vec![
        ParamSpec::real("a", -1.0, 1.0),
        ParamSpec::integer("n", 1, 20),
        ParamSpec::log_real("g", 1e-4, 1.0),
    ])
    .unwrap()
}

#[test]
fn grid_search_finds_the_top_of_a_shifted_quadratic() {
    let r = optimize(&bowl_space(), &Search::Grid { points_per_dim: 21 }, Goal::Maximize, bowl).unwrap();
    // 21 × 20 (every integer) × 21 points.
    assert_eq!(r.rows.len(), 21 * 20 * 21);
    let best = r.best.as_ref().unwrap();
    assert!((best.params.get("a").unwrap() - 0.3).abs() < 1e-9, "{:?}", best.params);
    assert_eq!(best.params.get_i64("n"), Some(7));
    assert!((best.params.get("g").unwrap().log10() + 2.0).abs() < 1e-9);
    assert!(r.rows.iter().all(|row| row.phase == Phase::Grid));
    // best_so_far is monotone and ends at the best.
    assert!(r.rows.windows(2).all(|w| w[1].best_so_far >= w[0].best_so_far));
    assert_eq!(r.rows.last().unwrap().best_so_far, r.best_objective());
}

#[test]
fn random_search_is_reproducible_and_lands_near_the_optimum() {
    let search = Search::Random { trials: 400, seed: 11 };
    let a = optimize(&bowl_space(), &search, Goal::Maximize, bowl).unwrap();
    let b = optimize(&bowl_space(), &search, Goal::Maximize, bowl).unwrap();
    assert_eq!(a, b);
    assert!(a.best_objective().unwrap() > -0.1, "{:?}", a.best_objective());
    for row in &a.rows {
        let n = row.params.get("n").unwrap();
        assert!(n.fract() == 0.0 && (1.0..=20.0).contains(&n));
        let g = row.params.get("g").unwrap();
        assert!((1e-4..=1.0).contains(&g));
    }
}

#[test]
fn bayesian_search_finds_a_branin_minimum() {
    let cfg = BayesConfig { trials: 40, initial: 8, batch: 2, seed: 5, ..BayesConfig::default() };
    let r = optimize(&branin_space(), &Search::Bayesian(cfg), Goal::Minimize, branin).unwrap();
    assert_eq!(r.rows.len(), 40);
    assert_eq!(r.rows.iter().filter(|row| row.phase == Phase::Initial).count(), 8);
    let best = r.best_objective().unwrap();
    assert!(best < BRANIN_MIN + 0.1, "best {best}");
}

#[test]
fn bayesian_beats_random_at_equal_budget_on_average() {
    let budget = 30;
    let seeds = 0..6u64;
    let mut regret_bo = Vec::new();
    let mut regret_random = Vec::new();
    for seed in seeds {
        let cfg = BayesConfig { trials: budget, initial: 8, batch: 2, seed, ..BayesConfig::default() };
        let bo = optimize(&branin_space(), &Search::Bayesian(cfg), Goal::Minimize, branin).unwrap();
        let rs = optimize(&branin_space(), &Search::Random { trials: budget, seed }, Goal::Minimize, branin)
            .unwrap();
        regret_bo.push(bo.best_objective().unwrap() - BRANIN_MIN);
        regret_random.push(rs.best_objective().unwrap() - BRANIN_MIN);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!("Branin, {budget} evaluations, best − optimum per seed:");
    println!("  bayesian: {regret_bo:.4?} (mean {:.4})", mean(&regret_bo));
    println!("  random:   {regret_random:.4?} (mean {:.4})", mean(&regret_random));
    // Generous: Bayesian optimisation should be far better; ask only that it halve the regret.
    assert!(mean(&regret_bo) < 0.5 * mean(&regret_random));
}

#[test]
fn bayesian_search_handles_integer_and_log_dimensions_and_the_rbf_kernel() {
    let cfg = BayesConfig {
        trials: 40,
        initial: 10,
        batch: 4,
        seed: 2,
        kernel: Kernel::Rbf,
        ..BayesConfig::default()
    };
    let r = optimize(&bowl_space(), &Search::Bayesian(cfg.clone()), Goal::Maximize, bowl).unwrap();
    assert!(r.best_objective().unwrap() > -0.05, "{:?}", r.best);
    let distinct: HashSet<String> = r.rows.iter().map(|row| format!("{:?}", row.params)).collect();
    assert_eq!(distinct.len(), r.rows.len(), "no parameter set is evaluated twice");
    let again = optimize(&bowl_space(), &Search::Bayesian(cfg), Goal::Maximize, bowl).unwrap();
    assert_eq!(r, again, "same seed, same search");
}

#[test]
fn objective_is_evaluated_in_parallel() {
    let threads = Mutex::new(HashSet::new());
    let space = ParamSpace::new(vec![ParamSpec::real("x", 0.0, 1.0)]).unwrap();
    optimize(&space, &Search::Random { trials: 64, seed: 0 }, Goal::Maximize, |p| {
        threads.lock().unwrap().insert(std::thread::current().id());
        std::thread::sleep(std::time::Duration::from_millis(2));
        p.get("x").unwrap()
    })
    .unwrap();
    let used = threads.lock().unwrap().len();
    println!("rayon threads: {}, used: {used}", rayon::current_num_threads());
    if rayon::current_num_threads() > 1 {
        assert!(used > 1);
    }
}

#[test]
fn non_finite_objective_values_are_recorded_as_none_and_never_best() {
    let space = ParamSpace::new(vec![ParamSpec::real("x", 0.0, 1.0)]).unwrap();
    let f = |p: &Params| if p.get("x").unwrap() > 0.5 { f64::NAN } else { p.get("x").unwrap() };
    let r = optimize(&space, &Search::Grid { points_per_dim: 11 }, Goal::Maximize, f).unwrap();
    assert_eq!(r.rows.iter().filter(|row| row.objective.is_none()).count(), 5);
    assert_eq!(r.best_objective(), Some(0.5));
    let cfg = BayesConfig { trials: 12, initial: 4, batch: 2, ..BayesConfig::default() };
    let r = optimize(&space, &Search::Bayesian(cfg), Goal::Maximize, f).unwrap();
    assert_eq!(r.rows.len(), 12);
    assert!(r.best_objective().unwrap() <= 0.5);
    let all_nan =
        optimize(&space, &Search::Random { trials: 3, seed: 0 }, Goal::Maximize, |_| f64::NAN).unwrap();
    assert_eq!(all_nan.best, None);
    assert!(all_nan.to_csv().lines().count() == 4);
}

#[test]
fn malformed_spaces_and_searches_are_errors() {
    let invalid = |r: Result<ParamSpace, BacktestError>| matches!(r, Err(BacktestError::InvalidSpace(_)));
    assert!(invalid(ParamSpace::new(vec![])));
    assert!(invalid(ParamSpace::new(vec![ParamSpec::real("x", 1.0, 1.0)])));
    assert!(invalid(ParamSpace::new(vec![ParamSpec::log_real("x", 0.0, 1.0)])));
    assert!(invalid(ParamSpace::new(vec![ParamSpec::real("x", 0.0, 1.0), ParamSpec::real("x", 0.0, 2.0)])));
    assert!(ParamSpace::new(vec![ParamSpec::integer("k", 3, 3)]).is_ok());
    let dims = |n: usize| (0..n).map(|i| ParamSpec::real(&format!("x{i}"), 0.0, 1.0)).collect::<Vec<_>>();
    assert!(ParamSpace::new(dims(32)).is_ok());
    assert!(invalid(ParamSpace::new(dims(33))));

    let space =
        ParamSpace::new(vec![ParamSpec::real("x", 0.0, 1.0), ParamSpec::real("y", 0.0, 1.0)]).unwrap();
    let f = |_: &Params| 0.0;
    let err =
        |s: Search| matches!(optimize(&space, &s, Goal::Maximize, f), Err(BacktestError::InvalidSpace(_)));
    assert!(err(Search::Grid { points_per_dim: 0 }));
    assert!(err(Search::Grid { points_per_dim: 1001 }), "1001² points exceed the grid limit");
    assert!(err(Search::Random { trials: 0, seed: 0 }));
    assert!(err(Search::Random { trials: MAX_RANDOM_TRIALS + 1, seed: 0 }));
    assert!(err(Search::Bayesian(BayesConfig { trials: MAX_BAYES_TRIALS + 1, ..Default::default() })));
    assert!(err(Search::Bayesian(BayesConfig { batch: MAX_BATCH + 1, ..Default::default() })));
    assert!(!err(Search::Bayesian(BayesConfig { trials: 3, batch: MAX_BATCH, ..Default::default() })));
}

#[test]
fn walk_forward_windows_roll_anchor_and_skip_the_gap() {
    let cfg = WalkForwardConfig {
        total_len: 100,
        in_sample_len: 40,
        out_of_sample_len: 20,
        step: None,
        gap: 0,
        anchored: false,
    };
    let w = walk_forward_windows(&cfg).unwrap();
    let ranges: Vec<_> = w.iter().map(|w| (w.in_sample.clone(), w.out_of_sample.clone())).collect();
    assert_eq!(ranges, vec![(0..40, 40..60), (20..60, 60..80), (40..80, 80..100)]);
    let anchored =
        walk_forward_windows(&WalkForwardConfig { anchored: true, gap: 5, step: Some(25), ..cfg.clone() })
            .unwrap();
    let ranges: Vec<_> = anchored.iter().map(|w| (w.in_sample.clone(), w.out_of_sample.clone())).collect();
    assert_eq!(ranges, vec![(0..40, 45..65), (0..65, 70..90)]);
    assert!(walk_forward_windows(&WalkForwardConfig { total_len: 59, ..cfg.clone() }).is_err());
    assert!(walk_forward_windows(&WalkForwardConfig { out_of_sample_len: 0, ..cfg }).is_err());
}

#[test]
fn walk_forward_tracks_a_drifting_optimum() {
    // The best x is the window's start / 100; in-sample optimisation finds it and it carries over
    // to the next 20 indices with a small loss.
    let space = ParamSpace::new(vec![ParamSpec::real("x", 0.0, 1.0)]).unwrap();
    let cfg = WalkForwardConfig {
        total_len: 100,
        in_sample_len: 40,
        out_of_sample_len: 20,
        step: None,
        gap: 0,
        anchored: false,
    };
    let f = |p: &Params, r: std::ops::Range<usize>| -(p.get("x").unwrap() - r.start as f64 / 100.0).powi(2);
    let wf = walk_forward(&space, &Search::Grid { points_per_dim: 101 }, Goal::Maximize, &cfg, f).unwrap();
    assert_eq!(wf.rows.len(), 3);
    for row in &wf.rows {
        let x = row.best_params.as_ref().unwrap().get("x").unwrap();
        assert!((x - row.window.in_sample.start as f64 / 100.0).abs() < 1e-9);
        assert!(row.in_sample_objective.unwrap().abs() < 1e-12);
        // Out of sample the optimum has moved by 40/100: loss 0.16.
        assert!((row.out_of_sample_objective.unwrap() + 0.16).abs() < 1e-9);
        assert_eq!(row.trials, 101);
    }
    assert!((wf.mean_out_of_sample.unwrap() + 0.16).abs() < 1e-9);
}

#[test]
fn purged_k_fold_example_by_hand() {
    let folds = purged_k_fold(12, 3, 2, 1).unwrap();
    assert_eq!(folds[0].test, 0..4);
    assert_eq!(folds[0].train, (5..12).collect::<Vec<_>>()); // 4 embargoed
    assert_eq!(folds[1].test, 4..8);
    assert_eq!(folds[1].train, vec![0, 1, 9, 10, 11]); // 2, 3 purged; 8 embargoed
    assert_eq!(folds[2].train, vec![0, 1, 2, 3, 4, 5]); // 6, 7 purged
    assert!(purged_k_fold(5, 1, 0, 0).is_err());
    assert!(purged_k_fold(5, 6, 0, 0).is_err());
}

proptest! {
    #[test]
    fn purged_k_fold_keeps_train_out_of_the_embargo(n in 2usize..400, k in 2usize..12, e in 0usize..30) {
        prop_assume!(k <= n);
        let folds = purged_k_fold(n, k, e, e).unwrap();
        prop_assert_eq!(folds.len(), k);
        // The test blocks tile 0..n in order, sizes within one of each other.
        let mut next = 0;
        for f in &folds {
            prop_assert_eq!(f.test.start, next);
            next = f.test.end;
            prop_assert!(f.test.len() == n / k || f.test.len() == n / k + 1);
        }
        prop_assert_eq!(next, n);
        for f in &folds {
            prop_assert!(f.train.windows(2).all(|w| w[0] < w[1]));
            for &i in &f.train {
                // No training index is within e of any test index.
                let distance = if i < f.test.start { f.test.start - i } else { i + 1 - f.test.end };
                prop_assert!(!f.test.contains(&i));
                prop_assert!(distance > e, "train {} within {} of test {:?}", i, e, f.test);
            }
            // And nothing else is dropped.
            let dropped = n - f.train.len();
            let expected = f.test.end.saturating_add(e).min(n) - f.test.start.saturating_sub(e);
            prop_assert_eq!(dropped, expected);
        }
    }

    #[test]
    fn purged_k_fold_purges_before_and_embargoes_after(n in 2usize..300, k in 2usize..10, p in 0usize..20, e in 0usize..20) {
        prop_assume!(k <= n);
        for f in purged_k_fold(n, k, p, e).unwrap() {
            for &i in &f.train {
                prop_assert!(i + p < f.test.start || i >= f.test.end + e);
            }
        }
    }

    #[test]
    fn decoded_parameters_stay_in_range_and_snapping_is_idempotent(u in proptest::collection::vec(0.0f64..=1.0, 4)) {
        let space = ParamSpace::new(vec![
            ParamSpec::real("a", -3.0, 2.0),
            ParamSpec::log_real("b", 1e-3, 10.0),
            ParamSpec::integer("c", -5, 5),
            ParamSpec::log_integer("d", 1, 1000),
        ]).unwrap();
        let p = space.decode(&u);
        for spec in space.params() {
            let x = p.get(&spec.name).unwrap();
            prop_assert!(spec.lo <= x && x <= spec.hi, "{} = {}", spec.name, x);
            if spec.integer { prop_assert_eq!(x.fract(), 0.0); }
        }
        let s = space.snap(&u);
        prop_assert_eq!(space.decode(&s), p);
        prop_assert_eq!(space.snap(&s), s);
    }
}
