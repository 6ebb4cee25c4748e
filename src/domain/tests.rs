//! Given these entries, when this command, then these events or this refusal: one test per rule,
//! with cqrs-es's `TestFramework` and no database.

use cqrs_es::test::TestFramework;
use lifecourse_events::*;

use super::*;
use crate::fixtures::*;

const TODAY: &str = "2026-06-30";

fn calendar() -> ClinicalCalendar {
    ClinicalCalendar { today: date(TODAY) }
}

fn given(commands: Vec<ChildFileCommand>) -> cqrs_es::test::AggregateTestExecutor<ChildFile> {
    let events = events_of(commands, date(TODAY))
        .into_iter()
        .map(ChildFileEvent)
        .collect();
    TestFramework::<ChildFile>::with(calendar()).given(events)
}

/// What the file records for `when`, after `history`.
fn recorded(history: Vec<ChildFileCommand>, when: ChildFileCommand) -> ChildEvent {
    let mut events = given(history)
        .when(when)
        .inspect_result()
        .unwrap_or_else(|e| panic!("refused: {e}"));
    assert_eq!(events.len(), 1);
    events.remove(0).0
}

fn refused(history: Vec<ChildFileCommand>, when: ChildFileCommand) -> ChildFileError {
    match given(history).when(when).inspect_result() {
        Ok(events) => panic!("accepted: {events:?}"),
        Err(e) => e,
    }
}

fn opened() -> Vec<ChildFileCommand> {
    vec![open_file("2024-03-01", "2017-05-10")]
}

fn accepted() -> Vec<ChildFileCommand> {
    let mut h = opened();
    h.push(accept("2024-03-04"));
    h
}

fn met() -> Vec<ChildFileCommand> {
    let mut h = accepted();
    h.push(meeting("2024-03-20"));
    h
}

fn g(n: u128) -> GoalId {
    GoalId(uuid::Uuid::from_u128(n))
}

fn with_plan() -> Vec<ChildFileCommand> {
    let mut h = met();
    h.push(adopt_plan(
        "2024-03-25",
        vec![goal(g(1), "2024-09-01"), goal(g(2), "2024-12-01")],
    ));
    h
}

fn then(
    mut history: Vec<ChildFileCommand>,
    more: impl IntoIterator<Item = ChildFileCommand>,
) -> Vec<ChildFileCommand> {
    history.extend(more);
    history
}

// ---- acceptance: every command records its event ----

#[test]
fn opening_a_file_records_the_request() {
    TestFramework::<ChildFile>::with(calendar())
        .given_no_previous_events()
        .when(open_file("2024-03-01", "2017-05-10"))
        .then_expect_events(vec![ChildFileEvent(ChildEvent::ChildFileOpened(
            ChildFileOpened {
                occurred_on: date("2024-03-01"),
                centre: CentreId::parse("centre-sud").unwrap(),
                child: ChildIdentity {
                    given_name: "Léa".into(),
                    family_name: "Tremblay".into(),
                    birth_date: Identifying::new(date("2017-05-10")),
                    address: Some("2100 rue Ontario Est".into()),
                    phone: None,
                },
                request: Request {
                    source: ReferralSource::School,
                    source_detail: Some("École Saint-Nom".into()),
                    reason: "language delay and frequent absences".into(),
                },
            },
        ))]);
}

#[test]
fn initial_assessment_decisions_are_recorded() {
    for decision in [
        InitialDecision::Accepted,
        InitialDecision::Waiting,
        InitialDecision::Redirected { to: "CLSC".into() },
    ] {
        let e = recorded(opened(), assess("2024-03-04", decision.clone()));
        assert!(matches!(e, ChildEvent::InitialAssessmentCompleted(a) if a.decision == decision));
    }
}

#[test]
fn a_waiting_decision_can_be_followed_by_a_decision() {
    let h = then(opened(), [assess("2024-03-04", InitialDecision::Waiting)]);
    recorded(h, accept("2024-03-20"));
}

#[test]
fn the_first_meeting_is_numbered_one_and_later_ones_are_reassessments() {
    let first = recorded(accepted(), meeting("2024-03-20"));
    assert!(
        matches!(first, ChildEvent::AssessmentMeetingHeld(m) if m.meeting_number == 1 && m.kind == MeetingKind::Initial)
    );
    let second = recorded(with_plan(), meeting("2024-09-20"));
    assert!(
        matches!(second, ChildEvent::AssessmentMeetingHeld(m) if m.meeting_number == 2 && m.kind == MeetingKind::Reassessment)
    );
}

#[test]
fn a_plan_is_numbered_and_linked_to_its_meeting() {
    let e = recorded(
        met(),
        adopt_plan("2024-03-25", vec![goal(g(1), "2024-09-01")]),
    );
    assert!(
        matches!(e, ChildEvent::ActionPlanAdopted(p) if p.plan_version == 1 && p.meeting_number == 1)
    );
    let h = then(with_plan(), [meeting("2024-09-20")]);
    let e = recorded(
        h,
        revise_plan(
            "2024-09-25",
            vec![goal(g(1), "2025-01-01"), goal(g(3), "2025-03-01")],
        ),
    );
    assert!(
        matches!(e, ChildEvent::ActionPlanRevised(p) if p.plan_version == 2 && p.meeting_number == 2)
    );
}

#[test]
fn goal_progress_services_referrals_legal_and_rights_are_recorded() {
    let s = ServiceId(uuid::Uuid::from_u128(10));
    let r = ReferralId(uuid::Uuid::from_u128(11));
    let l = LegalMatterId(uuid::Uuid::from_u128(12));
    let c = RightsConcernId(uuid::Uuid::from_u128(13));
    let steps = [
        progress("2024-04-10", g(1), GoalStatus::InProgress),
        start_service("2024-04-11", s, vec![g(1)]),
        end_service("2024-06-11", s),
        referral("2024-04-12", r, Some("2024-05-12")),
        outcome("2024-04-20", r, ReferralOutcome::Waiting),
        outcome("2024-05-02", r, ReferralOutcome::Seen),
        open_legal("2024-04-13", l),
        conclude_legal("2024-07-13", l),
        raise_concern("2024-04-14", c, &[28]),
        resolve_concern("2024-05-14", c),
        contact("2024-04-15"),
        give_consent("2024-04-16", ConsentScope::Research),
        withdraw_consent("2024-08-16", ConsentScope::Research),
        transfer("2024-09-01", "hochelaga"),
        close("2024-10-01", ClosureReason::GoalsMet),
        reopen("2025-02-01"),
    ];
    let mut history = with_plan();
    for step in steps {
        let name = step.name();
        let event = recorded(history.clone(), step.clone());
        assert_eq!(event.occurred_on(), step.occurred_on(), "{name}");
        history.push(step);
    }
}

#[test]
fn a_transfer_names_the_centre_it_leaves() {
    let e = recorded(accepted(), transfer("2024-04-01", "hochelaga"));
    assert!(
        matches!(e, ChildEvent::FileTransferred(t) if t.from_centre == centre() && t.to_centre.as_str() == "hochelaga")
    );
}

#[test]
fn a_correction_names_the_entry_and_its_type() {
    let h = then(accepted(), [contact("2024-03-10")]);
    let replacement = ChildEvent::FamilyContactRecorded(FamilyContactRecorded {
        mode: ContactMode::HomeVisit,
        ..contact_details("2024-03-10")
    });
    let e = recorded(
        h,
        correct(
            "2024-03-12",
            3,
            CorrectionRequest::ReplacedBy(Box::new(replacement)),
        ),
    );
    assert!(matches!(&e, ChildEvent::EntryCorrected(c)
        if c.corrects_sequence == 3 && c.corrected_event_type == "FamilyContactRecorded"
        && matches!(&c.correction, Correction::Replaced { schema_version, .. } if schema_version == "1.1")));
}

// ---- rejections: each rule, with its message ----

#[test]
fn nothing_can_be_recorded_before_the_file_is_opened() {
    assert_eq!(
        refused(vec![], contact("2024-03-01")),
        ChildFileError::NoFile
    );
}

#[test]
fn a_file_is_opened_once() {
    assert!(matches!(
        refused(opened(), open_file("2024-04-01", "2017-05-10")),
        ChildFileError::AlreadyOpened { .. }
    ));
}

#[test]
fn no_date_in_the_future() {
    let err = refused(accepted(), contact("2026-07-01"));
    assert_eq!(
        err,
        ChildFileError::DateInFuture {
            what: "the family contact",
            date: date("2026-07-01"),
            today: date(TODAY)
        }
    );
    assert!(
        err.to_string()
            .contains("in the future (today is 2026-06-30)"),
        "{err}"
    );
    assert!(matches!(
        refused(vec![], open_file("2024-03-01", "2026-08-01")),
        ChildFileError::DateInFuture {
            what: "the date of birth",
            ..
        }
    ));
}

#[test]
fn no_date_before_the_childs_birth() {
    assert!(matches!(
        refused(vec![], open_file("2017-01-01", "2017-05-10")),
        ChildFileError::DateBeforeBirth { .. }
    ));
    let err = refused(accepted(), contact("2016-01-01"));
    // The birth date identifies the child: the message names the problem, not the date.
    assert_eq!(
        err.to_string(),
        "the family contact is dated 2016-01-01, before the child's date of birth; check the date"
    );
}

#[test]
fn nothing_is_dated_before_the_file_opened() {
    let err = refused(accepted(), contact("2024-02-01"));
    assert!(
        matches!(
            err,
            ChildFileError::OutOfOrder {
                earlier_what: "the file opening",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_closed_file_accepts_only_reopening_corrections_and_consent_changes() {
    let closed = then(
        accepted(),
        [
            contact("2024-03-10"),
            close("2024-04-01", ClosureReason::FamilyWithdrew),
        ],
    );
    let err = refused(closed.clone(), contact("2024-04-02"));
    assert!(
        matches!(
            err,
            ChildFileError::FileIsClosed {
                attempted: "the family contact",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        refused(closed.clone(), meeting("2024-04-02")),
        ChildFileError::FileIsClosed { .. }
    ));
    recorded(
        closed.clone(),
        give_consent("2024-04-02", ConsentScope::Research),
    );
    recorded(
        closed.clone(),
        correct("2024-04-02", 3, CorrectionRequest::EnteredInError),
    );
    recorded(closed, reopen("2024-05-01"));
}

#[test]
fn only_a_closed_file_reopens_and_not_before_its_closure() {
    assert_eq!(
        refused(accepted(), reopen("2024-05-01")),
        ChildFileError::FileNotClosed
    );
    let closed = then(accepted(), [close("2024-04-01", ClosureReason::GoalsMet)]);
    assert!(matches!(
        refused(closed, reopen("2024-03-20")),
        ChildFileError::OutOfOrder {
            earlier_what: "the closure",
            ..
        }
    ));
}

#[test]
fn a_request_is_decided_once() {
    assert_eq!(
        refused(accepted(), accept("2024-03-05")),
        ChildFileError::AlreadyAssessed {
            decision: "accepted"
        }
    );
    let redirected = then(
        opened(),
        [assess(
            "2024-03-04",
            InitialDecision::Redirected { to: "CLSC".into() },
        )],
    );
    assert!(matches!(
        refused(redirected, accept("2024-03-05")),
        ChildFileError::AlreadyAssessed { .. }
    ));
}

#[test]
fn a_redirection_names_where_to() {
    let err = refused(
        opened(),
        assess("2024-03-04", InitialDecision::Redirected { to: " ".into() }),
    );
    assert_eq!(err, ChildFileError::RedirectedNowhere);
}

#[test]
fn care_needs_an_accepted_request() {
    let waiting = then(opened(), [assess("2024-03-04", InitialDecision::Waiting)]);
    let err = refused(waiting, meeting("2024-03-20"));
    assert!(
        matches!(
            err,
            ChildFileError::NotAccepted {
                stage: Stage::AwaitingDecision,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("decision \"accepted\" first"),
        "{err}"
    );
    let r = ReferralId(uuid::Uuid::from_u128(1));
    assert!(matches!(
        refused(opened(), referral("2024-03-02", r, None)),
        ChildFileError::NotAccepted { .. }
    ));
}

#[test]
fn a_meeting_has_participants_and_assesses_each_domain_once() {
    let mut m = meeting_details("2024-03-20");
    m.participants.clear();
    assert_eq!(
        refused(accepted(), ChildFileCommand::HoldAssessmentMeeting(m)),
        ChildFileError::NoParticipants
    );
    let mut m = meeting_details("2024-03-20");
    m.needs.clear();
    assert_eq!(
        refused(accepted(), ChildFileCommand::HoldAssessmentMeeting(m)),
        ChildFileError::NoNeedsAssessed
    );
    let mut m = meeting_details("2024-03-20");
    let again = m.needs[0].clone();
    m.needs.push(again);
    assert_eq!(
        refused(accepted(), ChildFileCommand::HoldAssessmentMeeting(m)),
        ChildFileError::DuplicateNeedDomain {
            domain: NeedDomain::Development
        }
    );
}

#[test]
fn no_action_plan_before_a_meeting() {
    let err = refused(
        accepted(),
        adopt_plan("2024-03-25", vec![goal(g(1), "2024-09-01")]),
    );
    assert_eq!(
        err,
        ChildFileError::NoMeetingYet {
            request_on: date("2024-03-01")
        }
    );
    assert!(
        err.to_string().contains("before an assessment meeting"),
        "{err}"
    );
}

#[test]
fn a_reopened_file_needs_a_new_meeting_before_a_new_plan() {
    let h = then(
        with_plan(),
        [
            close("2024-06-01", ClosureReason::GoalsMet),
            reopen("2025-01-10"),
            accept("2025-01-12"),
        ],
    );
    assert!(matches!(
        refused(
            h.clone(),
            adopt_plan("2025-01-20", vec![goal(g(5), "2025-06-01")])
        ),
        ChildFileError::NoMeetingYet { .. }
    ));
    let h = then(h, [meeting("2025-01-20")]);
    recorded(h, adopt_plan("2025-01-25", vec![goal(g(5), "2025-06-01")]));
}

#[test]
fn a_plan_in_force_is_revised_not_adopted_again() {
    assert_eq!(
        refused(
            with_plan(),
            adopt_plan("2024-04-01", vec![goal(g(3), "2024-09-01")])
        ),
        ChildFileError::PlanAlreadyInForce { version: 1 }
    );
    assert!(matches!(
        refused(
            met(),
            revise_plan("2024-04-01", vec![goal(g(3), "2024-09-01")])
        ),
        ChildFileError::NoPlanInForce { .. }
    ));
}

#[test]
fn plan_goals_are_present_unique_new_and_not_already_due() {
    assert_eq!(
        refused(met(), adopt_plan("2024-03-25", vec![])),
        ChildFileError::PlanWithoutGoals
    );
    assert_eq!(
        refused(
            met(),
            adopt_plan(
                "2024-03-25",
                vec![goal(g(1), "2024-09-01"), goal(g(1), "2024-10-01")]
            )
        ),
        ChildFileError::DuplicateGoal { goal: g(1) }
    );
    assert!(matches!(
        refused(
            met(),
            adopt_plan("2024-03-25", vec![goal(g(1), "2024-03-01")])
        ),
        ChildFileError::TargetBeforePlan { .. }
    ));
    // goal 2 was dropped from v2 and cannot come back under the same id
    let h = then(
        with_plan(),
        [revise_plan("2024-05-01", vec![goal(g(1), "2024-09-01")])],
    );
    assert_eq!(
        refused(
            h,
            revise_plan(
                "2024-06-01",
                vec![goal(g(1), "2024-09-01"), goal(g(2), "2024-12-01")]
            )
        ),
        ChildFileError::GoalIdReused { goal: g(2) }
    );
}

#[test]
fn a_plan_follows_its_meeting_and_reassesses_later() {
    assert!(matches!(
        refused(
            met(),
            adopt_plan("2024-03-19", vec![goal(g(1), "2024-09-01")])
        ),
        ChildFileError::OutOfOrder {
            earlier_what: "the meeting",
            ..
        }
    ));
    let mut p = plan_decision("2024-03-25", vec![goal(g(1), "2024-09-01")]);
    p.next_reassessment_on = Some(date("2024-03-25"));
    assert!(matches!(
        refused(met(), ChildFileCommand::AdoptActionPlan(p)),
        ChildFileError::ReassessmentNotAfterPlan { .. }
    ));
}

#[test]
fn goals_refer_to_the_current_plan() {
    let err = refused(
        with_plan(),
        progress("2024-04-01", g(9), GoalStatus::Achieved),
    );
    assert!(
        matches!(
            err,
            ChildFileError::UnknownGoal {
                plan_version: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(&g(1).to_string()),
        "lists the plan's goals: {err}"
    );
    let h = then(
        with_plan(),
        [revise_plan("2024-05-01", vec![goal(g(1), "2024-09-01")])],
    );
    assert!(matches!(
        refused(h, progress("2024-05-02", g(2), GoalStatus::Achieved)),
        ChildFileError::UnknownGoal {
            plan_version: 2,
            ..
        }
    ));
    let s = ServiceId(uuid::Uuid::from_u128(10));
    assert!(matches!(
        refused(with_plan(), start_service("2024-04-01", s, vec![g(9)])),
        ChildFileError::UnknownGoal { .. }
    ));
    assert!(matches!(
        refused(met(), progress("2024-04-01", g(1), GoalStatus::Achieved)),
        ChildFileError::NoPlanInForce { .. }
    ));
}

#[test]
fn referral_outcomes_need_a_known_referral_and_only_one_is_final() {
    let r = ReferralId(uuid::Uuid::from_u128(1));
    let err = refused(accepted(), outcome("2024-04-01", r, ReferralOutcome::Seen));
    assert!(
        matches!(
            err,
            ChildFileError::UnknownItem {
                kind: "referral",
                ..
            }
        ),
        "{err}"
    );
    let h = then(
        accepted(),
        [
            referral("2024-03-10", r, None),
            outcome("2024-04-01", r, ReferralOutcome::NoShow),
        ],
    );
    let err = refused(h, outcome("2024-04-10", r, ReferralOutcome::Seen));
    assert!(
        err.to_string()
            .contains("was already no show on 2024-04-01"),
        "{err}"
    );
    let h = then(accepted(), [referral("2024-03-10", r, None)]);
    assert!(matches!(
        refused(h.clone(), outcome("2024-03-09", r, ReferralOutcome::Seen)),
        ChildFileError::OutOfOrder { .. }
    ));
    assert!(matches!(
        refused(h, referral("2024-03-11", r, None)),
        ChildFileError::DuplicateId {
            kind: "referral",
            ..
        }
    ));
    let r2 = ReferralId(uuid::Uuid::from_u128(2));
    assert!(matches!(
        refused(accepted(), referral("2024-03-10", r2, Some("2024-03-01"))),
        ChildFileError::ExpectedBeforeReferral { .. }
    ));
}

#[test]
fn services_legal_matters_and_concerns_end_once_and_not_before_they_begin() {
    let s = ServiceId(uuid::Uuid::from_u128(1));
    let h = then(
        with_plan(),
        [
            start_service("2024-04-01", s, vec![]),
            end_service("2024-05-01", s),
        ],
    );
    assert!(matches!(
        refused(h, end_service("2024-05-02", s)),
        ChildFileError::AlreadyFinished {
            kind: "service",
            ..
        }
    ));
    let h = then(with_plan(), [start_service("2024-04-01", s, vec![])]);
    assert!(matches!(
        refused(h, end_service("2024-03-30", s)),
        ChildFileError::OutOfOrder { .. }
    ));
    let l = LegalMatterId(uuid::Uuid::from_u128(2));
    assert!(matches!(
        refused(accepted(), conclude_legal("2024-04-01", l)),
        ChildFileError::UnknownItem { .. }
    ));
    let c = RightsConcernId(uuid::Uuid::from_u128(3));
    let h = then(
        accepted(),
        [
            raise_concern("2024-03-10", c, &[28]),
            resolve_concern("2024-03-20", c),
        ],
    );
    assert!(matches!(
        refused(h, resolve_concern("2024-03-21", c)),
        ChildFileError::AlreadyFinished { .. }
    ));
}

#[test]
fn a_rights_concern_names_distinct_articles() {
    let c = RightsConcernId(uuid::Uuid::from_u128(3));
    assert_eq!(
        refused(accepted(), raise_concern("2024-03-10", c, &[])),
        ChildFileError::NoArticles
    );
    assert_eq!(
        refused(accepted(), raise_concern("2024-03-10", c, &[28, 28])),
        ChildFileError::DuplicateArticle { article: 28 }
    );
}

#[test]
fn consent_is_given_before_it_is_withdrawn_and_not_twice() {
    assert_eq!(
        refused(
            opened(),
            withdraw_consent("2024-03-02", ConsentScope::Research)
        ),
        ChildFileError::NoConsentToWithdraw {
            scope: ConsentScope::Research
        }
    );
    let h = then(
        opened(),
        [give_consent("2024-03-02", ConsentScope::Research)],
    );
    assert!(matches!(
        refused(h, give_consent("2024-03-03", ConsentScope::Research)),
        ChildFileError::ConsentAlreadyGiven { .. }
    ));
}

#[test]
fn a_transfer_goes_to_another_centre() {
    assert_eq!(
        refused(accepted(), transfer("2024-04-01", "centre-sud")),
        ChildFileError::SameCentre { centre: centre() }
    );
}

#[test]
fn a_correction_names_an_existing_entry_and_gives_a_reason() {
    let h = then(accepted(), [contact("2024-03-10")]);
    assert_eq!(
        refused(
            h.clone(),
            correct("2024-03-12", 9, CorrectionRequest::EnteredInError)
        ),
        ChildFileError::UnknownEntry {
            sequence: 9,
            last: 3
        }
    );
    assert!(matches!(
        refused(
            h.clone(),
            correct("2024-03-12", 0, CorrectionRequest::EnteredInError)
        ),
        ChildFileError::UnknownEntry { .. }
    ));
    let ChildFileCommand::CorrectEntry(mut c) =
        correct("2024-03-12", 3, CorrectionRequest::EnteredInError)
    else {
        unreachable!()
    };
    c.reason = "  ".into();
    assert_eq!(
        refused(h, ChildFileCommand::CorrectEntry(c)),
        ChildFileError::CorrectionWithoutReason
    );
}

#[test]
fn a_correction_replaces_like_with_like_and_changes_something() {
    let h = then(accepted(), [contact("2024-03-10")]);
    let wrong_type = ChildEvent::FileClosed(FileClosed {
        occurred_on: date("2024-03-10"),
        reason: ClosureReason::Other,
        note: None,
    });
    assert!(matches!(
        refused(
            h.clone(),
            correct(
                "2024-03-12",
                3,
                CorrectionRequest::ReplacedBy(Box::new(wrong_type))
            )
        ),
        ChildFileError::WrongCorrectionType { .. }
    ));
    let same = ChildEvent::FamilyContactRecorded(contact_details("2024-03-10"));
    assert_eq!(
        refused(
            h.clone(),
            correct(
                "2024-03-12",
                3,
                CorrectionRequest::ReplacedBy(Box::new(same))
            )
        ),
        ChildFileError::CorrectionChangesNothing { sequence: 3 }
    );
    let voided = then(
        h,
        [correct("2024-03-12", 3, CorrectionRequest::EnteredInError)],
    );
    assert_eq!(
        refused(
            voided.clone(),
            correct("2024-03-13", 3, CorrectionRequest::EnteredInError)
        ),
        ChildFileError::CorrectionChangesNothing { sequence: 3 }
    );
    assert_eq!(
        refused(
            voided,
            correct("2024-03-13", 4, CorrectionRequest::EnteredInError)
        ),
        ChildFileError::CorrectionOfCorrection {
            sequence: 4,
            target: 3
        }
    );
}

#[test]
fn a_correction_cannot_pull_the_ground_from_under_later_entries() {
    // Voiding the meeting would leave the plan (#4) without a meeting.
    let err = refused(
        with_plan(),
        correct("2024-04-01", 3, CorrectionRequest::EnteredInError),
    );
    assert!(
        matches!(
            &err,
            ChildFileError::CorrectionBreaksHistory {
                sequence: 4,
                event_type: "ActionPlanAdopted",
                ..
            }
        ),
        "{err}"
    );
    // Renumbering a meeting is caught the same way.
    let wrong_number = ChildEvent::AssessmentMeetingHeld(AssessmentMeetingHeld {
        occurred_on: date("2024-03-20"),
        meeting_number: 2,
        kind: MeetingKind::Reassessment,
        participants: meeting_details("2024-03-20").participants,
        child_took_part: false,
        child_voice: None,
        needs: meeting_details("2024-03-20").needs,
        strengths: vec![],
        hypotheses: None,
    });
    let err = refused(
        met(),
        correct(
            "2024-04-01",
            3,
            CorrectionRequest::ReplacedBy(Box::new(wrong_number)),
        ),
    );
    assert!(
        matches!(&err, ChildFileError::CorrectionBreaksHistory { problem, .. } if matches!(**problem, ChildFileError::MeetingNumbering { .. })),
        "{err}"
    );
    // A transfer replaced by one from the wrong centre.
    let h = then(accepted(), [transfer("2024-04-01", "hochelaga")]);
    let wrong_from = ChildEvent::FileTransferred(FileTransferred {
        occurred_on: date("2024-04-01"),
        from_centre: CentreId::parse("laval").unwrap(),
        to_centre: CentreId::parse("hochelaga").unwrap(),
        note: None,
    });
    let err = refused(
        h,
        correct(
            "2024-04-02",
            3,
            CorrectionRequest::ReplacedBy(Box::new(wrong_from)),
        ),
    );
    assert!(
        matches!(&err, ChildFileError::CorrectionBreaksHistory { problem, .. } if matches!(**problem, ChildFileError::TransferFromWrongCentre { .. })),
        "{err}"
    );
}

#[test]
fn a_voided_outcome_lets_the_real_one_be_recorded() {
    let r = ReferralId(uuid::Uuid::from_u128(1));
    let h = then(
        accepted(),
        [
            referral("2024-03-10", r, None),
            outcome("2024-04-01", r, ReferralOutcome::Seen),
        ],
    );
    let h = then(
        h,
        [correct("2024-04-02", 4, CorrectionRequest::EnteredInError)],
    );
    recorded(h, outcome("2024-04-05", r, ReferralOutcome::NoShow));
}

#[test]
fn closing_a_file_ends_its_services_and_its_plan() {
    let s = ServiceId(uuid::Uuid::from_u128(1));
    let h = then(
        with_plan(),
        [
            start_service("2024-04-01", s, vec![g(1)]),
            close("2024-05-01", ClosureReason::GoalsMet),
        ],
    );
    let file = ChildFile::from_entries(events_of(h, date(TODAY)));
    assert!(file.state().plan.is_none());
    assert!(!file.state().services[&s].is_open());
}

#[test]
fn a_period_of_care_does_not_end_before_what_happened_in_it() {
    let r = ReferralId(uuid::Uuid::from_u128(1));
    let h = then(accepted(), [referral("2024-04-01", r, None)]);
    let err = refused(h, close("2024-03-20", ClosureReason::GoalsMet));
    assert!(
        matches!(
            err,
            ChildFileError::OutOfOrder {
                earlier_what: "the latest entry",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn progress_is_not_dated_before_the_plan_that_set_the_goal() {
    let h = then(
        with_plan(),
        [revise_plan(
            "2024-05-01",
            vec![goal(g(1), "2024-09-01"), goal(g(7), "2024-12-01")],
        )],
    );
    // g1 entered the plan on 25 March: progress in April is fine, even recorded after v2.
    recorded(
        h.clone(),
        progress("2024-04-15", g(1), GoalStatus::InProgress),
    );
    // g7 entered on 1 May.
    let err = refused(h, progress("2024-04-15", g(7), GoalStatus::InProgress));
    assert!(
        matches!(
            err,
            ChildFileError::OutOfOrder {
                earlier_what: "the plan that set the goal",
                ..
            }
        ),
        "{err}"
    );
}

// ---- the child's circle, shared responsibility, volunteers, screenings ----

fn m(n: u128) -> CircleMemberId {
    CircleMemberId(uuid::Uuid::from_u128(n))
}

fn with_circle() -> Vec<ChildFileCommand> {
    then(
        accepted(),
        [
            add_member("2024-03-04", m(1), Relation::Mother, true),
            add_member("2024-03-05", m(2), Relation::Neighbour, false),
        ],
    )
}

#[test]
fn the_circle_records_who_joins_and_leaves_once() {
    let joined = recorded(
        opened(),
        add_member("2024-03-02", m(1), Relation::Grandparent, false),
    );
    assert!(matches!(joined, ChildEvent::CircleMemberAdded(ref a) if a.member_id == m(1)));
    assert_eq!(
        refused(
            with_circle(),
            add_member("2024-03-06", m(1), Relation::Mother, true)
        )
        .rule(),
        "member_already_in_circle"
    );
    let mut nameless = add_member("2024-03-06", m(3), Relation::Coach, false);
    if let ChildFileCommand::AddCircleMember(a) = &mut nameless {
        a.name = Identifying::new("  ".into());
    }
    assert_eq!(
        refused(with_circle(), nameless).rule(),
        "member_without_name"
    );
    recorded(with_circle(), remove_member("2024-04-01", m(2)));
    let left = then(with_circle(), [remove_member("2024-04-01", m(2))]);
    assert_eq!(
        refused(left, remove_member("2024-04-02", m(2))).rule(),
        "member_already_left"
    );
    assert_eq!(
        refused(with_circle(), remove_member("2024-03-04", m(2))).rule(),
        "out_of_order"
    );
    assert_eq!(
        refused(with_circle(), remove_member("2024-04-01", m(9))).rule(),
        "not_in_circle"
    );
    // Nobody leaves on or before the date of an entry that names them.
    let mut contact_with = contact_details("2024-04-10");
    contact_with.members = vec![m(2)];
    let named = then(
        with_circle(),
        [ChildFileCommand::RecordFamilyContact(contact_with)],
    );
    assert_eq!(
        refused(named.clone(), remove_member("2024-04-10", m(2))).rule(),
        "left_before_named"
    );
    recorded(named, remove_member("2024-04-11", m(2)));
}

#[test]
fn meetings_contacts_and_consents_name_members_of_the_circle_on_their_date() {
    let mut with_member = meeting_details("2024-03-20");
    with_member.participants[0].member = Some(m(1));
    recorded(
        with_circle(),
        ChildFileCommand::HoldAssessmentMeeting(with_member.clone()),
    );
    let mut stranger = with_member.clone();
    stranger.participants[0].member = Some(m(7));
    let err = refused(
        with_circle(),
        ChildFileCommand::HoldAssessmentMeeting(stranger),
    );
    assert_eq!(err.rule(), "not_in_circle");
    // The message names members by id and relation, never by name.
    assert!(err.to_string().contains("(mother)"), "{err}");
    assert!(!err.to_string().contains("of the child"), "{err}");
    // Before the member joined, or after they left, they are not in the circle.
    let mut early = with_member;
    early.occurred_on = date("2024-03-04");
    let mut early_circle = accepted();
    early_circle.push(add_member("2024-03-05", m(1), Relation::Mother, true));
    assert_eq!(
        refused(early_circle, ChildFileCommand::HoldAssessmentMeeting(early)).rule(),
        "not_in_circle"
    );
    let mut contact_with = contact_details("2024-04-02");
    contact_with.members = vec![m(2)];
    recorded(
        with_circle(),
        ChildFileCommand::RecordFamilyContact(contact_with.clone()),
    );
    let gone = then(with_circle(), [remove_member("2024-04-01", m(2))]);
    assert_eq!(
        refused(gone, ChildFileCommand::RecordFamilyContact(contact_with)).rule(),
        "not_in_circle"
    );
    let consent = |given_by, member| {
        ChildFileCommand::GiveConsent(ConsentGiven {
            occurred_on: date("2024-03-10"),
            scope: ConsentScope::Research,
            given_by,
            member,
        })
    };
    recorded(
        with_circle(),
        consent(ConsentGiver::SignificantAdult, Some(m(2))),
    );
    recorded(with_circle(), consent(ConsentGiver::Parent, Some(m(1))));
    assert_eq!(
        refused(with_circle(), consent(ConsentGiver::SignificantAdult, None)).rule(),
        "consent_giver_not_named"
    );
    assert_eq!(
        refused(with_circle(), consent(ConsentGiver::Child, Some(m(1)))).rule(),
        "child_consent_with_member"
    );
    assert_eq!(
        refused(with_circle(), consent(ConsentGiver::Parent, Some(m(8)))).rule(),
        "not_in_circle"
    );
}

#[test]
fn a_goal_is_shared_by_one_or_more_distinct_parties() {
    let met_circle = then(with_circle(), [meeting("2024-03-20")]);
    let shared = Goal {
        responsible: vec![
            Responsible::Role(ResponsibleParty::Child),
            Responsible::Member(m(1)),
            Responsible::Staff(PersonId::parse("sw1@centre-sud").unwrap()),
        ],
        ..goal(g(1), "2024-09-01")
    };
    let plan = recorded(
        met_circle.clone(),
        adopt_plan("2024-03-25", vec![shared.clone()]),
    );
    assert!(
        matches!(plan, ChildEvent::ActionPlanAdopted(ref p) if p.goals[0].responsible.len() == 3)
    );
    let nobody = Goal {
        responsible: vec![],
        ..shared.clone()
    };
    assert_eq!(
        refused(met_circle.clone(), adopt_plan("2024-03-25", vec![nobody])).rule(),
        "goal_without_responsible"
    );
    let twice = Goal {
        responsible: vec![Responsible::Member(m(1)), Responsible::Member(m(1))],
        ..shared.clone()
    };
    assert_eq!(
        refused(met_circle.clone(), adopt_plan("2024-03-25", vec![twice])).rule(),
        "duplicate_responsible"
    );
    let stranger = Goal {
        responsible: vec![Responsible::Member(m(5))],
        ..shared
    };
    assert_eq!(
        refused(met_circle, adopt_plan("2024-03-25", vec![stranger])).rule(),
        "not_in_circle"
    );
}

#[test]
fn volunteers_deliver_mentoring_tutoring_sports_art_and_outings() {
    let volunteer = |kind| {
        ChildFileCommand::StartService(ServiceStarted {
            occurred_on: date("2024-04-01"),
            service_id: ServiceId(uuid::Uuid::from_u128(0x70)),
            kind,
            format: ServiceFormat::Individual,
            provider: ServiceProvider::Volunteer,
            provider_name: None,
            provider_person: Some(PersonId::parse("vol1@centre-sud").unwrap()),
            linked_goals: vec![],
        })
    };
    for kind in [
        ServiceKind::Mentoring,
        ServiceKind::HomeworkTutoring,
        ServiceKind::SportsAndArt,
        ServiceKind::Outings,
    ] {
        recorded(with_plan(), volunteer(kind));
    }
    let err = refused(with_plan(), volunteer(ServiceKind::MedicalFollowUp));
    assert_eq!(err.rule(), "volunteer_cannot_deliver");
    assert!(err.to_string().contains("medical follow up"), "{err}");
}

#[test]
fn a_screening_gives_results_for_its_own_instrument() {
    use ScreeningBand as B;
    use ScreeningDomain as D;
    use ScreeningInstrument as I;
    let edi = recorded(
        accepted(),
        screening(
            "2024-03-10",
            I::Edi,
            &[
                (D::SocialCompetence, Some(77), Some(B::OnTrack)),
                (D::EmotionalMaturity, None, Some(B::AtRisk)),
                (D::PhysicalHealthAndWellbeing, Some(100), None),
            ],
        ),
    );
    assert!(
        matches!(edi, ChildEvent::DevelopmentalScreeningRecorded(ref s) if s.results.len() == 3)
    );
    recorded(
        opened(),
        screening(
            "2024-03-02",
            I::Asq3,
            &[(D::GrossMotor, Some(600), Some(B::OnSchedule))],
        ),
    );
    let cases: Vec<(ChildFileCommand, &str)> = vec![
        (
            screening("2024-03-10", I::Edi, &[]),
            "screening_without_results",
        ),
        (
            screening("2024-03-10", I::Edi, &[(D::GrossMotor, Some(10), None)]),
            "screening_domain_not_in_instrument",
        ),
        (
            screening(
                "2024-03-10",
                I::Asq3,
                &[
                    (D::FineMotor, Some(50), None),
                    (D::FineMotor, Some(60), None),
                ],
            ),
            "duplicate_screening_domain",
        ),
        (
            screening("2024-03-10", I::Asq3, &[(D::Communication, None, None)]),
            "screening_result_empty",
        ),
        (
            screening(
                "2024-03-10",
                I::Edi,
                &[(D::SocialCompetence, Some(101), None)],
            ),
            "screening_score_too_high",
        ),
        (
            screening(
                "2024-03-10",
                I::Edi,
                &[(D::SocialCompetence, None, Some(B::BelowCutoff))],
            ),
            "screening_band_not_in_instrument",
        ),
    ];
    for (command, rule) in cases {
        assert_eq!(refused(accepted(), command).rule(), rule);
    }
    // Scores have at most one decimal, and are not negative.
    for bad in ["7.55", "-1", "\"7\""] {
        let json = format!(
            r#"{{"type":"record_screening","occurred_on":"2024-03-10","instrument":"edi","results":[{{"domain":"social_competence","score":{bad}}}]}}"#
        );
        assert!(
            serde_json::from_str::<ChildFileCommand>(&json).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn a_meeting_with_the_family_present_is_family_contact() {
    let file =
        |commands: Vec<ChildFileCommand>| ChildFile::from_entries(events_of(commands, date(TODAY)));
    let with_parent = file(met());
    assert_eq!(
        with_parent.state().period().unwrap().last_family_contact_on,
        Some(date("2024-03-20"))
    );
    let mut staff_only = meeting_details("2024-03-20");
    staff_only.participants.retain(|p| !p.is_family());
    let without = file(then(
        accepted(),
        [ChildFileCommand::HoldAssessmentMeeting(staff_only)],
    ));
    assert_eq!(
        without.state().period().unwrap().last_family_contact_on,
        None
    );
}

#[test]
fn documentation_dated_before_the_closure_is_recorded_after_it() {
    let r = ReferralId(uuid::Uuid::from_u128(0x51));
    let closed = then(
        with_plan(),
        [
            referral("2024-04-01", r, None),
            outcome("2024-04-10", r, ReferralOutcome::Waiting),
            close("2024-06-01", ClosureReason::GoalsMet),
        ],
    );
    // A late outcome, and progress on a goal of the plan in force then.
    recorded(
        closed.clone(),
        outcome("2024-05-20", r, ReferralOutcome::Seen),
    );
    recorded(
        closed.clone(),
        progress("2024-05-30", g(1), GoalStatus::Achieved),
    );
    // Not on or after the closure, not a milestone, and not against the file as it stood then.
    assert_eq!(
        refused(
            closed.clone(),
            outcome("2024-06-01", r, ReferralOutcome::Seen)
        )
        .rule(),
        "file_is_closed"
    );
    assert_eq!(
        refused(closed.clone(), meeting("2024-05-20")).rule(),
        "file_is_closed"
    );
    assert_eq!(
        refused(
            closed.clone(),
            outcome("2024-04-05", r, ReferralOutcome::Seen)
        )
        .rule(),
        "late_entry_breaks_history",
        "a final outcome before the recorded interim one would leave that one without its referral"
    );
    assert_eq!(
        refused(closed, progress("2024-03-20", g(1), GoalStatus::Achieved)).rule(),
        "no_plan_in_force"
    );
}
