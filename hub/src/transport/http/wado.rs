//! WADO-RS (PS3.18 10.4): instances as stored, metadata as DICOM JSON (kept compressed, sent
//! compressed to clients that take gzip), frames in the stored or an accepted transfer syntax,
//! bulk data, and rendered images (PNG, the worker's render path).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::qido::{accept_values, dicom_json, require_json};
use super::{Caller, HttpError, HttpState, accept, multipart};
use crate::domain::dicomweb::metadata::gunzip;

type Uids3 = Path<(String, String, String)>;

/// `GET /studies/{study}`.
pub async fn study(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    Path(study): Path<String>,
) -> Result<Response, HttpError> {
    retrieve(&s, c, &h, &study, None, None).await
}

/// `GET /studies/{study}/series/{series}`.
pub async fn series(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    Path((study, series)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    retrieve(&s, c, &h, &study, Some(&series), None).await
}

/// `GET /studies/{study}/series/{series}/instances/{sop}`.
pub async fn instance(
    s: State<HttpState>,
    c: Caller,
    h: HeaderMap,
    Path((st, se, i)): Uids3,
) -> Result<Response, HttpError> {
    retrieve(&s, c, &h, &st, Some(&se), Some(&i)).await
}

async fn retrieve(
    state: &HttpState,
    Caller(who): Caller,
    headers: &HeaderMap,
    study: &str,
    series: Option<&str>,
    sop: Option<&str>,
) -> Result<Response, HttpError> {
    let ranges = accept::parse(accept_values(headers));
    let files = state.hub.dicomweb_files(&who, study, series, sop).await?;
    let stored: Vec<&str> = files.iter().map(|(_, ts)| ts.as_str()).collect();
    if !accept::accepts_instances(&ranges, &stored) {
        return Err(HttpError::NotAcceptable(format!(
            "instances are sent as stored (multipart/related; type=\"application/dicom\", transfer syntax {}); this hub does not transcode them",
            stored.first().unwrap_or(&"")
        )));
    }
    let (files, syntaxes) = files.into_iter().unzip();
    Ok(multipart::files(files, syntaxes))
}

/// `GET /studies/{study}/metadata`.
pub async fn study_metadata(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path(study): Path<String>,
) -> Result<Response, HttpError> {
    require_json(&h)?;
    let gz = s.hub.dicomweb_study_metadata(&who, &study).await?;
    metadata_response(&h, gz)
}

/// `GET /studies/{study}/series/{series}/metadata`.
pub async fn series_metadata(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((study, series)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    require_json(&h)?;
    let gz = s
        .hub
        .dicomweb_series_metadata(&who, &study, &series)
        .await?;
    metadata_response(&h, gz)
}

/// `GET .../instances/{sop}/metadata`: the instance's object of its series' metadata.
pub async fn instance_metadata(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((st, se, i)): Uids3,
) -> Result<Response, HttpError> {
    require_json(&h)?;
    let gz = s.hub.dicomweb_series_metadata(&who, &st, &se).await?;
    let all: Vec<serde_json::Value> = serde_json::from_slice(&gunzip(&gz)?).map_err(|e| {
        crate::domain::Error::Internal(format!("kept metadata of series {se} is not JSON: {e}"))
    })?;
    let one: Vec<&serde_json::Value> = all
        .iter()
        .filter(|o| o["00080018"]["Value"][0].as_str() == Some(i.as_str()))
        .collect();
    if one.is_empty() {
        return Err(
            crate::domain::Error::NotFound(format!("no instance {i} in series {se}")).into(),
        );
    }
    Ok(dicom_json(serde_json::to_vec(&one).unwrap_or_default()))
}

/// Kept metadata as it is kept (gzip) to clients that take gzip, else decompressed.
fn metadata_response(headers: &HeaderMap, gz: Vec<u8>) -> Result<Response, HttpError> {
    let takes_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    if !takes_gzip {
        return Ok(dicom_json(gunzip(&gz)?));
    }
    let mut response = dicom_json(gz);
    let h = response.headers_mut();
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(response)
}

/// `GET .../instances/{sop}/frames/{list}`: each frame a part, in the stored transfer syntax
/// when accepted, else decoded to Explicit VR Little Endian when that is accepted, else 406.
pub async fn frames(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((st, se, i, list)): Path<(String, String, String, String)>,
) -> Result<Response, HttpError> {
    let numbers = frame_list(&list)?;
    let ranges = accept::parse(accept_values(&h));
    let mut media = String::new();
    let chosen = s
        .hub
        .dicomweb_frames(&who, [&st, &se, &i], &numbers, |stored| {
            let (form, m) = accept::frame_choice(&ranges, stored)?;
            media = m;
            Some(form)
        })
        .await?;
    let Some(frames) = chosen else {
        return Err(HttpError::NotAcceptable(format!(
            "instance {i}'s frames can be sent as stored or as Explicit VR Little Endian \
             (multipart/related; type=\"application/octet-stream\"; transfer-syntax=1.2.840.10008.1.2.1); \
             the Accept header allows neither"
        )));
    };
    let part_type = format!("{media}; transfer-syntax={}", frames.transfer_syntax);
    let parts = frames
        .parts
        .into_iter()
        .map(|p| (part_type.clone(), p))
        .collect();
    Ok(multipart::parts(&media, parts))
}

/// `1,3,5` → frame numbers, each at least 1.
fn frame_list(list: &str) -> Result<Vec<u32>, HttpError> {
    let numbers: Result<Vec<u32>, _> = list.split(',').map(|f| f.trim().parse::<u32>()).collect();
    match numbers {
        Ok(n) if !n.is_empty() && n.iter().all(|&f| f >= 1) => Ok(n),
        _ => Err(HttpError::BadRequest(format!(
            "frame list {list:?} is not a comma-separated list of frame numbers (from 1)"
        ))),
    }
}

/// `GET .../instances/{sop}/bulkdata/{path}`.
pub async fn bulkdata(
    s: State<HttpState>,
    Caller(who): Caller,
    Path((st, se, i, path)): Path<(String, String, String, String)>,
) -> Result<Response, HttpError> {
    let bytes = s.hub.dicomweb_bulk(&who, [&st, &se, &i], &path).await?;
    Ok(multipart::parts(
        "application/octet-stream",
        vec![("application/octet-stream".into(), bytes)],
    ))
}

/// Viewport of a render: `viewport=w,h` (the larger side bounds the image).
type RenderParams = Query<Vec<(String, String)>>;

fn viewport(params: &[(String, String)], default: Option<u32>) -> Option<u32> {
    params
        .iter()
        .find(|(k, _)| k == "viewport")
        .and_then(|(_, v)| {
            v.split(',')
                .filter_map(|n| n.trim().parse::<u32>().ok())
                .max()
        })
        .or(default)
}

fn require_png(headers: &HeaderMap) -> Result<(), HttpError> {
    let ranges = accept::parse(accept_values(headers));
    if ranges
        .iter()
        .any(|r| matches!(r.media.as_str(), "*/*" | "image/*" | "image/png"))
    {
        return Ok(());
    }
    Err(HttpError::NotAcceptable(
        "renders are given as image/png; add it to the Accept header".into(),
    ))
}

async fn render(
    state: &HttpState,
    who: &crate::model::Principal,
    h: &HeaderMap,
    uids: [&str; 3],
    frame: u32,
    max: Option<u32>,
) -> Result<Response, HttpError> {
    require_png(h)?;
    let png = state.hub.dicomweb_render(who, uids, frame, max).await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static("image/png"))],
        png,
    )
        .into_response())
}

/// `GET .../instances/{sop}/rendered`: the first frame.
pub async fn rendered(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((st, se, i)): Uids3,
    Query(p): RenderParams,
) -> Result<Response, HttpError> {
    render(&s, &who, &h, [&st, &se, &i], 1, viewport(&p, None)).await
}

/// `GET .../instances/{sop}/frames/{n}/rendered`.
pub async fn rendered_frame(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((st, se, i, list)): Path<(String, String, String, String)>,
    Query(p): RenderParams,
) -> Result<Response, HttpError> {
    let frame = frame_list(&list)?[0];
    render(&s, &who, &h, [&st, &se, &i], frame, viewport(&p, None)).await
}

/// Thumbnails are at most this many pixels on their longer side.
const THUMBNAIL: u32 = 128;

/// `GET .../instances/{sop}/thumbnail`.
pub async fn thumbnail(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((st, se, i)): Uids3,
    Query(p): RenderParams,
) -> Result<Response, HttpError> {
    render(
        &s,
        &who,
        &h,
        [&st, &se, &i],
        1,
        viewport(&p, Some(THUMBNAIL)),
    )
    .await
}

/// `GET /studies/{study}/series/{series}/thumbnail`: its middle instance's.
pub async fn series_thumbnail(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((st, se)): Path<(String, String)>,
    Query(p): RenderParams,
) -> Result<Response, HttpError> {
    let (se, middle) = s.hub.dicomweb_representative(&who, &st, Some(&se)).await?;
    let max = viewport(&p, Some(THUMBNAIL));
    render(&s, &who, &h, [&st, &se, &middle], 1, max).await
}

/// `GET /studies/{study}/series/{series}/rendered`: its middle instance's.
pub async fn series_rendered(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path((st, se)): Path<(String, String)>,
    Query(p): RenderParams,
) -> Result<Response, HttpError> {
    let (se, middle) = s.hub.dicomweb_representative(&who, &st, Some(&se)).await?;
    render(&s, &who, &h, [&st, &se, &middle], 1, viewport(&p, None)).await
}

/// `GET /studies/{study}/rendered`: its first instance's (for an ECG, the hub's 12-lead page).
pub async fn study_rendered(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path(st): Path<String>,
    Query(p): RenderParams,
) -> Result<Response, HttpError> {
    let (se, first) = s.hub.dicomweb_representative(&who, &st, None).await?;
    render(&s, &who, &h, [&st, &se, &first], 1, viewport(&p, None)).await
}

/// `GET /studies/{study}/thumbnail`: its first instance's, small.
pub async fn study_thumbnail(
    s: State<HttpState>,
    Caller(who): Caller,
    h: HeaderMap,
    Path(st): Path<String>,
    Query(p): RenderParams,
) -> Result<Response, HttpError> {
    let (se, first) = s.hub.dicomweb_representative(&who, &st, None).await?;
    let max = viewport(&p, Some(THUMBNAIL));
    render(&s, &who, &h, [&st, &se, &first], 1, max).await
}
