//! Per-stage timing of the pipeline on one synthetic 10-s 12-lead 500 Hz ECG.
//!
//! `RAYON_NUM_THREADS=1 cargo run --release -p worker-ecg --example stages`

use std::time::Instant;
use worker_ecg::synth::{Spec, generate};
fn main() {
    let e = generate(&Spec::normal()).ecg;
    let n = 200;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(worker_ecg::analysis::conditioned(&e));
    }
    println!(
        "conditioned {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    let (c, _) = worker_ecg::analysis::conditioned(&e);
    let leads: Vec<&[f32]> = c.iter().map(|l| l.as_slice()).collect();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(worker_ecg::qrs::detect(&leads, e.fs));
    }
    println!(
        "detect {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    let beats = worker_ecg::qrs::detect(&leads, e.fs).beats;
    let t = Instant::now();
    for _ in 0..n {
        for (l, cc) in e.leads.iter().zip(&c) {
            std::hint::black_box(worker_ecg::quality::assess(
                &l.name,
                &l.samples_uv,
                cc,
                e.fs,
                &beats,
            ));
        }
    }
    println!(
        "assess {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    let names: Vec<String> = e.leads.iter().map(|l| l.name.clone()).collect();
    let t = Instant::now();
    for _ in 0..n {
        let mb = worker_ecg::measure::median_beats(&names, &leads, e.fs, &beats).unwrap();
        std::hint::black_box(worker_ecg::measure::measure(&mb, Some(0.8)));
    }
    println!(
        "median+measure {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(worker_ecg::analyse(&e).unwrap());
    }
    println!(
        "analyse {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
