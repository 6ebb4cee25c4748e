//! The real `lifecourse` binary, run as a process against a database URL: what the fault tests
//! kill, restart under and count exit codes of.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lifecourse")
}

/// A `lifecourse` command for `url`, with nothing inherited that would change what it does.
pub fn command(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .env("DATABASE_URL", url)
        .env_remove("LIFECOURSE_AS")
        .env_remove("LIFECOURSE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs to completion.
pub fn run(url: &str, args: &[&str]) -> Output {
    command(url, args).output().expect("run lifecourse")
}

/// Runs to completion, failing the test unless it exits 0.
pub fn ok(url: &str, args: &[&str]) -> Output {
    let output = run(url, args);
    assert!(
        output.status.success(),
        "lifecourse {args:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Starts `lifecourse --as PERSON record -` with `json` on standard input.
pub fn spawn_record(url: &str, person: &str, json: &str) -> Child {
    let mut child = command(url, &["--as", person, "record", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn lifecourse record");
    let mut stdin = child.stdin.take().expect("stdin");
    // A process killed before reading its input closes the pipe: that is part of the test.
    let _ = stdin.write_all(json.as_bytes());
    drop(stdin);
    child
}

/// Records `json` as `person` and waits.
pub fn record(url: &str, person: &str, json: &str) -> Output {
    spawn_record(url, person, json)
        .wait_with_output()
        .expect("wait for lifecourse record")
}

/// The README's team: sw1@centre-sud (social worker), registered on `url`.
pub fn add_team(url: &str) {
    ok(
        url,
        &[
            "staff",
            "add",
            "sw1@centre-sud",
            "--name",
            "Sophie Wilson",
            "--role",
            "social_worker",
            "--centre",
            "centre-sud",
        ],
    );
}

/// An `open_file` command whose child id is derived from `key` (README.md).
pub fn open_file_json(key: &str) -> String {
    format!(
        r#"{{"idempotency_key": "{key}", "command": {{"type": "open_file", "occurred_on": "2024-03-01",
            "centre": "centre-sud",
            "child": {{"given_name": "Léa", "family_name": "Tremblay", "birth_date": "2017-05-10"}},
            "request": {{"source": "school", "reason": "language delay"}}}}}}"#
    )
}

/// A family contact in `child`'s file under `key`.
pub fn contact_json(child: &str, key: &str) -> String {
    format!(
        r#"{{"child_id": "{child}", "idempotency_key": "{key}",
            "command": {{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child"}}}}"#
    )
}

/// A family contact with a long note (about 9 KB): a write that needs room on the disk.
pub fn long_contact_json(child: &str, key: &str) -> String {
    let note = "n".repeat(9_000);
    format!(
        r#"{{"child_id": "{child}", "idempotency_key": "{key}",
            "command": {{"type": "record_family_contact", "occurred_on": "2024-03-05", "mode": "phone", "with": "child", "note": "{note}"}}}}"#
    )
}

/// The exit code, or `None` when the process was killed by a signal.
pub fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
