//! The one module that owns rayon. Every parallel function here has a sequential twin that
//! produces the same result in the same order (tests prove it); callers choose the pool by
//! calling from inside `ThreadPool::install`.
//!
//! Parallelism comes at two levels: across instances and frames (the public functions here),
//! and inside one large JPEG 2000 frame, decoded in horizontal bands ([`try_map_in_order`]) on
//! the same pool, so nested work is shared out by work-stealing rather than oversubscribing the
//! CPUs. Bands cost extra work (each re-reads the codestream and decodes the code-blocks at its
//! edges again), so a frame is split only across the threads the outer level leaves idle: a
//! call with `n` instances or frames on `t` threads lets each frame use `t / n` of them (none
//! when `n >= t`). The sequential twins keep everything, bands included, on the calling thread.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::api::{InstanceOutput, process_instance};
use crate::error::ImagingError;
use crate::frame::DecodedFrame;
use crate::source::Image;

/// Processes instances in parallel, one rayon task each; results in input order. A failing
/// instance yields its error and the others go on.
pub fn process_instances(paths: &[PathBuf]) -> Vec<Result<InstanceOutput, ImagingError>> {
    let n = paths.len();
    paths
        .par_iter()
        .map(|p| task(n, || process_instance(p)))
        .collect()
}

/// [`process_instances`] on the calling thread.
pub fn process_instances_sequential(
    paths: &[PathBuf],
) -> Vec<Result<InstanceOutput, ImagingError>> {
    whole_frames(|| paths.iter().map(|p| process_instance(p)).collect())
}

/// Decodes every frame of one object in parallel and hands each to `sink` as it is ready (in
/// no particular order), never holding more frames than there are worker threads: the way to
/// walk a 1 GB multi-frame object. Fails only if the object cannot be opened.
pub fn for_each_frame<F>(path: &Path, sink: F) -> Result<u32, ImagingError>
where
    F: Fn(u32, Result<DecodedFrame, ImagingError>) + Sync,
{
    let img = Image::open(path)?;
    let n = img.attrs().frames;
    (0..n)
        .into_par_iter()
        .for_each(|k| sink(k, task(n as usize, || img.decode_frame(k))));
    Ok(n)
}

/// Decodes all frames of one object in parallel, in frame order. Holds every frame: for
/// objects that fit in memory; use [`for_each_frame`] otherwise.
pub fn decode_all_frames(
    path: &Path,
) -> Result<Vec<Result<DecodedFrame, ImagingError>>, ImagingError> {
    let img = Image::open(path)?;
    let n = img.attrs().frames;
    Ok((0..n)
        .into_par_iter()
        .map(|k| task(n as usize, || img.decode_frame(k)))
        .collect())
}

/// [`decode_all_frames`] on the calling thread.
pub fn decode_all_frames_sequential(
    path: &Path,
) -> Result<Vec<Result<DecodedFrame, ImagingError>>, ImagingError> {
    whole_frames(|| {
        let img = Image::open(path)?;
        Ok((0..img.attrs().frames)
            .map(|k| img.decode_frame(k))
            .collect())
    })
}

thread_local! {
    /// How many threads a frame decoded on this thread may be split across, while a
    /// sequential twin (1) or one of several parallel tasks (the pool shared among them) runs
    /// here; `None` outside them (the whole pool).
    static FRAME_THREADS: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Runs one of `items` parallel tasks, giving each its share of the pool for splitting frames:
/// none when there are at least as many tasks as threads (bands would only add work).
fn task<R>(items: usize, f: impl FnOnce() -> R) -> R {
    let share = (rayon::current_num_threads() / items.max(1)).max(1);
    with_frame_threads(share, f)
}

/// Runs `f` with intra-frame parallelism off on this thread.
fn whole_frames<R>(f: impl FnOnce() -> R) -> R {
    with_frame_threads(1, f)
}

/// Runs `f` with frames split across at most `n` threads (never more than an enclosing call
/// allows); the previous limit is restored afterwards, also when `f` unwinds.
fn with_frame_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FRAME_THREADS.with(|s| s.set(self.0));
        }
    }
    let before = FRAME_THREADS.with(Cell::get);
    let n = before.map_or(n, |b| b.min(n));
    let _restore = Restore(FRAME_THREADS.with(|s| s.replace(Some(n))));
    f()
}

/// How many threads a codec may split one frame across: the current pool's size, or the share
/// [`task`] and the sequential twins allow.
pub(crate) fn intra_frame_threads() -> usize {
    FRAME_THREADS
        .with(Cell::get)
        .unwrap_or_else(rayon::current_num_threads)
}

/// Maps `items` in parallel on the current pool; results in input order, or the error of the
/// first failing item (in input order). Used for the bands of one frame.
pub(crate) fn try_map_in_order<T, U, E, F>(items: &[T], f: F) -> Result<Vec<U>, E>
where
    T: Sync,
    U: Send,
    E: Send,
    F: Fn(&T) -> Result<U, E> + Sync,
{
    let results: Vec<Result<U, E>> = items.par_iter().map(&f).collect();
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_only_across_the_threads_the_outer_level_leaves_idle() {
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .expect("a thread pool")
        };
        pool(2).install(|| {
            assert_eq!(intra_frame_threads(), 2);
            assert_eq!(task(1, intra_frame_threads), 2);
            assert_eq!(task(2, intra_frame_threads), 1);
            assert_eq!(task(120, intra_frame_threads), 1);
            assert_eq!(whole_frames(|| task(1, intra_frame_threads)), 1);
            // Restored after the task, also when it unwinds.
            assert_eq!(intra_frame_threads(), 2);
            let unwound = std::panic::catch_unwind(|| whole_frames(|| panic!("inside")));
            assert!(unwound.is_err());
            assert_eq!(intra_frame_threads(), 2);
        });
        pool(8).install(|| {
            assert_eq!(task(3, intra_frame_threads), 2);
            assert_eq!(task(2, || task(1, intra_frame_threads)), 4);
        });
    }
}
