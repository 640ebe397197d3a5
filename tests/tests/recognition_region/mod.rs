//! The region the recognition end-to-end tests share: three institutions of two levels (TS-A and
//! TS-B township, CTY county) with their own catalogue file, price table and quality-control
//! passes, and the steps the tests repeat (a study of a patient examined some days ago, its
//! upload, its signature, a check that waits for the outbox).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use e2e::*;
use serde_json::Value;

/// Patient identifiers (valid resident ID numbers, so uploads and checks read them alike).
pub const PATIENT: &str = "990321195803040170";
pub const OTHER_PATIENT: &str = "990321197109210247";

pub const CATALOGUE: &str = r#"region = "e2e-county"
version = "test-1"

[[items]]
code = "CT-HEAD"
name = "CT head"
modalities = ["CT"]
body_parts = ["HEAD", "BRAIN"]
category = "ct"
validity_days = 30
recognisable = true
scope = "county-alliance"
hr_mark = "HR-E2E"

[[items]]
code = "CT-CHEST"
name = "CT chest"
modalities = ["CT"]
body_parts = ["CHEST"]
category = "ct"
validity_days = 30
recognisable = true
scope = "county-alliance"
hr_mark = "HR-E2E"
recognised_from = "2099-01-01"

[[items]]
code = "CT-OTHER"
name = "CT other"
modalities = ["CT"]
category = "ct"
validity_days = 30

[[items]]
code = "DR-CHEST"
name = "DR chest"
modalities = ["DX", "CR", "DR"]
body_parts = ["CHEST"]
category = "radiography"
validity_days = 30
recognisable = true
scope = "county-alliance"
hr_mark = "HR-E2E"

[[prices]]
item = "CT-HEAD"
level = "township"
from = "2020-01-01"
fee_yuan = 130.0

[[prices]]
item = "CT-HEAD"
level = "county"
from = "2020-01-01"
fee_yuan = 150.0

# Not yet in force: accepting today must not use it.
[[prices]]
item = "CT-HEAD"
level = "county"
from = "2099-01-01"
fee_yuan = 999.0

[[prices]]
item = "DR-CHEST"
level = "county"
from = "2020-01-01"
fee_yuan = 60.0

[[qc_passes]]
institution = "TS-A"
category = "ct"
from = "2020-01-01"

# TS-A's radiography pass only starts in 2099: its DR today is not recognisable.
[[qc_passes]]
institution = "TS-A"
category = "radiography"
from = "2099-01-01"
"#;

/// Check rate limits high enough for tests that wait for entries by checking again.
pub const GENEROUS_CHECK_LIMITS: [(&str, &str); 2] = [
    (
        "REMOTEDX_HUB_RECOGNITION__CHECKS_PER_PATIENT_PER_DAY",
        "1000",
    ),
    ("REMOTEDX_HUB_RECOGNITION__CHECKS_PER_USER_PER_HOUR", "1000"),
];

pub const REASONS: [&str; 9] = [
    "condition-changed",
    "fast-changing",
    "pre-surgery",
    "emergency",
    "forensic",
    "patient-request",
    "image-quality",
    "outside-validity",
    "other",
];

/// "YYYYMMDD" of `days_ago` days before today (UTC).
pub fn dicom_date(days_ago: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let z = now.div_euclid(86_400) - days_ago + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

/// "YYYY-MM-DD" of a "YYYYMMDD".
pub fn dashed(d: &str) -> String {
    format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
}

/// Writes a one-instance study of `template` for `patient`, examined `days_ago` days ago.
pub fn study(dir: &Path, template: &str, n: u32, patient: &str, days_ago: i64) -> PathBuf {
    let path = sample_files().join("baishui").join(template);
    let mut obj = dicom_object::open_file(&path).unwrap();
    obj.put(DataElement::new(
        tags::STUDY_DATE,
        VR::DA,
        PrimitiveValue::from(dicom_date(days_ago)),
    ));
    let uid = format!("2.25.9517{n}");
    let bytes = dicom::variant(&obj, &uid, 1, patient);
    let out = dir.join(format!("study{n}.dcm"));
    std::fs::write(&out, bytes).unwrap();
    out
}

/// Uploads a study as `token`; returns the upload's case JSON.
pub fn upload(r: &Region, token: &str, file: &Path, item: Option<&str>) -> Value {
    let mut args = vec![
        "upload",
        file.to_str().unwrap(),
        "--patient-id-type",
        "id-card",
    ];
    if let Some(item) = item {
        args.extend(["--item", item]);
    }
    ok(&cli(&r.hub, token, &args))["summary"]["cases"][0].clone()
}

/// Claims and signs a case as the senior specialist.
pub fn sign(r: &Region, case: i64) {
    let id = case.to_string();
    ok(&cli(&r.hub, r.token("senior"), &["claim", &id]));
    let report = [
        "report",
        &id,
        "--findings",
        "no bleed",
        "--impression",
        "normal study",
        "--sign",
    ];
    ok(&cli(&r.hub, r.token("senior"), &report));
}

/// `recognition check` as `token`, waiting (the outbox delivers signed reports asynchronously)
/// until `want` entries are listed. Each try is a check: a hub that polls this way needs
/// [`GENEROUS_CHECK_LIMITS`].
pub fn check(r: &Region, token: &str, patient: &str, item: &str, want: usize) -> Vec<Value> {
    let args = [
        "recognition",
        "check",
        "--patient-id",
        patient,
        "--item",
        item,
        "--purpose",
        "before-examining",
    ];
    let mut entries = Vec::new();
    for _ in 0..50 {
        entries = ok(&cli(&r.hub, token, &args))["entries"]
            .as_array()
            .unwrap()
            .clone();
        if entries.len() >= want {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    entries
}
