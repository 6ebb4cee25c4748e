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
    // Recorded in 2019, before this store began sealing.
    let insert = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at)";
    match store {
        Store::Sqlite(s) => {
            sqlx::query(&format!(
                "{insert} VALUES ('ChildFile', ?, 1, ?, ?, ?, ?, '2019-09-12T14:00:00.000Z')"
            ))
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
            "{insert} VALUES ('ChildFile', $1, 1, $2, $3, $4::jsonb, $5::jsonb, '2019-09-12T14:00:00Z')"
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

/// A file whose opening was stored in plain text by an earlier release: erasing it hides those
/// values from every reader, while the stored bytes, never rewritten, keep them.
async fn erasing_a_file_recorded_before_sealing_hides_its_plain_values(store: TestStore) {
    use lifecourse::app::{App, NewStaff, Role};
    let child = ChildId::new_random();
    store_legacy_row(&store, child).await;
    let app = App::open(&store.url).await.unwrap();
    let coordinator = PersonId::parse("coord@centre-sud").unwrap();
    app.add_staff(NewStaff {
        person: coordinator.clone(),
        display_name: "Coordinator".into(),
        role: Role::Staff(StaffRole::Coordinator),
        centres: vec![CentreId::parse("centre-sud").unwrap()],
    })
    .await
    .unwrap();
    let principal = app.principal(&coordinator).await.unwrap();
    let report = app.verify(Some(child), None).await.unwrap();
    assert!(report.is_clean());
    assert_eq!(report.recorded_before_seals, 1);

    app.erase(&principal, child, ErasureReason::RetentionPeriodEnded)
        .await
        .unwrap();
    let history = store.history(child).await.unwrap();
    assert_eq!(history.len(), 2);
    let ChildEvent::ChildFileOpened(opened) = &history[0].event else {
        panic!("{:?}", history[0].event)
    };
    assert!(opened.child.given_name.is_erased());
    assert!(opened.child.family_name.is_erased());
    assert_eq!(opened.child.birth_date.known(), None);
    assert!(opened.request.reason.is_erased());
    common::catch_up_fully(&app).await;
    let trajectory = app.trajectory(child, None, None).await.unwrap().value;
    let shown = serde_json::to_string(&trajectory).unwrap();
    for value in [
        "Zoé",
        "Côté",
        "2013-04-02",
        "Davidson",
        "Saint-Nom",
        "hunger",
    ] {
        assert!(!shown.contains(value), "{value} in {shown}");
    }
    // The event itself is as it was stored: erasure cannot remove plain text written before
    // sealing existed (README.md, "Erasing a child's identifying data").
    let mut stored = String::new();
    store
        .sealed_streams(Some(child), |_, rows| stored = rows[0].payload.to_string())
        .await
        .unwrap();
    assert!(stored.contains("Zoé"));
    // The first sealed entry (the erasure) covers the plain one: the file verifies.
    let report = app.verify(Some(child), None).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!((report.events, report.recorded_before_seals), (2, 1));
    app.close().await;
}

on_both_stores!(
    a_schema_1_0_opening_still_loads,
    erasing_a_file_recorded_before_sealing_hides_its_plain_values,
);
