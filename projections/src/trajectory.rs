//! The longitudinal trajectory of one child: the whole history on one page for a clinician before
//! a reassessment — timeline, episodes of care, age at each step, needs by domain across meetings,
//! every plan version and what became of each goal, referrals and their outcomes, legal and rights
//! matters, who took part in each meeting. Corrections are applied, and stay visible.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::history::{ChildHistory, CorrectionMark, Entry};
use crate::lifecycle::{Lifecycle, PeriodOfCare};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trajectory {
    pub child_id: Option<ChildId>,
    pub birth_date: Option<Identifying<ClinicalDate>>,
    pub timeline: Vec<TimelineEntry>,
    /// The periods of care, from the file's lifecycle.
    pub episodes: Vec<PeriodOfCare>,
    pub meetings: Vec<MeetingRecord>,
    pub needs: NeedsGrid,
    pub plans: Vec<PlanVersionRecord>,
    pub goals: Vec<GoalStory>,
    pub services: Vec<ServiceStory>,
    pub referrals: Vec<ReferralStory>,
    pub legal_matters: Vec<LegalStory>,
    pub rights_concerns: Vec<RightsStory>,
}

/// One entry of the timeline, in clinical order. Corrected entries show the corrected fact and
/// carry the correction; corrections appear as entries of their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub sequence: u64,
    pub occurred_on: ClinicalDate,
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    pub summary: String,
    /// The child's age in whole months on that date.
    pub age_months: Option<i32>,
    pub centre: Option<CentreId>,
    pub recorded_by: Recorder,
    pub correction: Option<CorrectionMark>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingRecord {
    pub meeting_number: u32,
    pub kind: MeetingKind,
    pub occurred_on: ClinicalDate,
    pub age_months: Option<i32>,
    pub centre: Option<CentreId>,
    pub participants: Vec<ParticipantRole>,
    pub child_took_part: bool,
    pub child_voice: Option<Identifying<String>>,
    pub strengths: Vec<Strength>,
}

/// Needs by domain across meetings: `levels[i]` is the level at `meetings[i]`, `None` where that
/// meeting did not assess the domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedsGrid {
    pub meetings: Vec<u32>,
    pub rows: Vec<NeedRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedRow {
    pub domain: NeedDomain,
    pub levels: Vec<Option<NeedLevel>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanVersionRecord {
    pub version: u32,
    pub revision: bool,
    pub adopted_on: ClinicalDate,
    pub meeting_number: u32,
    pub centre: Option<CentreId>,
    pub goals: Vec<GoalId>,
    /// Goals of the previous version left out of this one.
    pub dropped: Vec<GoalId>,
    pub next_reassessment_on: Option<ClinicalDate>,
}

/// What became of a goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalFate {
    /// Still in the plan in force.
    InPlan,
    /// Left out of a later plan version.
    Dropped,
    /// The file was closed with the goal in the plan.
    EndedWithFile,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalStory {
    pub goal_id: GoalId,
    pub domain: NeedDomain,
    pub description: Identifying<String>,
    pub responsible: ResponsibleParty,
    pub target_on: ClinicalDate,
    pub centre: Option<CentreId>,
    pub first_version: u32,
    pub last_version: u32,
    pub progress: Vec<(ClinicalDate, GoalStatus)>,
    pub fate: GoalFate,
}

impl GoalStory {
    /// The latest status recorded on or before `on`.
    pub fn status_on(&self, on: ClinicalDate) -> Option<GoalStatus> {
        self.progress
            .iter()
            .rfind(|(d, _)| *d <= on)
            .map(|(_, s)| *s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStory {
    pub service_id: ServiceId,
    pub kind: ServiceKind,
    pub provider: ServiceProvider,
    pub started_on: ClinicalDate,
    pub ended_on: Option<ClinicalDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralStory {
    pub referral_id: ReferralId,
    pub resource: ExternalResource,
    pub made_on: ClinicalDate,
    pub centre: Option<CentreId>,
    /// The referral's own expected date, if it named one.
    pub expected_by: Option<ClinicalDate>,
    pub outcomes: Vec<(ClinicalDate, ReferralOutcome)>,
    pub final_outcome: Option<ReferralOutcome>,
    pub days_to_outcome: Option<i64>,
}

impl ReferralStory {
    /// The date of the final outcome, if there is one.
    pub fn concluded_on(&self) -> Option<ClinicalDate> {
        self.outcomes
            .iter()
            .find(|(_, o)| o.is_final())
            .map(|(d, _)| *d)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalStory {
    pub matter_id: LegalMatterId,
    pub area: LegalArea,
    pub kind: LegalInterventionKind,
    pub opened_on: ClinicalDate,
    pub concluded_on: Option<ClinicalDate>,
    pub outcome: Option<LegalOutcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsStory {
    pub concern_id: RightsConcernId,
    pub right: ChildRight,
    pub articles: Vec<ConventionArticle>,
    pub raised_on: ClinicalDate,
    pub resolved_on: Option<ClinicalDate>,
    pub resolution: Option<RightsResolution>,
}

impl Trajectory {
    /// The trajectory as it stood on `as_of` (clinical time; everything when `None`). For the
    /// record as it stood at a moment, pass `history.known_at(moment)`.
    pub fn from_history(history: &ChildHistory, as_of: Option<ClinicalDate>) -> Self {
        let mut t = Trajectory {
            child_id: history.child_id(),
            birth_date: None,
            timeline: vec![],
            episodes: vec![],
            meetings: vec![],
            needs: NeedsGrid::default(),
            plans: vec![],
            goals: vec![],
            services: vec![],
            referrals: vec![],
            legal_matters: vec![],
            rights_concerns: vec![],
        };
        let mut lifecycle = Lifecycle::default();
        let mut needs: BTreeMap<NeedDomain, Vec<Option<NeedLevel>>> = BTreeMap::new();
        // Corrections applied and sorted once; the timeline shows every entry, the rest of the
        // trajectory only those that happened by `as_of`.
        let effective = history.entries();
        for entry in effective
            .iter()
            .filter(|e| as_of.is_none_or(|d| e.occurred_on() <= d))
        {
            lifecycle.apply(entry.event);
            t.apply(entry.event, &lifecycle, &mut needs);
        }
        t.needs.rows = needs
            .into_iter()
            .map(|(domain, levels)| NeedRow { domain, levels })
            .collect();
        t.birth_date = lifecycle.birth_date;
        t.episodes = lifecycle.periods;
        let birth_date = t.birth_date.as_ref().map(|b| *b.expose());
        t.timeline = timeline(history, &effective, as_of, birth_date);
        t
    }

    /// Adds one entry (in clinical order) to the story; `lifecycle` already includes it.
    fn apply(
        &mut self,
        event: &ChildEvent,
        lifecycle: &Lifecycle,
        needs: &mut BTreeMap<NeedDomain, Vec<Option<NeedLevel>>>,
    ) {
        use ChildEvent::*;
        let centre = &lifecycle.centre;
        let age = lifecycle
            .birth_date
            .as_ref()
            .map(|b| b.expose().months_until(event.occurred_on()));
        match event {
            AssessmentMeetingHeld(e) => {
                let column = self.needs.meetings.len();
                self.needs.meetings.push(e.meeting_number);
                for levels in needs.values_mut() {
                    levels.push(None);
                }
                for need in &e.needs {
                    let levels = needs
                        .entry(need.domain)
                        .or_insert_with(|| vec![None; column + 1]);
                    levels[column] = Some(need.level);
                }
                self.meetings.push(MeetingRecord {
                    meeting_number: e.meeting_number,
                    kind: e.kind,
                    occurred_on: e.occurred_on,
                    age_months: age,
                    centre: centre.clone(),
                    participants: e.participants.iter().map(|p| p.role).collect(),
                    child_took_part: e.child_took_part,
                    child_voice: e.child_voice.clone(),
                    strengths: e.strengths.clone(),
                });
            }
            ActionPlanAdopted(p) | ActionPlanRevised(p) => self.plan_version(p, event, centre),
            GoalProgressRecorded(e) => {
                if let Some(goal) = self.goals.iter_mut().find(|g| g.goal_id == e.goal_id) {
                    goal.progress.push((e.occurred_on, e.status));
                }
            }
            ServiceStarted(e) => self.services.push(ServiceStory {
                service_id: e.service_id,
                kind: e.kind,
                provider: e.provider,
                started_on: e.occurred_on,
                ended_on: None,
            }),
            ServiceEnded(e) => {
                if let Some(s) = self
                    .services
                    .iter_mut()
                    .find(|s| s.service_id == e.service_id)
                {
                    s.ended_on = Some(e.occurred_on);
                }
            }
            ReferralMade(e) => self.referrals.push(ReferralStory {
                referral_id: e.referral_id,
                resource: e.resource,
                made_on: e.occurred_on,
                centre: centre.clone(),
                expected_by: e.expected_outcome_by,
                outcomes: vec![],
                final_outcome: None,
                days_to_outcome: None,
            }),
            ReferralOutcomeRecorded(e) => {
                if let Some(r) = self
                    .referrals
                    .iter_mut()
                    .find(|r| r.referral_id == e.referral_id)
                {
                    r.outcomes.push((e.occurred_on, e.outcome));
                    if e.outcome.is_final() {
                        r.final_outcome = Some(e.outcome);
                        r.days_to_outcome = Some(r.made_on.days_until(e.occurred_on));
                    }
                }
            }
            LegalInterventionOpened(e) => self.legal_matters.push(LegalStory {
                matter_id: e.matter_id,
                area: e.area,
                kind: e.kind,
                opened_on: e.occurred_on,
                concluded_on: None,
                outcome: None,
            }),
            LegalInterventionConcluded(e) => {
                if let Some(m) = self
                    .legal_matters
                    .iter_mut()
                    .find(|m| m.matter_id == e.matter_id)
                {
                    m.concluded_on = Some(e.occurred_on);
                    m.outcome = Some(e.outcome);
                }
            }
            RightsConcernRaised(e) => self.rights_concerns.push(RightsStory {
                concern_id: e.concern_id,
                right: e.right,
                articles: e.articles.clone(),
                raised_on: e.occurred_on,
                resolved_on: None,
                resolution: None,
            }),
            RightsConcernResolved(e) => {
                if let Some(c) = self
                    .rights_concerns
                    .iter_mut()
                    .find(|c| c.concern_id == e.concern_id)
                {
                    c.resolved_on = Some(e.occurred_on);
                    c.resolution = Some(e.resolution);
                }
            }
            FileClosed(e) => {
                for goal in self.goals.iter_mut().filter(|g| g.fate == GoalFate::InPlan) {
                    goal.fate = GoalFate::EndedWithFile;
                }
                for s in self.services.iter_mut().filter(|s| s.ended_on.is_none()) {
                    s.ended_on = Some(e.occurred_on);
                }
            }
            ChildFileOpened(_)
            | FileReopened(_)
            | InitialAssessmentCompleted(_)
            | FileTransferred(_)
            | FamilyContactRecorded(_)
            | ConsentGiven(_)
            | ConsentWithdrawn(_)
            | EntryCorrected(_) => {}
        }
    }

    fn plan_version(
        &mut self,
        p: &ActionPlanVersion,
        event: &ChildEvent,
        centre: &Option<CentreId>,
    ) {
        let revision = matches!(event, ChildEvent::ActionPlanRevised(_));
        let previous: Vec<GoalId> = if revision {
            self.plans
                .last()
                .map(|v| v.goals.clone())
                .unwrap_or_default()
        } else {
            vec![]
        };
        let goals: Vec<GoalId> = p.goals.iter().map(|g| g.goal_id).collect();
        let dropped: Vec<GoalId> = previous
            .iter()
            .filter(|g| !goals.contains(g))
            .copied()
            .collect();
        for goal in self
            .goals
            .iter_mut()
            .filter(|g| dropped.contains(&g.goal_id))
        {
            goal.fate = GoalFate::Dropped;
        }
        for g in &p.goals {
            match self.goals.iter_mut().find(|s| s.goal_id == g.goal_id) {
                Some(story) => {
                    story.last_version = p.plan_version;
                    story.target_on = g.target_on;
                    story.fate = GoalFate::InPlan;
                }
                None => self.goals.push(GoalStory {
                    goal_id: g.goal_id,
                    domain: g.domain,
                    description: g.description.clone(),
                    responsible: g.responsible,
                    target_on: g.target_on,
                    centre: centre.clone(),
                    first_version: p.plan_version,
                    last_version: p.plan_version,
                    progress: vec![],
                    fate: GoalFate::InPlan,
                }),
            }
        }
        self.plans.push(PlanVersionRecord {
            version: p.plan_version,
            revision,
            adopted_on: p.occurred_on,
            meeting_number: p.meeting_number,
            centre: centre.clone(),
            goals,
            dropped,
            next_reassessment_on: p.next_reassessment_on,
        });
    }
}

/// Every entry (counting or not) in clinical order, with corrections marked and the centre
/// responsible at the time.
fn timeline(
    history: &ChildHistory,
    effective: &[Entry<'_>],
    as_of: Option<ClinicalDate>,
    birth_date: Option<ClinicalDate>,
) -> Vec<TimelineEntry> {
    let corrections = history.corrections();
    let effective: BTreeMap<u64, &ChildEvent> =
        effective.iter().map(|e| (e.sequence(), e.event)).collect();
    let mut entries: Vec<(&StoredEvent, &ChildEvent)> = history
        .events()
        .iter()
        .map(|stored| {
            let shown = effective
                .get(&stored.sequence)
                .copied()
                .unwrap_or(&stored.event);
            (stored, shown)
        })
        .filter(|(_, shown)| as_of.is_none_or(|d| shown.occurred_on() <= d))
        .collect();
    entries.sort_by_key(|(stored, shown)| (shown.occurred_on(), stored.sequence));
    let mut lifecycle = Lifecycle::default();
    entries
        .into_iter()
        .map(|(stored, shown)| {
            if effective.contains_key(&stored.sequence) {
                lifecycle.apply(shown);
            }
            TimelineEntry {
                sequence: stored.sequence,
                occurred_on: shown.occurred_on(),
                recorded_at: stored.recorded_at,
                event_type: stored.event_type.clone(),
                summary: shown.summary(),
                age_months: birth_date.map(|b| b.months_until(shown.occurred_on())),
                centre: lifecycle.centre.clone(),
                recorded_by: stored.metadata.recorded_by.clone(),
                correction: corrections.get(&stored.sequence).cloned(),
            }
        })
        .collect()
}
