//! The decision trail: a child's whole file as an auditor reads it. Every entry in sequence order
//! with its envelope (who recorded it, in which role and centre, when, why, under which key), in
//! words; corrections linked both ways with what they changed; the entry each one rests on (its
//! `causation_id`, resolved to an entry of the same file); and, for each decision, the facts on
//! record when it was recorded — the needs at the last meeting, the referrals open, the follow-up
//! gaps open on its date — so the auditor sees what the team knew when it decided.
//!
//! "On record when it was recorded" is the file's entries before the decision in sequence order:
//! within one stream, sequence order is record order, so an entry recorded later (even one dated
//! back before the decision) and a later correction are left out, and a correction recorded
//! before the decision counts.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::describe::{Description, Names};
use crate::follow_up::{expectations, gaps_on, Gap};
use crate::history::ChildHistory;
use crate::rules::FollowUpRules;

/// One child's decision trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionTrail {
    pub child_id: ChildId,
    /// Every stored entry, in sequence order.
    pub entries: Vec<TrailEntry>,
}

/// One stored entry with its envelope, its links and, for a decision, the facts it rested on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailEntry {
    pub sequence: u64,
    pub position: i64,
    pub event_id: EventId,
    pub event_type: String,
    /// When it happened (clinical time).
    pub occurred_on: ClinicalDate,
    /// When the database recorded it (record time).
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Recorder,
    pub reason: Option<Identifying<String>>,
    pub idempotency_key: IdempotencyKey,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// The entry in words, as it was recorded.
    pub what: Description,
    /// The entry of this file whose event id is `causation_id`; `None` when there is no
    /// causation id or it names no entry of this file.
    pub rests_on: Option<EntryRef>,
    /// For a correction: the entry it corrects and what it changed.
    pub corrects: Option<CorrectionOf>,
    /// The corrections recorded later that changed this entry, in sequence order.
    pub corrected_by: Vec<u64>,
    /// For a decision: what was on record when it was recorded.
    pub decision: Option<DecisionFacts>,
}

/// Another entry of the file, named by sequence and in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRef {
    pub sequence: u64,
    pub event_type: String,
    pub what: Description,
}

/// What a correction did to the entry it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionOf {
    pub sequence: u64,
    pub event_type: String,
    /// The entry no longer counts.
    pub entered_in_error: bool,
    /// Field by field, against the entry as it stood before (empty when entered in error).
    pub changes: Vec<FieldChange>,
}

/// The decisions an auditor asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    InitialAssessment,
    PlanAdopted,
    PlanRevised,
    ReferralMade,
    LegalInterventionOpened,
    FileClosed,
    FileTransferred,
    IdentityErased,
}

impl DecisionKind {
    /// The decision an entry records, if it records one.
    pub fn of(event: &ChildEvent) -> Option<Self> {
        use ChildEvent::*;
        Some(match event {
            InitialAssessmentCompleted(_) => Self::InitialAssessment,
            ActionPlanAdopted(_) => Self::PlanAdopted,
            ActionPlanRevised(_) => Self::PlanRevised,
            ReferralMade(_) => Self::ReferralMade,
            LegalInterventionOpened(_) => Self::LegalInterventionOpened,
            FileClosed(_) => Self::FileClosed,
            FileTransferred(_) => Self::FileTransferred,
            IdentityErased(_) => Self::IdentityErased,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InitialAssessment => "initial assessment",
            Self::PlanAdopted => "plan adopted",
            Self::PlanRevised => "plan revised",
            Self::ReferralMade => "referral made",
            Self::LegalInterventionOpened => "legal intervention opened",
            Self::FileClosed => "file closed",
            Self::FileTransferred => "file transferred",
            Self::IdentityErased => "identifying data erased",
        }
    }
}

/// What was on record when a decision was recorded, judged on its clinical date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionFacts {
    pub kind: DecisionKind,
    /// How many entries were on record (the sequences before the decision's).
    pub entries_on_record: u64,
    /// The last assessment meeting on record, dated on or before the decision.
    pub last_meeting: Option<MeetingFacts>,
    /// The referrals on record, made on or before the decision's date and still open then.
    pub open_referrals: Vec<OpenReferral>,
    /// The follow-up gaps open on the decision's date, as the record stood, most overdue first.
    pub open_gaps: Vec<Gap>,
}

/// A meeting's picture of the child's needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingFacts {
    pub sequence: u64,
    pub occurred_on: ClinicalDate,
    pub meeting_number: u32,
    pub needs: Vec<AssessedNeed>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedNeed {
    pub domain: NeedDomain,
    pub level: NeedLevel,
}

/// A referral still open when a decision was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReferral {
    /// The entry that made it.
    pub sequence: u64,
    pub referral_id: ReferralId,
    pub resource: ExternalResource,
    pub made_on: ClinicalDate,
    /// An interim outcome on record by then (`waiting`), if any.
    pub latest: Option<ReferralOutcome>,
}

/// The decision trail of one child's file, from its stored events in sequence order.
pub fn decision_trail(events: &[StoredEvent], rules: &FollowUpRules) -> Option<DecisionTrail> {
    let child_id = events.first()?.child_id;
    let history = ChildHistory::from_events(events.iter().cloned());
    let events = history.events();
    let effective = effective_entries(events.iter().map(|e| &e.event));
    // What any entry ever called things, so a voided entry still reads by name.
    let names = Names::of(
        events
            .iter()
            .map(|e| &e.event)
            .chain(effective.iter().map(|(_, e)| *e)),
    );
    let by_event_id: HashMap<Uuid, &StoredEvent> =
        events.iter().map(|e| (e.event_id.0, e)).collect();
    let changes = history.correction_changes();
    let mut corrected_by: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for e in events {
        if let ChildEvent::EntryCorrected(c) = &e.event {
            corrected_by
                .entry(c.corrects_sequence)
                .or_default()
                .push(e.sequence);
        }
    }
    let entry_ref = |e: &StoredEvent| EntryRef {
        sequence: e.sequence,
        event_type: e.event_type.clone(),
        what: names.describe(&e.event),
    };
    let entries = events
        .iter()
        .map(|e| {
            let m = &e.metadata;
            TrailEntry {
                sequence: e.sequence,
                position: e.position,
                event_id: e.event_id,
                event_type: e.event_type.clone(),
                occurred_on: e.occurred_on(),
                recorded_at: e.recorded_at,
                recorded_by: m.recorded_by.clone(),
                reason: m.reason.clone(),
                idempotency_key: m.idempotency_key.clone(),
                correlation_id: m.correlation_id,
                causation_id: m.causation_id,
                what: names.describe(&e.event),
                rests_on: m
                    .causation_id
                    .and_then(|id| by_event_id.get(&id))
                    .map(|cause| entry_ref(cause)),
                corrects: match &e.event {
                    ChildEvent::EntryCorrected(c) => Some(CorrectionOf {
                        sequence: c.corrects_sequence,
                        event_type: c.corrected_event_type.clone(),
                        entered_in_error: matches!(c.correction, Correction::EnteredInError),
                        changes: changes.get(&e.sequence).cloned().unwrap_or_default(),
                    }),
                    _ => None,
                },
                corrected_by: corrected_by.get(&e.sequence).cloned().unwrap_or_default(),
                decision: DecisionKind::of(&e.event)
                    .map(|kind| decision_facts(&history, e, kind, rules)),
            }
        })
        .collect();
    Some(DecisionTrail { child_id, entries })
}

/// The facts on record when `decision` was recorded: the entries before it in sequence order.
fn decision_facts(
    history: &ChildHistory,
    decision: &StoredEvent,
    kind: DecisionKind,
    rules: &FollowUpRules,
) -> DecisionFacts {
    let on_record = ChildHistory::from_events(
        history
            .events()
            .iter()
            .take_while(|e| e.sequence < decision.sequence)
            .cloned(),
    );
    let on = decision.occurred_on();
    let entries = on_record.entries_as_of(Some(on));
    let last_meeting = entries.iter().rev().find_map(|entry| match entry.event {
        ChildEvent::AssessmentMeetingHeld(m) => Some(MeetingFacts {
            sequence: entry.sequence(),
            occurred_on: m.occurred_on,
            meeting_number: m.meeting_number,
            needs: m
                .needs
                .iter()
                .map(|n| AssessedNeed {
                    domain: n.domain,
                    level: n.level,
                })
                .collect(),
        }),
        _ => None,
    });
    let made_by: HashMap<ReferralId, u64> = entries
        .iter()
        .filter_map(|entry| match entry.event {
            ChildEvent::ReferralMade(r) => Some((r.referral_id, entry.sequence())),
            _ => None,
        })
        .collect();
    let lifecycle = on_record.lifecycle(Some(on));
    let mut open_referrals: Vec<OpenReferral> = lifecycle
        .open_referrals()
        .map(|course| OpenReferral {
            sequence: made_by
                .get(&course.start.referral_id)
                .copied()
                .unwrap_or_default(),
            referral_id: course.start.referral_id,
            resource: course.start.resource,
            made_on: course.began_on(),
            latest: course.latest.as_ref().map(|news| news.how),
        })
        .collect();
    open_referrals.sort_by_key(|r| (r.made_on, r.sequence));
    DecisionFacts {
        kind,
        entries_on_record: on_record.last_sequence(),
        last_meeting,
        open_referrals,
        open_gaps: gaps_on(&expectations(&on_record, rules), on),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(sequence: u64, event: ChildEvent, causation: Option<Uuid>) -> StoredEvent {
        StoredEvent {
            position: 100 + sequence as i64,
            child_id: ChildId(Uuid::from_u128(1)),
            sequence,
            event_id: EventId(Uuid::from_u128(0xe0 + sequence as u128)),
            event_type: serde_json::to_value(&event)
                .ok()
                .and_then(|v| v.as_object().and_then(|o| o.keys().next().cloned()))
                .unwrap_or_default(),
            stored_version: "1.0".into(),
            recorded_at: DateTime::from_timestamp(1_700_000_000 + sequence as i64 * 60, 0).unwrap(),
            metadata: RecordingMetadata {
                idempotency_key: IdempotencyKey::parse(format!("k-{sequence}")).unwrap(),
                command_digest: "digest".into(),
                recorded_by: Recorder {
                    person: PersonId::parse("md1@centre-sud").unwrap(),
                    role: StaffRole::Doctor,
                    centre: CentreId::parse("centre-sud").unwrap(),
                },
                reason: None,
                correlation_id: Uuid::from_u128(0xc0 + sequence as u128),
                causation_id: causation,
            },
            event,
        }
    }

    fn date(s: &str) -> ClinicalDate {
        s.parse().unwrap()
    }

    fn opened() -> ChildEvent {
        ChildEvent::ChildFileOpened(ChildFileOpened {
            occurred_on: date("2024-03-01"),
            centre: CentreId::parse("centre-sud").unwrap(),
            child: ChildIdentity {
                given_name: "Léa".into(),
                family_name: "Tremblay".into(),
                birth_date: Identifying::new(date("2017-05-10")),
                address: None,
                phone: None,
            },
            request: Request {
                source: ReferralSource::School,
                source_detail: None,
                reason: "language delay".into(),
            },
        })
    }

    fn referral(on: &str, id: u128) -> ChildEvent {
        ChildEvent::ReferralMade(ReferralMade {
            occurred_on: date(on),
            referral_id: ReferralId(Uuid::from_u128(id)),
            resource: ExternalResource::Dentistry,
            organisation: None,
            expected_outcome_by: None,
            reason: None,
        })
    }

    fn seen(on: &str, id: u128) -> ChildEvent {
        ChildEvent::ReferralOutcomeRecorded(ReferralOutcomeRecorded {
            occurred_on: date(on),
            referral_id: ReferralId(Uuid::from_u128(id)),
            outcome: ReferralOutcome::Seen,
            note: None,
        })
    }

    #[test]
    fn a_causation_id_resolves_to_the_entry_with_that_event_id() {
        let events = vec![
            stored(1, opened(), None),
            stored(2, referral("2024-03-05", 7), None),
            // The outcome rests on the referral: its causation id is #2's event id.
            stored(3, seen("2024-03-20", 7), Some(Uuid::from_u128(0xe2))),
            // A causation id naming no entry of this file resolves to nothing.
            stored(4, seen("2024-03-21", 7), Some(Uuid::from_u128(0xdead))),
        ];
        let trail = decision_trail(&events, &FollowUpRules::default()).unwrap();
        let rests_on: Vec<Option<(u64, &str)>> = trail
            .entries
            .iter()
            .map(|e| {
                e.rests_on
                    .as_ref()
                    .map(|r| (r.sequence, r.event_type.as_str()))
            })
            .collect();
        assert_eq!(rests_on, vec![None, None, Some((2, "ReferralMade")), None]);
        assert_eq!(trail.entries[3].causation_id, Some(Uuid::from_u128(0xdead)));
        assert_eq!(
            trail.entries[2].rests_on.as_ref().unwrap().what.text,
            "referral made: dentistry"
        );
    }

    #[test]
    fn a_decision_sees_only_the_entries_recorded_before_it() {
        let events = vec![
            stored(1, opened(), None),
            stored(2, referral("2024-03-05", 7), None),
            stored(3, referral("2024-03-10", 8), None),
            // Recorded after #3 but dated before it: not on record when #3 was decided.
            stored(4, referral("2024-03-02", 9), None),
        ];
        let trail = decision_trail(&events, &FollowUpRules::default()).unwrap();
        let facts = trail.entries[2].decision.as_ref().unwrap();
        assert_eq!(facts.kind, DecisionKind::ReferralMade);
        assert_eq!(facts.entries_on_record, 2);
        let open: Vec<(u64, ClinicalDate)> = facts
            .open_referrals
            .iter()
            .map(|r| (r.sequence, r.made_on))
            .collect();
        assert_eq!(open, vec![(2, date("2024-03-05"))]);
        assert!(trail.entries[0].decision.is_none());
    }
}
