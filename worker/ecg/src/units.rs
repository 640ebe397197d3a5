//! Physical units of recorded channels: what a WFDB header writes (`mV`, `mmHg`, `NU`, …), what
//! a DICOM Channel Sensitivity Units Sequence codes (UCUM: `uV`, `mm[Hg]`, …), and the way from
//! one to the other, so that a channel keeps its own units from upload to page.

use serde::Serialize;

/// The unit of a channel's physical values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Unit {
    /// Nanovolt.
    Nanovolt,
    /// Microvolt.
    Microvolt,
    /// Millivolt (WFDB's default when a header states no unit).
    Millivolt,
    /// Volt.
    Volt,
    /// Millimetre of mercury (blood pressure).
    MillimetreMercury,
    /// Centimetre of water (airway and venous pressure).
    CentimetreWater,
    /// Percent (e.g. SpO2).
    Percent,
    /// Per minute (rates).
    PerMinute,
    /// Degree Celsius.
    Celsius,
    /// Ohm (impedance respiration).
    Ohm,
    /// Any other unit, as the source spells it (WFDB `NU`, normalised units, among them).
    Other(String),
}

impl Unit {
    /// The unit a WFDB header's `/units` field names; an empty field means millivolts, as
    /// `header(5)` defines.
    pub fn from_wfdb(s: &str) -> Unit {
        match s.trim() {
            "" | "mV" | "mv" => Unit::Millivolt,
            "uV" | "µV" | "uv" | "μV" => Unit::Microvolt,
            "nV" => Unit::Nanovolt,
            "V" => Unit::Volt,
            "mmHg" | "mm Hg" | "mm[Hg]" => Unit::MillimetreMercury,
            "cmH2O" | "cm[H2O]" => Unit::CentimetreWater,
            "%" => Unit::Percent,
            "bpm" | "/min" | "1/min" => Unit::PerMinute,
            "degC" | "Cel" | "°C" => Unit::Celsius,
            "Ohm" | "ohm" | "Ω" => Unit::Ohm,
            other => Unit::Other(other.to_owned()),
        }
    }

    /// The unit a UCUM code value names (DICOM Channel Sensitivity Units, PS3.16 CID 3082);
    /// `{…}` annotations (how [`Unit::ucum`] writes units UCUM has no symbol for) unwrap to
    /// the text inside.
    pub fn from_ucum(code: &str) -> Unit {
        let code = code.trim();
        if let Some(inner) = code.strip_prefix('{').and_then(|c| c.strip_suffix('}')) {
            return Unit::Other(inner.to_owned());
        }
        match code {
            "uV" | "µV" => Unit::Microvolt,
            _ => Unit::from_wfdb(code),
        }
    }

    /// The UCUM code value for DICOM. Units without a UCUM symbol become an annotation,
    /// `{NU}`, which UCUM reads as a dimensionless 1 and which keeps the source's spelling.
    pub fn ucum(&self) -> String {
        match self {
            Unit::Nanovolt => "nV".into(),
            Unit::Microvolt => "uV".into(),
            Unit::Millivolt => "mV".into(),
            Unit::Volt => "V".into(),
            Unit::MillimetreMercury => "mm[Hg]".into(),
            Unit::CentimetreWater => "cm[H2O]".into(),
            Unit::Percent => "%".into(),
            Unit::PerMinute => "/min".into(),
            Unit::Celsius => "Cel".into(),
            Unit::Ohm => "Ohm".into(),
            Unit::Other(s) => {
                let clean: String = s
                    .chars()
                    .filter(|c| c.is_ascii_graphic() && !matches!(c, '{' | '}'))
                    .collect();
                format!("{{{clean}}}")
            }
        }
    }

    /// The unit's name (the DICOM Code Meaning).
    pub fn meaning(&self) -> String {
        match self {
            Unit::Nanovolt => "nanovolt".into(),
            Unit::Microvolt => "microvolt".into(),
            Unit::Millivolt => "millivolt".into(),
            Unit::Volt => "volt".into(),
            Unit::MillimetreMercury => "millimeter of mercury".into(),
            Unit::CentimetreWater => "centimeter of water".into(),
            Unit::Percent => "percent".into(),
            Unit::PerMinute => "per minute".into(),
            Unit::Celsius => "degree Celsius".into(),
            Unit::Ohm => "ohm".into(),
            Unit::Other(s) => format!("{s} (as the source states it)"),
        }
    }

    /// The unit as a person reads it (`µV`, `mmHg`, `NU`).
    pub fn symbol(&self) -> String {
        match self {
            Unit::Microvolt => "µV".into(),
            Unit::MillimetreMercury => "mmHg".into(),
            Unit::CentimetreWater => "cmH2O".into(),
            Unit::Celsius => "°C".into(),
            Unit::Other(s) => s.clone(),
            other => other.ucum(),
        }
    }

    /// Microvolts in one of this unit, when it is a voltage.
    pub fn microvolts(&self) -> Option<f64> {
        match self {
            Unit::Nanovolt => Some(1e-3),
            Unit::Microvolt => Some(1.0),
            Unit::Millivolt => Some(1e3),
            Unit::Volt => Some(1e6),
            _ => None,
        }
    }

    /// Whether this is a voltage.
    pub fn is_voltage(&self) -> bool {
        self.microvolts().is_some()
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.symbol())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wfdb_units_round_trip_through_ucum() {
        for s in [
            "mV", "uV", "V", "mmHg", "cmH2O", "%", "bpm", "NU", "degC", "Ohm",
        ] {
            let u = Unit::from_wfdb(s);
            assert_eq!(Unit::from_ucum(&u.ucum()), u, "{s}");
        }
        assert_eq!(Unit::from_wfdb(""), Unit::Millivolt);
        assert_eq!(Unit::from_wfdb("mmHg").ucum(), "mm[Hg]");
        assert_eq!(Unit::from_wfdb("NU").ucum(), "{NU}");
        assert_eq!(Unit::from_wfdb("NU").symbol(), "NU");
        assert!(!Unit::from_wfdb("mmHg").is_voltage());
        assert_eq!(Unit::from_ucum("mV").microvolts(), Some(1e3));
    }
}
