//! `lifecourse gaps` (the follow-up worklist on any date) and `lifecourse indicators`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use lifecourse_events::*;
use lifecourse_projections::{Gap, Indicators};
use serde::Serialize;

use super::read::{checked, parse_moment};
use super::text::{days, quoted, wrapped};
use super::{freshness_line, json};
use crate::app::{App, AppError, Freshness, Page, Period};

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
    /// Skip this many gaps of the list (paging)
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Show at most this many gaps (default: all)
    #[arg(long)]
    limit: Option<usize>,
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
    /// Record time: count from the record as it stood at this moment (RFC 3339, or a date for
    /// the end of that day, UTC)
    #[arg(long, value_parser = parse_moment)]
    known_at: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t)]
    format: super::Format,
}

#[derive(Serialize)]
struct GapsReport<'a> {
    as_of: ClinicalDate,
    known_at: Option<DateTime<Utc>>,
    centre: Option<&'a CentreId>,
    freshness: &'a Freshness,
    total: usize,
    offset: usize,
    gaps: &'a [Gap],
}

#[derive(Serialize)]
struct IndicatorsReport<'a> {
    freshness: &'a Freshness,
    #[serde(flatten)]
    indicators: &'a Indicators,
}

pub async fn gaps(app: &App, args: GapsArgs) -> Result<(), AppError> {
    let as_of = match checked("--as-of", args.as_of)? {
        Some(on) => on,
        None => app.today(args.centre.as_ref()).await?,
    };
    let page = Page {
        offset: args.offset,
        limit: args.limit,
    };
    let answer = app
        .gaps(args.centre.as_ref(), as_of, args.known_at, page)
        .await?;
    let gaps = &answer.value.gaps;
    match args.format {
        GapsFormat::Json => out!(
            "{}",
            json(&GapsReport {
                as_of,
                known_at: args.known_at,
                centre: answer.value.centre.as_ref(),
                freshness: &answer.freshness,
                total: answer.value.total,
                offset: args.offset,
                gaps
            })?
        ),
        GapsFormat::Csv => {
            out!("{}", csv_of(gaps)?.trim_end());
            // CSV has no place for it: how current the list is goes to standard error.
            err!("{}", freshness_line(&answer.freshness));
        }
        GapsFormat::Text => {
            out!(
                "{}",
                render_gaps(
                    gaps,
                    answer.value.total,
                    as_of,
                    answer.value.centre.as_ref()
                )
                .trim_end()
            );
            out!("{}", freshness_line(&answer.freshness));
        }
    }
    Ok(())
}

pub async fn indicators_command(app: &App, args: IndicatorsArgs) -> Result<(), AppError> {
    let to = match checked("--to", args.to)? {
        Some(on) => on,
        None => app.today(args.centre.as_ref()).await?,
    };
    let period = match checked("--from", args.from)? {
        Some(from) => Period::new(from, to)?,
        None => Period::year_to(to)?,
    };
    let answer = app
        .indicators(args.centre.as_ref(), period, args.known_at)
        .await?;
    match args.format {
        super::Format::Json => out!(
            "{}",
            json(&IndicatorsReport {
                freshness: &answer.freshness,
                indicators: &answer.value
            })?
        ),
        super::Format::Text => {
            out!("{}", render_indicators(&answer.value).trim_end());
            out!("{}", freshness_line(&answer.freshness));
        }
    }
    Ok(())
}

fn csv_of(gaps: &[Gap]) -> Result<String, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::Output {
        format: "CSV",
        message: e.to_string(),
    };
    writer
        .write_record([
            "rule",
            "child_id",
            "centre",
            "subject",
            "about",
            "detail",
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
                g.about.as_ref().map(|a| a.what.clone()).unwrap_or_default(),
                g.about
                    .as_ref()
                    .and_then(|a| a.detail.as_ref())
                    .map(|d| d.expose().clone())
                    .unwrap_or_default(),
                g.due_on.to_string(),
                g.days_overdue.to_string(),
                g.source.sequence.to_string(),
                g.source.event_type.clone(),
                g.source.occurred_on.to_string(),
                g.source.event_id.to_string(),
            ])
            .map_err(io)?;
    }
    let bytes = writer.into_inner().map_err(|e| AppError::Output {
        format: "CSV",
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| AppError::Output {
        format: "CSV",
        message: e.to_string(),
    })
}

fn render_gaps(
    gaps: &[Gap],
    total: usize,
    as_of: ClinicalDate,
    centre: Option<&CentreId>,
) -> String {
    let mut out = String::new();
    let whose = centre.map_or("every centre".to_string(), |c| c.to_string());
    out.push_str(&wrapped(
        "",
        "  ",
        &format!("Follow-up gaps on {as_of} for {whose}: {total}"),
    ));
    if gaps.len() != total {
        let _ = writeln!(out, "  ({} shown on this page)", gaps.len());
    }
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
        "\n{:>9}  {:<10}  {:<36}  what",
        "overdue", "due", "child"
    );
    for g in gaps {
        let _ = writeln!(
            out,
            "{:>9}  {}  {}  {}",
            days(g.days_overdue),
            g.due_on,
            g.child_id,
            g.rule.as_str().replace('_', " ")
        );
        let mut detail = match &g.about {
            Some(about) => match &about.detail {
                Some(d) => format!("{} — {}", about.what, quoted(d)),
                None => about.what.clone(),
            },
            None => g.rule.describe().to_string(),
        };
        if centre.is_none() {
            detail.push_str(&format!(" · {}", g.centre));
        }
        detail.push_str(&format!(
            " · since #{} {} on {}",
            g.source.sequence, g.source.event_type, g.source.occurred_on
        ));
        out.push_str(&wrapped(&" ".repeat(11), &" ".repeat(13), &detail));
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
