//! The centres' own settings (today: the time zone in which a centre's "today" is judged).

use lifecourse_events::CentreId;

use super::{Store, StoreError};

impl Store {
    /// The time zone set for `centre`, if any.
    pub async fn centre_time_zone(&self, centre: &CentreId) -> Result<Option<String>, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                sqlx::query_scalar("SELECT time_zone FROM centres WHERE centre = ?")
                    .bind(centre.as_str())
                    .fetch_optional(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_scalar("SELECT time_zone FROM centres WHERE centre = $1")
                    .bind(centre.as_str())
                    .fetch_optional(s.pool())
                    .await?
            }
        })
    }

    /// Sets the time zone of `centre` (an IANA name, checked by the caller).
    pub async fn set_centre_time_zone(
        &self,
        centre: &CentreId,
        time_zone: &str,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query(
                    "INSERT INTO centres (centre, time_zone) VALUES (?, ?)
                     ON CONFLICT (centre) DO UPDATE SET time_zone = excluded.time_zone,
                       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                )
                .bind(centre.as_str())
                .bind(time_zone)
                .execute(s.pool())
                .await?;
            }
            Store::Postgres(s) => {
                sqlx::query(
                    "INSERT INTO centres (centre, time_zone) VALUES ($1, $2)
                     ON CONFLICT (centre) DO UPDATE SET time_zone = excluded.time_zone,
                       updated_at = now()",
                )
                .bind(centre.as_str())
                .bind(time_zone)
                .execute(s.pool())
                .await?;
            }
        }
        Ok(())
    }

    /// Every centre with a time zone set, in order.
    pub async fn centre_time_zones(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                sqlx::query_as("SELECT centre, time_zone FROM centres ORDER BY centre")
                    .fetch_all(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_as("SELECT centre, time_zone FROM centres ORDER BY centre")
                    .fetch_all(s.pool())
                    .await?
            }
        })
    }
}
