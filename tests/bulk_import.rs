//! Importing a centre's existing records: `lifecourse import FILE.jsonl`, the commands of a JSON
//! Lines file recorded in batches, on either store, by the real binary. What `record` promises
//! one command at a time holds for a whole file: the rules decide every command, sequences have
//! no gaps, every entry is sealed and chained and rests on what it rests on, a retried file stores
//! nothing twice, an import killed midway is finished by running the same file again, and a bad
//! file is explained and stores nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{cli, TestStore};
use lifecourse_events::{ChildId, IdempotencyKey, StoredEvent};

const SW1: &str = "sw1@centre-sud";

fn child_of_key(key: &str) -> ChildId {
    ChildId::derived_from_key(&IdempotencyKey::parse(key).unwrap())
}

/// Léa's first months, as README.md records them one command at a time, one line each.
fn lea_lines() -> Vec<String> {
    let child = child_of_key("intake-2024-0301-lea");
    [
        r#"{"idempotency_key": "intake-2024-0301-lea", "command": {"type": "open_file", "occurred_on": "2024-03-01", "centre": "centre-sud", "child": {"given_name": "Léa", "family_name": "Tremblay", "birth_date": "2017-05-10"}, "request": {"source": "school", "reason": "language delay and frequent absences"}}}"#.to_string(),
        format!(r#"{{"child_id": "{child}", "idempotency_key": "assess-2024-0304-lea", "command": {{"type": "complete_initial_assessment", "occurred_on": "2024-03-04", "lives_in_territory": true, "other_services_in_place": false, "decision": "accepted"}}}}"#),
        format!(r#"{{"child_id": "{child}", "idempotency_key": "meeting-2024-0320-lea", "command": {{"type": "hold_assessment_meeting", "occurred_on": "2024-03-20", "participants": [{{"role": "parent", "name": "Marie Tremblay"}}, {{"role": "social_worker", "person": "sw1@centre-sud"}}], "child_took_part": true, "needs": [{{"domain": "development", "level": "severe"}}]}}}}"#),
        format!(r#"{{"child_id": "{child}", "idempotency_key": "plan-2024-0325-lea", "command": {{"type": "adopt_action_plan", "occurred_on": "2024-03-25", "goals": [{{"goal_id": "7d0c6a52-3f4e-4b8a-9a31-5b2f8e1c0d11", "domain": "development", "description": "speech assessment", "responsible": [{{"role": "family"}}], "target_on": "2024-09-01"}}], "next_reassessment_on": "2024-09-20"}}}}"#),
        format!(r#"{{"child_id": "{child}", "idempotency_key": "referral-2024-0402-lea", "command": {{"type": "make_referral", "occurred_on": "2024-04-02", "referral_id": "c3a1e2b4-5d6f-4a7b-8c9d-0e1f2a3b4c5d", "resource": "speech_therapy", "expected_outcome_by": "2024-05-15"}}}}"#),
        format!(r#"{{"child_id": "{child}", "idempotency_key": "outcome-2024-0502-lea", "command": {{"type": "record_referral_outcome", "occurred_on": "2024-05-02", "referral_id": "c3a1e2b4-5d6f-4a7b-8c9d-0e1f2a3b4c5d", "outcome": "seen"}}}}"#),
        format!(r#"{{"child_id": "{child}", "idempotency_key": "contact-2024-0510-lea", "command": {{"type": "record_family_contact", "occurred_on": "2024-05-10", "mode": "phone", "with": "parent_or_guardian"}}}}"#),
    ]
    .to_vec()
}

/// `children` files of three commands each (an opening, its initial assessment, a family
/// contact), grouped by child: 3 × `children` lines and as many entries.
fn many_children(children: usize) -> Vec<String> {
    let mut lines = Vec::with_capacity(children * 3);
    for n in 0..children {
        let key = format!("intake-{n}");
        let child = child_of_key(&key);
        lines.push(format!(r#"{{"idempotency_key": "{key}", "command": {{"type": "open_file", "occurred_on": "2024-03-01", "centre": "centre-sud", "child": {{"given_name": "Child", "family_name": "Number {n}", "birth_date": "2017-05-10"}}, "request": {{"source": "school", "reason": "absences"}}}}}}"#));
        lines.push(format!(r#"{{"child_id": "{child}", "idempotency_key": "assess-{n}", "command": {{"type": "complete_initial_assessment", "occurred_on": "2024-03-04", "lives_in_territory": true, "other_services_in_place": false, "decision": "accepted"}}}}"#));
        lines.push(format!(r#"{{"child_id": "{child}", "idempotency_key": "contact-{n}", "command": {{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}}}"#));
    }
    lines
}

fn write_lines(dir: &Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

fn import(url: &str, file: &str, more: &[&str]) -> std::process::Output {
    let mut args = vec!["--as", SW1, "import", file];
    args.extend_from_slice(more);
    cli::run(url, &args)
}

/// Every stream's sequences run 1, 2, 3... without a gap, no idempotency key is stored twice in
/// a file, no event id twice in the store, and `verify` finds every seal and chain intact.
async fn assert_store_sound(store: &TestStore, children: &[ChildId]) -> usize {
    let mut events = 0;
    let mut ids = BTreeSet::new();
    for child in children {
        let history = store.history(*child).await.unwrap();
        let sequences: Vec<u64> = history.iter().map(|e| e.sequence).collect();
        let expected: Vec<u64> = (1..=history.len() as u64).collect();
        assert_eq!(sequences, expected, "child {child}: sequences without gaps");
        let keys: BTreeSet<&str> = history
            .iter()
            .map(|e| e.metadata.idempotency_key.as_str())
            .collect();
        assert_eq!(keys.len(), history.len(), "child {child}: each key once");
        for e in &history {
            assert!(ids.insert(e.event_id.to_string()), "event ids are unique");
        }
        events += history.len();
    }
    let verify = cli::run(&store.url, &["verify"]);
    assert_eq!(cli::code(&verify), Some(0), "{}", cli::stderr(&verify));
    assert!(
        cli::stdout(&verify).contains("no problem found"),
        "{}",
        cli::stdout(&verify)
    );
    events
}

/// What each entry rests on, by sequence (causation id → the sequence of that event).
fn rests_on(history: &[StoredEvent]) -> BTreeMap<u64, u64> {
    let by_id: BTreeMap<String, u64> = history
        .iter()
        .map(|e| (e.event_id.to_string(), e.sequence))
        .collect();
    history
        .iter()
        .filter_map(|e| {
            let cause = e.metadata.causation_id?;
            Some((e.sequence, by_id[&cause.to_string()]))
        })
        .collect()
}

async fn a_file_is_recorded_as_record_would_record_it(store: TestStore) {
    let dir = tempfile::tempdir().unwrap();
    cli::add_team(&store.url);
    let file = write_lines(dir.path(), "lea.jsonl", &lea_lines());
    let out = import(&store.url, &file, &[]);
    assert_eq!(cli::code(&out), Some(0), "{}", cli::stderr(&out));
    assert!(
        cli::stdout(&out).contains("7 command(s) stored (7 entries), 0 already stored"),
        "{}",
        cli::stdout(&out)
    );
    let child = child_of_key("intake-2024-0301-lea");
    let history = store.history(child).await.unwrap();
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "ChildFileOpened",
            "InitialAssessmentCompleted",
            "AssessmentMeetingHeld",
            "ActionPlanAdopted",
            "ReferralMade",
            "ReferralOutcomeRecorded",
            "FamilyContactRecorded",
        ]
    );
    // By hand, from the rules of causation (ARCHITECTURE.md): the plan rests on its meeting, the
    // outcome on its referral; the others on nothing. The plan and the outcome are decided in a
    // later round than what they rest on, within the same batch.
    assert_eq!(rests_on(&history), BTreeMap::from([(4, 3), (6, 5)]));
    for e in &history {
        assert_eq!(e.metadata.recorded_by.person.as_str(), SW1);
        assert_eq!(e.metadata.recorded_by.centre.as_str(), "centre-sud");
    }
    assert_eq!(assert_store_sound(&store, &[child]).await, 7);
    // The read models were brought up to date before the import returned (embedded store), or
    // are by the runner: the plan is there.
    let plan = cli::run(&store.url, &["plan", &child.to_string()]);
    if store.url.starts_with("sqlite") {
        assert_eq!(cli::code(&plan), Some(0), "{}", cli::stderr(&plan));
        assert!(
            cli::stdout(&plan).contains("speech assessment"),
            "{}",
            cli::stdout(&plan)
        );
    }
}

async fn the_same_file_again_stores_nothing_twice(store: TestStore) {
    let dir = tempfile::tempdir().unwrap();
    cli::add_team(&store.url);
    let file = write_lines(dir.path(), "lea.jsonl", &lea_lines());
    cli::ok(&store.url, &["--as", SW1, "import", &file]);
    let before = store.stats().await.unwrap();
    let again = import(&store.url, &file, &["--batch", "2"]);
    assert_eq!(cli::code(&again), Some(0), "{}", cli::stderr(&again));
    assert!(
        cli::stdout(&again).contains("0 command(s) stored (0 entries), 7 already stored"),
        "{}",
        cli::stdout(&again)
    );
    assert_eq!(store.stats().await.unwrap(), before);
    assert_eq!(before.events, 7);
}

async fn an_import_killed_midway_is_finished_by_running_it_again(store: TestStore) {
    let dir = tempfile::tempdir().unwrap();
    cli::add_team(&store.url);
    const CHILDREN: usize = 1500;
    let lines = many_children(CHILDREN);
    let file = write_lines(dir.path(), "many.jsonl", &lines);
    let mut running = cli::command(&store.url, &["--as", SW1, "import", &file, "--batch", "30"])
        .spawn()
        .unwrap();
    // Killed once some batches are stored and before the last one is.
    let deadline = Instant::now() + Duration::from_secs(120);
    let at_kill = loop {
        let stored = store.stats().await.unwrap().events;
        if stored > 0 {
            running.kill().unwrap();
            running.wait().unwrap();
            break store.stats().await.unwrap().events;
        }
        assert!(
            Instant::now() < deadline,
            "the import stored nothing in 2 minutes"
        );
        assert!(
            running.try_wait().unwrap().is_none(),
            "the import ended before anything was seen"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    eprintln!(
        "bulk-import: killed after {at_kill} of {} entries",
        lines.len()
    );
    assert!(
        at_kill < lines.len() as u64,
        "killed midway: {at_kill} of {} entries stored",
        lines.len()
    );
    let again = import(&store.url, &file, &[]);
    assert_eq!(cli::code(&again), Some(0), "{}", cli::stderr(&again));
    let children: Vec<ChildId> = (0..CHILDREN)
        .map(|n| child_of_key(&format!("intake-{n}")))
        .collect();
    assert_eq!(
        assert_store_sound(&store, &children).await,
        3 * CHILDREN,
        "every command of the file stored once"
    );
    let out = cli::stdout(&again);
    let stored_now = 3 * CHILDREN as u64 - at_kill;
    assert!(
        out.contains(&format!(
            "{stored_now} command(s) stored ({stored_now} entries), {at_kill} already stored"
        )),
        "{out}"
    );
}

async fn a_bad_line_is_explained_and_nothing_is_stored(store: TestStore) {
    let dir = tempfile::tempdir().unwrap();
    cli::add_team(&store.url);
    let mut lines = lea_lines();
    // Line 3: a birth date that is not a date, next to a name that must not be repeated.
    lines[2] = r#"{"idempotency_key": "x", "command": {"type": "open_file", "occurred_on": "2024-03-01", "centre": "centre-sud", "child": {"given_name": "Zoé", "family_name": "Secretname", "birth_date": "Secretname"}, "request": {"source": "school", "reason": "r"}}}"#.to_string();
    // Line 6: no idempotency key.
    lines[5] = r#"{"command": {"type": "record_family_contact", "occurred_on": "2024-05-10", "mode": "phone", "with": "child"}}"#.to_string();
    // Line 7: a command for no child (only an opening may leave `child_id` out).
    lines[6] = r#"{"idempotency_key": "contact-nobody", "command": {"type": "record_family_contact", "occurred_on": "2024-05-10", "mode": "phone", "with": "child"}}"#.to_string();
    let file = write_lines(dir.path(), "bad.jsonl", &lines);
    let out = import(&store.url, &file, &[]);
    assert_eq!(cli::code(&out), Some(2), "{}", cli::stderr(&out));
    let err = cli::stderr(&out);
    assert!(err.contains("3 line(s) of"), "{err}");
    assert!(err.contains("line 7: "), "{err}");
    assert!(err.contains("child_id"), "{err}");
    assert!(err.contains("nothing was stored"), "{err}");
    assert!(err.contains("line 3:"), "{err}");
    assert!(err.contains("line 6: no idempotency_key"), "{err}");
    assert!(
        !err.contains("Secretname"),
        "what was typed is not repeated: {err}"
    );
    assert_eq!(store.stats().await.unwrap().events, 0);
}

async fn refused_commands_are_listed_and_the_others_stored(store: TestStore) {
    let dir = tempfile::tempdir().unwrap();
    cli::add_team(&store.url);
    let child = child_of_key("intake-2024-0301-lea");
    let mut lines = lea_lines();
    // Line 4 becomes an outcome of a referral never made: the rules refuse it.
    lines[3] = format!(
        r#"{{"child_id": "{child}", "idempotency_key": "stray-outcome", "command": {{"type": "record_referral_outcome", "occurred_on": "2024-03-26", "referral_id": "00000000-0000-4000-8000-000000000001", "outcome": "seen"}}}}"#
    );
    // Line 8: a contact in a file that does not exist.
    let nobody = ChildId::new_random();
    lines.push(format!(r#"{{"child_id": "{nobody}", "idempotency_key": "lost", "command": {{"type": "record_family_contact", "occurred_on": "2024-05-10", "mode": "phone", "with": "child"}}}}"#));
    let file = write_lines(dir.path(), "some-refused.jsonl", &lines);
    let out = import(&store.url, &file, &[]);
    assert_eq!(cli::code(&out), Some(3), "{}", cli::stderr(&out));
    let err = cli::stderr(&out);
    assert!(err.contains(&format!("line 4 (child {child}): ")), "{err}");
    assert!(
        err.contains(&format!("line 8 (child {nobody}): there is no file")),
        "{err}"
    );
    assert!(err.contains("2 of 8 command(s) were not recorded"), "{err}");
    let history = store.history(child).await.unwrap();
    assert_eq!(
        history.len(),
        6,
        "the seven lines of Léa's file but the refused one"
    );
    assert_eq!(assert_store_sound(&store, &[child]).await, 6);
}

async fn a_role_that_does_not_record_imports_nothing(store: TestStore) {
    let dir = tempfile::tempdir().unwrap();
    cli::ok(
        &store.url,
        &[
            "staff",
            "add",
            "au1@centre-sud",
            "--name",
            "Audrey",
            "--role",
            "auditor",
            "--centre",
            "centre-sud",
        ],
    );
    let file = write_lines(dir.path(), "lea.jsonl", &lea_lines());
    let out = cli::run(&store.url, &["--as", "au1@centre-sud", "import", &file]);
    assert_eq!(cli::code(&out), Some(3), "{}", cli::stderr(&out));
    assert_eq!(store.stats().await.unwrap().events, 0);
}

async fn two_imports_of_the_same_files_at_once_store_each_command_once(store: TestStore) {
    let dir = tempfile::tempdir().unwrap();
    cli::add_team(&store.url);
    const CHILDREN: usize = 200;
    let lines = many_children(CHILDREN);
    let opened = write_lines(dir.path(), "open.jsonl", &lines);
    // The same commands in the same files, sent at once by two imports, one in the reverse
    // order of the other, so that they meet in the same files in the middle.
    let contacts: Vec<String> = (0..CHILDREN)
        .rev()
        .map(|n| {
            let child = child_of_key(&format!("intake-{n}"));
            format!(r#"{{"child_id": "{child}", "idempotency_key": "second-contact-{n}", "command": {{"type": "record_family_contact", "occurred_on": "2024-03-06", "mode": "home_visit", "with": "child"}}}}"#)
        })
        .collect();
    cli::ok(&store.url, &["--as", SW1, "import", &opened]);
    let first = write_lines(dir.path(), "first.jsonl", &contacts);
    let mut second_lines = contacts.clone();
    second_lines.reverse();
    let second = write_lines(dir.path(), "second.jsonl", &second_lines);
    let a = cli::command(
        &store.url,
        &["--as", SW1, "import", &first, "--batch", "10"],
    )
    .spawn()
    .unwrap();
    let b = cli::command(
        &store.url,
        &["--as", SW1, "import", &second, "--batch", "10"],
    )
    .spawn()
    .unwrap();
    let a = a.wait_with_output().unwrap();
    let b = b.wait_with_output().unwrap();
    // A command that lost a race may be listed as not recorded (exit 3 or 4): sending the files
    // again finishes them.
    for out in [&a, &b] {
        eprintln!(
            "bulk-import: concurrent import exited {:?}: {}",
            cli::code(out),
            cli::stdout(out).trim()
        );
        assert!(
            matches!(cli::code(out), Some(0 | 3 | 4)),
            "{}",
            cli::stderr(out)
        );
    }
    cli::ok(&store.url, &["--as", SW1, "import", &first]);
    cli::ok(&store.url, &["--as", SW1, "import", &second]);
    let children: Vec<ChildId> = (0..CHILDREN)
        .map(|n| child_of_key(&format!("intake-{n}")))
        .collect();
    assert_eq!(assert_store_sound(&store, &children).await, 4 * CHILDREN);
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::common::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::common::postgres().await).await })*
        }
    };
}

on_both_stores!(
    a_file_is_recorded_as_record_would_record_it,
    the_same_file_again_stores_nothing_twice,
    an_import_killed_midway_is_finished_by_running_it_again,
    a_bad_line_is_explained_and_nothing_is_stored,
    refused_commands_are_listed_and_the_others_stored,
    a_role_that_does_not_record_imports_nothing,
    two_imports_of_the_same_files_at_once_store_each_command_once,
);
