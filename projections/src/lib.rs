//! Lifecourse projections: the read models of a child's file, as pure, synchronous folds over
//! stored events. No I/O, no async: a projection test is a list of events in and a value out.
//!
//! - [`ChildHistory`]: one child's events, applied one at a time (twice is harmless), filtered on
//!   record time (`known_at`) and clinical time (`as_of`); corrections applied.
//! - [`CurrentPlan`]: the plan in force, goals' latest status, what is under way, next
//!   reassessment.
//! - [`Trajectory`]: the whole history on one page, for a clinician before a reassessment.
//! - [`follow_up`]: expectations and the gaps among them on any date, per the [`FollowUpRules`].
//! - [`indicators`]: centre indicators over a period.
//! - [`audit`]: the decision trail, each decision with the facts on record when it was taken.
//! - [`research`]: de-identified, consent-gated research tables and cohort measures.

pub mod audit;
pub mod describe;
pub mod follow_up;
pub mod history;
pub mod indicators;
pub mod lifecycle;
mod plan;
pub mod research;
mod rules;
mod trajectory;

pub use audit::{decision_trail, DecisionTrail};
pub use follow_up::{expectations, gaps_on, Expectation, FollowUpRule, Gap, Subject};
pub use history::{ChildHistory, CorrectionMark, Entry};
pub use indicators::{indicators, Indicators};
pub use lifecycle::{Lifecycle, Stage};
pub use plan::*;
pub use rules::FollowUpRules;
pub use trajectory::*;
