//! The embedded default: sqlite-es on a single SQLite file, opened with `synchronous = FULL` so an
//! acknowledged command survives a power cut (sqlite-es's own pool uses NORMAL).

use std::str::FromStr;
use std::time::Duration;

use cqrs_es::persist::PersistedEventStore;
use lifecourse_events::ChildId;
use sqlite_es::SqliteEventRepository;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;

use super::{RawEvent, StoreError, StoreStats, AGGREGATE_TYPE};
use crate::domain::ChildFile;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    events: PersistedEventStore<SqliteEventRepository, ChildFile>,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::SqliteOpen {
            url: url.to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // One writer at a time: concurrent commands queue on the write lock.
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        Ok(Self::with_pool(pool))
    }

    pub fn with_pool(pool: SqlitePool) -> Self {
        let repo = SqliteEventRepository::new(pool.clone());
        let events = PersistedEventStore::new_event_store(repo)
            .with_upcasters(vec![Box::new(super::CatalogueUpcaster)]);
        Self { pool, events }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn event_store(&self) -> &PersistedEventStore<SqliteEventRepository, ChildFile> {
        &self.events
    }

    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = applied(&self.pool).await;
        MIGRATOR.run(&self.pool).await?;
        Ok(applied(&self.pool).await - before)
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

async fn applied(pool: &SqlitePool) -> usize {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .unwrap_or(0) as usize
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
