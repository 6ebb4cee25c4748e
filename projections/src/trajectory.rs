//! The longitudinal trajectory of one child: the whole history on one page for a clinician before
//! a reassessment — timeline, episodes of care, age at each step, needs by domain across meetings,
//! every plan version and what became of each goal, referrals and their outcomes, legal and rights
//! matters, who took part in each meeting. Corrections are applied, and stay visible.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::describe::Names;
use crate::history::{ChildHistory, CorrectionMark, Entry};
use crate::lifecycle::{CircleMember, Lifecycle, PeriodOfCare, ServiceEnd};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trajectory {
    pub child_id: Option<ChildId>,
    pub birth_date: Option<Identifying<ClinicalDate>>,
    pub timeline: Vec<TimelineEntry>,
    /// The periods of care, from the file's lifecycle.
    pub episodes: Vec<PeriodOfCare>,
    /// The child's circle: family members and significant adults, past and present.
    pub circle: Vec<CircleStory>,
    pub meetings: Vec<MeetingRecord>,
    pub needs: NeedsGrid,
    /// Developmental screenings, oldest first.
    pub screenings: Vec<ScreeningRecord>,
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
    /// The entry in words, never identifying (see `Names::describe`).
    pub summary: String,
    /// What the entry is about, where the file names it: a goal's text, an organisation, the
    /// people concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<Identifying<String>>,
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
    pub participants: Vec<MeetingParticipant>,
    pub child_took_part: bool,
    pub child_voice: Option<Identifying<String>>,
    pub needs: Vec<NeedAssessment>,
    pub strengths: Vec<Strength>,
    pub hypotheses: Option<Identifying<String>>,
}

/// Who took part in a meeting: the role, and where known the person's name and relation to the
/// child (from the child's circle) or their staff id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingParticipant {
    pub role: ParticipantRole,
    pub person: Option<PersonId>,
    pub name: Option<Identifying<String>>,
    pub member: Option<CircleMemberId>,
    pub relation: Option<Relation>,
}

/// A member of the child's circle, as the file knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircleStory {
    pub member_id: CircleMemberId,
    pub name: Identifying<String>,
    pub relation: Relation,
    pub contact_role: ContactRole,
    pub parental_authority: bool,
    pub since: ClinicalDate,
    pub left_on: Option<ClinicalDate>,
}

impl From<&CircleMember> for CircleStory {
    fn from(m: &CircleMember) -> Self {
        Self {
            member_id: m.added.member_id,
            name: m.added.name.clone(),
            relation: m.added.relation,
            contact_role: m.added.contact_role,
            parental_authority: m.added.parental_authority,
            since: m.added.occurred_on,
            left_on: m.left_on,
        }
    }
}

/// One developmental screening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningRecord {
    pub occurred_on: ClinicalDate,
    pub age_months: Option<i32>,
    pub instrument: ScreeningInstrument,
    pub results: Vec<ScreeningResult>,
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
    /// Goals of the previous version kept in this one.
    pub carried: Vec<GoalId>,
    /// Goals new in this version.
    pub added: Vec<GoalId>,
    /// Goals of the previous version left out of this one (their `GoalStory::fate` says why:
    /// achieved, replaced or abandoned).
    pub left_out: Vec<GoalId>,
    pub next_reassessment_on: Option<ClinicalDate>,
}

/// What became of a goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalFate {
    /// In the plan in force, new in its latest version.
    InPlan,
    /// In the plan in force, carried forward from an earlier version.
    CarriedForward,
    /// Achieved, and then left out of a later version or ended with the period of care.
    Achieved,
    /// Left out of a later version that set a new goal in the same domain (`replaced_by`).
    Replaced,
    /// Left out of a later version, not achieved and not replaced (or recorded abandoned).
    Abandoned,
    /// In the plan, not achieved, when the period of care ended.
    EndedByClosure,
}

impl GoalFate {
    /// The fate in words.
    pub fn label(self) -> &'static str {
        match self {
            GoalFate::InPlan => "in the plan",
            GoalFate::CarriedForward => "carried forward, in the plan",
            GoalFate::Achieved => "achieved",
            GoalFate::Replaced => "replaced",
            GoalFate::Abandoned => "abandoned",
            GoalFate::EndedByClosure => "ended when the file closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalStory {
    pub goal_id: GoalId,
    pub domain: NeedDomain,
    pub description: Identifying<String>,
    pub responsible: Vec<Responsible>,
    pub target_on: ClinicalDate,
    pub centre: Option<CentreId>,
    pub first_version: u32,
    pub last_version: u32,
    pub progress: Vec<(ClinicalDate, GoalStatus)>,
    pub fate: GoalFate,
    /// When the goal left the plan (achieved, replaced, abandoned or ended by closure).
    pub fate_on: Option<ClinicalDate>,
    /// The goals that replaced it.
    pub replaced_by: Vec<GoalId>,
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
    pub format: ServiceFormat,
    pub provider: ServiceProvider,
    pub provider_name: Option<Identifying<String>>,
    pub provider_person: Option<PersonId>,
    pub linked_goals: Vec<GoalId>,
    pub started_on: ClinicalDate,
    pub ended_on: Option<ClinicalDate>,
    pub end: Option<ServiceEnd>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralStory {
    pub referral_id: ReferralId,
    pub resource: ExternalResource,
    pub organisation: Option<Identifying<String>>,
    pub made_on: ClinicalDate,
    pub centre: Option<CentreId>,
    /// The referral's own expected date, if it named one.
    pub expected_by: Option<ClinicalDate>,
    pub outcomes: Vec<(ClinicalDate, ReferralOutcome)>,
    pub final_outcome: Option<ReferralOutcome>,
    pub days_to_outcome: Option<i64>,
}

impl ReferralStory {
    /// The referral's state: its latest outcome, interim (`waiting`) or final, with its date.
    pub fn latest(&self) -> Option<(ClinicalDate, ReferralOutcome)> {
        self.outcomes.last().copied()
    }

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
            circle: vec![],
            meetings: vec![],
            needs: NeedsGrid::default(),
            screenings: vec![],
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
        t.circle = lifecycle.whole_circle().map(CircleStory::from).collect();
        t.birth_date = lifecycle.birth_date;
        t.episodes = lifecycle.periods;
        let birth_date = t.birth_date.as_ref().and_then(|b| b.known().copied());
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
            .and_then(|b| b.known())
            .map(|b| b.months_until(event.occurred_on()));
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
                    participants: e
                        .participants
                        .iter()
                        .map(|p| {
                            let member = p.member.and_then(|m| lifecycle.circle.get(&m));
                            MeetingParticipant {
                                role: p.role,
                                person: p.person.clone(),
                                name: p
                                    .name
                                    .clone()
                                    .or_else(|| member.map(|m| m.added.name.clone())),
                                member: p.member,
                                relation: member.map(|m| m.added.relation),
                            }
                        })
                        .collect(),
                    child_took_part: e.child_took_part,
                    child_voice: e.child_voice.clone(),
                    needs: e.needs.clone(),
                    strengths: e.strengths.clone(),
                    hypotheses: e.hypotheses.clone(),
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
                format: e.format,
                provider: e.provider,
                provider_name: e.provider_name.clone(),
                provider_person: e.provider_person.clone(),
                linked_goals: e.linked_goals.clone(),
                started_on: e.occurred_on,
                ended_on: None,
                end: None,
            }),
            ServiceEnded(e) => {
                if let Some(s) = self
                    .services
                    .iter_mut()
                    .find(|s| s.service_id == e.service_id)
                {
                    s.ended_on = Some(e.occurred_on);
                    s.end = Some(ServiceEnd::Ended(e.reason));
                }
            }
            DevelopmentalScreeningRecorded(e) => self.screenings.push(ScreeningRecord {
                occurred_on: e.occurred_on,
                age_months: age,
                instrument: e.instrument,
                results: e.results.clone(),
            }),
            ReferralMade(e) => self.referrals.push(ReferralStory {
                referral_id: e.referral_id,
                resource: e.resource,
                organisation: e.organisation.clone(),
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
                for goal in self.goals.iter_mut().filter(|g| g.in_plan()) {
                    goal.fate = if goal.status_on(e.occurred_on) == Some(GoalStatus::Achieved) {
                        GoalFate::Achieved
                    } else {
                        GoalFate::EndedByClosure
                    };
                    goal.fate_on = Some(e.occurred_on);
                }
                for s in self.services.iter_mut().filter(|s| s.ended_on.is_none()) {
                    s.ended_on = Some(e.occurred_on);
                    s.end = Some(ServiceEnd::FileClosed);
                }
            }
            ChildFileOpened(_)
            | FileReopened(_)
            | IdentityErased(_)
            | InitialAssessmentCompleted(_)
            | FileTransferred(_)
            | FamilyContactRecorded(_)
            | CircleMemberAdded(_)
            | CircleMemberLeft(_)
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
        let (carried, added): (Vec<GoalId>, Vec<GoalId>) =
            goals.iter().partition(|g| previous.contains(g));
        let left_out: Vec<GoalId> = previous
            .iter()
            .filter(|g| !goals.contains(g))
            .copied()
            .collect();
        for goal in self
            .goals
            .iter_mut()
            .filter(|g| left_out.contains(&g.goal_id))
        {
            let replaced_by: Vec<GoalId> = p
                .goals
                .iter()
                .filter(|g| added.contains(&g.goal_id) && g.domain == goal.domain)
                .map(|g| g.goal_id)
                .collect();
            goal.fate = match goal.status_on(p.occurred_on) {
                Some(GoalStatus::Achieved) => GoalFate::Achieved,
                Some(GoalStatus::Abandoned) => GoalFate::Abandoned,
                _ if !replaced_by.is_empty() => GoalFate::Replaced,
                _ => GoalFate::Abandoned,
            };
            if goal.fate == GoalFate::Replaced {
                goal.replaced_by = replaced_by;
            }
            goal.fate_on = Some(p.occurred_on);
        }
        for g in &p.goals {
            match self.goals.iter_mut().find(|s| s.goal_id == g.goal_id) {
                Some(story) => {
                    story.last_version = p.plan_version;
                    story.description = g.description.clone();
                    story.responsible = g.responsible.clone();
                    story.target_on = g.target_on;
                    story.fate = GoalFate::CarriedForward;
                }
                None => self.goals.push(GoalStory {
                    goal_id: g.goal_id,
                    domain: g.domain,
                    description: g.description.clone(),
                    responsible: g.responsible.clone(),
                    target_on: g.target_on,
                    centre: centre.clone(),
                    first_version: p.plan_version,
                    last_version: p.plan_version,
                    progress: vec![],
                    fate: GoalFate::InPlan,
                    fate_on: None,
                    replaced_by: vec![],
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
            carried,
            added,
            left_out,
            next_reassessment_on: p.next_reassessment_on,
        });
    }
}

impl GoalStory {
    /// Whether the goal is in the plan in force.
    pub fn in_plan(&self) -> bool {
        matches!(self.fate, GoalFate::InPlan | GoalFate::CarriedForward)
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
    let names = Names::of(effective.iter().map(|e| e.event));
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
            let description = names.describe(shown);
            TimelineEntry {
                sequence: stored.sequence,
                occurred_on: shown.occurred_on(),
                recorded_at: stored.recorded_at,
                event_type: stored.event_type.clone(),
                summary: description.text,
                about: description.about,
                age_months: birth_date.map(|b| b.months_until(shown.occurred_on())),
                centre: lifecycle.centre.clone(),
                recorded_by: stored.metadata.recorded_by.clone(),
                correction: corrections.get(&stored.sequence).cloned(),
            }
        })
        .collect()
}
