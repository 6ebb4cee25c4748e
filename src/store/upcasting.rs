//! The catalogue's pure upcasters (`lifecourse_events::upcast`) as a cqrs-es `EventUpcaster`, so
//! the crates' own read path (`load_events`) sees current-version payloads too.

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use lifecourse_events::{current_schema_version, upcast};

pub struct CatalogueUpcaster;

impl EventUpcaster for CatalogueUpcaster {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        upcast::needs_upcast(event_type, event_version)
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        match upcast::upcast_payload(
            &event.event_type,
            &event.event_version,
            event.payload.clone(),
        ) {
            Ok(payload) => {
                event.payload = payload;
                if let Some(current) = current_schema_version(&event.event_type) {
                    event.event_version = current.to_string();
                }
            }
            // The trait has no error channel: leave the payload as stored, and let reading it as
            // the current type fail with a deserialisation error that names the event.
            Err(err) => tracing::error!(
                child = %event.aggregate_id,
                sequence = event.sequence,
                error = %err,
                "cannot upcast stored event"
            ),
        }
        event
    }
}
