//! `zkclob disk-check`: what a group commit costs on the disk under a data directory, measured
//! with the node's own [`Journal`] (the same records, zeros written ahead and `fdatasync`), and
//! how the kernel sees that disk's cache.
//!
//! The node acknowledges nothing before its group commit is on stable storage, so the disk's
//! commit latency is part of every acknowledgement. On a disk with a volatile write cache and no
//! FUA each `fdatasync` is two device round trips (the data, then a cache flush); on the load
//! bench's virtual disk the flush alone was about 1 ms of the p99 at 50,000 orders/s
//! (`docs/benchmarks.md`). This check answers, before a deployment, how long commits take there.
//!
//! It writes into a fresh directory inside the data directory (`.disk-check-<pid>`) and removes
//! it afterwards, whatever happens; the node's own files are not touched.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::journal::{FsyncPolicy, Journal, JournalConfig, JournalError};

/// Most commits one check makes.
pub const MAX_COMMITS: u64 = 1_000_000;
/// Largest record one check writes (the node's commands are about 150 bytes).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Most records per commit.
pub const MAX_RECORDS_PER_COMMIT: usize = 65_536;
/// Most bytes one check writes (records and their 16-byte headers).
pub const MAX_TOTAL_BYTES: u64 = 1 << 30;

/// What to measure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskCheck {
    /// Group commits to time.
    pub commits: u64,
    /// Records per commit (the load bench's groups at 50,000/s hold about 16).
    pub records_per_commit: usize,
    /// Bytes per record.
    pub record_bytes: usize,
    /// Zeros written ahead of the last record, as `engine.preallocate_kb` sets them for the node.
    pub preallocate_bytes: u64,
    /// Keep every core busy meanwhile, with threads at nice 19 that give way at once: what a
    /// node under load does to its disk's commits. On a virtual machine the host then stalls
    /// busy vCPUs and their I/O; on the load bench's (`docs/benchmarks.md`, eighteenth session)
    /// this took the commits' p99.9 from 0.5 ms to 2–4 ms.
    pub busy_cores: bool,
}

impl Default for DiskCheck {
    fn default() -> Self {
        DiskCheck {
            commits: 2_000,
            records_per_commit: 16,
            record_bytes: 150,
            preallocate_bytes: 256 << 10,
            busy_cores: false,
        }
    }
}

/// Why a check could not run.
#[derive(Debug, thiserror::Error)]
pub enum DiskCheckError {
    /// A parameter is out of range.
    #[error("disk check: {0}")]
    Invalid(String),
    /// The data directory is missing or not a directory.
    #[error("disk check: {path} is not a directory")]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// Creating or removing the check's directory failed.
    #[error("disk check: {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The journal failed.
    #[error("disk check: {0}")]
    Journal(#[from] JournalError),
}

/// How the kernel sees the block device under a directory (`/sys/dev/block/M:m/queue`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceCache {
    /// `major:minor` of the device holding the directory.
    pub device: String,
    /// `write back` (a volatile cache: every `fdatasync` ends with a cache flush) or
    /// `write through`; `None` where the kernel does not say (not a block device: tmpfs,
    /// overlay).
    pub write_cache: Option<String>,
    /// Whether the device takes forced-unit-access writes; `None` where the kernel does not say.
    pub fua: Option<bool>,
}

/// Percentiles of a list of durations, in µs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Micros {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Micros {
    /// Nearest-rank percentiles of `nanos` (sorted here), as the load generator reports them.
    fn of(nanos: &mut [u64]) -> Micros {
        nanos.sort_unstable();
        let at = |per_100k| crate::loadgen::percentile(nanos, per_100k) as f64 / 1e3;
        Micros { p50: at(50_000), p99: at(99_000), p999: at(99_900), max: at(100_000) }
    }
}

/// What a check measured.
#[derive(Clone, Debug, Serialize)]
pub struct DiskReport {
    /// The data directory checked.
    pub data: PathBuf,
    /// The device's cache, as the kernel reports it.
    pub cache: DeviceCache,
    /// Commits timed.
    pub commits: u64,
    /// Records per commit.
    pub records_per_commit: usize,
    /// Bytes per record.
    pub record_bytes: usize,
    /// Threads kept busy meanwhile (at nice 19), one per core; 0 with the cores left idle.
    pub busy_threads: usize,
    /// Whole group commit (write and `fdatasync`), µs.
    pub commit_us: Micros,
    /// The `fdatasync` alone, µs.
    pub fdatasync_us: Micros,
    /// Commits per second, one after another (no overlap, as the engine makes them).
    pub commits_per_sec: f64,
    /// What the numbers mean for the node.
    pub note: String,
}

/// The cache of the block device holding `dir`, as `/sys` reports it.
pub fn device_cache(dir: &Path) -> DeviceCache {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else { return DeviceCache::default() };
    let device = format!("{}:{}", libc::major(meta.dev()), libc::minor(meta.dev()));
    let sys = Path::new("/sys/dev/block").join(&device);
    // A partition has no queue of its own: its disk's is one level up.
    let queue = [sys.join("queue"), sys.join("../queue")].into_iter().find(|q| q.is_dir());
    let read = |name: &str| {
        queue.as_ref().and_then(|q| std::fs::read_to_string(q.join(name)).ok()).map(|s| s.trim().to_string())
    };
    DeviceCache { device, write_cache: read("write_cache"), fua: read("fua").map(|v| v == "1") }
}

/// Threads that keep every core busy until dropped, at nice 19 so that any other thread runs
/// first.
struct BusyCores {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyCores {
    fn start() -> BusyCores {
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (0..cores)
            .filter_map(|_| {
                let stop = stop.clone();
                std::thread::Builder::new()
                    .name("zkclob-disk-check-busy".into())
                    .spawn(move || {
                        crate::sched::set_nice(0, 19);
                        while !stop.load(Relaxed) {
                            std::hint::spin_loop();
                        }
                    })
                    .ok()
            })
            .collect();
        BusyCores { stop, threads }
    }
}

impl Drop for BusyCores {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Removes the check's directory when dropped, whatever happened.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a check in `data` (which must exist): `check.commits` group commits of
/// `check.records_per_commit` records through a fresh [`Journal`] with `fdatasync` on.
pub fn run(data: &Path, check: &DiskCheck) -> Result<DiskReport, DiskCheckError> {
    if check.commits == 0 || check.commits > MAX_COMMITS {
        return Err(DiskCheckError::Invalid(format!("commits must be 1..={MAX_COMMITS}")));
    }
    if check.records_per_commit == 0 || check.records_per_commit > MAX_RECORDS_PER_COMMIT {
        return Err(DiskCheckError::Invalid(format!(
            "records per commit must be 1..={MAX_RECORDS_PER_COMMIT}"
        )));
    }
    if check.record_bytes == 0 || check.record_bytes > MAX_RECORD_BYTES {
        return Err(DiskCheckError::Invalid(format!("record bytes must be 1..={MAX_RECORD_BYTES}")));
    }
    let per_commit = check.records_per_commit as u64 * (check.record_bytes as u64 + 16);
    if per_commit > 64 << 20 {
        return Err(DiskCheckError::Invalid("one commit must hold at most 64 MiB of records".into()));
    }
    if per_commit.saturating_mul(check.commits) > MAX_TOTAL_BYTES {
        return Err(DiskCheckError::Invalid("the check would write more than 1 GiB".into()));
    }
    if check.preallocate_bytes > 64 << 20 {
        return Err(DiskCheckError::Invalid("zeros written ahead must be at most 64 MiB".into()));
    }
    if !data.is_dir() {
        return Err(DiskCheckError::NotADirectory { path: data.to_path_buf() });
    }
    let dir = data.join(format!(".disk-check-{}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|source| DiskCheckError::Io {
        op: "create",
        path: dir.clone(),
        source,
    })?;
    let scratch = Scratch(dir);
    let mut cfg = JournalConfig::new(scratch.0.join("journal"));
    cfg.fsync = FsyncPolicy::Always;
    cfg.preallocate_bytes = check.preallocate_bytes;
    let (mut journal, _) = Journal::open(cfg)?;
    let record: Vec<u8> = (0..check.record_bytes).map(|i| (i % 251) as u8 + 1).collect();
    let mut commit_ns = Vec::with_capacity(check.commits as usize);
    let mut sync_ns = Vec::with_capacity(check.commits as usize);
    let busy = check.busy_cores.then(BusyCores::start);
    let busy_threads = busy.as_ref().map_or(0, |b| b.threads.len());
    let started = Instant::now();
    for _ in 0..check.commits {
        for _ in 0..check.records_per_commit {
            journal.append(&record)?;
        }
        let t = Instant::now();
        let stats = journal.commit()?;
        commit_ns.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
        sync_ns.push(stats.fsync_nanos);
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(busy);
    drop(journal);
    drop(scratch);
    let cache = device_cache(data);
    let note = match cache.write_cache.as_deref() {
        Some("write back") => {
            "volatile write cache: every commit is a write and then a cache flush, two device \
                               round trips"
                .to_string()
        }
        Some(_) => "no volatile write cache: a commit is the write alone".to_string(),
        None => "the kernel reports no block device here (tmpfs or overlay?): the numbers may not reflect a \
                 durable disk"
            .to_string(),
    };
    Ok(DiskReport {
        data: data.to_path_buf(),
        cache,
        commits: check.commits,
        records_per_commit: check.records_per_commit,
        record_bytes: check.record_bytes,
        busy_threads,
        commit_us: Micros::of(&mut commit_ns),
        fdatasync_us: Micros::of(&mut sync_ns),
        commits_per_sec: check.commits as f64 / elapsed.max(1e-9),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_commits_and_leaves_nothing_behind() {
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join("keep"), b"node file").unwrap();
        let check = DiskCheck { commits: 40, ..DiskCheck::default() };
        let r = run(data.path(), &check).unwrap();
        assert_eq!(r.commits, 40);
        let (c, s) = (r.commit_us, r.fdatasync_us);
        assert!(c.p50 > 0.0 && c.p50 <= c.p99 && c.p99 <= c.p999 && c.p999 <= c.max, "{c:?}");
        assert!(s.p50 > 0.0 && s.max <= c.max, "{s:?} within {c:?}");
        assert!(r.commits_per_sec > 0.0);
        assert!(!r.cache.device.is_empty());
        let left: Vec<_> = std::fs::read_dir(data.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("keep")], "only the node's own file is left");
    }

    #[test]
    fn busy_cores_run_for_the_check_only() {
        let dir = tempfile::tempdir().unwrap();
        let check = DiskCheck { commits: 20, busy_cores: true, ..DiskCheck::default() };
        let r = run(dir.path(), &check).unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(r.busy_threads, cores);
        assert_eq!(r.commits, 20);
        // They are gone once the check returns (their names are 15 bytes in /proc: truncated).
        let busy_left = std::fs::read_dir("/proc/self/task")
            .map(|d| {
                d.flatten()
                    .filter(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|c| c.starts_with("zkclob-disk-che"))
                    })
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(busy_left, 0, "busy threads outlived the check");
        let quiet = run(dir.path(), &DiskCheck { commits: 5, ..DiskCheck::default() }).unwrap();
        assert_eq!(quiet.busy_threads, 0);
    }

    #[test]
    fn refuses_bad_parameters_and_missing_directories() {
        let data = tempfile::tempdir().unwrap();
        for bad in [
            DiskCheck { commits: 0, ..DiskCheck::default() },
            DiskCheck { commits: MAX_COMMITS + 1, ..DiskCheck::default() },
            DiskCheck { records_per_commit: 0, ..DiskCheck::default() },
            DiskCheck { record_bytes: MAX_RECORD_BYTES + 1, ..DiskCheck::default() },
            DiskCheck { preallocate_bytes: (64 << 20) + 1, ..DiskCheck::default() },
            DiskCheck { records_per_commit: 65_536, record_bytes: 4_096, ..DiskCheck::default() },
            DiskCheck { commits: 1_000_000, record_bytes: 4_096, ..DiskCheck::default() },
        ] {
            assert!(matches!(run(data.path(), &bad), Err(DiskCheckError::Invalid(_))), "{bad:?}");
        }
        let missing = data.path().join("nope");
        assert!(matches!(run(&missing, &DiskCheck::default()), Err(DiskCheckError::NotADirectory { .. })));
        assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
    }

    #[test]
    fn percentiles_are_in_microseconds() {
        let mut v: Vec<u64> = (1..=1000).rev().map(|i| i * 1000).collect();
        let m = Micros::of(&mut v);
        assert_eq!((m.p50, m.p99, m.p999, m.max), (500.0, 990.0, 999.0, 1000.0));
        assert_eq!(Micros::of(&mut []), Micros::default());
    }
}
