//! The texts above the traces: who the patient is, the measurements table (ours beside the
//! device's), ST levels and the flags; and the short header and footer of every page.

use super::{Ink, LEFT_MM, MM_PER_MV, MM_PER_S, PAGE_WIDTH_MM, Text};
use crate::analysis::{Analysis, Flag};
use crate::page_info::PageInfo;
use crate::{DeviceMeasurements, Ecg};

/// Where the identification block ends and the measurement table begins, mm.
const TABLE_X: f64 = 156.0;
/// Columns of the table: label, ours, the device's.
const COLUMNS: [f64; 3] = [TABLE_X, TABLE_X + 42.0, TABLE_X + 74.0];
const RIGHT: f64 = PAGE_WIDTH_MM - LEFT_MM;

/// The header of the 12-lead page and the y (mm) where it ends.
pub(super) fn twelve_lead_header(ecg: &Ecg, a: &Analysis, info: &PageInfo) -> (Vec<Text>, f64) {
    let mut texts = identity(info, TABLE_X - 4.0);
    let table = table(a);
    let bottom = |t: &[Text]| t.iter().map(|t| t.y_mm).fold(0.0, f64::max);
    let mut y = bottom(&texts).max(bottom(&table)) + 1.0;
    texts.extend(table);
    let lines = [
        filters_line(ecg, a, info),
        other_channels(info),
        statements(a.device.as_ref()),
        ectopy_line(a),
    ];
    for line in lines.into_iter().flatten().chain([st_line(a)]) {
        for part in wrap(&line, 3.0) {
            y += 4.6;
            texts.push(Text::new(part, LEFT_MM, y, 3.0).fitted(RIGHT));
        }
    }
    for t in flag_lines(&a.flags, y + 2.0) {
        y = t.y_mm;
        texts.push(t);
    }
    (texts, y + 3.0)
}

/// Name (large), then ID, sex, age and birth date, acquisition time, institution, device.
fn identity(info: &PageInfo, right: f64) -> Vec<Text> {
    let or = |v: Option<&str>, what: &str| v.map_or(format!("{what} not stored"), str::to_string);
    let name = (!info.patient_name.is_empty()).then_some(info.patient_name.as_str());
    let mut first = Text::new(or(name, "Patient name"), LEFT_MM, 7.0, 5.0);
    first.bold = true;
    let lines = [
        person_line(info),
        format!(
            "Acquired {}",
            or(
                info.acquired.as_ref().map(|t| t.to_string()).as_deref(),
                "time"
            )
        ),
        format!("Institution {}", or(info.institution.as_deref(), "name")),
        format!("Device {}", or(info.device.as_deref(), "name")),
    ];
    let rest = lines
        .into_iter()
        .enumerate()
        .map(|(k, l)| Text::new(l, LEFT_MM, 12.5 + 4.6 * k as f64, 3.0).fitted(right));
    std::iter::once(first.fitted(right)).chain(rest).collect()
}

/// `ID 1101**********002X   female   42 y   born 1971-01-23`.
fn person_line(info: &PageInfo) -> String {
    let id = if info.patient_id_masked.is_empty() {
        "ID not stored".to_string()
    } else {
        format!("ID {}", info.patient_id_masked)
    };
    let sex = info.sex.map_or("sex not stored".into(), |s| s.to_string());
    let age = info.age.clone().unwrap_or_else(|| "age not stored".into());
    let mut parts = vec![id, sex, age];
    parts.extend(info.birth_date.as_ref().map(|b| format!("born {b}")));
    parts.join("   ")
}

/// The device's filters and the ones the page drew with.
fn filters_line(ecg: &Ecg, a: &Analysis, info: &PageInfo) -> Option<String> {
    // The page's own conditioning: `filter::condition` (0.5 Hz high-pass, the mains notch,
    // low-pass at 0.4 fs up to 100 Hz).
    let device = info
        .filters
        .as_ref()
        .map_or("not stored".into(), |f| f.to_string());
    let low_pass = (0.4 * ecg.fs).min(100.0);
    let notch = a
        .mains_hz
        .map_or("no notch".into(), |f| format!("notch {f:.0} Hz"));
    Some(format!(
        "Filters: device {device}; drawn 0.5–{low_pass:.0} Hz, {notch}"
    ))
}

/// The channels stored beside the ECG that are not leads: named, so a reader knows they exist
/// and that nothing on the page was measured on them.
fn other_channels(info: &PageInfo) -> Option<String> {
    (!info.other_channels.is_empty()).then(|| {
        format!(
            "Also recorded, not ECG (stored, not drawn or measured): {}",
            info.other_channels.join(", ")
        )
    })
}

/// The ectopic beats in the terms of Chinese reports, when there are any.
fn ectopy_line(a: &Analysis) -> Option<String> {
    let e = a.ectopy.as_ref()?;
    (e.ventricular.beats + e.supraventricular.beats > 0)
        .then(|| format!("Ectopic beats: {}", e.summary()))
}

fn statements(d: Option<&DeviceMeasurements>) -> Option<String> {
    let d = d.filter(|d| !d.statements.is_empty())?;
    Some(format!("Device statement: {}", d.statements.join("; ")))
}

fn value(v: Option<f64>, unit: &str) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) if unit == "°" => format!("{v:.0}°"),
        Some(v) => format!("{v:.0} {unit}"),
        None => "—".into(),
    }
}

/// The measurement table: one row per quantity, ours and the device's side by side; a
/// quantity the device did not give reads `—`.
fn table(a: &Analysis) -> Vec<Text> {
    let m = a.measurements.as_ref();
    let r = a.rhythm.as_ref();
    let d = a.device.as_ref();
    let dv = |f: fn(&DeviceMeasurements) -> Option<f64>| d.and_then(f);
    let rows: [(&str, Option<f64>, Option<f64>, &str); 9] = [
        ("Heart rate", r.map(|r| r.hr_bpm), dv(|d| d.hr_bpm), "bpm"),
        ("RR", r.map(|r| r.rr_ms), dv(|d| d.rr_ms), "ms"),
        ("PR", m.and_then(|m| m.pr_ms), dv(|d| d.pr_ms), "ms"),
        ("QRS", m.map(|m| m.qrs_ms), dv(|d| d.qrs_ms), "ms"),
        ("QT", m.and_then(|m| m.qt_ms), dv(|d| d.qt_ms), "ms"),
        ("QTc Bazett", a.qtc_bazett_ms, None, "ms"),
        ("QTc Fridericia", a.qtc_fridericia_ms, None, "ms"),
        ("QTc, device", None, dv(|d| d.qtc_ms), "ms"),
        ("QRS axis", m.and_then(|m| m.axis_deg), None, "°"),
    ];
    let mut out = Vec::new();
    for (k, head) in ["", "Hub", "Device"].into_iter().enumerate() {
        let mut t = Text::new(head, COLUMNS[k], 6.0, 3.0);
        t.bold = true;
        out.push(t);
    }
    for (i, (name, ours, device, unit)) in rows.into_iter().enumerate() {
        let y = 10.6 + 4.2 * i as f64;
        let cells = [name.to_string(), value(ours, unit), value(device, unit)];
        for (k, c) in cells.into_iter().enumerate() {
            let right = COLUMNS.get(k + 1).map_or(RIGHT, |x| x - 1.0);
            out.push(Text::new(c, COLUMNS[k], y, 3.0).fitted(right));
        }
    }
    out
}

/// Paper speed and gain, then ST at J + 60 ms per lead in millimetres at 10 mm/mV (the unit
/// the ST flags use), leads named as on the traces.
fn st_line(a: &Analysis) -> String {
    let scale = format!("{MM_PER_S} mm/s, {MM_PER_MV} mm/mV.");
    let st = a.measurements.as_ref().map(|m| &m.st_uv);
    match st.filter(|st| !st.is_empty()) {
        None => format!("{scale} ST not measured."),
        Some(st) => {
            let per_lead: Vec<String> = st
                .iter()
                .map(|(lead, uv)| {
                    // Rounded first, so that -0.04 mm prints as +0.0, not -0.0.
                    let mm = (f64::from(*uv) / 1000.0 * MM_PER_MV * 10.0).round() / 10.0 + 0.0;
                    format!("{} {mm:+.1}", super::strips::lead_label(lead))
                })
                .collect();
            format!("{scale} ST at J+60 ms, mm: {}", per_lead.join("  "))
        }
    }
}

/// The flags, most severe first: critical ones large, bold and red, urgent ones bold and
/// amber, notes in black; long ones wrap. The first baseline is `y0` + one line.
fn flag_lines(flags: &[Flag], y0: f64) -> Vec<Text> {
    let mut sorted: Vec<&Flag> = flags.iter().collect();
    sorted.sort_by_key(|f| (!f.critical, !f.urgent));
    if sorted.is_empty() {
        return vec![Text::new("No flags", LEFT_MM, y0 + 5.0, 3.5)];
    }
    let mut out = Vec::new();
    let mut y = y0;
    for f in sorted {
        let (tag, ink, size) = match (f.critical, f.urgent) {
            (true, _) => ("CRITICAL", Ink::Red, 4.5),
            (false, true) => ("URGENT", Ink::Amber, 4.0),
            _ => ("Note", Ink::Black, 3.2),
        };
        for line in wrap(&format!("{tag}: {}", f.message), size) {
            y += size * 1.3;
            let mut t = Text::new(line, LEFT_MM, y, size);
            t.ink = ink;
            t.bold = ink != Ink::Black;
            out.push(t.fitted(RIGHT));
        }
    }
    out
}

/// Greedy word wrap to the page's width at `size`.
fn wrap(text: &str, size: f64) -> Vec<String> {
    let fits = |s: &str| Text::new(s, LEFT_MM, 0.0, size).right() <= RIGHT;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let longer = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if fits(&longer) || line.is_empty() {
            line = longer;
        } else {
            lines.push(std::mem::replace(&mut line, format!("    {word}")));
        }
    }
    lines.push(line);
    lines
}

/// The header of a rhythm page: the patient in one line, then what the page shows.
pub(super) fn rhythm_header(info: &PageInfo, what: String) -> (Vec<Text>, f64) {
    let name = if info.patient_name.is_empty() {
        "Patient name not stored".to_string()
    } else {
        info.patient_name.clone()
    };
    let mut first = Text::new(format!("{name}   {}", person_line(info)), LEFT_MM, 6.5, 4.0);
    first.bold = true;
    let acquired = info
        .acquired
        .as_ref()
        .map_or("time not stored".into(), |t| t.to_string());
    let second = Text::new(format!("Acquired {acquired}.  {what}"), LEFT_MM, 12.0, 3.0);
    (vec![first.fitted(RIGHT), second.fitted(RIGHT)], 15.0)
}

/// `张三 (Zhang San) · ID 1101**********002X · page 2 of 9`, on baseline `y`.
pub(super) fn footer(info: &PageInfo, k: usize, n: usize, y: f64) -> Text {
    let name = if info.patient_name.is_empty() {
        "Patient name not stored"
    } else {
        &info.patient_name
    };
    let id = if info.patient_id_masked.is_empty() {
        "ID not stored".to_string()
    } else {
        format!("ID {}", info.patient_id_masked)
    };
    Text::new(format!("{name} · {id} · page {k} of {n}"), LEFT_MM, y, 2.5)
}
