//! `lifecourse plan` and `lifecourse trajectory`: one child's current plan and whole trajectory.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use clap::Args;
use lifecourse_events::*;
use lifecourse_projections::{CurrentPlan, Trajectory};
use serde::Serialize;

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

fn short(id: impl ToString) -> String {
    id.to_string().chars().take(8).collect()
}

/// An age in months as "6y10m".
pub fn age(months: i32) -> String {
    format!("{}y{}m", months / 12, months % 12)
}

pub fn render_plan(p: &CurrentPlan, today: ClinicalDate) -> String {
    let mut out = String::new();
    let child = p.child_id.map(|c| c.to_string()).unwrap_or_default();
    let centre = p.centre.as_ref().map(|c| c.to_string()).unwrap_or_default();
    let _ = writeln!(out, "Child {child} — {centre} — file {}", p.status.label());
    match &p.plan {
        None => {
            let _ = writeln!(out, "No action plan in force.");
        }
        Some(plan) => {
            let _ = writeln!(
                out,
                "Action plan v{} adopted {} after meeting #{}:",
                plan.version, plan.adopted_on, plan.meeting_number
            );
            for g in &plan.goals {
                let status = match (g.status, g.status_on) {
                    (Some(s), Some(on)) => format!("{s} ({on})"),
                    _ if g.target_on < today => "no progress recorded — past target".into(),
                    _ => "no progress recorded yet".into(),
                };
                let _ = writeln!(
                    out,
                    "  goal {} [{}] {} — {} by {}: {status}",
                    short(g.goal_id),
                    g.domain,
                    shown(g.description.expose()),
                    g.responsible,
                    g.target_on
                );
            }
        }
    }
    if let Some(next) = p.next_reassessment_on {
        let how = if p.next_reassessment_is_default {
            "default delay after the last meeting"
        } else {
            "set by the plan"
        };
        let late = if next < today { " — overdue" } else { "" };
        let _ = writeln!(out, "Next reassessment: {next} ({how}){late}");
    }
    let _ = writeln!(out, "Active services: {}", p.active_services.len());
    for s in &p.active_services {
        let _ = writeln!(
            out,
            "  {} ({}, {}) since {}",
            s.kind, s.format, s.provider, s.started_on
        );
    }
    let _ = writeln!(out, "Open referrals: {}", p.open_referrals.len());
    for r in &p.open_referrals {
        let state = match (r.state, r.state_on) {
            (Some(s), Some(on)) => format!("{s} since {on}"),
            _ => "no news".into(),
        };
        let _ = writeln!(
            out,
            "  {} made {} ({} days ago), outcome expected by {}: {state}",
            r.resource,
            r.made_on,
            r.age_days(today),
            r.expected_by
        );
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
    let _ = writeln!(
        out,
        "Consents in force: {}",
        if consents.is_empty() {
            "none".into()
        } else {
            consents.join(", ")
        }
    );
    out
}

pub fn render_trajectory(
    child: ChildId,
    t: &Trajectory,
    as_of: Option<ClinicalDate>,
    known_at: Option<DateTime<Utc>>,
) -> String {
    let mut out = String::new();
    let _ = write!(out, "Trajectory of child {child}");
    if let Some(b) = &t.birth_date {
        let _ = write!(out, ", born {}", b.expose());
    }
    if let Some(d) = as_of {
        let _ = write!(out, " — as of {d}");
    }
    if let Some(at) = known_at {
        let _ = write!(out, " — as recorded at {}", at.format("%Y-%m-%d %H:%M:%SZ"));
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "\nEpisodes of care");
    for e in &t.episodes {
        let _ = write!(
            out,
            "  #{} {}: request {} ({})",
            e.number, e.centre, e.requested_on, e.source
        );
        if let (Some(on), Some(d)) = (e.assessed_on, &e.decision) {
            let _ = match d {
                InitialDecision::Redirected { to } => {
                    write!(
                        out,
                        " → assessed {on}, redirected to {}",
                        shown(to.expose())
                    )
                }
                other => write!(out, " → assessed {on}, {}", other.word()),
            };
        }
        if let Some(m) = e.first_meeting_on {
            let _ = write!(out, " → first meeting {m}");
        }
        match (e.closed_on, e.closure_reason) {
            (Some(on), Some(r)) => {
                let _ = write!(out, " → closed {on} ({r})");
            }
            _ => {
                let _ = write!(out, " → open");
            }
        }
        let _ = writeln!(out);
    }

    if !t.needs.meetings.is_empty() {
        let _ = writeln!(out, "\nNeeds by domain (meeting #)");
        let _ = write!(out, "  {:<22}", "");
        for m in &t.needs.meetings {
            let _ = write!(out, "{:<12}", format!("#{m}"));
        }
        let _ = writeln!(out);
        for row in &t.needs.rows {
            let _ = write!(out, "  {:<22}", row.domain.to_string());
            for level in &row.levels {
                let _ = write!(
                    out,
                    "{:<12}",
                    level.map_or("·".to_string(), |l| l.to_string())
                );
            }
            let _ = writeln!(out);
        }
    }

    if !t.meetings.is_empty() {
        let _ = writeln!(out, "\nMeetings");
        for m in &t.meetings {
            let roles: Vec<String> = m.participants.iter().map(ToString::to_string).collect();
            let _ = write!(out, "  #{} {} {}", m.meeting_number, m.kind, m.occurred_on);
            if let Some(a) = m.age_months {
                let _ = write!(out, " (age {})", age(a));
            }
            let _ = write!(out, ": {}", roles.join(", "));
            if m.child_took_part {
                let _ = write!(out, "; the child took part");
            }
            if let Some(v) = &m.child_voice {
                let _ = write!(out, " — \"{}\"", shown(v.expose()));
            }
            let _ = writeln!(out);
        }
    }

    if !t.plans.is_empty() {
        let _ = writeln!(out, "\nPlan versions");
        for p in &t.plans {
            let _ = write!(
                out,
                "  v{} {} {} after meeting #{}: {} goal(s)",
                p.version,
                if p.revision { "revised" } else { "adopted" },
                p.adopted_on,
                p.meeting_number,
                p.goals.len()
            );
            if !p.dropped.is_empty() {
                let dropped: Vec<String> = p.dropped.iter().map(short).collect();
                let _ = write!(out, ", dropped {}", dropped.join(", "));
            }
            if let Some(n) = p.next_reassessment_on {
                let _ = write!(out, "; reassess by {n}");
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "\nGoals and what became of them");
        for g in &t.goals {
            let progress: Vec<String> =
                g.progress.iter().map(|(d, s)| format!("{s} {d}")).collect();
            let _ = writeln!(
                out,
                "  {} [{}] {} (v{}–v{}, target {}): {} — {}",
                short(g.goal_id),
                g.domain,
                shown(g.description.expose()),
                g.first_version,
                g.last_version,
                g.target_on,
                if progress.is_empty() {
                    "no progress recorded".into()
                } else {
                    progress.join(", ")
                },
                match g.fate {
                    lifecourse_projections::GoalFate::InPlan => "in the plan",
                    lifecourse_projections::GoalFate::Dropped => "dropped",
                    lifecourse_projections::GoalFate::EndedWithFile => "file closed",
                }
            );
        }
    }

    if !t.referrals.is_empty() {
        let _ = writeln!(out, "\nReferrals");
        for r in &t.referrals {
            let _ = write!(out, "  {} made {}", r.resource, r.made_on);
            if let Some(e) = r.expected_by {
                let _ = write!(out, ", expected by {e}");
            }
            match (r.final_outcome, r.days_to_outcome) {
                (Some(o), Some(d)) => {
                    let _ = write!(out, ": {o} after {d} days");
                }
                _ => {
                    let _ = write!(out, ": no outcome yet");
                }
            }
            let _ = writeln!(out);
        }
    }
    if !t.legal_matters.is_empty() {
        let _ = writeln!(out, "\nLegal interventions");
        for m in &t.legal_matters {
            let end = match (m.concluded_on, m.outcome) {
                (Some(d), Some(o)) => format!("concluded {d}: {o}"),
                _ => "open".into(),
            };
            let _ = writeln!(
                out,
                "  {} ({}) opened {}, {end}",
                m.area, m.kind, m.opened_on
            );
        }
    }
    if !t.rights_concerns.is_empty() {
        let _ = writeln!(out, "\nChildren's rights concerns");
        for c in &t.rights_concerns {
            let articles: Vec<String> = c.articles.iter().map(ToString::to_string).collect();
            let end = match (c.resolved_on, c.resolution) {
                (Some(d), Some(r)) => format!("resolved {d}: {r}"),
                _ => "open".into(),
            };
            let _ = writeln!(
                out,
                "  {} ({}) raised {}, {end}",
                c.right,
                articles.join(", "),
                c.raised_on
            );
        }
    }

    let _ = writeln!(out, "\nTimeline");
    for e in &t.timeline {
        let age = e.age_months.map(age).unwrap_or_default();
        let _ = write!(
            out,
            "  {}  #{:<4} {:<6} {:<27} {}",
            e.occurred_on,
            e.sequence,
            age,
            e.event_type,
            shown(&e.summary)
        );
        if let Some(c) = &e.correction {
            let what = if c.entered_in_error {
                "entered in error"
            } else {
                "corrected"
            };
            let _ = write!(
                out,
                "  [{what} by #{}: {}]",
                c.by_sequence,
                shown(c.reason.expose())
            );
        }
        let _ = writeln!(out);
    }
    out
}
