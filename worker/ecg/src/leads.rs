//! Lead names: the many spellings sources use, mapped to the twelve standard leads.

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
}
