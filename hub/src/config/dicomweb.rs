//! DICOMweb's searches (`[dicomweb]`).

use serde::{Deserialize, Serialize};

/// How QIDO-RS searches that match on what only the stored files hold (patient names, a
/// wildcard Patient ID) are bounded. An exact Patient ID is found through the index's pseudonyms
/// and is not bounded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DicomWebConfig {
    /// The newest this many studies (within the StudyDate range asked for) are read when a
    /// search matches on file-only attributes; the answer says so in a `Warning` header when
    /// more were there. Lower it to keep such searches short on a large index.
    pub scan_cap: usize,
}

impl Default for DicomWebConfig {
    fn default() -> Self {
        DicomWebConfig { scan_cap: 5000 }
    }
}
