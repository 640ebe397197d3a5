//! Where an object's content lies: the values of its pixel data and of its waveform samples, the
//! bytes that say what was acquired, as opposed to the attributes that say whose it is. The hub
//! hashes them to recognise the same image or signal arriving under another patient; nothing
//! here reads or copies them.

use std::ops::Range;

use crate::bytes::ByteSource;
use crate::locate::{Cursor, Encoding, Header, PIXEL_DATA, WalkError};

/// Float Pixel Data and Double Float Pixel Data.
const FLOAT_PIXEL_DATA: [(u16, u16); 2] = [(0x7FE0, 0x0008), (0x7FE0, 0x0009)];
/// Waveform Sequence: one item per multiplex group.
const WAVEFORM_SEQUENCE: (u16, u16) = (0x5400, 0x0100);
/// Waveform Data, inside each Waveform Sequence item.
const WAVEFORM_DATA: (u16, u16) = (0x5400, 0x1010);
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_DELIM: (u16, u16) = (0xFFFE, 0xE00D);
const SEQ_DELIM: (u16, u16) = (0xFFFE, 0xE0DD);
const UNDEFINED: u32 = 0xFFFF_FFFF;

/// Adds to `out` the content of the top-level element `h` whose value spans `value`: the whole
/// value of Pixel Data (native or encapsulated), or the Waveform Data values inside a Waveform
/// Sequence (so that the channel definitions around the samples, or the VR encoding of the
/// sequence, do not change what counts as the same signal). A sequence this walk cannot follow
/// counts whole.
pub(crate) fn collect(
    src: &dyn ByteSource,
    h: &Header,
    value: Range<u64>,
    enc: Encoding,
    out: &mut Vec<Range<u64>>,
) {
    if h.tag == PIXEL_DATA || FLOAT_PIXEL_DATA.contains(&h.tag) {
        out.push(value);
    } else if h.tag == WAVEFORM_SEQUENCE {
        let mut found = Vec::new();
        match waveform_data(src, value.clone(), enc, &mut found) {
            Ok(()) if !found.is_empty() => out.extend(found),
            _ => out.push(value),
        }
    }
}

/// The Waveform Data values of the items in `seq` (a Waveform Sequence's value).
fn waveform_data(
    src: &dyn ByteSource,
    seq: Range<u64>,
    enc: Encoding,
    out: &mut Vec<Range<u64>>,
) -> Result<(), WalkError> {
    let mut c = Cursor::new(src, seq.start);
    while c.pos < seq.end {
        let item = c.header(enc)?;
        match item.tag {
            SEQ_DELIM => return Ok(()),
            ITEM => {
                let end = (item.len != UNDEFINED).then(|| c.pos + u64::from(item.len));
                item_elements(&mut c, end, enc, out)?;
            }
            t => {
                return Err(WalkError(format!(
                    "({:04X},{:04X}) in a sequence",
                    t.0, t.1
                )));
            }
        }
    }
    Ok(())
}

/// Walks one item's elements (to `end`, or to its delimiter when its length is undefined).
fn item_elements(
    c: &mut Cursor<'_>,
    end: Option<u64>,
    enc: Encoding,
    out: &mut Vec<Range<u64>>,
) -> Result<(), WalkError> {
    while end.is_none_or(|e| c.pos < e) {
        let h = c.header(enc)?;
        if h.tag == ITEM_DELIM {
            return Ok(());
        }
        let start = c.pos;
        c.skip_value(&h, enc, 1)?;
        if h.tag == WAVEFORM_DATA && h.len != UNDEFINED {
            out.push(start..c.pos);
        }
    }
    Ok(())
}

/// Feeds the bytes of `ranges` to `sink`, a mebibyte at a time.
pub(crate) fn feed(
    src: &dyn ByteSource,
    ranges: &[Range<u64>],
    sink: &mut dyn FnMut(&[u8]),
) -> std::io::Result<()> {
    const CHUNK: u64 = 1 << 20;
    let mut buf = Vec::new();
    for r in ranges {
        let mut at = r.start;
        while at < r.end {
            let n = (r.end - at).min(CHUNK) as usize;
            buf.resize(n, 0);
            src.read_at(at, &mut buf)?;
            sink(&buf);
            at += n as u64;
        }
    }
    Ok(())
}
