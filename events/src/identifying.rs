//! `Identifying<T>`: the marker on every field that identifies a person (names, date of birth,
//! address, phone, free-text notes). Encryption, redaction and erasure act on exactly these fields,
//! so the type is the single place they hook in; `Debug` never prints the value, so a stray
//! `tracing` field or panic message cannot leak it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that identifies a person. Stored as the plain value today (`serde(transparent)`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Identifying<T>(T);

impl<T> Identifying<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The identifying value itself. Call sites are where identified data is shown or used, which
    /// is what an access log will later hook.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Identifying<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identifying(<redacted>)")
    }
}

impl From<&str> for Identifying<String> {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_value() {
        let name = Identifying::new("Léa Tremblay".to_string());
        assert_eq!(format!("{name:?}"), "Identifying(<redacted>)");
        assert_eq!(name.expose(), "Léa Tremblay");
    }

    #[test]
    fn serialises_as_the_bare_value() {
        let name = Identifying::new("Léa".to_string());
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"Léa\"");
    }
}
