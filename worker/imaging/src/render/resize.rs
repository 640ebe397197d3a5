//! Fitting pictures into a box by area averaging (each output pixel is the coverage-weighted
//! mean of the source pixels under it): sharp enough for previews, no ringing, and cheap because
//! the two passes are separable. Pictures are never enlarged.

use super::Image8;

/// Output size fitting `w` x `h` inside `max` x `max`, keeping the aspect ratio.
pub(crate) fn fitted(w: u32, h: u32, max: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= max || max == 0 {
        return (w, h);
    }
    let scale = f64::from(max) / f64::from(longest);
    let fit = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, max);
    (fit(w), fit(h))
}

/// Source span and weights of each output index along one axis.
fn weights(src: usize, dst: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            let (a, b) = (i as f64 * scale, (i + 1) as f64 * scale);
            let first = a.floor() as usize;
            let last = (b.ceil() as usize).min(src);
            let w = (first..last)
                .map(|s| ((b.min(s as f64 + 1.0) - a.max(s as f64)) / scale) as f32)
                .collect();
            (first, w)
        })
        .collect()
}

/// Shrinks `img` to fit in `max` x `max` (returns it unchanged when it already fits).
pub(crate) fn fit(img: Image8, max: u32) -> Image8 {
    let (w2, h2) = fitted(img.width, img.height, max);
    if (w2, h2) == (img.width, img.height) {
        return img;
    }
    let c = usize::from(img.channels);
    let (w, h) = (img.width as usize, img.height as usize);
    let (w2, h2) = (w2 as usize, h2 as usize);
    let xw = weights(w, w2);
    let mut mid = vec![0f32; h * w2 * c];
    for (row, out) in img
        .data
        .chunks_exact(w * c)
        .zip(mid.chunks_exact_mut(w2 * c))
    {
        for (x, (first, ws)) in xw.iter().enumerate() {
            for ch in 0..c {
                out[x * c + ch] = ws
                    .iter()
                    .enumerate()
                    .map(|(k, &wt)| wt * f32::from(row[(first + k) * c + ch]))
                    .sum();
            }
        }
    }
    let mut data = vec![0u8; h2 * w2 * c];
    for (y, (first, ws)) in weights(h, h2).iter().enumerate() {
        let out = &mut data[y * w2 * c..(y + 1) * w2 * c];
        for (i, o) in out.iter_mut().enumerate() {
            let v: f32 = ws
                .iter()
                .enumerate()
                .map(|(k, &wt)| wt * mid[(first + k) * w2 * c + i])
                .sum();
            *o = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    Image8 {
        width: w2 as u32,
        height: h2 as u32,
        channels: img.channels,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fitting_keeps_aspect_and_never_enlarges() {
        assert_eq!(fitted(1841, 1955, 512), (482, 512));
        assert_eq!(fitted(64, 64, 512), (64, 64));
        assert_eq!(fitted(10_000, 1, 128), (128, 1));
    }

    #[test]
    fn halving_averages_two_by_two_blocks() {
        let img = Image8 {
            width: 4,
            height: 2,
            channels: 1,
            data: vec![0, 100, 200, 200, 100, 200, 0, 0],
        };
        let out = fit(img, 2);
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.data, vec![100, 100]);
    }

    proptest! {
        #[test]
        fn a_flat_picture_stays_flat(w in 1u32..300, h in 1u32..300, v: u8, max in 1u32..128) {
            let img = Image8 { width: w, height: h, channels: 3, data: vec![v; (w * h * 3) as usize] };
            let out = fit(img, max);
            prop_assert!(out.width <= max.max(w.min(max)) && out.height <= max.max(h.min(max)));
            prop_assert!(out.data.iter().all(|&x| x == v));
        }
    }
}
