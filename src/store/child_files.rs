//! The cqrs-es `EventStore` the command path uses, on either backend. A stream is read by one
//! query whose payload text is parsed straight into `ChildEvent` — only an old schema version
//! takes the detour through `serde_json::Value` and the upcasters — instead of the repositories'
//! `serde_json::Value` rows, upcast and converted again. Commits go through the crates'
//! repositories (sqlite-es's, or ours on PostgreSQL) with envelopes made here, one per event, so
//! that each event carries its own metadata: its causation and its seal (`crate::integrity`),
//! chained to the stream's head that the load found.

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::persist::{
    EventStoreAggregateContext, PersistedEventRepository, PersistenceError, SerializedEvent,
};
use cqrs_es::{AggregateError, DomainEvent, EventEnvelope, EventStore};
use lifecourse_events::*;
use serde_json::Value;
use uuid::Uuid;

use super::keys::{ChildKey, Db, Keyring};
use super::{StoreError, AGGREGATE_TYPE};
use crate::domain::{ChildFile, ChildFileError, ChildFileEvent};
use crate::integrity::{seal, Digest32, Link, SEAL_KEY};

/// Where a stream is read from.
pub(crate) enum StreamReader {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A stream's row: sequence, event type, stored version, payload, metadata and event id as text,
/// then the child's wrapped key and whether it was erased (both `None` without a key row).
type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    Option<bool>,
);

impl StreamReader {
    async fn rows(&self, aggregate_id: &str) -> Result<Vec<Row>, sqlx::Error> {
        match self {
            StreamReader::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT sequence, event_type, event_version, payload, metadata, event_id,
                            (SELECT wrapped FROM child_keys WHERE aggregate_id = ?2),
                            (SELECT erased_at IS NOT NULL FROM child_keys WHERE aggregate_id = ?2)
                       FROM events
                      WHERE aggregate_type = ?1 AND aggregate_id = ?2 ORDER BY sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(aggregate_id)
                .fetch_all(pool)
                .await
            }
            StreamReader::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT sequence, event_type, event_version, payload::text, metadata::text,
                            event_id::text,
                            (SELECT wrapped FROM child_keys WHERE aggregate_id = $2),
                            (SELECT erased_at IS NOT NULL FROM child_keys WHERE aggregate_id = $2)
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

    /// The rows of several streams, by stream in sequence order (the stream's id first).
    async fn rows_of_many(
        &self,
        aggregate_ids: &[String],
    ) -> Result<Vec<(String, Row)>, sqlx::Error> {
        type Many = (
            String,
            i64,
            String,
            String,
            String,
            String,
            String,
            Option<Vec<u8>>,
            Option<bool>,
        );
        let rows: Vec<Many> =
            match self {
                StreamReader::Sqlite(pool) => sqlx::query_as(
                    "SELECT e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload,
                            e.metadata, e.event_id, k.wrapped,
                            CASE WHEN k.aggregate_id IS NULL THEN NULL
                                 ELSE k.erased_at IS NOT NULL END
                       FROM events e LEFT JOIN child_keys k ON k.aggregate_id = e.aggregate_id
                      WHERE e.aggregate_type = ?1
                        AND e.aggregate_id IN (SELECT value FROM json_each(?2))
                      ORDER BY e.aggregate_id, e.sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(serde_json::to_string(aggregate_ids).expect("ids serialise"))
                .fetch_all(pool)
                .await?,
                StreamReader::Postgres(pool) => {
                    sqlx::query_as(
                        "SELECT e.aggregate_id, e.sequence, e.event_type, e.event_version,
                            e.payload::text, e.metadata::text, e.event_id::text, k.wrapped,
                            CASE WHEN k.aggregate_id IS NULL THEN NULL
                                 ELSE k.erased_at IS NOT NULL END
                       FROM events e LEFT JOIN child_keys k ON k.aggregate_id = e.aggregate_id
                      WHERE e.aggregate_type = $1 AND e.aggregate_id = ANY($2)
                      ORDER BY e.aggregate_id, e.sequence",
                    )
                    .bind(AGGREGATE_TYPE)
                    .bind(aggregate_ids)
                    .fetch_all(pool)
                    .await?
                }
            };
        Ok(rows
            .into_iter()
            .map(|(id, sequence, t, v, p, m, e, w, x)| (id, (sequence, t, v, p, m, e, w, x)))
            .collect())
    }

    /// The event ids of the entries of each stream after the sequence given with it.
    async fn event_ids_after(
        &self,
        after: &[(String, i64)],
    ) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
        match self {
            StreamReader::Sqlite(pool) => {
                sqlx::query_as(
                    // CROSS JOIN: SQLite keeps this order, one index search per stream.
                    "SELECT e.aggregate_id, e.sequence, e.event_id
                       FROM json_each(?2) w
                      CROSS JOIN events e ON e.aggregate_type = ?1
                                    AND e.aggregate_id = json_extract(w.value, '$[0]')
                                    AND e.sequence > json_extract(w.value, '$[1]')",
                )
                .bind(AGGREGATE_TYPE)
                .bind(serde_json::to_string(after).expect("pairs serialise"))
                .fetch_all(pool)
                .await
            }
            StreamReader::Postgres(pool) => {
                let (ids, sequences): (Vec<&str>, Vec<i64>) =
                    after.iter().map(|(id, s)| (id.as_str(), *s)).unzip();
                sqlx::query_as(
                    "SELECT e.aggregate_id, e.sequence, e.event_id::text
                       FROM unnest($2::text[], $3::bigint[]) AS w(aggregate_id, after)
                       JOIN events e ON e.aggregate_type = $1
                                    AND e.aggregate_id = w.aggregate_id
                                    AND e.sequence > w.after",
                )
                .bind(AGGREGATE_TYPE)
                .bind(&ids)
                .bind(&sequences)
                .fetch_all(pool)
                .await
            }
        }
    }

    fn db(&self) -> Db<'_> {
        match self {
            StreamReader::Sqlite(pool) => Db::Sqlite(pool),
            StreamReader::Postgres(pool) => Db::Postgres(pool),
        }
    }
}

/// A child's stream as the command path loads it.
pub(crate) struct LoadedStream {
    pub events: Vec<EventEnvelope<ChildFile>>,
    /// Each event's id, by index.
    pub event_ids: Vec<Option<Uuid>>,
    /// The seal of the stream's last event (recomputed when the stream predates seals).
    pub head: Option<Digest32>,
    /// The child's key for identifying fields.
    pub key: ChildKey,
}

/// The command path's event store for child files.
pub(crate) struct ChildFiles<R: PersistedEventRepository> {
    reader: StreamReader,
    repo: R,
    keyring: Arc<Keyring>,
    /// Seals and sealed fields on (always, but for the benchmark's measure of what they cost).
    protect: std::sync::atomic::AtomicBool,
}

impl<R: PersistedEventRepository> ChildFiles<R> {
    pub fn new(reader: StreamReader, repo: R, keyring: Arc<Keyring>) -> Self {
        Self {
            reader,
            repo,
            keyring,
            protect: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Turns seals and sealed fields off (`false`) or on again: only `lifecourse bench` does, to
    /// measure their cost on children of their own (recorded like events of an earlier release).
    pub fn set_protection(&self, on: bool) {
        self.protect.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A key's store error, with the database's own error kept where there is one (a busy SQLite
/// write lock must still read as busy).
fn key_error(e: StoreError) -> AggregateError<ChildFileError> {
    match e {
        StoreError::Database(db) => AggregateError::UnexpectedError(Box::new(db)),
        other => AggregateError::UnexpectedError(Box::new(other)),
    }
}

fn unreadable(e: impl std::error::Error + Send + Sync + 'static) -> AggregateError<ChildFileError> {
    AggregateError::DeserializationError(Box::new(e))
}

fn envelope(
    aggregate_id: &str,
    (sequence, event_type, version, payload, metadata, ..): &Row,
) -> Result<EventEnvelope<ChildFile>, AggregateError<ChildFileError>> {
    let event: ChildEvent = if upcast::needs_upcast(event_type, version) {
        let stored: serde_json::Value = serde_json::from_str(payload).map_err(unreadable)?;
        let current = upcast::upcast_payload(event_type, version, stored).map_err(unreadable)?;
        serde_json::from_value(current).map_err(unreadable)?
    } else {
        serde_json::from_str(payload).map_err(unreadable)?
    };
    let metadata: HashMap<String, String> = serde_json::from_str(metadata).map_err(unreadable)?;
    Ok(EventEnvelope {
        aggregate_id: aggregate_id.to_string(),
        sequence: *sequence as usize,
        payload: ChildFileEvent(event),
        metadata,
    })
}

/// The seal of the stream's last event: the stored one, or, for a stream recorded before seals
/// existed, the chain recomputed over its rows as stored.
fn head_of(
    aggregate_id: &str,
    rows: &[Row],
) -> Result<Option<Digest32>, AggregateError<ChildFileError>> {
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let stored = |row: &Row| -> Result<Option<Digest32>, AggregateError<ChildFileError>> {
        let metadata: Value = serde_json::from_str(&row.4).map_err(unreadable)?;
        Ok(metadata
            .get(SEAL_KEY)
            .and_then(Value::as_str)
            .and_then(Digest32::from_hex))
    };
    if let Some(head) = stored(last)? {
        return Ok(Some(head));
    }
    let mut previous = None;
    for row in rows {
        let this = match stored(row)? {
            Some(s) => s,
            None => {
                let payload: Value = serde_json::from_str(&row.3).map_err(unreadable)?;
                let metadata: Value = serde_json::from_str(&row.4).map_err(unreadable)?;
                seal(
                    &Link {
                        child: aggregate_id,
                        sequence: row.0 as u64,
                        event_type: &row.1,
                        event_version: &row.2,
                        payload: &payload,
                        metadata: &metadata,
                    },
                    previous.as_ref(),
                )
            }
        };
        previous = Some(this);
    }
    Ok(previous)
}

impl<R: PersistedEventRepository> ChildFiles<R> {
    /// The stream, its event ids and its head seal, in one query.
    pub async fn load_stream(
        &self,
        aggregate_id: &str,
    ) -> Result<LoadedStream, AggregateError<ChildFileError>> {
        let rows = self
            .reader
            .rows(aggregate_id)
            .await
            .map_err(|e| AggregateError::UnexpectedError(Box::new(e)))?;
        self.assemble(aggregate_id, rows).await
    }

    /// Several streams, each as `load_stream` gives it, in one query (streams without entries
    /// are left out).
    pub async fn load_streams(
        &self,
        aggregate_ids: &[String],
    ) -> Result<HashMap<String, LoadedStream>, AggregateError<ChildFileError>> {
        let rows = self
            .reader
            .rows_of_many(aggregate_ids)
            .await
            .map_err(|e| AggregateError::UnexpectedError(Box::new(e)))?;
        let mut by_stream: Vec<(String, Vec<Row>)> = Vec::new();
        for (id, row) in rows {
            match by_stream.last_mut() {
                Some((last, rows)) if *last == id => rows.push(row),
                _ => by_stream.push((id, vec![row])),
            }
        }
        let mut loaded = HashMap::with_capacity(by_stream.len());
        for (id, rows) in by_stream {
            let stream = self.assemble(&id, rows).await?;
            loaded.insert(id, stream);
        }
        Ok(loaded)
    }

    /// The keys for writing of `aggregate_ids`, none of which has a key row yet as far as the
    /// caller knows: made and stored in one go (a key stored meanwhile by another writer wins).
    pub async fn keys_for_writing(
        &self,
        aggregate_ids: &[String],
    ) -> Result<HashMap<String, ChildKey>, AggregateError<ChildFileError>> {
        if !self.protect.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(aggregate_ids
                .iter()
                .map(|id| (id.clone(), ChildKey::Absent))
                .collect());
        }
        self.keyring
            .keys_for_writing(self.reader.db(), aggregate_ids)
            .await
            .map_err(key_error)
    }

    /// The event ids of each stream's entries after the sequence given with it, as (stream,
    /// sequence, id).
    pub async fn event_ids_after(
        &self,
        after: &[(String, i64)],
    ) -> Result<Vec<(String, i64, Option<Uuid>)>, AggregateError<ChildFileError>> {
        if after.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .reader
            .event_ids_after(after)
            .await
            .map_err(|e| AggregateError::UnexpectedError(Box::new(e)))?;
        Ok(rows
            .into_iter()
            .map(|(id, sequence, event_id)| (id, sequence, Uuid::parse_str(&event_id).ok()))
            .collect())
    }

    /// Seals and sealed fields are written (always, but in the benchmark's comparison).
    pub fn protects(&self) -> bool {
        self.protect.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Appends a batch of several streams' events, already serialised (`serialize`), in one
    /// write: all of them or none.
    pub async fn persist_batch(
        &self,
        serialized: &[SerializedEvent],
    ) -> Result<(), AggregateError<ChildFileError>> {
        self.repo
            .persist::<ChildFile>(serialized, None)
            .await
            .map_err(AggregateError::from)
    }

    /// A stream's rows as `load_stream` gives them.
    async fn assemble(
        &self,
        aggregate_id: &str,
        rows: Vec<Row>,
    ) -> Result<LoadedStream, AggregateError<ChildFileError>> {
        let key = match rows.first() {
            Some((.., wrapped, Some(erased))) => self
                .keyring
                .child_key(aggregate_id, Some((wrapped.clone(), *erased)))
                .map_err(key_error)?,
            _ => ChildKey::Absent,
        };
        if matches!(key, ChildKey::Key(_)) {
            self.keyring
                .ensure_checked(self.reader.db())
                .await
                .map_err(key_error)?;
        }
        let decode = || {
            rows.iter()
                .map(|row| envelope(aggregate_id, row))
                .collect::<Result<Vec<_>, _>>()
        };
        let events = match key.cipher(aggregate_id) {
            Some(cipher) => identifying::with_cipher(cipher, decode)?,
            None => decode()?,
        };
        let event_ids = rows
            .iter()
            .map(|row| Uuid::parse_str(&row.5).ok())
            .collect();
        // Without seals (the benchmark's comparison) no head is needed, and for a stream recorded
        // before seals existed it would be recomputed over every row.
        let head = if self.protect.load(std::sync::atomic::Ordering::SeqCst) {
            head_of(aggregate_id, &rows)?
        } else {
            None
        };
        Ok(LoadedStream {
            events,
            event_ids,
            head,
            key,
        })
    }

    /// The child's key for recording: `key` as loaded, or, for a child without one, a new key
    /// (none while protection is off).
    pub async fn key_for_writing(
        &self,
        aggregate_id: &str,
        key: ChildKey,
    ) -> Result<ChildKey, AggregateError<ChildFileError>> {
        if !self.protect.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(ChildKey::Absent);
        }
        match key {
            ChildKey::Absent => self
                .keyring
                .key_for_writing(self.reader.db(), aggregate_id)
                .await
                .map_err(key_error),
            known => Ok(known),
        }
    }

    /// Appends `events` after the stream's `current_sequence`, each with `metadata` plus its own
    /// causation (`causes`, by event) and its seal, chained from `head`; identifying fields
    /// sealed under the child's key (made now if the child has none). A second writer of the
    /// same sequence fails with the repository's conflict.
    #[allow(clippy::too_many_arguments)]
    pub async fn append(
        &self,
        aggregate_id: &str,
        current_sequence: usize,
        head: Option<Digest32>,
        key: ChildKey,
        events: Vec<ChildFileEvent>,
        metadata: &HashMap<String, String>,
        causes: &[Option<Uuid>],
    ) -> Result<Vec<EventEnvelope<ChildFile>>, AggregateError<ChildFileError>> {
        let protect = self.protect.load(std::sync::atomic::Ordering::SeqCst);
        let key = self.key_for_writing(aggregate_id, key).await?;
        let (serialized, envelopes) = serialize(
            aggregate_id,
            current_sequence,
            protect.then_some(head),
            &key,
            events,
            metadata,
            causes,
        )?;
        self.repo
            .persist::<ChildFile>(&serialized, None)
            .await
            .map_err(AggregateError::from)?;
        Ok(envelopes)
    }
}

/// The stored form of `events` (sealed, chained) and their envelopes; no I/O.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn serialize(
    aggregate_id: &str,
    current_sequence: usize,
    head: Option<Option<Digest32>>,
    key: &ChildKey,
    events: Vec<ChildFileEvent>,
    metadata: &HashMap<String, String>,
    causes: &[Option<Uuid>],
) -> Result<(Vec<SerializedEvent>, Vec<EventEnvelope<ChildFile>>), AggregateError<ChildFileError>> {
    // `head` is `None` when nothing is to be sealed (the benchmark's unprotected path).
    let sealing = head.is_some();
    let mut previous = head.flatten();
    let cipher = key.cipher(aggregate_id);
    let mut serialized = Vec::with_capacity(events.len());
    let mut envelopes = Vec::with_capacity(events.len());
    for (i, event) in events.into_iter().enumerate() {
        let sequence = current_sequence + i + 1;
        let mut own = metadata.clone();
        if let Some(Some(cause)) = causes.get(i) {
            own.insert("causation_id".to_string(), cause.to_string());
        }
        let event_type = event.event_type();
        let event_version = event.event_version();
        let write = || {
            let payload = serde_json::to_value(&event)?;
            let mut stored = own.clone();
            if let Some(reason) = stored.get_mut("reason") {
                *reason = Identifying::new(std::mem::take(reason))
                    .to_stored_text()
                    .map_err(serde::ser::Error::custom)?;
            }
            Ok::<_, serde_json::Error>((payload, stored))
        };
        let (payload, stored_metadata) = match &cipher {
            Some(cipher) => identifying::with_cipher(cipher.clone(), write),
            None => write(),
        }
        .map_err(PersistenceError::from)?;
        let mut metadata_value =
            serde_json::to_value(&stored_metadata).map_err(PersistenceError::from)?;
        if sealing {
            let sealed = seal(
                &Link {
                    child: aggregate_id,
                    sequence: sequence as u64,
                    event_type: &event_type,
                    event_version: &event_version,
                    payload: &payload,
                    metadata: &metadata_value,
                },
                previous.as_ref(),
            );
            if let Value::Object(map) = &mut metadata_value {
                map.insert(SEAL_KEY.to_string(), Value::String(sealed.to_hex()));
            }
            own.insert(SEAL_KEY.to_string(), sealed.to_hex());
            previous = Some(sealed);
        }
        serialized.push(SerializedEvent {
            aggregate_id: aggregate_id.to_string(),
            sequence,
            aggregate_type: AGGREGATE_TYPE.to_string(),
            event_type,
            event_version,
            payload,
            metadata: metadata_value,
        });
        envelopes.push(EventEnvelope {
            aggregate_id: aggregate_id.to_string(),
            sequence,
            payload: event,
            metadata: own,
        });
    }
    Ok((serialized, envelopes))
}

impl<R: PersistedEventRepository> EventStore<ChildFile> for ChildFiles<R> {
    type AC = EventStoreAggregateContext<ChildFile>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<ChildFile>>, AggregateError<ChildFileError>> {
        Ok(self.load_stream(aggregate_id).await?.events)
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

    /// Commits through `append`, chained to the stream's head as it is now (read again here:
    /// the command path itself calls `append` with the head its load found).
    async fn commit(
        &self,
        events: Vec<ChildFileEvent>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<ChildFile>>, AggregateError<ChildFileError>> {
        let loaded = self.load_stream(&context.aggregate_id).await?;
        self.append(
            &context.aggregate_id,
            context.current_sequence,
            loaded.head,
            loaded.key,
            events,
            &metadata,
            &[],
        )
        .await
    }
}
