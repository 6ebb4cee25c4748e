//! An operations team's and an attacker's view of the store: what it closes by itself. Stored
//! events cannot be replaced with `INSERT OR REPLACE`; `migrate --check` names a protection
//! trigger that was dropped or disabled and `migrate` restores it; a database that would not
//! outlive the process is refused; a held SQLite write lock is a conflict to retry (exit 4), not
//! a failure; a huge `--batch-size` is clamped; a killed rebuild's scratch tables are dropped;
//! a new SQLite file and its `-wal`/`-shm` are readable by their owner only.

mod common;

use common::{cli, TestStore};
use lifecourse::Store;
use sqlx::Connection;

fn sqlite_pool(store: &Store) -> &sqlx::SqlitePool {
    match store {
        Store::Sqlite(s) => s.pool(),
        Store::Postgres(_) => panic!("a SQLite store"),
    }
}

/// A connection of another client: none of the application's pragmas.
async fn raw_sqlite(url: &str) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_or_replace_cannot_rewrite_a_stored_event() {
    let store = common::sqlite().await;
    let child = common::open_child(&store).await;
    let stored = store.history(child).await.unwrap();
    let mut raw = raw_sqlite(&store.url).await;
    let forged = [
        // same stream and sequence: would delete the opening and put a forgery in its place
        format!(
            "INSERT OR REPLACE INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('ChildFile', '{child}', 1, 'FileClosed', '1', '{{}}', '{{}}')"
        ),
        // same position, another sequence
        format!(
            "REPLACE INTO events (position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ({}, 'ChildFile', '{child}', 7, 'FileClosed', '1', '{{}}', '{{}}')",
            stored[0].position
        ),
        // same event id
        format!(
            "INSERT OR REPLACE INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, event_id)
             VALUES ('ChildFile', '{child}', 9, 'FileClosed', '1', '{{}}', '{{}}', '{}')",
            stored[0].event_id.0
        ),
    ];
    for sql in &forged {
        let err = sqlx::query(sql).execute(&mut raw).await.unwrap_err();
        assert!(
            err.to_string().contains("events are immutable"),
            "{sql}: {err}"
        );
    }
    // Even without the insert trigger, the application's own connections fire the delete
    // trigger on REPLACE (recursive_triggers).
    sqlx::query("DROP TRIGGER events_no_replace")
        .execute(&mut raw)
        .await
        .unwrap();
    let err = sqlx::query(&forged[0])
        .execute(sqlite_pool(&store))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("events are immutable: DELETE on events is not allowed"),
        "{err}"
    );
    assert_eq!(
        store.history(child).await.unwrap(),
        stored,
        "nothing changed"
    );
}

#[test]
fn migrate_check_names_a_dropped_sqlite_trigger_and_migrate_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lifecourse.db").display());
    cli::ok(&url, &["migrate"]);
    let check = cli::ok(&url, &["migrate", "--check"]);
    assert!(cli::stdout(&check).contains("every trigger that keeps events immutable is in place"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut raw = raw_sqlite(&url).await;
        sqlx::query("DROP TRIGGER events_no_delete")
            .execute(&mut raw)
            .await
            .unwrap();
    });
    let check = cli::run(&url, &["migrate", "--check"]);
    assert_eq!(cli::code(&check), Some(1), "{}", cli::stderr(&check));
    assert_eq!(
        cli::stderr(&check).trim(),
        "error: the events table is not protected as it must be: trigger events_no_delete is missing; run `lifecourse migrate` as the owner of the tables to restore it"
    );
    cli::ok(&url, &["migrate"]);
    cli::ok(&url, &["migrate", "--check"]);
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        let child = common::open_child(&store).await;
        let err = sqlx::query("DELETE FROM events WHERE aggregate_id = ?")
            .bind(child.to_string())
            .execute(sqlite_pool(&store))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("events are immutable"), "{err}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_check_names_a_dropped_or_disabled_postgres_trigger_and_migrate_restores_them() {
    let store = common::postgres().await;
    let url = store.url.clone();
    let check = cli_async(&url, &["migrate", "--check"]).await;
    assert_eq!(cli::code(&check), Some(0), "{}", cli::stderr(&check));
    let mut owner = sqlx::PgConnection::connect(&url).await.unwrap();
    for sql in [
        "DROP TRIGGER events_no_truncate ON events",
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete",
    ] {
        sqlx::query(sql).execute(&mut owner).await.unwrap();
    }
    let check = cli_async(&url, &["migrate", "--check"]).await;
    assert_eq!(cli::code(&check), Some(1), "{}", cli::stderr(&check));
    assert_eq!(
        cli::stderr(&check).trim(),
        "error: the events table is not protected as it must be: trigger events_no_update_or_delete is disabled; trigger events_no_truncate is missing; run `lifecourse migrate` as the owner of the tables to restore it"
    );
    let migrate = cli_async(&url, &["migrate"]).await;
    assert_eq!(cli::code(&migrate), Some(0), "{}", cli::stderr(&migrate));
    let check = cli_async(&url, &["migrate", "--check"]).await;
    assert_eq!(cli::code(&check), Some(0), "{}", cli::stderr(&check));
    let child = common::open_child(&store).await;
    for sql in ["DELETE FROM events", "TRUNCATE events"] {
        let err = sqlx::query(sql).execute(&mut owner).await.unwrap_err();
        assert!(
            err.to_string().contains("events are immutable"),
            "{sql}: {err}"
        );
    }
    assert_eq!(store.history(child).await.unwrap().len(), 1);
}

/// Runs the binary from async code without blocking the runtime.
async fn cli_async(url: &str, args: &[&str]) -> std::process::Output {
    let (url, args): (String, Vec<String>) = (
        url.to_string(),
        args.iter().map(|a| a.to_string()).collect(),
    );
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli::run(&url, &args)
    })
    .await
    .unwrap()
}

#[test]
fn databases_that_would_not_outlive_the_process_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://",
        "sqlite:",
        "sqlite://kept.db?mode=memory",
        "sqlite://file::memory:?cache=shared",
    ] {
        let out = cli::command(url, &["staff", "list"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(cli::code(&out), Some(2), "{url}: {}", cli::stderr(&out));
        assert!(
            cli::stderr(&out).contains("is not a durable store"),
            "{url}: {}",
            cli::stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file was created"
    );
    let refused = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(Store::connect("sqlite::memory:"))
        .err()
        .expect("refused");
    assert_eq!(
        refused.to_string(),
        "DATABASE_URL \"sqlite::memory:\" is not a durable store: it is an in-memory database, so every command would be acknowledged and then lost when the program exits; name a file, e.g. sqlite://lifecourse.db"
    );
}

#[test]
fn a_write_lock_held_elsewhere_is_a_conflict_to_send_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lifecourse.db").display());
    cli::add_team(&url);
    let opened = cli::record(&url, "sw1@centre-sud", &cli::open_file_json("lock-open"));
    assert_eq!(cli::code(&opened), Some(0), "{}", cli::stderr(&opened));
    let child = lifecourse_events::ChildId::derived_from_key(
        &lifecourse_events::IdempotencyKey::parse("lock-open").unwrap(),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut holder = rt.block_on(raw_sqlite(&url));
    rt.block_on(sqlx::query("BEGIN IMMEDIATE").execute(&mut holder))
        .unwrap();
    let contact = cli::contact_json(&child.to_string(), "lock-contact");
    let held = cli::record(&url, "sw1@centre-sud", &contact);
    assert_eq!(cli::code(&held), Some(4), "{}", cli::stderr(&held));
    assert!(
        cli::stderr(&held).contains("nothing was stored: send the command again"),
        "{}",
        cli::stderr(&held)
    );
    rt.block_on(sqlx::query("ROLLBACK").execute(&mut holder))
        .unwrap();
    let again = cli::record(&url, "sw1@centre-sud", &contact);
    assert_eq!(cli::code(&again), Some(0), "{}", cli::stderr(&again));
    assert!(
        cli::stdout(&again).contains("recorded entry #2"),
        "{}",
        cli::stdout(&again)
    );
}

/// Not only `record`: any command that writes (here registering a member of staff) answers a
/// write lock held past the busy timeout with exit 4, and writes nothing.
#[test]
fn any_write_kept_waiting_past_the_busy_timeout_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lifecourse.db").display());
    cli::add_team(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut holder = rt.block_on(raw_sqlite(&url));
    rt.block_on(sqlx::query("BEGIN IMMEDIATE").execute(&mut holder))
        .unwrap();
    let add = [
        "staff",
        "add",
        "nu1@centre-sud",
        "--name",
        "Nadia U",
        "--role",
        "nurse",
        "--centre",
        "centre-sud",
    ];
    let held = cli::run(&url, &add);
    assert_eq!(cli::code(&held), Some(4), "{}", cli::stderr(&held));
    assert!(
        cli::stderr(&held).contains("held the database's write lock longer than the busy timeout"),
        "{}",
        cli::stderr(&held)
    );
    rt.block_on(sqlx::query("ROLLBACK").execute(&mut holder))
        .unwrap();
    let listed = cli::run(&url, &["staff", "list"]);
    assert!(
        !cli::stdout(&listed).contains("nu1@centre-sud"),
        "nothing written"
    );
    let again = cli::run(&url, &add);
    assert_eq!(cli::code(&again), Some(0), "{}", cli::stderr(&again));
}

async fn a_huge_batch_size_is_clamped(store: TestStore) {
    let child = common::open_child(&store).await;
    let out = cli_async(
        &store.url,
        &["project", "--batch-size", "18446744073709551615"],
    )
    .await;
    assert_eq!(cli::code(&out), Some(0), "{}", cli::stderr(&out));
    // A second child after the first run: the runner's batches (not the first rebuild) apply it.
    let second = common::open_child(&store).await;
    let out = cli_async(
        &store.url,
        &["project", "--batch-size", "18446744073709551615"],
    )
    .await;
    assert_eq!(cli::code(&out), Some(0), "{}", cli::stderr(&out));
    for c in [child, second] {
        let row = store.view_row("proj_trajectory", c).await.unwrap().unwrap();
        assert_eq!((row.applied_events, row.last_sequence), (1, 1));
    }
    let runner =
        lifecourse::runner::Runner::new(&store, Default::default()).with_batch_size(usize::MAX);
    assert!(runner.catch_up().await.is_ok());
}

async fn a_killed_rebuilds_scratch_tables_are_dropped_at_the_next_start(store: TestStore) {
    common::open_child(&store).await;
    // A process that has ended: its scratch table is a leftover.
    let gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    let _ = { gone }.wait();
    let leftover = format!(
        "proj_trajectory_rebuild_{pid}_{}",
        uuid::Uuid::new_v4().simple()
    );
    let not_scratch = "proj_trajectory_rebuild_notes";
    for table in [leftover.as_str(), not_scratch] {
        execute(&store, &format!("CREATE TABLE {table} (child_id TEXT)")).await;
    }
    // A rebuild in progress (this process's own) keeps its table.
    let live = store.create_scratch("proj_trajectory").await.unwrap();
    let runner = lifecourse::runner::Runner::new(&store, Default::default());
    runner.catch_up().await.unwrap();
    let mut tables = tables_like(&store, "proj_trajectory_rebuild").await;
    tables.sort();
    let mut expected = vec![live.name.clone(), not_scratch.to_string()];
    expected.sort();
    assert_eq!(tables, expected);
    drop(live);
    execute(&store, &format!("DROP TABLE {}", expected[0])).await;
    execute(&store, &format!("DROP TABLE {}", expected[1])).await;
}

async fn execute(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(s) => sqlx::query(sql).execute(s.pool()).await.map(|_| ()),
        Store::Postgres(s) => sqlx::query(sql).execute(s.pool()).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn tables_like(store: &Store, prefix: &str) -> Vec<String> {
    let pattern = format!("{prefix}%");
    match store {
        Store::Sqlite(s) => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
        )
        .bind(pattern)
        .fetch_all(s.pool())
        .await
        .unwrap(),
        Store::Postgres(s) => sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1",
        )
        .bind(pattern)
        .fetch_all(s.pool())
        .await
        .unwrap(),
    }
}

on_both_stores!(
    a_huge_batch_size_is_clamped,
    a_killed_rebuilds_scratch_tables_are_dropped_at_the_next_start,
);

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sqlite_database_and_its_wal_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let store = common::sqlite().await;
    common::open_child(&store).await;
    let file = store.url.strip_prefix("sqlite://").unwrap().to_string();
    for path in [file.clone(), format!("{file}-wal"), format!("{file}-shm")] {
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{path} has mode {:o}", mode & 0o777);
    }
}

/// A database written before commit eras existed: its events become era 1, the era of the cluster
/// that migrates it, and checkpoints that had moved are placed in era 1 too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stored_before_commit_eras_are_the_first_era_of_this_cluster() {
    let store = common::postgres_unmigrated().await;
    let Store::Postgres(pg) = &store.store else {
        unreachable!()
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut before = sqlx::migrate::Migrator::new(dir).await.unwrap();
    before.migrations = std::borrow::Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version <= 3)
            .cloned()
            .collect(),
    );
    before.run(pg.pool()).await.unwrap();
    // An event as that release stored it (this release records only on its own schema).
    let first = lifecourse_events::ChildId::new_random();
    let row: serde_json::Value = serde_json::from_str(include_str!(
        "../events/tests/fixtures/child_file_opened_v1.json"
    ))
    .unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('ChildFile', $1, 1, $2, $3, $4::jsonb, $5::jsonb)",
    )
    .bind(first.to_string())
    .bind(row["event_type"].as_str())
    .bind(row["event_version"].as_str())
    .bind(row["payload"].to_string())
    .bind(row["metadata"].to_string())
    .execute(pg.pool())
    .await
    .unwrap();
    sqlx::query(
        "UPDATE projection_checkpoints SET transaction_id = '12345', position = 1 WHERE projection = 'trajectory'",
    )
    .execute(pg.pool())
    .await
    .unwrap();

    // The migrations after 0003 that this release ships: 0004 (eras), 0005 (credentials and
    // the access log), 0006 (centres), 0008 (the worklist's expectations), 0009 (anchors and
    // child keys), 0010 and 0011 (the worklist's covering index, and a vacuum of its table).
    assert_eq!(store.migrate().await.unwrap(), 7);
    let eras: Vec<(i64, i64)> =
        sqlx::query_as("SELECT era, count(*) FROM events GROUP BY era ORDER BY era")
            .fetch_all(pg.pool())
            .await
            .unwrap();
    assert_eq!(eras, vec![(1, 1)]);
    let checkpoints: Vec<(String, i64)> =
        sqlx::query_as("SELECT projection, era FROM projection_checkpoints ORDER BY projection")
            .fetch_all(pg.pool())
            .await
            .unwrap();
    assert_eq!(
        checkpoints,
        vec![
            ("action_plan".to_string(), 0),
            ("follow_up".to_string(), 0),
            ("trajectory".to_string(), 1)
        ]
    );
    let this_cluster: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM store_eras s, pg_control_system() c
          WHERE s.era = 1 AND s.system_identifier = c.system_identifier",
    )
    .fetch_one(pg.pool())
    .await
    .unwrap();
    assert_eq!(this_cluster, 1);

    // Writing goes on in era 1, and the read models follow.
    let second = common::open_child(&store).await;
    let era: i64 = sqlx::query_scalar("SELECT era FROM events WHERE aggregate_id = $1")
        .bind(second.to_string())
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(era, 1);
    sqlx::query("UPDATE projection_checkpoints SET era = 0, transaction_id = '0', position = 0")
        .execute(pg.pool())
        .await
        .unwrap();
    lifecourse::runner::Runner::new(&store, Default::default())
        .catch_up()
        .await
        .unwrap();
    for child in [first, second] {
        let row = store
            .view_row("proj_trajectory", child)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.applied_events, row.last_sequence), (1, 1));
    }
}
