//! Where the traces go: the 12-lead page's cells and the rhythm pages' rows, each trace
//! clipped to its cell, with its label placed where the trace is not.

use super::header::{rhythm_header, twelve_lead_header};
use super::{LEFT_MM, MM_PER_MV, MM_PER_S, PAGE_WIDTH_MM, Page, Rect, Text, Trace};
use crate::Ecg;
use crate::analysis::Analysis;
use crate::leads::{STANDARD, find, standard_name};
use crate::page_info::PageInfo;

/// Rows of page 1 are this tall, mm.
const ROW_MM: f64 = 30.0;
/// Page 1 shows this many seconds per row.
const STRIP_S: f64 = 10.0;
const BOTTOM_MM: f64 = 5.0;
const LABEL_MM: f64 = 3.0;

/// Paper speed of the rhythm pages, mm/s (half the standard speed, as full disclosure
/// printouts use).
pub const RHYTHM_MM_PER_S: f64 = 12.5;
/// Gain of the rhythm pages, mm/mV.
pub const RHYTHM_MM_PER_MV: f64 = 5.0;
/// Seconds per rhythm-page row.
pub const RHYTHM_ROW_S: f64 = 20.0;
const RHYTHM_ROWS: usize = 12;
const RHYTHM_ROW_MM: f64 = 16.0;
/// At most this many rhythm pages (4 h); a longer recording says on its last page how much
/// is not drawn (the stored object keeps all of it).
pub const MAX_RHYTHM_PAGES: usize = 60;

const LAYOUT: [[&str; 4]; 3] = [
    ["I", "aVR", "V1", "V4"],
    ["II", "aVL", "V2", "V5"],
    ["III", "aVF", "V3", "V6"],
];

/// The one name a lead goes by on the page: the standard name (`I` … `V6`) when the label is
/// one, however spelt (`Lead I (Einthoven)`, `avf`); otherwise the label as stated (`MLII`,
/// `V`, `RESP`), with a parenthesised description dropped.
pub fn lead_label(name: &str) -> String {
    let bare = name.split('(').next().unwrap_or(name).trim();
    let bare = ["Lead ", "LEAD ", "lead "]
        .iter()
        .find_map(|p| bare.strip_prefix(p))
        .unwrap_or(bare)
        .trim();
    match STANDARD.iter().find(|s| s.eq_ignore_ascii_case(bare)) {
        Some(s) => (*s).to_string(),
        None if bare.is_empty() => name.trim().to_string(),
        None => bare.to_string(),
    }
}

/// Whether a lead is an ECG lead (drawn with a calibration pulse): a standard lead, or a
/// label ECG sources use for the others (`MLII`, `MCL1`, `V`, `CM5`, `ECG`, Frank `vx`).
pub fn is_ecg_lead(name: &str) -> bool {
    let l = lead_label(name).to_ascii_uppercase();
    standard_name(name).is_some()
        || ["ECG", "EKG", "MCL", "CM", "CC", "ML", "V"]
            .iter()
            .any(|p| l.starts_with(p))
}

/// What a trace's label says: its name, and "not ECG" for other signals.
fn label_text(name: &str) -> String {
    if is_ecg_lead(name) {
        lead_label(name)
    } else {
        format!("{} (not ECG)", lead_label(name))
    }
}

/// One trace to draw: which lead, from when, for how long, where.
struct Cell {
    lead: usize,
    t0: f64,
    dur: f64,
    clip: Rect,
}

/// Page 1: header, then the 12-lead cells and rhythm strip, then a row per other lead (or a
/// row per lead when the twelve standard leads are not all there).
pub(super) fn twelve_lead_page(
    ecg: &Ecg,
    leads: &[Vec<f32>],
    a: &Analysis,
    info: &PageInfo,
) -> Page {
    let (texts, top) = twelve_lead_header(ecg, a, info);
    let names: Vec<String> = ecg.leads.iter().map(|l| l.name.clone()).collect();
    let cell = |lead, row: usize, col: f64, dur: f64| Cell {
        lead,
        t0: col * 2.5,
        dur,
        clip: Rect {
            x: LEFT_MM + col * 2.5 * MM_PER_S,
            y: top + row as f64 * ROW_MM,
            w: dur * MM_PER_S,
            h: ROW_MM,
        },
    };
    let twelve = STANDARD.iter().all(|n| find(&names, n).is_some());
    let mut cells = Vec::new();
    let mut rest: Vec<usize> = (0..names.len()).collect();
    if twelve {
        for (row, line) in LAYOUT.iter().enumerate() {
            for (col, name) in line.iter().enumerate() {
                let lead = find(&names, name).unwrap_or(0);
                cells.push(cell(lead, row, col as f64, 2.5));
            }
        }
        let ii = find(&names, "II").unwrap_or(0);
        cells.push(cell(ii, 3, 0.0, STRIP_S));
        rest.retain(|&i| standard_name(&names[i]).is_none());
    }
    let first_free = cells.len().div_ceil(4).min(4);
    for (k, &lead) in rest.iter().enumerate() {
        cells.push(cell(lead, first_free + k, 0.0, STRIP_S));
    }
    let rows = cells.iter().map(|c| c.clip.y).fold(top, f64::max) + ROW_MM;
    let grid = Rect {
        x: 0.0,
        y: top,
        w: PAGE_WIDTH_MM,
        h: rows - top,
    };
    draw_cells(ecg, leads, &cells, texts, grid, MM_PER_S, MM_PER_MV)
}

/// The page of `cells` under `texts`: each trace clipped to its cell and labelled; a
/// calibration pulse at the start of each row whose first trace is an ECG lead.
fn draw_cells(
    ecg: &Ecg,
    leads: &[Vec<f32>],
    cells: &[Cell],
    texts: Vec<Text>,
    grid: Rect,
    mm_per_s: f64,
    mm_per_mv: f64,
) -> Page {
    let mut traces = Vec::new();
    let mut pulses = Vec::new();
    for c in cells {
        let y0 = c.clip.y + c.clip.h * 0.6;
        let name = &ecg.leads[c.lead].name;
        if c.clip.x == LEFT_MM && is_ecg_lead(name) {
            pulses.push(calibration(y0, mm_per_s, mm_per_mv));
        }
        let points = trace_mm(&leads[c.lead], ecg.fs, c, y0, mm_per_s, mm_per_mv);
        let label = place_label(&label_text(name), &c.clip, &points);
        traces.push(Trace {
            points_mm: points,
            clip: c.clip,
            label,
        });
    }
    Page {
        width_mm: PAGE_WIDTH_MM,
        height_mm: grid.y + grid.h + BOTTOM_MM,
        grid,
        texts,
        traces,
        pulses,
    }
}

/// The 1 mV × 200 ms calibration pulse in the left margin, on baseline `y0`.
fn calibration(y0: f64, mm_per_s: f64, mm_per_mv: f64) -> Vec<(f64, f64)> {
    let (x, h, w) = (2.0, mm_per_mv, 0.2 * mm_per_s);
    vec![
        (x, y0),
        (x + 1.0, y0),
        (x + 1.0, y0 - h),
        (x + 1.0 + w, y0 - h),
        (x + 1.0 + w, y0),
        (x + 2.0 + w, y0),
    ]
}

/// The points of one trace, mm: about 10 per millimetre, two per step of 0.2 mm, its lowest
/// and highest sample (so no R wave is lost between points).
fn trace_mm(
    x: &[f32],
    fs: f64,
    c: &Cell,
    y0: f64,
    mm_per_s: f64,
    mm_per_mv: f64,
) -> Vec<(f64, f64)> {
    let a = ((c.t0 * fs) as usize).min(x.len());
    let b = (((c.t0 + c.dur) * fs) as usize).min(x.len());
    let step = ((fs / (5.0 * mm_per_s)) as usize).max(1);
    let px = |i: usize| c.clip.x + (i - a) as f64 / fs * mm_per_s;
    let py = |v: f32| y0 - f64::from(v) / 1000.0 * mm_per_mv;
    let mut out = Vec::with_capacity(2 * (b - a) / step + 2);
    for s in (a..b).step_by(step) {
        let e = (s + step).min(b);
        let (lo, hi) = (s..e).fold((s, s), |(lo, hi), i| {
            (
                if x[i] < x[lo] { i } else { lo },
                if x[i] > x[hi] { i } else { hi },
            )
        });
        let (p, q) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push((px(p), py(x[p])));
        if q != p {
            out.push((px(q), py(x[q])));
        }
    }
    out
}

/// Whether a trace (its segments' boxes) crosses `r`.
pub fn trace_hits(points: &[(f64, f64)], r: &Rect) -> bool {
    points.windows(2).any(|s| {
        let (x0, x1) = (s[0].0.min(s[1].0), s[0].0.max(s[1].0));
        let (y0, y1) = (s[0].1.min(s[1].1), s[0].1.max(s[1].1));
        x0 <= r.x + r.w && r.x <= x1 && y0 <= r.y + r.h && r.y <= y1
    })
}

/// The label of a cell: near its top left corner, else the bottom left, else further right,
/// wherever the trace leaves it room; the top left corner when it leaves none.
fn place_label(text: &str, clip: &Rect, points: &[(f64, f64)]) -> Text {
    let probe = Text::new(text, 0.0, 0.0, LABEL_MM).bounds();
    let (above, below) = (-probe.y, probe.h + probe.y);
    let tops = [clip.y + 0.5 + above, clip.y + clip.h - 0.5 - below];
    let mut x = clip.x + 1.0;
    while x + probe.w + 0.5 <= clip.x + clip.w {
        for y in tops {
            let t = Text::new(text, x, y, LABEL_MM);
            let mut room = t.bounds();
            (room.x, room.w) = (room.x - 0.3, room.w + 0.6);
            if !trace_hits(points, &room) {
                return t;
            }
        }
        x += 2.0;
    }
    Text::new(text, clip.x + 1.0, tops[0], LABEL_MM)
}

/// The lead the rhythm pages show: II, else the first ECG lead, else the first.
fn rhythm_lead(ecg: &Ecg) -> usize {
    let names: Vec<String> = ecg.leads.iter().map(|l| l.name.clone()).collect();
    find(&names, "II")
        .or_else(|| names.iter().position(|n| is_ecg_lead(n)))
        .unwrap_or(0)
}

/// `mm:ss`.
fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// The rhythm pages: the whole recording of one lead when it is longer than page 1's 10 s.
pub(super) fn rhythm_pages(ecg: &Ecg, leads: &[Vec<f32>], info: &PageInfo) -> Vec<Page> {
    let dur = ecg.len() as f64 / ecg.fs;
    if dur <= STRIP_S + 1e-9 || ecg.leads.is_empty() {
        return Vec::new();
    }
    let per_page = RHYTHM_ROW_S * RHYTHM_ROWS as f64;
    let needed = (dur / per_page).ceil() as usize;
    let n = needed.min(MAX_RHYTHM_PAGES);
    let lead = rhythm_lead(ecg);
    (0..n)
        .map(|p| {
            let (t0, t1) = (p as f64 * per_page, ((p + 1) as f64 * per_page).min(dur));
            let mut what = format!(
                "Rhythm, lead {}: {}–{} of {}, {RHYTHM_MM_PER_S} mm/s, {RHYTHM_MM_PER_MV} mm/mV.",
                label_text(&ecg.leads[lead].name),
                clock(t0),
                clock(t1),
                clock(dur)
            );
            if p + 1 == n && needed > n {
                what += &format!(" Not drawn: the {} after this page.", clock(dur - t1));
            }
            rhythm_page(ecg, leads, lead, (t0, t1), info, what)
        })
        .collect()
}

/// One rhythm page: rows of [`RHYTHM_ROW_S`] from `t0` to `t1`, each with its start time in
/// the margin.
fn rhythm_page(
    ecg: &Ecg,
    leads: &[Vec<f32>],
    lead: usize,
    (t0, t1): (f64, f64),
    info: &PageInfo,
    what: String,
) -> Page {
    let (mut texts, top) = rhythm_header(info, what);
    let rows = ((t1 - t0) / RHYTHM_ROW_S).ceil().max(1.0) as usize;
    let cells: Vec<Cell> = (0..rows)
        .map(|r| {
            let start = t0 + r as f64 * RHYTHM_ROW_S;
            let y = top + r as f64 * RHYTHM_ROW_MM;
            texts.push(Text::new(clock(start), 1.0, y + 3.6, 2.5));
            Cell {
                lead,
                t0: start,
                dur: RHYTHM_ROW_S.min(t1 - start),
                clip: Rect {
                    x: LEFT_MM,
                    y,
                    w: RHYTHM_ROW_S.min(t1 - start) * RHYTHM_MM_PER_S,
                    h: RHYTHM_ROW_MM,
                },
            }
        })
        .collect();
    let grid = Rect {
        x: 0.0,
        y: top,
        w: PAGE_WIDTH_MM,
        h: rows as f64 * RHYTHM_ROW_MM,
    };
    draw_cells(
        ecg,
        leads,
        &cells,
        texts,
        grid,
        RHYTHM_MM_PER_S,
        RHYTHM_MM_PER_MV,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_per_lead() {
        assert_eq!(lead_label("Lead I (Einthoven)"), "I");
        assert_eq!(lead_label("Lead aVR (Goldberger)"), "aVR");
        assert_eq!(lead_label("avf"), "aVF");
        assert_eq!(lead_label("V"), "V");
        assert_eq!(lead_label("MLII"), "MLII");
        assert_eq!(label_text("RESP"), "RESP (not ECG)");
        assert_eq!(label_text("MCL1"), "MCL1");
        assert!(is_ecg_lead("vx") && !is_ecg_lead("PLETH") && !is_ecg_lead("ABP"));
    }

    #[test]
    fn clock_is_minutes_and_seconds() {
        assert_eq!(clock(0.0), "00:00");
        assert_eq!(clock(1805.56), "30:06");
    }
}
