//! Colour rendering: RGB as is, YBR_FULL through the JFIF matrix, palette colour through its
//! three LUTs; samples wider than 8 bits are scaled down by their Bits Stored.

use crate::attrs::{Lut, Photometric, PixelAttrs};
use crate::color::ycc_to_rgb_u8;
use crate::frame::{DecodedFrame, Samples};

/// Each sample scaled to 0..=255 by Bits Stored.
fn to_u8(samples: &Samples, bits: u16) -> Vec<u8> {
    let shift = u32::from(bits.saturating_sub(8));
    let conv = |v: i64| (v.max(0) >> shift).min(255) as u8;
    match samples {
        Samples::U8(a) => a.iter().copied().collect(),
        Samples::I8(a) => a.iter().map(|&v| conv(i64::from(v))).collect(),
        Samples::U16(a) => a.iter().map(|&v| conv(i64::from(v))).collect(),
        Samples::I16(a) => a.iter().map(|&v| conv(i64::from(v))).collect(),
        Samples::U32(a) => a.iter().map(|&v| conv(i64::from(v))).collect(),
        Samples::I32(a) => a.iter().map(|&v| conv(i64::from(v))).collect(),
    }
}

/// Renders a colour (or palette) frame to interleaved RGB.
pub(crate) fn render(frame: &DecodedFrame, attrs: &PixelAttrs) -> Result<Vec<u8>, String> {
    let (_, _, spp) = frame.samples.dim();
    match &frame.photometric {
        Photometric::PaletteColor if spp == 1 => {
            let palette = attrs
                .palette
                .as_ref()
                .ok_or("PALETTE COLOR without palette LUTs")?;
            Ok(apply_palette(&frame.samples, palette))
        }
        Photometric::Rgb | Photometric::YbrIct | Photometric::YbrRct if spp == 3 => {
            Ok(to_u8(&frame.samples, attrs.bits_stored))
        }
        Photometric::YbrFull | Photometric::YbrFull422 if spp == 3 => {
            let mut out = to_u8(&frame.samples, attrs.bits_stored);
            ycc_to_rgb_u8(&mut out);
            Ok(out)
        }
        other => Err(format!(
            "cannot display Photometric Interpretation {other:?} with {spp} sample(s) per pixel"
        )),
    }
}

fn palette_entry(lut: &Lut, index: i64) -> u8 {
    let v = lut.get(index);
    // 16-bit entries span 0..=65535; some writers put 8-bit values in 16-bit words.
    if lut.bits > 8 || v > 255 {
        (v >> 8) as u8
    } else {
        v as u8
    }
}

fn apply_palette(samples: &Samples, [r, g, b]: &[Lut; 3]) -> Vec<u8> {
    let indices = samples.to_i64_vec();
    let mut out = Vec::with_capacity(indices.len() * 3);
    for i in indices {
        out.extend_from_slice(&[
            palette_entry(r, i),
            palette_entry(g, i),
            palette_entry(b, i),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn frame(pi: Photometric, s: Samples) -> DecodedFrame {
        DecodedFrame {
            samples: s,
            photometric: pi,
        }
    }

    fn attrs(bits: u16) -> PixelAttrs {
        let mut a = crate::render::mono::tests::attrs(Photometric::Rgb);
        a.bits_stored = bits;
        a
    }

    #[test]
    fn sixteen_bit_rgb_is_scaled_by_bits_stored() {
        let s = Samples::U16(Array3::from_shape_vec((1, 1, 3), vec![0xFFFF, 0x8000, 0]).unwrap());
        assert_eq!(
            render(&frame(Photometric::Rgb, s), &attrs(16)).unwrap(),
            vec![255, 128, 0]
        );
    }

    #[test]
    fn palette_maps_indices_through_each_channel() {
        let lut = |d: Vec<u16>| Lut {
            first: 0,
            bits: 16,
            data: d,
        };
        let mut a = attrs(8);
        a.palette = Some([
            lut(vec![0, 0xFF00]),
            lut(vec![0xFF00, 0]),
            lut(vec![0, 0x8000]),
        ]);
        let s = Samples::U8(Array3::from_shape_vec((1, 2, 1), vec![0, 1]).unwrap());
        let out = render(&frame(Photometric::PaletteColor, s), &a).unwrap();
        assert_eq!(out, vec![0, 255, 0, 255, 0, 128]);
    }

    #[test]
    fn unknown_photometric_is_an_error() {
        let s = Samples::U8(Array3::zeros((1, 1, 3)));
        assert!(render(&frame(Photometric::Other("CMYK".into()), s), &attrs(8)).is_err());
    }
}
