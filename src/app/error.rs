//! `AppError`: every way an application command or query can fail, and the one place that says
//! what kind of failure each is (`ErrorKind`), from which the CLI takes its exit code and the HTTP
//! edge will take its status.

use lifecourse_events::*;

use crate::domain::ChildFileError;
use crate::runner::RunnerError;
use crate::store::StoreError;

/// What kind of failure an `AppError` is; each edge maps kinds, never messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The store is unreachable, failed, or its schema is behind this program.
    Store,
    /// A bug or an output that could not be written: not the user's doing, not the store's.
    Internal,
    /// The input is not what was expected.
    Invalid,
    /// The child, or the person acting, is not known to this store.
    NotFound,
    /// The file's rules refused the command.
    Refused,
    /// The person acting may not do this (another centre's file).
    Forbidden,
    /// Another write to the same file won the race; sending again is safe.
    Conflict,
    /// Sign-in failed, or the credentials are missing, expired or revoked.
    Unauthenticated,
    /// `verify` found the store altered behind the engine's back.
    Altered,
}

impl ErrorKind {
    /// The process exit code (README.md, "Exit codes").
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Store | ErrorKind::Internal => 1,
            ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Unauthenticated => 2,
            ErrorKind::Refused | ErrorKind::Forbidden => 3,
            ErrorKind::Conflict => 4,
            ErrorKind::Altered => 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Runner(RunnerError),
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("there is no file for child {0} in this store")]
    UnknownChild(ChildId),
    #[error("{refused} of {commands} command(s) were not recorded (listed above, by line); the others are stored, and running the same file again stores nothing twice")]
    ImportRefused { refused: usize, commands: usize },
    #[error("child {child} had no file {when}{}", opened_on.map_or_else(|| ": nothing had been recorded yet".to_string(), |d| format!(": the file was opened on {d}")))]
    NoFileThen {
        child: ChildId,
        when: String,
        opened_on: Option<ClinicalDate>,
    },
    #[error("child {child}'s file is not in the read models yet (they are {behind} event(s) behind): run `lifecourse project`, or keep `lifecourse project --follow` running")]
    NotProjectedYet { child: ChildId, behind: u64 },
    #[error("{0} is not in the staff register; add them with `lifecourse staff add`")]
    UnknownPerson(PersonId),
    #[error("{0} is disabled in the staff register and cannot act")]
    DisabledPerson(PersonId),
    #[error("refused: {error}")]
    Refused {
        child: ChildId,
        error: ChildFileError,
    },
    #[error("{person} works for {centres} and cannot record in a file of {centre}")]
    OtherCentre {
        person: PersonId,
        centres: String,
        centre: CentreId,
    },
    #[error(
        "{person} is registered as {role}, a role that does not record entries in a child's file"
    )]
    RoleCannotRecord { person: PersonId, role: String },
    #[error("another entry was recorded in child {child}'s file at the same moment; nothing was stored: send the command again")]
    Conflict { child: ChildId },
    #[error("idempotency key \"{key}\" was already used for a different command on child {child}'s file; a new command needs a new key")]
    KeyReused { key: IdempotencyKey, child: ChildId },
    #[error("cohort generator bug: {0}")]
    Generator(#[from] crate::cohort::CohortError),
    #[error("cannot write the {format} output: {message}")]
    Output {
        format: &'static str,
        message: String,
    },
    #[error("a stored read model cannot be read ({0}); run `lifecourse rebuild`")]
    UnreadableView(serde_json::Error),
    #[error("sign-in failed: unknown person, no password set, wrong password or disabled account")]
    SignInFailed,
    #[error("not signed in, or the session or token has expired or was revoked: sign in again")]
    NotSignedIn,
    #[error("not allowed: {0}")]
    Denied(#[from] super::access::Denial),
    #[error("child {child}'s file is at version {actual}, not {expected}: someone recorded in it since you read it; nothing was stored: read it again")]
    VersionMismatch {
        child: ChildId,
        expected: u64,
        actual: u64,
    },
    #[error(transparent)]
    Anchor(#[from] crate::integrity::AnchorError),
    #[error("the store was altered behind the engine's back: {problems} problem(s) found (listed above); keep this report and the database as they are, and restore from a backup that verifies")]
    Altered { problems: usize },
    #[error("the store does not verify ({problems} problem(s)): an anchor would vouch for altered records; run `lifecourse verify` and restore the store first")]
    AnchorRefused { problems: usize },
}

/// Input that is not what was expected, each with what would be.
#[derive(Debug, thiserror::Error)]
pub enum InvalidInput {
    #[error("the command is not valid: {}. Expected a JSON object with \"command\" {{\"type\": ..., fields}}, and \"child_id\" and \"idempotency_key\"; see README.md, \"Recording a command\"", without_values(.0))]
    CommandJson(serde_json::Error),
    #[error("the command is {bytes} bytes long; a command may be at most {max} bytes")]
    CommandTooLarge { bytes: usize, max: usize },
    #[error("{field} contains a control character; text may hold letters, digits, punctuation, spaces, new lines and tabs, nothing else")]
    ControlCharacter { field: String },
    #[error("{field} is {chars} characters long; it may be at most {max}")]
    TextTooLong {
        field: String,
        chars: usize,
        max: usize,
    },
    #[error("{field} lists {items} items; it may list at most {max}")]
    ListTooLong {
        field: String,
        items: usize,
        max: usize,
    },
    #[error("\"recorded_by\" is not part of a command: who records is the person acting (`--as PERSON` or LIFECOURSE_AS), as registered with `lifecourse staff add`")]
    RecordedByInBody,
    #[error("\"child_id\" is required for {0}: name the child whose file this is")]
    MissingChildId(&'static str),
    #[error("who is acting? Give --as PERSON (or set LIFECOURSE_AS) with a person of the staff register")]
    NoPrincipal,
    #[error(
        "{what} {date} is out of range: expected a date between {} and {}",
        super::EARLIEST,
        super::LATEST
    )]
    DateOutOfRange { what: &'static str, date: String },
    #[error("--from {from} is after --to {to}; the period must start before it ends")]
    PeriodReversed {
        from: ClinicalDate,
        to: ClinicalDate,
    },
    #[error(
        "--until {until} is in the future (today is {today}); entries cannot be dated after today"
    )]
    UntilInFuture {
        until: ClinicalDate,
        today: ClinicalDate,
    },
    #[error("--as-of {as_of} is after today ({today}): an export or cohort is of what had happened by a date that has come")]
    AsOfInFuture {
        as_of: ClinicalDate,
        today: ClinicalDate,
    },
    #[error("--known-at {known_at} has not come yet, so a later run could see more: give a past moment (the default, the end of the as-of date, needs an as-of date before today)")]
    KnownAtInFuture { known_at: String },
    #[error("the study secret {0}")]
    StudySecret(&'static str),
    #[error("--study must be 1 to 64 letters, digits, '-', '_' or '.', got {0:?}")]
    StudyName(String),
    #[error("--out {dir}: {why}")]
    ExportDirectory { dir: String, why: String },
    #[error("--{what} must be between {min} and {max}, got {given}")]
    ExportOption {
        what: &'static str,
        min: u64,
        max: u64,
        given: u64,
    },
    #[error("{what} must be between {min} and {max}, got {got}")]
    OutOfRange {
        what: String,
        min: u64,
        max: u64,
        got: String,
    },
    #[error("unknown setting {0:?}; the settings are: {1}")]
    UnknownSetting(String, String),
    #[error("unknown time zone {0:?}: expected an IANA time zone name such as America/Toronto or Europe/Paris")]
    UnknownTimeZone(String),
    #[error("unknown role {0:?}; expected one of: {1}")]
    UnknownRole(String, String),
    #[error("a member of staff works for at least one centre (--centre)")]
    NoCentre,
    #[error("cannot read {what}: {message}")]
    Unreadable { what: String, message: String },
    #[error("{count} line(s) of {file} cannot be imported, so nothing was stored:\n{lines}")]
    ImportLines {
        file: String,
        count: usize,
        lines: String,
    },
    #[error("an erasure is not recorded as a command: it destroys the child's key too; use `lifecourse --as COORDINATOR erase CHILD_ID --reason REASON --yes`")]
    EraseNotACommand,
    #[error("{what}: add --yes to go ahead")]
    Unconfirmed { what: &'static str },
    #[error("{0} works for several centres: name the centre")]
    CentreNeeded(String),
}

impl AppError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            // Another process held SQLite's write lock too long: nothing written, send again.
            AppError::Store(e) | AppError::Runner(RunnerError::Store(e)) if e.is_busy() => {
                ErrorKind::Conflict
            }
            AppError::Store(StoreError::UnsupportedUrl(_)) => ErrorKind::Invalid,
            AppError::Store(_) | AppError::UnreadableView(_) => ErrorKind::Store,
            AppError::Runner(RunnerError::Store(StoreError::UnsupportedUrl(_))) => {
                ErrorKind::Invalid
            }
            AppError::Runner(RunnerError::Store(_)) => ErrorKind::Store,
            // The runner found the store's order broken: a bug, not an outage.
            AppError::Runner(_) | AppError::Generator(_) | AppError::Output { .. } => {
                ErrorKind::Internal
            }
            AppError::Invalid(_) | AppError::KeyReused { .. } | AppError::Anchor(_) => {
                ErrorKind::Invalid
            }
            AppError::Altered { .. } | AppError::AnchorRefused { .. } => ErrorKind::Altered,
            AppError::UnknownChild(_)
            | AppError::NoFileThen { .. }
            | AppError::UnknownPerson(_)
            | AppError::DisabledPerson(_) => ErrorKind::NotFound,
            AppError::NotProjectedYet { .. } => ErrorKind::Store,
            AppError::Refused { .. } | AppError::ImportRefused { .. } => ErrorKind::Refused,
            AppError::OtherCentre { .. }
            | AppError::RoleCannotRecord { .. }
            | AppError::Denied(_) => ErrorKind::Forbidden,
            AppError::SignInFailed | AppError::NotSignedIn => ErrorKind::Unauthenticated,
            AppError::Conflict { .. } | AppError::VersionMismatch { .. } => ErrorKind::Conflict,
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.kind().exit_code()
    }
}

impl From<RunnerError> for AppError {
    fn from(err: RunnerError) -> Self {
        AppError::Runner(err)
    }
}

/// A JSON error's message without the values it quotes: a wrongly typed field may hold a name or
/// a birth date, and an error message goes to logs and terminals. Field names and the expected
/// words stay (serde puts those in backticks).
fn without_values(err: &serde_json::Error) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in err.to_string().chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                quoted = false;
                out.push('"');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}
