//! A file opened years ago, stored under schema 1.0, still reads as the current type — through
//! the engine's read path and through the cqrs-es command path — on either store.

mod common;

use common::{calendar, TestStore};
use lifecourse::fixtures::*;
use lifecourse::Store;
use lifecourse_events::*;

const V1_FIXTURE: &str = include_str!("../events/tests/fixtures/child_file_opened_v1.json");

/// Puts the fixture in the store as the older build wrote it (rows are never written this way by
/// the engine; this stands in for history already on disk).
async fn store_legacy_row(store: &Store, child: ChildId) {
    let row: serde_json::Value = serde_json::from_str(V1_FIXTURE).unwrap();
    let (payload, metadata) = (row["payload"].to_string(), row["metadata"].to_string());
    let insert = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)";
    match store {
        Store::Sqlite(s) => {
            sqlx::query(&format!("{insert} VALUES ('ChildFile', ?, 1, ?, ?, ?, ?)"))
                .bind(child.to_string())
                .bind(row["event_type"].as_str())
                .bind(row["event_version"].as_str())
                .bind(payload)
                .bind(metadata)
                .execute(s.pool())
                .await
                .map(|_| ())
        }
        Store::Postgres(s) => sqlx::query(&format!(
            "{insert} VALUES ('ChildFile', $1, 1, $2, $3, $4::jsonb, $5::jsonb)"
        ))
        .bind(child.to_string())
        .bind(row["event_type"].as_str())
        .bind(row["event_version"].as_str())
        .bind(payload)
        .bind(metadata)
        .execute(s.pool())
        .await
        .map(|_| ()),
    }
    .expect("insert the legacy row");
}

async fn a_schema_1_0_opening_still_loads(store: TestStore) {
    let child = ChildId::new_random();
    store_legacy_row(&store, child).await;

    let history = store.history(child).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0].stored_version, "1.0",
        "the stored bytes are untouched"
    );
    let ChildEvent::ChildFileOpened(opened) = &history[0].event else {
        panic!("{:?}", history[0].event)
    };
    assert_eq!(opened.occurred_on, date("2019-09-12"));
    assert_eq!(opened.request.source, ReferralSource::School);
    assert_eq!(
        opened
            .request
            .source_detail
            .as_ref()
            .map(|d| d.expose().as_str()),
        Some("École Saint-Nom-de-Jésus")
    );

    let file = store.load(child).await.unwrap();
    assert_eq!(file.state().opened_on, Some(date("2019-09-12")));

    // The command path reads it through the crates' upcaster and carries on.
    let recorded = store
        .record(calendar(), request(child, "accept", accept("2019-09-16")))
        .await
        .unwrap();
    assert_eq!(recorded.entries[0].sequence, 2);
    let history = store.history(child).await.unwrap();
    assert_eq!(history[0].stored_version, "1.0");
    assert_eq!(history[1].stored_version, "1.0");
    assert_eq!(history[1].event_type, "InitialAssessmentCompleted");
}

on_both_stores!(a_schema_1_0_opening_still_loads);
