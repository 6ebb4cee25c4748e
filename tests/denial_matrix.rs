//! The denial matrix: every role × every endpoint × {own centre, other centre, break-glass},
//! over real HTTP, against an outcome table written by hand (below). No cross-centre read or
//! write may succeed: after the matrix, neither file has a new entry and the only reads of the
//! other centre's file in the access log are break-glass reads.
//!
//! The policy itself is store-independent (pure, `app/access.rs`), so the matrix runs on SQLite
//! only; tests/http_api.rs runs the same checks in miniature on both stores.
//!
//! Every write carries `If-Match: "999"`, a version no file has: a write the policy lets through
//! is answered 409 `version_mismatch` and stores nothing, so one file serves every cell.

mod common;
mod http_support;

use lifecourse::fixtures::*;
use lifecourse::ChildFileCommand;
use lifecourse_events::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Roles, in the table's column order.
const ROLES: [(&str, &str); 19] = [
    ("md", "doctor"),
    ("nu", "nurse"),
    ("sw", "social_worker"),
    ("pe", "psychoeducator"),
    ("se", "special_educator"),
    ("at", "art_therapist"),
    ("mt", "music_therapist"),
    ("st", "speech_therapist"),
    ("ot", "occupational_therapist"),
    ("np", "neuropsychologist"),
    ("cp", "child_psychiatrist"),
    ("cl", "clinical_assistant"),
    ("la", "legal_advisor"),
    ("co", "coordinator"),
    ("me", "mediator"),
    ("vo", "volunteer"),
    ("ca", "centre_administrator"),
    ("au", "auditor"),
    ("re", "researcher"),
];

/// Expected outcome per endpoint (row) and role (column): three letters for own centre / other
/// centre / other centre with a break-glass reason. A = allowed (read: 200; write: past the
/// policy, here 409 version_mismatch), O = allowed, own entries only (200, only entries the
/// reader recorded), F = 403 forbidden, N = 404 (answered like an unknown child).
const TABLE: &str = "
endpoint                     md  nu  sw  pe  se  at  mt  st  ot  np  cp  cl  la  co  me  vo  ca  au  re
history                      ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANF ANF ANF ONF FFF ANF FFF
plan                         ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANF ANF ANF FFF FFF ANF FFF
trajectory                   ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANA ANF ANF ANF FFF FFF ANF FFF
access_log                   FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF ANF ANF FFF
audit                        ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF ANF ANF FFF
gaps                         AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF FFF FFF AFF FFF
indicators                   AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF FFF AFF AFF AFF
break_glass_list             FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF FFF AFF AFF FFF
open_file                    AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF AFF FFF AFF FFF FFF FFF FFF FFF
complete_initial_assessment  ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
hold_assessment_meeting      ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
adopt_action_plan            ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
revise_action_plan           ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
record_goal_progress         ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
start_service                ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
end_service                  ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
make_referral                ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
record_referral_outcome      ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF FFF
open_legal_intervention      ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF
conclude_legal_intervention  ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF
raise_rights_concern         ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF
resolve_rights_concern       ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF FFF
record_family_contact        ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF
give_consent                 ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF
withdraw_consent             ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF
correct_entry                ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF FFF FFF FFF FFF
transfer_file                ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF ANF FFF FFF FFF FFF FFF
close_file                   ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF ANF FFF FFF FFF FFF FFF
reopen_file                  ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF ANF FFF ANF FFF FFF FFF FFF FFF
";

/// A command of each kind (the rules never see them: If-Match stops every write first).
fn command(name: &str) -> Option<ChildFileCommand> {
    let on = "2024-03-05";
    Some(match name {
        "open_file" => open_file("2024-03-01", "2017-05-10"),
        "complete_initial_assessment" => accept(on),
        "hold_assessment_meeting" => meeting(on),
        "adopt_action_plan" => adopt_plan(on, vec![goal(GoalId::new_random(), "2024-09-01")]),
        "revise_action_plan" => revise_plan(on, vec![goal(GoalId::new_random(), "2024-09-01")]),
        "record_goal_progress" => progress(on, GoalId::new_random(), GoalStatus::InProgress),
        "start_service" => start_service(on, ServiceId::new_random(), vec![]),
        "end_service" => end_service(on, ServiceId::new_random()),
        "make_referral" => referral(on, ReferralId::new_random(), None),
        "record_referral_outcome" => outcome(on, ReferralId::new_random(), ReferralOutcome::Seen),
        "open_legal_intervention" => open_legal(on, LegalMatterId::new_random()),
        "conclude_legal_intervention" => conclude_legal(on, LegalMatterId::new_random()),
        "raise_rights_concern" => raise_concern(on, RightsConcernId::new_random(), &[3]),
        "resolve_rights_concern" => resolve_concern(on, RightsConcernId::new_random()),
        "record_family_contact" => contact(on),
        "give_consent" => give_consent(on, ConsentScope::InformationSharing),
        "withdraw_consent" => withdraw_consent(on, ConsentScope::InformationSharing),
        "correct_entry" => correct(on, 1, lifecourse::domain::CorrectionRequest::EnteredInError),
        "transfer_file" => transfer(on, "centre-nord"),
        "close_file" => close(on, ClosureReason::GoalsMet),
        "reopen_file" => reopen(on),
        _ => return None,
    })
}

struct Target<'a> {
    child: ChildId,
    centre: &'a str,
    reason: Option<&'a str>,
}

/// The outcome letter of one request, checking what each letter promises.
async fn answer(
    server: &http_support::Server,
    token: &str,
    person: &str,
    endpoint: &str,
    target: &Target<'_>,
) -> char {
    let child = target.child;
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(reason) = target.reason {
        headers.push(("Break-Glass-Reason", reason));
    }
    let reply = if let Some(mut command) = command(endpoint) {
        headers.push(("If-Match", "\"999\""));
        let path = if endpoint == "open_file" {
            if let ChildFileCommand::OpenFile(opened) = &mut command {
                opened.centre = CentreId::parse(target.centre.to_string()).unwrap();
            }
            "/children".to_string()
        } else {
            format!("/children/{child}/entries")
        };
        let body = json!({"command": serde_json::to_value(command).unwrap()});
        server.post(Some(token), &path, &body, &headers).await
    } else {
        let path = match endpoint {
            "history" | "plan" | "trajectory" => format!("/children/{child}/{endpoint}"),
            "access_log" => format!("/children/{child}/access-log"),
            "audit" => format!("/children/{child}/audit"),
            "gaps" => format!("/gaps?centre={}&as_of=2026-06-30", target.centre),
            "indicators" => format!("/indicators?centre={}", target.centre),
            "break_glass_list" => format!("/centres/{}/break-glass", target.centre),
            other => panic!("no endpoint {other} in the matrix"),
        };
        server.get_with(Some(token), &path, &headers).await
    };
    match reply.status {
        StatusCode::FORBIDDEN => 'F',
        StatusCode::NOT_FOUND => {
            assert_eq!(reply.code(), "unknown_child", "{endpoint}");
            'N'
        }
        StatusCode::CONFLICT => {
            assert_eq!(
                reply.code(),
                "version_mismatch",
                "{endpoint}: {:?}",
                reply.body
            );
            'A'
        }
        StatusCode::OK if endpoint == "history" => {
            let entries = reply.body["entries"].as_array().unwrap();
            let recorded_by: Vec<&Value> = entries
                .iter()
                .map(|e| &e["metadata"]["recorded_by.person"])
                .collect();
            if recorded_by.iter().all(|p| *p == person) {
                'O'
            } else {
                'A'
            }
        }
        StatusCode::OK => 'A',
        other => panic!("{person} {endpoint}: unexpected {other} {:?}", reply.body),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_every_endpoint_own_other_and_break_glass() {
    let server = http_support::start(common::sqlite().await).await;
    let opener = server
        .token_for("opener@centre-sud", "doctor", &["centre-sud"])
        .await;
    let foreign = server
        .token_for("opener@hochelaga", "doctor", &["hochelaga"])
        .await;
    let own = server.open_file(&opener, "own-file", "centre-sud").await;
    let other = server.open_file(&foreign, "other-file", "hochelaga").await;
    let targets = [
        Target {
            child: own,
            centre: "centre-sud",
            reason: None,
        },
        Target {
            child: other,
            centre: "hochelaga",
            reason: None,
        },
        Target {
            child: other,
            centre: "hochelaga",
            reason: Some("emergency: child in the ER"),
        },
    ];

    let mut lines = TABLE.trim().lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().skip(1).collect();
    let abbreviations: Vec<&str> = ROLES.iter().map(|(a, _)| *a).collect();
    assert_eq!(header, abbreviations);
    let mut tokens = Vec::new();
    for (abbreviation, role) in ROLES {
        let person = format!("{abbreviation}1@centre-sud");
        tokens.push((
            person.clone(),
            server.token_for(&person, role, &["centre-sud"]).await,
        ));
    }

    let (mut cells, mut mismatches) = (0usize, Vec::new());
    let mut endpoints = Vec::new();
    for line in lines {
        let mut words = line.split_whitespace();
        let endpoint = words.next().unwrap();
        endpoints.push(endpoint);
        let row: Vec<&str> = words.collect();
        assert_eq!(row.len(), ROLES.len(), "{endpoint}");
        for ((person, token), expected) in tokens.iter().zip(&row) {
            for (target, expected) in targets.iter().zip(expected.chars()) {
                let got = answer(&server, token, person, endpoint, target).await;
                cells += 1;
                if got != expected {
                    mismatches.push(format!(
                        "{person} {endpoint} {}{}: expected {expected}, got {got}",
                        target.centre,
                        if target.reason.is_some() {
                            " (break-glass)"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // Every endpoint that takes a principal is in the matrix: 8 reads and 21 kinds of entry.
    assert_eq!(endpoints.len(), 29);
    assert_eq!(cells, 19 * 29 * 3);
    println!(
        "denial matrix: {} roles x {} endpoints x 3 = {cells} cells",
        ROLES.len(),
        endpoints.len()
    );

    // Nothing was written, in either file; the other centre's file was read only by break-glass.
    assert_eq!(server.app.store().history(own).await.unwrap().len(), 1);
    assert_eq!(server.app.store().history(other).await.unwrap().len(), 1);
    let log = server.app.access_log(other).await.unwrap();
    assert!(!log.is_empty());
    assert!(log.iter().all(|e| e.break_glass), "{log:?}");
    server.stop().await;
}
