//! Ready-made commands with plausible defaults, for tests, benchmarks and examples: each builder
//! takes only what usually varies (dates, ids) so a test reads like the clinical story it tells.
//! Builders panic on an invalid literal (`date("2024-02-30")`): they are for code, not for input.

use lifecourse_events::*;

use crate::domain::*;
use crate::recording::CommandRequest;

/// A clinical date from a `YYYY-MM-DD` literal.
pub fn date(ymd: &str) -> ClinicalDate {
    ymd.parse()
        .unwrap_or_else(|e| panic!("fixture date {ymd:?}: {e}"))
}

pub fn centre() -> CentreId {
    CentreId::parse("centre-sud").expect("valid centre id")
}

/// A social worker of centre-sud.
pub fn recorder() -> Recorder {
    Recorder {
        person: PersonId::parse("sw1@centre-sud").expect("valid person id"),
        role: StaffRole::SocialWorker,
        centre: centre(),
    }
}

pub fn request(child_id: ChildId, key: &str, command: ChildFileCommand) -> CommandRequest {
    CommandRequest::new(
        child_id,
        IdempotencyKey::parse(key).expect("valid key"),
        recorder(),
        command,
    )
}

pub fn open_file(on: &str, born: &str) -> ChildFileCommand {
    ChildFileCommand::OpenFile(ChildFileOpened {
        occurred_on: date(on),
        centre: centre(),
        child: ChildIdentity {
            given_name: "Léa".into(),
            family_name: "Tremblay".into(),
            birth_date: Identifying::new(date(born)),
            address: Some("2100 rue Ontario Est".into()),
            phone: None,
        },
        request: Request {
            source: ReferralSource::School,
            source_detail: Some("École Saint-Nom".into()),
            reason: "language delay and frequent absences".into(),
        },
    })
}

pub fn assess(on: &str, decision: InitialDecision) -> ChildFileCommand {
    ChildFileCommand::CompleteInitialAssessment(InitialAssessmentCompleted {
        occurred_on: date(on),
        lives_in_territory: true,
        other_services_in_place: false,
        family_situation: None,
        decision,
    })
}

pub fn accept(on: &str) -> ChildFileCommand {
    assess(on, InitialDecision::Accepted)
}

pub fn meeting_details(on: &str) -> HoldAssessmentMeeting {
    HoldAssessmentMeeting {
        occurred_on: date(on),
        participants: vec![
            Participant {
                role: ParticipantRole::Parent,
                person: None,
                name: Some("Marie Tremblay".into()),
                member: None,
            },
            Participant {
                role: ParticipantRole::Doctor,
                person: Some(PersonId::parse("md1@centre-sud").expect("valid")),
                name: None,
                member: None,
            },
        ],
        child_took_part: true,
        child_voice: Some("I want to read like my friends".into()),
        needs: vec![
            NeedAssessment {
                domain: NeedDomain::Development,
                level: NeedLevel::Severe,
                note: None,
            },
            NeedAssessment {
                domain: NeedDomain::SchoolLearning,
                level: NeedLevel::Moderate,
                note: None,
            },
        ],
        strengths: vec![Strength {
            held_by: StrengthHolder::Family,
            description: "mother very engaged".into(),
        }],
        hypotheses: None,
    }
}

pub fn meeting(on: &str) -> ChildFileCommand {
    ChildFileCommand::HoldAssessmentMeeting(meeting_details(on))
}

pub fn goal(id: GoalId, target: &str) -> Goal {
    Goal {
        goal_id: id,
        domain: NeedDomain::Development,
        description: "speech assessment and daily reading at home".into(),
        responsible: vec![Responsible::Role(ResponsibleParty::Family)],
        target_on: date(target),
    }
}

pub fn plan_decision(on: &str, goals: Vec<Goal>) -> PlanDecision {
    PlanDecision {
        occurred_on: date(on),
        goals,
        next_reassessment_on: None,
        note: None,
    }
}

pub fn adopt_plan(on: &str, goals: Vec<Goal>) -> ChildFileCommand {
    ChildFileCommand::AdoptActionPlan(plan_decision(on, goals))
}

pub fn revise_plan(on: &str, goals: Vec<Goal>) -> ChildFileCommand {
    ChildFileCommand::ReviseActionPlan(plan_decision(on, goals))
}

pub fn progress(on: &str, goal_id: GoalId, status: GoalStatus) -> ChildFileCommand {
    ChildFileCommand::RecordGoalProgress(GoalProgressRecorded {
        occurred_on: date(on),
        goal_id,
        status,
        note: None,
    })
}

pub fn start_service(
    on: &str,
    service_id: ServiceId,
    linked_goals: Vec<GoalId>,
) -> ChildFileCommand {
    ChildFileCommand::StartService(ServiceStarted {
        occurred_on: date(on),
        service_id,
        kind: ServiceKind::HomeworkTutoring,
        format: ServiceFormat::Individual,
        provider: ServiceProvider::Centre,
        provider_name: None,
        provider_person: None,
        linked_goals,
    })
}

pub fn end_service(on: &str, service_id: ServiceId) -> ChildFileCommand {
    ChildFileCommand::EndService(ServiceEnded {
        occurred_on: date(on),
        service_id,
        reason: ServiceEndReason::Completed,
    })
}

pub fn referral(on: &str, referral_id: ReferralId, expected: Option<&str>) -> ChildFileCommand {
    ChildFileCommand::MakeReferral(ReferralMade {
        occurred_on: date(on),
        referral_id,
        resource: ExternalResource::SpeechTherapy,
        organisation: None,
        expected_outcome_by: expected.map(date),
        reason: None,
    })
}

pub fn outcome(on: &str, referral_id: ReferralId, outcome: ReferralOutcome) -> ChildFileCommand {
    ChildFileCommand::RecordReferralOutcome(ReferralOutcomeRecorded {
        occurred_on: date(on),
        referral_id,
        outcome,
        note: None,
    })
}

pub fn open_legal(on: &str, matter_id: LegalMatterId) -> ChildFileCommand {
    ChildFileCommand::OpenLegalIntervention(LegalInterventionOpened {
        occurred_on: date(on),
        matter_id,
        area: LegalArea::LandlordTenant,
        kind: LegalInterventionKind::Negotiation,
        summary: None,
    })
}

pub fn conclude_legal(on: &str, matter_id: LegalMatterId) -> ChildFileCommand {
    ChildFileCommand::ConcludeLegalIntervention(LegalInterventionConcluded {
        occurred_on: date(on),
        matter_id,
        outcome: LegalOutcome::Resolved,
        note: None,
    })
}

pub fn raise_concern(on: &str, concern_id: RightsConcernId, articles: &[u8]) -> ChildFileCommand {
    ChildFileCommand::RaiseRightsConcern(RightsConcernRaised {
        occurred_on: date(on),
        concern_id,
        right: ChildRight::Education,
        articles: articles
            .iter()
            .map(|a| ConventionArticle::new(*a).expect("article 1 to 54"))
            .collect(),
        description: None,
    })
}

pub fn resolve_concern(on: &str, concern_id: RightsConcernId) -> ChildFileCommand {
    ChildFileCommand::ResolveRightsConcern(RightsConcernResolved {
        occurred_on: date(on),
        concern_id,
        resolution: RightsResolution::Resolved,
        note: None,
    })
}

pub fn contact_details(on: &str) -> FamilyContactRecorded {
    FamilyContactRecorded {
        occurred_on: date(on),
        mode: ContactMode::Phone,
        with: ContactWith::ParentOrGuardian,
        members: vec![],
        note: None,
    }
}

pub fn contact(on: &str) -> ChildFileCommand {
    ChildFileCommand::RecordFamilyContact(contact_details(on))
}

pub fn give_consent(on: &str, scope: ConsentScope) -> ChildFileCommand {
    ChildFileCommand::GiveConsent(ConsentGiven {
        occurred_on: date(on),
        scope,
        given_by: ConsentGiver::Parent,
        member: None,
    })
}

pub fn withdraw_consent(on: &str, scope: ConsentScope) -> ChildFileCommand {
    ChildFileCommand::WithdrawConsent(ConsentWithdrawn {
        occurred_on: date(on),
        scope,
    })
}

pub fn correct(on: &str, sequence: u64, correction: CorrectionRequest) -> ChildFileCommand {
    ChildFileCommand::CorrectEntry(CorrectEntry {
        occurred_on: date(on),
        corrects_sequence: sequence,
        reason: "wrong entry, checked against the paper notes".into(),
        correction,
    })
}

pub fn transfer(on: &str, to: &str) -> ChildFileCommand {
    ChildFileCommand::TransferFile(TransferFile {
        occurred_on: date(on),
        to_centre: CentreId::parse(to).expect("valid centre id"),
        note: None,
    })
}

pub fn close(on: &str, reason: ClosureReason) -> ChildFileCommand {
    ChildFileCommand::CloseFile(FileClosed {
        occurred_on: date(on),
        reason,
        note: None,
    })
}

pub fn reopen(on: &str) -> ChildFileCommand {
    ChildFileCommand::ReopenFile(FileReopened {
        occurred_on: date(on),
        request: Request {
            source: ReferralSource::Family,
            source_detail: None,
            reason: "new difficulties at school".into(),
        },
    })
}

/// The events a sequence of valid commands records, in order (panics on a refused command, which
/// is a mistake in the test that calls it).
pub fn events_of(
    commands: impl IntoIterator<Item = ChildFileCommand>,
    today: ClinicalDate,
) -> Vec<ChildEvent> {
    let mut file = ChildFile::default();
    commands
        .into_iter()
        .map(|command| {
            let name = command.name();
            let event = file
                .decide(command, today)
                .unwrap_or_else(|e| panic!("fixture command {name} refused: {e}"));
            cqrs_es::Aggregate::apply(&mut file, ChildFileEvent(event.clone()));
            event
        })
        .collect()
}

/// A member of the child's circle, with parental authority when `parental`.
pub fn add_member(
    on: &str,
    id: CircleMemberId,
    relation: Relation,
    parental: bool,
) -> ChildFileCommand {
    ChildFileCommand::AddCircleMember(CircleMemberAdded {
        occurred_on: date(on),
        member_id: id,
        name: Identifying::new(format!("{relation} of the child")),
        relation,
        contact_role: ContactRole::Contact,
        parental_authority: parental,
        phone: None,
    })
}

pub fn remove_member(on: &str, id: CircleMemberId) -> ChildFileCommand {
    ChildFileCommand::RemoveCircleMember(CircleMemberLeft {
        occurred_on: date(on),
        member_id: id,
        note: None,
    })
}

/// A screening with `results` as (domain, score in tenths, band).
pub fn screening(
    on: &str,
    instrument: ScreeningInstrument,
    results: &[(ScreeningDomain, Option<u16>, Option<ScreeningBand>)],
) -> ChildFileCommand {
    ChildFileCommand::RecordScreening(DevelopmentalScreeningRecorded {
        occurred_on: date(on),
        instrument,
        results: results
            .iter()
            .map(|(domain, score, band)| ScreeningResult {
                domain: *domain,
                score: score.map(ScreeningScore),
                band: *band,
            })
            .collect(),
        note: None,
    })
}
