//! `lifecourse bench`: measures each engine operation and, in the same run on the same database,
//! its raw baseline — the same work done with plain SQL and serde — so every figure comes with
//! the ratio that says how close the engine comes to what the database itself allows.
//!
//! The data is made here, in the database given (which must hold no events): the demo cohort
//! (`cohort::plan_children`, a part at a time) for the import, the rebuild and the worklist,
//! recorded through the bulk import's path (`Store::record_batch`); children of about 20 entries
//! for the writers and one child of 200 entries for loads, recorded through the ordinary command
//! path. The raw write baselines go to a scratch table shaped like `events`, dropped at the end.

use std::time::{Duration, Instant};

use lifecourse_events::*;
use serde::Serialize;

use crate::app::{App, AppError, Page};
use crate::cohort::{self, CohortSpec};
use crate::domain::{ChildFileCommand, ClinicalCalendar};
use crate::fixtures;
use crate::recording::CommandRequest;
use crate::runner::Projection;
use crate::store::{GapQuery, RawRow, Store, StoreError};

/// What to measure, and how much of it. The defaults finish in a few minutes on two cores.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Children of the demo cohort (rebuild, worklist).
    pub children: usize,
    /// Children of about 20 entries that the writers record in.
    pub writer_children: usize,
    /// Commands recorded (and raw rows inserted) per writer measurement.
    pub commands: usize,
    /// Concurrent writers of the second writer measurement.
    pub writers: usize,
    /// Loads and worklist queries timed for p50/p99.
    pub samples: usize,
    /// Entries of the child that is loaded.
    pub long_child_events: usize,
    /// Seed of the cohort.
    pub seed: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            children: 1000,
            writer_children: 320,
            commands: 2000,
            writers: 16,
            samples: 500,
            long_child_events: 200,
            seed: 42,
        }
    }
}

/// A measured figure.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Figure {
    /// Operations per second.
    Rate { per_second: f64 },
    /// Latency percentiles, in milliseconds.
    Latency { p50_ms: f64, p99_ms: f64 },
    /// Peak resident memory, in MiB.
    Memory { mib: f64 },
}

impl Figure {
    fn rate(n: usize, elapsed: Duration) -> Self {
        Figure::Rate {
            per_second: n as f64 / elapsed.as_secs_f64().max(1e-9),
        }
    }

    fn latency(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len().max(1));
            samples.get(i - 1).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Figure::Latency {
            p50_ms: at(0.50),
            p99_ms: at(0.99),
        }
    }

    /// How fast, as a rate (latencies by their median), for ratios.
    fn speed(&self) -> Option<f64> {
        match *self {
            Figure::Rate { per_second } => Some(per_second),
            Figure::Latency { p50_ms, .. } => (p50_ms > 0.0).then(|| 1000.0 / p50_ms),
            Figure::Memory { .. } => None,
        }
    }

    pub fn text(&self, unit: &str) -> String {
        match *self {
            Figure::Rate { per_second } => format!("{} {unit}/s", thousands(per_second)),
            Figure::Latency { p50_ms, p99_ms } => {
                format!("p50 {p50_ms:.2} / p99 {p99_ms:.2} ms")
            }
            Figure::Memory { mib } => format!("{mib:.0} MiB"),
        }
    }
}

fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line of the table: an engine operation, its raw baseline (what the database does for the
/// same work), and the target for it.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub operation: String,
    pub unit: &'static str,
    pub engine: Figure,
    pub baseline: Option<Baseline>,
    pub target: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub what: &'static str,
    pub figure: Figure,
}

impl BenchRow {
    /// The engine's speed as a share of the baseline's (rates; latencies by their median).
    pub fn ratio(&self) -> Option<f64> {
        let baseline = self.baseline.as_ref()?.figure.speed()?;
        Some(self.engine.speed()? / baseline)
    }
}

/// What a run measured, and on what.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub store: String,
    pub events: u64,
    pub children: u64,
    pub rows: Vec<BenchRow>,
}

impl BenchReport {
    /// The table, in Markdown.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| operation | engine | raw baseline, same run | ratio | target |\n| --- | --- | --- | --- | --- |\n",
        );
        for row in &self.rows {
            let baseline = row.baseline.as_ref().map_or("—".to_string(), |b| {
                format!("{} ({})", b.figure.text(row.unit), b.what)
            });
            let ratio = row.ratio().map_or("—".to_string(), |r| match r * 100.0 {
                p if p >= 10.0 => format!("{p:.0}%"),
                p => format!("{p:.2}%"),
            });
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                row.operation,
                row.engine.text(row.unit),
                baseline,
                ratio,
                row.target
            ));
        }
        out
    }
}

fn record_failed(child: ChildId, err: crate::RecordError) -> AppError {
    AppError::Store(StoreError::Record {
        child,
        source: Box::new(err),
    })
}

/// The clinical dates of the children made here: opened, accepted, then contacts.
const OPENED: &str = "2024-03-01";
const BORN: &str = "2017-05-10";
const ACCEPTED: &str = "2024-03-05";

fn contact_on(n: usize) -> ChildFileCommand {
    let day = fixtures::date("2024-03-06").plus_days((n % 500) as i64);
    ChildFileCommand::RecordFamilyContact(FamilyContactRecorded {
        occurred_on: day,
        ..fixtures::contact_details(ACCEPTED)
    })
}

fn request(child: ChildId, key: String, command: ChildFileCommand) -> CommandRequest {
    CommandRequest::new(
        child,
        IdempotencyKey::parse(key).expect("bench keys are valid"),
        fixtures::recorder(),
        command,
    )
}

/// Records a child of `entries` entries: opened, accepted, then family contacts.
async fn child_of(
    store: &Store,
    calendar: ClinicalCalendar,
    tag: &str,
    entries: usize,
) -> Result<ChildId, AppError> {
    let child = ChildId::new_random();
    let mut commands = vec![
        fixtures::open_file(OPENED, BORN),
        fixtures::accept(ACCEPTED),
    ];
    commands.extend((2..entries.max(2)).map(contact_on));
    for (n, command) in commands.into_iter().enumerate() {
        store
            .record(
                calendar,
                request(child, format!("bench-{tag}-{n}"), command),
            )
            .await
            .map_err(|e| record_failed(child, e))?;
    }
    Ok(child)
}

/// Peak resident memory of this process (`VmHWM`), in KiB, where `/proc` tells it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resets the peak to the current resident memory (Linux: `5` into `/proc/self/clear_refs`);
/// false where that is not possible, and the peak is then the process's whole run.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs the benchmark on `app`'s store, which must hold no events. `progress` is told what is
/// being done (a line for standard error).
pub async fn run(
    app: &App,
    options: &BenchOptions,
    progress: impl Fn(&str),
) -> Result<BenchReport, AppError> {
    let store = app.store();
    let held = store.stats().await?.events;
    if held > 0 {
        return Err(StoreError::UnsupportedUrl(format!(
            "lifecourse bench needs a new, empty database (it records a synthetic cohort into it); \
             this one already holds {held} events: give it another --database-url"
        ))
        .into());
    }
    let today = app.today(None).await?;
    let calendar = ClinicalCalendar { today };
    let mut rows = Vec::new();

    // The cohort: the rebuild's and the worklist's data.
    let fixed = fixtures::date("2026-06-30");
    let spec = CohortSpec {
        seed: options.seed,
        children: options.children.max(1),
        ..CohortSpec::one_centre(fixed.min(today))
    };
    progress(&format!(
        "planning and recording the demo cohort ({} children)",
        spec.children
    ));
    // Through the bulk import's path (`Store::record_batch`), as `lifecourse import` and `demo`
    // record: a part of the cohort at a time, each decided in memory and stored in rounds of
    // batched writes. Only the recording is timed, not the generator's planning.
    let (mut imported, mut importing) = (0usize, Duration::ZERO);
    let mut first = 0;
    while first < spec.children {
        let range = first..(first + crate::app::DEMO_CHUNK).min(spec.children);
        first = range.end;
        let part = cohort::plan_children(&spec, range)?;
        let started = Instant::now();
        let outcome = store
            .record_batch(part.requests, |_, _, _| Ok::<_, AppError>(calendar))
            .await
            .map_err(|e| AppError::Store(StoreError::Batch(Box::new(e))))?;
        importing += started.elapsed();
        if let Some(stopped) = outcome.stopped {
            return Err(AppError::Store(StoreError::Batch(Box::new(stopped))));
        }
        for (result, request) in outcome.results.into_iter().zip(&outcome.requests) {
            match result {
                Some(Ok(recorded)) => imported += recorded.entries.len(),
                Some(Err(crate::recording::BatchError::Record(e))) => {
                    return Err(record_failed(request.child_id, e))
                }
                Some(Err(crate::recording::BatchError::Denied(e))) => return Err(e),
                None => unreachable!("a batch that did not stop answers every request"),
            }
        }
    }
    // The same rows, copied raw into the scratch table, a part at a time (only the copy timed).
    progress(&format!(
        "copying the cohort's {imported} events raw (COPY on PostgreSQL), as the import's baseline"
    ));
    store.create_raw_table().await?;
    let (mut copied, mut copying) = (0usize, Duration::ZERO);
    // The database held no events before the cohort (checked above).
    let mut after = 0;
    loop {
        let chunk = store.raw_rows_after(after, 20_000).await?;
        let Some((last, _)) = chunk.last() else { break };
        after = *last;
        let chunk: Vec<RawRow> = chunk.into_iter().map(|(_, row)| row).collect();
        let started = Instant::now();
        store.raw_copy(&chunk).await?;
        copying += started.elapsed();
        copied += chunk.len();
    }
    store.drop_raw_table().await?;
    rows.push(BenchRow {
        operation: format!(
            "bulk import of the demo cohort ({} children, {imported} events), {} children per batch",
            spec.children,
            crate::app::DEMO_CHUNK
        ),
        unit: "events",
        engine: Figure::rate(imported, importing),
        baseline: Some(Baseline {
            what: if store.backend() == "postgres" {
                "COPY of the same rows"
            } else {
                "the same rows by single-row INSERTs, one transaction per 20,000; SQLite has no COPY"
            },
            figure: Figure::rate(copied, copying),
        }),
        target: "≥ 60% of raw",
    });

    // Writers' children, ~20 entries each (15 now, 5 more from each writer measurement).
    let writer_children = options.writer_children.max(options.writers).max(1);
    progress(&format!(
        "recording {writer_children} children of 15 entries for the writers"
    ));
    let mut writers_files = Vec::with_capacity(writer_children);
    for i in 0..writer_children {
        writers_files.push(child_of(store, calendar, &format!("w{i}"), 15).await?);
    }
    let sample = store
        .history(writers_files[0])
        .await?
        .pop()
        .expect("a child just recorded");
    let raw_row = |aggregate_id: String, sequence: i64| RawRow {
        aggregate_id,
        sequence,
        event_type: sample.event_type.clone(),
        event_version: sample.stored_version.clone(),
        payload: serde_json::to_string(&sample.event).expect("events serialise"),
        metadata: serde_json::to_string(&sample.metadata).expect("metadata serialises"),
    };
    store.create_raw_table().await?;

    let commands = options.commands.max(1);
    for (label, writers) in [("1 writer", 1), ("writers", options.writers.max(1))] {
        let label = if writers == 1 {
            label.to_string()
        } else {
            format!("{writers} writers")
        };
        progress(&format!(
            "recording {commands} one-event commands, {label}, and as many raw inserts"
        ));
        let per_writer = commands.div_ceil(writers);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            let mine: Vec<ChildId> = writers_files
                .iter()
                .skip(w)
                .step_by(writers)
                .copied()
                .collect();
            let tag = format!("{}-{w}", label.replace(' ', ""));
            tasks.push(tokio::spawn(async move {
                for n in 0..per_writer {
                    let child = mine[n % mine.len()];
                    let r = request(child, format!("bench-{tag}-{n}"), contact_on(n + 17));
                    store
                        .record(calendar, r)
                        .await
                        .map_err(|e| record_failed(child, e))?;
                }
                Ok::<_, AppError>(())
            }));
        }
        join(tasks).await?;
        let engine = Figure::rate(per_writer * writers, started.elapsed());

        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            let rows: Vec<RawRow> = (0..per_writer)
                .map(|n| raw_row(format!("raw-{label}-{w}"), n as i64 + 1))
                .collect();
            tasks.push(tokio::spawn(async move {
                for row in &rows {
                    store.raw_insert(row).await?;
                }
                Ok::<_, AppError>(())
            }));
        }
        join(tasks).await?;
        let baseline = Figure::rate(per_writer * writers, started.elapsed());
        rows.push(BenchRow {
            operation: format!("record a 1-event command on a child of ~20 entries, {label}"),
            unit: "commits",
            engine,
            baseline: Some(Baseline {
                what: "single-row INSERT per transaction",
                figure: baseline,
            }),
            target: "≥ 90% of raw",
        });
    }
    store.drop_raw_table().await?;

    // What seals and sealed fields cost on the write path: the same one-event commands, one
    // writer, alternately on the writers' sealed children and on children recorded without them
    // (as an earlier release would have), in rounds, so that both see the same machine.
    let plain_children = writer_children.min(32);
    progress(&format!(
        "recording {commands} one-event commands, 1 writer, with and without seals and sealed fields, in alternating rounds"
    ));
    store.set_protection(false);
    let mut plain = Vec::with_capacity(plain_children);
    let made = async {
        for i in 0..plain_children {
            plain.push(child_of(store, calendar, &format!("plain{i}"), 15).await?);
        }
        Ok::<_, AppError>(())
    }
    .await;
    store.set_protection(true);
    made?;
    // As many sealed files as plain ones, so both kinds of stream grow alike.
    let sealed = &writers_files[..plain.len().min(writers_files.len())];
    const ROUNDS: usize = 10;
    let per_round = commands.div_ceil(ROUNDS);
    let (mut with, mut without) = (Duration::ZERO, Duration::ZERO);
    for round in 0..ROUNDS {
        for protected in [true, false] {
            let files = if protected { sealed } else { &plain[..] };
            store.set_protection(protected);
            let started = Instant::now();
            let recorded = async {
                for n in 0..per_round {
                    let i = round * per_round + n;
                    let child = files[i % files.len()];
                    let tag = if protected { "sealed" } else { "plain" };
                    let r = request(child, format!("bench-{tag}-{i}"), contact_on(i + 23));
                    store
                        .record(calendar, r)
                        .await
                        .map_err(|e| record_failed(child, e))?;
                }
                Ok::<_, AppError>(())
            }
            .await;
            store.set_protection(true);
            recorded?;
            if protected {
                with += started.elapsed();
            } else {
                without += started.elapsed();
            }
        }
    }
    rows.push(BenchRow {
        operation: "record a 1-event command, 1 writer, with seals and sealed fields".into(),
        unit: "commits",
        engine: Figure::rate(per_round * ROUNDS, with),
        baseline: Some(Baseline {
            what: "the same commands without them, in alternating rounds",
            figure: Figure::rate(per_round * ROUNDS, without),
        }),
        target: "— (their cost)",
    });

    // Loads of a long file.
    progress(&format!(
        "recording a child of {} entries and loading it {} times",
        options.long_child_events, options.samples
    ));
    let long = child_of(store, calendar, "long", options.long_child_events).await?;
    let samples = options.samples.max(1);
    let (mut engine, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let started = Instant::now();
        store.load(long).await?;
        engine.push(started.elapsed());
        let started = Instant::now();
        store.raw_load(long).await?;
        raw.push(started.elapsed());
    }
    rows.push(BenchRow {
        operation: format!("load a child of {} entries", options.long_child_events),
        unit: "loads",
        engine: Figure::latency(engine),
        baseline: Some(Baseline {
            what: "indexed SELECT of its rows + parse",
            figure: Figure::latency(raw),
        }),
        target: "≥ 50% of raw; p99 ≤ 1 ms on PostgreSQL",
    });

    // The rebuild, and its peak memory.
    let stats = store.stats().await?;
    progress(&format!(
        "rebuilding all projections from {} events",
        stats.events
    ));
    let reset = reset_peak_rss();
    let report = app.rebuild(&Projection::ALL, |_| {}).await?;
    let peak_kib = peak_rss_kib();
    progress("streaming every event raw, in commit order, and parsing it");
    let started = Instant::now();
    let read = store.raw_stream_all().await?;
    let raw_stream = Figure::rate(read as usize, started.elapsed());
    rows.push(BenchRow {
        operation: "rebuild all projections".to_string(),
        unit: "events",
        engine: Figure::Rate {
            per_second: report.events_per_second(),
        },
        baseline: Some(Baseline {
            what: "streaming SELECT in commit order + parse",
            figure: raw_stream,
        }),
        target: "≥ 70% of raw",
    });
    progress("verifying every seal");
    let verified = app.verify(None, None).await?;
    rows.push(BenchRow {
        operation: "verify every seal (and the stored anchors)".to_string(),
        unit: "events",
        engine: Figure::Rate {
            per_second: verified.events as f64 / verified.seconds.max(1e-9),
        },
        baseline: Some(Baseline {
            what: "streaming SELECT in commit order + parse",
            figure: raw_stream,
        }),
        target: "≥ 50% of raw",
    });
    if let Some(peak) = peak_kib {
        let what = if reset {
            "peak resident memory of the rebuild (whole process)"
        } else {
            "peak resident memory of the whole run (the rebuild's could not be isolated)"
        };
        rows.push(BenchRow {
            operation: what.to_string(),
            unit: "MiB",
            engine: Figure::Memory {
                mib: peak as f64 / 1024.0,
            },
            baseline: None,
            target: "≤ 512 MiB beyond the read models at 10M events",
        });
    }

    // The worklist of one centre, through the application layer and as its SQL alone, once
    // its table is vacuumed and the events analysed, as autovacuum would have.
    store.vacuum_for_worklist().await?;
    progress(&format!("asking for the worklist {samples} times"));
    let centre = spec.centre.clone();
    let as_of = spec.until;
    let page = Page {
        offset: 0,
        limit: Some(20),
    };
    let rule_order: Vec<&str> = lifecourse_projections::FollowUpRule::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    let query = GapQuery {
        as_of,
        centre: Some(&centre),
        offset: page.offset,
        limit: page.limit,
        rule_order: &rule_order,
    };
    let (mut engine, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let started = Instant::now();
        app.gaps(Some(&centre), as_of, None, page).await?;
        engine.push(started.elapsed());
        let started = Instant::now();
        store
            .follow_up_gaps(Projection::FollowUp.table(), &query)
            .await?;
        raw.push(started.elapsed());
    }
    rows.push(BenchRow {
        operation: format!(
            "gaps worklist of one centre as of a date, first page of 20, {} children",
            stats.children
        ),
        unit: "queries",
        engine: Figure::latency(engine),
        baseline: Some(Baseline {
            what: "the page's SQL alone, without freshness and access log",
            figure: Figure::latency(raw),
        }),
        target: "p99 ≤ 10 ms at 5,000 children, ≤ 50 ms at 50,000",
    });

    let stats = store.stats().await?;
    Ok(BenchReport {
        store: store.server_version().await?,
        events: stats.events,
        children: stats.children,
        rows,
    })
}

async fn join(tasks: Vec<tokio::task::JoinHandle<Result<(), AppError>>>) -> Result<(), AppError> {
    for task in tasks {
        match task.await {
            Ok(result) => result?,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => {
                return Err(AppError::Store(StoreError::Database(sqlx::Error::Io(
                    std::io::Error::other(join),
                ))))
            }
        }
    }
    Ok(())
}
