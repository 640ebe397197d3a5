//! WFDB ECG records (PhysioNet's `.hea` header plus the signal files it names) arriving through the
//! ordinary upload, file by file, in any order.
//!
//! Parts wait, durable in the staging directory, until the header and every signal file it names
//! (by path relative to the header, as the uploader named them) are in; then the record is read,
//! written as a DICOM ECG object by [`worker_ecg::encode`] (lossless: WFDB formats hold at most
//! 16 bits) and stored through [`IngestSession::ingest`] like any other instance. Every part is
//! answered then, with the record's SOP Instance UID and case. A WFDB record names no patient, so
//! the uploader gives one ([`super::ingest::IngestOptions::patient_id`]). The UIDs are derived from
//! the parts' SHA-256, the patient and the institution, so uploading the same record again is a
//! duplicate, not a second case. When the upload ends, a header still missing a signal file is
//! refused, and any other file nobody claimed is ingested as DICOM (which says what is wrong).

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use worker_ecg::encode::{self, Identity};
use worker_ecg::wfdb::{self, Header};

use super::ingest::{Accepted, IngestSession};
use super::staging::{self, RejectReason, Rejection, StagedFile};

/// The answer for each file of an upload: its name and its fate.
pub type Outcome = (String, Result<Accepted, Rejection>);

/// Largest header accepted (real ones are a few kilobytes).
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Parts of WFDB records received by one session and not yet complete.
#[derive(Default)]
pub struct PendingParts {
    /// Headers waiting for signal files, with what they say.
    headers: Vec<(StagedFile, Header)>,
    /// Non-DICOM files no header has claimed yet, by upload name.
    others: BTreeMap<String, StagedFile>,
}

/// A record whose parts are all here.
struct Complete {
    header: StagedFile,
    signals: Vec<StagedFile>,
}

/// Whether an upload name is a WFDB header's.
pub fn is_header_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".hea")
}

/// A name as sent, with `\` as `/` and no leading `./`.
fn normalise(name: &str) -> String {
    let n = name.replace('\\', "/");
    n.strip_prefix("./").unwrap_or(&n).to_owned()
}

/// The upload name a header's signal file must have: the header's folder joined with the name.
fn sibling(header_name: &str, file: &str) -> String {
    let h = normalise(header_name);
    match h.rfind('/') {
        Some(i) => format!("{}/{}", &h[..i], file),
        None => file.to_owned(),
    }
}

impl PendingParts {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.others.is_empty()
    }

    /// Takes the first record whose header and signal files are all here.
    fn take_complete(&mut self) -> Option<Complete> {
        let i = self.headers.iter().position(|(h, parsed)| {
            wfdb::signal_files(parsed)
                .iter()
                .all(|f| self.others.contains_key(&sibling(&h.file_name, f)))
        })?;
        let (header, parsed) = self.headers.remove(i);
        let signals = wfdb::signal_files(&parsed)
            .iter()
            .filter_map(|f| self.others.remove(&sibling(&header.file_name, f)))
            .collect();
        Some(Complete { header, signals })
    }
}

impl IngestSession {
    /// Stores one uploaded file: a DICOM instance at once, a WFDB part when its record is
    /// complete. Returns the answers that are due now (none while a record waits for its parts;
    /// one per part when it completes).
    pub async fn ingest_upload(&mut self, staged: StagedFile) -> Vec<Outcome> {
        let name = staged.file_name.clone();
        let path = staged.path.to_path_buf();
        let is_dicom =
            tokio::task::spawn_blocking(move || super::dicom_meta::looks_like_dicom(&path))
                .await
                .unwrap_or(true);
        if is_dicom {
            return vec![(name, self.ingest(staged).await)];
        }
        if is_header_name(&name) {
            match read_header(&staged).await {
                Ok(parsed) => self.pending_wfdb.headers.push((staged, parsed)),
                Err(r) => return vec![(name, Err(r))],
            }
        } else {
            self.pending_wfdb.others.insert(normalise(&name), staged);
        }
        let mut due = Vec::new();
        while let Some(record) = self.pending_wfdb.take_complete() {
            due.extend(self.ingest_record(record).await);
        }
        due
    }

    /// Answers what is still waiting when the upload ends: headers missing a signal file are
    /// refused; other files are ingested as DICOM, which says why they are not.
    pub async fn settle_pending(&mut self) -> Vec<Outcome> {
        let mut due = Vec::new();
        for (h, parsed) in std::mem::take(&mut self.pending_wfdb.headers) {
            let missing: Vec<String> = wfdb::signal_files(&parsed)
                .iter()
                .map(|f| sibling(&h.file_name, f))
                .filter(|f| !self.pending_wfdb.others.contains_key(f))
                .collect();
            let msg = format!(
                "{}: WFDB record {} names signal file(s) {} that this upload did not bring; \
                 upload the header together with its signal files",
                h.file_name,
                parsed.record,
                missing.join(", ")
            );
            due.push((
                h.file_name.clone(),
                Err(Rejection::new(RejectReason::Malformed, msg)),
            ));
        }
        for (name, staged) in std::mem::take(&mut self.pending_wfdb.others) {
            let outcome = self.ingest(staged).await.map_err(|mut r| {
                if r.reason == RejectReason::NotDicom {
                    r.message
                        .push_str(" (nor a signal file named by a WFDB header in this upload)");
                }
                r
            });
            due.push((name, outcome));
        }
        due
    }

    /// Converts a complete record to a DICOM ECG object and stores it; one answer per part.
    async fn ingest_record(&mut self, record: Complete) -> Vec<Outcome> {
        let parts: Vec<(String, u64)> = std::iter::once(&record.header)
            .chain(&record.signals)
            .map(|s| (s.file_name.clone(), s.size))
            .collect();
        let answer_all = |outcome: Result<Accepted, Rejection>| -> Vec<Outcome> {
            parts
                .iter()
                .map(|(name, size)| {
                    let o = outcome.clone().map(|a| Accepted {
                        file_name: name.clone(),
                        size: *size,
                        ..a
                    });
                    (name.clone(), o)
                })
                .collect()
        };
        let header_name = record.header.file_name.clone();
        if self.options.patient_id.trim().is_empty() {
            return answer_all(Err(Rejection::new(
                RejectReason::MissingAttribute,
                format!(
                    "{header_name}: a WFDB record carries no patient identifier; upload it with \
                     the patient's ID (viewer-cli upload --patient-id ID)"
                ),
            )));
        }
        let seed = format!(
            "{}|{}",
            self.options.patient_id.trim(),
            self.who.institution_code
        );
        let patient_id = self.options.patient_id.trim().to_owned();
        let institution = self.who.institution_code.clone();
        let encoded = tokio::task::spawn_blocking(move || {
            encode_record(&record, &patient_id, &institution, &seed)
        })
        .await
        .unwrap_or_else(|e| {
            Err(Rejection::new(
                RejectReason::Storage,
                format!("{header_name}: converter crashed: {e}"),
            ))
        });
        let bytes = match encoded {
            Ok(bytes) => bytes,
            Err(r) => return answer_all(Err(r)),
        };
        let config = self.hub.config();
        let staged = async {
            let mut file = staging::begin(
                &config.staging_dir(),
                &header_name,
                config.ingest.max_file_bytes,
            )
            .await?;
            file.write(&bytes).await?;
            file.finish(None, None).await
        }
        .await;
        let outcome = match staged {
            Ok(staged) => self.ingest(staged).await,
            Err(r) => Err(r),
        };
        answer_all(outcome)
    }
}

async fn read_header(staged: &StagedFile) -> Result<Header, Rejection> {
    let name = staged.file_name.clone();
    let malformed = |why: String| Rejection::new(RejectReason::Malformed, why);
    if staged.size > MAX_HEADER_BYTES {
        return Err(malformed(format!(
            "{name}: {} bytes is too large for a WFDB header (at most {MAX_HEADER_BYTES})",
            staged.size
        )));
    }
    let bytes = tokio::fs::read(&staged.path)
        .await
        .map_err(|e| Rejection::new(RejectReason::Storage, format!("{name}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        malformed(format!(
            "{name}: not a DICOM file, and not a WFDB header either (not text: {e})"
        ))
    })?;
    wfdb::parse_header(&text, Path::new(&name)).map_err(|e| malformed(e.to_string()))
}

/// Reads the parts and writes the record as a DICOM ECG object.
fn encode_record(
    record: &Complete,
    patient_id: &str,
    institution: &str,
    seed: &str,
) -> Result<Vec<u8>, Rejection> {
    let header_name = &record.header.file_name;
    let malformed =
        |e: worker_ecg::EcgError| Rejection::new(RejectReason::Malformed, e.to_string());
    let text = std::fs::read_to_string(&record.header.path)
        .map_err(|e| Rejection::new(RejectReason::Storage, format!("{header_name}: {e}")))?;
    let by_name: BTreeMap<String, &StagedFile> = record
        .signals
        .iter()
        .map(|s| (normalise(&s.file_name), s))
        .collect();
    let parsed = wfdb::record_from_parts(&text, Path::new(header_name), |file| {
        let staged = by_name.get(&sibling(header_name, file)).ok_or_else(|| {
            worker_ecg::EcgError::Unusable(format!("{header_name}: {file} is missing"))
        })?;
        std::fs::read(&staged.path).map_err(|source| worker_ecg::EcgError::Io {
            path: staged.file_name.clone().into(),
            source,
        })
    })
    .map_err(malformed)?;
    let channels = encode::from_wfdb(&parsed).map_err(malformed)?;
    let n = channels.first().map_or(0, |c| c.samples.len());
    let digest = Sha256::new()
        .chain_update(b"remotedx-wfdb-v1|")
        .chain_update(seed.as_bytes())
        .chain_update(record.header.sha256.as_bytes())
        .chain_update(
            record
                .signals
                .iter()
                .map(|s| s.sha256.as_str())
                .collect::<String>(),
        )
        .finalize();
    let study_uid = format!(
        "2.25.{}",
        u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"))
    );
    let labels: Vec<&str> = channels.iter().map(|c| c.label.as_str()).collect();
    let who = Identity {
        patient_id: patient_id.to_owned(),
        series_uid: format!("{study_uid}.1"),
        sop_uid: format!("{study_uid}.1.1"),
        study_uid,
        date: parsed.header.base_date.clone().unwrap_or_default(),
        time: parsed.header.base_time.clone().unwrap_or_default(),
        institution_name: institution.to_owned(),
        study_description: format!(
            "ECG, WFDB record {} ({}; {} Hz, {:.1} s)",
            parsed.header.record,
            labels.join(" "),
            parsed.header.fs,
            n as f64 / parsed.header.fs
        )
        .chars()
        .take(64)
        .collect(),
        manufacturer: "WFDB record (converted by remotedx)".into(),
        ..Identity::default()
    };
    encode::part10(parsed.header.fs, &channels, &who).map_err(|e| {
        Rejection::new(
            RejectReason::Malformed,
            format!("{header_name}: cannot be stored as a DICOM ECG: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_files_are_looked_up_beside_their_header() {
        assert_eq!(sibling("100.hea", "100.dat"), "100.dat");
        assert_eq!(sibling("mitdb/100.hea", "100.dat"), "mitdb/100.dat");
        assert_eq!(sibling(".\\mitdb\\100.hea", "100.dat"), "mitdb/100.dat");
        assert!(is_header_name("A/B/S0010_RE.HEA"));
        assert!(!is_header_name("100.dat"));
    }
}
