//! Helpers shared by the node's integration tests.
#![allow(dead_code)]

use std::path::Path;

use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{MarketId, Price, Qty, Side};
use zkclob_node::config::NodeConfig;
use zkclob_state::{Action, OrderParams};

/// A GTC limit order.
pub fn place(market: u32, side: Side, price: i64, qty: u64) -> Action {
    Action::Place(OrderParams {
        market: MarketId(market),
        side,
        kind: OrderKind::Limit,
        price: Price(price),
        qty: Qty(qty),
        tif: TimeInForce::Gtc,
        post_only: false,
        display_qty: None,
        stp: StpMode::CancelNewest,
    })
}

/// The default config with data in `dir` and an ephemeral loopback port.
pub fn config(dir: &Path) -> NodeConfig {
    NodeConfig { data_dir: dir.into(), listen: "127.0.0.1:0".parse().expect("literal"), ..Default::default() }
}
