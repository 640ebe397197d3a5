//! JPEG-LS lossless and near-lossless (ITU-T T.87, PS3.5 A.4.3): written here because there is
//! no maintained pure-Rust decoder and CharLS needs CMake and C++.
//!
//! Covers what DICOM uses: 2 to 16 bits, one component or three (interleave modes none, line
//! and sample), NEAR > 0, and preset coding parameters (LSE id 1). Not covered, with an
//! Unsupported error: mapping tables (LSE 2/3), oversize dimensions (LSE 4) and the HP colour
//! transforms.

use super::{CodecError, Geometry, RawFrame, segment_body};
use crate::frame::SampleBuf;

const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13,
    14, 15,
];

fn corrupt(msg: impl Into<String>) -> CodecError {
    CodecError::corrupt(msg)
}

/// Coding parameters of one scan (C.2.4.1).
#[derive(Clone, Copy)]
struct Params {
    maxval: i32,
    near: i32,
    t1: i32,
    t2: i32,
    t3: i32,
    reset: i32,
    range: i32,
    qbpp: u32,
    limit: u32,
}

impl Params {
    fn new(bits: u8, preset: [i32; 5], near: i32) -> Self {
        let maxval = if preset[0] > 0 {
            preset[0]
        } else {
            (1 << bits) - 1
        };
        let clamp = |i: i32, j: i32| if i > maxval || i < j { j } else { i };
        // C.2.4.1.1 with BASIC_T1..3 = 3, 7, 21.
        let (basic1, basic2, basic3) = (3, 7, 21);
        let (t1, t2, t3) = if maxval >= 128 {
            let f = (maxval.min(4095) + 128) / 256;
            let t1 = clamp(f * (basic1 - 2) + 2 + 3 * near, near + 1);
            let t2 = clamp(f * (basic2 - 3) + 3 + 5 * near, t1);
            (t1, t2, clamp(f * (basic3 - 4) + 4 + 7 * near, t2))
        } else {
            let f = 256 / (maxval + 1);
            let t1 = clamp((basic1 / f).max(2) + 3 * near, near + 1);
            let t2 = clamp((basic2 / f).max(3) + 5 * near, t1);
            (t1, t2, clamp((basic3 / f).max(4) + 7 * near, t2))
        };
        let pick = |p: i32, d: i32| if p > 0 { p } else { d };
        let range = (maxval + 2 * near) / (2 * near + 1) + 1;
        let qbpp = ceil_log2(range);
        let bpp = ceil_log2(maxval + 1).max(2);
        Self {
            maxval,
            near,
            t1: pick(preset[1], t1),
            t2: pick(preset[2], t2),
            t3: pick(preset[3], t3),
            reset: pick(preset[4], 64),
            range,
            qbpp,
            limit: 2 * (bpp + bpp.max(8)),
        }
    }

    /// Q(d) of A.3.3, computed once per threshold set for the lookup table.
    fn quantize(&self, d: i32) -> i8 {
        match d {
            d if d <= -self.t3 => -4,
            d if d <= -self.t2 => -3,
            d if d <= -self.t1 => -2,
            d if d < -self.near => -1,
            d if d <= self.near => 0,
            d if d < self.t1 => 1,
            d if d < self.t2 => 2,
            d if d < self.t3 => 3,
            _ => 4,
        }
    }

    /// Reconstruction with the modulo fix of A.4 (`err` already carries the context's sign).
    #[inline(always)]
    fn reconstruct<const NEAR0: bool>(&self, px: i32, err: i32) -> i32 {
        let (step, near) = if NEAR0 {
            (1, 0)
        } else {
            (2 * self.near + 1, self.near)
        };
        let mut v = px + err * step;
        if v < -near {
            v += self.range * step;
        } else if v > self.maxval + near {
            v -= self.range * step;
        }
        v.clamp(0, self.maxval)
    }
}

fn ceil_log2(n: i32) -> u32 {
    let mut k = 0;
    while (1i64 << k) < i64::from(n) {
        k += 1;
    }
    k
}

/// The Golomb parameter: the least `k` with `n << k >= a` (A.5.1), without a loop.
#[inline(always)]
fn golomb_k(n: i32, a: i32) -> u32 {
    // Both stay positive: N >= 1, and A >= 1 is kept by saturating updates.
    let (n, a) = (n.max(1) as u32, a.max(1) as u32);
    if n >= a {
        return 0;
    }
    let k = n.leading_zeros() - a.leading_zeros();
    k + u32::from((n << k) < a)
}

/// Q(d) for d in -MAXVAL..=MAXVAL: computed only within ±T3 (beyond it Q is ±4), so small
/// multi-frame images do not pay for a 16-bit table sample by sample.
fn quant_table(p: &Params) -> Vec<i8> {
    let m = p.maxval;
    let t = p.t3.max(p.near + 1).min(m);
    let len = 2 * m as usize + 1;
    let mut lut = Vec::with_capacity(len);
    lut.resize((m - t) as usize, -4);
    lut.extend((-t..=t).map(|d| p.quantize(d)));
    lut.resize(len, 4);
    lut
}

/// Errors inside scan decoding: a fixed description, turned into a [`CodecError`] once.
type Res<T> = Result<T, &'static str>;

#[derive(Clone, Copy)]
struct Ctx {
    a: i32,
    b: i32,
    c: i32,
    n: i32,
}

#[derive(Clone, Copy)]
struct RunCtx {
    a: i32,
    n: i32,
    nn: i32,
    ri_type: i32,
}

/// The context state of one scan.
struct State {
    p: Params,
    ctx: [Ctx; 365],
    run: [RunCtx; 2],
    /// Q(d) for every gradient d in -MAXVAL..=MAXVAL, at index d + MAXVAL (at most 128 KiB;
    /// the small gradients that dominate sit together in the middle).
    qlut: Vec<i8>,
}

impl State {
    fn new(p: Params) -> Self {
        let a = ((p.range + 32) / 64).max(2);
        Self {
            p,
            ctx: [Ctx {
                a,
                b: 0,
                c: 0,
                n: 1,
            }; 365],
            run: [0, 1].map(|ri_type| RunCtx {
                a,
                n: 1,
                nn: 0,
                ri_type,
            }),
            qlut: quant_table(&p),
        }
    }

    /// The signed context number (A.3.3, A.3.4 before the sign is taken): zero means run mode.
    #[inline(always)]
    fn context(&self, d1: i32, d2: i32, d3: i32) -> i32 {
        // Samples stay within 0..=MAXVAL, so the index is always in the table.
        let m = self.p.maxval;
        let q = |d: i32| self.qlut.get((d + m) as usize).map_or(0, |&v| i32::from(v));
        (q(d1) * 9 + q(d2)) * 9 + q(d3)
    }

    /// A regular-mode sample (A.4 to A.6) with context `qs` (non-zero). `NEAR0` is NEAR == 0.
    #[inline(always)]
    fn regular<const NEAR0: bool>(
        &mut self,
        r: &mut Bits<'_>,
        qs: i32,
        ra: i32,
        rb: i32,
        rc: i32,
    ) -> Res<i32> {
        let sign = qs >> 31;
        let q = ((qs ^ sign) - sign) as usize;
        let p = &self.p;
        let cx = &mut self.ctx[q];
        let k = golomb_k(cx.n, cx.a);
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        let pred = if rc >= hi {
            lo
        } else if rc <= lo {
            hi
        } else {
            ra + rb - rc
        };
        let px = (pred + ((cx.c ^ sign) - sign)).clamp(0, p.maxval);
        let m = r.golomb(k, p.limit, p.qbpp)?;
        if m > 2 * p.range + 2 {
            // A valid mapped error stays below RANGE; this keeps corrupt data from overflowing.
            return Err("mapped error exceeds the range");
        }
        let mut err = (m >> 1) ^ -(m & 1);
        if NEAR0 && k == 0 && 2 * cx.b + cx.n - 1 < 0 {
            err = !err;
        }
        cx.a = cx.a.saturating_add(err.abs());
        cx.b += if NEAR0 { err } else { err * (2 * p.near + 1) };
        if cx.n == p.reset {
            cx.a >>= 1;
            cx.b >>= 1;
            cx.n >>= 1;
        }
        cx.n += 1;
        if cx.b + cx.n <= 0 {
            cx.b += cx.n;
            if cx.b <= -cx.n {
                cx.b = -cx.n + 1;
            }
            cx.c = (cx.c - 1).max(-128);
        } else if cx.b > 0 {
            cx.b -= cx.n;
            if cx.b > 0 {
                cx.b = 0;
            }
            cx.c = (cx.c + 1).min(127);
        }
        Ok(p.reconstruct::<NEAR0>(px, (err ^ sign) - sign))
    }

    /// The error of a run-interruption sample (A.7.2), in context `i`.
    fn ri_error(&mut self, r: &mut Bits<'_>, i: usize, run_index: usize) -> Res<i32> {
        let p = self.p;
        let cx = &mut self.run[i];
        let temp = if cx.ri_type == 1 {
            cx.a.saturating_add(cx.n >> 1)
        } else {
            cx.a
        };
        let k = golomb_k(cx.n, temp);
        let em = r.golomb(k, p.limit - J[run_index] - 1, p.qbpp)?;
        if em > 2 * p.range + 2 {
            return Err("mapped error exceeds the range");
        }
        let t = em + cx.ri_type;
        let map = t & 1;
        let abs = (t + map) / 2;
        let negative = (k != 0 || 2 * cx.nn >= cx.n) == (map == 1);
        let err = if negative { -abs } else { abs };
        if err < 0 {
            cx.nn += 1;
        }
        cx.a = cx.a.saturating_add((em + 1 - cx.ri_type) >> 1);
        if cx.n == p.reset {
            cx.a >>= 1;
            cx.n >>= 1;
            cx.nn >>= 1;
        }
        cx.n += 1;
        Ok(err)
    }
}

/// Reads bits with JPEG-LS stuffing: after a 0xFF byte, the next byte's top bit is a 0 that
/// carries nothing. Valid bits sit at the top of `buf`; the bits below them are zero.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    nbits: u32,
    prev_ff: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            buf: 0,
            nbits: 0,
            prev_ff: false,
        }
    }

    /// Tops the buffer up to more than 32 bits where data remains.
    #[inline(always)]
    fn refill(&mut self) {
        if self.nbits <= 32 {
            self.fill();
        }
    }

    /// Adds bytes until more than 48 bits are held, or the scan data ends (a marker or the end
    /// of the buffer); after that the buffer just holds what is left.
    fn fill(&mut self) {
        while self.nbits <= 48 {
            if self.nbits <= 32 && !self.prev_ff {
                // Four bytes at once when none of them is 0xFF (no stuffing, no marker).
                if let Some(w) = self.data.get(self.pos..self.pos + 4) {
                    let v = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
                    let inv = !v;
                    if inv.wrapping_sub(0x0101_0101) & !inv & 0x8080_8080 == 0 {
                        self.buf |= u64::from(v) << (32 - self.nbits);
                        self.nbits += 32;
                        self.pos += 4;
                        continue;
                    }
                }
            }
            let Some(&b) = self.data.get(self.pos) else {
                return;
            };
            if self.prev_ff {
                if b & 0x80 != 0 {
                    // A marker: no more data in this scan.
                    return;
                }
                self.buf |= u64::from(b) << (57 - self.nbits);
                self.nbits += 7;
            } else {
                self.buf |= u64::from(b) << (56 - self.nbits);
                self.nbits += 8;
            }
            self.prev_ff = b == 0xFF;
            self.pos += 1;
        }
    }

    /// The next `n` bits (at most 32).
    #[inline(always)]
    fn read(&mut self, n: u32) -> Res<i32> {
        self.refill();
        if self.nbits < n {
            return Err("scan data ends early");
        }
        // Two shifts so that n == 0 gives 0 without shifting by 64.
        let v = ((self.buf >> 1) >> (63 - n)) as i32;
        self.buf <<= n;
        self.nbits -= n;
        Ok(v)
    }

    #[inline(always)]
    fn bit(&mut self) -> Res<bool> {
        Ok(self.read(1)? == 1)
    }

    /// A limited-length Golomb code (A.5.3): one count of leading zeros when the whole code is
    /// in the buffer and is not the escape form.
    #[inline(always)]
    fn golomb(&mut self, k: u32, limit: u32, qbpp: u32) -> Res<i32> {
        self.refill();
        let lz = self.buf.leading_zeros();
        if lz + 1 + k <= self.nbits && lz < limit.saturating_sub(qbpp + 1) {
            let rest = self.buf << lz << 1;
            let low = ((rest >> 1) >> (63 - k)) as i32;
            self.buf = rest << k;
            self.nbits -= lz + 1 + k;
            return Ok(((lz as i32) << k) + low);
        }
        self.golomb_slow(k, limit, qbpp)
    }

    /// The general case: a prefix longer than the buffer, the escape form, or the end of data.
    #[cold]
    fn golomb_slow(&mut self, k: u32, limit: u32, qbpp: u32) -> Res<i32> {
        let mut zeros = 0u32;
        loop {
            self.fill();
            if self.nbits == 0 {
                return Err("scan data ends early");
            }
            // Bits past `nbits` are zero, so count only within the valid ones.
            let lz = self.buf.leading_zeros().min(self.nbits);
            zeros += lz;
            if zeros > limit {
                return Err("Golomb code longer than LIMIT");
            }
            if lz < self.nbits {
                self.buf <<= lz;
                self.nbits -= lz;
                self.read(1)?; // the terminating 1
                break;
            }
            (self.buf, self.nbits) = (0, 0);
        }
        if zeros >= limit.saturating_sub(qbpp + 1) {
            return Ok(self.read(qbpp)? + 1);
        }
        Ok(((zeros as i32) << k) + self.read(k)?)
    }

    /// Where the scan's data ends: the marker after it.
    fn end(&self) -> usize {
        let mut p = self.pos.saturating_sub(1);
        while p + 1 < self.data.len() {
            if self.data[p] == 0xFF && self.data[p + 1] & 0x80 != 0 {
                return p;
            }
            p += 1;
        }
        self.data.len()
    }
}

/// One component's lines: the current and previous line, with one sample of padding each side
/// (index 0 is "x = -1").
struct Lines {
    prev: Vec<i32>,
    cur: Vec<i32>,
    run_index: usize,
}

impl Lines {
    fn new(width: usize) -> Self {
        Self {
            prev: vec![0; width + 2],
            cur: vec![0; width + 2],
            run_index: 0,
        }
    }

    /// Sets up the edges (A.2.1) before decoding a line.
    fn start(&mut self, width: usize) {
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.prev[width + 1] = self.prev[width];
        self.cur[0] = self.prev[1];
    }
}

/// Decodes one line of one component (interleave modes 0 and 1). The neighbours a, b, c and d
/// move along in registers: one load from the line above and one store per sample.
fn decode_line<const NEAR0: bool>(
    s: &mut State,
    r: &mut Bits<'_>,
    l: &mut Lines,
    width: usize,
) -> Res<()> {
    let near = s.p.near;
    let mut run_index = l.run_index;
    let prev = &l.prev[..width + 2];
    let cur = &mut l.cur[..width + 2];
    let (mut ra, mut rc, mut rb) = (cur[0], prev[0], prev[1]);
    let mut x = 1;
    while x <= width {
        let rd = prev[x + 1];
        let qs = s.context(rd - rb, rb - rc, rc - ra);
        if qs != 0 {
            ra = s.regular::<NEAR0>(r, qs, ra, rb, rc)?;
            cur[x] = ra;
            (rc, rb) = (rb, rd);
            x += 1;
            continue;
        }
        // Run mode (A.7).
        let left = width + 1 - x;
        let n = run_length(r, &mut run_index, left)?;
        cur[x..x + n].fill(ra);
        x += n;
        if n < left {
            let rb = prev[x];
            let v = if (ra - rb).abs() <= near {
                let e = s.ri_error(r, 1, run_index)?;
                s.p.reconstruct::<NEAR0>(ra, e)
            } else {
                let e = s.ri_error(r, 0, run_index)?;
                s.p.reconstruct::<NEAR0>(rb, if rb < ra { -e } else { e })
            };
            cur[x] = v;
            run_index = run_index.saturating_sub(1);
            x += 1;
        }
        (ra, rc, rb) = (cur[x - 1], prev[x - 1], prev[x]);
    }
    l.run_index = run_index;
    Ok(())
}

/// The length of a run of `left` samples at most (A.7.1.2).
fn run_length(r: &mut Bits<'_>, run_index: &mut usize, left: usize) -> Res<usize> {
    let mut n = 0;
    while r.bit()? {
        let full = 1usize << J[*run_index];
        let count = full.min(left - n);
        n += count;
        if count == full && *run_index < 31 {
            *run_index += 1;
        }
        if n == left {
            return Ok(n);
        }
    }
    n += r.read(J[*run_index])? as usize;
    if n > left {
        return Err("run longer than the line");
    }
    Ok(n)
}

/// Decodes one line of sample-interleaved triplets (interleave mode 2).
fn decode_triplets<const NEAR0: bool>(
    s: &mut State,
    r: &mut Bits<'_>,
    l: &mut [Lines],
    width: usize,
) -> Res<()> {
    let p = s.p;
    let mut x = 1;
    while x <= width {
        let mut qs = [0i32; 3];
        for (c, q) in qs.iter_mut().enumerate() {
            let (ra, rb, rc, rd) = (
                l[c].cur[x - 1],
                l[c].prev[x],
                l[c].prev[x - 1],
                l[c].prev[x + 1],
            );
            *q = s.context(rd - rb, rb - rc, rc - ra);
        }
        if qs != [0, 0, 0] {
            for c in 0..3 {
                let (ra, rb, rc) = (l[c].cur[x - 1], l[c].prev[x], l[c].prev[x - 1]);
                l[c].cur[x] = s.regular::<NEAR0>(r, qs[c], ra, rb, rc)?;
            }
            x += 1;
            continue;
        }
        let left = width + 1 - x;
        let n = run_length(r, &mut l[0].run_index, left)?;
        for line in l.iter_mut() {
            let ra = line.cur[x - 1];
            line.cur[x..x + n].fill(ra);
        }
        x += n;
        if n == left {
            continue;
        }
        for c in 0..3 {
            let (ra, rb) = (l[c].cur[x - 1], l[c].prev[x]);
            let e = s.ri_error(r, 0, l[0].run_index)?;
            l[c].cur[x] = p.reconstruct::<NEAR0>(rb, if rb < ra { -e } else { e });
        }
        l[0].run_index = l[0].run_index.saturating_sub(1);
        x += 1;
    }
    Ok(())
}

struct Frame {
    bits: u8,
    width: usize,
    height: usize,
    ids: Vec<u8>,
}

pub(crate) fn decode(g: &Geometry, data: &[u8]) -> Result<RawFrame, CodecError> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(corrupt("JPEG-LS frame does not start with SOI"));
    }
    let mut frame: Option<Frame> = None;
    let mut preset = [0i32; 5];
    // Interleaved samples, written by the scans in place.
    let mut out: Vec<u16> = Vec::new();
    let mut at = 2;
    loop {
        while data.get(at) == Some(&0xFF) && data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let marker = match (data.get(at), data.get(at + 1)) {
            (Some(0xFF), Some(&m)) => m,
            _ if frame.is_some() => break,
            _ => return Err(corrupt(format!("JPEG-LS: expected a marker at byte {at}"))),
        };
        if marker == 0xD9 {
            break;
        }
        let body = segment_body(data, at, marker, "JPEG-LS")?;
        at += 4 + body.len();
        match marker {
            0xF7 => {
                let f = read_sof(body, g)?;
                out = vec![0; f.width * f.height * f.ids.len()];
                frame = Some(f);
            }
            0xF8 => read_lse(body, &mut preset)?,
            0xDA => {
                let f = frame
                    .as_ref()
                    .ok_or_else(|| corrupt("JPEG-LS: scan before SOF55"))?;
                at = decode_scan(f, body, preset, data, at, &mut out)?;
            }
            0xC0..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                return Err(corrupt("JPEG-LS: a JPEG frame header in JPEG-LS data"));
            }
            _ => {}
        }
    }
    if frame.is_none() {
        return Err(corrupt("JPEG-LS: no frame header (SOF55)"));
    }
    let buf = match g.bits_allocated {
        8 => SampleBuf::U8(out.into_iter().map(|v| v as u8).collect()),
        16 => SampleBuf::U16(out),
        b => {
            return Err(CodecError::Unsupported(format!(
                "JPEG-LS with Bits Allocated {b}"
            )));
        }
    };
    Ok(RawFrame {
        buf,
        photometric: g.photometric.clone(),
    })
}

fn read_sof(b: &[u8], g: &Geometry) -> Result<Frame, CodecError> {
    let h = b.get(..6).ok_or_else(|| corrupt("JPEG-LS: short SOF55"))?;
    let n = usize::from(h[5]);
    let comps = b
        .get(6..6 + 3 * n)
        .ok_or_else(|| corrupt("JPEG-LS: short SOF55"))?;
    let f = Frame {
        bits: h[0],
        height: usize::from(u16::from_be_bytes([h[1], h[2]])),
        width: usize::from(u16::from_be_bytes([h[3], h[4]])),
        ids: comps.chunks_exact(3).map(|c| c[0]).collect(),
    };
    if (f.height, f.width, n) != (g.rows, g.cols, g.spp) {
        return Err(corrupt(format!(
            "JPEG-LS frame is {}x{} with {n} components, the DICOM header says {}x{} with {}",
            f.height, f.width, g.rows, g.cols, g.spp
        )));
    }
    if !(2..=16).contains(&f.bits) || u16::from(f.bits) > g.bits_allocated {
        return Err(corrupt(format!(
            "JPEG-LS precision {} with Bits Allocated {}",
            f.bits, g.bits_allocated
        )));
    }
    if comps.chunks_exact(3).any(|c| c[1] != 0x11) {
        return Err(CodecError::Unsupported(
            "subsampled JPEG-LS components".into(),
        ));
    }
    Ok(f)
}

fn read_lse(b: &[u8], preset: &mut [i32; 5]) -> Result<(), CodecError> {
    match b.first() {
        Some(1) => {
            let v = b.get(1..11).ok_or_else(|| corrupt("JPEG-LS: short LSE"))?;
            for (i, p) in preset.iter_mut().enumerate() {
                *p = i32::from(u16::from_be_bytes([v[2 * i], v[2 * i + 1]]));
            }
            Ok(())
        }
        Some(id) => Err(CodecError::Unsupported(format!(
            "JPEG-LS preset parameters of type {id} (mapping tables or oversize images)"
        ))),
        None => Err(corrupt("JPEG-LS: empty LSE")),
    }
}

fn decode_scan(
    f: &Frame,
    hdr: &[u8],
    preset: [i32; 5],
    data: &[u8],
    start: usize,
    out: &mut [u16],
) -> Result<usize, CodecError> {
    let ns = usize::from(*hdr.first().ok_or_else(|| corrupt("JPEG-LS: short SOS"))?);
    let spec = hdr
        .get(1..1 + 2 * ns)
        .ok_or_else(|| corrupt("JPEG-LS: short SOS"))?;
    let tail = hdr
        .get(1 + 2 * ns..4 + 2 * ns)
        .ok_or_else(|| corrupt("JPEG-LS: short SOS"))?;
    let (near, ilv, pt) = (i32::from(tail[0]), tail[1], tail[2]);
    if pt != 0 {
        return Err(CodecError::Unsupported(
            "JPEG-LS with a point transform".into(),
        ));
    }
    if spec.chunks_exact(2).any(|c| c[1] != 0) {
        return Err(CodecError::Unsupported("JPEG-LS mapping tables".into()));
    }
    let comps: Vec<usize> =
        spec.chunks_exact(2)
            .map(|c| {
                f.ids.iter().position(|&id| id == c[0]).ok_or_else(|| {
                    corrupt(format!("JPEG-LS: scan names unknown component {}", c[0]))
                })
            })
            .collect::<Result<_, _>>()?;
    let p = Params::new(f.bits, preset, near);
    if near > p.maxval / 2 || p.t1 > p.t2 || p.t2 > p.t3 {
        return Err(corrupt("JPEG-LS: bad NEAR or thresholds"));
    }
    if !matches!((ilv, comps.len()), (2, 3) | (0, 1) | (1, _)) {
        return Err(CodecError::Unsupported(format!(
            "JPEG-LS interleave mode {ilv} with {} components in a scan",
            comps.len()
        )));
    }
    let mut r = Bits::new(data, start);
    let scan = Scan {
        width: f.width,
        height: f.height,
        ncomp: f.ids.len(),
        comps: &comps,
        triplets: ilv == 2,
    };
    let res = if near == 0 {
        scan.decode::<true>(State::new(p), &mut r, out)
    } else {
        scan.decode::<false>(State::new(p), &mut r, out)
    };
    res.map_err(|e| corrupt(format!("JPEG-LS: {e}")))?;
    Ok(r.end())
}

/// The layout of one scan: which components it carries and where they go in the output.
struct Scan<'a> {
    width: usize,
    height: usize,
    /// Components in the frame (the output's interleave).
    ncomp: usize,
    /// The frame component of each of the scan's components.
    comps: &'a [usize],
    /// Interleave mode 2 (three components sample by sample).
    triplets: bool,
}

impl Scan<'_> {
    /// Decodes every line, writing each one into `out` at its component's place.
    fn decode<const NEAR0: bool>(
        &self,
        mut s: State,
        r: &mut Bits<'_>,
        out: &mut [u16],
    ) -> Res<()> {
        let (w, nc) = (self.width, self.ncomp);
        if w * nc == 0 {
            return Ok(());
        }
        let mut lines: Vec<Lines> = self.comps.iter().map(|_| Lines::new(w)).collect();
        for row in out.chunks_exact_mut(w * nc).take(self.height) {
            if self.triplets {
                lines.iter_mut().for_each(|l| l.start(w));
                decode_triplets::<NEAR0>(&mut s, r, &mut lines, w)?;
            } else {
                for l in lines.iter_mut() {
                    l.start(w);
                    decode_line::<NEAR0>(&mut s, r, l, w)?;
                }
            }
            for (l, &c) in lines.iter().zip(self.comps) {
                let src = &l.cur[1..=w];
                if nc == 1 {
                    for (o, &v) in row.iter_mut().zip(src) {
                        *o = v as u16;
                    }
                } else {
                    for (o, &v) in row[c..].iter_mut().step_by(nc).zip(src) {
                        *o = v as u16;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::Photometric;
    use proptest::prelude::*;

    fn grey8(n: usize) -> Geometry {
        Geometry {
            rows: n,
            cols: n,
            spp: 1,
            bits_allocated: 8,
            bits_stored: 8,
            signed: false,
            planar: false,
            photometric: Photometric::Monochrome2,
            big_endian: false,
        }
    }

    /// A 4x4 black image: all run mode. Runs of 1, 1, 1, 1 samples (J = 0) fill line 1, runs of
    /// 2 (J = 1) lines 2 and 3, one run of 4 (J = 2) line 4: nine '1' bits, the eighth ending a
    /// 0xFF byte, so the ninth comes after a stuffed 0 bit.
    fn black4() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend([0xFF, 0xF7, 0x00, 0x0B, 8, 0, 4, 0, 4, 1, 1, 0x11, 0]);
        v.extend([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0, 0]);
        v.extend([0xFF, 0x40, 0xFF, 0xD9]);
        v
    }

    #[test]
    fn runs_and_bit_stuffing_decode_a_black_image() {
        let f = decode(&grey8(4), &black4()).unwrap();
        assert_eq!(f.buf, SampleBuf::U8(vec![0; 16]));
    }

    #[test]
    fn default_thresholds_follow_t87_for_8_and_16_bits() {
        let p = Params::new(8, [0; 5], 0);
        assert_eq!(
            (p.t1, p.t2, p.t3, p.range, p.qbpp, p.limit),
            (3, 7, 21, 256, 8, 32)
        );
        let p = Params::new(16, [0; 5], 2);
        // FACTOR = (min(65535, 4095) + 128) / 256 = 16.
        assert_eq!((p.t1, p.t2, p.t3), (24, 77, 290));
    }

    #[test]
    fn quantisation_table_matches_q_everywhere() {
        for (bits, near, preset) in [
            (8, 0, [0; 5]),
            (12, 3, [0; 5]),
            (16, 2, [0; 5]),
            (8, 0, [0, 2, 3, 300, 0]),
        ] {
            let p = Params::new(bits, preset, near);
            let lut = quant_table(&p);
            assert_eq!(lut.len(), 2 * p.maxval as usize + 1);
            for d in -p.maxval..=p.maxval {
                assert_eq!(lut[(d + p.maxval) as usize], p.quantize(d), "d = {d}");
            }
        }
    }

    proptest! {
        #[test]
        fn truncated_or_damaged_jpeg_ls_never_panics(cut in 0usize..40, at in 0usize..40, byte: u8) {
            let mut data = black4();
            let at = at % data.len();
            data[at] = byte;
            let _ = decode(&grey8(4), &data[..cut.min(data.len())]);
        }

        #[test]
        fn random_scan_data_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut data = black4();
            data.truncate(data.len() - 4);
            data.extend(tail);
            let _ = decode(&grey8(4), &data);
        }
    }
}
