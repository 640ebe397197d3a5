//! Renders a DICOM or WFDB ECG to an SVG (or, for `*.png`, a PNG) file.
//!
//! Usage: `cargo run -p worker-ecg --example render_file -- IN OUT.svg`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (inp, out) = (
        std::path::PathBuf::from(args.next().ok_or("usage: render_file IN OUT.svg")?),
        args.next().ok_or("usage: render_file IN OUT.svg")?,
    );
    let ecg = if inp.extension().is_some_and(|e| e == "hea") {
        worker_ecg::read_wfdb(&inp)?.to_ecg()
    } else {
        worker_ecg::read_dicom(&inp)?
    };
    let a = worker_ecg::analyse(&ecg)?;
    if out.ends_with(".png") {
        std::fs::write(&out, worker_ecg::render_png(&ecg, &a)?)?;
    } else {
        std::fs::write(&out, worker_ecg::render_svg(&ecg, &a))?;
    }
    Ok(())
}
