//! One error type for the crate: every variant names the input (file, field, lead) and why.

use std::path::PathBuf;

/// Why an ECG could not be read or analysed.
#[derive(Debug, thiserror::Error)]
pub enum EcgError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A WFDB header line is malformed.
    #[error("WFDB header {path}, line {line}: {why}")]
    Header {
        /// The header file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A WFDB signal file cannot be decoded as its header says.
    #[error("WFDB signal file {path}: {why}")]
    Signal {
        /// The signal file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A WFDB annotation file is malformed.
    #[error("WFDB annotation file {path}: {why}")]
    Annotation {
        /// The annotation file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A DICOM object could not be opened or parsed.
    #[error("DICOM file {path}: {why}")]
    Dicom {
        /// The DICOM file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A DICOM waveform attribute is missing or inconsistent; `field` names the attribute.
    #[error("DICOM waveform in {path}, multiplex group {group}: {field}: {why}")]
    Waveform {
        /// The DICOM file.
        path: PathBuf,
        /// 0-based index in the Waveform Sequence.
        group: usize,
        /// The attribute's keyword, e.g. `SamplingFrequency`.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The ECG itself cannot be analysed (no leads, zero sampling rate, lengths differ).
    #[error("ECG unusable: {0}")]
    Unusable(String),
}
