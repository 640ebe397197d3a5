//! A tiny deterministic random number generator for image noise.
//!
//! Our own SplitMix64 rather than the `rand` crate: `rand` does not promise the same stream across
//! versions, and the committed sample files must stay byte-identical to what the generator makes.

use sha2::{Digest, Sha256};

/// SplitMix64 (Steele, Lea and Flood 2014): fast, statistically fine for noise, fully specified.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the run's seed and a label naming what it is for (e.g. a file), so
    /// each image's noise is independent of the order the images are made in.
    pub fn for_label(seed: u64, label: &str) -> Rng {
        let mut h = Sha256::new();
        h.update(seed.to_le_bytes());
        h.update(label.as_bytes());
        let digest = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Rng(u64::from_le_bytes(first))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        // 53 high bits make every value exactly representable.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Approximately normal with mean 0 and standard deviation `sigma` (Irwin-Hall of four
    /// uniforms): no transcendental functions, so the bits do not depend on the platform's libm.
    pub fn noise(&mut self, sigma: f64) -> f64 {
        let sum: f64 = (0..4).map(|_| self.uniform()).sum();
        (sum - 2.0) * 3f64.sqrt() * sigma
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_label_same_stream_other_label_other_stream() {
        let a: Vec<u64> = (0..4).map(|_| Rng::for_label(7, "x").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Rng::for_label(7, "x");
        let mut y = Rng::for_label(7, "y");
        let mut z = Rng::for_label(8, "x");
        let xs: Vec<u64> = (0..4).map(|_| x.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| y.next_u64()).collect();
        let zs: Vec<u64> = (0..4).map(|_| z.next_u64()).collect();
        assert_ne!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn noise_has_the_asked_spread() {
        let mut r = Rng::for_label(1, "noise");
        let n = 20_000;
        let v: Vec<f64> = (0..n).map(|_| r.noise(5.0)).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.2, "mean {mean}");
        assert!((var.sqrt() - 5.0).abs() < 0.2, "sd {}", var.sqrt());
        assert!(v.iter().all(|x| x.abs() <= 2.0 * 3f64.sqrt() * 5.0));
    }
}
