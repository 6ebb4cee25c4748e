//! `lifecourse demo`: records the synthetic cohort through the ordinary command path, then shows
//! what it made and one child's history read back from the store.

use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lifecourse_events::*;

use super::history;
use super::read::checked;
use crate::app::{App, AppError, InvalidInput};
use crate::cohort::CohortSpec;
use crate::store::redact;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// How many children
    #[arg(long, default_value_t = 400)]
    children: usize,
    /// Random seed: the same seed gives the same cohort
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Years of history
    #[arg(long, default_value_t = 5)]
    years: u32,
    /// Last clinical date of the cohort (YYYY-MM-DD); defaults to 2026-06-30 (or today, if
    /// earlier), so that running the demo again, any day, stores nothing new
    #[arg(long)]
    until: Option<ClinicalDate>,
    /// Centre the cohort belongs to
    #[arg(long, default_value = "centre-sud")]
    centre: CentreId,
}

/// Beyond these the cohort would take hours or leave the calendar; the defaults are far below.
/// (The cohort is planned and recorded a few hundred children at a time: memory does not grow
/// with it.)
const MAX_CHILDREN: usize = 1_000_000;
const MAX_YEARS: u32 = 100;
/// The default last date of the cohort: fixed, so the same command makes the same cohort.
const DEFAULT_UNTIL: &str = "2026-06-30";

pub async fn run(app: &App, url: &str, args: DemoArgs) -> Result<(), AppError> {
    let today = app.today(Some(&args.centre)).await?;
    let fixed: ClinicalDate = DEFAULT_UNTIL.parse().expect("a valid date");
    let until = checked("--until", args.until)?.unwrap_or(fixed.min(today));
    if until > today {
        return Err(InvalidInput::UntilInFuture { until, today }.into());
    }
    if args.children == 0 || args.children > MAX_CHILDREN {
        return Err(out_of_range(
            "--children",
            1,
            MAX_CHILDREN as u64,
            args.children,
        ));
    }
    if args.years == 0 || args.years > MAX_YEARS {
        return Err(out_of_range("--years", 1, u64::from(MAX_YEARS), args.years));
    }
    let spec = CohortSpec {
        seed: args.seed,
        children: args.children,
        years: args.years,
        centre: args.centre,
        ..CohortSpec::one_centre(until)
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} recording {pos} commands {per_sec}")
            .expect("valid template"),
    );
    let started = Instant::now();
    let report = app.demo(&spec, |n| bar.inc(n as u64)).await?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();

    out!(
        "Demo cohort in {} ({} store): seed {}, {} children of {}, {} to {}",
        redact(url),
        app.backend(),
        spec.seed,
        spec.children,
        spec.centre,
        until.plus_days(-i64::from(spec.years) * 365),
        until
    );
    out!(
        "  {} entries recorded, {} already present (same idempotency keys), \
         {} commands in {elapsed:.1} s ({:.0} commands/s)",
        report.stored,
        report.replayed,
        report.commands,
        report.commands as f64 / elapsed.max(1e-9)
    );
    out!(
        "  recorded by the demo's staff, registered in the staff register: {}",
        report
            .staff
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    out!(
        "  files: {}",
        report
            .stages
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out!("  entries by type:");
    for (event_type, n) in &report.by_type {
        out!("    {n:>6}  {event_type}");
    }
    let stats = app.stats().await?;
    out!(
        "  the store now holds {} files and {} entries",
        stats.children,
        stats.events
    );

    if let Some(example) = report.example {
        out!("\nOne child's history, read back from the store (lifecourse history {example}):\n");
        let events = app.history(example).await?.value;
        out!("{}", history::render_text(&events).trim_end());
    }
    let started = Instant::now();
    app.catch_up().await?;
    out!(
        "\nRead models (plan, trajectory, follow-up) brought up to date in {:.2} s. Next:",
        started.elapsed().as_secs_f64()
    );
    out!("  lifecourse gaps                 today's follow-up worklist");
    out!("  lifecourse plan CHILD_ID        a child's current action plan");
    out!("  lifecourse trajectory CHILD_ID  a child's whole trajectory");
    out!("  lifecourse indicators           the centre's indicators over the last year");
    out!("  lifecourse audit CHILD_ID       who decided what, when, knowing what");
    out!("  lifecourse verify               prove that no event was altered behind the engine's back");
    Ok(())
}

fn out_of_range(what: &str, min: u64, max: u64, got: impl ToString) -> AppError {
    InvalidInput::OutOfRange {
        what: what.to_string(),
        min,
        max,
        got: got.to_string(),
    }
    .into()
}
