//! The file's lifecycle, worked out once: where the file stands (its stage), which centre is
//! responsible, its periods of care, the plan in force, what is under way (services, referrals,
//! legal matters, rights concerns), consents, and the due dates that follow from them.
//!
//! The rules of the `ChildFile` aggregate and every read model fold this one value, in one order —
//! **clinical order**: the entries as they count now (corrections applied), by the date they
//! happened, then by sequence. The rules keep that order meaningful: a milestone (an entry that
//! changes the stage, the plan or the centre) may not be dated before the previous milestone, and
//! an entry that needs an accepted request may not be dated before the acceptance, so a file's
//! milestones happen in the order they were recorded. Other entries (a family contact, a referral
//! outcome, goal progress) may be recorded late and dated back freely: they take their place by
//! their date.

use std::collections::BTreeMap;
use std::fmt;

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::rules::FollowUpRules;

/// Where the file stands: one vocabulary for the rules, the views and the worklist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    #[default]
    NotOpened,
    /// A request (opening or reopening) was received and not yet assessed.
    AwaitingAssessment,
    /// Assessed; the decision is waiting.
    AwaitingDecision,
    /// The request was accepted: the child is followed.
    Active,
    /// The request was sent to a better-placed service.
    Redirected,
    /// The period of care has ended.
    Closed,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::NotOpened => "not opened",
            Stage::AwaitingAssessment => "awaiting initial assessment",
            Stage::AwaitingDecision => "assessed, decision waiting",
            Stage::Active => "active",
            Stage::Redirected => "redirected",
            Stage::Closed => "closed",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A period of care: from a request (the opening or a reopening) to its closure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodOfCare {
    pub number: u32,
    /// The centre responsible when the request was received.
    pub centre: CentreId,
    pub requested_on: ClinicalDate,
    pub source: ReferralSource,
    pub assessed_on: Option<ClinicalDate>,
    /// The latest decision on the request (a `waiting` decision may be followed by another).
    pub decision: Option<InitialDecision>,
    pub accepted_on: Option<ClinicalDate>,
    pub first_meeting_on: Option<ClinicalDate>,
    pub last_meeting_on: Option<ClinicalDate>,
    /// The latest family contact while the request was accepted.
    pub last_family_contact_on: Option<ClinicalDate>,
    pub closed_on: Option<ClinicalDate>,
    pub closure_reason: Option<ClosureReason>,
}

/// The action plan in force: the latest version, until the file is closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInForce {
    pub version: u32,
    /// True for a revision, false for the first plan of a period.
    pub revision: bool,
    pub adopted_on: ClinicalDate,
    /// The meeting the plan follows.
    pub meeting_number: u32,
    pub goals: Vec<Goal>,
    /// The plan's own date for the next reassessment: set by this version, or kept from the
    /// version it revises when no meeting came between them.
    pub next_reassessment_on: Option<ClinicalDate>,
}

impl PlanInForce {
    pub fn has_goal(&self, goal: GoalId) -> bool {
        self.goals.iter().any(|g| g.goal_id == goal)
    }
}

/// How and when something under way ended, or the latest news of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending<How> {
    pub on: ClinicalDate,
    pub how: How,
}

/// Something under way in the file — a service, a referral, a legal matter, a rights concern —
/// from the entry that began it to the one that ended it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course<Start, How> {
    pub start: Start,
    /// The latest news: for a referral, an interim outcome (`waiting`) or the final one; for the
    /// others, the ending.
    pub latest: Option<Ending<How>>,
    pub ended: Option<Ending<How>>,
}

impl<Start, How> Course<Start, How> {
    pub fn is_open(&self) -> bool {
        self.ended.is_none()
    }
}

impl<Start: Dated, How: Clone> Course<Start, How> {
    fn new(start: Start) -> Self {
        Self {
            start,
            latest: None,
            ended: None,
        }
    }

    pub fn began_on(&self) -> ClinicalDate {
        self.start.date()
    }

    fn news(&mut self, on: ClinicalDate, how: How, ends: bool) {
        let news = Ending { on, how };
        if ends {
            self.ended = Some(news.clone());
        }
        self.latest = Some(news);
    }
}

/// The entry that began a course, by its clinical date.
pub trait Dated {
    fn date(&self) -> ClinicalDate;
}

macro_rules! dated {
    ($($t:ty),*) => {$(
        impl Dated for $t {
            fn date(&self) -> ClinicalDate {
                self.occurred_on
            }
        }
    )*};
}
dated!(
    ServiceStarted,
    ReferralMade,
    LegalInterventionOpened,
    RightsConcernRaised
);

/// How a service ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceEnd {
    Ended(ServiceEndReason),
    /// The period of care ended while the service was under way.
    FileClosed,
}

impl fmt::Display for ServiceEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceEnd::Ended(reason) => write!(f, "ended ({reason})"),
            ServiceEnd::FileClosed => f.write_str("ended at file closure"),
        }
    }
}

pub type ServiceCourse = Course<ServiceStarted, ServiceEnd>;
pub type ReferralCourse = Course<ReferralMade, ReferralOutcome>;
pub type LegalCourse = Course<LegalInterventionOpened, LegalOutcome>;
pub type RightsCourse = Course<RightsConcernRaised, RightsResolution>;

/// A consent in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentInForce {
    pub since: ClinicalDate,
    pub given_by: ConsentGiver,
}

/// A member of the child's circle: who joined when, and when they left, if they did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircleMember {
    pub added: CircleMemberAdded,
    pub left_on: Option<ClinicalDate>,
    /// The latest date of an entry naming them (a meeting, a contact, a consent, a plan): they
    /// may not leave the circle on or before it.
    pub last_named_on: Option<ClinicalDate>,
    /// How many had joined before them (the order the team met them in).
    pub joined: u32,
}

impl CircleMember {
    /// Whether the member was part of the circle on `on`.
    pub fn member_on(&self, on: ClinicalDate) -> bool {
        self.added.occurred_on <= on && self.left_on.is_none_or(|left| on < left)
    }
}

/// The latest progress recorded on a goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalNews {
    pub on: ClinicalDate,
    pub status: GoalStatus,
}

/// When the next reassessment is due, and where that date comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReassessmentDue {
    pub due_on: ClinicalDate,
    /// True when the plan following the latest meeting set the date; false when it is the
    /// configured delay after that meeting.
    pub set_by_plan: bool,
}

/// The lifecycle of one child's file, folded from its entries in clinical order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub stage: Stage,
    /// The centre responsible: where the file was opened, or transferred to last.
    pub centre: Option<CentreId>,
    pub birth_date: Option<Identifying<ClinicalDate>>,
    pub opened_on: Option<ClinicalDate>,
    /// When the child's identifying data was erased: nothing more can be recorded.
    #[serde(default)]
    pub erased_on: Option<ClinicalDate>,
    pub periods: Vec<PeriodOfCare>,
    /// The latest clinical date of any entry that counts (corrections aside).
    pub latest_on: Option<ClinicalDate>,
    /// The date of the latest milestone (see [`Lifecycle::is_milestone`]).
    pub milestone_on: Option<ClinicalDate>,
    /// How many assessment meetings have been held, and the last one's date.
    pub meetings: u32,
    pub last_meeting_on: Option<ClinicalDate>,
    /// How many plan versions have been adopted or revised.
    pub plan_versions: u32,
    pub plan: Option<PlanInForce>,
    /// Every goal any plan version has had, with the date it first entered a plan.
    pub goals_ever: BTreeMap<GoalId, ClinicalDate>,
    pub goal_progress: BTreeMap<GoalId, GoalNews>,
    /// The latest goal progress or start of a goal-linked service: a later plan version may drop
    /// those goals, so it may not be dated before this.
    pub goal_activity_on: Option<ClinicalDate>,
    pub services: BTreeMap<ServiceId, ServiceCourse>,
    pub referrals: BTreeMap<ReferralId, ReferralCourse>,
    pub legal_matters: BTreeMap<LegalMatterId, LegalCourse>,
    pub rights_concerns: BTreeMap<RightsConcernId, RightsCourse>,
    pub consents: BTreeMap<ConsentScope, ConsentInForce>,
    /// The date of the latest consent entry of each scope (given or withdrawn).
    pub consent_changed_on: BTreeMap<ConsentScope, ClinicalDate>,
    /// The child's circle: family members and significant adults, past and present.
    pub circle: BTreeMap<CircleMemberId, CircleMember>,
}

/// When a referral's outcome is expected: the date the referral named, or the configured number
/// of days after it was made.
pub fn referral_due_on(
    made_on: ClinicalDate,
    expected_outcome_by: Option<ClinicalDate>,
    rules: &FollowUpRules,
) -> ClinicalDate {
    expected_outcome_by.unwrap_or_else(|| made_on.plus_days(rules.referral_outcome_days.into()))
}

/// Entries in clinical order: by the date they happened, then by sequence.
pub fn clinical_order<'a>(
    entries: impl IntoIterator<Item = (u64, &'a ChildEvent)>,
) -> Vec<(u64, &'a ChildEvent)> {
    let mut entries: Vec<_> = entries.into_iter().collect();
    entries.sort_by_key(|(sequence, event)| (event.occurred_on(), *sequence));
    entries
}

impl Lifecycle {
    /// The lifecycle of the entries that count (`effective_entries`), in any order: they are put
    /// in clinical order first.
    pub fn of<'a>(entries: impl IntoIterator<Item = (u64, &'a ChildEvent)>) -> Self {
        let mut lifecycle = Self::default();
        for (_, event) in clinical_order(entries) {
            lifecycle.apply(event);
        }
        lifecycle
    }

    /// Whether `event` changes the stage, the plan in force or the centre. Milestones may not be
    /// dated before the previous one.
    pub fn is_milestone(event: &ChildEvent) -> bool {
        use ChildEvent::*;
        matches!(
            event,
            ChildFileOpened(_)
                | InitialAssessmentCompleted(_)
                | AssessmentMeetingHeld(_)
                | ActionPlanAdopted(_)
                | ActionPlanRevised(_)
                | FileTransferred(_)
                | FileClosed(_)
                | FileReopened(_)
        )
    }

    /// The current period of care.
    pub fn period(&self) -> Option<&PeriodOfCare> {
        self.periods.last()
    }

    fn period_mut(&mut self) -> Option<&mut PeriodOfCare> {
        self.periods.last_mut()
    }

    /// The date of the request the file is working on (the opening or the latest reopening).
    pub fn request_on(&self) -> Option<ClinicalDate> {
        self.period().map(|p| p.requested_on)
    }

    /// When the current request was accepted, if it was.
    pub fn accepted_on(&self) -> Option<ClinicalDate> {
        self.period().and_then(|p| p.accepted_on)
    }

    /// When the file was closed, while it is closed.
    pub fn closed_on(&self) -> Option<ClinicalDate> {
        self.period().and_then(|p| p.closed_on)
    }

    /// The latest meeting of the current period of care.
    pub fn meeting_this_period(&self) -> Option<ClinicalDate> {
        self.period().and_then(|p| p.last_meeting_on)
    }

    /// Whether a plan has been adopted or revised after the latest meeting of this period.
    pub fn planned_since_meeting(&self) -> bool {
        self.plan
            .as_ref()
            .is_some_and(|p| p.meeting_number == self.meetings)
    }

    /// When the next reassessment is due, while the file is active and a meeting has been held in
    /// this period: the date set by the plan that follows the latest meeting, or the configured
    /// number of months after that meeting.
    pub fn next_reassessment(&self, rules: &FollowUpRules) -> Option<ReassessmentDue> {
        if self.stage != Stage::Active {
            return None;
        }
        let meeting = self.meeting_this_period()?;
        let own = self
            .plan
            .as_ref()
            .filter(|_| self.planned_since_meeting())
            .and_then(|p| p.next_reassessment_on);
        Some(match own {
            Some(due_on) => ReassessmentDue {
                due_on,
                set_by_plan: true,
            },
            None => ReassessmentDue {
                due_on: meeting.plus_months(rules.reassessment_months),
                set_by_plan: false,
            },
        })
    }

    /// When a referral's outcome is expected (see [`referral_due_on`]).
    pub fn referral_due(referral: &ReferralMade, rules: &FollowUpRules) -> ClinicalDate {
        referral_due_on(referral.occurred_on, referral.expected_outcome_by, rules)
    }

    /// When the next family contact is due, while the file is active: the configured delay after
    /// the latest contact, or after the acceptance.
    pub fn family_contact_due(&self, rules: &FollowUpRules) -> Option<ClinicalDate> {
        if self.stage != Stage::Active {
            return None;
        }
        let period = self.period()?;
        let since = period.last_family_contact_on.max(period.accepted_on)?;
        Some(since.plus_days(rules.family_contact_days.into()))
    }

    pub fn open_services(&self) -> impl Iterator<Item = &ServiceCourse> {
        self.services.values().filter(|c| c.is_open())
    }

    pub fn open_referrals(&self) -> impl Iterator<Item = &ReferralCourse> {
        self.referrals.values().filter(|c| c.is_open())
    }

    pub fn open_legal_matters(&self) -> impl Iterator<Item = &LegalCourse> {
        self.legal_matters.values().filter(|c| c.is_open())
    }

    pub fn open_rights_concerns(&self) -> impl Iterator<Item = &RightsCourse> {
        self.rights_concerns.values().filter(|c| c.is_open())
    }

    /// The members of the child's circle today (who have not left), in the order they joined.
    pub fn current_circle(&self) -> impl Iterator<Item = &CircleMember> {
        self.whole_circle().filter(|m| m.left_on.is_none())
    }

    /// Everyone who has been in the child's circle, in the order they joined.
    pub fn whole_circle(&self) -> impl Iterator<Item = &CircleMember> {
        let mut members: Vec<&CircleMember> = self.circle.values().collect();
        members.sort_by_key(|m| m.joined);
        members.into_iter()
    }

    /// Folds the next entry, in clinical order.
    pub fn apply(&mut self, event: &ChildEvent) {
        use ChildEvent::*;
        let on = event.occurred_on();
        if !matches!(event, EntryCorrected(_)) {
            self.latest_on = self.latest_on.max(Some(on));
        }
        if Self::is_milestone(event) {
            self.milestone_on = self.milestone_on.max(Some(on));
        }
        match event {
            ChildFileOpened(e) => {
                self.stage = Stage::AwaitingAssessment;
                self.centre = Some(e.centre.clone());
                self.birth_date = Some(e.child.birth_date.clone());
                self.opened_on = Some(on);
                self.open_period(on, e.request.source);
            }
            FileReopened(e) => {
                self.stage = Stage::AwaitingAssessment;
                self.open_period(on, e.request.source);
            }
            IdentityErased(_) => self.erased_on = Some(on),
            InitialAssessmentCompleted(e) => {
                self.stage = match e.decision {
                    InitialDecision::Accepted => Stage::Active,
                    InitialDecision::Redirected { .. } => Stage::Redirected,
                    InitialDecision::Waiting => Stage::AwaitingDecision,
                };
                if let Some(period) = self.period_mut() {
                    period.assessed_on = Some(on);
                    period.decision = Some(e.decision.clone());
                    if e.decision == InitialDecision::Accepted {
                        period.accepted_on = Some(on);
                    }
                }
            }
            AssessmentMeetingHeld(e) => {
                self.meetings = e.meeting_number;
                self.last_meeting_on = Some(on);
                self.named(e.participants.iter().filter_map(|p| p.member), on);
                // A meeting with a parent, guardian, relative or significant adult present is
                // contact with the family.
                let with_family = e.participants.iter().any(Participant::is_family);
                let active = self.stage == Stage::Active;
                if let Some(period) = self.period_mut() {
                    period.first_meeting_on.get_or_insert(on);
                    period.last_meeting_on = Some(on);
                    if with_family && active {
                        period.last_family_contact_on = period.last_family_contact_on.max(Some(on));
                    }
                }
            }
            ActionPlanAdopted(p) | ActionPlanRevised(p) => {
                self.plan_versions = p.plan_version;
                let members: Vec<CircleMemberId> = p
                    .goals
                    .iter()
                    .flat_map(|g| &g.responsible)
                    .filter_map(|r| match r {
                        Responsible::Member(m) => Some(*m),
                        _ => None,
                    })
                    .collect();
                self.named(members, on);
                for goal in &p.goals {
                    self.goals_ever.entry(goal.goal_id).or_insert(on);
                }
                // A revision that sets no date keeps the date of the version it revises, when no
                // meeting came between them.
                let kept = self
                    .plan
                    .as_ref()
                    .filter(|previous| previous.meeting_number == p.meeting_number)
                    .and_then(|previous| previous.next_reassessment_on);
                self.plan = Some(PlanInForce {
                    version: p.plan_version,
                    revision: matches!(event, ActionPlanRevised(_)),
                    adopted_on: on,
                    meeting_number: p.meeting_number,
                    goals: p.goals.clone(),
                    next_reassessment_on: p.next_reassessment_on.or(kept),
                });
            }
            GoalProgressRecorded(e) => {
                self.goal_activity_on = self.goal_activity_on.max(Some(on));
                self.goal_progress.insert(
                    e.goal_id,
                    GoalNews {
                        on,
                        status: e.status,
                    },
                );
            }
            ServiceStarted(e) => {
                if !e.linked_goals.is_empty() {
                    self.goal_activity_on = self.goal_activity_on.max(Some(on));
                }
                self.services.insert(e.service_id, Course::new(e.clone()));
            }
            ServiceEnded(e) => {
                if let Some(c) = self.services.get_mut(&e.service_id) {
                    c.news(on, ServiceEnd::Ended(e.reason), true);
                }
            }
            ReferralMade(e) => {
                self.referrals.insert(e.referral_id, Course::new(e.clone()));
            }
            ReferralOutcomeRecorded(e) => {
                if let Some(c) = self.referrals.get_mut(&e.referral_id) {
                    c.news(on, e.outcome, e.outcome.is_final());
                }
            }
            LegalInterventionOpened(e) => {
                self.legal_matters
                    .insert(e.matter_id, Course::new(e.clone()));
            }
            LegalInterventionConcluded(e) => {
                if let Some(c) = self.legal_matters.get_mut(&e.matter_id) {
                    c.news(on, e.outcome, true);
                }
            }
            RightsConcernRaised(e) => {
                self.rights_concerns
                    .insert(e.concern_id, Course::new(e.clone()));
            }
            RightsConcernResolved(e) => {
                if let Some(c) = self.rights_concerns.get_mut(&e.concern_id) {
                    c.news(on, e.resolution, true);
                }
            }
            FamilyContactRecorded(e) => {
                self.named(e.members.iter().copied(), on);
                if self.stage == Stage::Active {
                    if let Some(period) = self.period_mut() {
                        period.last_family_contact_on = period.last_family_contact_on.max(Some(on));
                    }
                }
            }
            ConsentGiven(e) => {
                self.named(e.member, on);
                self.consents.insert(
                    e.scope,
                    ConsentInForce {
                        since: on,
                        given_by: e.given_by,
                    },
                );
                self.consent_changed_on.insert(e.scope, on);
            }
            ConsentWithdrawn(e) => {
                self.consents.remove(&e.scope);
                self.consent_changed_on.insert(e.scope, on);
            }
            CircleMemberAdded(e) => {
                self.circle.insert(
                    e.member_id,
                    CircleMember {
                        added: e.clone(),
                        left_on: None,
                        last_named_on: None,
                        joined: self.circle.len() as u32,
                    },
                );
            }
            CircleMemberLeft(e) => {
                if let Some(member) = self.circle.get_mut(&e.member_id) {
                    member.left_on = Some(on);
                }
            }
            DevelopmentalScreeningRecorded(_) => {}
            FileTransferred(e) => self.centre = Some(e.to_centre.clone()),
            FileClosed(e) => {
                self.stage = Stage::Closed;
                self.plan = None;
                if let Some(period) = self.period_mut() {
                    period.closed_on = Some(on);
                    period.closure_reason = Some(e.reason);
                }
                // Closing a period of care ends what the centre itself was providing; referrals,
                // legal matters and rights concerns stay open until their outcome is known.
                for course in self.services.values_mut().filter(|c| c.is_open()) {
                    course.news(on, ServiceEnd::FileClosed, true);
                }
            }
            EntryCorrected(_) => {}
        }
    }

    /// Notes that an entry dated `on` names these members of the circle.
    fn named(&mut self, members: impl IntoIterator<Item = CircleMemberId>, on: ClinicalDate) {
        for member in members {
            if let Some(m) = self.circle.get_mut(&member) {
                m.last_named_on = m.last_named_on.max(Some(on));
            }
        }
    }

    fn open_period(&mut self, on: ClinicalDate, source: ReferralSource) {
        let Some(centre) = self.centre.clone() else {
            return;
        };
        self.periods.push(PeriodOfCare {
            number: self.periods.len() as u32 + 1,
            centre,
            requested_on: on,
            source,
            assessed_on: None,
            decision: None,
            accepted_on: None,
            first_meeting_on: None,
            last_meeting_on: None,
            last_family_contact_on: None,
            closed_on: None,
            closure_reason: None,
        });
    }
}
