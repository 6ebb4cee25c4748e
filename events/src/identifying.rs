//! `Identifying<T>`: the marker on every field that identifies a person (names, date of birth,
//! address, phone, free-text notes, and the plain strings that identify: organisation, provider,
//! redirect target, source detail). Encryption, redaction and erasure act on exactly these fields,
//! so the type is the single place they hook in; `Debug` never prints the value, so a stray
//! `tracing` field or panic message cannot leak it.
//!
//! How a value is written depends on the [`FieldCipher`] in force on the current thread
//! ([`with_cipher`]), which the store sets around the (synchronous) serialisation of one child's
//! events:
//! - with a cipher, a value is **sealed**: written as `{"sealed": "<text>"}`, the cipher's
//!   encryption of the value's JSON; reading opens it again, or, once the child's key has been
//!   destroyed, reads it as **erased** — and a plain value stored before sealing existed reads as
//!   erased too;
//! - without one, a value is written as itself (`"Léa"`), an erased one as `{"erased": true}`
//!   (what read models store), and a sealed one read without its key stays sealed, shown as
//!   [`SEALED_TEXT`].
//!
//! The cipher itself (an AEAD under the child's key) lives with the store: this crate does no
//! cryptography and no I/O.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::ClinicalDate;

/// What an erased text field reads as.
pub const ERASED_TEXT: &str = "(erased)";
/// What a sealed text field read without its key reads as.
pub const SEALED_TEXT: &str = "(sealed)";
/// The prefix of a sealed text stored where only a string fits (the metadata's `reason`). It
/// starts with a control character, which no text from outside may hold (commands are refused
/// with one), so no plain reason of an earlier release can be taken for a sealed one.
pub const SEALED_PREFIX: &str = "\u{1}sealed:";

/// Encrypts and decrypts one child's identifying fields (implemented by the store).
pub trait FieldCipher {
    /// The sealed text of `plaintext`; `Err` when nothing may be sealed any more (the child's key
    /// was destroyed), with a message saying so.
    fn seal(&self, plaintext: &[u8]) -> Result<String, String>;
    /// The plaintext of `sealed`: `Ok(None)` once the child's key has been destroyed, `Err` when
    /// the text does not open under the key (corrupt, or sealed for another child).
    fn open(&self, sealed: &str) -> Result<Option<Vec<u8>>, String>;
    /// Whether the child's key has been destroyed: every identifying field then reads as erased.
    fn erased(&self) -> bool;
}

thread_local! {
    static CIPHER: RefCell<Option<Rc<dyn FieldCipher>>> = const { RefCell::new(None) };
    static PLAIN_ONLY: RefCell<bool> = const { RefCell::new(false) };
}

/// Runs `f` with `cipher` in force on this thread (restored afterwards, even on a panic).
pub fn with_cipher<R>(cipher: Rc<dyn FieldCipher>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Rc<dyn FieldCipher>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CIPHER.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CIPHER.with(|c| c.borrow_mut().replace(cipher));
    let _restore = Restore(previous);
    f()
}

/// Runs `f` accepting only plain identifying values: what a command from outside must hold (a
/// sealed or erased form there is refused as invalid input).
pub fn plain_only<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0;
            PLAIN_ONLY.with(|p| *p.borrow_mut() = previous);
        }
    }
    let previous = PLAIN_ONLY.with(|p| std::mem::replace(&mut *p.borrow_mut(), true));
    let _restore = Restore(previous);
    f()
}

/// The cipher of a file whose key is gone: every identifying value reads as erased.
struct Erased;

impl FieldCipher for Erased {
    fn seal(&self, _: &[u8]) -> Result<String, String> {
        Err("the file's identifying data was erased".into())
    }
    fn open(&self, _: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
    fn erased(&self) -> bool {
        true
    }
}

/// `value` with every identifying field erased (read back through JSON under a cipher whose key
/// is gone); `value` itself if it cannot be written as JSON.
pub fn without_identity<T: Serialize + serde::de::DeserializeOwned + Clone>(value: &T) -> T {
    let Ok(json) = serde_json::to_value(value) else {
        return value.clone();
    };
    with_cipher(Rc::new(Erased), || serde_json::from_value(json)).unwrap_or_else(|_| value.clone())
}

fn current_cipher() -> Option<Rc<dyn FieldCipher>> {
    CIPHER.with(|c| c.borrow().clone())
}

/// A value that stands in for an identifying value that cannot be shown.
pub trait Placeholder: Sized {
    fn placeholder(state: Hidden) -> Self;
}

/// Why a value cannot be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hidden {
    Erased,
    Sealed,
}

impl Placeholder for String {
    fn placeholder(state: Hidden) -> Self {
        match state {
            Hidden::Erased => ERASED_TEXT.to_string(),
            Hidden::Sealed => SEALED_TEXT.to_string(),
        }
    }
}

impl Placeholder for ClinicalDate {
    /// Never shown as a date: callers that show or compute with a date use
    /// [`Identifying::known`].
    fn placeholder(_: Hidden) -> Self {
        ClinicalDate::from_ymd(1, 1, 1).expect("a valid date")
    }
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum State {
    Known,
    Erased,
    /// Read without the key: the sealed text, kept as stored.
    Sealed(Box<str>),
}

/// A value that identifies a person.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifying<T> {
    value: T,
    state: State,
}

impl<T> Identifying<T> {
    pub fn new(value: T) -> Self {
        Self {
            value,
            state: State::Known,
        }
    }

    /// The identifying value itself, or a placeholder ([`ERASED_TEXT`], [`SEALED_TEXT`]) when
    /// it cannot be shown. Call sites are where identified data is shown or used.
    pub fn expose(&self) -> &T {
        &self.value
    }

    /// The value, when it is known (not erased, not sealed).
    pub fn known(&self) -> Option<&T> {
        matches!(self.state, State::Known).then_some(&self.value)
    }

    /// Whether the child's key was destroyed: the value is gone for good.
    pub fn is_erased(&self) -> bool {
        matches!(self.state, State::Erased)
    }

    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Placeholder> Identifying<T> {
    pub fn erased() -> Self {
        Self {
            value: T::placeholder(Hidden::Erased),
            state: State::Erased,
        }
    }

    fn sealed(text: &str) -> Self {
        Self {
            value: T::placeholder(Hidden::Sealed),
            state: State::Sealed(text.into()),
        }
    }
}

impl<T> fmt::Debug for Identifying<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identifying(<redacted>)")
    }
}

impl From<&str> for Identifying<String> {
    fn from(value: &str) -> Self {
        Self::new(value.to_string())
    }
}

#[derive(Serialize)]
struct SealedForm<'a> {
    sealed: &'a str,
}

#[derive(Serialize)]
struct ErasedForm {
    erased: bool,
}

impl<T: Serialize> Serialize for Identifying<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        match (&self.state, current_cipher()) {
            (State::Known, None) => self.value.serialize(serializer),
            (State::Known, Some(cipher)) => {
                let plain = serde_json::to_vec(&self.value).map_err(S::Error::custom)?;
                let sealed = cipher.seal(&plain).map_err(S::Error::custom)?;
                SealedForm { sealed: &sealed }.serialize(serializer)
            }
            (State::Sealed(text), None) => SealedForm { sealed: text }.serialize(serializer),
            (State::Erased, None) => ErasedForm { erased: true }.serialize(serializer),
            (State::Sealed(_) | State::Erased, Some(_)) => Err(S::Error::custom(
                "an identifying field that is sealed or erased cannot be recorded again",
            )),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned + Placeholder> Deserialize<'de> for Identifying<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let plain_only = PLAIN_ONLY.with(|p| *p.borrow());
        let cipher = current_cipher();
        let special = match &value {
            serde_json::Value::Object(map) if map.len() == 1 => {
                if let Some(serde_json::Value::String(text)) = map.get("sealed") {
                    Some(Some(text.as_str()))
                } else if let Some(serde_json::Value::Bool(true)) = map.get("erased") {
                    Some(None)
                } else {
                    None
                }
            }
            _ => None,
        };
        if plain_only && special.is_some() {
            return Err(D::Error::custom(
                "an identifying field must be given as plain text, not sealed or erased",
            ));
        }
        match (special, cipher) {
            // Erased in a read model.
            (Some(None), _) => Ok(Self::erased()),
            (Some(Some(text)), None) => Ok(Self::sealed(text)),
            (Some(Some(text)), Some(cipher)) => {
                match cipher.open(text).map_err(D::Error::custom)? {
                    Some(plain) => serde_json::from_slice(&plain)
                        .map(Self::new)
                        .map_err(D::Error::custom),
                    None => Ok(Self::erased()),
                }
            }
            // A plain value: stored before sealing existed, or in a read model.
            (None, Some(cipher)) if cipher.erased() => Ok(Self::erased()),
            (None, _) => serde_json::from_value(value)
                .map(Self::new)
                .map_err(D::Error::custom),
        }
    }
}

impl Identifying<String> {
    /// The stored form of a text kept where only a string fits (the metadata's `reason`):
    /// `sealed:<text>` under a cipher, the text itself without one.
    pub fn to_stored_text(&self) -> Result<String, String> {
        match (&self.state, current_cipher()) {
            (State::Known, None) => Ok(self.value.clone()),
            (State::Known, Some(cipher)) => {
                let plain = serde_json::to_vec(&self.value).map_err(|e| e.to_string())?;
                Ok(format!("{SEALED_PREFIX}{}", cipher.seal(&plain)?))
            }
            (State::Sealed(text), None) => Ok(format!("{SEALED_PREFIX}{text}")),
            (State::Erased, None) => Ok(ERASED_TEXT.to_string()),
            (_, Some(_)) => Err("a sealed or erased text cannot be recorded again".to_string()),
        }
    }

    /// Reads a text written by [`Identifying::to_stored_text`].
    pub fn from_stored_text(text: &str) -> Result<Self, String> {
        let cipher = current_cipher();
        match (text.strip_prefix(SEALED_PREFIX), cipher) {
            (Some(sealed), None) => Ok(Self::sealed(sealed)),
            (Some(sealed), Some(cipher)) => match cipher.open(sealed)? {
                Some(plain) => serde_json::from_slice(&plain)
                    .map(Self::new)
                    .map_err(|e| e.to_string()),
                None => Ok(Self::erased()),
            },
            (None, Some(cipher)) if cipher.erased() => Ok(Self::erased()),
            (None, _) => Ok(Self::new(text.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reversible stand-in for the store's AEAD: "x" + hex, erased when `gone`.
    struct Toy {
        gone: bool,
    }

    impl FieldCipher for Toy {
        fn seal(&self, plaintext: &[u8]) -> Result<String, String> {
            if self.gone {
                return Err("the key is gone".into());
            }
            Ok(plaintext.iter().map(|b| format!("{b:02x}")).collect())
        }
        fn open(&self, sealed: &str) -> Result<Option<Vec<u8>>, String> {
            if self.gone {
                return Ok(None);
            }
            (0..sealed.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&sealed[i..i + 2], 16).map_err(|e| e.to_string()))
                .collect::<Result<Vec<u8>, String>>()
                .map(Some)
        }
        fn erased(&self) -> bool {
            self.gone
        }
    }

    fn toy(gone: bool) -> Rc<dyn FieldCipher> {
        Rc::new(Toy { gone })
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let name = Identifying::new("Léa Tremblay".to_string());
        assert_eq!(format!("{name:?}"), "Identifying(<redacted>)");
        assert_eq!(name.expose(), "Léa Tremblay");
    }

    #[test]
    fn serialises_as_the_bare_value_without_a_cipher() {
        let name = Identifying::new("Léa".to_string());
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"Léa\"");
    }

    #[test]
    fn under_a_cipher_a_value_is_sealed_and_opens_again() {
        let name = Identifying::new("Léa".to_string());
        let stored = with_cipher(toy(false), || serde_json::to_string(&name).unwrap());
        assert_eq!(stored, r#"{"sealed":"224cc3a96122"}"#);
        assert!(!stored.contains("Léa"));
        let back: Identifying<String> =
            with_cipher(toy(false), || serde_json::from_str(&stored).unwrap());
        assert_eq!(back, name);
        // Without the key it stays sealed, and is written back unchanged.
        let kept: Identifying<String> = serde_json::from_str(&stored).unwrap();
        assert_eq!(kept.expose(), SEALED_TEXT);
        assert_eq!(kept.known(), None);
        assert_eq!(serde_json::to_string(&kept).unwrap(), stored);
    }

    #[test]
    fn once_the_key_is_gone_sealed_and_plain_values_read_as_erased() {
        let sealed = r#"{"sealed":"22c3a96122"}"#;
        let erased: Identifying<String> =
            with_cipher(toy(true), || serde_json::from_str(sealed).unwrap());
        assert!(erased.is_erased());
        assert_eq!(erased.expose(), ERASED_TEXT);
        let legacy: Identifying<String> =
            with_cipher(toy(true), || serde_json::from_str("\"Léa\"").unwrap());
        assert!(legacy.is_erased());
        let date: Identifying<ClinicalDate> = with_cipher(toy(true), || {
            serde_json::from_str("\"2017-05-10\"").unwrap()
        });
        assert_eq!(date.known(), None);
        // In a read model, erased stays erased.
        let view = serde_json::to_string(&erased).unwrap();
        assert_eq!(view, r#"{"erased":true}"#);
        let back: Identifying<String> = serde_json::from_str(&view).unwrap();
        assert!(back.is_erased());
        // Nothing can be sealed under a destroyed key.
        let name = Identifying::new("Léa".to_string());
        assert!(with_cipher(toy(true), || serde_json::to_string(&name)).is_err());
    }

    #[test]
    fn a_command_from_outside_holds_plain_values_only() {
        let sealed = r#"{"sealed":"22c3a96122"}"#;
        let refused = plain_only(|| serde_json::from_str::<Identifying<String>>(sealed));
        assert!(refused.unwrap_err().to_string().contains("plain text"));
        let erased = r#"{"erased":true}"#;
        assert!(plain_only(|| serde_json::from_str::<Identifying<String>>(erased)).is_err());
        let plain = plain_only(|| serde_json::from_str::<Identifying<String>>("\"Léa\""));
        assert_eq!(plain.unwrap().expose(), "Léa");
    }

    #[test]
    fn a_reason_in_the_metadata_is_sealed_as_text() {
        let reason = Identifying::new("late entry".to_string());
        let stored = with_cipher(toy(false), || reason.to_stored_text().unwrap());
        assert!(stored.starts_with(SEALED_PREFIX));
        let back = with_cipher(toy(false), || {
            Identifying::from_stored_text(&stored).unwrap()
        });
        assert_eq!(back, reason);
        let gone = with_cipher(toy(true), || {
            Identifying::from_stored_text(&stored).unwrap()
        });
        assert!(gone.is_erased());
        assert_eq!(
            Identifying::from_stored_text("plain").unwrap().expose(),
            "plain"
        );
    }
}
