//! A deterministic synthetic cohort: children of one centre followed over several years, with the
//! variety a real file has — late initial assessments, redirected requests, reassessments on time
//! and late, referrals whose outcomes come late or never, legal matters, rights concerns, closures
//! and reopenings, transfers and corrections.
//!
//! The generator plans *commands*, not rows: they are recorded through the same path as a user's
//! (`Store::record`), rules included. Each child is simulated on its own random stream (seeded
//! from the cohort seed and the child's index), against an in-memory `ChildFile`, so the plan is
//! valid by construction and the same seed always gives the same cohort.

use cqrs_es::Aggregate;
use lifecourse_events::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::*;
use crate::recording::CommandRequest;

/// What cohort to make.
#[derive(Clone, Debug)]
pub struct CohortSpec {
    pub seed: u64,
    pub children: usize,
    /// Years of history before `until`.
    pub years: u32,
    /// The last clinical date of the cohort (not after today).
    pub until: ClinicalDate,
    pub centre: CentreId,
    /// Centres files may be transferred to.
    pub other_centres: Vec<CentreId>,
}

impl CohortSpec {
    /// About one centre's case load (400 children over five years) ending on `until`.
    pub fn one_centre(until: ClinicalDate) -> Self {
        Self {
            seed: 42,
            children: 400,
            years: 5,
            until,
            centre: CentreId::parse("centre-sud").expect("valid centre id"),
            other_centres: ["hochelaga", "cote-des-neiges", "main-dans-la-main"]
                .iter()
                .map(|c| CentreId::parse(*c).expect("valid centre id"))
                .collect(),
        }
    }
}

/// The planned commands, in the order to record them, and what each child's file ends up as.
#[derive(Clone, Debug)]
pub struct Cohort {
    pub requests: Vec<CommandRequest>,
    pub children: Vec<PlannedChild>,
}

#[derive(Clone, Debug)]
pub struct PlannedChild {
    pub child_id: ChildId,
    pub file: ChildFile,
}

/// The generator planned something a user could not record: a bug in the generator.
#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    #[error("cohort generator bug: child #{child_index} {command} was refused: {error}")]
    Refused {
        child_index: usize,
        command: &'static str,
        error: ChildFileError,
    },
    #[error("cohort generator bug: child #{child_index} {command} on {on} comes after an entry dated {last}")]
    OutOfOrder {
        child_index: usize,
        command: &'static str,
        on: ClinicalDate,
        last: ClinicalDate,
    },
}

/// Plans the cohort. Commands of different children are interleaved by clinical date, as they
/// would be recorded at a centre; each child's own commands stay in order.
pub fn plan(spec: &CohortSpec) -> Result<Cohort, CohortError> {
    plan_children(spec, 0..spec.children)
}

/// The part of `spec`'s cohort made of the children of `range` (by index): the same children and
/// commands as in the whole cohort, in date order among themselves. The whole cohort is the
/// succession of its parts, each child's commands in the same order.
pub fn plan_children(
    spec: &CohortSpec,
    range: std::ops::Range<usize>,
) -> Result<Cohort, CohortError> {
    let mut dated = Vec::new();
    let mut children = Vec::with_capacity(range.len());
    for index in range {
        let mut sim = ChildSim::new(spec, index);
        sim.run()?;
        children.push(PlannedChild {
            child_id: sim.child_id,
            file: sim.file.clone(),
        });
        dated.extend(
            sim.planned
                .into_iter()
                .enumerate()
                .map(|(n, (date, request))| ((date, index, n), request)),
        );
    }
    dated.sort_by_key(|(order, _)| *order);
    Ok(Cohort {
        requests: dated.into_iter().map(|(_, r)| r).collect(),
        children,
    })
}

/// Something scheduled for later in a child's care.
#[derive(Clone, Debug)]
enum Pending {
    Contact,
    Progress(GoalId),
    StartService,
    EndService(ServiceId),
    Outcome(ReferralId, ReferralOutcome),
    ConcludeLegal(LegalMatterId),
    ResolveConcern(RightsConcernId),
    CorrectLastContact,
}

struct ChildSim<'a> {
    spec: &'a CohortSpec,
    index: usize,
    rng: ChaCha8Rng,
    child_id: ChildId,
    file: ChildFile,
    centre: CentreId,
    birth: ClinicalDate,
    planned: Vec<(ClinicalDate, CommandRequest)>,
    pending: Vec<(ClinicalDate, Pending)>,
    needs: Vec<(NeedDomain, NeedLevel)>,
    goals: Vec<Goal>,
    /// Goal texts this file has used, so a new goal never repeats an old one's words.
    used_goal_texts: Vec<&'static str>,
    /// The child's circle: id, relation, parental authority.
    circle: Vec<(CircleMemberId, Relation, bool)>,
    today: ClinicalDate,
}

/// Stop simulating this child: the cohort's last date has been reached.
struct PastTheEnd;

type Step<T = ()> = Result<Result<T, PastTheEnd>, CohortError>;

macro_rules! step {
    ($e:expr) => {
        match $e? {
            Ok(v) => v,
            Err(PastTheEnd) => return Ok(Err(PastTheEnd)),
        }
    };
}

impl<'a> ChildSim<'a> {
    fn new(spec: &'a CohortSpec, index: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(
            spec.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let child_id = ChildId(uuid::Builder::from_random_bytes(rng.gen()).into_uuid());
        Self {
            spec,
            index,
            rng,
            child_id,
            file: ChildFile::default(),
            centre: spec.centre.clone(),
            birth: spec.until,
            planned: Vec::new(),
            pending: Vec::new(),
            needs: Vec::new(),
            goals: Vec::new(),
            used_goal_texts: Vec::new(),
            circle: Vec::new(),
            today: spec.until,
        }
    }

    fn run(&mut self) -> Result<(), CohortError> {
        if self.simulate()?.is_err() {
            // The cohort's last day came mid-way: what was due by then still happens.
            let _ = self.play_pending_until(self.spec.until)?;
        }
        Ok(())
    }

    fn simulate(&mut self) -> Step {
        let span = i64::from(self.spec.years) * 365;
        let start = self.spec.until.plus_days(-span);
        let mut t = start.plus_days(self.rng.gen_range(0..span - 14));
        self.birth = t.plus_days(-self.rng.gen_range(180..14 * 365));
        let request = self.request();
        let opened = ChildFileOpened {
            occurred_on: t,
            centre: self.centre.clone(),
            child: self.identity(),
            request,
        };
        let family_name = opened.child.family_name.expose().clone();
        step!(self.record(
            t,
            StaffRole::SocialWorker,
            ChildFileCommand::OpenFile(opened)
        ));
        step!(self.add_circle(t, &family_name));
        loop {
            t = step!(self.request_assessment(t));
            if self.file.state().stage == Stage::Redirected {
                t = t.plus_days(self.rng.gen_range(0..=10));
                step!(self.close(t, ClosureReason::Redirected));
            } else {
                t = step!(self.care_episode(t));
            }
            if !self.rng.gen_bool(0.3) {
                return Ok(Ok(()));
            }
            t = t.plus_days(self.rng.gen_range(60..=600));
            let request = self.request();
            step!(self.record(
                t,
                StaffRole::SocialWorker,
                ChildFileCommand::ReopenFile(FileReopened {
                    occurred_on: t,
                    request,
                })
            ));
        }
    }

    /// Initial assessment of a request: mostly within a week, sometimes late, sometimes waiting.
    fn request_assessment(&mut self, mut t: ClinicalDate) -> Step<ClinicalDate> {
        t = t.plus_days(self.pick_delay(&[(0.75, 1, 6), (0.2, 8, 20), (0.05, 21, 40)]));
        if self.rng.gen_bool(0.1) {
            step!(self.assess(t, InitialDecision::Waiting));
            t = t.plus_days(self.rng.gen_range(7..=30));
        }
        let decision = if self.rng.gen_bool(0.82) {
            InitialDecision::Accepted
        } else {
            InitialDecision::Redirected {
                to: [
                    "CLSC",
                    "youth protection",
                    "school psychologist",
                    "family doctor",
                ]
                .choose(&mut self.rng)
                .map(|to| Identifying::new(to.to_string()))
                .expect("non-empty"),
            }
        };
        step!(self.assess(t, decision));
        Ok(Ok(t))
    }

    fn assess(&mut self, t: ClinicalDate, decision: InitialDecision) -> Step {
        let assessment = InitialAssessmentCompleted {
            occurred_on: t,
            lives_in_territory: !matches!(decision, InitialDecision::Redirected { .. })
                || self.rng.gen_bool(0.5),
            other_services_in_place: self.rng.gen_bool(0.3),
            family_situation: Some(self.phrase(FAMILY_SITUATIONS)),
            decision,
        };
        self.record(
            t,
            StaffRole::SocialWorker,
            ChildFileCommand::CompleteInitialAssessment(assessment),
        )
    }

    /// From acceptance to closure (or the cohort's end): meetings, plans and what follows them.
    fn care_episode(&mut self, mut t: ClinicalDate) -> Step<ClinicalDate> {
        for (scope, p) in [
            (ConsentScope::InformationSharing, 0.85),
            (ConsentScope::Research, 0.55),
        ] {
            if !self.file.state().consents.contains_key(&scope) && self.rng.gen_bool(p) {
                let consent = ConsentGiven {
                    occurred_on: t,
                    scope,
                    given_by: ConsentGiver::Parent,
                    member: self.parent(),
                };
                step!(self.record(
                    t,
                    StaffRole::SocialWorker,
                    ChildFileCommand::GiveConsent(consent)
                ));
            }
        }
        t = t.plus_days(self.pick_delay(&[(0.75, 5, 28), (0.25, 31, 60)]));
        loop {
            step!(self.meeting(t));
            t = t.plus_days(self.pick_delay(&[(0.8, 0, 12), (0.2, 15, 30)]));
            let next = step!(self.plan(t));
            let due = next.unwrap_or_else(|| t.plus_months(6));
            let lateness = self.pick_delay(&[(0.7, -10, 14), (0.3, 20, 90)]);
            let cycle_end = due.plus_days(lateness).max(t.plus_days(30));
            self.schedule_cycle(t, cycle_end);
            step!(self.play_pending_until(cycle_end));
            t = cycle_end;
            let roll: f64 = self.rng.gen();
            if roll < 0.12 {
                let reason = self.closure_reason(t);
                step!(self.close(t, reason));
                return Ok(Ok(t));
            }
            if roll < 0.15 {
                step!(self.transfer(t));
                t = t.plus_days(self.rng.gen_range(7..=30));
            }
        }
    }

    fn meeting(&mut self, t: ClinicalDate) -> Step {
        step!(self.play_pending_until(t));
        self.evolve_needs();
        let age_months = self.birth.months_until(t);
        let mut participants = vec![Participant {
            member: self.parent(),
            ..participant(ParticipantRole::Parent)
        }];
        participants.push(participant(ParticipantRole::Doctor));
        participants.push(participant(ParticipantRole::SocialWorker));
        for (role, p) in [
            (
                ParticipantRole::SchoolStaff,
                if age_months >= 60 { 0.5 } else { 0.0 },
            ),
            (
                ParticipantRole::DaycareStaff,
                if age_months < 60 { 0.3 } else { 0.0 },
            ),
            (ParticipantRole::YouthProtection, 0.15),
            (ParticipantRole::SignificantAdult, 0.3),
            (ParticipantRole::LegalAdvisor, 0.1),
        ] {
            if self.rng.gen_bool(p) {
                let member = (role == ParticipantRole::SignificantAdult)
                    .then(|| self.significant_adult())
                    .flatten();
                participants.push(Participant {
                    member,
                    ..participant(role)
                });
            }
        }
        let child_took_part = age_months >= 48 && self.rng.gen_bool(0.8);
        let child_voice =
            (child_took_part && self.rng.gen_bool(0.6)).then(|| self.phrase(CHILD_VOICES));
        let strengths = (0..self.rng.gen_range(1..=3))
            .map(|_| Strength {
                held_by: *StrengthHolder::ALL
                    .choose(&mut self.rng)
                    .expect("non-empty"),
                description: self.phrase(STRENGTHS),
            })
            .collect();
        let meeting = HoldAssessmentMeeting {
            occurred_on: t,
            participants,
            child_took_part,
            child_voice,
            needs: self
                .needs
                .iter()
                .map(|(domain, level)| NeedAssessment {
                    domain: *domain,
                    level: *level,
                    note: None,
                })
                .collect(),
            strengths,
            hypotheses: Some(self.phrase(HYPOTHESES)),
        };
        step!(self.record(
            t,
            StaffRole::Doctor,
            ChildFileCommand::HoldAssessmentMeeting(meeting),
        ));
        self.screening(t, age_months)
    }

    /// Screens development where the child's age suits an instrument: ASQ-3 from 1 to 5 years
    /// (at most once a year), the EDI once in the kindergarten year (5 to 6).
    fn screening(&mut self, t: ClinicalDate, age_months: i32) -> Step {
        let screened = |instrument: ScreeningInstrument, within_days: i64| {
            self.file.entries().iter().any(|e| {
                matches!(e, ChildEvent::DevelopmentalScreeningRecorded(s)
                    if s.instrument == instrument && s.occurred_on.days_until(t) < within_days)
            })
        };
        let instrument =
            if (12..60).contains(&age_months) && !screened(ScreeningInstrument::Asq3, 365) {
                ScreeningInstrument::Asq3
            } else if (60..72).contains(&age_months) && !screened(ScreeningInstrument::Edi, 3650) {
                ScreeningInstrument::Edi
            } else {
                return Ok(Ok(()));
            };
        if !self.rng.gen_bool(0.7) {
            return Ok(Ok(()));
        }
        // A child with a severe developmental need scores lower.
        let strain = self
            .needs
            .iter()
            .find(|(d, _)| *d == NeedDomain::Development)
            .map_or(0, |(_, l)| {
                NeedLevel::ALL.iter().position(|x| x == l).unwrap_or(0)
            });
        let results = instrument
            .domains()
            .iter()
            .map(|domain| {
                let (score, band) = match instrument {
                    ScreeningInstrument::Asq3 => {
                        let points = (self.rng.gen_range(6..=12) - strain as u16 * 2) * 5;
                        let band = match points {
                            0..=25 => ScreeningBand::BelowCutoff,
                            30..=40 => ScreeningBand::Monitoring,
                            _ => ScreeningBand::OnSchedule,
                        };
                        (ScreeningScore(points * 10), band)
                    }
                    ScreeningInstrument::Edi => {
                        let tenths = self.rng.gen_range(40..=100) - strain as u16 * 12;
                        let band = match tenths {
                            0..=39 => ScreeningBand::Vulnerable,
                            40..=59 => ScreeningBand::AtRisk,
                            _ => ScreeningBand::OnTrack,
                        };
                        (ScreeningScore(tenths), band)
                    }
                };
                ScreeningResult {
                    domain: *domain,
                    score: Some(score),
                    band: Some(band),
                }
            })
            .collect();
        self.record(
            t,
            StaffRole::Nurse,
            ChildFileCommand::RecordScreening(DevelopmentalScreeningRecorded {
                occurred_on: t,
                instrument,
                results,
                note: None,
            }),
        )
    }

    /// The child's circle as the team first learns it: a mother, often a father, sometimes a
    /// grandparent or aunt, sometimes a significant adult outside the family.
    fn add_circle(&mut self, t: ClinicalDate, family_name: &str) -> Step {
        let candidates = [
            (Relation::Mother, 0.9, true, ContactRole::PrimaryContact),
            (Relation::Father, 0.5, true, ContactRole::Contact),
            (Relation::Grandparent, 0.25, false, ContactRole::Contact),
            (Relation::AuntOrUncle, 0.1, false, ContactRole::Contact),
            (Relation::Coach, 0.1, false, ContactRole::NotToBeContacted),
            (Relation::Neighbour, 0.1, false, ContactRole::Contact),
        ];
        for (relation, p, parental, role) in candidates {
            if !self.rng.gen_bool(p) {
                continue;
            }
            let names = match relation {
                Relation::Mother => WOMEN_NAMES,
                Relation::Father => MEN_NAMES,
                _ if self.rng.gen_bool(0.5) => WOMEN_NAMES,
                _ => MEN_NAMES,
            };
            let given = names.choose(&mut self.rng).expect("non-empty");
            let name = if parental || relation == Relation::Grandparent {
                format!("{given} {family_name}")
            } else {
                format!(
                    "{given} {}",
                    FAMILY_NAMES.choose(&mut self.rng).expect("non-empty")
                )
            };
            let member_id = CircleMemberId(self.uuid());
            let contact_role = if self.circle.is_empty() {
                ContactRole::PrimaryContact
            } else if role == ContactRole::PrimaryContact {
                ContactRole::Contact
            } else {
                role
            };
            step!(self.record(
                t,
                StaffRole::SocialWorker,
                ChildFileCommand::AddCircleMember(CircleMemberAdded {
                    occurred_on: t,
                    member_id,
                    name: Identifying::new(name),
                    relation,
                    contact_role,
                    parental_authority: parental,
                    phone: None,
                })
            ));
            self.circle.push((member_id, relation, parental));
        }
        Ok(Ok(()))
    }

    /// A member of the circle with parental authority, if there is one.
    fn parent(&mut self) -> Option<CircleMemberId> {
        let parents: Vec<CircleMemberId> = self
            .circle
            .iter()
            .filter(|(_, _, parental)| *parental)
            .map(|(id, _, _)| *id)
            .collect();
        parents.choose(&mut self.rng).copied()
    }

    /// A significant adult of the circle outside the parents, if there is one.
    fn significant_adult(&mut self) -> Option<CircleMemberId> {
        let others: Vec<CircleMemberId> = self
            .circle
            .iter()
            .filter(|(_, _, parental)| !*parental)
            .map(|(id, _, _)| *id)
            .collect();
        others.choose(&mut self.rng).copied()
    }

    /// First meeting: three to six domains of need. Later: each level moves, mostly for the better.
    fn evolve_needs(&mut self) {
        if self.needs.is_empty() {
            let mut domains = NeedDomain::ALL.to_vec();
            domains.shuffle(&mut self.rng);
            let n = self.rng.gen_range(3..=6);
            self.needs = domains[..n]
                .iter()
                .map(|d| (*d, NeedLevel::ALL[self.rng.gen_range(1..4)]))
                .collect();
            return;
        }
        for (_, level) in self.needs.iter_mut() {
            let i = NeedLevel::ALL.iter().position(|l| l == level).unwrap_or(0) as i32;
            let shift = match self.rng.gen_range(0..10) {
                0..=4 => -1,
                5..=7 => 0,
                _ => 1,
            };
            *level = NeedLevel::ALL[(i + shift).clamp(0, 3) as usize];
        }
    }

    /// Adopts the first plan of an episode or revises the plan in force; returns its reassessment date.
    fn plan(&mut self, t: ClinicalDate) -> Step<Option<ClinicalDate>> {
        step!(self.play_pending_until(t));
        let revising = self.file.state().plan.is_some();
        // A revision carries most unfinished goals forward under their own ids; achieved goals
        // leave the plan; new goals come for needs no goal covers, never repeating a text.
        let progress = self.file.state().goal_progress.clone();
        let previous = std::mem::take(&mut self.goals);
        if revising {
            for goal in previous {
                let achieved = progress
                    .get(&goal.goal_id)
                    .is_some_and(|n| n.status == GoalStatus::Achieved);
                if !achieved && self.rng.gen_bool(0.75) {
                    // Carried forward under its own id; a target already past is moved on.
                    let target_on = if goal.target_on <= t {
                        t.plus_days(self.rng.gen_range(60..=240))
                    } else {
                        goal.target_on
                    };
                    self.goals.push(Goal { target_on, ..goal });
                }
            }
        }
        let wanted = self.rng.gen_range(2..=4).max(self.goals.len());
        let mut domains: Vec<NeedDomain> = self
            .needs
            .iter()
            .filter(|(_, level)| *level != NeedLevel::NoConcern)
            .map(|(d, _)| *d)
            .collect();
        domains.shuffle(&mut self.rng);
        for domain in domains {
            if self.goals.len() >= wanted {
                break;
            }
            if self.goals.iter().any(|g| g.domain == domain) {
                continue;
            }
            let Some(text) = goal_texts(domain)
                .iter()
                .find(|text| !self.used_goal_texts.contains(text))
            else {
                continue;
            };
            self.used_goal_texts.push(text);
            let goal = Goal {
                goal_id: GoalId(self.uuid()),
                domain,
                description: Identifying::new(text.to_string()),
                responsible: self.responsible(),
                target_on: t.plus_days(self.rng.gen_range(60..=240)),
            };
            self.goals.push(goal);
        }
        if self.goals.is_empty() {
            // Every need is met or every text used: one goal of keeping gains.
            let goal = Goal {
                goal_id: GoalId(self.uuid()),
                domain: NeedDomain::SocialParticipation,
                description: Identifying::new(format!(
                    "keeps the gains of plan v{}",
                    self.file.state().plan_versions
                )),
                responsible: vec![Responsible::Role(ResponsibleParty::Family)],
                target_on: t.plus_days(self.rng.gen_range(60..=240)),
            };
            self.goals.push(goal);
        }
        let next = self
            .rng
            .gen_bool(0.7)
            .then(|| t.plus_days(self.rng.gen_range(150..=200)));
        let decision = PlanDecision {
            occurred_on: t,
            goals: self.goals.clone(),
            next_reassessment_on: next,
            note: None,
        };
        let command = if revising {
            ChildFileCommand::ReviseActionPlan(decision)
        } else {
            ChildFileCommand::AdoptActionPlan(decision)
        };
        step!(self.record(t, StaffRole::Doctor, command));
        if !revising || self.rng.gen_bool(0.4) {
            for _ in 0..self.rng.gen_range(1..=3) {
                let started = t.plus_days(self.rng.gen_range(0..=14));
                self.pending.push((started, Pending::StartService));
            }
        }
        Ok(Ok(next))
    }

    fn start_service(&mut self, t: ClinicalDate) -> Step {
        let in_plan = |g: &GoalId| {
            self.file
                .state()
                .plan
                .as_ref()
                .is_some_and(|p| p.has_goal(*g))
        };
        let goal = self
            .goals
            .choose(&mut self.rng)
            .map(|g| g.goal_id)
            .filter(in_plan);
        let kind = *ServiceKind::ALL.choose(&mut self.rng).expect("non-empty");
        let service = ServiceStarted {
            occurred_on: t,
            service_id: ServiceId(self.uuid()),
            kind,
            format: *ServiceFormat::ALL.choose(&mut self.rng).expect("non-empty"),
            provider: if kind.volunteers_may_deliver() && self.rng.gen_bool(0.5) {
                ServiceProvider::Volunteer
            } else if self.rng.gen_bool(0.7) {
                ServiceProvider::Centre
            } else {
                ServiceProvider::Partner
            },
            provider_name: None,
            provider_person: None,
            linked_goals: goal.into_iter().collect(),
        };
        let service = if service.provider == ServiceProvider::Volunteer {
            let n = self.rng.gen_range(1..=4);
            ServiceStarted {
                provider_person: PersonId::parse(format!("vol{n}@{}", self.centre)).ok(),
                ..service
            }
        } else {
            service
        };
        if self.rng.gen_bool(0.4) {
            let end = t.plus_days(self.rng.gen_range(30..=300));
            self.pending
                .push((end, Pending::EndService(service.service_id)));
        }
        self.record(
            t,
            StaffRole::SocialWorker,
            ChildFileCommand::StartService(service),
        )
    }

    /// Schedules what happens between a plan and the next reassessment.
    fn schedule_cycle(&mut self, from: ClinicalDate, to: ClinicalDate) {
        let days = from.days_until(to).max(1);
        let mut d = from;
        loop {
            d = d.plus_days(self.pick_delay(&[(0.85, 10, 75), (0.15, 80, 120)]));
            if d >= to {
                break;
            }
            self.pending.push((d, Pending::Contact));
            if self.rng.gen_bool(0.05) {
                self.pending.push((
                    d.plus_days(self.rng.gen_range(0..=5)),
                    Pending::CorrectLastContact,
                ));
            }
        }
        for goal in self.goals.clone() {
            if self.rng.gen_bool(0.6) {
                let on = from.plus_days(self.rng.gen_range(0..days));
                self.pending.push((on, Pending::Progress(goal.goal_id)));
            }
        }
        for _ in 0..self.rng.gen_range(0..=2) {
            let on = from.plus_days(self.rng.gen_range(0..days));
            let id = ReferralId(self.uuid());
            self.pending
                .push((on, Pending::Outcome(id, ReferralOutcome::Waiting)));
        }
        if self.rng.gen_bool(0.12) {
            let on = from.plus_days(self.rng.gen_range(0..days));
            let matter = LegalMatterId(self.uuid());
            self.pending.push((on, Pending::ConcludeLegal(matter)));
        }
        if self.rng.gen_bool(0.07) {
            let on = from.plus_days(self.rng.gen_range(0..days));
            let concern = RightsConcernId(self.uuid());
            self.pending.push((on, Pending::ResolveConcern(concern)));
        }
    }

    /// Records everything pending up to `until`, in date order; the rest waits.
    fn play_pending_until(&mut self, until: ClinicalDate) -> Step {
        loop {
            self.pending.sort_by_key(|(d, _)| *d);
            let Some(pos) = self.pending.iter().position(|(d, _)| *d <= until) else {
                return Ok(Ok(()));
            };
            let (on, what) = self.pending.remove(pos);
            step!(self.play(on, what));
        }
    }

    fn play(&mut self, on: ClinicalDate, what: Pending) -> Step {
        let state = self.file.state();
        match what {
            Pending::Contact => {
                let with = *ContactWith::ALL.choose(&mut self.rng).expect("non-empty");
                let member = match with {
                    ContactWith::ParentOrGuardian | ContactWith::WholeFamily => self.parent(),
                    ContactWith::SignificantAdult => self.significant_adult(),
                    ContactWith::Child => None,
                };
                let contact = FamilyContactRecorded {
                    occurred_on: on,
                    mode: *ContactMode::ALL.choose(&mut self.rng).expect("non-empty"),
                    with,
                    members: member.into_iter().collect(),
                    note: None,
                };
                self.record(
                    on,
                    StaffRole::SocialWorker,
                    ChildFileCommand::RecordFamilyContact(contact),
                )
            }
            Pending::CorrectLastContact => self.correct_last_contact(on),
            Pending::StartService => self.start_service(on),
            Pending::Progress(goal_id) => {
                let in_plan = state.plan.as_ref().is_some_and(|p| p.has_goal(goal_id));
                if !in_plan {
                    return Ok(Ok(()));
                }
                let status = *[
                    GoalStatus::InProgress,
                    GoalStatus::PartiallyAchieved,
                    GoalStatus::Achieved,
                    GoalStatus::NotAchieved,
                ]
                .choose(&mut self.rng)
                .expect("non-empty");
                let progress = GoalProgressRecorded {
                    occurred_on: on,
                    goal_id,
                    status,
                    note: None,
                };
                self.record(
                    on,
                    StaffRole::Psychoeducator,
                    ChildFileCommand::RecordGoalProgress(progress),
                )
            }
            Pending::EndService(service_id) => {
                if state.services.get(&service_id).is_none_or(|s| !s.is_open()) {
                    return Ok(Ok(()));
                }
                let end = ServiceEnded {
                    occurred_on: on,
                    service_id,
                    reason: *ServiceEndReason::ALL
                        .choose(&mut self.rng)
                        .expect("non-empty"),
                };
                self.record(
                    on,
                    StaffRole::SocialWorker,
                    ChildFileCommand::EndService(end),
                )
            }
            Pending::Outcome(referral_id, outcome) => self.referral_step(on, referral_id, outcome),
            Pending::ConcludeLegal(matter_id) => {
                if !state.legal_matters.contains_key(&matter_id) {
                    let opened = LegalInterventionOpened {
                        occurred_on: on,
                        matter_id,
                        area: *LegalArea::ALL.choose(&mut self.rng).expect("non-empty"),
                        kind: *LegalInterventionKind::ALL
                            .choose(&mut self.rng)
                            .expect("non-empty"),
                        summary: None,
                    };
                    if self.rng.gen_bool(0.7) {
                        let later = on.plus_days(self.rng.gen_range(20..=150));
                        self.pending
                            .push((later, Pending::ConcludeLegal(matter_id)));
                    }
                    return self.record(
                        on,
                        StaffRole::LegalAdvisor,
                        ChildFileCommand::OpenLegalIntervention(opened),
                    );
                }
                let concluded = LegalInterventionConcluded {
                    occurred_on: on,
                    matter_id,
                    outcome: *LegalOutcome::ALL.choose(&mut self.rng).expect("non-empty"),
                    note: None,
                };
                self.record(
                    on,
                    StaffRole::LegalAdvisor,
                    ChildFileCommand::ConcludeLegalIntervention(concluded),
                )
            }
            Pending::ResolveConcern(concern_id) => {
                if !state.rights_concerns.contains_key(&concern_id) {
                    let n = self.rng.gen_range(1..=2);
                    let mut articles: Vec<_> = [3u8, 12, 19, 24, 27, 28]
                        .choose_multiple(&mut self.rng, n)
                        .copied()
                        .collect();
                    articles.sort();
                    let raised = RightsConcernRaised {
                        occurred_on: on,
                        concern_id,
                        right: *ChildRight::ALL.choose(&mut self.rng).expect("non-empty"),
                        articles: articles
                            .into_iter()
                            .filter_map(|a| ConventionArticle::new(a).ok())
                            .collect(),
                        description: None,
                    };
                    if self.rng.gen_bool(0.7) {
                        let later = on.plus_days(self.rng.gen_range(10..=60));
                        self.pending
                            .push((later, Pending::ResolveConcern(concern_id)));
                    }
                    return self.record(
                        on,
                        StaffRole::LegalAdvisor,
                        ChildFileCommand::RaiseRightsConcern(raised),
                    );
                }
                let resolved = RightsConcernResolved {
                    occurred_on: on,
                    concern_id,
                    resolution: *RightsResolution::ALL
                        .choose(&mut self.rng)
                        .expect("non-empty"),
                    note: None,
                };
                self.record(
                    on,
                    StaffRole::LegalAdvisor,
                    ChildFileCommand::ResolveRightsConcern(resolved),
                )
            }
        }
    }

    /// A referral is made, then followed: an outcome soon, late, after a wait, or never.
    fn referral_step(
        &mut self,
        on: ClinicalDate,
        referral_id: ReferralId,
        outcome: ReferralOutcome,
    ) -> Step {
        if !self.file.state().referrals.contains_key(&referral_id) {
            let expected = self
                .rng
                .gen_bool(0.6)
                .then(|| on.plus_days(self.rng.gen_range(30..=60)));
            let made = ReferralMade {
                occurred_on: on,
                referral_id,
                resource: *ExternalResource::ALL
                    .choose(&mut self.rng)
                    .expect("non-empty"),
                organisation: None,
                expected_outcome_by: expected,
                reason: None,
            };
            let roll: f64 = self.rng.gen();
            let final_outcome = *[
                ReferralOutcome::Seen,
                ReferralOutcome::Seen,
                ReferralOutcome::Refused,
                ReferralOutcome::NoShow,
                ReferralOutcome::Lost,
            ]
            .choose(&mut self.rng)
            .expect("non-empty");
            if roll < 0.55 {
                self.pending.push((
                    on.plus_days(self.rng.gen_range(7..=45)),
                    Pending::Outcome(referral_id, final_outcome),
                ));
            } else if roll < 0.70 {
                self.pending.push((
                    on.plus_days(self.rng.gen_range(10..=30)),
                    Pending::Outcome(referral_id, ReferralOutcome::Waiting),
                ));
                self.pending.push((
                    on.plus_days(self.rng.gen_range(40..=120)),
                    Pending::Outcome(referral_id, final_outcome),
                ));
            } else if roll < 0.85 {
                self.pending.push((
                    on.plus_days(self.rng.gen_range(60..=150)),
                    Pending::Outcome(referral_id, final_outcome),
                ));
            }
            return self.record(
                on,
                StaffRole::SocialWorker,
                ChildFileCommand::MakeReferral(made),
            );
        }
        let recorded = ReferralOutcomeRecorded {
            occurred_on: on,
            referral_id,
            outcome,
            note: None,
        };
        self.record(
            on,
            StaffRole::SocialWorker,
            ChildFileCommand::RecordReferralOutcome(recorded),
        )
    }

    /// Fixes the latest family contact: the mode was wrong, or it was entered in the wrong file.
    fn correct_last_contact(&mut self, on: ClinicalDate) -> Step {
        let entries = self.file.entries();
        let already_corrected = |seq: u64| {
            entries
                .iter()
                .any(|e| matches!(e, ChildEvent::EntryCorrected(c) if c.corrects_sequence == seq))
        };
        let Some((sequence, contact)) = entries
            .iter()
            .enumerate()
            .rev()
            .map(|(i, e)| (e, i as u64 + 1))
            .find_map(|(e, seq)| match e {
                ChildEvent::FamilyContactRecorded(c) if !already_corrected(seq) => {
                    Some((seq, c.clone()))
                }
                _ => None,
            })
        else {
            return Ok(Ok(()));
        };
        let on = on.max(contact.occurred_on);
        let (reason, correction) = if self.rng.gen_bool(0.6) {
            let mode = if contact.mode == ContactMode::Phone {
                ContactMode::HomeVisit
            } else {
                ContactMode::Phone
            };
            let replacement =
                ChildEvent::FamilyContactRecorded(FamilyContactRecorded { mode, ..contact });
            (
                "contact mode entered wrongly",
                CorrectionRequest::ReplacedBy(Box::new(replacement)),
            )
        } else {
            (
                "contact recorded in the wrong child's file",
                CorrectionRequest::EnteredInError,
            )
        };
        let correct = CorrectEntry {
            occurred_on: on,
            corrects_sequence: sequence,
            reason: Identifying::new(reason.to_string()),
            correction,
        };
        self.record(
            on,
            StaffRole::SocialWorker,
            ChildFileCommand::CorrectEntry(correct),
        )
    }

    fn close(&mut self, t: ClinicalDate, reason: ClosureReason) -> Step {
        step!(self.play_pending_until(t));
        self.pending.clear();
        if reason == ClosureReason::GoalsMet {
            // A file closed because its goals were met has them achieved.
            let in_plan: Vec<GoalId> = self
                .file
                .state()
                .plan
                .iter()
                .flat_map(|p| p.goals.iter().map(|g| g.goal_id))
                .collect();
            for goal_id in in_plan {
                let achieved = self
                    .file
                    .state()
                    .goal_progress
                    .get(&goal_id)
                    .is_some_and(|n| n.status == GoalStatus::Achieved);
                if !achieved {
                    step!(self.record(
                        t,
                        StaffRole::SocialWorker,
                        ChildFileCommand::RecordGoalProgress(GoalProgressRecorded {
                            occurred_on: t,
                            goal_id,
                            status: GoalStatus::Achieved,
                            note: None,
                        })
                    ));
                }
            }
        }
        self.goals.clear();
        // A family that withdraws from the centre withdraws its research consent too (no draw
        // from the random stream: the rest of the cohort stays as it was).
        if reason == ClosureReason::FamilyWithdrew
            && self
                .file
                .state()
                .consents
                .contains_key(&ConsentScope::Research)
        {
            step!(self.record(
                t,
                StaffRole::SocialWorker,
                ChildFileCommand::WithdrawConsent(ConsentWithdrawn {
                    occurred_on: t,
                    scope: ConsentScope::Research,
                })
            ));
        }
        let closed = FileClosed {
            occurred_on: t,
            reason,
            note: None,
        };
        self.record(
            t,
            StaffRole::Coordinator,
            ChildFileCommand::CloseFile(closed),
        )
    }

    fn closure_reason(&mut self, t: ClinicalDate) -> ClosureReason {
        if self.birth.months_until(t) >= 17 * 12 {
            return ClosureReason::AgedOut;
        }
        *[
            ClosureReason::GoalsMet,
            ClosureReason::GoalsMet,
            ClosureReason::FamilyWithdrew,
            ClosureReason::MovedOutOfTerritory,
            ClosureReason::Other,
        ]
        .choose(&mut self.rng)
        .expect("non-empty")
    }

    fn transfer(&mut self, t: ClinicalDate) -> Step {
        step!(self.play_pending_until(t));
        let Some(to) = self
            .spec
            .other_centres
            .iter()
            .filter(|c| **c != self.centre)
            .collect::<Vec<_>>()
            .choose(&mut self.rng)
            .map(|c| (*c).clone())
        else {
            return Ok(Ok(()));
        };
        step!(self.record(
            t,
            StaffRole::Coordinator,
            ChildFileCommand::TransferFile(TransferFile {
                occurred_on: t,
                to_centre: to.clone(),
                note: None,
            })
        ));
        self.centre = to;
        Ok(Ok(()))
    }

    /// Plans one command after checking it against the child's file as it stands.
    fn record(&mut self, on: ClinicalDate, role: StaffRole, command: ChildFileCommand) -> Step {
        if on > self.spec.until {
            return Ok(Err(PastTheEnd));
        }
        let name = command.name();
        if let Some((last, _)) = self.planned.last().filter(|(last, _)| on < *last) {
            return Err(CohortError::OutOfOrder {
                child_index: self.index,
                command: name,
                on,
                last: *last,
            });
        }
        let event = self
            .file
            .decide(command.clone(), self.today)
            .map_err(|error| CohortError::Refused {
                child_index: self.index,
                command: name,
                error,
            })?;
        self.file.apply(ChildFileEvent(event));
        let key = format!(
            "demo-{}-{:04}-{:03}",
            self.spec.seed,
            self.index,
            self.planned.len() + 1
        );
        let recorder = Recorder {
            person: PersonId::parse(format!("{}1@{}", staff_prefix(role), self.centre))
                .expect("valid person id"),
            role,
            centre: self.centre.clone(),
        };
        let request = CommandRequest::new(
            self.child_id,
            IdempotencyKey::parse(key).expect("valid key"),
            recorder,
            command,
        );
        self.planned.push((on, request));
        Ok(Ok(()))
    }

    fn pick_delay(&mut self, bands: &[(f64, i64, i64)]) -> i64 {
        let mut roll: f64 = self.rng.gen();
        for (p, lo, hi) in bands {
            if roll < *p {
                return self.rng.gen_range(*lo..=*hi);
            }
            roll -= p;
        }
        let (_, lo, hi) = bands[bands.len() - 1];
        self.rng.gen_range(lo..=hi)
    }

    /// One to three parties share a goal; the family or the child is often one of them.
    fn responsible(&mut self) -> Vec<Responsible> {
        let n = self.rng.gen_range(1..=3);
        let mut parties: Vec<Responsible> = ResponsibleParty::ALL
            .choose_multiple(&mut self.rng, n)
            .map(|r| Responsible::Role(*r))
            .collect();
        parties.sort();
        parties
    }

    fn uuid(&mut self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(self.rng.gen()).into_uuid()
    }

    fn phrase(&mut self, from: &[&str]) -> Identifying<String> {
        Identifying::new(from.choose(&mut self.rng).expect("non-empty").to_string())
    }

    fn request(&mut self) -> Request {
        Request {
            source: *ReferralSource::ALL
                .choose(&mut self.rng)
                .expect("non-empty"),
            source_detail: None,
            reason: self.phrase(REQUEST_REASONS),
        }
    }

    fn identity(&mut self) -> ChildIdentity {
        ChildIdentity {
            given_name: self.phrase(GIVEN_NAMES),
            family_name: self.phrase(FAMILY_NAMES),
            birth_date: Identifying::new(self.birth),
            address: Some(Identifying::new(format!(
                "{} {}",
                self.rng.gen_range(1000..9999),
                STREETS.choose(&mut self.rng).expect("non-empty")
            ))),
            phone: Some(Identifying::new(format!(
                "514-555-{:04}",
                self.rng.gen_range(0..10000)
            ))),
        }
    }
}

fn participant(role: ParticipantRole) -> Participant {
    Participant {
        role,
        person: None,
        name: None,
        member: None,
    }
}

fn staff_prefix(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Doctor => "md",
        StaffRole::SocialWorker => "sw",
        StaffRole::Psychoeducator => "pe",
        StaffRole::LegalAdvisor => "legal",
        StaffRole::Coordinator => "coord",
        _ => "staff",
    }
}

/// Goal texts by domain, in the order a file uses them.
fn goal_texts(domain: NeedDomain) -> &'static [&'static str] {
    match domain {
        NeedDomain::PhysicalHealth => &[
            "dental and vision check-ups completed",
            "sleeps through the night on a regular bedtime",
            "follow-up with the family doctor kept",
        ],
        NeedDomain::Development => &[
            "speech assessment and daily reading at home",
            "speaks in short sentences understood by strangers",
            "fine motor skills ready for writing",
        ],
        NeedDomain::EmotionalWellbeing => &[
            "fewer outbursts; a trusted adult at school",
            "names feelings and uses a calming plan",
            "sees the child psychiatrist as planned",
        ],
        NeedDomain::FamilyRelationships => &[
            "parent joins the parenting group",
            "regular visits with the other parent arranged",
            "family routine for meals and homework",
        ],
        NeedDomain::SchoolLearning => &[
            "attends school at least four days a week",
            "homework done with the tutor twice a week",
            "individual education plan in place at school",
        ],
        NeedDomain::LivingConditions => &[
            "family moves to a safe, heated flat",
            "food bank and school meal programme in place",
            "landlord repairs the mould",
        ],
        NeedDomain::SafetyProtection => &[
            "safety plan agreed with the family",
            "youth protection follow-up coordinated",
        ],
        NeedDomain::RightsLegal => &[
            "immigration status regularised",
            "school registration obtained despite missing papers",
        ],
        NeedDomain::SocialParticipation => &[
            "joins a weekly sports or art activity",
            "spends time with a mentor every week",
        ],
    }
}

const WOMEN_NAMES: &[&str] = &[
    "Marie", "Julie", "Nathalie", "Sophie", "Fatima", "Amina", "Nadia", "Isabelle",
];
const MEN_NAMES: &[&str] = &[
    "Martin", "Éric", "Karim", "Jean", "Luc", "Patrick", "Mamadou", "Pierre",
];
const GIVEN_NAMES: &[&str] = &[
    "Léa", "Emma", "Olivia", "Alice", "Florence", "Zoé", "Rosalie", "Juliette", "Aya", "Yasmine",
    "Liam", "William", "Noah", "Thomas", "Jacob", "Félix", "Léo", "Nathan", "Samuel", "Adam",
];
const FAMILY_NAMES: &[&str] = &[
    "Tremblay",
    "Gagnon",
    "Roy",
    "Côté",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Pelletier",
    "Bélanger",
    "Lévesque",
    "Bergeron",
    "Nguyen",
    "Joseph",
    "Diallo",
    "Haddad",
];
const STREETS: &[&str] = &[
    "rue Ontario Est",
    "rue Sainte-Catherine Est",
    "avenue Bourbonnière",
    "rue Hochelaga",
    "rue Davidson",
    "avenue Valois",
];
const REQUEST_REASONS: &[&str] = &[
    "language delay noticed at daycare",
    "frequent absences from school",
    "family under housing stress",
    "behaviour difficulties in class",
    "unmet dental and vision needs",
    "school nurse worried about neglect",
    "recent arrival, family isolated",
    "sleep and feeding difficulties",
];
const FAMILY_SITUATIONS: &[&str] = &[
    "single parent, two jobs, little support",
    "family newly arrived, no family doctor",
    "parents separated, shared custody disputed",
    "overcrowded flat, mould reported",
    "supportive grandparents nearby",
];
const CHILD_VOICES: &[&str] = &[
    "I want to go to school with my friends",
    "I like drawing with the volunteer",
    "I don't like it when mum is sad",
    "I want my own bed",
    "I want to play soccer",
];
const STRENGTHS: &[&str] = &[
    "curious and loves books",
    "mother very engaged",
    "strong bond with older sister",
    "neighbourhood community kitchen",
    "good relationship with teacher",
];
const HYPOTHESES: &[&str] = &[
    "toxic stress from housing insecurity affects sleep and school",
    "untreated hearing problem may explain the language delay",
    "isolation of the family limits access to services",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64, children: usize) -> CohortSpec {
        CohortSpec {
            seed,
            children,
            ..CohortSpec::one_centre(ClinicalDate::from_ymd(2026, 6, 30).unwrap())
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_cohort() {
        let a = plan(&spec(7, 20)).unwrap();
        let b = plan(&spec(7, 20)).unwrap();
        assert_eq!(a.requests, b.requests);
        let c = plan(&spec(8, 20)).unwrap();
        assert_ne!(a.requests, c.requests);
    }

    #[test]
    fn every_planned_command_is_admitted_for_many_seeds() {
        for seed in 0..5 {
            let cohort = plan(&spec(seed, 60)).expect("a valid plan");
            assert!(
                cohort.requests.len() > 60 * 5,
                "too thin: {}",
                cohort.requests.len()
            );
        }
    }

    #[test]
    fn the_cohort_has_the_variety_a_centre_sees() {
        let cohort = plan(&spec(42, 200)).unwrap();
        let names: std::collections::BTreeSet<_> =
            cohort.requests.iter().map(|r| r.command.name()).collect();
        for wanted in [
            "open_file",
            "complete_initial_assessment",
            "hold_assessment_meeting",
            "adopt_action_plan",
            "revise_action_plan",
            "record_goal_progress",
            "start_service",
            "end_service",
            "make_referral",
            "record_referral_outcome",
            "open_legal_intervention",
            "conclude_legal_intervention",
            "raise_rights_concern",
            "resolve_rights_concern",
            "record_family_contact",
            "add_circle_member",
            "record_screening",
            "give_consent",
            "withdraw_consent",
            "correct_entry",
            "transfer_file",
            "close_file",
            "reopen_file",
        ] {
            assert!(names.contains(wanted), "no {wanted} in the cohort");
        }
        let redirected = cohort.children.iter().filter(|c| {
            c.file.entries().iter().any(|e| matches!(e, ChildEvent::InitialAssessmentCompleted(a) if matches!(a.decision, InitialDecision::Redirected { .. })))
        });
        assert!(redirected.count() > 5);
    }

    #[test]
    fn the_cohort_tells_believable_stories() {
        let cohort = plan(&spec(42, 200)).unwrap();
        let (mut revisions, mut carried, mut closed_goals_met, mut shared, mut volunteers) =
            (0, 0, 0, 0, 0);
        let mut screened = std::collections::BTreeSet::new();
        for child in &cohort.children {
            let entries = effective_entries(child.file.entries());
            let mut in_force: Vec<Goal> = vec![];
            let mut achieved = std::collections::BTreeSet::new();
            for (_, entry) in &entries {
                match entry {
                    ChildEvent::ActionPlanRevised(p) => {
                        revisions += 1;
                        let ids: Vec<GoalId> = p.goals.iter().map(|g| g.goal_id).collect();
                        carried += in_force.iter().filter(|g| ids.contains(&g.goal_id)).count();
                        // A goal left out is never re-created under a new id with the same words.
                        for left in in_force.iter().filter(|g| !ids.contains(&g.goal_id)) {
                            assert!(
                                !p.goals.iter().any(|g| g.description == left.description),
                                "child {} re-created a dropped goal",
                                child.child_id
                            );
                        }
                        in_force = p.goals.clone();
                    }
                    ChildEvent::ActionPlanAdopted(p) => in_force = p.goals.clone(),
                    ChildEvent::GoalProgressRecorded(e) if e.status == GoalStatus::Achieved => {
                        achieved.insert(e.goal_id);
                    }
                    ChildEvent::GoalProgressRecorded(e) => {
                        achieved.remove(&e.goal_id);
                    }
                    ChildEvent::FileClosed(c) => {
                        if c.reason == ClosureReason::GoalsMet {
                            closed_goals_met += 1;
                            for g in &in_force {
                                assert!(
                                    achieved.contains(&g.goal_id),
                                    "child {} closed with goals met has a goal not achieved",
                                    child.child_id
                                );
                            }
                        }
                        in_force.clear();
                    }
                    ChildEvent::DevelopmentalScreeningRecorded(s) => {
                        screened.insert(s.instrument);
                    }
                    ChildEvent::ServiceStarted(s) if s.provider == ServiceProvider::Volunteer => {
                        volunteers += 1;
                    }
                    _ => {}
                }
                if let ChildEvent::ActionPlanAdopted(p) | ChildEvent::ActionPlanRevised(p) = entry {
                    shared += p.goals.iter().filter(|g| g.responsible.len() > 1).count();
                }
            }
        }
        assert!(
            revisions > 50 && carried > 50,
            "{revisions} revisions, {carried} carried"
        );
        assert!(
            closed_goals_met > 5,
            "{closed_goals_met} closures with goals met"
        );
        assert!(shared > 50, "{shared} goals with shared responsibility");
        assert!(volunteers > 10, "{volunteers} services by volunteers");
        assert_eq!(screened.len(), 2, "both instruments: {screened:?}");
        let circles = cohort
            .children
            .iter()
            .filter(|c| !c.file.state().circle.is_empty())
            .count();
        assert!(circles > 150, "{circles} children with a circle");
    }

    #[test]
    fn commands_are_in_clinical_date_order() {
        let cohort = plan(&spec(3, 50)).unwrap();
        let dates: Vec<_> = cohort
            .requests
            .iter()
            .map(|r| command_date(&r.command))
            .collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]));
    }

    fn command_date(c: &ChildFileCommand) -> ClinicalDate {
        c.occurred_on()
    }
}
