//! Huffman tables and the bit reader of JPEG entropy-coded data (ISO 10918-1 annex C, F.2.2),
//! shared by the DCT and the lossless decoders.
//!
//! The reader keeps up to 64 bits left-aligned in a register and refills eight bytes at a time
//! when none of them is 0xFF (byte by byte otherwise, removing the 0xFF00 stuffing and stopping
//! at markers). Past a marker or the end of the data it feeds zero bits, as IJG does, and counts
//! them, so that a truncated scan is detected once, not on every bit.

use crate::codec::CodecError;

/// Bits looked up in one step; longer codes fall back to the canonical walk.
pub(crate) const FAST_BITS: u32 = 11;
/// `Table::full` flag: the entry holds a whole AC coefficient (or DC difference).
pub(crate) const FULL: u32 = 1 << 5;

/// EXTEND (F.2.2.1): `v`, read as `s` extra bits, as a signed value.
#[inline(always)]
pub(crate) fn extend(v: i32, s: u32) -> i32 {
    if v < 1 << (s - 1) {
        v + 1 - (1 << s)
    } else {
        v
    }
}

/// A decoding table built from a DHT segment.
pub(crate) struct Table {
    /// For each FAST_BITS-bit prefix: `length << 8 | value`, 0 when the code is longer.
    fast: Box<[u16; 1 << FAST_BITS]>,
    /// For each FAST_BITS-bit prefix whose code and extra bits fit, with the value read as
    /// run/size (RRRRSSSS, F.1.2.2; a DC category is a run of 0): `FULL | bits taken |
    /// run << 8 | coefficient << 16`. 0 otherwise, and for the size-0 codes (EOB, ZRL).
    pub(crate) full: Box<[u32; 1 << FAST_BITS]>,
    /// The codes longer than FAST_BITS.
    canonical: Canonical,
}

/// The canonical code of a DHT table (C.2): what the bit-by-bit walk (F.2.2.3) needs. Each
/// decoder builds its own lookahead table beside it.
pub(crate) struct Canonical {
    /// Largest code of each length (-1 when none), and where its values start.
    maxcode: [i32; 17],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Canonical {
    /// Builds the code from the code-length counts and the values, calling `each(length, code,
    /// value)` for every code in order. `what` names the decoder in errors.
    pub(crate) fn new(
        counts: &[u8; 16],
        values: &[u8],
        what: &str,
        mut each: impl FnMut(u32, u32, u8),
    ) -> Result<Self, CodecError> {
        let mut t = Canonical {
            maxcode: [-1; 17],
            valptr: [0; 17],
            mincode: [0; 17],
            values: values.to_vec(),
        };
        let (mut code, mut k) = (0u32, 0usize);
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            t.valptr[len as usize] = k as i32;
            t.mincode[len as usize] = code as i32;
            for _ in 0..n {
                if code >= 1 << len {
                    return Err(CodecError::corrupt(format!(
                        "{what}: Huffman table is over-subscribed"
                    )));
                }
                let v = *values.get(k).ok_or_else(|| {
                    CodecError::corrupt(format!("{what}: Huffman table has too few values"))
                })?;
                each(len, code, v);
                code += 1;
                k += 1;
            }
            if n > 0 {
                t.maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        Ok(t)
    }

    /// Reads the next code bit by bit and returns its value; `what` names the decoder in errors.
    #[inline(never)]
    pub(crate) fn walk(&self, r: &mut BitReader<'_>, what: &str) -> Result<u8, CodecError> {
        r.ensure();
        for len in 1..=16u32 {
            let code = r.peek(len) as i32;
            if code <= self.maxcode[len as usize] {
                r.consume(len);
                let i = self.valptr[len as usize] + code - self.mincode[len as usize];
                return self.values.get(i as usize).copied().ok_or_else(|| {
                    CodecError::corrupt(format!("{what}: Huffman code past its table"))
                });
            }
        }
        Err(CodecError::corrupt(format!("{what}: bad Huffman code")))
    }
}

/// Each table of a DHT segment's body (B.2.4.2) as (class, identifier, code-length counts,
/// values); `what` names the decoder in errors.
pub(crate) fn dht_tables(
    mut b: &[u8],
    what: &str,
    mut each: impl FnMut(u8, usize, &[u8; 16], &[u8]) -> Result<(), CodecError>,
) -> Result<(), CodecError> {
    let short = || CodecError::corrupt(format!("{what}: short DHT segment"));
    while let Some(&tc_th) = b.first() {
        let (tc, th) = (tc_th >> 4, usize::from(tc_th & 0x0F));
        let counts: [u8; 16] = b
            .get(1..17)
            .and_then(|c| c.try_into().ok())
            .ok_or_else(short)?;
        let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = b.get(17..17 + n).ok_or_else(short)?;
        if th > 3 || tc > 1 {
            return Err(CodecError::corrupt(format!(
                "{what}: bad DHT class {tc}, table {th}"
            )));
        }
        each(tc, th, &counts, values)?;
        b = &b[17 + n..];
    }
    Ok(())
}

impl Table {
    /// Builds the table from the code-length counts and the values (C.2, F.2.2.3).
    pub(crate) fn new(counts: &[u8; 16], values: &[u8]) -> Result<Self, CodecError> {
        let mut fast = Box::new([0u16; 1 << FAST_BITS]);
        let mut full = Box::new([0u32; 1 << FAST_BITS]);
        let canonical = Canonical::new(counts, values, "JPEG", |len, code, v| {
            if len > FAST_BITS {
                return;
            }
            let (run, size) = (u32::from(v >> 4), u32::from(v & 0x0F));
            let pad = FAST_BITS - len;
            let first = (code << pad) as usize;
            let span = first..first + (1 << pad);
            for (i, (f, e)) in fast[span.clone()]
                .iter_mut()
                .zip(&mut full[span])
                .enumerate()
            {
                *f = (len as u16) << 8 | u16::from(v);
                if size > 0 && len + size <= FAST_BITS {
                    let bits = (i >> (pad - size)) as i32 & ((1 << size) - 1);
                    let c = extend(bits, size);
                    *e = FULL | (len + size) | run << 8 | u32::from(c as i16 as u16) << 16;
                }
            }
        })?;
        Ok(Table {
            fast,
            full,
            canonical,
        })
    }

    /// Decodes one value.
    #[inline(always)]
    pub(crate) fn decode(&self, r: &mut BitReader<'_>) -> Result<u8, CodecError> {
        r.ensure();
        let e = self.fast[r.peek(FAST_BITS) as usize];
        if e != 0 {
            r.consume(u32::from(e >> 8));
            return Ok(e as u8);
        }
        self.decode_long(r)
    }

    /// The canonical walk (F.2.2.3) for codes longer than FAST_BITS.
    #[inline(never)]
    pub(crate) fn decode_long(&self, r: &mut BitReader<'_>) -> Result<u8, CodecError> {
        self.canonical.walk(r, "JPEG")
    }
}

/// Reads entropy-coded data: removes stuffed zero bytes after 0xFF and, like IJG, feeds zero
/// bits once a marker (or the end of the data) is reached.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits not yet consumed, left-aligned; the bits below `nbits` are zero.
    buf: u64,
    nbits: u32,
    /// A marker (or the end of the data) was reached; only zero bits are added from then on.
    stopped: bool,
    /// Zero bits added past the real data, all at the low end of `buf`.
    fake: u32,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            buf: 0,
            nbits: 0,
            stopped: false,
            fake: 0,
        }
    }

    /// Makes at least 32 bits available: one Huffman code and its extra bits.
    #[inline(always)]
    pub(crate) fn ensure(&mut self) {
        if self.nbits < 32 {
            self.refill();
        }
    }

    /// Fills the buffer to at least 57 bits (zeros past a marker or the end).
    #[inline(always)]
    fn refill(&mut self) {
        if !self.stopped
            && let Some(chunk) = self.data.get(self.pos..self.pos + 8)
        {
            let w = u64::from_be_bytes(chunk.try_into().unwrap_or([0; 8]));
            // A byte of w is 0xFF when the same byte of !w is zero.
            let x = !w;
            if (x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080) == 0 {
                let take = (64 - self.nbits) / 8;
                let w = w & (u64::MAX << (64 - 8 * take));
                self.buf |= w >> self.nbits;
                self.nbits += 8 * take;
                self.pos += take as usize;
                return;
            }
        }
        self.refill_bytes();
    }

    /// Byte by byte: near 0xFF bytes, markers and the end of the data.
    #[inline(never)]
    fn refill_bytes(&mut self) {
        while self.nbits <= 56 {
            if self.stopped {
                let add = (64 - self.nbits) & !7;
                self.fake += add;
                self.nbits += add;
                return;
            }
            let byte = match self.data.get(self.pos) {
                Some(0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                    self.pos += 2;
                    0xFF
                }
                Some(0xFF) | None => {
                    self.stopped = true;
                    continue;
                }
                Some(&b) => {
                    self.pos += 1;
                    b
                }
            };
            self.buf |= u64::from(byte) << (56 - self.nbits);
            self.nbits += 8;
        }
    }

    /// The next `n` bits (1 to 32; `ensure` first).
    #[inline(always)]
    pub(crate) fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    #[inline(always)]
    pub(crate) fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.nbits -= n;
    }

    /// RECEIVE then EXTEND (F.2.2.1): `s` bits as a signed magnitude.
    #[inline(always)]
    pub(crate) fn receive_extend(&mut self, s: u8) -> i32 {
        if s == 0 {
            return 0;
        }
        let s = u32::from(s.min(16));
        self.ensure();
        let v = self.peek(s) as i32;
        self.consume(s);
        extend(v, s)
    }

    /// At a restart interval: drops the padding bits and steps over RSTn.
    pub(crate) fn restart(&mut self) -> Result<(), CodecError> {
        if self.overran() {
            return Err(CodecError::corrupt(
                "JPEG: entropy-coded data ends before its restart marker",
            ));
        }
        match self.marker_after() {
            Some(p) if matches!(self.data[p + 1], 0xD0..=0xD7) => {
                self.pos = p + 2;
                (self.buf, self.nbits, self.fake, self.stopped) = (0, 0, 0, false);
                Ok(())
            }
            _ => Err(CodecError::corrupt(format!(
                "JPEG: restart marker missing after byte {}",
                self.pos
            ))),
        }
    }

    /// True when decoding consumed bits past the end of the data or into a marker.
    pub(crate) fn overran(&self) -> bool {
        self.fake > self.nbits
    }

    /// Byte position of the next marker from where the reader stands.
    fn marker_after(&self) -> Option<usize> {
        let mut p = self.pos;
        while p + 1 < self.data.len() {
            if self.data[p] == 0xFF && !matches!(self.data[p + 1], 0x00 | 0xFF) {
                return Some(p);
            }
            p += 1;
        }
        None
    }

    /// Where the next marker starts, once the scan is done.
    pub(crate) fn next_marker(&self) -> usize {
        self.marker_after().unwrap_or(self.data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_canonical_codes_and_unstuffs_ff00() {
        // Two codes of length 1 would over-subscribe nothing: '0' -> 5, '10' -> 7, '11' -> 9.
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 2;
        let t = Table::new(&counts, &[5, 7, 9]).unwrap();
        // bits: 0 10 11 11 1111 1111 -> 0xBF 0xFF (stuffed as FF 00)
        let data = [0b0101_1111, 0xFF, 0x00];
        let mut r = BitReader::new(&data, 0);
        let got: Vec<u8> = (0..4).map(|_| t.decode(&mut r).unwrap()).collect();
        assert_eq!(got, vec![5, 7, 9, 9]);
        assert!(!r.overran());
    }

    #[test]
    fn over_subscribed_table_is_corrupt() {
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(Table::new(&counts, &[1, 2, 3]).is_err());
    }
}
