//! Records analysed per second: 10-s 12-lead 500 Hz synthetic ECGs, one at a time (leads in
//! parallel inside) and as a batch of 16 analysed in parallel.
//!
//! `cargo bench -p worker-ecg --bench analyse`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use worker_ecg::synth::{Spec, generate};
use worker_ecg::{analyse, analyse_many};

fn bench(c: &mut Criterion) {
    let specs = [
        Spec::normal(),
        Spec::tachy(),
        Spec::af(),
        Spec::st_elevation(),
    ];
    let ecgs: Vec<_> = (0..16)
        .map(|k| {
            let s = Spec {
                seed: k as u64 + 1,
                ..specs[k % specs.len()].clone()
            };
            generate(&s).ecg
        })
        .collect();
    let mut g = c.benchmark_group("analyse_10s_12lead_500hz");
    g.sample_size(20);
    g.measurement_time(std::time::Duration::from_secs(5));
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_record", |b| b.iter(|| analyse(&ecgs[0]).unwrap()));
    g.throughput(Throughput::Elements(ecgs.len() as u64));
    g.bench_function("batch_16_parallel", |b| b.iter(|| analyse_many(&ecgs)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
