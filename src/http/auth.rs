//! Who is calling: a session cookie (pages) or a bearer token (programs), looked up on every
//! request (so a disabled account or a revoked credential loses access at once); and the
//! sign-in rate limiter.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use super::ServerState;
use crate::app::{App, AppError, Channel, Principal};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "lifecourse_session";
/// The header in which a clinician states why they open a file outside their centres.
pub const BREAK_GLASS_HEADER: &str = "break-glass-reason";

/// The caller of a request: their principal, the `App` acting as them (with the break-glass
/// reason they stated, if any), and the secret of the credential they used.
pub struct Caller {
    pub principal: Principal,
    pub app: App,
    pub secret: String,
}

/// The credential's secret: `Authorization: Bearer …` or the session cookie.
pub fn secret_of(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value
            .strip_prefix("Bearer ")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<Arc<ServerState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ServerState>,
    ) -> Result<Self, Self::Rejection> {
        let secret = secret_of(parts).ok_or(AppError::NotSignedIn)?;
        let principal = state.app.authenticate(&secret).await?;
        tracing::Span::current().record("person", principal.person.as_str());
        let break_glass = match parts.headers.get(BREAK_GLASS_HEADER) {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| {
                        ApiError::malformed(format!(
                            "the {BREAK_GLASS_HEADER} header must be visible ASCII text"
                        ))
                    })?
                    .to_string(),
            ),
        };
        let app = state
            .app
            .acting_as(principal.clone(), Channel::Http)
            .with_break_glass(break_glass);
        Ok(Caller {
            principal,
            app,
            secret,
        })
    }
}

/// At most `per_window` sign-in attempts per client address and per person in each window.
pub struct SignInLimiter {
    per_window: u32,
    window: Duration,
    attempts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl SignInLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `ip` for `person`; Err(seconds to wait) when over the limit.
    pub fn check(&self, ip: IpAddr, person: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() > 10_000 {
            attempts.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let mut wait = None;
        for key in [format!("ip:{ip}"), format!("person:{person}")] {
            let (start, count) = attempts.entry(key).or_insert((now, 0));
            if now.duration_since(*start) >= self.window {
                *start = now;
                *count = 0;
            }
            *count += 1;
            if *count > self.per_window {
                let left = self.window.saturating_sub(now.duration_since(*start));
                wait = Some(left.as_secs().max(1));
            }
        }
        wait.map_or(Ok(()), Err)
    }
}
