//! A small command-line front end used by the side-by-side benchmark (bench/imaging/compare.sh)
//! and for looking at outputs by hand.
//!
//! ```text
//! imaging_tool decode FILE... [--repeat N]   decode every frame, print MB/s of decoded pixels
//! imaging_tool preview OUT_DIR FILE...        write preview and thumbnail PNGs per file
//! imaging_tool info FILE...                   print what process_instance says (or the error)
//! imaging_tool series OUT_DIR DIR [--threads N]
//!     what the worker's image-series job does for a folder (one series, files in name order):
//!     per-instance 512 px preview and thumbnail PNGs on a rayon pool, then the series strip;
//!     writes them to OUT_DIR and prints the wall time (bench/imaging/preview_ct.py)
//! ```
//! The number of rayon threads follows RAYON_NUM_THREADS, or `--threads` for `series`.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn decode(files: &[PathBuf], repeat: usize) {
    let mut bytes = 0usize;
    let start = Instant::now();
    for _ in 0..repeat {
        for f in files {
            match worker_imaging::decode_all_frames(f) {
                Ok(frames) => {
                    for fr in frames {
                        match fr {
                            Ok(d) => bytes += d.samples.byte_len(),
                            Err(e) => eprintln!("{e}"),
                        }
                    }
                }
                Err(e) => eprintln!("{e}"),
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "decoded_bytes={bytes} seconds={secs:.6} mb_per_s={:.2}",
        bytes as f64 / 1e6 / secs
    );
}

fn preview(out: &std::path::Path, files: &[PathBuf]) {
    std::fs::create_dir_all(out).expect("output directory");
    let start = Instant::now();
    let results = worker_imaging::process_instances(files);
    for (f, r) in files.iter().zip(results) {
        let stem = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        match r {
            Ok(o) => {
                std::fs::write(out.join(format!("{stem}.png")), &o.preview_png).expect("write");
                std::fs::write(out.join(format!("{stem}_thumb.png")), &o.thumbnail_png)
                    .expect("write");
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    println!(
        "previews={} seconds={:.6}",
        files.len(),
        start.elapsed().as_secs_f64()
    );
}

fn series(out: &Path, dir: &Path, threads: usize) {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect(),
        Err(e) => {
            eprintln!("cannot list {}: {e}", dir.display());
            std::process::exit(2);
        }
    };
    files.sort();
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("cannot create {}: {e}", out.display());
        std::process::exit(2);
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot start {threads} threads: {e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let results = pool.install(|| worker_imaging::process_instances(&files));
    let mut thumbnails = Vec::new();
    let mut failed = 0usize;
    for (f, r) in files.iter().zip(results) {
        let stem = f.file_stem().unwrap_or_default().to_string_lossy();
        match r {
            Ok(o) => {
                write(&out.join(format!("{stem}.png")), &o.preview_png);
                write(&out.join(format!("{stem}_thumb.png")), &o.thumbnail_png);
                thumbnails.push(o.thumbnail_png);
            }
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    if !thumbnails.is_empty() {
        match worker_imaging::series_strip(&thumbnails) {
            Ok(strip) => write(&out.join("strip.png"), &strip),
            Err(e) => eprintln!("no strip: {e}"),
        }
    }
    println!(
        "instances={} failed={failed} threads={} seconds={:.6}",
        files.len(),
        pool.current_num_threads(),
        start.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}

fn write(path: &Path, data: &[u8]) {
    if let Err(e) = std::fs::write(path, data) {
        eprintln!("cannot write {}: {e}", path.display());
        std::process::exit(2);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("usage: imaging_tool decode|preview|info ...");
        std::process::exit(2);
    };
    let mut repeat = 1;
    let mut threads = 0;
    let mut files = Vec::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        if a == "--repeat" {
            repeat = it.next().and_then(|n| n.parse().ok()).unwrap_or(1);
        } else if a == "--threads" {
            threads = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        } else {
            files.push(PathBuf::from(a));
        }
    }
    match cmd.as_str() {
        "decode" => decode(&files, repeat),
        "preview" => preview(&files[0].clone(), &files[1..]),
        "series" if files.len() == 2 => series(&files[0], &files[1], threads),
        "info" => {
            for f in &files {
                match worker_imaging::process_instance(f) {
                    Ok(o) => println!(
                        "{}: {}x{} frames={} ts={}",
                        f.display(),
                        o.columns,
                        o.rows,
                        o.frames,
                        o.transfer_syntax
                    ),
                    Err(e) => println!("{}: ERROR {e}", f.display()),
                }
            }
        }
        _ => {
            eprintln!("unknown command {cmd}");
            std::process::exit(2);
        }
    }
}
