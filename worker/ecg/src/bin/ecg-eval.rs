//! Scores the QRS detector against every WFDB record with a `.atr` reference annotation file
//! under a directory (default `$REMOTEDX_CORPUS/ecg`, else `../shared/corpus/ecg`) and prints
//! the bxb-style table. Exit status 1 when gross Se or +P is below `--bar` (default 99.5).
//!
//! Usage: `ecg-eval [DIR] [--bar PERCENT]`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut dir = None;
    let mut bar = 99.5;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--bar" {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(v) => bar = v,
                None => {
                    eprintln!("--bar needs a percentage");
                    return ExitCode::from(2);
                }
            }
        } else {
            dir = Some(PathBuf::from(a));
        }
    }
    let dir = dir.unwrap_or_else(|| {
        std::env::var_os("REMOTEDX_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("../shared/corpus"))
            .join("ecg")
    });
    let results = match worker_ecg::eval::evaluate_dir(&dir) {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            eprintln!("no WFDB record with a .atr file under {}", dir.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", worker_ecg::eval::table(&results));
    let g = worker_ecg::eval::gross(&results);
    if g.se() < bar || g.ppv() < bar {
        eprintln!(
            "gross Se {:.3}% / +P {:.3}% below the {bar}% bar",
            g.se(),
            g.ppv()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
