//! What a new entry rests on: the earlier entry of the same file that it follows from, recorded
//! as the event's `causation_id` so an auditor can walk from a decision to its grounds. Pure.

use lifecourse_events::*;

/// The index in `stream` (the file's entries in sequence order) of the entry `event` rests on:
/// a plan → the assessment meeting it follows; a referral outcome → its referral; a concluded
/// legal matter → its opening; a resolved rights concern → the concern; a service's end → its
/// start; goal progress → the plan version that set the goal; a correction → the entry it
/// corrects. `None` for every other entry, and when the stream holds no such entry.
pub fn rests_on(stream: &[ChildEvent], event: &ChildEvent) -> Option<usize> {
    let last = |found: &dyn Fn(&ChildEvent) -> bool| stream.iter().rposition(found);
    match event {
        ChildEvent::ActionPlanAdopted(plan) | ChildEvent::ActionPlanRevised(plan) => last(
            &|e| matches!(e, ChildEvent::AssessmentMeetingHeld(m) if m.meeting_number == plan.meeting_number),
        ),
        ChildEvent::ReferralOutcomeRecorded(outcome) => last(
            &|e| matches!(e, ChildEvent::ReferralMade(r) if r.referral_id == outcome.referral_id),
        ),
        ChildEvent::LegalInterventionConcluded(concluded) => last(
            &|e| matches!(e, ChildEvent::LegalInterventionOpened(o) if o.matter_id == concluded.matter_id),
        ),
        ChildEvent::RightsConcernResolved(resolved) => last(
            &|e| matches!(e, ChildEvent::RightsConcernRaised(r) if r.concern_id == resolved.concern_id),
        ),
        ChildEvent::ServiceEnded(ended) => last(
            &|e| matches!(e, ChildEvent::ServiceStarted(s) if s.service_id == ended.service_id),
        ),
        ChildEvent::GoalProgressRecorded(progress) => last(&|e| match e {
            ChildEvent::ActionPlanAdopted(p) | ChildEvent::ActionPlanRevised(p) => {
                p.goals.iter().any(|g| g.goal_id == progress.goal_id)
            }
            _ => false,
        }),
        ChildEvent::EntryCorrected(correction) => {
            let index = usize::try_from(correction.corrects_sequence)
                .ok()?
                .checked_sub(1)?;
            (index < stream.len()).then_some(index)
        }
        _ => None,
    }
}
