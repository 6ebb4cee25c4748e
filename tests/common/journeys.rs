//! Random but valid histories for property tests: a proptest strategy of abstract steps, and a
//! `Journey` that turns each step into a command the file accepts at that point (or skips it when
//! the step makes no sense there, e.g. an outcome with no open referral).
//!
//! Time does not only move forward, as in real records: a step may be recorded late and dated
//! back (it is tried on the earlier date first, and on the journey's current date if the file's
//! rules refuse the earlier one), and a correction may void or re-date any entry.

use cqrs_es::Aggregate;
use lifecourse::domain::*;
use lifecourse::fixtures::*;
use lifecourse_events::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum Step {
    Contact,
    Decide(u8),
    Meeting,
    Plan(u8),
    Revise(u8, u8),
    Progress(u8),
    StartService(bool),
    EndService(u8),
    Referral(bool),
    Outcome(u8, u8),
    OpenLegal,
    ConcludeLegal(u8),
    RaiseConcern,
    ResolveConcern(u8),
    Consent(bool),
    Withdraw(bool),
    /// Correct entry `n` (modulo the entries): void it, or replace it — re-dated by `shift - 4`
    /// days (back or forward), or, for a shift of 4, with something else changed (a decision,
    /// a centre, an outcome, a reason, a date set by a plan...).
    Correct(u8, bool, u8),
    Transfer,
    Close(u8),
    Reopen,
    /// Someone joins the child's circle (relation chosen by the number; odd: parental authority).
    Join(u8),
    /// Member `n` (modulo the circle today) leaves it.
    Leave(u8),
    /// A developmental screening: EDI or ASQ-3, with results for the first `n` domains.
    Screen(bool, u8),
    /// A meeting or family contact with member `n` of the circle present.
    MeetFamily(u8),
    ContactMember(u8),
}

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Contact),
        2 => any::<u8>().prop_map(Step::Decide),
        2 => Just(Step::Meeting),
        2 => (1u8..4).prop_map(Step::Plan),
        1 => (any::<u8>(), 0u8..3).prop_map(|(k, n)| Step::Revise(k, n)),
        2 => any::<u8>().prop_map(Step::Progress),
        1 => any::<bool>().prop_map(Step::StartService),
        1 => any::<u8>().prop_map(Step::EndService),
        2 => any::<bool>().prop_map(Step::Referral),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(r, o)| Step::Outcome(r, o)),
        1 => Just(Step::OpenLegal),
        1 => any::<u8>().prop_map(Step::ConcludeLegal),
        1 => Just(Step::RaiseConcern),
        1 => any::<u8>().prop_map(Step::ResolveConcern),
        1 => any::<bool>().prop_map(Step::Consent),
        1 => any::<bool>().prop_map(Step::Withdraw),
        2 => (any::<u8>(), any::<bool>(), 0u8..8).prop_map(|(e, v, b)| Step::Correct(e, v, b)),
        1 => Just(Step::Transfer),
        1 => any::<u8>().prop_map(Step::Close),
        1 => Just(Step::Reopen),
        1 => any::<u8>().prop_map(Step::Join),
        1 => any::<u8>().prop_map(Step::Leave),
        1 => (any::<bool>(), 1u8..6).prop_map(|(e, n)| Step::Screen(e, n)),
        1 => any::<u8>().prop_map(Step::MeetFamily),
        1 => any::<u8>().prop_map(Step::ContactMember),
    ]
}

/// One step of a history: what happens, the days that pass before it is recorded, and how many
/// days before that it is dated (0: the day it is recorded).
pub type Dated = (Step, u8, u8);

/// A history: steps, each with the days that pass before it and how far it is dated back.
pub fn steps(max: usize) -> impl Strategy<Value = Vec<Dated>> {
    let back = prop_oneof![3 => Just(0u8), 1 => 1u8..60];
    prop::collection::vec((step(), 0u8..30, back), 1..max)
}

/// One child's file as the journey builds it, in memory.
pub struct Journey {
    pub child_id: ChildId,
    pub file: ChildFile,
    pub date: ClinicalDate,
    today: ClinicalDate,
    next_id: u128,
}

impl Journey {
    /// Starts with the file opening and the request's acceptance (the first commands, returned
    /// with the journey).
    pub fn open(child_id: ChildId, today: ClinicalDate) -> (Self, Vec<ChildFileCommand>) {
        let mut journey = Self {
            child_id,
            file: ChildFile::default(),
            date: date("2020-01-06"),
            today,
            next_id: 1,
        };
        let start = vec![open_file("2020-01-06", "2014-09-15"), accept("2020-01-08")];
        for command in &start {
            journey
                .accept(command.clone())
                .expect("opening an empty file");
        }
        (journey, start)
    }

    fn accept(&mut self, command: ChildFileCommand) -> Option<ChildFileCommand> {
        let event = self.file.decide(command.clone(), self.today).ok()?;
        self.file.apply(ChildFileEvent(event));
        Some(command)
    }

    fn id(&mut self) -> uuid::Uuid {
        self.next_id += 1;
        uuid::Uuid::from_u128(self.next_id)
    }

    fn on(&self) -> String {
        self.date.to_string()
    }

    fn open_ids<K: Copy + Ord, S, H>(
        items: &std::collections::BTreeMap<K, lifecourse_projections::lifecycle::Course<S, H>>,
    ) -> Vec<K> {
        items
            .iter()
            .filter(|(_, c)| c.is_open())
            .map(|(k, _)| *k)
            .collect()
    }

    /// The command for this step, already accepted by the in-memory file, or `None` to skip.
    /// Dated back when the step says so and the file accepts it, else dated today.
    pub fn command_for(&mut self, (step, days, back): &Dated) -> Option<ChildFileCommand> {
        self.date = self.date.plus_days(i64::from(*days)).min(self.today);
        let earlier = self
            .date
            .plus_days(-i64::from(*back))
            .max(date("2020-01-06"));
        if *back > 0 {
            let today = self.date;
            self.date = earlier;
            let command = self.dated_command(step);
            self.date = today;
            if let Some(command) = command.and_then(|c| self.accept(c)) {
                return Some(command);
            }
        }
        let command = self.dated_command(step)?;
        self.accept(command)
    }

    /// The command for this step, dated `self.date`, not yet checked by the file.
    fn dated_command(&mut self, step: &Step) -> Option<ChildFileCommand> {
        let on = self.on();
        let state = self.file.state().clone();
        let pick = |n: u8, len: usize| (len > 0).then(|| n as usize % len);
        let command = match step {
            Step::Contact => contact(&on),
            Step::Decide(d) => assess(
                &on,
                match d % 4 {
                    0 => InitialDecision::Waiting,
                    1 => InitialDecision::Redirected { to: "CLSC".into() },
                    _ => InitialDecision::Accepted,
                },
            ),
            Step::Meeting => meeting(&on),
            Step::Plan(n) | Step::Revise(_, n) => {
                let keep: Vec<GoalId> = match (step, &state.plan) {
                    (Step::Revise(k, _), Some(plan)) => plan
                        .goals
                        .iter()
                        .map(|g| g.goal_id)
                        .take(*k as usize % 3)
                        .collect(),
                    _ => vec![],
                };
                let target = self.date.plus_days(120).to_string();
                let mut goals: Vec<Goal> = keep.iter().map(|g| goal(*g, &target)).collect();
                for _ in 0..(*n).max(1) {
                    let id = GoalId(self.id());
                    goals.push(goal(id, &target));
                }
                let mut decision = plan_decision(&on, goals);
                if n % 2 == 1 {
                    decision.next_reassessment_on = Some(self.date.plus_days(150));
                }
                if state.plan.is_some() {
                    ChildFileCommand::ReviseActionPlan(decision)
                } else {
                    ChildFileCommand::AdoptActionPlan(decision)
                }
            }
            Step::Progress(g) => {
                let goals: Vec<_> = state
                    .plan
                    .as_ref()?
                    .goals
                    .iter()
                    .map(|g| g.goal_id)
                    .collect();
                let status = GoalStatus::ALL[*g as usize % GoalStatus::ALL.len()];
                progress(&on, goals[pick(*g, goals.len())?], status)
            }
            Step::StartService(linked) => {
                let goal = state
                    .plan
                    .as_ref()
                    .and_then(|p| p.goals.first().map(|g| g.goal_id));
                let links = if *linked {
                    goal.into_iter().collect()
                } else {
                    vec![]
                };
                let id = ServiceId(self.id());
                start_service(&on, id, links)
            }
            Step::EndService(s) => {
                let open = Self::open_ids(&state.services);
                end_service(&on, open[pick(*s, open.len())?])
            }
            Step::Referral(expected) => {
                let by = self.date.plus_days(30).to_string();
                let id = ReferralId(self.id());
                referral(&on, id, expected.then_some(by.as_str()))
            }
            Step::Outcome(r, o) => {
                let open = Self::open_ids(&state.referrals);
                let outcome_kind = ReferralOutcome::ALL[*o as usize % ReferralOutcome::ALL.len()];
                outcome(&on, open[pick(*r, open.len())?], outcome_kind)
            }
            Step::OpenLegal => {
                let id = LegalMatterId(self.id());
                open_legal(&on, id)
            }
            Step::ConcludeLegal(m) => {
                let open = Self::open_ids(&state.legal_matters);
                conclude_legal(&on, open[pick(*m, open.len())?])
            }
            Step::RaiseConcern => {
                let id = RightsConcernId(self.id());
                raise_concern(&on, id, &[24, 28])
            }
            Step::ResolveConcern(c) => {
                let open = Self::open_ids(&state.rights_concerns);
                resolve_concern(&on, open[pick(*c, open.len())?])
            }
            Step::Consent(research) => give_consent(&on, scope(*research)),
            Step::Withdraw(research) => withdraw_consent(&on, scope(*research)),
            Step::Correct(e, void, shift) => {
                let entries: Vec<(u64, ChildEvent)> = self
                    .file
                    .entries()
                    .iter()
                    .zip(1u64..)
                    .filter(|(entry, _)| !matches!(entry, ChildEvent::EntryCorrected(_)))
                    .map(|(entry, seq)| (seq, entry.clone()))
                    .collect();
                let (sequence, entry) = entries[pick(*e, entries.len())?].clone();
                let correction = if *void {
                    CorrectionRequest::EnteredInError
                } else {
                    let days = i64::from(*shift) - 4;
                    let replacement = match changed(&entry) {
                        Some(other) if days == 0 => other,
                        // No change of content for this kind: re-date it a day back instead.
                        _ if days == 0 => redated(&entry, entry.occurred_on().plus_days(-1)),
                        _ => redated(&entry, entry.occurred_on().plus_days(days)),
                    };
                    CorrectionRequest::ReplacedBy(Box::new(replacement))
                };
                correct(&on, sequence, correction)
            }
            Step::Transfer => {
                let to = if state.centre.as_ref().map(|c| c.as_str()) == Some("hochelaga") {
                    "centre-sud"
                } else {
                    "hochelaga"
                };
                transfer(&on, to)
            }
            Step::Close(r) => close(
                &on,
                ClosureReason::ALL[*r as usize % ClosureReason::ALL.len()],
            ),
            Step::Reopen => reopen(&on),
            Step::Join(r) => {
                let id = CircleMemberId(self.id());
                add_member(
                    &on,
                    id,
                    Relation::ALL[*r as usize % Relation::ALL.len()],
                    r % 2 == 1,
                )
            }
            Step::Leave(n) => {
                let today: Vec<CircleMemberId> =
                    state.current_circle().map(|m| m.added.member_id).collect();
                remove_member(&on, today[pick(*n, today.len())?])
            }
            Step::Screen(edi, n) => {
                let instrument = if *edi {
                    ScreeningInstrument::Edi
                } else {
                    ScreeningInstrument::Asq3
                };
                let results: Vec<_> = instrument
                    .domains()
                    .iter()
                    .take(*n as usize)
                    .enumerate()
                    .map(|(i, d)| {
                        (
                            *d,
                            Some(instrument.max_score().tenths() / 10 * (i as u16 + 3)),
                            Some(instrument.bands()[i % 3]),
                        )
                    })
                    .collect();
                screening(&on, instrument, &results)
            }
            Step::MeetFamily(n) | Step::ContactMember(n) => {
                let today: Vec<CircleMemberId> =
                    state.current_circle().map(|m| m.added.member_id).collect();
                let member = today[pick(*n, today.len())?];
                if matches!(step, Step::MeetFamily(_)) {
                    let mut details = meeting_details(&on);
                    // Only staff and the member: the member alone makes it family contact.
                    details.participants.retain(|p| !p.is_family());
                    details.participants.push(Participant {
                        role: ParticipantRole::SignificantAdult,
                        person: None,
                        name: None,
                        member: Some(member),
                    });
                    ChildFileCommand::HoldAssessmentMeeting(details)
                } else {
                    let mut details = contact_details(&on);
                    details.members = vec![member];
                    ChildFileCommand::RecordFamilyContact(details)
                }
            }
        };
        Some(command)
    }
}

/// The same entry with one thing changed, for the kinds of entry where a mistake is plausible.
fn changed(entry: &ChildEvent) -> Option<ChildEvent> {
    use ChildEvent::*;
    fn next<T: Copy + PartialEq>(all: &[T], now: T) -> T {
        let i = all.iter().position(|x| *x == now).unwrap_or(0);
        all[(i + 1) % all.len()]
    }
    let mut entry = entry.clone();
    match &mut entry {
        ChildFileOpened(e) => {
            e.centre = CentreId::parse(if e.centre.as_str() == "hochelaga" {
                "centre-sud"
            } else {
                "hochelaga"
            })
            .unwrap()
        }
        InitialAssessmentCompleted(e) => {
            e.decision = match e.decision {
                InitialDecision::Accepted => InitialDecision::Waiting,
                _ => InitialDecision::Accepted,
            }
        }
        AssessmentMeetingHeld(e) => e.child_took_part = !e.child_took_part,
        ActionPlanAdopted(p) | ActionPlanRevised(p) => {
            p.next_reassessment_on = match p.next_reassessment_on {
                Some(_) => None,
                None => Some(p.occurred_on.plus_days(100)),
            }
        }
        GoalProgressRecorded(e) => e.status = next(GoalStatus::ALL, e.status),
        ReferralOutcomeRecorded(e) => e.outcome = next(ReferralOutcome::ALL, e.outcome),
        FamilyContactRecorded(e) => {
            e.mode = if e.mode == ContactMode::Phone {
                ContactMode::HomeVisit
            } else {
                ContactMode::Phone
            }
        }
        FileClosed(e) => e.reason = next(ClosureReason::ALL, e.reason),
        _ => return None,
    }
    Some(entry)
}

/// The same entry dated `on` (every entry has `occurred_on`).
fn redated(entry: &ChildEvent, on: ClinicalDate) -> ChildEvent {
    let mut value = serde_json::to_value(entry).expect("entries serialise");
    for body in value
        .as_object_mut()
        .into_iter()
        .flat_map(|o| o.values_mut())
    {
        body["occurred_on"] = serde_json::Value::String(on.to_string());
    }
    serde_json::from_value(value).expect("a re-dated entry is still an entry")
}

fn scope(research: bool) -> ConsentScope {
    if research {
        ConsentScope::Research
    } else {
        ConsentScope::InformationSharing
    }
}

/// Records a generated journey for each of `children` (the same journeys on every run); returns
/// the children.
pub async fn record_journeys(store: &lifecourse::Store, children: usize, seed: u8) -> Vec<ChildId> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut generator = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[seed; 32],
        ),
    );
    let mut ids = Vec::new();
    for _ in 0..children {
        let steps = steps(30).new_tree(&mut generator).unwrap().current();
        let child = ChildId::new_random();
        let (mut journey, mut commands) = Journey::open(child, super::calendar().today);
        commands.extend(steps.iter().filter_map(|step| journey.command_for(step)));
        for (n, command) in commands.into_iter().enumerate() {
            let req = request(child, &format!("j-{n}"), command);
            store.record(super::calendar(), req).await.unwrap();
        }
        ids.push(child);
    }
    ids
}
