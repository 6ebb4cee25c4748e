//! The production store: postgres-es on PostgreSQL, with `jsonb` payloads and the commit-order
//! columns (`position`, `transaction_id`) that the projection runner reads by.

use std::time::Duration;

use cqrs_es::persist::PersistedEventStore;
use lifecourse_events::ChildId;
use postgres_es::PostgresEventRepository;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

use super::{redact, RawEvent, StoreError, StoreStats, AGGREGATE_TYPE};
use crate::domain::ChildFile;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub struct PostgresStore {
    pool: PgPool,
    events: PersistedEventStore<PostgresEventRepository, ChildFile>,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let unreachable = |source| StoreError::PostgresUnreachable {
            url: redact(url),
            source,
        };
        let options: PgConnectOptions = url.parse().map_err(unreachable)?;
        // One direct attempt first: the pool would retry a refused connection until its acquire
        // timeout, and a user who mistyped the URL deserves an answer at once.
        PgConnection::connect_with(&options)
            .await
            .map_err(unreachable)?
            .close()
            .await
            .map_err(unreachable)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(unreachable)?;
        Ok(Self::with_pool(pool))
    }

    pub fn with_pool(pool: PgPool) -> Self {
        let repo = PostgresEventRepository::new(pool.clone());
        let events = PersistedEventStore::new_event_store(repo)
            .with_upcasters(vec![Box::new(super::CatalogueUpcaster)]);
        Self { pool, events }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn event_store(&self) -> &PersistedEventStore<PostgresEventRepository, ChildFile> {
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
                    payload::text AS payload, metadata::text AS metadata, recorded_at
               FROM events
              WHERE aggregate_type = $1 AND aggregate_id = $2
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
            "SELECT count(DISTINCT aggregate_id), count(*) FROM events WHERE aggregate_type = $1",
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

async fn applied(pool: &PgPool) -> usize {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .unwrap_or(0) as usize
}

/// The highest migration version this binary carries.
pub(super) fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

pub(super) fn raw_event(row: &PgRow) -> Result<RawEvent, StoreError> {
    Ok(RawEvent {
        position: row.try_get("position")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}
