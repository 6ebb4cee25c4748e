//! `lifecourse import`: commands from a JSON Lines file, recorded in batches of files with few
//! writes. The file is read twice: once to check every line (nothing is stored when a line is not
//! a command the import can record), then to record.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{json, Format};
use crate::app::{App, AppError, CommandInput, InvalidInput, Principal};

pub const IMPORT_ABOUT: &str = "Records the commands of a JSON Lines file: one command per line, \
as `lifecourse record` takes it, each with its own idempotency_key. Every line is checked before \
anything is stored; then the commands are decided file by file, with the same rules, access \
checks and answers as `record`, and stored in batches. A command the rules refuse is listed with \
its line and the others go on (exit 3 at the end). If the import stops (a crash, a full disk), \
run the same file again: what is stored is recognised by its idempotency key and stored once. \
Files whose commands are grouped by child import fastest.";

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// JSON Lines file of commands (read twice, so not standard input)
    file: PathBuf,
    /// Commands decided and stored together; more is faster and holds more in memory
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    batch: u64,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// How many problems of a file are listed (all are counted).
const LISTED: usize = 20;

#[derive(Debug, Default, Serialize)]
struct Summary {
    commands: usize,
    stored_commands: usize,
    stored_entries: usize,
    already_stored: usize,
    refused: Vec<Refusal>,
}

#[derive(Debug, Serialize)]
struct Refusal {
    line: usize,
    child: Option<String>,
    error: String,
}

pub async fn run(app: &App, principal: &Principal, args: ImportArgs) -> Result<(), AppError> {
    let commands = check_file(&args.file)?;
    let batch = args.batch as usize;
    let bar = ProgressBar::new(commands as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} commands, {per_sec}, {eta} left")
            .expect("valid template"),
    );
    let started = Instant::now();
    let mut summary = Summary {
        commands,
        ..Summary::default()
    };
    let mut pending: Vec<(usize, CommandInput)> = Vec::with_capacity(batch);
    for line in lines(&args.file)? {
        let (number, text) = line?;
        // Checked above: a line that no longer parses means the file changed under the import.
        let input = CommandInput::parse(&text).map_err(|e| changed(&args.file, number, e))?;
        pending.push((number, input));
        if pending.len() == batch {
            record(app, principal, &mut pending, &mut summary, &bar)
                .await
                .map_err(|e| stopped(&bar, &summary, e))?;
        }
    }
    record(app, principal, &mut pending, &mut summary, &bar)
        .await
        .map_err(|e| stopped(&bar, &summary, e))?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    // One user on the embedded store sees what they just imported. The commands are stored by
    // now: read models that cannot follow (a full disk, say) are said so, not reported as a
    // failed import (as `record` does).
    if let Err(error) = app.catch_up_if_embedded().await {
        err!(
            "warning: the commands are stored, but the read models could not be brought up to \
             date after them ({error}); `plan`, `trajectory`, `gaps` and `indicators` do not show \
             them until they catch up, at the next command recorded here, `lifecourse project` \
             or `lifecourse serve`"
        );
    }
    match args.format {
        Format::Json => out!("{}", json(&summary)?),
        Format::Text => {
            out!(
                "imported {}: {} command(s) stored ({} entries), {} already stored (same idempotency key), {} not recorded; {:.1} s, {:.0} commands/s",
                args.file.display(),
                summary.stored_commands,
                summary.stored_entries,
                summary.already_stored,
                summary.refused.len(),
                elapsed,
                commands as f64 / elapsed.max(1e-9)
            );
        }
    }
    if summary.refused.is_empty() {
        Ok(())
    } else {
        Err(AppError::ImportRefused {
            refused: summary.refused.len(),
            commands,
        })
    }
}

/// Records `pending` and counts the answers; a refused command is listed on standard error.
async fn record(
    app: &App,
    principal: &Principal,
    pending: &mut Vec<(usize, CommandInput)>,
    summary: &mut Summary,
    bar: &ProgressBar,
) -> Result<(), AppError> {
    if pending.is_empty() {
        return Ok(());
    }
    let (numbers, inputs): (Vec<usize>, Vec<CommandInput>) =
        std::mem::take(pending).into_iter().unzip();
    let children: Vec<Option<String>> = inputs
        .iter()
        .map(|i| i.child_id.map(|c| c.to_string()))
        .collect();
    let answers = app.import(principal, inputs).await?;
    for ((answer, line), child) in answers.into_iter().zip(numbers).zip(children) {
        match answer {
            Ok(recorded) if recorded.replayed => summary.already_stored += 1,
            Ok(recorded) => {
                summary.stored_commands += 1;
                summary.stored_entries += recorded.entries.len();
            }
            Err(error) => {
                let child = child.or_else(|| error_child(&error));
                bar.suspend(|| {
                    err!(
                        "line {line}{}: {error}",
                        child
                            .as_deref()
                            .map(|c| format!(" (child {c})"))
                            .unwrap_or_default()
                    )
                });
                summary.refused.push(Refusal {
                    line,
                    child,
                    error: error.to_string(),
                });
            }
        }
        bar.inc(1);
    }
    Ok(())
}

fn error_child(error: &AppError) -> Option<String> {
    match error {
        AppError::UnknownChild(child) | AppError::Conflict { child } => Some(child.to_string()),
        AppError::Refused { child, .. } | AppError::KeyReused { child, .. } => {
            Some(child.to_string())
        }
        _ => None,
    }
}

/// The numbered lines of `path` that hold something (blank lines are skipped).
fn lines(
    path: &Path,
) -> Result<impl Iterator<Item = Result<(usize, String), AppError>> + use<'_>, AppError> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    Ok(BufReader::new(file)
        .lines()
        .enumerate()
        .map(move |(i, line)| {
            line.map(|l| (i + 1, l))
                .map_err(|e| unreadable(path, e).into())
        })
        .filter(|line| !matches!(line, Ok((_, text)) if text.trim().is_empty())))
}

/// Checks every line: a command `record` would take, with an idempotency key (without one, a
/// second run would store it again). Returns how many commands the file holds.
fn check_file(path: &Path) -> Result<usize, AppError> {
    let mut commands = 0;
    let mut problems = Vec::new();
    let mut count = 0;
    for line in lines(path)? {
        let (number, text) = line?;
        commands += 1;
        let problem = match CommandInput::parse(&text) {
            Err(e) => Some(e.to_string()),
            Ok(input) if input.idempotency_key.is_none() => Some(
                "no idempotency_key: every command of an import needs its own, so that running the same file again stores nothing twice"
                    .to_string(),
            ),
            Ok(input) => input.envelope().err().map(|e| e.to_string()),
        };
        if let Some(problem) = problem {
            count += 1;
            if problems.len() < LISTED {
                problems.push(format!("  line {number}: {problem}"));
            }
        }
    }
    if count > problems.len() {
        problems.push(format!("  and {} more", count - problems.len()));
    }
    if count > 0 {
        return Err(InvalidInput::ImportLines {
            file: path.display().to_string(),
            count,
            lines: problems.join("\n"),
        }
        .into());
    }
    Ok(commands)
}

fn unreadable(path: &Path, e: std::io::Error) -> InvalidInput {
    InvalidInput::Unreadable {
        what: format!("the import file {}", path.display()),
        message: e.to_string(),
    }
}

fn changed(path: &Path, line: usize, e: InvalidInput) -> AppError {
    InvalidInput::Unreadable {
        what: format!("line {line} of {}", path.display()),
        message: format!("it changed while the import ran ({e}); run the import again"),
    }
    .into()
}

/// A store failure in the middle: what was stored stays stored, and says so.
fn stopped(bar: &ProgressBar, summary: &Summary, e: AppError) -> AppError {
    bar.finish_and_clear();
    err!(
        "the import stopped after storing {} command(s); run the same file again to go on: what is stored is recognised and stored once",
        summary.stored_commands
    );
    e
}
