//! Signal conditioning: second-order IIR sections (RBJ "Audio EQ Cookbook" biquads) run
//! forward and backward so that the result has zero phase and no delay, which keeps QRS
//! onset/offset, the ST level and the detector's fiducials where they are.
//!
//! Designs (all at the record's own sampling rate):
//! - **Baseline-wander removal**: 2nd-order Butterworth high-pass at 0.5 Hz, run forward and
//!   backward (4th-order magnitude, −6 dB at 0.5 Hz, zero phase). Zero phase is what lets a
//!   cut-off above the 0.05 Hz of the AHA recommendation leave the ST segment undistorted
//!   (IEC 60601-2-25 accepts 0.67 Hz for linear/zero-phase filters).
//! - **Power-line rejection**: notch (Q = 30, i.e. ≈1.7 Hz wide at 50 Hz) at 50 Hz (China) or
//!   60 Hz, chosen by whichever carries more power (Goertzel over the whole lead), forward and
//!   backward; skipped when the mains frequency is above 0.45 × fs.
//! - **Band limiting**: 2nd-order Butterworth low-pass at min(100 Hz, 0.4 × fs), forward and
//!   backward (the 150 Hz diagnostic bandwidth is not needed for the interval measurements and
//!   100 Hz keeps QRS onsets sharp while removing EMG).
//! - **Detector band-pass** ([`qrs_band`]): one band-pass section centred at 10 Hz with
//!   Q = 1 (−3 dB at about 6 and 16 Hz; Pan & Tompkins' band where QRS energy dominates P/T
//!   waves and baseline), forward and backward.
//!
//! Each pass starts from the filter's steady state for the first sample, so a DC offset does
//! not ring at the edges.

/// A second-order section in transposed direct form II, coefficients normalised by a0.
#[derive(Debug, Clone, Copy)]
pub struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    fn new(b: [f64; 3], a0: f64, a1: f64, a2: f64) -> Self {
        Biquad {
            b: [b[0] / a0, b[1] / a0, b[2] / a0],
            a: [a1 / a0, a2 / a0],
        }
    }

    fn w0(f: f64, fs: f64, q: f64) -> (f64, f64) {
        let w = 2.0 * std::f64::consts::PI * f / fs;
        (w.cos(), w.sin() / (2.0 * q))
    }

    /// Low-pass at `f` Hz with quality factor `q` (1/√2 = Butterworth).
    pub fn lowpass(f: f64, fs: f64, q: f64) -> Self {
        let (c, al) = Self::w0(f, fs, q);
        Self::new(
            [(1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0],
            1.0 + al,
            -2.0 * c,
            1.0 - al,
        )
    }

    /// High-pass at `f` Hz with quality factor `q`.
    pub fn highpass(f: f64, fs: f64, q: f64) -> Self {
        let (c, al) = Self::w0(f, fs, q);
        Self::new(
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0],
            1.0 + al,
            -2.0 * c,
            1.0 - al,
        )
    }

    /// Band-pass centred at `f` Hz (0 dB peak) with quality factor `q` (centre / bandwidth).
    pub fn bandpass(f: f64, fs: f64, q: f64) -> Self {
        let (c, al) = Self::w0(f, fs, q);
        Self::new([al, 0.0, -al], 1.0 + al, -2.0 * c, 1.0 - al)
    }

    /// Notch at `f` Hz with quality factor `q`.
    pub fn notch(f: f64, fs: f64, q: f64) -> Self {
        let (c, al) = Self::w0(f, fs, q);
        Self::new([1.0, -2.0 * c, 1.0], 1.0 + al, -2.0 * c, 1.0 - al)
    }

    fn dc_gain(&self) -> f64 {
        (self.b[0] + self.b[1] + self.b[2]) / (1.0 + self.a[0] + self.a[1])
    }

    /// Runs the section over `x` in place, forward (`rev` false) or backward, starting from
    /// the steady state for the first sample visited.
    pub fn run(&self, x: &mut [f32], rev: bool) {
        let Some(&x0) = (if rev { x.last() } else { x.first() }) else {
            return;
        };
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        let (x0, y0) = (x0 as f64, x0 as f64 * self.dc_gain());
        let mut z2 = b2 * x0 - a2 * y0;
        let mut z1 = b1 * x0 - a1 * y0 + z2;
        let mut step = |v: &mut f32| {
            let xi = *v as f64;
            let y = b0 * xi + z1;
            z1 = b1 * xi - a1 * y + z2;
            z2 = b2 * xi - a2 * y;
            *v = y as f32;
        };
        if rev {
            x.iter_mut().rev().for_each(&mut step);
        } else {
            x.iter_mut().for_each(&mut step);
        }
    }

    /// Forward then backward: zero phase, squared magnitude response.
    pub fn filtfilt(&self, x: &mut [f32]) {
        self.run(x, false);
        self.run(x, true);
    }
}

const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Power of `x` at `f` Hz (Goertzel), normalised by length.
pub fn goertzel_power(x: &[f32], f: f64, fs: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * f / fs).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s = v as f64 + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.len().max(1) as f64).powi(2)
}

/// Which mains frequency (50 or 60 Hz) dominates `x`, if either is below 0.45 × fs.
pub fn mains_frequency(x: &[f32], fs: f64) -> Option<f64> {
    [50.0, 60.0]
        .into_iter()
        .filter(|&f| f < 0.45 * fs)
        .map(|f| (f, goertzel_power(x, f, fs)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(f, _)| f)
}

/// Runs a cascade of sections over `x` in one sweep (forward or backward). The sections'
/// recurrences are independent per sample, so the CPU overlaps them; each starts from its
/// steady state for the first sample visited.
pub fn cascade(sections: &[Biquad], x: &mut [f32], rev: bool) {
    let Some(&first) = (if rev { x.last() } else { x.first() }) else {
        return;
    };
    // (b0, b1, b2, a1, a2, z1, z2) per section.
    let mut st: Vec<[f64; 7]> = Vec::with_capacity(sections.len());
    let mut level = first as f64;
    for s in sections {
        let y0 = level * s.dc_gain();
        let z2 = s.b[2] * level - s.a[1] * y0;
        let z1 = s.b[1] * level - s.a[0] * y0 + z2;
        st.push([s.b[0], s.b[1], s.b[2], s.a[0], s.a[1], z1, z2]);
        level = y0;
    }
    let mut step = |v: &mut f32| {
        let mut u = *v as f64;
        for c in st.iter_mut() {
            let y = c[0] * u + c[5];
            c[5] = c[1] * u - c[3] * y + c[6];
            c[6] = c[2] * u - c[4] * y;
            u = y;
        }
        *v = u as f32;
    };
    if rev {
        x.iter_mut().rev().for_each(&mut step);
    } else {
        x.iter_mut().for_each(&mut step);
    }
}

/// Diagnostic conditioning of one lead in place: baseline removal, mains notch, low-pass.
/// `mains` is the notch frequency (see [`mains_frequency`]), `None` for no notch.
pub fn condition(x: &mut [f32], fs: f64, mains: Option<f64>) {
    let mut s = vec![Biquad::highpass(0.5, fs, BUTTERWORTH_Q)];
    if let Some(f) = mains.filter(|&f| f < 0.45 * fs) {
        s.push(Biquad::notch(f, fs, 30.0));
    }
    s.push(Biquad::lowpass((0.4 * fs).min(100.0), fs, BUTTERWORTH_Q));
    cascade(&s, x, false);
    cascade(&s, x, true);
}

/// The QRS detector's 5–15 Hz zero-phase band-pass, returned as a new buffer.
pub fn qrs_band(x: &[f32], fs: f64) -> Vec<f32> {
    let mut y = x.to_vec();
    Biquad::bandpass(10.0_f64.min(0.3 * fs), fs, 1.0).filtfilt(&mut y);
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(f: f64, fs: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin() as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn notch_removes_mains_and_keeps_10hz() {
        let fs = 500.0;
        let mut hum = sine(50.0, fs, 5000);
        Biquad::notch(50.0, fs, 30.0).filtfilt(&mut hum);
        assert!(rms(&hum[1000..4000]) < 0.01, "{}", rms(&hum[1000..4000]));
        let mut ten = sine(10.0, fs, 5000);
        Biquad::notch(50.0, fs, 30.0).filtfilt(&mut ten);
        assert!((rms(&ten[1000..4000]) - std::f64::consts::FRAC_1_SQRT_2).abs() < 0.01);
    }

    #[test]
    fn highpass_removes_offset_and_drift_without_edge_ringing() {
        let fs = 500.0;
        let mut x: Vec<f32> = (0..5000)
            .map(|i| {
                3000.0 + 500.0 * (2.0 * std::f64::consts::PI * 0.1 * i as f64 / fs).sin() as f32
            })
            .collect();
        Biquad::highpass(0.5, fs, BUTTERWORTH_Q).filtfilt(&mut x);
        assert!(
            x.iter().all(|v| v.abs() < 60.0),
            "{:?}",
            x.iter().fold(0f32, |a, v| a.max(v.abs()))
        );
    }

    #[test]
    fn qrs_band_passes_10hz_and_stops_1hz_and_50hz() {
        let fs = 500.0;
        let gain = |f: f64| {
            rms(&qrs_band(&sine(f, fs, 5000), fs)[1000..4000]) / std::f64::consts::FRAC_1_SQRT_2
        };
        assert!(gain(10.0) > 0.95, "{}", gain(10.0));
        assert!(
            gain(1.0) < 0.05 && gain(50.0) < 0.1,
            "{} {}",
            gain(1.0),
            gain(50.0)
        );
    }

    #[test]
    fn cascade_equals_sections_in_turn() {
        let fs = 360.0;
        let x: Vec<f32> = (0..3000).map(|i| 500.0 + ((i * 37) % 101) as f32).collect();
        let s = [
            Biquad::highpass(0.5, fs, BUTTERWORTH_Q),
            Biquad::notch(60.0, fs, 30.0),
        ];
        let mut a = x.clone();
        cascade(&s, &mut a, false);
        let mut b = x.clone();
        s.iter().for_each(|q| q.run(&mut b, false));
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-2));
    }

    #[test]
    fn mains_detection() {
        let fs = 500.0;
        let x: Vec<f32> = sine(60.0, fs, 5000)
            .iter()
            .zip(sine(7.0, fs, 5000))
            .map(|(a, b)| 0.1 * a + b)
            .collect();
        assert_eq!(mains_frequency(&x, fs), Some(60.0));
        assert_eq!(mains_frequency(&x, 100.0), None);
    }
}
