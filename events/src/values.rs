//! Value types of the child file: the clinical date and the closed vocabularies (need domains,
//! roles, referral outcomes, legal areas...). Each vocabulary is an enum whose JSON form is a
//! snake_case word, so stored events and command files read naturally and a typo is an error.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The date on which something happened in the child's care (clinical time), as opposed to when
/// it was recorded (record time, set by the database).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClinicalDate(pub NaiveDate);

impl<'de> Deserialize<'de> for ClinicalDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The message does not repeat the text: it may be a child's birth date.
        text.parse().map_err(|_| {
            serde::de::Error::custom(
                "invalid date: expected a calendar date written YYYY-MM-DD, such as 2024-03-02",
            )
        })
    }
}

impl ClinicalDate {
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, day).map(Self)
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: ClinicalDate) -> i64 {
        (later.0 - self.0).num_days()
    }

    ///
    /// Saturates at the last (or first) date the calendar can hold, so that a huge threshold or
    /// an extreme date gives an extreme date, never a panic; the edges refuse such values with
    /// an explanation before they reach a rule.
    pub fn plus_days(self, days: i64) -> Self {
        chrono::TimeDelta::try_days(days)
            .and_then(|delta| self.0.checked_add_signed(delta))
            .map_or(
                Self(if days < 0 {
                    NaiveDate::MIN
                } else {
                    NaiveDate::MAX
                }),
                Self,
            )
    }

    /// The same day `months` months later, clamped to the month's last day (31 Aug + 6 months is
    /// 28 or 29 Feb).
    /// Saturates like `plus_days`.
    pub fn plus_months(self, months: u32) -> Self {
        Self(
            self.0
                .checked_add_months(chrono::Months::new(months))
                .unwrap_or(NaiveDate::MAX),
        )
    }

    /// Age in whole months on `on` of a child born on `self`.
    pub fn months_until(self, on: ClinicalDate) -> i32 {
        let (b, d) = (self.0, on.0);
        let mut months = (d.year() - b.year()) * 12 + d.month() as i32 - b.month() as i32;
        if d.day() < b.day() {
            months -= 1;
        }
        months
    }
}

impl fmt::Display for ClinicalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0.format("%Y-%m-%d").to_string())
    }
}

impl std::str::FromStr for ClinicalDate {
    type Err = chrono::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map(Self)
    }
}

/// Declares a closed vocabulary: a fieldless enum, its snake_case JSON words, `ALL` (for pickers,
/// generators and help texts) and `Display` in plain words.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The JSON word for this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.as_str().replace('_', " "))
            }
        }
    };
}

vocabulary!(
    /// Domains of a child's developmental needs (a default list; DOMAIN.md).
    NeedDomain {
        PhysicalHealth = "physical_health",
        /// Language, cognition, motor skills.
        Development = "development",
        EmotionalWellbeing = "emotional_wellbeing",
        FamilyRelationships = "family_relationships",
        SchoolLearning = "school_learning",
        /// Housing, food, income.
        LivingConditions = "living_conditions",
        SafetyProtection = "safety_protection",
        RightsLegal = "rights_legal",
        SocialParticipation = "social_participation",
    }
);

vocabulary!(
    /// How pressing a need is, as judged at a meeting. Ordered: a lower level at a later meeting
    /// is an improvement.
    NeedLevel {
        NoConcern = "no_concern",
        Mild = "mild",
        Moderate = "moderate",
        Severe = "severe",
    }
);

vocabulary!(
    /// Who made the request for the child.
    ReferralSource {
        School = "school",
        YouthProtection = "youth_protection",
        HealthSocialServices = "health_social_services",
        Daycare = "daycare",
        CommunityOrganisation = "community_organisation",
        Physician = "physician",
        Family = "family",
        Other = "other",
    }
);

vocabulary!(
    /// The role of a member of staff or volunteer who records entries.
    StaffRole {
        Doctor = "doctor",
        SocialWorker = "social_worker",
        Psychoeducator = "psychoeducator",
        Nurse = "nurse",
        /// The basic team's clinical assistant (social work, psychoeducation or nursing).
        ClinicalAssistant = "clinical_assistant",
        LegalAdvisor = "legal_advisor",
        Mediator = "mediator",
        SpecialEducator = "special_educator",
        ArtTherapist = "art_therapist",
        MusicTherapist = "music_therapist",
        SpeechTherapist = "speech_therapist",
        OccupationalTherapist = "occupational_therapist",
        Neuropsychologist = "neuropsychologist",
        ChildPsychiatrist = "child_psychiatrist",
        Coordinator = "coordinator",
        Volunteer = "volunteer",
    }
);

vocabulary!(
    /// The role in which someone other than the child took part in a meeting.
    ParticipantRole {
        Parent = "parent",
        Guardian = "guardian",
        Sibling = "sibling",
        ExtendedFamily = "extended_family",
        FosterFamily = "foster_family",
        SignificantAdult = "significant_adult",
        Doctor = "doctor",
        SocialWorker = "social_worker",
        Psychoeducator = "psychoeducator",
        Nurse = "nurse",
        LegalAdvisor = "legal_advisor",
        Mediator = "mediator",
        SpecialEducator = "special_educator",
        Therapist = "therapist",
        SchoolStaff = "school_staff",
        YouthProtection = "youth_protection",
        HealthSocialServices = "health_social_services",
        DaycareStaff = "daycare_staff",
        CommunityWorker = "community_worker",
        Volunteer = "volunteer",
        Other = "other",
    }
);

vocabulary!(
    /// Whose strength a meeting noted.
    StrengthHolder {
        Child = "child",
        Family = "family",
        Community = "community",
    }
);

vocabulary!(
    /// Whether a meeting is the first one or a reassessment.
    MeetingKind {
        Initial = "initial",
        Reassessment = "reassessment",
    }
);

vocabulary!(
    /// Who answers for a goal of the action plan.
    ResponsibleParty {
        Child = "child",
        Family = "family",
        CentreTeam = "centre_team",
        Doctor = "doctor",
        SocialWorker = "social_worker",
        LegalAdvisor = "legal_advisor",
        School = "school",
        PartnerOrganisation = "partner_organisation",
    }
);

vocabulary!(
    /// Where a goal stands.
    GoalStatus {
        NotStarted = "not_started",
        InProgress = "in_progress",
        PartiallyAchieved = "partially_achieved",
        Achieved = "achieved",
        NotAchieved = "not_achieved",
        Abandoned = "abandoned",
    }
);

vocabulary!(
    /// Services and activities offered by the centre or its partners.
    ServiceKind {
        MedicalFollowUp = "medical_follow_up",
        MobileClinic = "mobile_clinic",
        PsychosocialFollowUp = "psychosocial_follow_up",
        EducationalFollowUp = "educational_follow_up",
        ArtTherapy = "art_therapy",
        MusicTherapy = "music_therapy",
        Zootherapy = "zootherapy",
        InterventionGroup = "intervention_group",
        HomeworkTutoring = "homework_tutoring",
        Mentoring = "mentoring",
        SportsAndArt = "sports_and_art",
        Outings = "outings",
        Other = "other",
    }
);

vocabulary!(
    /// Individual or group delivery of a service.
    ServiceFormat {
        Individual = "individual",
        Group = "group",
    }
);

vocabulary!(
    /// Who delivers a service.
    ServiceProvider {
        Centre = "centre",
        Partner = "partner",
        /// One of the centre's volunteers (mentoring, tutoring, sports and art, outings).
        Volunteer = "volunteer",
    }
);

vocabulary!(
    /// Why a service ended.
    ServiceEndReason {
        Completed = "completed",
        NoLongerNeeded = "no_longer_needed",
        FamilyStopped = "family_stopped",
        Moved = "moved",
        Other = "other",
    }
);

vocabulary!(
    /// External resources a child is referred to.
    ExternalResource {
        Dentistry = "dentistry",
        Optometry = "optometry",
        Audiology = "audiology",
        SpeechTherapy = "speech_therapy",
        OccupationalTherapy = "occupational_therapy",
        Physiotherapy = "physiotherapy",
        ChildPsychiatry = "child_psychiatry",
        Neuropsychology = "neuropsychology",
        Psychology = "psychology",
        SpecialistMedicine = "specialist_medicine",
        LegalAid = "legal_aid",
        SocialServices = "social_services",
        FoodAid = "food_aid",
        HousingSupport = "housing_support",
        Other = "other",
    }
);

vocabulary!(
    /// What became of an external referral. `Waiting` is interim; the others are final.
    ReferralOutcome {
        Seen = "seen",
        Waiting = "waiting",
        Refused = "refused",
        NoShow = "no_show",
        Lost = "lost",
    }
);

impl ReferralOutcome {
    /// A final outcome closes the referral; only one may be recorded.
    pub fn is_final(self) -> bool {
        self != ReferralOutcome::Waiting
    }
}

vocabulary!(
    /// Areas of law named in the CSP texts.
    LegalArea {
        LandlordTenant = "landlord_tenant",
        Family = "family",
        YouthProtection = "youth_protection",
        Immigration = "immigration",
        RightToInformation = "right_to_information",
        RightToEducation = "right_to_education",
        HealthSocialServices = "health_social_services",
        LabourEmployment = "labour_employment",
        HumanRights = "human_rights",
        CivilRights = "civil_rights",
    }
);

vocabulary!(
    /// How the legal advisor intervenes; non-adversarial ways first.
    LegalInterventionKind {
        Advice = "advice",
        Negotiation = "negotiation",
        Mediation = "mediation",
        Accompaniment = "accompaniment",
        Representation = "representation",
    }
);

vocabulary!(
    /// How a legal intervention ended.
    LegalOutcome {
        Resolved = "resolved",
        PartiallyResolved = "partially_resolved",
        Unresolved = "unresolved",
        ReferredElsewhere = "referred_elsewhere",
        Withdrawn = "withdrawn",
    }
);

vocabulary!(
    /// The right a concern is about.
    ChildRight {
        Education = "education",
        Health = "health",
        StandardOfLiving = "standard_of_living",
        Protection = "protection",
        FamilyEnvironment = "family_environment",
        PlayAndLeisure = "play_and_leisure",
        ToBeHeard = "to_be_heard",
        NonDiscrimination = "non_discrimination",
        Other = "other",
    }
);

vocabulary!(
    /// How a rights concern was settled.
    RightsResolution {
        Resolved = "resolved",
        PartiallyResolved = "partially_resolved",
        Unresolved = "unresolved",
        Escalated = "escalated",
    }
);

vocabulary!(
    /// How the centre was in touch with the family.
    ContactMode {
        InPerson = "in_person",
        Phone = "phone",
        HomeVisit = "home_visit",
        Message = "message",
        AtActivity = "at_activity",
    }
);

vocabulary!(
    /// Who the centre was in touch with.
    ContactWith {
        Child = "child",
        ParentOrGuardian = "parent_or_guardian",
        WholeFamily = "whole_family",
        SignificantAdult = "significant_adult",
    }
);

vocabulary!(
    /// What a consent covers.
    ConsentScope {
        InformationSharing = "information_sharing",
        Research = "research",
    }
);

vocabulary!(
    /// Who gave a consent.
    ConsentGiver {
        Parent = "parent",
        LegalGuardian = "legal_guardian",
        Child = "child",
        /// A significant adult of the child's circle, named by `ConsentGiven::member`.
        SignificantAdult = "significant_adult",
    }
);

vocabulary!(
    /// Why a child's identifying data was erased.
    ErasureReason {
        /// The person (or their parent or guardian) asked for it, as the law allows.
        RequestOfThePerson = "request_of_the_person",
        /// The retention period for the file ended.
        RetentionPeriodEnded = "retention_period_ended",
        CourtOrder = "court_order",
        /// The file was opened for the wrong child or by mistake.
        RecordedInError = "recorded_in_error",
    }
);

vocabulary!(
    /// Why a period of care ended.
    ClosureReason {
        GoalsMet = "goals_met",
        MovedOutOfTerritory = "moved_out_of_territory",
        AgedOut = "aged_out",
        FamilyWithdrew = "family_withdrew",
        Redirected = "redirected",
        Other = "other",
    }
);

impl ServiceKind {
    /// Whether volunteers may deliver this kind of service (DOMAIN.md: volunteers mentor, tutor,
    /// lead sports and art).
    pub fn volunteers_may_deliver(self) -> bool {
        matches!(
            self,
            ServiceKind::Mentoring
                | ServiceKind::HomeworkTutoring
                | ServiceKind::SportsAndArt
                | ServiceKind::Outings
        )
    }
}

vocabulary!(
    /// How a member of the child's circle is related to the child.
    Relation {
        Mother = "mother",
        Father = "father",
        StepParent = "step_parent",
        FosterParent = "foster_parent",
        Grandparent = "grandparent",
        Sibling = "sibling",
        AuntOrUncle = "aunt_or_uncle",
        OtherFamily = "other_family",
        FamilyFriend = "family_friend",
        Neighbour = "neighbour",
        Teacher = "teacher",
        Coach = "coach",
        Mentor = "mentor",
        Other = "other",
    }
);

vocabulary!(
    /// How the centre may be in touch with a member of the child's circle.
    ContactRole {
        /// The first person the centre calls.
        PrimaryContact = "primary_contact",
        Contact = "contact",
        /// Part of the child's life, not to be contacted by the centre.
        NotToBeContacted = "not_to_be_contacted",
    }
);

vocabulary!(
    /// A developmental screening instrument.
    ScreeningInstrument {
        /// The Early Development Instrument (five domains, scores 0 to 10).
        Edi = "edi",
        /// Ages and Stages Questionnaires, third edition (five areas, scores 0 to 60).
        Asq3 = "asq3",
    }
);

vocabulary!(
    /// A domain (EDI) or area (ASQ-3) of a developmental screening.
    ScreeningDomain {
        PhysicalHealthAndWellbeing = "physical_health_and_wellbeing",
        SocialCompetence = "social_competence",
        EmotionalMaturity = "emotional_maturity",
        LanguageAndCognitiveDevelopment = "language_and_cognitive_development",
        CommunicationSkillsAndGeneralKnowledge = "communication_skills_and_general_knowledge",
        Communication = "communication",
        GrossMotor = "gross_motor",
        FineMotor = "fine_motor",
        ProblemSolving = "problem_solving",
        PersonalSocial = "personal_social",
    }
);

vocabulary!(
    /// Where a screening score falls: EDI `on_track`, `at_risk`, `vulnerable`; ASQ-3
    /// `on_schedule`, `monitoring`, `below_cutoff`.
    ScreeningBand {
        OnTrack = "on_track",
        AtRisk = "at_risk",
        Vulnerable = "vulnerable",
        OnSchedule = "on_schedule",
        Monitoring = "monitoring",
        BelowCutoff = "below_cutoff",
    }
);

impl ScreeningInstrument {
    /// The instrument's domains (EDI) or areas (ASQ-3), in the instrument's order.
    pub fn domains(self) -> &'static [ScreeningDomain] {
        use ScreeningDomain as D;
        match self {
            Self::Edi => &[
                D::PhysicalHealthAndWellbeing,
                D::SocialCompetence,
                D::EmotionalMaturity,
                D::LanguageAndCognitiveDevelopment,
                D::CommunicationSkillsAndGeneralKnowledge,
            ],
            Self::Asq3 => &[
                D::Communication,
                D::GrossMotor,
                D::FineMotor,
                D::ProblemSolving,
                D::PersonalSocial,
            ],
        }
    }

    /// The bands the instrument reports, from best to most worrying.
    pub fn bands(self) -> &'static [ScreeningBand] {
        use ScreeningBand as B;
        match self {
            Self::Edi => &[B::OnTrack, B::AtRisk, B::Vulnerable],
            Self::Asq3 => &[B::OnSchedule, B::Monitoring, B::BelowCutoff],
        }
    }

    /// The highest score of a domain, in tenths of a point.
    pub fn max_score(self) -> ScreeningScore {
        match self {
            Self::Edi => ScreeningScore(100),
            Self::Asq3 => ScreeningScore(600),
        }
    }

    /// The instrument's name as people write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Edi => "EDI",
            Self::Asq3 => "ASQ-3",
        }
    }
}

/// A screening score with at most one decimal, stored in tenths so values compare exactly
/// (`7.5` is `ScreeningScore(75)`). Written in JSON as a plain number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScreeningScore(pub u16);

impl ScreeningScore {
    pub fn tenths(self) -> u16 {
        self.0
    }
}

impl Serialize for ScreeningScore {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 10 == 0 {
            serializer.serialize_u16(self.0 / 10)
        } else {
            serializer.serialize_f64(f64::from(self.0) / 10.0)
        }
    }
}

impl<'de> Deserialize<'de> for ScreeningScore {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        let tenths = (value * 10.0).round();
        if !(0.0..=6000.0).contains(&tenths) || (tenths - value * 10.0).abs() > 1e-6 {
            return Err(serde::de::Error::custom(
                "invalid screening score: expected a number from 0 to 600 with at most one decimal, such as 7.5",
            ));
        }
        Ok(Self(tenths as u16))
    }
}

impl fmt::Display for ScreeningScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = if self.0 % 10 == 0 {
            format!("{}", self.0 / 10)
        } else {
            format!("{}.{}", self.0 / 10, self.0 % 10)
        };
        f.pad(&text)
    }
}

/// An article of the UN Convention on the Rights of the Child (1 to 54).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct ConventionArticle(u8);

impl ConventionArticle {
    pub const LAST: u8 = 54;

    pub fn new(article: u8) -> Result<Self, ArticleOutOfRange> {
        if (1..=Self::LAST).contains(&article) {
            Ok(Self(article))
        } else {
            Err(ArticleOutOfRange(article))
        }
    }

    pub fn number(self) -> u8 {
        self.0
    }
}

/// A Convention article number outside 1 to 54.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Convention on the Rights of the Child has articles 1 to 54, got article {0}")]
pub struct ArticleOutOfRange(pub u8);

impl TryFrom<u8> for ConventionArticle {
    type Error = ArticleOutOfRange;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ConventionArticle> for u8 {
    fn from(article: ConventionArticle) -> u8 {
        article.0
    }
}

impl fmt::Display for ConventionArticle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "art. {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_words_round_trip_and_reject_typos() {
        for domain in NeedDomain::ALL {
            let json = serde_json::to_string(domain).unwrap();
            assert_eq!(json, format!("\"{}\"", domain.as_str()));
            assert_eq!(&serde_json::from_str::<NeedDomain>(&json).unwrap(), domain);
        }
        let err = serde_json::from_str::<NeedDomain>("\"schol_learning\"").unwrap_err();
        assert!(err.to_string().contains("expected one of"), "{err}");
    }

    #[test]
    fn convention_articles_are_1_to_54() {
        assert!(serde_json::from_str::<ConventionArticle>("28").is_ok());
        let err = serde_json::from_str::<ConventionArticle>("55").unwrap_err();
        assert!(err.to_string().contains("articles 1 to 54"), "{err}");
        assert!(ConventionArticle::new(0).is_err());
    }

    #[test]
    fn only_waiting_is_an_interim_referral_outcome() {
        let interim: Vec<_> = ReferralOutcome::ALL
            .iter()
            .filter(|o| !o.is_final())
            .collect();
        assert_eq!(interim, vec![&ReferralOutcome::Waiting]);
    }

    #[test]
    fn impossible_dates_are_refused_with_the_expected_format() {
        let err = serde_json::from_str::<ClinicalDate>("\"2024-02-30\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a calendar date written YYYY-MM-DD"),
            "{err}"
        );
        assert!(serde_json::from_str::<ClinicalDate>("\"2024-02-29\"").is_ok());
    }

    #[test]
    fn ages_count_whole_months() {
        let born = ClinicalDate::from_ymd(2018, 5, 31).unwrap();
        assert_eq!(
            born.months_until(ClinicalDate::from_ymd(2019, 5, 30).unwrap()),
            11
        );
        assert_eq!(
            born.months_until(ClinicalDate::from_ymd(2019, 5, 31).unwrap()),
            12
        );
        assert_eq!(
            ClinicalDate::from_ymd(2024, 8, 31).unwrap().plus_months(6),
            ClinicalDate::from_ymd(2025, 2, 28).unwrap()
        );
    }

    #[test]
    fn date_arithmetic_saturates_instead_of_panicking() {
        let day = ClinicalDate::from_ymd(2024, 3, 1).unwrap();
        assert_eq!(day.plus_days(i64::MAX), ClinicalDate(NaiveDate::MAX));
        assert_eq!(day.plus_days(i64::MIN), ClinicalDate(NaiveDate::MIN));
        assert_eq!(day.plus_days(u32::MAX.into()), ClinicalDate(NaiveDate::MAX));
        assert_eq!(day.plus_months(u32::MAX), ClinicalDate(NaiveDate::MAX));
        assert_eq!(
            ClinicalDate(NaiveDate::MIN).plus_days(-1),
            ClinicalDate(NaiveDate::MIN)
        );
        assert_eq!(
            day.plus_days(-1),
            ClinicalDate::from_ymd(2024, 2, 29).unwrap()
        );
    }
}
