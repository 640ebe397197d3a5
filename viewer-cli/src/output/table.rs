//! Aligned text tables. Widths count East Asian wide characters (Chinese names, institution
//! names) as two columns, so columns line up in a terminal.

use super::Style;

/// A cell: text and how to paint it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// The text.
    pub text: String,
    /// Its style.
    pub style: Style,
}

impl Cell {
    /// A cell in `style`.
    pub fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell {
            text,
            style: Style::Plain,
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_owned())
    }
}

/// A table with a header row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    max_width: usize,
}

impl Table {
    /// A table with these column headers; cells wider than 40 columns are cut with "…".
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
            max_width: 40,
        }
    }

    /// Cuts cells wider than `columns` (default 40).
    pub fn max_width(mut self, columns: usize) -> Table {
        self.max_width = columns.max(2);
        self
    }

    /// Adds a row (one cell per header).
    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    /// True if no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines of text, colours applied when `color` is on.
    pub fn render(&self, color: bool) -> String {
        let cut: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| {
                        let text = super::terminal::one_line(&c.text);
                        Cell::styled(truncate(&text, self.max_width), c.style)
                    })
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &cut {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell.text));
            }
        }
        let header: Vec<Cell> = self
            .headers
            .iter()
            .map(|h| Cell::styled(*h, Style::Bold))
            .collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&cut) {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                let last = i + 1 == widths.len();
                let pad = if last { 0 } else { w - width(&cell.text) + 2 };
                line.push_str(&cell.style.paint(&cell.text, color));
                line.push_str(&" ".repeat(pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.pop();
        out
    }
}

/// Display width of a character in a terminal: 2 for East Asian wide and fullwidth forms.
pub fn char_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

/// Display width of a string.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` cut to at most `max` columns, ending in "…" if it was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + char_width(c) > max - 1 {
            break;
        }
        used += char_width(c);
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_count_twice() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("张*"), 3);
        assert_eq!(width("白水镇卫生院"), 12);
    }

    #[test]
    fn columns_line_up_with_chinese_text() {
        let mut t = Table::new(&["CASE", "PATIENT", "STATE"]);
        t.row(vec!["1".into(), "张*".into(), "ready".into()]);
        t.row(vec!["12".into(), "D*** J***".into(), "claimed".into()]);
        let text = t.render(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        // STATE starts at the same display column on every line.
        let col = |l: &str| width(&l[..l.rfind(' ').unwrap() + 1]);
        assert_eq!(col(lines[0]), col(lines[1]));
        assert_eq!(col(lines[1]), col(lines[2]));
        assert_eq!(lines[1], "1     张*        ready");
    }

    #[test]
    fn long_cells_are_cut_and_colours_do_not_shift_columns() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("白水镇卫生院", 7), "白水镇…");
        let mut t = Table::new(&["A", "B"]);
        t.row(vec![Cell::styled("x", Style::Red), "y".into()]);
        let coloured = t.render(true);
        assert!(coloured.contains("\x1b[31mx\x1b[0m  y"));
    }
}
