//! # zkclob
//!
//! The `zkclob` command-line tool. Every subcommand is a thin call into a library crate: argument
//! parsing, file reading and printing live here; logic does not.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod lobster_cmd;
mod node_cmd;
mod prove_cmd;
mod quote_cmd;
mod research;
mod sim_cmd;

/// zkclob: a verifiable central limit order book and a market-making research stack.
#[derive(Parser, Debug)]
#[command(name = "zkclob", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Rebuild an order book from LOBSTER messages and compare it with the recorded book after
    /// every message (default: the embedded AAPL sample).
    LobsterReplay(lobster_cmd::LobsterReplayArgs),
    /// Batches of signed exchange commands.
    #[command(subcommand)]
    Batch(prove_cmd::BatchCmd),
    /// Execute or prove a batch with a backend; prints one JSON object.
    Prove(prove_cmd::ProveArgs),
    /// Simulate a market on the real engine (Hawkes flow, SDE fundamental, informed and noise
    /// traders) with a GLFT market maker; writes a report directory.
    Simulate(sim_cmd::SimulateArgs),
    /// Backtest a GLFT market maker on LOBSTER data (default: the embedded AAPL sample) with its
    /// orders in the real book; writes a report directory.
    Backtest(sim_cmd::BacktestArgs),
    /// Tune the GLFT market maker (risk aversion, inventory skew) on simulated markets: a
    /// Bayesian, random or grid search, then a walk-forward analysis; writes a report directory.
    Optimize(sim_cmd::OptimizeArgs),
    /// Verify a proof file against the guest ELF; prints its public output (non-zero exit if
    /// invalid).
    Verify(prove_cmd::VerifyArgs),
    /// One quoting model's depths (and prices around --mid) for one inventory; prints one JSON object.
    Quote(Box<quote_cmd::QuoteArgs>),
    /// Run the exchange node (REST/WebSocket API, journal, engine); `--demo` adds simulated
    /// traders and a market maker.
    Node(node_cmd::NodeArgs),
    /// Create a secp256k1 key file for `zkclob order`.
    Keygen(node_cmd::KeygenArgs),
    /// Sign and send one command to a node (place, cancel, amend, mass-cancel, withdraw), or use
    /// the development faucet, or show your account.
    Order(node_cmd::OrderArgs),
    /// Recover a node's state offline from snapshot + journal and print its root.
    StateRoot(node_cmd::StateRootArgs),
    /// Bounded open-loop load generator against a node; prints one JSON object.
    Loadgen(node_cmd::LoadgenArgs),
    /// Time the node's group commits (journal write + fdatasync) on the disk under a data
    /// directory and report its write cache; prints one JSON object.
    DiskCheck(node_cmd::DiskCheckArgs),
    /// Quant calculators: Hawkes processes, Hurst exponents, fractional Brownian motion.
    #[command(flatten)]
    Research(research::ResearchCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::LobsterReplay(args) => lobster_cmd::run(args),
        Command::Batch(cmd) => prove_cmd::run_batch(cmd),
        Command::Prove(args) => prove_cmd::run_prove(args),
        Command::Quote(args) => quote_cmd::run(*args),
        Command::Verify(args) => prove_cmd::run_verify(args),
        Command::Simulate(args) => sim_cmd::run_simulate(args),
        Command::Backtest(args) => sim_cmd::run_backtest(args),
        Command::Optimize(args) => sim_cmd::run_optimize(args),
        Command::Research(cmd) => research::run(cmd),
        Command::Node(args) => node_cmd::run_node(args),
        Command::Keygen(args) => node_cmd::run_keygen(args),
        Command::Order(args) => node_cmd::run_order(args),
        Command::StateRoot(args) => node_cmd::run_state_root(args),
        Command::Loadgen(args) => node_cmd::run_loadgen(args),
        Command::DiskCheck(args) => node_cmd::run_disk_check(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole cause chain on one line and never a backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
