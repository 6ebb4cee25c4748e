//! A command sent again with the same idempotency key — a flaky network, a double click, a
//! script re-run — is stored once and answered with the first result, on either store.

mod common;

use std::sync::Arc;

use common::{calendar, TestStore};
use lifecourse::fixtures::*;
use lifecourse::RecordError;
use lifecourse_events::*;

async fn the_same_command_sent_ten_times_is_stored_once(store: TestStore) {
    let child = common::open_child(&store).await;
    let send = || request(child, "contact-2024-03-05", contact("2024-03-05"));
    let first = store.record(calendar(), send()).await.unwrap();
    assert!(!first.replayed);
    for _ in 0..9 {
        let again = store.record(calendar(), send()).await.unwrap();
        assert!(again.replayed);
        assert_eq!(again.entries, first.entries, "reports the first result");
    }
    let history = store.history(child).await.unwrap();
    assert_eq!(history.len(), 2, "one opening, one contact");
    let with_key = history
        .iter()
        .filter(|e| e.metadata.idempotency_key.as_str() == "contact-2024-03-05")
        .count();
    assert_eq!(with_key, 1);
}

async fn a_key_reused_for_another_command_is_refused(store: TestStore) {
    let child = common::open_child(&store).await;
    store
        .record(calendar(), request(child, "k", contact("2024-03-05")))
        .await
        .unwrap();
    let before = store.stats().await.unwrap();
    let err = store
        .record(calendar(), request(child, "k", contact("2024-03-06")))
        .await
        .unwrap_err();
    assert!(matches!(err, RecordError::KeyReused { .. }), "{err}");
    assert!(
        err.to_string().contains("a new command needs a new key"),
        "{err}"
    );
    assert_eq!(store.stats().await.unwrap(), before);
}

async fn a_retry_after_later_entries_still_finds_the_first_result(store: TestStore) {
    let child = ChildId::new_random();
    let open = || request(child, "open", open_file("2024-03-01", "2017-05-10"));
    let first = store.record(calendar(), open()).await.unwrap();
    store
        .record(calendar(), request(child, "c1", contact("2024-03-05")))
        .await
        .unwrap();
    let again = store.record(calendar(), open()).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.entries, first.entries);
    assert_eq!(store.history(child).await.unwrap().len(), 2);
}

async fn concurrent_retries_are_stored_once(store: TestStore) {
    let store = Arc::new(store);
    let child = common::open_child(&store).await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record(
                        calendar(),
                        request(child, "same-key", contact("2024-03-05")),
                    )
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(
            task.await
                .unwrap()
                .expect("a retry is answered, never refused"),
        );
    }
    assert_eq!(
        results.iter().filter(|r| !r.replayed).count(),
        1,
        "exactly one stored it"
    );
    assert!(results.iter().all(|r| r.entries == results[0].entries));
    assert_eq!(store.history(child).await.unwrap().len(), 2);
}

/// A command sent for the version of the file its sender read (`If-Match`) is stored only on
/// that version; its retry is still answered with the first result.
async fn a_command_for_a_stale_version_stores_nothing(store: TestStore) {
    let child = common::open_child(&store).await;
    let mut stale = request(child, "accept-stale", accept("2024-03-04"));
    stale.expected_version = Some(0);
    match store.record(calendar(), stale).await {
        Err(RecordError::VersionMismatch {
            expected: 0,
            actual: 1,
            ..
        }) => {}
        other => panic!("expected a version mismatch, got {other:?}"),
    }
    assert_eq!(
        store.history(child).await.unwrap().len(),
        1,
        "nothing stored"
    );
    let mut current = request(child, "accept", accept("2024-03-04"));
    current.expected_version = Some(1);
    let first = store.record(calendar(), current.clone()).await.unwrap();
    assert_eq!(first.entries[0].sequence, 2);
    // Sent again once the file has moved on: the first result, not a mismatch.
    let again = store.record(calendar(), current).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.entries, first.entries);
}

on_both_stores!(
    the_same_command_sent_ten_times_is_stored_once,
    a_key_reused_for_another_command_is_refused,
    a_retry_after_later_entries_still_finds_the_first_result,
    concurrent_retries_are_stored_once,
    a_command_for_a_stale_version_stores_nothing,
);
