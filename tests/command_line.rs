//! A member of staff at the command line: records commands from files and standard input, reads a
//! child's history, runs the demo; bad input gets a clear message, the documented exit code, and
//! writes nothing.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use lifecourse::Store;

/// A scratch directory with its own SQLite store.
struct Workspace {
    _dir: tempfile::TempDir,
    url: String,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("lifecourse.db").display());
        Self { _dir: dir, url }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_with_url(&self.url, args, stdin)
    }

    fn record(&self, json: &str) -> Output {
        self.run(&["record"], Some(json))
    }

    /// Every projection row, as (table, child, applied, last sequence, view).
    fn projections(&self) -> Vec<(String, String, u64, u64, serde_json::Value)> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = Store::open(&self.url).await.unwrap();
            let mut rows = Vec::new();
            for p in lifecourse::runner::Projection::ALL {
                for r in store.view_rows(p.table(), None).await.unwrap() {
                    let view = serde_json::from_str(&r.view).unwrap();
                    rows.push((
                        p.table().to_string(),
                        r.child_id.to_string(),
                        r.applied_events,
                        r.last_sequence,
                        view,
                    ));
                }
            }
            store.close().await;
            rows
        })
    }

    fn entries(&self) -> u64 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = Store::open(&self.url).await.unwrap();
            let n = store.stats().await.unwrap().events;
            store.close().await;
            n
        })
    }
}

fn run_with_url(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("LIFECOURSE_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the lifecourse binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// The JSON examples of README.md's "Recording a command" section, in order.
fn readme_examples() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("## Recording a command")
        .expect("README has the section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    section
        .split("```json\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_string())
        .collect()
}

const LEA: &str = "40df065d-b2e4-574c-8562-b5eff7796a2a";

#[test]
fn the_readme_examples_record_a_childs_first_weeks() {
    let ws = Workspace::new();
    let examples = readme_examples();
    assert_eq!(examples.len(), 7, "README examples");
    for (n, example) in examples.iter().enumerate() {
        let out = ws.record(example);
        assert_ok(&out);
        assert!(
            stdout(&out).contains(&format!("recorded entry #{}", n + 1)),
            "{}",
            stdout(&out)
        );
    }
    let history = ws.run(&["history", LEA], None);
    assert_ok(&history);
    let text = stdout(&history);
    assert!(
        text.contains("Léa Tremblay, born 2017-05-10 (7 entries)"),
        "{text}"
    );
    assert!(text.contains("[corrected by #7]"), "{text}");
    assert!(text.contains("referral made: speech therapy"), "{text}");

    let json = ws.run(&["history", LEA, "--format", "json"], None);
    assert_ok(&json);
    let events: Vec<lifecourse_events::StoredEvent> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(events.len(), 7);
    assert_eq!(events[6].event_type, "EntryCorrected");
    assert_eq!(
        events[0].metadata.idempotency_key.as_str(),
        "intake-2024-0301-lea"
    );
}

#[test]
fn a_command_file_sent_twice_is_stored_once() {
    let ws = Workspace::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.json");
    std::fs::write(&path, &readme_examples()[0]).unwrap();
    let path = path.to_str().unwrap();
    assert_ok(&ws.run(&["record", path], None));
    let again = ws.run(&["record", path, "--format", "json"], None);
    assert_ok(&again);
    let result: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(result["replayed"], true);
    assert_eq!(result["child_id"], LEA);
    assert_eq!(ws.entries(), 1);
}

#[test]
fn bad_input_is_explained_and_writes_nothing() {
    let ws = Workspace::new();
    assert_ok(&ws.record(&readme_examples()[0]));
    let with = |command: &str| {
        format!(
            r#"{{"child_id": "{LEA}", "idempotency_key": "k", "recorded_by": {{"person": "sw1@centre-sud", "role": "social_worker", "centre": "centre-sud"}}, "command": {command}}}"#
        )
    };
    let cases: Vec<(String, i32, &str)> = vec![
        ("{not json".into(), 2, "the command is not valid: key must be a string at line 1 column 2"),
        ("".into(), 2, "EOF while parsing"),
        (with(r#"{"type": "open_fiel"}"#), 2, "unknown variant `open_fiel`, expected one of `open_file`"),
        (with(r#"{"type": "record_family_contact", "mode": "phone", "with": "child"}"#), 2, "missing field `occurred_on`"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-02-30", "mode": "phone", "with": "child"}"#), 2, "invalid date \"2024-02-30\": expected a calendar date written YYYY-MM-DD"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "fax", "with": "child"}"#), 2, "unknown variant `fax`"),
        (with(r#"{"type": "raise_rights_concern", "occurred_on": "2024-03-05", "concern_id": "0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10", "right": "education", "articles": [55]}"#), 2, "articles 1 to 54"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2099-01-01", "mode": "phone", "with": "child"}"#), 3, "is in the future"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2010-01-01", "mode": "phone", "with": "child"}"#), 3, "before the child's date of birth"),
        (with(r#"{"type": "hold_assessment_meeting", "occurred_on": "2024-03-20", "participants": [{"role": "parent"}], "child_took_part": false, "needs": [{"domain": "development", "level": "mild"}]}"#), 3, "needs an accepted request"),
        (r#"{"recorded_by": {"person": "sw1@centre-sud", "role": "social_worker", "centre": "centre-sud"}, "command": {"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}"#.into(), 2, "\"child_id\" is required for record_family_contact"),
        (r#"{"child_id": "lea", "recorded_by": {"person": "sw1@centre-sud", "role": "social_worker", "centre": "centre-sud"}, "command": {"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}"#.into(), 2, "UUID"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child", "colour": "blue"}"#), 2, "unknown field `colour`"),
    ];
    for (input, code, message) in cases {
        let out = ws.record(&input);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{input}\nstderr: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(message),
            "{input}\nshould say {message:?}, said: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
        assert_eq!(ws.entries(), 1, "nothing written for {input}");
    }
}

#[test]
fn a_key_reused_for_another_command_is_invalid_input() {
    let ws = Workspace::new();
    assert_ok(&ws.record(&readme_examples()[0]));
    let other = readme_examples()[1].replace("assess-2024-0304-lea", "intake-2024-0301-lea");
    let out = ws.record(&other);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("already used for a different command"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ws.entries(), 1);
}

#[test]
fn unknown_children_and_ids_are_reported() {
    let ws = Workspace::new();
    let out = ws.run(&["history", "0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("there is no file for child 0b7e4c1e"),
        "{}",
        stderr(&out)
    );
    let out = ws.run(&["history", "lea"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ChildId must be a UUID"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn database_urls_that_cannot_work_are_explained() {
    let out = run_with_url("mysql://localhost/x", &["migrate"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("must start with sqlite://"),
        "{}",
        stderr(&out)
    );
    let out = run_with_url(
        "postgres://postgres:secret@127.0.0.1:1/nowhere",
        &["migrate"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:1/nowhere"),
        "{err}"
    );
    assert!(!err.contains("secret"), "no password in messages: {err}");
}

#[test]
fn migrate_creates_the_schema_once() {
    let ws = Workspace::new();
    let first = ws.run(&["migrate"], None);
    assert_ok(&first);
    assert!(
        stdout(&first).contains("applied 2 migration(s)"),
        "{}",
        stdout(&first)
    );
    let second = ws.run(&["migrate"], None);
    assert!(
        stdout(&second).contains("applied 0 migration(s)"),
        "{}",
        stdout(&second)
    );
}

#[test]
fn help_lists_the_commands_and_exit_codes() {
    let out = run_with_url("sqlite://unused.db", &["--help"], None);
    assert_ok(&out);
    let help = stdout(&out);
    for word in [
        "migrate",
        "demo",
        "record",
        "history",
        "DATABASE_URL",
        "Exit codes",
    ] {
        assert!(help.contains(word), "--help mentions {word}: {help}");
    }
}

fn demo_then_history(url: &str) {
    let args = ["demo", "--children", "6", "--until", "2026-06-30"];
    let out = run_with_url(url, &args, None);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("seed 42, 6 children of centre-sud"), "{text}");
    assert!(text.contains("0 already present"), "{text}");
    let id = text
        .split("(lifecourse history ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the demo names a child to look at");
    let history = run_with_url(url, &["history", id], None);
    assert_ok(&history);
    assert!(stdout(&history).contains("ChildFileOpened"));

    let again = run_with_url(url, &args, None);
    assert_ok(&again);
    assert!(
        stdout(&again).contains(" 0 entries recorded"),
        "{}",
        stdout(&again)
    );

    // The read commands answer from the cohort.
    let plan = run_with_url(url, &["plan", id], None);
    assert_ok(&plan);
    assert!(
        stdout(&plan).contains(&format!("Child {id}")),
        "{}",
        stdout(&plan)
    );
    let trajectory = run_with_url(url, &["trajectory", id], None);
    assert_ok(&trajectory);
    for section in ["Episodes of care", "Timeline"] {
        assert!(
            stdout(&trajectory).contains(section),
            "{}",
            stdout(&trajectory)
        );
    }
    let gaps = run_with_url(
        url,
        &["gaps", "--as-of", "2026-06-30", "--format", "json"],
        None,
    );
    assert_ok(&gaps);
    let report: serde_json::Value = serde_json::from_slice(&gaps.stdout).unwrap();
    assert_eq!(report["as_of"], "2026-06-30");
    let listed = report["gaps"].as_array().unwrap();
    for gap in listed {
        assert!(gap["days_overdue"].as_i64().unwrap() > 0, "{gap}");
    }
    let csv = run_with_url(
        url,
        &["gaps", "--as-of", "2026-06-30", "--format", "csv"],
        None,
    );
    assert_ok(&csv);
    let csv = stdout(&csv);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("rule,child_id,centre,subject,due_on,days_overdue,source_sequence,source_event_type,source_occurred_on,source_event_id")
    );
    assert_eq!(lines.count(), listed.len(), "one CSV row per gap");
    let text = run_with_url(
        url,
        &["gaps", "--as-of", "2026-06-30", "--centre", "centre-sud"],
        None,
    );
    assert!(
        stdout(&text).starts_with("Follow-up gaps on 2026-06-30 for centre-sud"),
        "{}",
        stdout(&text)
    );
    let indicators = run_with_url(
        url,
        &[
            "indicators",
            "--from",
            "2025-07-01",
            "--to",
            "2026-06-30",
            "--format",
            "json",
        ],
        None,
    );
    assert_ok(&indicators);
    let report: serde_json::Value = serde_json::from_slice(&indicators.stdout).unwrap();
    assert!(
        report["request_to_assessment"]["cases"].as_u64().unwrap() > 0,
        "{report}"
    );
    let rebuild = run_with_url(url, &["rebuild"], None);
    assert_ok(&rebuild);
    assert!(
        stdout(&rebuild).contains("events/s"),
        "{}",
        stdout(&rebuild)
    );
    let bad = run_with_url(
        url,
        &["indicators", "--from", "2026-01-01", "--to", "2025-01-01"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("the period must start before it ends"));
}

#[test]
fn the_demo_makes_a_sqlite_file_that_history_reads_back() {
    let ws = Workspace::new();
    demo_then_history(&ws.url);
    assert!(ws.entries() > 6 * 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_works_on_postgresql_too() {
    let store = common::postgres().await;
    let url = store.url.clone();
    tokio::task::spawn_blocking(move || demo_then_history(&url))
        .await
        .unwrap();
    assert!(store.stats().await.unwrap().events > 6 * 5);
}

#[test]
fn a_killed_runner_process_resumes_and_matches_a_rebuild() {
    let ws = Workspace::new();
    assert_ok(&ws.run(&["demo", "--children", "40", "--until", "2026-06-30"], None));
    let mut killed = 0;
    for delay_ms in [5u64, 20, 60, 150] {
        let mut runner = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
            .args(["project", "--batch-size", "25"])
            .env("DATABASE_URL", &ws.url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if runner.try_wait().unwrap().is_none() {
            runner.kill().unwrap();
            killed += 1;
        }
        runner.wait().unwrap();
    }
    assert!(
        killed > 0,
        "the runner was killed at least once before it finished"
    );
    assert_ok(&ws.run(&["project"], None));
    let after_crashes = ws.projections();
    assert!(!after_crashes.is_empty());
    assert_ok(&ws.run(&["rebuild"], None));
    assert_eq!(
        ws.projections(),
        after_crashes,
        "the resumed read models equal a rebuild"
    );
}
