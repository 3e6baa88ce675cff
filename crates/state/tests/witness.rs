//! Executing a batch from its witness alone (what the zkVM guests do) gives the same post-root and
//! receipts as the native node; tampered witnesses and wrong pre-roots fail instead of committing.

mod common;

use common::*;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::codec::{decode, encode};
use zkclob_core::{Amount, DetRng, MarketId, OrderId, Price, Qty, Side, Timestamp};
use zkclob_state::merkle::Sha256Hasher;
use zkclob_state::{
    execute, Action, Address, BatchHeader, Command, ExchangeState, NativeCrypto, OrderParams, Receipt,
    ReceivedBatch, StateCommitment, Witness, WitnessError,
};

fn random_action(rng: &mut DetRng, state: &ExchangeState, now: u64) -> Action {
    let market = MarketId(rng.below(2) as u32);
    let live: Vec<OrderId> = (1..2_000).map(OrderId).filter(|id| state.order(*id).is_some()).collect();
    match rng.below(100) {
        0..=64 => {
            let kind = if rng.chance(1, 10) { OrderKind::Market } else { OrderKind::Limit };
            let tif = if kind == OrderKind::Market {
                TimeInForce::Ioc
            } else {
                [
                    TimeInForce::Gtc,
                    TimeInForce::Gtc,
                    TimeInForce::Ioc,
                    TimeInForce::Gtd(Timestamp(now + 1_000)),
                ][rng.below(4) as usize]
            };
            Action::Place(OrderParams {
                market,
                side: if rng.chance(1, 2) { Side::Buy } else { Side::Sell },
                kind,
                price: Price(rng.range_i64(95, 105)),
                qty: Qty(1 + rng.below(40)),
                tif,
                post_only: false,
                display_qty: None,
                stp: [StpMode::CancelNewest, StpMode::Decrement][rng.below(2) as usize],
            })
        }
        65..=84 if !live.is_empty() => {
            Action::Cancel { market, order_id: live[rng.below(live.len() as u64) as usize] }
        }
        85..=92 if !live.is_empty() => Action::Amend {
            market,
            order_id: live[rng.below(live.len() as u64) as usize],
            price: Price(rng.range_i64(95, 105)),
            qty: Qty(1 + rng.below(40)),
        },
        93..=95 => Action::MassCancel { market, side: None },
        _ => Action::Withdraw { asset: BASE, amount: Amount(1 + rng.below(1_000) as u128) },
    }
}

struct Setup {
    world: World,
    wallets: Vec<Wallet>,
    commitment: StateCommitment<Sha256Hasher>,
}

/// Two markets, eight funded wallets, and one committed batch of resting orders.
fn setup() -> Setup {
    let mut world = World::new();
    let wallets: Vec<Wallet> = (1..=8).map(Wallet::new).collect();
    for w in &wallets {
        world.fund(w, 1_000_000, 100_000_000);
    }
    let commitment = StateCommitment::build(Sha256Hasher, &mut world.state).unwrap();
    Setup { world, wallets, commitment }
}

/// Generates `n` commands by simulating them on a scratch copy, so every nonce is right whether
/// a command ends up applied or rejected; adds deposits (some to new addresses) and a few
/// commands that must be rejected (forged signature, replayed nonce, unknown signer).
fn random_batch(s: &mut Setup, n: usize, seed: u64, now: u64) -> Vec<Command> {
    let mut rng = DetRng::seed_from_u64(seed);
    let mut scratch = s.world.state.clone();
    // Move the scratch copy to the batch's time so outcomes (and so nonces) match the real run.
    let h =
        BatchHeader { batch_number: scratch.batch_number + 1, timestamp: Timestamp(now), prev_root: [0; 32] };
    scratch.apply_batch(&NativeCrypto, &h, [0; 32], &[]).expect("scratch header");
    let mut commands = Vec::with_capacity(n);
    for i in 0..n {
        let cmd = if i % 97 == 5 {
            let mut a = [0u8; 20];
            a[..8].copy_from_slice(&(seed * 1_000 + i as u64).to_le_bytes());
            Command::Deposit { to: Address(a), asset: QUOTE, amount: Amount(1 + rng.below(1_000) as u128) }
        } else {
            let who = rng.below(s.wallets.len() as u64) as usize;
            let action = random_action(&mut rng, &scratch, now);
            let w = &mut s.wallets[who];
            let mut c = w.sign_with_nonce(w.nonce, action);
            match i % 211 {
                7 => {
                    if let Command::Signed(sc) = &mut c {
                        sc.signature[3] ^= 0x40; // forged
                    }
                }
                13 => c = w.sign_with_nonce(w.nonce.saturating_sub(1), limit(0, Side::Buy, 100, 1)), // replay
                17 => c = Wallet::new(250).sign_with_nonce(0, limit(1, Side::Sell, 100, 1)), // no account
                _ => {}
            }
            c
        };
        let r = scratch.apply(&NativeCrypto, &cmd);
        if let (Command::Signed(sc), Receipt::Applied(_)) = (&cmd, r) {
            if let Some(w) = s.wallets.iter_mut().find(|w| w.pubkey == sc.signer) {
                w.nonce += 1;
            }
        }
        commands.push(cmd);
    }
    commands
}

/// The witness of `commands` against the setup's current state.
fn witness_of(s: &Setup, commands: &[Command]) -> Witness {
    Witness::generate(&s.world.state, s.commitment.tree(), &NativeCrypto, commands).unwrap()
}

fn header(s: &Setup, t: u64) -> BatchHeader {
    BatchHeader {
        batch_number: s.world.state.batch_number + 1,
        timestamp: Timestamp(t),
        prev_root: s.commitment.root(),
    }
}

#[test]
fn a_thousand_random_signed_commands_over_two_markets_give_the_native_post_root() {
    let mut s = setup();
    for (round, t) in [(0u64, 1_000u64), (1, 2_500), (2, 4_000)] {
        let commands = random_batch(&mut s, 1_000, 40 + round, t);
        let h = header(&s, t);
        let witness = witness_of(&s, &commands);
        let witness: Witness = decode(&encode(&witness), 64 << 20).expect("witness round-trips");
        let pre_root = s.commitment.root();
        let native_receipts = s.world.state.apply_batch(&NativeCrypto, &h, pre_root, &commands).unwrap();
        let native_root = s.commitment.update(&mut s.world.state).unwrap();
        s.world.state.check_invariants().unwrap();
        let (out, receipts) = execute(&NativeCrypto, &h, &witness, &commands).unwrap();
        assert_eq!(out.pre_root, pre_root);
        assert_eq!(out.post_root, native_root, "round {round}");
        assert_eq!(receipts, native_receipts);
        assert_eq!(out.commands, 1_000);
        let applied = receipts.iter().filter(|r| matches!(r, Receipt::Applied(a) if a.fills > 0)).count();
        let rejected = receipts.iter().filter(|r| matches!(r, Receipt::Rejected(_))).count();
        assert!(applied > 100 && rejected > 10, "round {round}: {applied} filled, {rejected} rejected");
    }
}

#[test]
fn a_tampered_witness_or_wrong_pre_root_fails() {
    let mut s = setup();
    let commands = random_batch(&mut s, 200, 9, 1_000);
    let h = header(&s, 1_000);
    let witness = witness_of(&s, &commands);
    assert!(execute(&NativeCrypto, &h, &witness, &commands).is_ok());

    // One changed byte anywhere in the leaves: the leaves no longer hash to the pre-root.
    let bytes = encode(&witness);
    let mut failures = 0;
    for pos in (0..bytes.len()).step_by(bytes.len() / 64 + 1) {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        match decode::<Witness>(&b, 64 << 20) {
            Err(_) => failures += 1,
            Ok(w) => {
                assert!(
                    execute(&NativeCrypto, &h, &w, &commands).is_err(),
                    "byte {pos} flipped and still accepted"
                );
                failures += 1;
            }
        }
    }
    assert!(failures > 30);

    let mut w = witness.clone();
    if let Some((_, Some(acct))) = w.accounts.iter_mut().find(|(_, l)| l.is_some()) {
        acct.balances[0].1 += 1;
    }
    assert_eq!(execute(&NativeCrypto, &h, &w, &commands).unwrap_err(), WitnessError::RootMismatch);
    let wrong = BatchHeader { prev_root: [7; 32], ..h };
    assert_eq!(execute(&NativeCrypto, &wrong, &witness, &commands).unwrap_err(), WitnessError::RootMismatch);
}

#[test]
fn a_witness_for_other_commands_is_incomplete() {
    let mut s = setup();
    let small = random_batch(&mut s, 5, 1, 1);
    let witness = witness_of(&s, &small);
    // A batch reaching an address bucket the witness does not hold.
    let mut more = small.clone();
    more.push(Command::Deposit { to: Address([0xab; 20]), asset: BASE, amount: Amount(1) });
    assert!(matches!(
        execute(&NativeCrypto, &header(&s, 1), &witness, &more),
        Err(WitnessError::Incomplete(_))
    ));
}

#[test]
fn a_book_action_that_emits_nothing_still_moves_the_committed_book_clock() {
    // A mass cancel on a book where the account has nothing: no events, but the book's clock
    // moves to the batch time. The incremental root, a fresh commitment and the witness
    // execution must all see it (the node's settler found them apart).
    let mut s = setup();
    for (t, market) in [(5_000u64, 0u32), (6_000, 1)] {
        let w = &mut s.wallets[0];
        let command = w.sign_with_nonce(w.nonce, Action::MassCancel { market: MarketId(market), side: None });
        w.nonce += 1;
        let commands = vec![command];
        let h = header(&s, t);
        let witness = witness_of(&s, &commands);
        let pre_root = s.commitment.root();
        s.world.state.apply_batch(&NativeCrypto, &h, pre_root, &commands).unwrap();
        let incremental = s.commitment.update(&mut s.world.state).unwrap();
        let fresh = StateCommitment::build(Sha256Hasher, &mut s.world.state.clone()).unwrap().root();
        assert_eq!(incremental, fresh, "the incremental root missed a change at t={t}");
        let (out, _) = execute(&NativeCrypto, &h, &witness, &commands).unwrap();
        assert_eq!(out.post_root, incremental);
    }
}

#[test]
fn collecting_fees_runs_from_a_witness_to_the_native_root() {
    let mut s = setup();
    // A trade makes fees; the operator opens its account with a deposit.
    let (a, b) = (s.wallets[0].nonce, s.wallets[1].nonce);
    let trade = vec![
        s.wallets[0].sign_with_nonce(a, limit(0, Side::Sell, 100, 40)),
        s.wallets[1].sign_with_nonce(b, limit(0, Side::Buy, 100, 40)),
        Command::Deposit { to: s.world.operator.address, asset: QUOTE, amount: Amount(1) },
    ];
    s.wallets[0].nonce += 1;
    s.wallets[1].nonce += 1;
    let h = header(&s, 1_000);
    let pre = s.commitment.root();
    s.world.state.apply_batch(&NativeCrypto, &h, pre, &trade).unwrap();
    s.commitment.update(&mut s.world.state).unwrap();
    let fees = s.world.state.fees_collected(QUOTE);
    assert!(fees > 0);
    let op = Wallet::new(200);
    let commands = vec![
        op.sign_with_nonce(0, Action::CollectFees { asset: QUOTE, amount: Amount(fees) }),
        op.sign_with_nonce(1, Action::Withdraw { asset: QUOTE, amount: Amount(fees + 1) }),
    ];
    let h = header(&s, 2_000);
    let witness = witness_of(&s, &commands);
    let pre = s.commitment.root();
    let native = s.world.state.apply_batch(&NativeCrypto, &h, pre, &commands).unwrap();
    assert!(native.iter().all(|r| matches!(r, Receipt::Applied(_))), "{native:?}");
    let root = s.commitment.update(&mut s.world.state).unwrap();
    let (out, receipts) = execute(&NativeCrypto, &h, &witness, &commands).unwrap();
    assert_eq!((out.post_root, receipts), (root, native));
    assert_eq!(s.world.state.fees_collected(QUOTE), 0);
}

#[test]
fn a_received_batch_hashes_its_bytes_as_received_and_equals_execute() {
    let mut s = setup();
    let commands = random_batch(&mut s, 200, 77, 3_000);
    let h = header(&s, 3_000);
    let witness = witness_of(&s, &commands);
    let bytes = ReceivedBatch::encode(&witness, &h, &commands);
    let received = ReceivedBatch::decode(&bytes).unwrap();
    assert_eq!((&received.witness, &received.header, &received.commands), (&witness, &h, &commands));
    assert_eq!(received.encoded, encode(&(&h, &commands)).as_slice(), "header and commands, as sent");
    assert_eq!(
        received.execute(&NativeCrypto).unwrap(),
        execute(&NativeCrypto, &h, &witness, &commands).unwrap()
    );
    // Exactly one batch: a byte more, or one less, is malformed.
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(ReceivedBatch::decode(&longer).is_err());
    assert!(ReceivedBatch::decode(&bytes[..bytes.len() - 1]).is_err());
}

/// A market leaf commits to every field of every order, flags included (they share a word with
/// the top byte of the sequence number): each change to a book in the witness is refused. A
/// forged order whose words equal a genuine one's — flags moved into its sequence number — gets
/// past the root check by design and is refused when the book is restored, as a sequence number
/// from beyond the book's counter.
#[test]
fn a_tampered_book_in_the_witness_is_refused_field_by_field() {
    let mut s = setup();
    let params = |side, price, post_only, stp| OrderParams {
        side,
        price: Price(price),
        post_only,
        stp,
        tif: TimeInForce::Gtd(Timestamp(5_000)),
        ..match limit(0, side, price, 3) {
            Action::Place(p) => p,
            _ => unreachable!(),
        }
    };
    let (w0, w1) = s.wallets.split_at_mut(1);
    for (i, (side, price)) in [(Side::Buy, 95), (Side::Buy, 96), (Side::Sell, 105)].into_iter().enumerate() {
        let stp = if i == 0 { StpMode::Decrement } else { StpMode::CancelNewest };
        let r = s.world.act(&mut w0[0], Action::Place(params(side, price, i == 0, stp)));
        assert!(matches!(r, Receipt::Applied(_)), "{r:?}");
    }
    let r = s.world.act(&mut w1[0], Action::Place(params(Side::Buy, 97, false, StpMode::CancelNewest)));
    assert!(matches!(r, Receipt::Applied(_)));
    s.commitment = StateCommitment::build(Sha256Hasher, &mut s.world.state).unwrap();
    let w = &mut s.wallets[2];
    let commands = vec![w.sign_with_nonce(w.nonce, limit(0, Side::Sell, 110, 1))];
    let h = header(&s, 1_000);
    let witness = witness_of(&s, &commands);
    assert!(execute(&NativeCrypto, &h, &witness, &commands).is_ok());

    let tampered = |change: &dyn Fn(&mut zkclob_book::BookSnapshot)| {
        let mut w = witness.clone();
        let (_, leaf) = w.markets.iter_mut().find(|(id, _)| *id == MarketId(0)).unwrap();
        change(&mut leaf.as_mut().unwrap().book);
        execute(&NativeCrypto, &h, &w, &commands).map(|_| ()).unwrap_err()
    };
    // Bids first, best first: the order at 97, then 96, then the post-only decrement one at 95.
    let root = WitnessError::RootMismatch;
    assert_eq!(tampered(&|b| b.orders[0].visible = Qty(2)), root, "quantity");
    assert_eq!(tampered(&|b| b.orders[2].post_only = false), root, "post-only flag");
    assert_eq!(tampered(&|b| b.orders[2].stp = StpMode::CancelBoth), root, "self-trade prevention mode");
    assert_eq!(tampered(&|b| b.orders[1].expires_at = Timestamp(6_000)), root, "expiry");
    assert_eq!(tampered(&|b| b.orders[1].seq -= 1), root, "sequence number");
    assert_eq!(tampered(&|b| b.orders[0].account.0 ^= 1 << 40), root, "account");
    assert_eq!(tampered(&|b| b.accounts[0].1.swap(0, 1)), root, "an account's arrival order");
    assert_eq!(tampered(&|b| b.now.0 += 1), root, "book time");
    // Flags 0 (buy, cancel-newest, not post-only) with the genuine flags (decrement 3 << 1,
    // post-only 1 << 3) moved into the sequence number's top byte: the same words.
    let forged = tampered(&|b| {
        let o = &mut b.orders[2];
        o.post_only = false;
        o.stp = StpMode::CancelNewest;
        o.seq += 14 << 56;
    });
    assert!(matches!(forged, WitnessError::Snapshot(_)), "{forged:?}");
}
