//! The production store: PostgreSQL through our cqrs-es repository (`pg_events`, one statement
//! per command) on postgres-es's table, with `jsonb` payloads and the commit-order
//! columns (`position`, `transaction_id`) that the projection runner reads by.

use std::time::Duration;

use lifecourse_events::ChildId;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

use super::child_files::{ChildFiles, StreamReader};
use super::pg_events::PgEventRepository;
use super::{redact, RawEvent, StoreError, StoreStats, AGGREGATE_TYPE};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The function the protection triggers call, as `migrations/postgres/0001_events.sql` made it.
const IMMUTABLE_FUNCTION: &str = "CREATE OR REPLACE FUNCTION lifecourse_events_are_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'events are immutable: % on events is not allowed; record a correcting event instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$";

/// The triggers that keep stored events immutable, and how to create each again.
const PROTECTION: [(&str, &str); 2] = [
    (
        "events_no_update_or_delete",
        "CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
             FOR EACH ROW EXECUTE FUNCTION lifecourse_events_are_immutable()",
    ),
    (
        "events_no_truncate",
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
             FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_events_are_immutable()",
    ),
];

pub struct PostgresStore {
    pool: PgPool,
    keyring: std::sync::Arc<super::keys::Keyring>,
    events: ChildFiles<PgEventRepository>,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let unreachable = |source| StoreError::PostgresUnreachable {
            url: redact(url),
            source,
        };
        let options: PgConnectOptions = url.parse().map_err(unreachable)?;
        // A rebuild, `verify` or an export streams the whole table in one statement: a statement
        // over a second is worth a line at `info`, not a warning with its SQL on every run.
        let options = sqlx::ConnectOptions::log_slow_statements(
            options,
            log::LevelFilter::Info,
            Duration::from_secs(1),
        );
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
        let repo = PgEventRepository::new(pool.clone());
        let keyring = std::sync::Arc::new(super::keys::Keyring::default());
        let events = ChildFiles::new(StreamReader::Postgres(pool.clone()), repo, keyring.clone());
        Self {
            pool,
            keyring,
            events,
        }
    }

    pub(crate) fn keyring(&self) -> &super::keys::Keyring {
        &self.keyring
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn event_store(&self) -> &ChildFiles<PgEventRepository> {
        &self.events
    }

    /// Applies pending migrations, then restores a protection trigger that was dropped or
    /// disabled since (a migration runs once; this repair runs on every `lifecourse migrate`).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = applied(&self.pool).await;
        MIGRATOR.run(&self.pool).await?;
        let after = applied(&self.pool).await;
        let states = self.trigger_states().await?;
        if states
            .iter()
            .any(|(_, state)| !matches!(state.as_deref(), Some("O" | "A")))
        {
            let mut tx = self.pool.begin().await?;
            sqlx::query("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
            sqlx::query(IMMUTABLE_FUNCTION).execute(&mut *tx).await?;
            for ((name, create), (_, state)) in PROTECTION.iter().zip(&states) {
                match state.as_deref() {
                    Some("O" | "A") => {}
                    None => {
                        tracing::warn!(trigger = name, "restoring a dropped protection trigger");
                        sqlx::query(create).execute(&mut *tx).await?;
                    }
                    Some(_) => {
                        tracing::warn!(trigger = name, "enabling a disabled protection trigger");
                        sqlx::query(&format!("ALTER TABLE events ENABLE TRIGGER {name}"))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
        }
        Ok(after - before)
    }

    /// Each protection trigger with its `pg_trigger.tgenabled` (`O`: fires; `None`: missing).
    async fn trigger_states(&self) -> Result<Vec<(&'static str, Option<String>)>, StoreError> {
        let mut states = Vec::new();
        for (name, _) in PROTECTION {
            let state: Option<String> = sqlx::query_scalar(
                "SELECT t.tgenabled::text FROM pg_trigger t
                  WHERE t.tgrelid = to_regclass('events') AND t.tgname = $1",
            )
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
            states.push((name, state));
        }
        Ok(states)
    }

    /// What is missing from the protection of `events` (empty when every trigger is there and
    /// fires).
    pub async fn unprotected(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .trigger_states()
            .await?
            .into_iter()
            .filter_map(|(name, state)| match state.as_deref() {
                Some("O" | "A") => None,
                None => Some(format!("trigger {name} is missing")),
                Some(_) => Some(format!("trigger {name} is disabled")),
            })
            .collect())
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
