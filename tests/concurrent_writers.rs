//! Several members of staff record in the same child's file at the same moment. Each command
//! either commits or gets a clear conflict; afterwards the stream holds exactly the committed
//! entries, in order, none lost and none twice.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{calendar, TestStore};
use lifecourse::fixtures::*;
use lifecourse::RecordError;

const WRITERS: usize = 8;
const COMMANDS_EACH: usize = 12;

async fn concurrent_writers_on_one_file_lose_nothing(store: TestStore) {
    let store = Arc::new(store);
    let child = common::open_child(&store).await;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for n in 0..COMMANDS_EACH {
                    let key = format!("writer-{w}-{n}");
                    let command = contact(&format!("2024-04-{:02}", n + 1));
                    let result = store
                        .record(calendar(), request(child, &key, command))
                        .await;
                    outcomes.push((key, result));
                }
                outcomes
            })
        })
        .collect();
    let (mut committed, mut conflicted) = (BTreeSet::new(), BTreeSet::new());
    for task in tasks {
        for (key, result) in task.await.unwrap() {
            match result {
                Ok(recorded) => {
                    assert!(!recorded.replayed);
                    committed.insert(key);
                }
                Err(err @ RecordError::Conflict { .. }) => {
                    assert!(err.to_string().contains("send the command again"), "{err}");
                    conflicted.insert(key);
                }
                Err(other) => panic!("{key}: neither committed nor a conflict: {other}"),
            }
        }
    }
    eprintln!(
        "{} committed, {} conflicts",
        committed.len(),
        conflicted.len()
    );
    assert_eq!(committed.len() + conflicted.len(), WRITERS * COMMANDS_EACH);
    assert!(!committed.is_empty());

    let history = store.history(child).await.unwrap();
    assert_eq!(
        history.len(),
        1 + committed.len(),
        "exactly the committed entries"
    );
    assert_eq!(
        history.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=history.len() as u64).collect::<Vec<_>>(),
        "gapless, in order"
    );
    let stored: BTreeSet<String> = history[1..]
        .iter()
        .map(|e| e.metadata.idempotency_key.to_string())
        .collect();
    assert_eq!(stored.len(), history.len() - 1, "no entry twice");
    assert_eq!(
        stored, committed,
        "every committed command is there, no conflicted one"
    );
    assert!(history.windows(2).all(|w| w[0].position < w[1].position));
}

on_both_stores!(concurrent_writers_on_one_file_lose_nothing);
