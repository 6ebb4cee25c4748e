//! What the projection runner needs from a store: events in commit order after a cursor (on
//! PostgreSQL only below the transaction horizon), children's full histories, and a transaction
//! in which a batch's view rows and the projection's checkpoint are written together.
//!
//! Table names come from `Projection::table` (constants), never from input.

use std::collections::BTreeMap;

use lifecourse_events::*;
use serde::Serialize;
use sqlx::{Postgres, Row, Sqlite, Transaction};

use super::{RawEvent, Store, StoreError, AGGREGATE_TYPE};

/// A place in the store's commit order: `(era, transaction_id, position)` on PostgreSQL (an era is
/// a span of writing in one cluster, see `migrations/postgres/0004_commit_eras.sql`), `position`
/// on SQLite (where `era` and `transaction_id` stay 0). Ordered as the runner reads (the fields'
/// order is the derived `Ord`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cursor {
    pub era: i64,
    pub transaction_id: u64,
    pub position: i64,
}

/// View rows written by one statement on PostgreSQL.
const UPSERT_CHUNK: usize = 1000;

/// The most rows one read asks for (SQL's `LIMIT` is a signed 64-bit number).
const MAX_LIMIT: usize = i64::MAX as usize;

/// `open_until` of an expectation not resolved (the worklist's index tables, PostgreSQL 0010
/// and SQLite 0010): after every date.
const UNRESOLVED: &str = "9999-12-31";

/// An event of a batch: where it is in commit order, and whose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchEvent {
    pub cursor: Cursor,
    pub child_id: ChildId,
    pub sequence: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub cursor: Cursor,
    /// What the views were computed with (fold code version and thresholds); `None` before the
    /// projection first ran.
    pub config: Option<Fingerprint>,
}

/// What a projection's rows depend on besides the events: the version of its fold's code and the
/// follow-up thresholds. Rows computed under two fingerprints never mix: a change rebuilds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn new(
        code_version: u32,
        thresholds: Option<&lifecourse_projections::FollowUpRules>,
    ) -> Self {
        match thresholds {
            Some(rules) => Self(format!(
                "code v{code_version}; thresholds {}",
                rules.fingerprint()
            )),
            None => Self(format!("code v{code_version}")),
        }
    }

    /// As stored; '' (never run) is `None`.
    fn stored(text: String) -> Option<Self> {
        (!text.is_empty()).then_some(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which follow-up gaps to read: on which day, of which centre, which page.
#[derive(Clone, Copy, Debug)]
pub struct GapQuery<'a> {
    pub as_of: ClinicalDate,
    pub centre: Option<&'a CentreId>,
    pub offset: usize,
    pub limit: Option<usize>,
    pub rule_order: &'a [&'a str],
}

/// One child's row of a projection table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewRow {
    pub child_id: ChildId,
    pub centre: Option<CentreId>,
    pub applied_events: u64,
    pub last_sequence: u64,
    /// The view as JSON.
    pub view: String,
}

const BATCH_COLUMNS_PG: &str =
    "era, transaction_id::text::bigint AS xid, position, aggregate_id, sequence";

/// On PostgreSQL, the rows a reader may read without ever seeing one appear behind it later:
/// rows of earlier eras (written in another cluster, or before a restore: all committed), and
/// rows of this cluster's era below the oldest transaction still in flight.
pub(super) const BELOW_HORIZON_PG: &str = "(era <> (SELECT coalesce(lifecourse_cluster_era(), 0))
      OR transaction_id < pg_snapshot_xmin(pg_current_snapshot()))";
const EVENT_COLUMNS_PG: &str = "position, aggregate_id, sequence, event_id, event_type, event_version, payload::text AS payload, metadata::text AS metadata, recorded_at";
const EVENT_COLUMNS_SQLITE: &str = "position, aggregate_id, sequence, event_id, event_type, event_version, payload, metadata, recorded_at";

fn child_of(id: &str) -> Result<ChildId, StoreError> {
    id.parse().map_err(|e: IdError| StoreError::Unreadable {
        child: id.to_string(),
        sequence: 0,
        problem: e.to_string(),
    })
}

fn ids_json(children: &[ChildId]) -> String {
    serde_json::to_string(&children.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .expect("ids serialise")
}

fn ids_vec(children: &[ChildId]) -> Vec<String> {
    children.iter().map(|c| c.to_string()).collect()
}

fn group(
    raw: Vec<RawEvent>,
    keys: &std::collections::HashMap<String, super::keys::ChildKey>,
) -> Result<BTreeMap<ChildId, Vec<StoredEvent>>, StoreError> {
    let mut out: BTreeMap<ChildId, Vec<StoredEvent>> = BTreeMap::new();
    // Rows come grouped by child: one cipher per child.
    let mut current: Option<(
        String,
        Option<std::rc::Rc<dyn lifecourse_events::FieldCipher>>,
    )> = None;
    for event in raw {
        if current.as_ref().map(|(c, _)| c) != Some(&event.aggregate_id) {
            let cipher = keys
                .get(&event.aggregate_id)
                .and_then(|k| k.cipher(&event.aggregate_id));
            current = Some((event.aggregate_id.clone(), cipher));
        }
        let cipher = current.as_ref().and_then(|(_, c)| c.as_ref());
        let event = event.decode(cipher)?;
        out.entry(event.child_id).or_default().push(event);
    }
    for events in out.values_mut() {
        *events = lifecourse_projections::history::as_shown(std::mem::take(events));
    }
    Ok(out)
}

const CHECKPOINT_SQLITE: &str =
    "SELECT 0, 0, position, config FROM projection_checkpoints WHERE projection = ?";
const CHECKPOINT_PG: &str = "SELECT era, transaction_id::text::bigint, position, config
      FROM projection_checkpoints WHERE projection = $1";

fn checkpoint_of(row: (i64, i64, i64, String)) -> Checkpoint {
    let (era, xid, position, config) = row;
    Checkpoint {
        cursor: Cursor {
            era,
            transaction_id: xid as u64,
            position,
        },
        config: Fingerprint::stored(config),
    }
}

impl Store {
    pub async fn checkpoint(&self, projection: &str) -> Result<Checkpoint, StoreError> {
        let row = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(CHECKPOINT_SQLITE)
                    .bind(projection)
                    .fetch_one(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_as(CHECKPOINT_PG)
                    .bind(projection)
                    .fetch_one(s.pool())
                    .await?
            }
        };
        Ok(checkpoint_of(row))
    }

    /// Up to `limit` events after `cursor`, in commit order. On PostgreSQL only events of
    /// transactions below `pg_snapshot_xmin(pg_current_snapshot())` are read: every transaction
    /// there has ended, so no event can later appear behind the cursor.
    pub async fn events_after(
        &self,
        cursor: Cursor,
        limit: usize,
    ) -> Result<Vec<BatchEvent>, StoreError> {
        type Row = (i64, i64, i64, String, i64);
        let rows: Vec<Row> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(
                    "SELECT 0, 0, position, aggregate_id, sequence FROM events
                      WHERE aggregate_type = ? AND position > ? ORDER BY position LIMIT ?",
                )
                .bind(AGGREGATE_TYPE)
                .bind(cursor.position)
                .bind(limit.min(MAX_LIMIT) as i64)
                .fetch_all(s.pool())
                .await?
            }
            Store::Postgres(s) => {
                sqlx::query_as(&format!(
                    "SELECT {BATCH_COLUMNS_PG} FROM events
                      WHERE aggregate_type = $1
                        AND {BELOW_HORIZON_PG}
                        AND (era, transaction_id, position) > ($5, $2::text::xid8, $3)
                      ORDER BY events.era, events.transaction_id, events.position LIMIT $4"
                ))
                .bind(AGGREGATE_TYPE)
                .bind(cursor.transaction_id.to_string())
                .bind(cursor.position)
                .bind(limit.min(MAX_LIMIT) as i64)
                .bind(cursor.era)
                .fetch_all(s.pool())
                .await?
            }
        };
        rows.into_iter()
            .map(|(era, xid, position, child, sequence)| {
                Ok(BatchEvent {
                    cursor: Cursor {
                        era,
                        transaction_id: xid as u64,
                        position,
                    },
                    child_id: child_of(&child)?,
                    sequence: sequence as u64,
                })
            })
            .collect()
    }

    /// The children with committed events after `cursor`, whether or not `events_after` may read
    /// them yet: on PostgreSQL, events below the horizon the runner has not reached, and events
    /// at or above it (committed, since this query sees them, but behind a transaction still in
    /// flight somewhere on the server). The horizon moves between two queries, so asking only
    /// for events above it would miss one that was above it when the runner's last batch read
    /// and is below it now. Empty on SQLite, whose horizon is its last event.
    pub async fn children_after(&self, cursor: Cursor) -> Result<Vec<ChildId>, StoreError> {
        let Store::Postgres(s) = self else {
            return Ok(vec![]);
        };
        let children: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT aggregate_id FROM events
              WHERE aggregate_type = $1
                AND (era, transaction_id, position) > ($4, $2::text::xid8, $3)
              ORDER BY aggregate_id",
        )
        .bind(AGGREGATE_TYPE)
        .bind(cursor.transaction_id.to_string())
        .bind(cursor.position)
        .bind(cursor.era)
        .fetch_all(s.pool())
        .await?;
        children.iter().map(|c| child_of(c)).collect()
    }

    /// The cursor of the last event a reader may safely read now (the zero cursor when none).
    pub async fn horizon(&self) -> Result<Cursor, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let position: Option<i64> =
                    sqlx::query_scalar("SELECT max(position) FROM events WHERE aggregate_type = ?")
                        .bind(AGGREGATE_TYPE)
                        .fetch_one(s.pool())
                        .await?;
                Ok(Cursor {
                    era: 0,
                    transaction_id: 0,
                    position: position.unwrap_or(0),
                })
            }
            Store::Postgres(s) => {
                let row = sqlx::query(&format!(
                    "SELECT transaction_id::text::bigint AS xid, position, era FROM events
                      WHERE aggregate_type = $1 AND {BELOW_HORIZON_PG}
                      ORDER BY events.era DESC, events.transaction_id DESC, events.position DESC LIMIT 1"
                ))
                .bind(AGGREGATE_TYPE)
                .fetch_optional(s.pool())
                .await?;
                Ok(match row {
                    Some(r) => Cursor {
                        era: r.try_get(2)?,
                        transaction_id: r.try_get::<i64, _>(0)? as u64,
                        position: r.try_get(1)?,
                    },
                    None => Cursor::default(),
                })
            }
        }
    }

    /// The children with at least one event at or before `upto`, in id order.
    pub async fn children_upto(&self, upto: Cursor) -> Result<Vec<ChildId>, StoreError> {
        let ids: Vec<String> = match self {
            Store::Sqlite(s) => {
                sqlx::query_scalar("SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = ? AND position <= ? ORDER BY aggregate_id")
                    .bind(AGGREGATE_TYPE)
                    .bind(upto.position)
                    .fetch_all(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_scalar(
                    "SELECT DISTINCT aggregate_id FROM events
                      WHERE aggregate_type = $1 AND (era, transaction_id, position) <= ($4, $2::text::xid8, $3)
                      ORDER BY aggregate_id",
                )
                .bind(AGGREGATE_TYPE)
                .bind(upto.transaction_id.to_string())
                .bind(upto.position)
                .bind(upto.era)
                .fetch_all(s.pool())
                .await?
            }
        };
        ids.iter().map(|id| child_of(id)).collect()
    }

    /// The full histories of `children` (every event committed so far, in sequence order), or
    /// only their events at or before `upto`.
    pub async fn histories(
        &self,
        children: &[ChildId],
        upto: Option<Cursor>,
    ) -> Result<BTreeMap<ChildId, Vec<StoredEvent>>, StoreError> {
        if children.is_empty() {
            return Ok(BTreeMap::new());
        }
        let raw = match self {
            Store::Sqlite(s) => {
                let rows = sqlx::query(&format!(
                    "SELECT {EVENT_COLUMNS_SQLITE} FROM events
                      WHERE aggregate_type = ? AND aggregate_id IN (SELECT value FROM json_each(?)) AND position <= ?
                      ORDER BY aggregate_id, sequence"
                ))
                .bind(AGGREGATE_TYPE)
                .bind(ids_json(children))
                .bind(upto.map_or(i64::MAX, |c| c.position))
                .fetch_all(s.pool())
                .await?;
                rows.iter()
                    .map(super::sqlite::raw_event)
                    .collect::<Result<Vec<_>, _>>()?
            }
            Store::Postgres(s) => {
                let upto = upto.unwrap_or(Cursor {
                    era: i64::MAX,
                    transaction_id: i64::MAX as u64,
                    position: i64::MAX,
                });
                let rows = sqlx::query(&format!(
                    "SELECT {EVENT_COLUMNS_PG} FROM events
                      WHERE aggregate_type = $1 AND aggregate_id = ANY($2)
                        AND (era, transaction_id, position) <= ($5, $3::text::xid8, $4)
                      ORDER BY aggregate_id, sequence"
                ))
                .bind(AGGREGATE_TYPE)
                .bind(ids_vec(children))
                .bind(upto.transaction_id.to_string())
                .bind(upto.position)
                .bind(upto.era)
                .fetch_all(s.pool())
                .await?;
                rows.iter()
                    .map(super::postgres::raw_event)
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let keys = self
            .keyring()
            .keys_for(self.db(), &ids_vec(children))
            .await?;
        group(raw, &keys)
    }

    /// One child's row of a projection table.
    pub async fn view_row(
        &self,
        table: &str,
        child: ChildId,
    ) -> Result<Option<ViewRow>, StoreError> {
        Ok(self.view_rows(table, Some(child)).await?.pop())
    }

    /// Every row of a projection table (or one child's).
    pub async fn view_rows(
        &self,
        table: &str,
        child: Option<ChildId>,
    ) -> Result<Vec<ViewRow>, StoreError> {
        let child = child.map(|c| c.to_string());
        let rows = match self {
            Store::Sqlite(s) => {
                sqlx::query(&format!(
                    "SELECT child_id, centre, applied_events, last_sequence, view FROM {table}
                      WHERE ?1 IS NULL OR child_id = ?1 ORDER BY child_id"
                ))
                .bind(child)
                .fetch_all(s.pool())
                .await?
                .iter()
                .map(|r| view_row(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
                .collect::<Result<Vec<_>, StoreError>>()?
            }
            Store::Postgres(s) => {
                sqlx::query(&format!(
                    "SELECT child_id, centre, applied_events, last_sequence, view::text AS view FROM {table}
                      WHERE $1::text IS NULL OR child_id = $1 ORDER BY child_id"
                ))
                .bind(child)
                .fetch_all(s.pool())
                .await?
                .iter()
                .map(|r| view_row(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
                .collect::<Result<Vec<_>, StoreError>>()?
            }
        };
        Ok(rows)
    }

    /// The follow-up rows holding at least one expectation of `centre` (every row when `None`),
    /// filtered in SQL: a transferred child's earlier expectations stay with the centre that had
    /// them, so the row's current `centre` alone would miss them.
    pub async fn follow_up_rows(
        &self,
        table: &str,
        centre: Option<&CentreId>,
    ) -> Result<Vec<ViewRow>, StoreError> {
        let centre = centre.map(|c| c.to_string());
        let rows = match self {
            Store::Sqlite(s) => sqlx::query(&format!(
                "SELECT child_id, centre, applied_events, last_sequence, view FROM {table}
                  WHERE ?1 IS NULL OR centre = ?1
                     OR EXISTS (SELECT 1 FROM json_each({table}.view) e
                                 WHERE json_extract(e.value, '$.centre') = ?1)
                  ORDER BY child_id"
            ))
            .bind(centre)
            .fetch_all(s.pool())
            .await?
            .iter()
            .map(|r| view_row(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
            .collect::<Result<Vec<_>, StoreError>>()?,
            Store::Postgres(s) => sqlx::query(&format!(
                "SELECT child_id, centre, applied_events, last_sequence, view::text AS view FROM {table}
                  WHERE $1::text IS NULL OR centre = $1
                     OR view @> jsonb_build_array(jsonb_build_object('centre', $1::text))
                  ORDER BY child_id"
            ))
            .bind(centre)
            .fetch_all(s.pool())
            .await?
            .iter()
            .map(|r| view_row(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
            .collect::<Result<Vec<_>, StoreError>>()?,
        };
        Ok(rows)
    }

    /// One page of the follow-up gaps on `as_of` (of `centre`, or every centre), most overdue
    /// first, and how many there are in all; each gap is the stored JSON of its expectation.
    /// Filtering, ordering and paging run in SQL over `follow_up_expectations`, the rows'
    /// expectations one per row.
    /// `rule_order` lists the rule names in the order ties are broken (the fold's order); the
    /// order is otherwise the fold's own: due date, child, rule, subject (none first).
    pub async fn follow_up_gaps(
        &self,
        table: &str,
        query: &GapQuery<'_>,
    ) -> Result<(u64, Vec<String>), StoreError> {
        let rank = |field: &str| {
            let mut case = format!("CASE {field}");
            for (n, rule) in query.rule_order.iter().enumerate() {
                assert!(
                    rule.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "rule names are code constants"
                );
                case.push_str(&format!(" WHEN '{rule}' THEN {n}"));
            }
            case.push_str(" END");
            case
        };
        let as_of = query.as_of.to_string();
        let centre = query.centre.map(|c| c.to_string());
        let offset = query.offset as i64;
        assert_eq!(
            table, "proj_follow_up",
            "follow_up_expectations mirrors the follow-up table only"
        );
        // `follow_up_expectations` (PostgreSQL migrations 0008 and 0010, SQLite 0010) holds the
        // expectations of `table`'s rows, kept by its triggers; the index on (centre, the day it
        // stops being open, due date, and the other fields filtered and ordered by) reads only
        // those still open on the day. One statement with the centre, one without, so that the
        // index's first column serves every plan.
        let centre_filter = |with: &'static str, without: &'static str| {
            if centre.is_some() {
                with
            } else {
                without
            }
        };
        match self {
            Store::Sqlite(s) => {
                let filter = format!(
                    "FROM follow_up_expectations
                      WHERE open_until > ?1 AND due_on < ?1 AND created_on <= ?1 AND {}",
                    centre_filter("centre = ?2", "?2 IS NULL")
                );
                let count = format!("SELECT count(*) {filter}");
                let count = sqlx::query_scalar::<_, i64>(&count)
                    .bind(&as_of)
                    .bind(&centre)
                    .fetch_one(s.pool());
                // The page is chosen from the index alone (the rowid last: ties in the order
                // they were written, the view's); then its expectations are read. The count
                // and the page run on two connections at once (WAL readers do not block).
                let page = format!(
                    "SELECT x.expectation
                       FROM (SELECT rowid AS r, due_on, child_id, rule, subject {filter}
                              ORDER BY due_on, child_id, {rank}, subject, rowid
                              LIMIT ?3 OFFSET ?4) p
                       JOIN follow_up_expectations x ON x.rowid = p.r
                      ORDER BY p.due_on, p.child_id, {outer_rank}, p.subject, p.r",
                    rank = rank("rule"),
                    outer_rank = rank("p.rule"),
                );
                let page = sqlx::query_scalar::<_, String>(&page)
                    .bind(&as_of)
                    .bind(&centre)
                    .bind(query.limit.map_or(-1, |l| l.min(i64::MAX as usize) as i64))
                    .bind(offset)
                    .fetch_all(s.pool());
                let (total, page) = tokio::try_join!(count, page)?;
                Ok((total as u64, page))
            }
            Store::Postgres(s) => {
                // `open_until` and the indexes come with PostgreSQL migration 0010: the count
                // reads a narrow index of the filtered fields, the page's choice the index of
                // every field filtered and ordered by (on pages a vacuum has marked all-visible,
                // neither reads the table), and only the page's expectations are read from the
                // table, by key. The count and the page run on two connections at once.
                let open = |extra: &str| {
                    format!(
                        "FROM follow_up_expectations
                          WHERE open_until > $1 {extra} AND due_on < $1 AND created_on <= $1
                            AND {}",
                        centre_filter("centre = $2", "$2::text IS NULL")
                    )
                };
                let count = format!("SELECT count(*) {}", open(""));
                let count = sqlx::query_scalar::<_, i64>(&count)
                    .bind(&as_of)
                    .bind(&centre)
                    .fetch_one(s.pool());
                // Ties in the order the view holds them (`ordinal`), as on SQLite.
                let order = |p: &str| {
                    format!(
                        "{p}due_on, {p}child_id COLLATE \"C\", {}, {p}subject NULLS FIRST, {p}ordinal",
                        rank(&format!("{p}rule"))
                    )
                };
                // The page is chosen from two parts, each taking at most `offset + limit`:
                // the unresolved expectations, whose entries of the index share one
                // `open_until` and so come in due-date order (the index is read from the most
                // overdue on, and only as far as the page needs), and those resolved after the
                // day (none when the day is today).
                let part = |extra: &str| {
                    format!(
                        "(SELECT child_id, ordinal, due_on, rule, subject {}
                           ORDER BY {} LIMIT $5)",
                        open(extra),
                        order("")
                    )
                };
                let page = format!(
                    "SELECT x.expectation::text
                       FROM (SELECT * FROM ({} UNION ALL {}) u
                              ORDER BY {} LIMIT $3 OFFSET $4) p
                       JOIN follow_up_expectations x USING (child_id, ordinal)
                      ORDER BY {}",
                    part(&format!("AND open_until = '{UNRESOLVED}'")),
                    part(&format!("AND open_until < '{UNRESOLVED}'")),
                    order(""),
                    order("p."),
                );
                let limit = query.limit.map(|l| l.min(i64::MAX as usize) as i64);
                let page = sqlx::query_scalar::<_, String>(&page)
                    .bind(&as_of)
                    .bind(&centre)
                    .bind(limit)
                    .bind(offset)
                    .bind(limit.map(|l| l.saturating_add(offset)))
                    .fetch_all(s.pool());
                let (total, page) = tokio::try_join!(count, page)?;
                Ok((total as u64, page))
            }
        }
    }

    /// A transaction for writing view rows and checkpoints.
    ///
    /// The `BEGIN` runs in its own task: if the caller is dropped while it is in flight, the
    /// transaction still comes into being and is rolled back by its guard, instead of leaving a
    /// pooled connection inside a transaction (holding SQLite's write lock).
    pub async fn begin_views(&self) -> Result<ViewTx<'static>, StoreError> {
        let begun = match self {
            Store::Sqlite(s) => {
                let pool = s.pool().clone();
                tokio::spawn(
                    async move { pool.begin_with("BEGIN IMMEDIATE").await.map(ViewTx::Sqlite) },
                )
                .await
            }
            Store::Postgres(s) => {
                let pool = s.pool().clone();
                tokio::spawn(async move { pool.begin().await.map(ViewTx::Postgres) }).await
            }
        };
        match begun {
            Ok(tx) => Ok(tx?),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => Err(StoreError::Database(sqlx::Error::Io(
                std::io::Error::other(join),
            ))),
        }
    }

    /// Creates an empty copy of a projection table to rebuild into, under a name of its own, so
    /// that two rebuilds running at once never write into each other's table.
    ///
    /// The table is claimed for as long as the returned `Scratch` lives, so that
    /// `drop_abandoned_scratch` never takes it for a killed rebuild's leftover: on PostgreSQL by
    /// a session advisory lock on a connection of its own (a killed process's session ends and
    /// releases it); on SQLite, a single machine's file, by this process's id in the name.
    pub async fn create_scratch(&self, table: &str) -> Result<Scratch, StoreError> {
        let scratch = format!(
            "{table}{SCRATCH_MARK}{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let mut claim = None;
        if let Store::Postgres(s) = self {
            let mut conn = s.pool().acquire().await?.detach();
            sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
                .bind(&scratch)
                .execute(&mut conn)
                .await?;
            claim = Some(conn);
        }
        match self {
            Store::Sqlite(s) => {
                let ddl: String = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                )
                .bind(table)
                .fetch_one(s.pool())
                .await?;
                sqlx::query(&format!("DROP TABLE IF EXISTS {scratch}"))
                    .execute(s.pool())
                    .await?;
                sqlx::query(&ddl.replacen(table, &scratch, 1))
                    .execute(s.pool())
                    .await?;
            }
            Store::Postgres(s) => {
                sqlx::query(&format!("DROP TABLE IF EXISTS {scratch}"))
                    .execute(s.pool())
                    .await?;
                sqlx::query(&format!(
                    "CREATE TABLE {scratch} (LIKE {table} INCLUDING ALL)"
                ))
                .execute(s.pool())
                .await?;
            }
        }
        Ok(Scratch {
            name: scratch,
            _claim: claim,
        })
    }

    /// Drops the scratch tables of rebuilds that were killed before their swap (they hold copies
    /// of identifying view data); leaves those of rebuilds still running. Returns their names.
    /// On PostgreSQL only this role's own tables are candidates (another role's cannot be
    /// dropped by it; that role's next rebuild drops them).
    pub async fn drop_abandoned_scratch(&self) -> Result<Vec<String>, StoreError> {
        let pattern = format!("proj\\_%{}%", SCRATCH_MARK.replace('_', "\\_"));
        let mut dropped = Vec::new();
        match self {
            Store::Sqlite(s) => {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\'",
                )
                .bind(&pattern)
                .fetch_all(s.pool())
                .await?;
                for name in names {
                    if !is_scratch_name(&name) || scratch_owner_alive(&name) {
                        continue;
                    }
                    sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                        .execute(s.pool())
                        .await?;
                    dropped.push(name);
                }
            }
            Store::Postgres(s) => {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables
                      WHERE schemaname = current_schema() AND tablename LIKE $1 ESCAPE '\\'
                        AND tableowner = current_user",
                )
                .bind(&pattern)
                .fetch_all(s.pool())
                .await?;
                for name in names {
                    if !is_scratch_name(&name) {
                        continue;
                    }
                    let mut tx = s.pool().begin().await?;
                    let free: bool =
                        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1))")
                            .bind(&name)
                            .fetch_one(&mut *tx)
                            .await?;
                    if free {
                        sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        dropped.push(name);
                    }
                }
            }
        }
        for name in &dropped {
            tracing::warn!(table = %name, "dropped the scratch table of a rebuild that did not finish");
        }
        Ok(dropped)
    }
}

/// What marks a rebuild's scratch table: `proj_<name>_rebuild_<pid>_<uuid>`.
const SCRATCH_MARK: &str = "_rebuild_";

/// A rebuild's scratch table, claimed while this value lives.
pub struct Scratch {
    pub name: String,
    _claim: Option<sqlx::PgConnection>,
}

/// Whether `name` has exactly the shape `create_scratch` gives (it is then safe to splice into
/// SQL: letters, digits and underscores only).
fn is_scratch_name(name: &str) -> bool {
    let Some((table, rest)) = name.split_once(SCRATCH_MARK) else {
        return false;
    };
    let Some((pid, id)) = rest.split_once('_') else {
        return false;
    };
    table.starts_with("proj_")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && pid.parse::<u32>().is_ok()
        && id.len() == 32
}

/// On SQLite: whether the process that created a scratch table is still running on this machine.
/// Where that cannot be told (no `/proc`), every scratch table is taken as still in use.
fn scratch_owner_alive(name: &str) -> bool {
    let pid = name
        .split_once(SCRATCH_MARK)
        .and_then(|(_, rest)| rest.split_once('_'))
        .and_then(|(pid, _)| pid.parse::<u32>().ok());
    let Some(pid) = pid else {
        return true;
    };
    if !std::path::Path::new("/proc/self").exists() {
        return true;
    }
    pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn view_row(
    child: String,
    centre: Option<String>,
    applied: i64,
    last: i64,
    view: String,
) -> Result<ViewRow, StoreError> {
    let centre = centre
        .map(CentreId::parse)
        .transpose()
        .map_err(|e| StoreError::Unreadable {
            child: child.clone(),
            sequence: 0,
            problem: e.to_string(),
        })?;
    Ok(ViewRow {
        child_id: child_of(&child)?,
        centre,
        applied_events: applied as u64,
        last_sequence: last as u64,
        view,
    })
}

/// A write transaction over projection tables and checkpoints.
pub enum ViewTx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

impl ViewTx<'_> {
    /// Serialises writers of one projection (runner batches, a rebuild's swap). On SQLite the
    /// transaction already holds the database's write lock.
    pub async fn lock(&mut self, projection: &str) -> Result<(), StoreError> {
        if let ViewTx::Postgres(tx) = self {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('lifecourse projection ' || $1))")
                .bind(projection)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Moves a projection's checkpoint from `from` to `to`, only if it is still at `from` and its
    /// views were computed with `config` (or none yet): false when another runner got there
    /// first or the views were built with other thresholds (nothing is then written).
    pub async fn advance(
        &mut self,
        projection: &str,
        from: Cursor,
        to: Cursor,
        config: &Fingerprint,
    ) -> Result<bool, StoreError> {
        let config = config.as_str();
        let affected = match self {
            ViewTx::Sqlite(tx) => sqlx::query(
                "UPDATE projection_checkpoints
                    SET position = ?, config = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                  WHERE projection = ? AND position = ? AND (config = ? OR config = '')",
            )
            .bind(to.position)
            .bind(config)
            .bind(projection)
            .bind(from.position)
            .bind(config)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
            ViewTx::Postgres(tx) => sqlx::query(
                "UPDATE projection_checkpoints
                    SET era = $7, transaction_id = $1::text::xid8, position = $2, config = $3, updated_at = now()
                  WHERE projection = $4 AND era = $8 AND transaction_id = $5::text::xid8 AND position = $6
                    AND (config = $3 OR config = '')",
            )
            .bind(to.transaction_id.to_string())
            .bind(to.position)
            .bind(config)
            .bind(projection)
            .bind(from.transaction_id.to_string())
            .bind(from.position)
            .bind(to.era)
            .bind(from.era)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        };
        Ok(affected == 1)
    }

    /// Sets a projection's checkpoint unconditionally (the swap at the end of a rebuild).
    pub async fn set_checkpoint(
        &mut self,
        projection: &str,
        to: Cursor,
        config: &Fingerprint,
    ) -> Result<(), StoreError> {
        let config = config.as_str();
        match self {
            ViewTx::Sqlite(tx) => {
                sqlx::query("UPDATE projection_checkpoints SET position = ?, config = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE projection = ?")
                    .bind(to.position)
                    .bind(config)
                    .bind(projection)
                    .execute(&mut **tx)
                    .await?;
            }
            ViewTx::Postgres(tx) => {
                sqlx::query("UPDATE projection_checkpoints SET era = $5, transaction_id = $1::text::xid8, position = $2, config = $3, updated_at = now() WHERE projection = $4")
                    .bind(to.transaction_id.to_string())
                    .bind(to.position)
                    .bind(config)
                    .bind(projection)
                    .bind(to.era)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// The checkpoint as this transaction sees it (after `lock`, no other runner can move it).
    pub async fn checkpoint(&mut self, projection: &str) -> Result<Checkpoint, StoreError> {
        let row = match self {
            ViewTx::Sqlite(tx) => {
                sqlx::query_as(CHECKPOINT_SQLITE)
                    .bind(projection)
                    .fetch_one(&mut **tx)
                    .await?
            }
            ViewTx::Postgres(tx) => {
                sqlx::query_as(CHECKPOINT_PG)
                    .bind(projection)
                    .fetch_one(&mut **tx)
                    .await?
            }
        };
        Ok(checkpoint_of(row))
    }

    /// `(applied_events, last_sequence)` of each of `children` that has a row in `table`.
    pub async fn counters(
        &mut self,
        table: &str,
        children: &[ChildId],
    ) -> Result<BTreeMap<ChildId, (u64, u64)>, StoreError> {
        let rows: Vec<(String, i64, i64)> = match self {
            ViewTx::Sqlite(tx) => sqlx::query_as(&format!(
                "SELECT child_id, applied_events, last_sequence FROM {table}
                  WHERE child_id IN (SELECT value FROM json_each(?))"
            ))
            .bind(ids_json(children))
            .fetch_all(&mut **tx)
            .await?,
            ViewTx::Postgres(tx) => sqlx::query_as(&format!(
                "SELECT child_id, applied_events, last_sequence FROM {table} WHERE child_id = ANY($1)"
            ))
            .bind(ids_vec(children))
            .fetch_all(&mut **tx)
            .await?,
        };
        rows.into_iter()
            .map(|(c, a, l)| Ok((child_of(&c)?, (a as u64, l as u64))))
            .collect()
    }

    /// Writes (or replaces) children's rows. On PostgreSQL one statement per chunk of rows
    /// (`INSERT … SELECT FROM unnest(…) ON CONFLICT`), not one round trip per row; on SQLite, a
    /// file in this process, one prepared statement per row costs no round trip.
    pub async fn upsert(&mut self, table: &str, rows: &[ViewRow]) -> Result<(), StoreError> {
        match self {
            ViewTx::Sqlite(tx) => {
                let sql = format!(
                    "INSERT INTO {table} (child_id, centre, applied_events, last_sequence, view) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (child_id) DO UPDATE SET centre = excluded.centre, applied_events = excluded.applied_events,
                         last_sequence = excluded.last_sequence, view = excluded.view"
                );
                for row in rows {
                    sqlx::query(&sql)
                        .bind(row.child_id.to_string())
                        .bind(row.centre.as_ref().map(|c| c.to_string()))
                        .bind(row.applied_events as i64)
                        .bind(row.last_sequence as i64)
                        .bind(&row.view)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            ViewTx::Postgres(tx) => {
                let sql = format!(
                    "INSERT INTO {table} (child_id, centre, applied_events, last_sequence, view)
                     SELECT r.child_id, r.centre, r.applied_events, r.last_sequence, r.view::jsonb
                       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
                            AS r(child_id, centre, applied_events, last_sequence, view)
                     ON CONFLICT (child_id) DO UPDATE SET centre = excluded.centre, applied_events = excluded.applied_events,
                         last_sequence = excluded.last_sequence, view = excluded.view"
                );
                // A statement may write a row once: of repeated children, the last row wins, as
                // it would row by row.
                let mut last_of = std::collections::HashMap::new();
                for (i, row) in rows.iter().enumerate() {
                    last_of.insert(row.child_id, i);
                }
                let rows: Vec<&ViewRow> = rows
                    .iter()
                    .enumerate()
                    .filter(|(i, r)| last_of[&r.child_id] == *i)
                    .map(|(_, r)| r)
                    .collect();
                for chunk in rows.chunks(UPSERT_CHUNK) {
                    let children: Vec<String> =
                        chunk.iter().map(|r| r.child_id.to_string()).collect();
                    let centres: Vec<Option<String>> = chunk
                        .iter()
                        .map(|r| r.centre.as_ref().map(|c| c.to_string()))
                        .collect();
                    let applied: Vec<i64> = chunk.iter().map(|r| r.applied_events as i64).collect();
                    let last: Vec<i64> = chunk.iter().map(|r| r.last_sequence as i64).collect();
                    let views: Vec<&str> = chunk.iter().map(|r| r.view.as_str()).collect();
                    sqlx::query(&sql)
                        .bind(&children)
                        .bind(&centres)
                        .bind(&applied)
                        .bind(&last)
                        .bind(&views)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Replaces the contents of `table` with those of `scratch`, and drops `scratch`. Readers of
    /// `table` see the old rows until the transaction commits.
    ///
    /// On SQLite the rows are replaced in place (children no longer in `scratch` deleted, the
    /// others upserted) rather than all deleted and inserted again: the row triggers of
    /// `proj_follow_up` then rewrite the expectations of the views that changed only, and a
    /// rebuild usually changes none (at 1,353 children the follow-up swap took 1.4 s deleting
    /// and inserting every row, 0.06 s in place).
    pub async fn swap_in(&mut self, table: &str, scratch: &str) -> Result<(), StoreError> {
        match self {
            ViewTx::Sqlite(tx) => {
                for sql in [
                    format!(
                        "DELETE FROM {table} WHERE child_id NOT IN (SELECT child_id FROM {scratch})"
                    ),
                    format!(
                        "INSERT INTO {table} (child_id, centre, applied_events, last_sequence, view)
                         SELECT child_id, centre, applied_events, last_sequence, view FROM {scratch}
                          WHERE true
                         ON CONFLICT (child_id) DO UPDATE SET centre = excluded.centre,
                             applied_events = excluded.applied_events,
                             last_sequence = excluded.last_sequence, view = excluded.view"
                    ),
                    format!("DROP TABLE {scratch}"),
                ] {
                    sqlx::query(&sql).execute(&mut **tx).await?;
                }
            }
            ViewTx::Postgres(tx) => {
                for sql in [
                    format!("DELETE FROM {table}"),
                    format!("INSERT INTO {table} SELECT * FROM {scratch}"),
                    format!("DROP TABLE {scratch}"),
                ] {
                    sqlx::query(&sql).execute(&mut **tx).await?;
                }
            }
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            ViewTx::Sqlite(tx) => tx.commit().await?,
            ViewTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
