//! Erasing a child's identifying data (crypto-shredding): an `IdentityErased` entry is recorded
//! (by the centre's coordinator, under the access policy and the file's rules), then the child's
//! key is destroyed. From then on every identifying field of the file reads as erased — in the
//! history, the read models (re-folded: a history holding the erasure carries no identifying
//! value, whatever the store could still open) and every export — while the non-identifying
//! trajectory stays for statistics and the seals still verify (they cover the sealed text).

use lifecourse_events::*;
use serde::Serialize;

use super::access::{Action, EntryKind};
use super::{App, AppError, Principal};
use crate::domain::{ChildFileCommand, ClinicalCalendar};
use crate::recording::{CommandRequest, Recorded, RecordedEntry};

/// What `erase` did.
#[derive(Clone, Debug, Serialize)]
pub struct Erasure {
    pub child_id: ChildId,
    pub recorded: Recorded,
    /// False when the key had been destroyed already (a repeated erasure).
    pub key_destroyed: bool,
}

impl App {
    /// Erases `child`'s identifying data on `principal`'s authority, for `reason`. Safe to
    /// repeat: the entry is stored once (its idempotency key is derived from the child) and the
    /// key is destroyed if it is not already.
    pub async fn erase(
        &self,
        principal: &Principal,
        child: ChildId,
        reason: ErasureReason,
    ) -> Result<Erasure, AppError> {
        let history = self.store.history(child).await?;
        let centre = lifecourse_projections::ChildHistory::from_events(history.iter().cloned())
            .centre()
            .ok_or(AppError::UnknownChild(child))?;
        // An erasure already on record (the key's destruction may not have happened: a crash, a
        // lost connection) is completed, not recorded again, whatever day or reason is given.
        let earlier = history
            .iter()
            .find(|e| matches!(e.event, ChildEvent::IdentityErased(_)));
        let recorded = match earlier {
            Some(entry) => {
                self.guard_erasure(principal, child).await?;
                Recorded {
                    child_id: child,
                    idempotency_key: entry.metadata.idempotency_key.clone(),
                    entries: vec![RecordedEntry {
                        sequence: entry.sequence,
                        event_type: entry.event_type.clone(),
                    }],
                    replayed: true,
                }
            }
            None => {
                let today = self.today(Some(&centre)).await?;
                let command = ChildFileCommand::EraseIdentity(IdentityErased {
                    occurred_on: today,
                    reason,
                });
                let request = CommandRequest::new(
                    child,
                    IdempotencyKey::parse(format!("erase-{child}")).map_err(|e| {
                        AppError::Output {
                            format: "erasure",
                            message: e.to_string(),
                        }
                    })?,
                    principal_recorder(principal, &centre),
                    command,
                );
                self.guard_erasure(principal, child).await?;
                self.record_request(principal, ClinicalCalendar { today }, request)
                    .await?
            }
        };
        let key_destroyed = self.store.erase_key(child).await?;
        tracing::warn!(%child, person = %principal.person, key_destroyed, "identifying data erased");
        // The read models are re-folded now (a history holding the erasure carries no
        // identifying value), on either store; then SQLite's log is checkpointed so no page of
        // the file still holds what the views said before.
        self.catch_up().await?;
        self.store.scrub().await?;
        Ok(Erasure {
            child_id: child,
            recorded,
            key_destroyed,
        })
    }

    /// The access policy for an erasure of `child`'s file, by `principal`.
    async fn guard_erasure(&self, principal: &Principal, child: ChildId) -> Result<(), AppError> {
        let acting = self.acting_as(principal.clone(), self.channel());
        acting
            .guard_file(Action::Record(EntryKind::Erasure), child)
            .await?;
        Ok(())
    }
}

/// A recorder placeholder: `record_request` sets the real one from the principal.
fn principal_recorder(principal: &Principal, centre: &CentreId) -> Recorder {
    Recorder {
        person: principal.person.clone(),
        role: principal
            .role
            .recording_role()
            .unwrap_or(StaffRole::Coordinator),
        centre: centre.clone(),
    }
}
