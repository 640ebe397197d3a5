//! Watching the data directory's free space. Below the configured floor new uploads and C-STORE
//! are refused (the refusal says why) and an alarm is logged, so that what is already stored stays
//! readable: every case view writes an audit row, which a full disk would refuse.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a reading of the free space is trusted: a statvfs per staged file would be cheap, but
/// one a second is enough.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Least time between two alarms in the log.
const ALARM_EVERY: Duration = Duration::from_secs(60);

/// The free-space check of one directory's filesystem.
pub struct DiskWatch {
    dir: PathBuf,
    min_free_bytes: u64,
    /// The last reading: when, and how many bytes were free.
    reading: Mutex<Option<(Instant, u64)>>,
    last_alarm: Mutex<Option<Instant>>,
}

impl DiskWatch {
    /// Watches the filesystem holding `dir`; `min_free_bytes` 0 turns the check off.
    pub fn new(dir: PathBuf, min_free_bytes: u64) -> Self {
        DiskWatch {
            dir,
            min_free_bytes,
            reading: Mutex::new(None),
            last_alarm: Mutex::new(None),
        }
    }

    /// Whether new data may be written; when not, why, in words for the uploader. A filesystem
    /// whose free space cannot be read is not held against the uploader (the failure is logged).
    pub fn check(&self) -> Result<(), String> {
        if self.min_free_bytes == 0 {
            return Ok(());
        }
        let free = match self.free_bytes() {
            Ok(free) => free,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), "cannot read the free disk space: {e}");
                return Ok(());
            }
        };
        if free >= self.min_free_bytes {
            return Ok(());
        }
        let message = format!(
            "the hub's disk is nearly full: {} free, needs {}; uploads are refused until space is freed",
            human_bytes(free),
            human_bytes(self.min_free_bytes)
        );
        self.alarm(&message);
        Err(message)
    }

    /// Free bytes for unprivileged writers, read at most once per [`FRESH_FOR`].
    fn free_bytes(&self) -> std::io::Result<u64> {
        let mut reading = self.reading.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, free)) = *reading
            && at.elapsed() < FRESH_FOR
        {
            return Ok(free);
        }
        let free = fs4::available_space(&self.dir)?;
        *reading = Some((Instant::now(), free));
        Ok(free)
    }

    /// Logs the alarm at ERROR, at most once per [`ALARM_EVERY`].
    fn alarm(&self, message: &str) {
        let mut last = self.last_alarm.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at.elapsed() < ALARM_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        tracing::error!(dir = %self.dir.display(), "disk space alarm: {message}");
    }
}

/// Bytes the way a person reads them: "1.5 GiB", "300.0 MiB", "512 B".
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_floor_refuses_with_the_free_and_needed_space() {
        let dir = tempfile::tempdir().unwrap();
        let watch = DiskWatch::new(dir.path().to_owned(), u64::MAX);
        let err = watch.check().unwrap_err();
        assert!(err.starts_with("the hub's disk is nearly full: "), "{err}");
        assert!(err.contains("free, needs 16.0 EiB"), "{err}");
        assert!(DiskWatch::new(dir.path().to_owned(), 1).check().is_ok());
        assert!(DiskWatch::new(dir.path().to_owned(), 0).check().is_ok());
    }

    #[test]
    fn sizes_read_the_human_way() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(2 << 30), "2.0 GiB");
        assert_eq!(human_bytes(1536 << 20), "1.5 GiB");
    }
}
