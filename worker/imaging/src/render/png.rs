//! PNG in and out, and the series strip built from thumbnails.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, ImageFormat};

use super::Image8;

/// Encodes an 8-bit picture. Fast compression: previews are made for every instance on
/// arrival, and the size difference to the best setting is small for medical images.
pub(crate) fn encode(img: &Image8) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let colour = if img.channels == 1 {
        ExtendedColorType::L8
    } else {
        ExtendedColorType::Rgb8
    };
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(&img.data, img.width, img.height, colour)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Decodes a PNG to RGB.
pub(crate) fn decode_rgb(png: &[u8]) -> Result<Image8, String> {
    let img = image::load_from_memory_with_format(png, ImageFormat::Png)
        .map_err(|e| e.to_string())?
        .to_rgb8();
    Ok(Image8 {
        width: img.width(),
        height: img.height(),
        channels: 3,
        data: img.into_raw(),
    })
}

/// Gap between cells of a strip, in pixels.
const GAP: usize = 2;

/// Lays pictures side by side, top-aligned, on black.
pub(crate) fn strip(cells: &[Image8]) -> Image8 {
    let height = cells.iter().map(|c| c.height as usize).max().unwrap_or(0);
    let width =
        cells.iter().map(|c| c.width as usize).sum::<usize>() + GAP * cells.len().saturating_sub(1);
    let mut data = vec![0u8; width * height * 3];
    let mut x0 = 0;
    for cell in cells {
        let cw = cell.width as usize;
        for (y, row) in cell.data.chunks_exact(cw * 3).enumerate() {
            let at = (y * width + x0) * 3;
            data[at..at + cw * 3].copy_from_slice(row);
        }
        x0 += cw + GAP;
    }
    Image8 {
        width: width as u32,
        height: height as u32,
        channels: 3,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips_and_strips_lay_out_side_by_side() {
        let a = Image8 {
            width: 2,
            height: 1,
            channels: 3,
            data: vec![255, 0, 0, 0, 255, 0],
        };
        let b = Image8 {
            width: 1,
            height: 2,
            channels: 3,
            data: vec![1, 2, 3, 4, 5, 6],
        };
        let back = decode_rgb(&encode(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        let s = strip(&[a, b]);
        assert_eq!((s.width, s.height), (5, 2));
        assert_eq!(&s.data[..6], &[255, 0, 0, 0, 255, 0]);
        assert_eq!(&s.data[12..15], &[1, 2, 3]);
        assert_eq!(&s.data[15 + 12..15 + 15], &[4, 5, 6]);
    }

    #[test]
    fn grey_pictures_encode() {
        let g = Image8 {
            width: 3,
            height: 1,
            channels: 1,
            data: vec![0, 128, 255],
        };
        let back = decode_rgb(&encode(&g).unwrap()).unwrap();
        assert_eq!(back.data, vec![0, 0, 0, 128, 128, 128, 255, 255, 255]);
    }
}
