//! The access policy: who may read or write what, pure (no I/O, no clock). Given a principal, an
//! action and where it applies (a child's file and the centre responsible for it today, or a
//! centre's lists), `decide` answers allowed — fully, for the principal's own entries only, or by
//! break-glass — or why not. The HTTP server and the command line (`--as`) both go through
//! `App`, which asks this module before every read and write.
//!
//! The policy, in words (README.md, "Who may see and write what"):
//! - A file belongs to the centre responsible for it today (the centre it was opened in, or the
//!   receiving centre of its latest transfer). Staff see and write only files of their centres:
//!   after a transfer the receiving centre sees the whole history and the sending centre no
//!   longer sees the file. A file outside the principal's centres answers like an unknown child.
//! - Clinical roles (doctor, nurse, social worker, psychoeducator, special educator, the
//!   therapists, neuropsychologist, child psychiatrist) read everything of their centres and
//!   record every kind of entry. Only they assess, hold meetings, adopt and revise plans, run
//!   services and make referrals.
//! - The legal advisor records legal interventions and rights concerns (as clinicians may),
//!   family contacts, consents and corrections; the coordinator opens, transfers, closes and
//!   reopens files, and records family contacts, consents and corrections; the mediator records
//!   family contacts and consents. All three read the files of their centres.
//! - A volunteer records family contacts, sees the history of a file restricted to the entries
//!   they recorded themselves, and nothing else (no plan, trajectory or worklist: clinical notes).
//! - An auditor reads everything of their centres (and the access log) and writes nothing.
//! - A centre administrator reads the indicators, the access log, the break-glass list and the
//!   decision trail of their centres' files, and no other part of a clinical file.
//! - The decision trail (every entry, who recorded it, and the facts each decision rested on)
//!   is read by auditors, centre administrators and the staff who read the file's history in
//!   full; not by volunteers, whose history is their own entries only.
//! - A researcher reads the indicators (aggregates, no identified data) and makes research
//!   exports and cohort measures of their centres' files (`lifecourse export`, `lifecourse
//!   cohort`): consent-gated and de-identified, never a name or a note. No other role makes
//!   them: clinical staff read the identified files instead.
//! - Break-glass: a clinical role may read (history, plan, trajectory) a file outside their
//!   centres by stating a reason; it is allowed, written to the access log with the reason, and
//!   listed for the administrators and auditors of the file's centre. It never allows a write.

use lifecourse_events::*;

use super::{Principal, Role};
use crate::domain::ChildFileCommand;

/// What a principal wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A child's entries with their envelopes.
    ReadHistory,
    /// A child's current action plan.
    ReadPlan,
    /// A child's trajectory.
    ReadTrajectory,
    /// A centre's follow-up worklist (one row per gap, naming the child).
    ReadWorklist,
    /// A centre's indicators (aggregates only).
    ReadIndicators,
    /// The log of reads of one child's file.
    ReadAccessLog,
    /// A child's decision trail: every entry with its envelope, and what each decision rested on.
    ReadAudit,
    /// The break-glass reads of a centre's files.
    ReadBreakGlassList,
    /// A de-identified, consent-gated research export (or cohort measures) of a centre's files.
    ExportResearch,
    /// Recording an entry of this kind.
    Record(EntryKind),
}

impl Action {
    /// Every action, in the order of the denial matrix (tests/denial_matrix.rs).
    pub const ALL: [Action; 16] = [
        Action::ReadHistory,
        Action::ReadPlan,
        Action::ReadTrajectory,
        Action::ReadWorklist,
        Action::ReadIndicators,
        Action::ReadAccessLog,
        Action::ReadAudit,
        Action::ReadBreakGlassList,
        Action::ExportResearch,
        Action::Record(EntryKind::FileAdministration),
        Action::Record(EntryKind::Clinical),
        Action::Record(EntryKind::Legal),
        Action::Record(EntryKind::FamilyContact),
        Action::Record(EntryKind::Consent),
        Action::Record(EntryKind::Correction),
        Action::Record(EntryKind::Erasure),
    ];

    /// The word used in the access log and in refusals.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadHistory => "history",
            Action::ReadPlan => "plan",
            Action::ReadTrajectory => "trajectory",
            Action::ReadWorklist => "worklist",
            Action::ReadIndicators => "indicators",
            Action::ReadAccessLog => "access_log",
            Action::ReadAudit => "audit",
            Action::ReadBreakGlassList => "break_glass_list",
            Action::ExportResearch => "research_export",
            Action::Record(kind) => kind.as_str(),
        }
    }

    /// What the action is, for refusals ("... may not read a child's plan: ...").
    pub fn phrase(self) -> &'static str {
        match self {
            Action::ReadHistory => "read a child's history",
            Action::ReadPlan => "read a child's plan",
            Action::ReadTrajectory => "read a child's trajectory",
            Action::ReadWorklist => "read a centre's worklist",
            Action::ReadIndicators => "read a centre's indicators",
            Action::ReadAccessLog => "read the access log",
            Action::ReadAudit => "read a child's decision trail",
            Action::ReadBreakGlassList => "read the break-glass list",
            Action::ExportResearch => "export de-identified research data",
            Action::Record(EntryKind::FileAdministration) => {
                "open, transfer, close or reopen a file"
            }
            Action::Record(EntryKind::Clinical) => "record a clinical entry",
            Action::Record(EntryKind::Legal) => "record a legal matter or rights concern",
            Action::Record(EntryKind::FamilyContact) => "record a family contact",
            Action::Record(EntryKind::Consent) => "record a consent",
            Action::Record(EntryKind::Correction) => "correct an entry",
            Action::Record(EntryKind::Erasure) => "erase a child's identifying data",
        }
    }

    /// Reads of one child's identified data: the ones break-glass may open.
    fn reads_a_file(self) -> bool {
        matches!(
            self,
            Action::ReadHistory | Action::ReadPlan | Action::ReadTrajectory
        )
    }
}

/// The kinds of entry, as the policy tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Opening, transferring, closing and reopening a file.
    FileAdministration,
    /// Assessments, meetings, plans, goal progress, services, referrals and their outcomes.
    Clinical,
    /// Legal interventions and children's-rights concerns.
    Legal,
    FamilyContact,
    /// Giving and withdrawing consent.
    Consent,
    /// Correcting an earlier entry.
    Correction,
    /// Erasing the child's identifying data (destroying its key).
    Erasure,
}

impl EntryKind {
    pub fn of(command: &ChildFileCommand) -> Self {
        use ChildFileCommand::*;
        match command {
            OpenFile(_) | TransferFile(_) | CloseFile(_) | ReopenFile(_) => {
                EntryKind::FileAdministration
            }
            EraseIdentity(_) => EntryKind::Erasure,
            CompleteInitialAssessment(_)
            | HoldAssessmentMeeting(_)
            | AdoptActionPlan(_)
            | ReviseActionPlan(_)
            | RecordGoalProgress(_)
            | StartService(_)
            | EndService(_)
            | MakeReferral(_)
            | RecordReferralOutcome(_)
            | AddCircleMember(_)
            | RemoveCircleMember(_)
            | RecordScreening(_) => EntryKind::Clinical,
            OpenLegalIntervention(_)
            | ConcludeLegalIntervention(_)
            | RaiseRightsConcern(_)
            | ResolveRightsConcern(_) => EntryKind::Legal,
            RecordFamilyContact(_) => EntryKind::FamilyContact,
            GiveConsent(_) | WithdrawConsent(_) => EntryKind::Consent,
            CorrectEntry(_) => EntryKind::Correction,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::FileAdministration => "record_file_administration",
            EntryKind::Clinical => "record_clinical_entry",
            EntryKind::Legal => "record_legal_entry",
            EntryKind::FamilyContact => "record_family_contact",
            EntryKind::Consent => "record_consent",
            EntryKind::Correction => "record_correction",
            EntryKind::Erasure => "erase_identity",
        }
    }
}

/// Where an action applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// A child's file, of the centre responsible for it today (for an opening, the centre it
    /// opens the file in).
    File(&'a CentreId),
    /// A centre's lists (worklist, indicators, break-glass reads).
    Centre(&'a CentreId),
}

/// Allowed, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// Everything the action covers.
    Full,
    /// Only the entries the principal recorded themselves (a volunteer's history).
    OwnEntriesOnly,
    /// A file outside the principal's centres, opened for an emergency with a stated reason.
    BreakGlass,
}

/// Why not.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The role may never do this, wherever the file is (answered 403).
    #[error("{role} may not {action}: {why}")]
    Role {
        role: Role,
        action: &'static str,
        why: &'static str,
    },
    /// Break-glass is for a clinician reading a file, never for this (answered 403).
    #[error("break-glass {0}")]
    BreakGlass(&'static str),
    /// A file outside the principal's centres (answered like an unknown child: 404).
    #[error("no such file among your centres' files")]
    OutsideCentres,
    /// A centre that is not one of the principal's (answered 403: centres are not secret).
    #[error("{0} is not one of your centres")]
    OtherCentre(CentreId),
}

/// The clinical roles: they assess, meet, plan, serve, refer, and may break the glass.
pub fn is_clinical(role: StaffRole) -> bool {
    use StaffRole::*;
    matches!(
        role,
        Doctor
            | Nurse
            | SocialWorker
            | Psychoeducator
            | ClinicalAssistant
            | SpecialEducator
            | ArtTherapist
            | MusicTherapist
            | SpeechTherapist
            | OccupationalTherapist
            | Neuropsychologist
            | ChildPsychiatrist
    )
}

/// What the role may do at all, wherever the file: `Ok(grant)` within the principal's centres,
/// or the reason it never may.
fn role_allows(role: Role, action: Action) -> Result<Grant, &'static str> {
    use Action::*;
    use EntryKind::*;
    use StaffRole::*;
    const NO_CLINICAL: &str = "this role sees no clinical notes";
    const WRITES_NOTHING: &str = "this role records no entries";
    const ONLY_AGGREGATES: &str = "researchers see aggregates only, no identified data";
    const FOR_AUDIT: &str = "the access log is for auditors and centre administrators";
    match (role, action) {
        (Role::Researcher, ReadIndicators | ExportResearch) => Ok(Grant::Full),
        (Role::Researcher, _) => Err(ONLY_AGGREGATES),
        (_, ExportResearch) => {
            Err("research exports are for researchers; staff read the identified files themselves")
        }
        (
            Role::CentreAdministrator,
            ReadIndicators | ReadAccessLog | ReadBreakGlassList | ReadAudit,
        ) => Ok(Grant::Full),
        // Erasure is file administration, decided for the centre: by its coordinator.
        (Role::Staff(Coordinator), Record(Erasure)) => Ok(Grant::Full),
        (_, Record(Erasure)) => {
            Err("only the centre's coordinator erases a child's identifying data")
        }
        (Role::CentreAdministrator, Record(_)) => Err(WRITES_NOTHING),
        (Role::CentreAdministrator, _) => Err(NO_CLINICAL),
        (Role::Auditor, Record(_)) => Err("auditors read and write nothing"),
        (Role::Auditor, _) => Ok(Grant::Full),
        (Role::Staff(_), ReadAccessLog | ReadBreakGlassList) => Err(FOR_AUDIT),
        (Role::Staff(Volunteer), ReadHistory) => Ok(Grant::OwnEntriesOnly),
        (Role::Staff(Volunteer), ReadAudit) => {
            Err("the decision trail shows every entry; volunteers see their own entries only")
        }
        (Role::Staff(Volunteer), Record(FamilyContact)) => Ok(Grant::Full),
        (Role::Staff(Volunteer), Record(_)) => {
            Err("volunteers record family contacts (their own activities) only")
        }
        (Role::Staff(Volunteer), _) => Err(NO_CLINICAL),
        (Role::Staff(_), ReadHistory | ReadPlan | ReadTrajectory | ReadWorklist | ReadAudit) => {
            Ok(Grant::Full)
        }
        (Role::Staff(_), ReadIndicators) => Ok(Grant::Full),
        (Role::Staff(r), Record(_)) if is_clinical(r) => Ok(Grant::Full),
        (Role::Staff(LegalAdvisor), Record(Legal | FamilyContact | Consent | Correction)) => {
            Ok(Grant::Full)
        }
        (
            Role::Staff(Coordinator),
            Record(FileAdministration | FamilyContact | Consent | Correction),
        ) => Ok(Grant::Full),
        (Role::Staff(Mediator), Record(FamilyContact | Consent)) => Ok(Grant::Full),
        (Role::Staff(_), Record(Clinical)) => {
            Err("only clinical roles assess, hold meetings, adopt plans, run services and refer")
        }
        (Role::Staff(_), Record(Legal)) => {
            Err("legal matters are recorded by the legal advisor or a clinician")
        }
        (Role::Staff(_), Record(_)) => Err("this kind of entry is not one this role records"),
    }
}

/// The decision: may `principal` do `action` in `scope`, stating `break_glass` (a reason) when
/// reading a file outside their centres?
///
/// What the role may never do is refused first, whatever the file (so a refusal says nothing about
/// whether a file exists); then the centre decides.
pub fn decide(
    principal: &Principal,
    action: Action,
    scope: Scope<'_>,
    break_glass: Option<&str>,
) -> Result<Grant, Denial> {
    let grant = role_allows(principal.role, action).map_err(|why| Denial::Role {
        role: principal.role,
        action: action.phrase(),
        why,
    })?;
    if break_glass.is_some() {
        if !action.reads_a_file() {
            return Err(Denial::BreakGlass(
                "opens a file for reading (history, plan, trajectory), never for a list or a write",
            ));
        }
        if !principal.role.recording_role().is_some_and(is_clinical) {
            return Err(Denial::BreakGlass("is for clinicians"));
        }
        if break_glass.is_some_and(|r| r.trim().is_empty()) {
            return Err(Denial::BreakGlass("needs a stated reason"));
        }
    }
    match scope {
        Scope::File(centre) if principal.works_for(centre) => Ok(grant),
        Scope::File(_) if break_glass.is_some() => Ok(Grant::BreakGlass),
        Scope::File(_) => Err(Denial::OutsideCentres),
        Scope::Centre(centre) if principal.works_for(centre) => Ok(grant),
        Scope::Centre(centre) => Err(Denial::OtherCentre(centre.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre(s: &str) -> CentreId {
        CentreId::parse(s).unwrap()
    }

    fn principal(role: Role) -> Principal {
        Principal {
            person: PersonId::parse("p1@centre-sud".to_string()).unwrap(),
            role,
            centres: vec![centre("centre-sud")],
        }
    }

    #[test]
    fn a_doctor_reads_and_writes_their_centre_and_breaks_the_glass_elsewhere() {
        let md = principal(Role::Staff(StaffRole::Doctor));
        let (sud, nord) = (centre("centre-sud"), centre("centre-nord"));
        let clinical = Action::Record(EntryKind::Clinical);
        assert_eq!(
            decide(&md, clinical, Scope::File(&sud), None),
            Ok(Grant::Full)
        );
        assert_eq!(
            decide(&md, clinical, Scope::File(&nord), None),
            Err(Denial::OutsideCentres)
        );
        assert_eq!(
            decide(
                &md,
                Action::ReadPlan,
                Scope::File(&nord),
                Some("unconscious in ER")
            ),
            Ok(Grant::BreakGlass)
        );
        assert!(matches!(
            decide(&md, clinical, Scope::File(&nord), Some("urgent")),
            Err(Denial::BreakGlass(_))
        ));
        assert!(matches!(
            decide(&md, Action::ReadPlan, Scope::File(&nord), Some("  ")),
            Err(Denial::BreakGlass(_))
        ));
    }

    #[test]
    fn only_the_centres_coordinator_erases_and_never_by_breaking_the_glass() {
        let (sud, nord) = (centre("centre-sud"), centre("centre-nord"));
        let erase = Action::Record(EntryKind::Erasure);
        let coordinator = principal(Role::Staff(StaffRole::Coordinator));
        assert_eq!(
            decide(&coordinator, erase, Scope::File(&sud), None),
            Ok(Grant::Full)
        );
        assert_eq!(
            decide(&coordinator, erase, Scope::File(&nord), Some("urgent")),
            Err(Denial::BreakGlass(
                "opens a file for reading (history, plan, trajectory), never for a list or a write"
            ))
        );
        for role in [
            Role::Staff(StaffRole::Doctor),
            Role::Staff(StaffRole::SocialWorker),
            Role::Staff(StaffRole::Volunteer),
            Role::CentreAdministrator,
            Role::Auditor,
            Role::Researcher,
        ] {
            assert!(
                matches!(
                    decide(&principal(role), erase, Scope::File(&sud), None),
                    Err(Denial::Role { .. })
                ),
                "{role:?}"
            );
        }
    }

    #[test]
    fn an_auditor_reads_and_never_writes_nor_breaks_the_glass() {
        let auditor = principal(Role::Auditor);
        let (sud, nord) = (centre("centre-sud"), centre("centre-nord"));
        assert_eq!(
            decide(&auditor, Action::ReadHistory, Scope::File(&sud), None),
            Ok(Grant::Full)
        );
        assert!(matches!(
            decide(
                &auditor,
                Action::Record(EntryKind::FamilyContact),
                Scope::File(&sud),
                None
            ),
            Err(Denial::Role { .. })
        ));
        assert!(matches!(
            decide(&auditor, Action::ReadHistory, Scope::File(&nord), Some("x")),
            Err(Denial::BreakGlass(_))
        ));
    }

    #[test]
    fn the_decision_trail_is_for_auditors_administrators_and_the_files_staff() {
        let sud = centre("centre-sud");
        let nord = centre("centre-nord");
        for role in [
            Role::Auditor,
            Role::CentreAdministrator,
            Role::Staff(StaffRole::Doctor),
            Role::Staff(StaffRole::Coordinator),
        ] {
            let p = principal(role);
            assert_eq!(
                decide(&p, Action::ReadAudit, Scope::File(&sud), None),
                Ok(Grant::Full),
                "{role}"
            );
            assert_eq!(
                decide(&p, Action::ReadAudit, Scope::File(&nord), None),
                Err(Denial::OutsideCentres),
                "{role}"
            );
        }
        for role in [Role::Staff(StaffRole::Volunteer), Role::Researcher] {
            assert!(matches!(
                decide(&principal(role), Action::ReadAudit, Scope::File(&sud), None),
                Err(Denial::Role { .. })
            ));
        }
        // Break-glass is for an emergency read of a clinical file, not for an audit.
        let md = principal(Role::Staff(StaffRole::Doctor));
        assert!(matches!(
            decide(&md, Action::ReadAudit, Scope::File(&nord), Some("urgent")),
            Err(Denial::BreakGlass(_))
        ));
    }

    #[test]
    fn only_researchers_export_and_only_for_their_centres() {
        let (sud, nord) = (centre("centre-sud"), centre("centre-nord"));
        let researcher = principal(Role::Researcher);
        assert_eq!(
            decide(
                &researcher,
                Action::ExportResearch,
                Scope::Centre(&sud),
                None
            ),
            Ok(Grant::Full)
        );
        assert_eq!(
            decide(
                &researcher,
                Action::ExportResearch,
                Scope::Centre(&nord),
                None
            ),
            Err(Denial::OtherCentre(nord.clone()))
        );
        for role in [
            Role::Staff(StaffRole::Doctor),
            Role::Staff(StaffRole::Coordinator),
            Role::Staff(StaffRole::Volunteer),
            Role::CentreAdministrator,
            Role::Auditor,
        ] {
            assert!(
                matches!(
                    decide(
                        &principal(role),
                        Action::ExportResearch,
                        Scope::Centre(&sud),
                        None
                    ),
                    Err(Denial::Role { .. })
                ),
                "{role:?}"
            );
        }
        // A researcher still reads no file.
        assert!(decide(&researcher, Action::ReadHistory, Scope::File(&sud), None).is_err());
    }

    #[test]
    fn a_volunteer_sees_their_own_entries_only() {
        let v = principal(Role::Staff(StaffRole::Volunteer));
        let sud = centre("centre-sud");
        assert_eq!(
            decide(&v, Action::ReadHistory, Scope::File(&sud), None),
            Ok(Grant::OwnEntriesOnly)
        );
        assert!(decide(&v, Action::ReadTrajectory, Scope::File(&sud), None).is_err());
    }
}
