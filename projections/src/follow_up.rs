//! Follow-up: what should happen next in a child's care, and the gaps where it has not.
//!
//! Each fact that calls for a next step opens an **expectation** (rule, due date, the entry that
//! created it); the step, when it happens, resolves it on its clinical date. Expectations depend
//! on the events only, never on today's date, so they can be stored; a **gap** on a given day is
//! an expectation created by then, due before then and not yet resolved by then. The worklist as
//! of any date is therefore a filter on the same expectations.

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::history::{ChildHistory, Entry};
use crate::lifecycle::{Lifecycle, Stage};
use crate::rules::FollowUpRules;

/// The follow-up rules of DOMAIN.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpRule {
    InitialAssessment,
    FirstMeeting,
    PlanAfterMeeting,
    Reassessment,
    ReferralOutcome,
    GoalProgress,
    FamilyContact,
    LegalNews,
    RightsNews,
}

impl FollowUpRule {
    pub const ALL: &'static [FollowUpRule] = &[
        Self::InitialAssessment,
        Self::FirstMeeting,
        Self::PlanAfterMeeting,
        Self::Reassessment,
        Self::ReferralOutcome,
        Self::GoalProgress,
        Self::FamilyContact,
        Self::LegalNews,
        Self::RightsNews,
    ];

    /// The rule's JSON and CSV name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InitialAssessment => "initial_assessment",
            Self::FirstMeeting => "first_meeting",
            Self::PlanAfterMeeting => "plan_after_meeting",
            Self::Reassessment => "reassessment",
            Self::ReferralOutcome => "referral_outcome",
            Self::GoalProgress => "goal_progress",
            Self::FamilyContact => "family_contact",
            Self::LegalNews => "legal_news",
            Self::RightsNews => "rights_news",
        }
    }

    /// What is missing, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::InitialAssessment => "request received, no initial assessment",
            Self::FirstMeeting => "request accepted, no assessment meeting",
            Self::PlanAfterMeeting => "meeting held, no action plan",
            Self::Reassessment => "reassessment due and not held",
            Self::ReferralOutcome => "external referral without an outcome",
            Self::GoalProgress => "goal past its target date with no progress recorded",
            Self::FamilyContact => "active file with no family contact",
            Self::LegalNews => "legal intervention open without news",
            Self::RightsNews => "rights concern open without news",
        }
    }
}

impl std::str::FromStr for FollowUpRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown follow-up rule {s:?}"))
    }
}

/// What an expectation is about, when its rule concerns one thing in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Referral(ReferralId),
    Goal(GoalId),
    LegalMatter(LegalMatterId),
    RightsConcern(RightsConcernId),
}

impl std::fmt::Display for Subject {
    /// The id alone (the rule says what kind of thing it is).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Referral(id) => id.fmt(f),
            Subject::Goal(id) => id.fmt(f),
            Subject::LegalMatter(id) => id.fmt(f),
            Subject::RightsConcern(id) => id.fmt(f),
        }
    }
}

/// What an expectation is about, in words: the kind of thing (never identifying: "dentistry
/// referral", "goal in school learning") and, where the file names it, the organisation or the
/// goal's own text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct About {
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Identifying<String>>,
}

/// How an expectation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionKind {
    /// The expected step happened.
    Fulfilled,
    /// A later entry replaced it with a new expectation (a revised plan moving a date).
    Superseded,
    /// The goal was dropped from the plan.
    Dropped,
    /// The file moved to another centre, which carries the expectation on.
    Transferred,
    /// The period of care ended.
    FileClosed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub on: ClinicalDate,
    pub by_sequence: u64,
    pub kind: ResolutionKind,
}

/// The entry that created an expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    pub sequence: u64,
    pub event_id: EventId,
    pub event_type: String,
    pub occurred_on: ClinicalDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub rule: FollowUpRule,
    pub child_id: ChildId,
    /// The centre responsible for it.
    pub centre: CentreId,
    /// What it is about, when the rule concerns one referral, goal, legal matter or concern.
    pub subject: Option<Subject>,
    /// The subject in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<About>,
    pub source: SourceEntry,
    pub created_on: ClinicalDate,
    pub due_on: ClinicalDate,
    pub resolution: Option<Resolution>,
}

impl Expectation {
    /// Whether this expectation is a gap on `as_of`: known by then, overdue, and still open then.
    pub fn is_gap_on(&self, as_of: ClinicalDate) -> bool {
        self.created_on <= as_of
            && self.due_on < as_of
            && self.resolution.is_none_or(|r| r.on > as_of)
    }
}

/// One line of the worklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub rule: FollowUpRule,
    pub child_id: ChildId,
    pub centre: CentreId,
    pub subject: Option<Subject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<About>,
    pub due_on: ClinicalDate,
    pub days_overdue: i64,
    pub source: SourceEntry,
}

/// The gaps on `as_of` among `expectations`, most overdue first.
pub fn gaps_on<'a>(
    expectations: impl IntoIterator<Item = &'a Expectation>,
    as_of: ClinicalDate,
) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = expectations
        .into_iter()
        .filter(|e| e.is_gap_on(as_of))
        .map(|e| Gap {
            rule: e.rule,
            child_id: e.child_id,
            centre: e.centre.clone(),
            subject: e.subject,
            about: e.about.clone(),
            due_on: e.due_on,
            days_overdue: e.due_on.days_until(as_of),
            source: e.source.clone(),
        })
        .collect();
    gaps.sort_by(|a, b| {
        (b.days_overdue, a.child_id, a.rule, &a.subject).cmp(&(
            a.days_overdue,
            b.child_id,
            b.rule,
            &b.subject,
        ))
    });
    gaps
}

/// Every expectation of one child's file, open or resolved, in the order they were created.
///
/// After each entry (in clinical order) the lifecycle says which next steps are expected and by
/// when; the ledger compares that with what it holds open. A new expectation is opened where one
/// is wanted and none is open; an open one is resolved when the entry is the step it waited for
/// (fulfilled), or when it is no longer wanted, or wanted with another due date or at another
/// centre.
pub fn expectations(history: &ChildHistory, rules: &FollowUpRules) -> Vec<Expectation> {
    let Some(child_id) = history.child_id() else {
        return vec![];
    };
    let mut lifecycle = Lifecycle::default();
    let mut all: Vec<Expectation> = vec![];
    for entry in history.entries() {
        lifecycle.apply(entry.event);
        let Some(centre) = lifecycle.centre.clone() else {
            continue;
        };
        let mut wanted = wanted(&lifecycle, rules);
        for open in all.iter_mut().filter(|e| e.resolution.is_none()) {
            let still = wanted
                .iter()
                .position(|w| w.rule == open.rule && w.subject == open.subject);
            let kind = match still {
                // The step happened: resolved, even where the next one falls due on the same day.
                _ if fulfils(entry.event, open) => ResolutionKind::Fulfilled,
                // Still wanted as it stands: it stays open, and nothing new is opened for it.
                Some(i) if wanted[i].due_on == open.due_on && open.centre == centre => {
                    wanted.remove(i);
                    continue;
                }
                Some(_) if open.centre != centre => ResolutionKind::Transferred,
                Some(_) => ResolutionKind::Superseded,
                None => match entry.event {
                    ChildEvent::FileClosed(_) => ResolutionKind::FileClosed,
                    ChildEvent::ActionPlanAdopted(_) | ChildEvent::ActionPlanRevised(_)
                        if open.rule == FollowUpRule::GoalProgress =>
                    {
                        ResolutionKind::Dropped
                    }
                    _ => ResolutionKind::Superseded,
                },
            };
            open.resolution = Some(Resolution {
                on: entry.occurred_on(),
                by_sequence: entry.sequence(),
                kind,
            });
        }
        for w in wanted {
            all.push(Expectation {
                rule: w.rule,
                child_id,
                centre: centre.clone(),
                subject: w.subject,
                about: w.about,
                source: source_of(entry),
                created_on: entry.occurred_on(),
                due_on: w.due_on,
                resolution: None,
            });
        }
    }
    all
}

/// A next step the file calls for now.
struct Wanted {
    rule: FollowUpRule,
    subject: Option<Subject>,
    about: Option<About>,
    due_on: ClinicalDate,
}

fn about(what: String, detail: Option<&Identifying<String>>) -> Option<About> {
    Some(About {
        what,
        detail: detail.cloned(),
    })
}

/// What the file in this state expects next, with due dates. A closed file expects nothing;
/// referrals, legal matters and rights concerns still open when it reopens are expected again.
fn wanted(l: &Lifecycle, rules: &FollowUpRules) -> Vec<Wanted> {
    use FollowUpRule as R;
    let mut wanted = vec![];
    let mut want = |rule, subject, about, due_on| {
        wanted.push(Wanted {
            rule,
            subject,
            about,
            due_on,
        })
    };
    let Some(period) = l.period() else {
        return vec![];
    };
    let days = |from: ClinicalDate, n: u32| from.plus_days(n.into());
    match l.stage {
        Stage::NotOpened | Stage::Closed => return vec![],
        Stage::AwaitingAssessment => want(
            R::InitialAssessment,
            None,
            None,
            days(period.requested_on, rules.initial_assessment_days),
        ),
        Stage::AwaitingDecision | Stage::Redirected => {}
        Stage::Active => {
            if let (None, Some(accepted)) = (period.first_meeting_on, period.accepted_on) {
                want(
                    R::FirstMeeting,
                    None,
                    None,
                    days(accepted, rules.first_meeting_days),
                );
            }
            if let Some(meeting) = period
                .last_meeting_on
                .filter(|_| !l.planned_since_meeting())
            {
                want(
                    R::PlanAfterMeeting,
                    None,
                    None,
                    days(meeting, rules.plan_after_meeting_days),
                );
            }
            if let Some(due) = l.next_reassessment(rules) {
                want(R::Reassessment, None, None, due.due_on);
            }
            if let Some(due) = l.family_contact_due(rules) {
                want(R::FamilyContact, None, None, due);
            }
            for goal in l.plan.iter().flat_map(|p| &p.goals) {
                if !l.goal_progress.contains_key(&goal.goal_id) {
                    want(
                        R::GoalProgress,
                        Some(Subject::Goal(goal.goal_id)),
                        about(format!("goal in {}", goal.domain), Some(&goal.description)),
                        goal.target_on,
                    );
                }
            }
        }
    }
    for c in l.open_referrals() {
        want(
            R::ReferralOutcome,
            Some(Subject::Referral(c.start.referral_id)),
            about(
                format!("{} referral", c.start.resource),
                c.start.organisation.as_ref(),
            ),
            Lifecycle::referral_due(&c.start, rules),
        );
    }
    for c in l.open_legal_matters() {
        want(
            R::LegalNews,
            Some(Subject::LegalMatter(c.start.matter_id)),
            about(
                format!("legal intervention: {} ({})", c.start.area, c.start.kind),
                None,
            ),
            days(c.began_on(), rules.legal_no_news_days),
        );
    }
    for c in l.open_rights_concerns() {
        want(
            R::RightsNews,
            Some(Subject::RightsConcern(c.start.concern_id)),
            about(format!("rights concern: {}", c.start.right), None),
            days(c.began_on(), rules.rights_no_news_days),
        );
    }
    wanted
}

/// Whether `event` is the step that `expectation` waited for.
fn fulfils(event: &ChildEvent, expectation: &Expectation) -> bool {
    use ChildEvent::*;
    use FollowUpRule as R;
    let about = |subject: Subject| expectation.subject == Some(subject);
    match (expectation.rule, event) {
        (R::InitialAssessment, InitialAssessmentCompleted(_)) => true,
        (R::FirstMeeting | R::Reassessment, AssessmentMeetingHeld(_)) => true,
        (R::PlanAfterMeeting, ActionPlanAdopted(_) | ActionPlanRevised(_)) => true,
        (R::FamilyContact, FamilyContactRecorded(_)) => true,
        // A meeting with the family present is contact with the family.
        (R::FamilyContact, AssessmentMeetingHeld(e)) => {
            e.participants.iter().any(Participant::is_family)
        }
        (R::GoalProgress, GoalProgressRecorded(e)) => about(Subject::Goal(e.goal_id)),
        // An interim outcome (waiting) is news, not the outcome the referral waits for.
        (R::ReferralOutcome, ReferralOutcomeRecorded(e)) => {
            e.outcome.is_final() && about(Subject::Referral(e.referral_id))
        }
        (R::LegalNews, LegalInterventionConcluded(e)) => about(Subject::LegalMatter(e.matter_id)),
        (R::RightsNews, RightsConcernResolved(e)) => about(Subject::RightsConcern(e.concern_id)),
        _ => false,
    }
}

fn source_of(entry: Entry<'_>) -> SourceEntry {
    SourceEntry {
        sequence: entry.sequence(),
        event_id: entry.stored.event_id,
        event_type: entry.event.event_type().to_string(),
        occurred_on: entry.occurred_on(),
    }
}
