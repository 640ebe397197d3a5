//! The one module that owns rayon. Every parallel function here has a sequential twin that
//! produces the same result in the same order (tests prove it); callers choose the pool by
//! calling from inside `ThreadPool::install`.

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
    paths.iter().map(|p| process_instance(p)).collect()
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
    let img = Image::open(path)?;
    Ok((0..img.attrs().frames)
        .map(|k| img.decode_frame(k))
        .collect())
}
