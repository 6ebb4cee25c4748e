//! The raw baselines of `lifecourse bench`: the same work as an engine operation, done with plain
//! SQL and serde on the same database, so the benchmark can say how close the engine comes to
//! what the database itself allows. Writes go to a scratch table shaped like `events`
//! (`bench_raw_events`: same columns, defaults, keys and indexes; not the protection triggers),
//! which `drop_raw_table` removes; reads go to the real `events` table.

use futures::TryStreamExt;
use lifecourse_events::*;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::Row;

use super::{Store, StoreError, AGGREGATE_TYPE};

/// The scratch table of the raw write baselines.
const RAW_TABLE: &str = "bench_raw_events";

/// One row for the raw write baselines, shaped like a stored event.
#[derive(Clone, Debug)]
pub struct RawRow {
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
}

/// One row into the scratch table on SQLite (`RAW_TABLE`), as a prepared statement.
fn sqlite_raw_insert(
    row: &RawRow,
) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    sqlx::query(
        "INSERT INTO bench_raw_events (aggregate_type, aggregate_id, sequence, event_type,
                                       event_version, payload, metadata)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(AGGREGATE_TYPE)
    .bind(&row.aggregate_id)
    .bind(row.sequence)
    .bind(&row.event_type)
    .bind(&row.event_version)
    .bind(&row.payload)
    .bind(&row.metadata)
}

fn unreadable(child: &str, sequence: i64, e: impl ToString) -> StoreError {
    StoreError::Unreadable {
        child: child.to_string(),
        sequence,
        problem: e.to_string(),
    }
}

impl Store {
    /// Creates (again) the empty scratch table of the raw write baselines.
    pub async fn create_raw_table(&self) -> Result<(), StoreError> {
        self.drop_raw_table().await?;
        match self {
            Store::Sqlite(s) => {
                let mut ddl: Vec<String> = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master
                      WHERE tbl_name = 'events' AND type IN ('table', 'index') AND sql IS NOT NULL
                      ORDER BY type DESC",
                )
                .fetch_all(s.pool())
                .await?;
                for sql in ddl.iter_mut() {
                    *sql = sql
                        .replacen("TABLE events", &format!("TABLE {RAW_TABLE}"), 1)
                        .replacen("ON events", &format!("ON {RAW_TABLE}"), 1)
                        .replacen("INDEX ", &format!("INDEX {RAW_TABLE}_"), 1);
                    sqlx::query(sql).execute(s.pool()).await?;
                }
            }
            Store::Postgres(s) => {
                sqlx::query(&format!(
                    "CREATE TABLE {RAW_TABLE} (LIKE events INCLUDING ALL)"
                ))
                .execute(s.pool())
                .await?;
            }
        }
        Ok(())
    }

    pub async fn drop_raw_table(&self) -> Result<(), StoreError> {
        let sql = format!("DROP TABLE IF EXISTS {RAW_TABLE}");
        match self {
            Store::Sqlite(s) => sqlx::query(&sql).execute(s.pool()).await.map(|_| ())?,
            Store::Postgres(s) => sqlx::query(&sql).execute(s.pool()).await.map(|_| ())?,
        }
        Ok(())
    }

    /// One single-row `INSERT`, its own transaction (autocommit): the floor of a command's write.
    pub async fn raw_insert(&self, row: &RawRow) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlite_raw_insert(row).execute(s.pool()).await?;
            }
            Store::Postgres(s) => {
                sqlx::query(&format!(
                    "INSERT INTO {RAW_TABLE} (aggregate_type, aggregate_id, sequence, event_type,
                                              event_version, payload, metadata)
                     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)"
                ))
                .bind(AGGREGATE_TYPE)
                .bind(&row.aggregate_id)
                .bind(row.sequence)
                .bind(&row.event_type)
                .bind(&row.event_version)
                .bind(&row.payload)
                .bind(&row.metadata)
                .execute(s.pool())
                .await?;
            }
        }
        Ok(())
    }

    /// Up to `limit` stored events after commit position `after`, in position order, as rows
    /// for the raw write baselines (the bulk import's rows, copied raw). Every stored event is a
    /// child file's; the position's own index serves the read (with the aggregate type in the
    /// filter, PostgreSQL may sort the whole table before a fresh `ANALYZE`).
    pub async fn raw_rows_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, RawRow)>, StoreError> {
        type Stored = (i64, String, i64, String, String, String, String);
        let rows: Vec<Stored> =
            match self {
                Store::Sqlite(s) => sqlx::query_as(
                    "SELECT position, aggregate_id, sequence, event_type, event_version, payload,
                            metadata
                       FROM events WHERE position > ?
                      ORDER BY position LIMIT ?",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(s.pool())
                .await?,
                Store::Postgres(s) => {
                    sqlx::query_as(
                        "SELECT position, aggregate_id, sequence, event_type, event_version,
                            payload::text, metadata::text
                       FROM events WHERE position > $1
                      ORDER BY position LIMIT $2",
                    )
                    .bind(after)
                    .bind(limit)
                    .fetch_all(s.pool())
                    .await?
                }
            };
        Ok(rows
            .into_iter()
            .map(
                |(
                    position,
                    aggregate_id,
                    sequence,
                    event_type,
                    event_version,
                    payload,
                    metadata,
                )| {
                    (
                        position,
                        RawRow {
                            aggregate_id,
                            sequence,
                            event_type,
                            event_version,
                            payload,
                            metadata,
                        },
                    )
                },
            )
            .collect())
    }

    /// `rows` written in bulk, the fastest way the database offers: `COPY … FROM STDIN` on
    /// PostgreSQL; on SQLite, which has no `COPY`, one transaction of prepared single-row
    /// `INSERT`s. The floor of an import's write.
    pub async fn raw_copy(&self, rows: &[RawRow]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                let mut tx = s.pool().begin().await?;
                for row in rows {
                    sqlite_raw_insert(row).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(s) => {
                let mut csv = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::new());
                for row in rows {
                    csv.write_record([
                        AGGREGATE_TYPE,
                        &row.aggregate_id,
                        &row.sequence.to_string(),
                        &row.event_type,
                        &row.event_version,
                        &row.payload,
                        &row.metadata,
                    ])
                    .map_err(|e| unreadable("(copy)", 0, e))?;
                }
                let data = csv.into_inner().map_err(|e| unreadable("(copy)", 0, e))?;
                let mut copy = s
                    .pool()
                    .copy_in_raw(&format!(
                        "COPY {RAW_TABLE} (aggregate_type, aggregate_id, sequence, event_type,
                                           event_version, payload, metadata)
                         FROM STDIN WITH (FORMAT csv)"
                    ))
                    .await?;
                copy.send(data).await?;
                copy.finish().await?;
            }
        }
        Ok(())
    }

    /// A child's rows by the stream's index, each payload parsed into `ChildEvent`: the floor of
    /// loading a file.
    pub async fn raw_load(&self, child: ChildId) -> Result<Vec<ChildEvent>, StoreError> {
        let id = child.to_string();
        let rows: Vec<(i64, String)> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(
                    "SELECT sequence, payload FROM events
                      WHERE aggregate_type = ? AND aggregate_id = ? ORDER BY sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(&id)
                .fetch_all(s.pool())
                .await?
            }
            Store::Postgres(s) => {
                sqlx::query_as(
                    "SELECT sequence, payload::text FROM events
                      WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(&id)
                .fetch_all(s.pool())
                .await?
            }
        };
        rows.iter()
            .map(|(sequence, payload)| {
                serde_json::from_str(payload).map_err(|e| unreadable(&id, *sequence, e))
            })
            .collect()
    }

    /// Every event in commit order, streamed, each payload parsed into `ChildEvent`: the floor
    /// of a rebuild's read. Returns how many events were read.
    pub async fn raw_stream_all(&self) -> Result<u64, StoreError> {
        let mut n = 0u64;
        let parse = |payload: &str| {
            serde_json::from_str::<ChildEvent>(payload)
                .map(|_| ())
                .map_err(|e| unreadable("(stream)", 0, e))
        };
        match self {
            Store::Sqlite(s) => {
                let mut rows = sqlx::query(
                    "SELECT payload FROM events WHERE aggregate_type = ? ORDER BY position",
                )
                .bind(AGGREGATE_TYPE)
                .fetch(s.pool());
                while let Some(row) = rows.try_next().await? {
                    parse(row.try_get::<&str, _>(0)?)?;
                    n += 1;
                }
            }
            Store::Postgres(s) => {
                let mut rows = sqlx::query(
                    "SELECT payload::text FROM events WHERE aggregate_type = $1
                      ORDER BY era, transaction_id, position",
                )
                .bind(AGGREGATE_TYPE)
                .fetch(s.pool());
                while let Some(row) = rows.try_next().await? {
                    parse(row.try_get::<&str, _>(0)?)?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// Vacuums the worklist's index table and gathers the statistics of the events, as
    /// autovacuum does on a running PostgreSQL server soon after a bulk write (migration 0010
    /// asks it to visit the worklist's table after 2% of it changed), so that the worklist is
    /// timed as a server serves it, not in the minute after an import and a rebuild: an
    /// index-only scan needs pages marked all-visible, and without the events' statistics the
    /// count of events a view lacks (the answer's freshness) is planned as a scan of every
    /// event's key. Only a table's owner (or a superuser) vacuums and analyses it; another
    /// role's is skipped with a warning. Nothing to do on SQLite.
    pub async fn vacuum_for_worklist(&self) -> Result<(), StoreError> {
        if let Store::Postgres(s) = self {
            for sql in [
                "VACUUM (ANALYZE) follow_up_expectations",
                "ANALYZE events, proj_follow_up",
            ] {
                sqlx::query(sql).execute(s.pool()).await?;
            }
        }
        Ok(())
    }

    /// The server's name and version, for the benchmark's table.
    pub async fn server_version(&self) -> Result<String, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(s.pool())
                    .await?;
                format!("SQLite {v}")
            }
            Store::Postgres(s) => {
                let v: String = sqlx::query_scalar("SHOW server_version")
                    .fetch_one(s.pool())
                    .await?;
                format!("PostgreSQL {v}")
            }
        })
    }
}
