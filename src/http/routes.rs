//! The handlers: each parses its request, calls the same `App` command or query as the command
//! line (acting as the caller), and renders JSON. No SQL here; every error goes through
//! `ApiError`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use lifecourse_events::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::{Caller, SESSION_COOKIE};
use super::error::ApiError;
use super::ServerState;
use crate::app::{self, CommandInput, CredentialKind, Freshness, Page, Period};
use crate::domain::ChildFileCommand;
use crate::runner::Projection;

type St = State<Arc<ServerState>>;

fn query<T: DeserializeOwned>(raw: &Option<String>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::malformed(format!("bad query string: {e}")))
}

fn child_of(text: &str) -> Result<ChildId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::malformed(format!("{text:?} is not a child id (a UUID)")))
}

fn moment(text: &Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let bad = || {
        ApiError::malformed(format!(
            "known_at: expected a moment such as 2026-04-01T12:00:00Z or a date such as 2026-04-01, got {text:?}"
        ))
    };
    let at = match DateTime::parse_from_rfc3339(text) {
        Ok(m) => m.to_utc(),
        Err(_) => text
            .parse::<ClinicalDate>()
            .ok()
            .and_then(|d| d.date().and_hms_milli_opt(23, 59, 59, 999))
            .map(|t| t.and_utc())
            .ok_or_else(bad)?,
    };
    app::check_date("known_at", ClinicalDate(at.date_naive())).map_err(|_| bad())?;
    Ok(Some(at))
}

fn date(what: &'static str, d: Option<ClinicalDate>) -> Result<Option<ClinicalDate>, ApiError> {
    d.map(|d| app::check_date(what, d))
        .transpose()
        .map_err(|e| ApiError::from(app::AppError::from(e)))
}

/// A JSON body: the right content type, within the size limit.
fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<String, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::unsupported_media_type());
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::malformed(rejection.body_text())
        }
    })?;
    String::from_utf8(body.to_vec()).map_err(|_| ApiError::malformed("the body is not UTF-8"))
}

fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::malformed(format!("bad JSON body: {e}")))
}

/// Read-your-writes: `wait_for_position=N` waits (at most `wait_ms`, default 5000, at most
/// 10000, below the request timeout) until the read models reflect every event up to position N.
#[derive(Debug, Default, Deserialize)]
struct Wait {
    wait_for_position: Option<i64>,
    wait_ms: Option<u64>,
}

impl Wait {
    async fn run(
        &self,
        app: &app::App,
        projections: &[Projection],
    ) -> Result<Option<bool>, ApiError> {
        let Some(position) = self.wait_for_position else {
            return Ok(None);
        };
        let timeout = Duration::from_millis(self.wait_ms.unwrap_or(5000).min(10_000));
        let mut all = true;
        for p in projections {
            all &= app.wait_until_reflected(*p, position, timeout).await?;
        }
        Ok(Some(all))
    }
}

fn read_answer(freshness: Freshness, reached: Option<bool>, name: &str, value: Value) -> Response {
    let mut body = json!({ "freshness": freshness });
    if let Some(reached) = reached {
        body["reached_position"] = json!(reached);
    }
    match value {
        Value::Object(fields) if name.is_empty() => {
            for (k, v) in fields {
                body[k] = v;
            }
        }
        value => body[name] = value,
    }
    Json(body).into_response()
}

fn to_value(value: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| {
        ApiError::from(app::AppError::Output {
            format: "JSON",
            message: e.to_string(),
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Sign-in

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    person: String,
    password: String,
}

async fn sign_in_with(
    state: &ServerState,
    addr: SocketAddr,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    kind: CredentialKind,
) -> Result<app::Credential, ApiError> {
    let text = json_body(headers, body, state.options.body_limit)?;
    let SignIn { person, password } = parse_json(&text)?;
    state
        .limiter
        .check(addr.ip(), &person)
        .map_err(ApiError::rate_limited)?;
    let person = PersonId::parse(person).map_err(|_| app::AppError::SignInFailed)?;
    let ttl = match kind {
        CredentialKind::Session => state.options.session_ttl,
        CredentialKind::Token => state.options.token_ttl,
    };
    Ok(state.app.sign_in(&person, &password, kind, ttl).await?)
}

fn who(credential: &app::Credential) -> Value {
    json!({
        "person": credential.principal.person,
        "role": credential.principal.role,
        "centres": credential.principal.centres,
        "expires_at": DateTime::from_timestamp(credential.expires_at, 0),
    })
}

/// POST /sign-in: a session cookie (HttpOnly, SameSite=Strict, Secure off loopback).
pub async fn sign_in(
    State(state): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let credential = sign_in_with(&state, addr, &headers, body, CredentialKind::Session).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        credential.secret,
        state.options.session_ttl.as_secs(),
        if state.options.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut response = Json(who(&credential)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| ApiError::malformed("cookie"))?,
    );
    Ok(response)
}

/// POST /tokens: a bearer token for programs.
pub async fn token(
    State(state): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let credential = sign_in_with(&state, addr, &headers, body, CredentialKind::Token).await?;
    let mut body = who(&credential);
    body["token"] = json!(credential.secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// POST /sign-out: revokes the credential used.
pub async fn sign_out(State(state): St, caller: Caller) -> Result<Response, ApiError> {
    state.app.sign_out(&caller.secret).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "lifecourse_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}

/// GET /me: who the credential stands for.
pub async fn me(caller: Caller) -> Json<Value> {
    Json(json!({
        "person": caller.principal.person,
        "role": caller.principal.role,
        "centres": caller.principal.centres,
    }))
}

// ---------------------------------------------------------------------------------------------
// Commands

async fn record(
    state: &ServerState,
    caller: Caller,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    path_child: Option<ChildId>,
) -> Result<Response, ApiError> {
    let text = json_body(headers, body, state.options.body_limit)?;
    let mut input = CommandInput::parse(&text).map_err(app::AppError::from)?;
    let is_opening = matches!(input.command, ChildFileCommand::OpenFile(_));
    match path_child {
        None if !is_opening => {
            return Err(ApiError::malformed(
                "POST /children opens a file (\"type\": \"open_file\"); record other entries with POST /children/{id}/entries",
            ))
        }
        Some(_) if is_opening => {
            return Err(ApiError::malformed(
                "open a file with POST /children, not in an existing child's entries",
            ))
        }
        Some(child) if input.child_id.is_some_and(|c| c != child) => {
            return Err(ApiError::malformed(
                "the body's child_id differs from the child of the path",
            ))
        }
        Some(child) => input.child_id = Some(child),
        None => {}
    }
    if let Some(key) = headers.get("idempotency-key") {
        let key = key
            .to_str()
            .ok()
            .and_then(|k| IdempotencyKey::parse(k.to_string()).ok())
            .ok_or_else(|| {
                ApiError::malformed("Idempotency-Key: printable text up to 128 characters")
            })?;
        if input.idempotency_key.as_ref().is_some_and(|k| *k != key) {
            return Err(ApiError::malformed(
                "the Idempotency-Key header differs from the body's idempotency_key",
            ));
        }
        input.idempotency_key = Some(key);
    }
    let expected = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::malformed(
                        "If-Match: the file's version (its last sequence number), e.g. \"3\"",
                    )
                })?,
        ),
    };
    let recorded = caller
        .app
        .record_expecting(&caller.principal, input, expected)
        .await?;
    let position = caller.app.committed_position(&recorded).await?;
    state.runner_nudge.notify_one();
    let version = recorded
        .entries
        .iter()
        .map(|e| e.sequence)
        .max()
        .unwrap_or(0);
    let mut body = to_value(&recorded)?;
    body["position"] = json!(position);
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{version}\""))
            .map_err(|_| ApiError::malformed("etag"))?,
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/children/{}", recorded.child_id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// POST /children: opens a file.
pub async fn open_file(
    State(state): St,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    record(&state, caller, &headers, body, None).await
}

/// POST /children/{id}/entries: records an entry in a child's file.
pub async fn record_entry(
    State(state): St,
    Path(child): Path<String>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let child = child_of(&child)?;
    record(&state, caller, &headers, body, Some(child)).await
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileQuery {
    as_of: Option<ClinicalDate>,
    known_at: Option<String>,
    wait_for_position: Option<i64>,
    wait_ms: Option<u64>,
}

impl FileQuery {
    fn wait(&self) -> Wait {
        Wait {
            wait_for_position: self.wait_for_position,
            wait_ms: self.wait_ms,
        }
    }
}

/// GET /children/{id}/history
pub async fn history(
    Path(child): Path<String>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let child = child_of(&child)?;
    let _: Empty = query(&raw)?;
    let answer = caller.app.history(child).await?;
    let version = answer.value.last().map(|e| e.sequence).unwrap_or(0);
    let mut response = read_answer(answer.freshness, None, "entries", to_value(&answer.value)?);
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// GET /children/{id}/audit
pub async fn audit(
    Path(child): Path<String>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let child = child_of(&child)?;
    let _: Empty = query(&raw)?;
    let answer = caller.app.audit(child).await?;
    Ok(read_answer(
        answer.freshness,
        None,
        "trail",
        to_value(&answer.value)?,
    ))
}

/// GET /children/{id}/plan
pub async fn plan(
    Path(child): Path<String>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let child = child_of(&child)?;
    let q: FileQuery = query(&raw)?;
    let (as_of, known_at) = (date("as_of", q.as_of)?, moment(&q.known_at)?);
    let reached = q.wait().run(&caller.app, &[Projection::ActionPlan]).await?;
    let answer = caller.app.plan(child, as_of, known_at).await?;
    Ok(read_answer(
        answer.freshness,
        reached,
        "plan",
        to_value(&answer.value)?,
    ))
}

/// GET /children/{id}/trajectory
pub async fn trajectory(
    Path(child): Path<String>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let child = child_of(&child)?;
    let q: FileQuery = query(&raw)?;
    let (as_of, known_at) = (date("as_of", q.as_of)?, moment(&q.known_at)?);
    let reached = q.wait().run(&caller.app, &[Projection::Trajectory]).await?;
    let answer = caller.app.trajectory(child, as_of, known_at).await?;
    Ok(read_answer(
        answer.freshness,
        reached,
        "trajectory",
        to_value(&answer.value)?,
    ))
}

/// GET /children/{id}/access-log
pub async fn access_log(
    Path(child): Path<String>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let child = child_of(&child)?;
    let entries = caller.app.access_log(child).await?;
    Ok(Json(json!({ "child_id": child, "reads": entries })))
}

/// GET /centres/{centre}/break-glass
pub async fn break_glass(
    Path(centre): Path<String>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let centre = CentreId::parse(centre)
        .map_err(|e| ApiError::malformed(format!("not a centre id: {e}")))?;
    let entries = caller.app.break_glass_reads(&centre).await?;
    Ok(Json(json!({ "centre": centre, "reads": entries })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GapsQuery {
    centre: Option<CentreId>,
    as_of: Option<ClinicalDate>,
    known_at: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
    wait_for_position: Option<i64>,
    wait_ms: Option<u64>,
}

/// At most this many gaps per page.
const MAX_PAGE: usize = 1000;

/// GET /gaps
pub async fn gaps(caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q: GapsQuery = query(&raw)?;
    let as_of = match date("as_of", q.as_of)? {
        Some(on) => on,
        None => caller.app.today(q.centre.as_ref()).await?,
    };
    let known_at = moment(&q.known_at)?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::malformed(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let wait = Wait {
        wait_for_position: q.wait_for_position,
        wait_ms: q.wait_ms,
    };
    let reached = wait.run(&caller.app, &[Projection::FollowUp]).await?;
    let page = Page {
        offset: q.offset.unwrap_or(0),
        limit: Some(limit),
    };
    let answer = caller
        .app
        .gaps(q.centre.as_ref(), as_of, known_at, page)
        .await?;
    let mut value = to_value(&answer.value)?;
    value["as_of"] = json!(as_of);
    Ok(read_answer(answer.freshness, reached, "", value))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorsQuery {
    centre: Option<CentreId>,
    from: Option<ClinicalDate>,
    to: Option<ClinicalDate>,
    known_at: Option<String>,
}

/// GET /indicators
pub async fn indicators(caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q: IndicatorsQuery = query(&raw)?;
    let to = match q.to {
        Some(on) => on,
        None => caller.app.today(q.centre.as_ref()).await?,
    };
    let period = match q.from {
        Some(from) => Period::new(from, to),
        None => Period::year_to(to),
    }
    .map_err(app::AppError::from)?;
    let known_at = moment(&q.known_at)?;
    let answer = caller
        .app
        .indicators(q.centre.as_ref(), period, known_at)
        .await?;
    Ok(read_answer(
        answer.freshness,
        None,
        "indicators",
        to_value(&answer.value)?,
    ))
}

/// GET /health: the server is up (no sign-in needed, nothing about any child).
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// GET /openapi.json
pub async fn openapi() -> Json<Value> {
    Json(super::openapi::document())
}

/// Any other path.
pub async fn fallback() -> ApiError {
    ApiError::no_route()
}
