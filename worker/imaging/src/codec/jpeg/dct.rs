//! Sequential DCT JPEG with Huffman coding (ISO 10918-1 processes 1, 2 and 4): baseline and
//! extended, 8 and 12 bits, interleaved or not, with restart intervals.
//!
//! Written here because no pure-Rust crate decodes 12-bit DCT, and because DICOM viewers are
//! expected to reproduce the IJG library (DCMTK, GDCM and pydicom all use it): the inverse DCT is
//! IJG's accurate integer one (`jidctint.c`), chroma is upsampled with IJG's "fancy" triangular
//! filters and YCbCr is converted with IJG's fixed-point tables, so that results match the
//! references within ±1.

use super::huffman::{BitReader, FAST_BITS, FULL, Table, dht_tables};
use crate::codec::{CodecError, segment_body};

/// Natural (row-major) index of the k-th coefficient in zig-zag order.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// A decoded image: one plane per component at full resolution, and the sample precision.
pub(crate) struct Planes {
    pub width: usize,
    pub height: usize,
    pub precision: u8,
    pub planes: Vec<Vec<u16>>,
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Samples decoded so far, in a plane padded to whole MCUs.
    plane: Vec<u16>,
    stride: usize,
    /// Size before padding (ceil(X * h / hmax) by ceil(Y * v / vmax)).
    dw: usize,
    dh: usize,
    pred: i32,
}

struct Frame {
    precision: u8,
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    comps: Vec<Component>,
}

/// State carried between markers.
#[derive(Default)]
struct Tables {
    quant: [Option<[i32; 64]>; 4],
    dc: [Option<Table>; 4],
    ac: [Option<Table>; 4],
    restart: usize,
}

fn corrupt(msg: impl Into<String>) -> CodecError {
    CodecError::corrupt(msg)
}

/// Decodes a sequential DCT JPEG (SOF0 or SOF1) to full-resolution planes.
pub(crate) fn decode(data: &[u8]) -> Result<Planes, CodecError> {
    let mut t = Tables::default();
    let mut frame: Option<Frame> = None;
    let mut at = 2; // after SOI
    let mut scans = 0;
    loop {
        while data.get(at) == Some(&0xFF) && data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let marker = match (data.get(at), data.get(at + 1)) {
            (Some(0xFF), Some(&m)) => m,
            _ if scans > 0 && at >= data.len().saturating_sub(2) => break,
            _ => return Err(corrupt(format!("JPEG: expected a marker at byte {at}"))),
        };
        if marker == 0xD9 {
            break;
        }
        let body = segment_body(data, at, marker, "JPEG")?;
        at += 4 + body.len();
        match marker {
            0xDB => read_dqt(body, &mut t)?,
            0xC4 => read_dht(body, &mut t)?,
            0xDD => {
                let b = body.get(..2).ok_or_else(|| corrupt("JPEG: short DRI"))?;
                t.restart = usize::from(u16::from_be_bytes([b[0], b[1]]));
            }
            0xC0 | 0xC1 if frame.is_some() => {
                return Err(corrupt("JPEG: a second frame header"));
            }
            0xC0 | 0xC1 => frame = Some(read_sof(body, data.len())?),
            0xDA => {
                let f = frame
                    .as_mut()
                    .ok_or_else(|| corrupt("JPEG: scan before the frame header"))?;
                at = decode_scan(f, &t, body, data, at)?;
                scans += 1;
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(CodecError::Unsupported(format!(
                    "JPEG process SOF{} in the sequential DCT decoder",
                    marker & 0x0F
                )));
            }
            _ => {} // APPn, COM, DNL...: nothing the samples depend on.
        }
    }
    let f = frame.ok_or_else(|| corrupt("JPEG: no frame header"))?;
    if scans == 0 {
        return Err(corrupt("JPEG: no scan"));
    }
    Ok(upsample(f))
}

fn read_dqt(mut b: &[u8], t: &mut Tables) -> Result<(), CodecError> {
    while let Some(&pq_tq) = b.first() {
        let (pq, tq) = (pq_tq >> 4, usize::from(pq_tq & 0x0F));
        let n = if pq == 0 { 64 } else { 128 };
        let vals = b.get(1..1 + n).ok_or_else(|| corrupt("JPEG: short DQT"))?;
        if tq > 3 || pq > 1 {
            return Err(corrupt(format!("JPEG: bad DQT table {tq}, precision {pq}")));
        }
        let mut q = [0i32; 64];
        for (k, &z) in ZIGZAG.iter().enumerate() {
            q[z] = if pq == 0 {
                i32::from(vals[k])
            } else {
                i32::from(u16::from_be_bytes([vals[2 * k], vals[2 * k + 1]]))
            };
        }
        t.quant[tq] = Some(q);
        b = &b[1 + n..];
    }
    Ok(())
}

fn read_dht(b: &[u8], t: &mut Tables) -> Result<(), CodecError> {
    dht_tables(b, "JPEG", |tc, th, counts, values| {
        let table = Table::new(counts, values)?;
        if tc == 0 {
            t.dc[th] = Some(table);
        } else {
            t.ac[th] = Some(table);
        }
        Ok(())
    })
}

/// Reads the frame header; `data_len` bounds what the data can hold (every 8x8 block takes at
/// least two bits, a DC code and an end of block), so a damaged header cannot make us allocate
/// far more than the data.
fn read_sof(b: &[u8], data_len: usize) -> Result<Frame, CodecError> {
    let head = b.get(..6).ok_or_else(|| corrupt("JPEG: short SOF"))?;
    let precision = head[0];
    let height = usize::from(u16::from_be_bytes([head[1], head[2]]));
    let width = usize::from(u16::from_be_bytes([head[3], head[4]]));
    let n = usize::from(head[5]);
    let spec = b
        .get(6..6 + 3 * n)
        .ok_or_else(|| corrupt("JPEG: short SOF"))?;
    if !matches!(precision, 8 | 12) {
        return Err(corrupt(format!("JPEG: DCT precision {precision}")));
    }
    if width == 0 || height == 0 || n == 0 || n > 4 {
        return Err(corrupt(format!(
            "JPEG: frame {width}x{height} with {n} components"
        )));
    }
    let mut comps: Vec<Component> = spec
        .chunks_exact(3)
        .map(|c| Component {
            id: c[0],
            h: usize::from(c[1] >> 4),
            v: usize::from(c[1] & 0x0F),
            tq: usize::from(c[2]),
            plane: Vec::new(),
            stride: 0,
            dw: 0,
            dh: 0,
            pred: 0,
        })
        .collect();
    if comps
        .iter()
        .any(|c| !(1..=4).contains(&c.h) || !(1..=4).contains(&c.v) || c.tq > 3)
    {
        return Err(corrupt("JPEG: bad sampling factor or quantisation table"));
    }
    if comps.len() == 1 {
        // A lone component is never subsampled (A.2.2); its factors are irrelevant.
        (comps[0].h, comps[0].v) = (1, 1);
    }
    let hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
    let vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
    let (mcux, mcuy) = (width.div_ceil(8 * hmax), height.div_ceil(8 * vmax));
    let blocks: usize = comps
        .iter()
        .map(|c| {
            let (dw, dh) = ((width * c.h).div_ceil(hmax), (height * c.v).div_ceil(vmax));
            dw.div_ceil(8) * dh.div_ceil(8)
        })
        .sum();
    if blocks > data_len.saturating_mul(4) {
        return Err(corrupt(format!(
            "JPEG: {width}x{height} with {n} components cannot fit in {data_len} bytes"
        )));
    }
    for c in &mut comps {
        if hmax % c.h != 0 || vmax % c.v != 0 {
            return Err(CodecError::Unsupported(format!(
                "JPEG sampling {}x{} against {hmax}x{vmax} (not an integer ratio)",
                c.h, c.v
            )));
        }
        c.stride = mcux * c.h * 8;
        c.plane = vec![0; c.stride * mcuy * c.v * 8];
        c.dw = (width * c.h).div_ceil(hmax);
        c.dh = (height * c.v).div_ceil(vmax);
    }
    Ok(Frame {
        precision,
        width,
        height,
        hmax,
        vmax,
        comps,
    })
}

/// Decodes one scan whose header is `hdr`, with entropy-coded data from `data[start..]`;
/// returns where the data ends (the next marker).
fn decode_scan(
    f: &mut Frame,
    t: &Tables,
    hdr: &[u8],
    data: &[u8],
    start: usize,
) -> Result<usize, CodecError> {
    let ns = usize::from(*hdr.first().ok_or_else(|| corrupt("JPEG: short SOS"))?);
    let spec = hdr
        .get(1..1 + 2 * ns)
        .ok_or_else(|| corrupt("JPEG: short SOS"))?;
    // Ss, Se, Ah/Al must be 0, 63, 0 in a sequential scan. Some encoders write other values
    // (JPEG-lossy.dcm in the corpus); IJG warns and decodes the scan as sequential, and so do we.
    hdr.get(1 + 2 * ns..4 + 2 * ns)
        .ok_or_else(|| corrupt("JPEG: short SOS"))?;
    let mut members = Vec::with_capacity(ns);
    for s in spec.chunks_exact(2) {
        let ci = f
            .comps
            .iter()
            .position(|c| c.id == s[0])
            .ok_or_else(|| corrupt(format!("JPEG: scan names unknown component {}", s[0])))?;
        let dc = t.dc[usize::from(s[1] >> 4) & 3].as_ref();
        let ac = t.ac[usize::from(s[1] & 0x0F) & 3].as_ref();
        let q = t.quant[f.comps[ci].tq].as_ref();
        match (dc, ac, q) {
            (Some(dc), Some(ac), Some(q)) => members.push((ci, dc, ac, q)),
            _ => return Err(corrupt("JPEG: scan uses an undefined table")),
        }
    }
    if members.is_empty() {
        return Err(corrupt("JPEG: scan with no components"));
    }
    // Non-interleaved: one block per MCU over the component's own size; else whole MCUs.
    let (mcus_x, mcus_y) = if members.len() == 1 {
        let c = &f.comps[members[0].0];
        (c.dw.div_ceil(8), c.dh.div_ceil(8))
    } else {
        (f.width.div_ceil(8 * f.hmax), f.height.div_ceil(8 * f.vmax))
    };
    let single = members.len() == 1;
    for c in &mut f.comps {
        c.pred = 0;
    }
    let mut r = BitReader::new(data, start);
    let mut coef = [0i32; 64];
    let (shift, max) = if f.precision == 8 {
        (2, 255)
    } else {
        (1, 4095)
    };
    let total = mcus_x * mcus_y;
    for m in 0..total {
        if t.restart > 0 && m > 0 && m % t.restart == 0 {
            r.restart()?;
            for c in &mut f.comps {
                c.pred = 0;
            }
        }
        let (mx, my) = (m % mcus_x, m / mcus_x);
        for &(ci, dc, ac, q) in &members {
            let c = &mut f.comps[ci];
            let (bh, bv) = if single { (1, 1) } else { (c.h, c.v) };
            for by in 0..bv {
                for bx in 0..bh {
                    let any_ac = decode_block(&mut r, dc, ac, &mut c.pred, &mut coef)?;
                    let (x0, y0) = ((mx * bh + bx) * 8, (my * bv + by) * 8);
                    let off = y0 * c.stride + x0;
                    if any_ac {
                        idct_islow(&coef, q, &mut c.plane[off..], c.stride, shift, max);
                    } else {
                        flat_block(coef[0], q[0], &mut c.plane[off..], c.stride, shift, max);
                    }
                }
            }
        }
    }
    if r.overran() {
        return Err(corrupt(
            "JPEG: entropy-coded data ends before the last block",
        ));
    }
    Ok(r.next_marker())
}

fn decode_block(
    r: &mut BitReader<'_>,
    dc: &Table,
    ac: &Table,
    pred: &mut i32,
    coef: &mut [i32; 64],
) -> Result<bool, CodecError> {
    *coef = [0; 64];
    let mut any_ac = false;
    r.ensure();
    let e = dc.full[r.peek(FAST_BITS) as usize];
    // A DC category is a run of 0; anything else is left to the checks below.
    let diff = if e & (FULL | 0xF00) == FULL {
        r.consume(e & 31);
        (e as i32) >> 16
    } else {
        let s = dc.decode(r)?;
        if s > 16 {
            return Err(corrupt(format!("JPEG: DC magnitude category {s}")));
        }
        r.receive_extend(s)
    };
    *pred = pred.wrapping_add(diff);
    coef[0] = *pred;
    let mut k = 1;
    while k < 64 {
        // Most coefficients: code, run and value in one lookup.
        r.ensure();
        let e = ac.full[r.peek(FAST_BITS) as usize];
        if e & FULL != 0 {
            r.consume(e & 31);
            k += ((e >> 8) & 15) as usize;
            let Some(&z) = ZIGZAG.get(k) else {
                return Err(corrupt("JPEG: AC coefficients run past the block"));
            };
            coef[z] = (e as i32) >> 16;
            any_ac = true;
            k += 1;
            continue;
        }
        let rs = ac.decode(r)?;
        let (run, s) = (usize::from(rs >> 4), rs & 0x0F);
        if s == 0 {
            if run != 15 {
                break;
            }
            k += 16;
            continue;
        }
        k += run;
        if k > 63 {
            return Err(corrupt("JPEG: AC coefficients run past the block"));
        }
        coef[ZIGZAG[k]] = r.receive_extend(s);
        any_ac = true;
        k += 1;
    }
    Ok(any_ac)
}

/// What `idct_islow` gives for a block with no AC coefficient, without the passes: both passes
/// reduce to DESCALE of the DC term, as in IJG's zero-column and zero-row shortcuts.
fn flat_block(dc: i32, q: i32, out: &mut [u16], stride: usize, pass1: u32, max: i64) {
    let center = (max + 1) / 2;
    let v = (descale((i64::from(dc) * i64::from(q)) << pass1, pass1 + 3) + center).clamp(0, max);
    for row in 0..8 {
        out[row * stride..row * stride + 8].fill(v as u16);
    }
}

/// IJG's accurate integer inverse DCT (`jidctint.c`, Loeffler-Ligtenberg-Moschytz), writing an
/// 8x8 block of samples (level-shifted and clamped to `0..=max`) at `out` with `stride`.
/// `pass1` is IJG's PASS1_BITS: 2 for 8-bit data, 1 for 12-bit.
fn idct_islow(
    coef: &[i32; 64],
    q: &[i32; 64],
    out: &mut [u16],
    stride: usize,
    pass1: u32,
    max: i64,
) {
    const CB: u32 = 13;
    let mut ws = [0i64; 64];
    for col in 0..8 {
        let d = |row: usize| i64::from(coef[row * 8 + col]) * i64::from(q[row * 8 + col]);
        if (1..8).all(|row| coef[row * 8 + col] == 0) {
            let dc = d(0) << pass1;
            for row in 0..8 {
                ws[row * 8 + col] = dc;
            }
            continue;
        }
        let v = butterfly([d(0), d(1), d(2), d(3), d(4), d(5), d(6), d(7)]);
        for (row, x) in v.into_iter().enumerate() {
            ws[row * 8 + col] = descale(x, CB - pass1);
        }
    }
    let center = (max + 1) / 2;
    for row in 0..8 {
        let w = &ws[row * 8..row * 8 + 8];
        let dst = &mut out[row * stride..row * stride + 8];
        if w[1..].iter().all(|&x| x == 0) {
            // IJG's zero-row shortcut: the same value the butterfly would give.
            dst.fill((descale(w[0], pass1 + 3) + center).clamp(0, max) as u16);
            continue;
        }
        let v = butterfly([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        for (o, x) in dst.iter_mut().zip(v) {
            *o = (descale(x, CB + pass1 + 3) + center).clamp(0, max) as u16;
        }
    }
}

/// One 1-D pass of IJG's islow IDCT, before descaling (results scaled by 2^13).
fn butterfly(x: [i64; 8]) -> [i64; 8] {
    const F0_298: i64 = 2446;
    const F0_390: i64 = 3196;
    const F0_541: i64 = 4433;
    const F0_765: i64 = 6270;
    const F0_899: i64 = 7373;
    const F1_175: i64 = 9633;
    const F1_501: i64 = 12299;
    const F1_847: i64 = 15137;
    const F1_961: i64 = 16069;
    const F2_053: i64 = 16819;
    const F2_562: i64 = 20995;
    const F3_072: i64 = 25172;
    // Even part.
    let (z2, z3) = (x[2], x[6]);
    let z1 = (z2 + z3) * F0_541;
    let tmp2 = z1 - z3 * F1_847;
    let tmp3 = z1 + z2 * F0_765;
    let tmp0 = (x[0] + x[4]) << 13;
    let tmp1 = (x[0] - x[4]) << 13;
    let (t10, t13, t11, t12) = (tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2);
    // Odd part.
    let (mut o0, mut o1, mut o2, mut o3) = (x[7], x[5], x[3], x[1]);
    let (z1, z2, z3, z4) = (o0 + o3, o1 + o2, o0 + o2, o1 + o3);
    let z5 = (z3 + z4) * F1_175;
    o0 *= F0_298;
    o1 *= F2_053;
    o2 *= F3_072;
    o3 *= F1_501;
    let (z1, z2) = (-z1 * F0_899, -z2 * F2_562);
    let (z3, z4) = (-z3 * F1_961 + z5, -z4 * F0_390 + z5);
    o0 += z1 + z3;
    o1 += z2 + z4;
    o2 += z2 + z3;
    o3 += z1 + z4;
    [
        t10 + o3,
        t11 + o2,
        t12 + o1,
        t13 + o0,
        t13 - o0,
        t12 - o1,
        t11 - o2,
        t10 - o3,
    ]
}

fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// Every component to full resolution: IJG's triangular filters for 2x1 and 2x2, replication
/// for other ratios.
fn upsample(f: Frame) -> Planes {
    let (w, h) = (f.width, f.height);
    let planes = f
        .comps
        .iter()
        .map(|c| {
            let (fh, fv) = (f.hmax / c.h, f.vmax / c.v);
            let at = |x: usize, y: usize| i32::from(c.plane[y.min(c.dh - 1) * c.stride + x]);
            let mut out = vec![0u16; w * h];
            match (fh, fv) {
                (1, 1) => {
                    for y in 0..h {
                        out[y * w..(y + 1) * w]
                            .copy_from_slice(&c.plane[y * c.stride..y * c.stride + w]);
                    }
                }
                (2, 1) => {
                    for y in 0..h {
                        let row = fancy_h2v1(c.dw, |x| at(x, y));
                        out[y * w..(y + 1) * w].copy_from_slice(&row[..w]);
                    }
                }
                (2, 2) => {
                    for y in 0..h {
                        let (y0, near) = (y / 2, if y % 2 == 0 { -1isize } else { 1 });
                        let other = (y0 as isize + near).max(0) as usize;
                        let col = |x: usize| 3 * at(x, y0) + at(x, other);
                        let row = fancy_h2v2(c.dw, col);
                        out[y * w..(y + 1) * w].copy_from_slice(&row[..w]);
                    }
                }
                _ => {
                    for y in 0..h {
                        for x in 0..w {
                            out[y * w + x] = at(x / fh, y / fv) as u16;
                        }
                    }
                }
            }
            out
        })
        .collect();
    Planes {
        width: w,
        height: h,
        precision: f.precision,
        planes,
    }
}

/// IJG's `h2v1_fancy_upsample` on one row of `n` samples: each output is 3/4 of the nearer
/// input plus 1/4 of the further one, rounding alternately down and up.
fn fancy_h2v1(n: usize, v: impl Fn(usize) -> i32) -> Vec<u16> {
    if n == 1 {
        return vec![v(0) as u16; 2];
    }
    let mut out = Vec::with_capacity(2 * n);
    out.push(v(0));
    out.push((3 * v(0) + v(1) + 2) >> 2);
    for i in 1..n - 1 {
        out.push((3 * v(i) + v(i - 1) + 1) >> 2);
        out.push((3 * v(i) + v(i + 1) + 2) >> 2);
    }
    out.push((3 * v(n - 1) + v(n - 2) + 1) >> 2);
    out.push(v(n - 1));
    out.into_iter().map(|x| x as u16).collect()
}

/// IJG's `h2v2_fancy_upsample` on one output row, given the column sums
/// `c(i) = 3 * nearer row + further row`.
fn fancy_h2v2(n: usize, c: impl Fn(usize) -> i32) -> Vec<u16> {
    if n == 1 {
        return vec![((4 * c(0) + 8) >> 4) as u16; 2];
    }
    let mut out = Vec::with_capacity(2 * n);
    out.push((4 * c(0) + 8) >> 4);
    out.push((3 * c(0) + c(1) + 7) >> 4);
    for i in 1..n - 1 {
        out.push((3 * c(i) + c(i - 1) + 8) >> 4);
        out.push((3 * c(i) + c(i + 1) + 7) >> 4);
    }
    out.push((3 * c(n - 1) + c(n - 2) + 8) >> 4);
    out.push((4 * c(n - 1) + 7) >> 4);
    out.into_iter().map(|x| x as u16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_only_block_is_flat_and_level_shifted() {
        let mut coef = [0i32; 64];
        coef[0] = 10; // times quant 8 = 80, /8 = 10 above the centre
        let q = [8i32; 64];
        let mut out = vec![0u16; 64];
        idct_islow(&coef, &q, &mut out, 8, 2, 255);
        assert!(out.iter().all(|&v| v == 138), "{out:?}");
        let mut out = vec![0u16; 64];
        idct_islow(&coef, &q, &mut out, 8, 1, 4095);
        assert!(out.iter().all(|&v| v == 2058), "{out:?}");
    }

    #[test]
    fn shortcuts_equal_the_full_butterfly() {
        // The zero-row shortcut and `flat_block` must give exactly what the butterfly gives.
        for (pass1, max) in [(2u32, 255i64), (1, 4095)] {
            for x in (-70_000i64..70_000).step_by(37) {
                let full = butterfly([x, 0, 0, 0, 0, 0, 0, 0]);
                for v in full {
                    assert_eq!(descale(v, 13 + pass1 + 3), descale(x, pass1 + 3), "x {x}");
                }
            }
            for (dc, q) in [(10, 8), (-1023, 1), (2047, 3), (-5, 255), (0, 7)] {
                let mut coef = [0i32; 64];
                coef[0] = dc;
                let qt = [q; 64];
                let mut flat = vec![0u16; 64];
                flat_block(dc, q, &mut flat, 8, pass1, max);
                // idct_islow takes its zero-column and zero-row shortcuts here; the loop above
                // ties the zero-row one to the butterfly.
                let mut full = vec![0u16; 64];
                idct_islow(&coef, &qt, &mut full, 8, pass1, max);
                assert_eq!(flat, full, "dc {dc} q {q} pass1 {pass1}");
            }
        }
    }

    #[test]
    fn h2v1_fancy_matches_ijg_on_a_ramp() {
        // IJG: first = in0, then (3*in0 + in1 + 2) >> 2, ..., last pair ends with in[n-1].
        let inp = [0, 40, 80];
        let row = fancy_h2v1(3, |x| inp[x]);
        assert_eq!(row, vec![0, 10, 30, 50, 70, 80]);
    }
}
