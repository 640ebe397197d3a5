//! Huffman tables and the bit reader of JPEG entropy-coded data (ISO 10918-1 annex C, F.2.2).

use crate::codec::CodecError;

/// Bits looked up in one step; longer codes fall back to the canonical walk.
const FAST_BITS: u32 = 9;

/// A decoding table built from a DHT segment.
pub(crate) struct Table {
    /// For each FAST_BITS-bit prefix: (code length, value), length 0 when the code is longer.
    fast: Vec<(u8, u8)>,
    /// Largest code of each length (-1 when none), and where its values start.
    maxcode: [i32; 18],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Table {
    /// Builds the table from the code-length counts and the values (C.2, F.2.2.3).
    pub(crate) fn new(counts: &[u8; 16], values: &[u8]) -> Result<Self, CodecError> {
        let mut t = Self {
            fast: vec![(0, 0); 1 << FAST_BITS],
            maxcode: [-1; 18],
            valptr: [0; 17],
            mincode: [0; 17],
            values: values.to_vec(),
        };
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16usize {
            let n = usize::from(counts[len - 1]);
            t.valptr[len] = k as i32;
            t.mincode[len] = code;
            for _ in 0..n {
                if code >= 1 << len {
                    return Err(CodecError::corrupt(
                        "JPEG: Huffman table is over-subscribed",
                    ));
                }
                if len as u32 <= FAST_BITS {
                    let pad = FAST_BITS - len as u32;
                    let first = (code as usize) << pad;
                    for e in &mut t.fast[first..first + (1 << pad)] {
                        *e = (len as u8, values[k]);
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                t.maxcode[len] = code - 1;
            }
            code <<= 1;
        }
        t.maxcode[17] = i32::MAX; // sentinel: stop the walk
        Ok(t)
    }

    /// Decodes one value.
    pub(crate) fn decode(&self, r: &mut BitReader<'_>) -> Result<u8, CodecError> {
        r.fill();
        let peek = r.peek(FAST_BITS) as usize;
        let (len, v) = self.fast[peek];
        if len > 0 {
            r.consume(u32::from(len));
            return Ok(v);
        }
        let mut code = 0i32;
        for len in 1..=16 {
            code = (code << 1) | r.bit();
            if code <= self.maxcode[len] {
                let i = self.valptr[len] + code - self.mincode[len];
                return self
                    .values
                    .get(i as usize)
                    .copied()
                    .ok_or_else(|| CodecError::corrupt("JPEG: Huffman code past its table"));
            }
        }
        Err(CodecError::corrupt("JPEG: bad Huffman code"))
    }
}

/// Reads entropy-coded data: removes stuffed zero bytes after 0xFF and, like IJG, feeds zero
/// bits once a marker (or the end of the data) is reached.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    nbits: u32,
    /// Bits handed out beyond the real data (a truncated or corrupt scan).
    real_left: u64,
    overran: bool,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            buf: 0,
            nbits: 0,
            real_left: 0,
            overran: false,
        }
    }

    pub(crate) fn fill(&mut self) {
        while self.nbits <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(0xFF) => match self.data.get(self.pos + 1) {
                    Some(0x00) => {
                        self.pos += 2;
                        self.real_left += 8;
                        0xFF
                    }
                    _ => 0, // a marker: stay on it
                },
                Some(&b) => {
                    self.pos += 1;
                    self.real_left += 8;
                    b
                }
                None => 0,
            };
            self.buf |= u64::from(byte) << (56 - self.nbits);
            self.nbits += 8;
        }
    }

    fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.nbits -= n;
        if self.real_left < u64::from(n) {
            self.overran = true;
        }
        self.real_left = self.real_left.saturating_sub(u64::from(n));
    }

    fn bit(&mut self) -> i32 {
        self.fill();
        let b = self.peek(1) as i32;
        self.consume(1);
        b
    }

    /// RECEIVE then EXTEND (F.2.2.1): `s` bits as a signed magnitude.
    pub(crate) fn receive_extend(&mut self, s: u8) -> i32 {
        if s == 0 {
            return 0;
        }
        let s = u32::from(s.min(16));
        self.fill();
        let v = self.peek(s) as i32;
        self.consume(s);
        if v < 1 << (s - 1) {
            v - (1 << s) + 1
        } else {
            v
        }
    }

    /// At a restart interval: drop the bits left in the current byte and step over RSTn.
    pub(crate) fn restart(&mut self) -> Result<(), CodecError> {
        // Unread whole bytes still in the buffer go back to the data.
        let whole = u64::from(self.nbits / 8).min(self.real_left / 8);
        self.rewind(whole as usize);
        (self.buf, self.nbits, self.real_left) = (0, 0, 0);
        match (self.data.get(self.pos), self.data.get(self.pos + 1)) {
            (Some(0xFF), Some(0xD0..=0xD7)) => {
                self.pos += 2;
                Ok(())
            }
            _ => Err(CodecError::corrupt(format!(
                "JPEG: restart marker missing at byte {}",
                self.pos
            ))),
        }
    }

    /// Steps back `n` data bytes, counting a stuffed 0xFF 0x00 pair as one.
    fn rewind(&mut self, n: usize) {
        for _ in 0..n {
            if self.pos >= 2 && self.data[self.pos - 1] == 0 && self.data[self.pos - 2] == 0xFF {
                self.pos -= 2;
            } else {
                self.pos -= 1;
            }
        }
    }

    /// True when decoding consumed bits past the end of the data or into a marker.
    pub(crate) fn overran(&self) -> bool {
        self.overran
    }

    /// Where the next marker starts, once the scan is done.
    pub(crate) fn next_marker(&self) -> usize {
        let mut p = self.pos;
        while p + 1 < self.data.len() {
            if self.data[p] == 0xFF && self.data[p + 1] != 0 {
                return p;
            }
            p += 1;
        }
        self.data.len()
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
