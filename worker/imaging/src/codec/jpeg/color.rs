//! IJG's YCbCr to RGB conversion (`jdcolor.c`): 16-bit fixed point, with IJG's rounding.

const SCALEBITS: u32 = 16;
const ONE_HALF: i64 = 1 << (SCALEBITS - 1);

const fn fix(x: f64) -> i64 {
    (x * (1i64 << SCALEBITS) as f64 + 0.5) as i64
}

/// Per-precision lookup tables, as IJG builds them.
pub(crate) struct YccTables {
    cr_r: Vec<i32>,
    cb_b: Vec<i32>,
    cr_g: Vec<i64>,
    cb_g: Vec<i64>,
}

impl YccTables {
    pub(crate) fn new(precision: u8) -> Self {
        let size = 1i64 << precision;
        let center = size / 2;
        let xs = (0..size).map(|i| i - center);
        Self {
            cr_r: xs
                .clone()
                .map(|x| ((fix(1.40200) * x + ONE_HALF) >> SCALEBITS) as i32)
                .collect(),
            cb_b: xs
                .clone()
                .map(|x| ((fix(1.77200) * x + ONE_HALF) >> SCALEBITS) as i32)
                .collect(),
            cr_g: xs.clone().map(|x| -fix(0.71414) * x).collect(),
            cb_g: xs.map(|x| -fix(0.34414) * x + ONE_HALF).collect(),
        }
    }

    /// One pixel; the caller clamps to the sample range.
    pub(crate) fn to_rgb(&self, y: i32, cb: i32, cr: i32) -> [i32; 3] {
        let (cb, cr) = (cb as usize, cr as usize);
        let g = ((self.cb_g[cb] + self.cr_g[cr]) >> SCALEBITS) as i32;
        [y + self.cr_r[cr], y + g, y + self.cb_b[cb]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_stays_grey_and_pure_red_round_trips() {
        let t = YccTables::new(8);
        assert_eq!(t.to_rgb(100, 128, 128), [100, 100, 100]);
        // JFIF forward transform of (255, 0, 0): Y 76.245, Cb 84.97, Cr 255.5.
        let [r, g, b] = t.to_rgb(76, 85, 255);
        assert!(
            (r - 254).abs() <= 1 && g.abs() <= 1 && b.abs() <= 1,
            "{r} {g} {b}"
        );
    }
}
