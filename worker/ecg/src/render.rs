//! The ECG as printable pages, SVG and PNG, drawn from one description of each page ([`Page`]:
//! texts, traces with their clip boxes, calibration pulses, the grid), so both files always
//! say the same thing and the layout can be tested geometrically.
//!
//! Page 1 is the 12-lead page: who the patient is ([`PageInfo`]: name as stored, ID masked as
//! the index masks it, sex, age, acquisition time, institution, device and filters), our
//! measurements beside the device's in one table, ST levels in millimetres, the flags (critical
//! ones large and red), then the traces at 25 mm/s and 10 mm/mV on a millimetre grid: the
//! standard 3 × 4 arrangement (2.5 s each) with a 10 s lead II rhythm strip, and a full-width
//! row for each other lead; ECGs without the twelve standard leads get one row per lead.
//! Every trace is clipped to its cell and its label is placed where the trace is not.
//!
//! Pages 2… (only when the recording is longer than the 10 s of page 1) hold the whole
//! recording of one lead (II, else the first ECG lead) at half speed and half gain
//! (12.5 mm/s, 5 mm/mV, 20 s a row, 4 min a page), each row marked with its start time, up to
//! [`MAX_RHYTHM_PAGES`].
//!
//! Units are millimetres. [`page_svg`] writes real SVG text (any viewer's fonts, Chinese
//! included); [`page_png`] rasterises at [`PNG_PX_PER_MM`] with bitmap fonts of its own
//! (`font`: ours for ASCII, GNU Unifont for the rest), whose metrics also size every text box.

mod font;
mod header;
mod png;
mod strips;
mod svg;

use crate::Ecg;
use crate::analysis::{Analysis, conditioned};
use crate::page_info::PageInfo;

pub use png::{PNG_PX_PER_MM, page_png};
pub use strips::{
    MAX_RHYTHM_PAGES, RHYTHM_MM_PER_MV, RHYTHM_MM_PER_S, RHYTHM_ROW_S, is_ecg_lead, lead_label,
    trace_hits,
};
pub use svg::page_svg;

/// Paper speed of page 1, mm/s.
pub const MM_PER_S: f64 = 25.0;
/// Gain of page 1, mm/mV.
pub const MM_PER_MV: f64 = 10.0;
/// Width of every page, mm: 10 mm margin, 10 s at 25 mm/s, 10 mm.
pub const PAGE_WIDTH_MM: f64 = 270.0;
/// The left margin (calibration pulses and row times live there), mm.
pub const LEFT_MM: f64 = 10.0;

/// A rectangle, mm, `y` down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Whether the two rectangles share any area (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// Whether `o` lies wholly inside this rectangle.
    pub fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x
            && o.y >= self.y
            && o.x + o.w <= self.x + self.w
            && o.y + o.h <= self.y + self.h
    }
}

/// Colour of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ink {
    /// Ordinary text.
    Black,
    /// Critical flags.
    Red,
    /// Urgent flags.
    Amber,
}

impl Ink {
    /// sRGB.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Ink::Black => [0, 0, 0],
            Ink::Red => [204, 0, 0],
            Ink::Amber => [176, 84, 0],
        }
    }
}

/// One line of text: its left edge and baseline, and its font size (the em), mm.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// What it says.
    pub text: String,
    /// Left edge.
    pub x_mm: f64,
    /// Baseline.
    pub y_mm: f64,
    /// Font size (em), mm.
    pub size_mm: f64,
    /// Colour.
    pub ink: Ink,
    /// Bold.
    pub bold: bool,
}

impl Text {
    /// Plain black text.
    pub(crate) fn new(text: impl Into<String>, x_mm: f64, y_mm: f64, size_mm: f64) -> Text {
        Text {
            text: text.into(),
            x_mm,
            y_mm,
            size_mm,
            ink: Ink::Black,
            bold: false,
        }
    }

    /// The box its ink can cover, from the PNG fonts' metrics (wider than a typical SVG
    /// sans-serif, so the SVG's text fits in it too).
    pub fn bounds(&self) -> Rect {
        let k = PNG_PX_PER_MM;
        let scale = png::scale_for(self.size_mm);
        let w = font::width(&self.text, scale) + u32::from(self.bold);
        let up = f64::from(font::ascent(&self.text, scale)) / k;
        let down = f64::from((font::ROWS - font::ASCENT) * scale) / k;
        Rect {
            x: self.x_mm,
            y: self.y_mm - up,
            w: f64::from(w) / k,
            h: up + down,
        }
    }

    /// The same text made to end by `right_mm`: one font step smaller (not below 2.2 mm), then
    /// cut short with `...`.
    pub(crate) fn fitted(mut self, right_mm: f64) -> Text {
        while self.size_mm > 2.3 && self.right() > right_mm {
            let scale = png::scale_for(self.size_mm) - 1;
            self.size_mm = f64::from(scale * font::ROWS) / PNG_PX_PER_MM;
        }
        let full: Vec<char> = self.text.chars().collect();
        let mut n = full.len();
        while n > 0 && self.right() > right_mm {
            n -= 1;
            let kept: String = full[..n].iter().collect();
            self.text = format!("{}...", kept.trim_end());
        }
        self
    }

    /// The right edge of [`bounds`](Self::bounds), mm.
    pub fn right(&self) -> f64 {
        let b = self.bounds();
        b.x + b.w
    }
}

/// One drawn signal: its points, the box it is clipped to (its cell), and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Points, mm.
    pub points_mm: Vec<(f64, f64)>,
    /// Nothing of the trace is drawn outside this box.
    pub clip: Rect,
    /// The lead's name, placed inside `clip` where the trace is not.
    pub label: Text,
}

/// One page, ready to be written as SVG or PNG.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Width, mm.
    pub width_mm: f64,
    /// Height, mm.
    pub height_mm: f64,
    /// Where the millimetre grid is.
    pub grid: Rect,
    /// Header, table, flags, row times, footer.
    pub texts: Vec<Text>,
    /// The signals.
    pub traces: Vec<Trace>,
    /// Calibration pulses (1 mV), in the left margin, one per row of ECG leads.
    pub pulses: Vec<Vec<(f64, f64)>>,
}

/// Every page of `ecg`: the 12-lead page, then the rhythm pages of the whole recording. Each
/// carries `info` and a footer naming the patient and "page k of n".
pub fn pages(ecg: &Ecg, analysis: &Analysis, info: &PageInfo) -> Vec<Page> {
    let (leads, _) = conditioned(ecg);
    let mut out = vec![strips::twelve_lead_page(ecg, &leads, analysis, info)];
    out.extend(strips::rhythm_pages(ecg, &leads, info));
    let n = out.len();
    for (k, p) in out.iter_mut().enumerate() {
        let footer = header::footer(info, k + 1, n, p.height_mm - 1.5);
        p.texts.push(footer.fitted(p.width_mm - LEFT_MM));
    }
    out
}

/// Page 1 alone, as SVG, for a recording whose identification is not at hand (the page says
/// so). The worker uses [`pages`] with the DICOM object's [`PageInfo`].
pub fn render_svg(ecg: &Ecg, analysis: &Analysis) -> String {
    page_svg(&first_page(ecg, analysis, &PageInfo::default()))
}

/// Page 1 alone, as PNG (see [`render_svg`]).
pub fn render_png(ecg: &Ecg, analysis: &Analysis) -> Result<Vec<u8>, crate::EcgError> {
    page_png(&first_page(ecg, analysis, &PageInfo::default()))
}

fn first_page(ecg: &Ecg, analysis: &Analysis, info: &PageInfo) -> Page {
    let (leads, _) = conditioned(ecg);
    strips::twelve_lead_page(ecg, &leads, analysis, info)
}
