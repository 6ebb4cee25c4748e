//! `lifecourse export` and `lifecourse cohort`: de-identified, consent-gated research data of
//! every file (or, with `--as` a researcher, of their centres' files), as of a date and as
//! recorded at a moment.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use lifecourse_events::*;
use lifecourse_projections::research::{research_export, ExportOptions, Measure};
use serde::Serialize;

use super::json;
use super::read::parse_moment;
use crate::app::{App, AppError, InvalidInput, ResearchCut};
use crate::export::{
    check_out_dir, check_study, render, write_files, ExportSettings, FileFormat, StudyPseudonyms,
    StudySecret,
};

pub const EXPORT_ABOUT: &str =
    "Only children whose research consent was in force on the as-of date, \
as recorded at the known-at moment, are exported. No identifying value is written (no name, birth \
date, address, phone, free text, organisation or provider name): children, staff, centres and \
organisations appear under pseudonyms keyed by the study secret, which is never written; dates are \
the child's age in days and days since the file was opened. The same study, secret, as-of and \
known-at give byte-identical files, whatever is recorded afterwards. See README.md, \"Research \
exports\", and the codebook written with the files.";

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The study's name: pseudonyms are keyed by it and by the secret (letters, digits, - _ .)
    #[arg(long)]
    study: String,
    /// Clinical time: what had happened by this date (YYYY-MM-DD), not after today
    #[arg(long)]
    as_of: ClinicalDate,
    /// Record time: the record as it stood at this moment (RFC 3339, or a date for the end of
    /// that day, UTC); default the end of the as-of date, so later entries, withdrawals and
    /// corrections do not change the export. Must be in the past.
    #[arg(long, value_parser = parse_moment)]
    known_at: Option<DateTime<Utc>>,
    /// csv or parquet (the codebook is always CSV and Markdown, the manifest JSON)
    #[arg(long, value_enum)]
    format: FileFormat,
    /// A new (or empty) directory to write the files into
    #[arg(long)]
    out: PathBuf,
    /// A file holding the study secret (at least 16 bytes); otherwise the environment
    /// variable LIFECOURSE_STUDY_SECRET. It is never written into the export.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Centres with fewer exported children than this are pooled (shown as `pooled`)
    #[arg(long, default_value_t = 5)]
    min_centre_size: u64,
    /// Also give each entry's date shifted by the child's own offset of up to this many days
    /// either way (keyed by the secret; intervals are kept)
    #[arg(long, value_name = "MAX_DAYS")]
    shift_dates: Option<u64>,
}

/// Beyond these an option means nothing (a threshold above any centre, a shift over a year).
const MAX_CENTRE_SIZE: u64 = 100_000;
const MAX_SHIFT_DAYS: u64 = 365;

fn in_range(what: &'static str, min: u64, max: u64, given: u64) -> Result<u64, InvalidInput> {
    if (min..=max).contains(&given) {
        Ok(given)
    } else {
        Err(InvalidInput::ExportOption {
            what,
            min,
            max,
            given,
        })
    }
}

pub async fn export(app: &App, args: ExportArgs) -> Result<(), AppError> {
    // Everything the user gave is checked before anything is read or written.
    check_study(&args.study)?;
    let min_centre_size = in_range("min-centre-size", 1, MAX_CENTRE_SIZE, args.min_centre_size)?;
    let shift = args
        .shift_dates
        .map(|d| in_range("shift-dates", 1, MAX_SHIFT_DAYS, d))
        .transpose()?
        .map(|d| d as u32);
    let secret = StudySecret::read(args.secret_file.as_deref())?;
    check_out_dir(&args.out)?;
    let cut = app.research_cut(args.as_of, args.known_at).await?;

    let started = std::time::Instant::now();
    let data = app
        .research_histories(cut, |read, of| {
            if of > 250 {
                err!("read {read} of {of} files");
            }
        })
        .await?;
    let pseudonyms = StudyPseudonyms::new(secret, &args.study, shift);
    let export = research_export(
        &data.histories,
        ExportOptions {
            as_of: cut.as_of,
            min_centre_size: min_centre_size as usize,
            shift_dates: shift.is_some(),
        },
        &pseudonyms,
    );
    let settings = ExportSettings {
        study: args.study.clone(),
        format: args.format,
        min_centre_size: min_centre_size as usize,
        shift_dates_max_days: shift,
        thresholds_fingerprint: app.follow_up_rules().await?.fingerprint(),
    };
    let (files, manifest) = render(&export, &data, &settings)?;
    write_files(&args.out, &files)?;
    let seconds = started.elapsed().as_secs_f64();
    out!(
        "{}: {} of {} children exported (research consent in force on {}, as recorded at {}), {} files",
        args.out.display(),
        manifest.children_exported,
        manifest.children_considered,
        manifest.as_of,
        manifest.known_at,
        files.len()
    );
    for file in &manifest.files {
        match file.rows {
            Some(rows) => out!("  {:<24} {rows} rows", file.name),
            None => out!("  {}", file.name),
        }
    }
    out!("  manifest.json");
    err!(
        "{} children's files considered in {seconds:.2} s ({:.0} children/s)",
        manifest.children_considered,
        manifest.children_considered as f64 / seconds.max(1e-9)
    );
    Ok(())
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum CohortFormat {
    #[default]
    Text,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct CohortArgs {
    /// Clinical time: what had happened by this date (YYYY-MM-DD), not after today
    #[arg(long)]
    as_of: ClinicalDate,
    /// Record time (RFC 3339, or a date for the end of that day, UTC); default the end of the
    /// as-of date. Must be in the past.
    #[arg(long, value_parser = parse_moment)]
    known_at: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t)]
    format: CohortFormat,
}

#[derive(Serialize)]
struct CohortReport<'a> {
    as_of: ClinicalDate,
    known_at: String,
    position_cut: i64,
    measures: Vec<MeasureJson<'a>>,
}

#[derive(Serialize)]
struct MeasureJson<'a> {
    measure: &'a str,
    group: &'a str,
    meeting: Option<u32>,
    cases: usize,
    median: Option<f64>,
    q1: Option<f64>,
    q3: Option<f64>,
    count: Option<usize>,
    share: Option<f64>,
}

fn shown_number(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

pub async fn cohort(app: &App, args: CohortArgs) -> Result<(), AppError> {
    let cut: ResearchCut = app.research_cut(args.as_of, args.known_at).await?;
    let (data, measures) = app.cohort(cut).await?;
    let known_at = cut
        .known_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let rows: Vec<MeasureJson<'_>> = measures
        .iter()
        .map(|m: &Measure| MeasureJson {
            measure: m.measure,
            group: &m.group,
            meeting: m.meeting,
            cases: m.cases,
            median: m.median,
            q1: m.q1,
            q3: m.q3,
            count: m.count,
            share: m.share,
        })
        .collect();
    match args.format {
        CohortFormat::Json => out!(
            "{}",
            json(&CohortReport {
                as_of: cut.as_of,
                known_at,
                position_cut: data.position_cut,
                measures: rows,
            })?
        ),
        CohortFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut bytes = Vec::new();
            for r in &rows {
                w.serialize(r).map_err(|e| AppError::Output {
                    format: "CSV",
                    message: e.to_string(),
                })?;
            }
            if let Ok(b) = w.into_inner() {
                bytes = b;
            }
            out!("{}", String::from_utf8_lossy(&bytes).trim_end());
        }
        CohortFormat::Text => {
            out!(
                "Cohort measures: children with research consent in force on {}, as recorded at {known_at}",
                cut.as_of
            );
            out!(
                "{:<26} {:<22} {:>7} {:>6} {:>9} {:>9} {:>9} {:>6} {:>6}",
                "measure",
                "group",
                "meeting",
                "cases",
                "median",
                "q1",
                "q3",
                "count",
                "share"
            );
            for r in &rows {
                out!(
                    "{:<26} {:<22} {:>7} {:>6} {:>9} {:>9} {:>9} {:>6} {:>6}",
                    r.measure,
                    r.group,
                    r.meeting.map_or_else(|| "-".into(), |m| m.to_string()),
                    r.cases,
                    shown_number(r.median),
                    shown_number(r.q1),
                    shown_number(r.q3),
                    r.count.map_or_else(|| "-".into(), |c| c.to_string()),
                    r.share.map_or_else(|| "-".into(), |s| format!("{s:.2}")),
                );
            }
            out!("(medians and quartiles in days; need_level in scores 0 no concern to 3 severe; quartiles as R's quantile type 7)");
        }
    }
    Ok(())
}
