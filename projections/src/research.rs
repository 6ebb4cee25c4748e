//! Research exports, pure: the de-identified tables a study receives, folded from the histories
//! of the children whose research consent was in force on the as-of date. No identifying value
//! (`Identifying<T>`) is ever written: the birth date only gives ages in days, organisation names
//! only give keyed pseudonyms, and free text is left out. Children, staff, centres and
//! organisations appear under the study's pseudonyms (`Pseudonyms`, implemented with the study's
//! secret outside this crate); a centre with fewer exported children than the threshold is
//! pooled. Dates are days: the child's age, and days since the file was opened.
//!
//! Every table carries its own column documentation, so the codebook is generated from the same
//! definitions as the rows, and its codes from the closed vocabularies (`ALL`, `as_str`).

use std::collections::{BTreeMap, HashMap};

use lifecourse_events::*;

use crate::history::{ChildHistory, Entry};
use crate::lifecycle::{Lifecycle, Stage};
use crate::trajectory::{GoalFate, Trajectory};

/// The label of the centre of children whose centre has too few exported children.
pub const POOLED: &str = "pooled";

/// The study's pseudonyms: keyed, stable within a study, unlinkable across studies.
pub trait Pseudonyms {
    fn child(&self, child: ChildId) -> String;
    fn person(&self, person: &PersonId) -> String;
    fn centre(&self, centre: &CentreId) -> String;
    /// An organisation named in free text (a school, a provider), normalised by the caller.
    fn organisation(&self, name: &str) -> String;
    /// The child's date shift in days (the same for all of a child's dates).
    fn shift_days(&self, child: ChildId) -> i64;
}

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// Clinical time: what had happened by this date, as recorded at the known-at moment (the
    /// histories given are already cut at that moment).
    pub as_of: ClinicalDate,
    /// Centres with fewer exported children than this are pooled (`POOLED`).
    pub min_centre_size: usize,
    /// Whether the long table's `shifted_date` column is filled.
    pub shift_dates: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Real,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Integer => "integer",
            Kind::Real => "real",
        }
    }
}

/// One column of a table, with what the codebook says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub unit: &'static str,
    pub description: String,
    /// The closed list of values a text column takes (empty: free of a list, e.g. pseudonyms).
    pub codes: Vec<&'static str>,
}

fn col(name: &str, kind: Kind, unit: &'static str, description: &str) -> Column {
    Column {
        name: name.to_string(),
        kind,
        unit,
        description: description.to_string(),
        codes: Vec::new(),
    }
}

fn coded(name: &str, description: &str, codes: Vec<&'static str>) -> Column {
    Column {
        codes,
        ..col(name, Kind::Text, "code", description)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    Real(f64),
}

impl Value {
    fn text(s: impl Into<String>) -> Self {
        Value::Text(s.into())
    }
    fn opt_text(s: Option<impl Into<String>>) -> Self {
        s.map_or(Value::Null, |s| Value::Text(s.into()))
    }
    fn opt_int(i: Option<i64>) -> Self {
        i.map_or(Value::Null, Value::Integer)
    }
    fn opt_real(r: Option<f64>) -> Self {
        r.map_or(Value::Null, Value::Real)
    }

    /// As written in a CSV cell: empty for a missing value.
    pub fn to_cell(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Real(r) => r.to_string(),
        }
    }
}

/// A table of the export: its file name (without extension), what a row is, its columns and rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: &'static str,
    pub row: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

/// Every table of an export, in the order they are written.
#[derive(Clone, Debug, PartialEq)]
pub struct ResearchExport {
    pub long: Table,
    pub wide: Table,
    pub states: Table,
    pub time_to_event: Table,
    pub cohort: Table,
    /// Children with a file at the known-at moment, opened by the as-of date.
    pub children_considered: usize,
    /// Children exported (research consent in force on the as-of date).
    pub children_exported: usize,
}

impl ResearchExport {
    pub fn tables(&self) -> [&Table; 5] {
        [
            &self.long,
            &self.wide,
            &self.states,
            &self.time_to_event,
            &self.cohort,
        ]
    }
}

/// Whether the child's research consent was in force on `as_of`, as the history given records it.
pub fn research_consent_on(history: &ChildHistory, as_of: ClinicalDate) -> bool {
    history
        .lifecycle(Some(as_of))
        .consents
        .contains_key(&ConsentScope::Research)
}

/// One exported child, with what every table needs.
struct Case<'a> {
    child: String,
    centre: String,
    birth: Option<ClinicalDate>,
    opened: ClinicalDate,
    shift: i64,
    entries: Vec<Entry<'a>>,
    lifecycle: Lifecycle,
    trajectory: Trajectory,
}

impl Case<'_> {
    fn age(&self, on: ClinicalDate) -> Option<i64> {
        self.birth.map(|b| b.days_until(on))
    }
    fn since_opening(&self, on: ClinicalDate) -> i64 {
        self.opened.days_until(on)
    }
}

/// The export: the children of `histories` whose research consent was in force on the as-of
/// date, in every shape, rows sorted by pseudonym then time.
pub fn research_export(
    histories: &[ChildHistory],
    options: ExportOptions,
    pseudonyms: &dyn Pseudonyms,
) -> ResearchExport {
    let as_of = options.as_of;
    let mut considered = 0;
    let mut cases: Vec<Case<'_>> = Vec::new();
    let mut centres: Vec<Option<CentreId>> = Vec::new();
    for history in histories {
        let lifecycle = history.lifecycle(Some(as_of));
        let (Some(id), Some(opened)) = (history.child_id(), lifecycle.opened_on) else {
            continue;
        };
        considered += 1;
        if !lifecycle.consents.contains_key(&ConsentScope::Research) {
            continue;
        }
        centres.push(lifecycle.centre.clone());
        cases.push(Case {
            child: pseudonyms.child(id),
            centre: String::new(),
            birth: lifecycle
                .birth_date
                .as_ref()
                .and_then(|b| b.known().copied()),
            opened,
            shift: pseudonyms.shift_days(id),
            entries: history.entries_as_of(Some(as_of)),
            trajectory: Trajectory::from_history(history, Some(as_of)),
            lifecycle,
        });
    }
    let mut sizes: HashMap<&CentreId, usize> = HashMap::new();
    for centre in centres.iter().flatten() {
        *sizes.entry(centre).or_default() += 1;
    }
    let labels: Vec<String> = centres
        .iter()
        .map(|c| match c {
            Some(c) if sizes[c] >= options.min_centre_size => pseudonyms.centre(c),
            _ => POOLED.to_string(),
        })
        .collect();
    for (case, label) in cases.iter_mut().zip(labels) {
        case.centre = label;
    }
    cases.sort_by(|a, b| a.child.cmp(&b.child));

    ResearchExport {
        long: long_table(&cases, options, pseudonyms),
        wide: wide_table(&cases, as_of),
        states: state_table(&cases, as_of),
        time_to_event: time_to_event_table(&cases, as_of),
        cohort: cohort_table(&cases),
        children_considered: considered,
        children_exported: cases.len(),
    }
}

fn words<T: Copy>(all: &[T], word: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| word(*v)).collect()
}

fn event_types() -> Vec<&'static str> {
    CATALOGUE
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| *name != "EntryCorrected")
        .collect()
}

/// The code an entry carries in the long table's `code` column, by event type, with its list.
pub fn code_lists() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "ChildFileOpened",
            "who made the request",
            words(ReferralSource::ALL, ReferralSource::as_str),
        ),
        (
            "InitialAssessmentCompleted",
            "the decision",
            vec!["accepted", "redirected", "waiting"],
        ),
        (
            "AssessmentMeetingHeld",
            "the kind of meeting",
            words(MeetingKind::ALL, MeetingKind::as_str),
        ),
        (
            "GoalProgressRecorded",
            "the goal's status",
            words(GoalStatus::ALL, GoalStatus::as_str),
        ),
        (
            "ServiceStarted",
            "the kind of service",
            words(ServiceKind::ALL, ServiceKind::as_str),
        ),
        (
            "ServiceEnded",
            "why it ended",
            words(ServiceEndReason::ALL, ServiceEndReason::as_str),
        ),
        (
            "ReferralMade",
            "the external resource",
            words(ExternalResource::ALL, ExternalResource::as_str),
        ),
        (
            "ReferralOutcomeRecorded",
            "the outcome",
            words(ReferralOutcome::ALL, ReferralOutcome::as_str),
        ),
        (
            "LegalInterventionOpened",
            "the area of law",
            words(LegalArea::ALL, LegalArea::as_str),
        ),
        (
            "LegalInterventionConcluded",
            "the outcome",
            words(LegalOutcome::ALL, LegalOutcome::as_str),
        ),
        (
            "RightsConcernRaised",
            "the right concerned",
            words(ChildRight::ALL, ChildRight::as_str),
        ),
        (
            "RightsConcernResolved",
            "how it was settled",
            words(RightsResolution::ALL, RightsResolution::as_str),
        ),
        (
            "FamilyContactRecorded",
            "how the centre was in touch",
            words(ContactMode::ALL, ContactMode::as_str),
        ),
        (
            "CircleMemberAdded",
            "the member's relation to the child",
            words(Relation::ALL, Relation::as_str),
        ),
        (
            "DevelopmentalScreeningRecorded",
            "the instrument",
            words(ScreeningInstrument::ALL, ScreeningInstrument::as_str),
        ),
        (
            "ConsentGiven",
            "the scope",
            words(ConsentScope::ALL, ConsentScope::as_str),
        ),
        (
            "ConsentWithdrawn",
            "the scope",
            words(ConsentScope::ALL, ConsentScope::as_str),
        ),
        (
            "FileClosed",
            "why the period of care ended",
            words(ClosureReason::ALL, ClosureReason::as_str),
        ),
        (
            "FileReopened",
            "who made the new request",
            words(ReferralSource::ALL, ReferralSource::as_str),
        ),
        (
            "IdentityErased",
            "why the identifying data was erased",
            words(ErasureReason::ALL, ErasureReason::as_str),
        ),
    ]
}

fn common_columns() -> Vec<Column> {
    vec![
        col(
            "child",
            Kind::Text,
            "pseudonym",
            "the child, under this study's pseudonym (the same in every file of the study)",
        ),
        col(
            "centre",
            Kind::Text,
            "pseudonym",
            "the centre responsible for the file on the as-of date, under this study's pseudonym, \
             or `pooled` when fewer children of that centre were exported than the threshold \
             recorded in the manifest",
        ),
    ]
}

/// Numbers a child's goals, referrals, services, matters, concerns and circle members in the
/// order they first appear (G1, R1, S1, L1, C1, M1): ids that mean nothing outside the file.
#[derive(Default)]
struct Items(BTreeMap<String, usize>, HashMap<char, usize>);

impl Items {
    fn of(&mut self, prefix: char, id: impl std::fmt::Display) -> String {
        let key = format!("{prefix}{id}");
        let next = self.1.entry(prefix).or_default();
        let n = *self.0.entry(key).or_insert_with(|| {
            *next += 1;
            *next
        });
        format!("{prefix}{n}")
    }
}

/// Lower-case words separated by single spaces: "CLSC  du Nord" and "clsc du nord" are one
/// organisation.
fn normalised(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Coded {
    domain: Option<&'static str>,
    code: Option<&'static str>,
    item: Option<String>,
    count: Option<i64>,
    organisation: Option<String>,
}

fn coded_entry(
    event: &ChildEvent,
    goal_domains: &HashMap<GoalId, NeedDomain>,
    items: &mut Items,
    pseudonyms: &dyn Pseudonyms,
) -> Coded {
    use ChildEvent::*;
    let org = |name: &Option<Identifying<String>>| {
        name.as_ref()
            .and_then(|n| n.known())
            .map(|n| normalised(n))
            .filter(|n| !n.is_empty())
            .map(|n| pseudonyms.organisation(&n))
    };
    let mut c = Coded {
        domain: None,
        code: None,
        item: None,
        count: None,
        organisation: None,
    };
    match event {
        ChildFileOpened(e) => {
            c.code = Some(e.request.source.as_str());
            c.organisation = org(&e.request.source_detail);
        }
        FileReopened(e) => {
            c.code = Some(e.request.source.as_str());
            c.organisation = org(&e.request.source_detail);
        }
        InitialAssessmentCompleted(e) => c.code = Some(e.decision.word()),
        AssessmentMeetingHeld(e) => {
            c.code = Some(e.kind.as_str());
            c.count = Some(
                e.needs
                    .iter()
                    .filter(|n| n.level >= NeedLevel::Moderate)
                    .count() as i64,
            );
        }
        ActionPlanAdopted(e) | ActionPlanRevised(e) => {
            for g in &e.goals {
                items.of('G', g.goal_id);
            }
            c.count = Some(e.goals.len() as i64);
        }
        GoalProgressRecorded(e) => {
            c.code = Some(e.status.as_str());
            c.domain = goal_domains.get(&e.goal_id).map(|d| d.as_str());
            c.item = Some(items.of('G', e.goal_id));
        }
        ServiceStarted(e) => {
            c.code = Some(e.kind.as_str());
            c.item = Some(items.of('S', e.service_id));
            c.organisation = org(&e.provider_name);
        }
        ServiceEnded(e) => {
            c.code = Some(e.reason.as_str());
            c.item = Some(items.of('S', e.service_id));
        }
        ReferralMade(e) => {
            c.code = Some(e.resource.as_str());
            c.item = Some(items.of('R', e.referral_id));
            c.organisation = org(&e.organisation);
        }
        ReferralOutcomeRecorded(e) => {
            c.code = Some(e.outcome.as_str());
            c.item = Some(items.of('R', e.referral_id));
        }
        LegalInterventionOpened(e) => {
            c.code = Some(e.area.as_str());
            c.item = Some(items.of('L', e.matter_id));
        }
        LegalInterventionConcluded(e) => {
            c.code = Some(e.outcome.as_str());
            c.item = Some(items.of('L', e.matter_id));
        }
        RightsConcernRaised(e) => {
            c.code = Some(e.right.as_str());
            c.item = Some(items.of('C', e.concern_id));
            c.count = Some(e.articles.len() as i64);
        }
        RightsConcernResolved(e) => {
            c.code = Some(e.resolution.as_str());
            c.item = Some(items.of('C', e.concern_id));
        }
        FamilyContactRecorded(e) => c.code = Some(e.mode.as_str()),
        CircleMemberAdded(e) => {
            c.code = Some(e.relation.as_str());
            c.item = Some(items.of('M', e.member_id));
        }
        CircleMemberLeft(e) => c.item = Some(items.of('M', e.member_id)),
        DevelopmentalScreeningRecorded(e) => {
            c.code = Some(e.instrument.as_str());
            c.count = Some(e.results.len() as i64);
        }
        ConsentGiven(e) => c.code = Some(e.scope.as_str()),
        ConsentWithdrawn(e) => c.code = Some(e.scope.as_str()),
        FileClosed(e) => c.code = Some(e.reason.as_str()),
        IdentityErased(e) => c.code = Some(e.reason.as_str()),
        FileTransferred(_) | EntryCorrected(_) => {}
    }
    c
}

fn long_table(cases: &[Case<'_>], options: ExportOptions, pseudonyms: &dyn Pseudonyms) -> Table {
    let mut columns = common_columns();
    columns.extend([
        col("entry", Kind::Integer, "number", "the entry's number in the child's file (1, 2, 3... in the order recorded; a corrected entry keeps its number and shows its corrected values; corrections themselves have no row)"),
        coded("event_type", "the kind of entry", event_types()),
        col("age_days", Kind::Integer, "days", "the child's age on the entry's date (empty when the birth date was erased)"),
        col("days_since_opening", Kind::Integer, "days", "days from the file's opening to the entry's date"),
        col("shifted_date", Kind::Text, "date (YYYY-MM-DD), shifted", "the entry's date moved by the child's own shift (the same for all of a child's entries, so intervals are kept); empty unless the export was made with --shift-dates"),
        coded("recorder_role", "the role of the member of staff who recorded the entry", words(StaffRole::ALL, StaffRole::as_str)),
        col("recorded_by", Kind::Text, "pseudonym", "the member of staff who recorded the entry, under this study's pseudonym"),
        coded("domain", "the need domain of the goal a progress entry is about", words(NeedDomain::ALL, NeedDomain::as_str)),
        col("code", Kind::Text, "code", "the entry's main coded value; its list depends on event_type (see the code lists)"),
        col("item", Kind::Text, "label", "what the entry is about within the child's file: G goal, R referral, S service, L legal matter, C rights concern, M circle member, numbered in the order they first appear (G1, G2...)"),
        col("count", Kind::Integer, "number", "AssessmentMeetingHeld: needs rated moderate or severe; ActionPlanAdopted/Revised: goals in the version; RightsConcernRaised: articles named; DevelopmentalScreeningRecorded: domains screened"),
        col("organisation", Kind::Text, "pseudonym", "the organisation named (the requester on an opening or reopening, the provider of a service, the organisation of a referral), under this study's pseudonym; names are compared in lower case with single spaces"),
    ]);
    let mut rows = Vec::new();
    for case in cases {
        let goal_domains: HashMap<GoalId, NeedDomain> = case
            .trajectory
            .goals
            .iter()
            .map(|g| (g.goal_id, g.domain))
            .collect();
        let mut items = Items::default();
        // Number items in clinical order, the order the long table lists them in.
        for entry in &case.entries {
            let on = entry.occurred_on();
            let c = coded_entry(entry.event, &goal_domains, &mut items, pseudonyms);
            let recorder = &entry.stored.metadata.recorded_by;
            rows.push(vec![
                Value::text(&case.child),
                Value::text(&case.centre),
                Value::Integer(entry.sequence() as i64),
                Value::text(entry.event.event_type()),
                Value::opt_int(case.age(on)),
                Value::Integer(case.since_opening(on)),
                Value::opt_text(
                    options
                        .shift_dates
                        .then(|| on.plus_days(case.shift).to_string()),
                ),
                Value::text(recorder.role.as_str()),
                Value::text(pseudonyms.person(&recorder.person)),
                Value::opt_text(c.domain),
                Value::opt_text(c.code),
                Value::opt_text(c.item),
                Value::opt_int(c.count),
                Value::opt_text(c.organisation),
            ]);
        }
    }
    Table {
        name: "long",
        row: "one row per entry of the file, as it counts now (corrections applied; entries entered in error left out), in the order they happened",
        columns,
        rows,
    }
}

fn stage_word(stage: Stage) -> &'static str {
    match stage {
        Stage::NotOpened => "not_opened",
        Stage::AwaitingAssessment => "awaiting_assessment",
        Stage::AwaitingDecision => "awaiting_decision",
        Stage::Active => "active",
        Stage::Redirected => "redirected",
        Stage::Closed => "closed",
    }
}

const STAGES: &[&str] = &[
    "awaiting_assessment",
    "awaiting_decision",
    "active",
    "redirected",
    "closed",
];

/// The first plan version's date, if any.
fn first_plan_on(t: &Trajectory) -> Option<ClinicalDate> {
    t.plans.iter().map(|p| p.adopted_on).min()
}

fn first_meeting_on(t: &Trajectory) -> Option<ClinicalDate> {
    t.meetings.iter().map(|m| m.occurred_on).min()
}

fn achieved_on(progress: &[(ClinicalDate, GoalStatus)]) -> Option<ClinicalDate> {
    progress
        .iter()
        .find(|(_, s)| *s == GoalStatus::Achieved)
        .map(|(d, _)| *d)
}

fn wide_table(cases: &[Case<'_>], as_of: ClinicalDate) -> Table {
    let levels = words(NeedLevel::ALL, NeedLevel::as_str);
    let mut columns = common_columns();
    columns.extend([
        col("age_days_at_opening", Kind::Integer, "days", "the child's age when the file was opened (empty when the birth date was erased)"),
        col("days_open", Kind::Integer, "days", "days from the file's opening to the as-of date"),
        coded("stage", "where the file stood on the as-of date", STAGES.to_vec()),
        coded("closure_reason", "why the latest period of care ended, when the file was closed on the as-of date", words(ClosureReason::ALL, ClosureReason::as_str)),
        col("periods", Kind::Integer, "number", "periods of care (the opening, and each reopening)"),
        col("days_request_to_assessment", Kind::Integer, "days", "first period: from the request to the initial assessment (empty: not assessed by the as-of date)"),
        col("days_request_to_first_meeting", Kind::Integer, "days", "first period: from the request to the first assessment meeting (empty: none)"),
        col("days_meeting_to_plan", Kind::Integer, "days", "from the first meeting to the first action plan (empty: none)"),
        col("meetings", Kind::Integer, "number", "assessment meetings held"),
        col("plan_versions", Kind::Integer, "number", "action plan versions (adopted or revised)"),
        col("goals", Kind::Integer, "number", "goals ever set in a plan"),
        col("goals_achieved", Kind::Integer, "number", "goals recorded achieved"),
        col("goals_abandoned", Kind::Integer, "number", "goals left out of a later plan version without being achieved or replaced, or recorded abandoned"),
        col("referrals", Kind::Integer, "number", "referrals to external resources"),
        col("referrals_seen", Kind::Integer, "number", "referrals whose final outcome is `seen`"),
        col("referrals_concluded", Kind::Integer, "number", "referrals with a final outcome (seen, refused, no_show, lost)"),
        col("services", Kind::Integer, "number", "services started"),
        col("family_contacts", Kind::Integer, "number", "contacts with the family between meetings"),
        col("legal_matters", Kind::Integer, "number", "legal interventions opened"),
        col("rights_concerns", Kind::Integer, "number", "rights concerns raised"),
    ]);
    for (when, what) in [("first", "first"), ("last", "latest")] {
        for domain in NeedDomain::ALL {
            columns.push(Column {
                codes: levels.clone(),
                ..col(
                    &format!("need_{when}_{}", domain.as_str()),
                    Kind::Text,
                    "code",
                    &format!("the level of need in {} at the {what} meeting (empty: not rated, or no meeting)", domain.as_str()),
                )
            });
        }
    }
    let mut rows = Vec::new();
    for case in cases {
        let t = &case.trajectory;
        let lc = &case.lifecycle;
        let first = lc.periods.first();
        let days = |from: Option<ClinicalDate>, to: Option<ClinicalDate>| match (from, to) {
            (Some(a), Some(b)) => Value::Integer(a.days_until(b)),
            _ => Value::Null,
        };
        let count_contacts = case
            .entries
            .iter()
            .filter(|e| matches!(e.event, ChildEvent::FamilyContactRecorded(_)))
            .count();
        let mut row = vec![
            Value::text(&case.child),
            Value::text(&case.centre),
            Value::opt_int(case.age(case.opened)),
            Value::Integer(case.since_opening(as_of)),
            Value::text(stage_word(lc.stage)),
            Value::opt_text(
                (lc.stage == Stage::Closed)
                    .then(|| lc.periods.last().and_then(|p| p.closure_reason))
                    .flatten()
                    .map(|r| r.as_str()),
            ),
            Value::Integer(lc.periods.len() as i64),
            days(
                first.map(|p| p.requested_on),
                first.and_then(|p| p.assessed_on),
            ),
            days(
                first.map(|p| p.requested_on),
                first.and_then(|p| p.first_meeting_on),
            ),
            days(first_meeting_on(t), first_plan_on(t)),
            Value::Integer(t.meetings.len() as i64),
            Value::Integer(t.plans.len() as i64),
            Value::Integer(t.goals.len() as i64),
            Value::Integer(
                t.goals
                    .iter()
                    .filter(|g| achieved_on(&g.progress).is_some())
                    .count() as i64,
            ),
            Value::Integer(
                t.goals
                    .iter()
                    .filter(|g| g.fate == GoalFate::Abandoned)
                    .count() as i64,
            ),
            Value::Integer(t.referrals.len() as i64),
            Value::Integer(
                t.referrals
                    .iter()
                    .filter(|r| r.final_outcome == Some(ReferralOutcome::Seen))
                    .count() as i64,
            ),
            Value::Integer(
                t.referrals
                    .iter()
                    .filter(|r| r.final_outcome.is_some())
                    .count() as i64,
            ),
            Value::Integer(t.services.len() as i64),
            Value::Integer(count_contacts as i64),
            Value::Integer(t.legal_matters.len() as i64),
            Value::Integer(t.rights_concerns.len() as i64),
        ];
        let mut meetings: Vec<_> = t.meetings.iter().collect();
        meetings.sort_by_key(|m| (m.occurred_on, m.meeting_number));
        for meeting in [meetings.first(), meetings.last()] {
            for domain in NeedDomain::ALL {
                row.push(Value::opt_text(meeting.and_then(|m| {
                    m.needs
                        .iter()
                        .find(|n| n.domain == *domain)
                        .map(|n| n.level.as_str())
                })));
            }
        }
        rows.push(row);
    }
    Table {
        name: "wide",
        row: "one row per child: delays of the first steps, counts, outcomes and needs at the first and latest meetings, on the as-of date",
        columns,
        rows,
    }
}

/// The states of the state sequences.
pub const STATES: &[(&str, &str)] = &[
    ("waiting", "a request received, not yet assessed or decided"),
    (
        "accepted",
        "the request accepted, no action plan in force yet",
    ),
    ("active_with_plan", "followed, with an action plan in force"),
    ("redirected", "the request sent to a better-placed service"),
    (
        "between_periods",
        "the file closed, and reopened later (by the as-of date)",
    ),
    (
        "closed",
        "the file closed, and not reopened by the as-of date",
    ),
];

/// The state on `on`, from the lifecycle of the entries up to that day.
fn state_on(
    lc: &Lifecycle,
    case: &Case<'_>,
    on: ClinicalDate,
    as_of: ClinicalDate,
) -> &'static str {
    match lc.stage {
        Stage::NotOpened | Stage::AwaitingAssessment | Stage::AwaitingDecision => "waiting",
        Stage::Active if lc.plan.is_some() => "active_with_plan",
        Stage::Active => "accepted",
        Stage::Redirected => "redirected",
        Stage::Closed => {
            let reopened = case.entries.iter().any(|e| {
                matches!(e.event, ChildEvent::FileReopened(_))
                    && e.occurred_on() > on
                    && e.occurred_on() <= as_of
            });
            if reopened {
                "between_periods"
            } else {
                "closed"
            }
        }
    }
}

fn state_table(cases: &[Case<'_>], as_of: ClinicalDate) -> Table {
    let mut columns = common_columns();
    columns.extend([
        col("month", Kind::Integer, "months", "months since the file was opened: month 0 runs from the opening day to the day before the same day a month later"),
        col("days_since_opening", Kind::Integer, "days", "the day the state is read: the month's last day, or the as-of date for the month it falls in"),
        coded("state", "the child's state on that day", STATES.iter().map(|(s, _)| *s).collect()),
    ]);
    let mut rows = Vec::new();
    for case in cases {
        // The lifecycle on each month's last day, folded on from the previous month's: the
        // entries are in clinical order, as `ChildHistory::lifecycle` folds them.
        let mut lifecycle = Lifecycle::default();
        let mut next = case.entries.iter().peekable();
        let mut month = 0u32;
        while case.opened.plus_months(month) <= as_of {
            let end = case.opened.plus_months(month + 1).plus_days(-1).min(as_of);
            while let Some(entry) = next.next_if(|e| e.occurred_on() <= end) {
                lifecycle.apply(entry.event);
            }
            rows.push(vec![
                Value::text(&case.child),
                Value::text(&case.centre),
                Value::Integer(i64::from(month)),
                Value::Integer(case.since_opening(end)),
                Value::text(state_on(&lifecycle, case, end, as_of)),
            ]);
            month += 1;
        }
    }
    Table {
        name: "states",
        row: "one row per child per month from the file's opening to the as-of date, with the child's state at the month's end",
        columns,
        rows,
    }
}

/// The outcomes of the time-to-event table, in their order.
pub const OUTCOMES: &[(&str, &str)] = &[
    ("initial_assessment", "the request assessed; from the opening; censored at the end of the first period of care, or the as-of date"),
    ("first_meeting", "the first assessment meeting; from the opening; censored at the end of the first period of care, or the as-of date"),
    ("first_plan", "the first action plan; from the opening; censored at the end of the first period of care, or the as-of date"),
    ("closure", "the first closure of the file; from the opening; censored at the as-of date"),
    ("referral_outcome", "a referral's final outcome (detail: which); from the referral; censored at the as-of date"),
    ("goal_achieved", "a goal recorded achieved; from the plan version that first set it; censored when it left the plan otherwise (detail: its fate), or at the as-of date"),
];

fn goal_fate_word(fate: GoalFate) -> &'static str {
    match fate {
        GoalFate::InPlan => "in_plan",
        GoalFate::CarriedForward => "carried_forward",
        GoalFate::Achieved => "achieved",
        GoalFate::Replaced => "replaced",
        GoalFate::Abandoned => "abandoned",
        GoalFate::EndedByClosure => "ended_by_closure",
    }
}

fn time_to_event_table(cases: &[Case<'_>], as_of: ClinicalDate) -> Table {
    let mut columns = common_columns();
    let mut details = words(ReferralOutcome::ALL, ReferralOutcome::as_str);
    details.extend([
        "in_plan",
        "carried_forward",
        "achieved",
        "replaced",
        "abandoned",
        "ended_by_closure",
    ]);
    details.sort_unstable();
    details.dedup();
    columns.extend([
        coded("outcome", "the event of interest (see the outcome list for where its clock starts and when it is censored)", OUTCOMES.iter().map(|(o, _)| *o).collect()),
        col("item", Kind::Text, "label", "the referral (R1...) or goal (G1...) the row is about, numbered as in the long table"),
        col("duration_days", Kind::Integer, "days", "days from the clock's start to the event, or to censoring"),
        col("event", Kind::Integer, "0 or 1", "1: the event happened on day duration_days; 0: censored then"),
        coded("detail", "referral_outcome: the final outcome (`waiting` when censored with an interim outcome); goal_achieved: the goal's fate", details),
    ]);
    let mut rows = Vec::new();
    for case in cases {
        let t = &case.trajectory;
        let first = case.lifecycle.periods.first();
        let first_end = first.and_then(|p| p.closed_on).unwrap_or(as_of).min(as_of);
        let mut push = |outcome: &str,
                        item: Option<String>,
                        start: ClinicalDate,
                        happened: Option<ClinicalDate>,
                        censor: ClinicalDate,
                        detail: Option<&str>| {
            let (end, event) = match happened {
                Some(on) if on <= as_of => (on, 1),
                _ => (censor, 0),
            };
            rows.push(vec![
                Value::text(&case.child),
                Value::text(&case.centre),
                Value::text(outcome),
                Value::opt_text(item),
                Value::Integer(start.days_until(end)),
                Value::Integer(event),
                Value::opt_text(detail.map(str::to_string)),
            ]);
        };
        let opened = case.opened;
        push(
            "initial_assessment",
            None,
            opened,
            first.and_then(|p| p.assessed_on),
            first_end,
            None,
        );
        push(
            "first_meeting",
            None,
            opened,
            first_meeting_on(t),
            first_end,
            None,
        );
        push(
            "first_plan",
            None,
            opened,
            first_plan_on(t),
            first_end,
            None,
        );
        push(
            "closure",
            None,
            opened,
            first.and_then(|p| p.closed_on),
            as_of,
            None,
        );
        // Items numbered as in the long table: in clinical order of first appearance.
        let mut items = item_labels(case);
        let mut referrals: Vec<_> = t
            .referrals
            .iter()
            .map(|r| (items.of('R', r.referral_id), r))
            .collect();
        referrals.sort_by_key(|(label, _)| label_number(label));
        for (label, r) in referrals {
            let concluded = r.concluded_on();
            let detail = match concluded {
                Some(_) => r.final_outcome.map(|o| o.as_str()),
                None => r.latest().map(|(_, o)| o.as_str()),
            };
            push(
                "referral_outcome",
                Some(label),
                r.made_on,
                concluded,
                as_of,
                detail,
            );
        }
        let mut goals: Vec<_> = t
            .goals
            .iter()
            .map(|g| (items.of('G', g.goal_id), g))
            .collect();
        goals.sort_by_key(|(label, _)| label_number(label));
        for (label, g) in goals {
            let Some(set_on) = case.lifecycle.goals_ever.get(&g.goal_id).copied() else {
                continue;
            };
            let censor = g.fate_on.unwrap_or(as_of).min(as_of);
            push(
                "goal_achieved",
                Some(label),
                set_on,
                achieved_on(&g.progress),
                censor,
                Some(goal_fate_word(g.fate)),
            );
        }
    }
    Table {
        name: "time_to_event",
        row: "one row per child per outcome of interest (one per referral and per goal), with the time to the event or to censoring at the as-of date",
        columns,
        rows,
    }
}

/// The child's items numbered as the long table numbers them.
fn item_labels(case: &Case<'_>) -> Items {
    let mut items = Items::default();
    let no_domains = HashMap::new();
    for entry in &case.entries {
        coded_entry(entry.event, &no_domains, &mut items, &NoPseudonyms);
    }
    items
}

/// The number of an item label (`R12` is 12).
fn label_number(label: &str) -> u64 {
    label.get(1..).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Pseudonyms that are never shown: for numbering items the same way twice.
struct NoPseudonyms;

impl Pseudonyms for NoPseudonyms {
    fn child(&self, _: ChildId) -> String {
        String::new()
    }
    fn person(&self, _: &PersonId) -> String {
        String::new()
    }
    fn centre(&self, _: &CentreId) -> String {
        String::new()
    }
    fn organisation(&self, _: &str) -> String {
        String::new()
    }
    fn shift_days(&self, _: ChildId) -> i64 {
        0
    }
}

/// Median and quartiles (linear interpolation between order statistics, as R's default
/// `quantile(type = 7)` and NumPy's default), over `values`.
pub fn quartiles(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = (v.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(v.len() - 1);
        v[lo] + (h - lo as f64) * (v[hi] - v[lo])
    };
    Some((q(0.25), q(0.5), q(0.75)))
}

/// One cohort measure: a distribution (median, quartiles, cases) or a share (count of cases).
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub measure: &'static str,
    pub group: String,
    pub meeting: Option<u32>,
    pub cases: usize,
    pub median: Option<f64>,
    pub q1: Option<f64>,
    pub q3: Option<f64>,
    pub count: Option<usize>,
    pub share: Option<f64>,
}

impl Measure {
    fn distribution(
        measure: &'static str,
        group: &str,
        meeting: Option<u32>,
        values: &[f64],
    ) -> Self {
        let q = quartiles(values);
        Self {
            measure,
            group: group.to_string(),
            meeting,
            cases: values.len(),
            median: q.map(|q| q.1),
            q1: q.map(|q| q.0),
            q3: q.map(|q| q.2),
            count: None,
            share: None,
        }
    }

    fn share(measure: &'static str, group: &str, count: usize, of: usize) -> Self {
        Self {
            measure,
            group: group.to_string(),
            meeting: None,
            cases: of,
            median: None,
            q1: None,
            q3: None,
            count: Some(count),
            share: (of > 0).then(|| count as f64 / of as f64),
        }
    }
}

/// The cohort measures, in their order.
pub const MEASURES: &[(&str, &str)] = &[
    ("request_to_assessment", "days from the request to the initial assessment (first period of care)"),
    ("request_to_first_meeting", "days from the request to the first assessment meeting (first period of care)"),
    ("meeting_to_plan", "days from the first meeting to the first action plan"),
    ("referral_completion", "share of referrals, by resource, whose final outcome is `seen`; cases: referrals made"),
    ("referral_time_to_outcome", "days from a referral to its final outcome, by resource, over referrals with one"),
    ("goal_attainment", "share of goals, by need domain, recorded achieved; cases: goals set"),
    ("reassessment_interval", "days between successive assessment meetings of a child"),
    ("need_level", "the level of need by domain at a child's n-th meeting (column meeting), scored 0 no_concern, 1 mild, 2 moderate, 3 severe"),
];

fn need_score(level: NeedLevel) -> f64 {
    NeedLevel::ALL.iter().position(|l| *l == level).unwrap_or(0) as f64
}

fn measures_of(cases: &[Case<'_>]) -> Vec<Measure> {
    let mut to_assessment = Vec::new();
    let mut to_meeting = Vec::new();
    let mut to_plan = Vec::new();
    let mut intervals = Vec::new();
    let mut referrals: BTreeMap<ExternalResource, (usize, usize, Vec<f64>)> = BTreeMap::new();
    let mut goals: BTreeMap<NeedDomain, (usize, usize)> = BTreeMap::new();
    let mut needs: BTreeMap<(u32, NeedDomain), Vec<f64>> = BTreeMap::new();
    for case in cases {
        let t = &case.trajectory;
        if let Some(p) = case.lifecycle.periods.first() {
            if let Some(on) = p.assessed_on {
                to_assessment.push(p.requested_on.days_until(on) as f64);
            }
            if let Some(on) = p.first_meeting_on {
                to_meeting.push(p.requested_on.days_until(on) as f64);
            }
        }
        if let (Some(m), Some(p)) = (first_meeting_on(t), first_plan_on(t)) {
            to_plan.push(m.days_until(p) as f64);
        }
        let mut meetings: Vec<_> = t.meetings.iter().collect();
        meetings.sort_by_key(|m| (m.occurred_on, m.meeting_number));
        for pair in meetings.windows(2) {
            intervals.push(pair[0].occurred_on.days_until(pair[1].occurred_on) as f64);
        }
        for (n, m) in meetings.iter().enumerate() {
            for need in &m.needs {
                needs
                    .entry((n as u32 + 1, need.domain))
                    .or_default()
                    .push(need_score(need.level));
            }
        }
        for r in &t.referrals {
            let e = referrals.entry(r.resource).or_default();
            e.0 += 1;
            if r.final_outcome == Some(ReferralOutcome::Seen) {
                e.1 += 1;
            }
            if let Some(on) = r.concluded_on() {
                e.2.push(r.made_on.days_until(on) as f64);
            }
        }
        for g in &t.goals {
            let e = goals.entry(g.domain).or_default();
            e.0 += 1;
            if achieved_on(&g.progress).is_some() {
                e.1 += 1;
            }
        }
    }
    let mut out = vec![
        Measure::distribution("request_to_assessment", "all", None, &to_assessment),
        Measure::distribution("request_to_first_meeting", "all", None, &to_meeting),
        Measure::distribution("meeting_to_plan", "all", None, &to_plan),
    ];
    for (resource, (made, seen, _)) in &referrals {
        out.push(Measure::share(
            "referral_completion",
            resource.as_str(),
            *seen,
            *made,
        ));
    }
    for (resource, (_, _, days)) in &referrals {
        out.push(Measure::distribution(
            "referral_time_to_outcome",
            resource.as_str(),
            None,
            days,
        ));
    }
    for (domain, (set, achieved)) in &goals {
        out.push(Measure::share(
            "goal_attainment",
            domain.as_str(),
            *achieved,
            *set,
        ));
    }
    out.push(Measure::distribution(
        "reassessment_interval",
        "all",
        None,
        &intervals,
    ));
    for ((n, domain), scores) in &needs {
        out.push(Measure::distribution(
            "need_level",
            domain.as_str(),
            Some(*n),
            scores,
        ));
    }
    out
}

/// The cohort measures of the children whose research consent was in force on `as_of`.
pub fn cohort_measures(histories: &[ChildHistory], as_of: ClinicalDate) -> Vec<Measure> {
    measures_of(&consenting_cases(histories, as_of))
}

fn consenting_cases(histories: &[ChildHistory], as_of: ClinicalDate) -> Vec<Case<'_>> {
    histories
        .iter()
        .filter_map(|history| {
            let lifecycle = history.lifecycle(Some(as_of));
            history.child_id()?;
            let opened = lifecycle.opened_on?;
            lifecycle
                .consents
                .contains_key(&ConsentScope::Research)
                .then(|| Case {
                    child: String::new(),
                    centre: String::new(),
                    birth: None,
                    opened,
                    shift: 0,
                    entries: history.entries_as_of(Some(as_of)),
                    trajectory: Trajectory::from_history(history, Some(as_of)),
                    lifecycle,
                })
        })
        .collect()
}

fn cohort_table(cases: &[Case<'_>]) -> Table {
    let mut groups: Vec<&'static str> = vec!["all"];
    groups.extend(words(ExternalResource::ALL, ExternalResource::as_str));
    groups.extend(words(NeedDomain::ALL, NeedDomain::as_str));
    let columns = vec![
        coded("measure", "the measure (see the measure list)", MEASURES.iter().map(|(m, _)| *m).collect()),
        coded("group", "`all`, the external resource (referral measures) or the need domain (goal and need measures)", groups),
        col("meeting", Kind::Integer, "number", "need_level: the child's n-th meeting (1 the first)"),
        col("cases", Kind::Integer, "number", "how many values (or, for a share, how many cases) the row rests on"),
        col("median", Kind::Real, "days, or need score", "the median"),
        col("q1", Kind::Real, "days, or need score", "the first quartile (linear interpolation, as R's quantile type 7)"),
        col("q3", Kind::Real, "days, or need score", "the third quartile"),
        col("count", Kind::Integer, "number", "for a share: the cases that count"),
        col("share", Kind::Real, "fraction 0-1", "for a share: count / cases"),
    ];
    let rows = measures_of(cases)
        .into_iter()
        .map(|m| {
            vec![
                Value::text(m.measure),
                Value::text(m.group),
                Value::opt_int(m.meeting.map(i64::from)),
                Value::Integer(m.cases as i64),
                Value::opt_real(m.median),
                Value::opt_real(m.q1),
                Value::opt_real(m.q3),
                Value::opt_int(m.count.map(|c| c as i64)),
                Value::opt_real(m.share),
            ]
        })
        .collect();
    Table {
        name: "cohort",
        row: "one row per cohort measure and group: medians with quartiles, or shares, over the exported children",
        columns,
        rows,
    }
}

/// The codebook as a table: one row per column of every table, then one per code list.
pub fn codebook(tables: &[&Table]) -> Table {
    let columns = vec![
        col("file", Kind::Text, "name", "the file (without extension)"),
        col(
            "column",
            Kind::Text,
            "name",
            "the column, or the list a code list belongs to",
        ),
        col("type", Kind::Text, "name", "text, integer or real"),
        col("unit", Kind::Text, "name", "what a value is counted in"),
        col("description", Kind::Text, "words", "what the column holds"),
        col(
            "codes",
            Kind::Text,
            "words",
            "the values a coded column takes, separated by `|`",
        ),
    ];
    let mut rows = Vec::new();
    for table in tables {
        for c in &table.columns {
            rows.push(vec![
                Value::text(table.name),
                Value::text(&c.name),
                Value::text(c.kind.as_str()),
                Value::text(c.unit),
                Value::text(&c.description),
                Value::text(c.codes.join("|")),
            ]);
        }
    }
    for (event_type, what, codes) in code_lists() {
        rows.push(vec![
            Value::text("long"),
            Value::text(format!("code when event_type = {event_type}")),
            Value::text("text"),
            Value::text("code"),
            Value::text(what),
            Value::text(codes.join("|")),
        ]);
    }
    for (list, entries) in [
        ("state", STATES),
        ("outcome", OUTCOMES),
        ("measure", MEASURES),
    ] {
        for (code, meaning) in entries {
            rows.push(vec![
                Value::text(match list {
                    "state" => "states",
                    "outcome" => "time_to_event",
                    _ => "cohort",
                }),
                Value::text(format!("{list} = {code}")),
                Value::text("text"),
                Value::text("code"),
                Value::text(*meaning),
                Value::text(*code),
            ]);
        }
    }
    Table {
        name: "codebook",
        row: "one row per column of every file, then one per code",
        columns,
        rows,
    }
}

/// The codebook in Markdown: each file's columns, then the code lists.
pub fn codebook_markdown(tables: &[&Table]) -> String {
    use std::fmt::Write as _;
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut md = String::from("# Codebook\n\nEach table is written as CSV or as Parquet (the export's format), with the same columns either way. Empty cells (nulls in Parquet) are missing values. Rows are sorted by child pseudonym, then in the order things happened. Days are whole days; no calendar date of the child's care is given (except `shifted_date`, when asked for).\n");
    for table in tables {
        let _ = write!(md, "\n## {}\n\n{}.\n\n| column | type | unit | description | codes |\n|---|---|---|---|---|\n", table.name, table.row);
        for c in &table.columns {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                cell(&c.name),
                c.kind.as_str(),
                cell(c.unit),
                cell(&c.description),
                cell(&c.codes.join(", "))
            );
        }
    }
    md.push_str("\n## Codes of `long.code`, by event type\n\n| event_type | what | codes |\n|---|---|---|\n");
    for (event_type, what, codes) in code_lists() {
        let _ = writeln!(md, "| {event_type} | {what} | {} |", codes.join(", "));
    }
    for (title, entries) in [
        ("States (`states.state`)", STATES),
        ("Outcomes (`time_to_event.outcome`)", OUTCOMES),
        ("Measures (`cohort.measure`)", MEASURES),
    ] {
        let _ = write!(md, "\n## {title}\n\n| code | meaning |\n|---|---|\n");
        for (code, meaning) in entries {
            let _ = writeln!(md, "| {code} | {} |", cell(meaning));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_like_r_type_7() {
        assert_eq!(quartiles(&[]), None);
        assert_eq!(quartiles(&[7.0]), Some((7.0, 7.0, 7.0)));
        // R: quantile(c(1, 2, 4, 10)) gives 1.75, 3, 5.5.
        assert_eq!(quartiles(&[10.0, 1.0, 4.0, 2.0]), Some((1.75, 3.0, 5.5)));
    }

    #[test]
    fn items_are_numbered_by_first_appearance_per_kind() {
        let mut items = Items::default();
        assert_eq!(items.of('R', "b"), "R1");
        assert_eq!(items.of('G', "b"), "G1");
        assert_eq!(items.of('R', "a"), "R2");
        assert_eq!(items.of('R', "b"), "R1");
        assert_eq!(label_number("R12"), 12);
    }

    #[test]
    fn organisation_names_are_compared_in_lower_case_with_single_spaces() {
        assert_eq!(normalised("  CLSC   du\tNord "), "clsc du nord");
    }

    #[test]
    fn every_code_list_names_a_catalogue_event_type() {
        for (event_type, _, codes) in code_lists() {
            assert!(current_schema_version(event_type).is_some(), "{event_type}");
            assert!(!codes.is_empty());
        }
    }
}
