//! Times `analyse` on synthetic 10-s 12-lead 500 Hz records and writes those records, so that
//! bench/ecg/compare.py can time NeuroKit2 and WFDB on exactly the same samples.
//!
//! Usage: `ecg_timing OUT_DIR [RECORDS] [REPEAT]`; writes `OUT_DIR/rec<k>.f32` (12 leads × 5000
//! samples, lead-major, little-endian f32 µV) and prints one line per record:
//! `record=<k> ms_per_record=<median>`. Threads follow RAYON_NUM_THREADS.

use std::time::Instant;

use worker_ecg::analyse;
use worker_ecg::synth::{Spec, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(
        args.next()
            .ok_or("usage: ecg_timing OUT_DIR [RECORDS] [REPEAT]")?,
    );
    let records: u64 = args.next().map_or(Ok(4), |s| s.parse())?;
    let repeat: usize = args.next().map_or(Ok(50), |s| s.parse())?;
    std::fs::create_dir_all(&out)?;
    let specs = [
        Spec::normal(),
        Spec::tachy(),
        Spec::af(),
        Spec::st_elevation(),
    ];
    for k in 0..records {
        let spec = Spec {
            seed: k + 1,
            ..specs[k as usize % specs.len()].clone()
        };
        let ecg = generate(&spec).ecg;
        let mut bytes = Vec::new();
        for lead in &ecg.leads {
            for s in &lead.samples_uv {
                bytes.extend_from_slice(&s.to_le_bytes());
            }
        }
        std::fs::write(out.join(format!("rec{k}.f32")), bytes)?;
        let mut times: Vec<f64> = (0..repeat)
            .map(|_| {
                let t = Instant::now();
                let a = analyse(&ecg).expect("synthetic ECGs are analysable");
                std::hint::black_box(a);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "record={k} leads={} fs={} ms_per_record={:.3}",
            ecg.leads.len(),
            ecg.fs,
            times[times.len() / 2]
        );
    }
    Ok(())
}
