//! The projection runner keeps read models that are exactly the pure folds of the events: applied
//! incrementally while staff record, rebuilt from zero, or folded directly from the history (and
//! checked against an independent reading of the entries), they are identical;
//! concurrent writers committing out of position order lose nothing; a runner killed mid-batch
//! resumes as if nothing happened.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::journeys::{steps, Journey};
use common::oracle::{standing, Standing};
use common::{calendar, TestStore};
use lifecourse::fixtures::*;
use lifecourse::runner::{Projection, Runner, Step};
use lifecourse::Store;
use lifecourse_events::*;
use lifecourse_projections::{expectations, ChildHistory, CurrentPlan, FollowUpRules, Trajectory};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::Value;

type Views = BTreeMap<(Projection, ChildId), (Value, u64, u64)>;

/// Every projection row: (view, applied_events, last_sequence).
async fn stored_views(store: &Store) -> Views {
    let mut views = Views::new();
    for p in Projection::ALL {
        for row in store.view_rows(p.table(), None).await.unwrap() {
            let view: Value = serde_json::from_str(&row.view).unwrap();
            views.insert(
                (p, row.child_id),
                (view, row.applied_events, row.last_sequence),
            );
        }
    }
    views
}

/// The pure folds of every child's history, as the runner should have stored them; and, for each
/// child, that the stored plan says what an independent reading of the entries says.
async fn folded_views(store: &Store, children: &[ChildId], rules: &FollowUpRules) -> Views {
    fn value(v: &impl serde::Serialize) -> Value {
        serde_json::to_value(v).unwrap()
    }
    let mut views = Views::new();
    for child in children {
        let events = store.history(*child).await.unwrap();
        let n = events.len() as u64;
        let entries: Vec<ChildEvent> = events.iter().map(|e| e.event.clone()).collect();
        let history = ChildHistory::from_events(events);
        let plan = CurrentPlan::from_history(&history, rules, None);
        assert_eq!(
            Standing {
                stage: plan.status,
                centre: plan.centre.clone(),
                plan_version: plan.plan.as_ref().map(|p| p.version),
            },
            standing(&entries),
            "child {child}: the plan's standing"
        );
        let folds = [
            (Projection::ActionPlan, value(&plan)),
            (
                Projection::Trajectory,
                value(&Trajectory::from_history(&history, None)),
            ),
            (Projection::FollowUp, value(&expectations(&history, rules))),
        ];
        for (p, view) in folds {
            views.insert((p, *child), (view, n, n));
        }
    }
    views
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

async fn incremental_rebuilt_and_folded_views_are_identical(store: TestStore) {
    let handle = tokio::runtime::Handle::current();
    let rules = FollowUpRules::default();
    let mut runner_config = Config {
        cases: 12,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    };
    runner_config.max_shrink_iters = 64;
    let mut proptest_runner = TestRunner::new(runner_config);
    let strategy = (
        prop::collection::vec(steps(30), 1..4),
        1usize..8,
        1usize..12,
    );
    let all_children = std::sync::Mutex::new(Vec::new());
    let result = tokio::task::block_in_place(|| {
        proptest_runner.run(&strategy, |(journeys, every, batch)| {
            handle.block_on(async {
                let runner = Runner::new(&store, rules.clone()).with_batch_size(batch);
                // Children's commands interleaved, the runner stepping now and then.
                let mut queues = Vec::new();
                for steps in &journeys {
                    let child = ChildId::new_random();
                    let (mut journey, mut commands) = Journey::open(child, calendar().today);
                    commands.extend(steps.iter().filter_map(|step| journey.command_for(step)));
                    all_children.lock().unwrap().push(child);
                    queues.push((child, commands.into_iter().enumerate().collect::<Vec<_>>()));
                }
                let mut recorded = 0usize;
                while queues.iter().any(|(_, q)| !q.is_empty()) {
                    for (child, queue) in queues.iter_mut() {
                        if queue.is_empty() {
                            continue;
                        }
                        let (n, command) = queue.remove(0);
                        let req = request(*child, &format!("c-{n}"), command);
                        store.record(calendar(), req).await.map_err(fail)?;
                        recorded += 1;
                        if recorded % every == 0 {
                            let p = Projection::ALL[recorded % 3];
                            runner.step(p).await.map_err(fail)?;
                        }
                    }
                }
                runner.catch_up().await.map_err(fail)?;
                let children = all_children.lock().unwrap().clone();
                let incremental = stored_views(&store).await;
                let folded = folded_views(&store, &children, &rules).await;
                prop_assert_eq!(&incremental, &folded, "incremental == pure fold");
                runner
                    .rebuild(&Projection::ALL, |_| {})
                    .await
                    .map_err(fail)?;
                let rebuilt = stored_views(&store).await;
                prop_assert_eq!(&rebuilt, &folded, "rebuild == pure fold");
                // Nothing left to apply: the runner's next batches change no row. (On a shared
                // server a transaction elsewhere may hold the horizon back during the rebuild;
                // the checkpoint then passes, later, events the rows already have.)
                for p in Projection::ALL {
                    while runner.step(p).await.map_err(fail)? != Step::CaughtUp {}
                }
                prop_assert_eq!(
                    &stored_views(&store).await,
                    &folded,
                    "after the rebuild, batches change nothing"
                );
                Ok(())
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Steps `projection` until its checkpoint has passed every committed event. On PostgreSQL a
/// batch stops at the horizon, which a transaction in flight elsewhere on the server (another
/// test's) holds back for a moment: `step` then says `CaughtUp` with events still to come, and
/// this waits for the horizon to pass them.
async fn step_to_the_last_event(runner: &Runner<'_>, store: &Store, projection: Projection) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        while runner.step(projection).await.unwrap() != Step::CaughtUp {}
        let cursor = store.checkpoint(projection.name()).await.unwrap().cursor;
        if store.children_after(cursor).await.unwrap().is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{projection}: the horizon did not pass the last committed event within a minute"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_runner_killed_mid_batch_resumes_as_if_nothing_happened(store: TestStore) {
    let rules = FollowUpRules::default();
    let children = common::record_cohort(&store, 30).await;
    // Projections start from an empty checkpoint: step from zero in small batches, and kill the
    // task at a different moment each time.
    let store = Arc::new(store);
    let mut kills = 0;
    for delay_us in [200u64, 900, 1_500, 3_000, 5_000, 8_000, 13_000, 21_000] {
        let s = store.clone();
        let rules = rules.clone();
        let task = tokio::spawn(async move {
            let runner = Runner::new(&s, rules).with_batch_size(40);
            loop {
                let mut progressed = false;
                for p in Projection::ALL {
                    progressed |= matches!(runner.step(p).await.unwrap(), Step::Applied(_));
                }
                if !progressed {
                    break;
                }
            }
        });
        tokio::time::sleep(Duration::from_micros(delay_us)).await;
        task.abort();
        if task.await.is_err() {
            kills += 1;
        }
    }
    assert!(kills > 0, "at least one run was killed before it finished");
    // Whatever was left half-done, a restart finishes the job...
    let runner = Runner::new(&store, rules.clone()).with_batch_size(40);
    for p in Projection::ALL {
        step_to_the_last_event(&runner, &store, p).await;
    }
    let resumed = stored_views(&store).await;
    assert_eq!(resumed, folded_views(&store, &children, &rules).await);
    // ...and equals a rebuild.
    runner.rebuild(&Projection::ALL, |_| {}).await.unwrap();
    assert_eq!(stored_views(&store).await, resumed);
}

async fn two_rebuilds_at_once_leave_whole_read_models(store: TestStore) {
    let rules = FollowUpRules::default();
    let children = common::record_cohort(&store, 40).await;
    let store = Arc::new(store);
    let rebuilds: Vec<_> = (0..2)
        .map(|_| {
            let (store, rules) = (store.clone(), rules.clone());
            tokio::spawn(async move {
                Runner::new(&store, rules)
                    .rebuild(&Projection::ALL, |_| {})
                    .await
                    .map(|r| r.children)
            })
        })
        .collect();
    for r in rebuilds {
        assert_eq!(r.await.unwrap().unwrap(), 40);
    }
    assert_eq!(
        stored_views(&store).await,
        folded_views(&store, &children, &rules).await
    );
}

/// One row of the worklist's index `follow_up_expectations`: centre, created, due, open until
/// (the resolution date, or 9999-12-31), rule, subject, and the expectation whole.
type IndexRow = (Option<String>, String, String, String, String, Value, Value);
type Index = BTreeMap<ChildId, Vec<IndexRow>>;

/// `follow_up_expectations` as stored, each child's rows in their order in the view.
async fn stored_index(store: &Store) -> Index {
    type Raw = (
        String,
        Option<String>,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
    );
    let rows: Vec<Raw> = match store {
        Store::Sqlite(s) => sqlx::query_as(
            "SELECT child_id, centre, created_on, due_on, open_until, rule, subject, expectation
               FROM follow_up_expectations ORDER BY child_id, ordinal",
        )
        .fetch_all(s.pool())
        .await
        .unwrap(),
        Store::Postgres(s) => sqlx::query_as(
            "SELECT child_id, centre, created_on, due_on, open_until, rule, subject,
                    expectation::text
               FROM follow_up_expectations ORDER BY child_id, ordinal",
        )
        .fetch_all(s.pool())
        .await
        .unwrap(),
    };
    let mut index = Index::new();
    for (child, centre, created, due, open_until, rule, subject, expectation) in rows {
        // A subject is stored as the JSON text of its value.
        let subject = subject.map_or(Value::Null, |s| serde_json::from_str(&s).unwrap());
        index.entry(child.parse().unwrap()).or_default().push((
            centre,
            created,
            due,
            open_until,
            rule,
            subject,
            serde_json::from_str(&expectation).unwrap(),
        ));
    }
    index
}

/// What the index should hold: every expectation of each child's history, folded from the events
/// (neither from the views nor through the triggers that copy them).
async fn folded_index(store: &Store, children: &[ChildId], rules: &FollowUpRules) -> Index {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    let mut index = Index::new();
    for child in children {
        let history = ChildHistory::from_events(store.history(*child).await.unwrap());
        let rows: Vec<IndexRow> = expectations(&history, rules)
            .iter()
            .map(|e| {
                let e = serde_json::to_value(e).unwrap();
                let open_until = match &e["resolution"] {
                    Value::Null => "9999-12-31".to_string(),
                    resolution => text(&resolution["on"]),
                };
                (
                    Some(text(&e["centre"])),
                    text(&e["created_on"]),
                    text(&e["due_on"]),
                    open_until,
                    text(&e["rule"]),
                    e["subject"].clone(),
                    e,
                )
            })
            .collect();
        if !rows.is_empty() {
            index.insert(*child, rows);
        }
    }
    index
}

/// The worklist's index of expectations (`follow_up_expectations`, kept by triggers on the
/// follow-up views) holds exactly the expectations of the events: after the first catch-up
/// (a rebuild), after a rebuild, after a catch-up of new commands on old and new files, and
/// after a rebuild of the follow-up views alone.
async fn the_worklist_index_holds_the_expectations_of_the_events(store: TestStore) {
    let rules = FollowUpRules::default();
    let runner = Runner::new(&store, rules.clone());
    let mut children = common::journeys::record_journeys(&store, 12, 7).await;
    children.extend(common::record_cohort(&store, 20).await);
    runner.catch_up().await.unwrap();
    let expected = folded_index(&store, &children, &rules).await;
    assert!(expected.values().map(Vec::len).sum::<usize>() > 50);
    assert_eq!(
        stored_index(&store).await,
        expected,
        "after the first catch-up"
    );
    runner.rebuild(&Projection::ALL, |_| {}).await.unwrap();
    assert_eq!(stored_index(&store).await, expected, "after a rebuild");
    // New commands: new files, and a family contact in old ones (refused in a closed file).
    children.extend(common::journeys::record_journeys(&store, 6, 8).await);
    for child in &children[..10] {
        let _ = store
            .record(
                calendar(),
                request(*child, "late-contact", contact("2026-06-29")),
            )
            .await;
    }
    for p in Projection::ALL {
        step_to_the_last_event(&runner, &store, p).await;
    }
    let expected = folded_index(&store, &children, &rules).await;
    assert_eq!(
        stored_index(&store).await,
        expected,
        "after a catch-up of new commands"
    );
    runner
        .rebuild(&[Projection::FollowUp], |_| {})
        .await
        .unwrap();
    assert_eq!(stored_index(&store).await, expected, "after a rebuild");
    assert_eq!(
        store.drop_abandoned_scratch().await.unwrap(),
        Vec::<String>::new()
    );
}

on_both_stores!(
    incremental_rebuilt_and_folded_views_are_identical,
    a_runner_killed_mid_batch_resumes_as_if_nothing_happened,
    two_rebuilds_at_once_leave_whole_read_models,
    the_worklist_index_holds_the_expectations_of_the_events,
);

/// On PostgreSQL, positions are taken at INSERT and transactions commit in any order. A test
/// trigger makes every other transaction pause at commit, so later positions often commit
/// first; a commit log records the real commit order. With writers on many children and the
/// runner following all the while, every projection must still apply every event exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writers_committing_out_of_order_lose_nothing() {
    let store = Arc::new(common::postgres().await);
    let Store::Postgres(pg) = &**store else {
        unreachable!()
    };
    for sql in [
        "CREATE TABLE commit_log (position bigint, committed_at timestamptz)",
        "CREATE FUNCTION log_commit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.position % 2 = 0 THEN PERFORM pg_sleep(0.02); END IF;
           INSERT INTO commit_log VALUES (NEW.position, clock_timestamp());
           RETURN NULL;
         END $$",
        "CREATE CONSTRAINT TRIGGER events_commit_log AFTER INSERT ON events
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_commit()",
    ] {
        sqlx::query(sql).execute(pg.pool()).await.unwrap();
    }

    let rules = FollowUpRules::default();
    let stop = Arc::new(tokio::sync::Notify::new());
    let follower = {
        let (store, rules, stop) = (store.clone(), rules.clone(), stop.clone());
        tokio::spawn(async move {
            let runner = Runner::new(&store, rules).with_batch_size(25);
            runner
                .follow(Duration::from_millis(5), stop.notified())
                .await
                .unwrap();
        })
    };
    const CHILDREN: usize = 12;
    const WRITERS_PER_CHILD: usize = 2;
    let children: Vec<ChildId> = (0..CHILDREN).map(|_| ChildId::new_random()).collect();
    for child in &children {
        store
            .record(
                calendar(),
                request(*child, "open", open_file("2024-01-05", "2016-02-01")),
            )
            .await
            .unwrap();
    }
    let mut writers = Vec::new();
    for child in children.clone() {
        for w in 0..WRITERS_PER_CHILD {
            let store = store.clone();
            writers.push(tokio::spawn(async move {
                let mut committed = 0;
                for n in 0..8 {
                    let key = format!("w{w}-{n}");
                    match store
                        .record(
                            calendar(),
                            request(child, &key, contact(&format!("2024-02-{:02}", n + 1))),
                        )
                        .await
                    {
                        Ok(_) => committed += 1,
                        Err(lifecourse::RecordError::Conflict { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                committed
            }));
        }
    }
    let mut committed = 0;
    for w in writers {
        committed += w.await.unwrap();
    }
    stop.notify_one();
    follower.await.unwrap();
    Runner::new(&store, rules.clone()).catch_up().await.unwrap();

    let log: Vec<(i64,)> = sqlx::query_as("SELECT position FROM commit_log ORDER BY committed_at")
        .fetch_all(pg.pool())
        .await
        .unwrap();
    let inversions = log.windows(2).filter(|w| w[0].0 > w[1].0).count();
    assert!(
        inversions > 0,
        "some transactions committed out of position order"
    );
    eprintln!("{committed} contacts committed; {inversions} out-of-order commits");

    let views = stored_views(&store).await;
    for child in &children {
        let length = store.history(*child).await.unwrap().len() as u64;
        for p in Projection::ALL {
            let (_, applied, last) = &views[&(p, *child)];
            assert_eq!(
                (*applied, *last),
                (length, length),
                "{p} applied every event of {child} once"
            );
        }
    }
    assert_eq!(views, folded_views(&store, &children, &rules).await);
}

/// Changing a follow-up threshold makes the stored follow-up views stale: the runner notices and
/// rebuilds them with the new thresholds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_thresholds_trigger_a_rebuild() {
    let store = common::sqlite().await;
    let child = ChildId::new_random();
    for (n, c) in [open_file("2024-01-05", "2016-02-01"), accept("2024-01-08")]
        .into_iter()
        .enumerate()
    {
        store
            .record(calendar(), request(child, &format!("k{n}"), c))
            .await
            .unwrap();
    }
    let due = |views: &Views| -> Vec<String> {
        let expectations = &views[&(Projection::FollowUp, child)].0;
        expectations
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["rule"] == "family_contact")
            .map(|e| e["due_on"].as_str().unwrap().to_string())
            .collect()
    };
    Runner::new(&store, FollowUpRules::default())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(due(&stored_views(&store).await), ["2024-03-08"]);
    let stricter = FollowUpRules {
        family_contact_days: 30,
        ..FollowUpRules::default()
    };
    Runner::new(&store, stricter.clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(due(&stored_views(&store).await), ["2024-02-07"]);

    // A runner with other thresholds never mixes its rows into these views.
    store
        .record(calendar(), request(child, "k2", contact("2024-01-20")))
        .await
        .unwrap();
    let before = stored_views(&store).await;
    let other = Runner::new(&store, FollowUpRules::default());
    assert_eq!(other.step(Projection::FollowUp).await.unwrap(), Step::Stale);
    assert_eq!(stored_views(&store).await, before, "nothing written");
    Runner::new(&store, stricter).catch_up().await.unwrap();
    assert_eq!(
        due(&stored_views(&store).await),
        ["2024-02-07", "2024-02-19"]
    );
}

/// A write transaction left open anywhere on the server holds PostgreSQL's horizon back; the
/// read models must still show what was committed meanwhile, and the checkpoint must not pass
/// the transaction still in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_held_open_elsewhere_does_not_freeze_the_read_models() {
    use sqlx::Connection;
    let store = common::postgres().await;
    let rules = FollowUpRules::default();
    let child = common::open_child(&store).await;
    Runner::new(&store, rules.clone()).catch_up().await.unwrap();

    // Another database of the same server: a transaction that has written, left open.
    let mut elsewhere = sqlx::PgConnection::connect(&common::admin_url())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut elsewhere).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut elsewhere)
        .await
        .unwrap();

    let accepted = request(child, "accept", accept("2024-03-04"));
    store.record(calendar(), accepted).await.unwrap();
    let contact = request(child, "contact", contact("2024-03-05"));
    store.record(calendar(), contact).await.unwrap();
    let runner = Runner::new(&store, rules.clone());
    runner.catch_up().await.unwrap();
    let views = stored_views(&store).await;
    for p in Projection::ALL {
        let (_, applied, last) = &views[&(p, child)];
        assert_eq!((*applied, *last), (3, 3), "{p} shows the committed events");
    }
    assert_eq!(views, folded_views(&store, &[child], &rules).await);
    // The checkpoint has not passed the transaction in flight, yet the answer is complete.
    let app = lifecourse::app::App::open(&store.url).await.unwrap();
    for p in Projection::ALL {
        let freshness = app.freshness(p).await.unwrap();
        assert_eq!(freshness.behind, 0, "{p} reflects every committed event");
        assert_eq!(
            store.checkpoint(p.name()).await.unwrap().cursor,
            freshness.reflects
        );
    }
    assert!(
        store
            .events_since(
                app.freshness(Projection::ActionPlan)
                    .await
                    .unwrap()
                    .reflects
            )
            .await
            .unwrap()
            > 0
    );
    // A rebuild meanwhile shows the same.
    runner.rebuild(&Projection::ALL, |_| {}).await.unwrap();
    assert_eq!(
        stored_views(&store).await,
        views,
        "a rebuild behind the horizon"
    );

    // The transaction ends; the checkpoint then moves over the events applied early, which
    // are not applied twice.
    sqlx::query("ROLLBACK")
        .execute(&mut elsewhere)
        .await
        .unwrap();
    runner.catch_up().await.unwrap();
    for p in Projection::ALL {
        assert_eq!(runner.step(p).await.unwrap(), Step::CaughtUp);
    }
    assert_eq!(stored_views(&store).await, views);
}

/// The same, from the very first event: a database whose every event lies beyond the horizon
/// (as for a test's fresh database while other tests write) still gets its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_catch_up_behind_a_transaction_held_elsewhere_shows_the_file() {
    use sqlx::Connection;
    let store = common::postgres().await;
    let mut elsewhere = sqlx::PgConnection::connect(&common::admin_url())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut elsewhere).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut elsewhere)
        .await
        .unwrap();
    let child = common::open_child(&store).await;
    let rules = FollowUpRules::default();
    Runner::new(&store, rules.clone()).catch_up().await.unwrap();
    let views = stored_views(&store).await;
    for p in Projection::ALL {
        let (_, applied, last) = &views[&(p, child)];
        assert_eq!((*applied, *last), (1, 1), "{p} shows the file");
    }
    assert_eq!(views, folded_views(&store, &[child], &rules).await);
    sqlx::query("ROLLBACK")
        .execute(&mut elsewhere)
        .await
        .unwrap();
}
