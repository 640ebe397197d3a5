//! The browser's routes without a listener: signing in at /login (a wrong token refused, the
//! cookie's attributes), the viewer's pages only for a signed-in browser, a disabled user's
//! cookie refused at once, the package's paths moved under /viewer, our app-config.js, and the
//! page that says how to install a missing viewer.

mod common;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use common::*;
use hub::model::Role;
use hub::transport::http::{session, viewer};
use tower::ServiceExt;

const INDEX: &str = r#"<!doctype html><script>window.PUBLIC_URL = '/';</script><script src="/app.bundle.0123456789abcdef0123.js"></script>"#;
const BUNDLE: &str = r#"(()=>{__webpack_require__.p = "/";})()"#;

fn routes(t: &TestHub) -> Router {
    Router::new()
        .merge(session::router(t.hub.clone(), false))
        .merge(viewer::router(t.hub.clone()))
}

async fn hub_with_viewer(installed: bool) -> (TestHub, tempfile::TempDir) {
    let dist = tempfile::tempdir().unwrap();
    if installed {
        std::fs::write(dist.path().join("index.html"), INDEX).unwrap();
        std::fs::write(
            dist.path().join("app.bundle.0123456789abcdef0123.js"),
            BUNDLE,
        )
        .unwrap();
    }
    let dir = dist.path().to_path_buf();
    let t =
        test_hub(move |c| c.viewer.dist_dir = if installed { dir } else { dir.join("missing") })
            .await;
    (t, dist)
}

async fn get(
    app: &Router,
    uri: &str,
    cookie: Option<&str>,
) -> (StatusCode, header::HeaderMap, String) {
    let mut req = Request::get(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, header::HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

async fn sign_in(app: &Router, token: &str) -> (StatusCode, header::HeaderMap, String) {
    let body = format!("token={token}&next=%2Fviewer%2Fviewer%3FStudyInstanceUIDs%3D1.2.3");
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(app, req).await
}

fn session_cookie(headers: &header::HeaderMap) -> String {
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_on_the_sign_in_page() {
    let (t, _dist) = hub_with_viewer(true).await;
    let app = routes(&t);
    let (status, headers, body) = sign_in(&app, "rdx_wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(
        body.contains("not recognised") && body.contains("<form"),
        "{body}"
    );
    assert!(!body.contains("rdx_wrong"), "the token is not echoed back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_sets_a_strict_http_only_cookie_and_returns_to_the_study() {
    let (t, _dist) = hub_with_viewer(true).await;
    let (_, token) = add_user(&t.hub, "dr li", Role::Specialist, "CTY").await;
    let app = routes(&t);
    let (status, headers, _) = sign_in(&app, &token).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/viewer/viewer?StudyInstanceUIDs=1.2.3"
    );
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("rdx_session="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(attribute), "{attribute} missing from {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP on loopback: no Secure");
    assert!(
        !set.contains(&token),
        "the cookie holds a session id, not the token"
    );

    let cookie = session_cookie(&headers);
    let (status, _, body) = get(
        &app,
        "/viewer/viewer?StudyInstanceUIDs=1.2.3",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("window.PUBLIC_URL = '/viewer/'"), "{body}");

    // Signing out (the page's button) ends the session and clears the cookie.
    let (status, _, page) = get(&app, "/logout", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"method="post" action="/logout""#), "{page}");
    let req = Request::post("/logout")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, headers, _) = get(&app, "/viewer/", Some(&cookie)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_needs_a_signed_in_browser_and_a_disabled_user_is_out_at_once() {
    let (t, _dist) = hub_with_viewer(true).await;
    let (clinic, token) = add_user(&t.hub, "dr wang", Role::Clinic, "TS-A").await;
    let app = routes(&t);
    let (status, headers, _) = get(&app, "/viewer/viewer?StudyInstanceUIDs=9.8", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/login?next=%2Fviewer%2Fviewer%3FStudyInstanceUIDs%3D9.8"
    );
    let (_, headers, _) = sign_in(&app, &token).await;
    let cookie = session_cookie(&headers);
    assert_eq!(get(&app, "/viewer/", Some(&cookie)).await.0, StatusCode::OK);
    t.hub.disable_user(&t.admin, clinic.user_id).await.unwrap();
    let (status, headers, _) = get(&app, "/viewer/", Some(&cookie)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the disabled user's session ended"
    );
    assert!(
        headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_is_served_under_the_viewer_with_our_configuration() {
    let (t, _dist) = hub_with_viewer(true).await;
    let app = routes(&t);
    let (status, headers, body) =
        get(&app, "/viewer/app.bundle.0123456789abcdef0123.js", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        body.contains(r#"__webpack_require__.p = "/viewer/""#),
        "{body}"
    );

    let (status, headers, body) = get(&app, "/viewer/app-config.js", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert!(body.contains("/dicomweb"));

    let (status, headers, _) = get(&app, "/viewer?StudyInstanceUIDs=1.2.3", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/viewer/viewer?StudyInstanceUIDs=1.2.3"
    );
    assert_eq!(
        get(&app, "/viewer/missing.js", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/viewer/..%2F..%2Fetc%2Fpasswd", None).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_viewer_says_how_to_install_it() {
    let (t, _dist) = hub_with_viewer(false).await;
    let (_, token) = add_user(&t.hub, "dr li", Role::Specialist, "CTY").await;
    let app = routes(&t);
    let (_, headers, _) = sign_in(&app, &token).await;
    let (status, _, body) = get(&app, "/viewer/", Some(&session_cookie(&headers))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("scripts/fetch-ohif.sh"), "{body}");
}
