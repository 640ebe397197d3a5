//! QIDO-RS: the studies, series and instances a caller may see, as DICOM JSON records built
//! from the index (counts, UIDs, modalities) and the first instance's header (patient, study and
//! series attributes, which the index does not hold), matched and cut to what was asked.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::headers::{Header, instance_json};
use super::patient::{self, PATIENT_ID};
use super::query::SearchQuery;
use super::{Purpose, ROOT, StudyView, instance_url};
use crate::domain::{Error, Hub, Result};
use crate::model::{Instance, Principal};
use crate::storage::dicomweb as store;

/// What a search lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Studies.
    Study,
    /// Series.
    Series,
    /// Instances.
    Instance,
}

/// Returned by default for studies (PS3.18 table 6.7.1-2), with what OHIF's study list shows.
const STUDY_DEFAULTS: &[&str] = &[
    "00080020", "00080030", "00080050", "00080056", "00080061", "00080090", "00080201", "00081190",
    "00100010", "00100020", "00100030", "00100040", "0020000D", "00200010", "00201206", "00201208",
    "00081030",
];

/// Returned by default for series.
const SERIES_DEFAULTS: &[&str] = &[
    "00080060", "0008103E", "00200011", "0020000E", "00201209", "00400244", "00400245", "00400275",
    "00081190", "00080021", "00080031", "0020000D", "00080056",
];

/// Returned by default for instances.
const INSTANCE_DEFAULTS: &[&str] = &[
    "00080016", "00080018", "00080056", "00081190", "00200013", "00280010", "00280011", "00280100",
    "00280008", "0020000E", "0020000D", "00080060", "00083002",
];

/// Study-level attributes of a header besides the patient's (group 0010).
const STUDY_TAGS: &[&str] = &[
    "00080020", "00080030", "00080050", "00080090", "00080201", "00081030", "0020000D", "00200010",
    "00081060", "00321060",
];

/// Series-level attributes of a header.
const SERIES_TAGS: &[&str] = &[
    "00080060", "0008103E", "00200011", "0020000E", "00080021", "00080031", "00180015", "00080070",
    "00400244", "00400245", "00400275", "00200060", "00181030",
];

impl Hub {
    /// A QIDO-RS search at `level`, within a study or series when given; recorded as one
    /// listing naming the cases returned.
    pub async fn dicomweb_search(
        &self,
        who: &Principal,
        level: Level,
        study_uid: Option<&str>,
        series_uid: Option<&str>,
        q: &SearchQuery,
    ) -> Result<Found> {
        self.dicomweb_role(who, study_uid.unwrap_or(""), Purpose::Search)
            .await?;
        let by_pseudonym = study_uid.is_none() && patient::exact_patient_id(q).is_some();
        let (views, incomplete) = self.search_scope(who, study_uid, q).await?;
        let matcher = if by_pseudonym {
            patient::without_patient_id(q)
        } else {
            q.clone()
        };
        let mut out = Vec::new();
        let mut case_ids = Vec::new();
        let wanted = q.offset + q.limit;
        'views: for view in &views {
            for record in self.records(level, view, series_uid).await? {
                if !matcher.matches(&record) {
                    continue;
                }
                case_ids.extend(view.cases.iter().map(|c| c.id));
                out.push(record);
                if out.len() >= wanted {
                    break 'views;
                }
            }
        }
        case_ids.sort_unstable();
        case_ids.dedup();
        self.audit_listing(who, "dicomweb_search", "DICOMweb search", &case_ids)
            .await?;
        let defaults = match level {
            Level::Study => STUDY_DEFAULTS,
            Level::Series => SERIES_DEFAULTS,
            Level::Instance => INSTANCE_DEFAULTS,
        };
        let records = out
            .into_iter()
            .skip(q.offset)
            .take(q.limit)
            .map(|r| q.project(r, defaults))
            .collect();
        Ok(Found {
            records,
            incomplete,
        })
    }

    /// The studies a search looks at: the one named in the path, or candidates from the index
    /// (a clinic's own institution's, or the UIDs asked for, which a recognition check may open;
    /// within the StudyDate range asked for; every study of the patient an exact Patient ID
    /// names, through their pseudonym); and whether `[dicomweb] scan_cap` cut the candidates
    /// short of what attributes only the files hold (names, wildcard IDs) would be matched on.
    async fn search_scope(
        &self,
        who: &Principal,
        study_uid: Option<&str>,
        q: &SearchQuery,
    ) -> Result<(Vec<StudyView>, bool)> {
        if let Some(study) = study_uid {
            let view = self.visible_study(who, study).await?;
            if view.cases.is_empty() {
                return Err(Error::NotFound(format!("no study {study}")));
            }
            return Ok((vec![view], false));
        }
        let uids: Vec<String> = q
            .key("0020000D")
            .unwrap_or("")
            .split([',', '\\'])
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        let (date_from, date_to) = date_range(q.key("00080020").unwrap_or(""));
        let institution = if uids.is_empty() {
            who.listing_scope()
        } else {
            ""
        };
        let mut tx = self.store().read().await?;
        let patient_keys = match patient::exact_patient_id(q) {
            Some(id) => {
                let institutions = store::case_institutions(tx.as_mut(), institution).await?;
                patient::candidate_keys(&self.inner.pseudonyms, id, &institutions)
            }
            None => Vec::new(),
        };
        let by_pseudonym = !patient_keys.is_empty();
        let filter = store::StudyFilter {
            institution_code: institution.to_owned(),
            study_uids: uids,
            date_from,
            date_to,
            patient_keys,
        };
        let filtered = q.keys.iter().any(|(k, v)| {
            !matches!(k.as_str(), "0020000D" | "00080020")
                && (!by_pseudonym || k != PATIENT_ID)
                && !v.is_empty()
        });
        let cap = match (by_pseudonym, filtered) {
            // One patient's studies: all of them, however many the index holds.
            (true, _) => usize::MAX,
            (false, true) => self.config().dicomweb.scan_cap,
            (false, false) => q.offset + q.limit,
        };
        let limit = i64::try_from(cap).unwrap_or(i64::MAX);
        let candidates = store::study_candidates(tx.as_mut(), &filter, limit).await?;
        drop(tx);
        let incomplete = !by_pseudonym && filtered && candidates.len() >= cap;
        let mut views = Vec::with_capacity(candidates.len());
        for study in candidates {
            let view = self.visible_study(who, &study).await?;
            if !view.cases.is_empty() && !view.instances.is_empty() {
                views.push(view);
            }
        }
        Ok((views, incomplete))
    }

    /// The records of one study at `level`.
    async fn records(
        &self,
        level: Level,
        view: &StudyView,
        series_uid: Option<&str>,
    ) -> Result<Vec<Map<String, Value>>> {
        let Some(first) = view.instances.first() else {
            return Ok(Vec::new());
        };
        let study = study_record(view, &*self.summary(view, first, Summary::Study).await?);
        if level == Level::Study {
            return Ok(vec![study]);
        }
        let mut out = Vec::new();
        for series in series_of(view) {
            if series_uid.is_some_and(|s| s != series) {
                continue;
            }
            let members: Vec<&Instance> = view.series(series).collect();
            let header = self.summary(view, members[0], Summary::Series).await?;
            let record = series_record(&study, &header, view, series, members.len());
            if level == Level::Series {
                out.push(record);
                continue;
            }
            out.extend(members.iter().map(|i| instance_record(&record, view, i)));
        }
        Ok(out)
    }

    /// The study or series attributes of an instance's header (cached by its blob, apart from
    /// whole headers and many more of them: a search over thousands of studies reads each
    /// study's file once).
    async fn summary(&self, view: &StudyView, i: &Instance, kind: Summary) -> Result<Header> {
        let key = format!("{kind:?}:{}", i.blob_key);
        let cache = &self.inner.dicomweb.summaries;
        if let Some(s) = cache.get(&key) {
            return Ok(s);
        }
        let header = self.dicomweb_header(view, i).await?;
        let summary = Arc::new(match kind {
            Summary::Study => pick(&header, |k| {
                k.starts_with("0010") || STUDY_TAGS.contains(&k)
            }),
            Summary::Series => pick(&header, |k| SERIES_TAGS.contains(&k)),
        });
        cache.put(&key, summary.clone());
        Ok(summary)
    }

    /// The header of an instance of `view` as DICOM JSON (cached by its blob).
    pub(crate) async fn dicomweb_header(&self, view: &StudyView, i: &Instance) -> Result<Header> {
        if let Some(h) = self.inner.dicomweb.headers.get(&i.blob_key) {
            return Ok(h);
        }
        let file = self.local_file(&i.blob_key).await?;
        let base = instance_url(&view.study_uid, &i.series_instance_uid, &i.sop_instance_uid);
        let header = tokio::task::spawn_blocking(move || instance_json(&file.path, &base))
            .await
            .map_err(|e| Error::Internal(format!("header reader crashed: {e}")))?
            .map_err(Error::Internal)?;
        let header = Arc::new(header);
        self.inner.dicomweb.headers.put(&i.blob_key, header.clone());
        Ok(header)
    }
}

/// Which attributes a summary keeps.
#[derive(Debug, Clone, Copy)]
enum Summary {
    Study,
    Series,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The records, cut to what was asked.
    pub records: Vec<Map<String, Value>>,
    /// Matching on attributes only the files hold looked at the newest `[dicomweb] scan_cap`
    /// studies only: older ones may match too.
    pub incomplete: bool,
}

/// The index's bounds for a StudyDate key: a single day (`YYYYMMDD`) or a range of them
/// (`a-b`, `a-`, `-b`); anything else ("" or a time) bounds nothing here (it is still matched
/// against each record).
fn date_range(value: &str) -> (String, String) {
    let day = |s: &str| {
        let s = s.trim();
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.to_owned()
        } else {
            String::new()
        }
    };
    match value.split_once('-') {
        Some((from, to)) => (day(from), day(to)),
        None => (day(value), day(value)),
    }
}

/// The series UIDs of a view, in order.
fn series_of(view: &StudyView) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for i in &view.instances {
        if !out.contains(&i.series_instance_uid.as_str()) {
            out.push(&i.series_instance_uid);
        }
    }
    out
}

fn pick(header: &Map<String, Value>, keep: impl Fn(&str) -> bool) -> Map<String, Value> {
    header
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn study_record(view: &StudyView, header: &Map<String, Value>) -> Map<String, Value> {
    let mut r = pick(header, |k| k.starts_with("0010") || STUDY_TAGS.contains(&k));
    let mut modalities: Vec<&str> = view.instances.iter().map(|i| i.modality.as_str()).collect();
    modalities.sort_unstable();
    modalities.dedup();
    modalities.retain(|m| !m.is_empty());
    r.insert(
        "0020000D".into(),
        json!({"vr": "UI", "Value": [view.study_uid]}),
    );
    r.insert("00080061".into(), json!({"vr": "CS", "Value": modalities}));
    r.insert(
        "00201206".into(),
        json!({"vr": "IS", "Value": [series_of(view).len()]}),
    );
    r.insert(
        "00201208".into(),
        json!({"vr": "IS", "Value": [view.instances.len()]}),
    );
    r.insert("00080056".into(), json!({"vr": "CS", "Value": ["ONLINE"]}));
    let url = format!("{ROOT}/studies/{}", view.study_uid);
    r.insert("00081190".into(), json!({"vr": "UR", "Value": [url]}));
    r
}

fn series_record(
    study: &Map<String, Value>,
    header: &Map<String, Value>,
    view: &StudyView,
    series: &str,
    count: usize,
) -> Map<String, Value> {
    let mut r = study.clone();
    r.retain(|k, _| !matches!(k.as_str(), "00201206" | "00201208" | "00081190"));
    r.extend(pick(header, |k| SERIES_TAGS.contains(&k)));
    r.insert("0020000E".into(), json!({"vr": "UI", "Value": [series]}));
    r.insert("00201209".into(), json!({"vr": "IS", "Value": [count]}));
    let url = format!("{ROOT}/studies/{}/series/{series}", view.study_uid);
    r.insert("00081190".into(), json!({"vr": "UR", "Value": [url]}));
    r
}

fn instance_record(
    series: &Map<String, Value>,
    view: &StudyView,
    i: &Instance,
) -> Map<String, Value> {
    let mut r = series.clone();
    r.insert(
        "00080016".into(),
        json!({"vr": "UI", "Value": [i.sop_class_uid]}),
    );
    r.insert(
        "00080018".into(),
        json!({"vr": "UI", "Value": [i.sop_instance_uid]}),
    );
    r.insert(
        "00200013".into(),
        json!({"vr": "IS", "Value": [i.instance_number]}),
    );
    r.insert(
        "00083002".into(),
        json!({"vr": "UI", "Value": [i.transfer_syntax_uid]}),
    );
    if i.rows > 0 && i.columns > 0 {
        r.insert("00280010".into(), json!({"vr": "US", "Value": [i.rows]}));
        r.insert("00280011".into(), json!({"vr": "US", "Value": [i.columns]}));
        r.insert(
            "00280008".into(),
            json!({"vr": "IS", "Value": [i.frames.max(1)]}),
        );
    }
    let url = instance_url(&view.study_uid, &i.series_instance_uid, &i.sop_instance_uid);
    r.insert("00081190".into(), json!({"vr": "UR", "Value": [url]}));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_date_keys_bound_the_index_only_when_they_are_days() {
        let r = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(date_range("20240101-20241231"), r("20240101", "20241231"));
        assert_eq!(date_range("20240101-"), r("20240101", ""));
        assert_eq!(date_range("-20241231"), r("", "20241231"));
        assert_eq!(date_range("20240315"), r("20240315", "20240315"));
        assert_eq!(date_range(""), r("", ""));
        assert_eq!(
            date_range("2024*"),
            r("", ""),
            "a wildcard is matched per record"
        );
    }
}
