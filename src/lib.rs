//! Lifecourse: an event-sourced child lifecourse trajectory engine for community social
//! pediatrics centres. Every step of a child's care is an immutable event in the child's own
//! stream; this crate is the engine around the event catalogue (`lifecourse_events`): the
//! `ChildFile` aggregate and its rules, the stores, the demo cohort, and the CLI.

pub mod app;
pub mod bench;
pub mod cli;
pub mod cohort;
pub mod domain;
pub mod export;
pub mod fixtures;
pub mod http;
pub mod integrity;
pub mod recording;
pub mod runner;
pub mod store;

pub use domain::{ChildFile, ChildFileCommand, ChildFileError, ClinicalCalendar};
pub use recording::{CommandRequest, RecordError, Recorded};
pub use store::{Store, StoreError};
