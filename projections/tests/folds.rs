//! The folds on plain values: events in, views out, no store.

use chrono::{DateTime, TimeZone, Utc};
use lifecourse_events::*;
use lifecourse_projections::*;
use proptest::prelude::*;
use uuid::Uuid;

fn day(s: &str) -> ClinicalDate {
    s.parse().unwrap()
}

fn at(month: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, month, d, 12, 0, 0).unwrap()
}

fn stored(
    child: ChildId,
    sequence: u64,
    recorded_at: DateTime<Utc>,
    event: ChildEvent,
) -> StoredEvent {
    StoredEvent {
        position: sequence as i64,
        child_id: child,
        sequence,
        event_id: EventId(Uuid::from_u128(u128::from(sequence))),
        event_type: event.event_type().to_string(),
        stored_version: event.schema_version().to_string(),
        recorded_at,
        metadata: RecordingMetadata {
            idempotency_key: IdempotencyKey::parse(format!("k{sequence}")).unwrap(),
            command_digest: String::new(),
            recorded_by: Recorder {
                person: PersonId::parse("sw1").unwrap(),
                role: StaffRole::SocialWorker,
                centre: CentreId::parse("centre-sud").unwrap(),
            },
            reason: None,
            correlation_id: Uuid::nil(),
            causation_id: None,
        },
        event,
    }
}

fn opened(on: &str) -> ChildEvent {
    ChildEvent::ChildFileOpened(ChildFileOpened {
        occurred_on: day(on),
        centre: CentreId::parse("centre-sud").unwrap(),
        child: ChildIdentity {
            given_name: "Léa".into(),
            family_name: "Tremblay".into(),
            birth_date: Identifying::new(day("2017-05-10")),
            address: None,
            phone: None,
        },
        request: Request {
            source: ReferralSource::School,
            source_detail: None,
            reason: "absences".into(),
        },
    })
}

fn accepted(on: &str) -> ChildEvent {
    ChildEvent::InitialAssessmentCompleted(InitialAssessmentCompleted {
        occurred_on: day(on),
        lives_in_territory: true,
        other_services_in_place: false,
        family_situation: None,
        decision: InitialDecision::Accepted,
    })
}

fn contact(on: &str) -> ChildEvent {
    ChildEvent::FamilyContactRecorded(FamilyContactRecorded {
        occurred_on: day(on),
        mode: ContactMode::Phone,
        with: ContactWith::Child,
        members: vec![],
        note: None,
    })
}

/// Opened 1 March, accepted 4 March (both recorded in March); a contact of 20 March recorded
/// only on 10 May.
fn late_march_contact() -> ChildHistory {
    let child = ChildId(Uuid::from_u128(7));
    ChildHistory::from_events([
        stored(child, 1, at(3, 1), opened("2024-03-01")),
        stored(child, 2, at(3, 4), accepted("2024-03-04")),
        stored(child, 3, at(5, 10), contact("2024-03-20")),
    ])
}

#[test]
fn a_late_entry_counts_as_of_march_but_not_in_the_april_record() {
    let history = late_march_contact();
    let march = Trajectory::from_history(&history, Some(day("2024-03-31")));
    assert_eq!(march.timeline.len(), 3, "as of March, as known today");
    let april_record =
        Trajectory::from_history(&history.known_at(at(4, 15)), Some(day("2024-03-31")));
    assert_eq!(
        april_record.timeline.len(),
        2,
        "the record in April did not have it yet"
    );

    // The worklist as recorded in April showed the contact gap (no contact since acceptance on
    // 4 March, due 3 May); today's knowledge says the contact of 20 March restarted the 60-day
    // clock. Both show the missing first meeting (accepted 4 March, due 3 April).
    let rules = FollowUpRules::default();
    let worklist = |h: &ChildHistory| -> Vec<(FollowUpRule, ClinicalDate)> {
        gaps_on(&expectations(h, &rules), day("2024-05-05"))
            .into_iter()
            .map(|g| (g.rule, g.due_on))
            .collect()
    };
    assert_eq!(
        worklist(&history.known_at(at(4, 15))),
        vec![
            (FollowUpRule::FirstMeeting, day("2024-04-03")),
            (FollowUpRule::FamilyContact, day("2024-05-03"))
        ]
    );
    assert_eq!(
        worklist(&history),
        vec![(FollowUpRule::FirstMeeting, day("2024-04-03"))]
    );
}

#[test]
fn applying_an_event_twice_changes_nothing() {
    let history = late_march_contact();
    let mut again = history.clone();
    for e in history.events() {
        again.apply(e);
    }
    assert_eq!(again, history);
}

proptest! {
    /// However a history is delivered — in pieces, with repeats — the views are those of the
    /// whole history applied once.
    #[test]
    fn views_do_not_depend_on_how_events_are_delivered(repeats in prop::collection::vec(0usize..3, 3)) {
        let whole = late_march_contact();
        let mut delivered = ChildHistory::new();
        for (e, times) in whole.events().iter().zip(&repeats) {
            for _ in 0..=*times {
                delivered.apply(e);
            }
        }
        let rules = FollowUpRules::default();
        prop_assert_eq!(Trajectory::from_history(&delivered, None), Trajectory::from_history(&whole, None));
        prop_assert_eq!(CurrentPlan::from_history(&delivered, &rules, None), CurrentPlan::from_history(&whole, &rules, None));
        prop_assert_eq!(expectations(&delivered, &rules), expectations(&whole, &rules));
    }
}
