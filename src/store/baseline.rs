//! The raw baselines of `lifecourse bench`: the same work as an engine operation, done with plain
//! SQL and serde on the same database, so the benchmark can say how close the engine comes to
//! what the database itself allows. Writes go to a scratch table shaped like `events`
//! (`bench_raw_events`: same columns, defaults, keys and indexes; not the protection triggers),
//! which `drop_raw_table` removes; reads go to the real `events` table.

use futures::TryStreamExt;
use lifecourse_events::*;
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
                sqlx::query(&format!(
                    "INSERT INTO {RAW_TABLE} (aggregate_type, aggregate_id, sequence, event_type,
                                              event_version, payload, metadata)
                     VALUES (?, ?, ?, ?, ?, ?, ?)"
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
