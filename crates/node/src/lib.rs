//! # zkclob-node
//!
//! The running exchange. It owns:
//!
//! - the command journal ([`journal`]: checksummed, sequenced, segmented write-ahead log with
//!   group commit) and snapshots ([`snapshot`]);
//! - the engine thread ([`engine`]): the single writer of the exchange state, fed by a bounded
//!   queue; command → journal → apply → events to clients, market data and the audit log
//!   ([`audit`]); batch cutting for the prover; recovery;
//! - market data derived from the books ([`market_data`]): depth with sequenced diffs, trades,
//!   best bid/offer;
//! - signature checks eight at a time with AVX-512 IFMA ([`secp_x8`], on x86-64 CPUs that
//!   have it), for order entry and recovery;
//! - the REST/WebSocket API ([`api`]), metrics ([`metrics`]), configuration with hot reload
//!   ([`config`]), and the whole node put together ([`node`]);
//! - the client side: signing keys ([`crypto`]) and a small client library ([`client`]).
//! - with `rollup.l1 = "in-process"`, the L1 side ([`l1`]): the rollup contracts on an
//!   in-process chain, the queue mirror batches take from, the publisher's proposals and the
//!   settler that follows L1 and settles.
//!
//! The state transition itself lives in `zkclob-state`; the node only ever changes the state
//! through `ExchangeState::apply`, the code the zkVM guests run.
#![warn(missing_docs)]

pub mod api;
pub mod audit;
pub mod client;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod entry;
pub mod index;
pub mod journal;
pub mod l1;
pub mod loadgen;
pub mod market_data;
pub mod metrics;
pub mod node;
#[cfg(target_arch = "x86_64")]
pub mod secp_x8;
pub mod snapshot;

/// Puts the calling thread in the idle scheduling class (`SCHED_IDLE`; nice 10 where that is
/// refused): for threads off the path of an acknowledgement (the audit log, the index). They
/// run when a core has nothing else to do and never delay a thread an order waits for — at
/// 50,000 commands/s on the load bench, p99 3.2 → 2.4 ms against nice 10, and the generator's
/// own lateness p99 1.2 → 0.4 ms. Their queues are bounded ([`BACKGROUND_QUEUE`]): if the
/// machine is so busy that they fall that far behind, the engine waits for them, which frees
/// the cores they need. Best effort: nothing happens where it is not allowed.
pub(crate) fn background_thread() {
    #[cfg(target_os = "linux")]
    // SAFETY: `gettid` has no preconditions; `setpriority` and `sched_setscheduler` on our own
    // thread (id 0: the caller) only change that thread's scheduling.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

/// Groups of records the engine may queue for the audit log or the index before it waits for
/// them (a group is one group commit: at 50,000 commands/s about 16 commands).
pub(crate) const BACKGROUND_QUEUE: usize = 4_096;

/// Asks the kernel to end the calling thread's sleeps and waits on time (timer slack 1 µs
/// instead of the default 50 µs): for threads whose waits are a fraction of a millisecond (the
/// signature checker's, the load generator's). Best effort.
pub(crate) fn precise_sleeps() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes the calling thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong);
    }
}
