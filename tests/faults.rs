//! The fault suite: real `lifecourse` processes against real databases, killed with SIGKILL at
//! random points, under a PostgreSQL restart, on a full disk, restored into another cluster, and
//! started eight at a time on a new file. After each fault the store's promises are checked:
//! sequences without gaps, every acknowledged command present (acknowledged: its process exited
//! 0), no idempotency key stored twice, and read models equal to a rebuild.
//!
//! Counts are bounded and printed (`fault-suite:` lines on standard error, shown with
//! `--nocapture`); the random points come from a seed that is printed too
//! (`LIFECOURSE_FAULT_SEED` replays one). No assertion depends on timing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::cli;
use common::cluster::PrivateCluster;
use lifecourse::Store;
use lifecourse_events::{ChildId, IdempotencyKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SW1: &str = "sw1@centre-sud";

fn rng(test: &str) -> ChaCha8Rng {
    let seed = std::env::var("LIFECOURSE_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("fault-suite: {test}: seed {seed} (LIFECOURSE_FAULT_SEED={seed} replays it)");
    ChaCha8Rng::seed_from_u64(seed)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("lifecourse.db").display())
}

fn child_of_key(key: &str) -> ChildId {
    ChildId::derived_from_key(&IdempotencyKey::parse(key).unwrap())
}

/// Opens the README team's first file on `url`; returns the child.
fn team_and_file(url: &str) -> ChildId {
    cli::add_team(url);
    let out = cli::record(url, SW1, &cli::open_file_json("fault-open"));
    assert_eq!(cli::code(&out), Some(0), "{}", cli::stderr(&out));
    child_of_key("fault-open")
}

/// Runs `lifecourse record` with `json`, killing it after `delay` if it is still running.
/// Returns the exit code (`None`: killed).
fn record_killed_after(url: &str, json: &str, delay: Duration) -> Option<i32> {
    let mut child = cli::spawn_record(url, SW1, json);
    let deadline = Instant::now() + delay;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait().unwrap().code();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Starts `args`, kills it after `delay` (SIGKILL) unless it ended; true when it was killed.
fn run_killed_after(url: &str, args: &[&str], delay: Duration) -> bool {
    let mut child = cli::command(url, args).spawn().unwrap();
    let deadline = Instant::now() + delay;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "lifecourse {args:?} failed on its own: {status}"
            );
            return false;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let status = child.wait().unwrap();
            return status.code().is_none();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// How long one run of `f` takes (to spread kill points over a process's life).
fn time_of(f: impl FnOnce() -> Output) -> Duration {
    let started = Instant::now();
    let out = f();
    assert!(out.status.success(), "{}", cli::stderr(&out));
    started.elapsed()
}

/// The store's promises for the files of `children`: sequences 1..=n, no idempotency key twice,
/// every key of `acknowledged` present. Returns the keys stored.
async fn check_invariants(
    store: &Store,
    children: &[ChildId],
    acknowledged: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for child in children {
        let mut in_file = BTreeSet::new();
        let history = store.history(*child).await.unwrap();
        let sequences: Vec<u64> = history.iter().map(|e| e.sequence).collect();
        assert_eq!(
            sequences,
            (1..=history.len() as u64).collect::<Vec<_>>(),
            "gapless sequences for {child}"
        );
        for event in &history {
            let key = event.metadata.idempotency_key.as_str().to_string();
            assert!(
                in_file.insert(key.clone()),
                "key {key} stored twice in {child}"
            );
            keys.insert(key);
        }
    }
    let lost: Vec<&String> = acknowledged.difference(&keys).collect();
    assert!(lost.is_empty(), "acknowledged commands lost: {lost:?}");
    keys
}

type Views = Vec<(String, String, u64, u64, String)>;

/// Every row of every read model, with its counters.
async fn views(store: &Store) -> Views {
    let mut rows = Vec::new();
    for p in lifecourse::runner::Projection::ALL {
        for r in store.view_rows(p.table(), None).await.unwrap() {
            assert_eq!(
                r.applied_events, r.last_sequence,
                "{p} row of {} applied each event once",
                r.child_id
            );
            rows.push((
                p.name().to_string(),
                r.child_id.to_string(),
                r.applied_events,
                r.last_sequence,
                r.view,
            ));
        }
    }
    rows
}

/// `project`, then the read models must hold every child's every event and equal what
/// `rebuild` makes from scratch. Returns `(events, children)` the rebuild read.
fn assert_models_equal_rebuild(url: &str, expected_children: &[ChildId]) -> (u64, u64) {
    cli::ok(url, &["project"]);
    let rt = runtime();
    let (projected, lengths) = rt.block_on(async {
        let store = Store::connect(url).await.unwrap();
        let mut lengths = BTreeMap::new();
        for c in expected_children {
            lengths.insert(c.to_string(), store.history(*c).await.unwrap().len() as u64);
        }
        let v = views(&store).await;
        store.close().await;
        (v, lengths)
    });
    for (table, child, _, last, _) in &projected {
        assert_eq!(
            Some(last),
            lengths.get(child),
            "{table} row of {child} is current"
        );
    }
    for p in lifecourse::runner::Projection::ALL {
        let n = projected.iter().filter(|r| r.0 == p.name()).count();
        assert_eq!(n, expected_children.len(), "{p} has a row per child");
    }
    let out = cli::ok(url, &["rebuild"]);
    let text = cli::stdout(&out);
    let rebuilt = rt.block_on(async {
        let store = Store::connect(url).await.unwrap();
        let v = views(&store).await;
        store.close().await;
        v
    });
    assert_eq!(
        projected, rebuilt,
        "incremental read models equal a rebuild"
    );
    // "rebuilt ... from N events of M children in ..."
    let numbers: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn record_killed_at_random_points_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let child = team_and_file(&url);
    let mut rng = rng("record kills");
    let typical =
        time_of(|| cli::record(&url, SW1, &cli::contact_json(&child.to_string(), "warm-up")));
    let mut acknowledged: BTreeSet<String> = ["fault-open", "warm-up"].map(String::from).into();
    let (mut killed, mut completed) = (0, 0);
    let attempts = 20;
    for i in 0..attempts {
        let key = format!("contact-{i}");
        let delay = typical.mul_f64(rng.gen_range(0.2..2.0));
        match record_killed_after(&url, &cli::contact_json(&child.to_string(), &key), delay) {
            None => killed += 1,
            Some(0) => {
                completed += 1;
                acknowledged.insert(key);
            }
            Some(code) => panic!("record {key} exited {code} without being killed"),
        }
    }
    eprintln!(
        "fault-suite: record: {attempts} processes, {killed} killed with SIGKILL, {completed} completed"
    );
    let rt = runtime();
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        check_invariants(&store, &[child], &acknowledged).await;
        store.close().await;
    });
    // Every command sent again: stored exactly once, whether or not its first process got far.
    for i in 0..attempts {
        let key = format!("contact-{i}");
        let out = cli::record(&url, SW1, &cli::contact_json(&child.to_string(), &key));
        assert_eq!(cli::code(&out), Some(0), "{}", cli::stderr(&out));
        acknowledged.insert(key);
    }
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        let keys = check_invariants(&store, &[child], &acknowledged).await;
        assert_eq!(keys, acknowledged, "each command stored once");
        store.close().await;
    });
    let (events, children) = assert_models_equal_rebuild(&url, &[child]);
    assert_eq!((events, children), (attempts as u64 + 2, 1));
}

#[test]
fn project_follow_and_rebuild_killed_at_random_points_leave_whole_read_models() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let mut rng = rng("project/rebuild kills");
    let rt = runtime();
    let mut children = rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        let first = common::record_cohort(&store, 40).await;
        store.close().await;
        first
    });
    cli::ok(&url, &["project"]); // checkpoints exist: later runs apply batches
    let typical_project = Duration::from_millis(400);
    let (mut follow_kills, mut rebuild_kills) = (0, 0);
    let rounds = 5;
    for round in 0..rounds {
        // New work for the runner: files opened and contacts, without catching up.
        rt.block_on(async {
            let store = Store::connect(&url).await.unwrap();
            for _ in 0..6 {
                let child = common::open_child(&store).await;
                for n in 0..3 {
                    let contact = lifecourse::fixtures::contact("2024-03-05");
                    store
                        .record(
                            common::calendar(),
                            lifecourse::fixtures::request(child, &format!("c{round}-{n}"), contact),
                        )
                        .await
                        .unwrap();
                }
                children.push(child);
            }
            store.close().await;
        });
        let delay = typical_project.mul_f64(rng.gen_range(0.0..1.5));
        if run_killed_after(
            &url,
            &[
                "project",
                "--follow",
                "--poll-ms",
                "50",
                "--batch-size",
                "5",
            ],
            delay,
        ) {
            follow_kills += 1;
        }
        let typical_rebuild = time_of(|| cli::run(&url, &["rebuild"]));
        let delay = typical_rebuild.mul_f64(rng.gen_range(0.3..1.0));
        if run_killed_after(&url, &["rebuild"], delay) {
            rebuild_kills += 1;
        }
    }
    let leftovers = scratch_tables(&url);
    eprintln!(
        "fault-suite: project --follow: {rounds} runs, {follow_kills} killed with SIGKILL; \
         rebuild: {rounds} runs, {rebuild_kills} killed, {} scratch table(s) left behind",
        leftovers.len()
    );
    // `project --follow` never ends by itself: every run was killed.
    assert_eq!(follow_kills, rounds);
    let (events, n) = assert_models_equal_rebuild(&url, &children);
    assert_eq!(n, children.len() as u64);
    let expected_events: u64 = rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        store.stats().await.unwrap().events
    });
    assert_eq!(events, expected_events);
    assert_eq!(
        scratch_tables(&url),
        Vec::<String>::new(),
        "no scratch table survives"
    );
}

/// The tables of rebuilds that did not swap in.
fn scratch_tables(url: &str) -> Vec<String> {
    runtime().block_on(async {
        let store = Store::connect(url).await.unwrap();
        let Store::Sqlite(s) = &store else {
            unreachable!()
        };
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_rebuild\\_%' ESCAPE '\\'",
        )
        .fetch_all(s.pool())
        .await
        .unwrap();
        store.close().await;
        names
    })
}

#[test]
fn eight_processes_start_on_a_new_file_at_once() {
    let rounds = 3;
    let mut runs = 0;
    for _ in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(dir.path());
        let processes: Vec<_> = (0..8)
            .map(|_| cli::command(&url, &["staff", "list"]).spawn().unwrap())
            .collect();
        for p in processes {
            let out = p.wait_with_output().unwrap();
            runs += 1;
            assert_eq!(
                cli::code(&out),
                Some(0),
                "a concurrent first start failed: {}",
                cli::stderr(&out)
            );
            assert!(cli::stdout(&out).contains("0 member(s) of staff"));
        }
        let applied = runtime().block_on(async {
            let store = Store::connect(&url).await.unwrap();
            let v = store.schema_version().await.unwrap();
            store.close().await;
            v
        });
        assert!(applied.is_current(), "{applied:?}");
    }
    eprintln!(
        "fault-suite: concurrent first starts: {rounds} new files, {runs} processes, all exited 0"
    );
}

#[test]
fn postgres_restarted_under_a_write_loop_keeps_every_acknowledged_command() {
    let cluster = PrivateCluster::start();
    cluster.create_database("lifecourse");
    let url = cluster.url("lifecourse");
    cli::ok(&url, &["migrate"]);
    let child = team_and_file(&url);
    let mut rng = rng("postgres restarts");
    let writes = 30;
    let restart_at: BTreeSet<usize> = [rng.gen_range(3..12), rng.gen_range(15..27)].into();
    let mut acknowledged: BTreeSet<String> = ["fault-open".to_string()].into();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut restarts = 0;
    std::thread::scope(|scope| {
        let mut restarter: Option<std::thread::ScopedJoinHandle<'_, ()>> = None;
        for i in 0..writes {
            if restart_at.contains(&i) {
                if let Some(r) = restarter.take() {
                    r.join().unwrap();
                }
                let delay = Duration::from_millis(rng.gen_range(0..150));
                let cluster = &cluster;
                restarter = Some(scope.spawn(move || {
                    std::thread::sleep(delay);
                    cluster.restart();
                }));
                restarts += 1;
            }
            let key = format!("pg-contact-{i}");
            let out = cli::record(&url, SW1, &cli::contact_json(&child.to_string(), &key));
            let code = cli::code(&out).expect("not killed");
            assert!(
                matches!(code, 0 | 1 | 4),
                "write {key} during a restart exited {code} (only 0, 1 or 4 are clean): {}",
                cli::stderr(&out)
            );
            if code == 1 {
                // Log lines (warnings) may come first; the failure itself is one `error:` line.
                let stderr = cli::stderr(&out);
                assert!(
                    stderr.lines().any(|l| l.starts_with("error: "))
                        && !stderr.contains("panicked"),
                    "{stderr}"
                );
                if !stderr.starts_with("error: ") {
                    eprintln!(
                        "fault-suite: postgres restart: a failed write also logged: {stderr}"
                    );
                }
            }
            *codes.entry(code).or_default() += 1;
            if code == 0 {
                acknowledged.insert(key);
            }
        }
        if let Some(r) = restarter {
            r.join().unwrap();
        }
    });
    eprintln!(
        "fault-suite: postgres restart: {writes} record processes, {restarts} restarts (pg_ctl restart -m fast), exit codes {codes:?}"
    );
    let rt = runtime();
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        check_invariants(&store, &[child], &acknowledged).await;
        store.close().await;
    });
    for i in 0..writes {
        let key = format!("pg-contact-{i}");
        let out = cli::record(&url, SW1, &cli::contact_json(&child.to_string(), &key));
        assert_eq!(cli::code(&out), Some(0), "{}", cli::stderr(&out));
        acknowledged.insert(key);
    }
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        let keys = check_invariants(&store, &[child], &acknowledged).await;
        assert_eq!(keys, acknowledged, "each command stored once");
        store.close().await;
    });
    let (events, children) = assert_models_equal_rebuild(&url, &[child]);
    assert_eq!((events, children), (writes as u64 + 1, 1));
}

#[test]
fn a_backup_restored_into_another_cluster_keeps_the_read_models_following() {
    let a = PrivateCluster::start();
    a.create_database("lifecourse");
    let url_a = a.url("lifecourse");
    cli::ok(&url_a, &["migrate"]);
    let rt = runtime();
    // Cluster A's transaction ids run well ahead of a new cluster's, as a server in use would.
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url_a).await.unwrap();
        for _ in 0..3000 {
            sqlx::query("SELECT pg_current_xact_id()")
                .execute(&mut conn)
                .await
                .unwrap();
        }
    });
    let old_children = rt.block_on(async {
        let store = Store::connect(&url_a).await.unwrap();
        let mut children = Vec::new();
        for _ in 0..3 {
            let child = common::open_child(&store).await;
            for n in 0..2 {
                let contact = lifecourse::fixtures::contact("2024-03-05");
                let request = lifecourse::fixtures::request(child, &format!("a-{n}"), contact);
                store.record(common::calendar(), request).await.unwrap();
            }
            children.push(child);
        }
        store.close().await;
        children
    });
    cli::ok(&url_a, &["project"]);
    let dump = tempfile::tempdir().unwrap();
    let file = dump.path().join("lifecourse.dump");
    a.dump("lifecourse", &file);
    drop(a); // the old server is gone

    let b = PrivateCluster::start();
    b.create_database("lifecourse");
    b.restore("lifecourse", &file);
    let url_b = b.url("lifecourse");
    let mut children = old_children.clone();
    rt.block_on(async {
        let store = Store::connect(&url_b).await.unwrap();
        for (n, child) in old_children.iter().enumerate() {
            let contact = lifecourse::fixtures::contact("2024-03-06");
            let request = lifecourse::fixtures::request(*child, &format!("b-{n}"), contact);
            store.record(common::calendar(), request).await.unwrap();
        }
        for _ in 0..2 {
            let child = common::open_child(&store).await;
            let contact = lifecourse::fixtures::contact("2024-03-05");
            let request = lifecourse::fixtures::request(child, "b-new", contact);
            store.record(common::calendar(), request).await.unwrap();
            children.push(child);
        }
        store.close().await;
    });
    // A: 3 files of 3 entries. B: one more entry in each, and 2 new files of 2 entries.
    let (events, n) = assert_models_equal_rebuild(&url_b, &children);
    assert_eq!((events, n), (16, 5), "rebuild reads every event");
    assert_eq!(b.psql("lifecourse", "SELECT count(*) FROM store_eras"), "2");
    // And the runner keeps following on B.
    rt.block_on(async {
        let store = Store::connect(&url_b).await.unwrap();
        let contact = lifecourse::fixtures::contact("2024-03-07");
        let request = lifecourse::fixtures::request(children[0], "b-later", contact);
        store.record(common::calendar(), request).await.unwrap();
        store.close().await;
    });
    let (events, n) = assert_models_equal_rebuild(&url_b, &children);
    assert_eq!((events, n), (17, 5));
    // A write transaction left open in another database of cluster B: what is committed meanwhile
    // still reaches the read models (rows of the new era beyond the horizon).
    b.create_database("elsewhere");
    rt.block_on(async {
        use sqlx::Connection;
        let mut elsewhere = sqlx::PgConnection::connect(&b.url("elsewhere"))
            .await
            .unwrap();
        sqlx::query("BEGIN").execute(&mut elsewhere).await.unwrap();
        sqlx::query("SELECT pg_current_xact_id()")
            .execute(&mut elsewhere)
            .await
            .unwrap();
        let store = Store::connect(&url_b).await.unwrap();
        let contact = lifecourse::fixtures::contact("2024-03-08");
        let request = lifecourse::fixtures::request(children[4], "b-held", contact);
        store.record(common::calendar(), request).await.unwrap();
        let project = tokio::task::spawn_blocking({
            let url = url_b.clone();
            move || cli::ok(&url, &["project"])
        });
        project.await.unwrap();
        let row = store
            .view_row("proj_trajectory", children[4])
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.applied_events, row.last_sequence), (3, 3));
        sqlx::query("ROLLBACK")
            .execute(&mut elsewhere)
            .await
            .unwrap();
        store.close().await;
    });
    let (events, n) = assert_models_equal_rebuild(&url_b, &children);
    assert_eq!((events, n), (18, 5));
    eprintln!("fault-suite: backup/restore: 1 pg_dump from cluster A, 1 pg_restore into cluster B, 18 events followed (one behind a transaction held open)");
}

/// A small filesystem for the disk-full test: a 2 MB tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs is not permitted here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_disk_fails_writes_cleanly_and_loses_nothing() {
    let disk = match SmallDisk::mount() {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!("fault-suite: disk full: skipped: {reason}");
            return;
        }
    };
    let url = sqlite_url(disk.dir.path());
    let child = team_and_file(&url);
    let mut acknowledged: BTreeSet<String> = ["fault-open".to_string()].into();
    // Fill what is left of the disk but a little, freed again at once: enough for a process to
    // open the database (its -shm), not for the log to grow for long.
    let reserve = disk.dir.path().join("reserve");
    std::fs::write(&reserve, vec![0u8; 96 * 1024]).unwrap();
    let filler = disk.dir.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).and_then(|_| f.sync_all()).is_ok() {}
    }
    std::fs::remove_file(&reserve).unwrap();
    let (mut failed, mut stored) = (0, 0);
    let mut message = String::new();
    let mut failed_key = String::new();
    // Commands stored whose catch-up then failed: acknowledged (exit 0), with a warning.
    let mut views_behind = Vec::new();
    // Each write carries a long note: the reserve freed above holds a few of them at most, so
    // the disk fills whatever room SQLite's log files had already taken.
    for i in 0..200 {
        let key = format!("full-{i}");
        let out = cli::record(&url, SW1, &cli::long_contact_json(&child.to_string(), &key));
        match cli::code(&out) {
            Some(0) => {
                stored += 1;
                let warning = cli::stderr(&out);
                if warning.contains("warning: the command is stored") {
                    assert_stored_views_behind(&out, &key);
                    assert!(
                        warning.contains("disk is full")
                            || warning.contains("is the disk full?")
                            || warning.contains("No space left on device"),
                        "{warning}"
                    );
                    views_behind.push(key.clone());
                }
                acknowledged.insert(key);
            }
            Some(1) => {
                failed += 1;
                message = cli::stderr(&out);
                failed_key = key;
                break;
            }
            other => panic!(
                "a write on a full disk exited {other:?}: {}",
                cli::stderr(&out)
            ),
        }
    }
    eprintln!(
        "fault-suite: disk full: {stored} write(s) fitted ({} of them stored with the read models \
         left behind), then {failed} failed with: {}",
        views_behind.len(),
        message.trim()
    );
    assert_eq!(failed, 1, "a write on a full disk fails");
    assert!(
        message.contains("disk is full")
            || message.contains("is the disk full?")
            || message.contains("No space left on device"),
        "{message}"
    );
    std::fs::remove_file(&filler).unwrap();
    // The failed command sent again, then new ones: each stored once.
    let again = [failed_key]
        .into_iter()
        .chain((0..3).map(|i| format!("after-{i}")));
    for key in again {
        let out = cli::record(&url, SW1, &cli::contact_json(&child.to_string(), &key));
        assert_eq!(cli::code(&out), Some(0), "{}", cli::stderr(&out));
        acknowledged.insert(key);
    }
    runtime().block_on(async {
        let store = Store::connect(&url).await.unwrap();
        check_invariants(&store, &[child], &acknowledged).await;
        assert_each_stored_once(&store, child, &views_behind).await;
        store.close().await;
    });
    assert_models_equal_rebuild(&url, &[child]);
}

/// `record` stored its command (exit 0, the entry on standard output) and said on standard
/// error that the read models are behind, naming the entry and the key, and how they catch up.
fn assert_stored_views_behind(out: &Output, key: &str) {
    assert_eq!(cli::code(out), Some(0), "{}", cli::stderr(out));
    let stdout = cli::stdout(out);
    let sequence = stdout
        .strip_prefix("recorded entry #")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the recorded entry on standard output: {stdout}"));
    let warning = cli::stderr(out);
    for expected in [
        format!("warning: the command is stored (entry #{sequence} in child "),
        format!("key {key}; sending it again stores nothing new"),
        "The read models could not be brought up to date after it".to_string(),
        "at the next command recorded here, `lifecourse project` or `lifecourse serve`".to_string(),
    ] {
        assert!(warning.contains(&expected), "{expected:?} in: {warning}");
    }
    assert!(
        !warning.lines().any(|line| line.starts_with("error:")),
        "not reported as a failure: {warning}"
    );
}

/// Each of `keys` is stored in `child`'s file exactly once.
async fn assert_each_stored_once(store: &Store, child: ChildId, keys: &[String]) {
    let history = store.history(child).await.unwrap();
    for key in keys {
        let n = history
            .iter()
            .filter(|e| e.metadata.idempotency_key.as_str() == key)
            .count();
        assert_eq!(n, 1, "{key} stored once");
    }
}

#[test]
fn a_catch_up_that_fails_after_a_stored_command_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let child = team_and_file(&url);
    let rt = runtime();
    // The follow-up read model refuses every write, as a disk with no room left for it would.
    let failing_views = "CREATE TRIGGER views_cannot_follow BEFORE UPDATE ON proj_follow_up
        BEGIN SELECT RAISE(ABORT, 'the follow-up view cannot be written'); END";
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        let Store::Sqlite(s) = &store else {
            unreachable!()
        };
        sqlx::query(failing_views).execute(s.pool()).await.unwrap();
        store.close().await;
    });
    let out = cli::record(
        &url,
        SW1,
        &cli::contact_json(&child.to_string(), "behind-1"),
    );
    assert_stored_views_behind(&out, "behind-1");
    assert!(
        cli::stderr(&out).contains("the follow-up view cannot be written"),
        "{}",
        cli::stderr(&out)
    );
    // The same command sent again is answered from the store; nothing new is stored.
    let again = cli::record(
        &url,
        SW1,
        &cli::contact_json(&child.to_string(), "behind-1"),
    );
    assert_eq!(cli::code(&again), Some(0), "{}", cli::stderr(&again));
    assert!(cli::stdout(&again).contains("already recorded"));
    // The read models are behind, and say so.
    let gaps = cli::ok(&url, &["gaps"]);
    assert!(
        cli::stdout(&gaps).contains("1 committed event(s) not yet included"),
        "{}",
        cli::stdout(&gaps)
    );
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        let Store::Sqlite(s) = &store else {
            unreachable!()
        };
        sqlx::query("DROP TRIGGER views_cannot_follow")
            .execute(s.pool())
            .await
            .unwrap();
        let acknowledged = ["fault-open".to_string(), "behind-1".to_string()].into();
        check_invariants(&store, &[child], &acknowledged).await;
        assert_each_stored_once(&store, child, &["behind-1".to_string()]).await;
        store.close().await;
    });
    // The next catch-up brings them up to date.
    assert_models_equal_rebuild(&url, &[child]);
}
