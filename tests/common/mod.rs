//! Shared by the integration tests: a fresh store per test — a SQLite file in its own temporary
//! directory, or a new PostgreSQL database dropped when the test ends — and `on_both_stores!`,
//! which runs one behaviour suite against both so the stores cannot drift apart.
#![allow(dead_code)]

pub mod cli;
pub mod cluster;
pub mod journeys;
pub mod oracle;

use std::ops::Deref;

use lifecourse::fixtures::date;
use lifecourse::{ClinicalCalendar, Store};
use sqlx::Connection;

/// The test suites' "today": fixed, so dates in tests never drift into the future.
pub fn calendar() -> ClinicalCalendar {
    ClinicalCalendar {
        today: date("2026-06-30"),
    }
}

/// Opens a new child's file (referral on 2024-03-01, born 2017-05-10) and returns the child.
pub async fn open_child(store: &Store) -> lifecourse_events::ChildId {
    let child = lifecourse_events::ChildId::new_random();
    let open = lifecourse::fixtures::open_file("2024-03-01", "2017-05-10");
    store
        .record(
            calendar(),
            lifecourse::fixtures::request(child, "open", open),
        )
        .await
        .expect("open a file");
    child
}

/// Records the demo cohort's first `children` children; returns their ids.
pub async fn record_cohort(store: &Store, children: usize) -> Vec<lifecourse_events::ChildId> {
    let spec = lifecourse::cohort::CohortSpec {
        children,
        ..lifecourse::cohort::CohortSpec::one_centre(calendar().today)
    };
    let cohort = lifecourse::cohort::plan(&spec).expect("a valid cohort");
    for r in &cohort.requests {
        store
            .record(calendar(), r.clone())
            .await
            .expect("cohort commands are accepted");
    }
    cohort.children.iter().map(|c| c.child_id).collect()
}

/// PostgreSQL server used by the tests (its `postgres` database is used to create and drop one
/// database per test).
pub fn admin_url() -> String {
    std::env::var("LIFECOURSE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub struct TestStore {
    pub store: Store,
    pub url: String,
    _cleanup: Cleanup,
}

impl Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = self
        {
            let (admin_url, database) = (admin_url.clone(), database.clone());
            // Drop runs inside the test's runtime, which cannot be blocked on: use a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                        let _ = sqlx::query(&sql).execute(&mut conn).await;
                    }
                });
            })
            .join();
        }
    }
}

/// A new SQLite file, migrated through the production path.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("lifecourse.db").display());
    let store = Store::open(&url).await.expect("open a fresh SQLite store");
    TestStore {
        store,
        url,
        _cleanup: Cleanup::Sqlite(dir),
    }
}

/// A new PostgreSQL database, migrated through the production path. Fails (never skips) when the
/// server cannot be reached, saying how to start it.
pub async fn postgres() -> TestStore {
    let fresh = postgres_unmigrated().await;
    fresh
        .store
        .migrate()
        .await
        .expect("migrate a fresh PostgreSQL database");
    fresh
}

/// A new, empty PostgreSQL database (no schema), dropped when the test ends.
pub async fn postgres_unmigrated() -> TestStore {
    let admin_url = admin_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin_url}: {e}\n\
             These tests need a real server. Start the local one with\n  \
             pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             or point LIFECOURSE_TEST_DATABASE_URL at a server where you may create databases."
            )
        });
    let database = format!("lifecourse_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    let (server, _) = admin_url
        .rsplit_once('/')
        .expect("a database URL ends with /DATABASE");
    let url = format!("{server}/{database}");
    let cleanup = Cleanup::Postgres {
        admin_url,
        database,
    };
    let store = Store::connect(&url)
        .await
        .expect("connect to a fresh PostgreSQL database");
    TestStore {
        store,
        url,
        _cleanup: cleanup,
    }
}

/// Runs each named `async fn(TestStore)` of the calling file once on a fresh SQLite file and once
/// on a fresh PostgreSQL database.
#[macro_export]
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::common::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::common::postgres().await).await;
                }
            )*
        }
    };
}

/// Catches the read models up until none is behind. On PostgreSQL the runner reads only below
/// the oldest transaction still running on the server, which another test (in another database)
/// may hold back for a moment.
pub async fn catch_up_fully(app: &lifecourse::app::App) {
    for _ in 0..200 {
        app.catch_up().await.expect("catch up");
        let mut behind = 0;
        for p in lifecourse::runner::Projection::ALL {
            behind += app.freshness(p).await.expect("freshness").behind;
        }
        if behind == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the read models did not catch up");
}

/// The README's grant statements ("Least privilege on PostgreSQL") for role `role` on database
/// `database`.
pub fn documented_grants(role: &str, database: &str) -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("### Least privilege on PostgreSQL")
        .expect("README documents the grants");
    let block = &readme[start..];
    let block = &block[block.find("```sql\n").expect("a SQL block") + 7..];
    let block = &block[..block.find("```").unwrap()];
    block
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.replace("lifecourse_app", role)
                .replace("DATABASE lifecourse ", &format!("DATABASE \"{database}\" "))
        })
        .collect()
}

/// `url` with its user replaced by `role`.
pub fn as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{role}@{host}")
}
