//! The event catalogue: one enum, `ChildEvent`, with a variant for every step of a child's care
//! (DOMAIN.md, "The clinical process"). Each payload carries `occurred_on`, the clinical date.
//! Payloads refuse unknown fields, so a misspelt optional field is an error, not a silent loss.

use serde::{Deserialize, Serialize};

use crate::identifying::Identifying;
use crate::ids::{
    CentreId, CircleMemberId, GoalId, LegalMatterId, PersonId, ReferralId, RightsConcernId,
    ServiceId,
};
use crate::values::*;

/// Who the child is. Every field identifies the child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildIdentity {
    pub given_name: Identifying<String>,
    pub family_name: Identifying<String>,
    pub birth_date: Identifying<ClinicalDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Identifying<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Identifying<String>>,
}

/// A request for the centre's help: who asked and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub source: ReferralSource,
    /// The referring organisation, e.g. "École Saint-Nom-de-Jésus" (not a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_detail: Option<Identifying<String>>,
    pub reason: Identifying<String>,
}

/// Step 1: a referral or request was received and the child's file opened.
/// Schema 2.0 (1.0 had `received_on` and a free-text `referral_source`; see `upcast`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildFileOpened {
    pub occurred_on: ClinicalDate,
    pub centre: CentreId,
    pub child: ChildIdentity,
    pub request: Request,
}

/// The outcome of the initial assessment of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InitialDecision {
    Accepted,
    /// Sent to a better-placed service (named).
    Redirected {
        to: Identifying<String>,
    },
    /// Decision pending (e.g. waiting for information); a later assessment decides.
    Waiting,
}

impl InitialDecision {
    /// The decision in one word, without where a redirected request went (which may name a
    /// person: callers that show it expose it themselves).
    pub fn word(&self) -> &'static str {
        match self {
            InitialDecision::Accepted => "accepted",
            InitialDecision::Waiting => "waiting",
            InitialDecision::Redirected { .. } => "redirected",
        }
    }
}

/// Step 2: a centre professional assessed the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialAssessmentCompleted {
    pub occurred_on: ClinicalDate,
    pub lives_in_territory: bool,
    pub other_services_in_place: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_situation: Option<Identifying<String>>,
    pub decision: InitialDecision,
}

/// Someone other than the child who took part in a meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub role: ParticipantRole,
    /// Staff id, when the participant is a member of the centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Identifying<String>>,
    /// The member of the child's circle who took part (schema 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<CircleMemberId>,
}

impl Participant {
    /// Whether this participant stands for the family: a parent, guardian, foster family,
    /// relative or significant adult, or anyone of the child's circle. A meeting with one of them
    /// present counts as contact with the family.
    pub fn is_family(&self) -> bool {
        self.member.is_some()
            || matches!(
                self.role,
                ParticipantRole::Parent
                    | ParticipantRole::Guardian
                    | ParticipantRole::FosterFamily
                    | ParticipantRole::ExtendedFamily
                    | ParticipantRole::SignificantAdult
            )
    }
}

/// How pressing one domain of need is, as the meeting saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedAssessment {
    pub domain: NeedDomain,
    pub level: NeedLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// A strength of the child, family or community that the plan can lean on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strength {
    pub held_by: StrengthHolder,
    pub description: Identifying<String>,
}

/// Step 3 (and 10): an assessment / course-of-action meeting with the child and family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentMeetingHeld {
    pub occurred_on: ClinicalDate,
    /// 1 for the child's first meeting, then 2, 3... across the whole file.
    pub meeting_number: u32,
    pub kind: MeetingKind,
    pub participants: Vec<Participant>,
    pub child_took_part: bool,
    /// The child's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_voice: Option<Identifying<String>>,
    pub needs: Vec<NeedAssessment>,
    #[serde(default)]
    pub strengths: Vec<Strength>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypotheses: Option<Identifying<String>>,
}

/// Who answers for a goal: a role (the family, the child, the social worker...), a named member of
/// staff, or a member of the child's circle. Written `{"role": "family"}`, `{"staff": "sw.gagnon"}`
/// or `{"member": "<circle member id>"}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Responsible {
    Role(ResponsibleParty),
    Staff(PersonId),
    Member(CircleMemberId),
}

/// One goal of an action plan. A goal keeps its id across plan versions. Responsibility is shared:
/// one or more parties, people or roles, including the family and the child (schema 2.0 of the
/// plan events; 1.0 had a single `responsible` role).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    pub goal_id: GoalId,
    pub domain: NeedDomain,
    pub description: Identifying<String>,
    pub responsible: Vec<Responsible>,
    pub target_on: ClinicalDate,
}

/// Step 4: a version of the action plan (adopted or revised). Versions are numbered from 1 and
/// never overwritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPlanVersion {
    pub occurred_on: ClinicalDate,
    pub plan_version: u32,
    /// The meeting this version follows.
    pub meeting_number: u32,
    pub goals: Vec<Goal>,
    /// The plan's own reassessment date; when absent the configured default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reassessment_on: Option<ClinicalDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalProgressRecorded {
    pub occurred_on: ClinicalDate,
    pub goal_id: GoalId,
    pub status: GoalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// Step 5: a service or activity began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceStarted {
    pub occurred_on: ClinicalDate,
    pub service_id: ServiceId,
    pub kind: ServiceKind,
    pub format: ServiceFormat,
    pub provider: ServiceProvider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<Identifying<String>>,
    /// The member of staff or volunteer who delivers it, from the staff register (schema 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_person: Option<PersonId>,
    #[serde(default)]
    pub linked_goals: Vec<GoalId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEnded {
    pub occurred_on: ClinicalDate,
    pub service_id: ServiceId,
    pub reason: ServiceEndReason,
}

/// Step 6: a referral to an external resource, to be followed up until it has an outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralMade {
    pub occurred_on: ClinicalDate,
    pub referral_id: ReferralId,
    pub resource: ExternalResource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<Identifying<String>>,
    /// When an outcome is expected; when absent the configured default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_outcome_by: Option<ClinicalDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Identifying<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralOutcomeRecorded {
    pub occurred_on: ClinicalDate,
    pub referral_id: ReferralId,
    pub outcome: ReferralOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// Step 7: the legal advisor took up a matter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalInterventionOpened {
    pub occurred_on: ClinicalDate,
    pub matter_id: LegalMatterId,
    pub area: LegalArea,
    pub kind: LegalInterventionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Identifying<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalInterventionConcluded {
    pub occurred_on: ClinicalDate,
    pub matter_id: LegalMatterId,
    pub outcome: LegalOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// Step 8: a concern about one of the child's rights under the Convention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RightsConcernRaised {
    pub occurred_on: ClinicalDate,
    pub concern_id: RightsConcernId,
    pub right: ChildRight,
    pub articles: Vec<ConventionArticle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Identifying<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RightsConcernResolved {
    pub occurred_on: ClinicalDate,
    pub concern_id: RightsConcernId,
    pub resolution: RightsResolution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// Step 9: contact with the family between meetings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyContactRecorded {
    pub occurred_on: ClinicalDate,
    pub mode: ContactMode,
    pub with: ContactWith,
    /// The members of the child's circle the centre was in touch with (schema 1.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<CircleMemberId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// Step 12: consent given for a scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentGiven {
    pub occurred_on: ClinicalDate,
    pub scope: ConsentScope,
    pub given_by: ConsentGiver,
    /// The member of the child's circle who gave it; required when `given_by` is
    /// `significant_adult` (schema 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<CircleMemberId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentWithdrawn {
    pub occurred_on: ClinicalDate,
    pub scope: ConsentScope,
}

/// A family member or significant adult joined the child's circle, as the team knows it: who,
/// how related, how the centre may reach them, since when (`occurred_on`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircleMemberAdded {
    pub occurred_on: ClinicalDate,
    pub member_id: CircleMemberId,
    pub name: Identifying<String>,
    pub relation: Relation,
    pub contact_role: ContactRole,
    /// Holds parental authority (may consent for the child as a parent or legal guardian).
    #[serde(default)]
    pub parental_authority: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Identifying<String>>,
}

/// Someone is no longer part of the child's circle (moved away, lost touch, no longer involved).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircleMemberLeft {
    pub occurred_on: ClinicalDate,
    pub member_id: CircleMemberId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// One domain's result in a developmental screening: a score, a band, or both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningResult {
    pub domain: ScreeningDomain,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<ScreeningScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<ScreeningBand>,
}

/// A developmental screening (the Early Development Instrument's five domains, or ASQ-3's five
/// areas), with a score or band per domain screened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevelopmentalScreeningRecorded {
    pub occurred_on: ClinicalDate,
    pub instrument: ScreeningInstrument,
    pub results: Vec<ScreeningResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// What a correction does to the entry it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Correction {
    /// The entry should not have been recorded; it no longer counts.
    EnteredInError,
    /// The entry is replaced by a corrected one of the same type.
    Replaced {
        /// Schema version of `replacement`, so it can be upcast like a stored event.
        schema_version: String,
        replacement: Box<ChildEvent>,
    },
}

/// A mistake fixed: points at an earlier entry of the same file (by its sequence number) and
/// says why. The earlier entry stays in the stream, marked as corrected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryCorrected {
    pub occurred_on: ClinicalDate,
    pub corrects_sequence: u64,
    pub corrected_event_type: String,
    pub reason: Identifying<String>,
    pub correction: Correction,
}

/// The file moved to another centre, which continues the child's care.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTransferred {
    pub occurred_on: ClinicalDate,
    pub from_centre: CentreId,
    pub to_centre: CentreId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// Step 11: a period of care ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileClosed {
    pub occurred_on: ClinicalDate,
    pub reason: ClosureReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Identifying<String>>,
}

/// A closed file opened again on a new request; the request is assessed again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileReopened {
    pub occurred_on: ClinicalDate,
    pub request: Request,
}

/// The child's identifying data was erased: the key that opens every identifying field of the
/// file was destroyed after this entry was stored. What remains — dates, codes, outcomes — is the
/// file without its identity, kept for statistics. Nothing more can be recorded in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityErased {
    pub occurred_on: ClinicalDate,
    pub reason: ErasureReason,
}

/// Every kind of entry in a child's file. Stored as `{"VariantName": {payload}}` with the variant
/// name as the event type and [`ChildEvent::schema_version`] as its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildEvent {
    ChildFileOpened(ChildFileOpened),
    InitialAssessmentCompleted(InitialAssessmentCompleted),
    AssessmentMeetingHeld(AssessmentMeetingHeld),
    ActionPlanAdopted(ActionPlanVersion),
    ActionPlanRevised(ActionPlanVersion),
    GoalProgressRecorded(GoalProgressRecorded),
    ServiceStarted(ServiceStarted),
    ServiceEnded(ServiceEnded),
    ReferralMade(ReferralMade),
    ReferralOutcomeRecorded(ReferralOutcomeRecorded),
    LegalInterventionOpened(LegalInterventionOpened),
    LegalInterventionConcluded(LegalInterventionConcluded),
    RightsConcernRaised(RightsConcernRaised),
    RightsConcernResolved(RightsConcernResolved),
    FamilyContactRecorded(FamilyContactRecorded),
    CircleMemberAdded(CircleMemberAdded),
    CircleMemberLeft(CircleMemberLeft),
    DevelopmentalScreeningRecorded(DevelopmentalScreeningRecorded),
    ConsentGiven(ConsentGiven),
    ConsentWithdrawn(ConsentWithdrawn),
    EntryCorrected(EntryCorrected),
    FileTransferred(FileTransferred),
    FileClosed(FileClosed),
    FileReopened(FileReopened),
    IdentityErased(IdentityErased),
}

/// Every event type with its current schema version. A version changes when a stored payload's
/// shape changes, and each change ships an upcaster from the previous version (`upcast`).
pub const CATALOGUE: &[(&str, &str)] = &[
    ("ChildFileOpened", "2.0"),
    ("InitialAssessmentCompleted", "1.0"),
    ("AssessmentMeetingHeld", "1.1"),
    ("ActionPlanAdopted", "2.0"),
    ("ActionPlanRevised", "2.0"),
    ("GoalProgressRecorded", "1.0"),
    ("ServiceStarted", "1.1"),
    ("ServiceEnded", "1.0"),
    ("ReferralMade", "1.0"),
    ("ReferralOutcomeRecorded", "1.0"),
    ("LegalInterventionOpened", "1.0"),
    ("LegalInterventionConcluded", "1.0"),
    ("RightsConcernRaised", "1.0"),
    ("RightsConcernResolved", "1.0"),
    ("FamilyContactRecorded", "1.1"),
    ("CircleMemberAdded", "1.0"),
    ("CircleMemberLeft", "1.0"),
    ("DevelopmentalScreeningRecorded", "1.0"),
    ("ConsentGiven", "1.1"),
    ("ConsentWithdrawn", "1.0"),
    ("EntryCorrected", "1.0"),
    ("FileTransferred", "1.0"),
    ("FileClosed", "1.0"),
    ("FileReopened", "1.0"),
    ("IdentityErased", "1.0"),
];

/// The current schema version of an event type, or `None` for a type this build does not know.
pub fn current_schema_version(event_type: &str) -> Option<&'static str> {
    CATALOGUE
        .iter()
        .find(|(name, _)| *name == event_type)
        .map(|(_, version)| *version)
}

impl ChildEvent {
    /// The event type: the variant name, as stored in the `event_type` column.
    pub fn event_type(&self) -> &'static str {
        use ChildEvent::*;
        match self {
            ChildFileOpened(_) => "ChildFileOpened",
            InitialAssessmentCompleted(_) => "InitialAssessmentCompleted",
            AssessmentMeetingHeld(_) => "AssessmentMeetingHeld",
            ActionPlanAdopted(_) => "ActionPlanAdopted",
            ActionPlanRevised(_) => "ActionPlanRevised",
            GoalProgressRecorded(_) => "GoalProgressRecorded",
            ServiceStarted(_) => "ServiceStarted",
            ServiceEnded(_) => "ServiceEnded",
            ReferralMade(_) => "ReferralMade",
            ReferralOutcomeRecorded(_) => "ReferralOutcomeRecorded",
            LegalInterventionOpened(_) => "LegalInterventionOpened",
            LegalInterventionConcluded(_) => "LegalInterventionConcluded",
            RightsConcernRaised(_) => "RightsConcernRaised",
            RightsConcernResolved(_) => "RightsConcernResolved",
            FamilyContactRecorded(_) => "FamilyContactRecorded",
            CircleMemberAdded(_) => "CircleMemberAdded",
            CircleMemberLeft(_) => "CircleMemberLeft",
            DevelopmentalScreeningRecorded(_) => "DevelopmentalScreeningRecorded",
            ConsentGiven(_) => "ConsentGiven",
            ConsentWithdrawn(_) => "ConsentWithdrawn",
            EntryCorrected(_) => "EntryCorrected",
            FileTransferred(_) => "FileTransferred",
            FileClosed(_) => "FileClosed",
            FileReopened(_) => "FileReopened",
            IdentityErased(_) => "IdentityErased",
        }
    }

    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> &'static str {
        current_schema_version(self.event_type())
            .expect("every ChildEvent variant is listed in CATALOGUE")
    }

    /// The clinical date: when this happened in the child's care.
    pub fn occurred_on(&self) -> ClinicalDate {
        use ChildEvent::*;
        match self {
            ChildFileOpened(e) => e.occurred_on,
            InitialAssessmentCompleted(e) => e.occurred_on,
            AssessmentMeetingHeld(e) => e.occurred_on,
            ActionPlanAdopted(e) | ActionPlanRevised(e) => e.occurred_on,
            GoalProgressRecorded(e) => e.occurred_on,
            ServiceStarted(e) => e.occurred_on,
            ServiceEnded(e) => e.occurred_on,
            ReferralMade(e) => e.occurred_on,
            ReferralOutcomeRecorded(e) => e.occurred_on,
            LegalInterventionOpened(e) => e.occurred_on,
            LegalInterventionConcluded(e) => e.occurred_on,
            RightsConcernRaised(e) => e.occurred_on,
            RightsConcernResolved(e) => e.occurred_on,
            FamilyContactRecorded(e) => e.occurred_on,
            CircleMemberAdded(e) => e.occurred_on,
            CircleMemberLeft(e) => e.occurred_on,
            DevelopmentalScreeningRecorded(e) => e.occurred_on,
            ConsentGiven(e) => e.occurred_on,
            ConsentWithdrawn(e) => e.occurred_on,
            EntryCorrected(e) => e.occurred_on,
            FileTransferred(e) => e.occurred_on,
            FileClosed(e) => e.occurred_on,
            FileReopened(e) => e.occurred_on,
            IdentityErased(e) => e.occurred_on,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_entry_is_unique() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
    }

    #[test]
    fn payloads_refuse_unknown_fields() {
        let json = r#"{"FamilyContactRecorded":{"occurred_on":"2024-03-02","mode":"phone","with":"child","nots":"x"}}"#;
        let err = serde_json::from_str::<ChildEvent>(json).unwrap_err();
        assert!(err.to_string().contains("unknown field `nots`"), "{err}");
    }
}
