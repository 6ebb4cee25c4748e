//! `lifecourse gaps` (the follow-up worklist on any date) and `lifecourse indicators`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use lifecourse_events::*;
use lifecourse_projections::{
    gaps_on, indicators, ChildHistory, Expectation, Gap, Indicators, Trajectory,
};
use serde::Serialize;

use super::read::{json, parse_moment, unreadable};
use super::{local_today, Context, Failure};
use crate::runner::Projection;

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum GapsFormat {
    #[default]
    Text,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct GapsArgs {
    /// Only this centre's gaps (default: every centre)
    #[arg(long)]
    centre: Option<CentreId>,
    /// The day the worklist is judged on (default: today)
    #[arg(long)]
    as_of: Option<ClinicalDate>,
    /// Record time: judge from the record as it stood at this moment (RFC 3339, or a date for the
    /// end of that day, UTC) — what the worklist showed then
    #[arg(long, value_parser = parse_moment)]
    known_at: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t)]
    format: GapsFormat,
}

#[derive(Args, Debug)]
pub struct IndicatorsArgs {
    /// Only this centre (default: every centre)
    #[arg(long)]
    centre: Option<CentreId>,
    /// First day of the period (default: a year before --to)
    #[arg(long)]
    from: Option<ClinicalDate>,
    /// Last day of the period (default: today)
    #[arg(long)]
    to: Option<ClinicalDate>,
    #[arg(long, value_enum, default_value_t)]
    format: super::Format,
}

#[derive(Serialize)]
struct GapsReport<'a> {
    as_of: ClinicalDate,
    known_at: Option<DateTime<Utc>>,
    centre: Option<&'a CentreId>,
    gaps: &'a [Gap],
}

pub async fn gaps(ctx: &Context<'_>, args: GapsArgs) -> Result<(), Failure> {
    let as_of = args.as_of.unwrap_or_else(local_today);
    let expectations = match args.known_at {
        None => stored_expectations(ctx).await?,
        Some(at) => {
            let rules = &ctx.config.follow_up;
            all_histories(ctx)
                .await?
                .into_iter()
                .flat_map(|h| lifecourse_projections::expectations(&h.known_at(at), rules))
                .collect()
        }
    };
    let gaps: Vec<Gap> = gaps_on(
        expectations
            .iter()
            .filter(|e| args.centre.as_ref().is_none_or(|c| *c == e.centre)),
        as_of,
    );
    match args.format {
        GapsFormat::Json => out!(
            "{}",
            json(&GapsReport {
                as_of,
                known_at: args.known_at,
                centre: args.centre.as_ref(),
                gaps: &gaps
            })
        ),
        GapsFormat::Csv => out!("{}", csv_of(&gaps)?.trim_end()),
        GapsFormat::Text => out!(
            "{}",
            render_gaps(&gaps, as_of, args.centre.as_ref()).trim_end()
        ),
    }
    Ok(())
}

pub async fn indicators_command(ctx: &Context<'_>, args: IndicatorsArgs) -> Result<(), Failure> {
    let to = args.to.unwrap_or_else(local_today);
    let from = args.from.unwrap_or_else(|| to.plus_days(-364));
    if from > to {
        return Err(Failure::Input(format!(
            "--from {from} is after --to {to}; the period must start before it ends"
        )));
    }
    let expectations = stored_expectations(ctx).await?;
    let trajectories: Vec<Trajectory> = ctx
        .store
        .view_rows(Projection::Trajectory.table(), None)
        .await?
        .iter()
        .map(|row| serde_json::from_str(&row.view).map_err(unreadable))
        .collect::<Result<_, _>>()?;
    let report = indicators(
        &trajectories,
        &expectations,
        args.centre.as_ref(),
        from,
        to,
        &ctx.config.follow_up,
    );
    match args.format {
        super::Format::Json => out!("{}", json(&report)),
        super::Format::Text => out!("{}", render_indicators(&report).trim_end()),
    }
    Ok(())
}

/// Every child's expectations, from the follow-up read model (brought up to date first).
async fn stored_expectations(ctx: &Context<'_>) -> Result<Vec<Expectation>, Failure> {
    ctx.caught_up().await?;
    let mut all = Vec::new();
    for row in ctx
        .store
        .view_rows(Projection::FollowUp.table(), None)
        .await?
    {
        let mut expectations: Vec<Expectation> =
            serde_json::from_str(&row.view).map_err(unreadable)?;
        all.append(&mut expectations);
    }
    Ok(all)
}

async fn all_histories(ctx: &Context<'_>) -> Result<Vec<ChildHistory>, Failure> {
    let horizon = ctx.store.horizon().await?;
    let children = ctx.store.children_upto(horizon).await?;
    let mut histories = Vec::with_capacity(children.len());
    for chunk in children.chunks(250) {
        for events in ctx.store.histories(chunk, None).await?.into_values() {
            histories.push(ChildHistory::from_events(events));
        }
    }
    Ok(histories)
}

fn csv_of(gaps: &[Gap]) -> Result<String, Failure> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Failure::Store(format!("cannot write CSV: {e}"));
    writer
        .write_record([
            "rule",
            "child_id",
            "centre",
            "subject",
            "due_on",
            "days_overdue",
            "source_sequence",
            "source_event_type",
            "source_occurred_on",
            "source_event_id",
        ])
        .map_err(io)?;
    for g in gaps {
        writer
            .write_record([
                g.rule.as_str().to_string(),
                g.child_id.to_string(),
                g.centre.to_string(),
                g.subject.map(|s| s.to_string()).unwrap_or_default(),
                g.due_on.to_string(),
                g.days_overdue.to_string(),
                g.source.sequence.to_string(),
                g.source.event_type.clone(),
                g.source.occurred_on.to_string(),
                g.source.event_id.to_string(),
            ])
            .map_err(io)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Failure::Store(e.to_string()))?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields"))
}

fn render_gaps(gaps: &[Gap], as_of: ClinicalDate, centre: Option<&CentreId>) -> String {
    let mut out = String::new();
    let whose = centre.map_or("every centre".to_string(), |c| c.to_string());
    let _ = writeln!(out, "Follow-up gaps on {as_of} for {whose}: {}", gaps.len());
    let mut by_rule = std::collections::BTreeMap::new();
    for g in gaps {
        *by_rule.entry(g.rule).or_insert(0usize) += 1;
    }
    for (rule, n) in &by_rule {
        let _ = writeln!(out, "  {n:>5}  {}", rule.describe());
    }
    if gaps.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n{:<20} {:<36} {:<18} {:<10} {:>8}  since",
        "rule", "child", "centre", "due", "overdue"
    );
    for g in gaps {
        let _ = writeln!(
            out,
            "{:<20} {:<36} {:<18} {:<10} {:>5} d  #{} {} on {}",
            g.rule.as_str(),
            g.child_id,
            g.centre,
            g.due_on,
            g.days_overdue,
            g.source.sequence,
            g.source.event_type,
            g.source.occurred_on
        );
    }
    out
}

fn render_indicators(r: &Indicators) -> String {
    let mut out = String::new();
    let whose = r
        .centre
        .as_ref()
        .map_or("every centre".to_string(), |c| c.to_string());
    let _ = writeln!(out, "Indicators for {whose}, {} to {}", r.from, r.to);
    let median = |m: &lifecourse_projections::indicators::MedianDays| match m.median {
        Some(d) => format!("{d:.1} days (median of {})", m.cases),
        None => "no cases".to_string(),
    };
    let share = |s: &lifecourse_projections::indicators::Share| match s.share {
        Some(x) => format!("{:.0}% ({} of {})", x * 100.0, s.count, s.of),
        None => "no cases".to_string(),
    };
    let _ = writeln!(
        out,
        "  request → initial assessment:      {}",
        median(&r.request_to_assessment)
    );
    let _ = writeln!(
        out,
        "  request → first meeting:           {}",
        median(&r.request_to_first_meeting)
    );
    let _ = writeln!(
        out,
        "  meeting → action plan:             {}",
        median(&r.meeting_to_plan)
    );
    let _ = writeln!(
        out,
        "  referral outcome by expected date: {}",
        share(&r.referral_outcome_by_expected_date)
    );
    let _ = writeln!(
        out,
        "  reassessments on time:             {}",
        share(&r.reassessments_on_time)
    );
    let g = &r.goal_attainment;
    let _ = writeln!(
        out,
        "  goals due in the period:           {} — achieved {}, partially {}, not achieved {}, abandoned {}, under way {}, no progress recorded {}",
        g.goals, g.achieved, g.partially_achieved, g.not_achieved, g.abandoned, g.under_way, g.no_progress_recorded
    );
    if let Some(x) = g.achieved_share {
        let _ = writeln!(
            out,
            "  goal attainment:                   {:.0}% achieved",
            x * 100.0
        );
    }
    out
}
