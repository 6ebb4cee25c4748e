//! Events stored under an old schema version still load as the current type.

use lifecourse_events::upcast::{needs_upcast, upcast_payload};
use lifecourse_events::*;

/// A `ChildFileOpened` as schema 1.0 stored it: `received_on` and a free-text `referral_source`.
pub const V1_FIXTURE: &str = include_str!("fixtures/child_file_opened_v1.json");

#[test]
fn a_stored_child_file_opened_1_0_loads_as_the_current_type() {
    let row: serde_json::Value = serde_json::from_str(V1_FIXTURE).unwrap();
    let (event_type, version) = (
        row["event_type"].as_str().unwrap(),
        row["event_version"].as_str().unwrap(),
    );
    assert!(needs_upcast(event_type, version));
    let current = upcast_payload(event_type, version, row["payload"].clone()).unwrap();
    let event: ChildEvent = serde_json::from_value(current).unwrap();
    let ChildEvent::ChildFileOpened(opened) = event else {
        panic!("expected ChildFileOpened, got {event:?}")
    };
    assert_eq!(
        opened.occurred_on,
        ClinicalDate::from_ymd(2019, 9, 12).unwrap()
    );
    assert_eq!(opened.request.source, ReferralSource::School);
    assert_eq!(
        opened
            .request
            .source_detail
            .as_ref()
            .map(|d| d.expose().as_str()),
        Some("École Saint-Nom-de-Jésus")
    );
    assert_eq!(
        opened.request.reason.expose(),
        "absences and hunger at school"
    );
    assert_eq!(opened.child.given_name.expose(), "Zoé");
    assert_eq!(
        *opened.child.birth_date.expose(),
        ClinicalDate::from_ymd(2013, 4, 2).unwrap()
    );
    let metadata: RecordingMetadata = serde_json::from_value(row["metadata"].clone()).unwrap();
    assert_eq!(metadata.recorded_by.role, StaffRole::SocialWorker);
}

#[test]
fn a_correction_carrying_an_old_entry_upcasts_the_entry_too() {
    let row: serde_json::Value = serde_json::from_str(V1_FIXTURE).unwrap();
    let correction = serde_json::json!({"EntryCorrected": {
        "occurred_on": "2019-09-20",
        "corrects_sequence": 1,
        "corrected_event_type": "ChildFileOpened",
        "reason": "wrong school",
        "correction": {"replaced": {"schema_version": "1.0", "replacement": row["payload"]}}
    }});
    let current = upcast_payload("EntryCorrected", "1.0", correction).unwrap();
    let event: ChildEvent = serde_json::from_value(current).unwrap();
    let ChildEvent::EntryCorrected(c) = event else {
        panic!()
    };
    let Correction::Replaced {
        schema_version,
        replacement,
    } = c.correction
    else {
        panic!()
    };
    assert_eq!(schema_version, "2.0");
    assert!(
        matches!(*replacement, ChildEvent::ChildFileOpened(o) if o.request.source == ReferralSource::School)
    );
}
