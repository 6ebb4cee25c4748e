//! The cqrs-es `EventStore` the command path uses, on either backend: commits go through the
//! crates' `PersistedEventStore` (sqlite-es's repository, or ours on PostgreSQL), while a
//! stream is read by one query whose payload text is parsed straight into `ChildEvent` — only an
//! old schema version takes the detour through `serde_json::Value` and the upcasters — instead
//! of the repositories' `serde_json::Value` rows, upcast and converted again.

use std::collections::HashMap;

use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventRepository, PersistedEventStore};
use cqrs_es::{AggregateError, EventEnvelope, EventStore};
use lifecourse_events::*;

use super::AGGREGATE_TYPE;
use crate::domain::{ChildFile, ChildFileError, ChildFileEvent};

/// Where a stream is read from.
pub(crate) enum StreamReader {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A stream's row: sequence, event type, stored version, payload and metadata as text.
type Row = (i64, String, String, String, String);

impl StreamReader {
    async fn rows(&self, aggregate_id: &str) -> Result<Vec<Row>, sqlx::Error> {
        match self {
            StreamReader::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT sequence, event_type, event_version, payload, metadata FROM events
                      WHERE aggregate_type = ? AND aggregate_id = ? ORDER BY sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(aggregate_id)
                .fetch_all(pool)
                .await
            }
            StreamReader::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT sequence, event_type, event_version, payload::text, metadata::text
                       FROM events
                      WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(aggregate_id)
                .fetch_all(pool)
                .await
            }
        }
    }
}

/// The command path's event store for child files.
pub(crate) struct ChildFiles<R: PersistedEventRepository> {
    reader: StreamReader,
    writer: PersistedEventStore<R, ChildFile>,
}

impl<R: PersistedEventRepository> ChildFiles<R> {
    pub fn new(reader: StreamReader, writer: PersistedEventStore<R, ChildFile>) -> Self {
        Self { reader, writer }
    }
}

fn unreadable(e: impl std::error::Error + Send + Sync + 'static) -> AggregateError<ChildFileError> {
    AggregateError::DeserializationError(Box::new(e))
}

fn envelope(
    aggregate_id: &str,
    (sequence, event_type, version, payload, metadata): Row,
) -> Result<EventEnvelope<ChildFile>, AggregateError<ChildFileError>> {
    let event: ChildEvent = if upcast::needs_upcast(&event_type, &version) {
        let stored: serde_json::Value = serde_json::from_str(&payload).map_err(unreadable)?;
        let current = upcast::upcast_payload(&event_type, &version, stored).map_err(unreadable)?;
        serde_json::from_value(current).map_err(unreadable)?
    } else {
        serde_json::from_str(&payload).map_err(unreadable)?
    };
    let metadata: HashMap<String, String> = serde_json::from_str(&metadata).map_err(unreadable)?;
    Ok(EventEnvelope {
        aggregate_id: aggregate_id.to_string(),
        sequence: sequence as usize,
        payload: ChildFileEvent(event),
        metadata,
    })
}

impl<R: PersistedEventRepository> EventStore<ChildFile> for ChildFiles<R> {
    type AC = EventStoreAggregateContext<ChildFile>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<ChildFile>>, AggregateError<ChildFileError>> {
        let rows = self
            .reader
            .rows(aggregate_id)
            .await
            .map_err(|e| AggregateError::UnexpectedError(Box::new(e)))?;
        rows.into_iter()
            .map(|row| envelope(aggregate_id, row))
            .collect()
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<Self::AC, AggregateError<ChildFileError>> {
        let events = self.load_events(aggregate_id).await?;
        let current_sequence = events.last().map_or(0, |e| e.sequence);
        Ok(EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate: ChildFile::from_entries(events.into_iter().map(|e| e.payload.0)),
            current_sequence,
            current_snapshot: None,
        })
    }

    async fn commit(
        &self,
        events: Vec<ChildFileEvent>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<ChildFile>>, AggregateError<ChildFileError>> {
        self.writer.commit(events, context, metadata).await
    }
}
