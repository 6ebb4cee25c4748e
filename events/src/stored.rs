//! `StoredEvent`: one event as read back from a store, with everything the store added. This is
//! what projections fold and what `history` shows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::ChildEvent;
use crate::ids::{ChildId, EventId};
use crate::metadata::RecordingMetadata;
use crate::values::ClinicalDate;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Global commit-order position across all children (per store).
    pub position: i64,
    pub child_id: ChildId,
    /// 1, 2, 3... within the child's stream, without gaps.
    pub sequence: u64,
    pub event_id: EventId,
    pub event_type: String,
    /// The schema version the event was stored with (before any upcasting).
    pub stored_version: String,
    /// When the database recorded the event (record time).
    pub recorded_at: DateTime<Utc>,
    pub metadata: RecordingMetadata,
    pub event: ChildEvent,
}

impl StoredEvent {
    /// When the event happened in the child's care (clinical time).
    pub fn occurred_on(&self) -> ClinicalDate {
        self.event.occurred_on()
    }
}
