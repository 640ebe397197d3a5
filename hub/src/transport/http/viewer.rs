//! The OHIF viewer at `/viewer`: the prebuilt `dist/` folder of the npm package `@ohif/app`
//! (installed by `scripts/fetch-ohif.sh` into `[viewer] dist_dir`), served with our own
//! `app-config.js` (web/ohif/app-config.js, compiled in), which points OHIF at this hub's
//! DICOMweb root on the same origin.
//!
//! The package is built to live at `/`; serving it under `/viewer/` rewrites the few absolute
//! paths it holds, once per file, in memory: `PUBLIC_URL` and the script and link paths of
//! `index.html`, webpack's public path in its bundles (the chunks and web workers they load),
//! the font paths of its CSS and the icons of its manifest. Files whose names carry a content
//! hash are cached by browsers for a year; the rest are revalidated.
//!
//! The pages (OHIF's routes, answered with `index.html`) need a signed-in browser: without a
//! session, `/login` and back. Scripts and styles carry no patient data and are served to anyone.
//! Without the `dist/` folder every page says how to install it.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::session;
use crate::domain::Hub;

/// Our configuration of OHIF, sent in place of the package's own.
const APP_CONFIG: &str = include_str!("../../../../web/ohif/app-config.js");

/// Where the viewer lives on the hub's HTTP listener.
const BASE: &str = "/viewer/";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

#[derive(Clone)]
struct Viewer {
    hub: Hub,
    dist: PathBuf,
    /// Files whose absolute paths were rewritten, by path inside `dist`.
    rewritten: Arc<Mutex<HashMap<String, Bytes>>>,
}

/// `/viewer` and everything under it, served from `[viewer] dist_dir`.
pub fn router<S: Clone + Send + Sync + 'static>(hub: Hub) -> Router<S> {
    let dist = hub.config().viewer.dist_dir.clone();
    if !dist.join("index.html").is_file() {
        tracing::warn!(
            "the OHIF viewer is not installed in {}: /viewer will say so until \
             `bash scripts/fetch-ohif.sh` is run (or [viewer] dist_dir is set)",
            dist.display()
        );
    }
    Router::new()
        .route("/viewer", get(entry))
        .route("/viewer/", get(index))
        .route("/viewer/app-config.js", get(app_config))
        .route("/viewer/{*path}", get(file))
        .with_state(Viewer {
            hub,
            dist,
            rewritten: Arc::default(),
        })
}

/// `/viewer?StudyInstanceUIDs=…` opens the study in OHIF's viewer route; `/viewer` alone, the
/// study list.
async fn entry(RawQuery(query): RawQuery) -> Response {
    let to = match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{BASE}viewer?{q}"),
        None => BASE.to_owned(),
    };
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

async fn app_config() -> Response {
    respond(
        Bytes::from_static(APP_CONFIG.as_bytes()),
        "text/javascript; charset=utf-8",
        REVALIDATE,
    )
}

async fn index(State(v): State<Viewer>, uri: Uri, headers: HeaderMap) -> Response {
    page(&v, &uri, &headers).await
}

async fn file(
    State(v): State<Viewer>,
    UrlPath(path): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(rel) = clean(&path) else {
        return (StatusCode::BAD_REQUEST, "not a file of the viewer").into_response();
    };
    let full = v.dist.join(&rel);
    if tokio::fs::metadata(&full).await.is_ok_and(|m| m.is_file()) {
        return asset(&v, &path, &full).await;
    }
    if Path::new(&path).extension().is_none_or(|e| e == "html") {
        // One of OHIF's own routes (`/viewer/viewer`, `/viewer/segmentation`, …).
        return page(&v, &uri, &headers).await;
    }
    (
        StatusCode::NOT_FOUND,
        format!("the viewer has no file {path}"),
    )
        .into_response()
}

/// OHIF's page, for a signed-in browser.
async fn page(v: &Viewer, uri: &Uri, headers: &HeaderMap) -> Response {
    match session::principal(&v.hub, headers).await {
        Some(Ok(_)) => {}
        None | Some(Err(_)) => {
            let next = uri.path_and_query().map_or(BASE, |p| p.as_str());
            return session::to_login(next);
        }
    }
    let index = v.dist.join("index.html");
    if !tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file()) {
        return not_installed(&v.dist);
    }
    asset(v, "index.html", &index).await
}

/// A file of the package, its absolute paths rewritten where it has any.
async fn asset(v: &Viewer, rel: &str, full: &Path) -> Response {
    let kind = mime(rel);
    let cache = if hashed(rel) { IMMUTABLE } else { REVALIDATE };
    if let Some(hit) = v.rewritten.lock().ok().and_then(|m| m.get(rel).cloned()) {
        return respond(hit, kind, cache);
    }
    let bytes = match tokio::fs::read(full).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("viewer file {} unreadable: {e}", full.display());
            return (
                StatusCode::NOT_FOUND,
                format!("the viewer has no file {rel}"),
            )
                .into_response();
        }
    };
    match rewrite(rel, &bytes) {
        Some(new) => {
            let new = Bytes::from(new);
            if let Ok(mut m) = v.rewritten.lock() {
                m.insert(rel.to_owned(), new.clone());
            }
            respond(new, kind, cache)
        }
        None => respond(Bytes::from(bytes), kind, cache),
    }
}

fn respond(body: Bytes, kind: &'static str, cache: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

fn not_installed(dist: &Path) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>viewer not installed</title>\
         </head><body><h1>The viewer is not installed</h1><p>This hub serves the OHIF viewer from \
         <code>{}</code>, which does not hold it. Run <code>bash scripts/fetch-ohif.sh</code> in \
         the remotedx checkout (or set <code>[viewer] dist_dir</code>), then reload this page.</p>\
         <p>查看器未安装：请运行 <code>bash scripts/fetch-ohif.sh</code> 后刷新本页。</p></body></html>",
        session::escape(&dist.display().to_string())
    );
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, html).into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// `path` as a relative path inside `dist`: normal components only (no `..`, no root).
fn clean(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let ok = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| p.to_path_buf())
}

/// Whether a file's name carries a content hash (`app.bundle.26b7eafdf05b5445414b.js`,
/// `31fb9346313fc3740d7b.woff2`): its content never changes under that name.
fn hashed(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.split('.')
        .any(|part| part.len() >= 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The package's absolute paths moved under [`BASE`]; `None` when the file has none.
fn rewrite(rel: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let pairs: &[(&str, &str)] = match Path::new(rel).extension()?.to_str()? {
        "html" => &[
            ("window.PUBLIC_URL = '/'", "window.PUBLIC_URL = '/viewer/'"),
            ("href=\"/", "href=\"/viewer/"),
            ("src=\"/", "src=\"/viewer/"),
        ],
        "js" => &[(
            "__webpack_require__.p = \"/\"",
            "__webpack_require__.p = \"/viewer/\"",
        )],
        "css" => &[("url(/", "url(/viewer/")],
        "json" => &[("\"/assets/", "\"/viewer/assets/")],
        _ => return None,
    };
    let mut out = bytes.to_vec();
    let mut changed = false;
    for (from, to) in pairs {
        if let Some(new) = replace_all(&out, from.as_bytes(), to.as_bytes()) {
            out = new;
            changed = true;
        }
    }
    changed.then_some(out)
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(hay.len() + 64);
    let mut rest = hay;
    let mut found = false;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
        found = true;
    }
    out.extend_from_slice(rest);
    found.then_some(out)
}

/// The media type of a file of the package, by its extension.
fn mime(rel: &str) -> &'static str {
    let ext = Path::new(rel)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_package_are_refused() {
        assert_eq!(
            clean("assets/favicon.ico"),
            Some(PathBuf::from("assets/favicon.ico"))
        );
        for bad in ["../secret", "a/../../b", "/etc/passwd", ""] {
            assert_eq!(clean(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_content_hashed_names_are_cached_for_good() {
        assert!(hashed("app.bundle.26b7eafdf05b5445414b.js"));
        assert!(hashed("31fb9346313fc3740d7b.woff2"));
        assert!(!hashed("index.html"));
        assert!(!hashed("app.bundle.css"));
        assert!(!hashed("assets/favicon.ico"));
    }

    #[test]
    fn absolute_paths_move_under_the_viewer() {
        let html = br#"<script>window.PUBLIC_URL = '/';</script><link href="/app.css"><script src="/app.js"></script><a href="https://x/">"#;
        let out = String::from_utf8(rewrite("index.html", html).unwrap()).unwrap();
        assert!(out.contains("window.PUBLIC_URL = '/viewer/'"), "{out}");
        assert!(
            out.contains(r#"href="/viewer/app.css""#) && out.contains(r#"src="/viewer/app.js""#)
        );
        assert!(
            out.contains(r#"href="https://x/""#),
            "other sites are left alone"
        );
        let js = br#"x;__webpack_require__.p = "/";y"#;
        assert_eq!(
            rewrite("1.bundle.js", js).unwrap(),
            br#"x;__webpack_require__.p = "/viewer/";y"#
        );
        assert!(rewrite("2.bundle.js", b"no public path").is_none());
        assert_eq!(
            rewrite("app.bundle.css", b"a{src:url(/f.woff2)}").unwrap(),
            b"a{src:url(/viewer/f.woff2)}"
        );
        assert!(rewrite("x.wasm", b"url(/").is_none());
    }

    #[test]
    fn media_types_follow_extensions() {
        assert_eq!(mime("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(mime("ort/x.wasm"), "application/wasm");
        assert_eq!(mime("f.woff2"), "font/woff2");
        assert_eq!(mime("unknown.bin"), "application/octet-stream");
    }

    #[test]
    fn our_configuration_points_ohif_at_this_hub() {
        assert!(APP_CONFIG.contains("routerBasename: '/viewer'"));
        assert!(APP_CONFIG.contains("window.location.origin + '/dicomweb'"));
    }
}
