//! A release that changes a fold: the stored read models carry the version of the code that
//! computed them, and the runner rebuilds rather than mixing rows of two versions.

mod common;

use common::{calendar, TestStore};
use lifecourse::app::App;
use lifecourse::fixtures::*;
use lifecourse::runner::Projection;
use lifecourse::store::{Fingerprint, ViewRow};
use lifecourse_events::*;

async fn rows_of_another_fold_version_are_rebuilt(store: TestStore) {
    let child = ChildId::new_random();
    for (key, command) in [
        ("open", open_file("2024-03-01", "2017-05-10")),
        ("accept", accept("2024-03-04")),
        ("contact", contact("2024-03-05")),
    ] {
        store
            .record(calendar(), request(child, key, command))
            .await
            .unwrap();
    }
    let app = App::new(store.store.clone());
    common::catch_up_fully(&app).await;
    let checkpoint = store.checkpoint("trajectory").await.unwrap();
    assert_eq!(
        checkpoint.config.as_ref().map(Fingerprint::as_str),
        Some("code v2")
    );

    // As an older release would have left it: a row its fold computed differently, and the
    // checkpoint saying which version wrote it.
    let mut tx = store.begin_views().await.unwrap();
    tx.upsert(
        Projection::Trajectory.table(),
        &[ViewRow {
            child_id: child,
            centre: None,
            applied_events: 3,
            last_sequence: 3,
            view: "{\"written_by\": \"an older fold\"}".into(),
        }],
    )
    .await
    .unwrap();
    tx.set_checkpoint("trajectory", checkpoint.cursor, &Fingerprint::new(0, None))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    common::catch_up_fully(&app).await;
    let checkpoint = store.checkpoint("trajectory").await.unwrap();
    assert_eq!(
        checkpoint.config.as_ref().map(Fingerprint::as_str),
        Some("code v2")
    );
    let answer = app.trajectory(child, None, None).await.unwrap();
    let types: Vec<&str> = answer
        .value
        .timeline
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        vec![
            "ChildFileOpened",
            "InitialAssessmentCompleted",
            "FamilyContactRecorded"
        ]
    );
}

on_both_stores!(rows_of_another_fold_version_are_rebuilt);
