//! Envelope metadata written with every event of a command: who recorded it, under which
//! idempotency key, why, and how it relates to other commands. The database adds what the client
//! must not choose: the event id, the global position and `recorded_at`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identifying::Identifying;
use crate::ids::{CentreId, IdError, IdempotencyKey, PersonId};
use crate::values::StaffRole;

/// The member of staff who recorded an entry, in which role and for which centre.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorder {
    pub person: PersonId,
    pub role: StaffRole,
    pub centre: CentreId,
}

/// Metadata shared by all events one command stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MetadataWire", into = "MetadataWire")]
pub struct RecordingMetadata {
    pub idempotency_key: IdempotencyKey,
    /// SHA-256 of the command as received: a retry must send the same command.
    pub command_digest: String,
    pub recorded_by: Recorder,
    /// Why the entry was recorded or changed, when the recorder gave a reason (free text).
    pub reason: Option<Identifying<String>>,
    /// Groups the commands of one piece of work; defaults to a fresh id per command.
    pub correlation_id: Uuid,
    /// The event or command that led to this one, when there is one.
    pub causation_id: Option<Uuid>,
}

/// The stored form: a flat JSON object of strings, which is what cqrs-es metadata is
/// (`HashMap<String, String>`).
#[derive(Serialize, Deserialize)]
struct MetadataWire {
    idempotency_key: String,
    command_digest: String,
    #[serde(rename = "recorded_by.person")]
    person: String,
    #[serde(rename = "recorded_by.role")]
    role: String,
    #[serde(rename = "recorded_by.centre")]
    centre: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    causation_id: Option<String>,
}

/// Stored metadata that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata field `{0}` is missing")]
    Missing(&'static str),
    #[error("metadata field `{field}` is invalid: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
}

fn invalid(field: &'static str, problem: impl ToString) -> MetadataError {
    MetadataError::Invalid {
        field,
        problem: problem.to_string(),
    }
}

impl TryFrom<MetadataWire> for RecordingMetadata {
    type Error = MetadataError;

    fn try_from(wire: MetadataWire) -> Result<Self, Self::Error> {
        fn id<T>(field: &'static str, r: Result<T, IdError>) -> Result<T, MetadataError> {
            r.map_err(|e| invalid(field, e))
        }
        let uuid = |field, s: &str| Uuid::parse_str(s).map_err(|e| invalid(field, e));
        Ok(Self {
            idempotency_key: id(
                "idempotency_key",
                IdempotencyKey::parse(wire.idempotency_key),
            )?,
            command_digest: wire.command_digest,
            recorded_by: Recorder {
                person: id("recorded_by.person", PersonId::parse(wire.person))?,
                role: serde_json::from_value(serde_json::Value::String(wire.role))
                    .map_err(|e| invalid("recorded_by.role", e))?,
                centre: id("recorded_by.centre", CentreId::parse(wire.centre))?,
            },
            reason: wire
                .reason
                .map(|r| Identifying::from_stored_text(&r).map_err(|e| invalid("reason", e)))
                .transpose()?,
            correlation_id: uuid("correlation_id", &wire.correlation_id)?,
            causation_id: wire
                .causation_id
                .map(|c| uuid("causation_id", &c))
                .transpose()?,
        })
    }
}

impl From<RecordingMetadata> for MetadataWire {
    fn from(m: RecordingMetadata) -> Self {
        Self {
            idempotency_key: m.idempotency_key.into(),
            command_digest: m.command_digest,
            person: m.recorded_by.person.into(),
            role: m.recorded_by.role.as_str().to_string(),
            centre: m.recorded_by.centre.into(),
            reason: m.reason.map(Identifying::into_inner),
            correlation_id: m.correlation_id.to_string(),
            causation_id: m.causation_id.map(|c| c.to_string()),
        }
    }
}

impl RecordingMetadata {
    /// The cqrs-es form, handed to the event store on commit.
    pub fn to_map(&self) -> HashMap<String, String> {
        let wire = MetadataWire::from(self.clone());
        let mut map = HashMap::with_capacity(8);
        map.insert("idempotency_key".into(), wire.idempotency_key);
        map.insert("command_digest".into(), wire.command_digest);
        map.insert("recorded_by.person".into(), wire.person);
        map.insert("recorded_by.role".into(), wire.role);
        map.insert("recorded_by.centre".into(), wire.centre);
        map.insert("correlation_id".into(), wire.correlation_id);
        if let Some(reason) = wire.reason {
            map.insert("reason".into(), reason);
        }
        if let Some(causation) = wire.causation_id {
            map.insert("causation_id".into(), causation);
        }
        map
    }

    /// Reads the cqrs-es form back.
    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, MetadataError> {
        let get = |key: &'static str| map.get(key).cloned().ok_or(MetadataError::Missing(key));
        MetadataWire {
            idempotency_key: get("idempotency_key")?,
            command_digest: get("command_digest")?,
            person: get("recorded_by.person")?,
            role: get("recorded_by.role")?,
            centre: get("recorded_by.centre")?,
            reason: map.get("reason").cloned(),
            correlation_id: get("correlation_id")?,
            causation_id: map.get("causation_id").cloned(),
        }
        .try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RecordingMetadata {
        RecordingMetadata {
            idempotency_key: IdempotencyKey::parse("k-1").unwrap(),
            command_digest: "abc".into(),
            recorded_by: Recorder {
                person: PersonId::parse("sw.gagnon").unwrap(),
                role: StaffRole::SocialWorker,
                centre: CentreId::parse("centre-sud").unwrap(),
            },
            reason: Some(Identifying::new("late entry from paper notes".into())),
            correlation_id: Uuid::nil(),
            causation_id: None,
        }
    }

    #[test]
    fn map_form_round_trips() {
        let m = sample();
        assert_eq!(RecordingMetadata::from_map(&m.to_map()).unwrap(), m);
    }

    #[test]
    fn json_form_equals_map_form() {
        let m = sample();
        let from_json: HashMap<String, String> =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(from_json, m.to_map());
    }

    #[test]
    fn missing_fields_are_named() {
        let mut map = sample().to_map();
        map.remove("recorded_by.role");
        assert_eq!(
            RecordingMetadata::from_map(&map).unwrap_err(),
            MetadataError::Missing("recorded_by.role")
        );
    }
}
