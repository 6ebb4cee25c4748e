//! Commands: what a member of staff asks to record in a child's file. Most carry the payload of the
//! event they produce; where the file assigns something (meeting and plan numbers, the centre a
//! transfer leaves), the command leaves it out.
//!
//! JSON form: `{"type": "make_referral", ...fields}`; see README.md for examples.

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChildFileCommand {
    OpenFile(ChildFileOpened),
    CompleteInitialAssessment(InitialAssessmentCompleted),
    HoldAssessmentMeeting(HoldAssessmentMeeting),
    AdoptActionPlan(PlanDecision),
    ReviseActionPlan(PlanDecision),
    RecordGoalProgress(GoalProgressRecorded),
    StartService(ServiceStarted),
    EndService(ServiceEnded),
    MakeReferral(ReferralMade),
    RecordReferralOutcome(ReferralOutcomeRecorded),
    OpenLegalIntervention(LegalInterventionOpened),
    ConcludeLegalIntervention(LegalInterventionConcluded),
    RaiseRightsConcern(RightsConcernRaised),
    ResolveRightsConcern(RightsConcernResolved),
    RecordFamilyContact(FamilyContactRecorded),
    AddCircleMember(CircleMemberAdded),
    RemoveCircleMember(CircleMemberLeft),
    RecordScreening(DevelopmentalScreeningRecorded),
    GiveConsent(ConsentGiven),
    WithdrawConsent(ConsentWithdrawn),
    CorrectEntry(CorrectEntry),
    TransferFile(TransferFile),
    CloseFile(FileClosed),
    ReopenFile(FileReopened),
    EraseIdentity(IdentityErased),
}

impl ChildFileCommand {
    /// The clinical date the command records.
    pub fn occurred_on(&self) -> ClinicalDate {
        use ChildFileCommand::*;
        match self {
            OpenFile(e) => e.occurred_on,
            CompleteInitialAssessment(e) => e.occurred_on,
            HoldAssessmentMeeting(e) => e.occurred_on,
            AdoptActionPlan(e) | ReviseActionPlan(e) => e.occurred_on,
            RecordGoalProgress(e) => e.occurred_on,
            StartService(e) => e.occurred_on,
            EndService(e) => e.occurred_on,
            MakeReferral(e) => e.occurred_on,
            RecordReferralOutcome(e) => e.occurred_on,
            OpenLegalIntervention(e) => e.occurred_on,
            ConcludeLegalIntervention(e) => e.occurred_on,
            RaiseRightsConcern(e) => e.occurred_on,
            ResolveRightsConcern(e) => e.occurred_on,
            RecordFamilyContact(e) => e.occurred_on,
            AddCircleMember(e) => e.occurred_on,
            RemoveCircleMember(e) => e.occurred_on,
            RecordScreening(e) => e.occurred_on,
            GiveConsent(e) => e.occurred_on,
            WithdrawConsent(e) => e.occurred_on,
            CorrectEntry(e) => e.occurred_on,
            TransferFile(e) => e.occurred_on,
            CloseFile(e) => e.occurred_on,
            ReopenFile(e) => e.occurred_on,
            EraseIdentity(e) => e.occurred_on,
        }
    }

    /// The command's name as written in JSON (`make_referral`).
    pub fn name(&self) -> &'static str {
        use ChildFileCommand::*;
        match self {
            OpenFile(_) => "open_file",
            CompleteInitialAssessment(_) => "complete_initial_assessment",
            HoldAssessmentMeeting(_) => "hold_assessment_meeting",
            AdoptActionPlan(_) => "adopt_action_plan",
            ReviseActionPlan(_) => "revise_action_plan",
            RecordGoalProgress(_) => "record_goal_progress",
            StartService(_) => "start_service",
            EndService(_) => "end_service",
            MakeReferral(_) => "make_referral",
            RecordReferralOutcome(_) => "record_referral_outcome",
            OpenLegalIntervention(_) => "open_legal_intervention",
            ConcludeLegalIntervention(_) => "conclude_legal_intervention",
            RaiseRightsConcern(_) => "raise_rights_concern",
            ResolveRightsConcern(_) => "resolve_rights_concern",
            RecordFamilyContact(_) => "record_family_contact",
            AddCircleMember(_) => "add_circle_member",
            RemoveCircleMember(_) => "remove_circle_member",
            RecordScreening(_) => "record_screening",
            GiveConsent(_) => "give_consent",
            WithdrawConsent(_) => "withdraw_consent",
            CorrectEntry(_) => "correct_entry",
            TransferFile(_) => "transfer_file",
            CloseFile(_) => "close_file",
            ReopenFile(_) => "reopen_file",
            EraseIdentity(_) => "erase_identity",
        }
    }
}

/// An assessment / course-of-action meeting; the file numbers it and tells first from
/// reassessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldAssessmentMeeting {
    pub occurred_on: ClinicalDate,
    pub participants: Vec<Participant>,
    pub child_took_part: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_voice: Option<Identifying<String>>,
    pub needs: Vec<NeedAssessment>,
    #[serde(default)]
    pub strengths: Vec<Strength>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypotheses: Option<Identifying<String>>,
}

/// An action plan to adopt or a revision of the plan in force; the file numbers the version and
/// links it to the latest meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanDecision {
    pub occurred_on: ClinicalDate,
    pub goals: Vec<Goal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reassessment_on: Option<ClinicalDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// Fix an earlier entry, named by its sequence number in the child's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectEntry {
    pub occurred_on: ClinicalDate,
    pub corrects_sequence: u64,
    pub reason: Identifying<String>,
    pub correction: CorrectionRequest,
}

/// `"entered_in_error"`, or `{"replaced_by": {"FamilyContactRecorded": {...}}}` with a complete
/// entry of the same type as the one corrected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CorrectionRequest {
    EnteredInError,
    ReplacedBy(Box<ChildEvent>),
}

/// Hand the file over to another centre, which continues the child's care.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferFile {
    pub occurred_on: ClinicalDate,
    pub to_centre: CentreId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_as_tagged_json() {
        let json = r#"{"type":"record_family_contact","occurred_on":"2024-03-02","mode":"phone","with":"parent_or_guardian"}"#;
        let cmd: ChildFileCommand = serde_json::from_str(json).unwrap();
        assert_eq!(cmd.name(), "record_family_contact");
    }

    #[test]
    fn unknown_commands_and_fields_are_named_in_the_error() {
        let err = serde_json::from_str::<ChildFileCommand>(r#"{"type":"open_fiel"}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `open_fiel`"),
            "{err}"
        );
        let json = r#"{"type":"record_family_contact","occurred_on":"2024-03-02","mode":"phone","with":"child","mood":"ok"}"#;
        let err = serde_json::from_str::<ChildFileCommand>(json).unwrap_err();
        assert!(err.to_string().contains("unknown field `mood`"), "{err}");
    }
}
