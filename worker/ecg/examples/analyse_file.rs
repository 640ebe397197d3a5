//! Analyses a DICOM or WFDB ECG and prints the analysis as debug text.
//!
//! Usage: `cargo run -p worker-ecg --example analyse_file -- FILE`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: analyse_file FILE")?);
    let ecg = if path.extension().is_some_and(|e| e == "hea") {
        worker_ecg::read_wfdb(&path)?.to_ecg()
    } else {
        worker_ecg::read_dicom(&path)?
    };
    let a = worker_ecg::analyse(&ecg)?;
    println!(
        "leads {:?}",
        ecg.leads.iter().map(|l| &l.name).collect::<Vec<_>>()
    );
    println!("beats {:?}", &a.beats[..a.beats.len().min(20)]);
    println!("rhythm {:?}", a.rhythm);
    println!(
        "measurements {:?}",
        a.measurements
            .as_ref()
            .map(|m| (m.fiducials, m.pr_ms, m.qrs_ms, m.qt_ms, m.axis_deg))
    );
    println!("st {:?}", a.measurements.as_ref().map(|m| &m.st_uv));
    println!("qtc {:?} {:?}", a.qtc_bazett_ms, a.qtc_fridericia_ms);
    println!("quality {:?}", a.quality);
    println!("flags {:#?}", a.flags);
    println!("device {:?}", a.device);
    Ok(())
}
