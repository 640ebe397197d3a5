//! YCbCr to RGB in fixed point with the JFIF coefficients (ITU-R BT.601, full range), rounded
//! the way the IJG decoder (used by DCMTK and GDCM) rounds, so that our JPEG output matches
//! theirs sample for sample. Shared by the JPEG decoder and by rendering of native YBR_FULL.

const SCALE: i32 = 16;
const HALF: i32 = 1 << (SCALE - 1);

const fn fix(x: f64) -> i32 {
    (x * (1 << SCALE) as f64 + 0.5) as i32
}

const CR_R: i32 = fix(1.40200);
const CB_B: i32 = fix(1.77200);
const CR_G: i32 = fix(0.71414);
const CB_G: i32 = fix(0.34414);

/// Converts one YCbCr sample triple with `max` the largest sample value (255 or 4095).
#[inline(always)]
pub(crate) fn ycc_to_rgb(y: i32, cb: i32, cr: i32, max: i32) -> [i32; 3] {
    let centre = (max + 1) / 2;
    let (cb, cr) = (cb - centre, cr - centre);
    let r = y + ((CR_R * cr + HALF) >> SCALE);
    let g = y + ((-CB_G * cb - CR_G * cr + HALF) >> SCALE);
    let b = y + ((CB_B * cb + HALF) >> SCALE);
    [r.clamp(0, max), g.clamp(0, max), b.clamp(0, max)]
}

/// Converts an interleaved 8-bit YCbCr buffer to RGB in place.
pub(crate) fn ycc_to_rgb_u8(buf: &mut [u8]) {
    for px in buf.chunks_exact_mut(3) {
        let [r, g, b] = ycc_to_rgb(i32::from(px[0]), i32::from(px[1]), i32::from(px[2]), 255);
        px.copy_from_slice(&[r as u8, g as u8, b as u8]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_stays_grey_and_primaries_come_back() {
        assert_eq!(ycc_to_rgb(100, 128, 128, 255), [100, 100, 100]);
        // pure red in JFIF YCbCr is about (76, 85, 255)
        let [r, g, b] = ycc_to_rgb(76, 85, 255, 255);
        assert!(r >= 253 && g <= 2 && b <= 2, "{r} {g} {b}");
        assert_eq!(ycc_to_rgb(2048, 2048, 2048, 4095), [2048, 2048, 2048]);
    }
}
