//! A researcher's journey: `lifecourse export` of a study, as of a date and as recorded at a
//! moment, opened in the tools researchers use. Only children whose research consent was in
//! force are there; nothing identifying is (a scan of every file, CSV and Parquet read back, for
//! every identifying value of the store, including hostile free text); the same as-of and
//! known-at give the same bytes after late entries and corrections; the rows of a small cohort
//! are the ones worked out by hand below.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, SecondsFormat, Utc};
use common::cli;
use common::{calendar, TestStore};
use lifecourse::domain::*;
use lifecourse::fixtures::*;
use lifecourse_events::*;
use serde_json::Value;

const SECRET: &str = "a study secret of more than sixteen bytes";
const OTHER_SECRET: &str = "the secret of another study, also long";
const AS_OF: &str = "2025-06-30";

async fn record(store: &TestStore, child: ChildId, key: &str, command: ChildFileCommand) {
    store
        .record(calendar(), request(child, key, command))
        .await
        .unwrap_or_else(|e| panic!("record {key}: {e}"));
}

fn opened(on: &str, born: &str) -> ChildFileCommand {
    open_file(on, born)
}

/// The hand-written cohort. A and B gave research consent and are exported; C withdrew it before
/// the as-of date; D gave only information-sharing consent.
struct Hand {
    a: ChildId,
    b: ChildId,
    c: ChildId,
    d: ChildId,
}

async fn hand_cohort(store: &TestStore) -> Hand {
    let (a, b, c, d) = (
        ChildId::new_random(),
        ChildId::new_random(),
        ChildId::new_random(),
        ChildId::new_random(),
    );
    let goal_a = GoalId::new_random();
    let referral_a = ReferralId::new_random();
    record(store, a, "a1", opened("2025-01-06", "2018-01-10")).await;
    record(store, a, "a2", accept("2025-01-10")).await;
    record(
        store,
        a,
        "a3",
        give_consent("2025-01-10", ConsentScope::Research),
    )
    .await;
    record(store, a, "a4", meeting("2025-01-27")).await;
    record(
        store,
        a,
        "a5",
        adopt_plan("2025-02-03", vec![goal(goal_a, "2025-06-01")]),
    )
    .await;
    record(store, a, "a6", referral("2025-02-10", referral_a, None)).await;
    record(
        store,
        a,
        "a7",
        outcome("2025-03-12", referral_a, ReferralOutcome::Seen),
    )
    .await;
    record(
        store,
        a,
        "a8",
        progress("2025-05-20", goal_a, GoalStatus::Achieved),
    )
    .await;

    record(store, b, "b1", opened("2025-03-03", "2016-03-01")).await;
    record(store, b, "b2", accept("2025-03-05")).await;
    record(
        store,
        b,
        "b3",
        give_consent("2025-03-05", ConsentScope::Research),
    )
    .await;
    record(store, b, "b4", meeting("2025-04-01")).await;
    record(
        store,
        b,
        "b5",
        referral("2025-04-02", ReferralId::new_random(), None),
    )
    .await;
    record(store, b, "b6", close("2025-05-15", ClosureReason::GoalsMet)).await;

    record(store, c, "c1", opened("2025-02-01", "2019-07-01")).await;
    record(store, c, "c2", accept("2025-02-03")).await;
    record(
        store,
        c,
        "c3",
        give_consent("2025-02-03", ConsentScope::Research),
    )
    .await;
    record(
        store,
        c,
        "c4",
        withdraw_consent("2025-04-01", ConsentScope::Research),
    )
    .await;

    record(store, d, "d1", opened("2025-01-15", "2017-05-10")).await;
    record(store, d, "d2", accept("2025-01-16")).await;
    record(
        store,
        d,
        "d3",
        give_consent("2025-01-16", ConsentScope::InformationSharing),
    )
    .await;
    Hand { a, b, c, d }
}

/// A moment after everything recorded so far, and before anything recorded next.
async fn now_between() -> String {
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let at: DateTime<Utc> = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn secret_file(dir: &Path, secret: &str) -> PathBuf {
    let path = dir.join(format!("secret-{}", secret.len()));
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    path
}

fn export_with(
    url: &str,
    out: &Path,
    study: &str,
    secret: &Path,
    format: &str,
    known_at: &str,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "export",
        "--study",
        study,
        "--as-of",
        AS_OF,
        "--known-at",
        known_at,
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
        "--secret-file",
        secret.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cli::run(url, &args)
}

fn export(url: &str, out: &Path, study: &str, secret: &Path, format: &str, known_at: &str) {
    let output = export_with(url, out, study, secret, format, known_at, &[]);
    assert!(
        output.status.success(),
        "export failed: {}\n{}",
        cli::stdout(&output),
        cli::stderr(&output)
    );
}

/// A CSV file's rows as maps from column to cell.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A Parquet file read back by the `parquet` crate: the column names and each row's cells as
/// CSV would write them (empty for null).
fn parquet_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let names = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(_, field)| match field {
                    Field::Null => String::new(),
                    Field::Str(s) => s.clone(),
                    Field::Long(i) => i.to_string(),
                    Field::Double(d) => d.to_string(),
                    other => panic!("unexpected Parquet value {other:?}"),
                })
                .collect()
        })
        .collect();
    (names, rows)
}

/// Every file of an export as text: CSV and Markdown as written, Parquet read back.
fn export_text(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = if name.ends_with(".parquet") {
                let (names, rows) = parquet_rows(&path);
                let mut text = names.join(",");
                for row in rows {
                    text.push('\n');
                    text.push_str(&row.join(","));
                }
                text
            } else {
                String::from_utf8(std::fs::read(&path).unwrap()).unwrap()
            };
            (name, text)
        })
        .collect()
}

/// The JSON leaves of `value` where `erased` differs: the identifying values.
fn differing_leaves(value: &Value, erased: &Value, out: &mut BTreeSet<String>) {
    match (value, erased) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                differing_leaves(v, b.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, v) in a.iter().enumerate() {
                differing_leaves(v, b.get(i).unwrap_or(&Value::Null), out);
            }
        }
        (Value::String(s), other) if Some(s.as_str()) != other.as_str() => {
            out.insert(s.clone());
        }
        _ => {}
    }
}

/// Every value the export must never contain: each identifying field of every stored event
/// (found as what `without_identity` changes), the recorder's reason, and the ids that would
/// link a row to the store (child ids, staff, centres, goal and referral ids).
async fn forbidden_values(store: &TestStore, children: &[ChildId]) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    for child in children {
        values.insert(child.to_string());
        for stored in store.history(*child).await.unwrap() {
            let full = serde_json::to_value(&stored.event).unwrap();
            let erased =
                serde_json::to_value(identifying::without_identity(&stored.event)).unwrap();
            differing_leaves(&full, &erased, &mut values);
            if let Some(reason) = stored.metadata.reason.as_ref().and_then(|r| r.known()) {
                values.insert(reason.clone());
            }
            values.insert(stored.metadata.recorded_by.person.to_string());
            values.insert(stored.metadata.recorded_by.centre.to_string());
            let json = serde_json::to_string(&stored.event).unwrap();
            for key in [
                "goal_id",
                "referral_id",
                "service_id",
                "matter_id",
                "concern_id",
            ] {
                for part in json.split(&format!("\"{key}\":\"")).skip(1) {
                    values.insert(part.split('"').next().unwrap().to_string());
                }
            }
        }
    }
    values
}

fn found_in(files: &[(String, String)], values: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    for (name, text) in files {
        for value in values {
            for piece in std::iter::once(value.as_str()).chain(value.lines()) {
                let piece = piece.trim();
                if piece.chars().count() >= 3 && text.contains(piece) {
                    found.push(format!("{name}: {piece:?}"));
                }
            }
        }
    }
    found
}

/// A child whose every free-text field is hostile: quotes, commas, line breaks, markup, SQL.
async fn hostile_child(store: &TestStore) -> ChildId {
    let child = ChildId::new_random();
    let hostile = |what: &str| {
        Identifying::new(format!(
            "{what} \"Robert'); DROP TABLE events;--\", <script>alert('{what}')</script>,\nnext line"
        ))
    };
    record(
        store,
        child,
        "h1",
        ChildFileCommand::OpenFile(ChildFileOpened {
            occurred_on: date("2025-02-10"),
            centre: centre(),
            child: ChildIdentity {
                given_name: hostile("Zoë-given"),
                family_name: hostile("O'Brien-family"),
                birth_date: Identifying::new(date("2015-11-23")),
                address: Some(hostile("4321 rue \"Ontario\", app. 7")),
                phone: Some(hostile("514-555-0199")),
            },
            request: Request {
                source: ReferralSource::School,
                source_detail: Some(hostile("École \"des, Quotes\"")),
                reason: hostile("reason-text"),
            },
        }),
    )
    .await;
    record(store, child, "h2", accept("2025-02-12")).await;
    record(
        store,
        child,
        "h3",
        give_consent("2025-02-12", ConsentScope::Research),
    )
    .await;
    let mut meeting = meeting_details("2025-02-20");
    meeting.child_voice = Some(hostile("child-voice"));
    meeting.hypotheses = Some(hostile("hypotheses-text"));
    meeting.needs[0].note = Some(hostile("need-note"));
    meeting.participants[0].name = Some(hostile("participant-name"));
    record(
        store,
        child,
        "h4",
        ChildFileCommand::HoldAssessmentMeeting(meeting),
    )
    .await;
    let referral_id = ReferralId::new_random();
    record(
        store,
        child,
        "h5",
        ChildFileCommand::MakeReferral(ReferralMade {
            occurred_on: date("2025-02-21"),
            referral_id,
            resource: ExternalResource::Audiology,
            organisation: Some(hostile("Clinique \"Ouïe\"")),
            expected_outcome_by: None,
            reason: Some(hostile("referral-reason")),
        }),
    )
    .await;
    record(store, child, "h6", contact("2025-03-01")).await;
    child
}

async fn nothing_identifying_in_any_file(store: TestStore) {
    let mut children = common::record_cohort(&store, 24).await;
    children.push(hostile_child(&store).await);
    let known_at = now_between().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path(), SECRET);
    let (csv_dir, parquet_dir) = (dir.path().join("csv"), dir.path().join("parquet"));
    export(&store.url, &csv_dir, "s1", &secret, "csv", &known_at);
    export(
        &store.url,
        &parquet_dir,
        "s1",
        &secret,
        "parquet",
        &known_at,
    );

    let forbidden = forbidden_values(&store, &children).await;
    assert!(forbidden.iter().any(|v| v.contains("<script>")));
    assert!(forbidden.iter().any(|v| v.contains("Tremblay")));
    let mut files = export_text(&csv_dir);
    files.extend(export_text(&parquet_dir));
    assert!(files.iter().any(|(n, _)| n == "long.parquet"));
    let found = found_in(&files, &forbidden);
    assert!(
        found.is_empty(),
        "identifying values in the export: {found:?}"
    );
    let secret_text = SECRET.to_string();
    assert!(found_in(&files, &BTreeSet::from([secret_text])).is_empty());

    // The hostile child was exported, under a pseudonym: the scan had something to look at.
    let wide = csv_rows(&csv_dir.join("wide.csv"));
    assert!(
        wide.iter().any(|r| r["age_days_at_opening"] == "3367"),
        "{wide:?}"
    );
    // And the scan finds what is there: the same values planted in a copy of the files.
    let mut planted = files.clone();
    let school = forbidden
        .iter()
        .find(|v| v.contains("des, Quotes"))
        .unwrap();
    planted[0].1.push_str(school);
    planted[1].1.push_str(&children[0].to_string());
    let found = found_in(&planted, &forbidden);
    assert!(found.iter().any(|f| f.contains("des, Quotes")), "{found:?}");
    assert!(
        found.iter().any(|f| f.contains(&children[0].to_string())),
        "{found:?}"
    );
}

/// The rows as the test reads them: pseudonyms replaced by the names worked out from hand-known
/// values (a child by its age at opening), checked to be pseudonyms on the way.
fn named_rows(path: &Path, children: &BTreeMap<String, &str>, columns: &[&str]) -> Vec<String> {
    let mut staff = BTreeSet::new();
    let rows = csv_rows(path)
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    let v = &row[*c];
                    match *c {
                        "child" => children.get(v).copied().unwrap_or("?").to_string(),
                        "recorded_by" => {
                            assert!(v.starts_with("s-") && v.len() == 18, "{v}");
                            staff.insert(v.clone());
                            "STAFF".to_string()
                        }
                        "organisation" if !v.is_empty() => {
                            assert!(v.starts_with("o-") && v.len() == 18, "{v}");
                            "ORG".to_string()
                        }
                        _ => v.clone(),
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert!(staff.len() <= 1, "one recorder, one pseudonym: {staff:?}");
    rows
}

async fn rows_worked_out_by_hand(store: TestStore) {
    hand_cohort(&store).await;
    let known_at = now_between().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path(), SECRET);
    let out = dir.path().join("study");
    export(&store.url, &out, "s1", &secret, "csv", &known_at);

    // A was born 2018-01-10 and opened 2025-01-06: 2553 days old. B: 2016-03-01, 2025-03-03.
    let wide = csv_rows(&out.join("wide.csv"));
    let children: BTreeMap<String, &str> = wide
        .iter()
        .map(|r| {
            let name = match r["age_days_at_opening"].as_str() {
                "2553" => "A",
                "3289" => "B",
                other => panic!("an unexpected child, {other} days old at opening"),
            };
            (r["child"].clone(), name)
        })
        .collect();
    assert_eq!(
        children.len(),
        2,
        "only A and B gave research consent in force"
    );
    assert!(
        wide.iter().all(|r| r["centre"] == "pooled"),
        "2 children < 5"
    );
    let a_first = wide[0]["age_days_at_opening"] == "2553";

    let long = named_rows(
        &out.join("long.csv"),
        &children,
        &[
            "child",
            "centre",
            "entry",
            "event_type",
            "age_days",
            "days_since_opening",
            "shifted_date",
            "recorder_role",
            "recorded_by",
            "domain",
            "code",
            "item",
            "count",
            "organisation",
        ],
    );
    let long_a = [
        "A,pooled,1,ChildFileOpened,2553,0,,social_worker,STAFF,,school,,,ORG",
        "A,pooled,2,InitialAssessmentCompleted,2557,4,,social_worker,STAFF,,accepted,,,",
        "A,pooled,3,ConsentGiven,2557,4,,social_worker,STAFF,,research,,,",
        "A,pooled,4,AssessmentMeetingHeld,2574,21,,social_worker,STAFF,,initial,,2,",
        "A,pooled,5,ActionPlanAdopted,2581,28,,social_worker,STAFF,,,,1,",
        "A,pooled,6,ReferralMade,2588,35,,social_worker,STAFF,,speech_therapy,R1,,",
        "A,pooled,7,ReferralOutcomeRecorded,2618,65,,social_worker,STAFF,,seen,R1,,",
        "A,pooled,8,GoalProgressRecorded,2687,134,,social_worker,STAFF,development,achieved,G1,,",
    ];
    let long_b = [
        "B,pooled,1,ChildFileOpened,3289,0,,social_worker,STAFF,,school,,,ORG",
        "B,pooled,2,InitialAssessmentCompleted,3291,2,,social_worker,STAFF,,accepted,,,",
        "B,pooled,3,ConsentGiven,3291,2,,social_worker,STAFF,,research,,,",
        "B,pooled,4,AssessmentMeetingHeld,3318,29,,social_worker,STAFF,,initial,,2,",
        "B,pooled,5,ReferralMade,3319,30,,social_worker,STAFF,,speech_therapy,R1,,",
        "B,pooled,6,FileClosed,3362,73,,social_worker,STAFF,,goals_met,,,",
    ];
    let in_order = |a: &[&str], b: &[&str]| -> Vec<String> {
        let (first, second) = if a_first { (a, b) } else { (b, a) };
        first.iter().chain(second).map(|s| s.to_string()).collect()
    };
    assert_eq!(long, in_order(&long_a, &long_b));

    let needs = ",,severe,,,moderate,,,,";
    let wide_rows = named_rows(&out.join("wide.csv"), &children, &wide_columns());
    let wide_a =
        format!("A,pooled,2553,175,active,,1,4,21,7,1,1,1,1,0,1,1,1,0,0,0,0{needs}{needs}");
    let wide_b =
        format!("B,pooled,3289,119,closed,goals_met,1,2,29,,1,0,0,0,0,1,0,0,0,0,0,0{needs}{needs}");
    assert_eq!(wide_rows, in_order(&[wide_a.as_str()], &[wide_b.as_str()]));

    let states = named_rows(
        &out.join("states.csv"),
        &children,
        &["child", "centre", "month", "days_since_opening", "state"],
    );
    let states_a = [
        "A,pooled,0,30,active_with_plan",
        "A,pooled,1,58,active_with_plan",
        "A,pooled,2,89,active_with_plan",
        "A,pooled,3,119,active_with_plan",
        "A,pooled,4,150,active_with_plan",
        "A,pooled,5,175,active_with_plan",
    ];
    let states_b = [
        "B,pooled,0,30,accepted",
        "B,pooled,1,60,accepted",
        "B,pooled,2,91,closed",
        "B,pooled,3,119,closed",
    ];
    assert_eq!(states, in_order(&states_a, &states_b));

    let tte = named_rows(
        &out.join("time_to_event.csv"),
        &children,
        &[
            "child",
            "centre",
            "outcome",
            "item",
            "duration_days",
            "event",
            "detail",
        ],
    );
    let tte_a = [
        "A,pooled,initial_assessment,,4,1,",
        "A,pooled,first_meeting,,21,1,",
        "A,pooled,first_plan,,28,1,",
        "A,pooled,closure,,175,0,",
        "A,pooled,referral_outcome,R1,30,1,seen",
        "A,pooled,goal_achieved,G1,106,1,in_plan",
    ];
    // B's file closed on day 73 without a plan: the plan's clock is censored there.
    let tte_b = [
        "B,pooled,initial_assessment,,2,1,",
        "B,pooled,first_meeting,,29,1,",
        "B,pooled,first_plan,,73,0,",
        "B,pooled,closure,,73,1,",
        "B,pooled,referral_outcome,R1,89,0,",
    ];
    assert_eq!(tte, in_order(&tte_a, &tte_b));

    // With --shift-dates, each child's dates move together by at most the days asked for.
    let shifted = dir.path().join("shifted");
    let output = export_with(
        &store.url,
        &shifted,
        "s1",
        &secret,
        "csv",
        &known_at,
        &["--shift-dates", "30"],
    );
    assert!(output.status.success(), "{}", cli::stderr(&output));
    let mut offsets: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for row in csv_rows(&shifted.join("long.csv")) {
        let on: chrono::NaiveDate = row["shifted_date"].parse().unwrap();
        let since: i64 = row["days_since_opening"].parse().unwrap();
        let real_opening = match children[&row["child"]] {
            "A" => chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap(),
            _ => chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(),
        };
        let shift = (on - real_opening).num_days() - since;
        assert!((-30..=30).contains(&shift), "{row:?}");
        offsets
            .entry(row["child"].clone())
            .or_default()
            .insert(shift);
    }
    assert_eq!(offsets.len(), 2);
    assert!(offsets.values().all(|o| o.len() == 1), "{offsets:?}");
    assert!(csv_rows(&out.join("long.csv"))
        .iter()
        .all(|r| r["shifted_date"].is_empty()));

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["children_considered"], 4);
    assert_eq!(manifest["children_exported"], 2);
    assert_eq!(manifest["known_at"], known_at.as_str());
    assert_eq!(manifest["as_of"], AS_OF);
}

fn wide_columns() -> Vec<&'static str> {
    let mut columns = vec![
        "child",
        "centre",
        "age_days_at_opening",
        "days_open",
        "stage",
        "closure_reason",
        "periods",
        "days_request_to_assessment",
        "days_request_to_first_meeting",
        "days_meeting_to_plan",
        "meetings",
        "plan_versions",
        "goals",
        "goals_achieved",
        "goals_abandoned",
        "referrals",
        "referrals_seen",
        "referrals_concluded",
        "services",
        "family_contacts",
        "legal_matters",
        "rights_concerns",
    ];
    for when in ["first", "last"] {
        for domain in NeedDomain::ALL {
            columns.push(Box::leak(
                format!("need_{when}_{}", domain.as_str()).into_boxed_str(),
            ));
        }
    }
    columns
}

async fn consent_decides_who_is_there_and_pseudonyms_belong_to_a_study(store: TestStore) {
    let hand = hand_cohort(&store).await;
    let known_at = now_between().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path(), SECRET);
    let other = secret_file(dir.path(), OTHER_SECRET);
    let children_of = |out: &Path| -> BTreeSet<String> {
        csv_rows(&out.join("wide.csv"))
            .into_iter()
            .map(|r| r["child"].clone())
            .collect()
    };
    let (one, again, two, same_secret) = (
        dir.path().join("one"),
        dir.path().join("again"),
        dir.path().join("two"),
        dir.path().join("same-secret"),
    );
    export(&store.url, &one, "s1", &secret, "csv", &known_at);
    export(&store.url, &again, "s1", &secret, "csv", &known_at);
    export(&store.url, &two, "s2", &other, "csv", &known_at);
    export(&store.url, &same_secret, "s2", &secret, "csv", &known_at);
    assert_eq!(children_of(&one).len(), 2);
    // Stable within a study, unrelated across studies (even under the same secret).
    assert_eq!(children_of(&one), children_of(&again));
    assert!(children_of(&one).is_disjoint(&children_of(&two)));
    assert!(children_of(&one).is_disjoint(&children_of(&same_secret)));

    // C withdrew before the as-of date, D never consented to research: neither is there, and
    // no row of the long file is theirs (A has 8 entries, B 6).
    assert_eq!(csv_rows(&one.join("long.csv")).len(), 14);
    for child in [hand.c, hand.d] {
        let text = std::fs::read_to_string(one.join("long.csv")).unwrap();
        assert!(!text.contains(&child.to_string()));
    }

    // A withdrawal after the as-of date leaves A in the export of that date; one dated before it
    // (recorded late) removes A once it is known.
    record(
        &store,
        hand.a,
        "a9",
        withdraw_consent("2025-07-02", ConsentScope::Research),
    )
    .await;
    let later = now_between().await;
    let after = dir.path().join("after");
    export(&store.url, &after, "s1", &secret, "csv", &later);
    assert_eq!(children_of(&after), children_of(&one));
    let b_pseudonym = csv_rows(&one.join("wide.csv"))
        .into_iter()
        .find(|r| r["age_days_at_opening"] == "3289")
        .unwrap()["child"]
        .clone();
    record(
        &store,
        hand.b,
        "b7",
        withdraw_consent("2025-06-01", ConsentScope::Research),
    )
    .await;
    let latest = now_between().await;
    let withdrawn = dir.path().join("withdrawn");
    export(&store.url, &withdrawn, "s1", &secret, "csv", &latest);
    let left = children_of(&withdrawn);
    assert_eq!(left.len(), 1);
    assert!(!left.contains(&b_pseudonym));
    let _ = hand.b;
}

async fn the_same_cut_gives_the_same_bytes_after_late_entries_and_corrections(store: TestStore) {
    let hand = hand_cohort(&store).await;
    let known_at = now_between().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path(), SECRET);
    for format in ["csv", "parquet"] {
        export(
            &store.url,
            &dir.path().join(format!("first-{format}")),
            "s1",
            &secret,
            format,
            &known_at,
        );
    }
    // New entries, one dated back before the as-of date, a correction, a withdrawal dated before
    // the as-of date, and a new consenting child.
    record(&store, hand.a, "a9", contact("2025-06-10")).await;
    record(&store, hand.a, "a10", contact("2025-08-01")).await;
    record(
        &store,
        hand.a,
        "a11",
        correct("2025-06-20", 7, CorrectionRequest::EnteredInError),
    )
    .await;
    record(
        &store,
        hand.b,
        "b8",
        withdraw_consent("2025-06-01", ConsentScope::Research),
    )
    .await;
    let e = ChildId::new_random();
    record(&store, e, "e1", opened("2025-01-20", "2018-08-08")).await;
    record(&store, e, "e2", accept("2025-01-21")).await;
    record(
        &store,
        e,
        "e3",
        give_consent("2025-01-21", ConsentScope::Research),
    )
    .await;

    for format in ["csv", "parquet"] {
        let second = dir.path().join(format!("second-{format}"));
        export(&store.url, &second, "s1", &secret, format, &known_at);
        let first = dir.path().join(format!("first-{format}"));
        let names = |d: &Path| -> Vec<String> {
            let mut n: Vec<_> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(&first), names(&second));
        assert_eq!(names(&first).len(), 8, "{:?}", names(&first));
        for name in names(&first) {
            assert!(
                std::fs::read(first.join(&name)).unwrap()
                    == std::fs::read(second.join(&name)).unwrap(),
                "{format}: {name} differs between two exports of the same cut"
            );
        }
        // The manifest names every file with its checksum, and not the time of the run.
        let manifest = std::fs::read_to_string(second.join("manifest.json")).unwrap();
        let sums: Value = serde_json::from_str(&manifest).unwrap();
        for file in sums["files"].as_array().unwrap() {
            let bytes = std::fs::read(second.join(file["name"].as_str().unwrap())).unwrap();
            use sha2::Digest;
            assert_eq!(file["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
        }
        assert_eq!(sums["known_at"], known_at.as_str());
    }
    // Not vacuous: as recorded now, the export differs (B withdrew, E joined, A has a contact).
    let now = now_between().await;
    let third = dir.path().join("third");
    export(&store.url, &third, "s1", &secret, "csv", &now);
    assert_ne!(
        std::fs::read(dir.path().join("first-csv/long.csv")).unwrap(),
        std::fs::read(third.join("long.csv")).unwrap()
    );
    assert_eq!(csv_rows(&third.join("wide.csv")).len(), 2, "A and E");
}

async fn parquet_reads_back_as_the_csv_in_rust_and_in_python(store: TestStore) {
    hand_cohort(&store).await;
    common::record_cohort(&store, 12).await;
    let known_at = now_between().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path(), SECRET);
    let (csv_dir, parquet_dir) = (dir.path().join("csv"), dir.path().join("parquet"));
    export(&store.url, &csv_dir, "s1", &secret, "csv", &known_at);
    export(
        &store.url,
        &parquet_dir,
        "s1",
        &secret,
        "parquet",
        &known_at,
    );
    for table in ["long", "wide", "states", "time_to_event", "cohort"] {
        let (names, rows) = parquet_rows(&parquet_dir.join(format!("{table}.parquet")));
        let mut reader = csv::Reader::from_path(csv_dir.join(format!("{table}.csv"))).unwrap();
        let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let csv: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(names, headers, "{table}");
        assert_eq!(rows, csv, "{table}");
        assert!(!rows.is_empty(), "{table}");
    }
    python_reads(&csv_dir, &parquet_dir);
}

/// The Python check (tests/research_export_check.py) with pyarrow: a missing pyarrow fails the
/// test rather than skipping it.
fn python_reads(csv_dir: &Path, parquet_dir: &Path) {
    let has_pyarrow = std::process::Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_pyarrow,
        "the Parquet files must be checked with Python's pyarrow, which is not installed: install pyarrow: python3 -m pip install pyarrow"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/research_export_check.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .arg(csv_dir)
        .arg(parquet_dir)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "pyarrow did not read the export as expected:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

on_both_stores!(
    nothing_identifying_in_any_file,
    rows_worked_out_by_hand,
    consent_decides_who_is_there_and_pseudonyms_belong_to_a_study,
    the_same_cut_gives_the_same_bytes_after_late_entries_and_corrections,
    parquet_reads_back_as_the_csv_in_rust_and_in_python,
);

/// Bad input: a clear message, exit 2, and nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_anything_is_written() {
    let store = common::sqlite().await;
    hand_cohort(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path(), SECRET);
    let short = dir.path().join("short");
    std::fs::write(&short, "too short").unwrap();
    let out = dir.path().join("out");
    let now = now_between().await;
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--format".into(),
                "xlsx".into(),
                "--secret-file".into(),
                s(&secret),
            ],
            "xlsx",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "--secret-file".into(),
                s(&dir.path().join("none")),
            ],
            "study secret file cannot be read",
        ),
        (
            vec!["--format".into(), "csv".into()],
            "study secret is missing",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "--secret-file".into(),
                s(&short),
            ],
            "study secret is too short",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "--secret-file".into(),
                s(&secret),
                "--as-of".into(),
                "2199-01-01".into(),
            ],
            "after today",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "--secret-file".into(),
                s(&secret),
                "--as-of".into(),
                "1850-01-01".into(),
            ],
            "--as-of",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "--secret-file".into(),
                s(&secret),
                "--known-at".into(),
                "2199-01-01T00:00:00Z".into(),
            ],
            "has not come yet",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "--secret-file".into(),
                s(&secret),
                "--study".into(),
                "no spaces".into(),
            ],
            "--study must be",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "--secret-file".into(),
                s(&secret),
                "--min-centre-size".into(),
                "0".into(),
            ],
            "--min-centre-size must be between 1",
        ),
    ];
    for (extra, expected) in cases {
        let mut args: Vec<String> = vec!["export".into(), "--out".into(), s(&out)];
        if !extra.contains(&"--study".to_string()) {
            args.extend(["--study".into(), "s1".into()]);
        }
        if !extra.contains(&"--as-of".to_string()) {
            args.extend(["--as-of".into(), AS_OF.into()]);
        }
        if !extra.contains(&"--known-at".to_string()) {
            args.extend(["--known-at".into(), now.clone()]);
        }
        args.extend(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = cli::command(&store.url, &args)
            .env_remove("LIFECOURSE_STUDY_SECRET")
            .output()
            .unwrap();
        let stderr = cli::stderr(&output);
        assert_eq!(cli::code(&output), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            !stderr.contains(SECRET) && !stderr.contains("too short\n"),
            "{stderr}"
        );
        assert!(!out.exists(), "{args:?} wrote {out:?}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    // An existing, non-empty directory is never written into.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let output = export_with(&store.url, &out, "s1", &secret, "csv", &now, &[]);
    assert_eq!(cli::code(&output), Some(2), "{}", cli::stderr(&output));
    assert!(cli::stderr(&output).contains("not empty"));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);

    // The secret from the environment works too, and is nowhere in the files.
    let env_out = dir.path().join("env");
    let output = cli::command(
        &store.url,
        &[
            "export",
            "--study",
            "s1",
            "--as-of",
            AS_OF,
            "--known-at",
            &now,
            "--format",
            "csv",
            "--out",
            &s(&env_out),
        ],
    )
    .env("LIFECOURSE_STUDY_SECRET", SECRET)
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", cli::stderr(&output));
    for (_, text) in export_text(&env_out) {
        assert!(!text.contains(SECRET));
    }

    let help = cli::ok(&store.url, &["export", "--help"]);
    let help = cli::stdout(&help);
    for word in [
        "--study",
        "--as-of",
        "--known-at",
        "--format",
        "--secret-file",
        "research consent",
        "LIFECOURSE_STUDY_SECRET",
        "pooled",
    ] {
        assert!(
            help.contains(word),
            "--help does not mention {word}:\n{help}"
        );
    }
}

/// `--as` a researcher: their centres' files; anyone else is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn researchers_export_and_others_are_refused() {
    let store = common::sqlite().await;
    hand_cohort(&store).await;
    let now = now_between().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path(), SECRET);
    for (person, role) in [
        ("re1@centre-sud", "researcher"),
        ("sw1@centre-sud", "social_worker"),
    ] {
        cli::ok(
            &store.url,
            &[
                "staff",
                "add",
                person,
                "--name",
                "Someone",
                "--role",
                role,
                "--centre",
                "centre-sud",
            ],
        );
    }
    let out = dir.path().join("re");
    let args = |out: &Path, person: &'static str| -> Vec<String> {
        vec![
            "--as".into(),
            person.into(),
            "export".into(),
            "--study".into(),
            "s1".into(),
            "--as-of".into(),
            AS_OF.into(),
            "--known-at".into(),
            now.clone(),
            "--format".into(),
            "csv".into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--secret-file".into(),
            secret.to_str().unwrap().into(),
        ]
    };
    let researcher = args(&out, "re1@centre-sud");
    let researcher: Vec<&str> = researcher.iter().map(String::as_str).collect();
    cli::ok(&store.url, &researcher);
    assert_eq!(csv_rows(&out.join("wide.csv")).len(), 2);

    let refused = dir.path().join("sw");
    let clinician = args(&refused, "sw1@centre-sud");
    let clinician: Vec<&str> = clinician.iter().map(String::as_str).collect();
    let output = cli::run(&store.url, &clinician);
    assert_eq!(cli::code(&output), Some(3), "{}", cli::stderr(&output));
    assert!(cli::stderr(&output).contains("research exports are for researchers"));
    assert!(!refused.exists());

    let cohort = cli::ok(
        &store.url,
        &[
            "--as",
            "re1@centre-sud",
            "cohort",
            "--as-of",
            AS_OF,
            "--known-at",
            &now,
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_str(&cli::stdout(&cohort)).unwrap();
    let first = &report["measures"][0];
    assert_eq!(first["measure"], "request_to_assessment");
    // A waited 4 days, B 2: median 3, quartiles 2.5 and 3.5 (type 7).
    assert_eq!(first["cases"], 2);
    assert_eq!(first["median"], 3.0);
    assert_eq!(first["q1"], 2.5);
    assert_eq!(first["q3"], 3.5);
}
