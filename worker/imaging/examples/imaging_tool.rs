//! A small command-line front end used by the side-by-side benchmark (bench/imaging/compare.sh)
//! and for looking at outputs by hand.
//!
//! ```text
//! imaging_tool decode FILE... [--repeat N]   decode every frame, print MB/s of decoded pixels
//! imaging_tool preview OUT_DIR FILE...        write preview and thumbnail PNGs per file
//! imaging_tool info FILE...                   print what process_instance says (or the error)
//! ```
//! The number of rayon threads follows RAYON_NUM_THREADS.

use std::path::PathBuf;
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("usage: imaging_tool decode|preview|info ...");
        std::process::exit(2);
    };
    let mut repeat = 1;
    let mut files = Vec::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        if a == "--repeat" {
            repeat = it.next().and_then(|n| n.parse().ok()).unwrap_or(1);
        } else {
            files.push(PathBuf::from(a));
        }
    }
    match cmd.as_str() {
        "decode" => decode(&files, repeat),
        "preview" => preview(&files[0].clone(), &files[1..]),
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
