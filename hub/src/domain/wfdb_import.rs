//! WFDB ECG records (PhysioNet's `.hea` header plus the signal files it names) arriving through the
//! ordinary upload, file by file: the header first, then its signal files.
//!
//! Parts wait, durable in the staging directory, until every signal file the header names (by path
//! relative to the header, as the uploader named them) is in; then the record is read,
//! written as a DICOM ECG object by [`worker_ecg::encode`] (lossless: WFDB formats hold at most
//! 16 bits; every signal kept in its own unit and rate, ECG leads apart from other channels such
//! as ABP or RESP, which are stored but never measured; a record with no ECG lead is refused,
//! naming its channels) and stored through [`IngestSession::ingest`] like any other instance. Every part is
//! answered then, with the record's SOP Instance UID and case. A WFDB record names no patient, so
//! the uploader gives one ([`super::ingest::IngestOptions::patient_id`]). The UIDs are derived from
//! the parts' SHA-256, the patient and the institution, so uploading the same record again is a
//! duplicate, not a second case. A non-DICOM file that no header before it names is refused at once
//! (as not DICOM); when the upload ends, the parts of a record still missing a signal file are
//! refused.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use worker_ecg::encode::{self, Identity};
use worker_ecg::wfdb::{self, Header};

use super::ingest::{Accepted, IngestSession};
use super::staging::{RejectReason, Rejection, StagedFile};

/// The answer for each file of an upload: its name and its fate.
pub type Outcome = (String, Result<Accepted, Rejection>);

/// Largest header accepted (real ones are a few kilobytes).
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Parts of WFDB records received by one session and not yet complete.
#[derive(Default)]
pub struct PendingParts {
    /// Headers waiting for signal files.
    headers: Vec<PendingHeader>,
    /// Non-DICOM files no header has claimed yet, by upload name.
    others: BTreeMap<String, StagedFile>,
}

/// A received header, read once.
struct PendingHeader {
    staged: StagedFile,
    text: String,
    parsed: Header,
    /// The upload names of the signal files it names, in header order (computed once: an
    /// upload asks for them at every file).
    wanted: Vec<String>,
}

impl PendingHeader {
    fn new(staged: StagedFile, text: String, parsed: Header) -> Self {
        let wanted = wfdb::signal_files(&parsed)
            .iter()
            .map(|f| sibling(&staged.file_name, f))
            .collect();
        PendingHeader {
            staged,
            text,
            parsed,
            wanted,
        }
    }

    /// The upload names of the signal files it names, in header order.
    fn wanted(&self) -> &[String] {
        &self.wanted
    }
}

/// A record whose parts are all here.
struct Complete {
    header: StagedFile,
    text: String,
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
    /// Whether a waiting header names the file called `name` in the upload.
    fn claims(&self, name: &str) -> bool {
        let name = normalise(name);
        self.headers.iter().any(|h| h.wanted().contains(&name))
    }

    /// Takes the first record whose header and signal files are all here.
    fn take_complete(&mut self) -> Option<Complete> {
        let i = self
            .headers
            .iter()
            .position(|h| h.wanted().iter().all(|f| self.others.contains_key(f)))?;
        let h = self.headers.remove(i);
        let signals = h
            .wanted()
            .iter()
            .filter_map(|f| self.others.remove(f))
            .collect();
        Some(Complete {
            header: h.staged,
            text: h.text,
            signals,
        })
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
                Ok((text, parsed)) => self
                    .pending_wfdb
                    .headers
                    .push(PendingHeader::new(staged, text, parsed)),
                Err(r) => return vec![(name, Err(r))],
            }
        } else if self.pending_wfdb.claims(&name) {
            self.pending_wfdb.others.insert(normalise(&name), staged);
        } else {
            let outcome = self.ingest(staged).await.map_err(|mut r| {
                if r.reason == RejectReason::NotDicom {
                    r.message.push_str(
                        " (nor a signal file named by a WFDB header sent before it in this upload)",
                    );
                }
                r
            });
            return vec![(name, outcome)];
        }
        let mut due = Vec::new();
        while let Some(record) = self.pending_wfdb.take_complete() {
            due.extend(self.ingest_record(record).await);
        }
        due
    }

    /// Answers what is still waiting when the upload ends: the parts of records whose signal
    /// files did not all come are refused.
    pub fn settle_pending(&mut self) -> Vec<Outcome> {
        let mut due = Vec::new();
        let mut others = std::mem::take(&mut self.pending_wfdb.others);
        for pending in std::mem::take(&mut self.pending_wfdb.headers) {
            let wanted = pending.wanted();
            let (h, parsed) = (&pending.staged, &pending.parsed);
            let missing: Vec<&str> = wanted
                .iter()
                .filter(|f| !others.contains_key(*f))
                .map(String::as_str)
                .collect();
            let msg = format!(
                "{}: WFDB record {} names signal file(s) {} that this upload did not bring; \
                 upload the header together with its signal files",
                h.file_name,
                parsed.record,
                missing.join(", ")
            );
            let refuse = |name: &str| {
                (
                    name.to_owned(),
                    Err(Rejection::new(RejectReason::Malformed, msg.clone())),
                )
            };
            due.push(refuse(&h.file_name));
            for f in wanted {
                if let Some(part) = others.remove(f) {
                    due.push(refuse(&part.file_name));
                }
            }
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
        // The record's identity: its bytes, its patient and its institution. A record stored
        // already is a duplicate before anything is converted (the conversion stamps the day of
        // receipt on records whose header has no date).
        let study_uid = record_uid(
            &self.options.patient_id,
            &self.who.institution_code,
            &record,
        );
        let sop_uid = format!("{study_uid}.1.1");
        match self.stored_record(&sop_uid, &header_name).await {
            Ok(Some(dup)) => {
                // Acknowledged because it was read: wait until what was read is durable.
                let durable = self
                    .hub
                    .store()
                    .wait_durable()
                    .await
                    .map_err(|e| Rejection::storage(&header_name, e));
                return answer_all(durable.map(|()| dup));
            }
            Ok(None) => {}
            Err(r) => return answer_all(Err(r)),
        }
        let patient_id = self.options.patient_id.trim().to_owned();
        let institution = self.who.institution_code.clone();
        let received = crate::clock::now_ms();
        let encoded = tokio::task::spawn_blocking(move || {
            encode_record(&record, &patient_id, &institution, &study_uid, received)
        })
        .await
        .unwrap_or_else(|e| {
            Err(Rejection::storage(
                &header_name,
                format_args!("converter crashed: {e}"),
            ))
        });
        let bytes = match encoded {
            Ok(bytes) => bytes,
            Err(r) => return answer_all(Err(r)),
        };
        let staged = async {
            let mut file = self.hub.begin_staging(&header_name).await?;
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

    /// The record's instance if it is stored already (a duplicate, or another institution's).
    async fn stored_record(
        &self,
        sop_uid: &str,
        header_name: &str,
    ) -> Result<Option<Accepted>, Rejection> {
        let storage = |e: String| Rejection::storage(header_name, e);
        let mut tx = self
            .hub
            .store()
            .read()
            .await
            .map_err(|e| storage(e.to_string()))?;
        let Some(existing) = crate::storage::instances::get(tx.as_mut(), sop_uid)
            .await
            .map_err(|e| storage(e.to_string()))?
        else {
            return Ok(None);
        };
        let (blob, size) = (existing.blob_key.clone(), existing.size);
        self.duplicate_or_conflict(
            tx.as_mut(),
            existing,
            header_name,
            &blob,
            u64::try_from(size).unwrap_or(0),
        )
        .await
        .map(Some)
    }
}

/// `2.25.<n>`, with `n` from the SHA-256 of the parts, the patient and the institution.
fn record_uid(patient_id: &str, institution: &str, record: &Complete) -> String {
    let mut h = Sha256::new();
    for part in [
        b"remotedx-wfdb-v1".as_slice(),
        patient_id.trim().as_bytes(),
        institution.as_bytes(),
    ] {
        h.update(part);
        h.update(b"|");
    }
    h.update(record.header.sha256.as_bytes());
    for s in &record.signals {
        h.update(b"|");
        h.update(s.sha256.as_bytes());
    }
    let digest = h.finalize();
    format!(
        "2.25.{}",
        u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"))
    )
}

/// The header's text and what it says.
async fn read_header(staged: &StagedFile) -> Result<(String, Header), Rejection> {
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
        .map_err(|e| Rejection::storage(&name, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        malformed(format!(
            "{name}: not a DICOM file, and not a WFDB header either (not text: {e})"
        ))
    })?;
    let parsed =
        wfdb::parse_header(&text, Path::new(&name)).map_err(|e| malformed(e.to_string()))?;
    Ok((text, parsed))
}

/// Reads the parts and writes the record as a DICOM ECG object. Without a base date in the
/// header, the date and time of receipt (UTC) stand in as the acquisition's.
fn encode_record(
    record: &Complete,
    patient_id: &str,
    institution: &str,
    study_uid: &str,
    received_ms: i64,
) -> Result<Vec<u8>, Rejection> {
    let header_name = &record.header.file_name;
    let malformed =
        |e: worker_ecg::EcgError| Rejection::new(RejectReason::Malformed, e.to_string());
    let by_name: BTreeMap<String, &StagedFile> = record
        .signals
        .iter()
        .map(|s| (normalise(&s.file_name), s))
        .collect();
    let parsed = wfdb::record_from_parts(&record.text, Path::new(header_name), |file| {
        let staged = by_name.get(&sibling(header_name, file)).ok_or_else(|| {
            worker_ecg::EcgError::Unusable(format!("{header_name}: {file} is missing"))
        })?;
        std::fs::read(&staged.path).map_err(|source| worker_ecg::EcgError::Io {
            path: staged.file_name.clone().into(),
            source,
        })
    })
    .map_err(malformed)?;
    let groups = encode::from_wfdb(&parsed).map_err(malformed)?;
    let seconds = groups.first().map_or(0.0, |g| g.len() as f64 / g.fs);
    let h = &parsed.header;
    let (date, time) = match (&h.base_date, &h.base_time) {
        (Some(d), t) => (d.clone(), t.clone().unwrap_or_else(|| "000000".into())),
        (None, _) => {
            let at = crate::clock::describe_ms(received_ms); // "YYYY-MM-DD HH:MM UTC"
            let digits: String = at.chars().filter(char::is_ascii_digit).collect();
            (digits[..8].to_owned(), format!("{}00", &digits[8..12]))
        }
    };
    let labels: Vec<&str> = groups
        .iter()
        .flat_map(|g| &g.channels)
        .map(|c| c.label.as_str())
        .collect();
    let who = Identity {
        patient_id: patient_id.trim().to_owned(),
        series_uid: format!("{study_uid}.1"),
        sop_uid: format!("{study_uid}.1.1"),
        study_uid: study_uid.to_owned(),
        study_id: h.record.chars().take(16).collect(),
        date,
        time,
        institution_name: institution.to_owned(),
        study_description: format!(
            "ECG, WFDB record {} ({}; {} Hz, {:.1} s)",
            h.record,
            labels.join(" "),
            h.fs,
            seconds
        )
        .chars()
        .take(64)
        .collect(),
        manufacturer: "WFDB record (converted by remotedx)".into(),
        ..Identity::default()
    };
    encode::part10_groups(&groups, &who).map_err(|e| {
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
