//! The one module that owns rayon. Every parallel function here has a sequential twin that
//! produces the same result in the same order (tests prove it); callers choose the pool by
//! calling from inside `ThreadPool::install`.
//!
//! Parallelism comes at two levels: across instances and frames (the public functions here),
//! and inside one large JPEG 2000 frame, decoded in horizontal bands ([`try_map_in_order`]) on
//! the same pool, so nested work is shared out by work-stealing rather than oversubscribing the
//! CPUs. The sequential twins keep everything, bands included, on the calling thread.

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
    paths.par_iter().map(|p| process_instance(p)).collect()
}

/// [`process_instances`] on the calling thread.
pub fn process_instances_sequential(
    paths: &[PathBuf],
) -> Vec<Result<InstanceOutput, ImagingError>> {
    on_this_thread(|| paths.iter().map(|p| process_instance(p)).collect())
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
        .for_each(|k| sink(k, img.decode_frame(k)));
    Ok(n)
}

/// Decodes all frames of one object in parallel, in frame order. Holds every frame: for
/// objects that fit in memory; use [`for_each_frame`] otherwise.
pub fn decode_all_frames(
    path: &Path,
) -> Result<Vec<Result<DecodedFrame, ImagingError>>, ImagingError> {
    let img = Image::open(path)?;
    Ok((0..img.attrs().frames)
        .into_par_iter()
        .map(|k| img.decode_frame(k))
        .collect())
}

/// [`decode_all_frames`] on the calling thread.
pub fn decode_all_frames_sequential(
    path: &Path,
) -> Result<Vec<Result<DecodedFrame, ImagingError>>, ImagingError> {
    on_this_thread(|| {
        let img = Image::open(path)?;
        Ok((0..img.attrs().frames)
            .map(|k| img.decode_frame(k))
            .collect())
    })
}

thread_local! {
    /// Set while a sequential twin runs on this thread: codecs then decode each frame whole.
    static SEQUENTIAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with intra-frame parallelism off on this thread (restored afterwards, also when
/// nested).
fn on_this_thread<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SEQUENTIAL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SEQUENTIAL.with(|s| s.replace(true)));
    f()
}

/// How many threads a codec may split one frame across: the current pool's size, or 1 inside
/// a sequential twin.
pub(crate) fn intra_frame_threads() -> usize {
    if SEQUENTIAL.with(Cell::get) {
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
