//! Monochrome rendering. For up to 16-bit samples the whole chain (modality LUT, VOI,
//! inversion) is evaluated once per distinct stored value in the frame's range and applied as a
//! table, which makes rendering a 512x512 CT slice a single pass of lookups.

use ndarray::Array3;

use super::window::{Voi, WindowSpec};
use crate::attrs::{ModalityLut, Photometric, PixelAttrs};
use crate::frame::Samples;

fn modality(attrs: &PixelAttrs, x: i64) -> f64 {
    match &attrs.modality_lut {
        ModalityLut::Rescale { slope, intercept } => x as f64 * slope + intercept,
        ModalityLut::Table(lut) => f64::from(lut.get(x)),
    }
}

fn output(voi: &Voi<'_>, m: f64, invert: bool) -> u8 {
    let y = voi.apply(m).round() as u8;
    if invert { 255 - y } else { y }
}

/// Renders a single-sample frame to 8-bit grey.
pub(crate) fn render(samples: &Samples, attrs: &PixelAttrs, spec: WindowSpec) -> Vec<u8> {
    match samples {
        Samples::U8(a) => by_table(a, attrs, spec),
        Samples::I8(a) => by_table(a, attrs, spec),
        Samples::U16(a) => by_table(a, attrs, spec),
        Samples::I16(a) => by_table(a, attrs, spec),
        Samples::U32(a) => direct(a, attrs, spec),
        Samples::I32(a) => direct(a, attrs, spec),
    }
}

fn by_table<T: Copy + Into<i32>>(a: &Array3<T>, attrs: &PixelAttrs, spec: WindowSpec) -> Vec<u8> {
    let (lo, hi) = a.iter().fold((i32::MAX, i32::MIN), |(lo, hi), &v| {
        let v = v.into();
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return Vec::new();
    }
    let values: Vec<f64> = (lo..=hi).map(|x| modality(attrs, i64::from(x))).collect();
    let range = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &m| (l.min(m), h.max(m)));
    let voi = Voi::resolve(spec, attrs, range);
    let invert = attrs.photometric == Photometric::Monochrome1;
    let table: Vec<u8> = values.iter().map(|&m| output(&voi, m, invert)).collect();
    a.iter().map(|&v| table[(v.into() - lo) as usize]).collect()
}

fn direct<T: Copy + Into<i64>>(a: &Array3<T>, attrs: &PixelAttrs, spec: WindowSpec) -> Vec<u8> {
    let range = a.iter().fold((f64::MAX, f64::MIN), |(l, h), &v| {
        let m = modality(attrs, v.into());
        (l.min(m), h.max(m))
    });
    let voi = Voi::resolve(spec, attrs, range);
    let invert = attrs.photometric == Photometric::Monochrome1;
    a.iter()
        .map(|&v| output(&voi, modality(attrs, v.into()), invert))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::attrs::{Lut, VoiFunction};

    pub(crate) fn attrs(pi: Photometric) -> PixelAttrs {
        PixelAttrs {
            rows: 1,
            columns: 3,
            samples_per_pixel: 1,
            bits_allocated: 16,
            bits_stored: 12,
            signed: false,
            planar: false,
            photometric: pi,
            frames: 1,
            modality_lut: ModalityLut::Rescale {
                slope: 1.0,
                intercept: -1024.0,
            },
            windows: vec![],
            voi_function: VoiFunction::Linear,
            voi_luts: vec![],
            palette: None,
            sop_instance_uid: None,
            modality: None,
            extended_offsets: None,
        }
    }

    fn frame(v: [u16; 3]) -> Samples {
        Samples::U16(Array3::from_shape_vec((1, 3, 1), v.to_vec()).unwrap())
    }

    #[test]
    fn rescale_then_window_in_hounsfield_units() {
        let a = attrs(Photometric::Monochrome2);
        // stored 1024 is 0 HU; the brain window (40/80) maps it to black, 1104 (80 HU) to white
        let out = render(
            &frame([1024, 1064, 1104]),
            &a,
            WindowSpec::Explicit {
                center: 40.0,
                width: 80.0,
            },
        );
        assert_eq!(out[0], 0);
        assert!((127..=130).contains(&out[1]));
        assert_eq!(out[2], 255);
    }

    #[test]
    fn monochrome1_is_inverted_and_default_uses_the_full_range() {
        let out = render(
            &frame([0, 50, 100]),
            &attrs(Photometric::Monochrome1),
            WindowSpec::Default,
        );
        assert_eq!(out, vec![255, 127, 0]);
    }

    #[test]
    fn modality_and_voi_luts_apply_in_order() {
        let mut a = attrs(Photometric::Monochrome2);
        a.modality_lut = ModalityLut::Table(Lut {
            first: 0,
            bits: 16,
            data: vec![0, 10, 20],
        });
        a.voi_luts = vec![Lut {
            first: 0,
            bits: 8,
            data: (0..=20).map(|v| v * 10).collect(),
        }];
        let out = render(&frame([0, 1, 2]), &a, WindowSpec::Default);
        assert_eq!(out, vec![0, 100, 200]);
    }
}
