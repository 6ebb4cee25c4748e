//! An auditor's journey through the read-access log: every read of a child's identified data
//! (history, plan, trajectory, worklist rows; over HTTP, and on the command line with or
//! without --as) leaves a row saying who, when, what, which child and why; the log is listed by
//! `GET /children/{id}/access-log` and `lifecourse access-log`; and it is append-only — the
//! triggers refuse UPDATE and DELETE to anyone, and the application role of README.md has no
//! right to change it at all.

mod common;
mod http_support;

use std::process::Command;

use lifecourse::app::Channel;
use lifecourse_events::*;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use common::TestStore;

async fn every_read_of_identified_data_is_logged(store: TestStore) {
    let server = http_support::start(store).await;
    let sw = server
        .token_for("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let auditor = server
        .token_for("au1@centre-sud", "auditor", &["centre-sud"])
        .await;
    let child = server.open_file(&sw, "intake-1", "centre-sud").await;
    let reply = server
        .record(
            &sw,
            child,
            "accept-1",
            lifecourse::fixtures::accept("2024-03-04"),
        )
        .await;
    let position = reply.body["position"].as_i64().unwrap();

    for path in [
        format!("/children/{child}/history"),
        format!("/children/{child}/plan?wait_for_position={position}"),
        format!("/children/{child}/trajectory?wait_for_position={position}"),
        format!("/gaps?as_of=2026-06-30&wait_for_position={position}"),
    ] {
        assert_eq!(
            server.get(Some(&sw), &path).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    // A read that fails (another child) and a list without names (indicators) log nothing.
    let unknown = ChildId::new_random();
    server
        .get(Some(&sw), &format!("/children/{unknown}/plan"))
        .await;
    server.get(Some(&sw), "/indicators").await;
    // A command-line read as the auditor, and one without --as.
    let auditor_principal = server
        .app
        .principal(&PersonId::parse("au1@centre-sud".to_string()).unwrap())
        .await
        .unwrap();
    server
        .app
        .acting_as(auditor_principal, Channel::Cli)
        .history(child)
        .await
        .unwrap();
    server.app.trajectory(child, None, None).await.unwrap();

    let reply = server
        .get(Some(&auditor), &format!("/children/{child}/access-log"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let rows: Vec<(String, String, String, String, bool)> = reply.body["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person"].as_str().unwrap_or("-").to_string(),
                r["role"].as_str().unwrap_or("-").to_string(),
                r["action"].as_str().unwrap().to_string(),
                r["channel"].as_str().unwrap().to_string(),
                r["break_glass"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String, String, bool)> = [
        ("sw1@centre-sud", "social_worker", "history", "http"),
        ("sw1@centre-sud", "social_worker", "plan", "http"),
        ("sw1@centre-sud", "social_worker", "trajectory", "http"),
        ("sw1@centre-sud", "social_worker", "worklist", "http"),
        ("au1@centre-sud", "auditor", "history", "cli"),
        ("-", "-", "trajectory", "cli"),
    ]
    .iter()
    .map(|(p, r, a, c)| {
        (
            p.to_string(),
            r.to_string(),
            a.to_string(),
            c.to_string(),
            false,
        )
    })
    .collect();
    assert_eq!(rows, expected);
    for row in reply.body["reads"].as_array().unwrap() {
        assert_eq!(row["child_id"], json!(child));
        assert!(row["at"].as_str().is_some());
    }
    // Reading the log is for auditors and administrators, not for the clinician.
    let reply = server
        .get(Some(&sw), &format!("/children/{child}/access-log"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.app.store().access_log(unknown).await.unwrap().len(),
        0
    );
    server.stop().await;
}

async fn the_access_log_cannot_be_changed(store: TestStore) {
    let server = http_support::start(store).await;
    let sw = server
        .token_for("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let child = server.open_file(&sw, "intake-1", "centre-sud").await;
    server
        .get(Some(&sw), &format!("/children/{child}/history"))
        .await;
    let url = server.store.url.clone();
    let attempts = [
        "UPDATE access_log SET person = 'someone-else@centre-sud'",
        "DELETE FROM access_log",
    ];
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for sql in attempts {
            let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
    } else {
        // Even the owner is refused by the triggers...
        let mut owner = sqlx::PgConnection::connect(&url).await.unwrap();
        for sql in attempts.iter().chain(&["TRUNCATE access_log"]) {
            let err = sqlx::query(sql).execute(&mut owner).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        // ...and the application role of README.md may not even try, nor drop the triggers.
        let database = url.rsplit('/').next().unwrap().to_string();
        let role = format!(
            "lc_app_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        for statement in common::documented_grants(&role, &database) {
            sqlx::query(&statement).execute(&mut owner).await.unwrap();
        }
        let mut app = sqlx::PgConnection::connect(&common::as_role(&url, &role))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO access_log (action, child_id, channel) VALUES ('history', $1, 'cli')",
        )
        .bind(child.to_string())
        .execute(&mut app)
        .await
        .expect("the application role appends to the log");
        for sql in attempts.iter().chain(&[
            "TRUNCATE access_log",
            "DROP TRIGGER access_log_no_update_or_delete ON access_log",
            "ALTER TABLE access_log DISABLE TRIGGER ALL",
        ]) {
            let err = sqlx::query(sql).execute(&mut app).await.unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains("permission denied") || message.contains("must be owner"),
                "{sql}: {message}"
            );
        }
        let _ = app.close().await;
        for sql in [
            format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"),
            format!("REVOKE ALL ON SCHEMA public FROM {role}"),
            format!("REVOKE ALL ON DATABASE \"{database}\" FROM {role}"),
            format!("DROP ROLE {role}"),
        ] {
            let _ = sqlx::query(&sql).execute(&mut owner).await;
        }
    }
    assert_eq!(
        server.app.store().access_log(child).await.unwrap().len(),
        if url.starts_with("sqlite") { 1 } else { 2 }
    );
    server.stop().await;
}

on_both_stores!(
    every_read_of_identified_data_is_logged,
    the_access_log_cannot_be_changed,
);

/// `lifecourse access-log CHILD`: the auditor's command, under the same policy with --as.
#[test]
fn the_command_line_lists_the_log_for_an_auditor_only() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lifecourse.db").display());
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env_remove("LIFECOURSE_AS")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };
    for (person, role) in [
        ("sw1@centre-sud", "social_worker"),
        ("au1@centre-sud", "auditor"),
    ] {
        let out = run(
            &[
                "staff",
                "add",
                person,
                "--name",
                "X",
                "--role",
                role,
                "--centre",
                "centre-sud",
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The password comes from standard input, never from the command line.
    let out = run(
        &["staff", "set-password", "au1@centre-sud"],
        Some("a long enough secret\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &["staff", "set-password", "au1@centre-sud"],
        Some("short\n"),
    );
    assert_eq!(out.status.code(), Some(2));

    let open = json!({
        "idempotency_key": "intake-1",
        "command": serde_json::to_value(lifecourse::fixtures::open_file("2024-03-01", "2017-05-10")).unwrap(),
    });
    let out = run(
        &["--as", "sw1@centre-sud", "record", "-"],
        Some(&open.to_string()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = ChildId::derived_from_key(&IdempotencyKey::parse("intake-1").unwrap()).to_string();
    assert!(run(&["--as", "sw1@centre-sud", "plan", &child], None)
        .status
        .success());
    // Another centre's clinician: like an unknown child (exit 2), and nothing logged.
    let out = run(
        &[
            "staff",
            "add",
            "sw1@hochelaga",
            "--name",
            "Y",
            "--role",
            "social_worker",
            "--centre",
            "hochelaga",
        ],
        None,
    );
    assert!(out.status.success());
    let out = run(&["--as", "sw1@hochelaga", "plan", &child], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no file for child"));
    // A clinician may not list the log (exit 3); the auditor may.
    let out = run(&["--as", "sw1@centre-sud", "access-log", &child], None);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &[
            "--as",
            "au1@centre-sud",
            "access-log",
            &child,
            "--format",
            "json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["person"], "sw1@centre-sud");
    assert_eq!(rows[0]["action"], "plan");
    assert_eq!(rows[0]["channel"], "cli");
}
