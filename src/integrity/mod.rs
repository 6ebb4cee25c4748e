//! Tamper evidence: every event is sealed (`chain`: a SHA-256 over its canonical encoding and the
//! previous event's seal, written on the command path), anchors sign a Merkle root over every
//! chain head (`anchor`), and `verify` recomputes everything, naming each event changed, deleted,
//! inserted or reordered behind the engine's back and each anchor the store no longer matches.
//! Pure: the store reads rows (`crate::store`), the application layer (`crate::app::integrity`)
//! puts the two together.

pub mod anchor;
pub mod chain;
pub mod verify;

pub use anchor::{Anchor, AnchorError, SignedAnchor};
pub use chain::{seal, Digest32, Link, SEAL_KEY};
pub use verify::{
    check_anchored, check_stream, missing_child, Finding, Head, Problem, RawSealed, SealedRow,
    StreamCheck,
};
