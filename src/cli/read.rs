//! `lifecourse plan` and `lifecourse trajectory`: one child's current plan and whole trajectory.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use clap::Args;
use lifecourse_events::*;
use lifecourse_projections::{CurrentPlan, Trajectory};
use serde::Serialize;

use super::text::{self, age, days, listed, quoted, wrapped};
use super::{freshness_line, json, shown, Format};
use crate::app::{self, App, AppError, Freshness};

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The child's id (a UUID)
    child_id: ChildId,
    /// Clinical time: the plan as it stood on this date (YYYY-MM-DD), as known today
    #[arg(long)]
    as_of: Option<ClinicalDate>,
    /// Record time: the record as it stood at this moment (RFC 3339, or a date meaning the end
    /// of that day, UTC)
    #[arg(long, value_parser = parse_moment)]
    known_at: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Args, Debug)]
pub struct TrajectoryArgs {
    /// The child's id (a UUID)
    child_id: ChildId,
    /// Clinical time: only what had happened by this date (YYYY-MM-DD), as known today
    #[arg(long)]
    as_of: Option<ClinicalDate>,
    /// Record time: the record as it stood at this moment (RFC 3339, or a date meaning the end
    /// of that day, UTC)
    #[arg(long, value_parser = parse_moment)]
    known_at: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// A moment in record time: `2026-04-01T12:00:00Z`, or `2026-04-01` for the end of that day (UTC).
pub fn parse_moment(text: &str) -> Result<DateTime<Utc>, String> {
    let expected = || {
        format!("expected a moment such as 2026-04-01T12:00:00Z or a date such as 2026-04-01, between {} and {}, got {text:?}", app::EARLIEST, app::LATEST)
    };
    let moment = match DateTime::parse_from_rfc3339(text) {
        Ok(moment) => moment.to_utc(),
        Err(_) => text
            .parse::<ClinicalDate>()
            .ok()
            .and_then(|d| d.date().and_hms_milli_opt(23, 59, 59, 999))
            .map(|t| t.and_utc())
            .ok_or_else(expected)?,
    };
    app::check_date("--known-at", ClinicalDate(moment.date_naive())).map_err(|_| expected())?;
    Ok(moment)
}

/// Checks an optional date given on the command line.
pub fn checked(
    what: &'static str,
    date: Option<ClinicalDate>,
) -> Result<Option<ClinicalDate>, AppError> {
    Ok(date.map(|d| app::check_date(what, d)).transpose()?)
}

#[derive(Serialize)]
struct PlanReport<'a> {
    as_of: ClinicalDate,
    known_at: Option<DateTime<Utc>>,
    freshness: &'a Freshness,
    plan: &'a CurrentPlan,
}

pub async fn plan(app: &App, args: PlanArgs) -> Result<(), AppError> {
    let as_of = checked("--as-of", args.as_of)?;
    let answer = app.plan(args.child_id, as_of, args.known_at).await?;
    let on = match as_of {
        Some(on) => on,
        None => app.today(answer.value.centre.as_ref()).await?,
    };
    match args.format {
        Format::Json => out!(
            "{}",
            json(&PlanReport {
                as_of: on,
                known_at: args.known_at,
                freshness: &answer.freshness,
                plan: &answer.value
            })?
        ),
        Format::Text => {
            out!("{}", render_plan(&answer.value, on).trim_end());
            out!("{}", freshness_line(&answer.freshness));
        }
    }
    Ok(())
}

pub async fn trajectory(app: &App, args: TrajectoryArgs) -> Result<(), AppError> {
    let as_of = checked("--as-of", args.as_of)?;
    let answer = app.trajectory(args.child_id, as_of, args.known_at).await?;
    #[derive(Serialize)]
    struct TrajectoryReport<'a> {
        as_of: Option<ClinicalDate>,
        known_at: Option<DateTime<Utc>>,
        freshness: &'a Freshness,
        trajectory: &'a Trajectory,
    }
    match args.format {
        Format::Json => out!(
            "{}",
            json(&TrajectoryReport {
                as_of,
                known_at: args.known_at,
                freshness: &answer.freshness,
                trajectory: &answer.value
            })?
        ),
        Format::Text => {
            out!(
                "{}",
                render_trajectory(args.child_id, &answer.value, as_of, args.known_at).trim_end()
            );
            out!("{}", freshness_line(&answer.freshness));
        }
    }
    Ok(())
}

/// The plan page: the plan in force with each goal's state and who answers for it, what is
/// under way, the next reassessment, consents and the child's circle.
pub fn render_plan(p: &CurrentPlan, today: ClinicalDate) -> String {
    let mut out = String::new();
    let child = p.child_id.map(|c| c.to_string()).unwrap_or_default();
    let centre = p.centre.as_ref().map(|c| c.to_string()).unwrap_or_default();
    let _ = writeln!(out, "Action plan of child {child}");
    let _ = writeln!(
        out,
        "Centre {centre} · file {} · on {today}",
        p.status.label()
    );
    match &p.plan {
        None => {
            let _ = writeln!(out, "\nNo action plan in force.");
        }
        Some(plan) => {
            let _ = writeln!(
                out,
                "\nPlan v{}, {} {} after meeting #{}: {}",
                plan.version,
                if plan.revision { "revised" } else { "adopted" },
                plan.adopted_on,
                plan.meeting_number,
                count(plan.goals.len(), "goal", "goals")
            );
            for (i, g) in plan.goals.iter().enumerate() {
                out.push_str(&wrapped(
                    &format!("  {}. ", i + 1),
                    "     ",
                    &format!("[{}] {}", g.domain, shown(g.description.expose())),
                ));
                out.push_str(&wrapped(
                    "     ",
                    "       ",
                    &format!(
                        "responsible: {} · target {}",
                        text::responsible(&g.responsible, &p.circle),
                        g.target_on
                    ),
                ));
                let progress = match (g.status, g.status_on) {
                    (Some(s), Some(on)) => format!("{s} ({on})"),
                    _ if g.target_on < today => "none recorded — past its target".into(),
                    _ => "none recorded yet".into(),
                };
                let _ = writeln!(out, "     progress: {progress}");
            }
        }
    }
    if let Some(next) = p.next_reassessment_on {
        let how = if p.next_reassessment_is_default {
            "the default delay after the last meeting"
        } else {
            "set by the plan"
        };
        let late = if next < today {
            format!(" — overdue by {}", days(next.days_until(today)))
        } else {
            String::new()
        };
        let _ = writeln!(out, "\nNext reassessment: {next} ({how}){late}");
    }
    let goal_number = |id: &GoalId| {
        p.plan
            .as_ref()
            .and_then(|plan| plan.goals.iter().position(|g| g.goal_id == *id))
            .map_or_else(|| "an earlier goal".to_string(), |i| (i + 1).to_string())
    };
    let _ = writeln!(out, "\nServices under way: {}", p.active_services.len());
    for s in &p.active_services {
        let mut line = format!("{} ({}, {}", s.kind, s.format, s.provider);
        if let Some(name) = &s.provider_name {
            line.push_str(&format!(": {}", shown(name.expose())));
        }
        if let Some(person) = &s.provider_person {
            line.push_str(&format!(", {}", shown(person.as_str())));
        }
        line.push_str(&format!(") since {}", s.started_on));
        if !s.linked_goals.is_empty() {
            let goals: Vec<String> = s.linked_goals.iter().map(goal_number).collect();
            line.push_str(&format!(", for goal {}", goals.join(", ")));
        }
        out.push_str(&wrapped("  ", "    ", &line));
    }
    let _ = writeln!(out, "Open referrals: {}", p.open_referrals.len());
    for r in &p.open_referrals {
        let state = match (r.state, r.state_on) {
            (Some(s), Some(on)) => format!("{s} since {on}"),
            _ => "no news yet".into(),
        };
        let mut line = r.resource.to_string();
        if let Some(org) = &r.organisation {
            line.push_str(&format!(" — {}", shown(org.expose())));
        }
        line.push_str(&format!(
            ": made {} ({} ago), outcome expected by {}: {state}",
            r.made_on,
            days(r.age_days(today)),
            r.expected_by
        ));
        out.push_str(&wrapped("  ", "    ", &line));
    }
    let _ = writeln!(out, "Open legal matters: {}", p.open_legal_matters.len());
    for m in &p.open_legal_matters {
        let _ = writeln!(out, "  {} ({}) since {}", m.area, m.kind, m.opened_on);
    }
    let _ = writeln!(
        out,
        "Open rights concerns: {}",
        p.open_rights_concerns.len()
    );
    for c in &p.open_rights_concerns {
        let articles: Vec<String> = c.articles.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  {} ({}) since {}",
            c.right,
            articles.join(", "),
            c.raised_on
        );
    }
    let consents: Vec<String> = p.consents.iter().map(ToString::to_string).collect();
    let _ = writeln!(out, "Consents in force: {}", listed(&consents));
    let _ = writeln!(out, "Circle: {}", count(p.circle.len(), "person", "people"));
    for m in &p.circle {
        out.push_str(&wrapped("  ", "    ", &text::circle_line(m)));
    }
    out
}

/// The trajectory page: the child's whole story on one page, in the order a clinician reads it
/// before a reassessment.
pub fn render_trajectory(
    child: ChildId,
    t: &Trajectory,
    as_of: Option<ClinicalDate>,
    known_at: Option<DateTime<Utc>>,
) -> String {
    let mut out = String::new();
    let mut title = format!("Trajectory of child {child}");
    if let Some(b) = t.birth_date.as_ref().and_then(|b| b.known()) {
        title.push_str(&format!(", born {b}"));
    }
    if let Some(d) = as_of {
        title.push_str(&format!(" — as of {d}"));
    }
    if let Some(at) = known_at {
        title.push_str(&format!(
            " — as recorded at {}",
            at.format("%Y-%m-%d %H:%M:%SZ")
        ));
    }
    out.push_str(&wrapped("", "  ", &title));

    section(&mut out, "Periods of care");
    for e in &t.episodes {
        let mut line = format!(
            "#{} {}: request {} ({})",
            e.number, e.centre, e.requested_on, e.source
        );
        if let (Some(on), Some(d)) = (e.assessed_on, &e.decision) {
            match d {
                InitialDecision::Redirected { to } => line.push_str(&format!(
                    " → assessed {on}, redirected to {}",
                    shown(to.expose())
                )),
                other => line.push_str(&format!(" → assessed {on}, {}", other.word())),
            }
        }
        if let Some(m) = e.first_meeting_on {
            line.push_str(&format!(" → first meeting {m}"));
        }
        match (e.closed_on, e.closure_reason) {
            (Some(on), Some(r)) => line.push_str(&format!(" → closed {on} ({r})")),
            _ => line.push_str(" → open"),
        }
        out.push_str(&wrapped("  ", "     ", &line));
    }

    if !t.circle.is_empty() {
        section(&mut out, "The child's circle");
        for m in &t.circle {
            out.push_str(&wrapped("  ", "    ", &text::circle_line(m)));
        }
    }

    if !t.meetings.is_empty() {
        section(&mut out, "Meetings");
        for m in &t.meetings {
            let mut head = format!("#{} {} {}", m.meeting_number, m.kind, m.occurred_on);
            if let Some(a) = m.age_months {
                head.push_str(&format!(" (age {})", age(a)));
            }
            if m.child_took_part {
                head.push_str(", the child took part");
            }
            out.push_str(&wrapped("  ", "     ", &head));
            let who: Vec<String> = m.participants.iter().map(participant).collect();
            out.push_str(&wrapped("     with: ", "       ", &who.join("; ")));
            if let Some(v) = &m.child_voice {
                out.push_str(&wrapped("     child's words: ", "       ", &quoted(v)));
            }
            for s in &m.strengths {
                out.push_str(&wrapped(
                    &format!("     strength ({}): ", s.held_by),
                    "       ",
                    &shown(s.description.expose()),
                ));
            }
            if let Some(h) = &m.hypotheses {
                out.push_str(&wrapped("     hypotheses: ", "       ", &shown(h.expose())));
            }
        }
    }

    if !t.needs.meetings.is_empty() {
        section(&mut out, "Needs by domain across meetings");
        let dates: Vec<String> = t
            .needs
            .meetings
            .iter()
            .map(|n| {
                t.meetings
                    .iter()
                    .find(|m| m.meeting_number == *n)
                    .map_or_else(String::new, |m| m.occurred_on.to_string())
            })
            .collect();
        let rows: Vec<(String, Vec<String>)> = t
            .needs
            .rows
            .iter()
            .map(|row| {
                (
                    row.domain.to_string(),
                    row.levels
                        .iter()
                        .map(|l| l.map_or("·".to_string(), |l| l.to_string()))
                        .collect(),
                )
            })
            .collect();
        let heads: Vec<String> = t.needs.meetings.iter().map(|n| format!("#{n}")).collect();
        grid(&mut out, &heads, &dates, &rows);
    }

    if !t.screenings.is_empty() {
        section(&mut out, "Developmental screenings");
        for instrument in ScreeningInstrument::ALL {
            let taken: Vec<_> = t
                .screenings
                .iter()
                .filter(|s| s.instrument == *instrument)
                .collect();
            if taken.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {}", instrument.name());
            let heads: Vec<String> = taken.iter().map(|s| s.occurred_on.to_string()).collect();
            let ages: Vec<String> = taken
                .iter()
                .map(|s| s.age_months.map(age).unwrap_or_default())
                .collect();
            let rows: Vec<(String, Vec<String>)> = instrument
                .domains()
                .iter()
                .filter(|d| {
                    taken
                        .iter()
                        .any(|s| s.results.iter().any(|r| r.domain == **d))
                })
                .map(|d| {
                    (
                        d.to_string(),
                        taken
                            .iter()
                            .map(|s| {
                                s.results
                                    .iter()
                                    .find(|r| r.domain == *d)
                                    .map_or("·".to_string(), screening_cell)
                            })
                            .collect(),
                    )
                })
                .collect();
            grid(&mut out, &heads, &ages, &rows);
        }
    }

    if !t.plans.is_empty() {
        section(&mut out, "Plan versions");
        for p in &t.plans {
            let mut line = format!(
                "v{} {} {} after meeting #{}: {}",
                p.version,
                if p.revision { "revised" } else { "adopted" },
                p.adopted_on,
                p.meeting_number,
                count(p.goals.len(), "goal", "goals")
            );
            if p.revision {
                line.push_str(&format!(
                    " ({} carried forward, {} new, {} left out)",
                    p.carried.len(),
                    p.added.len(),
                    p.left_out.len()
                ));
            }
            if let Some(n) = p.next_reassessment_on {
                line.push_str(&format!("; reassess by {n}"));
            }
            out.push_str(&wrapped("  ", "     ", &line));
        }
        section(&mut out, "Goals and what became of them");
        for g in &t.goals {
            out.push_str(&wrapped(
                "  ",
                "    ",
                &format!("[{}] {}", g.domain, shown(g.description.expose())),
            ));
            let versions = if g.first_version == g.last_version {
                format!("v{}", g.first_version)
            } else {
                format!("v{}–v{}", g.first_version, g.last_version)
            };
            out.push_str(&wrapped(
                "     ",
                "       ",
                &format!(
                    "{versions}, target {}, responsible: {}",
                    g.target_on,
                    text::responsible(&g.responsible, &t.circle)
                ),
            ));
            let progress: Vec<String> =
                g.progress.iter().map(|(d, s)| format!("{s} {d}")).collect();
            out.push_str(&wrapped(
                "     progress: ",
                "       ",
                &if progress.is_empty() {
                    "none recorded".to_string()
                } else {
                    progress.join(", ")
                },
            ));
            let mut fate = g.fate.label().to_string();
            if let Some(on) = g.fate_on {
                fate.push_str(&format!(" ({on})"));
            }
            if !g.replaced_by.is_empty() {
                let by: Vec<String> = g
                    .replaced_by
                    .iter()
                    .filter_map(|id| t.goals.iter().find(|o| o.goal_id == *id))
                    .map(|o| format!("\"{}\"", shown(o.description.expose())))
                    .collect();
                fate.push_str(&format!(" by {}", by.join(", ")));
            }
            out.push_str(&wrapped("     fate: ", "       ", &fate));
        }
    }

    if !t.services.is_empty() {
        section(&mut out, "Services");
        for s in &t.services {
            let mut line = format!("{} ({}, {}", s.kind, s.format, s.provider);
            if let Some(name) = &s.provider_name {
                line.push_str(&format!(": {}", shown(name.expose())));
            }
            if let Some(person) = &s.provider_person {
                line.push_str(&format!(", {}", shown(person.as_str())));
            }
            line.push_str(&format!(") from {}", s.started_on));
            match (s.ended_on, s.end) {
                (Some(on), Some(end)) => line.push_str(&format!(" to {on}, {end}")),
                (Some(on), None) => line.push_str(&format!(" to {on}")),
                _ => line.push_str(", under way"),
            }
            let goals: Vec<String> = s
                .linked_goals
                .iter()
                .filter_map(|id| t.goals.iter().find(|g| g.goal_id == *id))
                .map(|g| format!("\"{}\"", shown(g.description.expose())))
                .collect();
            if !goals.is_empty() {
                line.push_str(&format!("; for {}", goals.join(", ")));
            }
            out.push_str(&wrapped("  ", "    ", &line));
        }
    }

    if !t.referrals.is_empty() {
        section(&mut out, "Referrals");
        for r in &t.referrals {
            let mut line = r.resource.to_string();
            if let Some(org) = &r.organisation {
                line.push_str(&format!(" — {}", shown(org.expose())));
            }
            line.push_str(&format!(": made {}", r.made_on));
            if let Some(e) = r.expected_by {
                line.push_str(&format!(", expected by {e}"));
            }
            match (r.latest(), r.final_outcome, r.days_to_outcome) {
                (Some((on, o)), Some(_), Some(d)) => {
                    line.push_str(&format!(": {o} {on}, after {}", days(d)))
                }
                (Some((on, o)), _, _) => line.push_str(&format!(": {o} since {on}")),
                (None, _, _) => line.push_str(": no outcome recorded yet"),
            }
            out.push_str(&wrapped("  ", "    ", &line));
        }
    }
    if !t.legal_matters.is_empty() {
        section(&mut out, "Legal interventions");
        for m in &t.legal_matters {
            let end = match (m.concluded_on, m.outcome) {
                (Some(d), Some(o)) => format!("concluded {d}: {o}"),
                _ => "open".into(),
            };
            out.push_str(&wrapped(
                "  ",
                "    ",
                &format!("{} ({}) opened {}, {end}", m.area, m.kind, m.opened_on),
            ));
        }
    }
    if !t.rights_concerns.is_empty() {
        section(&mut out, "Children's rights concerns");
        for c in &t.rights_concerns {
            let articles: Vec<String> = c.articles.iter().map(ToString::to_string).collect();
            let end = match (c.resolved_on, c.resolution) {
                (Some(d), Some(r)) => format!("settled {d}: {r}"),
                _ => "open".into(),
            };
            out.push_str(&wrapped(
                "  ",
                "    ",
                &format!(
                    "{} ({}) raised {}, {end}",
                    c.right,
                    articles.join(", "),
                    c.raised_on
                ),
            ));
        }
    }

    section(&mut out, "Timeline");
    for e in &t.timeline {
        let age = e.age_months.map(age).unwrap_or_default();
        let mut line = shown(&e.summary).into_owned();
        if let Some(about) = &e.about {
            line.push_str(&format!(" — {}", quoted(about)));
        }
        out.push_str(&wrapped(
            &format!("  {}  #{:<4} {:<7} ", e.occurred_on, e.sequence, age),
            &" ".repeat(28),
            &line,
        ));
        if let Some(c) = &e.correction {
            out.push_str(&correction_note(c, as_of));
        }
    }
    out
}

/// How a correction changed an entry, under the entry: by which entry, when, why, what changed.
/// In a view as of a date before the correction, it says the correction came later.
pub fn correction_note(
    c: &lifecourse_projections::CorrectionMark,
    as_of: Option<ClinicalDate>,
) -> String {
    let what = if c.entered_in_error {
        "entered in error"
    } else {
        "corrected"
    };
    let when = if as_of.is_some_and(|d| c.corrected_on > d) {
        format!("later, on {} (after this view's date)", c.corrected_on)
    } else {
        format!("on {}", c.corrected_on)
    };
    let mut out = wrapped(
        &" ".repeat(28),
        &" ".repeat(30),
        &format!(
            "{what} {when} by entry #{}: {}",
            c.by_sequence,
            shown(c.reason.expose())
        ),
    );
    for change in &c.changes {
        out.push_str(&wrapped(
            &" ".repeat(30),
            &" ".repeat(32),
            &change_line(change),
        ));
    }
    out
}

/// "field: before → after", with "(none)" for an absent value.
pub fn change_line(change: &FieldChange) -> String {
    let side = |v: &Option<Identifying<String>>| {
        v.as_ref()
            .map_or("(none)".to_string(), |v| shown(v.expose()).into_owned())
    };
    format!(
        "{}: {} → {}",
        change.field,
        side(&change.before),
        side(&change.after)
    )
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}");
}

/// A meeting participant in words: name and relation where known, then the role.
fn participant(p: &lifecourse_projections::MeetingParticipant) -> String {
    let role = p.role.to_string();
    match (&p.name, p.relation, &p.person) {
        (Some(name), Some(relation), _) => {
            format!("{} ({relation}, {role})", shown(name.expose()))
        }
        (Some(name), None, _) => format!("{} ({role})", shown(name.expose())),
        (None, _, Some(person)) => format!("{} ({role})", shown(person.as_str())),
        (None, _, None) => role,
    }
}

/// A screening result in a grid cell: score and band ("7.5 on track"), either alone.
fn screening_cell(r: &ScreeningResult) -> String {
    match (r.score, r.band) {
        (Some(s), Some(b)) => format!("{s} {b}"),
        (Some(s), None) => s.to_string(),
        (None, Some(b)) => b.to_string(),
        (None, None) => "·".into(),
    }
}

/// A table with a label column and one column per heading (with a second heading line), split
/// into blocks of columns so that no line is wider than the page.
fn grid(out: &mut String, heads: &[String], subheads: &[String], rows: &[(String, Vec<String>)]) {
    let label = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(8)
        + 2;
    let cell = heads
        .iter()
        .chain(subheads)
        .chain(rows.iter().flat_map(|(_, cells)| cells))
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1)
        + 2;
    let per_block = ((text::WIDTH - 4 - label) / cell).max(1);
    for start in (0..heads.len()).step_by(per_block) {
        let end = (start + per_block).min(heads.len());
        let mut line = format!("    {:<label$}", "");
        for h in &heads[start..end] {
            line.push_str(&format!("{h:<cell$}"));
        }
        let _ = writeln!(out, "{}", line.trim_end());
        let mut line = format!("    {:<label$}", "");
        for h in &subheads[start..end] {
            line.push_str(&format!("{h:<cell$}"));
        }
        let _ = writeln!(out, "{}", line.trim_end());
        for (name, cells) in rows {
            let mut line = format!("    {name:<label$}");
            for c in &cells[start..end] {
                line.push_str(&format!("{c:<cell$}"));
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}
