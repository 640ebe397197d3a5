//! The parts of a JPEG header (ISO 10918-1 B.2) that decide how a DICOM frame is decoded: the
//! coding process, precision, components and the colour markers.

use crate::codec::CodecError;

/// What the frame header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// SOFn marker number: 0 baseline, 1 extended, 2 progressive, 3 lossless...
    pub process: u8,
    /// Sample precision in bits.
    pub precision: u8,
    pub rows: u16,
    pub cols: u16,
    /// Component identifiers, in frame order.
    pub component_ids: Vec<u8>,
    /// Sampling factors (horizontal, vertical) of each component.
    pub sampling: Vec<(u8, u8)>,
}

/// Reads markers up to and including the first SOFn.
pub(crate) fn read(data: &[u8]) -> Result<Header, CodecError> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(CodecError::corrupt("JPEG frame does not start with SOI"));
    }
    let mut at = 2;
    loop {
        // Fill bytes (0xFF) may precede any marker (B.1.1.2).
        while data.get(at) == Some(&0xFF) && data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (data.get(at), data.get(at + 1)) else {
            return Err(CodecError::corrupt(format!(
                "JPEG header: no marker at byte {at} before the frame header"
            )));
        };
        let len = match data.get(at + 2..at + 4) {
            Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
            None => return Err(CodecError::corrupt("JPEG header is truncated")),
        };
        let body = data
            .get(at + 4..at + 2 + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| {
                CodecError::corrupt(format!(
                    "JPEG marker {marker:#04X} at byte {at} claims {len} bytes past the data"
                ))
            })?;
        if is_sof(marker) {
            return frame_header(marker & 0x0F, body);
        }
        if marker == 0xDA || marker == 0xD9 {
            return Err(CodecError::corrupt("JPEG data has no frame header (SOF)"));
        }
        at += 2 + len;
    }
}

fn is_sof(m: u8) -> bool {
    (0xC0..=0xCF).contains(&m) && !matches!(m, 0xC4 | 0xC8 | 0xCC)
}

fn frame_header(process: u8, b: &[u8]) -> Result<Header, CodecError> {
    let short = || CodecError::corrupt("JPEG frame header is truncated");
    if b.len() < 6 {
        return Err(short());
    }
    let n = usize::from(b[5]);
    let comps = b.get(6..6 + 3 * n).ok_or_else(short)?;
    Ok(Header {
        process,
        precision: b[0],
        rows: u16::from_be_bytes([b[1], b[2]]),
        cols: u16::from_be_bytes([b[3], b[4]]),
        component_ids: comps.chunks_exact(3).map(|c| c[0]).collect(),
        sampling: comps
            .chunks_exact(3)
            .map(|c| (c[1] >> 4, c[1] & 0x0F))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_frame_header_after_app_segments() {
        let data = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 1, 2, 0xFF, 0xFF, 0xC1, 0x00, 0x0B, 12, 0x01, 0x00,
            0x00, 0x80, 1, 7, 0x21, 0,
        ];
        let h = read(&data).unwrap();
        assert_eq!((h.process, h.precision, h.rows, h.cols), (1, 12, 256, 128));
        assert_eq!((h.component_ids, h.sampling), (vec![7], vec![(2, 1)]));
    }

    #[test]
    fn truncated_headers_are_corrupt() {
        for cut in 0..12 {
            let data = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1];
            assert!(read(&data[..cut]).is_err(), "cut {cut}");
        }
    }
}
