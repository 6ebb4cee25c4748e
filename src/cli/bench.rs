//! `lifecourse bench`: the engine's operations against their raw baselines, in one run on one
//! new database; prints the table and, with `--append FILE`, adds it to a Markdown file with the
//! machine, the date, the store and the command line.

use std::io::Write as _;

use clap::Args;

use crate::app::{App, AppError};
use crate::bench::{self, BenchOptions, BenchReport};
use crate::store::redact;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Children of the demo cohort (the rebuild's and the worklist's data)
    #[arg(long, default_value_t = BenchOptions::default().children)]
    children: usize,
    /// Children of about 20 entries the writers record in
    #[arg(long, default_value_t = BenchOptions::default().writer_children)]
    writer_children: usize,
    /// One-event commands (and raw inserts) per writer measurement
    #[arg(long, default_value_t = BenchOptions::default().commands)]
    commands: usize,
    /// Concurrent writers of the second writer measurement
    #[arg(long, default_value_t = BenchOptions::default().writers)]
    writers: usize,
    /// Loads and worklist queries timed for p50/p99
    #[arg(long, default_value_t = BenchOptions::default().samples)]
    samples: usize,
    /// Entries of the child that is loaded
    #[arg(long, default_value_t = BenchOptions::default().long_child_events)]
    long_child_events: usize,
    /// Seed of the cohort
    #[arg(long, default_value_t = BenchOptions::default().seed)]
    seed: u64,
    /// Append the table, with the machine, date, store and command line, to this Markdown file
    #[arg(long, value_name = "FILE")]
    append: Option<std::path::PathBuf>,
}

/// Bounds that keep a mistyped size from running for days.
const MAX_CHILDREN: usize = 1_000_000;
const MAX_COUNT: usize = 10_000_000;

pub async fn run(app: &App, args: BenchArgs) -> Result<(), AppError> {
    for (what, value, max) in [
        ("--children", args.children, MAX_CHILDREN),
        ("--writer-children", args.writer_children, MAX_CHILDREN),
        ("--commands", args.commands, MAX_COUNT),
        ("--writers", args.writers, 256),
        ("--samples", args.samples, MAX_COUNT),
        ("--long-child-events", args.long_child_events, 100_000),
    ] {
        if value == 0 || value > max {
            return Err(crate::app::InvalidInput::OutOfRange {
                what: what.to_string(),
                min: 1,
                max: max as u64,
                got: value.to_string(),
            }
            .into());
        }
    }
    let options = BenchOptions {
        children: args.children,
        writer_children: args.writer_children,
        commands: args.commands,
        writers: args.writers,
        samples: args.samples,
        long_child_events: args.long_child_events.max(3),
        seed: args.seed,
    };
    let started = std::time::Instant::now();
    let report = bench::run(app, &options, |line| {
        err!("bench [{:>6.1} s] {line}", started.elapsed().as_secs_f64())
    })
    .await?;
    let section = section(&report);
    out!("{}", section.trim_end());
    if let Some(path) = args.append {
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| {
                f.write_all(format!("\n{section}").as_bytes())?;
                f.flush()
            });
        if let Err(e) = appended {
            return Err(AppError::Output {
                format: "Markdown",
                message: format!("cannot append to {}: {e}", path.display()),
            });
        }
        err!("bench: table appended to {}", path.display());
    }
    Ok(())
}

/// The Markdown section for one run: a heading, the conditions, the table.
fn section(report: &BenchReport) -> String {
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let command: Vec<String> = std::iter::once("lifecourse".to_string())
        .chain(std::env::args().skip(1).map(|a| redact(&a)))
        .collect();
    format!(
        "### {} — {date}\n\nMachine: {cores} cores ({}), {}. Store: {}, {} events of {} children \
         at the end of the run. Command: `{}`.\n\n{}",
        report.store,
        cpu_model().unwrap_or_else(|| "CPU model unknown".to_string()),
        memory().unwrap_or_else(|| "memory unknown".to_string()),
        report.store,
        report.events,
        report.children,
        command.join(" "),
        report.table()
    )
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
}

fn memory() -> Option<String> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
}
