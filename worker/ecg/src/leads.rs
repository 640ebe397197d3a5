//! Lead names: the many spellings sources use, mapped to the twelve standard leads; which
//! channels of a recording are ECG leads at all; and the one name each lead is shown by.
//!
//! A channel is an ECG lead when its unit is a voltage and its name does not name another
//! signal (blood pressure, respiration, plethysmogram, EEG …). Names that say neither (QT
//! Database's "record mqt2, signal 0", an empty description) count as leads when in volts: the
//! databases that write them hold ECGs. Modified and non-standard leads (MLII, MCL1, V, CM5, the
//! Frank leads vx vy vz) are ECG leads but not among the twelve.

use crate::units::Unit;

/// The twelve standard leads in display order.
pub const STANDARD: [&str; 12] = [
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
];

/// The standard name of a lead label (`"Lead II"`, `"ii"`, `"MLII"`, `"-aVR"`… → `"II"`,
/// …), or `None` when the label is not one of the twelve standard leads.
pub fn standard_name(label: &str) -> Option<&'static str> {
    let mut s = label.trim().to_ascii_uppercase();
    for p in ["LEAD ", "LEAD-", "ECG "] {
        if let Some(r) = s.strip_prefix(p) {
            s = r.trim().to_string();
        }
    }
    // "Lead I (Einthoven)", "Lead aVR (Goldberger)" and similar.
    let s = s.split([' ', '(']).next().unwrap_or("");
    let s = s.strip_prefix("ML").unwrap_or(s);
    STANDARD.iter().copied().find(|n| n.eq_ignore_ascii_case(s))
}

/// Names of signals that are not ECG leads, matched against the start of a channel name's
/// first word (upper case): pressures, respiration, oximetry, temperature, EEG/EOG/EMG, sounds.
const NOT_ECG: [&str; 34] = [
    "ABP", "ART", "AOBP", "PAP", "CVP", "ICP", "LAP", "RAP", "UAP", "NBP", "BP", "PRESS", "PAWP",
    "PCWP", "RESP", "PLETH", "PPG", "SPO2", "SAO2", "SO2", "CO2", "ETCO2", "O2", "TEMP", "EEG",
    "EOG", "EMG", "PCG", "FLOW", "AIRFLOW", "THOR", "ABD", "PULSE", "SOUND",
];

/// Whether a channel named `name` with values in `unit` is an ECG lead (see the module doc).
pub fn is_ecg(name: &str, unit: &Unit) -> bool {
    if !unit.is_voltage() {
        return false;
    }
    let first = name
        .trim()
        .split(|c: char| c.is_whitespace() || c == '(' || c == ',')
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    !NOT_ECG.iter().any(|n| first.starts_with(n))
}

/// The one name a lead is shown by: the standard name when the label is a spelling of one of
/// the twelve (`"Lead I (Einthoven)"`, `"ii"`, `"avr"` → `"I"`, `"II"`, `"aVR"`), else the label as
/// stated (`"MLII"`, `"MCL1"`, `"V"`, `"vx"`: modified leads keep their own name).
pub fn display_name(label: &str) -> String {
    let modified = label.trim().to_ascii_uppercase().starts_with("ML");
    match standard_name(label) {
        Some(s) if !modified => s.to_owned(),
        _ => label.trim().to_owned(),
    }
}

/// Index of standard lead `name` among `labels` (matching through [`standard_name`]).
pub fn find(labels: &[String], name: &str) -> Option<usize> {
    labels.iter().position(|l| standard_name(l) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(standard_name("Lead I (Einthoven)"), Some("I"));
        assert_eq!(standard_name("Lead aVR (Goldberger)"), Some("aVR"));
        assert_eq!(standard_name("avf"), Some("aVF"));
        assert_eq!(standard_name("MLII"), Some("II"));
        assert_eq!(standard_name("Lead V4"), Some("V4"));
        assert_eq!(standard_name("PLETH"), None);
        assert_eq!(standard_name("vx"), None);
    }

    #[test]
    fn ecg_leads_are_told_from_other_signals() {
        let mv = Unit::Millivolt;
        for lead in [
            "MLII",
            "MCL1",
            "V",
            "II",
            "aVR",
            "vx",
            "CM5",
            "D3",
            "record mqt2, signal 0",
        ] {
            assert!(is_ecg(lead, &mv), "{lead}");
        }
        // WFDB's RESP states no unit, so its unit is the default millivolt: the name decides.
        for other in ["RESP", "ABP", "PLETH", "SpO2", "EEG Fpz-Cz", "Resp (imp)"] {
            assert!(!is_ecg(other, &mv), "{other}");
        }
        assert!(!is_ecg("II", &Unit::Other("NU".into())));
        assert!(!is_ecg("ABP", &Unit::MillimetreMercury));
    }

    #[test]
    fn one_name_per_lead() {
        assert_eq!(display_name("Lead I (Einthoven)"), "I");
        assert_eq!(display_name("avr"), "aVR");
        assert_eq!(display_name("v6"), "V6");
        assert_eq!(display_name("MLII"), "MLII");
        assert_eq!(display_name("V"), "V");
        assert_eq!(display_name(" vx "), "vx");
    }
}
