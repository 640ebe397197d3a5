//! The structural walk: the file meta group and the elements of the data set read by their
//! headers only (lengths are skipped, sequences of undefined length are walked item by item).
//! This is what lets a 1 GB multi-frame object be opened by reading a few kilobytes, and a
//! crafted length be refused before any parser allocates what it claims; the attributes
//! themselves are parsed by dicom-object over the header bytes this walk delimits.

use std::ops::Range;

use crate::bytes::ByteSource;

/// How the data set is encoded (after any deflate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    /// Explicit VR (else implicit).
    pub explicit: bool,
    /// Big endian (else little endian).
    pub big_endian: bool,
}

impl Encoding {
    /// Implicit VR Little Endian.
    pub const IMPLICIT_LE: Self = Self {
        explicit: false,
        big_endian: false,
    };
    /// Explicit VR Little Endian.
    pub const EXPLICIT_LE: Self = Self {
        explicit: true,
        big_endian: false,
    };
    /// Explicit VR Big Endian.
    pub const EXPLICIT_BE: Self = Self {
        explicit: true,
        big_endian: true,
    };
}

/// The Pixel Data element's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelElement {
    /// Offset of the element's tag: the header bytes end here.
    pub header_start: u64,
    /// Offset of its value (for encapsulated data, of the first item).
    pub value_start: u64,
    /// Value length; `None` when undefined (encapsulated).
    pub length: Option<u64>,
    /// Its VR, for explicit encodings.
    pub vr: Option<[u8; 2]>,
}

/// What the meta group says (or what was guessed without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Transfer Syntax UID, as declared (or guessed when absent).
    pub transfer_syntax: String,
    /// The meta group declares the Transfer Syntax UID.
    pub transfer_syntax_declared: bool,
    /// Media Storage SOP Instance UID, if present.
    pub media_sop_instance_uid: Option<String>,
    /// Media Storage SOP Class UID, if present.
    pub media_sop_class_uid: Option<String>,
    /// Where the data set begins.
    pub dataset_start: u64,
}

/// A structural problem found while walking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError(pub String);

type Result<T> = std::result::Result<T, WalkError>;

const UNDEFINED: u32 = 0xFFFF_FFFF;
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_DELIM: (u16, u16) = (0xFFFE, 0xE00D);
const SEQ_DELIM: (u16, u16) = (0xFFFE, 0xE0DD);
/// Pixel Data (7FE0,0010).
pub const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);
/// Sequences nest a handful of levels in practice; a bound keeps crafted input from recursing
/// the stack away.
const MAX_DEPTH: u32 = 32;
const WINDOW: usize = 64 * 1024;

/// VRs whose explicit header has two reserved bytes and a 32-bit length.
#[cfg(test)]
const LONG_VRS: [&[u8; 2]; 13] = [
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV",
];

/// VRs whose explicit header has a 16-bit length. Any other VR, including one the standard does
/// not define, has the long form: DCMTK and dicom-object read unknown VRs that way, and the walk
/// must see the same element boundaries as the attribute parser (otherwise a bogus VR lets
/// the parser take 4 bytes of value as a length of gigabytes; found by fuzzing).
const SHORT_VRS: [&[u8; 2]; 21] = [
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN",
    b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
];

/// A read cursor with a read-ahead window, so that walking costs one read per 64 KiB rather than
/// one per element.
pub struct Cursor<'a> {
    src: &'a dyn ByteSource,
    /// The offset of the next byte to read.
    pub pos: u64,
    win: Vec<u8>,
    win_start: u64,
}

/// One element header.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    /// (group, element).
    pub tag: (u16, u16),
    /// The VR, in explicit encodings (not on items and delimiters).
    pub vr: Option<[u8; 2]>,
    /// The value length; `0xFFFFFFFF` is undefined.
    pub len: u32,
}

impl<'a> Cursor<'a> {
    /// A cursor on `src` at `pos`.
    pub fn new(src: &'a dyn ByteSource, pos: u64) -> Self {
        Self {
            src,
            pos,
            win: Vec::new(),
            win_start: 0,
        }
    }

    /// Whether the source ends here.
    pub fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// The next `n` bytes (n is small: a header), without consuming them.
    pub fn peek(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos + n as u64;
        if end > self.src.len() {
            return Err(WalkError(format!(
                "unexpected end of file at offset {}",
                self.pos
            )));
        }
        let win_end = self.win_start + self.win.len() as u64;
        if self.pos < self.win_start || end > win_end {
            let want = (self.src.len() - self.pos).min(WINDOW as u64) as usize;
            self.win = self
                .src
                .read_vec(self.pos, want.max(n))
                .map_err(|e| WalkError(format!("read error at offset {}: {e}", self.pos)))?;
            self.win_start = self.pos;
        }
        let at = (self.pos - self.win_start) as usize;
        Ok(&self.win[at..at + n])
    }

    /// Moves past `n` bytes; an error naming the offset if the source ends first.
    pub fn skip(&mut self, n: u64) -> Result<()> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.src.len());
        match end {
            Some(e) => {
                self.pos = e;
                Ok(())
            }
            None => Err(WalkError(format!(
                "element at offset {} claims {n} bytes, past the end of the file ({} bytes)",
                self.pos,
                self.src.len()
            ))),
        }
    }

    fn u16(b: &[u8], be: bool) -> u16 {
        let a = [b[0], b[1]];
        if be {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }

    fn u32(b: &[u8], be: bool) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if be {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    /// Reads one element (or item/delimiter) header.
    pub fn header(&mut self, enc: Encoding) -> Result<Header> {
        let be = enc.big_endian;
        let b = self.peek(8)?;
        let tag = (Self::u16(&b[0..2], be), Self::u16(&b[2..4], be));
        if tag.0 == 0xFFFE || !enc.explicit {
            let len = Self::u32(&b[4..8], be);
            self.pos += 8;
            return Ok(Header { tag, vr: None, len });
        }
        let vr = [b[4], b[5]];
        if !vr.iter().all(u8::is_ascii_uppercase) {
            return Err(WalkError(format!(
                "invalid VR bytes {vr:02X?} for ({:04X},{:04X}) at offset {}",
                tag.0, tag.1, self.pos
            )));
        }
        if !SHORT_VRS.contains(&&vr) {
            let b = self.peek(12)?;
            let len = Self::u32(&b[8..12], be);
            self.pos += 12;
            Ok(Header {
                tag,
                vr: Some(vr),
                len,
            })
        } else {
            let len = u32::from(Self::u16(&b[6..8], be));
            self.pos += 8;
            Ok(Header {
                tag,
                vr: Some(vr),
                len,
            })
        }
    }

    /// Skips the value of an element whose header was just read.
    pub fn skip_value(&mut self, h: &Header, enc: Encoding, depth: u32) -> Result<()> {
        if h.len != UNDEFINED {
            return self.skip(u64::from(h.len));
        }
        // An undefined-length UN holds a sequence encoded in Implicit VR Little Endian (PS3.5 6.2.2).
        let inner = if h.vr == Some(*b"UN") {
            Encoding::IMPLICIT_LE
        } else {
            enc
        };
        self.skip_sequence(inner, depth + 1)
    }

    fn skip_sequence(&mut self, enc: Encoding, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(WalkError("sequences nested too deeply".into()));
        }
        loop {
            let h = self.header(enc)?;
            match h.tag {
                SEQ_DELIM => return Ok(()),
                ITEM if h.len == UNDEFINED => self.skip_item(enc, depth)?,
                ITEM => self.skip(u64::from(h.len))?,
                t => {
                    return Err(WalkError(format!(
                        "({:04X},{:04X}) found where a sequence item was expected at offset {}",
                        t.0, t.1, self.pos
                    )));
                }
            }
        }
    }

    fn skip_item(&mut self, enc: Encoding, depth: u32) -> Result<()> {
        loop {
            let h = self.header(enc)?;
            if h.tag == ITEM_DELIM {
                return Ok(());
            }
            self.skip_value(&h, enc, depth)?;
        }
    }
}

/// Reads the preamble and meta group. Without a meta group (or without a Transfer Syntax UID in
/// it) the encoding is guessed from the first data set element, as DCMTK and GDCM do.
pub fn read_meta(src: &dyn ByteSource) -> Result<Meta> {
    let mut c = Cursor::new(src, 0);
    let start = if src.len() >= 132 && c.peek_at(128, 4)? == b"DICM" {
        132
    } else if src.len() >= 4 && c.peek_at(0, 4)? == b"DICM" {
        4
    } else {
        return Ok(Meta {
            transfer_syntax: guess_syntax(src, 0)?.to_string(),
            transfer_syntax_declared: false,
            media_sop_instance_uid: None,
            media_sop_class_uid: None,
            dataset_start: 0,
        });
    };
    c.pos = start;
    let (mut ts, mut sop, mut class) = (None, None, None);
    while !c.at_end() && Cursor::u16(c.peek(2)?, false) == 0x0002 {
        let h = c.header(Encoding::EXPLICIT_LE)?;
        if h.len == UNDEFINED {
            return Err(WalkError("undefined length in the file meta group".into()));
        }
        let value = c.peek(h.len as usize)?;
        let text = || {
            String::from_utf8_lossy(value)
                .trim_end_matches(['\0', ' '])
                .to_string()
        };
        match h.tag {
            (0x0002, 0x0010) => ts = Some(text()),
            (0x0002, 0x0002) => class = Some(text()).filter(|s| !s.is_empty()),
            (0x0002, 0x0003) => sop = Some(text()).filter(|s| !s.is_empty()),
            _ => {}
        }
        c.skip(u64::from(h.len))?;
    }
    let dataset_start = c.pos;
    let declared = ts.filter(|t| !t.is_empty());
    let transfer_syntax_declared = declared.is_some();
    let transfer_syntax = match declared {
        Some(t) => t,
        None => guess_syntax(src, dataset_start)?.to_string(),
    };
    Ok(Meta {
        transfer_syntax,
        transfer_syntax_declared,
        media_sop_instance_uid: sop,
        media_sop_class_uid: class,
        dataset_start,
    })
}

impl Cursor<'_> {
    fn peek_at(&mut self, pos: u64, n: usize) -> Result<Vec<u8>> {
        let saved = self.pos;
        self.pos = pos;
        let out = self.peek(n).map(<[u8]>::to_vec);
        self.pos = saved;
        out
    }
}

/// Guesses the native transfer syntax from the first element's bytes.
pub fn guess_syntax(src: &dyn ByteSource, at: u64) -> Result<&'static str> {
    if src.len() < at + 8 {
        return Err(WalkError("too short to be a DICOM data set".into()));
    }
    let mut b = [0u8; 8];
    src.read_at(at, &mut b)
        .map_err(|e| WalkError(e.to_string()))?;
    let big_endian = b[0] == 0 && b[1] != 0;
    let explicit = b[4].is_ascii_uppercase() && b[5].is_ascii_uppercase();
    Ok(match (explicit, big_endian) {
        (false, _) => "1.2.840.10008.1.2",
        (true, false) => "1.2.840.10008.1.2.1",
        (true, true) => "1.2.840.10008.1.2.2",
    })
}

/// Corrects a declared explicit encoding whose first element is in fact implicit (a known
/// writer bug that pydicom, DCMTK and GDCM all tolerate).
pub fn sniff(src: &dyn ByteSource, at: u64, declared: Encoding) -> Encoding {
    if !declared.explicit || src.len() < at + 8 {
        return declared;
    }
    let mut b = [0u8; 8];
    if src.read_at(at, &mut b).is_err() {
        return declared;
    }
    if b[4].is_ascii_uppercase() && b[5].is_ascii_uppercase() {
        declared
    } else {
        Encoding {
            explicit: false,
            ..declared
        }
    }
}

/// Walks the top-level data set from `start`; returns the Pixel Data header, or `None` when the
/// data set ends (or passes the Pixel Data tag) without one.
#[cfg(test)]
pub fn find_pixel_data(
    src: &dyn ByteSource,
    start: u64,
    enc: Encoding,
) -> Result<Option<PixelElement>> {
    find_pixel_data_keeping(src, start, enc, &|_| false, &mut Vec::new())
}

/// Whether decoding and rendering read a top-level element: Specific Character Set, SOP Class
/// and Instance UIDs, Modality, group 0028 (Image Pixel, LUTs, windows), group 5200 (functional
/// groups), and the Extended Offset Table.
pub fn is_needed(tag: (u16, u16)) -> bool {
    matches!(tag.0, 0x0028 | 0x5200)
        || matches!(
            tag,
            (0x0008, 0x0005 | 0x0016 | 0x0018 | 0x0060) | (0x7FE0, 0x0001)
        )
}

/// [`find_pixel_data`] that also collects the byte ranges of the top-level elements before Pixel
/// Data that `wanted` asks for ([`is_needed`] for decoding), adjacent ones merged, so that only
/// those reach the attribute parser: private and unrelated elements (a malformed UN sequence, say)
/// can then neither fail the object nor make the parser allocate what their lengths claim.
pub fn find_pixel_data_keeping(
    src: &dyn ByteSource,
    start: u64,
    enc: Encoding,
    wanted: &dyn Fn((u16, u16)) -> bool,
    keep: &mut Vec<Range<u64>>,
) -> Result<Option<PixelElement>> {
    let mut c = Cursor::new(src, start);
    while !c.at_end() {
        let (header_start, h) = c.top_level_header(enc)?;
        if h.tag == PIXEL_DATA {
            let length = (h.len != UNDEFINED).then_some(u64::from(h.len));
            return Ok(Some(PixelElement {
                header_start,
                value_start: c.pos,
                length,
                vr: h.vr,
            }));
        }
        if h.tag > PIXEL_DATA {
            return Ok(None);
        }
        c.skip_value(&h, enc, 0)?;
        if wanted(h.tag) {
            c.keep_if_clean(header_start, enc, keep)?;
        }
    }
    Ok(None)
}

/// Walks the whole data set from `start` to the end of the file by element headers, values
/// skipped (sequences of undefined length and encapsulated Pixel Data item by item, at every
/// nesting level): the object is well formed to its last byte, which is what a full parse would
/// establish, at the cost of reading its headers. Collects the byte ranges of the top-level
/// elements `wanted` asks for, as [`find_pixel_data_keeping`] does (the tags of those left out
/// as malformed go to `left_out`), and the ranges of the object's content (`content::collect`).
pub fn walk_to_end_keeping(
    src: &dyn ByteSource,
    start: u64,
    enc: Encoding,
    wanted: &dyn Fn((u16, u16)) -> bool,
    keep: &mut Vec<Range<u64>>,
    left_out: &mut Vec<(u16, u16)>,
    content: &mut Vec<Range<u64>>,
) -> Result<()> {
    let mut c = Cursor::new(src, start);
    while !c.at_end() {
        let (header_start, h) = c.top_level_header(enc)?;
        let value_start = c.pos;
        c.skip_value(&h, enc, 0)?;
        if wanted(h.tag) && !c.keep_if_clean(header_start, enc, keep)? {
            left_out.push(h.tag);
        }
        crate::content::collect(src, &h, value_start..c.pos, enc, content);
    }
    Ok(())
}

impl Cursor<'_> {
    /// Adds the element just skipped (from `header_start` to here) to `keep`, merged with the one
    /// before it if adjacent, unless the attribute parser could misread it ([`parses_cleanly`]).
    /// Returns whether it was kept.
    fn keep_if_clean(
        &self,
        header_start: u64,
        enc: Encoding,
        keep: &mut Vec<Range<u64>>,
    ) -> Result<bool> {
        let bytes = self
            .src
            .read_vec(header_start, (self.pos - header_start) as usize)
            .map_err(|e| WalkError(e.to_string()))?;
        if parses_cleanly(&bytes, enc) {
            match keep.last_mut() {
                Some(last) if last.end == header_start => last.end = self.pos,
                _ => keep.push(header_start..self.pos),
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads a top-level element header and its offset; an item or delimiter tag is an error there.
    fn top_level_header(&mut self, enc: Encoding) -> Result<(u64, Header)> {
        let at = self.pos;
        let h = self.header(enc)?;
        if h.tag.0 == 0xFFFE {
            return Err(WalkError(format!(
                "item tag ({:04X},{:04X}) at the top level at offset {at}",
                h.tag.0, h.tag.1
            )));
        }
        Ok((at, h))
    }
}

/// Whether `b` (whole top-level elements) has a structure that dicom-object reads the way this
/// walk does, so that handing it over cannot make that parser allocate what a misread length
/// claims: every element, at every nesting level, fits inside its item or sequence (defined-length
/// sequences are entered too; the walk proper skips them), undefined lengths appear only on
/// sequences and items, and there is no undefined-length UN (Implicit VR inside Explicit VR,
/// which dicom-object 0.10 misreads). An element that fails is left out of the attributes; it is
/// not fatal, since the walk itself found the object well formed. Found by fuzzing.
pub fn parses_cleanly(b: &[u8], enc: Encoding) -> bool {
    Strict { b, enc }.elements(0, b.len(), 0, false).is_some()
}

struct Strict<'a> {
    b: &'a [u8],
    enc: Encoding,
}

impl Strict<'_> {
    /// The header of the element at `pos` (inside `end`) and its size in bytes.
    fn header(&self, pos: usize, end: usize) -> Option<(Header, usize)> {
        let h = self.b.get(pos..end.min(pos.checked_add(12)?))?;
        let be = self.enc.big_endian;
        let u16_at = |i: usize| -> Option<u16> {
            let a = [*h.get(i)?, *h.get(i + 1)?];
            Some(if be {
                u16::from_be_bytes(a)
            } else {
                u16::from_le_bytes(a)
            })
        };
        let u32_at = |i: usize| -> Option<u32> {
            let a = [*h.get(i)?, *h.get(i + 1)?, *h.get(i + 2)?, *h.get(i + 3)?];
            Some(if be {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        };
        let tag = (u16_at(0)?, u16_at(2)?);
        if tag.0 == 0xFFFE || !self.enc.explicit {
            let len = u32_at(4)?;
            return Some((Header { tag, vr: None, len }, 8));
        }
        let vr = [*h.get(4)?, *h.get(5)?];
        if !vr.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        if SHORT_VRS.contains(&&vr) {
            let len = u32::from(u16_at(6)?);
            Some((
                Header {
                    tag,
                    vr: Some(vr),
                    len,
                },
                8,
            ))
        } else {
            let len = u32_at(8)?;
            Some((
                Header {
                    tag,
                    vr: Some(vr),
                    len,
                },
                12,
            ))
        }
    }

    fn is_sequence(&self, tag: (u16, u16), vr: Option<[u8; 2]>) -> bool {
        use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
        match vr {
            Some(vr) => &vr == b"SQ",
            None => dicom_dictionary_std::StandardDataDictionary
                .by_tag(dicom_core::Tag(tag.0, tag.1))
                .is_some_and(|e| e.vr() == VirtualVr::Exact(dicom_core::VR::SQ)),
        }
    }

    /// The size of one value of the element's VR (the dictionary's VR in Implicit VR): a length
    /// that is not a multiple of it makes dicom-object read the whole values and leave the rest,
    /// so that it reads the next element header from the wrong offset (a UL of 14 bytes turned
    /// the following bytes into a 4 GB OB length; found by fuzzing).
    fn value_unit(&self, tag: (u16, u16), vr: Option<[u8; 2]>) -> u32 {
        use dicom_core::VR;
        use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
        let vr = match vr {
            Some(bytes) => VR::from_binary(bytes),
            None => match dicom_dictionary_std::StandardDataDictionary
                .by_tag(dicom_core::Tag(tag.0, tag.1))
                .map(|e| e.vr())
            {
                Some(VirtualVr::Exact(vr)) => Some(vr),
                Some(VirtualVr::Xs | VirtualVr::Ox | VirtualVr::Lt) => Some(VR::US),
                _ => None,
            },
        };
        match vr {
            Some(VR::US | VR::SS | VR::OW) => 2,
            Some(VR::UL | VR::SL | VR::FL | VR::AT | VR::OL | VR::OF) => 4,
            Some(VR::FD | VR::SV | VR::UV | VR::OD | VR::OV) => 8,
            _ => 1,
        }
    }

    /// Elements from `pos` to `end` (or to an item delimiter when `in_undefined_item`); returns
    /// the position after them.
    fn elements(
        &self,
        mut pos: usize,
        end: usize,
        depth: u32,
        in_undefined_item: bool,
    ) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        while pos < end {
            let (Header { tag, vr, len }, hlen) = self.header(pos, end)?;
            pos += hlen;
            if tag == ITEM_DELIM && in_undefined_item && len == 0 {
                return Some(pos);
            }
            if tag.0 == 0xFFFE {
                return None;
            }
            if len == UNDEFINED {
                if vr == Some(*b"UN") || !self.is_sequence(tag, vr) && vr.is_some() {
                    return None;
                }
                pos = self.items(pos, end, depth + 1, None)?;
            } else {
                let value_end = pos.checked_add(len as usize).filter(|&e| e <= end)?;
                if len % self.value_unit(tag, vr) != 0 {
                    return None;
                }
                if self.is_sequence(tag, vr) {
                    self.items(pos, value_end, depth + 1, Some(value_end))?;
                }
                pos = value_end;
            }
        }
        (!in_undefined_item).then_some(pos)
    }

    /// Items of a sequence: up to `defined_end`, or to the sequence delimiter.
    fn items(
        &self,
        mut pos: usize,
        end: usize,
        depth: u32,
        defined_end: Option<usize>,
    ) -> Option<usize> {
        loop {
            if defined_end == Some(pos) {
                return Some(pos);
            }
            let (Header { tag, len, .. }, hlen) = self.header(pos, end)?;
            pos += hlen;
            match tag {
                SEQ_DELIM if defined_end.is_none() && len == 0 => return Some(pos),
                ITEM if len == UNDEFINED => pos = self.elements(pos, end, depth, true)?,
                ITEM => {
                    let item_end = pos.checked_add(len as usize).filter(|&e| e <= end)?;
                    if self.elements(pos, item_end, depth, false)? != item_end {
                        return None;
                    }
                    pos = item_end;
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::MemBytes;
    use std::sync::Arc;

    fn elem_le(out: &mut Vec<u8>, g: u16, e: u16, vr: &[u8; 2], val: &[u8]) {
        out.extend(g.to_le_bytes());
        out.extend(e.to_le_bytes());
        out.extend(vr);
        if LONG_VRS.contains(&vr) {
            out.extend([0, 0]);
            out.extend((val.len() as u32).to_le_bytes());
        } else {
            out.extend((val.len() as u16).to_le_bytes());
        }
        out.extend(val);
    }

    #[test]
    fn walks_past_an_undefined_length_sequence_to_pixel_data() {
        let mut d = Vec::new();
        elem_le(&mut d, 0x0008, 0x0060, b"CS", b"CT");
        // (0008,1140) SQ, undefined length, one undefined-length item with one element
        d.extend([
            0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        d.extend([0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        elem_le(&mut d, 0x0008, 0x1150, b"UI", b"1.2\0");
        d.extend([0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        d.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let pixel_at = d.len() as u64;
        elem_le(&mut d, 0x7FE0, 0x0010, b"OW", &[1, 2, 3, 4]);
        let src = MemBytes(Arc::from(d));
        let p = find_pixel_data(&src, 0, Encoding::EXPLICIT_LE)
            .unwrap()
            .unwrap();
        assert_eq!(p.header_start, pixel_at);
        assert_eq!(p.value_start, pixel_at + 12);
        assert_eq!(p.length, Some(4));
        assert_eq!(p.vr, Some(*b"OW"));
    }

    #[test]
    fn no_pixel_data_and_a_lying_length_are_told_apart() {
        let mut d = Vec::new();
        elem_le(&mut d, 0x0008, 0x0060, b"CS", b"SR");
        let src = MemBytes(Arc::from(d.clone()));
        assert_eq!(
            find_pixel_data(&src, 0, Encoding::EXPLICIT_LE).unwrap(),
            None
        );
        d.extend([0x10, 0x00, 0x10, 0x00, b'O', b'B', 0, 0, 0xF0, 0, 0, 0]);
        let src = MemBytes(Arc::from(d));
        assert!(find_pixel_data(&src, 0, Encoding::EXPLICIT_LE).is_err());
    }

    #[test]
    fn a_length_that_is_not_a_whole_number_of_values_is_not_handed_to_the_parser() {
        let mut ok = Vec::new();
        elem_le(&mut ok, 0x0040, 0xA132, b"UL", &[1, 0, 0, 0, 2, 0, 0, 0]);
        assert!(parses_cleanly(&ok, Encoding::EXPLICIT_LE));
        let mut bad = Vec::new();
        elem_le(&mut bad, 0x0040, 0xA132, b"UL", &[1, 0, 0, 0, 2, 0]);
        assert!(!parses_cleanly(&bad, Encoding::EXPLICIT_LE));
        // Implicit VR: the dictionary says (0028,0010) Rows is US.
        let implicit = [0x28, 0x00, 0x10, 0x00, 3, 0, 0, 0, 1, 2, 3];
        assert!(!parses_cleanly(&implicit, Encoding::IMPLICIT_LE));
    }

    #[test]
    fn guesses_the_three_native_syntaxes() {
        let cases: [(&[u8], &str); 3] = [
            (&[8, 0, 0x16, 0, 4, 0, 0, 0], "1.2.840.10008.1.2"),
            (&[8, 0, 0x16, 0, b'U', b'I', 4, 0], "1.2.840.10008.1.2.1"),
            (&[0, 8, 0, 0x16, b'U', b'I', 0, 4], "1.2.840.10008.1.2.2"),
        ];
        for (bytes, ts) in cases {
            let src = MemBytes(Arc::from(bytes));
            assert_eq!(guess_syntax(&src, 0).unwrap(), ts);
        }
    }
}
