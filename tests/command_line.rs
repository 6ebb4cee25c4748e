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

    /// A workspace whose staff register holds the README's team (sw1 and md1 of centre-sud).
    fn with_team() -> Self {
        let ws = Self::new();
        for args in readme_staff() {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_ok(&ws.run(&args, None));
        }
        ws
    }

    /// Records as sw1@centre-sud.
    fn record(&self, json: &str) -> Output {
        self.record_as("sw1@centre-sud", json)
    }

    fn record_as(&self, person: &str, json: &str) -> Output {
        self.run(&["--as", person, "record"], Some(json))
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
    // A command refused before it reads its input (no --as, say) closes the pipe: what it
    // answered is in its exit code and output, not in this write.
    let _ = input.write_all(stdin.unwrap_or("").as_bytes());
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

fn readme_recording_section() -> &'static str {
    let readme = include_str!("../README.md");
    let start = readme
        .find("## Recording a command")
        .expect("README has the section");
    let section = &readme[start..];
    &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)]
}

/// The JSON examples of README.md's "Recording a command" section, in order.
fn readme_examples() -> Vec<String> {
    readme_examples_as()
        .into_iter()
        .map(|(_, json)| json)
        .collect()
}

/// Each JSON example with the person the README records it as (the last `--as PERSON` before it).
fn readme_examples_as() -> Vec<(String, String)> {
    let blocks: Vec<&str> = readme_recording_section().split("```json\n").collect();
    let mut person = None;
    let mut out = Vec::new();
    for (before, block) in blocks.iter().zip(blocks.iter().skip(1)) {
        if let Some(at) = before.rfind("--as ") {
            let rest = &before[at + 5..];
            person = Some(rest[..rest.find(['`', ' ']).unwrap()].to_string());
        }
        let json = block.split("```").next().unwrap().to_string();
        out.push((person.clone().expect("an --as before each example"), json));
    }
    out
}

/// The README's `lifecourse staff add` lines, as arguments (double quotes group words).
fn readme_staff() -> Vec<Vec<String>> {
    readme_recording_section()
        .lines()
        .filter_map(|l| l.strip_prefix("lifecourse staff add "))
        .map(|rest| {
            let mut args = vec!["staff".to_string(), "add".to_string()];
            for (i, part) in rest.split('"').enumerate() {
                if i % 2 == 1 {
                    args.push(part.to_string());
                } else {
                    args.extend(part.split_whitespace().map(String::from));
                }
            }
            args
        })
        .collect()
}

const LEA: &str = "40df065d-b2e4-574c-8562-b5eff7796a2a";

#[test]
fn the_readme_examples_record_a_childs_first_weeks() {
    let ws = Workspace::with_team();
    let examples = readme_examples_as();
    assert_eq!(examples.len(), 7, "README examples");
    for (n, (person, example)) in examples.iter().enumerate() {
        let out = ws.record_as(person, example);
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
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("[corrected by #7]"), "{text}");
    assert!(words.contains("referral made: speech therapy"), "{text}");

    let json = ws.run(&["history", LEA, "--format", "json"], None);
    assert_ok(&json);
    let events: Vec<lifecourse_events::StoredEvent> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(events.len(), 7);
    assert_eq!(events[6].event_type, "EntryCorrected");
    assert_eq!(
        events[0].metadata.idempotency_key.as_str(),
        "intake-2024-0301-lea"
    );
    // Who recorded each entry is the person acting, with the role the register gives them.
    let recorders: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            let r = &e.metadata.recorded_by;
            (r.person.as_str(), r.role.as_str(), r.centre.as_str())
        })
        .collect();
    assert_eq!(
        recorders,
        vec![
            ("sw1@centre-sud", "social_worker", "centre-sud"),
            ("sw1@centre-sud", "social_worker", "centre-sud"),
            ("md1@centre-sud", "doctor", "centre-sud"),
            ("md1@centre-sud", "doctor", "centre-sud"),
            ("sw1@centre-sud", "social_worker", "centre-sud"),
            ("sw1@centre-sud", "social_worker", "centre-sud"),
            ("sw1@centre-sud", "social_worker", "centre-sud"),
        ]
    );
}

#[test]
fn a_command_file_sent_twice_is_stored_once() {
    let ws = Workspace::with_team();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.json");
    std::fs::write(&path, &readme_examples()[0]).unwrap();
    let path = path.to_str().unwrap();
    assert_ok(&ws.run(&["--as", "sw1@centre-sud", "record", path], None));
    let again = ws.run(
        &["record", path, "--format", "json", "--as", "sw1@centre-sud"],
        None,
    );
    assert_ok(&again);
    let result: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(result["replayed"], true);
    assert_eq!(result["child_id"], LEA);
    assert_eq!(ws.entries(), 1);
}

#[test]
fn bad_input_is_explained_and_writes_nothing() {
    let ws = Workspace::with_team();
    assert_ok(&ws.record(&readme_examples()[0]));
    let with = |command: &str| {
        format!(r#"{{"child_id": "{LEA}", "idempotency_key": "k", "command": {command}}}"#)
    };
    let cases: Vec<(String, i32, &str)> = vec![
        ("{not json".into(), 2, "the command is not valid: key must be a string at line 1 column 2"),
        ("".into(), 2, "EOF while parsing"),
        (with(r#"{"type": "open_fiel"}"#), 2, "unknown variant `open_fiel`, expected one of `open_file`"),
        (with(r#"{"type": "record_family_contact", "mode": "phone", "with": "child"}"#), 2, "missing field `occurred_on`"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-02-30", "mode": "phone", "with": "child"}"#), 2, "invalid date: expected a calendar date written YYYY-MM-DD"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "fax", "with": "child"}"#), 2, "unknown variant `fax`"),
        (with(r#"{"type": "raise_rights_concern", "occurred_on": "2024-03-05", "concern_id": "0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10", "right": "education", "articles": [55]}"#), 2, "articles 1 to 54"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2099-01-01", "mode": "phone", "with": "child"}"#), 3, "is in the future"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2010-01-01", "mode": "phone", "with": "child"}"#), 3, "before the child's date of birth"),
        (with(r#"{"type": "hold_assessment_meeting", "occurred_on": "2024-03-20", "participants": [{"role": "parent"}], "child_took_part": false, "needs": [{"domain": "development", "level": "mild"}]}"#), 3, "needs an accepted request"),
        (r#"{"command": {"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}"#.into(), 2, "\"child_id\" is required for record_family_contact"),
        (r#"{"child_id": "lea", "command": {"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}"#.into(), 2, "UUID"),
        (format!(r#"{{"child_id": "{LEA}", "idempotency_key": "k", "recorded_by": {{"person": "md1@centre-sud", "role": "doctor", "centre": "centre-sud"}}, "command": {{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}}}"#), 2, "\"recorded_by\" is not part of a command: who records is the person acting (`--as PERSON`"),
        (r#"{"child_id": "0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10", "command": {"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}"#.into(), 2, "there is no file for child 0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child", "colour": "blue"}"#), 2, "unknown field `colour`"),
        // Text holds no control characters but new lines and tabs, on both stores alike.
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child", "note": "a\u0000b"}"#), 2, "command.note contains a control character; text may hold letters"),
        (with(r#"{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child", "note": "\u001b[31mred"}"#), 2, "command.note contains a control character"),
        // Limits per field, per list and per command.
        (with(&format!(r#"{{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child", "note": "{}"}}"#, "x".repeat(10_001))), 2, "command.note is 10001 characters long; it may be at most 10000"),
        (with(&format!(r#"{{"type": "raise_rights_concern", "occurred_on": "2024-03-05", "concern_id": "0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10", "right": "education", "articles": [{}]}}"#, vec!["1"; 201].join(","))), 2, "command.articles lists 201 items; it may list at most 200"),
        (with(&format!(r#"{{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child", "note": "x", "pad": "{}"}}"#, "y".repeat(300_000))), 2, "bytes long; a command may be at most 262144 bytes"),
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
fn error_messages_do_not_repeat_what_was_typed() {
    let ws = Workspace::with_team();
    let opening = readme_examples()[0].replace("2017-05-10", "2017-13-45");
    let out = ws.record(&opening);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid date: expected a calendar date"));
    assert!(!stderr(&out).contains("2017-13-45"), "{}", stderr(&out));
    let misplaced = readme_examples()[1].replace(
        "\"lives_in_territory\": true",
        "\"lives_in_territory\": \"Marie Tremblay\"",
    );
    assert_ok(&ws.record(&readme_examples()[0]));
    let out = ws.record(&misplaced);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid type: string"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("Marie"), "{}", stderr(&out));
    assert_eq!(ws.entries(), 1);
}

#[test]
fn the_history_header_shows_the_opening_as_corrected() {
    let ws = Workspace::with_team();
    assert_ok(&ws.record(&readme_examples()[0]));
    let correction = format!(
        r#"{{"child_id": "{LEA}", "idempotency_key": "fix-name", "command": {{"type": "correct_entry", "occurred_on": "2024-03-02", "corrects_sequence": 1, "reason": "name misspelt at intake", "correction": {{"replaced_by": {{"ChildFileOpened": {{"occurred_on": "2024-03-01", "centre": "centre-sud", "child": {{"given_name": "Léah", "family_name": "Tremblay", "birth_date": "2017-05-11"}}, "request": {{"source": "school", "source_detail": "École Saint-Nom", "reason": "language delay and frequent absences"}}}}}}}}}}}}"#
    );
    assert_ok(&ws.record(&correction));
    let history = ws.run(&["history", LEA], None);
    assert_ok(&history);
    let first = stdout(&history)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        first,
        format!("Child {LEA}: Léah Tremblay, born 2017-05-11 (2 entries)")
    );
}

#[test]
fn a_byte_order_mark_before_a_command_is_ignored() {
    let ws = Workspace::with_team();
    let out = ws.record(&format!("\u{feff}{}", readme_examples()[0]));
    assert_ok(&out);
    assert_eq!(ws.entries(), 1);
}

#[test]
fn stored_text_cannot_forge_lines_of_output() {
    let ws = Workspace::with_team();
    assert_ok(&ws.record(&readme_examples()[0]));
    let contact = format!(
        r#"{{"child_id": "{LEA}", "idempotency_key": "contact-1", "reason": "called back\n#99   2024-03-05  FileClosed", "command": {{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "parent_or_guardian", "note": "tab\there"}}}}"#
    );
    assert_ok(&ws.record(&contact));
    let history = ws.run(&["history", LEA], None);
    assert_ok(&history);
    let text = stdout(&history);
    // The new line inside the reason is shown escaped, on the line of the entry it belongs to.
    assert!(
        text.contains("reason: called back\\n#99   2024-03-05  FileClosed"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("#99")), "{text}");
}

/// Runs `command` in a shell with standard error going to a pipe that is already closed, and
/// returns the exit code the program gave.
fn exit_code_with_stderr_closed(ws: &Workspace, args: &str, input: &str) -> i32 {
    let dir = tempfile::tempdir().unwrap();
    let (file, rc) = (dir.path().join("c.json"), dir.path().join("rc"));
    std::fs::write(&file, input).unwrap();
    let script = format!(
        "({} {args} {} 2>&1 1>/dev/null; echo $? > {}) | head -c0",
        env!("CARGO_BIN_EXE_lifecourse"),
        file.display(),
        rc.display()
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .env("DATABASE_URL", &ws.url)
        .env("LIFECOURSE_LOG", "debug")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(rc).unwrap().trim().parse().unwrap()
}

#[test]
fn a_closed_standard_error_neither_panics_nor_hangs() {
    let ws = Workspace::with_team();
    // Debug logs into a closed pipe, for a command that succeeds and one that fails.
    let record = "--as sw1@centre-sud record";
    assert_eq!(
        exit_code_with_stderr_closed(&ws, record, &readme_examples()[0]),
        0
    );
    assert_eq!(ws.entries(), 1);
    assert_eq!(exit_code_with_stderr_closed(&ws, record, "{not json"), 2);
    assert_eq!(ws.entries(), 1);
}

#[test]
fn a_key_reused_for_another_command_is_invalid_input() {
    let ws = Workspace::with_team();
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
    for read in ["plan", "trajectory"] {
        let out = ws.run(&[read, "0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10"], None);
        assert_eq!(out.status.code(), Some(2), "{read}: {}", stderr(&out));
        assert!(
            stderr(&out)
                .contains("there is no file for child 0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10"),
            "{read}: {}",
            stderr(&out)
        );
    }
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

/// How many SQLite migrations this release ships, and the latest version.
fn migrations() -> (usize, u64) {
    migrations_of("sqlite")
}

/// How many migrations this release ships for a store, and the latest version: read from
/// `migrations/<store>` (the stores' lists differ: the worklist's index of expectations, kept by
/// triggers of each store's kind, is PostgreSQL's 0008, 0010 and 0011 and SQLite's 0010).
fn migrations_of(store: &str) -> (usize, u64) {
    let versions: Vec<u64> = std::fs::read_dir(format!("migrations/{store}"))
        .unwrap()
        .filter_map(|f| {
            let name = f.unwrap().file_name().into_string().unwrap();
            name.split('_').next().and_then(|v| v.parse().ok())
        })
        .collect();
    (versions.len(), versions.into_iter().max().unwrap_or(0))
}

#[test]
fn migrate_creates_the_schema_once() {
    let ws = Workspace::new();
    let first = ws.run(&["migrate"], None);
    assert_ok(&first);
    assert!(
        stdout(&first).contains(&format!("applied {} migration(s)", migrations().0)),
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
    // Recorded by the demo's own synthetic staff.
    assert!(
        stdout(&history).contains(" by demo-sw1@centre-sud (social worker, centre-sud)"),
        "{}",
        stdout(&history)
    );

    // Run again with the default last date (fixed, not today): nothing new.
    let again = run_with_url(url, &["demo", "--children", "6"], None);
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
        stdout(&plan).contains(&format!("Action plan of child {id}")),
        "{}",
        stdout(&plan)
    );
    let trajectory = run_with_url(url, &["trajectory", id], None);
    assert_ok(&trajectory);
    for section in [
        "Periods of care",
        "Needs by domain across meetings",
        "Timeline",
    ] {
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
    // Six children followed for five years leave something overdue on the last day.
    assert!(!listed.is_empty(), "{report}");
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
        Some("rule,child_id,centre,subject,about,detail,due_on,days_overdue,source_sequence,source_event_type,source_occurred_on,source_event_id")
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
    // Next to a real team, whose sw1@centre-sud works for Centre-Sud only.
    let ws = Workspace::with_team();
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

/// Forgets the read models, as after restoring a backup of the events alone: the next runner
/// has everything to do.
fn forget_read_models(ws: &Workspace) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&ws.url).await.unwrap();
        for sql in [
            "DELETE FROM proj_action_plan",
            "DELETE FROM proj_trajectory",
            "DELETE FROM proj_follow_up",
            "UPDATE projection_checkpoints SET position = 0, config = ''",
        ] {
            sqlx::query(sql).execute(&mut db).await.unwrap();
        }
        db.close().await.unwrap();
    });
}

fn spawn_project(ws: &Workspace) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lifecourse"))
        .args(["project", "--batch-size", "25"])
        .env("DATABASE_URL", &ws.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_killed_runner_process_resumes_and_matches_a_rebuild() {
    let ws = Workspace::new();
    assert_ok(&ws.run(&["demo", "--children", "80", "--until", "2026-06-30"], None));
    let expected = ws.projections();
    assert!(expected.len() >= 3 * 80);
    // How long the whole job takes here, so that the kills land while it works.
    forget_read_models(&ws);
    let started = std::time::Instant::now();
    assert!(spawn_project(&ws).wait().unwrap().success());
    let whole = started.elapsed();
    assert_eq!(ws.projections(), expected);

    forget_read_models(&ws);
    let mut killed = 0;
    for fraction in [0.2, 0.4, 0.6] {
        let mut runner = spawn_project(&ws);
        std::thread::sleep(whole.mul_f64(fraction));
        if runner.try_wait().unwrap().is_none() {
            runner.kill().unwrap();
            killed += 1;
        }
        runner.wait().unwrap();
    }
    assert!(killed > 0, "the runner was killed before it finished");
    assert_ok(&ws.run(&["project"], None));
    assert_eq!(
        ws.projections(),
        expected,
        "the resumed read models equal the first ones"
    );
    assert_ok(&ws.run(&["rebuild"], None));
    assert_eq!(ws.projections(), expected, "and a rebuild");
}

/// Runs the binary with extra environment variables and a working directory.
fn run_in(url: &str, dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lifecourse"));
    command
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env_remove("LIFECOURSE_LOG")
        .env_remove("LIFECOURSE_AS");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the lifecourse binary runs")
}

fn json_of(o: &Output) -> serde_json::Value {
    assert_ok(o);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn who_records_comes_from_the_staff_register() {
    let ws = Workspace::with_team();
    let open = &readme_examples()[0];
    let refusals: Vec<(Output, i32, &str)> = vec![
        (
            ws.run(&["record"], Some(open)),
            2,
            "who is acting? Give --as PERSON (or set LIFECOURSE_AS)",
        ),
        (
            ws.record_as("nobody@centre-sud", open),
            2,
            "nobody@centre-sud is not in the staff register",
        ),
    ];
    for (out, code, message) in refusals {
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
    assert_ok(&ws.run(
        &[
            "staff",
            "add",
            "sw1@hochelaga",
            "--name",
            "Hélène Roy",
            "--role",
            "social_worker",
            "--centre",
            "hochelaga",
        ],
        None,
    ));
    let out = ws.record_as("sw1@hochelaga", open);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "sw1@hochelaga works for hochelaga and cannot record in a file of centre-sud"
        ),
        "{}",
        stderr(&out)
    );
    assert_ok(&ws.run(
        &[
            "staff",
            "add",
            "r1@centre-sud",
            "--name",
            "Rita Chen",
            "--role",
            "researcher",
            "--centre",
            "centre-sud",
        ],
        None,
    ));
    let out = ws.record_as("r1@centre-sud", open);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("registered as researcher, a role that does not record entries"),
        "{}",
        stderr(&out)
    );
    let out = ws.run(
        &[
            "staff",
            "add",
            "x@centre-sud",
            "--name",
            "X",
            "--role",
            "wizard",
            "--centre",
            "centre-sud",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown role \"wizard\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(ws.entries(), 0, "nothing recorded by the refused");

    assert_ok(&ws.run(&["staff", "disable", "sw1@centre-sud"], None));
    let out = ws.record(open);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sw1@centre-sud is disabled in the staff register"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ws.entries(), 0);

    // LIFECOURSE_AS names the person acting as --as does.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.json");
    std::fs::write(&path, open).unwrap();
    let out = run_in(
        &ws.url,
        dir.path(),
        &[("LIFECOURSE_AS", "md1@centre-sud")],
        &["record", path.to_str().unwrap()],
    );
    assert_ok(&out);
    let history = json_of(&ws.run(&["history", LEA, "--format", "json"], None));
    assert_eq!(
        history[0]["metadata"]["recorded_by.person"],
        "md1@centre-sud"
    );
    assert_eq!(history[0]["metadata"]["recorded_by.role"], "doctor");

    let list = json_of(&ws.run(&["staff", "list", "--format", "json"], None));
    let rows: Vec<(&str, &str, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person"].as_str().unwrap(),
                r["role"].as_str().unwrap(),
                r["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("md1@centre-sud", "doctor", true),
            ("r1@centre-sud", "researcher", true),
            ("sw1@centre-sud", "social_worker", false),
            ("sw1@hochelaga", "social_worker", true),
        ]
    );
}

#[test]
fn reads_write_nothing_and_say_how_current_they_are() {
    let ws = Workspace::with_team();
    for (person, json) in readme_examples_as().iter().take(2) {
        assert_ok(&ws.record_as(person, json));
    }
    // A CLI write on the embedded store catches the read models up before it returns.
    let plan = json_of(&ws.run(&["plan", LEA, "--format", "json"], None));
    assert_eq!(plan["freshness"]["behind"], 0);
    assert_eq!(plan["freshness"]["reflects"]["position"], 2);
    assert_eq!(plan["plan"]["status"], "active");

    // A third entry written behind the runner's back (the library, no catch-up).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open(&ws.url).await.unwrap();
        let child: lifecourse_events::ChildId = LEA.parse().unwrap();
        store
            .record(
                common::calendar(),
                lifecourse::fixtures::request(
                    child,
                    "contact",
                    lifecourse::fixtures::contact("2024-03-05"),
                ),
            )
            .await
            .unwrap();
        store.close().await;
    });
    let before = ws.projections();
    for args in [
        vec!["plan", LEA],
        vec!["trajectory", LEA],
        vec!["history", LEA],
        vec!["gaps", "--as-of", "2024-06-01"],
        vec!["indicators", "--from", "2024-01-01", "--to", "2024-12-31"],
    ] {
        let out = ws.run(&args, None);
        assert_ok(&out);
        if args[0] != "history" {
            let last = stdout(&out).trim_end().lines().last().unwrap().to_string();
            assert_eq!(
                last,
                "(reflects events to position 2; 1 committed event(s) not yet included: run `lifecourse project`)",
                "{args:?}"
            );
        }
    }
    assert_eq!(ws.projections(), before, "reads wrote nothing");
    let plan = json_of(&ws.run(&["plan", LEA, "--format", "json"], None));
    assert_eq!(plan["freshness"]["behind"], 1);
    assert_eq!(plan["freshness"]["reflects"]["position"], 2);

    assert_ok(&ws.run(&["project"], None));
    let plan = json_of(&ws.run(&["plan", LEA, "--format", "json"], None));
    assert_eq!(plan["freshness"]["behind"], 0);
    assert_eq!(plan["freshness"]["reflects"]["position"], 3);
    let text = stdout(&ws.run(&["gaps", "--as-of", "2024-06-01"], None));
    assert!(
        text.trim_end()
            .ends_with("(up to date: reflects every committed event, to position 3)"),
        "{text}"
    );
}

/// (rule, due_on, days_overdue) of each gap of a `gaps --format json` answer.
fn gap_lines(report: &serde_json::Value) -> Vec<(String, String, i64)> {
    report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["rule"].as_str().unwrap().to_string(),
                g["due_on"].as_str().unwrap().to_string(),
                g["days_overdue"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn thresholds_live_in_the_database_not_in_the_working_directory() {
    let ws = Workspace::with_team();
    // Opened 2024-03-01, accepted 2024-03-04: a first meeting is due 30 days after the acceptance
    // (2024-04-03), a family contact 60 days after it (2024-05-03).
    for (person, json) in readme_examples_as().iter().take(2) {
        assert_ok(&ws.record_as(person, json));
    }
    let gaps = ["gaps", "--as-of", "2024-04-20", "--format", "json"];
    // A lifecourse.toml in the working directory changes nothing any more.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lifecourse.toml"),
        "[follow_up]\nfamily_contact_days = 45\n",
    )
    .unwrap();
    let report = json_of(&run_in(&ws.url, dir.path(), &[], &gaps));
    assert_eq!(
        gap_lines(&report),
        vec![("first_meeting".to_string(), "2024-04-03".to_string(), 17)]
    );

    let set = ws.run(
        &["settings", "set", "follow_up.family_contact_days", "45"],
        None,
    );
    assert_ok(&set);
    assert!(
        stdout(&set).contains("follow_up.family_contact_days = 45"),
        "{}",
        stdout(&set)
    );
    // Every process now judges with 45 days: due 2024-03-04 + 45 = 2024-04-18.
    let report = json_of(&run_in(&ws.url, dir.path(), &[], &gaps));
    assert_eq!(
        gap_lines(&report),
        vec![
            ("first_meeting".to_string(), "2024-04-03".to_string(), 17),
            ("family_contact".to_string(), "2024-04-18".to_string(), 2),
        ]
    );
    let shown = json_of(&ws.run(&["settings", "show", "--format", "json"], None));
    let family = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "follow_up.family_contact_days")
        .unwrap();
    assert_eq!(family["value"], 45);
    assert_eq!(family["default"], 60);

    for (args, message) in [
        (
            vec![
                "settings",
                "set",
                "follow_up.family_contact_days",
                "4294967295",
            ],
            "follow_up.family_contact_days must be between 1 and 3650, got 4294967295",
        ),
        (
            vec!["settings", "set", "follow_up.reassessment_months", "0"],
            "follow_up.reassessment_months must be between 1 and 240, got 0",
        ),
        (
            vec!["settings", "set", "follow_up.family_contact", "30"],
            "unknown setting \"follow_up.family_contact\"",
        ),
    ] {
        let out = ws.run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let shown = json_of(&ws.run(&["settings", "show", "--format", "json"], None));
    assert_eq!(shown[5]["key"], "follow_up.family_contact_days");
    assert_eq!(shown[5]["value"], 45, "refused values change nothing");
}

#[test]
fn extreme_numbers_and_dates_are_refused_not_panicked_on() {
    let ws = Workspace::new();
    let range = "is out of range: expected a date between 1900-01-01 and 2199-12-31";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["indicators", "--to=-262143-01-05"], range),
        (
            vec!["indicators", "--from", "0001-01-01", "--to", "2024-01-01"],
            range,
        ),
        (vec!["indicators", "--to", "9999-12-31"], range),
        (vec!["gaps", "--as-of", "9999-12-31"], range),
        (vec!["plan", LEA, "--as-of=-262143-01-05"], range),
        (vec!["trajectory", LEA, "--as-of", "0001-01-01"], range),
        (vec!["demo", "--until=-262143-01-05"], range),
        (
            vec!["demo", "--children", "18446744073709551615"],
            "--children must be between 1 and 1000000, got 18446744073709551615",
        ),
        (
            vec!["demo", "--years", "1000000"],
            "--years must be between 1 and 100, got 1000000",
        ),
        (
            vec!["gaps", "--known-at=-262143-01-05"],
            "expected a moment such as",
        ),
        (
            vec!["trajectory", LEA, "--known-at", "9999-12-31"],
            "expected a moment such as",
        ),
    ];
    for (args, message) in cases {
        let out = ws.run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(ws.entries(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_postgresql_only_migrate_changes_the_schema() {
    use sqlx::Connection;
    // A fresh database that nobody has migrated.
    let admin_url = common::admin_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let database = format!("lifecourse_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = format!("{}/{database}", admin_url.rsplit_once('/').unwrap().0);
    let outcome = tokio::task::spawn_blocking(move || {
        let gaps = run_with_url(&url, &["gaps"], None);
        assert_eq!(gaps.status.code(), Some(1), "{}", stderr(&gaps));
        assert!(
            stderr(&gaps).contains(
                &format!("the database schema is at version 0, this program needs {}: ask the database owner to run `lifecourse migrate`", migrations_of("postgres").1)
            ),
            "{}",
            stderr(&gaps)
        );
        // Refusing did not migrate: the same answer again.
        assert_eq!(run_with_url(&url, &["gaps"], None).status.code(), Some(1));
        let migrate = run_with_url(&url, &["migrate"], None);
        assert_ok(&migrate);
        assert!(stdout(&migrate).contains(&format!("applied {} migration(s)", migrations_of("postgres").0)), "{}", stdout(&migrate));
        let gaps = run_with_url(&url, &["gaps", "--as-of", "2024-01-01"], None);
        assert_ok(&gaps);
        assert!(
            stdout(&gaps).starts_with("Follow-up gaps on 2024-01-01 for every centre: 0"),
            "{}",
            stdout(&gaps)
        );
    })
    .await;
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

#[test]
fn an_opening_without_a_key_lands_on_the_child_its_fresh_key_names() {
    let ws = Workspace::with_team();
    let open = readme_examples()[0].replace("\"idempotency_key\": \"intake-2024-0301-lea\",", "");
    assert!(!open.contains("idempotency_key"), "{open}");
    let out = ws.run(
        &["--as", "sw1@centre-sud", "record", "--format", "json"],
        Some(&open),
    );
    let recorded = json_of(&out);
    let child = recorded["child_id"].as_str().unwrap().to_string();
    assert_ne!(child, LEA, "a fresh key names another child");
    let history = json_of(&ws.run(&["history", &child, "--format", "json"], None));
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(
        history[0]["metadata"]["idempotency_key"],
        recorded["idempotency_key"]
    );
    assert_eq!(ws.entries(), 1);
}

/// Records `json` as sw1@centre-sud from a machine whose clock is set to `tz`.
fn record_in_time_zone(ws: &Workspace, tz: &str, json: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
        .args(["--as", "sw1@centre-sud", "record"])
        .env("DATABASE_URL", &ws.url)
        .env("TZ", tz)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn today_is_the_centres_date_not_the_machines() {
    use chrono::{Days, Utc};
    let ws = Workspace::with_team();
    assert_ok(&ws.record(&readme_examples()[0]));
    let contact = |key: &str, on: chrono::NaiveDate| {
        format!(
            r#"{{"child_id": "{LEA}", "idempotency_key": "{key}", "command": {{"type": "record_family_contact", "occurred_on": "{on}", "mode": "phone", "with": "child"}}}}"#
        )
    };
    let day_at = |tz: chrono_tz::Tz| Utc::now().with_timezone(&tz).date_naive();
    // The centre is in the default zone (America/Toronto); a laptop set to UTC+14 cannot date an
    // entry on the centre's tomorrow.
    let toronto = day_at(chrono_tz::America::Toronto);
    let out = record_in_time_zone(
        &ws,
        "Pacific/Kiritimati",
        &contact("t1", toronto.checked_add_days(Days::new(1)).unwrap()),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is in the future"),
        "{}",
        stderr(&out)
    );
    assert_ok(&record_in_time_zone(
        &ws,
        "Pacific/Kiritimati",
        &contact("t2", toronto),
    ));

    // Once the centre's own zone is set, its today is judged there, whatever the machine's.
    assert_ok(&ws.run(
        &[
            "centre",
            "set-time-zone",
            "centre-sud",
            "Pacific/Kiritimati",
        ],
        None,
    ));
    let kiritimati = day_at(chrono_tz::Pacific::Kiritimati);
    assert_ok(&record_in_time_zone(
        &ws,
        "America/Vancouver",
        &contact("t3", kiritimati),
    ));
    let out = record_in_time_zone(
        &ws,
        "America/Vancouver",
        &contact("t4", kiritimati.checked_add_days(Days::new(1)).unwrap()),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    let bad = ws.run(
        &["centre", "set-time-zone", "centre-sud", "Mars/Olympus"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown time zone \"Mars/Olympus\""));
}
