//! Identifiers: every id is its own type, so a referral id can never be passed where a goal id is
//! expected. Text ids (people, centres, idempotency keys) validate on construction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| IdError::NotAUuid {
                    kind: stringify!($name),
                    given: s.to_string(),
                })
            }
        }
    };
}

uuid_id!(
    /// The child whose file this is; also the id of the child's event stream.
    ChildId
);
uuid_id!(
    /// One stored event, unique across the whole store.
    EventId
);
uuid_id!(
    /// An external referral (to dentistry, speech therapy, legal aid...).
    ReferralId
);
uuid_id!(
    /// A goal of the action plan; keeps its id across plan revisions.
    GoalId
);
uuid_id!(
    /// A service or activity the child receives.
    ServiceId
);
uuid_id!(
    /// A legal intervention by the centre's legal advisor.
    LegalMatterId
);
uuid_id!(
    /// A concern about one of the child's rights.
    RightsConcernId
);

uuid_id!(
    /// A member of the child's circle: a family member or significant adult.
    CircleMemberId
);

impl ChildId {
    /// The child id a file-opening command gets when the caller gives none: derived from the
    /// idempotency key, so a retried opening lands on the same child instead of a second file.
    pub fn derived_from_key(key: &IdempotencyKey) -> Self {
        const NAMESPACE: Uuid = Uuid::from_u128(0x6c69_6665_636f_7572_7365_2d63_6869_6c64);
        Self(Uuid::new_v5(&NAMESPACE, key.as_str().as_bytes()))
    }
}

/// Why a text or uuid could not be read as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must be a UUID such as 0b7e4c1e-8f2a-4d3b-9c55-2f1e6a7d9b10, got {given:?}")]
    NotAUuid { kind: &'static str, given: String },
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} must be at most {max} characters, got {len}")]
    TooLong {
        kind: &'static str,
        max: usize,
        len: usize,
    },
    #[error("{kind} may only contain {allowed}, got {given:?}")]
    BadCharacters {
        kind: &'static str,
        allowed: &'static str,
        given: String,
    },
}

fn check_text(
    kind: &'static str,
    value: &str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(char) -> bool,
) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let len = value.chars().count();
    if len > max {
        return Err(IdError::TooLong { kind, max, len });
    }
    if !value.chars().all(ok) {
        return Err(IdError::BadCharacters {
            kind,
            allowed,
            given: value.to_string(),
        });
    }
    Ok(())
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr, $allowed:literal, $ok:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_text($kind, &value, $max, $allowed, $ok)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}

text_id!(
    /// A centre, as a short lowercase slug: `centre-sud`, `hochelaga`, `main-dans-la-main`.
    CentreId,
    "centre id",
    64,
    "lowercase letters, digits and '-'",
    |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
);
text_id!(
    /// A member of staff (or volunteer) who records entries: an employee number or login.
    PersonId,
    "person id",
    64,
    "letters, digits, '.', '-', '_' and '@'",
    |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')
);
text_id!(
    /// The caller's key for one command: a retry with the same key is stored once.
    IdempotencyKey,
    "idempotency key",
    128,
    "printable ASCII without spaces",
    |c: char| c.is_ascii_graphic()
);

impl IdempotencyKey {
    /// A fresh key, for callers that do not retry.
    pub fn new_random() -> Self {
        Self(Uuid::new_v4().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_ids_are_lowercase_slugs() {
        assert!(CentreId::parse("centre-sud").is_ok());
        let err = CentreId::parse("Centre Sud").unwrap_err();
        assert!(err.to_string().contains("lowercase letters"), "{err}");
        assert_eq!(
            CentreId::parse("").unwrap_err(),
            IdError::Empty { kind: "centre id" }
        );
    }

    #[test]
    fn a_child_id_from_a_key_is_stable_and_key_specific() {
        let a = IdempotencyKey::parse("open-2024-001").unwrap();
        let b = IdempotencyKey::parse("open-2024-002").unwrap();
        assert_eq!(ChildId::derived_from_key(&a), ChildId::derived_from_key(&a));
        assert_ne!(ChildId::derived_from_key(&a), ChildId::derived_from_key(&b));
    }

    #[test]
    fn uuid_ids_explain_their_format() {
        let err = "abc".parse::<ReferralId>().unwrap_err();
        assert!(
            err.to_string().contains("ReferralId must be a UUID"),
            "{err}"
        );
    }
}
