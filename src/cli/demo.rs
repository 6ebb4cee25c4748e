//! `lifecourse demo`: records the synthetic cohort through the ordinary command path, then shows
//! what it made and one child's history read back from the store.

use std::collections::BTreeMap;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lifecourse_events::*;

use super::{history, local_today, Context, Failure};
use crate::cohort::{self, CohortSpec};
use crate::domain::{ClinicalCalendar, Stage};
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
    /// Last clinical date of the cohort (YYYY-MM-DD); defaults to today
    #[arg(long)]
    until: Option<ClinicalDate>,
    /// Centre the cohort belongs to
    #[arg(long, default_value = "centre-sud")]
    centre: CentreId,
}

pub async fn run(ctx: &Context<'_>, url: &str, args: DemoArgs) -> Result<(), Failure> {
    let store = ctx.store;
    let today = local_today();
    let until = args.until.unwrap_or(today);
    if until > today {
        return Err(Failure::Input(format!(
            "--until {until} is in the future (today is {today}); entries cannot be dated after today"
        )));
    }
    if args.children == 0 || args.years == 0 {
        return Err(Failure::Input(
            "--children and --years must be at least 1".into(),
        ));
    }
    let spec = CohortSpec {
        seed: args.seed,
        children: args.children,
        years: args.years,
        centre: args.centre,
        ..CohortSpec::one_centre(until)
    };
    let cohort = cohort::plan(&spec).map_err(|e| Failure::Store(e.to_string()))?;
    let calendar = ClinicalCalendar { today };

    let bar = ProgressBar::new(cohort.requests.len() as u64).with_style(
        ProgressStyle::with_template(
            "{spinner} recording {pos}/{len} commands [{bar:40}] {per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let (mut stored, mut replayed) = (0usize, 0usize);
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for request in cohort.requests.iter().cloned() {
        let recorded = store.record(calendar, request).await?;
        for entry in &recorded.entries {
            *by_type.entry(entry.event_type.clone()).or_default() += 1;
        }
        if recorded.replayed {
            replayed += recorded.entries.len();
        } else {
            stored += recorded.entries.len();
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();

    out!(
        "Demo cohort in {} ({} store): seed {}, {} children of {}, {} to {}",
        redact(url),
        store.backend(),
        spec.seed,
        spec.children,
        spec.centre,
        until.plus_days(-i64::from(spec.years) * 365),
        until
    );
    out!(
        "  {stored} entries recorded, {replayed} already present (same idempotency keys), \
         {} commands in {elapsed:.1} s ({:.0} commands/s)",
        cohort.requests.len(),
        cohort.requests.len() as f64 / elapsed.max(1e-9)
    );
    let mut stages: BTreeMap<String, usize> = BTreeMap::new();
    for child in &cohort.children {
        *stages
            .entry(stage_name(child.file.state().stage))
            .or_default() += 1;
    }
    out!(
        "  files: {}",
        stages
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out!("  entries by type:");
    for (event_type, n) in &by_type {
        out!("    {n:>6}  {event_type}");
    }
    let stats = store.stats().await?;
    out!(
        "  the store now holds {} files and {} entries",
        stats.children,
        stats.events
    );

    // The child whose history shows the most kinds of entry.
    if let Some(example) = cohort.children.iter().max_by_key(|c| {
        let kinds: std::collections::BTreeSet<_> =
            c.file.entries().iter().map(|e| e.event_type()).collect();
        (kinds.len(), std::cmp::Reverse(c.file.entries().len()))
    }) {
        out!(
            "\nOne child's history, read back from the store (lifecourse history {}):\n",
            example.child_id
        );
        let events = store.history(example.child_id).await?;
        out!("{}", history::render_text(&events).trim_end());
    }
    let started = Instant::now();
    ctx.runner()
        .catch_up()
        .await
        .map_err(super::project::runner_failure)?;
    out!(
        "\nRead models (plan, trajectory, follow-up) brought up to date in {:.2} s. Next:",
        started.elapsed().as_secs_f64()
    );
    out!("  lifecourse gaps                 today's follow-up worklist");
    out!("  lifecourse plan CHILD_ID        a child's current action plan");
    out!("  lifecourse trajectory CHILD_ID  a child's whole trajectory");
    out!("  lifecourse indicators           the centre's indicators over the last year");
    Ok(())
}

fn stage_name(stage: Stage) -> String {
    match stage {
        Stage::AwaitingAssessment | Stage::AwaitingDecision => "awaiting a decision".into(),
        other => other.to_string(),
    }
}
