//! The 12-lead paper layout as SVG: 25 mm/s, 10 mm/mV, on a millimetre grid (1 mm minor,
//! 5 mm major lines), a 1 mV × 200 ms calibration pulse at the start of each row, leads in
//! the standard 3 × 4 arrangement (I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6, 2.5 s each)
//! plus a 10 s lead II rhythm strip, and the measurements and flags printed above.
//! ECGs without the twelve standard leads are drawn one lead per full-width row.
//! SVG user units are millimetres.

use std::fmt::Write;

use crate::Ecg;
use crate::analysis::{Analysis, conditioned};
use crate::leads::find;

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

/// Renders `ecg` with `analysis` printed above it.
pub fn render_svg(ecg: &Ecg, analysis: &Analysis) -> String {
    let (leads, _) = conditioned(ecg);
    let names: Vec<String> = ecg.leads.iter().map(|l| l.name.clone()).collect();
    let twelve = LAYOUT.iter().flatten().all(|n| find(&names, n).is_some());
    // (lead index, start s, duration s, x mm, row)
    let mut cells: Vec<(usize, f64, f64, f64, usize, String)> = Vec::new();
    if twelve {
        for (row, line) in LAYOUT.iter().enumerate() {
            for (col, name) in line.iter().enumerate() {
                let i = find(&names, name).unwrap_or(0);
                let t0 = col as f64 * 2.5;
                cells.push((i, t0, 2.5, t0 * MM_PER_S, row, name.to_string()));
            }
        }
        let ii = find(&names, "II").unwrap_or(0);
        cells.push((ii, 0.0, STRIP_S, 0.0, 3, "II".into()));
    } else {
        for (row, n) in names.iter().enumerate() {
            cells.push((row, 0.0, STRIP_S, 0.0, row, n.clone()));
        }
    }
    let rows = cells.iter().map(|c| c.4).max().map_or(1, |r| r + 1);
    let width = LEFT_MM + STRIP_S * MM_PER_S + 10.0;
    let height = HEADER_MM + rows as f64 * ROW_MM + 5.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" viewBox="0 0 {width} {height}">"#
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    grid(&mut s, width, height);
    header(&mut s, analysis);
    for (i, t0, dur, x0, row, name) in &cells {
        let y0 = HEADER_MM + (*row as f64 + 0.5) * ROW_MM;
        calibration(&mut s, y0);
        trace(&mut s, &leads[*i], ecg.fs, *t0, *dur, LEFT_MM + x0, y0);
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="3" font-family="sans-serif">{}</text>"#,
            LEFT_MM + x0 + 1.0,
            y0 - ROW_MM / 2.0 + 4.0,
            escape(name)
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
    let (x, h, w) = (2.0, MM_PER_MV, 0.2 * MM_PER_S);
    let _ = write!(
        s,
        r#"<path d="M{x} {y0}h1v-{h}h{w}v{h}h1" stroke="black" stroke-width="0.25" fill="none"/>"#
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

fn header(s: &mut String, a: &Analysis) {
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
    for (k, (t, size)) in [(line1, 3.5), (line2, 3.0), (line3, 3.0), (scale, 2.5)]
        .into_iter()
        .enumerate()
    {
        let _ = write!(
            s,
            r#"<text x="{LEFT_MM}" y="{:.1}" font-size="{size}" font-family="sans-serif">{}</text>"#,
            6.0 + 6.0 * k as f64,
            escape(&t)
        );
    }
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
