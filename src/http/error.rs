//! The one place an error becomes an HTTP answer: a status, a stable machine `code`, a plain
//! `message` and, for a refusal by the file's rules, the `rule`. Bad input is never a 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::{AppError, ErrorKind};

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub rule: Option<&'static str>,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            rule: None,
            retry_after: None,
        }
    }

    /// 400: the request itself is malformed (JSON, query, path or header).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than the {limit} bytes accepted"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON, with Content-Type: application/json",
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many sign-in attempts: wait {retry_after} s and try again"),
            )
        }
    }

    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            "no such endpoint; see /openapi.json",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let message = err.to_string();
        let (status, code) = match &err {
            AppError::KeyReused { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            AppError::VersionMismatch { .. } => (StatusCode::CONFLICT, "version_mismatch"),
            AppError::NotProjectedYet { .. } => {
                return Self {
                    retry_after: Some(1),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "not_projected_yet",
                        message,
                    )
                }
            }
            AppError::UnknownChild(_) => (StatusCode::NOT_FOUND, "unknown_child"),
            AppError::NoFileThen { .. } => (StatusCode::NOT_FOUND, "no_file_then"),
            AppError::Refused { error, .. } => {
                return Self {
                    rule: Some(error.rule()),
                    ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rule_refused", message)
                }
            }
            _ => match err.kind() {
                ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "invalid_input"),
                ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                ErrorKind::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
                ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
                ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
                ErrorKind::Refused => (StatusCode::UNPROCESSABLE_ENTITY, "rule_refused"),
                ErrorKind::Store => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
                ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
                ErrorKind::Altered => (StatusCode::CONFLICT, "store_altered"),
            },
        };
        if status.is_server_error() {
            tracing::error!(%message, "request failed");
        }
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
                rule: self.rule,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lifecourse\""),
            );
        }
        response
    }
}
