//! The node's metrics: lock-free counters, gauges and fixed-bucket histograms, rendered in the
//! Prometheus text format at `/metrics`. Written by hand (a few atomics) rather than pulling an
//! exporter stack into the default build.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// A histogram with fixed upper bounds in microseconds.
pub struct Histogram {
    bounds_us: &'static [u64],
    counts: Vec<AtomicU64>,
    sum_ns: AtomicU64,
    count: AtomicU64,
}

/// Bucket bounds for latencies, µs.
pub const LATENCY_BUCKETS_US: &[u64] =
    &[5, 10, 25, 50, 100, 250, 500, 1_000, 2_000, 5_000, 10_000, 25_000, 100_000, 1_000_000];

impl Histogram {
    fn new(bounds_us: &'static [u64]) -> Histogram {
        Histogram {
            bounds_us,
            counts: (0..=bounds_us.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe_ns(&self, ns: u64) {
        let us = ns / 1_000;
        let i = self.bounds_us.iter().position(|b| us <= *b).unwrap_or(self.bounds_us.len());
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cum = 0;
        for (i, b) in self.bounds_us.iter().enumerate() {
            cum += self.counts[i].load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {cum}", *b as f64 / 1e6);
        }
        cum += self.counts[self.bounds_us.len()].load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cum}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_ns.load(Relaxed) as f64 / 1e9);
        let _ = writeln!(out, "{name}_count {}", self.count.load(Relaxed));
    }
}

/// Every metric the node exports.
pub struct Metrics {
    started: Instant,
    /// Commands applied and journaled.
    pub commands: AtomicU64,
    /// Commands refused before journaling (signature, nonce, unknown account).
    pub refused: AtomicU64,
    /// Journaled commands whose receipt is a rejection.
    pub rejected: AtomicU64,
    /// Requests turned away because the engine queue was full.
    pub overloaded: AtomicU64,
    /// Requests waiting in the engine queue.
    pub queue_depth: AtomicU64,
    /// Last cut batch.
    pub batch_number: AtomicU64,
    /// Batches whose prover run finished.
    pub batches_proven: AtomicU64,
    /// Batches waiting for the prover.
    pub prover_backlog: AtomicU64,
    /// Snapshots written.
    pub snapshots: AtomicU64,
    /// Threads running in the real-time class (`engine.realtime_priority`).
    pub realtime_threads: AtomicU64,
    /// Blobs packed with a KZG commitment and stored.
    pub blobs: AtomicU64,
    /// Journal group commits.
    pub commits: AtomicU64,
    /// Records per group commit, summed (with `commits`: the mean group size).
    pub committed_records: AtomicU64,
    /// Connected WebSocket clients.
    pub ws_clients: AtomicU64,
    /// Groups of signatures the checker thread checked (with `sig_checked`: the mean group).
    pub sig_groups: AtomicU64,
    /// Signatures the checker thread checked.
    pub sig_checked: AtomicU64,
    /// Of those, checked eight at a time (`secp_x8`) rather than one by one.
    pub sig_checked_x8: AtomicU64,
    /// Of those, checked with a table of the signer's key ([`crate::secp_x8::Verifier`]).
    pub sig_checked_keyed: AtomicU64,
    /// Commands waiting for the checker thread.
    pub sig_queue_depth: AtomicU64,
    /// L1 mode: commands taken from the L1 queues (deposits, forced commands).
    pub l1_commands: AtomicU64,
    /// L1 mode: batches proposed on L1.
    pub l1_proposed: AtomicU64,
    /// L1 mode: batches settled on L1.
    pub l1_settled: AtomicU64,
    /// L1 mode: proposals or settlements that failed (each stops that pipeline; see the log).
    pub l1_failures: AtomicU64,
    /// L1 mode: 1 once the state derived from L1 differed from the node's (settling stops).
    pub l1_root_mismatch: AtomicU64,
    /// Journal write + fsync time per group commit.
    pub fsync: Histogram,
    /// Time to apply one command on the engine thread.
    pub apply: Histogram,
    /// Batch cut time (commitment update and Cut record).
    pub cut: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            commands: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            overloaded: AtomicU64::new(0),
            queue_depth: AtomicU64::new(0),
            batch_number: AtomicU64::new(0),
            batches_proven: AtomicU64::new(0),
            prover_backlog: AtomicU64::new(0),
            snapshots: AtomicU64::new(0),
            realtime_threads: AtomicU64::new(0),
            blobs: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            committed_records: AtomicU64::new(0),
            ws_clients: AtomicU64::new(0),
            sig_groups: AtomicU64::new(0),
            sig_checked: AtomicU64::new(0),
            sig_checked_x8: AtomicU64::new(0),
            sig_checked_keyed: AtomicU64::new(0),
            sig_queue_depth: AtomicU64::new(0),
            l1_commands: AtomicU64::new(0),
            l1_proposed: AtomicU64::new(0),
            l1_settled: AtomicU64::new(0),
            l1_failures: AtomicU64::new(0),
            l1_root_mismatch: AtomicU64::new(0),
            fsync: Histogram::new(LATENCY_BUCKETS_US),
            apply: Histogram::new(LATENCY_BUCKETS_US),
            cut: Histogram::new(LATENCY_BUCKETS_US),
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", v.load(Relaxed));
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        counter(&mut out, "zkclob_commands_total", "Commands applied and journaled.", &self.commands);
        counter(
            &mut out,
            "zkclob_commands_refused_total",
            "Commands refused before journaling.",
            &self.refused,
        );
        counter(
            &mut out,
            "zkclob_commands_rejected_total",
            "Journaled commands receipted as rejected.",
            &self.rejected,
        );
        counter(
            &mut out,
            "zkclob_overloaded_total",
            "Requests refused because the engine queue was full.",
            &self.overloaded,
        );
        counter(&mut out, "zkclob_journal_commits_total", "Journal group commits.", &self.commits);
        counter(
            &mut out,
            "zkclob_journal_records_total",
            "Records written by group commits.",
            &self.committed_records,
        );
        counter(
            &mut out,
            "zkclob_sigcheck_groups_total",
            "Groups of signatures the checker thread checked together.",
            &self.sig_groups,
        );
        counter(
            &mut out,
            "zkclob_sigcheck_signatures_total",
            "Signatures the checker thread checked.",
            &self.sig_checked,
        );
        counter(
            &mut out,
            "zkclob_sigcheck_signatures_x8_total",
            "Signatures checked eight at a time (AVX-512 IFMA) rather than one by one.",
            &self.sig_checked_x8,
        );
        counter(
            &mut out,
            "zkclob_sigcheck_signatures_keyed_total",
            "Of those, signatures checked with a table of the signer's key (keys that sign again).",
            &self.sig_checked_keyed,
        );
        gauge(
            &mut out,
            "zkclob_sigcheck_queue_depth",
            "Commands waiting for the signature checker thread.",
            self.sig_queue_depth.load(Relaxed),
        );
        counter(&mut out, "zkclob_snapshots_total", "Snapshots written.", &self.snapshots);
        gauge(
            &mut out,
            "zkclob_realtime_threads",
            "Threads of the acknowledgement path in the real-time class (engine.realtime_priority).",
            self.realtime_threads.load(Relaxed),
        );
        counter(&mut out, "zkclob_blobs_total", "EIP-4844 blobs packed, committed and stored.", &self.blobs);
        counter(
            &mut out,
            "zkclob_batches_proven_total",
            "Batches the prover finished.",
            &self.batches_proven,
        );
        counter(
            &mut out,
            "zkclob_l1_commands_total",
            "Commands taken from the L1 deposit and forced-inclusion queues.",
            &self.l1_commands,
        );
        counter(&mut out, "zkclob_l1_proposed_total", "Batches proposed on L1.", &self.l1_proposed);
        counter(&mut out, "zkclob_l1_settled_total", "Batches settled on L1.", &self.l1_settled);
        counter(
            &mut out,
            "zkclob_l1_failures_total",
            "L1 proposals or settlements that failed.",
            &self.l1_failures,
        );
        gauge(
            &mut out,
            "zkclob_l1_root_mismatch",
            "1 once the state derived from L1 differed from the node's.",
            self.l1_root_mismatch.load(Relaxed),
        );
        gauge(
            &mut out,
            "zkclob_queue_depth",
            "Requests waiting for the engine thread.",
            self.queue_depth.load(Relaxed),
        );
        gauge(&mut out, "zkclob_batch_number", "Last cut batch.", self.batch_number.load(Relaxed));
        gauge(
            &mut out,
            "zkclob_prover_backlog",
            "Batches waiting for the prover.",
            self.prover_backlog.load(Relaxed),
        );
        gauge(&mut out, "zkclob_ws_clients", "Connected WebSocket clients.", self.ws_clients.load(Relaxed));
        let up = self.started.elapsed().as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "# HELP zkclob_commands_per_second Mean commands per second since start.\n# TYPE zkclob_commands_per_second gauge\nzkclob_commands_per_second {:.1}",
            self.commands.load(Relaxed) as f64 / up
        );
        self.fsync.render(
            &mut out,
            "zkclob_journal_commit_seconds",
            "Journal write and fsync per group commit.",
        );
        self.apply.render(&mut out, "zkclob_apply_seconds", "Applying one command on the engine thread.");
        self.cut.render(&mut out, "zkclob_batch_cut_seconds", "Cutting a batch (commitment update).");
        out
    }
}
