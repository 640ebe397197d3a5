//! Lists the missed reference beats and the false detections of QRS detection on the records
//! under a directory (from minute 5): `qrs_diag DIR [RECORD…]`.

use std::path::PathBuf;

use worker_ecg::eval::{MATCH_WINDOW_S, START_S, discover, is_ec57_beat, pairs};
use worker_ecg::wfdb::{read_annotations, read_wfdb};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(&args[0]);
    for header in discover(&dir).unwrap() {
        let rec = read_wfdb(&header).unwrap();
        if args.len() > 1 && !args[1..].contains(&rec.header.record) {
            continue;
        }
        let ann = read_annotations(&header.with_extension("atr")).unwrap();
        let ecg = rec.to_ecg();
        let fs = ecg.fs;
        let raw: Vec<&[f32]> = ecg.leads.iter().map(|l| l.samples_uv.as_slice()).collect();
        let beats = worker_ecg::qrs::detect(&raw, fs).beats;
        let refs: Vec<_> = ann.iter().filter(|a| is_ec57_beat(a.code)).collect();
        let samples: Vec<usize> = refs.iter().map(|a| a.sample as usize).collect();
        let start = (START_S * fs) as usize;
        let m = pairs(
            &samples,
            &beats,
            start,
            (MATCH_WINDOW_S * fs).round() as usize,
        );
        let mut rf = vec![false; refs.len()];
        let mut tf = vec![false; beats.len()];
        for (r, t) in m {
            rf[r] = true;
            tf[t] = true;
        }
        let name = &rec.header.record;
        for (i, a) in refs.iter().enumerate() {
            if a.sample as usize >= start && !rf[i] {
                let near = beats
                    .iter()
                    .map(|&b| b as i64 - a.sample as i64)
                    .min_by_key(|d| d.abs())
                    .unwrap();
                let rr = if i > 0 {
                    a.sample - refs[i - 1].sample
                } else {
                    0
                };
                println!(
                    "{name}\tFN\t{:.2}\tcode {}\tnearest det {:+} ms\tRR {} ms",
                    a.sample as f64 / fs,
                    a.code,
                    near as f64 * 1000.0 / fs,
                    rr as f64 * 1000.0 / fs
                );
            }
        }
        for (j, &b) in beats.iter().enumerate() {
            if b >= start && !tf[j] {
                let k = samples.partition_point(|&s| s < b);
                let prev = if k > 0 { Some(&refs[k - 1]) } else { None };
                let d = prev.map_or(0.0, |p| (b - p.sample as usize) as f64 * 1000.0 / fs);
                println!(
                    "{name}\tFP\t{:.2}\tafter code {} by {:.0} ms",
                    b as f64 / fs,
                    prev.map_or(0, |p| p.code),
                    d
                );
            }
        }
    }
}
