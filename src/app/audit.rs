//! The decision trail of one child's file (`lifecourse audit`, `GET /children/{id}/audit`): the
//! pure fold is `lifecourse_projections::audit`; this is where it meets the store and the
//! access policy. Folded from the events on every read, like `history`, and logged.

use lifecourse_events::ChildId;
use lifecourse_projections::{decision_trail, DecisionTrail};

use super::access::Action;
use super::{Answer, App, AppError};

impl App {
    /// Every entry of `child`'s file with its envelope, its links (corrections, what it rests
    /// on) and, for each decision, the facts on record when it was recorded. Auditors, centre
    /// administrators and the staff of the file's centre; not volunteers, who see only their own
    /// entries (a decision's facts come from everyone's).
    pub async fn audit(&self, child: ChildId) -> Result<Answer<DecisionTrail>, AppError> {
        let access = self.guard_file(Action::ReadAudit, child).await?;
        let freshness = self.events_freshness().await?;
        let events = self.store.history(child).await?;
        let rules = self.follow_up_rules().await?;
        let trail = decision_trail(&events, &rules).ok_or(AppError::UnknownChild(child))?;
        self.log_reads(Action::ReadAudit, &[(child, access.centre)], access.grant)
            .await?;
        Ok(Answer {
            freshness,
            value: trail,
        })
    }
}
