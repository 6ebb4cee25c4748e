//! Our cqrs-es `PersistedEventRepository` for PostgreSQL, beside postgres-es (not a fork of it):
//! the same `events` table and primary key, but a command's events are appended by **one
//! statement** (`INSERT … SELECT FROM unnest(…)`), which PostgreSQL runs as its own transaction,
//! so a command costs one round trip to write instead of postgres-es's BEGIN, one INSERT per
//! event and COMMIT. All of a command's events still commit together or not at all, and a second
//! writer of the same sequence still hits the primary key: `AggregateConflict`, as before.
//!
//! The same statement appends a batch of several streams at once (`lifecourse import`, the demo
//! cohort): each row still meets the primary key, and the whole batch commits or none of it.
//!
//! Snapshots are not used by this engine (`ChildFiles::append` never asks for one); a snapshot
//! update reaching `persist` is refused rather than silently dropped.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use futures::TryStreamExt;
use serde_json::Value;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

const SELECT_EVENTS: &str =
    "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version,
        payload, metadata
   FROM events
  WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
  ORDER BY sequence";

const SELECT_ALL_EVENTS: &str =
    "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version,
        payload, metadata
   FROM events
  WHERE aggregate_type = $1
  ORDER BY era, transaction_id, position";

/// One statement for all of a command's events (or a batch's, of several streams): the arrays
/// are unnested in step (same length), in the order given.
const APPEND: &str = "INSERT INTO events
        (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
 SELECT $1, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload::jsonb,
        e.metadata::jsonb
   FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
        WITH ORDINALITY AS e(aggregate_id, sequence, event_type, event_version, payload, metadata, n)
  ORDER BY e.n";

/// The events table of one PostgreSQL database, a cqrs-es `PersistedEventRepository`.
pub struct PgEventRepository {
    pool: PgPool,
}

impl PgEventRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    async fn select<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after: i64,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let rows = sqlx::query(SELECT_EVENTS)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .map_err(persistence)?;
        rows.iter().map(serialized).collect()
    }
}

impl PersistedEventRepository for PgEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select::<A>(aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select::<A>(aggregate_id, last_sequence as i64).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError(
                "this event store keeps no snapshots: build it with new_event_store".into(),
            ));
        }
        if events.is_empty() {
            return Ok(());
        }
        let mut streams = Vec::with_capacity(events.len());
        let mut sequences = Vec::with_capacity(events.len());
        let mut types = Vec::with_capacity(events.len());
        let mut versions = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        let mut metadata = Vec::with_capacity(events.len());
        for event in events {
            streams.push(event.aggregate_id.as_str());
            sequences.push(event.sequence as i64);
            types.push(event.event_type.as_str());
            versions.push(event.event_version.as_str());
            payloads.push(event.payload.to_string());
            metadata.push(event.metadata.to_string());
        }
        sqlx::query(APPEND)
            .bind(A::TYPE)
            .bind(&streams)
            .bind(&sequences)
            .bind(&types)
            .bind(&versions)
            .bind(&payloads)
            .bind(&metadata)
            .execute(&self.pool)
            .await
            .map_err(persistence)?;
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        Ok(stream(
            self.pool.clone(),
            SELECT_EVENTS,
            A::TYPE.to_string(),
            Some(aggregate_id.to_string()),
        ))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        Ok(stream(
            self.pool.clone(),
            SELECT_ALL_EVENTS,
            A::TYPE.to_string(),
            None,
        ))
    }
}

/// Streams rows into a `ReplayStream`; a database error is passed on as the stream's last item
/// (postgres-es unwraps it inside its task, which ends the stream as if it were complete).
fn stream(
    pool: PgPool,
    sql: &'static str,
    aggregate_type: String,
    aggregate_id: Option<String>,
) -> ReplayStream {
    let (mut feed, stream) = ReplayStream::new(200);
    tokio::spawn(async move {
        let query = sqlx::query(sql).bind(&aggregate_type);
        let query = match &aggregate_id {
            Some(id) => query.bind(id).bind(0i64),
            None => query,
        };
        let mut rows = query.fetch(&pool);
        loop {
            let item = match rows.try_next().await {
                Ok(Some(row)) => serialized(&row),
                Ok(None) => return,
                Err(err) => Err(persistence(err)),
            };
            let failed = item.is_err();
            if feed.push(item).await.is_err() || failed {
                return;
            }
        }
    });
    stream
}

fn serialized(row: &PgRow) -> Result<SerializedEvent, PersistenceError> {
    let get = |e: sqlx::Error| PersistenceError::DeserializationError(Box::new(e));
    Ok(SerializedEvent::new(
        row.try_get("aggregate_id").map_err(get)?,
        row.try_get::<i64, _>("sequence").map_err(get)? as usize,
        row.try_get("aggregate_type").map_err(get)?,
        row.try_get("event_type").map_err(get)?,
        row.try_get("event_version").map_err(get)?,
        row.try_get("payload").map_err(get)?,
        row.try_get("metadata").map_err(get)?,
    ))
}

/// A unique violation is a second writer of the same sequence (the primary key), as postgres-es
/// reads it; anything else keeps the database error, so the command path can classify it.
fn persistence(err: sqlx::Error) -> PersistenceError {
    if let Some(db) = err.as_database_error() {
        if db.code().as_deref() == Some("23505") {
            return PersistenceError::OptimisticLockError;
        }
    }
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => {
            PersistenceError::ConnectionError(Box::new(err))
        }
        other => PersistenceError::UnknownError(Box::new(other)),
    }
}
