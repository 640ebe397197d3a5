//! QIDO-RS (PS3.18 10.6): searches for studies, series and instances, answered as
//! `application/dicom+json`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{Caller, HttpError, HttpState, accept};
use crate::domain::dicomweb::SearchQuery;
use crate::domain::dicomweb::records::Level;

/// A search's query string, as pairs (a name may repeat).
pub type Params = Query<Vec<(String, String)>>;

/// `GET /studies`: studies.
pub async fn studies(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    Query(p): Params,
) -> Result<Response, HttpError> {
    search(&s, c, &h, &p, Level::Study, None, None).await
}

/// `GET /series`: series of every study the caller may see.
pub async fn all_series(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    Query(p): Params,
) -> Result<Response, HttpError> {
    search(&s, c, &h, &p, Level::Series, None, None).await
}

/// `GET /instances`: instances of every study the caller may see.
pub async fn all_instances(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    Query(p): Params,
) -> Result<Response, HttpError> {
    search(&s, c, &h, &p, Level::Instance, None, None).await
}

/// `GET /studies/{study}/series`.
pub async fn series(
    s: State<HttpState>,
    c: Caller,
    Path(study): Path<String>,
    h: HeaderMap,
    Query(p): Params,
) -> Result<Response, HttpError> {
    search(&s, c, &h, &p, Level::Series, Some(&study), None).await
}

/// `GET /studies/{study}/instances`.
pub async fn study_instances(
    s: State<HttpState>,
    c: Caller,
    Path(study): Path<String>,
    h: HeaderMap,
    Query(p): Params,
) -> Result<Response, HttpError> {
    search(&s, c, &h, &p, Level::Instance, Some(&study), None).await
}

/// `GET /studies/{study}/series/{series}/instances`.
pub async fn instances(
    s: State<HttpState>,
    c: Caller,
    Path((study, series)): Path<(String, String)>,
    h: HeaderMap,
    Query(p): Params,
) -> Result<Response, HttpError> {
    search(&s, c, &h, &p, Level::Instance, Some(&study), Some(&series)).await
}

async fn search(
    state: &HttpState,
    Caller(who): Caller,
    headers: &HeaderMap,
    params: &[(String, String)],
    level: Level,
    study: Option<&str>,
    series: Option<&str>,
) -> Result<Response, HttpError> {
    require_json(headers)?;
    let query = SearchQuery::parse(params)?;
    let found = state
        .hub
        .dicomweb_search(&who, level, study, series, &query)
        .await?;
    let mut response =
        dicom_json(serde_json::to_vec(&found.records).unwrap_or_else(|_| b"[]".to_vec()));
    if found.incomplete {
        let cap = state.hub.config().dicomweb.scan_cap;
        let warning = format!(
            "299 remotedx \"matched among the newest {cap} studies only; narrow the search by StudyDate or give an exact PatientID\""
        );
        if let Ok(v) = HeaderValue::from_str(&warning) {
            response.headers_mut().insert(header::WARNING, v);
        }
    }
    Ok(response)
}

/// 406 unless the client takes DICOM JSON.
pub fn require_json(headers: &HeaderMap) -> Result<(), HttpError> {
    let ranges = accept::parse(accept_values(headers));
    if accept::accepts_json(&ranges) {
        return Ok(());
    }
    Err(HttpError::NotAcceptable(
        "this resource is given as application/dicom+json only; add it to the Accept header".into(),
    ))
}

/// Every `Accept` header's value.
pub fn accept_values(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
}

/// A DICOM JSON answer.
pub fn dicom_json(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/dicom+json"),
        )],
        body,
    )
        .into_response()
}
