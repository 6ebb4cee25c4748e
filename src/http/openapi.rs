//! The API's routes, in one table from which both the router (`super::router`) and the OpenAPI 3
//! document at `/openapi.json` are made, so neither can name a route the other lacks
//! (tests/http_api.rs also calls every documented route over HTTP).

use serde_json::{json, Map, Value};

/// One route of the API.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub operation: &'static str,
    pub summary: &'static str,
    /// Needs a session cookie or a bearer token.
    pub signed_in: bool,
    /// Query parameters (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// Takes a JSON body.
    pub body: bool,
    /// The statuses it may answer besides 401/429/5xx.
    pub statuses: &'static [u16],
}

const WAIT: (&str, &str) = (
    "wait_for_position",
    "read-your-writes: wait (at most wait_ms, default 5000) until this position is committed and the read models reflect every event up to it (the `position` a write returned)",
);
const WAIT_MS: (&str, &str) = (
    "wait_ms",
    "the longest wait for wait_for_position, in ms (default 5000, at most 10000)",
);
const AS_OF: (&str, &str) = (
    "as_of",
    "clinical date YYYY-MM-DD: the file as of that date, folded from the events",
);
const KNOWN_AT: (&str, &str) = (
    "known_at",
    "record time (2026-04-01T12:00:00Z, or a date for the end of that day): the file as the record showed it then",
);

pub const ROUTES: &[Route] = &[
    Route { method: "get", path: "/health", operation: "health", summary: "The server is up", signed_in: false, query: &[], body: false, statuses: &[200] },
    Route { method: "get", path: "/openapi.json", operation: "openapi", summary: "This document", signed_in: false, query: &[], body: false, statuses: &[200] },
    Route { method: "post", path: "/sign-in", operation: "sign_in", summary: "Sign in with {person, password}: sets the session cookie (HttpOnly, SameSite=Strict, Secure off loopback); rate-limited", signed_in: false, query: &[], body: true, statuses: &[200, 400, 401, 413, 415, 429] },
    Route { method: "post", path: "/tokens", operation: "token", summary: "Sign in with {person, password}: a bearer token for programs; rate-limited", signed_in: false, query: &[], body: true, statuses: &[201, 400, 401, 413, 415, 429] },
    Route { method: "post", path: "/sign-out", operation: "sign_out", summary: "Revokes the session or token used", signed_in: true, query: &[], body: false, statuses: &[204] },
    Route { method: "get", path: "/me", operation: "me", summary: "Who the credential stands for", signed_in: true, query: &[], body: false, statuses: &[200] },
    Route { method: "post", path: "/children", operation: "open_file", summary: "Open a child's file: the JSON of `lifecourse record` with an open_file command; Idempotency-Key honoured; answers the committed position", signed_in: true, query: &[], body: true, statuses: &[201, 400, 403, 409, 413, 415, 422] },
    Route { method: "post", path: "/children/{child_id}/entries", operation: "record_entry", summary: "Record an entry in a child's file (any command but open_file); Idempotency-Key honoured; If-Match: the file's version (last sequence), 409 when it moved", signed_in: true, query: &[], body: true, statuses: &[201, 400, 403, 404, 409, 413, 415, 422] },
    Route { method: "get", path: "/children/{child_id}/history", operation: "history", summary: "A child's entries in sequence order with their envelopes (a volunteer sees only their own); logged in the access log", signed_in: true, query: &[], body: false, statuses: &[200, 400, 403, 404] },
    Route { method: "get", path: "/children/{child_id}/audit", operation: "audit", summary: "The decision trail: every entry in sequence order with who recorded it (person, role, centre), when, why and under which key, corrections linked both ways, the entry each rests on, and for each decision the facts on record when it was recorded (auditors, centre administrators, the file's staff; not volunteers); logged in the access log", signed_in: true, query: &[], body: false, statuses: &[200, 400, 403, 404] },
    Route { method: "get", path: "/children/{child_id}/plan", operation: "plan", summary: "The current action plan; logged in the access log", signed_in: true, query: &[AS_OF, KNOWN_AT, WAIT, WAIT_MS], body: false, statuses: &[200, 400, 403, 404] },
    Route { method: "get", path: "/children/{child_id}/trajectory", operation: "trajectory", summary: "The longitudinal trajectory; logged in the access log", signed_in: true, query: &[AS_OF, KNOWN_AT, WAIT, WAIT_MS], body: false, statuses: &[200, 400, 403, 404] },
    Route { method: "get", path: "/children/{child_id}/access-log", operation: "access_log", summary: "Every logged read of this child's identified data (auditors, centre administrators)", signed_in: true, query: &[], body: false, statuses: &[200, 400, 403, 404] },
    Route { method: "get", path: "/centres/{centre}/break-glass", operation: "break_glass", summary: "Break-glass reads of the centre's files (centre administrators, auditors)", signed_in: true, query: &[], body: false, statuses: &[200, 400, 403] },
    Route { method: "get", path: "/gaps", operation: "gaps", summary: "The follow-up worklist, most overdue first, one page; each child on the page is logged in the access log", signed_in: true, query: &[("centre", "the centre (default: your only centre)"), ("as_of", "the date of the worklist (default today)"), KNOWN_AT, ("offset", "gaps to skip"), ("limit", "gaps per page (default 100, at most 1000)"), WAIT, WAIT_MS], body: false, statuses: &[200, 400, 403] },
    Route { method: "get", path: "/indicators", operation: "indicators", summary: "Centre indicators over a period (aggregates)", signed_in: true, query: &[("centre", "the centre (default: your only centre)"), ("from", "first day (default: a year before `to`)"), ("to", "last day (default today)"), KNOWN_AT], body: false, statuses: &[200, 400, 403] },
];

fn describe(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Recorded (or, for a retried Idempotency-Key, the first result: same child, entries and position, with replayed=true)",
        204 => "Done",
        400 => "Malformed request (code malformed or invalid_input)",
        401 => "Not signed in, or sign-in failed (code unauthenticated)",
        403 => "Not allowed by the access policy (code forbidden; the message says why)",
        404 => "Unknown child, or a child outside your centres (code unknown_child)",
        409 => "Another write won the race (conflict), or If-Match differs from the file's version (version_mismatch)",
        413 => "Body too large (code body_too_large)",
        415 => "Body is not application/json (code unsupported_media_type)",
        422 => "Refused by the file's rules (code rule_refused, with `rule`), or an Idempotency-Key reused for another command",
        429 => "Too many sign-in attempts (code rate_limited, Retry-After)",
        _ => "See the error's code",
    }
}

/// The OpenAPI 3 document of `ROUTES`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut parameters: Vec<Value> = Vec::new();
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        for (name, description) in route.query {
            parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
        }
        if route.operation == "record_entry" {
            parameters.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "the file's version (its last sequence number, as the ETag of history or of a write)"}));
        }
        if route.body && route.signed_in {
            parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string"}, "description": "the same key stores the command once and answers the first result"}));
        }
        if matches!(route.operation, "history" | "plan" | "trajectory") {
            parameters.push(json!({"name": "Break-Glass-Reason", "in": "header", "required": false, "schema": {"type": "string"}, "description": "a clinician opening a file outside their centres in an emergency states why; the read is logged and listed for the centre's administrators"}));
        }
        let mut responses = Map::new();
        let mut statuses: Vec<u16> = route.statuses.to_vec();
        if route.signed_in {
            statuses.push(401);
        }
        statuses.sort();
        statuses.dedup();
        for status in statuses {
            responses.insert(
                status.to_string(),
                json!({"description": describe(status), "content": {"application/json": {}}}),
            );
        }
        let mut operation = json!({
            "operationId": route.operation,
            "summary": route.summary,
            "parameters": parameters,
            "responses": responses,
        });
        if route.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
        }
        if route.signed_in {
            operation["security"] = json!([{"bearer": []}, {"session": []}]);
        }
        paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(route.method.to_string(), operation);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Lifecourse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The clinical record of a community social pediatrics centre. Errors are {\"error\": {\"code\", \"message\", \"rule\"?}}. Reads answer how current the read models are (freshness)."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": super::auth::SESSION_COOKIE}
            }
        }
    })
}
