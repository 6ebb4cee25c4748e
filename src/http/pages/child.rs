//! The child page, to prepare a reassessment: the summary, the current plan, the chart of needs
//! across meetings, the timeline, every plan version, referrals, legal and rights matters, the
//! meetings and who took part, corrections, and this child's open gaps — as of a date and as
//! known at a moment. One function per section, each over the `app` layer's typed views.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use lifecourse_events::*;
use lifecourse_projections::{ChildHistory, CurrentPlan, Gap, Trajectory};
use maud::{html, Markup};

use super::chart::needs_chart;
use super::labels::{self, labels, TIMELINE_KINDS};
use super::layout::page;
use super::worklist::subject_text;
use super::{
    app_error, bad_query, html_response, moment_text, parse_date, parse_moment, Fields, Viewer,
};
use crate::app::{file_number, App, AppError, ChildBrief, ErrorKind};

/// What the page is asked to show.
pub struct View {
    pub child: ChildId,
    pub as_of: Option<ClinicalDate>,
    pub known_at: Option<DateTime<Utc>>,
    pub kind: Option<String>,
}

impl View {
    /// The query string that keeps the as-of and known-at choices.
    fn keep(&self) -> Vec<(&'static str, String)> {
        let mut keep = vec![];
        if let Some(d) = self.as_of {
            keep.push(("as_of", d.to_string()));
        }
        if let Some(at) = &self.known_at {
            keep.push(("known_at", moment_text(at)));
        }
        keep
    }
}

/// Everything a clinician's child page shows, read through the `app` queries.
pub struct ChildPage {
    pub view: View,
    /// The date the page stands on: the as-of date, or today.
    pub on: ClinicalDate,
    pub brief: Option<ChildBrief>,
    pub plan: CurrentPlan,
    pub trajectory: Trajectory,
    pub gaps: Vec<Gap>,
    /// The stored entries (as known at the moment asked), for notes, names and corrections.
    pub history: ChildHistory,
    pub behind: bool,
}

/// GET /pages/children/{child_id}?as_of=&known_at=&kind=&recorded=
pub async fn show(viewer: Viewer, Path(child): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let chrome = viewer.chrome();
    let Ok(child) = child.parse::<ChildId>() else {
        return super::not_found(Some(&chrome));
    };
    let q = Fields::from_query(&raw);
    let view = match view_of(child, &q) {
        Ok(v) => v,
        Err(message) => return bad_query(Some(&chrome), message),
    };
    let recorded = q.get("recorded").is_some();
    let history = match viewer.app.history(child).await {
        Ok(h) => h,
        Err(e) => return app_error(Some(&chrome), e),
    };
    let trajectory = match viewer
        .app
        .trajectory(child, view.as_of, view.known_at)
        .await
    {
        Ok(t) => t,
        // A volunteer reads no plan or trajectory (clinical notes): only their own entries.
        Err(e) if e.kind() == ErrorKind::Forbidden => {
            let markup = own_entries_page(&view, &history.value, recorded);
            return html_response(
                StatusCode::OK,
                page(&file_number(child), Some(&chrome), markup),
            );
        }
        Err(e) => return app_error(Some(&chrome), e),
    };
    match load(&viewer.app, view, history.value, trajectory).await {
        Ok(data) => {
            let title = data
                .brief
                .as_ref()
                .map(|b| format!("{} {}", b.given_name.expose(), b.family_name.expose()))
                .unwrap_or_else(|| file_number(child));
            html_response(
                StatusCode::OK,
                page(&title, Some(&chrome), render(&data, recorded)),
            )
        }
        Err(e) => app_error(Some(&chrome), e),
    }
}

fn view_of(child: ChildId, q: &Fields) -> Result<View, String> {
    let kind = q.get("kind").map(str::to_string);
    if let Some(k) = &kind {
        if !TIMELINE_KINDS.iter().any(|(w, _)| w == k) {
            return Err(format!("kind: unknown kind of entry {k:?}"));
        }
    }
    Ok(View {
        child,
        as_of: parse_date("as_of", q.get("as_of"))?,
        known_at: parse_moment("known_at", q.get("known_at"))?,
        kind,
    })
}

async fn load(
    app: &App,
    view: View,
    entries: Vec<StoredEvent>,
    trajectory: crate::app::Answer<Trajectory>,
) -> Result<ChildPage, AppError> {
    let plan = app.plan(view.child, view.as_of, view.known_at).await?;
    let on = match view.as_of {
        Some(d) => d,
        None => app.today(plan.value.centre.as_ref()).await?,
    };
    let gaps = app.child_gaps(view.child, on, view.known_at).await?;
    let history = ChildHistory::from_events(entries);
    let history = match view.known_at {
        Some(at) => history.known_at(at),
        None => history,
    };
    let brief = ChildBrief::of(&history);
    Ok(ChildPage {
        behind: plan.freshness.behind > 0 || trajectory.freshness.behind > 0,
        view,
        on,
        brief,
        plan: plan.value,
        trajectory: trajectory.value,
        gaps,
        history,
    })
}

/// The whole page body of a clinician's view.
pub fn render(p: &ChildPage, recorded: bool) -> Markup {
    let l = labels();
    html! {
        @if recorded { p.notice role="status" { (l.recorded) } }
        @if p.behind { p.notice { (l.behind) } }
        (summary(p))
        (pickers(&p.view))
        (record_actions(p.view.child, false))
        (open_gaps(p))
        (current_plan(p))
        (needs(p))
        (screenings(p))
        (timeline(p))
        (plan_versions(p))
        (referrals(p))
        (legal_and_rights(p))
        (meetings(p))
        (corrections(p))
    }
}

fn name_of(p: &ChildPage) -> String {
    p.brief
        .as_ref()
        .map(|b| format!("{} {}", b.given_name.expose(), b.family_name.expose()))
        .unwrap_or_else(|| file_number(p.view.child))
}

fn summary(p: &ChildPage) -> Markup {
    let l = labels();
    let plan = &p.plan;
    html! {
        h1 { (name_of(p)) }
        section aria-labelledby="summary" {
            h2 #summary { (l.summary) }
            dl.facts {
                dt { (l.file_number) } dd { (file_number(p.view.child)) }
                @if let Some(born) = p.brief.as_ref().and_then(|b| b.birth_date.known().copied()) {
                    dt { (l.born) } dd { (labels::date(born)) }
                    dt { (l.age) } dd { (labels::age(born.months_until(p.on))) " (" (labels::date(p.on)) ")" }
                }
                dt { (l.centre) } dd { @if let Some(c) = &plan.centre { (c) } }
                dt { (l.stage) } dd { (labels::stage(plan.status)) }
                dt { (l.periods_of_care) }
                dd {
                    @for period in &p.trajectory.episodes {
                        div {
                            (l.period) " " (period.number) " (" (period.centre) "): "
                            (l.requested_on) " " (labels::date(period.requested_on))
                            @if let Some(d) = period.accepted_on { ", " (l.accepted_on) " " (labels::date(d)) }
                            @match (period.closed_on, period.closure_reason) {
                                (Some(d), Some(r)) => { ", " (l.closed_on) " " (labels::date(d)) " (" (labels::word(r)) ")" }
                                (Some(d), None) => { ", " (l.closed_on) " " (labels::date(d)) }
                                _ => { ", " (l.ongoing) }
                            }
                        }
                    }
                }
                dt { (l.consents) }
                dd {
                    @if plan.consents.is_empty() { (l.none) }
                    @else { (plan.consents.iter().map(labels::word).collect::<Vec<_>>().join(", ")) }
                }
                dt { (l.circle) }
                dd {
                    @if plan.circle.is_empty() { (l.none) }
                    @for m in &plan.circle {
                        div {
                            (m.name.expose()) " — " (labels::word(m.relation)) ", " (labels::word(m.contact_role))
                            @if m.parental_authority { ", " (l.parental_authority) }
                            ", " (labels::date(m.since))
                        }
                    }
                }
                dt { (l.last_meeting) } dd { @if let Some(d) = plan.last_meeting_on { (labels::date(d)) } @else { (l.none) } }
                dt { (l.next_reassessment) }
                dd {
                    @if let Some(d) = plan.next_reassessment_on {
                        (labels::date(d))
                        @if plan.next_reassessment_is_default { " " (l.default_delay) }
                    } @else { (l.none) }
                }
            }
        }
    }
}

/// The as-of and known-at pickers (a plain GET form).
fn pickers(view: &View) -> Markup {
    let l = labels();
    html! {
        section aria-labelledby="view-as" {
            h2 #view-as { (l.view_as) }
            p.hint { (l.view_as_hint) }
            form.bar method="get" action={ "/pages/children/" (view.child) } {
                label { (l.as_of) input type="date" name="as_of" value=[view.as_of]; }
                label { (l.known_at) input type="datetime-local" name="known_at"
                    value=[view.known_at.as_ref().map(moment_text)] title=(l.known_at_hint); }
                @if let Some(kind) = &view.kind { input type="hidden" name="kind" value=(kind); }
                button type="submit" { (l.show) }
                a href={ "/pages/children/" (view.child) } { (l.now) }
            }
        }
    }
}

/// Links to the record forms (a volunteer records family contacts only).
pub fn record_actions(child: ChildId, family_contact_only: bool) -> Markup {
    let l = labels();
    let forms: &[(&str, &str)] = if family_contact_only {
        &[("family-contact", l.family_contact)]
    } else {
        &[
            ("family-contact", l.family_contact),
            ("referral-outcome", l.referral_outcome),
            ("goal-progress", l.goal_progress),
            ("service-start", l.service_start),
            ("service-end", l.service_end),
        ]
    };
    html! {
        nav aria-label=(l.record) {
            ul.actions {
                @for (path, label) in forms {
                    li { a href={ "/pages/children/" (child) "/record/" (path) } { (l.record) ": " (label) } }
                }
            }
        }
    }
}

fn open_gaps(p: &ChildPage) -> Markup {
    let l = labels();
    html! {
        section aria-labelledby="gaps" {
            h2 #gaps { (l.open_gaps) }
            @if p.gaps.is_empty() {
                p { (l.no_gaps) }
            } @else {
                table {
                    thead { tr { th scope="col" { (l.overdue) } th scope="col" { (l.what) } th scope="col" { (l.due_on) } th scope="col" { (l.days_overdue) } } }
                    tbody {
                        @for gap in &p.gaps {
                            tr {
                                td { (labels::rule(gap.rule)) }
                                td { (subject_text(gap.subject, p.brief.as_ref())) }
                                td { (labels::date(gap.due_on)) }
                                td { (gap.days_overdue) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn current_plan(p: &ChildPage) -> Markup {
    let l = labels();
    let plan = &p.plan;
    html! {
        section aria-labelledby="plan" {
            h2 #plan { (l.current_plan) }
            @match &plan.plan {
                None => p { (l.no_plan) },
                Some(ap) => {
                    p {
                        (l.plan_version) " " (ap.version) ", "
                        @if ap.revision { (l.revised_on) } @else { (l.adopted_on) }
                        " " (labels::date(ap.adopted_on)) ", " (l.after_meeting) " #" (ap.meeting_number)
                    }
                    table {
                        thead { tr {
                            th scope="col" { (l.goal) } th scope="col" { (l.domain) } th scope="col" { (l.responsible) }
                            th scope="col" { (l.target_on) } th scope="col" { (l.state) }
                        } }
                        tbody {
                            @for g in &ap.goals {
                                tr {
                                    td { (g.description.expose()) }
                                    td { (labels::word(g.domain)) }
                                    td { (labels::responsible(&g.responsible, &plan.circle)) }
                                    td { (labels::date(g.target_on)) }
                                    td {
                                        @match (g.status, g.status_on) {
                                            (Some(s), Some(on)) => { (labels::word(s)) " (" (labels::date(on)) ")" }
                                            (Some(s), None) => { (labels::word(s)) }
                                            _ => { (l.no_progress) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { (l.services_under_way) }
            @if plan.active_services.is_empty() { p { (l.none) } } @else {
                table {
                    thead { tr { th scope="col" { (l.service) } th scope="col" { (l.format) } th scope="col" { (l.provider) } th scope="col" { (l.started_on) } } }
                    tbody {
                        @for s in &plan.active_services {
                            tr { td { (labels::word(s.kind)) } td { (labels::word(s.format)) } td { (labels::word(s.provider)) } td { (labels::date(s.started_on)) } }
                        }
                    }
                }
            }
            h3 { (l.open_referrals) }
            @if plan.open_referrals.is_empty() { p { (l.none) } } @else {
                table {
                    thead { tr { th scope="col" { (l.resource) } th scope="col" { (l.made_on) } th scope="col" { (l.expected_by) } th scope="col" { (l.state) } } }
                    tbody {
                        @for r in &plan.open_referrals {
                            tr {
                                td { (subject_text(Some(lifecourse_projections::Subject::Referral(r.referral_id)), p.brief.as_ref())) }
                                td { (labels::date(r.made_on)) }
                                td { (labels::date(r.expected_by)) }
                                td {
                                    @match (r.state, r.state_on) {
                                        (Some(s), Some(on)) => { (labels::word(s)) " (" (labels::date(on)) ")" }
                                        _ => { (l.no_outcome) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn needs(p: &ChildPage) -> Markup {
    let l = labels();
    html! {
        section aria-labelledby="needs" {
            h2 #needs { (l.needs_chart) }
            @if p.trajectory.needs.meetings.is_empty() {
                p { (l.no_meetings) }
            } @else {
                (needs_chart(&p.trajectory.needs, &p.trajectory.meetings))
            }
        }
    }
}

/// Screening measures over time: one table per instrument, a column per screening.
fn screenings(p: &ChildPage) -> Markup {
    let l = labels();
    let t = &p.trajectory;
    html! {
        section aria-labelledby="screenings" {
            h2 #screenings { (l.screenings) }
            @if t.screenings.is_empty() { p { (l.no_screenings) } }
            @for instrument in ScreeningInstrument::ALL {
                @let taken: Vec<_> = t.screenings.iter().filter(|s| s.instrument == *instrument).collect();
                @if !taken.is_empty() {
                    table {
                        caption { (instrument.name()) }
                        thead { tr {
                            th scope="col" { (l.domain) }
                            @for s in &taken {
                                th scope="col" {
                                    (labels::date(s.occurred_on))
                                    @if let Some(a) = s.age_months { " (" (labels::age(a)) ")" }
                                }
                            }
                        } }
                        tbody {
                            @for d in instrument.domains() {
                                @if taken.iter().any(|s| s.results.iter().any(|r| r.domain == *d)) {
                                    tr {
                                        th scope="row" { (labels::word(d)) }
                                        @for s in &taken {
                                            td {
                                                @if let Some(r) = s.results.iter().find(|r| r.domain == *d) {
                                                    @if let Some(score) = r.score { (score) " " }
                                                    @if let Some(band) = r.band { (labels::word(band)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The kind of an entry, for the timeline's filter.
fn kind_of(event_type: &str) -> &'static str {
    match event_type {
        "AssessmentMeetingHeld" | "ActionPlanAdopted" | "ActionPlanRevised" => "meetings",
        "GoalProgressRecorded" => "goals",
        "ServiceStarted" | "ServiceEnded" => "services",
        "ReferralMade" | "ReferralOutcomeRecorded" => "referrals",
        "LegalInterventionOpened"
        | "LegalInterventionConcluded"
        | "RightsConcernRaised"
        | "RightsConcernResolved" => "legal",
        "FamilyContactRecorded" => "family",
        "ConsentGiven" | "ConsentWithdrawn" => "consents",
        "EntryCorrected" => "corrections",
        _ => "file",
    }
}

/// The free text of an entry (a note, a reason, a summary), when it has one.
fn note_of(event: &ChildEvent) -> Option<&Identifying<String>> {
    use ChildEvent::*;
    match event {
        ChildFileOpened(e) => Some(&e.request.reason),
        FileReopened(e) => Some(&e.request.reason),
        IdentityErased(_) => None,
        InitialAssessmentCompleted(e) => e.family_situation.as_ref(),
        AssessmentMeetingHeld(e) => e.hypotheses.as_ref(),
        ActionPlanAdopted(e) | ActionPlanRevised(e) => e.note.as_ref(),
        GoalProgressRecorded(e) => e.note.as_ref(),
        ReferralMade(e) => e.reason.as_ref(),
        ReferralOutcomeRecorded(e) => e.note.as_ref(),
        LegalInterventionOpened(e) => e.summary.as_ref(),
        LegalInterventionConcluded(e) => e.note.as_ref(),
        RightsConcernRaised(e) => e.description.as_ref(),
        RightsConcernResolved(e) => e.note.as_ref(),
        FamilyContactRecorded(e) => e.note.as_ref(),
        EntryCorrected(e) => Some(&e.reason),
        FileTransferred(e) => e.note.as_ref(),
        FileClosed(e) => e.note.as_ref(),
        CircleMemberLeft(e) => e.note.as_ref(),
        DevelopmentalScreeningRecorded(e) => e.note.as_ref(),
        ServiceStarted(_) | ServiceEnded(_) | ConsentGiven(_) | ConsentWithdrawn(_)
        | CircleMemberAdded(_) => None,
    }
}

/// Each entry as it counts now (corrections applied), by sequence.
fn effective(history: &ChildHistory) -> BTreeMap<u64, &ChildEvent> {
    history
        .entries()
        .into_iter()
        .map(|e| (e.sequence(), e.event))
        .collect()
}

fn timeline(p: &ChildPage) -> Markup {
    let l = labels();
    let shown = effective(&p.history);
    let entries: Vec<_> = p
        .trajectory
        .timeline
        .iter()
        .filter(|e| {
            p.view
                .kind
                .as_deref()
                .is_none_or(|k| kind_of(&e.event_type) == k)
        })
        .collect();
    html! {
        section aria-labelledby="timeline" {
            h2 #timeline { (l.timeline) }
            form.bar method="get" action={ "/pages/children/" (p.view.child) "#timeline" } {
                @for (name, value) in p.view.keep() { input type="hidden" name=(name) value=(value); }
                label { (l.kind)
                    select name="kind" {
                        option value="" { (l.all_kinds) }
                        @for (word, label) in TIMELINE_KINDS {
                            option value=(word) selected[p.view.kind.as_deref() == Some(*word)] { (label) }
                        }
                    }
                }
                button type="submit" { (l.show) }
            }
            @if entries.is_empty() { p { (l.nothing_recorded) } } @else {
                table {
                    thead { tr {
                        th scope="col" { (l.date) } th scope="col" { (l.age) } th scope="col" { "#" }
                        th scope="col" { (l.entry) } th scope="col" { (l.recorded_by) }
                    } }
                    tbody {
                        @for e in entries {
                            @let voided = e.correction.as_ref().is_some_and(|c| c.entered_in_error);
                            tr {
                                td { (labels::date(e.occurred_on)) }
                                td { @if let Some(m) = e.age_months { (labels::age(m)) } }
                                td { (e.sequence) }
                                td {
                                    span class=[voided.then_some("struck")] { (e.summary) }
                                    @if let Some(note) = shown.get(&e.sequence).and_then(|ev| note_of(ev)) {
                                        div { (l.note) ": " (note.expose()) }
                                    }
                                    @if let Some(c) = &e.correction {
                                        div.hint {
                                            @if c.entered_in_error { (l.entered_in_error) ", " }
                                            (l.corrected_by) " #" (c.by_sequence) " (" (labels::date(c.corrected_on)) "): " (c.reason.expose())
                                        }
                                    }
                                }
                                td { (e.recorded_by.person) " (" (labels::word(e.recorded_by.role)) ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn plan_versions(p: &ChildPage) -> Markup {
    let l = labels();
    let t = &p.trajectory;
    let goal_text = |id: &GoalId| {
        t.goals
            .iter()
            .find(|g| g.goal_id == *id)
            .map(|g| g.description.expose().clone())
            .unwrap_or_else(|| id.to_string())
    };
    html! {
        section aria-labelledby="versions" {
            h2 #versions { (l.plan_versions) }
            @if t.plans.is_empty() { p { (l.no_plan) } }
            @for v in &t.plans {
                h3 {
                    (l.plan_version) " " (v.version) ", "
                    @if v.revision { (l.revised_on) } @else { (l.adopted_on) }
                    " " (labels::date(v.adopted_on)) ", " (l.after_meeting) " #" (v.meeting_number)
                }
                ul {
                    @for id in &v.goals {
                        @if let Some(g) = t.goals.iter().find(|g| g.goal_id == *id) {
                            li {
                                (g.description.expose()) " — " (labels::word(g.domain)) ", " (labels::responsible(&g.responsible, &t.circle))
                                // A goal's target and progress are its latest: shown with the last
                                // version that holds it.
                                @if g.last_version == v.version {
                                    ", " (l.target_on.to_lowercase()) " " (labels::date(g.target_on)) ": " (labels::fate(g.fate))
                                    @if !g.progress.is_empty() {
                                        " ("
                                        (g.progress.iter().map(|(d, s)| format!("{} {}", labels::date(*d), labels::word(s))).collect::<Vec<_>>().join("; "))
                                        ")"
                                    }
                                } @else {
                                    ": " (l.carried_forward)
                                }
                            }
                        }
                    }
                }
                @if !v.left_out.is_empty() {
                    p { (l.left_out) ": " (v.left_out.iter().map(goal_text).collect::<Vec<_>>().join("; ")) }
                }
            }
        }
    }
}

fn referrals(p: &ChildPage) -> Markup {
    let l = labels();
    html! {
        section aria-labelledby="referrals" {
            h2 #referrals { (l.referrals) }
            @if p.trajectory.referrals.is_empty() { p { (l.none) } } @else {
                table {
                    thead { tr {
                        th scope="col" { (l.resource) } th scope="col" { (l.made_on) } th scope="col" { (l.expected_by) }
                        th scope="col" { (l.outcomes) } th scope="col" { (l.days_to_outcome) }
                    } }
                    tbody {
                        @for r in &p.trajectory.referrals {
                            tr {
                                td { (subject_text(Some(lifecourse_projections::Subject::Referral(r.referral_id)), p.brief.as_ref())) }
                                td { (labels::date(r.made_on)) }
                                td { @if let Some(d) = r.expected_by { (labels::date(d)) } }
                                td {
                                    @if r.outcomes.is_empty() { (l.no_outcome) }
                                    @else { (r.outcomes.iter().map(|(d, o)| format!("{} {}", labels::date(*d), labels::word(o))).collect::<Vec<_>>().join("; ")) }
                                }
                                td { @if let Some(n) = r.days_to_outcome { (n) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn legal_and_rights(p: &ChildPage) -> Markup {
    let l = labels();
    let t = &p.trajectory;
    html! {
        section aria-labelledby="legal" {
            h2 #legal { (l.legal_and_rights) }
            h3 { (l.legal_matters) }
            @if t.legal_matters.is_empty() { p { (l.none) } } @else {
                table {
                    thead { tr { th scope="col" { (l.area) } th scope="col" { (l.kind) } th scope="col" { (l.opened_on) } th scope="col" { (l.outcome) } } }
                    tbody {
                        @for m in &t.legal_matters {
                            tr {
                                td { (labels::word(m.area)) } td { (labels::word(m.kind)) } td { (labels::date(m.opened_on)) }
                                td { @match (m.outcome, m.concluded_on) { (Some(o), Some(d)) => { (labels::word(o)) " (" (labels::date(d)) ")" } _ => { (l.ongoing) } } }
                            }
                        }
                    }
                }
            }
            h3 { (l.rights_concerns) }
            @if t.rights_concerns.is_empty() { p { (l.none) } } @else {
                table {
                    thead { tr { th scope="col" { (l.right) } th scope="col" { (l.articles) } th scope="col" { (l.raised_on) } th scope="col" { (l.resolution) } } }
                    tbody {
                        @for c in &t.rights_concerns {
                            tr {
                                td { (labels::word(c.right)) }
                                td { (c.articles.iter().map(|a| u8::from(*a).to_string()).collect::<Vec<_>>().join(", ")) }
                                td { (labels::date(c.raised_on)) }
                                td { @match (c.resolution, c.resolved_on) { (Some(r), Some(d)) => { (labels::word(r)) " (" (labels::date(d)) ")" } _ => { (l.ongoing) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn meetings(p: &ChildPage) -> Markup {
    let l = labels();
    let held: BTreeMap<u32, &AssessmentMeetingHeld> = effective(&p.history)
        .into_values()
        .filter_map(|e| match e {
            ChildEvent::AssessmentMeetingHeld(m) => Some((m.meeting_number, m)),
            _ => None,
        })
        .collect();
    html! {
        section aria-labelledby="meetings" {
            h2 #meetings { (l.meetings) }
            @if p.trajectory.meetings.is_empty() { p { (l.no_meetings) } }
            @for m in &p.trajectory.meetings {
                h3 { (l.meeting) " #" (m.meeting_number) ", " (labels::word(m.kind)) ", " (labels::date(m.occurred_on)) }
                dl.facts {
                    dt { (l.participants) }
                    dd {
                        @match held.get(&m.meeting_number) {
                            Some(event) => {
                                (event.participants.iter().map(|pt| match &pt.name {
                                    Some(name) => format!("{} ({})", name.expose(), labels::word(pt.role)),
                                    None => labels::word(pt.role),
                                }).collect::<Vec<_>>().join(", "))
                            }
                            None => { (m.participants.iter().map(|pt| labels::word(pt.role)).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                    dt { (l.child_took_part) } dd { @if m.child_took_part { (l.yes) } @else { (l.no) } }
                    @if let Some(voice) = &m.child_voice {
                        dt { (l.child_voice) } dd { (voice.expose()) }
                    }
                    @if !m.strengths.is_empty() {
                        dt { (l.strengths) }
                        dd { (m.strengths.iter().map(|s| format!("{} ({})", s.description.expose(), labels::word(s.held_by))).collect::<Vec<_>>().join("; ")) }
                    }
                }
            }
        }
    }
}

/// Each correction with the entry as it stood before and after it.
fn corrections(p: &ChildPage) -> Markup {
    let l = labels();
    let events = p.history.events();
    let corrections: Vec<(&StoredEvent, &EntryCorrected)> = events
        .iter()
        .filter_map(|e| match &e.event {
            ChildEvent::EntryCorrected(c) => Some((e, c)),
            _ => None,
        })
        .collect();
    // The entry a correction changed, as it stood just before it.
    let before = |stored: &StoredEvent, c: &EntryCorrected| -> Option<ChildEvent> {
        let earlier = corrections.iter().rev().find(|(s, other)| {
            s.sequence < stored.sequence && other.corrects_sequence == c.corrects_sequence
        });
        match earlier {
            Some((_, other)) => match &other.correction {
                Correction::Replaced { replacement, .. } => Some((**replacement).clone()),
                Correction::EnteredInError => None,
            },
            None => events
                .iter()
                .find(|e| e.sequence == c.corrects_sequence)
                .map(|e| e.event.clone()),
        }
    };
    let describe = |event: &ChildEvent| -> String {
        match note_of(event) {
            Some(note) => format!("{} — {}", event.summary(), note.expose()),
            None => event.summary(),
        }
    };
    let changes = p.history.correction_changes();
    html! {
        section aria-labelledby="corrections" {
            h2 #corrections { (l.corrections) }
            @if corrections.is_empty() { p { (l.no_corrections) } }
            @for (stored, c) in &corrections {
                h3 { "#" (stored.sequence) " " (l.corrects) " #" (c.corrects_sequence) " (" (c.corrected_event_type) "), " (labels::date(c.occurred_on)) }
                dl.facts {
                    dt { (l.reason) } dd { (c.reason.expose()) }
                    dt { (l.before) } dd { @if let Some(b) = before(stored, c) { (describe(&b)) } }
                    @if let Some(list) = changes.get(&stored.sequence).filter(|l| !l.is_empty()) {
                        dt { (l.what_changed) }
                        dd {
                            @for change in list {
                                div {
                                    (change.field) ": "
                                    (change.before.as_ref().map_or("(none)", |v| v.expose().as_str()))
                                    " → "
                                    (change.after.as_ref().map_or("(none)", |v| v.expose().as_str()))
                                }
                            }
                        }
                    }
                    dt { (l.after) }
                    dd {
                        @match &c.correction {
                            Correction::Replaced { replacement, .. } => { (describe(replacement)) }
                            Correction::EnteredInError => { (l.entered_in_error) }
                        }
                    }
                }
            }
        }
    }
}

/// A volunteer's page: the entries they recorded themselves, summaries only, and the family
/// contact form.
fn own_entries_page(view: &View, entries: &[StoredEvent], recorded: bool) -> Markup {
    let l = labels();
    html! {
        @if recorded { p.notice role="status" { (l.recorded) } }
        h1 { (l.file_number) " " (file_number(view.child)) }
        p { (l.own_entries_only) }
        (record_actions(view.child, true))
        h2 { (l.timeline) }
        @if entries.is_empty() { p { (l.nothing_recorded) } } @else {
            table {
                thead { tr { th scope="col" { (l.date) } th scope="col" { "#" } th scope="col" { (l.entry) } } }
                tbody {
                    @for e in entries {
                        tr { td { (labels::date(e.occurred_on())) } td { (e.sequence) } td { (e.event.summary()) } }
                    }
                }
            }
        }
    }
}
