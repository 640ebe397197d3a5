//! A small bitmap font of our own, so the PNG page carries its text without system fonts or
//! a font rasteriser.
//!
//! Glyphs are 5 columns by 9 rows: rows 0–6 stand on the baseline (capitals and digits are 7
//! rows tall, lower case 5), rows 7–8 hold the descenders of `g j p q y , ; _`. Each row is
//! one byte whose five low bits are the columns, the 0b10000 bit being the leftmost. A
//! character advances 6 columns (one blank column between glyphs). The table covers ASCII
//! 32..=126, plus `µ` and `°`; other characters get an ASCII stand-in ([`glyphs`]).
//!
//! [`draw`] paints a string with every font pixel as a `scale` × `scale` block, which keeps
//! the strokes crisp at the PNG's 8 px/mm (scale 3: capitals 21 px ≈ 2.6 mm tall).

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

/// The glyphs that print `c`: its own, or an ASCII stand-in (`—` → `-`, `≥` → `>=`,
/// `×` → `x`, …; `?` for anything else).
pub fn glyphs(c: char) -> Vec<&'static Glyph> {
    let stand_in = match c {
        'µ' | 'μ' => return vec![&MICRO],
        '°' => return vec![&DEGREE],
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
        c => return vec![ascii(c).unwrap_or(&ASCII[(b'?' - 32) as usize])],
    };
    stand_in.chars().filter_map(ascii).collect()
}

/// Width in pixels of `text` drawn at `scale` (no trailing blank column).
pub fn width(text: &str, scale: u32) -> u32 {
    let n: u32 = text.chars().map(|c| glyphs(c).len() as u32).sum();
    (n * ADVANCE).saturating_sub(1) * scale
}

/// Paints `text` in `ink` with its left edge at `x` and its baseline at `baseline` (the row
/// below the lowest row of a capital), clipped to the image.
pub fn draw(img: &mut RgbImage, x: i64, baseline: i64, scale: u32, text: &str, ink: Rgb<u8>) {
    let s = i64::from(scale);
    let top = baseline - i64::from(ASCENT) * s;
    let all = text.chars().flat_map(glyphs);
    for (k, g) in all.enumerate() {
        let left = x + k as i64 * i64::from(ADVANCE) * s;
        for (r, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (0b10000 >> col) != 0 {
                    block(img, left + col * s, top + r as i64 * s, s, ink);
                }
            }
        }
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
        assert_eq!(glyphs('—'), glyphs('-'));
        assert_eq!(glyphs('≥'), [glyphs('>')[0], glyphs('=')[0]]);
        assert_eq!(glyphs('é'), glyphs('?'));
        assert_ne!(glyphs('µ'), glyphs('?'));
        assert_ne!(glyphs('°'), glyphs('?'));
        for c in ' '..='~' {
            assert_eq!(glyphs(c).len(), 1, "{c:?}");
            assert!(
                glyphs(c)[0].iter().all(|r| r >> 5 == 0),
                "{c:?} wider than 5"
            );
        }
        // Every printable glyph other than space has ink, and they are all different.
        let all: Vec<_> = ('!'..='~').map(|c| *glyphs(c)[0]).collect();
        assert!(all.iter().all(|g| g.iter().any(|&r| r != 0)));
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn drawing_off_the_image_is_clipped_not_a_panic() {
        let mut img = paper(4, 4);
        draw(&mut img, -7, 2, 3, "Hg°µ—", INK);
        draw(&mut img, 100, 100, 3, "x", INK);
    }
}
