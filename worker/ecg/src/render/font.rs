//! The PNG page's text without system fonts or a font rasteriser: a small bitmap font of our
//! own for ASCII, and GNU Unifont (through the `unifont` crate: every character of the Basic
//! Multilingual Plane, CJK included, as 8×16 or 16×16 bitmaps; the glyphs are under the SIL
//! OFL 1.1 or GPL-2.0+ with the font embedding exception) for everything else, so a patient's
//! Chinese name prints as written.
//!
//! Our glyphs are 5 columns by 9 rows: rows 0–6 stand on the baseline (capitals and digits
//! are 7 rows tall, lower case 5), rows 7–8 hold the descenders of `g j p q y , ; _`. Each
//! row is one byte whose five low bits are the columns, the 0b10000 bit being the leftmost. A
//! character advances 6 columns (one blank column between glyphs). The table covers ASCII
//! 32..=126, plus `µ` and `°`; typographic characters get an ASCII stand-in ([`glyphs`]).
//!
//! [`draw`] paints a string with every font pixel as a `scale` × `scale` block, which keeps
//! the strokes crisp at the PNG's 8 px/mm (scale 3: capitals 21 px ≈ 2.6 mm tall). A Unifont
//! glyph is drawn at [`unifont_scale`] (16 rows about one em of ours), its bottom row on the
//! bottom of our descenders.

use image::{Rgb, RgbImage};

/// Rows of a glyph above the baseline.
pub const ASCENT: u32 = 7;
/// Rows of a glyph in all (ascent plus descender).
pub const ROWS: u32 = 9;
/// Columns from one glyph to the next (5 inked plus 1 blank).
pub const ADVANCE: u32 = 6;

/// One glyph: [`ROWS`] rows, five low bits each, leftmost column in bit 4.
pub type Glyph = [u8; ROWS as usize];

/// ASCII 32 (space) to 126 (`~`), in order.
#[rustfmt::skip]
const ASCII: [Glyph; 95] = [
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // ' '
    [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100, 0b00000, 0b00000], // '!'
    [0b01010, 0b01010, 0b01010, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '"'
    [0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010, 0b00000, 0b00000], // '#'
    [0b00100, 0b01111, 0b10100, 0b01110, 0b00101, 0b11110, 0b00100, 0b00000, 0b00000], // '$'
    [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011, 0b00000, 0b00000], // '%'
    [0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101, 0b00000, 0b00000], // '&'
    [0b00100, 0b00100, 0b00100, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // "'"
    [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010, 0b00000, 0b00000], // '('
    [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000, 0b00000, 0b00000], // ')'
    [0b00000, 0b00100, 0b10101, 0b01110, 0b10101, 0b00100, 0b00000, 0b00000, 0b00000], // '*'
    [0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000, 0b00000, 0b00000], // '+'
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100, 0b00100, 0b01000], // ','
    [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '-'
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100, 0b00000, 0b00000], // '.'
    [0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000, 0b00000, 0b00000], // '/'
    [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110, 0b00000, 0b00000], // '0'
    [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // '1'
    [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111, 0b00000, 0b00000], // '2'
    [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110, 0b00000, 0b00000], // '3'
    [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010, 0b00000, 0b00000], // '4'
    [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110, 0b00000, 0b00000], // '5'
    [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // '6'
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00000, 0b00000], // '7'
    [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // '8'
    [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100, 0b00000, 0b00000], // '9'
    [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000, 0b00000, 0b00000], // ':'
    [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00100, 0b01000, 0b00000], // ';'
    [0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010, 0b00000, 0b00000], // '<'
    [0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000, 0b00000], // '='
    [0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000, 0b00000, 0b00000], // '>'
    [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100, 0b00000, 0b00000], // '?'
    [0b01110, 0b10001, 0b00001, 0b01101, 0b10101, 0b10101, 0b01110, 0b00000, 0b00000], // '@'
    [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'A'
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110, 0b00000, 0b00000], // 'B'
    [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110, 0b00000, 0b00000], // 'C'
    [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100, 0b00000, 0b00000], // 'D'
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111, 0b00000, 0b00000], // 'E'
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000, 0b00000, 0b00000], // 'F'
    [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111, 0b00000, 0b00000], // 'G'
    [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'H'
    [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // 'I'
    [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100, 0b00000, 0b00000], // 'J'
    [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001, 0b00000, 0b00000], // 'K'
    [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111, 0b00000, 0b00000], // 'L'
    [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'M'
    [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001, 0b00000, 0b00000], // 'N'
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // 'O'
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000, 0b00000, 0b00000], // 'P'
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101, 0b00000, 0b00000], // 'Q'
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001, 0b00000, 0b00000], // 'R'
    [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110, 0b00000, 0b00000], // 'S'
    [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00000], // 'T'
    [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // 'U'
    [0b10001, 0b10001, 0b01010, 0b01010, 0b01010, 0b00100, 0b00100, 0b00000, 0b00000], // 'V'
    [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010, 0b00000, 0b00000], // 'W'
    [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001, 0b00000, 0b00000], // 'X'
    [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00000, 0b00000], // 'Y'
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111, 0b00000, 0b00000], // 'Z'
    [0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110, 0b00000, 0b00000], // '['
    [0b00000, 0b10000, 0b01000, 0b00100, 0b00010, 0b00001, 0b00000, 0b00000, 0b00000], // '\\'
    [0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110, 0b00000, 0b00000], // ']'
    [0b00100, 0b01010, 0b10001, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '^'
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111, 0b00000], // '_'
    [0b01000, 0b00100, 0b00010, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '`'
    [0b00000, 0b00000, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111, 0b00000, 0b00000], // 'a'
    [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110, 0b00000, 0b00000], // 'b'
    [0b00000, 0b00000, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110, 0b00000, 0b00000], // 'c'
    [0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111, 0b00000, 0b00000], // 'd'
    [0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110, 0b00000, 0b00000], // 'e'
    [0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b01000, 0b00000, 0b00000], // 'f'
    [0b00000, 0b00000, 0b01111, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110], // 'g'
    [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'h'
    [0b00100, 0b00000, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // 'i'
    [0b00010, 0b00000, 0b00110, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100], // 'j'
    [0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b00000, 0b00000], // 'k'
    [0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // 'l'
    [0b00000, 0b00000, 0b11010, 0b10101, 0b10101, 0b10101, 0b10101, 0b00000, 0b00000], // 'm'
    [0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'n'
    [0b00000, 0b00000, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // 'o'
    [0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000], // 'p'
    [0b00000, 0b00000, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111, 0b00001, 0b00001], // 'q'
    [0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000, 0b00000, 0b00000], // 'r'
    [0b00000, 0b00000, 0b01111, 0b10000, 0b01110, 0b00001, 0b11110, 0b00000, 0b00000], // 's'
    [0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110, 0b00000, 0b00000], // 't'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101, 0b00000, 0b00000], // 'u'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00000, 0b00000], // 'v'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010, 0b00000, 0b00000], // 'w'
    [0b00000, 0b00000, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b00000, 0b00000], // 'x'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110], // 'y'
    [0b00000, 0b00000, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111, 0b00000, 0b00000], // 'z'
    [0b00011, 0b00100, 0b00100, 0b01000, 0b00100, 0b00100, 0b00011, 0b00000, 0b00000], // '{'
    [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00000], // '|'
    [0b11000, 0b00100, 0b00100, 0b00010, 0b00100, 0b00100, 0b11000, 0b00000, 0b00000], // '}'
    [0b00000, 0b00000, 0b01000, 0b10101, 0b00010, 0b00000, 0b00000, 0b00000, 0b00000], // '~'
];

/// `µ` (micro sign and Greek mu): a `u` with a descending left stem.
#[rustfmt::skip]
const MICRO: Glyph = [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b11101, 0b10000, 0b10000];

/// `°`: a small raised ring.
#[rustfmt::skip]
const DEGREE: Glyph = [0b01100, 0b10010, 0b10010, 0b01100, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000];

/// The glyph for an ASCII character of the table, if it is one.
fn ascii(c: char) -> Option<&'static Glyph> {
    let i = (c as u32).checked_sub(32)?;
    ASCII.get(i as usize)
}

/// The glyphs that print `c` in our font: its own, or an ASCII stand-in (`—` → `-`, `≥` →
/// `>=`, `×` → `x`, …); `None` when our font has no way to print it.
pub fn glyphs(c: char) -> Option<Vec<&'static Glyph>> {
    let stand_in = match c {
        'µ' | 'μ' => return Some(vec![&MICRO]),
        '°' => return Some(vec![&DEGREE]),
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '≥' => ">=",
        '≤' => "<=",
        '×' => "x",
        '±' => "+/-",
        '√' => "sqrt",
        '∛' => "cbrt",
        '\u{2018}' | '\u{2019}' => "'",
        '\u{201c}' | '\u{201d}' => "\"",
        '…' => "...",
        '\u{a0}' | '\u{2009}' | '\u{202f}' => " ",
        c => return ascii(c).map(|g| vec![g]),
    };
    Some(stand_in.chars().filter_map(ascii).collect())
}

/// One printed shape: a glyph of ours or of Unifont.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Ours (5 × 9).
    Own(&'static Glyph),
    /// Unifont's (8 × 16 or 16 × 16).
    Uni(&'static unifont::Glyph),
}

/// The shapes that print `text`: ours where we have one, else Unifont's, else `?`.
pub fn shapes(text: &str) -> Vec<Shape> {
    let unknown = &ASCII[(b'?' - 32) as usize];
    text.chars()
        .flat_map(|c| match glyphs(c) {
            Some(g) => g.into_iter().map(Shape::Own).collect(),
            None => vec![unifont::get_glyph(c).map_or(Shape::Own(unknown), Shape::Uni)],
        })
        .collect()
}

/// The pixel size of a Unifont pixel beside our font at `scale`: 16 Unifont rows come
/// closest to our 9-row em.
pub fn unifont_scale(scale: u32) -> u32 {
    ((ROWS * scale) as f64 / 16.0).round().max(1.0) as u32
}

/// Advance of one shape at `scale`, pixels.
fn advance(s: &Shape, scale: u32) -> u32 {
    match s {
        Shape::Own(_) => ADVANCE * scale,
        Shape::Uni(g) => g.get_width() as u32 * unifont_scale(scale),
    }
}

/// Width in pixels of `text` drawn at `scale` (no trailing blank column).
pub fn width(text: &str, scale: u32) -> u32 {
    let n: u32 = shapes(text).iter().map(|s| advance(s, scale)).sum();
    n.saturating_sub(scale)
}

/// Pixels above the baseline that `text` may ink at `scale`: our capitals, or a Unifont glyph
/// (which stands taller).
pub fn ascent(text: &str, scale: u32) -> u32 {
    let uni = shapes(text).iter().any(|s| matches!(s, Shape::Uni(_)));
    let own = ASCENT * scale;
    if uni {
        own.max(16 * unifont_scale(scale) - (ROWS - ASCENT) * scale)
    } else {
        own
    }
}

/// Paints `text` in `ink` with its left edge at `x` and its baseline at `baseline` (the row
/// below the lowest row of a capital), clipped to the image.
pub fn draw(img: &mut RgbImage, x: i64, baseline: i64, scale: u32, text: &str, ink: Rgb<u8>) {
    let s = i64::from(scale);
    let mut left = x;
    for shape in shapes(text) {
        match shape {
            Shape::Own(g) => {
                let top = baseline - i64::from(ASCENT) * s;
                for (r, bits) in g.iter().enumerate() {
                    for col in 0..5 {
                        if bits & (0b10000 >> col) != 0 {
                            block(img, left + col * s, top + r as i64 * s, s, ink);
                        }
                    }
                }
            }
            Shape::Uni(g) => {
                let u = i64::from(unifont_scale(scale));
                let top = baseline + i64::from(ROWS - ASCENT) * s - 16 * u;
                for r in 0..16 {
                    for col in 0..g.get_width() {
                        if g.get_pixel(col, r) {
                            block(img, left + col as i64 * u, top + r as i64 * u, u, ink);
                        }
                    }
                }
            }
        }
        left += i64::from(advance(&shape, scale));
    }
}

/// A `s` × `s` square at (`x`, `y`), clipped to the image.
fn block(img: &mut RgbImage, x: i64, y: i64, s: i64, ink: Rgb<u8>) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for py in y.max(0)..(y + s).min(h) {
        for px in x.max(0)..(x + s).min(w) {
            img.put_pixel(px as u32, py as u32, ink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INK: Rgb<u8> = Rgb([0, 0, 0]);

    /// The image as art: `#` for ink, `.` for paper, one string per row.
    fn art(img: &RgbImage) -> Vec<String> {
        (0..img.height())
            .map(|y| {
                (0..img.width())
                    .map(|x| {
                        if img.get_pixel(x, y)[0] < 128 {
                            '#'
                        } else {
                            '.'
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn paper(w: u32, h: u32) -> RgbImage {
        RgbImage::from_pixel(w, h, Rgb([255, 255, 255]))
    }

    #[test]
    fn a_capital_is_exactly_its_bitmap_on_the_baseline() {
        let mut img = paper(8, 11);
        draw(&mut img, 1, 8, 1, "R", INK);
        let want = [
            "........", //
            ".####...", //
            ".#...#..", //
            ".#...#..", //
            ".####...", //
            ".#.#....", //
            ".#..#...", //
            ".#...#..", //
            "........", // baseline
            "........", //
            "........", //
        ];
        assert_eq!(art(&img), want);
    }

    #[test]
    fn scale_two_doubles_every_pixel_and_descenders_drop_below_the_baseline() {
        let mut img = paper(12, 18);
        draw(&mut img, 0, 14, 2, "y", INK);
        let want = [
            "............", //
            "............", //
            "............", //
            "............", //
            "##......##..", //
            "##......##..", //
            "##......##..", //
            "##......##..", //
            "##......##..", //
            "##......##..", //
            "##......##..", //
            "##......##..", //
            "..########..", //
            "..########..", // baseline below this row
            "........##..", //
            "........##..", //
            "..######....", //
            "..######....", //
        ];
        assert_eq!(art(&img), want);
    }

    #[test]
    fn advance_width_and_stand_ins() {
        assert_eq!(width("", 3), 0);
        assert_eq!(width("I", 3), 15);
        assert_eq!(width("II", 1), 11);
        let g = |c| glyphs(c).unwrap();
        assert_eq!(g('—'), g('-'));
        assert_eq!(g('≥'), [g('>')[0], g('=')[0]]);
        assert_eq!(glyphs('é'), None);
        assert_ne!(g('µ'), g('?'));
        assert_ne!(g('°'), g('?'));
        for c in ' '..='~' {
            assert_eq!(g(c).len(), 1, "{c:?}");
            assert!(g(c)[0].iter().all(|r| r >> 5 == 0), "{c:?} wider than 5");
        }
        // Every printable glyph other than space has ink, and they are all different.
        let all: Vec<_> = ('!'..='~').map(|c| *g(c)[0]).collect();
        assert!(all.iter().all(|g| g.iter().any(|&r| r != 0)));
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn chinese_and_accented_letters_print_from_unifont() {
        // 张 is a full-width Unifont glyph: 16 columns at scale 2 beside our scale-3 font.
        assert_eq!(unifont_scale(3), 2);
        assert_eq!(width("张", 3), 32 - 3);
        assert_eq!(width("é", 3), 16 - 3);
        let mut img = paper(40, 40);
        draw(&mut img, 0, 30, 3, "张", INK);
        let inked = art(&img).concat().matches('#').count();
        assert!(inked > 100, "张 has {inked} ink pixels");
        // Nothing of it lies below our descenders.
        assert!(art(&img)[36..].iter().all(|r| !r.contains('#')));
        assert_eq!(ascent("张", 3), 26);
        assert_eq!(ascent("Hg", 3), 21);
    }

    #[test]
    fn drawing_off_the_image_is_clipped_not_a_panic() {
        let mut img = paper(4, 4);
        draw(&mut img, -7, 2, 3, "Hg°µ—张", INK);
        draw(&mut img, 100, 100, 3, "x", INK);
    }
}
