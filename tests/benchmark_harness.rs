//! Someone reruns the benchmark: `lifecourse bench` on a new database prints every row with its
//! raw baseline and ratio, appends the table to the file it is given, writes nothing else
//! outside its database, and refuses a database that already holds events. Tiny sizes; no
//! figure is judged (timings belong to BENCHMARKS.md, not to a test).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::TestStore;
use sqlx::Connection;

/// The sizes of a run that takes seconds.
const TINY: [&str; 14] = [
    "--children",
    "3",
    "--writer-children",
    "4",
    "--commands",
    "8",
    "--writers",
    "2",
    "--samples",
    "3",
    "--long-child-events",
    "10",
    "--seed",
    "7",
];

/// Every row a run reports (the operation column starts with these), and whether it has a raw
/// baseline.
const ROWS: [(&str, bool); 9] = [
    ("bulk import of the demo cohort (3 children", true),
    (
        "record a 1-event command on a child of ~20 entries, 1 writer",
        true,
    ),
    (
        "record a 1-event command on a child of ~20 entries, 2 writers",
        true,
    ),
    (
        "record a 1-event command, 1 writer, with seals and sealed fields",
        true,
    ),
    ("load a child of 10 entries", true),
    ("rebuild all projections", true),
    ("verify every seal", true),
    ("peak resident memory of the rebuild", false),
    ("gaps worklist of one centre", true),
];

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The tables of the store's database (not its schema's bookkeeping).
async fn tables(store: &TestStore) -> BTreeSet<String> {
    if store.url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&store.url).await.unwrap();
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .collect()
    } else {
        let mut conn = sqlx::PgConnection::connect(&store.url).await.unwrap();
        sqlx::query_scalar::<_, String>(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .collect()
    }
}

/// The first number in a cell ("1,234 commits/s (…)", "p50 0.42 / p99 0.90 ms", "57%").
fn first_number(cell: &str) -> Option<f64> {
    let start = cell.find(|c: char| c.is_ascii_digit())?;
    let digits: String = cell[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

async fn reports_every_row_and_writes_only_its_database(store: TestStore) {
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("BENCHMARKS.md");
    std::fs::write(&report, "# Benchmarks\n").unwrap();
    let db_dir = store
        .url
        .strip_prefix("sqlite://")
        .map(|p| Path::new(p).parent().unwrap().to_path_buf());
    let tables_before = tables(&store).await;

    let mut args = vec!["bench"];
    args.extend(TINY);
    let append = report.display().to_string();
    args.extend(["--append", &append]);
    let output = common::cli::command(&store.url, &args)
        .current_dir(work.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("bench [") && stderr.contains("rebuilding all projections"),
        "progress goes to standard error: {stderr}"
    );

    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| operation") && !l.contains("---"))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    assert_eq!(lines.len(), ROWS.len(), "one line per row:\n{stdout}");
    for (prefix, has_baseline) in ROWS {
        let row = lines
            .iter()
            .find(|cells| cells[0].starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix:?} in\n{stdout}"));
        assert_eq!(
            row.len(),
            5,
            "operation, engine, baseline, ratio, target: {row:?}"
        );
        let engine = first_number(row[1]).unwrap_or_else(|| panic!("no figure in {row:?}"));
        assert!(engine > 0.0, "{row:?}");
        if has_baseline {
            let baseline = first_number(row[2]).unwrap_or_else(|| panic!("no baseline: {row:?}"));
            assert!(baseline > 0.0, "{row:?}");
            assert!(row[3].ends_with('%'), "a ratio: {row:?}");
            let ratio = first_number(row[3]).unwrap();
            assert!(ratio > 0.0, "{row:?}");
        } else {
            assert_eq!((row[2], row[3]), ("—", "—"), "{row:?}");
        }
        assert!(!row[4].is_empty(), "a target: {row:?}");
    }

    // The table went to the file given, after what it held, with the run's conditions.
    let appended = std::fs::read_to_string(&report).unwrap();
    assert!(appended.starts_with("# Benchmarks\n"));
    assert!(appended.contains("cores"), "{appended}");
    assert!(
        appended.contains("Command: `lifecourse bench --children 3"),
        "{appended}"
    );
    for (prefix, _) in ROWS {
        assert!(appended.contains(prefix), "{prefix:?} in {appended}");
    }

    // Nothing else was written: the working directory holds the report only, the database's
    // directory the database only, and the database no table that was not there before.
    assert_eq!(
        files_in(work.path()),
        BTreeSet::from(["BENCHMARKS.md".into()])
    );
    if let Some(dir) = db_dir {
        let allowed: BTreeSet<String> = ["lifecourse.db", "lifecourse.db-wal", "lifecourse.db-shm"]
            .into_iter()
            .map(String::from)
            .collect();
        let found = files_in(&dir);
        assert!(found.is_subset(&allowed), "{found:?}");
    }
    let after = tables(&store).await;
    assert_eq!(
        after, tables_before,
        "the raw table and scratch tables are gone"
    );

    // A second run would measure on a database that is not new: refused, nothing appended.
    let output = common::cli::command(&store.url, &args)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs a new, empty database"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&report).unwrap(), appended);
}

on_both_stores!(reports_every_row_and_writes_only_its_database);
