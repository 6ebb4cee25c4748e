//! The command path: load a child's stream, answer a retried command from what it stored the first
//! time, let the `ChildFile` decide, commit through the cqrs-es event store.
//!
//! This drives cqrs-es's `EventStore` directly rather than through `CqrsFramework::execute`,
//! because `execute` neither returns what it stored nor lets the caller see the loaded events'
//! metadata; with the stream in hand, the idempotency check costs no extra round trip. The steps
//! are otherwise the framework's own: load, handle, commit. No post-commit queries are dispatched:
//! read models follow the store through their own checkpointed runner.

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventRepository;
use cqrs_es::{Aggregate, AggregateError, EventEnvelope};
use lifecourse_events::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{
    rests_on, ChildFile, ChildFileCommand, ChildFileError, ChildFileEvent, ClinicalCalendar,
};
use crate::store::ChildFiles;

/// One command for one child's file, with who is recording it and under which idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    pub child_id: ChildId,
    pub idempotency_key: IdempotencyKey,
    pub recorded_by: Recorder,
    pub reason: Option<Identifying<String>>,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    pub command: ChildFileCommand,
    /// When set, the file must be at this version (its last sequence number) when the command
    /// is decided (`If-Match`); checked on the stream the command is decided on, so a write
    /// landing in between is either seen here or loses the sequence race at commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

impl CommandRequest {
    pub fn new(
        child_id: ChildId,
        idempotency_key: IdempotencyKey,
        recorded_by: Recorder,
        command: ChildFileCommand,
    ) -> Self {
        Self {
            child_id,
            idempotency_key,
            recorded_by,
            reason: None,
            correlation_id: None,
            causation_id: None,
            command,
            expected_version: None,
        }
    }

    /// The child and the command, as the digest a retry must repeat exactly is taken over.
    fn digest_input(&self) -> Vec<u8> {
        serde_json::to_vec(&(&self.child_id, &self.command)).expect("commands always serialise")
    }

    /// SHA-256 of the child and the command (the digest of a child without a key, and of events
    /// recorded before keys existed).
    pub fn digest(&self) -> String {
        Sha256::digest(self.digest_input())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn metadata(&self) -> RecordingMetadata {
        RecordingMetadata {
            idempotency_key: self.idempotency_key.clone(),
            command_digest: self.digest(),
            recorded_by: self.recorded_by.clone(),
            reason: self.reason.clone(),
            correlation_id: self.correlation_id.unwrap_or_else(Uuid::new_v4),
            causation_id: self.causation_id,
        }
    }
}

/// What a command stored (or, for a retry, had stored the first time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub child_id: ChildId,
    pub idempotency_key: IdempotencyKey,
    pub entries: Vec<RecordedEntry>,
    /// True when this was a retry and nothing new was stored.
    pub replayed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEntry {
    pub sequence: u64,
    pub event_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("refused: {0}")]
    Rejected(#[from] ChildFileError),
    #[error("another entry was recorded in child {child_id}'s file at the same moment; nothing was stored: reload the file and send the command again")]
    Conflict { child_id: ChildId },
    #[error("idempotency key \"{key}\" was already used for a different command on child {child_id}'s file; a new command needs a new key")]
    KeyReused {
        key: IdempotencyKey,
        child_id: ChildId,
    },
    #[error("child {child_id}'s file is at version {actual}, not {expected}: someone recorded in it since you read it; nothing was stored")]
    VersionMismatch {
        child_id: ChildId,
        expected: u64,
        actual: u64,
    },
    #[error("the event store failed: {0}")]
    Storage(Box<dyn std::error::Error + Send + Sync>),
}

/// Records one command through a cqrs-es event store.
#[tracing::instrument(
    name = "record",
    skip_all,
    fields(child = %request.child_id, command = request.command.name(), centre = %request.recorded_by.centre)
)]
pub(crate) async fn record<R: PersistedEventRepository>(
    store: &ChildFiles<R>,
    calendar: ClinicalCalendar,
    request: CommandRequest,
) -> Result<Recorded, RecordError> {
    let child = request.child_id.to_string();
    let mut metadata = request.metadata();
    let loaded = store.load_stream(&child).await.map_err(storage)?;
    let key = store
        .key_for_writing(&child, loaded.key.clone())
        .await
        .map_err(storage)?;
    // Under the child's key: the stored digest confirms no guess of what the command said.
    metadata.command_digest = key.command_digest(&request.digest_input());
    let plain_digest = request.digest();
    let stream = loaded.events;
    if let Some(first) = earlier_result(
        &request,
        &[&metadata.command_digest, &plain_digest],
        &stream,
    )? {
        tracing::info!("retry answered from the first recording");
        return Ok(first);
    }
    let current_sequence = stream.len();
    if let Some(expected) = request.expected_version {
        if expected != current_sequence as u64 {
            return Err(RecordError::VersionMismatch {
                child_id: request.child_id,
                expected,
                actual: current_sequence as u64,
            });
        }
    }
    let entries: Vec<ChildEvent> = stream.into_iter().map(|e| e.payload.0).collect();
    let mut aggregate = ChildFile::from_entries(entries.iter().cloned());
    let sink = EventSink::default();
    aggregate
        .handle(request.command.clone(), &calendar, &sink)
        .await?;
    let events = sink.collect().await;
    // What each new entry rests on, unless the recorder named it.
    let causes: Vec<Option<Uuid>> = events
        .iter()
        .map(|e| {
            request.causation_id.or_else(|| {
                rests_on(&entries, &e.0).and_then(|i| loaded.event_ids.get(i).copied().flatten())
            })
        })
        .collect();
    let appended = store
        .append(
            &child,
            current_sequence,
            loaded.head,
            key,
            events,
            &metadata.to_map(),
            &causes,
        )
        .await;
    match appended {
        Ok(committed) => {
            tracing::info!(entries = committed.len(), "recorded");
            Ok(Recorded {
                child_id: request.child_id,
                idempotency_key: request.idempotency_key,
                entries: committed.iter().map(entry).collect(),
                replayed: false,
            })
        }
        Err(err) if is_conflict(&err) => {
            // Whoever wrote first may have been this very command, retried concurrently.
            let stream = store.load_stream(&child).await.map_err(storage)?.events;
            match earlier_result(
                &request,
                &[&metadata.command_digest, &plain_digest],
                &stream,
            )? {
                Some(first) => Ok(first),
                None => {
                    tracing::warn!("concurrent write on the same file");
                    Err(RecordError::Conflict {
                        child_id: request.child_id,
                    })
                }
            }
        }
        Err(err) if is_busy(&err) => {
            // SQLite's write lock stayed with another process past the busy timeout: nothing was
            // stored, and sending again is safe.
            tracing::warn!("the store's write lock is held elsewhere");
            Err(RecordError::Conflict {
                child_id: request.child_id,
            })
        }
        Err(err) => Err(storage(err)),
    }
}

/// The database error under a cqrs-es error, if there is one.
fn database_error(err: &AggregateError<ChildFileError>) -> Option<&dyn sqlx::error::DatabaseError> {
    match err {
        AggregateError::UnexpectedError(source)
        | AggregateError::DatabaseConnectionError(source) => source
            .downcast_ref::<sqlx::Error>()
            .and_then(sqlx::Error::as_database_error),
        _ => None,
    }
}

/// SQLite's write lock was not free within the busy timeout (`SQLITE_BUSY` and its extended
/// codes).
fn is_busy(err: &AggregateError<ChildFileError>) -> bool {
    database_error(err).is_some_and(|db| {
        db.code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c & 0xff == 5)
            || db.message().contains("database is locked")
    })
}

fn entry(e: &EventEnvelope<ChildFile>) -> RecordedEntry {
    RecordedEntry {
        sequence: e.sequence as u64,
        event_type: e.payload.0.event_type().to_string(),
    }
}

/// The first recording of this idempotency key in the stream, if any. `digests` are the forms the
/// same command's digest may have been stored in (under the child's key, or plain).
fn earlier_result(
    request: &CommandRequest,
    digests: &[&str],
    stream: &[EventEnvelope<ChildFile>],
) -> Result<Option<Recorded>, RecordError> {
    let key = request.idempotency_key.as_str();
    let same_key = |e: &&EventEnvelope<ChildFile>| {
        e.metadata.get("idempotency_key").map(String::as_str) == Some(key)
    };
    let earlier: Vec<_> = stream.iter().filter(same_key).collect();
    let Some(first) = earlier.first() else {
        return Ok(None);
    };
    let stored = first.metadata.get("command_digest").map(String::as_str);
    if !digests.iter().any(|d| Some(*d) == stored) {
        return Err(RecordError::KeyReused {
            key: request.idempotency_key.clone(),
            child_id: request.child_id,
        });
    }
    Ok(Some(Recorded {
        child_id: request.child_id,
        idempotency_key: request.idempotency_key.clone(),
        entries: earlier.into_iter().map(entry).collect(),
        replayed: true,
    }))
}

/// A second writer of the same sequence. postgres-es reports it as `AggregateConflict`; sqlite-es
/// only recognises a PRIMARY KEY violation, and on our table the stream's key is a UNIQUE
/// constraint (an unexpected unique violation) guarded by the `events_no_replace` trigger, which
/// refuses the insert first with its own message.
fn is_conflict(err: &AggregateError<ChildFileError>) -> bool {
    matches!(err, AggregateError::AggregateConflict)
        || database_error(err).is_some_and(|db| {
            db.kind() == sqlx::error::ErrorKind::UniqueViolation
                || db.message().contains(ALREADY_STORED)
        })
}

/// The message of SQLite's `events_no_replace` trigger (`migrations/sqlite/0004_no_replace.sql`).
const ALREADY_STORED: &str = "an entry with this sequence, position or event id is already stored";

fn storage(err: AggregateError<ChildFileError>) -> RecordError {
    match err {
        AggregateError::UserError(rejection) => RecordError::Rejected(rejection),
        AggregateError::AggregateConflict => RecordError::Storage("unexpected conflict".into()),
        AggregateError::DatabaseConnectionError(e)
        | AggregateError::DeserializationError(e)
        | AggregateError::UnexpectedError(e) => RecordError::Storage(e),
    }
}

/// Why an item of a batch was not recorded.
#[derive(Debug)]
pub(crate) enum BatchError<E> {
    /// The command path's answer, as `record` would have given it.
    Record(RecordError),
    /// The caller's `admit` refused it.
    Denied(E),
}

/// What a batch did.
pub(crate) struct BatchOutcome<E> {
    /// By request, in the order given: its answer, or `None` when the batch stopped before it
    /// was stored (see `stopped`).
    pub results: Vec<Option<Result<Recorded, BatchError<E>>>>,
    /// Why the batch stopped early (a write failed: a concurrent writer of one of its files, a
    /// full disk...). Its unanswered requests are to be recorded one by one, through `record`;
    /// what it stored before stopping answers as a retry there.
    pub stopped: Option<RecordError>,
    /// The requests, as admitted (who records each one set by `admit`).
    pub requests: Vec<CommandRequest>,
}

/// One child's file while a batch is decided.
struct BatchFile {
    id: String,
    file: ChildFile,
    /// The stream as stored, then as decided in this batch (for retries within it).
    stream: Vec<EventEnvelope<ChildFile>>,
    /// The event ids of the entries stored (the stored prefix of `stream`).
    event_ids: Vec<Option<Uuid>>,
    head: Option<crate::integrity::Digest32>,
    key: crate::store::ChildKey,
    /// This file's requests not yet answered, in order.
    queue: std::collections::VecDeque<usize>,
    /// A command decided (and folded into `file`) whose entries rest on an entry not yet
    /// stored: its causation needs that entry's id, known once the round that stores it commits.
    deferred: Option<Deferred>,
}

struct Deferred {
    request: usize,
    events: Vec<ChildFileEvent>,
    metadata: std::collections::HashMap<String, String>,
    /// The number of entries before the command (what its entries rest on is among them).
    before: usize,
}

/// Records many commands, of many files, with few writes: the files are loaded in one query,
/// every command is decided in memory by its `ChildFile` in order, exactly as `record` would
/// decide it one at a time (retries by idempotency key, expected versions, the rules, causation,
/// seals chained from each stream's head, identifying fields under each child's key), and the
/// entries are appended in rounds, each one write of every file's next entries: all or nothing.
///
/// A round ends a file's share where a command's entry rests on an entry decided in the same
/// round (its causation is that entry's event id, which the store assigns when it commits): the
/// file goes on in the next round. `admit` sees each request (with its place in `requests`) and
/// the file as decided so far,
/// may set who records it, and gives the calendar to decide it by, or refuses it.
pub(crate) async fn record_batch<R, E>(
    store: &ChildFiles<R>,
    mut requests: Vec<CommandRequest>,
    mut admit: impl FnMut(usize, &mut CommandRequest, &ChildFile) -> Result<ClinicalCalendar, E>,
) -> Result<BatchOutcome<E>, RecordError>
where
    R: PersistedEventRepository,
{
    let mut results: Vec<Option<Result<Recorded, BatchError<E>>>> =
        (0..requests.len()).map(|_| None).collect();
    let mut order: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for request in &requests {
        let id = request.child_id.to_string();
        if !index.contains_key(&id) {
            index.insert(id.clone(), order.len());
            order.push(id);
        }
    }
    let mut loaded = store.load_streams(&order).await.map_err(storage)?;
    let keyless: Vec<String> = order
        .iter()
        .filter(|id| {
            loaded
                .get(*id)
                .is_none_or(|s| matches!(s.key, crate::store::ChildKey::Absent))
        })
        .cloned()
        .collect();
    let mut new_keys = store.keys_for_writing(&keyless).await.map_err(storage)?;
    let protect = store.protects();
    let mut files: Vec<BatchFile> = order
        .iter()
        .map(|id| {
            let stream = loaded.remove(id);
            // Without protection (the benchmark's comparison) no key, as `record` has none then.
            let key = if protect {
                new_keys
                    .remove(id)
                    .or_else(|| stream.as_ref().map(|s| s.key.clone()))
                    .unwrap_or(crate::store::ChildKey::Absent)
            } else {
                crate::store::ChildKey::Absent
            };
            let (events, event_ids, head) = match stream {
                Some(s) => (s.events, s.event_ids, s.head),
                None => (Vec::new(), Vec::new(), None),
            };
            BatchFile {
                id: id.clone(),
                file: ChildFile::from_entries(events.iter().map(|e| e.payload.0.clone())),
                stream: events,
                event_ids,
                head,
                key,
                queue: std::collections::VecDeque::new(),
                deferred: None,
            }
        })
        .collect();
    for (i, request) in requests.iter().enumerate() {
        files[index[&request.child_id.to_string()]]
            .queue
            .push_back(i);
    }

    let mut rounds = 0usize;
    loop {
        let mut serialized = Vec::new();
        let mut decided: Vec<(usize, Vec<EventEnvelope<ChildFile>>)> = Vec::new();
        // The round's other answers (retries, refusals): final once the round's write is, since
        // they may rest on entries it decided; if it fails they go through `record` again.
        let mut answered: Vec<(usize, Result<Recorded, BatchError<E>>)> = Vec::new();
        for f in files.iter_mut() {
            if let Some(d) = f.deferred.take() {
                // What it rests on was stored by the last round, and its id read back since.
                let causes =
                    causes_of(&requests[d.request], f, d.before, &d.events).ok_or_else(|| {
                        RecordError::Storage(
                            format!(
                                "child {}'s entries stored by the last round were not read back",
                                f.id
                            )
                            .into(),
                        )
                    })?;
                let (rows, envelopes) =
                    seal_and_serialize(f, protect, d.events, &d.metadata, &causes)
                        .map_err(storage)?;
                serialized.extend(rows);
                decided.push((d.request, envelopes));
            }
            while let Some(&i) = f.queue.front() {
                let request = &mut requests[i];
                let calendar = match admit(i, request, &f.file) {
                    Ok(calendar) => calendar,
                    Err(denied) => {
                        answered.push((i, Err(BatchError::Denied(denied))));
                        f.queue.pop_front();
                        continue;
                    }
                };
                let mut metadata = request.metadata();
                metadata.command_digest = f.key.command_digest(&request.digest_input());
                let plain_digest = request.digest();
                match earlier_result(
                    request,
                    &[&metadata.command_digest, &plain_digest],
                    &f.stream,
                ) {
                    Ok(None) => {}
                    Ok(Some(first)) => {
                        answered.push((i, Ok(first)));
                        f.queue.pop_front();
                        continue;
                    }
                    Err(e) => {
                        answered.push((i, Err(BatchError::Record(e))));
                        f.queue.pop_front();
                        continue;
                    }
                }
                if let Some(expected) = request.expected_version {
                    if expected != f.stream.len() as u64 {
                        answered.push((
                            i,
                            Err(BatchError::Record(RecordError::VersionMismatch {
                                child_id: request.child_id,
                                expected,
                                actual: f.stream.len() as u64,
                            })),
                        ));
                        f.queue.pop_front();
                        continue;
                    }
                }
                let before = f.file.entries().len();
                let sink = EventSink::default();
                if let Err(rejection) = f
                    .file
                    .handle(request.command.clone(), &calendar, &sink)
                    .await
                {
                    answered.push((i, Err(BatchError::Record(RecordError::Rejected(rejection)))));
                    f.queue.pop_front();
                    continue;
                }
                // The file now holds the command's entries: they are stored in this round or,
                // when they rest on an entry this round stores, first thing in the next.
                let events = sink.collect().await;
                let metadata = metadata.to_map();
                f.queue.pop_front();
                match causes_of(request, f, before, &events) {
                    Some(causes) => {
                        let (rows, envelopes) =
                            seal_and_serialize(f, protect, events, &metadata, &causes)
                                .map_err(storage)?;
                        serialized.extend(rows);
                        decided.push((i, envelopes));
                    }
                    None => {
                        f.deferred = Some(Deferred {
                            request: i,
                            events,
                            metadata,
                            before,
                        });
                        break;
                    }
                }
            }
        }
        if serialized.is_empty() {
            for (i, answer) in answered {
                results[i] = Some(answer);
            }
            break;
        }
        rounds += 1;
        if let Err(err) = store.persist_batch(&serialized).await {
            let stopped = if is_conflict(&err) || is_busy(&err) {
                tracing::warn!(
                    "a file of the batch was written meanwhile: its commands go one by one"
                );
                RecordError::Conflict {
                    child_id: requests[decided[0].0].child_id,
                }
            } else {
                storage(err)
            };
            return Ok(BatchOutcome {
                results,
                stopped: Some(stopped),
                requests,
            });
        }
        for (i, answer) in answered {
            results[i] = Some(answer);
        }
        for (i, envelopes) in decided {
            let request = &requests[i];
            results[i] = Some(Ok(Recorded {
                child_id: request.child_id,
                idempotency_key: request.idempotency_key.clone(),
                entries: envelopes.iter().map(entry).collect(),
                replayed: false,
            }));
        }
        // The ids of what this round stored, for the files that go on.
        let wanted: Vec<(String, i64)> = files
            .iter()
            .filter(|f| f.deferred.is_some() || !f.queue.is_empty())
            .filter(|f| f.event_ids.len() < f.stream.len())
            .map(|f| (f.id.clone(), f.event_ids.len() as i64))
            .collect();
        let ids = store.event_ids_after(&wanted).await.map_err(storage)?;
        let mut ids_by_file: std::collections::HashMap<String, Vec<(i64, Option<Uuid>)>> =
            std::collections::HashMap::new();
        for (id, sequence, event_id) in ids {
            ids_by_file
                .entry(id)
                .or_default()
                .push((sequence, event_id));
        }
        for f in files.iter_mut() {
            if let Some(mut ids) = ids_by_file.remove(&f.id) {
                ids.sort_by_key(|(sequence, _)| *sequence);
                for (sequence, id) in ids {
                    if sequence as usize == f.event_ids.len() + 1 {
                        f.event_ids.push(id);
                    }
                }
            }
        }
    }
    tracing::debug!(
        files = files.len(),
        requests = requests.len(),
        rounds,
        "batch stored"
    );
    Ok(BatchOutcome {
        results,
        stopped: None,
        requests,
    })
}

/// The causation of each of a command's entries, or `None` when one rests on an entry whose
/// event id is not known yet (decided, not yet stored).
fn causes_of(
    request: &CommandRequest,
    f: &BatchFile,
    before: usize,
    events: &[ChildFileEvent],
) -> Option<Vec<Option<Uuid>>> {
    events
        .iter()
        .map(|e| match request.causation_id {
            Some(named) => Some(Some(named)),
            None => match rests_on(&f.file.entries()[..before], &e.0) {
                None => Some(None),
                Some(at) => f.event_ids.get(at).copied(),
            },
        })
        .collect()
}

/// Seals and serialises a command's entries at the end of the file's stream, and moves the
/// stream's head and retries' view on to them.
#[allow(clippy::type_complexity)]
fn seal_and_serialize(
    f: &mut BatchFile,
    protect: bool,
    events: Vec<ChildFileEvent>,
    metadata: &std::collections::HashMap<String, String>,
    causes: &[Option<Uuid>],
) -> Result<
    (
        Vec<cqrs_es::persist::SerializedEvent>,
        Vec<EventEnvelope<ChildFile>>,
    ),
    AggregateError<ChildFileError>,
> {
    let (rows, envelopes) = crate::store::serialize(
        &f.id,
        f.stream.len(),
        protect.then_some(f.head),
        &f.key,
        events,
        metadata,
        causes,
    )?;
    if protect {
        if let Some(last) = envelopes.last() {
            f.head = last
                .metadata
                .get(crate::integrity::SEAL_KEY)
                .and_then(|s| crate::integrity::Digest32::from_hex(s));
        }
    }
    f.stream.extend(envelopes.iter().cloned());
    Ok((rows, envelopes))
}
