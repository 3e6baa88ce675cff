//! Inventory management: limits, reduction state machine, sizing and adaptive parameters.

use zkclob_core::Side;
use zkclob_strategy::inventory::{
    marketable_order, max_size_within_impact, sqrt_impact_ticks, AdaptiveConfig, InventoryConfig,
    InventoryManager, OrderStyle, ReductionConfig, ReductionState, RegimeId, RegimeParams, SizingConfig,
};
use zkclob_strategy::risk::{AuditLog, DecisionKind, Reason};
use zkclob_strategy::{BookLevel, MarketView, ModelDepths, StrategyError};

fn view<'a>(bids: &'a [BookLevel], asks: &'a [BookLevel], q: i64) -> MarketView<'a> {
    MarketView { time_s: 0.0, bids, asks, trades: &[], inventory_lots: q }
}

fn level(price_ticks: i64, qty_lots: u64) -> BookLevel {
    BookLevel { price_ticks, qty_lots }
}

fn manager(config: InventoryConfig) -> InventoryManager {
    InventoryManager::new(config, None).unwrap()
}

#[test]
fn the_impact_inverse_is_the_largest_size_within_budget() {
    for &(y, sigma, volume, budget) in &[
        (0.7, 50.0, 1e6, 1.0),
        (0.5, 10.0, 2e5, 0.3),
        (1.0, 200.0, 5e7, 4.0),
        (0.8, 3.0, 1e4, 0.05),
        (0.6, 25.0, 1e9, 2.5),
    ] {
        let q = max_size_within_impact(y, sigma, volume, budget);
        assert!(sqrt_impact_ticks(y, sigma, q as f64, volume) <= budget, "{q} breaks the budget");
        assert!(sqrt_impact_ticks(y, sigma, (q + 1) as f64, volume) > budget, "{q} is not the largest");
    }
    // I = 0.5·10·√(Q/1e6) ≤ 0.5 ⇔ Q ≤ 10 000.
    assert_eq!(max_size_within_impact(0.5, 10.0, 1e6, 0.5), 10_000);
    assert_eq!(max_size_within_impact(0.5, f64::NAN, 1e6, 0.5), 0);
    assert_eq!(max_size_within_impact(0.5, 10.0, -1.0, 0.5), 0);
    assert_eq!(max_size_within_impact(0.5, 0.0, 1e6, 0.5), u64::MAX);
}

#[test]
fn sizes_never_exceed_the_room_under_the_hard_limit() {
    let m = manager(InventoryConfig { max_position_lots: 10, base_size_lots: 4, ..Default::default() });
    let (bids, asks) = ([level(100, 50)], [level(101, 50)]);
    let (regime, _) = m.regime(None);
    for q in -12..=12 {
        let v = view(&bids, &asks, q);
        for side in [Side::Buy, Side::Sell] {
            let s = m.size(side, q, 4, &v, None, regime, OrderStyle::Passive, false);
            let after = if side == Side::Buy { q + s.qty_lots as i64 } else { q - s.qty_lots as i64 };
            assert!(after.abs() <= 10 || s.qty_lots == 0, "q {q} {side:?} size {}", s.qty_lots);
            assert_eq!(s.qty_lots, m.room_lots(side, q).min(4));
            if s.qty_lots < 4 {
                assert_eq!(s.binding, Reason::SizeLimitRoom);
            }
        }
    }
    assert_eq!(m.room_lots(Side::Buy, 10), 0);
    assert_eq!(m.room_lots(Side::Sell, -10), 0);
    assert_eq!(m.room_lots(Side::Buy, i64::MIN), u64::try_from(i64::MAX).unwrap());
}

#[test]
fn the_impact_budget_and_the_touch_liquidity_cap_sizes_and_say_so() {
    let sizing = SizingConfig {
        impact_coefficient: 0.5,
        daily_volume_lots: Some(1e6),
        daily_sigma_ticks: Some(100.0),
        impact_budget_ticks: 0.25, // Q ≤ 1e6·(0.25/50)² = 25
        touch_fraction: Some(0.5),
        min_liquidity_size_lots: 2,
        ..Default::default()
    };
    let config =
        InventoryConfig { max_position_lots: 1_000, base_size_lots: 100, sizing, ..Default::default() };
    let m = manager(config);
    let (regime, _) = m.regime(None);
    let deep = ([level(100, 1_000)], [level(101, 1_000)]);
    let s = m.size(Side::Buy, 0, 100, &view(&deep.0, &deep.1, 0), None, regime, OrderStyle::Passive, false);
    assert_eq!((s.qty_lots, s.binding), (25, Reason::SizeImpactBudget));
    // Thin own touch (bid 20 lots): half of it.
    let thin = ([level(100, 20)], [level(101, 1_000)]);
    let s = m.size(Side::Buy, 0, 100, &view(&thin.0, &thin.1, 0), None, regime, OrderStyle::Passive, false);
    assert_eq!((s.qty_lots, s.binding), (10, Reason::SizeTouchLiquidity));
    // A marketable buy is capped by the ask touch instead; never below the minimum.
    let s = m.size(
        Side::Buy,
        0,
        100,
        &view(&deep.0, &[level(101, 1)], 0),
        None,
        regime,
        OrderStyle::Marketable,
        false,
    );
    assert_eq!((s.qty_lots, s.binding), (2, Reason::SizeTouchLiquidity));
    // σ_daily from a calibrated σ: 100/√23 400 ticks/√s gives the same daily σ.
    let derived = InventoryConfig {
        sizing: SizingConfig { daily_sigma_ticks: None, touch_fraction: None, ..sizing },
        ..m.config().clone()
    };
    let m2 = manager(derived);
    let sigma = 100.0 / 23_400f64.sqrt();
    let s = m2.size(
        Side::Sell,
        0,
        100,
        &view(&deep.0, &deep.1, 0),
        Some(sigma),
        regime,
        OrderStyle::Passive,
        false,
    );
    assert_eq!(s.qty_lots, 25);
}

#[test]
fn reducing_orders_never_flip_the_position() {
    let m = manager(InventoryConfig { base_size_lots: 5, ..Default::default() });
    let (bids, asks) = ([level(100, 50)], [level(101, 50)]);
    let (regime, _) = m.regime(None);
    let s = m.size(Side::Sell, 3, 5, &view(&bids, &asks, 3), None, regime, OrderStyle::Passive, true);
    assert_eq!((s.qty_lots, s.binding), (3, Reason::SizeInventory));
}

fn reduction_manager() -> InventoryManager {
    manager(InventoryConfig {
        max_position_lots: 10,
        reduction: ReductionConfig {
            soft_threshold_lots: 4,
            passive_threshold_lots: 7,
            one_sided_timeout_s: 30.0,
            passive_timeout_s: 60.0,
            ..Default::default()
        },
        ..Default::default()
    })
}

fn reduction_reasons(audit: &AuditLog) -> Vec<Reason> {
    audit.iter().filter(|d| d.kind == DecisionKind::Reduction).map(|d| d.reason).collect()
}

#[test]
fn inventory_thresholds_drive_the_reduction_states_with_their_reasons() {
    use ReductionState as S;
    let mut m = reduction_manager();
    let mut audit = AuditLog::new(100);
    let path =
        [(0, S::Normal), (4, S::Normal), (5, S::OneSided), (7, S::PassiveUnwind), (10, S::AggressiveUnwind)];
    for (i, (q, want)) in path.into_iter().enumerate() {
        assert_eq!(m.update_state(i as f64, q, &mut audit), want, "q = {q}");
    }
    assert_eq!(m.update_state(5.0, -3, &mut audit), S::Normal);
    assert_eq!(m.update_state(6.0, -8, &mut audit), S::PassiveUnwind);
    assert_eq!(
        reduction_reasons(&audit),
        [
            Reason::InventoryBeyondSoft,
            Reason::InventoryBeyondPassive,
            Reason::InventoryAtHardLimit,
            Reason::InventoryWithinSoft,
            Reason::InventoryBeyondPassive
        ]
    );
    let last = audit.last().unwrap();
    assert_eq!((last.detail.value, last.detail.limit), (-8.0, 7.0));
}

#[test]
fn timeouts_escalate_from_one_sided_to_passive_to_aggressive() {
    use ReductionState as S;
    let mut m = reduction_manager();
    let mut audit = AuditLog::new(100);
    assert_eq!(m.update_state(100.0, 5, &mut audit), S::OneSided);
    assert_eq!(m.update_state(129.9, 6, &mut audit), S::OneSided);
    assert_eq!(m.update_state(130.0, 5, &mut audit), S::PassiveUnwind);
    assert_eq!(m.update_state(189.9, 6, &mut audit), S::PassiveUnwind);
    assert_eq!(m.update_state(190.0, 6, &mut audit), S::AggressiveUnwind);
    assert_eq!(
        reduction_reasons(&audit),
        [Reason::InventoryBeyondSoft, Reason::OneSidedTimeout, Reason::PassiveTimeout]
    );
    // Back within the soft threshold: normal, and the timers restart.
    assert_eq!(m.update_state(191.0, 2, &mut audit), S::Normal);
    assert_eq!(m.update_state(192.0, 5, &mut audit), S::OneSided);
    assert_eq!(m.update_state(200.0, 5, &mut audit), S::OneSided);
    // A sign flip restarts the timers too.
    assert_eq!(m.update_state(221.0, -5, &mut audit), S::OneSided);
    assert_eq!(m.update_state(250.0, -5, &mut audit), S::OneSided);
    assert_eq!(m.update_state(251.0, -5, &mut audit), S::PassiveUnwind);
}

#[test]
fn extra_skew_leans_both_depths_and_volatility_scaling_widens_only_the_symmetric_part() {
    let config = InventoryConfig {
        skew_ticks_per_lot: 0.25,
        adaptive: AdaptiveConfig {
            reference_sigma: Some(1.0),
            sigma_exponent: 1.0,
            min_spread_scale: 0.5,
            max_spread_scale: 3.0,
        },
        ..Default::default()
    };
    let m = manager(config);
    let (regime, _) = m.regime(None);
    let depths = ModelDepths { bid_depth: Some(3.0), ask_depth: Some(1.0), ..Default::default() };
    let scale = m.spread_scale(Some(2.0), regime);
    assert_eq!(scale, 2.0);
    let out = m.adjust_depths(&depths, 4, scale, regime);
    // centre 2 → 4, lean +1 kept, skew 0.25·4 = 1 on top.
    assert_eq!(out.bid_depth, Some(4.0 + 1.0 + 1.0));
    assert_eq!(out.ask_depth, Some(4.0 - 1.0 - 1.0));
    assert_eq!(out.spread, Some(8.0));
    assert_eq!(m.spread_scale(Some(100.0), regime), 3.0, "clamped");
    assert_eq!(m.spread_scale(Some(0.01), regime), 0.5, "clamped");
    assert_eq!(m.spread_scale(None, regime), 1.0);
    assert_eq!(m.spread_scale(Some(f64::NAN), regime), 1.0);
    // A crossing (negative) depth is never made more aggressive by the scale.
    let crossing = ModelDepths { bid_depth: Some(-2.0), ask_depth: None, ..Default::default() };
    assert_eq!(m.adjust_depths(&crossing, 0, 3.0, regime).bid_depth, Some(-2.0));
    let nan = ModelDepths { bid_depth: Some(f64::NAN), ask_depth: Some(1.0), ..Default::default() };
    assert_eq!(m.adjust_depths(&nan, 0, 1.0, regime).bid_depth, None);
}

#[test]
fn regimes_are_found_by_name_and_an_unknown_id_falls_back_to_the_base_set() {
    let wide = RegimeParams {
        name: "wide".into(),
        spread_multiplier: 2.0,
        size_multiplier: 0.5,
        skew_ticks_per_lot: Some(1.0),
    };
    let m = manager(InventoryConfig { base_size_lots: 4, regimes: vec![wide], ..Default::default() });
    let id = m.regime_id("wide").unwrap();
    assert_eq!(id, RegimeId(0));
    assert_eq!(m.regime_id("calm"), None);
    let (params, known) = m.regime(Some(id));
    assert!(known && params.name == "wide");
    assert_eq!(m.spread_scale(None, params), 2.0);
    let (bids, asks) = ([level(100, 50)], [level(101, 50)]);
    let s = m.size(Side::Buy, 0, 4, &view(&bids, &asks, 0), None, params, OrderStyle::Passive, false);
    assert_eq!(s.qty_lots, 2);
    let (base, known) = m.regime(Some(RegimeId(7)));
    assert!(!known && base.name == "base");
}

#[test]
fn marketable_orders_cross_the_spread_within_their_price_protection() {
    let (bids, asks) = ([level(100, 5)], [level(103, 5)]);
    let v = view(&bids, &asks, 0);
    assert_eq!(
        marketable_order(&v, 4, 2, 1, None).map(|(s, o)| (s, o.price_ticks, o.qty_lots)),
        Some((Side::Sell, 99, 2))
    );
    assert_eq!(marketable_order(&v, -4, 2, 1, None).map(|(s, o)| (s, o.price_ticks)), Some((Side::Buy, 104)));
    assert_eq!(marketable_order(&v, 4, 2, 5, Some(98)).map(|(_, o)| o.price_ticks), Some(98));
    assert_eq!(marketable_order(&v, -4, 2, 5, Some(105)).map(|(_, o)| o.price_ticks), Some(105));
    assert_eq!(marketable_order(&v, 0, 2, 0, None), None);
    assert_eq!(marketable_order(&v, 4, 0, 0, None), None);
    assert_eq!(marketable_order(&view(&[], &asks, 4), 4, 1, 0, None), None);
}

#[test]
fn bad_inventory_configurations_are_typed_errors_naming_the_field() {
    let r = ReductionConfig::default();
    let bad = [
        ("max_position_lots", InventoryConfig { max_position_lots: 0, ..Default::default() }),
        ("base_size_lots", InventoryConfig { base_size_lots: 0, ..Default::default() }),
        (
            "reduction.soft_threshold_lots",
            InventoryConfig {
                reduction: ReductionConfig { soft_threshold_lots: 9, ..r },
                ..Default::default()
            },
        ),
        (
            "reduction.passive_threshold_lots",
            InventoryConfig {
                reduction: ReductionConfig { passive_threshold_lots: 11, ..r },
                ..Default::default()
            },
        ),
        (
            "reduction.passive_timeout_s",
            InventoryConfig {
                reduction: ReductionConfig { passive_timeout_s: -1.0, ..r },
                ..Default::default()
            },
        ),
        (
            "sizing.touch_fraction",
            InventoryConfig {
                sizing: SizingConfig { touch_fraction: Some(0.0), ..Default::default() },
                ..Default::default()
            },
        ),
        ("skew_ticks_per_lot", InventoryConfig { skew_ticks_per_lot: f64::INFINITY, ..Default::default() }),
    ];
    for (name, config) in bad {
        match InventoryManager::new(config, None) {
            Err(StrategyError::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: expected InvalidParameter, got {other:?}"),
        }
    }
    let twin = RegimeParams {
        name: "x".into(),
        spread_multiplier: 1.0,
        size_multiplier: 1.0,
        skew_ticks_per_lot: None,
    };
    let dup = InventoryConfig { regimes: vec![twin.clone(), twin], ..Default::default() };
    assert!(InventoryManager::new(dup, None).is_err());
}

#[test]
fn the_hard_limit_is_the_smaller_of_the_configured_and_the_model_limit() {
    let config = InventoryConfig { max_position_lots: 10, ..Default::default() };
    assert_eq!(InventoryManager::new(config.clone(), Some(6)).unwrap().hard_limit_lots(), 6);
    assert_eq!(InventoryManager::new(config.clone(), Some(60)).unwrap().hard_limit_lots(), 10);
    assert!(InventoryManager::new(config, Some(0)).is_err());
}

#[test]
fn regimes_read_from_toml_with_defaults() {
    let config: InventoryConfig = toml::from_str(
        "max_position_lots = 20\n[[regimes]]\nname = \"calm\"\n[[regimes]]\nname = \"news\"\nspread_multiplier = 3.0\n",
    )
    .unwrap();
    assert_eq!(config.regimes.len(), 2);
    assert_eq!(config.regimes[0].spread_multiplier, 1.0);
    assert_eq!(config.regimes[1].spread_multiplier, 3.0);
    assert!(toml::from_str::<InventoryConfig>("[[regimes]]\nname = \"x\"\nspread = 2.0\n").is_err());
}
