//! An auditor traces Noé's decisions: who recorded each, when, and what the team had on record
//! when it decided. The expected trail below was worked out by hand from the story and the
//! default follow-up rules (DOMAIN.md), not produced by the code.
//!
//! The story (centre-sud), in record order:
//!
//! | #  | clinical date | recorded by | entry |
//! |----|---------------|-------------|-------|
//! | 1  | 2024-03-01 | co1 coordinator    | request from school; file opened |
//! | 2  | 2024-03-12 | sw1 social worker  | request accepted (assessment due 2024-03-08: 4 days late) |
//! | 3  | 2024-03-20 | md1 doctor         | first meeting: development severe, school learning moderate |
//! | 4  | 2024-03-25 | md1 doctor         | referral r1 to speech therapy, outcome expected 2024-04-30 |
//! | 5  | 2024-04-10 | md1 doctor         | plan v1 (plan due 2024-04-03: 7 days late) |
//! | 6  | 2024-04-10 | sw1 social worker  | reassessment meeting, recorded after the plan from paper notes: development moderate, family relationships mild |
//! | 7  | 2024-04-15 | sw1 social worker  | correction of #4: outcome expected 2024-05-15 |
//! | 8  | 2024-05-01 | md1 doctor         | plan v2 (plan due 2024-04-24 after meeting 2: 7 days late) |
//!
//! Meeting #6 is dated the day of the plan but was recorded after it: the plan's facts show
//! meeting #3 only. The correction #7 was on record when plan v2 was decided: r1's outcome was
//! then expected on 2024-05-15, so on 2024-05-01 it was not overdue.

mod common;
mod http_support;

use common::cli::{code, run, stderr, stdout};
use common::{calendar, TestStore};
use lifecourse::app::{App, AppError, Channel, NewStaff, Role};
use lifecourse::domain::*;
use lifecourse::fixtures::*;
use lifecourse::recording::CommandRequest;
use lifecourse_events::*;
use lifecourse_projections::audit::DecisionKind;
use lifecourse_projections::{DecisionTrail, FollowUpRule};
use uuid::Uuid;

const R1: ReferralId = ReferralId(Uuid::from_u128(0x51));

fn person(id: &str) -> PersonId {
    PersonId::parse(id.to_string()).unwrap()
}

fn by(id: &str, role: StaffRole) -> Recorder {
    Recorder {
        person: person(id),
        role,
        centre: centre(),
    }
}

/// The story, each command with who records it and the reason they give.
fn story() -> Vec<(Recorder, Option<&'static str>, ChildFileCommand)> {
    let co = by("co1@centre-sud", StaffRole::Coordinator);
    let sw = by("sw1@centre-sud", StaffRole::SocialWorker);
    let md = by("md1@centre-sud", StaffRole::Doctor);
    let mut reassessment = meeting_details("2024-04-10");
    reassessment.needs = vec![
        NeedAssessment {
            domain: NeedDomain::Development,
            level: NeedLevel::Moderate,
            note: None,
        },
        NeedAssessment {
            domain: NeedDomain::FamilyRelationships,
            level: NeedLevel::Mild,
            note: None,
        },
    ];
    let corrected_referral = ChildEvent::ReferralMade(ReferralMade {
        occurred_on: date("2024-03-25"),
        referral_id: R1,
        resource: ExternalResource::SpeechTherapy,
        organisation: None,
        expected_outcome_by: Some(date("2024-05-15")),
        reason: None,
    });
    let g1 = GoalId(Uuid::from_u128(0x71));
    vec![
        (co, None, open_file("2024-03-01", "2017-05-10")),
        (sw.clone(), None, accept("2024-03-12")),
        (md.clone(), None, meeting("2024-03-20")),
        (
            md.clone(),
            None,
            referral("2024-03-25", R1, Some("2024-04-30")),
        ),
        (
            md.clone(),
            None,
            adopt_plan("2024-04-10", vec![goal(g1, "2024-09-01")]),
        ),
        (
            sw.clone(),
            Some("late entry from the paper notes"),
            ChildFileCommand::HoldAssessmentMeeting(reassessment),
        ),
        (
            sw,
            Some("the clinic gave a later date"),
            correct(
                "2024-04-15",
                4,
                CorrectionRequest::ReplacedBy(Box::new(corrected_referral)),
            ),
        ),
        (
            md,
            None,
            revise_plan("2024-05-01", vec![goal(g1, "2024-12-01")]),
        ),
    ]
}

async fn record_story(store: &TestStore) -> ChildId {
    let child = ChildId::new_random();
    for (n, (recorder, reason, command)) in story().into_iter().enumerate() {
        let mut request = CommandRequest::new(
            child,
            IdempotencyKey::parse(format!("noe-{}", n + 1)).unwrap(),
            recorder,
            command,
        );
        request.reason = reason.map(|r| Identifying::new(r.to_string()));
        store.record(calendar(), request).await.unwrap();
    }
    child
}

async fn staff(app: &App, id: &str, role: Role, centre: &str) {
    app.add_staff(NewStaff {
        person: person(id),
        display_name: id.to_string(),
        role,
        centres: vec![CentreId::parse(centre.to_string()).unwrap()],
    })
    .await
    .unwrap();
}

async fn acting(app: &App, id: &str) -> App {
    app.acting_as(app.principal(&person(id)).await.unwrap(), Channel::Cli)
}

/// A meeting's picture as the auditor checks it: (sequence, meeting number, needs).
type Meeting = (u64, u32, Vec<(NeedDomain, NeedLevel)>);

/// A decision as the auditor checks it: who recorded it, and what was on record then.
#[derive(Debug, PartialEq)]
struct Expected {
    sequence: u64,
    kind: DecisionKind,
    person: String,
    role: StaffRole,
    entries_on_record: u64,
    last_meeting: Option<Meeting>,
    /// (sequence of the referral, made on)
    open_referrals: Vec<(u64, ClinicalDate)>,
    /// (rule, due on, days overdue)
    open_gaps: Vec<(FollowUpRule, ClinicalDate, i64)>,
}

fn expected_decisions() -> Vec<Expected> {
    use NeedDomain::*;
    use NeedLevel::*;
    let first_meeting = Some((
        3,
        1,
        vec![(Development, Severe), (SchoolLearning, Moderate)],
    ));
    vec![
        Expected {
            sequence: 2,
            kind: DecisionKind::InitialAssessment,
            person: "sw1@centre-sud".into(),
            role: StaffRole::SocialWorker,
            entries_on_record: 1,
            last_meeting: None,
            open_referrals: vec![],
            open_gaps: vec![(FollowUpRule::InitialAssessment, date("2024-03-08"), 4)],
        },
        Expected {
            sequence: 4,
            kind: DecisionKind::ReferralMade,
            person: "md1@centre-sud".into(),
            role: StaffRole::Doctor,
            entries_on_record: 3,
            last_meeting: first_meeting.clone(),
            open_referrals: vec![],
            open_gaps: vec![],
        },
        Expected {
            sequence: 5,
            kind: DecisionKind::PlanAdopted,
            person: "md1@centre-sud".into(),
            role: StaffRole::Doctor,
            entries_on_record: 4,
            // Not meeting #6: recorded after the plan, though dated the same day.
            last_meeting: first_meeting,
            open_referrals: vec![(4, date("2024-03-25"))],
            open_gaps: vec![(FollowUpRule::PlanAfterMeeting, date("2024-04-03"), 7)],
        },
        Expected {
            sequence: 8,
            kind: DecisionKind::PlanRevised,
            person: "md1@centre-sud".into(),
            role: StaffRole::Doctor,
            entries_on_record: 7,
            last_meeting: Some((
                6,
                2,
                vec![(Development, Moderate), (FamilyRelationships, Mild)],
            )),
            open_referrals: vec![(4, date("2024-03-25"))],
            // r1's outcome was expected 2024-05-15 by then (#7): not overdue.
            open_gaps: vec![(FollowUpRule::PlanAfterMeeting, date("2024-04-24"), 7)],
        },
    ]
}

fn decisions(trail: &DecisionTrail) -> Vec<Expected> {
    trail
        .entries
        .iter()
        .filter_map(|e| {
            let facts = e.decision.as_ref()?;
            Some(Expected {
                sequence: e.sequence,
                kind: facts.kind,
                person: e.recorded_by.person.to_string(),
                role: e.recorded_by.role,
                entries_on_record: facts.entries_on_record,
                last_meeting: facts.last_meeting.as_ref().map(|m| {
                    (
                        m.sequence,
                        m.meeting_number,
                        m.needs.iter().map(|n| (n.domain, n.level)).collect(),
                    )
                }),
                open_referrals: facts
                    .open_referrals
                    .iter()
                    .map(|r| (r.sequence, r.made_on))
                    .collect(),
                open_gaps: facts
                    .open_gaps
                    .iter()
                    .map(|g| (g.rule, g.due_on, g.days_overdue))
                    .collect(),
            })
        })
        .collect()
}

async fn an_auditor_sees_what_was_on_record_at_each_decision(store: TestStore) {
    let child = record_story(&store).await;
    let app = App::new(store.store.clone());
    staff(&app, "au1@centre-sud", Role::Auditor, "centre-sud").await;
    let answer = acting(&app, "au1@centre-sud")
        .await
        .audit(child)
        .await
        .unwrap();
    let trail = answer.value;
    assert_eq!(trail.child_id, child);

    // Every entry, in sequence order, with its envelope as stored.
    let stored = store.history(child).await.unwrap();
    assert_eq!(trail.entries.len(), 8);
    for (entry, event) in trail.entries.iter().zip(&stored) {
        assert_eq!(entry.sequence, event.sequence);
        assert_eq!(entry.event_id, event.event_id);
        assert_eq!(entry.position, event.position);
        assert_eq!(entry.recorded_at, event.recorded_at);
        assert_eq!(entry.correlation_id, event.metadata.correlation_id);
    }
    let who: Vec<(u64, &str, &str, StaffRole, Option<&str>)> = trail
        .entries
        .iter()
        .map(|e| {
            (
                e.sequence,
                e.event_type.as_str(),
                e.recorded_by.person.as_str(),
                e.recorded_by.role,
                e.reason.as_ref().map(|r| r.expose().as_str()),
            )
        })
        .collect();
    use StaffRole::*;
    assert_eq!(
        who,
        vec![
            (1, "ChildFileOpened", "co1@centre-sud", Coordinator, None),
            (
                2,
                "InitialAssessmentCompleted",
                "sw1@centre-sud",
                SocialWorker,
                None
            ),
            (3, "AssessmentMeetingHeld", "md1@centre-sud", Doctor, None),
            (4, "ReferralMade", "md1@centre-sud", Doctor, None),
            (5, "ActionPlanAdopted", "md1@centre-sud", Doctor, None),
            (
                6,
                "AssessmentMeetingHeld",
                "sw1@centre-sud",
                SocialWorker,
                Some("late entry from the paper notes")
            ),
            (
                7,
                "EntryCorrected",
                "sw1@centre-sud",
                SocialWorker,
                Some("the clinic gave a later date")
            ),
            (8, "ActionPlanRevised", "md1@centre-sud", Doctor, None),
        ]
    );
    let keys: Vec<&str> = trail
        .entries
        .iter()
        .map(|e| e.idempotency_key.as_str())
        .collect();
    assert_eq!(
        keys,
        ["noe-1", "noe-2", "noe-3", "noe-4", "noe-5", "noe-6", "noe-7", "noe-8"]
    );
    let dates: Vec<String> = trail
        .entries
        .iter()
        .map(|e| e.occurred_on.to_string())
        .collect();
    assert_eq!(
        dates,
        [
            "2024-03-01",
            "2024-03-12",
            "2024-03-20",
            "2024-03-25",
            "2024-04-10",
            "2024-04-10",
            "2024-04-15",
            "2024-05-01"
        ]
    );
    assert_eq!(trail.entries[3].what.text, "referral made: speech therapy");

    // The decisions, and what the team knew when it took each.
    assert_eq!(decisions(&trail), expected_decisions());

    // The correction and the entry it corrects point at each other.
    let correction = trail.entries[6].corrects.as_ref().expect("#7 corrects");
    assert_eq!(correction.sequence, 4);
    assert_eq!(correction.event_type, "ReferralMade");
    assert!(!correction.entered_in_error);
    let changes: Vec<(&str, Option<&str>, Option<&str>)> = correction
        .changes
        .iter()
        .map(|c| {
            (
                c.field.as_str(),
                c.before.as_ref().map(|v| v.expose().as_str()),
                c.after.as_ref().map(|v| v.expose().as_str()),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [(
            "expected outcome by",
            Some("2024-04-30"),
            Some("2024-05-15")
        )]
    );
    let corrected_by: Vec<(u64, Vec<u64>)> = trail
        .entries
        .iter()
        .filter(|e| !e.corrected_by.is_empty())
        .map(|e| (e.sequence, e.corrected_by.clone()))
        .collect();
    assert_eq!(corrected_by, [(4, vec![7])]);

    // Causation: where the record names the entry a step rests on, the trail resolves it
    // (plans rest on the meeting they follow, a correction on the entry it corrects).
    let rests_on: [(usize, u64); 3] = [(4, 3), (6, 4), (7, 6)];
    for (index, cause) in rests_on {
        let entry = &trail.entries[index];
        match entry.causation_id {
            Some(id) => {
                let resolved = entry.rests_on.as_ref().expect("resolved in the file");
                assert_eq!(resolved.sequence, cause, "#{}", entry.sequence);
                assert_eq!(stored[(cause - 1) as usize].event_id.0, id);
            }
            None => assert!(entry.rests_on.is_none()),
        }
    }
    for entry in &trail.entries {
        if entry.causation_id.is_none() {
            assert!(entry.rests_on.is_none(), "#{}", entry.sequence);
        }
    }

    // The read is in the access log, as an audit by the auditor.
    let log = app.access_log(child).await.unwrap();
    assert!(log.iter().any(|r| r.action == "audit"
        && r.person.as_deref() == Some("au1@centre-sud")
        && r.role.as_deref() == Some("auditor")));
}

async fn the_trail_is_for_the_files_centre_and_not_for_volunteers(store: TestStore) {
    let child = record_story(&store).await;
    let app = App::new(store.store.clone());
    staff(&app, "au1@hochelaga", Role::Auditor, "hochelaga").await;
    staff(
        &app,
        "vo1@centre-sud",
        Role::Staff(StaffRole::Volunteer),
        "centre-sud",
    )
    .await;
    staff(
        &app,
        "ca1@centre-sud",
        Role::CentreAdministrator,
        "centre-sud",
    )
    .await;
    staff(
        &app,
        "md1@centre-sud",
        Role::Staff(StaffRole::Doctor),
        "centre-sud",
    )
    .await;
    // Another centre's auditor: answered like an unknown child.
    assert!(matches!(
        acting(&app, "au1@hochelaga").await.audit(child).await,
        Err(AppError::UnknownChild(c)) if c == child
    ));
    // A volunteer sees their own entries only: not the trail.
    assert!(matches!(
        acting(&app, "vo1@centre-sud").await.audit(child).await,
        Err(AppError::Denied(_))
    ));
    // The centre's administrator and the file's doctor read it.
    for reader in ["ca1@centre-sud", "md1@centre-sud"] {
        let trail = acting(&app, reader).await.audit(child).await.unwrap();
        assert_eq!(trail.value.entries.len(), 8, "{reader}");
    }
    // An unknown child.
    let unknown = ChildId::new_random();
    assert!(matches!(
        app.audit(unknown).await,
        Err(AppError::UnknownChild(c)) if c == unknown
    ));
    // Nothing of the refused reads is in the log.
    let log = app.access_log(child).await.unwrap();
    let readers: Vec<Option<&str>> = log.iter().map(|r| r.person.as_deref()).collect();
    assert_eq!(readers, [Some("ca1@centre-sud"), Some("md1@centre-sud")]);
}

async fn the_command_line_prints_the_trail(store: TestStore) {
    let child = record_story(&store).await;
    let url = store.url.clone();
    for (id, role, centre) in [
        ("au1@centre-sud", "auditor", "centre-sud"),
        ("au1@hochelaga", "auditor", "hochelaga"),
    ] {
        let out = run(
            &url,
            &[
                "staff", "add", id, "--name", id, "--role", role, "--centre", centre,
            ],
        );
        assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    }
    let child_arg = child.to_string();
    let out = run(&url, &["--as", "au1@centre-sud", "audit", &child_arg]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // The trail is wrapped to 100 columns; the last line is the shared freshness line, which on
    // PostgreSQL may name events other tests still have in flight.
    let (trail_text, freshness) = text.trim_end().rsplit_once('\n').unwrap();
    assert!(
        trail_text.lines().all(|l| l.chars().count() <= 100),
        "{text}"
    );
    assert!(
        freshness.starts_with("(up to date") || freshness.starts_with("(reflects events"),
        "{text}"
    );
    assert!(
        text.starts_with(&format!("Decision trail of child {child} (8 entries)\n")),
        "{text}"
    );
    // The plan's decision, as written by hand.
    let plan = [
        "      decision: plan adopted; on record when it was recorded: entries #1 to #4",
        "        needs: at meeting 1 (#3, 2024-03-20): development severe, school learning moderate",
        "        open referrals: #4 speech therapy (made 2024-03-25)",
        "        open gaps on 2024-04-10: meeting held, no action plan, due 2024-04-03, 7 days overdue",
    ]
    .join("\n");
    assert!(text.contains(&plan), "{text}");
    let correction = [
        "      corrects: #4 ReferralMade",
        "      changed: expected outcome by: 2024-04-30 → 2024-05-15",
    ]
    .join("\n");
    assert!(text.contains(&correction), "{text}");
    assert!(text.contains("      corrected later by: #7\n"), "{text}");
    assert!(
        text.contains("      reason: late entry from the paper notes\n"),
        "{text}"
    );
    assert!(
        text.contains("      by sw1@centre-sud (social worker, centre-sud)\n"),
        "{text}"
    );

    // JSON: the documented trail.
    let out = run(
        &url,
        &[
            "--as",
            "au1@centre-sud",
            "audit",
            &child_arg,
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 8);
    assert_eq!(json["entries"][4]["decision"]["kind"], "plan_adopted");
    assert_eq!(
        json["entries"][4]["decision"]["last_meeting"]["sequence"],
        3
    );

    // Another centre's auditor, and an unknown child: exit 2, nothing on standard output.
    let out = run(&url, &["--as", "au1@hochelaga", "audit", &child_arg]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let unknown = ChildId::new_random().to_string();
    let out = run(&url, &["--as", "au1@centre-sud", "audit", &unknown]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&unknown), "{}", stderr(&out));

    let out = run(&url, &["audit", "--help"]);
    assert_eq!(code(&out), Some(0));
    assert!(stdout(&out).contains("facts on record when it was recorded"));
}

async fn the_trail_over_http(store: TestStore) {
    let child = record_story(&store).await;
    let server = http_support::start(store).await;
    let auditor = server
        .token_for("au1@centre-sud", "auditor", &["centre-sud"])
        .await;
    let other = server
        .token_for("au1@hochelaga", "auditor", &["hochelaga"])
        .await;
    let reply = server
        .get(Some(&auditor), &format!("/children/{child}/audit"))
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{:?}", reply.body);
    assert!(reply.body["freshness"]["reflects"].is_object());
    let plan = &reply.body["trail"]["entries"][4];
    assert_eq!(plan["sequence"], 5);
    assert_eq!(plan["recorded_by"]["person"], "md1@centre-sud");
    assert_eq!(plan["recorded_by"]["role"], "doctor");
    assert_eq!(plan["decision"]["kind"], "plan_adopted");
    assert_eq!(plan["decision"]["last_meeting"]["sequence"], 3);
    assert_eq!(
        plan["decision"]["open_gaps"][0]["rule"],
        "plan_after_meeting"
    );
    assert_eq!(plan["decision"]["open_gaps"][0]["days_overdue"], 7);
    // Another centre's auditor, and an unknown child: 404 alike.
    let unknown = ChildId::new_random();
    for (token, path) in [
        (&other, format!("/children/{child}/audit")),
        (&auditor, format!("/children/{unknown}/audit")),
    ] {
        let reply = server.get(Some(token), &path).await;
        assert_eq!(reply.status, reqwest::StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.code(), "unknown_child");
    }
    server.stop().await;
}

on_both_stores!(
    an_auditor_sees_what_was_on_record_at_each_decision,
    the_trail_is_for_the_files_centre_and_not_for_volunteers,
    the_command_line_prints_the_trail,
    the_trail_over_http,
);
