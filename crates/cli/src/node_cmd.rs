//! `zkclob node`, `keygen`, `order`, `state-root` and `loadgen`: thin calls into `zkclob-node`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{Amount, AssetId, MarketId, OrderId, Price, Qty, Side, Timestamp};
use zkclob_node::client::{Client, Signer};
use zkclob_node::config::NodeConfig;
use zkclob_node::crypto::Keypair;
use zkclob_state::{Action, OrderParams};

use crate::demo;

/// `zkclob node`.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// TOML config (watched: live-safe keys reload on change). Defaults are embedded.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (overrides the config).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Listen address (overrides the config).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Also run simulated order flow and a GLFT market maker against the node.
    #[arg(long)]
    demo: bool,
}

fn load_config(
    config: Option<&PathBuf>,
    data: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<NodeConfig> {
    let mut cfg = NodeConfig::load(config.map(|p| p.as_path()), std::env::vars())?;
    if let Some(d) = data {
        cfg.data_dir = d;
    }
    if let Some(l) = listen {
        cfg.listen = l;
    }
    Ok(cfg)
}

/// Runs the node until Ctrl-C or SIGTERM.
pub fn run_node(args: NodeArgs) -> anyhow::Result<()> {
    let mut cfg = load_config(args.config.as_ref(), args.data, args.listen)?;
    if args.demo {
        // Show the whole path: every batch packed into EIP-4844 blobs with KZG commitments,
        // proposed to the rollup contract on an in-process L1 and settled there.
        cfg.rollup.blobs = true;
        cfg.rollup.l1 = "in-process".into();
    }
    let log = zkclob_node::node::init_logging(&cfg);
    let running = zkclob_node::node::start(cfg.clone(), args.config.clone(), log)?;
    eprintln!(
        "zkclob node listening on http://{} (data in {}); try: curl http://{}/v1/markets/1/depth ; Ctrl-C stops",
        running.addr,
        cfg.data_dir.display(),
        running.addr
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let demo_thread = if args.demo {
        let (addr, stop) = (running.addr, stop.clone());
        Some(std::thread::spawn(move || {
            if let Err(e) = demo::run(addr, &stop) {
                eprintln!("demo stopped: {e:#}");
            }
        }))
    } else {
        None
    };
    let mut running = running;
    running.wait();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = demo_thread {
        let _ = t.join();
    }
    running.stop();
    Ok(())
}

/// `zkclob keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the secret key (hex, mode 0600). Refuses to overwrite.
    #[arg(long, default_value = "zkclob.key")]
    out: PathBuf,
}

/// Writes a new key and prints its address.
pub fn run_keygen(args: KeygenArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!("{} exists; refusing to overwrite a key", args.out.display());
    }
    let k = zkclob_node::node::operator_key(&args.out)?;
    println!("{}", json!({"address": k.address().to_string(), "key_file": args.out.display().to_string()}));
    Ok(())
}

fn read_key(path: &std::path::Path) -> anyhow::Result<Keypair> {
    if !path.exists() {
        bail!(
            "{} does not exist; create a key with `zkclob keygen --out {}`",
            path.display(),
            path.display()
        );
    }
    zkclob_node::node::operator_key(path)
}

/// `zkclob order`.
#[derive(Args, Debug)]
pub struct OrderArgs {
    /// The node.
    #[arg(long, default_value = "127.0.0.1:8080")]
    target: String,
    /// Secret key file (from `zkclob keygen`).
    #[arg(long, default_value = "zkclob.key")]
    key: PathBuf,
    #[command(subcommand)]
    action: OrderCmd,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SideArg {
    Buy,
    Sell,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TifArg {
    Gtc,
    Ioc,
    Fok,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StpArg {
    CancelNewest,
    CancelOldest,
    CancelBoth,
    Decrement,
}

/// What `zkclob order` does.
#[derive(Subcommand, Debug)]
pub enum OrderCmd {
    /// Place a limit (or market) order.
    Place {
        /// Market id.
        #[arg(long, default_value_t = 1)]
        market: u32,
        /// buy or sell.
        #[arg(long)]
        side: SideArg,
        /// Limit price in ticks (a market order's protection price).
        #[arg(long)]
        price: i64,
        /// Quantity in lots.
        #[arg(long)]
        qty: u64,
        /// Time in force.
        #[arg(long, value_enum, default_value_t = TifArg::Gtc)]
        tif: TifArg,
        /// Good till this batch time (ns since the epoch); overrides --tif.
        #[arg(long)]
        gtd: Option<u64>,
        /// A market order (IOC with --price as protection).
        #[arg(long)]
        market_order: bool,
        /// Rejected if it would take liquidity.
        #[arg(long)]
        post_only: bool,
        /// Iceberg: displayed slice.
        #[arg(long)]
        display: Option<u64>,
        /// Self-trade prevention.
        #[arg(long, value_enum, default_value_t = StpArg::CancelNewest)]
        stp: StpArg,
    },
    /// Cancel one of your orders.
    Cancel {
        /// Market id.
        #[arg(long, default_value_t = 1)]
        market: u32,
        /// Order id.
        #[arg(long)]
        order: u64,
    },
    /// Change an order's price and/or total quantity.
    Amend {
        /// Market id.
        #[arg(long, default_value_t = 1)]
        market: u32,
        /// Order id.
        #[arg(long)]
        order: u64,
        /// New price.
        #[arg(long)]
        price: i64,
        /// New total quantity.
        #[arg(long)]
        qty: u64,
    },
    /// Cancel all your orders in a market (or one side).
    MassCancel {
        /// Market id.
        #[arg(long, default_value_t = 1)]
        market: u32,
        /// Only this side.
        #[arg(long)]
        side: Option<SideArg>,
    },
    /// Queue a withdrawal to L1.
    Withdraw {
        /// Asset id.
        #[arg(long)]
        asset: u32,
        /// Atoms.
        #[arg(long)]
        amount: u128,
    },
    /// Operator only (`--key data/operator.key`): move collected trading fees into the
    /// operator's account (which one deposit creates); `withdraw` then takes them to L1.
    CollectFees {
        /// Asset id.
        #[arg(long)]
        asset: u32,
        /// Atoms.
        #[arg(long)]
        amount: u128,
    },
    /// Development deposit through the node's faucet.
    Faucet {
        /// Asset id.
        #[arg(long)]
        asset: u32,
        /// Atoms.
        #[arg(long)]
        amount: u128,
    },
    /// Your balances, nonce, live orders and recent fills.
    Account,
}

fn side(s: SideArg) -> Side {
    match s {
        SideArg::Buy => Side::Buy,
        SideArg::Sell => Side::Sell,
    }
}

/// Signs and sends one command; prints the node's answer as JSON.
pub fn run_order(args: OrderArgs) -> anyhow::Result<()> {
    let key = read_key(&args.key)?;
    let mut client =
        Client::connect(args.target.as_str()).with_context(|| format!("node at {}", args.target))?;
    let action = match args.action {
        OrderCmd::Faucet { asset, amount } => {
            let v = client.faucet(&key.address(), asset, amount)?;
            println!("{v}");
            return Ok(());
        }
        OrderCmd::Account => {
            let a = key.address();
            let acct = client.get(&format!("/v1/accounts/{a}"))?;
            let orders = client.get(&format!("/v1/accounts/{a}/orders"))?;
            let fills = client.get(&format!("/v1/accounts/{a}/fills?limit=20"))?;
            println!("{}", json!({"account": acct.body, "orders": orders.body, "fills": fills.body}));
            return Ok(());
        }
        OrderCmd::Place { market, side: s, price, qty, tif, gtd, market_order, post_only, display, stp } => {
            let tif = match (gtd, tif) {
                (Some(t), _) => TimeInForce::Gtd(Timestamp(t)),
                (None, TifArg::Gtc) => TimeInForce::Gtc,
                (None, TifArg::Ioc) => TimeInForce::Ioc,
                (None, TifArg::Fok) => TimeInForce::Fok,
            };
            Action::Place(OrderParams {
                market: MarketId(market),
                side: side(s),
                kind: if market_order { OrderKind::Market } else { OrderKind::Limit },
                price: Price(price),
                qty: Qty(qty),
                tif: if market_order { TimeInForce::Ioc } else { tif },
                post_only,
                display_qty: display.map(Qty),
                stp: match stp {
                    StpArg::CancelNewest => StpMode::CancelNewest,
                    StpArg::CancelOldest => StpMode::CancelOldest,
                    StpArg::CancelBoth => StpMode::CancelBoth,
                    StpArg::Decrement => StpMode::Decrement,
                },
            })
        }
        OrderCmd::Cancel { market, order } => {
            Action::Cancel { market: MarketId(market), order_id: OrderId(order) }
        }
        OrderCmd::Amend { market, order, price, qty } => Action::Amend {
            market: MarketId(market),
            order_id: OrderId(order),
            price: Price(price),
            qty: Qty(qty),
        },
        OrderCmd::MassCancel { market, side: s } => {
            Action::MassCancel { market: MarketId(market), side: s.map(side) }
        }
        OrderCmd::Withdraw { asset, amount } => {
            Action::Withdraw { asset: AssetId(asset), amount: Amount(amount) }
        }
        OrderCmd::CollectFees { asset, amount } => {
            Action::CollectFees { asset: AssetId(asset), amount: Amount(amount) }
        }
    };
    let mut signer = Signer::for_account(&mut client, key)?;
    let reply = client.submit(&signer.sign(action))?;
    println!("{}", reply.body);
    if !(200..300).contains(&reply.status) {
        bail!("the node answered HTTP {}", reply.status);
    }
    Ok(())
}

/// `zkclob state-root`.
#[derive(Args, Debug)]
pub struct StateRootArgs {
    /// Data directory of a (stopped) node.
    #[arg(long, default_value = "./data")]
    data: PathBuf,
    /// The node's config, if it had one (for the operator key file name).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Recovers the state offline and prints its root.
pub fn run_state_root(args: StateRootArgs) -> anyhow::Result<()> {
    let cfg = load_config(args.config.as_ref(), Some(args.data), None)?;
    let (root, batch, recovery) = zkclob_node::node::state_root(&cfg)?;
    println!("{}", json!({"root": root, "batch": batch, "recovery": recovery}));
    Ok(())
}

/// `zkclob disk-check`.
#[derive(Args, Debug)]
pub struct DiskCheckArgs {
    /// The data directory whose disk is checked (the check writes in a directory of its own
    /// inside it and removes it afterwards).
    #[arg(long, default_value = "./data")]
    data: PathBuf,
    /// Group commits to time.
    #[arg(long, default_value_t = 2_000)]
    commits: u64,
    /// Records per commit (about 16 at 50,000 orders/s).
    #[arg(long, default_value_t = 16)]
    records_per_commit: usize,
    /// Bytes per record (a signed order is about 150).
    #[arg(long, default_value_t = 150)]
    record_bytes: usize,
    /// Zeros written ahead of the last record, as `engine.preallocate_kb` (KiB).
    #[arg(long, default_value_t = 256)]
    preallocate_kb: u64,
    /// Keep every core busy meanwhile (threads at nice 19), as a node under load does: on a
    /// virtual machine the host may then stall the vCPUs and their I/O.
    #[arg(long)]
    busy_cores: bool,
}

/// Times group commits with the node's journal on the disk under `--data`; prints one JSON object.
pub fn run_disk_check(args: DiskCheckArgs) -> anyhow::Result<()> {
    let check = zkclob_node::diskcheck::DiskCheck {
        commits: args.commits,
        records_per_commit: args.records_per_commit,
        record_bytes: args.record_bytes,
        preallocate_bytes: args.preallocate_kb.saturating_mul(1024),
        busy_cores: args.busy_cores,
    };
    let report = zkclob_node::diskcheck::run(&args.data, &check)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// `zkclob loadgen`.
#[derive(Args, Debug)]
pub struct LoadgenArgs {
    /// Offered commands per second.
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Measured seconds (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// The node.
    #[arg(long, default_value = "127.0.0.1:8080")]
    target: String,
    /// WebSocket connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Accounts (funded through the dev faucet).
    #[arg(long, default_value_t = 64)]
    accounts: usize,
    /// Market id.
    #[arg(long, default_value_t = 1)]
    market: u32,
    /// Seed of keys and orders.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
}

/// Runs the bounded load generator; prints one JSON object.
pub fn run_loadgen(args: LoadgenArgs) -> anyhow::Result<()> {
    use std::net::ToSocketAddrs;
    let target = args
        .target
        .to_socket_addrs()
        .with_context(|| format!("bad --target {}", args.target))?
        .next()
        .context("no address for --target")?;
    let mut cfg =
        zkclob_node::loadgen::LoadgenConfig::new(target, args.rate, Duration::from_secs(args.duration));
    cfg.connections = args.connections;
    cfg.accounts = args.accounts;
    cfg.market = args.market;
    cfg.seed = args.seed;
    let report = zkclob_node::loadgen::run(&cfg, !args.quiet)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
