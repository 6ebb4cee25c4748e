//! Where the access policy (`access::decide`) meets the store: who is acting on an `App`, the
//! checks every query and command makes before it reads or writes, the read-access log they
//! append to, and read-your-writes (waiting until the read models reflect a position).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use lifecourse_projections::ChildHistory;
use serde::Serialize;

use super::access::{self, Action, Denial, Grant, Scope};
use super::{App, AppError, InvalidInput, Principal};
use crate::recording::Recorded;
use crate::runner::Projection;
use crate::store::access::NewAccess;

/// Which edge a request came through (kept in the access log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Cli,
    Http,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Cli => "cli",
            Channel::Http => "http",
        }
    }
}

/// Who is acting on an `App`, and the break-glass reason they stated, if any.
#[derive(Clone, Debug)]
pub struct Acting {
    pub principal: Principal,
    pub break_glass: Option<String>,
    pub channel: Channel,
}

/// What the policy allowed for one file, and the centre responsible for it (for the log).
#[derive(Clone, Debug)]
pub(crate) struct FileAccess {
    /// None: no principal (a command-line read without --as): nothing is checked.
    pub grant: Option<Grant>,
    pub centre: Option<CentreId>,
    /// The file's last sequence number (its stream version), when it was loaded.
    pub version: Option<u64>,
}

/// One read of a child's identified data, as the access log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// None for a command-line read without --as.
    pub person: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub child_id: ChildId,
    pub centre: Option<String>,
    pub reason: Option<String>,
    pub break_glass: bool,
    pub channel: String,
}

impl From<crate::store::access::AccessRow> for AccessEntry {
    fn from(row: crate::store::access::AccessRow) -> Self {
        let e = row.entry;
        AccessEntry {
            id: row.id,
            at: row.at,
            person: e.person,
            role: e.role,
            action: e.action,
            child_id: e.child_id,
            centre: e.centre,
            reason: e.reason,
            break_glass: e.break_glass,
            channel: e.channel,
        }
    }
}

impl App {
    /// This application acting as `principal`: every query and command is then checked against
    /// the access policy, and every read of identified data is logged under their name.
    pub fn acting_as(&self, principal: Principal, channel: Channel) -> App {
        let mut app = self.clone();
        app.acting = Some(Arc::new(Acting {
            principal,
            break_glass: None,
            channel,
        }));
        app
    }

    /// The same principal, stating a break-glass reason for the reads that follow.
    pub fn with_break_glass(&self, reason: Option<String>) -> App {
        let mut app = self.clone();
        if let Some(acting) = &self.acting {
            app.acting = Some(Arc::new(Acting {
                break_glass: reason,
                ..(**acting).clone()
            }));
        }
        app
    }

    /// Who is acting, if anyone.
    pub fn acting(&self) -> Option<&Acting> {
        self.acting.as_deref()
    }

    fn denied(&self, child: ChildId, denial: Denial) -> AppError {
        match denial {
            // Existence must not leak: a file outside your centres is no file of yours.
            Denial::OutsideCentres => AppError::UnknownChild(child),
            denial => AppError::Denied(denial),
        }
    }

    /// The policy's answer for `action` on `child`'s file (loaded to learn its centre today).
    pub(crate) async fn guard_file(
        &self,
        action: Action,
        child: ChildId,
    ) -> Result<FileAccess, AppError> {
        let Some(acting) = self.acting() else {
            return Ok(FileAccess {
                grant: None,
                centre: None,
                version: None,
            });
        };
        let reason = acting.break_glass.as_deref();
        // What the role may never do is refused before the file is even looked at.
        let probe = acting.principal.centres.first().cloned();
        if let Some(own) = &probe {
            if let Err(denial @ (Denial::Role { .. } | Denial::BreakGlass(_))) =
                access::decide(&acting.principal, action, Scope::File(own), reason)
            {
                return Err(AppError::Denied(denial));
            }
        }
        let history = ChildHistory::from_events(self.store.history(child).await?);
        let version = history.events().last().map(|e| e.sequence);
        let centre = history.centre().ok_or(AppError::UnknownChild(child))?;
        let grant = access::decide(&acting.principal, action, Scope::File(&centre), reason)
            .map_err(|d| self.denied(child, d))?;
        Ok(FileAccess {
            grant: Some(grant),
            centre: Some(centre),
            version,
        })
    }

    /// The centre a list is asked for, checked: the one given, or the principal's only centre.
    pub(crate) fn guard_centre(
        &self,
        action: Action,
        centre: Option<&CentreId>,
    ) -> Result<Option<CentreId>, AppError> {
        let Some(acting) = self.acting() else {
            return Ok(centre.cloned());
        };
        let centre = match (centre, acting.principal.centres.as_slice()) {
            (Some(c), _) => c.clone(),
            (None, [only]) => only.clone(),
            (None, _) => {
                return Err(InvalidInput::CentreNeeded(acting.principal.person.to_string()).into())
            }
        };
        access::decide(
            &acting.principal,
            action,
            Scope::Centre(&centre),
            acting.break_glass.as_deref(),
        )
        .map_err(AppError::Denied)?;
        Ok(Some(centre))
    }

    /// Appends reads of `children` to the access log; the read fails if the log cannot be
    /// written, so no read of identified data goes unlogged.
    pub(crate) async fn log_reads(
        &self,
        action: Action,
        children: &[(ChildId, Option<CentreId>)],
        grant: Option<Grant>,
    ) -> Result<(), AppError> {
        let acting = self.acting();
        let entries: Vec<NewAccess> = children
            .iter()
            .map(|(child, centre)| NewAccess {
                person: acting.map(|a| a.principal.person.to_string()),
                role: acting.map(|a| a.principal.role.to_string()),
                action: action.as_str().to_string(),
                child_id: *child,
                centre: centre.as_ref().map(ToString::to_string),
                reason: acting.and_then(|a| a.break_glass.clone()),
                break_glass: grant == Some(Grant::BreakGlass),
                channel: acting
                    .map_or(Channel::Cli, |a| a.channel)
                    .as_str()
                    .to_string(),
            })
            .collect();
        if grant == Some(Grant::BreakGlass) {
            tracing::warn!(child = %children[0].0, person = ?acting.map(|a| a.principal.person.to_string()), "break-glass read");
        }
        Ok(self.store.append_access(&entries).await?)
    }

    /// Every logged read of a child's identified data (auditors and centre administrators).
    pub async fn access_log(&self, child: ChildId) -> Result<Vec<AccessEntry>, AppError> {
        self.guard_file(Action::ReadAccessLog, child).await?;
        let rows = self.store.access_log(child).await?;
        if rows.is_empty() && self.store.history(child).await?.is_empty() {
            return Err(AppError::UnknownChild(child));
        }
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The break-glass reads of a centre's files (its administrators and auditors).
    pub async fn break_glass_reads(&self, centre: &CentreId) -> Result<Vec<AccessEntry>, AppError> {
        let centre = self
            .guard_centre(Action::ReadBreakGlassList, Some(centre))?
            .unwrap_or_else(|| centre.clone());
        let rows = self.store.break_glass_log(&centre).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The global position of the last entry a command stored (or had stored, for a retry).
    pub async fn committed_position(&self, recorded: &Recorded) -> Result<i64, AppError> {
        let last = recorded.entries.iter().map(|e| e.sequence).max();
        let history = self.store.history(recorded.child_id).await?;
        Ok(history
            .iter()
            .filter(|e| Some(e.sequence) == last)
            .map(|e| e.position)
            .max()
            .unwrap_or(0))
    }

    /// Waits (polling, at most `timeout`) until an event at `position` is committed and
    /// `projection` reflects every event at or before it; true when it does.
    pub async fn wait_until_reflected(
        &self,
        projection: Projection,
        position: i64,
        timeout: Duration,
    ) -> Result<bool, AppError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.store.last_position().await? >= position
                && self
                    .store
                    .events_upto_not_in(projection.table(), position)
                    .await?
                    == 0
            {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
