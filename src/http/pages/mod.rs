//! The clinicians' pages: server-rendered HTML (maud) on the same server, the same sign-in
//! (the session cookie) and the same access policy as the JSON API, over the same `App` queries
//! and commands. No JavaScript. Every label lives in `labels`; each page section is one function.
//!
//! - Forms are protected against cross-site requests: each carries a token derived from the
//!   session's secret (`csrf`), checked before anything else; the sign-in form, before there is
//!   a session, carries a random token that must equal a short-lived cookie's (double submit).
//! - Text from the record is escaped by maud everywhere; pages answer `no-store` with a strict
//!   content security policy (no script at all).
//! - A child outside the caller's centres answers exactly like an unknown child (404).

mod chart;
mod child;
mod forms;
pub mod labels;
mod layout;
mod worklist;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, NaiveDateTime, Utc};
use lifecourse_events::*;
use maud::{html, Markup};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::auth::{secret_of, SESSION_COOKIE};
use super::error::ApiError;
use super::ServerState;
use crate::app::{self, App, AppError, Channel, CredentialKind, ErrorKind, Principal};
use labels::labels;
use layout::{error_page, page, Chrome};

type St = State<Arc<ServerState>>;

/// The cookie that carries the sign-in form's token (before there is a session).
const SIGN_IN_COOKIE: &str = "lifecourse_sign_in";

/// The pages' routes, all under `/pages` (and `/`, which leads to the worklist).
pub fn router() -> Router<Arc<ServerState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/pages/worklist") }))
        .route("/pages", get(|| async { Redirect::to("/pages/worklist") }))
        .route("/pages/sign-in", get(sign_in_form).post(sign_in))
        .route("/pages/sign-out", axum::routing::post(sign_out))
        .route("/pages/worklist", get(worklist::show))
        .route("/pages/search", get(search))
        .route("/pages/children/{child_id}", get(child::show))
        .route(
            "/pages/children/{child_id}/record/{form}",
            get(forms::show).post(forms::submit),
        )
}

// ---------------------------------------------------------------------------------------------
// Who is looking

/// The signed-in caller of a page. Not signed in: a redirect to the sign-in page, which comes
/// back here afterwards.
pub struct Viewer {
    pub principal: Principal,
    /// The `App` acting as them over the HTTP channel (no break-glass from the pages).
    pub app: App,
    pub secret: String,
    /// This session's form token.
    pub csrf: String,
}

impl Viewer {
    pub fn chrome(&self) -> Chrome<'_> {
        Chrome {
            person: self.principal.person.as_str(),
            csrf: &self.csrf,
        }
    }

    /// Whether a posted form token is this session's.
    pub fn csrf_ok(&self, given: Option<&str>) -> bool {
        given.is_some_and(|g| same(g, &self.csrf))
    }
}

impl FromRequestParts<Arc<ServerState>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ServerState>,
    ) -> Result<Self, Self::Rejection> {
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/pages/worklist".to_string());
        let to_sign_in = || {
            let next: String = url_encode(&back);
            Redirect::to(&format!("/pages/sign-in?next={next}")).into_response()
        };
        let Some(secret) = secret_of(parts) else {
            return Err(to_sign_in());
        };
        let principal = match state.app.authenticate(&secret).await {
            Ok(p) => p,
            Err(e) if e.kind() == ErrorKind::Unauthenticated => return Err(to_sign_in()),
            Err(e) => return Err(app_error(None, e)),
        };
        tracing::Span::current().record("person", principal.person.as_str());
        let app = state.app.acting_as(principal.clone(), Channel::Http);
        Ok(Viewer {
            csrf: csrf_token(&secret),
            principal,
            app,
            secret,
        })
    }
}

/// The form token of a session: a hash of its secret under a purpose of its own, so the token
/// says nothing of the secret, and a page of another site cannot know it.
pub fn csrf_token(secret: &str) -> String {
    let digest = Sha256::digest(format!("lifecourse pages form token\0{secret}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn url_encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Answers

/// An HTML answer with the pages' headers: nothing cached, nothing scripted, not framed.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// An application error as a page: the same status as the API would answer; an unknown child
/// and another centre's child read alike.
pub fn app_error(chrome: Option<&Chrome>, err: AppError) -> Response {
    let l = labels();
    let api = ApiError::from(err);
    let message = match api.status {
        StatusCode::NOT_FOUND => l.unknown_child.to_string(),
        s if s.is_server_error() => {
            tracing::warn!(message = %api.message, "page failed");
            l.server_error.to_string()
        }
        _ => api.message.clone(),
    };
    html_response(api.status, error_page(chrome, &message))
}

/// A page about no child of the caller's: a malformed id reads like an unknown child.
pub fn not_found(chrome: Option<&Chrome>) -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        error_page(chrome, labels().unknown_child),
    )
}

/// The answer to a form whose token is missing or wrong: nothing is done.
pub fn csrf_refused(chrome: Option<&Chrome>) -> Response {
    html_response(
        StatusCode::FORBIDDEN,
        error_page(chrome, labels().form_expired),
    )
}

/// A bad value in a page's query string (a date picker sent by hand, say).
pub fn bad_query(chrome: Option<&Chrome>, message: String) -> Response {
    html_response(StatusCode::BAD_REQUEST, error_page(chrome, &message))
}

// ---------------------------------------------------------------------------------------------
// Values from forms and query strings

/// A form or query string as (name, value) pairs; a name may repeat (check boxes).
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(text: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(text).unwrap_or_default())
    }

    pub fn from_query(raw: &Option<String>) -> Self {
        Self::parse(raw.as_deref().unwrap_or("").as_bytes())
    }

    /// The first value of `name`, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// A clinical date from a picker, checked against the accepted range.
pub fn parse_date(what: &'static str, text: Option<&str>) -> Result<Option<ClinicalDate>, String> {
    let Some(text) = text else { return Ok(None) };
    let date: ClinicalDate = text
        .parse()
        .map_err(|_| format!("{what}: expected a date such as 2026-04-01, got {text:?}"))?;
    app::check_date(what, date).map_err(|e| e.to_string())?;
    Ok(Some(date))
}

/// A moment in record time: RFC 3339, a picker's "2026-04-01T12:00" (UTC), or a date (the end
/// of that day, UTC).
pub fn parse_moment(
    what: &'static str,
    text: Option<&str>,
) -> Result<Option<DateTime<Utc>>, String> {
    let Some(text) = text else { return Ok(None) };
    let bad = || {
        format!("{what}: expected a moment such as 2026-04-01T12:00 (UTC) or a date, got {text:?}")
    };
    let at = if let Ok(m) = DateTime::parse_from_rfc3339(text) {
        m.to_utc()
    } else if let Ok(m) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
        m.and_utc()
    } else if let Ok(m) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        m.and_utc()
    } else {
        text.parse::<ClinicalDate>()
            .ok()
            .and_then(|d| d.date().and_hms_milli_opt(23, 59, 59, 999))
            .map(|t| t.and_utc())
            .ok_or_else(bad)?
    };
    app::check_date(what, ClinicalDate(at.date_naive())).map_err(|_| bad())?;
    Ok(Some(at))
}

/// A moment as a `datetime-local` picker shows it (UTC, to the minute).
pub fn moment_text(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sign-out

/// GET /pages/sign-in: the form, with a fresh token in a cookie and in the form.
async fn sign_in_form(State(state): St, RawQuery(raw): RawQuery) -> Response {
    let q = Fields::from_query(&raw);
    let token = uuid::Uuid::new_v4().simple().to_string();
    sign_in_page(&state, StatusCode::OK, &token, q.get("next"), None, None)
}

fn sign_in_page(
    state: &ServerState,
    status: StatusCode,
    token: &str,
    next: Option<&str>,
    person: Option<&str>,
    error: Option<&str>,
) -> Response {
    let l = labels();
    let next = safe_next(next);
    let markup = page(
        l.sign_in_title,
        None,
        html! {
            h1 { (l.sign_in_title) }
            @if let Some(error) = error {
                p.alert role="alert" #sign-in-error { (error) }
            }
            form method="post" action="/pages/sign-in" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="person" { (l.person) }
                    input #person name="person" type="text" autocomplete="username" required
                        value=[person] aria-describedby="person-hint";
                    div.hint #person-hint { (l.person_hint) }
                }
                div.field {
                    label for="password" { (l.password) }
                    input #password name="password" type="password" autocomplete="current-password" required;
                }
                button type="submit" { (l.sign_in) }
            }
        },
    );
    let mut response = html_response(status, markup);
    let cookie = format!(
        "{SIGN_IN_COOKIE}={token}; Path=/pages; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if state.options.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Only a path of this site is followed after sign-in (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/pages/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/pages/worklist".to_string(),
    }
}

fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    password: String,
}

/// POST /pages/sign-in: a session cookie, then the page asked for.
async fn sign_in(
    State(state): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let l = labels();
    let form: SignInForm = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(_) => return csrf_refused(None),
    };
    let cookie = cookie_value(&headers, SIGN_IN_COOKIE);
    if form.csrf.is_empty() || !cookie.is_some_and(|c| same(&c, &form.csrf)) {
        return csrf_refused(None);
    }
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    let again = |status, error: &str| {
        sign_in_page(
            &state,
            status,
            &fresh,
            Some(&form.next),
            Some(&form.person),
            Some(error),
        )
    };
    if state.limiter.check(addr.ip(), &form.person).is_err() {
        return again(StatusCode::TOO_MANY_REQUESTS, l.too_many_attempts);
    }
    let Ok(person) = PersonId::parse(form.person.trim().to_string()) else {
        return again(StatusCode::UNAUTHORIZED, l.sign_in_failed);
    };
    let credential = match state
        .app
        .sign_in(
            &person,
            &form.password,
            CredentialKind::Session,
            state.options.session_ttl,
        )
        .await
    {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::Unauthenticated => {
            return again(StatusCode::UNAUTHORIZED, l.sign_in_failed)
        }
        Err(e) => return app_error(None, e),
    };
    let mut response = Redirect::to(&safe_next(Some(&form.next))).into_response();
    let session = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        credential.secret,
        state.options.session_ttl.as_secs(),
        if state.options.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(value) = HeaderValue::from_str(&session) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "lifecourse_sign_in=; Path=/pages; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

/// POST /pages/sign-out: revokes the session, then the sign-in page.
async fn sign_out(State(state): St, viewer: Viewer, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    if !viewer.csrf_ok(fields.get("csrf")) {
        return csrf_refused(Some(&viewer.chrome()));
    }
    if let Err(e) = state.app.sign_out(&viewer.secret).await {
        return app_error(Some(&viewer.chrome()), e);
    }
    let mut response = Redirect::to("/pages/sign-in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "lifecourse_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

// ---------------------------------------------------------------------------------------------
// Search

/// GET /pages/search?q=: children of the caller's centres by file number or name (logged).
async fn search(viewer: Viewer, RawQuery(raw): RawQuery) -> Response {
    let l = labels();
    let q = Fields::from_query(&raw);
    let text = q.get("q").unwrap_or("");
    let found = if text.chars().count() < app::MIN_SEARCH {
        None
    } else {
        match viewer.app.search_children(text).await {
            Ok(found) => Some(found),
            Err(e) => return app_error(Some(&viewer.chrome()), e),
        }
    };
    let markup = html! {
        h1 { (l.search_label) }
        form.bar method="get" action="/pages/search" role="search" {
            label for="q" { (l.search_label) " (" (l.search_hint) ")"
                input #q type="search" name="q" value=(text);
            }
            button type="submit" { (l.search_button) }
        }
        @match &found {
            None => p { (l.search_too_short) },
            Some(found) if found.is_empty() => p { (l.search_nothing) },
            Some(found) => {
                table {
                    thead { tr { th scope="col" { (l.child) } th scope="col" { (l.file_number) } th scope="col" { (l.born) } th scope="col" { (l.centre) } } }
                    tbody {
                        @for child in found {
                            tr {
                                td { a href={ "/pages/children/" (child.child_id) } { (child.given_name.expose()) " " (child.family_name.expose()) } }
                                td { (child.file_number()) }
                                td { @if let Some(born) = child.birth_date.known() { (labels::date(*born)) } @else { (lifecourse_events::identifying::ERASED_TEXT) } }
                                td { @if let Some(c) = &child.centre { (c) } }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        page(l.search_label, Some(&viewer.chrome()), markup),
    )
}
