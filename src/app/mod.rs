//! The application layer: the commands and queries the edges call (the CLI now, the HTTP server
//! next), with typed inputs and outputs. No edge touches SQL, read-model tables or raw JSON rows;
//! every failure is an `AppError`, whose `ErrorKind` each edge maps once.
//!
//! - Commands take a `Principal` (who is acting, from the staff register); the envelope's
//!   `recorded_by` is the principal, never a field of the request.
//! - Queries never write. They answer from the read models as the runner left them and say how
//!   current that is (`Freshness`); `lifecourse project --follow` keeps them current, and on the
//!   embedded SQLite store a CLI write catches them up before it returns.
//! - Settings (the follow-up thresholds) live in the database, shared by every process.

pub mod access;
mod audit;
mod centres;
mod commands;
mod erasure;
mod error;
mod guard;
mod import;
mod integrity;
mod lookup;
mod queries;
mod research;
mod settings;
mod sign_in;
mod staff;

use lifecourse_events::*;
use serde::Serialize;

pub use centres::{time_zone, DEFAULT_TIME_ZONE};
pub use commands::{CommandInput, DemoReport, DEMO_CHUNK};
pub use erasure::Erasure;
pub use error::{AppError, ErrorKind, InvalidInput};
pub use guard::{AccessEntry, Acting, Channel};
pub use integrity::{AnchorSummary, VerifyReport};
pub use lookup::{file_number, ChildBrief, NamedWorklist, MIN_SEARCH};
pub use queries::{GapsAnswer, Page, Period};
pub use research::{end_of, ResearchCut, ResearchHistories};
pub use settings::{Setting, SETTINGS};
pub use sign_in::{Credential, CredentialKind};
pub use staff::{NewStaff, Principal, Role, StaffMember};

use crate::runner::Runner;
use crate::store::{Cursor, Store};

/// The earliest and latest clinical dates the application accepts from an edge: every date
/// computation (a year back, six months on) then stays far inside what the calendar can hold.
pub const EARLIEST: &str = "1900-01-01";
pub const LATEST: &str = "2199-12-31";

/// Checks a date from an edge against `EARLIEST..=LATEST`.
pub fn check_date(what: &'static str, date: ClinicalDate) -> Result<ClinicalDate, InvalidInput> {
    let earliest: ClinicalDate = EARLIEST.parse().expect("a valid date");
    let latest: ClinicalDate = LATEST.parse().expect("a valid date");
    if date < earliest || date > latest {
        return Err(InvalidInput::DateOutOfRange {
            what,
            date: date.to_string(),
        });
    }
    Ok(date)
}

/// How current an answer is: the place in the store's commit order the read models it came from
/// reflect, and how many committed events they do not reflect yet (0: up to date).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Freshness {
    pub reflects: Cursor,
    pub behind: u64,
}

/// A query's answer with how current it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answer<T> {
    pub freshness: Freshness,
    pub value: T,
}

/// The application: a store and the rules of using it.
#[derive(Clone)]
pub struct App {
    store: Store,
    /// Who is acting (`acting_as`): when set, the access policy checks every query and command.
    acting: Option<std::sync::Arc<Acting>>,
}

impl App {
    /// Connects for ordinary work. The embedded SQLite store migrates itself; on PostgreSQL only
    /// `lifecourse migrate` changes the schema, and a schema older than this program is refused.
    pub async fn open(url: &str) -> Result<Self, AppError> {
        let store = Store::connect(url).await?;
        match &store {
            Store::Sqlite(_) => {
                store.migrate().await?;
            }
            Store::Postgres(_) => store.check_schema().await?,
        }
        Ok(Self {
            store,
            acting: None,
        })
    }

    /// Connects without touching or checking the schema (for `lifecourse migrate`).
    pub async fn connect(url: &str) -> Result<Self, AppError> {
        Ok(Self {
            store: Store::connect(url).await?,
            acting: None,
        })
    }

    pub fn new(store: Store) -> Self {
        Self {
            store,
            acting: None,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Applies pending migrations; returns how many.
    pub async fn migrate(&self) -> Result<usize, AppError> {
        Ok(self.store.migrate().await?)
    }

    /// The embedded store, where one process serves one user: writes catch the models up.
    pub fn is_embedded(&self) -> bool {
        matches!(self.store, Store::Sqlite(_))
    }

    /// A runner with the stored thresholds.
    pub async fn runner(&self) -> Result<Runner<'_>, AppError> {
        Ok(Runner::new(&self.store, self.follow_up_rules().await?))
    }

    /// Brings every read model up to date; returns the event applications.
    pub async fn catch_up(&self) -> Result<u64, AppError> {
        Ok(self.runner().await?.catch_up().await?)
    }

    /// After a CLI write on the embedded store, so a single user sees what they just recorded.
    pub async fn catch_up_if_embedded(&self) -> Result<(), AppError> {
        if self.is_embedded() {
            self.catch_up().await?;
        }
        Ok(())
    }

    /// Brings the read models up to date in batches of `batch_size` events.
    pub async fn project(&self, batch_size: usize) -> Result<u64, AppError> {
        Ok(self
            .runner()
            .await?
            .with_batch_size(batch_size)
            .catch_up()
            .await?)
    }

    /// Keeps the read models up to date every `poll` until `stop` completes. The thresholds are
    /// read again on every round, so a `settings set` by another process is followed rather than
    /// undone by a runner still holding the old ones.
    pub async fn follow(
        &self,
        batch_size: usize,
        poll: std::time::Duration,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<(), AppError> {
        tokio::pin!(stop);
        loop {
            self.project(batch_size).await?;
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Replays every event into fresh tables of `projections` and swaps them in.
    pub async fn rebuild(
        &self,
        projections: &[crate::runner::Projection],
        progress: impl FnMut(u64),
    ) -> Result<crate::runner::RebuildReport, AppError> {
        Ok(self.runner().await?.rebuild(projections, progress).await?)
    }

    /// How many files and entries the store holds.
    pub async fn stats(&self) -> Result<crate::store::StoreStats, AppError> {
        Ok(self.store.stats().await?)
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    pub async fn close(&self) {
        self.store.close().await;
    }
}
