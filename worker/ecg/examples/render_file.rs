//! Renders a DICOM or WFDB ECG to its pages: `OUT.svg` and `OUT.png` for page 1, then
//! `OUT-p2.svg`, `OUT-p2.png`, … for the rhythm pages. A DICOM object's identification is
//! printed on the pages; a WFDB record names no patient, and its pages say so.
//!
//! Usage: `cargo run -p worker-ecg --example render_file -- IN OUT`

use worker_ecg::render::{page_png, page_svg, pages};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: render_file IN OUT (writes OUT.svg, OUT.png, OUT-p2.svg, ...)";
    let inp = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let out = args.next().ok_or(usage)?;
    let (ecg, info) = if inp.extension().is_some_and(|e| e == "hea") {
        (worker_ecg::read_wfdb(&inp)?.to_ecg(), Default::default())
    } else {
        (
            worker_ecg::read_dicom(&inp)?,
            worker_ecg::read_page_info(&inp)?,
        )
    };
    let a = worker_ecg::analyse(&ecg)?;
    for (k, page) in pages(&ecg, &a, &info).iter().enumerate() {
        let stem = if k == 0 {
            out.clone()
        } else {
            format!("{out}-p{}", k + 1)
        };
        std::fs::write(format!("{stem}.svg"), page_svg(page))?;
        std::fs::write(format!("{stem}.png"), page_png(page)?)?;
    }
    Ok(())
}
