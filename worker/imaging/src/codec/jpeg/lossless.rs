//! JPEG lossless, ISO 10918-1 (ITU T.81) process 14: SOF3, Huffman coded, predictors 1-7, point
//! transform, 2-16 bit precision, 1-4 components in interleaved or non-interleaved scans,
//! restart intervals and the 16-bit difference special case (SSSS = 16 has no extra bits).
//!
//! Written here because this is the hot path of the commonest compressed DICOM syntax and the
//! `jpeg-decoder` crate ran at 0.6x DCMTK on it. What makes it fast:
//! - a 64-bit bit reader that refills eight bytes at a time when none of them is 0xFF, and byte
//!   by byte (removing the 0xFF00 stuffing, stopping at markers) otherwise;
//! - a lookahead table indexed by the next `LOOK` bits that gives the whole decoded difference
//!   (code and extra bits) in one step for most samples, the code length and SSSS for longer
//!   ones, and falls back to the canonical walk (F.2.2.3) for codes longer than `LOOK`;
//! - row-major decoding with the predictor chosen once per scan (a const generic), the first
//!   line and first column handled outside the inner loop (H.1.2.1).
//!
//! Samples are reconstructed modulo 2^16 (H.1.2.1); corrupt or truncated data gives
//! `CodecError::Corrupt` naming what is wrong, never a panic.

use super::huffman::{BitReader, Canonical, dht_tables, extend};
use crate::codec::{CodecError, segment_body};

/// Bits of lookahead in the Huffman table.
const LOOK: u32 = 12;
/// Entry flag: the entry holds the whole difference; bits 0-4 are the bits it takes.
const FULL: u32 = 1 << 5;

fn corrupt(msg: impl Into<String>) -> CodecError {
    CodecError::corrupt(msg)
}

/// A decoded lossless frame: interleaved samples, after the point transform.
#[derive(Debug)]
pub(crate) struct Lossless {
    pub width: usize,
    pub height: usize,
    pub precision: u8,
    pub components: usize,
    pub samples: Vec<u16>,
}

/// A Huffman table for difference categories (SSSS), with its lookahead.
struct Lut {
    /// By the next LOOK bits: 0 (walk the code), `FULL | bits | diff << 16`, or
    /// `code length | SSSS << 6` when the code fits but its extra bits do not.
    fast: Box<[u32; 1 << LOOK]>,
    /// The codes longer than LOOK.
    canonical: Canonical,
}

impl Lut {
    fn new(counts: &[u8; 16], values: &[u8]) -> Result<Self, CodecError> {
        let mut fast = Box::new([0u32; 1 << LOOK]);
        let canonical = Canonical::new(counts, values, "JPEG lossless", |len, code, v| {
            let ssss = u32::from(v);
            if len > LOOK || ssss > 16 {
                return;
            }
            let pad = LOOK - len;
            let first = (code << pad) as usize;
            let extra = if ssss == 16 { 0 } else { ssss };
            for (i, e) in fast[first..first + (1 << pad)].iter_mut().enumerate() {
                *e = if len + extra <= LOOK {
                    let diff = match ssss {
                        0 => 0,
                        16 => 32768,
                        s => extend((i >> (pad - s)) as i32 & ((1 << s) - 1), s),
                    };
                    // 32768 is stored as -32768: the same modulo 2^16.
                    FULL | (len + extra) | (u32::from(diff as i16 as u16) << 16)
                } else {
                    len | ssss << 6
                };
            }
        })?;
        Ok(Lut { fast, canonical })
    }
}

/// Decodes one difference (F.2.2.1, H.1.2.2).
#[inline(always)]
fn diff(r: &mut BitReader<'_>, t: &Lut) -> Result<i32, CodecError> {
    r.ensure();
    let e = t.fast[r.peek(LOOK) as usize];
    if e & FULL != 0 {
        r.consume(e & 31);
        return Ok((e as i32) >> 16);
    }
    diff_long(r, t, e)
}

/// A difference whose code and extra bits are longer than the lookahead.
#[inline(never)]
fn diff_long(r: &mut BitReader<'_>, t: &Lut, e: u32) -> Result<i32, CodecError> {
    let ssss = if e != 0 {
        r.consume(e & 31);
        (e >> 6) & 31
    } else {
        u32::from(t.canonical.walk(r, "JPEG lossless")?)
    };
    match ssss {
        0 => Ok(0),
        16 => Ok(32768),
        1..=15 => Ok(r.receive_extend(ssss as u8)),
        s => Err(corrupt(format!(
            "JPEG lossless: difference category {s} (at most 16)"
        ))),
    }
}

fn truncated() -> CodecError {
    corrupt("JPEG lossless: entropy-coded data ends before the last sample")
}

/// Prediction (T.81 table H.1) from the left (`a`), above (`b`) and above-left (`c`) samples.
#[inline(always)]
fn predict<const P: u8>(a: i32, b: i32, c: i32) -> i32 {
    match P {
        1 => a,
        2 => b,
        3 => c,
        4 => a + b - c,
        5 => a + ((b - c) >> 1),
        6 => b + ((a - c) >> 1),
        _ => (a + b) >> 1,
    }
}

/// One component alone in its frame: the first line of a restart interval, from `default`
/// then from the left neighbour.
fn first_line1(
    r: &mut BitReader<'_>,
    t: &Lut,
    cur: &mut [u16],
    default: i32,
) -> Result<(), CodecError> {
    let mut a = default;
    for o in cur.iter_mut() {
        a = (a + diff(r, t)?) & 0xFFFF;
        *o = a as u16;
    }
    Ok(())
}

/// One component alone in its frame: a whole line below another, the first sample predicted
/// from above, the others with predictor `P`.
fn line1<const P: u8>(
    r: &mut BitReader<'_>,
    t: &Lut,
    cur: &mut [u16],
    prev: &[u16],
) -> Result<(), CodecError> {
    let (Some(o0), Some(&b0)) = (cur.first_mut(), prev.first()) else {
        return Ok(());
    };
    let mut a = (i32::from(b0) + diff(r, t)?) & 0xFFFF;
    *o0 = a as u16;
    let mut c = i32::from(b0);
    for (o, &b) in cur[1..].iter_mut().zip(&prev[1..]) {
        let b = i32::from(b);
        a = (predict::<P>(a, b, c) + diff(r, t)?) & 0xFFFF;
        *o = a as u16;
        c = b;
    }
    Ok(())
}

struct Component {
    id: u8,
    h: u8,
    v: u8,
    /// Point transform of the scan that coded it; `None` until a scan does.
    pt: Option<u8>,
}

struct Frame {
    precision: u8,
    width: usize,
    height: usize,
    comps: Vec<Component>,
    samples: Vec<u16>,
}

/// Decodes a whole JPEG lossless (SOF3) codestream.
pub(crate) fn decode(data: &[u8]) -> Result<Lossless, CodecError> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(corrupt("JPEG lossless frame does not start with SOI"));
    }
    let mut luts: [Option<Lut>; 4] = [None, None, None, None];
    let mut restart = 0usize;
    let mut frame: Option<Frame> = None;
    let mut scans = 0;
    let mut at = 2;
    loop {
        while data.get(at) == Some(&0xFF) && data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let marker = match (data.get(at), data.get(at + 1)) {
            (Some(0xFF), Some(&m)) => m,
            // Tolerate a missing EOI after at least one scan, as IJG does.
            _ if scans > 0 && at + 2 >= data.len() => break,
            _ => {
                return Err(corrupt(format!(
                    "JPEG lossless: expected a marker at byte {at}"
                )));
            }
        };
        if marker == 0xD9 {
            break;
        }
        let body = segment_body(data, at, marker, "JPEG lossless")?;
        at += 4 + body.len();
        match marker {
            0xC4 => read_dht(body, &mut luts)?,
            0xDD => {
                let b = body
                    .get(..2)
                    .ok_or_else(|| corrupt("JPEG lossless: short DRI segment"))?;
                restart = usize::from(u16::from_be_bytes([b[0], b[1]]));
            }
            0xC3 if frame.is_some() => return Err(corrupt("JPEG lossless: a second frame header")),
            0xC3 => frame = Some(read_sof(body, data.len())?),
            0xC0..=0xC2 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(CodecError::Unsupported(format!(
                    "JPEG process SOF{} in the lossless decoder",
                    marker & 0x0F
                )));
            }
            0xDA => {
                let f = frame
                    .as_mut()
                    .ok_or_else(|| corrupt("JPEG lossless: scan before the frame header"))?;
                at = decode_scan(f, &luts, restart, body, data, at)?;
                scans += 1;
            }
            _ => {} // APPn, COM, DQT, DNL...: nothing the samples depend on.
        }
    }
    let mut f = frame.ok_or_else(|| corrupt("JPEG lossless: no frame header"))?;
    let nc = f.comps.len();
    for (ci, c) in f.comps.iter().enumerate() {
        match c.pt {
            None => {
                return Err(corrupt(format!(
                    "JPEG lossless: component {} is in no scan",
                    c.id
                )));
            }
            Some(0) => {}
            Some(pt) => {
                for s in f.samples.iter_mut().skip(ci).step_by(nc) {
                    *s <<= pt;
                }
            }
        }
    }
    Ok(Lossless {
        width: f.width,
        height: f.height,
        precision: f.precision,
        components: nc,
        samples: f.samples,
    })
}

fn read_dht(b: &[u8], luts: &mut [Option<Lut>; 4]) -> Result<(), CodecError> {
    dht_tables(b, "JPEG lossless", |tc, th, counts, values| {
        // Lossless scans use DC-class tables only (H.2.1); an AC one is never selected.
        if tc == 0 {
            luts[th] = Some(Lut::new(counts, values)?);
        }
        Ok(())
    })
}

/// Reads the frame header; `data_len` bounds what the data can hold (every sample takes at
/// least one bit), so a damaged header cannot make us allocate far more than the data.
fn read_sof(b: &[u8], data_len: usize) -> Result<Frame, CodecError> {
    let head = b
        .get(..6)
        .ok_or_else(|| corrupt("JPEG lossless: short frame header"))?;
    let precision = head[0];
    let height = usize::from(u16::from_be_bytes([head[1], head[2]]));
    let width = usize::from(u16::from_be_bytes([head[3], head[4]]));
    let n = usize::from(head[5]);
    let spec = b
        .get(6..6 + 3 * n)
        .ok_or_else(|| corrupt("JPEG lossless: short frame header"))?;
    if !(2..=16).contains(&precision) {
        return Err(corrupt(format!(
            "JPEG lossless: sample precision {precision} (2 to 16)"
        )));
    }
    if width == 0 || height == 0 {
        return Err(CodecError::Unsupported(format!(
            "JPEG lossless frame of {width}x{height} samples (a DNL marker is not read)"
        )));
    }
    if !(1..=4).contains(&n) {
        return Err(CodecError::Unsupported(format!(
            "JPEG lossless frame with {n} components (1 to 4 are decoded)"
        )));
    }
    let comps: Vec<Component> = spec
        .chunks_exact(3)
        .map(|c| Component {
            id: c[0],
            h: c[1] >> 4,
            v: c[1] & 0x0F,
            pt: None,
        })
        .collect();
    if n > 1 && comps.iter().any(|c| (c.h, c.v) != (1, 1)) {
        return Err(CodecError::Unsupported(
            "JPEG lossless with subsampled components".into(),
        ));
    }
    let total = width
        .checked_mul(height)
        .and_then(|x| x.checked_mul(n))
        .ok_or_else(|| corrupt("JPEG lossless: frame too large"))?;
    if total > data_len.saturating_mul(8) {
        return Err(corrupt(format!(
            "JPEG lossless: {width}x{height}x{n} samples cannot fit in {data_len} bytes"
        )));
    }
    Ok(Frame {
        precision,
        width,
        height,
        comps,
        samples: vec![0; total],
    })
}

/// Decodes one scan whose header is `hdr`, with entropy-coded data from `data[start..]`;
/// returns where the data ends (the next marker).
fn decode_scan(
    f: &mut Frame,
    luts: &[Option<Lut>; 4],
    restart: usize,
    hdr: &[u8],
    data: &[u8],
    start: usize,
) -> Result<usize, CodecError> {
    let short = || corrupt("JPEG lossless: short scan header");
    let ns = usize::from(*hdr.first().ok_or_else(short)?);
    let spec = hdr.get(1..1 + 2 * ns).ok_or_else(short)?;
    let tail = hdr.get(1 + 2 * ns..4 + 2 * ns).ok_or_else(short)?;
    let (pred, pt) = (tail[0], tail[2] & 0x0F);
    if !(1..=7).contains(&pred) {
        return Err(corrupt(format!(
            "JPEG lossless: predictor {pred} (1 to 7 in process 14)"
        )));
    }
    if pt >= f.precision {
        return Err(corrupt(format!(
            "JPEG lossless: point transform {pt} at precision {}",
            f.precision
        )));
    }
    if ns == 0 {
        return Err(corrupt("JPEG lossless: scan with no components"));
    }
    let mut members: Vec<(usize, &Lut)> = Vec::with_capacity(ns);
    for s in spec.chunks_exact(2) {
        let ci = f.comps.iter().position(|c| c.id == s[0]).ok_or_else(|| {
            corrupt(format!(
                "JPEG lossless: scan names unknown component {}",
                s[0]
            ))
        })?;
        let th = usize::from(s[1] >> 4);
        let lut = luts.get(th).and_then(Option::as_ref).ok_or_else(|| {
            corrupt(format!(
                "JPEG lossless: scan uses undefined Huffman table {th}"
            ))
        })?;
        if members.iter().any(|&(c, _)| c == ci) {
            return Err(corrupt(format!(
                "JPEG lossless: component {} twice in a scan",
                s[0]
            )));
        }
        members.push((ci, lut));
        f.comps[ci].pt = Some(pt);
    }
    let default = 1i32 << (f.precision - pt - 1);
    let (w, h, nc) = (f.width, f.height, f.comps.len());
    let total = w * h;
    let interval = if restart == 0 { total } else { restart };
    let mut r = BitReader::new(data, start);
    let mut m = 0;
    while m < total {
        if m > 0 {
            r.restart()?;
        }
        let end = (m + interval).min(total);
        let mut first = true;
        // The interval, a line (or part of one) at a time.
        while m < end {
            let (y, x0) = (m / w, m % w);
            let x1 = (x0 + end - m).min(w);
            let (above, rest) = f.samples.split_at_mut(y * w * nc);
            let cur = &mut rest[..w * nc];
            let prev = above.get(above.len().saturating_sub(w * nc)..);
            if nc == 1 {
                let cur = &mut cur[x0..x1];
                let t = members[0].1;
                match (first, prev) {
                    (false, Some(prev)) => match pred {
                        1 => line1::<1>(&mut r, t, cur, prev)?,
                        2 => line1::<2>(&mut r, t, cur, prev)?,
                        3 => line1::<3>(&mut r, t, cur, prev)?,
                        4 => line1::<4>(&mut r, t, cur, prev)?,
                        5 => line1::<5>(&mut r, t, cur, prev)?,
                        6 => line1::<6>(&mut r, t, cur, prev)?,
                        _ => line1::<7>(&mut r, t, cur, prev)?,
                    },
                    _ => first_line1(&mut r, t, cur, default)?,
                }
            } else {
                let cur = &mut cur[x0 * nc..x1 * nc];
                let m = &members;
                match (first, prev) {
                    (false, Some(prev)) => match pred {
                        1 => line_n::<1>(&mut r, m, nc, cur, prev)?,
                        2 => line_n::<2>(&mut r, m, nc, cur, prev)?,
                        3 => line_n::<3>(&mut r, m, nc, cur, prev)?,
                        4 => line_n::<4>(&mut r, m, nc, cur, prev)?,
                        5 => line_n::<5>(&mut r, m, nc, cur, prev)?,
                        6 => line_n::<6>(&mut r, m, nc, cur, prev)?,
                        _ => line_n::<7>(&mut r, m, nc, cur, prev)?,
                    },
                    _ => first_line_n(&mut r, m, nc, cur, default)?,
                }
            }
            if r.overran() {
                return Err(truncated());
            }
            first = false;
            m += x1 - x0;
        }
    }
    if r.overran() {
        return Err(truncated());
    }
    Ok(r.next_marker())
}

/// Several components per pixel (`nc`), the scan coding `members` of them: the first line of
/// a restart interval (or part of one), from `default` then from the left neighbour.
fn first_line_n(
    r: &mut BitReader<'_>,
    members: &[(usize, &Lut)],
    nc: usize,
    cur: &mut [u16],
    default: i32,
) -> Result<(), CodecError> {
    for &(c, t) in members {
        if let Some(o) = cur.get_mut(c) {
            *o = ((default + diff(r, t)?) & 0xFFFF) as u16;
        }
    }
    for i in (nc..cur.len()).step_by(nc) {
        for &(c, t) in members {
            cur[i + c] = ((i32::from(cur[i + c - nc]) + diff(r, t)?) & 0xFFFF) as u16;
        }
    }
    Ok(())
}

/// Several components per pixel: a line (from its start) below another, the first pixel
/// predicted from above, the others with predictor `P`.
fn line_n<const P: u8>(
    r: &mut BitReader<'_>,
    members: &[(usize, &Lut)],
    nc: usize,
    cur: &mut [u16],
    prev: &[u16],
) -> Result<(), CodecError> {
    let prev = &prev[..cur.len()];
    for &(c, t) in members {
        if let (Some(o), Some(&b)) = (cur.get_mut(c), prev.get(c)) {
            *o = ((i32::from(b) + diff(r, t)?) & 0xFFFF) as u16;
        }
    }
    for i in (nc..cur.len()).step_by(nc) {
        for &(c, t) in members {
            let j = i + c;
            let (a, b, cc) = (cur[j - nc], prev[j], prev[j - nc]);
            let px = predict::<P>(i32::from(a), i32::from(b), i32::from(cc));
            cur[j] = ((px + diff(r, t)?) & 0xFFFF) as u16;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Streams are made by a small encoder written from T.81 annex H below (independently of the
    //! decoder's code), and, for predictors 1-7 on real images, by DCMTK's `dcmcjpeg` (installed
    //! by scripts/ci-deps/imaging.sh; the test that needs it says so when it is missing).
    use super::*;
    use proptest::prelude::*;

    /// Code lengths 1..=15 for SSSS 0..=14 and 16 for SSSS 15 and 16 (a complete code whose
    /// long codes exercise the walk past the lookahead).
    fn unary_table() -> ([u8; 16], Vec<u8>) {
        let mut counts = [1u8; 16];
        counts[15] = 2;
        (counts, (0..=16).collect())
    }

    /// Every SSSS with a 5-bit code.
    fn flat_table() -> ([u8; 16], Vec<u8>) {
        let mut counts = [0u8; 16];
        counts[4] = 17;
        (counts, (0..=16).collect())
    }

    /// Canonical codes (C.2): (code, length) per value.
    fn codes(counts: &[u8; 16], values: &[u8]) -> Vec<(u32, u32)> {
        let mut out = vec![(0, 0); 17];
        let (mut code, mut k) = (0u32, 0);
        for len in 1..=16 {
            for _ in 0..counts[len - 1] {
                out[usize::from(values[k])] = (code, len as u32);
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        out
    }

    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }

    impl Bits {
        fn put(&mut self, v: u32, len: u32) {
            for i in (0..len).rev() {
                self.acc = self.acc << 1 | (v >> i & 1);
                self.n += 1;
                if self.n == 8 {
                    self.byte();
                }
            }
        }
        fn byte(&mut self) {
            let b = self.acc as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
            (self.acc, self.n) = (0, 0);
        }
        /// Pads with 1 bits to a byte boundary (F.1.2.3).
        fn flush(&mut self) {
            while self.n != 0 {
                self.put(1, 1);
            }
        }
    }

    struct Spec {
        w: usize,
        h: usize,
        nc: usize,
        precision: u8,
        pred: u8,
        pt: u8,
        restart: usize,
        interleaved: bool,
    }

    /// The prediction for sample (x, y) of a component, from T.81 H.1.2.1 read directly.
    fn encoder_prediction(s: &Spec, img: &[i32], c: usize, x: usize, y: usize) -> i32 {
        let at = |x: usize, y: usize| img[(y * s.w + x) * s.nc + c];
        let m = y * s.w + x;
        let m0 = m.checked_div(s.restart).map_or(0, |k| k * s.restart);
        if m == m0 {
            return 1 << (s.precision - s.pt - 1);
        }
        if y == m0 / s.w {
            return at(x - 1, y);
        }
        if x == 0 {
            return at(x, y - 1);
        }
        let (a, b, cc) = (at(x - 1, y), at(x, y - 1), at(x - 1, y - 1));
        match s.pred {
            1 => a,
            2 => b,
            3 => cc,
            4 => a + b - cc,
            5 => a + ((b - cc) >> 1),
            6 => b + ((a - cc) >> 1),
            _ => (a + b) >> 1,
        }
    }

    fn encode(s: &Spec, samples: &[u16]) -> Vec<u8> {
        let img: Vec<i32> = samples.iter().map(|&v| i32::from(v >> s.pt)).collect();
        let tables = [unary_table(), flat_table()];
        let mut v = vec![0xFF, 0xD8];
        for (th, (counts, vals)) in tables.iter().enumerate() {
            let len = 2 + 1 + 16 + vals.len();
            v.extend([0xFF, 0xC4, (len >> 8) as u8, len as u8, th as u8]);
            v.extend(counts);
            v.extend(vals);
        }
        if s.restart > 0 {
            v.extend([0xFF, 0xDD, 0, 4, (s.restart >> 8) as u8, s.restart as u8]);
        }
        let len = 8 + 3 * s.nc;
        v.extend([0xFF, 0xC3, 0, len as u8, s.precision]);
        v.extend([
            (s.h >> 8) as u8,
            s.h as u8,
            (s.w >> 8) as u8,
            s.w as u8,
            s.nc as u8,
        ]);
        for c in 0..s.nc {
            v.extend([c as u8 + 1, 0x11, 0]);
        }
        let scans: Vec<Vec<usize>> = if s.interleaved {
            vec![(0..s.nc).collect()]
        } else {
            (0..s.nc).map(|c| vec![c]).collect()
        };
        let codes = [
            codes(&tables[0].0, &tables[0].1),
            codes(&tables[1].0, &tables[1].1),
        ];
        for members in scans {
            let len = 6 + 2 * members.len();
            v.extend([0xFF, 0xDA, 0, len as u8, members.len() as u8]);
            for &c in &members {
                v.extend([c as u8 + 1, (c.min(1) as u8) << 4]);
            }
            v.extend([s.pred, 0, s.pt]);
            let mut b = Bits {
                out: Vec::new(),
                acc: 0,
                n: 0,
            };
            let mut rst = 0u8;
            for m in 0..s.w * s.h {
                if s.restart > 0 && m > 0 && m % s.restart == 0 {
                    b.flush();
                    b.out.extend([0xFF, 0xD0 + rst]);
                    rst = (rst + 1) % 8;
                }
                let (x, y) = (m % s.w, m / s.w);
                for &c in &members {
                    let px = encoder_prediction(s, &img, c, x, y);
                    let mut d = (img[(y * s.w + x) * s.nc + c] - px).rem_euclid(65536);
                    if d > 32768 {
                        d -= 65536;
                    }
                    let ssss = if d == 32768 {
                        16
                    } else {
                        32 - d.unsigned_abs().leading_zeros()
                    };
                    let (code, len) = codes[c.min(1)][ssss as usize];
                    b.put(code, len);
                    if ssss < 16 {
                        let extra = if d < 0 { d - 1 } else { d };
                        b.put(extra as u32 & ((1 << ssss) - 1), ssss);
                    }
                }
            }
            b.flush();
            v.extend(b.out);
        }
        v.extend([0xFF, 0xD9]);
        v
    }

    /// A deterministic image with smooth areas, edges and full-range jumps.
    fn picture(w: usize, h: usize, nc: usize, precision: u8, seed: u32) -> Vec<u16> {
        let max = (1u32 << precision) - 1;
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..w * h * nc)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let (x, y) = ((i / nc) % w, (i / nc) / w);
                let v = match (x / 4 + y / 3) % 4 {
                    0 => (x * 37 + y * 11) as u32,
                    1 => state,
                    2 => max * (((x + y) & 1) as u32),
                    _ => (x * y) as u32 + state % 8,
                };
                (v & max) as u16
            })
            .collect()
    }

    fn check(s: &Spec, seed: u32) {
        let want = picture(s.w, s.h, s.nc, s.precision, seed);
        let stream = encode(s, &want);
        let got = decode(&stream).unwrap_or_else(|e| {
            panic!(
                "predictor {} pt {} restart {}: {e:?}",
                s.pred, s.pt, s.restart
            )
        });
        assert_eq!(
            (got.width, got.height, got.components, got.precision),
            (s.w, s.h, s.nc, s.precision)
        );
        let want: Vec<u16> = want.iter().map(|&v| v >> s.pt << s.pt).collect();
        let bad = got.samples.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(
            bad, None,
            "predictor {} pt {} restart {} interleaved {}: first wrong sample",
            s.pred, s.pt, s.restart, s.interleaved
        );
    }

    fn spec(w: usize, h: usize, precision: u8, pred: u8) -> Spec {
        Spec {
            w,
            h,
            nc: 1,
            precision,
            pred,
            pt: 0,
            restart: 0,
            interleaved: true,
        }
    }

    #[test]
    fn every_predictor_at_16_and_8_bits() {
        for pred in 1..=7 {
            check(&spec(37, 23, 16, pred), u32::from(pred));
            check(&spec(19, 11, 8, pred), u32::from(pred) + 7);
        }
    }

    #[test]
    fn low_and_odd_precisions() {
        for (precision, pred) in [(2, 4), (3, 7), (12, 6), (15, 5)] {
            check(&spec(13, 9, precision, pred), u32::from(precision));
        }
    }

    #[test]
    fn point_transform_keeps_the_high_bits() {
        for (precision, pt, pred) in [(12, 2, 1), (16, 4, 7), (8, 7, 5)] {
            let mut s = spec(21, 17, precision, pred);
            s.pt = pt;
            check(&s, 3);
        }
    }

    #[test]
    fn restart_intervals_whole_lines_and_mid_line() {
        for (restart, pred) in [(29, 4), (58, 7), (7, 6), (1, 5), (500, 2)] {
            let mut s = spec(29, 13, 16, pred);
            s.restart = restart;
            check(&s, restart as u32);
        }
    }

    #[test]
    fn three_components_interleaved_and_in_separate_scans() {
        for interleaved in [true, false] {
            for pred in [1, 5, 7] {
                let s = Spec {
                    w: 17,
                    h: 9,
                    nc: 3,
                    precision: 8,
                    pred,
                    pt: 0,
                    restart: 10,
                    interleaved,
                };
                check(&s, u32::from(pred));
            }
        }
    }

    #[test]
    fn difference_32768_has_no_extra_bits() {
        // 0, 32768, 0, 32768 ... in a 16-bit first line: every difference after the first is
        // +-32768, coded as SSSS 16 alone.
        let s = spec(8, 2, 16, 1);
        let want: Vec<u16> = (0..16)
            .map(|i| if i % 2 == 0 { 0 } else { 32768 })
            .collect();
        let got = decode(&encode(&s, &want)).unwrap();
        assert_eq!(got.samples, want);
    }

    #[test]
    fn every_truncation_inside_the_data_is_an_error() {
        let mut s = spec(16, 8, 16, 6);
        s.restart = 24;
        let data = encode(&s, &picture(16, 8, 1, 16, 9));
        assert!(decode(&data).is_ok());
        // Without EOI the data is still whole; any shorter is missing real bits.
        for cut in 0..data.len() - 2 {
            assert!(
                decode(&data[..cut]).is_err(),
                "cut at {cut} of {}",
                data.len()
            );
        }
    }

    #[test]
    fn missing_restart_marker_is_named() {
        let mut s = spec(8, 4, 8, 1);
        s.restart = 8;
        let mut data = encode(&s, &picture(8, 4, 1, 8, 1));
        let rst = data
            .windows(2)
            .position(|w| w == [0xFF, 0xD0])
            .expect("a restart marker");
        data[rst + 1] = 0xE1; // now an APP1 marker
        let err = decode(&data).unwrap_err();
        assert!(
            matches!(&err, CodecError::Corrupt(m) if m.contains("restart marker missing")),
            "{err:?}"
        );
    }

    #[test]
    fn bad_predictor_and_undefined_table_are_named() {
        let s = spec(4, 4, 8, 1);
        let data = encode(&s, &picture(4, 4, 1, 8, 1));
        let sos = data.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut bad = data.clone();
        bad[sos + 7] = 0; // Ss: predictor 0 is hierarchical only
        assert!(matches!(decode(&bad), Err(CodecError::Corrupt(m)) if m.contains("predictor 0")));
        let mut bad = data;
        bad[sos + 6] = 0x30; // table 3 was never defined
        assert!(
            matches!(decode(&bad), Err(CodecError::Corrupt(m)) if m.contains("undefined Huffman table 3"))
        );
    }

    #[test]
    fn a_frame_larger_than_its_data_can_hold_is_refused_before_allocating() {
        let data = encode(&spec(4, 4, 8, 1), &picture(4, 4, 1, 8, 1));
        let sof = data.windows(2).position(|w| w == [0xFF, 0xC3]).unwrap();
        let mut big = data.clone();
        big[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        let err = decode(&big).unwrap_err();
        assert!(
            matches!(&err, CodecError::Corrupt(m) if m.contains("65535x65535x1 samples cannot fit")),
            "{err:?}"
        );
    }

    proptest! {
        #[test]
        fn damaged_streams_never_panic(at in 0usize..4096, byte: u8, cut in 0usize..4096) {
            let mut s = spec(16, 8, 16, 7);
            s.restart = 20;
            let mut data = encode(&s, &picture(16, 8, 1, 16, 5));
            let at = at % data.len();
            data[at] = byte;
            let cut = cut.min(data.len());
            if let Ok(img) = decode(&data[..cut]) {
                prop_assert_eq!(img.samples.len(), img.width * img.height * img.components);
            }
        }

        #[test]
        fn random_entropy_data_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
            let s = spec(24, 16, 12, 4);
            let data = encode(&s, &picture(24, 16, 1, 12, 1));
            let sos = data.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
            let mut v = data[..sos + 10].to_vec();
            v.extend(tail);
            let _ = decode(&v);
        }
    }

    /// DCMTK's `dcmcjpeg +el +sv N` on corpus images (16-bit signed MR, 16-bit CT, 8-bit RGB):
    /// each predictor must give back the uncompressed samples exactly.
    #[test]
    fn dcmtk_encoded_predictors_1_to_7_decode_exactly() {
        let corpus = std::env::var_os("REMOTEDX_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
            });
        let dir = corpus.join("dicom/pydicom-test-files");
        assert!(
            dir.is_dir(),
            "corpus not found at {} (set REMOTEDX_CORPUS)",
            dir.display()
        );
        let tmp = tempfile::tempdir().unwrap();
        for name in ["MR_small.dcm", "CT_small.dcm", "SC_rgb_small_odd.dcm"] {
            let src = dir.join(name);
            let want = crate::decode_frame(&src, 0).unwrap().samples.to_i64_vec();
            for sv in 1..=7 {
                let out = tmp.path().join(format!("{name}.sv{sv}.dcm"));
                let status = std::process::Command::new("dcmcjpeg")
                    .args(["+el", "+sv", &sv.to_string()])
                    .arg(&src)
                    .arg(&out)
                    .status()
                    .expect("dcmcjpeg (DCMTK) not found: run scripts/ci-deps/imaging.sh");
                assert!(status.success(), "dcmcjpeg +el +sv {sv} {name} failed");
                let got = crate::decode_frame(&out, 0)
                    .unwrap_or_else(|e| panic!("{name} sv{sv}: {e}"))
                    .samples
                    .to_i64_vec();
                assert!(got == want, "{name}, predictor {sv}: samples differ");
            }
        }
    }
}
