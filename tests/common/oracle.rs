//! An independent reading of a file's entries, written for the tests from the domain's own words
//! and not from the engine's lifecycle fold: where the file stands, which centre has it, which
//! plan is in force, and whether each follow-up expectation was resolved once its step happened.
//! Property tests compare the engine's views with it.

use chrono::{DateTime, Duration, TimeZone, Utc};
use lifecourse_events::*;
use lifecourse_projections::{Expectation, FollowUpRule, Stage, Subject};
use uuid::Uuid;

/// The entries that count (corrections applied), in the order things happened: by clinical date,
/// then by sequence.
pub fn in_clinical_order(entries: &[ChildEvent]) -> Vec<(u64, &ChildEvent)> {
    let mut counted = effective_entries(entries);
    counted.sort_by_key(|(sequence, e)| (e.occurred_on(), *sequence));
    counted
}

/// What the file amounts to, read from its entries alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub stage: Stage,
    pub centre: Option<CentreId>,
    pub plan_version: Option<u32>,
}

pub fn standing(entries: &[ChildEvent]) -> Standing {
    use ChildEvent::*;
    let counted = in_clinical_order(entries);
    // The stage is set by the latest request, decision or closure.
    let stage = counted
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            ChildFileOpened(_) | FileReopened(_) => Some(Stage::AwaitingAssessment),
            InitialAssessmentCompleted(a) => Some(match a.decision {
                InitialDecision::Accepted => Stage::Active,
                InitialDecision::Waiting => Stage::AwaitingDecision,
                InitialDecision::Redirected { .. } => Stage::Redirected,
            }),
            FileClosed(_) => Some(Stage::Closed),
            _ => None,
        })
        .unwrap_or(Stage::NotOpened);
    // The centre is where the file was opened or last transferred to.
    let centre = counted.iter().rev().find_map(|(_, e)| match e {
        ChildFileOpened(o) => Some(o.centre.clone()),
        FileTransferred(t) => Some(t.to_centre.clone()),
        _ => None,
    });
    // The plan in force is the latest version, unless the file was closed after it.
    let plan_version = counted.iter().rev().find_map(|(_, e)| match e {
        ActionPlanAdopted(p) | ActionPlanRevised(p) => Some(Some(p.plan_version)),
        FileClosed(_) => Some(None),
        _ => None,
    });
    Standing {
        stage,
        centre,
        plan_version: plan_version.flatten(),
    }
}

/// The entries that are the step an expectation waits for.
fn is_step_for(rule: FollowUpRule, subject: Option<Subject>, entry: &ChildEvent) -> bool {
    use ChildEvent::*;
    match (rule, entry, subject) {
        (FollowUpRule::InitialAssessment, InitialAssessmentCompleted(_), _) => true,
        (FollowUpRule::FirstMeeting | FollowUpRule::Reassessment, AssessmentMeetingHeld(_), _) => {
            true
        }
        (FollowUpRule::PlanAfterMeeting, ActionPlanAdopted(_) | ActionPlanRevised(_), _) => true,
        (FollowUpRule::FamilyContact, FamilyContactRecorded(_), _) => true,
        // README: a meeting where a parent, guardian, foster family, relative, significant adult
        // or a member of the circle took part is contact with the family.
        (FollowUpRule::FamilyContact, AssessmentMeetingHeld(m), _) => {
            m.participants.iter().any(|p| {
                p.member.is_some()
                    || matches!(
                        p.role,
                        ParticipantRole::Parent
                            | ParticipantRole::Guardian
                            | ParticipantRole::FosterFamily
                            | ParticipantRole::ExtendedFamily
                            | ParticipantRole::SignificantAdult
                    )
            })
        }
        (FollowUpRule::GoalProgress, GoalProgressRecorded(p), Some(Subject::Goal(g))) => {
            p.goal_id == g
        }
        (FollowUpRule::ReferralOutcome, ReferralOutcomeRecorded(o), Some(Subject::Referral(r))) => {
            o.referral_id == r && o.outcome != ReferralOutcome::Waiting
        }
        (FollowUpRule::LegalNews, LegalInterventionConcluded(c), Some(Subject::LegalMatter(m))) => {
            c.matter_id == m
        }
        (FollowUpRule::RightsNews, RightsConcernResolved(r), Some(Subject::RightsConcern(c))) => {
            r.concern_id == c
        }
        _ => false,
    }
}

/// Every expectation whose step happened after it was created (in clinical order) is resolved by
/// that day at the latest. Returns the expectations that break this, with the sequence of the
/// step that should have resolved them.
pub fn unresolved_after_their_step<'a>(
    entries: &[ChildEvent],
    expectations: &'a [Expectation],
) -> Vec<(&'a Expectation, u64)> {
    let counted = in_clinical_order(entries);
    let mut broken = vec![];
    for e in expectations {
        let step = counted.iter().find(|(sequence, entry)| {
            // An entry later in clinical order than the one that created the expectation.
            (entry.occurred_on(), *sequence) > (e.created_on, e.source.sequence)
                && is_step_for(e.rule, e.subject, entry)
        });
        if let Some((sequence, entry)) = step {
            let resolved_by_then = e.resolution.is_some_and(|r| r.on <= entry.occurred_on());
            if !resolved_by_then {
                broken.push((e, *sequence));
            }
        }
    }
    broken
}

/// A stored event for in-memory histories: recorded a minute after the one before.
pub fn stored(child: ChildId, sequence: u64, event: ChildEvent) -> StoredEvent {
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
    StoredEvent {
        position: sequence as i64,
        child_id: child,
        sequence,
        event_id: EventId(Uuid::from_u128(u128::from(sequence))),
        event_type: event.event_type().to_string(),
        stored_version: event.schema_version().to_string(),
        recorded_at: start + Duration::minutes(sequence as i64),
        metadata: RecordingMetadata {
            idempotency_key: IdempotencyKey::parse(format!("k{sequence}")).unwrap(),
            command_digest: String::new(),
            recorded_by: lifecourse::fixtures::recorder(),
            reason: None,
            correlation_id: Uuid::nil(),
            causation_id: None,
        },
        event,
    }
}

/// A history made of `events`, numbered from 1.
pub fn history_of(child: ChildId, events: &[ChildEvent]) -> lifecourse_projections::ChildHistory {
    lifecourse_projections::ChildHistory::from_events(
        events
            .iter()
            .zip(1u64..)
            .map(|(e, sequence)| stored(child, sequence, e.clone())),
    )
}

/// What is wrong with how expectations were resolved, read against the entries: a resolution
/// dated before the expectation was created, a "fulfilled" by an entry that is not the step it
/// waited for (or the step recorded as anything but fulfilled), or two expectations of one rule
/// and subject still open together.
pub fn resolution_faults(entries: &[ChildEvent], expectations: &[Expectation]) -> Vec<String> {
    use lifecourse_projections::follow_up::ResolutionKind;
    let by_sequence: std::collections::BTreeMap<u64, &ChildEvent> =
        in_clinical_order(entries).into_iter().collect();
    let mut faults = vec![];
    let mut open = std::collections::BTreeSet::new();
    for e in expectations {
        let key = (e.rule, e.subject);
        match e.resolution {
            None => {
                if !open.insert(key) {
                    faults.push(format!("two open {:?} about {:?}", e.rule, e.subject));
                }
            }
            Some(r) => {
                if r.on < e.created_on {
                    faults.push(format!(
                        "{:?} resolved on {} before it was created",
                        e.rule, r.on
                    ));
                }
                let step = by_sequence
                    .get(&r.by_sequence)
                    .is_some_and(|entry| is_step_for(e.rule, e.subject, entry));
                if step != (r.kind == ResolutionKind::Fulfilled) {
                    faults.push(format!(
                        "{:?} resolved by #{} as {:?}",
                        e.rule, r.by_sequence, r.kind
                    ));
                }
            }
        }
    }
    faults
}
