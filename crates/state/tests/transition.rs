//! The state transition: balances, locks, fees, signatures, nonces, ownership, and invariants after
//! every command of random signed streams.

mod common;

use common::*;
use zkclob_book::{OrderKind, RejectReason, StpMode, TimeInForce};
use zkclob_core::{Amount, DetRng, MarketId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};
use zkclob_state::{
    Action, BatchHeader, Command, FeeSchedule, NativeCrypto, OrderParams, Receipt, RejectCode,
};

fn rejected(r: Receipt) -> RejectCode {
    match r {
        Receipt::Rejected(c) => c,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn resting_buy_locks_quote_and_cancel_unlocks_it() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 0, 1_000_000);
    let r = w.act(&mut alice, limit(0, Side::Buy, 100, 50));
    let Receipt::Applied(a) = r else { panic!("{r:?}") };
    let b = w.state.balance(&alice.address, QUOTE);
    assert_eq!((b.available, b.locked), (1_000_000 - 100 * 50 * 10, 100 * 50 * 10));
    let id = a.order_id.unwrap();
    w.act(&mut alice, Action::Cancel { market: MarketId(0), order_id: id });
    let b = w.state.balance(&alice.address, QUOTE);
    assert_eq!((b.available, b.locked), (1_000_000, 0));
}

#[test]
fn a_fill_moves_assets_and_charges_fees_in_the_received_asset() {
    let mut w = World::new();
    let (mut maker, mut taker) = (Wallet::new(1), Wallet::new(2));
    w.fund(&maker, 100_000, 0);
    w.fund(&taker, 0, 10_000_000);
    w.act(&mut maker, limit(0, Side::Sell, 100, 40));
    // The taker bids 105: trades at 100, gets the price improvement back.
    let r = w.act(&mut taker, limit(0, Side::Buy, 105, 40));
    assert!(matches!(r, Receipt::Applied(a) if a.filled == Qty(40) && a.fills == 1));
    let base = 40 * 1_000u128;
    let quote = 100 * 40 * 10u128;
    let taker_fee = (base * 25).div_ceil(10_000);
    let maker_fee = (quote * 10).div_ceil(10_000);
    assert_eq!(w.state.balance(&taker.address, BASE).available, base - taker_fee);
    assert_eq!(w.state.balance(&taker.address, QUOTE).available, 10_000_000 - quote);
    assert_eq!(w.state.balance(&maker.address, QUOTE).available, quote - maker_fee);
    assert_eq!(w.state.balance(&maker.address, BASE).available, 100_000 - base);
    assert_eq!((w.state.fees_collected(BASE), w.state.fees_collected(QUOTE)), (taker_fee, maker_fee));
}

#[test]
fn insufficient_balance_is_rejected_and_changes_nothing() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 10, 100);
    let before = w.state.balance(&alice.address, QUOTE);
    assert_eq!(rejected(w.act(&mut alice, limit(0, Side::Buy, 100, 1))), RejectCode::InsufficientBalance);
    assert_eq!(w.state.balance(&alice.address, QUOTE), before);
    // The nonce was not consumed: the same nonce works for the next command.
    assert_eq!(w.state.account(&alice.address).unwrap().nonce, 0);
    let r = w.act(&mut alice, Action::Withdraw { asset: QUOTE, amount: Amount(100) });
    assert!(matches!(r, Receipt::Applied(_)), "{r:?}");
    assert_eq!(w.state.withdrawals().len(), 1);
    assert_eq!(
        rejected(w.act(&mut alice, Action::Withdraw { asset: QUOTE, amount: Amount(1) })),
        RejectCode::InsufficientBalance
    );
}

#[test]
fn forged_signature_is_rejected() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 0, 1_000_000);
    let Command::Signed(mut cmd) = alice.sign(limit(0, Side::Buy, 100, 1)) else { unreachable!() };
    cmd.signature[10] ^= 1;
    assert_eq!(rejected(w.run(Command::Signed(cmd.clone()))), RejectCode::BadSignature);
    // A valid signature over a different action does not carry over.
    let Command::Signed(other) = alice.sign_with_nonce(0, limit(0, Side::Buy, 101, 1)) else {
        unreachable!()
    };
    cmd.signature = other.signature;
    assert_eq!(rejected(w.run(Command::Signed(cmd))), RejectCode::BadSignature);
    // Someone else's key claiming alice's command: verifies for the wrong address, which has no account.
    let mallory = Wallet::new(9);
    assert_eq!(
        rejected(w.run(mallory.sign_with_nonce(0, limit(0, Side::Buy, 100, 1)))),
        RejectCode::UnknownAccount
    );
}

#[test]
fn high_s_twin_of_a_valid_signature_is_rejected() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 0, 1_000_000);
    let Command::Signed(mut cmd) = alice.sign(limit(0, Side::Buy, 100, 1)) else { unreachable!() };
    let sig = k256::ecdsa::Signature::from_slice(&cmd.signature).unwrap();
    let (r, s) = sig.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    cmd.signature.copy_from_slice(&high.to_bytes());
    assert_eq!(rejected(w.run(Command::Signed(cmd))), RejectCode::BadSignature);
}

#[test]
fn replayed_and_skipped_nonces_are_rejected() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 0, 1_000_000);
    let first = alice.sign(limit(0, Side::Buy, 100, 1));
    assert!(matches!(w.run(first.clone()), Receipt::Applied(_)));
    assert_eq!(rejected(w.run(first)), RejectCode::NonceReused { expected: 1 });
    let skipped = alice.sign_with_nonce(5, limit(0, Side::Buy, 100, 1));
    assert_eq!(rejected(w.run(skipped)), RejectCode::NonceGap { expected: 1 });
}

#[test]
fn acting_on_another_accounts_order_is_rejected() {
    let mut w = World::new();
    let (mut alice, mut bob) = (Wallet::new(1), Wallet::new(2));
    w.fund(&alice, 0, 1_000_000);
    w.fund(&bob, 0, 1_000_000);
    let Receipt::Applied(a) = w.act(&mut alice, limit(0, Side::Buy, 100, 5)) else { panic!() };
    let id = a.order_id.unwrap();
    assert_eq!(
        rejected(w.act(&mut bob, Action::Cancel { market: MarketId(0), order_id: id })),
        RejectCode::NotYourOrder
    );
    let amend = Action::Amend { market: MarketId(0), order_id: id, price: Price(90), qty: Qty(1) };
    assert_eq!(rejected(w.act(&mut bob, amend)), RejectCode::NotYourOrder);
    // Alice naming the wrong market: that market has no such order.
    assert_eq!(
        rejected(w.act(&mut alice, Action::Cancel { market: MarketId(1), order_id: id })),
        RejectCode::Book(RejectReason::UnknownOrder)
    );
    assert!(w.state.order(id).is_some());
}

#[test]
fn only_the_operator_adds_markets_and_specs_are_checked() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 1, 1);
    assert_eq!(
        rejected(w.act(&mut alice, Action::AddMarket { spec: spec(7), fees: FEES })),
        RejectCode::NotOperator
    );
    let op = &mut w.operator;
    let dup = op.sign(Action::AddMarket { spec: spec(0), fees: FEES });
    let bad = op.sign(Action::AddMarket { spec: MarketSpec { tick_size: 0, ..spec(8) }, fees: FEES });
    let fees =
        op.sign(Action::AddMarket { spec: spec(9), fees: FeeSchedule { maker_bps: 0, taker_bps: 5_000 } });
    assert_eq!(rejected(w.run(dup)), RejectCode::MarketExists);
    assert_eq!(rejected(w.run(bad)), RejectCode::InvalidSpec);
    assert_eq!(rejected(w.run(fees)), RejectCode::InvalidFees);
}

#[test]
fn book_rejections_are_receipted_with_the_book_reason() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 0, 1_000_000);
    let r = w.act(&mut alice, limit(0, Side::Buy, 0, 1));
    assert!(matches!(rejected(r), RejectCode::Book(RejectReason::Price(_))));
    let r = w.act(&mut alice, limit(0, Side::Buy, 10, 0));
    assert!(matches!(rejected(r), RejectCode::Book(RejectReason::Qty(_))));
    assert_eq!(rejected(w.act(&mut alice, limit(5, Side::Buy, 10, 1))), RejectCode::UnknownMarket);
}

#[test]
fn amend_up_needs_funds_and_amend_down_releases_them() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 0, 60_000);
    let Receipt::Applied(a) = w.act(&mut alice, limit(0, Side::Buy, 100, 50)) else { panic!() };
    let id = a.order_id.unwrap();
    let up = Action::Amend { market: MarketId(0), order_id: id, price: Price(200), qty: Qty(50) };
    assert_eq!(rejected(w.act(&mut alice, up)), RejectCode::InsufficientBalance);
    let down = Action::Amend { market: MarketId(0), order_id: id, price: Price(100), qty: Qty(10) };
    assert!(matches!(w.act(&mut alice, down), Receipt::Applied(_)));
    assert_eq!(w.state.balance(&alice.address, QUOTE).locked, 100 * 10 * 10);
}

#[test]
fn gtd_orders_expire_when_a_batch_at_or_after_their_time_touches_their_market() {
    let mut w = World::new();
    let mut alice = Wallet::new(1);
    w.fund(&alice, 1_000, 0);
    let gtd = Action::Place(OrderParams {
        market: MarketId(0),
        side: Side::Sell,
        kind: OrderKind::Limit,
        price: Price(100),
        qty: Qty(1),
        tif: TimeInForce::Gtd(Timestamp(5_000)),
        post_only: false,
        display_qty: None,
        stp: StpMode::CancelNewest,
    });
    w.act(&mut alice, gtd);
    assert_eq!(w.state.balance(&alice.address, BASE).locked, 1_000);
    // A batch that does not name the market leaves it as it is (expiry is lazy per market).
    w.batch += 1;
    let header = BatchHeader { batch_number: w.batch, timestamp: Timestamp(5_000), prev_root: [0; 32] };
    w.state.apply_batch(&NativeCrypto, &header, [0; 32], &[]).unwrap();
    assert_eq!(w.state.balance(&alice.address, BASE).locked, 1_000);
    // The next batch naming market 0 expires it before any of its commands runs, even a rejected one.
    let mut bob = Wallet::new(2);
    w.fund(&bob, 0, 10);
    let cmd = bob.sign(limit(0, Side::Buy, 100, 1)); // bob cannot pay: rejected
    w.batch += 1;
    let header = BatchHeader { batch_number: w.batch, timestamp: Timestamp(5_001), prev_root: [0; 32] };
    let receipts = w.state.apply_batch(&NativeCrypto, &header, [0; 32], &[cmd]).unwrap();
    assert_eq!(receipts, [Receipt::Rejected(RejectCode::InsufficientBalance)]);
    assert_eq!(w.state.balance(&alice.address, BASE), zkclob_state::Balance { available: 1_000, locked: 0 });
    w.state.check_invariants().unwrap();
}

#[test]
fn a_market_moves_to_the_batch_time_at_the_first_command_that_names_it() {
    let mut w = World::new();
    let (mut alice, mut bob) = (Wallet::new(1), Wallet::new(2));
    w.fund(&alice, 1_000, 0);
    w.fund(&bob, 0, 10);
    let gtd = Action::Place(OrderParams {
        market: MarketId(0),
        side: Side::Sell,
        kind: OrderKind::Limit,
        price: Price(100),
        qty: Qty(1),
        tif: TimeInForce::Gtd(Timestamp(5_000)),
        post_only: false,
        display_qty: None,
        stp: StpMode::CancelNewest,
    });
    w.act(&mut alice, gtd);
    let withdraw = Action::Withdraw { asset: BASE, amount: Amount(1_000) };
    // In a batch past the expiry: alice's withdrawal before any command names market 0 finds her
    // base still locked; bob's (rejected) order names the market and moves its time, expiring the
    // order; the same withdrawal then succeeds. Applied one by one after `begin_batch`, as the node
    // does, and as a whole batch, the receipts and states agree.
    let cmds = [
        alice.sign_with_nonce(1, withdraw.clone()),
        bob.sign(limit(0, Side::Buy, 100, 1)),
        alice.sign_with_nonce(1, withdraw),
    ];
    let header = BatchHeader { batch_number: w.batch + 1, timestamp: Timestamp(5_001), prev_root: [0; 32] };
    let mut one_by_one = w.state.clone();
    let receipts = w.state.apply_batch(&NativeCrypto, &header, [0; 32], &cmds).unwrap();
    assert_eq!(rejected(receipts[0]), RejectCode::InsufficientBalance);
    assert_eq!(rejected(receipts[1]), RejectCode::InsufficientBalance);
    assert!(matches!(receipts[2], Receipt::Applied(_)), "{:?}", receipts[2]);
    one_by_one.begin_batch(&header, [0; 32]).unwrap();
    let again: Vec<Receipt> = cmds.iter().map(|c| one_by_one.apply(&NativeCrypto, c)).collect();
    assert_eq!(again, receipts);
    assert_eq!(one_by_one.global_leaf(), w.state.global_leaf());
    assert_eq!(
        one_by_one.account_leaf(zkclob_core::AccountId(0)),
        w.state.account_leaf(zkclob_core::AccountId(0))
    );
    w.state.check_invariants().unwrap();
}

#[test]
fn batch_headers_are_checked() {
    let mut w = World::new();
    let h = |n, t| BatchHeader { batch_number: n, timestamp: Timestamp(t), prev_root: [0; 32] };
    assert!(w.state.apply_batch(&NativeCrypto, &h(2, 1), [0; 32], &[]).is_err());
    assert!(w.state.apply_batch(&NativeCrypto, &h(1, 10), [1; 32], &[]).is_err());
    assert!(w.state.apply_batch(&NativeCrypto, &h(1, 10), [0; 32], &[]).is_ok());
    assert!(w.state.apply_batch(&NativeCrypto, &h(2, 9), [0; 32], &[]).is_err());
}

/// A random but valid-looking command for one of `wallets`.
fn random_action(rng: &mut DetRng, live: &[OrderId]) -> Action {
    let market = MarketId(rng.below(2) as u32);
    match rng.below(100) {
        0..=59 => {
            let side = if rng.chance(1, 2) { Side::Buy } else { Side::Sell };
            let tif = [TimeInForce::Gtc, TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok]
                [rng.below(4) as usize];
            let kind = if rng.chance(1, 10) { OrderKind::Market } else { OrderKind::Limit };
            let tif = if kind == OrderKind::Market { TimeInForce::Ioc } else { tif };
            let qty = 1 + rng.below(60);
            let display =
                if tif == TimeInForce::Gtc && kind == OrderKind::Limit && rng.chance(1, 10) && qty > 2 {
                    Some(Qty(1 + rng.below(qty - 1)))
                } else {
                    None
                };
            let stp = [StpMode::CancelNewest, StpMode::CancelOldest, StpMode::CancelBoth, StpMode::Decrement]
                [rng.below(4) as usize];
            Action::Place(OrderParams {
                market,
                side,
                kind,
                price: Price(rng.range_i64(90, 110)),
                qty: Qty(qty),
                tif,
                post_only: kind == OrderKind::Limit && tif == TimeInForce::Gtc && rng.chance(1, 10),
                display_qty: display,
                stp,
            })
        }
        60..=79 if !live.is_empty() => {
            Action::Cancel { market, order_id: live[rng.below(live.len() as u64) as usize] }
        }
        80..=89 if !live.is_empty() => Action::Amend {
            market,
            order_id: live[rng.below(live.len() as u64) as usize],
            price: Price(rng.range_i64(90, 110)),
            qty: Qty(1 + rng.below(60)),
        },
        90..=94 => Action::MassCancel { market, side: None },
        _ => Action::Withdraw {
            asset: if rng.chance(1, 2) { BASE } else { QUOTE },
            amount: Amount(1 + rng.below(5_000) as u128),
        },
    }
}

#[test]
fn a_thousand_random_signed_commands_keep_every_invariant() {
    let mut w = World::new();
    let mut wallets: Vec<Wallet> = (1..=6).map(Wallet::new).collect();
    for wallet in &wallets {
        w.fund(wallet, 200_000, 20_000_000);
    }
    let mut rng = DetRng::seed_from_u64(77);
    let (mut applied, mut fills) = (0, 0);
    for step in 0..1_000 {
        let live: Vec<OrderId> = (1..200).map(OrderId).filter(|id| w.state.order(*id).is_some()).collect();
        let who = rng.below(wallets.len() as u64) as usize;
        let action = random_action(&mut rng, &live);
        let cmd = wallets[who].sign(action);
        let r = w.state.apply(&NativeCrypto, &cmd);
        match r {
            Receipt::Applied(a) => {
                applied += 1;
                fills += a.fills;
            }
            Receipt::Rejected(_) => wallets[who].nonce -= 1, // not consumed
        }
        if let Err(v) = w.state.check_invariants() {
            panic!("step {step}: {v} after {cmd:?} -> {r:?}");
        }
    }
    assert!(applied > 500 && fills > 100, "the stream exercised little: {applied} applied, {fills} fills");
}

#[test]
fn the_operator_collects_fees_into_its_account_and_withdraws_them() {
    let mut w = World::new();
    let (mut maker, mut taker) = (Wallet::new(1), Wallet::new(2));
    w.fund(&maker, 100_000, 0);
    w.fund(&taker, 0, 10_000_000);
    w.act(&mut maker, limit(0, Side::Sell, 100, 40));
    w.act(&mut taker, limit(0, Side::Buy, 105, 40));
    let fees = w.state.fees_collected(QUOTE);
    assert!(fees > 0);
    let collect = |amount: u128| Action::CollectFees { asset: QUOTE, amount: Amount(amount) };
    // The operator's AddMarket commands used no account nonce; its account starts at 0.
    let mut op = Wallet::new(200);
    assert_eq!(op.address, w.operator.address);
    assert_eq!(rejected(w.act(&mut op, collect(1))), RejectCode::UnknownAccount, "no account yet");
    w.fund(&op, 0, 7); // one deposit opens it
    assert_eq!(rejected(w.act(&mut maker, collect(1))), RejectCode::NotOperator);
    assert_eq!(rejected(w.act(&mut op, collect(0))), RejectCode::ZeroAmount);
    assert_eq!(rejected(w.act(&mut op, collect(fees + 1))), RejectCode::InsufficientBalance);
    assert_eq!(w.state.fees_collected(QUOTE), fees, "refusals move nothing");

    let taken = w.act(&mut op, collect(fees));
    assert!(matches!(taken, Receipt::Applied(_)), "{taken:?}");
    assert_eq!(w.state.fees_collected(QUOTE), 0);
    assert_eq!(w.state.balance(&op.address, QUOTE).available, 7 + fees);
    // The same signed command again is a replay.
    let replay = w.run(op.sign_with_nonce(op.nonce - 1, collect(fees)));
    assert_eq!(rejected(replay), RejectCode::NonceReused { expected: op.nonce });
    // Out to L1 like any balance.
    let r = w.act(&mut op, Action::Withdraw { asset: QUOTE, amount: Amount(fees) });
    assert!(matches!(r, Receipt::Applied(_)), "{r:?}");
    let last = w.state.withdrawals().last().unwrap();
    assert_eq!((last.to, last.asset, last.amount), (op.address, QUOTE, Amount(fees)));
}
