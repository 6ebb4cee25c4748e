//! Before Léa's reassessment, her clinician reads her current plan, her whole trajectory and the
//! follow-up worklist. The expected values below were worked out by hand from the story and the
//! default follow-up rules (DOMAIN.md), not produced by the code.
//!
//! The story (Léa, born 2017-05-10, centre-sud):
//!
//! | #  | clinical date | entry |
//! |----|---------------|-------|
//! | 1  | 2024-03-01 | request from school; file opened |
//! | 2  | 2024-03-12 | request accepted (assessment 4 days late) |
//! | 3  | 2024-03-20 | first meeting: development severe, school moderate |
//! | 4  | 2024-04-10 | plan v1: g1 target 2024-06-30, g2 target 2024-12-01; reassess by 2024-09-20 (plan 7 days late) |
//! | 5  | 2024-04-15 | referral r1 to speech therapy, outcome expected 2024-05-15 |
//! | 6  | 2024-05-02 | family contact by phone (corrected by #13 to a home visit) |
//! | 7  | 2024-05-20 | r1: waiting (interim) |
//! | 8  | 2024-06-01 | legal intervention l1 opened (landlord/tenant, negotiation) |
//! | 9  | 2024-07-15 | g2 in progress |
//! | 10 | 2024-09-25 | reassessment meeting: development moderate, school mild, living conditions mild |
//! | 11 | 2024-10-01 | plan v2: g2 kept (target moved to 2025-03-01), g3 new (2025-06-01), g1 dropped |
//! | 12 | 2024-10-05 | r1 seen |
//! | 13 | 2024-10-10 | correction of #6: it was a home visit |
//! | 14 | 2024-03-25 | a family contact from March, recorded last |

mod common;

use common::{calendar, TestStore};
use lifecourse::domain::*;
use lifecourse::fixtures::*;
use lifecourse::runner::{Projection, Runner};
use lifecourse::Store;
use lifecourse_events::*;
use lifecourse_projections::*;
use uuid::Uuid;

fn g(n: u128) -> GoalId {
    GoalId(Uuid::from_u128(n))
}
const R1: ReferralId = ReferralId(Uuid::from_u128(0x51));
const L1: LegalMatterId = LegalMatterId(Uuid::from_u128(0x61));

fn story() -> Vec<ChildFileCommand> {
    let mut reassessment = meeting_details("2024-09-25");
    reassessment.needs = vec![
        NeedAssessment {
            domain: NeedDomain::Development,
            level: NeedLevel::Moderate,
            note: None,
        },
        NeedAssessment {
            domain: NeedDomain::SchoolLearning,
            level: NeedLevel::Mild,
            note: None,
        },
        NeedAssessment {
            domain: NeedDomain::LivingConditions,
            level: NeedLevel::Mild,
            note: None,
        },
    ];
    let mut v1 = plan_decision(
        "2024-04-10",
        vec![goal(g(1), "2024-06-30"), goal(g(2), "2024-12-01")],
    );
    v1.next_reassessment_on = Some(date("2024-09-20"));
    let home_visit = ChildEvent::FamilyContactRecorded(FamilyContactRecorded {
        mode: ContactMode::HomeVisit,
        ..contact_details("2024-05-02")
    });
    vec![
        open_file("2024-03-01", "2017-05-10"),
        accept("2024-03-12"),
        meeting("2024-03-20"),
        ChildFileCommand::AdoptActionPlan(v1),
        referral("2024-04-15", R1, Some("2024-05-15")),
        contact("2024-05-02"),
        outcome("2024-05-20", R1, ReferralOutcome::Waiting),
        open_legal("2024-06-01", L1),
        progress("2024-07-15", g(2), GoalStatus::InProgress),
        ChildFileCommand::HoldAssessmentMeeting(reassessment),
        revise_plan(
            "2024-10-01",
            vec![goal(g(2), "2025-03-01"), goal(g(3), "2025-06-01")],
        ),
        outcome("2024-10-05", R1, ReferralOutcome::Seen),
        correct(
            "2024-10-10",
            6,
            CorrectionRequest::ReplacedBy(Box::new(home_visit)),
        ),
        contact("2024-03-25"),
    ]
}

async fn record_story(store: &Store, child: ChildId) {
    for (n, command) in story().into_iter().enumerate() {
        store
            .record(
                calendar(),
                request(child, &format!("lea-{}", n + 1), command),
            )
            .await
            .unwrap();
    }
}

async fn projected<T: serde::de::DeserializeOwned>(
    store: &Store,
    p: Projection,
    child: ChildId,
) -> T {
    Runner::new(store, FollowUpRules::default())
        .catch_up()
        .await
        .unwrap();
    let row = store
        .view_row(p.table(), child)
        .await
        .unwrap()
        .expect("a row for the child");
    assert_eq!((row.applied_events, row.last_sequence), (14, 14));
    serde_json::from_str(&row.view).unwrap()
}

async fn the_current_plan_is_what_the_clinician_expects(store: TestStore) {
    let child = ChildId::new_random();
    record_story(&store, child).await;
    let plan: CurrentPlan = projected(&store, Projection::ActionPlan, child).await;
    assert_eq!(plan.status, Stage::Active);
    assert_eq!(plan.centre.as_ref().map(|c| c.as_str()), Some("centre-sud"));
    let p = plan.plan.as_ref().expect("a plan in force");
    assert_eq!(
        (p.version, p.adopted_on, p.meeting_number),
        (2, date("2024-10-01"), 2)
    );
    let goals: Vec<_> = p
        .goals
        .iter()
        .map(|g| (g.goal_id, g.target_on, g.status, g.status_on))
        .collect();
    assert_eq!(
        goals,
        vec![
            (
                g(2),
                date("2025-03-01"),
                Some(GoalStatus::InProgress),
                Some(date("2024-07-15"))
            ),
            (g(3), date("2025-06-01"), None, None),
        ]
    );
    // No date in plan v2: six months after the last meeting (2024-09-25).
    assert_eq!(plan.next_reassessment_on, Some(date("2025-03-25")));
    assert!(plan.next_reassessment_is_default);
    assert_eq!(plan.last_meeting_on, Some(date("2024-09-25")));
    assert!(plan.active_services.is_empty());
    assert!(plan.open_referrals.is_empty(), "r1 was seen");
    assert_eq!(plan.open_legal_matters.len(), 1);
    assert_eq!(plan.open_legal_matters[0].matter_id, L1);
    assert_eq!(plan.open_legal_matters[0].opened_on, date("2024-06-01"));
    assert!(plan.open_rights_concerns.is_empty());

    // In June the referral was still open, waiting since 20 May; plan v1 was in force.
    let history = ChildHistory::from_events(store.history(child).await.unwrap());
    let june = CurrentPlan::from_history(
        &history,
        &FollowUpRules::default(),
        Some(date("2024-06-15")),
    );
    assert_eq!(june.plan.as_ref().map(|p| p.version), Some(1));
    assert_eq!(june.next_reassessment_on, Some(date("2024-09-20")));
    assert!(!june.next_reassessment_is_default);
    assert_eq!(june.open_referrals.len(), 1);
    let r = &june.open_referrals[0];
    assert_eq!(
        (r.expected_by, r.state, r.state_on),
        (
            date("2024-05-15"),
            Some(ReferralOutcome::Waiting),
            Some(date("2024-05-20"))
        )
    );
    assert_eq!(r.age_days(date("2024-06-15")), 61);
}

async fn the_trajectory_shows_the_whole_story_with_corrections_visible(store: TestStore) {
    let child = ChildId::new_random();
    record_story(&store, child).await;
    let t: Trajectory = projected(&store, Projection::Trajectory, child).await;

    assert_eq!(t.birth_date.map(|b| *b.expose()), Some(date("2017-05-10")));
    assert_eq!(t.episodes.len(), 1);
    let e = &t.episodes[0];
    assert_eq!(
        (
            e.requested_on,
            e.source,
            e.assessed_on,
            e.decision.as_ref().map(InitialDecision::word),
            e.first_meeting_on,
            e.closed_on
        ),
        (
            date("2024-03-01"),
            ReferralSource::School,
            Some(date("2024-03-12")),
            Some("accepted"),
            Some(date("2024-03-20")),
            None
        )
    );

    let meetings: Vec<_> = t
        .meetings
        .iter()
        .map(|m| (m.meeting_number, m.kind, m.occurred_on, m.age_months))
        .collect();
    assert_eq!(
        meetings,
        vec![
            (1, MeetingKind::Initial, date("2024-03-20"), Some(82)),
            (2, MeetingKind::Reassessment, date("2024-09-25"), Some(88)),
        ]
    );
    let who: Vec<_> = t.meetings[0]
        .participants
        .iter()
        .map(|p| (p.role, p.name.as_ref().map(|n| n.expose().clone())))
        .collect();
    assert_eq!(
        who,
        vec![
            (ParticipantRole::Parent, Some("Marie Tremblay".to_string())),
            (ParticipantRole::Doctor, None)
        ]
    );
    assert!(t.meetings[0].child_took_part);

    assert_eq!(t.needs.meetings, vec![1, 2]);
    let grid: Vec<_> = t
        .needs
        .rows
        .iter()
        .map(|r| (r.domain, r.levels.clone()))
        .collect();
    assert_eq!(
        grid,
        vec![
            (
                NeedDomain::Development,
                vec![Some(NeedLevel::Severe), Some(NeedLevel::Moderate)]
            ),
            (
                NeedDomain::SchoolLearning,
                vec![Some(NeedLevel::Moderate), Some(NeedLevel::Mild)]
            ),
            (
                NeedDomain::LivingConditions,
                vec![None, Some(NeedLevel::Mild)]
            ),
        ]
    );

    let plans: Vec<_> = t
        .plans
        .iter()
        .map(|p| {
            (
                p.version,
                p.revision,
                p.adopted_on,
                p.meeting_number,
                p.goals.clone(),
                p.left_out.clone(),
            )
        })
        .collect();
    assert_eq!(
        plans,
        vec![
            (1, false, date("2024-04-10"), 1, vec![g(1), g(2)], vec![]),
            (2, true, date("2024-10-01"), 2, vec![g(2), g(3)], vec![g(1)]),
        ]
    );
    let goals: Vec<_> = t
        .goals
        .iter()
        .map(|s| {
            (
                s.goal_id,
                s.first_version,
                s.last_version,
                s.target_on,
                s.progress.clone(),
                s.fate,
            )
        })
        .collect();
    assert_eq!(
        goals,
        vec![
            // Left out of v2, which set g3 in the same domain: replaced, not abandoned.
            (g(1), 1, 1, date("2024-06-30"), vec![], GoalFate::Replaced),
            (
                g(2),
                1,
                2,
                date("2025-03-01"),
                vec![(date("2024-07-15"), GoalStatus::InProgress)],
                GoalFate::CarriedForward
            ),
            (g(3), 2, 2, date("2025-06-01"), vec![], GoalFate::InPlan),
        ]
    );

    assert_eq!(t.referrals.len(), 1);
    let r = &t.referrals[0];
    assert_eq!(
        r.outcomes,
        vec![
            (date("2024-05-20"), ReferralOutcome::Waiting),
            (date("2024-10-05"), ReferralOutcome::Seen)
        ]
    );
    assert_eq!(
        (r.final_outcome, r.days_to_outcome),
        (Some(ReferralOutcome::Seen), Some(173))
    );
    assert_eq!(t.legal_matters.len(), 1);
    assert_eq!(t.legal_matters[0].concluded_on, None);

    // The timeline is in clinical order; the March contact recorded last sits in March; the
    // corrected contact shows the corrected fact and its correction, which stays an entry too.
    let order: Vec<u64> = t.timeline.iter().map(|e| e.sequence).collect();
    assert_eq!(order, vec![1, 2, 3, 14, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    let corrected = t.timeline.iter().find(|e| e.sequence == 6).unwrap();
    assert_eq!(
        corrected.summary,
        "family contact: home visit with parent or guardian"
    );
    let mark = corrected.correction.as_ref().expect("marked as corrected");
    assert_eq!((mark.by_sequence, mark.entered_in_error), (13, false));
    assert_eq!(
        mark.reason.expose(),
        "wrong entry, checked against the paper notes"
    );
    let correction = t.timeline.iter().find(|e| e.sequence == 13).unwrap();
    assert_eq!(correction.event_type, "EntryCorrected");
    assert_eq!(t.timeline[0].age_months, Some(81));
}

async fn the_worklist_on_given_dates(store: TestStore) {
    let child = ChildId::new_random();
    record_story(&store, child).await;
    let expectations: Vec<Expectation> = projected(&store, Projection::FollowUp, child).await;
    let worklist = |on: &str| -> Vec<(FollowUpRule, Option<String>, ClinicalDate, i64, u64)> {
        gaps_on(&expectations, date(on))
            .into_iter()
            .map(|g| {
                (
                    g.rule,
                    g.subject.map(|s| s.to_string()),
                    g.due_on,
                    g.days_overdue,
                    g.source.sequence,
                )
            })
            .collect()
    };
    // 10 March: the request of 1 March is 2 days past its 7-day assessment.
    assert_eq!(
        worklist("2024-03-10"),
        vec![(
            FollowUpRule::InitialAssessment,
            None,
            date("2024-03-08"),
            2,
            1
        )]
    );
    // 5 April: the meeting of 20 March has waited 16 days for a plan (due 3 April).
    assert_eq!(
        worklist("2024-04-05"),
        vec![(
            FollowUpRule::PlanAfterMeeting,
            None,
            date("2024-04-03"),
            2,
            3
        )]
    );
    // 1 August: r1 is past its expected date (the interim "waiting" is not an outcome); g1 is past
    // its target with no progress; the last contact (2 May) was more than 60 days ago.
    assert_eq!(
        worklist("2024-08-01"),
        vec![
            (
                FollowUpRule::ReferralOutcome,
                Some(R1.to_string()),
                date("2024-05-15"),
                78,
                5
            ),
            (
                FollowUpRule::GoalProgress,
                Some(g(1).to_string()),
                date("2024-06-30"),
                32,
                4
            ),
            (FollowUpRule::FamilyContact, None, date("2024-07-01"), 31, 6),
        ]
    );
    // 22 September: the reassessment due 20 September has not been held yet. It has been
    // expected since the meeting of 20 March (#3, six months on); plan v1 set the same date.
    assert!(worklist("2024-09-22").contains(&(
        FollowUpRule::Reassessment,
        None,
        date("2024-09-20"),
        2,
        3
    )));
    // 1 October: the reassessment was held (25 Sept) with Marie Tremblay, the parent — contact
    // with the family, so the family contact gap closed that day; g1 left plan v2 that day; r1
    // and the legal matter (no news since 1 June, 90 days) remain.
    assert_eq!(
        worklist("2024-10-01"),
        vec![
            (
                FollowUpRule::ReferralOutcome,
                Some(R1.to_string()),
                date("2024-05-15"),
                139,
                5
            ),
            (
                FollowUpRule::LegalNews,
                Some(L1.to_string()),
                date("2024-08-30"),
                32,
                8
            ),
        ]
    );
    // 10 October: r1 was seen on 5 October; the legal matter stands (the next family contact
    // is due 60 days after the reassessment of 25 September).
    let october: Vec<FollowUpRule> = worklist("2024-10-10").into_iter().map(|g| g.0).collect();
    assert_eq!(october, vec![FollowUpRule::LegalNews]);
}

on_both_stores!(
    the_current_plan_is_what_the_clinician_expects,
    the_trajectory_shows_the_whole_story_with_corrections_visible,
    the_worklist_on_given_dates,
);
