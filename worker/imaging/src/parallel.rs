//! The one module that owns rayon. Every parallel function here has a sequential twin that
//! produces the same result in the same order (tests prove it); callers choose the pool by
//! calling from inside `ThreadPool::install`.
//!
//! Parallelism comes at two levels: across instances and frames (the public functions here),
//! and inside one large JPEG 2000 frame, decoded in horizontal bands ([`try_map_in_order`]) on
//! the same pool, so nested work is shared out by work-stealing rather than oversubscribing the
//! CPUs. Bands cost extra work (each re-reads the codestream and decodes the code-blocks at its
//! edges again), so they are used only when the outer level leaves threads idle: a call with at
//! least as many instances or frames as threads decodes each frame whole. The sequential twins
//! keep everything, bands included, on the calling thread.

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
    /// Set while this thread runs a sequential twin or one of enough parallel tasks to keep
    /// every thread busy: codecs then decode each frame whole.
    static WHOLE_FRAMES: Cell<bool> = const { Cell::new(false) };
}

/// Runs one of `items` parallel tasks: whole frames when there are at least as many tasks as
/// threads (bands would only add work), else frames may be split.
fn task<R>(items: usize, f: impl FnOnce() -> R) -> R {
    if items >= rayon::current_num_threads() {
        whole_frames(f)
    } else {
        f()
    }
}

/// Runs `f` with intra-frame parallelism off on this thread (restored afterwards, also when
/// nested or unwinding).
fn whole_frames<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WHOLE_FRAMES.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(WHOLE_FRAMES.with(|s| s.replace(true)));
    f()
}

/// How many threads a codec may split one frame across: the current pool's size, or 1 where
/// frames decode whole (see [`task`]).
pub(crate) fn intra_frame_threads() -> usize {
    if WHOLE_FRAMES.with(Cell::get) {
        1
    } else {
        rayon::current_num_threads()
    }
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
    fn frames_split_only_when_the_outer_level_leaves_threads_idle() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a two-thread pool");
        pool.install(|| {
            assert_eq!(intra_frame_threads(), 2);
            assert_eq!(task(1, intra_frame_threads), 2);
            assert_eq!(task(2, intra_frame_threads), 1);
            assert_eq!(whole_frames(|| task(1, intra_frame_threads)), 1);
            // Restored after the task, also when it unwinds.
            assert_eq!(intra_frame_threads(), 2);
            let unwound = std::panic::catch_unwind(|| whole_frames(|| panic!("inside")));
            assert!(unwound.is_err());
            assert_eq!(intra_frame_threads(), 2);
        });
    }
}
