//! Atomic file writes: a reader never sees a half-written report.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{BacktestError, Result};

/// Distinguishes temporary files of concurrent writers in one process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BacktestError + '_ {
    move |source| BacktestError::Io { path: path.to_path_buf(), source }
}

/// Creates `dir` and its parents if missing.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(io_err(dir))
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory, synced, then
/// renamed over `path` (rename within one directory is atomic on POSIX file systems).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| BacktestError::InvalidConfig(format!("{} does not name a file", path.display())))?;
    let unique = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{name}.{}.{unique}.tmp", std::process::id()));
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(source) = written {
        // Best effort: the temporary file may not exist if creating it is what failed.
        let _ = fs::remove_file(&tmp);
        return Err(BacktestError::Io { path: path.to_path_buf(), source });
    }
    Ok(())
}
