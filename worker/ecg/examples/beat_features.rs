//! Dumps, for every beat of the annotated records under a directory, the reference label,
//! our class and the classification features as tab-separated lines (to study where the beat
//! rules fail): `cargo run --release -p worker-ecg --example beat_features -- DIR > beats.tsv`.

use std::path::PathBuf;

use worker_ecg::analysis::beats::{classify, features};
use worker_ecg::eval::{MATCH_WINDOW_S, discover, is_ec57_beat, pairs};
use worker_ecg::wfdb::{read_annotations, read_wfdb};

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: beat_features DIR"));
    println!(
        "record\ti\tsample\tref\tours\tcorr\tpeer\twider\tamp\tprem\tpause\tspread\tgroup\tgsize\tgcorr\tgwider\trr"
    );
    for header in discover(&dir).unwrap() {
        let rec = read_wfdb(&header).unwrap();
        let ann = read_annotations(&header.with_extension("atr")).unwrap();
        let ecg = rec.to_ecg();
        let raw: Vec<&[f32]> = ecg.leads.iter().map(|l| l.samples_uv.as_slice()).collect();
        let beats = worker_ecg::qrs::detect(&raw, ecg.fs).beats;
        let (cond, _) = worker_ecg::analysis::conditioned(&ecg);
        let cond: Vec<&[f32]> = cond.iter().map(|l| l.as_slice()).collect();
        let classes = classify(&cond, ecg.fs, &beats);
        let feats = features(&cond, ecg.fs, &beats);
        let groups = worker_ecg::analysis::clusters::group(&cond, ecg.fs, &beats);
        let refs: Vec<_> = ann.iter().filter(|a| is_ec57_beat(a.code)).collect();
        let samples: Vec<usize> = refs.iter().map(|a| a.sample as usize).collect();
        let window = (MATCH_WINDOW_S * ecg.fs).round() as usize;
        let matched = pairs(&samples, &beats, 0, window);
        let mut label = vec!['X'; beats.len()];
        for (r, t) in matched {
            label[t] = refs[r].code as char;
        }
        let name = rec.header.record.clone();
        for (i, &b) in beats.iter().enumerate() {
            let code = label[i];
            let code = if code == 'X' {
                "X".to_string()
            } else {
                (code as u8).to_string()
            };
            let f = feats[i];
            let cols = f.map_or("\t\t\t\t\t\t".to_string(), |f| {
                format!(
                    "{:.3}\t{:.3}\t{:.4}\t{:.3}\t{:.3}\t{:.3}\t{:.3}",
                    f.correlation,
                    f.peer_correlation,
                    f.wider_s,
                    f.amplitude,
                    f.prematurity,
                    f.pause,
                    f.rr_spread
                )
            });
            let g = groups.of_beat[i].map_or(-1, |g| g as i64);
            let gf = groups.of_beat[i].map_or("\t\t".to_string(), |g| {
                format!(
                    "{}\t{:.3}\t{:.4}",
                    groups.size[g], groups.correlation[g], groups.wider_s[g]
                )
            });
            println!(
                "{name}\t{i}\t{b}\t{code}\t{}\t{cols}\t{g}\t{gf}\t{}",
                classes[i].code(),
                if i > 0 { b - beats[i - 1] } else { 0 }
            );
        }
    }
}
