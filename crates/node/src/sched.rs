//! How the node's threads are scheduled by the operating system.
//!
//! Three kinds of thread:
//!
//! - **The acknowledgement path** — the engine, the signature checkers and the API workers:
//!   every acknowledgement waits for each of them in turn. By default they are ordinary
//!   threads. With `engine.realtime_priority = N` (1..=99) they run in the real-time class
//!   (`SCHED_RR` at priority N; `ack_path`): a thread of that class runs as soon as it is
//!   runnable and a core has no real-time thread of a higher priority, instead of waiting for
//!   the fair scheduler to preempt what runs there. Needs `CAP_SYS_NICE` or an `RLIMIT_RTPRIO`
//!   of at least N (systemd: `LimitRTPRIO=`); where it is refused the thread stays ordinary
//!   and a warning says so once. Meant for a machine (or cores) given to the node: these
//!   threads then take precedence over every ordinary process on it (the kernel keeps a small
//!   share of each core, 5% by default, for ordinary threads). Measured on the load bench in
//!   `docs/benchmarks.md`.
//! - **Background** — the audit log and the index (`background`): off the acknowledgement
//!   path, in the idle class.
//! - Everything else (the prover, L1 calls on tokio's blocking threads, market data readers):
//!   ordinary (`ordinary` undoes `ack_path` on a thread that tokio shares between the two
//!   kinds of work).
//!
//! Every function here is best effort: scheduling is a matter of latency, never of
//! correctness, so a refusal never stops the node.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use crate::metrics::Metrics;

/// The highest real-time priority Linux has.
pub const MAX_REALTIME_PRIORITY: u8 = 99;

thread_local! {
    /// Whether [`ack_path`] put this thread in the real-time class.
    static REALTIME: Cell<bool> = const { Cell::new(false) };
}

/// Whether a refusal was already reported (once per process is enough).
static REFUSAL_REPORTED: AtomicBool = AtomicBool::new(false);

/// Called first on each thread an acknowledgement waits for (`role` names it in the warning):
/// with `priority` 1..=99, puts the thread in `SCHED_RR` at that priority and counts it in
/// `metrics.realtime_threads`; with 0, does nothing. Returns whether the thread is now
/// real-time.
pub(crate) fn ack_path(priority: u8, role: &str, metrics: &Metrics) -> bool {
    if priority == 0 {
        return false;
    }
    match set_realtime(priority.min(MAX_REALTIME_PRIORITY)) {
        Ok(()) => {
            REALTIME.with(|r| r.set(true));
            metrics.realtime_threads.fetch_add(1, Relaxed);
            true
        }
        Err(e) => {
            if !REFUSAL_REPORTED.swap(true, Relaxed) {
                tracing::warn!(
                    error = %e,
                    thread = role,
                    priority,
                    "engine.realtime_priority is set but the kernel refused the real-time class: \
                     the node runs with ordinary threads. Grant CAP_SYS_NICE or raise RLIMIT_RTPRIO \
                     (ulimit -r, systemd LimitRTPRIO=), or set engine.realtime_priority = 0"
                );
            }
            false
        }
    }
}

/// Returns the calling thread to the ordinary class if [`ack_path`] took it out of it: for work
/// that must not run real-time on a thread that may be (tokio's blocking threads start as the
/// runtime's workers do). Cheap when there is nothing to undo.
pub(crate) fn ordinary(metrics: &Metrics) {
    if REALTIME.with(|r| r.replace(false)) {
        ordinary_class();
        metrics.realtime_threads.fetch_sub(1, Relaxed);
    }
}

fn set_realtime(priority: u8) -> std::io::Result<()> {
    set_class(0, Class::RoundRobin(priority))
}

/// A scheduling class and, for the real-time one, its priority.
#[derive(Clone, Copy)]
enum Class {
    RoundRobin(u8),
    Ordinary,
    Idle,
}

/// Puts thread `tid` of this process (0: the caller) in `class`.
fn set_class(tid: i32, class: Class) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let (policy, priority) = match class {
            Class::RoundRobin(p) => (libc::SCHED_RR, i32::from(p)),
            Class::Ordinary => (libc::SCHED_OTHER, 0),
            Class::Idle => (libc::SCHED_IDLE, 0),
        };
        let param = libc::sched_param { sched_priority: priority };
        // SAFETY: sched_setscheduler on a thread of this process with a valid parameter only
        // changes that thread's scheduling.
        if unsafe { libc::sched_setscheduler(tid, policy, &param) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (tid, class);
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "scheduling classes need Linux"))
    }
}

/// Sets the nice value of thread `tid` of this process (0: the caller). Best effort.
pub(crate) fn set_nice(tid: i32, nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on a thread of this process only changes that thread's scheduling.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (tid, nice);
}

/// Puts the calling thread in the idle scheduling class (`SCHED_IDLE`; nice 10 where that is
/// refused): for threads off the path of an acknowledgement (the audit log, the index). They
/// run when a core has nothing else to do and never delay a thread an order waits for — at
/// 50,000 commands/s on the load bench, p99 3.2 → 2.4 ms against nice 10, and the generator's
/// own lateness p99 1.2 → 0.4 ms. Their queues are bounded ([`BACKGROUND_QUEUE`]); one that
/// falls far behind leaves the idle class until it catches up ([`BackgroundReceiver`]), and
/// should it fill all the same, the engine waits for it.
pub(crate) fn background() {
    set_nice(gettid(), 10);
    let _ = set_class(0, Class::Idle);
}

/// Groups of records the engine may queue for the audit log or the index before it waits for
/// them (a group is one group commit: at 50,000 commands/s about 16 commands).
pub(crate) const BACKGROUND_QUEUE: usize = 4_096;

/// Queued groups from which a background thread leaves the idle class to catch up
/// ([`BackgroundReceiver`]): a quarter of the queue, about a third of a second of work at
/// 50,000 commands/s.
pub(crate) const CATCH_UP_FROM: usize = BACKGROUND_QUEUE / 4;

/// Queued groups at or below which a background thread that caught up goes back to the idle
/// class.
pub(crate) const CAUGHT_UP_AT: usize = BACKGROUND_QUEUE / 64;

/// Whether a background thread should change class: `Some(true)` to catch up, `Some(false)` to
/// go back to idle, `None` to stay as it is (`catching_up`) with `queued` groups waiting.
pub(crate) fn catch_up_step(catching_up: bool, queued: usize) -> Option<bool> {
    match (catching_up, queued) {
        (false, q) if q >= CATCH_UP_FROM => Some(true),
        (true, q) if q <= CAUGHT_UP_AT => Some(false),
        _ => None,
    }
}

/// What the two sides of a background queue share.
struct Backlog {
    /// Items waiting in the queue.
    queued: std::sync::atomic::AtomicUsize,
    /// Whether the receiving thread runs outside the idle class to catch up.
    catching_up: AtomicBool,
    /// The receiving thread's id (0 until it first waits).
    tid: std::sync::atomic::AtomicI32,
    /// The ack path's real-time priority (`engine.realtime_priority`).
    realtime_priority: u8,
}

/// The sending side of a background thread's bounded queue.
pub(crate) struct BackgroundSender<T> {
    tx: std::sync::mpsc::SyncSender<T>,
    backlog: std::sync::Arc<Backlog>,
}

impl<T> BackgroundSender<T> {
    /// Queues `item`, waiting while the queue is full (the engine's backpressure). Past
    /// [`CATCH_UP_FROM`] waiting items it moves the receiving thread out of the idle class.
    pub(crate) fn send(&self, item: T) -> Result<(), std::sync::mpsc::SendError<T>> {
        let b = &self.backlog;
        let queued = b.queued.fetch_add(1, Relaxed) + 1;
        if catch_up_step(b.catching_up.load(Relaxed), queued) == Some(true)
            && !b.catching_up.swap(true, Relaxed)
        {
            catch_up(b.tid.load(Relaxed), b.realtime_priority);
        }
        self.tx.send(item).inspect_err(|_| {
            b.queued.fetch_sub(1, Relaxed);
        })
    }
}

/// The receiving side, on the background thread. The thread runs in the idle class
/// ([`background`]) while it keeps up. Should it fall [`CATCH_UP_FROM`] items behind — on a
/// machine so busy that idle time is scarce, or with real-time threads on the ack path that
/// leave it none — the sender moves it to the ordinary class (with `engine.realtime_priority`:
/// real-time at priority 1, the lowest) until no more than [`CAUGHT_UP_AT`] wait. It is the
/// sender that does so, because a thread in the idle class that gets no core cannot notice
/// that it is behind. Without this the queue fills and the engine, waiting for it, stops
/// acknowledging until the thread finds a core: on the load bench at 70,000/s with real-time
/// threads, waits of 50-220 ms.
pub(crate) struct BackgroundReceiver<T> {
    rx: std::sync::mpsc::Receiver<T>,
    backlog: std::sync::Arc<Backlog>,
}

/// A bounded queue ([`BACKGROUND_QUEUE`]) to a background thread; `realtime_priority` is the
/// ack path's (`engine.realtime_priority`).
pub(crate) fn background_queue<T>(realtime_priority: u8) -> (BackgroundSender<T>, BackgroundReceiver<T>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(BACKGROUND_QUEUE);
    let backlog = std::sync::Arc::new(Backlog {
        queued: Default::default(),
        catching_up: AtomicBool::new(false),
        tid: Default::default(),
        realtime_priority,
    });
    (BackgroundSender { tx, backlog: backlog.clone() }, BackgroundReceiver { rx, backlog })
}

impl<T> BackgroundReceiver<T> {
    /// Called first on the receiving thread: puts it in the idle class and tells the sender
    /// which thread to move when it falls behind.
    pub(crate) fn enter(&mut self) {
        background();
        self.backlog.tid.store(gettid(), Relaxed);
    }

    /// The next item, waiting for one; `None` once the sender is gone and nothing is left.
    pub(crate) fn recv(&mut self) -> Option<T> {
        let item = self.rx.recv().ok();
        self.took(item.is_some());
        item
    }

    /// One pass of a thread that works in passes (the audit log, the index): waits for an item,
    /// then takes every other one queued, in order; `None` once the sender is gone and nothing
    /// is left. Between passes such a thread sleeps, so that under load the engine's sends find
    /// it asleep rather than waiting here, and never have to wake it.
    pub(crate) fn next_pass(&mut self) -> Option<Vec<T>> {
        let mut pass = vec![self.recv()?];
        while let Some(item) = self.try_recv() {
            pass.push(item);
        }
        Some(pass)
    }

    /// An item if one waits.
    fn try_recv(&mut self) -> Option<T> {
        let item = self.rx.try_recv().ok();
        self.took(item.is_some());
        item
    }

    fn took(&mut self, one: bool) {
        let b = &self.backlog;
        let queued = if one { b.queued.fetch_sub(1, Relaxed) - 1 } else { b.queued.load(Relaxed) };
        if catch_up_step(b.catching_up.load(Relaxed), queued) == Some(false)
            && b.catching_up.swap(false, Relaxed)
        {
            background();
        }
    }
}

fn gettid() -> i32 {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions.
    unsafe {
        libc::syscall(libc::SYS_gettid) as i32
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// Moves thread `tid` of this process out of the idle class: real-time at priority 1 when the
/// ack path is real-time (`realtime_priority` > 0) and the kernel allows it, else ordinary at
/// nice 0. Nothing for `tid` 0 (the thread has not started). Leaving the idle class takes the
/// privilege real-time threads need (`CAP_SYS_NICE`, or an `RLIMIT_NICE` of 10 or more); without
/// it the thread stays where it is — the engine then waits for it when its queue is full, as it
/// always did — and a warning says so once.
fn catch_up(tid: i32, realtime_priority: u8) {
    if tid == 0 {
        return;
    }
    if realtime_priority > 0 && set_class(tid, Class::RoundRobin(1)).is_ok() {
        return;
    }
    match set_class(tid, Class::Ordinary) {
        Ok(()) => set_nice(tid, 0),
        Err(e) => {
            if !CATCH_UP_REFUSAL_REPORTED.swap(true, Relaxed) {
                tracing::warn!(
                    error = %e,
                    queued = CATCH_UP_FROM,
                    "a background thread (audit log or index) fell behind and may not leave the idle \
                     class without CAP_SYS_NICE: if its queue fills, the engine waits for it"
                );
            }
        }
    }
}

/// Whether a refused catch-up was already reported.
static CATCH_UP_REFUSAL_REPORTED: AtomicBool = AtomicBool::new(false);

/// Whether this process may move a thread out of the idle class (as a background thread that
/// fell behind is): tried on a short-lived thread of its own.
pub fn idle_class_can_be_left() -> bool {
    std::thread::spawn(|| {
        background();
        set_class(0, Class::Ordinary).is_ok()
    })
    .join()
    .unwrap_or(false)
}

/// The ordinary class at nice 0 for the calling thread.
fn ordinary_class() {
    let _ = set_class(0, Class::Ordinary);
    set_nice(gettid(), 0);
}

/// Asks the kernel to end the calling thread's sleeps and waits on time (timer slack 1 µs
/// instead of the default 50 µs): for threads whose waits are a fraction of a millisecond (the
/// signature checker's, the load generator's).
pub(crate) fn precise_sleeps() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes the calling thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong);
    }
}

/// Whether this process may put threads in the real-time class at `priority`: tried on a
/// short-lived thread of its own.
pub fn realtime_allowed(priority: u8) -> bool {
    std::thread::spawn(move || set_realtime(priority.clamp(1, MAX_REALTIME_PRIORITY)).is_ok())
        .join()
        .unwrap_or(false)
}

/// The scheduling policy and real-time priority of thread `tid` of this process, from
/// `/proc/self/task/<tid>/stat` (fields 40 and 41): for tests and diagnostics.
pub fn thread_policy(tid: u64) -> Option<(u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // The name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3.
    let priority = fields.get(40 - 3)?.parse().ok()?;
    let policy = fields.get(41 - 3)?.parse().ok()?;
    Some((policy, priority))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_background_thread_catches_up_from_a_quarter_full_queue_until_nearly_empty() {
        assert_eq!(catch_up_step(false, 0), None);
        assert_eq!(catch_up_step(false, CATCH_UP_FROM - 1), None);
        assert_eq!(catch_up_step(false, CATCH_UP_FROM), Some(true));
        // Hysteresis: no flapping between the two marks.
        assert_eq!(catch_up_step(true, CATCH_UP_FROM), None);
        assert_eq!(catch_up_step(true, CAUGHT_UP_AT + 1), None);
        assert_eq!(catch_up_step(true, CAUGHT_UP_AT), Some(false));
        assert_eq!(catch_up_step(false, CAUGHT_UP_AT), None);
    }

    #[test]
    fn the_sender_moves_a_receiver_that_fell_behind_and_it_returns_once_caught_up() {
        let (tx, mut rx) = background_queue::<u32>(0);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let receiver = std::thread::spawn(move || {
            rx.enter();
            ready_tx.send(current_policy()).unwrap();
            go_rx.recv().unwrap();
            // The sender moved this thread when the backlog reached CATCH_UP_FROM.
            let moved = current_policy();
            let mut n = 0;
            let mut back_at = None;
            while let Some(i) = rx.recv() {
                assert_eq!(i, n);
                n += 1;
                if back_at.is_none() && current_policy() == IDLE {
                    back_at = Some(rx.backlog.queued.load(Relaxed));
                }
            }
            (moved, n, back_at)
        });
        assert_eq!(ready_rx.recv().unwrap(), IDLE);
        for i in 0..CATCH_UP_FROM as u32 + 10 {
            tx.send(i).unwrap();
        }
        go_tx.send(()).unwrap();
        drop(tx);
        let (moved, n, back_at) = receiver.join().unwrap();
        // Without the privilege to leave the idle class the thread stays in it (and drains all
        // the same).
        assert_eq!(moved, if idle_class_can_be_left() { ORDINARY } else { IDLE });
        assert_eq!(n as usize, CATCH_UP_FROM + 10);
        if moved == ORDINARY {
            assert_eq!(back_at, Some(CAUGHT_UP_AT), "back to idle once caught up");
        }
    }

    #[cfg(target_os = "linux")]
    const IDLE: i32 = libc::SCHED_IDLE;
    #[cfg(target_os = "linux")]
    const ORDINARY: i32 = libc::SCHED_OTHER;
    #[cfg(not(target_os = "linux"))]
    const IDLE: i32 = 0;
    #[cfg(not(target_os = "linux"))]
    const ORDINARY: i32 = 0;

    fn current_policy() -> i32 {
        #[cfg(target_os = "linux")]
        // SAFETY: sched_getscheduler on the calling thread has no preconditions.
        unsafe {
            libc::sched_getscheduler(0)
        }
        #[cfg(not(target_os = "linux"))]
        0
    }
}
