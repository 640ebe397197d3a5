//! The page as a PNG: the same grid, calibration pulses, traces and text as the SVG,
//! rasterised at [`PNG_PX_PER_MM`] with the crate's own bitmap [`font`].

use image::{Rgb, RgbImage};

use super::{
    Cell, HEADER_MM, LEFT_MM, MM_PER_MV, MM_PER_S, Text, calibration_mm, font, layout, page_mm,
    page_text, row_baseline_mm,
};
use crate::analysis::{Analysis, conditioned};
use crate::{Ecg, EcgError};

/// Pixels per millimetre of the PNG (≈ 203 dpi).
pub const PNG_PX_PER_MM: f64 = 8.0;

const INK: Rgb<u8> = Rgb([0, 0, 0]);
const MINOR: Rgb<u8> = Rgb([246, 200, 200]);
const MAJOR: Rgb<u8> = Rgb([232, 148, 148]);
/// Font pixels per em: the 9 rows of a glyph, ascent plus descender (so a 3 mm label gets
/// scale 3, capitals 2.6 mm tall, about the cap height of a 3 mm sans-serif).
const EM_ROWS: f64 = 9.0;
/// Text stops this far short of the right edge of the page, mm.
const RIGHT_MARGIN_MM: f64 = 5.0;

/// Renders the page of `ecg` with `analysis` printed above it as a PNG: the same layout,
/// header lines and lead labels as [`render_svg`](super::render_svg).
pub fn render_png(ecg: &Ecg, analysis: &Analysis) -> Result<Vec<u8>, EcgError> {
    let (leads, _) = conditioned(ecg);
    let names: Vec<String> = ecg.leads.iter().map(|l| l.name.clone()).collect();
    let (cells, rows) = layout(&names);
    let (w_mm, h_mm) = page_mm(rows);
    let k = PNG_PX_PER_MM;
    let mut img = RgbImage::from_pixel((w_mm * k) as u32, (h_mm * k) as u32, Rgb([255; 3]));
    grid(&mut img, w_mm, h_mm);
    for c in &cells {
        let y0 = row_baseline_mm(c.row);
        polyline(&mut img, &calibration_mm(y0));
        polyline(&mut img, &trace_mm(&leads[c.lead], ecg.fs, c, y0));
    }
    for t in page_text(&cells, analysis) {
        text(&mut img, &t);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| EcgError::Unusable(format!("PNG encoding: {e}")))?;
    Ok(out.into_inner())
}

/// The 1 mm (minor) and 5 mm (major) grid below the header.
fn grid(img: &mut RgbImage, w_mm: f64, h_mm: f64) {
    let k = PNG_PX_PER_MM;
    let (w, h) = (img.width(), img.height());
    let top = (HEADER_MM * k) as u32;
    for mm in 0..=(w_mm as u32) {
        let x = (mm as f64 * k) as u32;
        let c = if mm % 5 == 0 { MAJOR } else { MINOR };
        for y in top..h {
            if x < w {
                img.put_pixel(x, y, c);
            }
        }
    }
    for mm in 0..=((h_mm - HEADER_MM) as u32) {
        let y = ((HEADER_MM + mm as f64) * k) as u32;
        let c = if mm % 5 == 0 { MAJOR } else { MINOR };
        for x in 0..w {
            if y < h {
                img.put_pixel(x, y, c);
            }
        }
    }
}

/// The points of one trace, mm.
fn trace_mm(x: &[f32], fs: f64, c: &Cell, y0: f64) -> Vec<(f64, f64)> {
    let a = (c.t0 * fs) as usize;
    let b = (((c.t0 + c.dur) * fs) as usize).min(x.len());
    (a..b)
        .map(|i| {
            (
                LEFT_MM + c.x_mm + (i - a) as f64 / fs * MM_PER_S,
                y0 - x[i] as f64 / 1000.0 * MM_PER_MV,
            )
        })
        .collect()
}

fn polyline(img: &mut RgbImage, pts_mm: &[(f64, f64)]) {
    let k = PNG_PX_PER_MM;
    for p in pts_mm.windows(2) {
        line(img, (p[0].0 * k, p[0].1 * k), (p[1].0 * k, p[1].1 * k));
    }
}

/// A 2-pixel black line, clipped to the image.
fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64)) {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for s in 0..=n {
        let t = s as f64 / n as f64;
        let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)] {
            let (px, py) = ((x + dx) as i64, (y + dy) as i64);
            if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                img.put_pixel(px as u32, py as u32, INK);
            }
        }
    }
}

/// The font scale for a size in mm: a glyph em of [`EM_ROWS`] font pixels, at least 1.
fn scale_for(size_mm: f64) -> u32 {
    ((size_mm * PNG_PX_PER_MM / EM_ROWS).round() as u32).max(1)
}

/// Draws `t`; a line too long for the page is drawn one scale smaller (not below 2), and
/// if it still does not fit, cut short with `...`.
fn text(img: &mut RgbImage, t: &Text) {
    let k = PNG_PX_PER_MM;
    let x = (t.x_mm * k).round() as i64;
    let room = (img.width() as f64 - RIGHT_MARGIN_MM * k - x as f64).max(0.0) as u32;
    let mut scale = scale_for(t.size_mm);
    while scale > 2 && font::width(&t.text, scale) > room {
        scale -= 1;
    }
    let mut s = t.text.clone();
    if font::width(&s, scale) > room {
        while !s.is_empty() && font::width(&format!("{s}..."), scale) > room {
            s.pop();
        }
        s = format!("{}...", s.trim_end());
    }
    font::draw(img, x, (t.y_mm * k).round() as i64, scale, &s, INK);
}
