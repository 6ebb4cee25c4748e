//! Lifecourse events: the immutable facts of a child's file in a community social pediatrics
//! centre, and the value types they are made of.
//!
//! This crate is data and versioning only: no I/O, no async, no storage. Everything here can be
//! built and tested from plain values.
//!
//! - [`ChildEvent`]: the catalogue, one variant per step of care, each carrying its clinical
//!   date; [`CATALOGUE`] lists every event type with its schema version.
//! - [`upcast`]: pure upcasters from older schema versions.
//! - [`Identifying`]: the marker on every field that identifies a person.
//! - [`RecordingMetadata`]: who recorded an event, under which idempotency key, and why.
//! - [`StoredEvent`]: an event with what the store added (position, sequence, ids, record time).

mod corrections;
mod describe;
mod event;
pub mod identifying;
mod ids;
mod metadata;
mod stored;
pub mod upcast;
mod values;

pub use corrections::{changes, effective_entries, FieldChange};
pub use describe::count;
pub use event::*;
pub use identifying::{FieldCipher, Identifying};
pub use ids::*;
pub use metadata::{MetadataError, Recorder, RecordingMetadata};
pub use stored::StoredEvent;
pub use values::*;
