//! The current action plan of one child: the plan in force with each goal's latest status, what
//! is under way (services, open referrals, legal matters, rights concerns) and when the next
//! reassessment is due.

use std::collections::BTreeMap;

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::history::ChildHistory;
use crate::rules::FollowUpRules;

/// Where the file stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    #[default]
    NotOpened,
    /// A request was received and not yet assessed.
    AwaitingAssessment,
    /// Assessed; the decision is waiting.
    AwaitingDecision,
    Active,
    Redirected,
    Closed,
}

impl FileStatus {
    pub fn label(self) -> &'static str {
        match self {
            FileStatus::NotOpened => "not opened",
            FileStatus::AwaitingAssessment => "awaiting initial assessment",
            FileStatus::AwaitingDecision => "assessed, decision waiting",
            FileStatus::Active => "active",
            FileStatus::Redirected => "redirected",
            FileStatus::Closed => "closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentPlan {
    pub child_id: Option<ChildId>,
    pub centre: Option<CentreId>,
    pub status: FileStatus,
    pub plan: Option<PlanInForce>,
    /// When the next reassessment is due: the plan's own date, or the configured delay after the
    /// last meeting.
    pub next_reassessment_on: Option<ClinicalDate>,
    /// True when `next_reassessment_on` comes from the configured default, not from the plan.
    pub next_reassessment_is_default: bool,
    pub last_meeting_on: Option<ClinicalDate>,
    pub active_services: Vec<ActiveService>,
    pub open_referrals: Vec<OpenReferral>,
    pub open_legal_matters: Vec<OpenLegalMatter>,
    pub open_rights_concerns: Vec<OpenRightsConcern>,
    pub consents: Vec<ConsentScope>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInForce {
    pub version: u32,
    pub adopted_on: ClinicalDate,
    pub meeting_number: u32,
    pub goals: Vec<GoalInForce>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalInForce {
    pub goal_id: GoalId,
    pub domain: NeedDomain,
    pub description: Identifying<String>,
    pub responsible: ResponsibleParty,
    pub target_on: ClinicalDate,
    /// The latest progress recorded on this goal, if any.
    pub status: Option<GoalStatus>,
    pub status_on: Option<ClinicalDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveService {
    pub service_id: ServiceId,
    pub kind: ServiceKind,
    pub format: ServiceFormat,
    pub provider: ServiceProvider,
    pub started_on: ClinicalDate,
    pub linked_goals: Vec<GoalId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReferral {
    pub referral_id: ReferralId,
    pub resource: ExternalResource,
    pub made_on: ClinicalDate,
    /// The referral's own expected date, or the configured default.
    pub expected_by: ClinicalDate,
    /// `waiting` once an interim outcome was recorded; `None` while nothing is known.
    pub state: Option<ReferralOutcome>,
    pub state_on: Option<ClinicalDate>,
}

impl OpenReferral {
    /// Days since the referral was made.
    pub fn age_days(&self, on: ClinicalDate) -> i64 {
        self.made_on.days_until(on)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenLegalMatter {
    pub matter_id: LegalMatterId,
    pub area: LegalArea,
    pub kind: LegalInterventionKind,
    pub opened_on: ClinicalDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRightsConcern {
    pub concern_id: RightsConcernId,
    pub right: ChildRight,
    pub articles: Vec<ConventionArticle>,
    pub raised_on: ClinicalDate,
}

impl CurrentPlan {
    /// The plan as it stood on `as_of` (clinical time; `None` for everything recorded).
    pub fn from_history(
        history: &ChildHistory,
        rules: &FollowUpRules,
        as_of: Option<ClinicalDate>,
    ) -> Self {
        let mut plan = Self {
            child_id: history.child_id(),
            centre: None,
            status: FileStatus::NotOpened,
            plan: None,
            next_reassessment_on: None,
            next_reassessment_is_default: false,
            last_meeting_on: None,
            active_services: vec![],
            open_referrals: vec![],
            open_legal_matters: vec![],
            open_rights_concerns: vec![],
            consents: vec![],
        };
        let mut progress: BTreeMap<GoalId, (GoalStatus, ClinicalDate)> = BTreeMap::new();
        let mut own_reassessment: Option<ClinicalDate> = None;
        let mut meeting_this_period: Option<ClinicalDate> = None;
        for entry in history.entries_as_of(as_of) {
            match entry.event {
                ChildEvent::AssessmentMeetingHeld(m) => meeting_this_period = Some(m.occurred_on),
                ChildEvent::FileClosed(_) | ChildEvent::FileReopened(_) => {
                    meeting_this_period = None;
                    own_reassessment = None;
                }
                _ => {}
            }
            plan.apply(entry.event, rules, &mut progress, &mut own_reassessment);
        }
        if let Some(p) = plan.plan.as_mut() {
            for goal in &mut p.goals {
                if let Some((status, on)) = progress.get(&goal.goal_id) {
                    goal.status = Some(*status);
                    goal.status_on = Some(*on);
                }
            }
        }
        let default_due = meeting_this_period.map(|m| m.plus_months(rules.reassessment_months));
        (plan.next_reassessment_on, plan.next_reassessment_is_default) = match own_reassessment {
            Some(own) if plan.status == FileStatus::Active => (Some(own), false),
            _ if plan.status == FileStatus::Active => (default_due, default_due.is_some()),
            _ => (None, false),
        };
        plan
    }

    fn apply(
        &mut self,
        event: &ChildEvent,
        rules: &FollowUpRules,
        progress: &mut BTreeMap<GoalId, (GoalStatus, ClinicalDate)>,
        own_reassessment: &mut Option<ClinicalDate>,
    ) {
        use ChildEvent::*;
        match event {
            ChildFileOpened(e) => {
                self.centre = Some(e.centre.clone());
                self.status = FileStatus::AwaitingAssessment;
            }
            FileReopened(_) => self.status = FileStatus::AwaitingAssessment,
            InitialAssessmentCompleted(e) => {
                self.status = match e.decision {
                    InitialDecision::Accepted => FileStatus::Active,
                    InitialDecision::Redirected { .. } => FileStatus::Redirected,
                    InitialDecision::Waiting => FileStatus::AwaitingDecision,
                }
            }
            AssessmentMeetingHeld(e) => {
                self.last_meeting_on = Some(e.occurred_on);
                // A new meeting restarts the reassessment clock until a plan sets a date.
                *own_reassessment = None;
            }
            ActionPlanAdopted(p) | ActionPlanRevised(p) => {
                *own_reassessment = p.next_reassessment_on;
                self.plan = Some(PlanInForce {
                    version: p.plan_version,
                    adopted_on: p.occurred_on,
                    meeting_number: p.meeting_number,
                    goals: p
                        .goals
                        .iter()
                        .map(|g| GoalInForce {
                            goal_id: g.goal_id,
                            domain: g.domain,
                            description: g.description.clone(),
                            responsible: g.responsible,
                            target_on: g.target_on,
                            status: None,
                            status_on: None,
                        })
                        .collect(),
                });
            }
            GoalProgressRecorded(e) => {
                progress.insert(e.goal_id, (e.status, e.occurred_on));
            }
            ServiceStarted(e) => self.active_services.push(ActiveService {
                service_id: e.service_id,
                kind: e.kind,
                format: e.format,
                provider: e.provider,
                started_on: e.occurred_on,
                linked_goals: e.linked_goals.clone(),
            }),
            ServiceEnded(e) => self
                .active_services
                .retain(|s| s.service_id != e.service_id),
            ReferralMade(e) => self.open_referrals.push(OpenReferral {
                referral_id: e.referral_id,
                resource: e.resource,
                made_on: e.occurred_on,
                expected_by: e
                    .expected_outcome_by
                    .unwrap_or_else(|| e.occurred_on.plus_days(rules.referral_outcome_days.into())),
                state: None,
                state_on: None,
            }),
            ReferralOutcomeRecorded(e) => {
                if e.outcome.is_final() {
                    self.open_referrals
                        .retain(|r| r.referral_id != e.referral_id);
                } else if let Some(r) = self
                    .open_referrals
                    .iter_mut()
                    .find(|r| r.referral_id == e.referral_id)
                {
                    r.state = Some(e.outcome);
                    r.state_on = Some(e.occurred_on);
                }
            }
            LegalInterventionOpened(e) => self.open_legal_matters.push(OpenLegalMatter {
                matter_id: e.matter_id,
                area: e.area,
                kind: e.kind,
                opened_on: e.occurred_on,
            }),
            LegalInterventionConcluded(e) => self
                .open_legal_matters
                .retain(|m| m.matter_id != e.matter_id),
            RightsConcernRaised(e) => self.open_rights_concerns.push(OpenRightsConcern {
                concern_id: e.concern_id,
                right: e.right,
                articles: e.articles.clone(),
                raised_on: e.occurred_on,
            }),
            RightsConcernResolved(e) => self
                .open_rights_concerns
                .retain(|c| c.concern_id != e.concern_id),
            ConsentGiven(e) => {
                if !self.consents.contains(&e.scope) {
                    self.consents.push(e.scope);
                }
            }
            ConsentWithdrawn(e) => self.consents.retain(|s| *s != e.scope),
            FileTransferred(e) => self.centre = Some(e.to_centre.clone()),
            FileClosed(_) => {
                self.status = FileStatus::Closed;
                self.plan = None;
                self.active_services.clear();
            }
            FamilyContactRecorded(_) | EntryCorrected(_) => {}
        }
    }
}
