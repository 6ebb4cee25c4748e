//! One-line, plain-language summaries of events for timelines and logs. Summaries never include
//! identifying fields (names, notes, the child's words), so they are safe in any listing.

use crate::event::*;

impl ChildEvent {
    /// A short description without identifying data, e.g. "referral made: speech therapy".
    pub fn summary(&self) -> String {
        use ChildEvent::*;
        match self {
            ChildFileOpened(e) => format!(
                "file opened at {} on a request from {}",
                e.centre, e.request.source
            ),
            InitialAssessmentCompleted(e) => match &e.decision {
                InitialDecision::Accepted => "initial assessment: request accepted".into(),
                InitialDecision::Redirected { to } => {
                    format!("initial assessment: redirected to {}", to.expose())
                }
                InitialDecision::Waiting => "initial assessment: decision waiting".into(),
            },
            AssessmentMeetingHeld(e) => format!(
                "{} meeting #{} with {}{}, {} assessed",
                e.kind,
                e.meeting_number,
                count(e.participants.len(), "participant", "participants"),
                if e.child_took_part {
                    " and the child"
                } else {
                    ""
                },
                count(e.needs.len(), "need domain", "need domains")
            ),
            ActionPlanAdopted(p) => format!(
                "action plan v{} adopted with {}",
                p.plan_version,
                count(p.goals.len(), "goal", "goals")
            ),
            ActionPlanRevised(p) => format!(
                "action plan revised to v{} with {}",
                p.plan_version,
                count(p.goals.len(), "goal", "goals")
            ),
            GoalProgressRecorded(e) => format!("goal progress: {}", e.status),
            ServiceStarted(e) => {
                format!("service started: {} ({}, {})", e.kind, e.format, e.provider)
            }
            ServiceEnded(e) => format!("service ended: {}", e.reason),
            ReferralMade(e) => format!("referral made: {}", e.resource),
            ReferralOutcomeRecorded(e) => format!("referral outcome: {}", e.outcome),
            LegalInterventionOpened(e) => {
                format!("legal intervention opened: {} ({})", e.area, e.kind)
            }
            LegalInterventionConcluded(e) => {
                format!("legal intervention concluded: {}", e.outcome)
            }
            RightsConcernRaised(e) => format!(
                "rights concern raised: {} ({})",
                e.right,
                e.articles
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            RightsConcernResolved(e) => format!("rights concern resolved: {}", e.resolution),
            FamilyContactRecorded(e) => format!("family contact: {} with {}", e.mode, e.with),
            CircleMemberAdded(e) => format!("circle: {} joined ({})", e.relation, e.contact_role),
            CircleMemberLeft(_) => "circle: a member left".into(),
            DevelopmentalScreeningRecorded(e) => format!(
                "{} screening: {} screened",
                e.instrument.name(),
                count(e.results.len(), "domain", "domains")
            ),
            ConsentGiven(e) => format!("consent given for {} by {}", e.scope, e.given_by),
            ConsentWithdrawn(e) => format!("consent withdrawn for {}", e.scope),
            EntryCorrected(e) => match &e.correction {
                Correction::EnteredInError => format!(
                    "entry #{} ({}) marked as entered in error",
                    e.corrects_sequence, e.corrected_event_type
                ),
                Correction::Replaced { .. } => format!(
                    "entry #{} ({}) corrected",
                    e.corrects_sequence, e.corrected_event_type
                ),
            },
            FileTransferred(e) => {
                format!("file transferred from {} to {}", e.from_centre, e.to_centre)
            }
            FileClosed(e) => format!("file closed: {}", e.reason),
            FileReopened(e) => format!("file reopened on a request from {}", e.request.source),
            IdentityErased(e) => format!("identifying data erased ({})", e.reason),
        }
    }
}

/// "1 goal", "3 goals": a count with its noun.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
