//! Follow-up: what should happen next in a child's care, and the gaps where it has not.
//!
//! Each fact that calls for a next step opens an **expectation** (rule, due date, the entry that
//! created it); the step, when it happens, resolves it on its clinical date. Expectations depend
//! on the events only, never on today's date, so they can be stored; a **gap** on a given day is
//! an expectation created by then, due before then and not yet resolved by then. The worklist as
//! of any date is therefore a filter on the same expectations.

use std::collections::BTreeSet;

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::history::{ChildHistory, Entry};
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
    /// What it is about, when the rule concerns one item (a referral, goal, matter or concern).
    pub subject: Option<String>,
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
    pub subject: Option<String>,
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
            subject: e.subject.clone(),
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
pub fn expectations(history: &ChildHistory, rules: &FollowUpRules) -> Vec<Expectation> {
    let Some(child_id) = history.child_id() else {
        return vec![];
    };
    let mut ledger = Ledger {
        child_id,
        centre: None,
        active: false,
        closed: false,
        last_meeting_on: None,
        goals_with_progress: BTreeSet::new(),
        all: vec![],
    };
    for entry in history.entries() {
        ledger.apply(entry, rules);
    }
    ledger.all
}

struct Ledger {
    child_id: ChildId,
    centre: Option<CentreId>,
    /// Accepted and not closed: family contact is expected.
    active: bool,
    /// Closed and not reopened: nothing is expected.
    closed: bool,
    last_meeting_on: Option<ClinicalDate>,
    goals_with_progress: BTreeSet<GoalId>,
    all: Vec<Expectation>,
}

impl Ledger {
    fn open(
        &mut self,
        rule: FollowUpRule,
        subject: Option<String>,
        entry: Entry<'_>,
        due_on: ClinicalDate,
    ) {
        let Some(centre) = self.centre.clone().filter(|_| !self.closed) else {
            return;
        };
        self.all.push(Expectation {
            rule,
            child_id: self.child_id,
            centre,
            subject,
            source: source_of(entry),
            created_on: entry.occurred_on(),
            due_on,
            resolution: None,
        });
    }

    /// Resolves the open expectations of `rule` (about `subject`, when given).
    fn resolve(
        &mut self,
        rule: FollowUpRule,
        subject: Option<&str>,
        entry: Entry<'_>,
        kind: ResolutionKind,
    ) {
        for e in self.all.iter_mut().filter(|e| {
            e.resolution.is_none()
                && e.rule == rule
                && subject.is_none_or(|s| e.subject.as_deref() == Some(s))
        }) {
            e.resolution = Some(Resolution {
                on: entry.occurred_on(),
                by_sequence: entry.sequence(),
                kind,
            });
        }
    }

    fn resolve_all(&mut self, entry: Entry<'_>, kind: ResolutionKind) -> Vec<Expectation> {
        let mut resolved = vec![];
        for e in self.all.iter_mut().filter(|e| e.resolution.is_none()) {
            e.resolution = Some(Resolution {
                on: entry.occurred_on(),
                by_sequence: entry.sequence(),
                kind,
            });
            resolved.push(e.clone());
        }
        resolved
    }

    fn open_goal(&self, goal_id: GoalId) -> Option<&Expectation> {
        let subject = goal_id.to_string();
        self.all.iter().find(|e| {
            e.resolution.is_none()
                && e.rule == FollowUpRule::GoalProgress
                && e.subject.as_deref() == Some(subject.as_str())
        })
    }

    fn apply(&mut self, entry: Entry<'_>, rules: &FollowUpRules) {
        use ChildEvent::*;
        use FollowUpRule as R;
        use ResolutionKind::{Fulfilled, Superseded, Transferred};
        let on = entry.occurred_on();
        let days = |n: u32| on.plus_days(i64::from(n));
        match entry.event {
            ChildFileOpened(e) => {
                self.centre = Some(e.centre.clone());
                self.open(
                    R::InitialAssessment,
                    None,
                    entry,
                    days(rules.initial_assessment_days),
                );
            }
            FileReopened(_) => {
                self.closed = false;
                self.open(
                    R::InitialAssessment,
                    None,
                    entry,
                    days(rules.initial_assessment_days),
                );
            }
            InitialAssessmentCompleted(e) => {
                self.resolve(R::InitialAssessment, None, entry, Fulfilled);
                if e.decision == InitialDecision::Accepted {
                    self.active = true;
                    self.open(R::FirstMeeting, None, entry, days(rules.first_meeting_days));
                    self.open(
                        R::FamilyContact,
                        None,
                        entry,
                        days(rules.family_contact_days),
                    );
                }
            }
            AssessmentMeetingHeld(_) => {
                self.resolve(R::FirstMeeting, None, entry, Fulfilled);
                self.resolve(R::Reassessment, None, entry, Fulfilled);
                self.resolve(R::PlanAfterMeeting, None, entry, Superseded);
                self.last_meeting_on = Some(on);
                self.open(
                    R::PlanAfterMeeting,
                    None,
                    entry,
                    days(rules.plan_after_meeting_days),
                );
            }
            ActionPlanAdopted(p) | ActionPlanRevised(p) => {
                self.resolve(R::PlanAfterMeeting, None, entry, Fulfilled);
                self.resolve(R::Reassessment, None, entry, Superseded);
                let due = p.next_reassessment_on.unwrap_or_else(|| {
                    self.last_meeting_on
                        .unwrap_or(on)
                        .plus_months(rules.reassessment_months)
                });
                self.open(R::Reassessment, None, entry, due);
                self.plan_goals(p, entry);
            }
            GoalProgressRecorded(e) => {
                self.goals_with_progress.insert(e.goal_id);
                self.resolve(
                    R::GoalProgress,
                    Some(&e.goal_id.to_string()),
                    entry,
                    Fulfilled,
                );
            }
            ReferralMade(e) => {
                let due = e
                    .expected_outcome_by
                    .unwrap_or_else(|| days(rules.referral_outcome_days));
                self.open(
                    R::ReferralOutcome,
                    Some(e.referral_id.to_string()),
                    entry,
                    due,
                );
            }
            ReferralOutcomeRecorded(e) if e.outcome.is_final() => {
                self.resolve(
                    R::ReferralOutcome,
                    Some(&e.referral_id.to_string()),
                    entry,
                    Fulfilled,
                );
            }
            LegalInterventionOpened(e) => {
                self.open(
                    R::LegalNews,
                    Some(e.matter_id.to_string()),
                    entry,
                    days(rules.legal_no_news_days),
                );
            }
            LegalInterventionConcluded(e) => {
                self.resolve(
                    R::LegalNews,
                    Some(&e.matter_id.to_string()),
                    entry,
                    Fulfilled,
                );
            }
            RightsConcernRaised(e) => {
                self.open(
                    R::RightsNews,
                    Some(e.concern_id.to_string()),
                    entry,
                    days(rules.rights_no_news_days),
                );
            }
            RightsConcernResolved(e) => {
                self.resolve(
                    R::RightsNews,
                    Some(&e.concern_id.to_string()),
                    entry,
                    Fulfilled,
                );
            }
            FamilyContactRecorded(_) if self.active => {
                self.resolve(R::FamilyContact, None, entry, Fulfilled);
                self.open(
                    R::FamilyContact,
                    None,
                    entry,
                    days(rules.family_contact_days),
                );
            }
            FileTransferred(e) => {
                // The receiving centre carries on what was open, with the same due dates.
                let carried = self.resolve_all(entry, Transferred);
                self.centre = Some(e.to_centre.clone());
                for mut expectation in carried {
                    expectation.centre = e.to_centre.clone();
                    expectation.created_on = on;
                    expectation.resolution = None;
                    self.all.push(expectation);
                }
            }
            FileClosed(_) => {
                self.active = false;
                self.closed = true;
                self.resolve_all(entry, ResolutionKind::FileClosed);
            }
            _ => {}
        }
    }

    /// Goals entering the plan are expected to show progress by their target date; a goal whose
    /// target moved gets a new expectation; a goal left out of the plan is no longer expected.
    fn plan_goals(&mut self, plan: &ActionPlanVersion, entry: Entry<'_>) {
        let in_plan: BTreeSet<String> = plan.goals.iter().map(|g| g.goal_id.to_string()).collect();
        let dropped: Vec<String> = self
            .all
            .iter()
            .filter(|e| e.resolution.is_none() && e.rule == FollowUpRule::GoalProgress)
            .filter_map(|e| e.subject.clone())
            .filter(|s| !in_plan.contains(s))
            .collect();
        for subject in dropped {
            self.resolve(
                FollowUpRule::GoalProgress,
                Some(&subject),
                entry,
                ResolutionKind::Dropped,
            );
        }
        for goal in &plan.goals {
            if self.goals_with_progress.contains(&goal.goal_id) {
                continue;
            }
            match self.open_goal(goal.goal_id).map(|e| e.due_on) {
                Some(due) if due == goal.target_on => {}
                Some(_) => {
                    let subject = goal.goal_id.to_string();
                    self.resolve(
                        FollowUpRule::GoalProgress,
                        Some(&subject),
                        entry,
                        ResolutionKind::Superseded,
                    );
                    self.open(
                        FollowUpRule::GoalProgress,
                        Some(subject),
                        entry,
                        goal.target_on,
                    );
                }
                None => self.open(
                    FollowUpRule::GoalProgress,
                    Some(goal.goal_id.to_string()),
                    entry,
                    goal.target_on,
                ),
            }
        }
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
