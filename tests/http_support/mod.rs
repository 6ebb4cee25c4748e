//! Shared by the HTTP tests: the real server on an ephemeral loopback port over a fresh store,
//! staff with passwords, and a small client that returns (status, JSON body, headers).
#![allow(dead_code)]

use std::time::Duration;

use lifecourse::app::{App, NewStaff, Role};
use lifecourse::http::{self, ServeOptions};
use lifecourse_events::*;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestStore;

pub mod pages;

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub app: App,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), lifecourse::app::AppError>>>,
    pub store: TestStore,
}

/// Options for tests: no Secure cookies on loopback, a quick runner, a generous sign-in limit.
pub fn test_options() -> ServeOptions {
    ServeOptions {
        secure_cookies: false,
        poll: Duration::from_millis(50),
        sign_in_attempts: 1000,
        ..ServeOptions::default()
    }
}

pub async fn start(store: TestStore) -> Server {
    start_with(store, test_options()).await
}

/// Starts the server once the read models reflect what the test recorded before it: its runner
/// would otherwise race the test's first reads (on PostgreSQL, behind other tests' transactions).
pub async fn start_with(store: TestStore, options: ServeOptions) -> Server {
    let app = App::open(&store.url).await.expect("open the app");
    crate::common::catch_up_fully(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(http::serve(app.clone(), listener, options, async {
        let _ = rx.await;
    }));
    Server {
        base,
        client: reqwest::Client::new(),
        app,
        stop: Some(tx),
        handle: Some(handle),
        store,
    }
}

/// The password the tests give `person`.
pub fn password_of(person: &str) -> String {
    format!("password of {person}!")
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Reply {
    /// The error's machine code, when the reply is an error.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Server {
    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server ends cleanly");
        }
    }

    /// Registers a member of staff with a password.
    pub async fn staff(&self, person: &str, role: &str, centres: &[&str]) {
        let person_id = PersonId::parse(person.to_string()).unwrap();
        self.app
            .add_staff(NewStaff {
                person: person_id.clone(),
                display_name: format!("Test {person}"),
                role: Role::parse(role).unwrap(),
                centres: centres
                    .iter()
                    .map(|c| CentreId::parse(c.to_string()).unwrap())
                    .collect(),
            })
            .await
            .unwrap();
        self.app
            .set_password(&person_id, &password_of(person))
            .await
            .unwrap();
    }

    /// Registers a member of staff and signs them in for a bearer token.
    pub async fn token_for(&self, person: &str, role: &str, centres: &[&str]) -> String {
        self.staff(person, role, centres).await;
        self.sign_in_token(person).await
    }

    pub async fn sign_in_token(&self, person: &str) -> String {
        let reply = self
            .post(
                None,
                "/tokens",
                &json!({"person": person, "password": password_of(person)}),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["token"].as_str().unwrap().to_string()
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "a JSON body, got {status}: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> Reply {
        self.get_with(token, path, &[]).await
    }

    pub async fn get_with(
        &self,
        token: Option<&str>,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    pub async fn post(
        &self,
        token: Option<&str>,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    /// Opens a file in `centre` (as `token`, who must work there); returns the child.
    pub async fn open_file(&self, token: &str, key: &str, centre: &str) -> ChildId {
        let mut command =
            serde_json::to_value(lifecourse::fixtures::open_file("2024-03-01", "2017-05-10"))
                .unwrap();
        command["centre"] = json!(centre);
        let reply = self
            .post(
                Some(token),
                "/children",
                &json!({"idempotency_key": key, "command": command}),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["child_id"].as_str().unwrap().parse().unwrap()
    }

    /// Records `command` in `child`'s file.
    pub async fn record(
        &self,
        token: &str,
        child: ChildId,
        key: &str,
        command: lifecourse::ChildFileCommand,
    ) -> Reply {
        self.post(
            Some(token),
            &format!("/children/{child}/entries"),
            &json!({"idempotency_key": key, "command": serde_json::to_value(command).unwrap()}),
            &[],
        )
        .await
    }
}
