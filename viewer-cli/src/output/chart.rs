//! The savings bar chart of `stats --chart`: yuan saved per month, one bar per institution, as an
//! SVG written by hand or a PNG drawn with the `image` crate (labels in a built-in 3×5 pixel font).

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// One bar: a month, an institution and the fen saved there then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// "YYYY-MM".
    pub month: String,
    /// Institution code.
    pub institution: String,
    /// Fen saved (bars below zero are drawn at zero).
    pub fen: i64,
}

const PALETTE: [(u8, u8, u8); 8] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
];

/// Where everything goes, shared by both renderers.
struct Layout {
    months: Vec<String>,
    institutions: Vec<String>,
    /// Top of the y axis, in yuan (a round number).
    top_yuan: i64,
    width: u32,
    height: u32,
}

const LEFT: u32 = 70;
const TOP: u32 = 40;
const BOTTOM: u32 = 50;
const BAR: u32 = 18;
const GAP: u32 = 24;
const PLOT_HEIGHT: u32 = 260;

impl Layout {
    fn new(bars: &[Bar]) -> Layout {
        let months: BTreeSet<&str> = bars.iter().map(|b| b.month.as_str()).collect();
        let institutions: BTreeSet<&str> = bars.iter().map(|b| b.institution.as_str()).collect();
        let max_yuan = (bars.iter().map(|b| b.fen.max(0)).max().unwrap_or(0) + 99) / 100;
        let months: Vec<String> = months.into_iter().map(str::to_owned).collect();
        let institutions: Vec<String> = institutions.into_iter().map(str::to_owned).collect();
        let group = BAR * (institutions.len().max(1) as u32) + GAP;
        let width = (LEFT + group * months.len().max(1) as u32 + 150).max(420);
        Layout {
            top_yuan: nice_top(max_yuan),
            width,
            height: TOP + PLOT_HEIGHT + BOTTOM,
            months,
            institutions,
        }
    }

    fn group_width(&self) -> u32 {
        BAR * self.institutions.len().max(1) as u32 + GAP
    }

    /// The rectangle (x, y, w, h) of a bar.
    fn bar(&self, b: &Bar) -> Option<(u32, u32, u32, u32)> {
        let m = self.months.iter().position(|m| *m == b.month)? as u32;
        let i = self.institutions.iter().position(|i| *i == b.institution)? as u32;
        let yuan = b.fen.max(0) as f64 / 100.0;
        let h = (yuan / self.top_yuan as f64 * f64::from(PLOT_HEIGHT)).round() as u32;
        let x = LEFT + GAP / 2 + m * self.group_width() + i * BAR;
        Some((x, TOP + PLOT_HEIGHT - h, BAR - 2, h))
    }

    fn colour(&self, institution: &str) -> (u8, u8, u8) {
        let i = self
            .institutions
            .iter()
            .position(|i| i == institution)
            .unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    }

    /// y of a tick value.
    fn y_of(&self, yuan: i64) -> u32 {
        TOP + PLOT_HEIGHT
            - (yuan as f64 / self.top_yuan as f64 * f64::from(PLOT_HEIGHT)).round() as u32
    }

    fn ticks(&self) -> Vec<i64> {
        (0..=4).map(|k| self.top_yuan * k / 4).collect()
    }
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v`, at least 20 (so the quarter ticks are whole yuan).
fn nice_top(v: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= v.max(20) {
                return m * step;
            }
        }
        step *= 10;
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart as an SVG document.
pub fn svg(bars: &[Bar]) -> String {
    let l = Layout::new(bars);
    let mut s = String::new();
    let (w, h) = (l.width, l.height);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="22" font-size="15" font-weight="bold">Savings from result recognition by month and institution (yuan)</text>"#
    );
    let right = l.width - 140;
    for t in l.ticks() {
        let y = l.y_of(t);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{t}</text>"##,
            LEFT - 6,
            y + 4
        );
    }
    let base = TOP + PLOT_HEIGHT;
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="black"/><line x1="{LEFT}" y1="{base}" x2="{right}" y2="{base}" stroke="black"/>"#
    );
    for b in bars {
        if let Some((x, y, bw, bh)) = l.bar(b) {
            let (r, g, bl) = l.colour(&b.institution);
            let _ = writeln!(
                s,
                r#"<rect x="{x}" y="{y}" width="{bw}" height="{bh}" fill="rgb({r},{g},{bl})"><title>{} {}: {} yuan</title></rect>"#,
                escape(&b.month),
                escape(&b.institution),
                super::recognition::yuan(b.fen)
            );
        }
    }
    for (m, month) in l.months.iter().enumerate() {
        let x = LEFT + GAP / 2 + m as u32 * l.group_width() + (l.group_width() - GAP) / 2;
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            base + 18,
            escape(month)
        );
    }
    for (i, inst) in l.institutions.iter().enumerate() {
        let y = TOP + 10 + i as u32 * 20;
        let (r, g, b) = l.colour(inst);
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{y}" width="12" height="12" fill="rgb({r},{g},{b})"/><text x="{}" y="{}">{}</text>"#,
            right + 16,
            right + 34,
            y + 11,
            escape(inst)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// 3×5 glyphs, one row per 3 bits, top row first.
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_uppercase() {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '-' => [0, 0, 7, 0, 0],
        '.' => [0, 0, 0, 0, 2],
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        _ => [0; 5],
    }
}

fn fill(img: &mut image::RgbImage, (x, y, w, h): (u32, u32, u32, u32), c: (u8, u8, u8)) {
    let (width, height) = img.dimensions();
    for yy in y..(y + h).min(height) {
        for xx in x..(x + w).min(width) {
            img.put_pixel(xx, yy, image::Rgb([c.0, c.1, c.2]));
        }
    }
}

/// Draws `s` in the 3×5 font at twice its size, black.
fn text(img: &mut image::RgbImage, x: u32, y: u32, s: &str) {
    for (k, c) in s.chars().enumerate() {
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..3u32 {
                if bits & (4 >> col) != 0 {
                    let at = (x + k as u32 * 8 + col * 2, y + row as u32 * 2, 2, 2);
                    fill(img, at, (0, 0, 0));
                }
            }
        }
    }
}

/// The chart as PNG bytes.
pub fn png(bars: &[Bar]) -> Result<Vec<u8>, String> {
    use image::{Rgb, RgbImage};
    let l = Layout::new(bars);
    let mut img = RgbImage::from_pixel(l.width, l.height, Rgb([255, 255, 255]));
    let right = l.width - 140;
    let base = TOP + PLOT_HEIGHT;
    for t in l.ticks() {
        let y = l.y_of(t);
        fill(&mut img, (LEFT, y, right - LEFT, 1), (221, 221, 221));
        let label = t.to_string();
        let x = LEFT.saturating_sub(8 + label.len() as u32 * 8);
        text(&mut img, x, y.saturating_sub(5), &label);
    }
    fill(&mut img, (LEFT, TOP, 1, PLOT_HEIGHT), (0, 0, 0));
    fill(&mut img, (LEFT, base, right - LEFT, 1), (0, 0, 0));
    for b in bars {
        if let Some(rect) = l.bar(b) {
            fill(&mut img, rect, l.colour(&b.institution));
        }
    }
    for (m, month) in l.months.iter().enumerate() {
        let x = LEFT + GAP / 2 + m as u32 * l.group_width();
        text(&mut img, x, base + 10, month);
    }
    for (i, inst) in l.institutions.iter().enumerate() {
        let y = TOP + 10 + i as u32 * 20;
        fill(&mut img, (right + 16, y, 12, 12), l.colour(inst));
        text(&mut img, right + 34, y + 1, inst);
    }
    text(
        &mut img,
        LEFT,
        14,
        "SAVINGS BY MONTH AND INSTITUTION - YUAN",
    );
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the PNG: {e}"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Vec<Bar> {
        let bar = |m: &str, i: &str, fen| Bar {
            month: m.into(),
            institution: i.into(),
            fen,
        };
        vec![
            bar("2026-10", "TS-B", 15_000),
            bar("2026-11", "CTY", 6_000),
            bar("2026-11", "TS-B", 30_000),
        ]
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(
            (nice_top(0), nice_top(150), nice_top(300), nice_top(501)),
            (20, 200, 500, 1000)
        );
    }

    #[test]
    fn svg_has_one_bar_per_month_and_institution_scaled_to_the_axis() {
        let s = svg(&bars());
        assert_eq!(
            s.matches("<rect x=").count(),
            3 + 2,
            "3 bars and 2 legend boxes"
        );
        assert!(s.contains("2026-10") && s.contains("CTY") && s.contains("300.00 yuan"));
        // 300 yuan is the top of a 500-yuan axis: 3/5 of the plot height.
        assert!(
            s.contains(&format!("height=\"{}\"", PLOT_HEIGHT * 3 / 5)),
            "{s}"
        );
    }

    #[test]
    fn png_is_a_png_with_coloured_bars() {
        let bytes = png(&bars()).unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let l = Layout::new(&bars());
        let (x, y, w, h) = l.bar(&bars()[2]).unwrap();
        let c = l.colour("TS-B");
        assert_eq!(img.get_pixel(x + w / 2, y + h / 2).0, [c.0, c.1, c.2]);
        assert_eq!(img.dimensions(), (l.width, l.height));
    }
}
