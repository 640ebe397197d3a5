//! STOW-RS (PS3.18 10.5): `multipart/related; type="application/dicom"` bodies stored through
//! the very ingest session gRPC uploads and C-STORE use (same checks, same cases, same
//! refusals), answered with each instance's outcome as DICOM JSON.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde_json::{Map, Value, json};

use super::qido::{dicom_json, require_json};
use super::{Caller, HttpError, HttpState, accept};
use crate::domain::dicom_meta;
use crate::domain::dicomweb::ROOT;
use crate::domain::ingest::{IngestOptions, IngestSession};
use crate::domain::staging::{RejectReason, Rejection};
use crate::domain::{Error, Hub};

/// `POST /studies`.
pub async fn store(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    stow(&s.hub, c, &h, None, body).await
}

/// `POST /studies/{study}`: every instance must belong to that study.
pub async fn store_in_study(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    Path(study): Path<String>,
    body: Body,
) -> Result<Response, HttpError> {
    stow(&s.hub, c, &h, Some(&study), body).await
}

/// One part's outcome.
struct Outcome {
    sop_class: String,
    sop_instance: String,
    study: String,
    result: Result<(), (u16, String)>,
}

async fn stow(
    hub: &Hub,
    Caller(who): Caller,
    headers: &HeaderMap,
    study: Option<&str>,
    body: Body,
) -> Result<Response, HttpError> {
    require_json(headers)?;
    let boundary = boundary(headers)?;
    let mut session = hub.ingest_session(who, IngestOptions::default())?;
    let limit = hub.config().http.max_body_bytes;
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut outcomes = Vec::new();
    let mut received = 0u64;
    let mut index = 0usize;
    loop {
        let field = match parts.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(HttpError::BadRequest(format!(
                    "the multipart body cannot be read: {e}"
                )));
            }
        };
        index += 1;
        let name = format!("part {index}");
        let staged = stage(hub, &name, field, &mut received, limit).await?;
        outcomes.push(store_one(&mut session, staged, study, &name).await);
    }
    // Queues the studies for reading, as at the end of an upload or association.
    session.finish().await?;
    Ok(answer(study, outcomes))
}

/// The boundary of a `multipart/related; type="application/dicom"` body; 415 for anything else.
fn boundary(headers: &HeaderMap) -> Result<String, HttpError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let range = accept::parse([ct]).into_iter().next();
    let unsupported = || {
        HttpError::UnsupportedMediaType(format!(
            "STOW-RS takes multipart/related; type=\"application/dicom\" with a boundary, not {ct:?}"
        ))
    };
    let Some(range) = range.filter(|r| r.media == "multipart/related") else {
        return Err(unsupported());
    };
    let param = |name: &str| {
        range
            .params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if param("type").is_some_and(|t| t != "application/dicom") {
        return Err(unsupported());
    }
    param("boundary").ok_or_else(unsupported)
}

/// Receives one part into the staging area, counting the body against `limit`.
async fn stage(
    hub: &Hub,
    name: &str,
    mut field: multer::Field<'_>,
    received: &mut u64,
    limit: u64,
) -> Result<Result<crate::domain::staging::StagedFile, Rejection>, HttpError> {
    let mut staging = match hub.begin_staging(name).await {
        Ok(s) => s,
        Err(r) => return Ok(Err(r)),
    };
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err(HttpError::BadRequest(format!("{name} cannot be read: {e}"))),
        };
        *received += chunk.len() as u64;
        if *received > limit {
            return Err(HttpError::TooLarge(format!(
                "the request body is larger than http.max_body_bytes ({limit} bytes); send fewer instances per request"
            )));
        }
        if let Err(r) = staging.write(&chunk).await {
            return Ok(Err(r));
        }
    }
    Ok(staging.finish(None, None).await)
}

async fn store_one(
    session: &mut IngestSession,
    staged: Result<crate::domain::staging::StagedFile, Rejection>,
    study: Option<&str>,
    name: &str,
) -> Outcome {
    let mut out = Outcome {
        sop_class: String::new(),
        sop_instance: String::new(),
        study: String::new(),
        result: Ok(()),
    };
    let staged = match staged {
        Ok(s) => s,
        Err(r) => {
            out.result = Err(refusal(&r));
            return out;
        }
    };
    let path = staged.path.to_path_buf();
    let label = name.to_owned();
    let meta = tokio::task::spawn_blocking(move || dicom_meta::read(&path, &label).ok())
        .await
        .ok()
        .flatten();
    if let Some(meta) = &meta {
        out.sop_class = meta.sop_class_uid.clone();
        out.sop_instance = meta.sop_instance_uid.clone();
        out.study = meta.study_instance_uid.clone();
    }
    if let Some(wanted) =
        study.filter(|w| meta.as_ref().is_some_and(|m| m.study_instance_uid != *w))
    {
        out.result = Err((
            0xA900,
            format!("{name} belongs to study {}, not {wanted}", out.study),
        ));
        return out;
    }
    out.result = session
        .ingest(staged)
        .await
        .map(|_| ())
        .map_err(|r| refusal(&r));
    out
}

/// The Failure Reason (0008,1197) and message of a refusal (PS3.4 B.2.3 statuses).
fn refusal(r: &Rejection) -> (u16, String) {
    let code = match r.reason {
        RejectReason::NotDicom
        | RejectReason::Malformed
        | RejectReason::MissingAttribute
        | RejectReason::ChecksumMismatch
        | RejectReason::Protocol => 0xC000,
        RejectReason::Conflict => 0x0111,
        RejectReason::ForeignStudy => 0x0124,
        RejectReason::TooLarge | RejectReason::Storage => 0xA700,
    };
    (code, r.message.clone())
}

/// The Store Instances Response Module as DICOM JSON; 200 when all were stored, 202 when some,
/// 409 when none.
fn answer(study: Option<&str>, outcomes: Vec<Outcome>) -> Response {
    let mut stored = Vec::new();
    let mut failed = Vec::new();
    let mut warnings = Vec::new();
    for o in &outcomes {
        let mut item = Map::new();
        item.insert(
            "00081150".into(),
            json!({"vr": "UI", "Value": [o.sop_class]}),
        );
        item.insert(
            "00081155".into(),
            json!({"vr": "UI", "Value": [o.sop_instance]}),
        );
        match &o.result {
            Ok(()) => {
                let url = format!("{ROOT}/studies/{}/instances/{}", o.study, o.sop_instance);
                item.insert("00081190".into(), json!({"vr": "UR", "Value": [url]}));
                stored.push(Value::Object(item));
            }
            Err((code, message)) => {
                item.insert("00081197".into(), json!({"vr": "US", "Value": [code]}));
                warnings.push(message.clone());
                failed.push(Value::Object(item));
            }
        }
    }
    let mut body = Map::new();
    if let Some(study) = study.or_else(|| {
        outcomes
            .iter()
            .find(|o| !o.study.is_empty())
            .map(|o| o.study.as_str())
    }) {
        body.insert(
            "00081190".into(),
            json!({"vr": "UR", "Value": [format!("{ROOT}/studies/{study}")]}),
        );
    }
    if !stored.is_empty() {
        body.insert("00081199".into(), json!({"vr": "SQ", "Value": stored}));
    }
    if !failed.is_empty() {
        body.insert("00081198".into(), json!({"vr": "SQ", "Value": failed}));
    }
    let status = match (stored.is_empty(), failed.is_empty()) {
        (_, true) => StatusCode::OK,
        (false, false) => StatusCode::ACCEPTED,
        (true, false) => StatusCode::CONFLICT,
    };
    let mut response = dicom_json(serde_json::to_vec(&Value::Object(body)).unwrap_or_default());
    *response.status_mut() = status;
    for w in warnings.iter().take(20) {
        // Why each failed, for people reading the exchange (the body carries the codes).
        let text = format!("299 remotedx \"{}\"", w.replace(['"', '\r', '\n'], " "));
        if let Ok(v) = axum::http::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response.into_response()
}

impl From<Rejection> for HttpError {
    fn from(r: Rejection) -> Self {
        HttpError::Domain(Error::InvalidArgument(r.message))
    }
}
