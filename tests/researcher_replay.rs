//! A researcher (or an auditor) replays a child's file on both time axes: as of a clinical date
//! ("what had happened by then, as known today") and as known at a moment of record time ("what
//! the record showed then"). A contact that happened in March but was recorded later shows in
//! March as known today, and not in the record as it stood before it was entered.

mod common;

use std::process::Command;

use chrono::Utc;
use common::{calendar, TestStore};
use lifecourse::domain::*;
use lifecourse::fixtures::*;
use lifecourse_events::*;
use lifecourse_projections::{ChildHistory, Trajectory};

async fn record(store: &TestStore, child: ChildId, key: &str, command: ChildFileCommand) {
    store
        .record(calendar(), request(child, key, command))
        .await
        .unwrap();
}

fn sequences(t: &Trajectory) -> Vec<u64> {
    t.timeline.iter().map(|e| e.sequence).collect()
}

async fn late_entries_count_in_clinical_time_not_in_earlier_records(store: TestStore) {
    let child = ChildId::new_random();
    record(&store, child, "1", open_file("2024-03-01", "2017-05-10")).await;
    record(&store, child, "2", accept("2024-03-04")).await;
    record(&store, child, "3", meeting("2024-03-20")).await;
    record(&store, child, "4", contact("2024-05-02")).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let before_late_entries = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Recorded now, but it happened on 25 March.
    record(&store, child, "5", contact("2024-03-25")).await;
    let home_visit = ChildEvent::FamilyContactRecorded(FamilyContactRecorded {
        mode: ContactMode::HomeVisit,
        ..contact_details("2024-05-02")
    });
    record(
        &store,
        child,
        "6",
        correct(
            "2024-06-01",
            4,
            CorrectionRequest::ReplacedBy(Box::new(home_visit)),
        ),
    )
    .await;

    let history = ChildHistory::from_events(store.history(child).await.unwrap());
    let march = date("2024-03-31");
    // Clinical time, as known today: the late contact is part of March.
    assert_eq!(
        sequences(&Trajectory::from_history(&history, Some(march))),
        vec![1, 2, 3, 5]
    );
    // Record time: before the late entries, March had no contact...
    let then = history.known_at(before_late_entries);
    assert_eq!(
        sequences(&Trajectory::from_history(&then, Some(march))),
        vec![1, 2, 3]
    );
    // ...and the May contact read as a phone call, uncorrected.
    let may_then = Trajectory::from_history(&then, None);
    let contact_then = may_then.timeline.iter().find(|e| e.sequence == 4).unwrap();
    assert_eq!(
        contact_then.summary,
        "family contact: phone with parent or guardian"
    );
    assert!(contact_then.correction.is_none());
    let now = Trajectory::from_history(&history, None);
    let contact_now = now.timeline.iter().find(|e| e.sequence == 4).unwrap();
    assert_eq!(
        contact_now.summary,
        "family contact: home visit with parent or guardian"
    );
    assert_eq!(
        contact_now.correction.as_ref().map(|c| c.by_sequence),
        Some(6)
    );

    // The same through the command line.
    let cli = |args: &[&str]| -> Trajectory {
        let out = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
            .args(args)
            .args(["--format", "json"])
            .env("DATABASE_URL", &store.url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        serde_json::from_value(report["trajectory"].clone()).unwrap()
    };
    let id = child.to_string();
    let moment = before_late_entries.to_rfc3339();
    assert_eq!(
        sequences(&cli(&["trajectory", &id, "--as-of", "2024-03-31"])),
        vec![1, 2, 3, 5]
    );
    assert_eq!(
        sequences(&cli(&[
            "trajectory",
            &id,
            "--as-of",
            "2024-03-31",
            "--known-at",
            &moment
        ])),
        vec![1, 2, 3]
    );
    // Without a time axis the answer comes from the read model, which reads never update: the
    // runner brings it up to date first.
    let project = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
        .arg("project")
        .env("DATABASE_URL", &store.url)
        .output()
        .unwrap();
    assert!(project.status.success());
    assert_eq!(
        sequences(&cli(&["trajectory", &id])),
        vec![1, 2, 3, 5, 4, 6]
    );
}

on_both_stores!(late_entries_count_in_clinical_time_not_in_earlier_records);
