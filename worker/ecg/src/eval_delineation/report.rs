//! The Markdown tables of `ecg-eval delineation`, and which boundaries miss the bar.

use super::run::{INTERVAL_NAMES, INTERVAL_TOLERANCE_MS, RecordResult, Summary};
use super::{Bar, Boundary, WaveScores};
use crate::error::EcgError;

fn rows(s: &mut String, label: &str, w: &WaveScores, bar: &Bar) {
    for b in Boundary::ALL {
        let st = w.get(b);
        let verdict = match (st.tp, bar.miss(b, st)) {
            (0, _) => "–".to_string(),
            (_, None) => "yes".to_string(),
            (_, Some(_)) => "no".to_string(),
        };
        *s += &format!(
            "| {label} | {} | {} | {:.1} | {:.1} | {:+.1} | {:.1} | {:.1} | {verdict} |\n",
            b.name(),
            st.tp + st.fn_,
            st.se(),
            st.ppv(),
            st.mean_ms(),
            st.sd_ms(),
            bar.sd_scale * b.cse_sd_ms(),
        );
    }
}

/// The tables: per boundary and database, Se / +P and mean ± SD of the error against the
/// cardiologists (and, on the QT Database records with a `.q2c`, the second cardiologist
/// against the first); then the PR / QRS / QT agreement on LUDB. Records that could not be
/// scored are listed under the tables.
pub fn table(summary: &Summary, results: &[Result<RecordResult, EcgError>], bar: &Bar) -> String {
    let mut s = String::from(
        "| reference | boundary | marked | Se % | +P % | mean ms | SD ms | SD bar ms | within bar |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let l = &summary.ludb;
    if l.records > 0 {
        rows(
            &mut s,
            &format!("LUDB ({} records)", l.records),
            &l.ours,
            bar,
        );
    }
    let q = &summary.qtdb;
    if q.records > 0 {
        rows(
            &mut s,
            &format!("QTDB q1c ({} records)", q.records),
            &q.ours,
            bar,
        );
    }
    let t = &summary.qtdb_two_ours;
    if t.records > 0 {
        let n = t.records;
        rows(&mut s, &format!("QTDB q1c, the {n} with q2c"), &t.ours, bar);
        let c = &summary.qtdb_two_cardiologists;
        rows(&mut s, &format!("q2c vs q1c (cardiologists, {n})"), c, bar);
    }
    s += &format!(
        "\nBar: SD within {} × the CSE tolerances, |mean| ≤ {} ms (the goal: 1 × and 5 ms); \
         error = ours − cardiologist.\n",
        bar.sd_scale, bar.max_mean_ms
    );
    if summary.intervals.iter().any(|x| x.1 > 0) {
        s += "\n| LUDB interval | tolerance ms | records within | of | % |\n|---|---:|---:|---:|---:|\n";
        for (i, name) in INTERVAL_NAMES.iter().enumerate() {
            let (k, n) = summary.intervals[i];
            s += &format!(
                "| {name} | ±{} | {k} | {n} | {:.1} |\n",
                INTERVAL_TOLERANCE_MS[i],
                summary.interval_pct(i)
            );
        }
        let (n, k) = summary.intervals_all;
        s += &format!(
            "| all three | | {k} | {n} | {:.1} |\n",
            100.0 * k as f64 / n.max(1) as f64
        );
    }
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        s += &format!("\nnot scored: {e}\n");
    }
    s
}

/// Why the delineation misses `bar`, one line per boundary and database (the cardiologists'
/// own disagreement is shown, not judged). Empty when it meets it.
pub fn misses(summary: &Summary, bar: &Bar) -> Vec<String> {
    let mut out = Vec::new();
    for (name, p) in [("LUDB", &summary.ludb), ("QTDB", &summary.qtdb)] {
        for b in Boundary::ALL {
            let st = p.ours.get(b);
            if st.tp > 0 {
                out.extend(bar.miss(b, st).map(|m| format!("{name} {m}")));
            }
        }
    }
    out
}

/// One row per record: each boundary's mean ± SD of the error (ms) and its TP / FN / FP, to
/// find the records behind a pooled figure; on LUDB, the PR, QRS and QT reported beside the
/// cardiologists' (ours / theirs, ms, `*` beyond the tolerance).
pub fn record_table(results: &[Result<RecordResult, EcgError>]) -> String {
    let mut s = String::from("| record |");
    for b in Boundary::ALL {
        s += &format!(" {} |", b.name());
    }
    for name in INTERVAL_NAMES {
        s += &format!(" {name} ours / theirs |");
    }
    s += "\n|---|";
    s += &"---:|".repeat(Boundary::ALL.len() + INTERVAL_NAMES.len());
    s += "\n";
    for r in results.iter().flatten() {
        s += &format!("| {} |", r.record);
        for b in Boundary::ALL {
            let st = r.ours.get(b);
            s += &format!(
                " {:+.0} ± {:.0} ({}/{}/{}) |",
                st.mean_ms(),
                st.sd_ms(),
                st.tp,
                st.fn_,
                st.fp
            );
        }
        for i in 0..INTERVAL_NAMES.len() {
            s += &interval_cell(r, i);
        }
        s += "\n";
    }
    s
}

/// One interval's cell of [`record_table`]: ours / the cardiologists', `*` beyond tolerance.
fn interval_cell(r: &RecordResult, i: usize) -> String {
    let Some(iv) = &r.intervals else {
        return " |".to_string();
    };
    let ms = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.0}"));
    let flag = if iv.within(i) == Some(false) {
        " *"
    } else {
        ""
    };
    format!(" {} / {}{flag} |", ms(iv.ours[i]), ms(iv.reference[i]))
}
