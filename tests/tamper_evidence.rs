//! An auditor proves the record unaltered: someone with the database owner's rights (triggers
//! disabled, plain SQL) changes a payload, changes who recorded an entry, deletes an entry,
//! inserts a forged one, swaps two entries and deletes a whole file; `verify` names each, by
//! child and sequence number. An untouched store verifies clean, and an anchor file kept outside
//! the database catches a chain rewritten whole with its seals recomputed.

mod common;

use common::TestStore;
use lifecourse::app::App;
use lifecourse::integrity::{seal, Digest32, Finding, Link, Problem, SignedAnchor, SEAL_KEY};
use lifecourse::Store;
use lifecourse_events::ChildId;
use serde_json::Value;
use sqlx::Connection;

/// A connection that bypasses the protection triggers, as a database superuser would.
enum Superuser {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Superuser {
    async fn connect(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            for trigger in ["events_no_update", "events_no_delete", "anchors_no_delete"] {
                sqlx::query(&format!("DROP TRIGGER {trigger}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            Superuser::Sqlite(conn)
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("SET session_replication_role = replica")
                .execute(&mut conn)
                .await
                .unwrap();
            Superuser::Postgres(conn)
        }
    }

    /// Runs `sql`, written with `$1`, `$2`… placeholders (rewritten to `?N` for SQLite), binding
    /// text arguments (cast them in the SQL where another type is needed).
    async fn run(&mut self, sql: &str, args: &[&str]) -> u64 {
        match self {
            Superuser::Sqlite(conn) => {
                let sql = sql.replace('$', "?").replace("::jsonb", "");
                let mut q = sqlx::query(&sql);
                for a in args {
                    q = q.bind(*a);
                }
                q.execute(&mut *conn).await.unwrap().rows_affected()
            }
            Superuser::Postgres(conn) => {
                let mut q = sqlx::query(sql);
                for a in args {
                    q = q.bind(*a);
                }
                q.execute(&mut *conn).await.unwrap().rows_affected()
            }
        }
    }

    /// A stored row's payload and metadata.
    async fn row(&mut self, child: ChildId, sequence: i64) -> (Value, Value) {
        let (payload, metadata): (String, String) = match self {
            Superuser::Sqlite(conn) => sqlx::query_as(
                "SELECT payload, metadata FROM events WHERE aggregate_id = ? AND sequence = ?",
            )
            .bind(child.to_string())
            .bind(sequence)
            .fetch_one(&mut *conn)
            .await
            .unwrap(),
            Superuser::Postgres(conn) => sqlx::query_as(
                "SELECT payload::text, metadata::text FROM events
                  WHERE aggregate_id = $1 AND sequence = $2",
            )
            .bind(child.to_string())
            .bind(sequence)
            .fetch_one(&mut *conn)
            .await
            .unwrap(),
        };
        (
            serde_json::from_str(&payload).unwrap(),
            serde_json::from_str(&metadata).unwrap(),
        )
    }

    async fn set_row(&mut self, child: ChildId, sequence: i64, payload: &Value, metadata: &Value) {
        let n = self
            .run(
                "UPDATE events SET payload = $1::jsonb, metadata = $2::jsonb
                  WHERE aggregate_id = $3 AND sequence = CAST($4 AS bigint)",
                &[
                    &payload.to_string(),
                    &metadata.to_string(),
                    &child.to_string(),
                    &sequence.to_string(),
                ],
            )
            .await;
        assert_eq!(n, 1);
    }
}

async fn events_of(store: &Store, child: ChildId) -> u64 {
    store.history(child).await.unwrap().len() as u64
}

fn finding(child: ChildId, sequence: Option<u64>, problem: Problem) -> Finding {
    Finding {
        child: child.to_string(),
        sequence,
        problem,
    }
}

fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| (&a.child, a.sequence).cmp(&(&b.child, b.sequence)));
    findings
}

fn key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[42u8; 32])
}

async fn an_untouched_store_verifies_clean(store: TestStore) {
    let children = common::record_cohort(&store, 6).await;
    let app = App::open(&store.url).await.unwrap();
    let mut expected_events = 0;
    for child in &children {
        expected_events += events_of(&store, *child).await;
    }
    let report = app.verify(None, None).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!(report.children, 6);
    assert_eq!(report.events, expected_events);
    assert_eq!(report.recorded_before_seals, 0);

    let anchor = app.anchor(&key()).await.unwrap();
    assert_eq!(anchor.anchor.children, 6);
    assert_eq!(anchor.anchor.events, expected_events);
    let report = app.verify(None, Some(&anchor)).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!(report.stored_anchors, 1);

    // One child's file alone.
    let report = app.verify(Some(children[2]), Some(&anchor)).await.unwrap();
    assert!(report.is_clean());
    assert_eq!(report.children, 1);
    assert_eq!(report.events, events_of(&store, children[2]).await);
    app.close().await;
}

async fn every_change_behind_the_engine_is_named(store: TestStore) {
    let children = common::record_cohort(&store, 7).await;
    let [a, b, c, d, e, f, g] = children[..] else {
        panic!("seven children");
    };
    for child in &children {
        assert!(
            events_of(&store, *child).await >= 6,
            "each file has six entries or more"
        );
    }
    let d_events = events_of(&store, d).await;
    let f_events = events_of(&store, f).await;
    let g_events = events_of(&store, g).await;
    let app = App::open(&store.url).await.unwrap();
    app.anchor(&key()).await.unwrap();

    let mut su = Superuser::connect(&store.url).await;
    // a: a payload changed (the clinical date of entry 2).
    let (mut payload, metadata) = su.row(a, 2).await;
    let body = payload
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap();
    body["occurred_on"] = Value::String("2001-01-01".into());
    su.set_row(a, 2, &payload, &metadata).await;
    // b: who recorded entry 3, changed.
    let (payload, mut metadata) = su.row(b, 3).await;
    metadata["recorded_by.person"] = Value::String("someone.else".into());
    su.set_row(b, 3, &payload, &metadata).await;
    // c: entry 4 deleted.
    let n = su
        .run(
            "DELETE FROM events WHERE aggregate_id = $1 AND sequence = 4",
            &[&c.to_string()],
        )
        .await;
    assert_eq!(n, 1);
    // d: a forged entry appended, copied from the last one with its metadata.
    let n = su
        .run(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                 payload, metadata)
             SELECT aggregate_type, aggregate_id, sequence + 1, event_type, event_version,
                    payload, metadata
               FROM events WHERE aggregate_id = $1 AND sequence = CAST($2 AS bigint)",
            &[&d.to_string(), &d_events.to_string()],
        )
        .await;
    assert_eq!(n, 1);
    // e: entries 2 and 3 swapped.
    for sql in [
        "UPDATE events SET sequence = sequence + 1000 WHERE aggregate_id = $1 AND sequence IN (2, 3)",
        "UPDATE events SET sequence = 1005 - sequence WHERE aggregate_id = $1 AND sequence IN (1002, 1003)",
    ] {
        assert_eq!(su.run(sql, &[&e.to_string()]).await, 2);
    }
    // g: every seal of the file removed, as if it had been recorded before seals existed.
    let strip = if store.url.starts_with("sqlite:") {
        "UPDATE events SET metadata = json_remove(metadata, char(36) || '.seal') WHERE aggregate_id = $1"
    } else {
        "UPDATE events SET metadata = metadata - 'seal' WHERE aggregate_id = $1"
    };
    assert_eq!(su.run(strip, &[&g.to_string()]).await, g_events);
    // f: the whole file deleted.
    let n = su
        .run(
            "DELETE FROM events WHERE aggregate_id = $1",
            &[&f.to_string()],
        )
        .await;
    assert_eq!(n, f_events);
    drop(su);

    let report = app.verify(None, None).await.unwrap();
    let mut expected = vec![
        finding(a, Some(2), Problem::Changed),
        finding(b, Some(3), Problem::Changed),
        finding(c, Some(4), Problem::Missing),
        finding(c, Some(5), Problem::ChainBroken),
        finding(
            d,
            Some(d_events + 1),
            Problem::CopiedSeal {
                of_sequence: d_events,
            },
        ),
        finding(e, Some(2), Problem::Moved { sealed_as: 3 }),
        finding(e, Some(3), Problem::Moved { sealed_as: 2 }),
        finding(e, Some(4), Problem::ChainBroken),
        finding(
            f,
            None,
            Problem::ChildMissing {
                anchored_events: f_events,
            },
        ),
    ];
    // g's seals are gone, but it was recorded after the store began sealing.
    expected.extend((1..=g_events).map(|s| finding(g, Some(s), Problem::Unsealed)));
    assert_eq!(sorted(report.findings), sorted(expected));
    assert_eq!(report.children, 6);
    assert_eq!(report.recorded_before_seals, 0);

    // The command line says the same, and exits 5.
    let output = common::cli::run(&store.url, &["verify"]);
    assert_eq!(
        common::cli::code(&output),
        Some(5),
        "{}",
        common::cli::stderr(&output)
    );
    let text = common::cli::stdout(&output);
    assert!(
        text.contains(&format!("{} problem(s) found", 9 + g_events)),
        "{text}"
    );
    assert!(
        text.contains(&format!("child {c} entry #4: deleted")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "child {e} entry #2: reordered: it was sealed as entry #3"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("child {f}: deleted: the whole file is gone")),
        "{text}"
    );
    // An anchor is refused over an altered store.
    let refused = app.anchor(&key()).await.unwrap_err();
    assert_eq!(refused.exit_code(), 5, "{refused}");
    app.close().await;
}

async fn an_anchor_file_catches_a_chain_rewritten_whole(store: TestStore) {
    let children = common::record_cohort(&store, 4).await;
    let victim = children[1];
    let app = App::open(&store.url).await.unwrap();
    let anchor = app.anchor(&key()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anchor.json");
    std::fs::write(&file, anchor.to_file_text()).unwrap();

    // Someone who knows how seals are made changes entry 2 and reseals the chain from there,
    // and removes the anchors kept in the database.
    let n = events_of(&store, victim).await as i64;
    let mut su = Superuser::connect(&store.url).await;
    let mut previous: Option<Digest32> = None;
    for sequence in 1..=n {
        let (mut payload, mut metadata) = su.row(victim, sequence).await;
        if sequence == 2 {
            let body = payload
                .as_object_mut()
                .unwrap()
                .values_mut()
                .next()
                .unwrap();
            body["occurred_on"] = Value::String("2001-01-01".into());
        }
        let event_type = payload.as_object().unwrap().keys().next().unwrap().clone();
        let version: String = match &mut su {
            Superuser::Sqlite(conn) => sqlx::query_scalar(
                "SELECT event_version FROM events WHERE aggregate_id = ? AND sequence = ?",
            )
            .bind(victim.to_string())
            .bind(sequence)
            .fetch_one(&mut *conn)
            .await
            .unwrap(),
            Superuser::Postgres(conn) => sqlx::query_scalar(
                "SELECT event_version FROM events WHERE aggregate_id = $1 AND sequence = $2",
            )
            .bind(victim.to_string())
            .bind(sequence)
            .fetch_one(&mut *conn)
            .await
            .unwrap(),
        };
        let child = victim.to_string();
        let resealed = seal(
            &Link {
                child: &child,
                sequence: sequence as u64,
                event_type: &event_type,
                event_version: &version,
                payload: &payload,
                metadata: &metadata,
            },
            previous.as_ref(),
        );
        metadata[SEAL_KEY] = Value::String(resealed.to_hex());
        su.set_row(victim, sequence, &payload, &metadata).await;
        previous = Some(resealed);
    }
    su.run("DELETE FROM anchors", &[]).await;
    drop(su);

    // Without the file, the rewrite cannot be seen: the chain holds.
    let report = app.verify(None, None).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!(report.stored_anchors, 0);
    // The file kept elsewhere names the child and its anchored head.
    let kept = SignedAnchor::read(&file).unwrap();
    let report = app.verify(None, Some(&kept)).await.unwrap();
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    assert_eq!(report.findings[0].child, victim.to_string());
    assert_eq!(report.findings[0].sequence, Some(n as u64));
    assert!(matches!(
        report.findings[0].problem,
        Problem::DiffersFromAnchor { .. }
    ));
    let output = common::cli::run(&store.url, &["verify", "--anchor", file.to_str().unwrap()]);
    assert_eq!(common::cli::code(&output), Some(5));
    assert!(common::cli::stdout(&output).contains(&format!("child {victim} entry #{n}: rewritten")));

    // A forged anchor file is refused, not trusted: exit 2.
    let mut forged = kept.clone();
    forged.anchor.heads[0].sequence += 1;
    forged.anchor.root = lifecourse::integrity::anchor::merkle_root(&forged.anchor.heads).to_hex();
    let forged_file = dir.path().join("forged.json");
    std::fs::write(&forged_file, forged.to_file_text()).unwrap();
    let output = common::cli::run(
        &store.url,
        &["verify", "--anchor", forged_file.to_str().unwrap()],
    );
    assert_eq!(common::cli::code(&output), Some(2));
    assert!(common::cli::stderr(&output).contains("not signed by the key it names"));

    // Re-signed whole with someone else's key, it holds together; pinned to the centre's
    // public key, it is refused, and so is a stored anchor signed by that other key.
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let resigned = kept.anchor.clone().sign(&other);
    let resigned_file = dir.path().join("resigned.json");
    std::fs::write(&resigned_file, resigned.to_file_text()).unwrap();
    let centre_key = hex::encode(key().verifying_key().to_bytes());
    let output = common::cli::run(
        &store.url,
        &[
            "verify",
            "--anchor",
            resigned_file.to_str().unwrap(),
            "--public-key",
            &centre_key,
        ],
    );
    assert_eq!(common::cli::code(&output), Some(2));
    assert!(
        common::cli::stderr(&output).contains("not by the expected key"),
        "{}",
        common::cli::stderr(&output)
    );
    // With the stored anchors gone, the store verifies, and someone takes an anchor with their
    // own key: pinned to the centre's key, it is named.
    app.anchor(&other).await.unwrap();
    let report = app
        .verify_pinned(None, None, Some(&centre_key))
        .await
        .unwrap();
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    assert!(matches!(
        report.findings[0].problem,
        Problem::AnchorForeignKey { .. }
    ));
    app.close().await;
}

on_both_stores!(
    an_untouched_store_verifies_clean,
    every_change_behind_the_engine_is_named,
    an_anchor_file_catches_a_chain_rewritten_whole,
);

#[test]
fn anchor_keys_are_made_once_and_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("anchor.key");
    let path = key.to_str().unwrap();
    // No store is touched (none could be opened at this URL).
    let output = common::cli::run(
        "sqlite:///nonexistent/dir/x.db",
        &["anchor", "--new-key", path],
    );
    assert_eq!(
        common::cli::code(&output),
        Some(0),
        "{}",
        common::cli::stderr(&output)
    );
    assert!(common::cli::stdout(&output).contains("public key: "));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let first = std::fs::read_to_string(&key).unwrap();
    let again = common::cli::run(
        "sqlite:///nonexistent/dir/x.db",
        &["anchor", "--new-key", path],
    );
    assert_eq!(common::cli::code(&again), Some(2));
    assert!(common::cli::stderr(&again).contains("never overwritten"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_takes_an_anchor_when_it_starts() {
    let store = common::sqlite().await;
    common::record_cohort(&store, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("anchor.key");
    let anchors = dir.path().join("anchors");
    std::fs::create_dir(&anchors).unwrap();
    common::cli::ok(
        "sqlite:///unused.db",
        &["anchor", "--new-key", key.to_str().unwrap()],
    );
    let mut server = common::cli::command(
        &store.url,
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--anchor-key",
            key.to_str().unwrap(),
            "--anchor-dir",
            anchors.to_str().unwrap(),
        ],
    )
    .spawn()
    .unwrap();
    // The first anchor is taken as the server starts; allow a slow machine a minute.
    let mut written = Vec::new();
    for _ in 0..600 {
        written = std::fs::read_dir(&anchors)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        if !written.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(written.len(), 1, "one anchor file");
    let name = written[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        name.starts_with("anchor-") && name.ends_with(".json"),
        "{name}"
    );
    // A file is written whole (read it only once it parses), and it verifies the store.
    let mut anchor = None;
    for _ in 0..50 {
        if let Ok(a) = SignedAnchor::read(&written[0]) {
            anchor = Some(a);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let anchor = anchor.expect("the anchor file reads");
    assert_eq!(anchor.anchor.children, 2);
    let output = common::cli::run(
        &store.url,
        &["verify", "--anchor", written[0].to_str().unwrap()],
    );
    assert_eq!(
        common::cli::code(&output),
        Some(0),
        "{}",
        common::cli::stdout(&output)
    );
    assert!(common::cli::stdout(&output).contains("stored anchors compared: 1"));
}
