//! The SQL of tamper evidence: every stream read back in (child, sequence) order for `verify`, and
//! the `anchors` table (migrations `0009_integrity`).

use futures::TryStreamExt;
use lifecourse_events::ChildId;
use sqlx::Row;

use super::{Store, StoreError, AGGREGATE_TYPE};
use crate::integrity::{RawSealed, SignedAnchor};

/// Groups rows arriving in (child, sequence) order into streams handed to `each`.
struct Streams<F: FnMut(&str, Vec<RawSealed>)> {
    child: String,
    rows: Vec<RawSealed>,
    each: F,
}

impl<F: FnMut(&str, Vec<RawSealed>)> Streams<F> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        child: &str,
        sequence: i64,
        after_sealing_began: bool,
        event_type: String,
        event_version: String,
        payload: String,
        metadata: String,
    ) {
        if child != self.child {
            self.flush();
            self.child.clear();
            self.child.push_str(child);
        }
        self.rows.push(RawSealed {
            sequence: sequence as u64,
            after_sealing_began,
            event_type,
            event_version,
            payload,
            metadata,
        });
    }

    fn flush(&mut self) {
        if !self.rows.is_empty() {
            (self.each)(&self.child, std::mem::take(&mut self.rows));
        }
    }
}

impl Store {
    /// Every child's stream (or one child's), as stored, in child then sequence order; `each` is
    /// called once per child with its rows, as text.
    pub async fn sealed_streams(
        &self,
        only: Option<ChildId>,
        each: impl FnMut(&str, Vec<RawSealed>),
    ) -> Result<(), StoreError> {
        let only = only.map(|c| c.to_string());
        let mut streams = Streams {
            child: String::new(),
            rows: Vec::new(),
            each,
        };
        match self {
            Store::Sqlite(s) => {
                let mut rows = sqlx::query(
                    "SELECT aggregate_id, sequence, event_type, event_version, payload, metadata,
                            recorded_at > coalesce(
                                (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', installed_on)
                                   FROM _sqlx_migrations WHERE version = 9), '9999')
                       FROM events
                      WHERE aggregate_type = ? AND (? IS NULL OR aggregate_id = ?)
                      ORDER BY aggregate_id, sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(&only)
                .bind(&only)
                .fetch(s.pool());
                while let Some(row) = rows.try_next().await? {
                    streams.push(
                        row.try_get(0)?,
                        row.try_get(1)?,
                        row.try_get(6)?,
                        row.try_get(2)?,
                        row.try_get(3)?,
                        row.try_get(4)?,
                        row.try_get(5)?,
                    );
                }
            }
            Store::Postgres(s) => {
                let mut rows = sqlx::query(
                    "SELECT aggregate_id, sequence, event_type, event_version, payload::text,
                            metadata::text,
                            coalesce(recorded_at > (SELECT installed_on FROM _sqlx_migrations
                                                     WHERE version = 9), false)
                       FROM events
                      WHERE aggregate_type = $1 AND ($2::text IS NULL OR aggregate_id = $2)
                      ORDER BY aggregate_id, sequence",
                )
                .bind(AGGREGATE_TYPE)
                .bind(&only)
                .fetch(s.pool());
                while let Some(row) = rows.try_next().await? {
                    streams.push(
                        row.try_get(0)?,
                        row.try_get(1)?,
                        row.try_get(6)?,
                        row.try_get(2)?,
                        row.try_get(3)?,
                        row.try_get(4)?,
                        row.try_get(5)?,
                    );
                }
            }
        }
        streams.flush();
        Ok(())
    }

    /// Stores a signed anchor.
    pub async fn insert_anchor(&self, anchor: &SignedAnchor) -> Result<i64, StoreError> {
        let signed = anchor.to_file_text();
        let a = &anchor.anchor;
        let id =
            match self {
                Store::Sqlite(s) => sqlx::query_scalar(
                    "INSERT INTO anchors (created_at, root, children, events, public_key, signed)
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(a.created_at.to_rfc3339())
                .bind(&a.root)
                .bind(a.children as i64)
                .bind(a.events as i64)
                .bind(&anchor.public_key)
                .bind(&signed)
                .fetch_one(s.pool())
                .await?,
                Store::Postgres(s) => sqlx::query_scalar(
                    "INSERT INTO anchors (created_at, root, children, events, public_key, signed)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(a.created_at)
                .bind(&a.root)
                .bind(a.children as i64)
                .bind(a.events as i64)
                .bind(&anchor.public_key)
                .bind(&signed)
                .fetch_one(s.pool())
                .await?,
            };
        Ok(id)
    }

    /// Every stored anchor, oldest first, as (id, the anchor file's text).
    pub async fn anchors(&self) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                sqlx::query_as("SELECT id, signed FROM anchors ORDER BY id")
                    .fetch_all(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_as("SELECT id, signed FROM anchors ORDER BY id")
                    .fetch_all(s.pool())
                    .await?
            }
        })
    }
}
