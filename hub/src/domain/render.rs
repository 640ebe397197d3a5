//! Case-view renders within memory: a frame larger than the per-frame decode budget
//! (`imaging.max_frame_bytes`) is refused from its attributes, and renders that fit wait until
//! their estimated peak fits `imaging.render_memory_bytes` together with the renders in flight, so
//! four parallel views of a large image hold one or two of them at a time, not four.

use std::path::{Path, PathBuf};

use tokio::sync::{Semaphore, SemaphorePermit};
use worker_imaging::{Image, ImagingError, WindowSpec};

use super::error::{Error, Result};

/// The semaphore's unit: one permit per MiB of estimated render memory.
const PERMIT_BYTES: u64 = 1 << 20;

/// The memory case-view renders may hold at once.
pub(crate) struct RenderBudget {
    permits: Semaphore,
    total: u32,
}

impl RenderBudget {
    /// A budget of `bytes` (at least one MiB).
    pub(crate) fn new(bytes: u64) -> Self {
        let max = u64::try_from(Semaphore::MAX_PERMITS).unwrap_or(u64::MAX);
        let total = (bytes / PERMIT_BYTES).clamp(1, max.min(u64::from(u32::MAX)));
        let total = u32::try_from(total).unwrap_or(u32::MAX);
        RenderBudget {
            permits: Semaphore::new(total as usize),
            total,
        }
    }

    /// Waits until a render estimated at `bytes` fits (one larger than the whole budget waits
    /// for all of it, so it runs alone).
    async fn admit(&self, bytes: u64) -> Result<SemaphorePermit<'_>> {
        let wanted = bytes.div_ceil(PERMIT_BYTES).clamp(1, u64::from(self.total));
        let wanted = u32::try_from(wanted).unwrap_or(self.total);
        self.permits
            .acquire_many(wanted)
            .await
            .map_err(|_| Error::Internal("the render budget is closed".into()))
    }
}

/// A blob's local file for a render; a copy made into the scratch directory (from S3) is removed
/// when the render is done or abandoned (the client went away while it waited).
pub(crate) struct LocalCopy {
    path: PathBuf,
    scratch: bool,
}

impl LocalCopy {
    /// `path`, which is a scratch copy when it lies under `scratch`.
    pub(crate) fn new(path: PathBuf, scratch: &Path) -> Self {
        let scratch = path.starts_with(scratch);
        LocalCopy { path, scratch }
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self.scratch {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Renders frame `frame` of the local file `copy` as PNG (fitted to `max_size` when given):
/// opened on the blocking pool, checked against the per-frame budget, admitted within the render
/// budget, rendered on the blocking pool. The outer error is the hub's; the inner one the image's.
pub(crate) async fn render_local(
    budget: &RenderBudget,
    copy: LocalCopy,
    frame: u32,
    window: WindowSpec,
    max_size: Option<u32>,
) -> Result<std::result::Result<Vec<u8>, ImagingError>> {
    let path = copy.path.clone();
    let opened = blocking(move || open_checked(&path)).await?;
    let img = match opened {
        Ok(img) => img,
        Err(e) => return Ok(Err(e)),
    };
    let _permit = budget.admit(img.render_bytes()).await?;
    // The copy is removed by the blocking task when it is done, even if this future is dropped.
    blocking(move || {
        let png = worker_imaging::render_opened(&img, frame, window, max_size);
        drop((img, copy));
        png
    })
    .await
}

/// Opens an image and checks its frames against the per-frame budget (before any render waits).
fn open_checked(path: &Path) -> std::result::Result<Image, ImagingError> {
    let img = Image::open(path)?;
    img.check_frame_budget()?;
    Ok(img)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("renderer crashed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_render_larger_than_the_budget_runs_alone_and_small_ones_share() {
        let budget = RenderBudget::new(100 << 20);
        let huge = budget.admit(u64::MAX).await.unwrap();
        assert!(budget.permits.try_acquire().is_err());
        drop(huge);
        let a = budget.admit(60 << 20).await.unwrap();
        let b = budget.permits.try_acquire_many(40).unwrap();
        assert!(budget.permits.try_acquire().is_err());
        drop((a, b));
        assert_eq!(budget.permits.available_permits(), 100);
    }
}
