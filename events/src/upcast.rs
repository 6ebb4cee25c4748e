//! Upcasters: pure functions that turn a payload stored under an old schema version into the
//! current shape, so events written years ago still load. The engine wraps them as cqrs-es
//! `EventUpcaster`s; here they are plain `Value -> Value` functions, testable without a store.
//!
//! Rules: an event's stored bytes are never rewritten; upcasting happens on every read. Each
//! schema change adds one `Upcaster` from the previous version and a stored fixture of the old
//! shape under `events/tests/fixtures/`.

use serde_json::{Map, Value};

use crate::event::current_schema_version;

/// Turns one schema version of one event type into the next.
pub struct Upcaster {
    pub event_type: &'static str,
    pub from_version: &'static str,
    pub to_version: &'static str,
    /// Receives and returns the whole stored payload (`{"EventType": {...}}`).
    pub upcast: fn(Value) -> Result<Value, UpcastError>,
}

/// Every upcaster this build knows, oldest first.
pub static UPCASTERS: &[Upcaster] = &[
    Upcaster {
        event_type: "ChildFileOpened",
        from_version: "1.0",
        to_version: "2.0",
        upcast: child_file_opened_v1_to_v2,
    },
    Upcaster {
        event_type: "ActionPlanAdopted",
        from_version: "1.0",
        to_version: "2.0",
        upcast: plan_adopted_v1_to_v2,
    },
    Upcaster {
        event_type: "ActionPlanRevised",
        from_version: "1.0",
        to_version: "2.0",
        upcast: plan_revised_v1_to_v2,
    },
    // Versions 1.1 only add optional fields (a participant's or contact's circle members, the
    // consent's member, a service's provider person); a 1.0 payload reads as it is.
    Upcaster {
        event_type: "AssessmentMeetingHeld",
        from_version: "1.0",
        to_version: "1.1",
        upcast: unchanged,
    },
    Upcaster {
        event_type: "ServiceStarted",
        from_version: "1.0",
        to_version: "1.1",
        upcast: unchanged,
    },
    Upcaster {
        event_type: "FamilyContactRecorded",
        from_version: "1.0",
        to_version: "1.1",
        upcast: unchanged,
    },
    Upcaster {
        event_type: "ConsentGiven",
        from_version: "1.0",
        to_version: "1.1",
        upcast: unchanged,
    },
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    #[error("unknown event type {0:?}: this build cannot read it")]
    UnknownEventType(String),
    #[error("no upcaster from version {version} of {event_type} to the current version {current}")]
    NoPath {
        event_type: String,
        version: String,
        current: &'static str,
    },
    #[error("stored {event_type} {version} payload is not in the expected shape: {problem}")]
    Malformed {
        event_type: String,
        version: String,
        problem: String,
    },
}

/// Whether a stored payload may need upcasting before it is read as the current type.
/// Corrections always may: the entry they carry has its own schema version.
pub fn needs_upcast(event_type: &str, stored_version: &str) -> bool {
    event_type == "EntryCorrected" || current_schema_version(event_type) != Some(stored_version)
}

/// Brings a stored payload to the current schema version of its type.
pub fn upcast_payload(
    event_type: &str,
    stored_version: &str,
    mut payload: Value,
) -> Result<Value, UpcastError> {
    let current = current_schema_version(event_type)
        .ok_or_else(|| UpcastError::UnknownEventType(event_type.to_string()))?;
    let mut version = stored_version.to_string();
    while version != current {
        let step = UPCASTERS
            .iter()
            .find(|u| u.event_type == event_type && u.from_version == version)
            .ok_or_else(|| UpcastError::NoPath {
                event_type: event_type.to_string(),
                version: version.clone(),
                current,
            })?;
        payload = (step.upcast)(payload)?;
        version = step.to_version.to_string();
    }
    if event_type == "EntryCorrected" {
        upcast_replacement(&mut payload)?;
    }
    Ok(payload)
}

/// A correction's replacement entry is upcast like a stored event of its own type.
fn upcast_replacement(payload: &mut Value) -> Result<(), UpcastError> {
    let Some(replaced) = payload
        .pointer_mut("/EntryCorrected/correction/replaced")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let version = replaced
        .get("schema_version")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(replacement) = replaced.get_mut("replacement") else {
        return Ok(());
    };
    let Some(inner_type) = replacement
        .as_object()
        .and_then(|o| o.keys().next().cloned())
    else {
        return Ok(());
    };
    if needs_upcast(&inner_type, &version) {
        *replacement = upcast_payload(&inner_type, &version, replacement.take())?;
        if let Some(current) = current_schema_version(&inner_type) {
            replaced.insert("schema_version".into(), Value::String(current.into()));
        }
    }
    Ok(())
}

fn body_of<'a>(
    payload: &'a mut Value,
    event_type: &str,
    version: &str,
) -> Result<&'a mut Map<String, Value>, UpcastError> {
    payload
        .get_mut(event_type)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| UpcastError::Malformed {
            event_type: event_type.to_string(),
            version: version.to_string(),
            problem: format!("expected an object under {event_type:?}"),
        })
}

/// ChildFileOpened 1.0 had the clinical date as `received_on` and the referral as two loose
/// fields, `referral_source` (free text such as "École Saint-Nom" or "DPJ") and `reason`.
/// 2.0 names the date `occurred_on` like every other event and groups the request as
/// `request: {source, source_detail, reason}` with `source` from a closed vocabulary; the
/// original free text is kept as `source_detail`.
fn child_file_opened_v1_to_v2(mut payload: Value) -> Result<Value, UpcastError> {
    let body = body_of(&mut payload, "ChildFileOpened", "1.0")?;
    let malformed = |problem: &str| UpcastError::Malformed {
        event_type: "ChildFileOpened".into(),
        version: "1.0".into(),
        problem: problem.to_string(),
    };
    let received_on = body
        .remove("received_on")
        .ok_or_else(|| malformed("missing received_on"))?;
    let source_text = body
        .remove("referral_source")
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| malformed("missing referral_source"))?;
    let reason = body
        .remove("reason")
        .ok_or_else(|| malformed("missing reason"))?;
    let source = classify_referral_source(&source_text);
    let mut request = Map::new();
    request.insert("source".into(), Value::String(source.into()));
    if source_text.trim() != source {
        request.insert(
            "source_detail".into(),
            Value::String(source_text.trim().into()),
        );
    }
    request.insert("reason".into(), reason);
    body.insert("occurred_on".into(), received_on);
    body.insert("request".into(), Value::Object(request));
    Ok(payload)
}

/// A version that only added optional fields: the older payload is already a valid newer one.
fn unchanged(payload: Value) -> Result<Value, UpcastError> {
    Ok(payload)
}

fn plan_adopted_v1_to_v2(payload: Value) -> Result<Value, UpcastError> {
    plan_v1_to_v2(payload, "ActionPlanAdopted")
}

fn plan_revised_v1_to_v2(payload: Value) -> Result<Value, UpcastError> {
    plan_v1_to_v2(payload, "ActionPlanRevised")
}

/// Plan versions 1.0 named one responsible role per goal (`"responsible": "family"`); 2.0 shares
/// responsibility among several parties (`"responsible": [{"role": "family"}]`).
fn plan_v1_to_v2(mut payload: Value, event_type: &str) -> Result<Value, UpcastError> {
    let malformed = |problem: String| UpcastError::Malformed {
        event_type: event_type.into(),
        version: "1.0".into(),
        problem,
    };
    let body = body_of(&mut payload, event_type, "1.0")?;
    let goals = body
        .get_mut("goals")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| malformed("missing goals".into()))?;
    for (i, goal) in goals.iter_mut().enumerate() {
        let goal = goal
            .as_object_mut()
            .ok_or_else(|| malformed(format!("goal {} is not an object", i + 1)))?;
        let role = goal
            .remove("responsible")
            .filter(Value::is_string)
            .ok_or_else(|| malformed(format!("goal {} has no responsible role", i + 1)))?;
        let mut party = Map::new();
        party.insert("role".into(), role);
        goal.insert(
            "responsible".into(),
            Value::Array(vec![Value::Object(party)]),
        );
    }
    Ok(payload)
}

/// Maps the free-text referral sources of schema 1.0 onto the `ReferralSource` vocabulary.
fn classify_referral_source(text: &str) -> &'static str {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&["youth protection", "dpj", "protection de la jeunesse"]) {
        "youth_protection"
    } else if has(&["school", "école", "ecole"]) {
        "school"
    } else if has(&["clsc", "csss", "cisss", "ciusss", "health"]) {
        "health_social_services"
    } else if has(&["daycare", "cpe", "garderie"]) {
        "daycare"
    } else if has(&[
        "physician",
        "doctor",
        "médecin",
        "medecin",
        "pediatr",
        "pédiatr",
    ]) {
        "physician"
    } else if has(&["community", "communautaire", "organisme"]) {
        "community_organisation"
    } else if has(&[
        "family", "famille", "parent", "mother", "father", "mère", "père",
    ]) {
        "family"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn current_payloads_are_left_alone() {
        assert!(!needs_upcast("FamilyContactRecorded", "1.1"));
        assert!(needs_upcast("FamilyContactRecorded", "1.0"));
        assert!(needs_upcast("ChildFileOpened", "1.0"));
        assert!(!needs_upcast("ChildFileOpened", "2.0"));
    }

    #[test]
    fn referral_sources_are_classified() {
        assert_eq!(classify_referral_source("DPJ Montréal"), "youth_protection");
        assert_eq!(classify_referral_source("École Saint-Nom"), "school");
        assert_eq!(
            classify_referral_source("CLSC Hochelaga"),
            "health_social_services"
        );
        assert_eq!(classify_referral_source("grand-maman"), "other");
    }

    #[test]
    fn an_unknown_version_has_no_path() {
        let err = upcast_payload("ChildFileOpened", "0.9", json!({})).unwrap_err();
        assert!(matches!(err, UpcastError::NoPath { .. }), "{err}");
    }

    #[test]
    fn a_plan_1_0_shares_its_single_responsible_role() {
        let v1 = json!({"ActionPlanRevised": {"occurred_on": "2024-03-02", "plan_version": 2,
            "meeting_number": 1, "goals": [{"goal_id": "0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10",
            "domain": "school_learning", "description": "reads at grade level",
            "responsible": "family", "target_on": "2024-09-01"}]}});
        let v2 = upcast_payload("ActionPlanRevised", "1.0", v1).unwrap();
        assert_eq!(
            v2.pointer("/ActionPlanRevised/goals/0/responsible"),
            Some(&json!([{"role": "family"}]))
        );
        let bad = json!({"ActionPlanAdopted": {"goals": [{"goal_id": "x"}]}});
        let err = upcast_payload("ActionPlanAdopted", "1.0", bad).unwrap_err();
        assert!(
            err.to_string().contains("goal 1 has no responsible role"),
            "{err}"
        );
    }

    #[test]
    fn every_upcaster_chain_reaches_the_current_version() {
        for u in UPCASTERS {
            let mut version = u.from_version;
            while let Some(step) = UPCASTERS
                .iter()
                .find(|s| s.event_type == u.event_type && s.from_version == version)
            {
                version = step.to_version;
            }
            assert_eq!(
                Some(version),
                current_schema_version(u.event_type),
                "{}",
                u.event_type
            );
        }
    }

    #[test]
    fn a_malformed_old_payload_is_reported() {
        let err =
            upcast_payload("ChildFileOpened", "1.0", json!({"ChildFileOpened": {}})).unwrap_err();
        assert!(err.to_string().contains("missing received_on"), "{err}");
    }
}
