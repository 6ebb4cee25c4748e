//! A team using the HTTP API over real HTTP (the server on an ephemeral loopback port, a fresh
//! database per test, both stores): signing in with sessions and tokens, every endpoint, every
//! error status, idempotency and If-Match, read-your-writes, and a disabled account refused.

mod common;
mod http_support;

use std::time::Duration;

use lifecourse::fixtures::*;
use lifecourse_events::*;
use reqwest::StatusCode;
use serde_json::json;

use common::TestStore;
use http_support::{password_of, start, start_with, test_options};

async fn sessions_tokens_and_a_disabled_account(store: TestStore) {
    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;

    // No credential, a wrong password, an unknown person: 401, all alike.
    let reply = server.get(None, "/me").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "unauthenticated");
    for (person, password) in [
        ("sw1@centre-sud", "not the password"),
        ("nobody@centre-sud", "whatever it is"),
    ] {
        let reply = server
            .post(
                None,
                "/sign-in",
                &json!({"person": person, "password": password}),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
        assert_eq!(reply.code(), "unauthenticated");
    }
    let reply = server.get(Some("not-a-token"), "/me").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // A session: the cookie is HttpOnly, SameSite=Strict, and (on loopback) not Secure.
    let reply = server
        .post(
            None,
            "/sign-in",
            &json!({"person": "sw1@centre-sud", "password": password_of("sw1@centre-sud")}),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["role"], "social_worker");
    assert_eq!(reply.body["centres"], json!(["centre-sud"]));
    let cookie = reply.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("lifecourse_session="), "{cookie}");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    let me = server
        .client
        .get(format!("{}/me", server.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert!(me.headers().contains_key("x-request-id"));
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["person"], "sw1@centre-sud");

    // A token; signing out revokes it.
    let token = server.sign_in_token("sw1@centre-sud").await;
    assert_eq!(server.get(Some(&token), "/me").await.status, StatusCode::OK);
    let reply = server
        .post(Some(&token), "/sign-out", &json!({}), &[])
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get(Some(&token), "/me").await.status,
        StatusCode::UNAUTHORIZED
    );

    // A new password signs the person out everywhere.
    let token = server.sign_in_token("sw1@centre-sud").await;
    let person = PersonId::parse("sw1@centre-sud".to_string()).unwrap();
    server
        .app
        .set_password(&person, &password_of("sw1@centre-sud"))
        .await
        .unwrap();
    assert_eq!(
        server.get(Some(&token), "/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = server
        .post(
            None,
            "/sign-in",
            &json!({"person": "sw1@centre-sud", "password": password_of("sw1@centre-sud")}),
            &[],
        )
        .await;
    let session = reply.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // Disabling the account takes effect at once, for the session and a fresh token alike.
    let token = server.sign_in_token("sw1@centre-sud").await;
    server
        .app
        .disable_staff(&PersonId::parse("sw1@centre-sud".to_string()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        server.get(Some(&token), "/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let me = server
        .client
        .get(format!("{}/me", server.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let reply = server
        .post(
            None,
            "/tokens",
            &json!({"person": "sw1@centre-sud", "password": password_of("sw1@centre-sud")}),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

async fn sign_in_is_rate_limited(store: TestStore) {
    let options = lifecourse::http::ServeOptions {
        sign_in_attempts: 3,
        sign_in_window: Duration::from_secs(60),
        ..test_options()
    };
    let server = start_with(store, options).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let wrong = json!({"person": "sw1@centre-sud", "password": "wrong password!"});
    for _ in 0..3 {
        let reply = server.post(None, "/sign-in", &wrong, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // The fourth attempt within the minute is refused, even with the right password.
    let right = json!({"person": "sw1@centre-sud", "password": password_of("sw1@centre-sud")});
    let reply = server.post(None, "/sign-in", &right, &[]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.code(), "rate_limited");
    assert!(reply.headers.contains_key("retry-after"));
    server.stop().await;
}

async fn a_clinician_records_and_reads_over_http(store: TestStore) {
    let server = start(store).await;
    let sw = server
        .token_for("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;

    // Open a file: 201 with the child, the entry and the committed position.
    let mut open = serde_json::to_value(open_file("2024-03-01", "2017-05-10")).unwrap();
    open["centre"] = json!("centre-sud");
    let body = json!({"command": open});
    let first = server
        .post(
            Some(&sw),
            "/children",
            &body,
            &[("Idempotency-Key", "intake-1")],
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(
        first.body["entries"],
        json!([{"sequence": 1, "event_type": "ChildFileOpened"}])
    );
    assert_eq!(first.body["replayed"], false);
    assert_eq!(first.headers["etag"], "\"1\"");
    let child: ChildId = first.body["child_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        child,
        ChildId::derived_from_key(&IdempotencyKey::parse("intake-1").unwrap())
    );
    let position = first.body["position"].as_i64().unwrap();
    assert!(position >= 1);

    // The same key again: the same answer (child, entries, position), nothing new stored.
    let again = server
        .post(
            Some(&sw),
            "/children",
            &body,
            &[("Idempotency-Key", "intake-1")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["child_id"], first.body["child_id"]);
    assert_eq!(again.body["entries"], first.body["entries"]);
    assert_eq!(again.body["position"], first.body["position"]);
    assert_eq!(again.body["replayed"], true);
    // The same key for another command: refused.
    let reply = server
        .record(&sw, child, "intake-1", accept("2024-03-04"))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.code(), "idempotency_key_reused");

    // If-Match: the file's version; a stale one is a 409 and stores nothing.
    let accept_body = json!({"command": serde_json::to_value(accept("2024-03-04")).unwrap()});
    let path = format!("/children/{child}/entries");
    let reply = server
        .post(
            Some(&sw),
            &path,
            &accept_body,
            &[("If-Match", "\"7\""), ("Idempotency-Key", "accept-1")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
    assert_eq!(reply.code(), "version_mismatch");
    let reply = server
        .post(
            Some(&sw),
            &path,
            &accept_body,
            &[("If-Match", "\"1\""), ("Idempotency-Key", "accept-1")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["entries"][0]["sequence"], 2);
    let accepted_at = reply.body["position"].as_i64().unwrap();
    assert!(accepted_at > position);

    // Refused by the rules: 422 with the rule's name.
    let reply = server
        .record(
            &sw,
            child,
            "plan-too-early",
            adopt_plan("2024-03-05", vec![]),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.code(), "rule_refused");
    assert!(reply.body["error"]["rule"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(!reply.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Tremblay"));

    // Reads: history (with its ETag), and plan and trajectory once the models reach the write.
    let reply = server
        .get(Some(&sw), &format!("/children/{child}/history"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["entries"].as_array().unwrap().len(), 2);
    assert_eq!(reply.headers["etag"], "\"2\"");
    // The decision trail: both entries, the acceptance with the facts on record then.
    let reply = server
        .get(Some(&sw), &format!("/children/{child}/audit"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(reply.body["freshness"].is_object());
    let trail = reply.body["trail"]["entries"].as_array().unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1]["recorded_by"]["person"], "sw1@centre-sud");
    assert_eq!(trail[1]["decision"]["kind"], "initial_assessment");
    assert_eq!(trail[1]["decision"]["entries_on_record"], 1);
    for view in ["plan", "trajectory"] {
        let reply = server
            .get(
                Some(&sw),
                &format!("/children/{child}/{view}?wait_for_position={accepted_at}"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{view}: {:?}", reply.body);
        assert_eq!(reply.body["reached_position"], true, "{view}");
        assert!(reply.body[view].is_object(), "{view}");
        // Every committed event is in the answer (on PostgreSQL the checkpoint itself may wait
        // behind a transaction held elsewhere on the server while the rows are current).
        assert_eq!(
            reply.body["freshness"]["behind"], 0,
            "{view}: {:?}",
            reply.body
        );
        let reply = server
            .get(
                Some(&sw),
                &format!("/children/{child}/{view}?as_of=2024-03-02&known_at=2100-01-01"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{view}: {:?}", reply.body);
        // As the record stood before anything of this child was recorded: no file then.
        let reply = server
            .get(
                Some(&sw),
                &format!("/children/{child}/{view}?as_of=2024-03-02&known_at=2026-01-01"),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{view}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["error"]["code"], "no_file_then", "{view}");
    }
    let reply = server
        .get(
            Some(&sw),
            &format!("/gaps?as_of=2026-06-30&wait_for_position={accepted_at}&limit=10"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    // Accepted on 2024-03-04 and nothing since: no first meeting, no family contact.
    assert_eq!(reply.body["total"], 2, "{:?}", reply.body);
    let rules: Vec<&str> = reply.body["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["first_meeting", "family_contact"]);
    assert_eq!(reply.body["gaps"][0]["child_id"], json!(child));
    let reply = server
        .get(Some(&sw), "/gaps?as_of=2026-06-30&known_at=2024-03-02")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let reply = server
        .get(Some(&sw), "/indicators?from=2024-01-01&to=2024-12-31")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(reply.body["indicators"].is_object());

    // 404: an unknown child, for reads and writes alike; and no such route.
    let unknown = ChildId::new_random();
    for path in [
        format!("/children/{unknown}/history"),
        format!("/children/{unknown}/audit"),
        format!("/children/{unknown}/plan"),
        format!("/children/{unknown}/trajectory"),
    ] {
        let reply = server.get(Some(&sw), &path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.code(), "unknown_child");
    }
    let reply = server
        .record(&sw, unknown, "x", contact("2024-03-05"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.get(Some(&sw), "/nowhere").await.code(),
        "no_such_route"
    );

    // 400: a malformed id, JSON, query or date; an opening sent as an entry.
    for path in [
        "/children/not-a-uuid/history".to_string(),
        format!("/children/{child}/plan?as_of=yesterday"),
        format!("/children/{child}/plan?as_of=1800-01-01"),
        format!("/children/{child}/plan?colour=blue"),
        "/gaps?limit=0".to_string(),
        "/indicators?from=2025-01-01&to=2024-01-01".to_string(),
    ] {
        let reply = server.get(Some(&sw), &path).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            reply.body
        );
    }
    let reply = server
        .client
        .post(format!("{}{path}", server.base))
        .bearer_auth(&sw)
        .header("content-type", "application/json")
        .body("{\"command\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    let reply = server
        .post(
            Some(&sw),
            &path,
            &json!({"command": {"type": "record_family_contact"}, "recorded_by": "x"}),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = server
        .post(Some(&sw), &path, &json!({"command": open}), &[])
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // 415: not JSON; 413: too large; 405: a method the route does not answer.
    let reply = server
        .client
        .post(format!("{}{path}", server.base))
        .bearer_auth(&sw)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!("{{\"reason\": \"{}\"}}", "x".repeat(200 * 1024));
    // On a connection of its own: the server answers 413 before reading the whole body and
    // then closes the connection, which a later request of the shared client must not meet.
    let reply = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .bearer_auth(&sw)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");
    let reply = server.get(Some(&sw), "/children").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);

    // Nothing above stored more than the two entries.
    let history = server.app.store().history(child).await.unwrap();
    assert_eq!(history.len(), 2);
    server.stop().await;
}

async fn another_centres_file_is_not_found_but_the_glass_can_be_broken(store: TestStore) {
    let server = start(store).await;
    let sw = server
        .token_for("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let other = server
        .token_for("md1@hochelaga", "doctor", &["hochelaga"])
        .await;
    let admin = server
        .token_for("admin@centre-sud", "centre_administrator", &["centre-sud"])
        .await;
    let child = server.open_file(&sw, "intake-1", "centre-sud").await;

    // Hochelaga's doctor: the file answers like an unknown child, for reads and writes.
    for view in ["history", "plan", "trajectory"] {
        let reply = server
            .get(Some(&other), &format!("/children/{child}/{view}"))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{view}");
        assert_eq!(reply.code(), "unknown_child");
    }
    let reply = server
        .record(&other, child, "c1", contact("2024-03-05"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = server.get(Some(&other), "/gaps?centre=centre-sud").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // Break-glass: stated reason, allowed, logged, listed for Centre-Sud's administrator.
    let reply = server
        .get_with(
            Some(&other),
            &format!("/children/{child}/history"),
            &[("Break-Glass-Reason", "child admitted to ER unconscious")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    // Never for a write.
    let reply = server
        .post(
            Some(&other),
            &format!("/children/{child}/entries"),
            &json!({"command": serde_json::to_value(contact("2024-03-05")).unwrap()}),
            &[("Break-Glass-Reason", "urgent")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = server
        .get(Some(&admin), "/centres/centre-sud/break-glass")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reads = reply.body["reads"].as_array().unwrap();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["person"], "md1@hochelaga");
    assert_eq!(reads[0]["reason"], "child admitted to ER unconscious");
    assert_eq!(reads[0]["child_id"], json!(child));
    assert_eq!(
        server
            .get(Some(&admin), "/centres/hochelaga/break-glass")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Only the opening is in the file: no cross-centre write.
    assert_eq!(server.app.store().history(child).await.unwrap().len(), 1);
    server.stop().await;
}

async fn the_openapi_document_matches_the_router(store: TestStore) {
    let server = start(store).await;
    let token = server
        .token_for("au1@centre-sud", "auditor", &["centre-sud"])
        .await;
    let doc = server.get(None, "/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.0.3");
    let paths = doc.body["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = [
        ("get", "/health"),
        ("get", "/openapi.json"),
        ("post", "/sign-in"),
        ("post", "/tokens"),
        ("post", "/sign-out"),
        ("get", "/me"),
        ("post", "/children"),
        ("post", "/children/{child_id}/entries"),
        ("get", "/children/{child_id}/history"),
        ("get", "/children/{child_id}/audit"),
        ("get", "/children/{child_id}/plan"),
        ("get", "/children/{child_id}/trajectory"),
        ("get", "/children/{child_id}/access-log"),
        ("get", "/centres/{centre}/break-glass"),
        ("get", "/gaps"),
        ("get", "/indicators"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every documented route is served: none answers "no such route" or "method not allowed".
    let child = ChildId::new_random();
    for (method, path) in &documented {
        let url = format!(
            "{}{}",
            server.base,
            path.replace("{child_id}", &child.to_string())
                .replace("{centre}", "centre-sud")
        );
        let request = match method.as_str() {
            "get" => server.client.get(&url),
            _ => server
                .client
                .post(&url)
                .header("content-type", "application/json")
                .body("{}"),
        };
        let response = request.bearer_auth(&token).send().await.unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        assert_ne!(body["error"]["code"], "no_such_route", "{method} {path}");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
    server.stop().await;
}

async fn a_request_in_flight_finishes_when_the_server_stops(store: TestStore) {
    let server = start(store).await;
    let sw = server
        .token_for("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let child = server.open_file(&sw, "intake-1", "centre-sud").await;
    // A read waiting (1.5 s) for a position no write has reached is in flight at shutdown.
    let url = format!(
        "{}/children/{child}/plan?wait_for_position=1000000000&wait_ms=1500",
        server.base
    );
    let client = server.client.clone();
    let in_flight = tokio::spawn(async move { client.get(url).bearer_auth(sw).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    server.stop().await;
    let response = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["reached_position"], false);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the server waited for it"
    );
}

async fn a_volunteer_sees_their_own_activities_only(store: TestStore) {
    let server = start(store).await;
    let sw = server
        .token_for("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let volunteer = server
        .token_for("vol1@centre-sud", "volunteer", &["centre-sud"])
        .await;
    let child = server.open_file(&sw, "intake-1", "centre-sud").await;
    let reply = server
        .record(&sw, child, "accept-1", accept("2024-03-04"))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let reply = server
        .record(&volunteer, child, "contact-1", contact("2024-03-05"))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let reply = server
        .record(&volunteer, child, "meeting-1", meeting("2024-03-10"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("volunteer may not record a clinical entry"));

    let reply = server
        .get(Some(&volunteer), &format!("/children/{child}/history"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let entries = reply.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "only the contact they recorded");
    assert_eq!(entries[0]["sequence"], 3);
    assert_eq!(
        entries[0]["metadata"]["recorded_by.person"],
        "vol1@centre-sud"
    );
    for view in ["plan", "trajectory"] {
        let reply = server
            .get(Some(&volunteer), &format!("/children/{child}/{view}"))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{view}");
    }
    server.stop().await;
}

on_both_stores!(
    a_volunteer_sees_their_own_activities_only,
    a_request_in_flight_finishes_when_the_server_stops,
    sessions_tokens_and_a_disabled_account,
    sign_in_is_rate_limited,
    a_clinician_records_and_reads_over_http,
    another_centres_file_is_not_found_but_the_glass_can_be_broken,
    the_openapi_document_matches_the_router,
);
