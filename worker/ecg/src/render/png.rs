//! A [`Page`] as PNG, rasterised at [`PNG_PX_PER_MM`]: the same grid, pulses, traces (each
//! clipped to its cell) and texts as the SVG, the texts in the crate's bitmap [`font`]s.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{Rgb, RgbImage};

use super::{Page, Rect, Text, font};
use crate::EcgError;

/// Pixels per millimetre of the PNG (≈ 203 dpi).
pub const PNG_PX_PER_MM: f64 = 8.0;

const INK: Rgb<u8> = Rgb([0, 0, 0]);
const MINOR: Rgb<u8> = Rgb([246, 200, 200]);
const MAJOR: Rgb<u8> = Rgb([232, 148, 148]);

/// The font scale for a size in mm: a glyph em of [`font::ROWS`] font pixels, at least 1.
pub(super) fn scale_for(size_mm: f64) -> u32 {
    ((size_mm * PNG_PX_PER_MM / f64::from(font::ROWS)).round() as u32).max(1)
}

/// Rasterises `page`.
pub fn page_png(page: &Page) -> Result<Vec<u8>, EcgError> {
    let k = PNG_PX_PER_MM;
    let (w, h) = ((page.width_mm * k) as u32, (page.height_mm * k) as u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255; 3]));
    grid(&mut img, &page.grid);
    let whole = Rect {
        x: 0.0,
        y: 0.0,
        w: page.width_mm,
        h: page.height_mm,
    };
    for p in &page.pulses {
        polyline(&mut img, p, &whole);
    }
    for t in &page.traces {
        polyline(&mut img, &t.points_mm, &t.clip);
    }
    for t in page.traces.iter().map(|t| &t.label).chain(&page.texts) {
        text(&mut img, t);
    }
    let mut out = Vec::new();
    // Mostly paper and grid: adaptive row filters make a rhythm page of MIT-BIH 100 98 KB
    // instead of 680 KB, for about 0.03 s more per page.
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive);
    img.write_with_encoder(encoder)
        .map_err(|e| EcgError::Unusable(format!("PNG encoding of the ECG page: {e}")))?;
    Ok(out)
}

/// The 1 mm (minor) and 5 mm (major) grid over `g`.
fn grid(img: &mut RgbImage, g: &Rect) {
    let k = PNG_PX_PER_MM;
    let px = |mm: f64| (mm * k) as u32;
    let (x0, x1) = (px(g.x), px(g.x + g.w).min(img.width() - 1));
    let (y0, y1) = (px(g.y), px(g.y + g.h).min(img.height() - 1));
    for mm in 0..=(g.w as u32) {
        let x = px(g.x + f64::from(mm));
        let c = if mm % 5 == 0 { MAJOR } else { MINOR };
        for y in y0..=y1 {
            if x < img.width() {
                img.put_pixel(x, y, c);
            }
        }
    }
    for mm in 0..=(g.h as u32) {
        let y = px(g.y + f64::from(mm));
        let c = if mm % 5 == 0 { MAJOR } else { MINOR };
        for x in x0..=x1 {
            if y < img.height() {
                img.put_pixel(x, y, c);
            }
        }
    }
}

fn polyline(img: &mut RgbImage, pts_mm: &[(f64, f64)], clip: &Rect) {
    let k = PNG_PX_PER_MM;
    let clip_px = (
        (clip.x * k).floor() as i64,
        (clip.y * k).floor() as i64,
        ((clip.x + clip.w) * k).ceil() as i64,
        ((clip.y + clip.h) * k).ceil() as i64,
    );
    for p in pts_mm.windows(2) {
        line(
            img,
            (p[0].0 * k, p[0].1 * k),
            (p[1].0 * k, p[1].1 * k),
            clip_px,
        );
    }
}

/// A 2-pixel black line, clipped to `(left, top, right, bottom)` (pixels, right and bottom
/// excluded) and the image.
fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), clip: (i64, i64, i64, i64)) {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    let (l, t, r, btm) = clip;
    let r = r.min(i64::from(img.width()));
    let btm = btm.min(i64::from(img.height()));
    for s in 0..=n {
        let f = s as f64 / n as f64;
        let (x, y) = (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f);
        for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)] {
            let (px, py) = ((x + dx) as i64, (y + dy) as i64);
            if px >= l.max(0) && py >= t.max(0) && px < r && py < btm {
                img.put_pixel(px as u32, py as u32, INK);
            }
        }
    }
}

/// Draws `t` in its colour (bold: twice, one pixel apart).
fn text(img: &mut RgbImage, t: &Text) {
    let k = PNG_PX_PER_MM;
    let (x, y) = ((t.x_mm * k).round() as i64, (t.y_mm * k).round() as i64);
    let ink = Rgb(t.ink.rgb());
    let scale = scale_for(t.size_mm);
    font::draw(img, x, y, scale, &t.text, ink);
    if t.bold {
        font::draw(img, x + 1, y, scale, &t.text, ink);
    }
}
