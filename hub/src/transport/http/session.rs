//! Browser sign-in: `/login` (a small page where a user enters the token they give viewer-cli),
//! `/logout` (a page with the sign-out button; signing out is its POST), and the session cookie that then stands in for the token on every HTTP request
//! (the viewer, DICOMweb). The domain decides ([`Hub::sign_in`], [`Hub::session_principal`]);
//! this module only speaks HTTP: forms, redirects and the cookie's attributes.
//!
//! The cookie is `HttpOnly` (scripts cannot read it), `SameSite=Strict` (other sites' pages
//! cannot make the browser send it) and `Secure` when the hub serves HTTPS. The token travels
//! only in the form's body, never in a URL, and neither it nor the session id is logged.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::HttpError;
use crate::domain::session::SessionId;
use crate::domain::{Error, Hub};
use crate::model::Principal;

/// The cookie that holds a browser's session id.
pub const COOKIE_NAME: &str = "rdx_session";

/// Where a signed-in browser goes when the sign-in named nowhere (or somewhere not on this hub).
const HOME: &str = "/viewer/";

/// What the sign-in routes need.
#[derive(Clone)]
struct SignIn {
    hub: Hub,
    /// The hub serves HTTPS: the cookie is `Secure`.
    secure: bool,
}

/// `/login` (GET: the page; POST: signing in) and `/logout` (POST). `secure`: the listener
/// serves HTTPS, so the cookie is marked `Secure`.
pub fn router<S: Clone + Send + Sync + 'static>(hub: Hub, secure: bool) -> Router<S> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", get(logout_page).post(logout))
        .with_state(SignIn { hub, secure })
}

/// The session id a request's `Cookie` headers carry, if any looks like one.
pub fn session_id(headers: &HeaderMap) -> Option<SessionId> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .and_then(|(_, value)| SessionId::parse(value))
}

/// The signed-in user of a request, from its session cookie: `None` without a cookie, an
/// error when the session has ended or its user was disabled.
pub async fn principal(hub: &Hub, headers: &HeaderMap) -> Option<Result<Principal, Error>> {
    let id = session_id(headers)?;
    Some(hub.session_principal(&id).await)
}

/// The redirect that sends a browser to sign in and come back to `next` (a path on this hub).
pub fn to_login(next: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    see_other(&format!("/login?next={next}"), None)
}

#[derive(serde::Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_page(Query(q): Query<Next>) -> Response {
    page(StatusCode::OK, &safe_next(q.next.as_deref()), None)
}

async fn login(State(s): State<SignIn>, body: Bytes) -> Response {
    let mut token = String::new();
    let mut next = None;
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "token" => token = v.into_owned(),
            "next" => next = Some(v.into_owned()),
            _ => {}
        }
    }
    let next = safe_next(next.as_deref());
    match s.hub.sign_in(&token).await {
        Ok(session) => {
            let cookie = cookie(session.id.as_str(), session.lifetime.as_secs(), s.secure);
            see_other(&next, Some(cookie))
        }
        Err(e) => {
            let (status, message) = refusal(e);
            page(status, &next, Some(&message))
        }
    }
}

/// A page with the sign-out button (signing out is a POST, so that no link or image can do it).
async fn logout_page() -> Response {
    let mut r = (StatusCode::OK, LOGOUT_HTML).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn logout(State(s): State<SignIn>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers)
        && let Err(e) = s.hub.sign_out(&id).await
    {
        let (status, message) = refusal(e);
        return page(status, HOME, Some(&message));
    }
    see_other("/login", Some(cookie("", 0, s.secure)))
}

/// The status and sentence a failed sign-in is answered with; storage and internal failures
/// only by reference (their details go to the hub's log).
fn refusal(e: Error) -> (StatusCode, String) {
    match e {
        Error::NotFound(m) | Error::InvalidArgument(m) | Error::FailedPrecondition(m) => {
            (StatusCode::BAD_REQUEST, m)
        }
        other => HttpError::from(other).status(),
    }
}

/// The `Set-Cookie` value for session `id` lasting `max_age` seconds (0: forget it).
fn cookie(id: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={id}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// `next` when it is a path on this hub; the viewer otherwise (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_owned()
        }
        _ => HOME.to_owned(),
    }
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(SET_COOKIE, c);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn page(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    let html = LOGIN_HTML
        .replace("{next}", &escape(next))
        .replace("{error}", &error);
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Text made safe to place in HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const LOGOUT_HTML: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>remotedx: sign out 退出</title></head>
<body style="font-family:system-ui,sans-serif;background:#0b1a2e;color:#e8eef5">
<main style="max-width:26rem;margin:12vh auto"><h1>remotedx</h1>
<form method="post" action="/logout"><button type="submit">Sign out 退出登录</button></form>
<p><a style="color:#9fc3ff" href="/viewer/">Back to the viewer 返回查看器</a></p></main></body></html>
"#;

const LOGIN_HTML: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>remotedx: sign in 登录</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;background:#0b1a2e;color:#e8eef5;margin:0}
main{max-width:26rem;margin:12vh auto;padding:2rem;background:#12294a;border-radius:8px}
h1{margin-top:0;font-size:1.4rem}label{display:block;margin:1rem 0 .3rem}
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem}
button{margin-top:1rem;padding:.6rem 1.4rem;font-size:1rem}
.error{background:#5c1a1a;padding:.6rem;border-radius:4px}small{color:#9fb3c8}
</style></head>
<body><main>
<h1>remotedx 区域影像与心电远程诊断</h1>
<p>Sign in with your token, the one you give viewer-cli as <code>HUB_TOKEN</code>.<br>
请输入您的令牌（即 viewer-cli 使用的 HUB_TOKEN）登录。</p>
{error}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="token">Token 令牌</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in 登录</button>
</form>
<p><small>Ask the hub's administrator for a token (<code>hub user add</code>). 令牌由管理员发放。</small></p>
</main></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let c = cookie("ab12", 3600, false);
        assert_eq!(
            c,
            "rdx_session=ab12; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict"
        );
        assert!(cookie("ab12", 3600, true).ends_with("; Secure"));
        assert!(cookie("", 0, false).contains("Max-Age=0"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let id = "0f".repeat(32);
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("theme=dark"));
        let v = format!("a=1; {COOKIE_NAME}={id}; b=2");
        h.append(COOKIE, HeaderValue::from_str(&v).unwrap());
        assert_eq!(session_id(&h).unwrap().as_str(), id);
        let mut bad = HeaderMap::new();
        bad.append(
            COOKIE,
            HeaderValue::from_static("rdx_session=demo-specialist"),
        );
        assert!(session_id(&bad).is_none());
    }

    #[test]
    fn sign_in_never_sends_a_browser_to_another_site() {
        assert_eq!(
            safe_next(Some("/viewer/viewer?StudyInstanceUIDs=1.2")),
            "/viewer/viewer?StudyInstanceUIDs=1.2"
        );
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "viewer",
            "/a b",
        ] {
            assert_eq!(safe_next(Some(bad)), HOME, "{bad}");
        }
        assert_eq!(safe_next(None), HOME);
    }

    #[test]
    fn messages_are_escaped_into_the_page() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
    }
}
