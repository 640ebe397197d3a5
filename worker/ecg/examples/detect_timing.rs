//! Per-record time of QRS detection and of the whole analysis on one synthetic 10-s 12-lead
//! 500 Hz ECG: the minimum over 30 rounds of 40 runs (the least disturbed round on a shared
//! machine).
//!
//! `RAYON_NUM_THREADS=1 cargo run --release -p worker-ecg --example detect_timing`

use std::time::Instant;
use worker_ecg::synth::{Spec, generate};

fn best_ms(mut f: impl FnMut()) -> f64 {
    (0..30)
        .map(|_| {
            let t = Instant::now();
            (0..40).for_each(|_| f());
            t.elapsed().as_secs_f64() * 1e3 / 40.0
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let e = generate(&Spec::normal()).ecg;
    let (c, _) = worker_ecg::analysis::conditioned(&e);
    let leads: Vec<&[f32]> = c.iter().map(|l| l.as_slice()).collect();
    let detect = best_ms(|| {
        std::hint::black_box(worker_ecg::qrs::detect(&leads, e.fs));
    });
    let analyse = best_ms(|| {
        std::hint::black_box(worker_ecg::analyse(&e).unwrap());
    });
    println!("detect {detect:.3} ms, analyse {analyse:.3} ms per record");
}
