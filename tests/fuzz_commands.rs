//! A fuzz harness on the command parser and the file's rules: random bytes, and the README's
//! commands with their fields mutated (huge and negative numbers, far dates, NUL, a byte order
//! mark, right-to-left marks and other odd unicode, deep nesting, keys dropped or doubled), go
//! through the parse path of `lifecourse record` (`CommandInput::parse`); every command that
//! parses is decided by `ChildFile::decide` against small files built from the README's own
//! history, on a random day. Nothing may panic; refusals are fine.
//!
//! Bounded for CI (ten thousand cases per property, seconds in a debug build). For a long
//! run: `LIFECOURSE_FUZZ_CASES=1000000 cargo test --release --test fuzz_commands -- --nocapture`.
//! A failure is kept in `tests/fuzz_commands.proptest-regressions` and replayed first.

use std::sync::atomic::{AtomicU64, Ordering};

use lifecourse::app::CommandInput;
use lifecourse::{ChildFile, ChildFileCommand};
use lifecourse_events::{ChildEvent, ClinicalDate};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use serde_json::Value;

fn cases() -> u32 {
    std::env::var("LIFECOURSE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    }
}

/// The README's recording examples, in order (an opening, an acceptance, a meeting, a plan, a
/// referral, its outcome, a correction).
fn readme_commands() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("## Recording a command")
        .expect("README has the recording section");
    let end = readme[start..]
        .find("### Command types")
        .map_or(readme.len(), |e| start + e);
    readme[start..end]
        .split("```json\n")
        .skip(1)
        .map(|block| block[..block.find("```").expect("closed block")].to_string())
        .collect()
}

fn today() -> ClinicalDate {
    "2026-06-30".parse().unwrap()
}

/// The README's history as entries: every example decided in order on its own file.
fn readme_history() -> Vec<ChildEvent> {
    let mut file = ChildFile::default();
    let mut entries = Vec::new();
    for json in readme_commands() {
        let input = CommandInput::parse(&json).expect("README commands parse");
        let event = file
            .decide(input.command, today())
            .expect("README commands are accepted in order");
        entries.push(event);
        file = ChildFile::from_entries(entries.clone());
    }
    assert!(entries.len() >= 7, "{} README examples", entries.len());
    entries
}

/// Odd text: control characters, NUL, a BOM, bidirectional marks, astral planes, long runs.
fn odd_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\u{0}".to_string()),
        Just("\u{feff}".to_string()),
        Just("\u{202e}gnp.exe".to_string()),
        Just("\u{1b}[31mred\u{1b}[0m".to_string()),
        Just("line\nforged line".to_string()),
        Just("👩‍⚕️🧒🏽".to_string()),
        Just("x".repeat(70_000)),
        Just("2024-02-30".to_string()),
        Just("-262143-01-05".to_string()),
        Just("+262142-12-31".to_string()),
        Just("0000-01-01".to_string()),
        Just("9999-12-31".to_string()),
        any::<String>(),
        "[a-z_]{1,20}",
    ]
}

fn odd_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(serde_json::json!(0)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!(i64::MIN)),
        Just(serde_json::json!(255)),
        Just(serde_json::json!(256)),
        Just(serde_json::json!(1e308)),
        Just(serde_json::json!(0.5)),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<u64>().prop_map(|n| serde_json::json!(n)),
    ]
}

/// A valid date anywhere in the calendar the application could meet.
fn some_date() -> impl Strategy<Value = Value> {
    (1800i32..2300, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d.min(28)).unwrap();
        Value::String(date.to_string())
    })
}

fn nested(depth: usize) -> Value {
    let mut v = Value::Null;
    for _ in 0..depth {
        v = Value::Array(vec![v]);
    }
    v
}

fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => some_date(),
        3 => odd_text().prop_map(Value::String),
        3 => odd_number(),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(serde_json::json!({})),
        1 => Just(serde_json::json!([])),
        1 => (1usize..300).prop_map(nested),
    ]
}

/// One change to a JSON value, addressed by a path of random choices.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(Vec<usize>, Value),
    Remove(Vec<usize>),
    Add(Vec<usize>, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let path = proptest::collection::vec(any::<usize>(), 0..6);
    prop_oneof![
        5 => (path.clone(), replacement()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        2 => path.clone().prop_map(Mutation::Remove),
        1 => (path, "[a-z_]{1,12}", replacement()).prop_map(|(p, k, v)| Mutation::Add(p, k, v)),
    ]
}

/// Walks `path` down containers (each step picks a child modulo its count) and applies `m`
/// where the walk ends.
fn apply(value: &mut Value, m: &Mutation) {
    let path = match m {
        Mutation::Replace(p, _) | Mutation::Remove(p) | Mutation::Add(p, _, _) => p.as_slice(),
    };
    apply_at(value, path, m);
}

fn apply_at(at: &mut Value, path: &[usize], m: &Mutation) {
    let pick = path.first().copied().unwrap_or(0);
    if path.len() > 1 {
        let child = match at {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(pick % map.len()).unwrap().clone();
                map.get_mut(&key)
            }
            Value::Array(items) if !items.is_empty() => {
                let n = items.len();
                items.get_mut(pick % n)
            }
            _ => None,
        };
        if let Some(child) = child {
            return apply_at(child, &path[1..], m);
        }
    }
    match (m, at) {
        (Mutation::Replace(_, v), Value::Object(map)) if !map.is_empty() => {
            let key = map.keys().nth(pick % map.len()).unwrap().clone();
            map.insert(key, v.clone());
        }
        (Mutation::Replace(_, v), Value::Array(items)) if !items.is_empty() => {
            let n = items.len();
            items[pick % n] = v.clone();
        }
        (Mutation::Replace(_, v), leaf) => *leaf = v.clone(),
        (Mutation::Remove(_), Value::Object(map)) if !map.is_empty() => {
            let key = map.keys().nth(pick % map.len()).unwrap().clone();
            map.remove(&key);
        }
        (Mutation::Remove(_), Value::Array(items)) if !items.is_empty() => {
            let n = items.len();
            items.remove(pick % n);
        }
        (Mutation::Add(_, k, v), Value::Object(map)) => {
            map.insert(k.clone(), v.clone());
        }
        _ => {}
    }
}

/// Text damage after serialising: a BOM in front, a byte cut, a key doubled.
#[derive(Clone, Debug)]
enum Damage {
    None,
    Bom,
    Truncate(usize),
    DoubleFirstKey,
    Insert(usize, char),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        6 => Just(Damage::None),
        1 => Just(Damage::Bom),
        1 => any::<usize>().prop_map(Damage::Truncate),
        1 => Just(Damage::DoubleFirstKey),
        1 => (any::<usize>(), any::<char>()).prop_map(|(i, c)| Damage::Insert(i, c)),
    ]
}

fn damaged(text: String, d: &Damage) -> String {
    let boundary = |i: usize| {
        let mut i = i % (text.len() + 1);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match d {
        Damage::None => text,
        Damage::Bom => format!("\u{feff}{text}"),
        Damage::Truncate(i) => text[..boundary(*i)].to_string(),
        Damage::DoubleFirstKey => text.replacen('{', "{\"idempotency_key\": \"twice\", ", 1),
        Damage::Insert(i, c) => {
            let i = boundary(*i);
            format!("{}{c}{}", &text[..i], &text[i..])
        }
    }
}

/// The record path: parse; when it parses, decide on `file` on `today`. Returns whether it
/// parsed and whether the file accepted it.
fn record_path(text: &str, file: &ChildFile, today: ClinicalDate) -> (bool, bool) {
    match CommandInput::parse(text) {
        Ok(input) => {
            let command: ChildFileCommand = input.command;
            let _ = command.name();
            (true, file.decide(command, today).is_ok())
        }
        Err(_) => (false, false),
    }
}

fn any_day() -> impl Strategy<Value = ClinicalDate> {
    prop_oneof![
        4 => Just(today()),
        1 => (1900i32..2200, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| {
            ClinicalDate(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap())
        }),
        1 => Just(ClinicalDate(chrono::NaiveDate::MIN)),
        1 => Just(ClinicalDate(chrono::NaiveDate::MAX)),
    ]
}

/// Runs `test` on `cases()` values of `strategy`, then reports how many inputs parsed and were
/// decided. A failure is shrunk, saved next to this file and replayed first next time.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> (bool, bool)) {
    let (parsed, decided) = (AtomicU64::new(0), AtomicU64::new(0));
    let mut runner = TestRunner::new(config());
    let result = runner.run(&strategy, |value| {
        let (p, d) = test(value);
        parsed.fetch_add(p as u64, Ordering::Relaxed);
        decided.fetch_add(d as u64, Ordering::Relaxed);
        Ok(())
    });
    eprintln!(
        "fuzz: {name}: {} executions, {} parsed and decided, {} accepted by the file, 0 panics (LIFECOURSE_FUZZ_CASES raises the count)",
        cases(),
        parsed.load(Ordering::Relaxed),
        decided.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn random_bytes_never_panic_the_record_path() {
    fuzz(
        "random bytes",
        proptest::collection::vec(any::<u8>(), 0..512),
        |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            record_path(&text, &ChildFile::default(), today())
        },
    );
}

#[test]
fn mutated_readme_commands_never_panic_parse_or_decide() {
    let commands = readme_commands();
    let history = readme_history();
    let strategy = (
        any::<usize>(),
        proptest::collection::vec(mutation(), 0..4),
        damage(),
        any::<usize>(),
        any_day(),
    );
    fuzz(
        "mutated README commands",
        strategy,
        |(which, mutations, damage, prefix, today)| {
            let mut value: Value = serde_json::from_str(&commands[which % commands.len()]).unwrap();
            for m in &mutations {
                apply(&mut value, m);
            }
            let text = damaged(serde_json::to_string(&value).unwrap(), &damage);
            let file = ChildFile::from_entries(history[..prefix % (history.len() + 1)].to_vec());
            record_path(&text, &file, today)
        },
    );
}

#[test]
fn deep_nesting_and_huge_input_are_refused_not_panicked_on() {
    for depth in [129, 1_000, 100_000] {
        let text = format!(
            r#"{{"command": {{"type": "open_file", "note": {}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(CommandInput::parse(&text).is_err(), "depth {depth}");
    }
    let huge = format!(r#"{{"command": {{"type": "{}"}}}}"#, "x".repeat(10_000_000));
    assert!(CommandInput::parse(&huge).is_err());
}
