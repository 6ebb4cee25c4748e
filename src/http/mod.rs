//! The HTTP JSON API (`lifecourse serve`): axum over the application layer. Handlers are thin
//! (`routes`): they call the same `App` commands and queries as the command line, acting as the
//! signed-in caller (`auth`), so the access policy and the read-access log apply alike; every
//! error becomes an answer in one place (`error`). The routes are one table (`openapi::ROUTES`)
//! from which the router and `/openapi.json` are both made. The projection runner follows the
//! store in the same process, nudged after each write. The clinicians' pages (`pages`, HTML under
//! `/pages`) are served by the same router, over the same `App`.

pub mod auth;
pub mod error;
pub mod openapi;
pub mod pages;
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use tokio::sync::{watch, Notify};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::app::{App, AppError};
use auth::SignInLimiter;
use error::ApiError;

/// How the server behaves; the defaults are what `lifecourse serve` uses.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The largest request body accepted (413 beyond).
    pub body_limit: usize,
    /// A request taking longer is answered 408.
    pub request_timeout: Duration,
    /// How long a session cookie lasts.
    pub session_ttl: Duration,
    /// How long a bearer token lasts.
    pub token_ttl: Duration,
    /// Sign-in attempts allowed per client address and per person in each window (429 beyond).
    pub sign_in_attempts: u32,
    pub sign_in_window: Duration,
    /// Cookies carry `Secure`: on unless the server is bound to a loopback address.
    pub secure_cookies: bool,
    /// The runner's polling interval (it is also woken by every write).
    pub poll: Duration,
    pub batch_size: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            session_ttl: Duration::from_secs(12 * 3600),
            token_ttl: Duration::from_secs(30 * 24 * 3600),
            sign_in_attempts: 10,
            sign_in_window: Duration::from_secs(60),
            secure_cookies: true,
            poll: Duration::from_millis(500),
            batch_size: 1000,
        }
    }
}

/// What every handler shares.
pub struct ServerState {
    pub app: App,
    pub options: ServeOptions,
    pub limiter: SignInLimiter,
    /// Wakes the runner after a write, so read-your-writes waits little.
    pub runner_nudge: Arc<Notify>,
}

fn method_router(route: &openapi::Route) -> MethodRouter<Arc<ServerState>> {
    let filter = match route.method {
        "get" => MethodFilter::GET,
        "post" => MethodFilter::POST,
        other => panic!("route {} has an unknown method {other}", route.path),
    };
    match route.operation {
        "health" => on(filter, routes::health),
        "openapi" => on(filter, routes::openapi),
        "sign_in" => on(filter, routes::sign_in),
        "token" => on(filter, routes::token),
        "sign_out" => on(filter, routes::sign_out),
        "me" => on(filter, routes::me),
        "open_file" => on(filter, routes::open_file),
        "record_entry" => on(filter, routes::record_entry),
        "history" => on(filter, routes::history),
        "audit" => on(filter, routes::audit),
        "plan" => on(filter, routes::plan),
        "trajectory" => on(filter, routes::trajectory),
        "access_log" => on(filter, routes::access_log),
        "break_glass" => on(filter, routes::break_glass),
        "gaps" => on(filter, routes::gaps),
        "indicators" => on(filter, routes::indicators),
        other => panic!("no handler for the documented operation {other}"),
    }
}

/// The API's router, made from `openapi::ROUTES`, with its layers: request id (`x-request-id`,
/// also returned), a tracing span per request (method, path, request id, the signed-in person;
/// never a child's name), a timeout and the body limit.
pub fn router(state: Arc<ServerState>) -> Router {
    let mut router = Router::new();
    for route in openapi::ROUTES {
        router = router.route(route.path, method_router(route));
    }
    // The clinicians' pages (HTML, under /pages) share the sign-in and the layers.
    let router = router.merge(pages::router());
    let request_id = HeaderName::from_static("x-request-id");
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!(
                        "request",
                        id,
                        method = %request.method(),
                        path = request.uri().path(),
                        person = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.options.request_timeout,
        ));
    router
        .fallback(routes::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not answer that method; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(state.options.body_limit))
        .layer(layers)
        .with_state(state)
}

/// Keeps the read models current until `stop`: a round on every write (nudge) or `poll`. A round
/// that has started finishes before the runner stops.
async fn follow(
    app: App,
    options: ServeOptions,
    nudge: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(err) = app.project(options.batch_size).await {
            tracing::warn!(error = %err, "runner round failed; trying again");
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = nudge.notified() => {}
            _ = tokio::time::sleep(options.poll) => {}
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes; then in-flight requests finish, the
/// runner finishes its round, and this returns.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    let nudge = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let runner = tokio::spawn(follow(app.clone(), options.clone(), nudge.clone(), stop_rx));
    let state = Arc::new(ServerState {
        limiter: SignInLimiter::new(options.sign_in_attempts, options.sign_in_window),
        app,
        options,
        runner_nudge: nudge,
    });
    let stopping = stop_tx.clone();
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests and the runner's round");
        let _ = stopping.send(true);
    })
    .await;
    let _ = stop_tx.send(true);
    let _ = runner.await;
    served.map_err(|e| AppError::Output {
        format: "HTTP",
        message: e.to_string(),
    })
}
