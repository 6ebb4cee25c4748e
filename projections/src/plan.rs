//! The current action plan of one child: the plan in force with each goal's latest status, what
//! is under way (services, open referrals, legal matters, rights concerns) and when the next
//! reassessment is due.

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::history::ChildHistory;
use crate::lifecycle::{Lifecycle, Stage};
use crate::rules::FollowUpRules;
use crate::trajectory::CircleStory;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentPlan {
    pub child_id: Option<ChildId>,
    pub centre: Option<CentreId>,
    pub status: Stage,
    pub plan: Option<ActionPlan>,
    /// When the next reassessment is due: the plan's own date, or the configured delay after the
    /// last meeting.
    pub next_reassessment_on: Option<ClinicalDate>,
    /// True when `next_reassessment_on` comes from the configured default, not from the plan.
    pub next_reassessment_is_default: bool,
    /// The latest meeting of the current period of care.
    pub last_meeting_on: Option<ClinicalDate>,
    pub active_services: Vec<ActiveService>,
    pub open_referrals: Vec<OpenReferral>,
    pub open_legal_matters: Vec<OpenLegalMatter>,
    pub open_rights_concerns: Vec<OpenRightsConcern>,
    pub consents: Vec<ConsentScope>,
    /// The child's circle today: family members and significant adults who have not left.
    pub circle: Vec<CircleStory>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPlan {
    pub version: u32,
    /// True for a revision, false for the first plan of a period of care.
    pub revision: bool,
    pub adopted_on: ClinicalDate,
    pub meeting_number: u32,
    pub goals: Vec<GoalInForce>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalInForce {
    pub goal_id: GoalId,
    pub domain: NeedDomain,
    pub description: Identifying<String>,
    pub responsible: Vec<Responsible>,
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
    pub provider_name: Option<Identifying<String>>,
    pub provider_person: Option<PersonId>,
    pub started_on: ClinicalDate,
    pub linked_goals: Vec<GoalId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReferral {
    pub referral_id: ReferralId,
    pub resource: ExternalResource,
    pub organisation: Option<Identifying<String>>,
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
        Self::from_lifecycle(history.child_id(), &history.lifecycle(as_of), rules)
    }

    /// What the plan page shows of a file's lifecycle.
    pub fn from_lifecycle(child_id: Option<ChildId>, l: &Lifecycle, rules: &FollowUpRules) -> Self {
        let reassessment = l.next_reassessment(rules);
        Self {
            child_id,
            centre: l.centre.clone(),
            status: l.stage,
            plan: l.plan.as_ref().map(|p| ActionPlan {
                version: p.version,
                revision: p.revision,
                adopted_on: p.adopted_on,
                meeting_number: p.meeting_number,
                goals: p
                    .goals
                    .iter()
                    .map(|g| {
                        let news = l.goal_progress.get(&g.goal_id);
                        GoalInForce {
                            goal_id: g.goal_id,
                            domain: g.domain,
                            description: g.description.clone(),
                            responsible: g.responsible.clone(),
                            target_on: g.target_on,
                            status: news.map(|n| n.status),
                            status_on: news.map(|n| n.on),
                        }
                    })
                    .collect(),
            }),
            next_reassessment_on: reassessment.map(|r| r.due_on),
            next_reassessment_is_default: reassessment.is_some_and(|r| !r.set_by_plan),
            last_meeting_on: l.meeting_this_period(),
            active_services: l
                .open_services()
                .map(|c| ActiveService {
                    service_id: c.start.service_id,
                    kind: c.start.kind,
                    format: c.start.format,
                    provider: c.start.provider,
                    provider_name: c.start.provider_name.clone(),
                    provider_person: c.start.provider_person.clone(),
                    started_on: c.start.occurred_on,
                    linked_goals: c.start.linked_goals.clone(),
                })
                .collect(),
            open_referrals: l
                .open_referrals()
                .map(|c| OpenReferral {
                    referral_id: c.start.referral_id,
                    resource: c.start.resource,
                    organisation: c.start.organisation.clone(),
                    made_on: c.start.occurred_on,
                    expected_by: Lifecycle::referral_due(&c.start, rules),
                    state: c.latest.as_ref().map(|n| n.how),
                    state_on: c.latest.as_ref().map(|n| n.on),
                })
                .collect(),
            open_legal_matters: l
                .open_legal_matters()
                .map(|c| OpenLegalMatter {
                    matter_id: c.start.matter_id,
                    area: c.start.area,
                    kind: c.start.kind,
                    opened_on: c.start.occurred_on,
                })
                .collect(),
            open_rights_concerns: l
                .open_rights_concerns()
                .map(|c| OpenRightsConcern {
                    concern_id: c.start.concern_id,
                    right: c.start.right,
                    articles: c.start.articles.clone(),
                    raised_on: c.start.occurred_on,
                })
                .collect(),
            consents: l.consents.keys().copied().collect(),
            circle: l.current_circle().map(CircleStory::from).collect(),
        }
        .in_date_order()
    }

    fn in_date_order(mut self) -> Self {
        self.active_services.sort_by_key(|s| s.started_on);
        self.open_referrals.sort_by_key(|r| r.made_on);
        self.open_legal_matters.sort_by_key(|m| m.opened_on);
        self.open_rights_concerns.sort_by_key(|c| c.raised_on);
        self
    }
}
