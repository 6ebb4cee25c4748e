//! Why the file refused an entry. Each message says what is wrong and what is expected, in words a
//! clinician can act on.

use lifecourse_events::*;

use lifecourse_projections::Stage;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChildFileError {
    #[error("no file is open for this child: the first entry must be open_file")]
    NoFile,
    #[error("this child's file was already opened on {opened_on}; a new request for a closed file is recorded with reopen_file")]
    AlreadyOpened { opened_on: ClinicalDate },
    #[error("{what} is dated {date}, which is in the future (today is {today}); record it on or after the day it happens")]
    DateInFuture {
        what: &'static str,
        date: ClinicalDate,
        today: ClinicalDate,
    },
    /// The birth date is identifying: the message does not repeat it.
    #[error("{what} is dated {date}, before the child's date of birth; check the date")]
    DateBeforeBirth {
        what: &'static str,
        date: ClinicalDate,
    },
    #[error("{what} is dated {date}, before {earlier_what} on {earlier_date}; it must be on or after that date")]
    OutOfOrder {
        what: &'static str,
        date: ClinicalDate,
        earlier_what: &'static str,
        earlier_date: ClinicalDate,
    },
    #[error("the file was closed on {closed_on}: after a closure the file accepts reopen_file, correct_entry, consents, and late documentation dated on or before {closed_on} (a late outcome, a note), not {attempted}")]
    FileIsClosed {
        closed_on: ClinicalDate,
        attempted: &'static str,
    },
    #[error("the child's identifying data was erased on {erased_on}: nothing more can be recorded in this file")]
    FileErased { erased_on: ClinicalDate },
    #[error("{what} is dated {date}, while the file was closed (from {closed_on} until it reopened on {reopened_on}); only consents can be dated in that time")]
    DatedWhileClosed {
        what: &'static str,
        date: ClinicalDate,
        closed_on: ClinicalDate,
        reopened_on: ClinicalDate,
    },
    #[error("the file's opening cannot be entered in error: it would leave entries without a file; correct its details with a replacement (correction.replaced_by) instead")]
    OpeningCannotBeVoided,
    #[error("the file is open; only a closed file can be reopened")]
    FileNotClosed,
    #[error("the request was already assessed ({decision}); a new initial assessment needs a new request (reopen_file)")]
    AlreadyAssessed { decision: &'static str },
    #[error("{attempted} needs an accepted request, but the request is {stage}; record complete_initial_assessment with decision \"accepted\" first")]
    NotAccepted {
        attempted: &'static str,
        stage: Stage,
    },
    #[error(
        "redirected requests must name where the child was redirected (decision.redirected.to)"
    )]
    RedirectedNowhere,
    #[error("a meeting needs at least one participant besides the child")]
    NoParticipants,
    #[error("a meeting must assess at least one need domain")]
    NoNeedsAssessed,
    #[error("need domain {domain} is assessed twice in one meeting; give each domain once")]
    DuplicateNeedDomain { domain: NeedDomain },
    #[error("this would be meeting #{given} as a {given_kind} meeting, but the file expects meeting #{expected} as a {expected_kind} meeting")]
    MeetingNumbering {
        given: u32,
        given_kind: MeetingKind,
        expected: u32,
        expected_kind: MeetingKind,
    },
    #[error("no action plan can be adopted before an assessment meeting (request received {request_on}, no meeting held since)")]
    NoMeetingYet { request_on: ClinicalDate },
    #[error("action plan v{version} is already in force; change it with revise_action_plan")]
    PlanAlreadyInForce { version: u32 },
    #[error("there is no action plan in force to {attempted}; adopt one with adopt_action_plan after a meeting")]
    NoPlanInForce { attempted: &'static str },
    #[error("this would be plan v{given} following meeting #{given_meeting}, but the file expects v{expected} following meeting #{expected_meeting}")]
    PlanNumbering {
        given: u32,
        given_meeting: u32,
        expected: u32,
        expected_meeting: u32,
    },
    #[error("an action plan needs at least one goal")]
    PlanWithoutGoals,
    #[error("goal {goal} appears twice in the plan; give each goal once")]
    DuplicateGoal { goal: GoalId },
    #[error("goal {goal} was used in an earlier plan and is not in the plan in force; a new goal needs a new goal_id")]
    GoalIdReused { goal: GoalId },
    #[error("goal {goal} has target date {target_on}, before the plan's date {plan_on}; a new goal's target must be on or after the plan's date")]
    TargetBeforePlan {
        goal: GoalId,
        target_on: ClinicalDate,
        plan_on: ClinicalDate,
    },
    #[error("the next reassessment ({next}) must be after the plan's date ({plan_on})")]
    ReassessmentNotAfterPlan {
        next: ClinicalDate,
        plan_on: ClinicalDate,
    },
    #[error(
        "goal {goal} is not in the action plan in force (v{plan_version}); its goals are: {known}"
    )]
    UnknownGoal {
        goal: GoalId,
        plan_version: u32,
        known: String,
    },
    #[error("{kind} {id} is already recorded in this file; a new one needs a new id")]
    DuplicateId { kind: &'static str, id: String },
    #[error("no {kind} {id} in this file{known}")]
    UnknownItem {
        kind: &'static str,
        id: String,
        known: String,
    },
    #[error("{kind} {id} was already {state} on {on}")]
    AlreadyFinished {
        kind: &'static str,
        id: String,
        state: String,
        on: ClinicalDate,
    },
    #[error("the expected outcome date {expected} is before the referral date {made_on}")]
    ExpectedBeforeReferral {
        expected: ClinicalDate,
        made_on: ClinicalDate,
    },
    #[error("a rights concern must name at least one article of the Convention on the Rights of the Child")]
    NoArticles,
    #[error("article {article} is named twice; name each article once")]
    DuplicateArticle { article: u8 },
    #[error("consent for {scope} is already given (since {since}); withdraw it first to record a new one")]
    ConsentAlreadyGiven {
        scope: ConsentScope,
        since: ClinicalDate,
    },
    #[error("there is no consent for {scope} in force to withdraw")]
    NoConsentToWithdraw { scope: ConsentScope },
    #[error("the file is already at centre {centre}; a transfer must name another centre")]
    SameCentre { centre: CentreId },
    #[error("the transfer must leave the file's current centre {expected}, not {given}")]
    TransferFromWrongCentre { expected: CentreId, given: CentreId },
    #[error("member {member} of the child's circle is already recorded; a new member needs a new member_id")]
    MemberAlreadyInCircle { member: CircleMemberId },
    #[error("a member of the child's circle needs a name")]
    MemberWithoutName,
    #[error("{what} names {member}, who is not in the child's circle on {on}; add them with add_circle_member first (circle today: {known})")]
    NotInCircle {
        what: &'static str,
        member: CircleMemberId,
        on: ClinicalDate,
        known: String,
    },
    #[error("member {member} already left the child's circle on {left_on}")]
    MemberAlreadyLeft {
        member: CircleMemberId,
        left_on: ClinicalDate,
    },
    #[error("member {member} would leave the child's circle on {left_on}, but an entry dated {named_on} names them; they can leave only after it")]
    LeftBeforeNamed {
        member: CircleMemberId,
        left_on: ClinicalDate,
        named_on: ClinicalDate,
    },
    #[error(
        "consent given by a significant adult must name them (member: the circle member's id)"
    )]
    ConsentGiverNotNamed,
    #[error("consent given by the child cannot name a circle member; use given_by \"parent\", \"legal_guardian\" or \"significant_adult\" for an adult")]
    ChildConsentWithMember,
    #[error("goal {goal} has no one responsible; name at least one party (a role such as {{\"role\": \"family\"}}, a member of staff or a circle member)")]
    GoalWithoutResponsible { goal: GoalId },
    #[error("goal {goal} names the same responsible party twice; name each once")]
    DuplicateResponsible { goal: GoalId },
    #[error("volunteers deliver mentoring, homework tutoring, sports and art, and outings, not {kind}; choose provider \"centre\" or \"partner\"")]
    VolunteerCannotDeliver { kind: ServiceKind },
    #[error("a screening must give at least one domain's result")]
    ScreeningWithoutResults,
    #[error("{domain} is not a domain of {instrument}; its domains are: {expected}")]
    ScreeningDomainNotInInstrument {
        domain: ScreeningDomain,
        instrument: &'static str,
        expected: String,
    },
    #[error("{domain} is given twice in one screening; give each domain once")]
    DuplicateScreeningDomain { domain: ScreeningDomain },
    #[error("{domain} has neither a score nor a band; give at least one")]
    ScreeningResultEmpty { domain: ScreeningDomain },
    #[error("{domain} has score {score}, above {instrument}'s maximum of {max}")]
    ScreeningScoreTooHigh {
        domain: ScreeningDomain,
        score: ScreeningScore,
        instrument: &'static str,
        max: ScreeningScore,
    },
    #[error("{band} is not a band of {instrument}; its bands are: {expected}")]
    ScreeningBandNotInInstrument {
        band: ScreeningBand,
        instrument: &'static str,
        expected: String,
    },
    #[error("a correction must give a reason")]
    CorrectionWithoutReason,
    #[error("there is no entry #{sequence} to correct; this file has entries #1 to #{last}")]
    UnknownEntry { sequence: u64, last: u64 },
    #[error("entry #{sequence} is itself a correction and cannot be corrected; correct entry #{target} again instead")]
    CorrectionOfCorrection { sequence: u64, target: u64 },
    #[error("entry #{sequence} is a {actual}, not a {given}; a replacement must be of the same type as the entry it corrects")]
    WrongCorrectionType {
        sequence: u64,
        actual: String,
        given: String,
    },
    #[error("the replacement is identical to entry #{sequence} as it stands; nothing to correct")]
    CorrectionChangesNothing { sequence: u64 },
    #[error("dated back before the closure, this entry would make entry #{sequence} ({event_type}) invalid: {problem}")]
    LateEntryBreaksHistory {
        sequence: u64,
        event_type: &'static str,
        problem: Box<ChildFileError>,
    },
    #[error("this correction would make entry #{sequence} ({event_type}) invalid: {problem}")]
    CorrectionBreaksHistory {
        sequence: u64,
        event_type: &'static str,
        problem: Box<ChildFileError>,
    },
}

impl ChildFileError {
    /// A stable machine name for the rule that refused the entry (logs, exit reports, and the
    /// `rule` field of API errors). Never contains data from the entry itself.
    pub fn rule(&self) -> &'static str {
        use ChildFileError::*;
        match self {
            NoFile => "no_file",
            AlreadyOpened { .. } => "already_opened",
            DateInFuture { .. } => "date_in_future",
            DateBeforeBirth { .. } => "date_before_birth",
            OutOfOrder { .. } => "out_of_order",
            FileIsClosed { .. } => "file_is_closed",
            FileErased { .. } => "file_erased",
            DatedWhileClosed { .. } => "dated_while_closed",
            OpeningCannotBeVoided => "opening_cannot_be_voided",
            FileNotClosed => "file_not_closed",
            AlreadyAssessed { .. } => "already_assessed",
            NotAccepted { .. } => "not_accepted",
            RedirectedNowhere => "redirected_nowhere",
            NoParticipants => "no_participants",
            NoNeedsAssessed => "no_needs_assessed",
            DuplicateNeedDomain { .. } => "duplicate_need_domain",
            MeetingNumbering { .. } => "meeting_numbering",
            NoMeetingYet { .. } => "no_meeting_yet",
            PlanAlreadyInForce { .. } => "plan_already_in_force",
            NoPlanInForce { .. } => "no_plan_in_force",
            PlanNumbering { .. } => "plan_numbering",
            PlanWithoutGoals => "plan_without_goals",
            DuplicateGoal { .. } => "duplicate_goal",
            GoalIdReused { .. } => "goal_id_reused",
            TargetBeforePlan { .. } => "target_before_plan",
            ReassessmentNotAfterPlan { .. } => "reassessment_not_after_plan",
            UnknownGoal { .. } => "unknown_goal",
            DuplicateId { .. } => "duplicate_id",
            UnknownItem { .. } => "unknown_item",
            AlreadyFinished { .. } => "already_finished",
            ExpectedBeforeReferral { .. } => "expected_before_referral",
            NoArticles => "no_articles",
            DuplicateArticle { .. } => "duplicate_article",
            ConsentAlreadyGiven { .. } => "consent_already_given",
            NoConsentToWithdraw { .. } => "no_consent_to_withdraw",
            SameCentre { .. } => "same_centre",
            TransferFromWrongCentre { .. } => "transfer_from_wrong_centre",
            MemberAlreadyInCircle { .. } => "member_already_in_circle",
            MemberWithoutName => "member_without_name",
            NotInCircle { .. } => "not_in_circle",
            MemberAlreadyLeft { .. } => "member_already_left",
            LeftBeforeNamed { .. } => "left_before_named",
            ConsentGiverNotNamed => "consent_giver_not_named",
            ChildConsentWithMember => "child_consent_with_member",
            GoalWithoutResponsible { .. } => "goal_without_responsible",
            DuplicateResponsible { .. } => "duplicate_responsible",
            VolunteerCannotDeliver { .. } => "volunteer_cannot_deliver",
            ScreeningWithoutResults => "screening_without_results",
            ScreeningDomainNotInInstrument { .. } => "screening_domain_not_in_instrument",
            DuplicateScreeningDomain { .. } => "duplicate_screening_domain",
            ScreeningResultEmpty { .. } => "screening_result_empty",
            ScreeningScoreTooHigh { .. } => "screening_score_too_high",
            ScreeningBandNotInInstrument { .. } => "screening_band_not_in_instrument",
            CorrectionWithoutReason => "correction_without_reason",
            UnknownEntry { .. } => "unknown_entry",
            CorrectionOfCorrection { .. } => "correction_of_correction",
            WrongCorrectionType { .. } => "wrong_correction_type",
            CorrectionChangesNothing { .. } => "correction_changes_nothing",
            CorrectionBreaksHistory { .. } => "correction_breaks_history",
            LateEntryBreaksHistory { .. } => "late_entry_breaks_history",
        }
    }
}
