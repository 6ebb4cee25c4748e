//! The record forms for the entries clinicians make most between meetings: a family contact, a
//! referral's outcome, a goal's progress, a service started or ended. Each form carries the
//! session's token and an idempotency key made when the form was shown, so sending it twice
//! stores it once; a refusal by the file's rules is shown next to the field it is about.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lifecourse_events::*;
use lifecourse_projections::{CurrentPlan, Subject};
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::labels::{self, labels};
use super::layout::page;
use super::worklist::subject_text;
use super::{app_error, csrf_refused, html_response, parse_date, Fields, Viewer};
use crate::app::{file_number, AppError, ChildBrief, CommandInput, ErrorKind, InvalidInput};
use crate::http::ServerState;
use crate::runner::Projection;

/// The forms, by the last part of their path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    FamilyContact,
    ReferralOutcome,
    GoalProgress,
    ServiceStart,
    ServiceEnd,
}

impl Form {
    fn parse(path: &str) -> Option<Self> {
        Some(match path {
            "family-contact" => Form::FamilyContact,
            "referral-outcome" => Form::ReferralOutcome,
            "goal-progress" => Form::GoalProgress,
            "service-start" => Form::ServiceStart,
            "service-end" => Form::ServiceEnd,
            _ => return None,
        })
    }

    fn path(self) -> &'static str {
        match self {
            Form::FamilyContact => "family-contact",
            Form::ReferralOutcome => "referral-outcome",
            Form::GoalProgress => "goal-progress",
            Form::ServiceStart => "service-start",
            Form::ServiceEnd => "service-end",
        }
    }

    fn title(self) -> &'static str {
        let l = labels();
        match self {
            Form::FamilyContact => l.family_contact,
            Form::ReferralOutcome => l.referral_outcome,
            Form::GoalProgress => l.goal_progress,
            Form::ServiceStart => l.service_start,
            Form::ServiceEnd => l.service_end,
        }
    }

    /// The field a rule of the file is about, when it is one field.
    fn field_of_rule(self, rule: &str) -> &'static str {
        match rule {
            "date_in_future" | "date_before_birth" | "out_of_order" | "dated_while_closed" => {
                "occurred_on"
            }
            "unknown_item" | "already_finished" | "duplicate_id" | "unknown_goal" => match self {
                Form::ReferralOutcome => "referral_id",
                Form::GoalProgress => "goal_id",
                Form::ServiceEnd | Form::ServiceStart => "service_id",
                Form::FamilyContact => "form",
            },
            _ => "form",
        }
    }
}

/// What the form offers to choose from, read through the app's queries.
struct Choices {
    brief: Option<ChildBrief>,
    plan: Option<CurrentPlan>,
}

/// Field name to message; "form" for what is about the whole form.
type Errors = BTreeMap<&'static str, String>;

async fn choices(viewer: &Viewer, child: ChildId, form: Form) -> Result<Choices, AppError> {
    // Reading the history first answers an unknown child, or another centre's, alike (404).
    let history = viewer.app.history(child).await?;
    let plan = match form {
        Form::FamilyContact => None,
        _ => Some(viewer.app.plan(child, None, None).await?.value),
    };
    Ok(Choices {
        brief: crate::app::App::brief_of(&history.value),
        plan,
    })
}

fn form_of(text: &str) -> Option<Form> {
    Form::parse(text)
}

/// GET /pages/children/{child_id}/record/{form}
pub async fn show(viewer: Viewer, Path((child, form)): Path<(String, String)>) -> Response {
    let chrome = viewer.chrome();
    let (Ok(child), Some(form)) = (child.parse::<ChildId>(), form_of(&form)) else {
        return super::not_found(Some(&chrome));
    };
    let choices = match choices(&viewer, child, form).await {
        Ok(c) => c,
        Err(e) => return app_error(Some(&chrome), e),
    };
    let today = match viewer.app.today(viewer.principal.centres.first()).await {
        Ok(d) => d,
        Err(e) => return app_error(Some(&chrome), e),
    };
    let mut values = Fields(vec![
        ("occurred_on".into(), today.to_string()),
        (
            "idempotency_key".into(),
            format!("page-{}", uuid::Uuid::new_v4()),
        ),
    ]);
    if form == Form::ServiceStart {
        values
            .0
            .push(("service_id".into(), uuid::Uuid::new_v4().to_string()));
    }
    render(
        &viewer,
        child,
        form,
        &choices,
        &values,
        &Errors::new(),
        StatusCode::OK,
    )
}

/// POST /pages/children/{child_id}/record/{form}
pub async fn submit(
    State(state): State<Arc<ServerState>>,
    viewer: Viewer,
    Path((child, form)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let chrome = viewer.chrome();
    let values = Fields::parse(&body);
    if !viewer.csrf_ok(values.get("csrf")) {
        return csrf_refused(Some(&chrome));
    }
    let (Ok(child), Some(form)) = (child.parse::<ChildId>(), form_of(&form)) else {
        return super::not_found(Some(&chrome));
    };
    let choices = match choices(&viewer, child, form).await {
        Ok(c) => c,
        Err(e) => return app_error(Some(&chrome), e),
    };
    let refused = |errors: Errors| {
        render(
            &viewer,
            child,
            form,
            &choices,
            &values,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let (command, mut errors) = command_of(form, &values);
    let key = values.get("idempotency_key");
    if key.is_none() {
        errors.insert("form", labels().form_expired.to_string());
    }
    if !errors.is_empty() {
        return refused(errors);
    }
    let envelope = json!({
        "child_id": child,
        "idempotency_key": key,
        "command": Value::Object(command),
    });
    let input = match CommandInput::parse(&envelope.to_string()) {
        Ok(i) => i,
        Err(e) => return refused(input_error(e)),
    };
    let recorded = match viewer.app.record(&viewer.principal, input).await {
        Ok(r) => r,
        Err(AppError::Refused { error, .. }) => {
            let mut errors = Errors::new();
            errors.insert(form.field_of_rule(error.rule()), error.to_string());
            return refused(errors);
        }
        Err(e) if e.kind() == ErrorKind::Invalid => {
            let mut errors = Errors::new();
            errors.insert("form", e.to_string());
            return refused(errors);
        }
        Err(e) => return app_error(Some(&chrome), e),
    };
    // Read-your-writes: the child page shown next reflects what was just recorded.
    if let Ok(position) = viewer.app.committed_position(&recorded).await {
        state.runner_nudge.notify_one();
        for projection in [
            Projection::ActionPlan,
            Projection::Trajectory,
            Projection::FollowUp,
        ] {
            let _ = viewer
                .app
                .wait_until_reflected(projection, position, Duration::from_secs(5))
                .await;
        }
    }
    Redirect::to(&format!("/pages/children/{child}?recorded={}", form.path())).into_response()
}

/// A refusal of the command's text (a control character, a text too long) next to its field.
fn input_error(e: InvalidInput) -> Errors {
    let mut errors = Errors::new();
    let field = match &e {
        InvalidInput::ControlCharacter { field } | InvalidInput::TextTooLong { field, .. } => {
            match field.rsplit('.').next() {
                Some("note") => "note",
                Some("provider_name") => "provider_name",
                _ => "form",
            }
        }
        _ => "form",
    };
    errors.insert(field, e.to_string());
    errors
}

/// A word of `all`, or an error for `field`.
fn choice<T: Copy + std::fmt::Display>(
    values: &Fields,
    field: &'static str,
    all: &[T],
    word: impl Fn(T) -> &'static str,
    errors: &mut Errors,
) -> Option<&'static str> {
    match values.get(field) {
        None => {
            errors.insert(field, labels().required.to_string());
            None
        }
        Some(v) => match all.iter().map(|t| word(*t)).find(|w| *w == v) {
            Some(w) => Some(w),
            None => {
                errors.insert(field, labels().not_a_choice.to_string());
                None
            }
        },
    }
}

/// An id field (a UUID), or an error for `field`.
fn id_field(values: &Fields, field: &'static str, errors: &mut Errors) -> Option<String> {
    match values.get(field) {
        None => {
            errors.insert(field, labels().required.to_string());
            None
        }
        Some(v) if uuid::Uuid::parse_str(v).is_ok() => Some(v.to_string()),
        Some(_) => {
            errors.insert(field, labels().not_a_choice.to_string());
            None
        }
    }
}

/// Free text as typed, with the browser's line ends made plain.
fn text(values: &Fields, field: &str) -> Option<String> {
    values
        .get(field)
        .map(|t| t.replace("\r\n", "\n").replace('\r', "\n"))
}

/// The command's JSON fields from the form, and what is wrong with them.
fn command_of(form: Form, values: &Fields) -> (Map<String, Value>, Errors) {
    let l = labels();
    let mut errors = Errors::new();
    let mut c = Map::new();
    let kind = match form {
        Form::FamilyContact => "record_family_contact",
        Form::ReferralOutcome => "record_referral_outcome",
        Form::GoalProgress => "record_goal_progress",
        Form::ServiceStart => "start_service",
        Form::ServiceEnd => "end_service",
    };
    c.insert("type".into(), json!(kind));
    match parse_date("occurred_on", values.get("occurred_on")) {
        Ok(Some(d)) => {
            c.insert("occurred_on".into(), json!(d));
        }
        Ok(None) => {
            errors.insert("occurred_on", l.required.to_string());
        }
        Err(_) => {
            errors.insert("occurred_on", l.not_a_date.to_string());
        }
    }
    let mut put = |name: &str, v: Option<&str>| {
        if let Some(v) = v {
            c.insert(name.to_string(), json!(v));
        }
    };
    match form {
        Form::FamilyContact => {
            put(
                "mode",
                choice(
                    values,
                    "mode",
                    ContactMode::ALL,
                    ContactMode::as_str,
                    &mut errors,
                ),
            );
            put(
                "with",
                choice(
                    values,
                    "with",
                    ContactWith::ALL,
                    ContactWith::as_str,
                    &mut errors,
                ),
            );
            put("note", text(values, "note").as_deref());
        }
        Form::ReferralOutcome => {
            put(
                "referral_id",
                id_field(values, "referral_id", &mut errors).as_deref(),
            );
            put(
                "outcome",
                choice(
                    values,
                    "outcome",
                    ReferralOutcome::ALL,
                    ReferralOutcome::as_str,
                    &mut errors,
                ),
            );
            put("note", text(values, "note").as_deref());
        }
        Form::GoalProgress => {
            put(
                "goal_id",
                id_field(values, "goal_id", &mut errors).as_deref(),
            );
            put(
                "status",
                choice(
                    values,
                    "status",
                    GoalStatus::ALL,
                    GoalStatus::as_str,
                    &mut errors,
                ),
            );
            put("note", text(values, "note").as_deref());
        }
        Form::ServiceStart => {
            put(
                "service_id",
                id_field(values, "service_id", &mut errors).as_deref(),
            );
            put(
                "kind",
                choice(
                    values,
                    "kind",
                    ServiceKind::ALL,
                    ServiceKind::as_str,
                    &mut errors,
                ),
            );
            put(
                "format",
                choice(
                    values,
                    "format",
                    ServiceFormat::ALL,
                    ServiceFormat::as_str,
                    &mut errors,
                ),
            );
            put(
                "provider",
                choice(
                    values,
                    "provider",
                    ServiceProvider::ALL,
                    ServiceProvider::as_str,
                    &mut errors,
                ),
            );
            put("provider_name", text(values, "provider_name").as_deref());
            let goals: Vec<&str> = values.all("linked_goals");
            if goals.iter().any(|g| uuid::Uuid::parse_str(g).is_err()) {
                errors.insert("linked_goals", l.not_a_choice.to_string());
            } else {
                c.insert("linked_goals".into(), json!(goals));
            }
        }
        Form::ServiceEnd => {
            put(
                "service_id",
                id_field(values, "service_id", &mut errors).as_deref(),
            );
            put(
                "reason",
                choice(
                    values,
                    "reason",
                    ServiceEndReason::ALL,
                    ServiceEndReason::as_str,
                    &mut errors,
                ),
            );
        }
    }
    (c, errors)
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn render(
    viewer: &Viewer,
    child: ChildId,
    form: Form,
    choices: &Choices,
    values: &Fields,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let l = labels();
    let chrome = viewer.chrome();
    let name = choices
        .brief
        .as_ref()
        .map(|b| format!("{} {}", b.given_name.expose(), b.family_name.expose()))
        .unwrap_or_else(|| file_number(child));
    let action = format!("/pages/children/{child}/record/{}", form.path());
    let markup = html! {
        h1 { (form.title()) }
        p { (l.child) ": " a href={ "/pages/children/" (child) } { (name) } }
        @if !errors.is_empty() {
            div.alert role="alert" {
                p { (l.form_has_errors) }
                @if let Some(e) = errors.get("form") { p #err-form { (e) } }
            }
        }
        form method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="idempotency_key" value=[values.get("idempotency_key")];
            @if form == Form::ServiceStart {
                input type="hidden" name="service_id" value=[values.get("service_id")];
                @if let Some(e) = errors.get("service_id") { p.error { (e) } }
            }
            (date_field("occurred_on", l.occurred_on, values, errors))
            (fields(form, choices, values, errors))
            button type="submit" { (l.save) }
            " "
            a href={ "/pages/children/" (child) } { (l.cancel) }
        }
    };
    html_response(status, page(form.title(), Some(&chrome), markup))
}

fn fields(form: Form, choices: &Choices, values: &Fields, errors: &Errors) -> Markup {
    let l = labels();
    let words = |all: &[&'static str]| -> Vec<(String, String)> {
        all.iter()
            .map(|w| (w.to_string(), w.replace('_', " ")))
            .collect()
    };
    let plan = choices.plan.as_ref();
    let goals: Vec<(String, String)> = plan
        .and_then(|p| p.plan.as_ref())
        .map(|ap| {
            ap.goals
                .iter()
                .map(|g| (g.goal_id.to_string(), g.description.expose().clone()))
                .collect()
        })
        .unwrap_or_default();
    match form {
        Form::FamilyContact => html! {
            (select_field("mode", l.mode, &words(&ContactMode::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
            (select_field("with", l.with, &words(&ContactWith::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
            (text_field("note", l.note, true, values, errors))
        },
        Form::ReferralOutcome => {
            let referrals: Vec<(String, String)> = plan
                .map(|p| {
                    p.open_referrals
                        .iter()
                        .map(|r| {
                            (
                                r.referral_id.to_string(),
                                format!(
                                    "{} — {} {}",
                                    subject_text(
                                        Some(Subject::Referral(r.referral_id)),
                                        choices.brief.as_ref()
                                    ),
                                    labels().made_on.to_lowercase(),
                                    labels::date(r.made_on)
                                ),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            html! {
                (select_field("referral_id", l.referral, &referrals, values, errors))
                (select_field("outcome", l.outcome, &words(&ReferralOutcome::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
                (text_field("note", l.note, true, values, errors))
            }
        }
        Form::GoalProgress => html! {
            (select_field("goal_id", l.goal, &goals, values, errors))
            (select_field("status", l.status, &words(&GoalStatus::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
            (text_field("note", l.note, true, values, errors))
        },
        Form::ServiceStart => {
            let linked = values.all("linked_goals");
            html! {
                (select_field("kind", l.service, &words(&ServiceKind::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
                (select_field("format", l.format, &words(&ServiceFormat::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
                (select_field("provider", l.provider, &words(&ServiceProvider::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
                (text_field("provider_name", l.provider_name, false, values, errors))
                fieldset.field {
                    legend { (l.linked_goals) }
                    @if goals.is_empty() { p.hint { (l.nothing_to_choose) } }
                    @for (i, (id, text)) in goals.iter().enumerate() {
                        div {
                            input type="checkbox" name="linked_goals" id={ "goal-" (i) } value=(id) checked[linked.contains(&id.as_str())];
                            " "
                            label for={ "goal-" (i) } style="display:inline;font-weight:normal" { (text) }
                        }
                    }
                    @if let Some(e) = errors.get("linked_goals") { p.error { (e) } }
                }
            }
        }
        Form::ServiceEnd => {
            let services: Vec<(String, String)> = plan
                .map(|p| {
                    p.active_services
                        .iter()
                        .map(|s| {
                            (
                                s.service_id.to_string(),
                                format!(
                                    "{} — {} {}",
                                    labels::word(s.kind),
                                    labels().started_on.to_lowercase(),
                                    labels::date(s.started_on)
                                ),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            html! {
                (select_field("service_id", l.service, &services, values, errors))
                (select_field("reason", l.end_reason, &words(&ServiceEndReason::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>()), values, errors))
            }
        }
    }
}

fn error_of(name: &str, errors: &Errors) -> Markup {
    html! {
        @if let Some(e) = errors.get(name) { p.error id={ "err-" (name) } { (e) } }
    }
}

fn described(name: &str, errors: &Errors) -> Option<String> {
    errors.contains_key(name).then(|| format!("err-{name}"))
}

fn date_field(name: &'static str, label: &str, values: &Fields, errors: &Errors) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) name=(name) type="date" required value=[values.get(name)]
                aria-invalid=[errors.contains_key(name).then_some("true")]
                aria-describedby=[described(name, errors)];
            (error_of(name, errors))
        }
    }
}

fn select_field(
    name: &'static str,
    label: &str,
    options: &[(String, String)],
    values: &Fields,
    errors: &Errors,
) -> Markup {
    let l = labels();
    let chosen = values.get(name);
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) required
                aria-invalid=[errors.contains_key(name).then_some("true")]
                aria-describedby=[described(name, errors)] {
                option value="" { (l.choose) }
                @for (value, text) in options {
                    option value=(value) selected[chosen == Some(value.as_str())] { (text) }
                }
            }
            @if options.is_empty() { p.hint { (l.nothing_to_choose) } }
            (error_of(name, errors))
        }
    }
}

fn text_field(
    name: &'static str,
    label: &str,
    long: bool,
    values: &Fields,
    errors: &Errors,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            @if long {
                textarea id=(name) name=(name) rows="4" cols="60"
                    aria-invalid=[errors.contains_key(name).then_some("true")]
                    aria-describedby=[described(name, errors)] { (values.get(name).unwrap_or("")) }
            } @else {
                input id=(name) name=(name) type="text" value=[values.get(name)]
                    aria-invalid=[errors.contains_key(name).then_some("true")]
                    aria-describedby=[described(name, errors)];
            }
            (error_of(name, errors))
        }
    }
}
