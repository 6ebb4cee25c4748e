//! The embedded default: sqlite-es on a single SQLite file, opened with `synchronous = FULL` so an
//! acknowledged command survives a power cut (sqlite-es's own pool uses NORMAL).
//!
//! Only a file on disk is accepted (an in-memory database would acknowledge commands and lose
//! them at exit); a new file is created readable by its owner only (0600), and SQLite gives its
//! `-wal` and `-shm` files the same mode. Writers queue on SQLite's one write lock for at most
//! `BUSY_TIMEOUT`; after that the write fails as a conflict (send again).

use std::str::FromStr;
use std::time::Duration;

use lifecourse_events::ChildId;
use sqlite_es::SqliteEventRepository;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;

use super::child_files::{ChildFiles, StreamReader};
use super::{RawEvent, StoreError, StoreStats, AGGREGATE_TYPE};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a write waits for another process's write lock before giving up (README.md, "Exit
/// codes": the command then exits 4, send again).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The triggers that keep stored events immutable, and how to create each again.
const PROTECTION: [(&str, &str); 3] = [
    (
        "events_no_update",
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN
           SELECT RAISE(ABORT, 'events are immutable: UPDATE on events is not allowed; record a correcting event instead');
         END",
    ),
    (
        "events_no_delete",
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN
           SELECT RAISE(ABORT, 'events are immutable: DELETE on events is not allowed; record a correcting event instead');
         END",
    ),
    (
        "events_no_replace",
        "CREATE TRIGGER events_no_replace BEFORE INSERT ON events
           WHEN EXISTS (SELECT 1 FROM events
                         WHERE (aggregate_type = NEW.aggregate_type AND aggregate_id = NEW.aggregate_id
                                AND sequence = NEW.sequence)
                            OR position = NEW.position
                            OR event_id = NEW.event_id)
         BEGIN
           SELECT RAISE(ABORT, 'events are immutable: an entry with this sequence, position or event id is already stored');
         END",
    ),
];

/// Why `url` names a database that would not outlive the process, if it does.
pub(super) fn not_durable(url: &str) -> Option<&'static str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let param = |key: &str, value: &str| {
        params
            .split('&')
            .any(|p| p.eq_ignore_ascii_case(&format!("{key}={value}")))
    };
    if database.is_empty() {
        Some("it names no file")
    } else if database == ":memory:" || database.starts_with("file::memory:") {
        Some("it is an in-memory database")
    } else if param("mode", "memory") || param("vfs", "memdb") {
        Some("it asks for an in-memory database")
    } else {
        None
    }
}

/// Creates the database file, readable and writable by its owner only, if it does not exist yet,
/// before SQLite writes anything into it. SQLite then creates `-wal` and `-shm` with its mode.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

pub struct SqliteStore {
    pool: SqlitePool,
    keyring: std::sync::Arc<super::keys::Keyring>,
    events: ChildFiles<SqliteEventRepository>,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::SqliteOpen {
            url: url.to_string(),
            hint: super::disk_hint(&source),
            source,
        };
        if let Some(why) = not_durable(url) {
            return Err(StoreError::UnsupportedUrl(format!(
                "DATABASE_URL {url:?} is not a durable store: {why}, so every command would be \
                 acknowledged and then lost when the program exits; name a file, e.g. \
                 sqlite://lifecourse.db"
            )));
        }
        // Long streaming reads (rebuild, `verify`, exports) are expected: `info`, not a warning.
        let options = sqlx::ConnectOptions::log_slow_statements(
            SqliteConnectOptions::from_str(url).map_err(open_error)?,
            log::LevelFilter::Info,
            std::time::Duration::from_secs(1),
        )
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // REPLACE then fires the delete trigger instead of silently deleting a stored event.
        .pragma("recursive_triggers", "ON")
        // Deleted and overwritten content is zeroed on disk: once a child's identifying
        // data is erased, no free page keeps the read models' former rows.
        .pragma("secure_delete", "ON")
        // One writer at a time: concurrent commands queue on the write lock.
        .busy_timeout(BUSY_TIMEOUT);
        create_private(options.get_filename()).map_err(|e| open_error(sqlx::Error::Io(e)))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        Ok(Self::with_pool(pool))
    }

    pub fn with_pool(pool: SqlitePool) -> Self {
        let repo = SqliteEventRepository::new(pool.clone());
        let keyring = std::sync::Arc::new(super::keys::Keyring::default());
        let events = ChildFiles::new(StreamReader::Sqlite(pool.clone()), repo, keyring.clone());
        Self {
            pool,
            keyring,
            events,
        }
    }

    pub(crate) fn keyring(&self) -> &super::keys::Keyring {
        &self.keyring
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn event_store(&self) -> &ChildFiles<SqliteEventRepository> {
        &self.events
    }

    /// Applies pending migrations and restores any missing protection trigger.
    ///
    /// Several processes may open a new file at once: the migrations run inside one `BEGIN
    /// IMMEDIATE` transaction (the migrator's own transactions become savepoints), so the first
    /// process migrates and the others wait for the write lock, then find nothing to do. A file
    /// already at this version takes no write lock at all.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let latest = latest_migration();
        if max_applied(&self.pool).await >= latest && self.unprotected().await?.is_empty() {
            return Ok(0);
        }
        migrate_locked(self.pool.clone()).await
    }

    /// The protection triggers missing on `events` (their names; empty when all are there).
    pub async fn unprotected(&self) -> Result<Vec<String>, StoreError> {
        let present: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(PROTECTION
            .iter()
            .filter(|(name, _)| !present.iter().any(|p| p == name))
            .map(|(name, _)| format!("trigger {name} is missing"))
            .collect())
    }

    pub(crate) async fn history(&self, child: ChildId) -> Result<Vec<RawEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, aggregate_id, sequence, event_id, event_type, event_version,
                    payload, metadata, recorded_at
               FROM events
              WHERE aggregate_type = ? AND aggregate_id = ?
              ORDER BY sequence",
        )
        .bind(AGGREGATE_TYPE)
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(raw_event).collect()
    }

    pub async fn stats(&self) -> Result<StoreStats, StoreError> {
        let row = sqlx::query(
            "SELECT count(DISTINCT aggregate_id), count(*) FROM events WHERE aggregate_type = ?",
        )
        .bind(AGGREGATE_TYPE)
        .fetch_one(&self.pool)
        .await?;
        Ok(StoreStats {
            children: row.try_get::<i64, _>(0)? as u64,
            events: row.try_get::<i64, _>(1)? as u64,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The migrations and the trigger repair, inside one `BEGIN IMMEDIATE` transaction. Boxed as a
/// `Send` future: the migrator's generic connection type otherwise hides that it is one.
fn migrate_locked(
    pool: SqlitePool,
) -> futures::future::BoxFuture<'static, Result<usize, StoreError>> {
    Box::pin(async move {
        let mut conn = pool.acquire().await?;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        let before = applied(&mut tx).await;
        MIGRATOR.run_direct(&mut *tx).await?;
        for (name, create) in PROTECTION {
            let present: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ? AND tbl_name = 'events'",
            )
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            if present == 0 {
                tracing::warn!(trigger = name, "restoring a missing protection trigger");
                sqlx::query(create).execute(&mut *tx).await?;
            }
        }
        let after = applied(&mut tx).await;
        tx.commit().await?;
        Ok(after - before)
    })
}

async fn applied(conn: &mut sqlx::SqliteConnection) -> usize {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(conn)
        .await
        .unwrap_or(0) as usize
}

async fn max_applied(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar::<_, Option<i64>>("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// The highest migration version this binary carries.
pub(super) fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

pub(super) fn raw_event(row: &SqliteRow) -> Result<RawEvent, StoreError> {
    let sequence: i64 = row.try_get("sequence")?;
    let aggregate_id: String = row.try_get("aggregate_id")?;
    let unreadable = |problem: String| StoreError::Unreadable {
        child: aggregate_id.clone(),
        sequence,
        problem,
    };
    let event_id: String = row.try_get("event_id")?;
    let recorded_at: String = row.try_get("recorded_at")?;
    Ok(RawEvent {
        position: row.try_get("position")?,
        event_id: event_id
            .parse()
            .map_err(|e| unreadable(format!("event id {event_id:?}: {e}")))?,
        recorded_at: chrono::DateTime::parse_from_rfc3339(&recorded_at)
            .map_err(|e| unreadable(format!("recorded_at {recorded_at:?}: {e}")))?
            .to_utc(),
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        sequence,
        aggregate_id,
    })
}
