//! The event stores: SQLite (the embedded default, one file) and PostgreSQL (production), both
//! through the cqrs-es repositories of sqlite-es and postgres-es, on tables our migrations extend
//! with a global position, `recorded_at` and an event id. One `Store` type, chosen by URL, gives
//! both the same behaviour; all SQL lives in this module and its two backend files.

pub mod access;
mod admin;
mod baseline;
mod centres;
mod child_files;
mod integrity;
mod keys;
mod pg_events;
mod postgres;
mod sqlite;
mod upcasting;
mod views;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use serde::Serialize;

use crate::domain::{ChildFile, ClinicalCalendar};
use crate::recording::{self, CommandRequest, RecordError, Recorded};

pub use admin::{SchemaVersion, StaffRow};
pub use baseline::RawRow;
pub(crate) use child_files::{serialize, ChildFiles};
pub(crate) use keys::ChildKey;
pub use keys::{master_key_path, MASTER_KEY_ENV};
pub use pg_events::PgEventRepository;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use upcasting::CatalogueUpcaster;
pub use views::{BatchEvent, Checkpoint, Cursor, Fingerprint, GapQuery, Scratch, ViewRow, ViewTx};

/// The default store: a SQLite file in the current directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://lifecourse.db";

/// The aggregate type under which child files are stored.
const AGGREGATE_TYPE: &str = "ChildFile";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A URL this program will not store in: not SQLite or PostgreSQL, or a SQLite database that
    /// would not outlive the process. The text says which (an invalid-input error: exit 2).
    #[error("{0}")]
    UnsupportedUrl(String),
    #[error("cannot open the SQLite database {url}: {source}{hint}")]
    SqliteOpen {
        url: String,
        source: sqlx::Error,
        hint: &'static str,
    },
    #[error(
        "cannot reach PostgreSQL at {url}: {source}; is the server running and the URL right?"
    )]
    PostgresUnreachable { url: String, source: sqlx::Error },
    #[error("cannot bring the database schema up to date: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}{hint}", hint = disk_hint(.0))]
    Database(#[from] sqlx::Error),
    #[error("cannot load child {child}'s file: {source}")]
    Load {
        child: ChildId,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot record in child {child}'s file: {source}{hint}", hint = source.downcast_ref::<sqlx::Error>().map_or("", disk_hint))]
    Record {
        child: ChildId,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot record the batch: {0}")]
    Batch(Box<dyn std::error::Error + Send + Sync>),
    #[error("the staff register's row for {person:?} cannot be read: {problem}")]
    UnreadableStaff { person: String, problem: String },
    #[error("the database schema is at version {applied}, this program needs {expected}: ask the database owner to run `lifecourse migrate` with this release (the application itself does not change the schema on PostgreSQL)")]
    SchemaBehind { applied: i64, expected: i64 },
    #[error("the events table is not protected as it must be: {}; run `lifecourse migrate` as the owner of the tables to restore it", .0.join("; "))]
    Unprotected(Vec<String>),
    #[error("{0}")]
    MasterKey(String),
    #[error("entry #{sequence} of child {child} cannot be read: {problem}")]
    Unreadable {
        child: String,
        sequence: i64,
        problem: String,
    },
}

impl StoreError {
    /// SQLite's write lock stayed with another process past the busy timeout: nothing was
    /// written, and the same command can be sent again (exit 4, like a conflict).
    pub fn is_busy(&self) -> bool {
        let StoreError::Database(err) = self else {
            return false;
        };
        err.as_database_error().is_some_and(|db| {
            db.code()
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(|c| c & 0xff == 5)
                || db.message().contains("database is locked")
        })
    }
}

/// What to look at when SQLite reports an I/O error or a full database: mostly a full disk, or a
/// file this user may not write. Empty for every other error.
pub(crate) fn disk_hint(err: &sqlx::Error) -> &'static str {
    let code = err
        .as_database_error()
        .and_then(|db| db.code())
        .and_then(|c| c.parse::<i32>().ok());
    match code.map(|c| c & 0xff) {
        Some(13) => "; the disk is full: free some space and send the command again",
        Some(10) => "; is the disk full? Free some space, check the file's permissions, and send the command again",
        Some(5) => "; another process held the database's write lock longer than the busy timeout (5 s): nothing was stored, send the command again",
        _ => "",
    }
}

/// How many files and entries a store holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    pub children: u64,
    pub events: u64,
}

/// A store handle; cheap to clone (the backends are shared).
#[derive(Clone)]
pub enum Store {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

impl Store {
    /// Connects and applies any pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(Arc::new(SqliteStore::connect(url).await?)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(Arc::new(PostgresStore::connect(url).await?)))
        } else {
            Err(StoreError::UnsupportedUrl(format!(
                "DATABASE_URL must start with sqlite:// (a file) or postgres:// (a server), got {:?}",
                redact(url)
            )))
        }
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        match self {
            Self::Sqlite(s) => s.migrate().await,
            Self::Postgres(s) => s.migrate().await,
        }
    }

    /// What is missing from the triggers that keep `events` immutable (each a sentence naming
    /// the trigger; empty when all are there and enabled). `lifecourse migrate --check`.
    pub async fn unprotected(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Self::Sqlite(s) => s.unprotected().await,
            Self::Postgres(s) => s.unprotected().await,
        }
    }

    /// Refuses to go on against a schema older than this binary's migrations (on PostgreSQL the
    /// application does not migrate: `lifecourse migrate` does, with the owner role).
    pub async fn check_schema(&self) -> Result<(), StoreError> {
        let version = self.schema_version().await?;
        if version.is_current() {
            Ok(())
        } else {
            Err(StoreError::SchemaBehind {
                applied: version.applied,
                expected: version.expected,
            })
        }
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Records one command in a child's file (see `recording`).
    ///
    /// The command runs in its own task, so it is never cut off half-way: if the caller goes
    /// away (a dropped request), the command still either commits whole or not at all, and no
    /// connection is left inside a transaction.
    pub async fn record(
        &self,
        calendar: ClinicalCalendar,
        request: CommandRequest,
    ) -> Result<Recorded, RecordError> {
        let store = self.clone();
        let task = tokio::spawn(async move {
            match &store {
                Self::Sqlite(s) => recording::record(s.event_store(), calendar, request).await,
                Self::Postgres(s) => recording::record(s.event_store(), calendar, request).await,
            }
        });
        match task.await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => Err(RecordError::Storage(Box::new(join))),
        }
    }

    /// Records many commands of many files with few writes (see `recording::record_batch`).
    pub(crate) async fn record_batch<E>(
        &self,
        requests: Vec<CommandRequest>,
        admit: impl FnMut(usize, &mut CommandRequest, &ChildFile) -> Result<ClinicalCalendar, E>,
    ) -> Result<recording::BatchOutcome<E>, RecordError> {
        match self {
            Self::Sqlite(s) => recording::record_batch(s.event_store(), requests, admit).await,
            Self::Postgres(s) => recording::record_batch(s.event_store(), requests, admit).await,
        }
    }

    /// A child's entries in sequence order, with everything the store added.
    pub async fn history(&self, child: ChildId) -> Result<Vec<StoredEvent>, StoreError> {
        let raw = match self {
            Self::Sqlite(s) => s.history(child).await?,
            Self::Postgres(s) => s.history(child).await?,
        };
        let id = child.to_string();
        let keys = self
            .keyring()
            .keys_for(self.db(), std::slice::from_ref(&id))
            .await?;
        let cipher = keys.get(&id).and_then(|k| k.cipher(&id));
        let events = raw
            .into_iter()
            .map(|r| r.decode(cipher.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(lifecourse_projections::history::as_shown(events))
    }

    /// Seals and sealed fields off or on again: only for the benchmark's measure of their cost.
    pub(crate) fn set_protection(&self, on: bool) {
        match self {
            Self::Sqlite(s) => s.event_store().set_protection(on),
            Self::Postgres(s) => s.event_store().set_protection(on),
        }
    }

    pub(crate) fn keyring(&self) -> &keys::Keyring {
        match self {
            Self::Sqlite(s) => s.keyring(),
            Self::Postgres(s) => s.keyring(),
        }
    }

    pub(crate) fn db(&self) -> keys::Db<'_> {
        match self {
            Self::Sqlite(s) => keys::Db::Sqlite(s.pool()),
            Self::Postgres(s) => keys::Db::Postgres(s.pool()),
        }
    }

    /// After an erasure: on SQLite, the write-ahead log is checkpointed and truncated, so the
    /// only copy of every page is the database file, where deleted content is zeroed
    /// (`secure_delete`). On PostgreSQL nothing is done here: replaced row versions stay in the
    /// table files until vacuum reclaims them (they are never part of a dump).
    pub async fn scrub(&self) -> Result<(), StoreError> {
        if let Self::Sqlite(s) = self {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(s.pool())
                .await?;
            if busy != 0 {
                tracing::warn!("the write-ahead log could not be truncated now (another reader); SQLite checkpoints it later");
            }
        }
        Ok(())
    }

    /// Destroys `child`'s key for identifying fields: from now on they read as erased
    /// everywhere. True when this call erased it, false when it was erased already.
    pub async fn erase_key(&self, child: ChildId) -> Result<bool, StoreError> {
        self.keyring().erase(self.db(), &child.to_string()).await
    }

    /// A child's file as the command path sees it: loaded through the cqrs-es event store (the
    /// crates' own read path and upcasters).
    pub async fn load(&self, child: ChildId) -> Result<ChildFile, StoreError> {
        use cqrs_es::{AggregateContext, EventStore};
        let id = child.to_string();
        let mut context = match self {
            Self::Sqlite(s) => s.event_store().load_aggregate(&id).await,
            Self::Postgres(s) => s.event_store().load_aggregate(&id).await,
        }
        .map_err(|e| StoreError::Load {
            child,
            source: Box::new(e),
        })?;
        Ok(std::mem::take(context.aggregate()))
    }

    pub async fn stats(&self) -> Result<StoreStats, StoreError> {
        match self {
            Self::Sqlite(s) => s.stats().await,
            Self::Postgres(s) => s.stats().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(s) => s.close().await,
        }
    }
}

/// A stored row before decoding; both backends produce it.
pub(crate) struct RawEvent {
    pub position: i64,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
    pub recorded_at: DateTime<Utc>,
}

impl RawEvent {
    /// Reads the payload straight into the current type; only an old schema version takes the
    /// detour through `serde_json::Value` and the upcasters. Identifying fields are opened
    /// under `cipher`, the child's, when it has a key.
    pub fn decode(
        self,
        cipher: Option<&std::rc::Rc<dyn FieldCipher>>,
    ) -> Result<StoredEvent, StoreError> {
        match cipher {
            Some(c) => identifying::with_cipher(c.clone(), || self.decode_here()),
            None => self.decode_here(),
        }
    }

    fn decode_here(self) -> Result<StoredEvent, StoreError> {
        let unreadable = |problem: String| StoreError::Unreadable {
            child: self.aggregate_id.clone(),
            sequence: self.sequence,
            problem,
        };
        let event: ChildEvent = if upcast::needs_upcast(&self.event_type, &self.event_version) {
            let stored: serde_json::Value =
                serde_json::from_str(&self.payload).map_err(|e| unreadable(e.to_string()))?;
            let current = upcast::upcast_payload(&self.event_type, &self.event_version, stored)
                .map_err(|e| unreadable(e.to_string()))?;
            serde_json::from_value(current).map_err(|e| unreadable(e.to_string()))?
        } else {
            serde_json::from_str(&self.payload).map_err(|e| unreadable(e.to_string()))?
        };
        let metadata: RecordingMetadata =
            serde_json::from_str(&self.metadata).map_err(|e| unreadable(e.to_string()))?;
        let child_id = self
            .aggregate_id
            .parse::<ChildId>()
            .map_err(|e| unreadable(e.to_string()))?;
        Ok(StoredEvent {
            position: self.position,
            child_id,
            sequence: self.sequence as u64,
            event_id: EventId(self.event_id),
            event_type: self.event_type,
            stored_version: self.event_version,
            recorded_at: self.recorded_at,
            metadata,
            event,
        })
    }
}

/// A URL fit for messages and logs: any password replaced by `***`, in the user information
/// (`user:password@host`, where the password may itself hold `@` or `:`) or in a query parameter
/// (`?password=…`, `sslpassword=…`).
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => base.to_string(),
            },
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                    format!("{key}=***")
                }
                _ => param.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/lifecourse"),
            "postgres://app:***@db:5432/lifecourse"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact("sqlite://lifecourse.db"), "sqlite://lifecourse.db");
        assert_eq!(
            redact("postgres://u:p@ss@host:5432/db"),
            "postgres://u:***@host:5432/db"
        );
        assert_eq!(
            redact("postgres://u@host/db?password=s3cret&sslmode=require"),
            "postgres://u@host/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://host/db?sslmode=require&sslpassword=x:y@z"),
            "postgres://host/db?sslmode=require&sslpassword=***"
        );
    }
}
