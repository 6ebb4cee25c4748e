//! Erasing a child's identifying data (crypto-shredding): an `IdentityErased` entry is recorded
//! (by the centre's coordinator, under the access policy and the file's rules), then the child's
//! key is destroyed. From then on every identifying field of the file reads as erased — in the
//! history, the read models (re-folded: a history holding the erasure carries no identifying
//! value, whatever the store could still open) and every export — while the non-identifying
//! trajectory stays for statistics and the seals still verify (they cover the sealed text).

use lifecourse_events::*;
use serde::Serialize;

use super::{App, AppError, CommandInput, Principal};
use crate::recording::Recorded;

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
        let centre =
            lifecourse_projections::ChildHistory::from_events(self.store.history(child).await?)
                .centre()
                .ok_or(AppError::UnknownChild(child))?;
        let today = self.today(Some(&centre)).await?;
        let command = serde_json::json!({
            "child_id": child,
            "idempotency_key": format!("erase-{child}"),
            "command": {"type": "erase_identity", "occurred_on": today, "reason": reason},
        });
        let input = CommandInput::parse(&command.to_string())?;
        let recorded = self.record(principal, input).await?;
        let key_destroyed = self.store.erase_key(child).await?;
        tracing::warn!(%child, %reason, person = %principal.person, key_destroyed, "identifying data erased");
        // The embedded store's read models are re-folded now, then its log is checkpointed so
        // no page of the file still holds what the views said before.
        self.catch_up_if_embedded().await?;
        self.store.scrub().await?;
        Ok(Erasure {
            child_id: child,
            recorded,
            key_destroyed,
        })
    }
}
