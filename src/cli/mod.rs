//! The `lifecourse` command line: a thin edge over the application layer (`crate::app`). Each
//! subcommand parses its input, calls `App` and prints; an `AppError` becomes its message and the
//! exit code of its kind.

/// Prints a line to standard output; a closed pipe (`lifecourse history … | head`) ends the
/// process quietly instead of panicking. Only used once everything durable is done.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(err) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if err.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

/// Prints a line to standard error, and nothing if standard error is closed: a message the
/// reader cannot see is no reason to fail (`eprintln!` would panic).
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod admin;
mod audit;
mod bench;
mod demo;
mod erase;
mod export;
pub mod history;
mod import;
mod integrity;
mod project;
mod read;
mod record;
mod serve;
mod text;
mod worklist;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use lifecourse_events::PersonId;

use crate::app::{App, AppError, Freshness, InvalidInput};
use crate::store::{redact, DEFAULT_DATABASE_URL};

#[derive(Parser, Debug)]
#[command(
    name = "lifecourse",
    version,
    about = "Event-sourced child lifecourse records for community social pediatrics centres",
    long_about = "Every step of a child's care (referral, assessment, meetings, action plans, \
services, referrals, legal and rights matters, closures) is an immutable event in the child's \
own stream. Mistakes are fixed by correcting events; nothing is ever edited or deleted.",
    after_help = "Exit codes: 0 done; 1 the store failed (or its schema is behind: run `lifecourse \
migrate`); 2 invalid input, unknown child or person; 3 refused by the file's rules or not yours \
to record; 4 conflicting concurrent write (send again); 5 `verify` found the store altered."
)]
pub struct Cli {
    /// Where events are stored: sqlite://FILE (embedded, the default) or postgres://…
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,

    /// Who is acting: a person of the staff register (`lifecourse staff add`); needed by
    /// `record`, `import` and `erase`
    #[arg(
        long = "as",
        global = true,
        env = "LIFECOURSE_AS",
        value_name = "PERSON"
    )]
    acting_as: Option<PersonId>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create or update the database schema (on PostgreSQL, with the owner role; the only
    /// command that changes the schema there), restoring a dropped or disabled protection trigger
    Migrate {
        /// Change nothing: check that the triggers keeping events immutable are all there and
        /// enabled (exit 1 naming each missing one)
        #[arg(long)]
        check: bool,
    },
    /// Record a deterministic synthetic cohort (one centre over five years) and show one child
    Demo(demo::DemoArgs),
    /// Record one command given as JSON (a file, or standard input), as the person of --as
    Record(record::RecordArgs),
    /// Record the commands of a JSON Lines file, one per line as `record` takes them, in
    /// batches, as the person of --as
    #[command(long_about = import::IMPORT_ABOUT)]
    Import(import::ImportArgs),
    /// Show a child's entries in order, with who recorded each and when
    History(history::HistoryArgs),
    /// Show a child's decision trail: every entry with who recorded it, and the facts each
    /// decision rested on (auditors)
    #[command(long_about = audit::LONG_ABOUT)]
    Audit(audit::AuditArgs),
    /// Show a child's current action plan, services, open referrals and matters
    Plan(read::PlanArgs),
    /// Show a child's whole trajectory, optionally as of a date or as recorded at a moment
    Trajectory(read::TrajectoryArgs),
    /// List follow-up gaps (expected steps that have not happened) on a date
    Gaps(worklist::GapsArgs),
    /// Centre indicators over a period (waits, referral follow-up, reassessments, goals)
    Indicators(worklist::IndicatorsArgs),
    /// Bring the read models up to date with the events (and keep following with --follow)
    Project(project::ProjectArgs),
    /// Rebuild read models from the first event, then swap them in
    Rebuild(project::RebuildArgs),
    /// The staff register: who may act, in which role, for which centres
    #[command(subcommand)]
    Staff(admin::StaffCommand),
    /// Shared settings (follow-up thresholds), stored in the database
    #[command(subcommand)]
    Settings(admin::SettingsCommand),
    /// Centres' own settings: the time zone in which a centre's "today" is judged
    #[command(subcommand)]
    Centre(admin::CentreCommand),
    /// Serve the HTTP JSON API (sign-in, access policy, access log), with the runner
    Serve(serve::ServeArgs),
    /// Every logged read of a child's identified data (auditors, centre administrators)
    AccessLog(serve::AccessLogArgs),
    /// Measure the engine's operations against the database's raw limits, on a new database
    Bench(bench::BenchArgs),
    /// Check that no event was changed, deleted, inserted or reordered behind the engine's back
    Verify(integrity::VerifyArgs),
    /// Erase a child's identifying data for good (destroys its key), as the centre's coordinator
    Erase(erase::EraseArgs),
    /// Sign every file's current state (an anchor), store it and write it to a file kept elsewhere
    Anchor(integrity::AnchorArgs),
    /// Export de-identified, consent-gated research data (long, wide, state sequences,
    /// time-to-event, cohort measures, codebook, manifest) as CSV or Parquet
    #[command(long_about = export::EXPORT_ABOUT)]
    Export(export::ExportArgs),
    /// Cohort measures (waits, referral completion, goal attainment, reassessment, needs) of the
    /// children with research consent, as of a date and as recorded at a moment
    Cohort(export::CohortArgs),
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// Readable by a person
    #[default]
    Text,
    /// Stable, documented JSON
    Json,
}

/// The one line that says how current a read answer is.
pub fn freshness_line(f: &Freshness) -> String {
    let at = if f.reflects.transaction_id == 0 {
        format!("position {}", f.reflects.position)
    } else {
        format!(
            "position {} (transaction {})",
            f.reflects.position, f.reflects.transaction_id
        )
    };
    match f.behind {
        0 => format!("(up to date: reflects every committed event, to {at})"),
        n => format!(
            "(reflects events to {at}; {n} committed event(s) not yet included: run `lifecourse project`)"
        ),
    }
}

/// Serialises an answer for printing.
pub fn json(value: &impl serde::Serialize) -> Result<String, AppError> {
    serde_json::to_string_pretty(value).map_err(|e| AppError::Output {
        format: "JSON",
        message: e.to_string(),
    })
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            err!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            err!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), AppError> {
    if let Command::Migrate { check: true } = cli.command {
        let app = App::connect(&cli.database_url).await?;
        let missing = app.store().unprotected().await;
        app.close().await;
        let missing = missing?;
        if !missing.is_empty() {
            return Err(crate::store::StoreError::Unprotected(missing).into());
        }
        out!(
            "{}: every trigger that keeps events immutable is in place",
            redact(&cli.database_url)
        );
        return Ok(());
    }
    if let Command::Migrate { .. } = cli.command {
        let app = App::connect(&cli.database_url).await?;
        let applied = app.migrate().await;
        app.close().await;
        out!(
            "{}: applied {} migration(s); the schema is up to date",
            redact(&cli.database_url),
            applied?
        );
        return Ok(());
    }
    if let Command::Anchor(args) = &cli.command {
        if let Some(path) = args.new_key() {
            return integrity::new_key(path);
        }
    }
    let app = App::open(&cli.database_url).await?;
    tracing::debug!(store = %redact(&cli.database_url), backend = app.backend(), "store open");
    // With --as, reads go through the access policy and are logged under that person's name.
    let app = match (&cli.acting_as, &cli.command) {
        (
            Some(person),
            Command::History(_)
            | Command::Audit(_)
            | Command::Plan(_)
            | Command::Trajectory(_)
            | Command::Gaps(_)
            | Command::Indicators(_)
            | Command::AccessLog(_)
            | Command::Export(_)
            | Command::Cohort(_),
        ) => app.acting_as(app.principal(person).await?, crate::app::Channel::Cli),
        _ => app,
    };
    let acting_as = cli.acting_as;
    let principal = || async {
        match &acting_as {
            Some(person) => app.principal(person).await,
            None => Err(AppError::Invalid(InvalidInput::NoPrincipal)),
        }
    };
    let result = match cli.command {
        Command::Migrate { .. } => unreachable!("handled above"),
        Command::Demo(args) => demo::run(&app, &cli.database_url, args).await,
        Command::Record(args) => match principal().await {
            Ok(p) => record::run(&app, &p, args).await,
            Err(e) => Err(e),
        },
        Command::Import(args) => match principal().await {
            Ok(p) => import::run(&app, &p, args).await,
            Err(e) => Err(e),
        },
        Command::History(args) => history::run(&app, args).await,
        Command::Audit(args) => audit::run(&app, args).await,
        Command::Plan(args) => read::plan(&app, args).await,
        Command::Trajectory(args) => read::trajectory(&app, args).await,
        Command::Gaps(args) => worklist::gaps(&app, args).await,
        Command::Indicators(args) => worklist::indicators_command(&app, args).await,
        Command::Project(args) => project::project(&app, args).await,
        Command::Rebuild(args) => project::rebuild(&app, args).await,
        Command::Staff(command) => admin::staff(&app, command).await,
        Command::Settings(command) => admin::settings(&app, command).await,
        Command::Centre(command) => admin::centre(&app, command).await,
        Command::Serve(args) => serve::serve(&app, args).await,
        Command::AccessLog(args) => serve::access_log(&app, args).await,
        Command::Bench(args) => bench::run(&app, args).await,
        Command::Verify(args) => integrity::verify(&app, args).await,
        Command::Erase(args) => match principal().await {
            Ok(p) => erase::run(&app, &p, args).await,
            Err(e) => Err(e),
        },
        Command::Anchor(args) => integrity::anchor(&app, args).await,
        Command::Export(args) => export::export(&app, args).await,
        Command::Cohort(args) => export::cohort(&app, args).await,
    };
    app.close().await;
    result
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("LIFECOURSE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A closed standard error must not turn a log line into a panic (the default reports
        // the failed write with `eprintln!`, which panics).
        .log_internal_errors(false)
        .init();
}

/// Text from the record, fit for a terminal: control characters (an escape sequence, a new line
/// inside a note) are shown escaped, so stored text can neither drive the terminal nor forge a
/// line of output.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}
