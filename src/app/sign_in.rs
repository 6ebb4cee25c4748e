//! Sign-in for the HTTP server: passwords (argon2id, `lifecourse staff set-password`), and the
//! credentials a successful sign-in hands out — a session (a cookie, for pages) or a bearer token
//! (for programs). Only the SHA-256 of a credential's secret is stored. Every use of a credential
//! looks the person up in the staff register again, so a disabled account loses access at once.

use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use lifecourse_events::*;
use sha2::{Digest, Sha256};

use super::{App, AppError, InvalidInput, Principal};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 1024;

/// What a sign-in hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// A session cookie, for pages.
    Session,
    /// A bearer token, for programs.
    Token,
}

impl CredentialKind {
    fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Token => "token",
        }
    }
}

/// A credential just handed out: the secret is shown once and never stored.
#[derive(Clone, Debug)]
pub struct Credential {
    pub secret: String,
    pub kind: CredentialKind,
    /// Unix seconds.
    pub expires_at: i64,
    pub principal: Principal,
}

fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A hash verified when the person has no password, so a sign-in for an unknown person takes as
/// long as one with a wrong password.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Qm7iR7cJ7E7nJ3pIHpB4+fKkRQX0zy6oT6DtmZ/8yPY";

impl App {
    /// Sets a person's password (argon2id with a random salt) and signs them out everywhere.
    pub async fn set_password(&self, person: &PersonId, password: &str) -> Result<(), AppError> {
        let chars = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            return Err(InvalidInput::OutOfRange {
                what: "the password's length (characters)".into(),
                min: MIN_PASSWORD_CHARS as u64,
                max: MAX_PASSWORD_CHARS as u64,
                got: chars.to_string(),
            }
            .into());
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| AppError::Output {
            format: "password hash",
            message: e.to_string(),
        })?
        .map_err(|e| AppError::Output {
            format: "password hash",
            message: e.to_string(),
        })?;
        if self.store.set_password_hash(person, &hash).await? {
            // A new password ends every session and token handed out under the old one.
            self.store.revoke_credentials_of(person).await?;
            Ok(())
        } else {
            Err(AppError::UnknownPerson(person.clone()))
        }
    }

    /// Checks a person's password and hands out a credential of `kind`, valid for `ttl`. Every
    /// failure (unknown person, no password, wrong password, disabled) is the same error.
    pub async fn sign_in(
        &self,
        person: &PersonId,
        password: &str,
        kind: CredentialKind,
        ttl: Duration,
    ) -> Result<Credential, AppError> {
        let stored = self.store.password_hash(person).await?;
        let has_password = stored.is_some();
        let stored = stored.unwrap_or_else(|| DECOY_HASH.to_string());
        let password = password.to_string();
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .map(|hash| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &hash)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !(verified && has_password) {
            tracing::info!(%person, "sign-in refused");
            return Err(AppError::SignInFailed);
        }
        let principal = self
            .principal(person)
            .await
            .map_err(|_| AppError::SignInFailed)?;
        let secret = new_secret();
        let expires_at = now_unix() + ttl.as_secs() as i64;
        self.store
            .insert_credential(&secret_hash(&secret), person, kind.as_str(), expires_at)
            .await?;
        tracing::info!(%person, kind = kind.as_str(), "signed in");
        Ok(Credential {
            secret,
            kind,
            expires_at,
            principal,
        })
    }

    /// The principal a credential's secret stands for: the credential must be live and the
    /// person active in the staff register now.
    pub async fn authenticate(&self, secret: &str) -> Result<Principal, AppError> {
        let (person, _kind) = self
            .store
            .credential(&secret_hash(secret), now_unix())
            .await?
            .ok_or(AppError::NotSignedIn)?;
        let person = PersonId::parse(person).map_err(|_| AppError::NotSignedIn)?;
        self.principal(&person)
            .await
            .map_err(|err| match err.kind() {
                super::ErrorKind::NotFound => AppError::NotSignedIn,
                _ => err,
            })
    }

    /// Revokes a credential (signing out).
    pub async fn sign_out(&self, secret: &str) -> Result<(), AppError> {
        self.store.revoke_credential(&secret_hash(secret)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_is_verified_like_a_real_one() {
        // If it did not parse, a sign-in for an unknown person would answer faster than one with
        // a wrong password, telling who has an account.
        let hash = PasswordHash::new(DECOY_HASH).expect("a valid PHC string");
        assert!(Argon2::default()
            .verify_password(b"anything", &hash)
            .is_err());
    }

    #[test]
    fn secrets_are_256_bit_hex_and_stored_hashed() {
        let secret = new_secret();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, new_secret());
        assert_eq!(secret_hash(&secret).len(), 64);
        assert_ne!(secret_hash(&secret), secret);
    }
}
