//! The store's SQL for sign-in and the read-access log: password hashes in the staff register,
//! credentials (session cookies and bearer tokens, kept as SHA-256 of their secret), the
//! append-only `access_log`, and how far the read models are from a given position.

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use sqlx::Row;

use super::{Store, StoreError, AGGREGATE_TYPE};

/// One read to append to the access log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccess {
    pub person: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub child_id: ChildId,
    pub centre: Option<String>,
    pub reason: Option<String>,
    pub break_glass: bool,
    pub channel: String,
}

/// One row of the access log, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub entry: NewAccess,
}

const ACCESS_COLUMNS: &str =
    "id, at, person, role, action, child_id, centre, reason, break_glass, channel";

fn unreadable(problem: impl ToString) -> StoreError {
    StoreError::Unreadable {
        child: "(access log)".into(),
        sequence: 0,
        problem: problem.to_string(),
    }
}

fn access_row_sqlite(r: &sqlx::sqlite::SqliteRow) -> Result<AccessRow, StoreError> {
    let at: String = r.try_get(1)?;
    let child: String = r.try_get(5)?;
    Ok(AccessRow {
        id: r.try_get(0)?,
        at: DateTime::parse_from_rfc3339(&at)
            .map_err(unreadable)?
            .to_utc(),
        entry: NewAccess {
            person: r.try_get(2)?,
            role: r.try_get(3)?,
            action: r.try_get(4)?,
            child_id: child.parse().map_err(unreadable)?,
            centre: r.try_get(6)?,
            reason: r.try_get(7)?,
            break_glass: r.try_get::<i64, _>(8)? == 1,
            channel: r.try_get(9)?,
        },
    })
}

fn access_row_postgres(r: &sqlx::postgres::PgRow) -> Result<AccessRow, StoreError> {
    let child: String = r.try_get(5)?;
    Ok(AccessRow {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        entry: NewAccess {
            person: r.try_get(2)?,
            role: r.try_get(3)?,
            action: r.try_get(4)?,
            child_id: child.parse().map_err(unreadable)?,
            centre: r.try_get(6)?,
            reason: r.try_get(7)?,
            break_glass: r.try_get(8)?,
            channel: r.try_get(9)?,
        },
    })
}

impl Store {
    /// Stores a password hash for a registered person; false when there is no such person.
    pub async fn set_password_hash(
        &self,
        person: &PersonId,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let affected = match self {
            Store::Sqlite(s) => sqlx::query("UPDATE staff SET password_hash = ? WHERE person = ?")
                .bind(hash)
                .bind(person.as_str())
                .execute(s.pool())
                .await?
                .rows_affected(),
            Store::Postgres(s) => {
                sqlx::query("UPDATE staff SET password_hash = $1 WHERE person = $2")
                    .bind(hash)
                    .bind(person.as_str())
                    .execute(s.pool())
                    .await?
                    .rows_affected()
            }
        };
        Ok(affected == 1)
    }

    /// The stored password hash of a person (None: unknown person or no password set).
    pub async fn password_hash(&self, person: &PersonId) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> = match self {
            Store::Sqlite(s) => {
                sqlx::query_scalar("SELECT password_hash FROM staff WHERE person = ?")
                    .bind(person.as_str())
                    .fetch_optional(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_scalar("SELECT password_hash FROM staff WHERE person = $1")
                    .bind(person.as_str())
                    .fetch_optional(s.pool())
                    .await?
            }
        };
        Ok(hash.flatten())
    }

    /// Stores a new credential (the SHA-256 of its secret).
    pub async fn insert_credential(
        &self,
        secret_hash: &str,
        person: &PersonId,
        kind: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query(
                    "INSERT INTO credentials (secret_hash, person, kind, expires_at) VALUES (?, ?, ?, ?)",
                )
                .bind(secret_hash)
                .bind(person.as_str())
                .bind(kind)
                .bind(expires_at)
                .execute(s.pool())
                .await?;
            }
            Store::Postgres(s) => {
                sqlx::query(
                    "INSERT INTO credentials (secret_hash, person, kind, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(secret_hash)
                .bind(person.as_str())
                .bind(kind)
                .bind(expires_at)
                .execute(s.pool())
                .await?;
            }
        }
        Ok(())
    }

    /// The person and kind of a live credential: not revoked, not expired at `now` (Unix seconds).
    pub async fn credential(
        &self,
        secret_hash: &str,
        now: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                sqlx::query_as(
                    "SELECT person, kind FROM credentials
                      WHERE secret_hash = ? AND revoked = 0 AND expires_at > ?",
                )
                .bind(secret_hash)
                .bind(now)
                .fetch_optional(s.pool())
                .await?
            }
            Store::Postgres(s) => {
                sqlx::query_as(
                    "SELECT person, kind FROM credentials
                      WHERE secret_hash = $1 AND NOT revoked AND expires_at > $2",
                )
                .bind(secret_hash)
                .bind(now)
                .fetch_optional(s.pool())
                .await?
            }
        })
    }

    /// Revokes a credential (signing out); false when there was none.
    pub async fn revoke_credential(&self, secret_hash: &str) -> Result<bool, StoreError> {
        let affected = match self {
            Store::Sqlite(s) => {
                sqlx::query("UPDATE credentials SET revoked = 1 WHERE secret_hash = ?")
                    .bind(secret_hash)
                    .execute(s.pool())
                    .await?
                    .rows_affected()
            }
            Store::Postgres(s) => {
                sqlx::query("UPDATE credentials SET revoked = true WHERE secret_hash = $1")
                    .bind(secret_hash)
                    .execute(s.pool())
                    .await?
                    .rows_affected()
            }
        };
        Ok(affected == 1)
    }

    /// Appends reads to the access log, in one transaction.
    pub async fn append_access(&self, entries: &[NewAccess]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(s) => {
                let mut tx = s.pool().begin().await?;
                for e in entries {
                    sqlx::query(
                        "INSERT INTO access_log (person, role, action, child_id, centre, reason, break_glass, channel)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(&e.person)
                    .bind(&e.role)
                    .bind(&e.action)
                    .bind(e.child_id.to_string())
                    .bind(&e.centre)
                    .bind(&e.reason)
                    .bind(e.break_glass as i64)
                    .bind(&e.channel)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(s) => {
                let mut tx = s.pool().begin().await?;
                for e in entries {
                    sqlx::query(
                        "INSERT INTO access_log (person, role, action, child_id, centre, reason, break_glass, channel)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&e.person)
                    .bind(&e.role)
                    .bind(&e.action)
                    .bind(e.child_id.to_string())
                    .bind(&e.centre)
                    .bind(&e.reason)
                    .bind(e.break_glass)
                    .bind(&e.channel)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Every logged read of one child's identified data, oldest first.
    pub async fn access_log(&self, child: ChildId) -> Result<Vec<AccessRow>, StoreError> {
        let child = child.to_string();
        match self {
            Store::Sqlite(s) => sqlx::query(&format!(
                "SELECT {ACCESS_COLUMNS} FROM access_log WHERE child_id = ? ORDER BY id"
            ))
            .bind(child)
            .fetch_all(s.pool())
            .await?
            .iter()
            .map(access_row_sqlite)
            .collect(),
            Store::Postgres(s) => sqlx::query(&format!(
                "SELECT {ACCESS_COLUMNS} FROM access_log WHERE child_id = $1 ORDER BY id"
            ))
            .bind(child)
            .fetch_all(s.pool())
            .await?
            .iter()
            .map(access_row_postgres)
            .collect(),
        }
    }

    /// The break-glass reads of files of `centre`, oldest first.
    pub async fn break_glass_log(&self, centre: &CentreId) -> Result<Vec<AccessRow>, StoreError> {
        match self {
            Store::Sqlite(s) => sqlx::query(&format!(
                "SELECT {ACCESS_COLUMNS} FROM access_log WHERE break_glass = 1 AND centre = ? ORDER BY id"
            ))
            .bind(centre.as_str())
            .fetch_all(s.pool())
            .await?
            .iter()
            .map(access_row_sqlite)
            .collect(),
            Store::Postgres(s) => sqlx::query(&format!(
                "SELECT {ACCESS_COLUMNS} FROM access_log WHERE break_glass AND centre = $1 ORDER BY id"
            ))
            .bind(centre.as_str())
            .fetch_all(s.pool())
            .await?
            .iter()
            .map(access_row_postgres)
            .collect(),
        }
    }

    /// How many events at or before global `position` the rows of `table` do not reflect yet
    /// (0: a read of that table sees every write up to `position`).
    pub async fn events_upto_not_in(&self, table: &str, position: i64) -> Result<u64, StoreError> {
        let sql = |p: &str, q: &str| {
            format!(
                "SELECT count(*) FROM events e LEFT JOIN {table} p ON p.child_id = e.aggregate_id
                  WHERE e.aggregate_type = {p} AND e.position <= {q}
                    AND e.sequence > coalesce(p.last_sequence, 0)"
            )
        };
        let n: i64 = match self {
            Store::Sqlite(s) => {
                sqlx::query_scalar(&sql("?", "?"))
                    .bind(AGGREGATE_TYPE)
                    .bind(position)
                    .fetch_one(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_scalar(&sql("$1", "$2"))
                    .bind(AGGREGATE_TYPE)
                    .bind(position)
                    .fetch_one(s.pool())
                    .await?
            }
        };
        Ok(n as u64)
    }

    /// The highest global position of a committed event visible now (0 for an empty store).
    pub async fn last_position(&self) -> Result<i64, StoreError> {
        let sql = "SELECT coalesce(max(position), 0) FROM events";
        Ok(match self {
            Store::Sqlite(s) => sqlx::query_scalar(sql).fetch_one(s.pool()).await?,
            Store::Postgres(s) => sqlx::query_scalar(sql).fetch_one(s.pool()).await?,
        })
    }

    /// Revokes every credential of a person (their password changed).
    pub async fn revoke_credentials_of(&self, person: &PersonId) -> Result<u64, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                sqlx::query("UPDATE credentials SET revoked = 1 WHERE person = ? AND revoked = 0")
                    .bind(person.as_str())
                    .execute(s.pool())
                    .await?
                    .rows_affected()
            }
            Store::Postgres(s) => sqlx::query(
                "UPDATE credentials SET revoked = true WHERE person = $1 AND NOT revoked",
            )
            .bind(person.as_str())
            .execute(s.pool())
            .await?
            .rows_affected(),
        })
    }
}
