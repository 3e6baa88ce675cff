//! What the machine itself costs an acknowledgement, with no node running: the floor under the
//! load bench's latencies (`docs/benchmarks.md`, "The platform's floor").
//!
//! `cargo test --release -p zkclob-node --test platform -- --ignored --nocapture` prints one
//! JSON object per probe (`PLATFORM_SECS` sets each probe's length, 3 s by default):
//!
//! - `wake`: the round trip of a message between two threads that block on a channel, on one
//!   core and on two (the second core idle, then kept busy by a thread at nice 19 that gives way
//!   at once). Every hand-over on the node's path from order entry to the engine and back is
//!   such a wake-up. Also the guest's idle driver and its halt polling, where readable: on a
//!   virtual machine, waking an idle vCPU costs the host's wake-up of it.
//! - `stalls`: threads that only read the clock, one per core: how long they go without
//!   running (gaps of more than 100 µs; on a virtual machine, the host running something else
//!   on the vCPU). Alone on one core, then on both at once, as the node under load keeps them.
//! - `commits`: `zkclob disk-check` (the node's journal: 10,000 group commits with `fdatasync`)
//!   with the cores idle, then with its `busy_cores` (every core kept busy by threads at nice 19
//!   that give way at once, so what is left is the platform's, not this guest's scheduling).
//!
//! Also a quick test (not ignored) that the probes measure what they say.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use zkclob_node::diskcheck::{self, DiskCheck, DiskReport};

/// Group commits per disk probe (16 records of 150 bytes each, as at 50,000/s).
const PLATFORM_COMMITS: u64 = 10_000;

fn secs() -> f64 {
    std::env::var("PLATFORM_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Pins the calling thread to `core` (best effort: returns whether it worked).
fn pin(core: usize) -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the call changes this thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = core;
        false
    }
}

/// Keeps `core` busy until `stop` (a thread that only spins, pinned there; at nice 19 when
/// `yielding`, so that any other thread there runs first).
fn spinner(core: usize, stop: Arc<AtomicBool>, yielding: bool) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        pin(core);
        #[cfg(target_os = "linux")]
        if yielding {
            // SAFETY: setpriority on this thread (0: the caller) only changes its scheduling.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
        }
        while !stop.load(Relaxed) {
            std::hint::spin_loop();
        }
    })
}

/// Round trips of a message between two threads blocked on channels, the first on core `a` and
/// the second on core `b` (both spawned here: the caller's own affinity is left alone, so that
/// threads it starts later may run anywhere): microseconds per round trip, median of batches of
/// 100.
fn wake_round_trip_us(a: usize, b: usize, for_secs: f64) -> f64 {
    let (to_b, at_b) = mpsc::channel::<u64>();
    let (to_a, at_a) = mpsc::channel::<u64>();
    let echo = std::thread::spawn(move || {
        pin(b);
        while let Ok(x) = at_b.recv() {
            if to_a.send(x).is_err() {
                break;
            }
        }
    });
    let ping = std::thread::spawn(move || {
        pin(a);
        std::thread::sleep(Duration::from_millis(10));
        let mut batches = Vec::new();
        let end = Instant::now() + Duration::from_secs_f64(for_secs);
        // At least one batch, however late this thread runs.
        while batches.is_empty() || Instant::now() < end {
            let t = Instant::now();
            for i in 0..100 {
                to_b.send(i).expect("echo thread");
                at_a.recv().expect("echo thread");
            }
            batches.push(t.elapsed().as_secs_f64() * 1e6 / 100.0);
        }
        batches
    });
    let mut batches = ping.join().expect("ping thread");
    echo.join().expect("echo thread");
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}

/// What a clock-reading thread on each of `on` saw over `for_secs`: gaps between two readings.
#[derive(Debug, Default)]
struct Stalls {
    over_100us: u64,
    over_1ms: u64,
    over_5ms: u64,
    max_us: f64,
    /// Share of the time in gaps over 100 µs, in percent.
    lost_percent: f64,
}

fn stalls(on: &[usize], for_secs: f64) -> Vec<Stalls> {
    let threads: Vec<_> = on
        .iter()
        .map(|&core| {
            std::thread::spawn(move || {
                pin(core);
                let mut s = Stalls::default();
                let start = Instant::now();
                let end = start + Duration::from_secs_f64(for_secs);
                let mut last = start;
                let mut lost = 0.0;
                loop {
                    let now = Instant::now();
                    let gap = now.duration_since(last).as_secs_f64() * 1e6;
                    last = now;
                    if gap > 100.0 {
                        s.over_100us += 1;
                        s.over_1ms += u64::from(gap > 1_000.0);
                        s.over_5ms += u64::from(gap > 5_000.0);
                        s.max_us = s.max_us.max(gap);
                        lost += gap;
                    }
                    if now >= end {
                        break;
                    }
                }
                s.lost_percent = lost / (for_secs * 1e6) * 100.0;
                s
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().expect("clock thread")).collect()
}

/// `zkclob disk-check` on the file system of the current directory (where a node's `./data`
/// would be): `commits` group commits of the node's journal, the cores idle or kept busy.
fn disk(commits: u64, busy_cores: bool) -> DiskReport {
    let dir = tempfile::tempdir_in(".").expect("a temporary directory here");
    diskcheck::run(dir.path(), &DiskCheck { commits, busy_cores, ..DiskCheck::default() })
        .expect("disk check")
}

fn stalls_json(label: &str, s: &[Stalls], for_secs: f64) -> serde_json::Value {
    let per_core: Vec<_> = s
        .iter()
        .map(|s| {
            json!({
                "over_100us": s.over_100us,
                "over_1ms": s.over_1ms,
                "over_5ms": s.over_5ms,
                "max_us": s.max_us.round(),
                "lost_percent": (s.lost_percent * 100.0).round() / 100.0,
            })
        })
        .collect();
    json!({"probe": "stalls", "cores_busy": label, "secs": for_secs, "per_core": per_core})
}

/// Prints the machine's floor (see the module doc).
#[test]
#[ignore = "a measurement: run with --ignored --nocapture (about 6 probes of PLATFORM_SECS, then two disk checks)"]
fn measure_platform() {
    let s = secs();
    let n = cores();
    let same = wake_round_trip_us(0, 0, s);
    let (mut idle, mut busy) = (None, None);
    if n >= 2 {
        idle = Some(wake_round_trip_us(0, 1, s));
        // The second core kept from idling by a thread that gives way to the echo at once.
        let stop = Arc::new(AtomicBool::new(false));
        let spin = spinner(1, stop.clone(), true);
        busy = Some(wake_round_trip_us(0, 1, s));
        stop.store(true, Relaxed);
        spin.join().unwrap();
    }
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|v| v.trim().to_string());
    println!(
        "{}",
        json!({
            "probe": "wake",
            "cores": n,
            "round_trip_us_one_core": same,
            "round_trip_us_two_cores_idle": idle,
            "round_trip_us_two_cores_busy": busy,
            "cpuidle_driver": read("/sys/devices/system/cpu/cpuidle/current_driver"),
            "guest_halt_poll_ns": read("/sys/module/haltpoll/parameters/guest_halt_poll_ns"),
        })
    );
    println!("{}", stalls_json("one", &stalls(&[0], s), s));
    let all: Vec<usize> = (0..n).collect();
    println!("{}", stalls_json("all", &stalls(&all, s), s));
    for busy_cores in [false, true] {
        println!("{}", json!({"probe": "commits", "disk_check": disk(PLATFORM_COMMITS, busy_cores)}));
    }
}

/// The probes on a small scale: each measures something, in the units it says.
#[test]
fn the_probes_measure_what_they_say() {
    let before = cores();
    let rt = wake_round_trip_us(0, 0, 0.05);
    assert!(rt > 0.0 && rt < 100_000.0, "a round trip of {rt} µs");
    // The busy threads of the disk probe start from this thread: it must not be left pinned.
    assert_eq!(cores(), before, "the caller's affinity is left alone");
    let s = stalls(&[0], 0.05);
    assert_eq!(s.len(), 1);
    assert!(s[0].over_1ms <= s[0].over_100us && s[0].over_5ms <= s[0].over_1ms);
    assert!(s[0].lost_percent <= 100.0 + 1e-9);
    let j = stalls_json("one", &s, 0.05);
    assert_eq!(j["per_core"][0]["over_100us"].as_u64(), Some(s[0].over_100us));
}
