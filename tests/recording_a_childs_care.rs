//! A clinician records a child's care, step by step, on either store: every command is accepted
//! in its place and read back in order with its envelope; refused commands write nothing; stored
//! events cannot be altered.

mod common;

use chrono::Utc;
use common::{calendar, TestStore};
use lifecourse::domain::*;
use lifecourse::fixtures::*;
use lifecourse::{RecordError, Store};
use lifecourse_events::*;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Every kind of command, in an order a centre could record them.
fn whole_journey() -> Vec<ChildFileCommand> {
    let (g1, g2, g3) = (GoalId(id(1)), GoalId(id(2)), GoalId(id(3)));
    let (s, r, l, c) = (
        ServiceId(id(4)),
        ReferralId(id(5)),
        LegalMatterId(id(6)),
        RightsConcernId(id(7)),
    );
    vec![
        open_file("2024-03-01", "2017-05-10"),
        assess("2024-03-04", InitialDecision::Waiting),
        accept("2024-03-08"),
        give_consent("2024-03-08", ConsentScope::InformationSharing),
        meeting("2024-03-20"),
        adopt_plan(
            "2024-03-25",
            vec![goal(g1, "2024-09-01"), goal(g2, "2024-12-01")],
        ),
        start_service("2024-04-01", s, vec![g1]),
        referral("2024-04-02", r, Some("2024-05-02")),
        contact("2024-04-10"),
        outcome("2024-04-20", r, ReferralOutcome::Waiting),
        progress("2024-05-01", g1, GoalStatus::InProgress),
        open_legal("2024-05-05", l),
        raise_concern("2024-05-06", c, &[28]),
        outcome("2024-05-10", r, ReferralOutcome::Seen),
        correct("2024-05-11", 9, CorrectionRequest::EnteredInError),
        resolve_concern("2024-06-01", c),
        conclude_legal("2024-07-01", l),
        end_service("2024-08-01", s),
        meeting("2024-09-15"),
        revise_plan(
            "2024-09-20",
            vec![goal(g2, "2024-12-01"), goal(g3, "2025-03-01")],
        ),
        give_consent("2024-10-01", ConsentScope::Research),
        withdraw_consent("2024-11-01", ConsentScope::Research),
        transfer("2024-12-01", "hochelaga"),
        close("2025-01-15", ClosureReason::MovedOutOfTerritory),
        reopen("2025-06-01"),
    ]
}

async fn record_all(store: &Store, child: ChildId, commands: Vec<ChildFileCommand>) {
    for (n, command) in commands.into_iter().enumerate() {
        let name = command.name();
        let recorded = store
            .record(calendar(), request(child, &format!("k-{n}"), command))
            .await
            .unwrap_or_else(|e| panic!("{name} refused: {e}"));
        assert!(!recorded.replayed);
        assert_eq!(recorded.entries.len(), 1);
        assert_eq!(recorded.entries[0].sequence, n as u64 + 1, "{name}");
    }
}

async fn every_command_is_recorded_and_read_back_in_order(store: TestStore) {
    let child = ChildId::new_random();
    let journey = whole_journey();
    let expected = events_of(journey.clone(), calendar().today);
    let before = Utc::now() - chrono::Duration::seconds(5);
    record_all(&store, child, journey).await;
    let after = Utc::now() + chrono::Duration::seconds(5);

    let history = store.history(child).await.unwrap();
    assert_eq!(
        history.iter().map(|e| &e.event).collect::<Vec<_>>(),
        expected.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        history.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=expected.len() as u64).collect::<Vec<_>>()
    );
    assert!(
        history.windows(2).all(|w| w[0].position < w[1].position),
        "positions increase"
    );
    let ids: std::collections::BTreeSet<_> = history.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), history.len(), "event ids are unique");
    for (n, e) in history.iter().enumerate() {
        assert_eq!(e.child_id, child);
        assert_eq!(e.event_type, e.event.event_type());
        assert_eq!(e.stored_version, e.event.schema_version());
        assert_eq!(e.metadata.idempotency_key.as_str(), format!("k-{n}"));
        assert_eq!(e.metadata.recorded_by, recorder());
        assert!(
            e.recorded_at > before && e.recorded_at < after,
            "recorded_at {} comes from the database clock",
            e.recorded_at
        );
    }
    // The crates' own read path (with upcasters) rebuilds the same file.
    assert_eq!(
        store.load(child).await.unwrap(),
        ChildFile::from_entries(expected)
    );
}

async fn a_reason_and_correlation_travel_with_the_entry(store: TestStore) {
    let child = ChildId::new_random();
    let correlation = Uuid::new_v4();
    let cause = Uuid::new_v4();
    let mut req = request(child, "open-1", open_file("2024-03-01", "2017-05-10"));
    req.reason = Some("entered late from the intake form".into());
    req.correlation_id = Some(correlation);
    req.causation_id = Some(cause);
    let plain_digest = req.digest();
    store.record(calendar(), req).await.unwrap();
    let m = &store.history(child).await.unwrap()[0].metadata;
    assert_eq!(
        m.reason.as_ref().map(|r| r.expose().as_str()),
        Some("entered late from the intake form")
    );
    assert_eq!(m.correlation_id, correlation);
    assert_eq!(m.causation_id, Some(cause));
    // The digest kept for retries is keyed by the child's key: the plain SHA-256 of the command,
    // which anyone could compute from a guess, is not stored.
    let keyed = m
        .command_digest
        .strip_prefix("hmac-sha256:")
        .expect("a keyed digest");
    assert_eq!(keyed.len(), 64);
    assert!(keyed.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(keyed, plain_digest);
}

/// Each entry that follows from another carries that entry's event id as its causation id.
async fn each_entry_names_what_it_rests_on(store: TestStore) {
    let child = ChildId::new_random();
    record_all(&store, child, whole_journey()).await;
    let history = store.history(child).await.unwrap();
    assert_eq!(history.len(), 25);
    // (entry, the entry it rests on), by sequence number, from the journey above.
    let rests_on: std::collections::BTreeMap<u64, u64> = [
        (6, 5),   // the plan: its meeting
        (10, 8),  // a referral outcome: its referral
        (11, 6),  // goal progress: the plan that set the goal
        (14, 8),  // the second outcome: the referral
        (15, 9),  // the correction: the contact it voids
        (16, 13), // the resolved concern: the concern
        (17, 12), // the concluded legal matter: its opening
        (18, 7),  // the service's end: its start
        (20, 19), // the revision: the second meeting
    ]
    .into_iter()
    .collect();
    for event in &history {
        let expected = rests_on
            .get(&event.sequence)
            .map(|s| history[*s as usize - 1].event_id.0);
        assert_eq!(
            event.metadata.causation_id, expected,
            "entry #{} {}",
            event.sequence, event.event_type
        );
    }
}

async fn refused_commands_write_nothing(store: TestStore) {
    let child = ChildId::new_random();
    let r = ReferralId(id(5));
    let refusals: Vec<(Vec<ChildFileCommand>, ChildFileCommand, &str)> = vec![
        (vec![], contact("2024-03-01"), "no file is open"),
        (
            vec![open_file("2024-03-01", "2017-05-10")],
            contact("2030-01-01"),
            "in the future",
        ),
        (
            vec![],
            contact("2016-01-01"),
            "before the child's date of birth",
        ),
        (
            vec![accept("2024-03-04")],
            adopt_plan("2024-03-10", vec![goal(GoalId(id(1)), "2024-09-01")]),
            "before an assessment meeting",
        ),
        (
            vec![],
            outcome("2024-03-10", r, ReferralOutcome::Seen),
            "no referral",
        ),
        (
            vec![
                referral("2024-03-10", r, None),
                outcome("2024-03-20", r, ReferralOutcome::Seen),
            ],
            outcome("2024-03-21", r, ReferralOutcome::Lost),
            "was already seen",
        ),
        (
            vec![close("2024-04-01", ClosureReason::GoalsMet)],
            contact("2024-04-02"),
            "after a closure the file accepts reopen_file",
        ),
        (
            vec![],
            correct("2024-04-03", 99, CorrectionRequest::EnteredInError),
            "no entry #99",
        ),
    ];
    let mut n = 0;
    for (setup, refused, message) in refusals {
        for command in setup {
            store
                .record(calendar(), request(child, &format!("setup-{n}"), command))
                .await
                .unwrap();
            n += 1;
        }
        let before = store.stats().await.unwrap();
        let history_before = store.history(child).await.unwrap();
        let err = store
            .record(calendar(), request(child, &format!("refused-{n}"), refused))
            .await
            .unwrap_err();
        assert!(matches!(err, RecordError::Rejected(_)), "{err}");
        assert!(
            err.to_string().contains(message),
            "{err:?} should say {message:?}"
        );
        assert_eq!(store.stats().await.unwrap(), before, "nothing written");
        assert_eq!(store.history(child).await.unwrap(), history_before);
        n += 1;
    }
}

async fn stored_events_cannot_be_updated_or_deleted(store: TestStore) {
    let child = ChildId::new_random();
    record_all(
        &store,
        child,
        vec![open_file("2024-03-01", "2017-05-10"), accept("2024-03-04")],
    )
    .await;
    let before = store.history(child).await.unwrap();
    let attempts = [
        "UPDATE events SET payload = payload",
        "UPDATE events SET event_type = 'FileClosed' WHERE sequence = 2",
        "DELETE FROM events",
    ];
    for sql in attempts {
        let err = match &*store {
            Store::Sqlite(s) => sqlx::query(sql).execute(s.pool()).await.unwrap_err(),
            Store::Postgres(s) => sqlx::query(sql).execute(s.pool()).await.unwrap_err(),
        };
        assert!(
            err.to_string().contains("events are immutable"),
            "{sql}: {err}"
        );
    }
    if let Store::Postgres(s) = &*store {
        let err = sqlx::query("TRUNCATE events")
            .execute(s.pool())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("events are immutable"), "{err}");
    }
    assert_eq!(store.history(child).await.unwrap(), before);
}

async fn files_are_kept_apart(store: TestStore) {
    let (a, b) = (ChildId::new_random(), ChildId::new_random());
    record_all(
        &store,
        a,
        vec![open_file("2024-03-01", "2017-05-10"), accept("2024-03-04")],
    )
    .await;
    record_all(&store, b, vec![open_file("2024-05-01", "2019-01-10")]).await;
    assert_eq!(store.history(a).await.unwrap().len(), 2);
    assert_eq!(store.history(b).await.unwrap().len(), 1);
    assert!(store
        .history(ChildId::new_random())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.stats().await.unwrap().children, 2);
}

on_both_stores!(
    every_command_is_recorded_and_read_back_in_order,
    each_entry_names_what_it_rests_on,
    a_reason_and_correlation_travel_with_the_entry,
    refused_commands_write_nothing,
    stored_events_cannot_be_updated_or_deleted,
    files_are_kept_apart,
);

/// SQLite must not lose an acknowledged command on power loss: WAL with synchronous = FULL.
#[tokio::test]
async fn sqlite_commits_are_durable_on_power_loss() {
    let store = common::sqlite().await;
    let Store::Sqlite(s) = &*store else {
        unreachable!()
    };
    let mut conn = s.pool().acquire().await.unwrap();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(synchronous, 2, "synchronous = FULL");
    assert_eq!(journal, "wal");
}

/// PostgreSQL rows carry the writing transaction's id, for reading safely below the horizon.
#[tokio::test]
async fn postgres_rows_carry_their_transaction_id() {
    let store = common::postgres().await;
    let child = ChildId::new_random();
    record_all(
        &store,
        child,
        vec![open_file("2024-03-01", "2017-05-10"), accept("2024-03-04")],
    )
    .await;
    let Store::Postgres(s) = &*store else {
        unreachable!()
    };
    // Transactions anywhere in the cluster (other tests) hold the horizon back for a moment;
    // once they end, both committed rows are below it.
    let mut rows: Vec<(String, bool)> = Vec::new();
    for _ in 0..100 {
        rows = sqlx::query_as(
            "SELECT transaction_id::text, transaction_id < pg_snapshot_xmin(pg_current_snapshot())
               FROM events ORDER BY position",
        )
        .fetch_all(s.pool())
        .await
        .unwrap();
        if rows.iter().all(|(_, below)| *below) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows.len(), 2);
    assert_ne!(rows[0].0, rows[1].0, "one transaction per command");
    assert!(
        rows.iter().all(|(_, below)| *below),
        "committed rows reach the horizon: {rows:?}"
    );
}
