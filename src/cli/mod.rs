//! The `lifecourse` command line: a thin edge over the library. Each subcommand parses its input,
//! calls the engine and prints; errors become a plain-language message and an exit code
//! (`Failure`).

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

mod demo;
mod history;
mod project;
mod read;
mod record;
mod worklist;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use lifecourse_events::ClinicalDate;

use crate::recording::RecordError;
use crate::store::{redact, Store, StoreError, DEFAULT_DATABASE_URL};

#[derive(Parser, Debug)]
#[command(
    name = "lifecourse",
    version,
    about = "Event-sourced child lifecourse records for community social pediatrics centres",
    long_about = "Every step of a child's care (referral, assessment, meetings, action plans, \
services, referrals, legal and rights matters, closures) is an immutable event in the child's \
own stream. Mistakes are fixed by correcting events; nothing is ever edited or deleted.",
    after_help = "Exit codes: 0 done; 1 the store failed; 2 invalid input; 3 refused by the \
file's rules; 4 conflicting concurrent write (send again)."
)]
pub struct Cli {
    /// Where events are stored: sqlite://FILE (embedded, the default) or postgres://…
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,

    /// Configuration file (follow-up thresholds); default: ./lifecourse.toml if present
    #[arg(long, global = true, env = "LIFECOURSE_CONFIG")]
    config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create or update the database schema (also done on every start)
    Migrate,
    /// Record a deterministic synthetic cohort (one centre over five years) and show one child
    Demo(demo::DemoArgs),
    /// Record one command given as JSON (a file, or standard input)
    Record(record::RecordArgs),
    /// Show a child's entries in order, with who recorded each and when
    History(history::HistoryArgs),
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
}

/// What every subcommand works with.
pub struct Context<'a> {
    pub store: &'a Store,
    pub config: crate::config::Config,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// Readable by a person
    #[default]
    Text,
    /// Stable, documented JSON
    Json,
}

/// Why a command failed, with the exit code it maps to.
#[derive(Debug)]
pub enum Failure {
    /// The store could not be reached or failed (exit 1).
    Store(String),
    /// The input is not what was expected (exit 2).
    Input(String),
    /// The file's rules refused the command (exit 3).
    Refused(String),
    /// Another write to the same file won the race (exit 4).
    Conflict(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Store(_) => 1,
            Failure::Input(_) => 2,
            Failure::Refused(_) => 3,
            Failure::Conflict(_) => 4,
        }
    }

    fn message(&self) -> &str {
        match self {
            Failure::Store(m) | Failure::Input(m) | Failure::Refused(m) | Failure::Conflict(m) => m,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UnsupportedUrl(_) => Failure::Input(err.to_string()),
            other => Failure::Store(other.to_string()),
        }
    }
}

impl From<RecordError> for Failure {
    fn from(err: RecordError) -> Self {
        match err {
            RecordError::Rejected(_) => Failure::Refused(err.to_string()),
            RecordError::Conflict { .. } => Failure::Conflict(err.to_string()),
            RecordError::KeyReused { .. } => Failure::Input(err.to_string()),
            RecordError::Storage(_) => Failure::Store(err.to_string()),
        }
    }
}

/// Today's date where the centre is (the machine's local time zone).
pub fn local_today() -> ClinicalDate {
    ClinicalDate(chrono::Local::now().date_naive())
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
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let config = crate::config::Config::load(cli.config.as_deref())
        .map_err(|e| Failure::Input(e.to_string()))?;
    let store = Store::connect(&cli.database_url).await?;
    let applied = store.migrate().await?;
    tracing::debug!(store = %redact(&cli.database_url), backend = store.backend(), applied, "store open");
    let ctx = Context {
        store: &store,
        config,
    };
    let result = match cli.command {
        Command::Migrate => {
            out!(
                "{}: applied {applied} migration(s); the schema is up to date",
                redact(&cli.database_url)
            );
            Ok(())
        }
        Command::Demo(args) => demo::run(&ctx, &cli.database_url, args).await,
        Command::Record(args) => record::run(&store, args).await,
        Command::History(args) => history::run(&store, args).await,
        Command::Plan(args) => read::plan(&ctx, args).await,
        Command::Trajectory(args) => read::trajectory(&ctx, args).await,
        Command::Gaps(args) => worklist::gaps(&ctx, args).await,
        Command::Indicators(args) => worklist::indicators_command(&ctx, args).await,
        Command::Project(args) => project::project(&ctx, args).await,
        Command::Rebuild(args) => project::rebuild(&ctx, args).await,
    };
    store.close().await;
    result
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("LIFECOURSE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
