//! `ChildHistory`: one child's stored events, the input of every per-child read model. Folding is
//! `apply`, one event at a time in sequence order; an event applied twice is ignored, so a read
//! model can never count an event twice. The two time axes are filters on it:
//!
//! - record time (`known_at`): only what had been recorded by then — corrections included;
//! - clinical time (`as_of`, on the derived views): only what had happened by then, as known.

use chrono::{DateTime, Utc};
use lifecourse_events::*;

use crate::lifecycle::Lifecycle;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildHistory {
    events: Vec<StoredEvent>,
    /// The file's identifying data was erased: every event is held without it, whatever the
    /// store could still open.
    erased: bool,
}

/// How a later correction changed an entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CorrectionMark {
    /// The sequence number of the `EntryCorrected` entry.
    pub by_sequence: u64,
    pub corrected_on: ClinicalDate,
    pub reason: Identifying<String>,
    /// True when the entry was entered in error and no longer counts.
    pub entered_in_error: bool,
    /// What the correction changed, field by field (empty when entered in error).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

/// One entry as it counts now: the stored event, the fact it records after corrections, and the
/// correction that changed it, if any.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub stored: &'a StoredEvent,
    pub event: &'a ChildEvent,
}

impl Entry<'_> {
    pub fn sequence(&self) -> u64 {
        self.stored.sequence
    }

    pub fn occurred_on(&self) -> ClinicalDate {
        self.event.occurred_on()
    }
}

/// `event` without any identifying value: its fields and the recorder's reason read as erased.
pub fn without_identity(event: &StoredEvent) -> StoredEvent {
    let mut erased = StoredEvent {
        event: lifecourse_events::identifying::without_identity(&event.event),
        ..event.clone()
    };
    if erased.metadata.reason.is_some() {
        erased.metadata.reason = Some(Identifying::erased());
    }
    erased
}

/// A file's events as every reader must see them: once the file holds an erasure, without any
/// identifying value, whatever the store could still open.
pub fn as_shown(mut events: Vec<StoredEvent>) -> Vec<StoredEvent> {
    if events
        .iter()
        .any(|e| matches!(e.event, ChildEvent::IdentityErased(_)))
    {
        for e in &mut events {
            *e = without_identity(e);
        }
    }
    events
}

impl ChildHistory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_events(events: impl IntoIterator<Item = StoredEvent>) -> Self {
        let mut history = Self::new();
        for event in events {
            history.apply_owned(event);
        }
        history
    }

    /// Adds the next event of the stream. Events at or below the last applied sequence are
    /// ignored: applying an event twice changes nothing.
    pub fn apply(&mut self, event: &StoredEvent) {
        if self.is_new(event) {
            self.apply_owned(event.clone());
        }
    }

    pub fn apply_owned(&mut self, event: StoredEvent) {
        if !self.is_new(&event) {
            return;
        }
        if matches!(event.event, ChildEvent::IdentityErased(_)) && !self.erased {
            self.erased = true;
            for e in &mut self.events {
                *e = without_identity(e);
            }
        }
        if self.erased {
            self.events.push(without_identity(&event));
        } else {
            self.events.push(event);
        }
    }

    fn is_new(&self, event: &StoredEvent) -> bool {
        self.last_sequence() < event.sequence
    }

    pub fn events(&self) -> &[StoredEvent] {
        &self.events
    }

    pub fn child_id(&self) -> Option<ChildId> {
        self.events.first().map(|e| e.child_id)
    }

    pub fn last_sequence(&self) -> u64 {
        self.events.last().map_or(0, |e| e.sequence)
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The file as the record showed it at `at`: only entries recorded by then.
    pub fn known_at(&self, at: DateTime<Utc>) -> ChildHistory {
        Self {
            events: self
                .events
                .iter()
                .take_while(|e| e.recorded_at <= at)
                .cloned()
                .collect(),
            erased: self.erased,
        }
    }

    /// The entries as they now count (corrections applied, voided entries gone), in clinical
    /// order: by the date they happened, then by sequence.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut entries: Vec<Entry<'_>> = effective_entries(self.events.iter().map(|e| &e.event))
            .into_iter()
            .map(|(sequence, event)| Entry {
                stored: &self.events[(sequence - 1) as usize],
                event,
            })
            .collect();
        entries.sort_by_key(|e| (e.occurred_on(), e.sequence()));
        entries
    }

    /// The entries that count and had happened by `as_of` (everything when `None`).
    pub fn entries_as_of(&self, as_of: Option<ClinicalDate>) -> Vec<Entry<'_>> {
        let mut entries = self.entries();
        if let Some(as_of) = as_of {
            entries.retain(|e| e.occurred_on() <= as_of);
        }
        entries
    }

    /// The file's lifecycle on `as_of` (clinical time; everything when `None`).
    pub fn lifecycle(&self, as_of: Option<ClinicalDate>) -> Lifecycle {
        Lifecycle::of(
            self.entries_as_of(as_of)
                .iter()
                .map(|e| (e.sequence(), e.event)),
        )
    }

    /// The centre responsible for the file now: where it was opened, or transferred to last.
    pub fn centre(&self) -> Option<CentreId> {
        self.lifecycle(None).centre
    }

    /// For each corrected entry (by sequence), its latest correction.
    pub fn corrections(&self) -> std::collections::BTreeMap<u64, CorrectionMark> {
        let mut changes = self.correction_changes();
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                ChildEvent::EntryCorrected(c) => Some((
                    c.corrects_sequence,
                    CorrectionMark {
                        by_sequence: e.sequence,
                        corrected_on: c.occurred_on,
                        reason: c.reason.clone(),
                        entered_in_error: matches!(c.correction, Correction::EnteredInError),
                        changes: changes.remove(&e.sequence).unwrap_or_default(),
                    },
                )),
                _ => None,
            })
            .collect()
    }

    /// For each correction that replaced an entry (by the correction's own sequence), what it
    /// changed in the entry as it stood before: the original, or an earlier replacement.
    pub fn correction_changes(&self) -> std::collections::BTreeMap<u64, Vec<FieldChange>> {
        let mut standing: std::collections::HashMap<u64, &ChildEvent> =
            std::collections::HashMap::new();
        let mut out = std::collections::BTreeMap::new();
        for e in &self.events {
            if let ChildEvent::EntryCorrected(c) = &e.event {
                if let Correction::Replaced { replacement, .. } = &c.correction {
                    let before = standing.get(&c.corrects_sequence).copied().or_else(|| {
                        self.events
                            .iter()
                            .find(|o| o.sequence == c.corrects_sequence)
                            .map(|o| &o.event)
                    });
                    if let Some(before) = before {
                        out.insert(e.sequence, changes(before, replacement));
                    }
                    standing.insert(c.corrects_sequence, replacement.as_ref());
                }
            }
        }
        out
    }
}
