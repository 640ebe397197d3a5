//! The 12-lead paper layout as SVG: 25 mm/s, 10 mm/mV, on a millimetre grid (1 mm minor,
//! 5 mm major lines), a 1 mV × 200 ms calibration pulse at the start of each row, leads in
//! the standard 3 × 4 arrangement (I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6, 2.5 s each)
//! plus a 10 s lead II rhythm strip, and the measurements and flags printed above.
//! ECGs without the twelve standard leads are drawn one lead per full-width row.
//! SVG user units are millimetres. [`render_png`] draws the same page as a PNG, its text in
//! a bitmap font of our own ([`font`](self::font), no system fonts). Both take their text —
//! the header lines and the lead labels, with their positions — from one function,
//! `page_text`.

mod font;
mod png;

use std::fmt::Write;

use crate::Ecg;
use crate::analysis::{Analysis, conditioned};
use crate::leads::find;

pub use png::{PNG_PX_PER_MM, render_png};

/// Paper speed, mm/s.
pub const MM_PER_S: f64 = 25.0;
/// Gain, mm/mV.
pub const MM_PER_MV: f64 = 10.0;
const ROW_MM: f64 = 30.0;
const LEFT_MM: f64 = 10.0;
const HEADER_MM: f64 = 28.0;
const STRIP_S: f64 = 10.0;

const LAYOUT: [[&str; 4]; 3] = [
    ["I", "aVR", "V1", "V4"],
    ["II", "aVL", "V2", "V5"],
    ["III", "aVF", "V3", "V6"],
];

/// One trace on the page.
struct Cell {
    lead: usize,
    t0: f64,
    dur: f64,
    x_mm: f64,
    row: usize,
    label: String,
}

/// The traces of the page and its number of rows.
fn layout(names: &[String]) -> (Vec<Cell>, usize) {
    let twelve = LAYOUT.iter().flatten().all(|n| find(names, n).is_some());
    let mut cells = Vec::new();
    if twelve {
        for (row, line) in LAYOUT.iter().enumerate() {
            for (col, name) in line.iter().enumerate() {
                let t0 = col as f64 * 2.5;
                cells.push(Cell {
                    lead: find(names, name).unwrap_or(0),
                    t0,
                    dur: 2.5,
                    x_mm: t0 * MM_PER_S,
                    row,
                    label: name.to_string(),
                });
            }
        }
        cells.push(Cell {
            lead: find(names, "II").unwrap_or(0),
            t0: 0.0,
            dur: STRIP_S,
            x_mm: 0.0,
            row: 3,
            label: "II".into(),
        });
    } else {
        for (row, n) in names.iter().enumerate() {
            cells.push(Cell {
                lead: row,
                t0: 0.0,
                dur: STRIP_S,
                x_mm: 0.0,
                row,
                label: n.clone(),
            });
        }
    }
    let rows = cells.iter().map(|c| c.row).max().map_or(1, |r| r + 1);
    (cells, rows)
}

fn page_mm(rows: usize) -> (f64, f64) {
    (
        LEFT_MM + STRIP_S * MM_PER_S + 10.0,
        HEADER_MM + rows as f64 * ROW_MM + 5.0,
    )
}

/// The baseline of a row of traces, mm from the top of the page.
fn row_baseline_mm(row: usize) -> f64 {
    HEADER_MM + (row as f64 + 0.5) * ROW_MM
}

/// The 1 mV × 200 ms calibration pulse at the start of the row whose baseline is `y0`.
fn calibration_mm(y0: f64) -> [(f64, f64); 6] {
    let (x, h, w) = (2.0, MM_PER_MV, 0.2 * MM_PER_S);
    [
        (x, y0),
        (x + 1.0, y0),
        (x + 1.0, y0 - h),
        (x + 1.0 + w, y0 - h),
        (x + 1.0 + w, y0),
        (x + 2.0 + w, y0),
    ]
}

/// One line of text on the page: its left edge and baseline, mm, and its font size, mm.
#[derive(Debug, Clone, PartialEq)]
struct Text {
    text: String,
    x_mm: f64,
    y_mm: f64,
    size_mm: f64,
}

/// All the text of the page, for both renderers: the header (our measurements, the flags,
/// the device's measurements when it gave any, the paper speed and gain) and one label per
/// trace. Empty lines are left out.
fn page_text(cells: &[Cell], a: &Analysis) -> Vec<Text> {
    let sizes = [3.5, 3.0, 3.0, 2.5];
    let header = header_lines(a).into_iter().zip(sizes).enumerate();
    let header = header.map(|(k, (text, size_mm))| Text {
        text,
        x_mm: LEFT_MM,
        y_mm: 6.0 + 6.0 * k as f64,
        size_mm,
    });
    let labels = cells.iter().map(|c| Text {
        text: c.label.clone(),
        x_mm: LEFT_MM + c.x_mm + 1.0,
        y_mm: row_baseline_mm(c.row) - ROW_MM / 2.0 + 4.0,
        size_mm: 3.0,
    });
    header
        .chain(labels)
        .filter(|t| !t.text.is_empty())
        .collect()
}

/// Renders `ecg` with `analysis` printed above it.
pub fn render_svg(ecg: &Ecg, analysis: &Analysis) -> String {
    let (leads, _) = conditioned(ecg);
    let names: Vec<String> = ecg.leads.iter().map(|l| l.name.clone()).collect();
    let (cells, rows) = layout(&names);
    let (width, height) = page_mm(rows);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" viewBox="0 0 {width} {height}">"#
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    grid(&mut s, width, height);
    for c in &cells {
        let y0 = row_baseline_mm(c.row);
        calibration(&mut s, y0);
        let x0 = LEFT_MM + c.x_mm;
        trace(&mut s, &leads[c.lead], ecg.fs, c.t0, c.dur, x0, y0);
    }
    for t in page_text(&cells, analysis) {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="{}" font-family="sans-serif">{}</text>"#,
            t.x_mm,
            t.y_mm,
            t.size_mm,
            escape(&t.text)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn grid(s: &mut String, w: f64, h: f64) {
    let mut minor = String::new();
    let mut major = String::new();
    let mut x = 0.0;
    let mut k = 0;
    while x <= w {
        let d = if k % 5 == 0 { &mut major } else { &mut minor };
        let _ = write!(d, "M{x} {HEADER_MM}V{h}");
        x += 1.0;
        k += 1;
    }
    let mut y = HEADER_MM;
    k = 0;
    while y <= h {
        let d = if k % 5 == 0 { &mut major } else { &mut minor };
        let _ = write!(d, "M0 {y}H{w}");
        y += 1.0;
        k += 1;
    }
    let _ = write!(
        s,
        r##"<path d="{minor}" stroke="#f6c8c8" stroke-width="0.08" fill="none"/>"##
    );
    let _ = write!(
        s,
        r##"<path d="{major}" stroke="#e89494" stroke-width="0.18" fill="none"/>"##
    );
}

fn calibration(s: &mut String, y0: f64) {
    let mut d = String::new();
    for (k, (x, y)) in calibration_mm(y0).into_iter().enumerate() {
        let _ = write!(d, "{}{x} {y}", if k == 0 { "M" } else { "L" });
    }
    let _ = write!(
        s,
        r#"<path d="{d}" stroke="black" stroke-width="0.25" fill="none"/>"#
    );
}

fn trace(s: &mut String, x: &[f32], fs: f64, t0: f64, dur: f64, x0: f64, y0: f64) {
    let a = (t0 * fs) as usize;
    let b = (((t0 + dur) * fs) as usize).min(x.len());
    if a >= b {
        return;
    }
    // At most 10 points per millimetre.
    let step = ((fs / (10.0 * MM_PER_S)) as usize).max(1);
    let mut d = String::with_capacity((b - a) / step * 14);
    for (k, i) in (a..b).step_by(step).enumerate() {
        let px = x0 + (i - a) as f64 / fs * MM_PER_S;
        let py = y0 - x[i] as f64 / 1000.0 * MM_PER_MV;
        let _ = write!(d, "{}{px:.2} {py:.2}", if k == 0 { "M" } else { "L" });
    }
    let _ = write!(
        s,
        r#"<path d="{d}" stroke="black" stroke-width="0.25" fill="none"/>"#
    );
}

fn fmt(v: Option<f64>, unit: &str) -> String {
    v.map_or("—".into(), |v| format!("{v:.0} {unit}"))
}

/// The four header lines: our measurements, the flags, the device's measurements (empty
/// when the recording carries none) and the paper speed and gain.
fn header_lines(a: &Analysis) -> [String; 4] {
    let m = a.measurements.as_ref();
    let r = a.rhythm.as_ref();
    let line1 = format!(
        "HR {}  RR {}  PR {}  QRS {}  QT {}  QTc Bazett {}  Fridericia {}  Axis {}",
        fmt(r.map(|r| r.hr_bpm), "bpm"),
        fmt(r.map(|r| r.rr_ms), "ms"),
        fmt(m.and_then(|m| m.pr_ms), "ms"),
        fmt(m.map(|m| m.qrs_ms), "ms"),
        fmt(m.and_then(|m| m.qt_ms), "ms"),
        fmt(a.qtc_bazett_ms, "ms"),
        fmt(a.qtc_fridericia_ms, "ms"),
        fmt(m.and_then(|m| m.axis_deg), "°"),
    );
    let flags: Vec<String> = a
        .flags
        .iter()
        .map(|f| {
            let tag = if f.critical {
                "CRITICAL"
            } else if f.urgent {
                "URGENT"
            } else {
                "note"
            };
            format!("[{tag}] {}", f.message)
        })
        .collect();
    let line2 = if flags.is_empty() {
        "No flags".to_string()
    } else {
        flags.join("  ")
    };
    let line3 = a.device.as_ref().map_or(String::new(), |d| {
        format!(
            "Device: RR {}  PR {}  QRS {}  QT {}  QTc {}  {}",
            fmt(d.rr_ms, "ms"),
            fmt(d.pr_ms, "ms"),
            fmt(d.qrs_ms, "ms"),
            fmt(d.qt_ms, "ms"),
            fmt(d.qtc_ms, "ms"),
            d.statements.join("; ")
        )
    });
    let scale = format!("{MM_PER_S} mm/s  {MM_PER_MV} mm/mV");
    [line1, line2, line3, scale]
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
