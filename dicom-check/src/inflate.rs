//! Inflating a deflated data set (PS3.5 A.5) within a budget. A deflate stream of a few hundred
//! kilobytes can inflate to gigabytes, so the stream is inflated twice: first through a small
//! buffer, only counting, which refuses a stream that would pass the budget having spent CPU time
//! and no memory; then into a buffer of exactly the counted size.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::{Decompress, FlushDecompress, Status};

use crate::bytes::ByteSource;

/// The budget until [`set_max_inflated_bytes`] is called: 1 GiB.
pub const DEFAULT_MAX_INFLATED_BYTES: u64 = 1 << 30;

static MAX_INFLATED_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_INFLATED_BYTES);

/// Sets the most bytes a deflated data set may inflate to, for every object this process opens
/// from now on (the hub sets its `ingest.max_inflated_bytes` at start-up). 0 counts as 1.
pub fn set_max_inflated_bytes(bytes: u64) {
    MAX_INFLATED_BYTES.store(bytes.max(1), Ordering::Relaxed);
}

/// The most bytes a deflated data set may inflate to (see [`set_max_inflated_bytes`]).
pub fn max_inflated_bytes() -> u64 {
    MAX_INFLATED_BYTES.load(Ordering::Relaxed)
}

/// Why a data set was not inflated.
#[derive(Debug)]
pub enum InflateError {
    /// It inflates to more than `limit` bytes.
    TooLarge {
        /// The budget it would pass.
        limit: u64,
    },
    /// The stream is not valid deflate data, or ends without its final block.
    Bad(String),
}

/// Compressed bytes read from the source at a time.
const IN_CHUNK: usize = 64 << 10;
/// Inflated bytes produced at a time.
const OUT_CHUNK: usize = 256 << 10;

/// Inflates the deflated data set that starts at `start` in `src`, refusing one that would inflate
/// to more than [`max_inflated_bytes`]. The deflate stream must end properly: a stream cut short is
/// an error even where what it holds so far inflates cleanly. Bytes after the end of the stream (a
/// padding byte) are ignored.
pub(crate) fn inflate(
    src: &dyn ByteSource,
    start: u64,
) -> Result<Arc<dyn ByteSource>, InflateError> {
    let limit = max_inflated_bytes();
    let mut counted = 0u64;
    let size = stream(src, start, &mut |chunk| {
        counted += chunk.len() as u64;
        if counted > limit {
            return Err(InflateError::TooLarge { limit });
        }
        Ok(())
    })?;
    let size = usize::try_from(size).map_err(|_| InflateError::TooLarge { limit })?;
    let mut out = Vec::new();
    out.try_reserve_exact(size)
        .map_err(|e| InflateError::Bad(format!("cannot hold {size} inflated bytes: {e}")))?;
    stream(src, start, &mut |chunk| {
        if out.len() + chunk.len() > size {
            return Err(InflateError::Bad(
                "the deflate stream changed while read".into(),
            ));
        }
        out.extend_from_slice(chunk);
        Ok(())
    })?;
    Ok(Arc::new(Inflated(out)))
}

/// An inflated data set, kept in the buffer it was inflated into (an `Arc<[u8]>` would copy it,
/// holding it twice for a moment).
struct Inflated(Vec<u8>);

impl ByteSource for Inflated {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| std::io::ErrorKind::UnexpectedEof)?;
        let end = start
            .checked_add(buf.len())
            .filter(|&e| e <= self.0.len())
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(&self.0[start..end]);
        Ok(())
    }
}

/// What receives the inflated bytes, a chunk at a time; an error stops the stream.
type Sink<'a> = &'a mut dyn FnMut(&[u8]) -> Result<(), InflateError>;

/// Inflates the stream at `start` chunk by chunk into `sink`; returns the inflated size.
fn stream(src: &dyn ByteSource, start: u64, sink: Sink<'_>) -> Result<u64, InflateError> {
    let len = src.len().saturating_sub(start);
    let bad = |e: &dyn std::fmt::Display| InflateError::Bad(format!("inflating the data set: {e}"));
    let mut inflater = Decompress::new(false);
    let (mut input, mut output) = (vec![0u8; IN_CHUNK], vec![0u8; OUT_CHUNK]);
    // Compressed bytes read so far; `input[at..have]` is what the inflater has not consumed yet.
    let (mut read, mut at, mut have) = (0u64, 0usize, 0usize);
    loop {
        if at == have && read < len {
            have = usize::try_from((len - read).min(IN_CHUNK as u64)).unwrap_or(IN_CHUNK);
            src.read_at(start + read, &mut input[..have])
                .map_err(|e| bad(&e))?;
            read += have as u64;
            at = 0;
        }
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress(&input[at..have], &mut output, FlushDecompress::None)
            .map_err(|e| bad(&e))?;
        let consumed = usize::try_from(inflater.total_in() - in_before).unwrap_or(0);
        let produced = usize::try_from(inflater.total_out() - out_before).unwrap_or(0);
        at += consumed;
        sink(&output[..produced])?;
        if status == Status::StreamEnd {
            return Ok(inflater.total_out());
        }
        // No progress, and no more input to give: the stream ended without its final block.
        if produced == 0 && consumed == 0 && !(at == have && read < len) {
            return Err(InflateError::Bad(format!(
                "the deflated data set is truncated: its deflate stream ends without its final \
                 block after {len} bytes"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::MemBytes;
    use std::io::Write;

    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn source(bytes: Vec<u8>) -> MemBytes {
        MemBytes(Arc::from(bytes))
    }

    #[test]
    fn a_stream_inflates_whole_and_a_cut_one_is_refused() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let mut z = deflated(&data);
        z.push(0); // a padding byte after the stream is ignored
        let out = inflate(&source(z.clone()), 0).unwrap();
        assert_eq!(out.read_vec(0, data.len()).unwrap(), data);
        let cut = source(z[..z.len() / 2].to_vec());
        assert!(matches!(inflate(&cut, 0), Err(InflateError::Bad(m)) if m.contains("truncated")));
    }

    #[test]
    fn a_stream_past_the_budget_is_refused_before_it_is_held() {
        // 64 MiB of zeros deflate to about 64 KB; the budget is the process's, so stay above any
        // other test's data (3 MB) and restore it afterwards.
        let z = deflated(&vec![0u8; 64 << 20]);
        assert!(z.len() < 200_000);
        let before = max_inflated_bytes();
        set_max_inflated_bytes(32 << 20);
        let refused = inflate(&source(z.clone()), 0);
        set_max_inflated_bytes(before);
        assert!(matches!(refused, Err(InflateError::TooLarge { limit }) if limit == 32 << 20));
        assert_eq!(inflate(&source(z), 0).unwrap().len(), 64 << 20);
    }
}
