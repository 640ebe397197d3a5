//! Encapsulated Pixel Data: the item table (offsets and lengths only, nothing read) and the
//! mapping of frames to fragments (Extended Offset Table, Basic Offset Table, one fragment per
//! frame, or frame-start markers, in that order of trust).

use std::ops::Range;

use super::bytes::ByteSource;
use super::locate::{Cursor, Encoding, WalkError};

/// One fragment's place in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fragment {
    /// Offset of the item tag (offset tables count from the first fragment's item tag).
    pub item_start: u64,
    /// Offset of the fragment's bytes.
    pub offset: u64,
    /// Length in bytes (clipped to the file when it is truncated).
    pub len: u64,
    /// The item claims more bytes than the file has.
    pub truncated: bool,
}

/// The Basic Offset Table and the fragments after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FragmentTable {
    pub basic_offsets: Vec<u64>,
    pub fragments: Vec<Fragment>,
}

/// Reads item headers from the start of the pixel data sequence, seeking past each fragment.
pub(crate) fn read_table(
    src: &dyn ByteSource,
    value_start: u64,
) -> Result<FragmentTable, WalkError> {
    let mut c = Cursor::new(src, value_start);
    let bot = c.header(Encoding::EXPLICIT_LE)?;
    if bot.tag != (0xFFFE, 0xE000) || bot.len == u32::MAX {
        return Err(WalkError(
            "encapsulated Pixel Data does not start with an offset table item".into(),
        ));
    }
    let table = c.peek(bot.len as usize)?;
    let basic_offsets = table
        .chunks_exact(4)
        .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    c.skip(u64::from(bot.len))?;
    let mut fragments = Vec::new();
    // A missing sequence delimiter at the end of the file is tolerated, as every reader does.
    while src.len().saturating_sub(c.pos) >= 8 {
        let item_start = c.pos;
        let h = c.header(Encoding::EXPLICIT_LE)?;
        match h.tag {
            (0xFFFE, 0xE0DD) => break,
            (0xFFFE, 0xE000) if h.len != u32::MAX => {
                let available = src.len() - c.pos;
                let len = u64::from(h.len).min(available);
                let truncated = len < u64::from(h.len);
                fragments.push(Fragment {
                    item_start,
                    offset: c.pos,
                    len,
                    truncated,
                });
                c.skip(len)?;
            }
            t => {
                return Err(WalkError(format!(
                    "({:04X},{:04X}) with length {:#x} inside encapsulated Pixel Data at offset {item_start}",
                    t.0, t.1, h.len
                )));
            }
        }
    }
    Ok(FragmentTable {
        basic_offsets,
        fragments,
    })
}

/// How a frame's first bytes look, to find frame boundaries when no offset table says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartMarker {
    /// JPEG, JPEG-LS: SOI.
    Jpeg,
    /// JPEG 2000 codestream (SOC) or JP2 file signature.
    J2k,
    /// RLE and anything else: no marker (one fragment per frame is required).
    None,
}

impl StartMarker {
    fn matches(self, head: &[u8]) -> bool {
        match self {
            Self::Jpeg => head.starts_with(&[0xFF, 0xD8]),
            Self::J2k => head.starts_with(&[0xFF, 0x4F]) || head.get(4..8) == Some(b"jP  "),
            Self::None => false,
        }
    }
}

/// Assigns fragments to frames. `extended` is the Extended Offset Table, if the data set has one.
pub(crate) fn map_frames(
    src: &dyn ByteSource,
    table: &FragmentTable,
    frames: u32,
    extended: Option<&[u64]>,
    marker: StartMarker,
) -> Result<Vec<Range<usize>>, String> {
    let n = table.fragments.len();
    if n == 0 {
        return Err("encapsulated Pixel Data has no fragments".into());
    }
    if frames == 1 {
        return Ok(std::iter::once(0..n).collect());
    }
    let offsets =
        extended.or((!table.basic_offsets.is_empty()).then_some(&table.basic_offsets[..]));
    if let Some(ranges) = offsets.and_then(|o| ranges_from_offsets(table, o, frames)) {
        return Ok(ranges);
    }
    if n == frames as usize {
        return Ok((0..n).map(|i| i..i + 1).collect());
    }
    let starts = frame_starts(src, table, marker);
    if starts.len() == frames as usize && starts.first() == Some(&0) {
        let mut ranges: Vec<_> = starts.windows(2).map(|w| w[0]..w[1]).collect();
        ranges.push(starts[starts.len() - 1]..n);
        return Ok(ranges);
    }
    Err(format!(
        "cannot tell which of {n} fragments belong to which of {frames} frames (no usable offset table)"
    ))
}

/// Frame ranges from offsets relative to the first fragment's item tag, if they are consistent.
fn ranges_from_offsets(
    table: &FragmentTable,
    offsets: &[u64],
    frames: u32,
) -> Option<Vec<Range<usize>>> {
    if offsets.len() != frames as usize {
        return None;
    }
    let base = table.fragments[0].item_start;
    let mut starts = Vec::with_capacity(offsets.len());
    for &off in offsets {
        let i = table
            .fragments
            .iter()
            .position(|f| f.item_start - base == off)?;
        if starts.last().is_some_and(|&prev| i <= prev) {
            return None;
        }
        starts.push(i);
    }
    if starts[0] != 0 {
        return None;
    }
    let n = table.fragments.len();
    Some(
        (0..starts.len())
            .map(|k| starts[k]..starts.get(k + 1).copied().unwrap_or(n))
            .collect(),
    )
}

fn frame_starts(src: &dyn ByteSource, table: &FragmentTable, marker: StartMarker) -> Vec<usize> {
    let mut head = [0u8; 8];
    table
        .fragments
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let k = (f.len as usize).min(8);
            src.read_at(f.offset, &mut head[..k]).is_ok() && marker.matches(&head[..k])
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::bytes::MemBytes;
    use super::*;
    use std::sync::Arc;

    fn item(out: &mut Vec<u8>, data: &[u8]) {
        out.extend([0xFE, 0xFF, 0x00, 0xE0]);
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(data);
    }

    fn encapsulated(bot: &[u32], frags: &[&[u8]]) -> Vec<u8> {
        let mut d = Vec::new();
        let table: Vec<u8> = bot.iter().flat_map(|o| o.to_le_bytes()).collect();
        item(&mut d, &table);
        for f in frags {
            item(&mut d, f);
        }
        d.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        d
    }

    #[test]
    fn basic_offset_table_groups_fragments_into_frames() {
        let d = encapsulated(
            &[0, 20],
            &[&[0xFF, 0xD8, 1, 2], &[3, 4, 5, 6], &[0xFF, 0xD8, 7, 8]],
        );
        let src = MemBytes(Arc::from(d));
        let t = read_table(&src, 0).unwrap();
        assert_eq!(t.fragments.len(), 3);
        let r = map_frames(&src, &t, 2, None, StartMarker::Jpeg).unwrap();
        assert_eq!(r, vec![0..2, 2..3]);
    }

    #[test]
    fn without_offsets_markers_find_the_frames() {
        let d = encapsulated(
            &[],
            &[&[0xFF, 0xD8, 1, 2], &[3, 4, 5, 6], &[0xFF, 0xD8, 7, 8]],
        );
        let src = MemBytes(Arc::from(d));
        let t = read_table(&src, 0).unwrap();
        let r = map_frames(&src, &t, 2, None, StartMarker::Jpeg).unwrap();
        assert_eq!(r, vec![0..2, 2..3]);
        assert!(map_frames(&src, &t, 2, None, StartMarker::None).is_err());
    }

    #[test]
    fn a_truncated_fragment_is_clipped_and_flagged() {
        let mut d = encapsulated(&[], &[&[1, 2, 3, 4, 5, 6]]);
        d.truncate(d.len() - 8 - 3);
        let src = MemBytes(Arc::from(d));
        let t = read_table(&src, 0).unwrap();
        assert_eq!(t.fragments[0].len, 3);
        assert!(t.fragments[0].truncated);
    }
}
