//! `FileState`: what the file's rules need to know, folded from its entries (with corrections
//! applied). Folding never fails: whether an entry is admissible is decided before it is stored
//! (`rules`), so by the time it is folded it is a fact.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

/// Where the current request stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    #[default]
    NotOpened,
    /// Received, not yet assessed.
    RequestReceived,
    /// Assessed, decision pending.
    DecisionWaiting,
    Accepted,
    Redirected,
    Closed,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::NotOpened => "not opened",
            Stage::RequestReceived => "received but not yet assessed",
            Stage::DecisionWaiting => "assessed with the decision waiting",
            Stage::Accepted => "accepted",
            Stage::Redirected => "redirected",
            Stage::Closed => "closed",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInForce {
    pub version: u32,
    pub adopted_on: ClinicalDate,
    pub goals: BTreeSet<GoalId>,
}

/// A service, referral, legal matter or rights concern: when it began and, once over, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub began_on: ClinicalDate,
    pub finished: Option<(ClinicalDate, String)>,
}

impl Item {
    fn new(began_on: ClinicalDate) -> Self {
        Self {
            began_on,
            finished: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub stage: Stage,
    pub centre: Option<CentreId>,
    pub birth_date: Option<ClinicalDate>,
    pub opened_on: Option<ClinicalDate>,
    /// The date of the request the file is working on (opening or latest reopening).
    pub request_on: Option<ClinicalDate>,
    pub closed_on: Option<ClinicalDate>,
    pub meetings: u32,
    pub last_meeting_on: Option<ClinicalDate>,
    /// Whether a meeting has been held since the current request.
    pub met_since_request: bool,
    pub plan_versions: u32,
    pub plan: Option<PlanInForce>,
    /// Every goal any plan version has had, with the date it first entered a plan.
    pub goals_ever: BTreeMap<GoalId, ClinicalDate>,
    /// The latest clinical date of any entry.
    pub latest_on: Option<ClinicalDate>,
    pub services: BTreeMap<ServiceId, Item>,
    pub referrals: BTreeMap<ReferralId, Item>,
    pub legal_matters: BTreeMap<LegalMatterId, Item>,
    pub rights_concerns: BTreeMap<RightsConcernId, Item>,
    pub consents: BTreeMap<ConsentScope, ClinicalDate>,
}

impl FileState {
    pub fn apply(&mut self, event: &ChildEvent) {
        use ChildEvent::*;
        if !matches!(event, EntryCorrected(_)) {
            self.latest_on = self.latest_on.max(Some(event.occurred_on()));
        }
        match event {
            ChildFileOpened(e) => {
                self.stage = Stage::RequestReceived;
                self.centre = Some(e.centre.clone());
                self.birth_date = Some(*e.child.birth_date.expose());
                self.opened_on = Some(e.occurred_on);
                self.request_on = Some(e.occurred_on);
            }
            InitialAssessmentCompleted(e) => {
                self.stage = match e.decision {
                    InitialDecision::Accepted => Stage::Accepted,
                    InitialDecision::Redirected { .. } => Stage::Redirected,
                    InitialDecision::Waiting => Stage::DecisionWaiting,
                }
            }
            AssessmentMeetingHeld(e) => {
                self.meetings = e.meeting_number;
                self.last_meeting_on = Some(e.occurred_on);
                self.met_since_request = true;
            }
            ActionPlanAdopted(p) | ActionPlanRevised(p) => {
                self.plan_versions = p.plan_version;
                let goals: BTreeSet<_> = p.goals.iter().map(|g| g.goal_id).collect();
                for goal in &goals {
                    self.goals_ever.entry(*goal).or_insert(p.occurred_on);
                }
                self.plan = Some(PlanInForce {
                    version: p.plan_version,
                    adopted_on: p.occurred_on,
                    goals,
                });
            }
            GoalProgressRecorded(_) | FamilyContactRecorded(_) | EntryCorrected(_) => {}
            ServiceStarted(e) => {
                self.services.insert(e.service_id, Item::new(e.occurred_on));
            }
            ServiceEnded(e) => finish(&mut self.services, &e.service_id, e.occurred_on, e.reason),
            ReferralMade(e) => {
                self.referrals
                    .insert(e.referral_id, Item::new(e.occurred_on));
            }
            ReferralOutcomeRecorded(e) => {
                if e.outcome.is_final() {
                    finish(
                        &mut self.referrals,
                        &e.referral_id,
                        e.occurred_on,
                        e.outcome,
                    );
                }
            }
            LegalInterventionOpened(e) => {
                self.legal_matters
                    .insert(e.matter_id, Item::new(e.occurred_on));
            }
            LegalInterventionConcluded(e) => finish(
                &mut self.legal_matters,
                &e.matter_id,
                e.occurred_on,
                e.outcome,
            ),
            RightsConcernRaised(e) => {
                self.rights_concerns
                    .insert(e.concern_id, Item::new(e.occurred_on));
            }
            RightsConcernResolved(e) => finish(
                &mut self.rights_concerns,
                &e.concern_id,
                e.occurred_on,
                e.resolution,
            ),
            ConsentGiven(e) => {
                self.consents.insert(e.scope, e.occurred_on);
            }
            ConsentWithdrawn(e) => {
                self.consents.remove(&e.scope);
            }
            FileTransferred(e) => self.centre = Some(e.to_centre.clone()),
            FileClosed(e) => {
                self.stage = Stage::Closed;
                self.closed_on = Some(e.occurred_on);
                self.plan = None;
                // Closing a period of care ends what the centre itself was providing.
                for item in self.services.values_mut() {
                    if item.finished.is_none() {
                        item.finished = Some((e.occurred_on, "ended at file closure".into()));
                    }
                }
            }
            FileReopened(e) => {
                self.stage = Stage::RequestReceived;
                self.request_on = Some(e.occurred_on);
                self.met_since_request = false;
            }
        }
    }
}

fn finish<K: Ord>(items: &mut BTreeMap<K, Item>, id: &K, on: ClinicalDate, how: impl fmt::Display) {
    if let Some(item) = items.get_mut(id) {
        item.finished = Some((on, how.to_string()));
    }
}
