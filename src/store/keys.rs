//! Keys for identifying fields (crypto-shredding). Each child has a data key of its own; every
//! identifying field of the child's events (`Identifying<T>`, and the reason in the metadata) is
//! stored sealed under it with XChaCha20-Poly1305, bound to the child's id. The data key is kept
//! in `child_keys` wrapped (encrypted) under the **master key**, which is never stored in the
//! database: it is read from the file named by `LIFECOURSE_MASTER_KEY_FILE`, or else from the
//! user's configuration directory (`~/.config/lifecourse/master.key`), created there on first
//! use. Erasing a child destroys its data key: its sealed fields can no longer be opened by
//! anyone, and every reader then sees them as erased; the seals of the chain still verify,
//! since they cover the sealed text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use lifecourse_events::FieldCipher;
use sha2::{Digest, Sha256};

use super::StoreError;

/// The environment variable naming the master key file.
pub const MASTER_KEY_ENV: &str = "LIFECOURSE_MASTER_KEY_FILE";

const NONCE: usize = 24;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// Where the master key is read from: `LIFECOURSE_MASTER_KEY_FILE`, or the user's configuration
/// directory.
pub fn master_key_path() -> Result<PathBuf, StoreError> {
    if let Some(path) = std::env::var_os(MASTER_KEY_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| {
            StoreError::MasterKey(format!(
                "no master key: there is no home directory, so set {MASTER_KEY_ENV} to the file holding the key (64 hexadecimal characters)"
            ))
        })?;
    Ok(config.join("lifecourse").join("master.key"))
}

/// Reads the master key (64 hex characters) at `path`; when there is no file yet and
/// `may_create` (the default location), creates a new random one, readable by its owner only.
/// Concurrent first uses agree on one key.
fn load_or_create(path: &Path, may_create: bool) -> Result<[u8; 32], String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => create(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "there is no master key at {} ({MASTER_KEY_ENV}): give the file this store's identifying fields were sealed with; a new key is made only at the default location, when {MASTER_KEY_ENV} is not set",
            path.display()
        )),
        Err(e) => Err(format!(
            "cannot read the master key {}: {e}",
            path.display()
        )),
    }
}

fn parse_key(path: &Path, text: &str) -> Result<[u8; 32], String> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut key).map_err(|_| {
        format!(
            "the master key file {} does not hold a key: expected 64 hexadecimal characters",
            path.display()
        )
    })?;
    Ok(key)
}

fn create(path: &Path) -> Result<[u8; 32], String> {
    use std::io::Write;
    let fail = |e: std::io::Error| format!("cannot create the master key {}: {e}", path.display());
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(fail)?;
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| fail(std::io::Error::other(e)))?;
    // Written whole to a file of its own, then linked into place: a concurrent first use either
    // links first or finds the other's complete key.
    let mut tag = [0u8; 8];
    getrandom::getrandom(&mut tag).map_err(|e| fail(std::io::Error::other(e)))?;
    let temporary = dir.join(format!(
        ".master.key.{}.{}",
        std::process::id(),
        hex::encode(tag)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(fail)?;
    writeln!(file, "{}", hex::encode(key)).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                "created a new master key for identifying fields: keep a copy apart from the database and its backups; without it they cannot be read"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(fail)?;
            parse_key(path, &text)
        }
        Err(e) => Err(fail(e)),
    }
}

/// The master key, read on first use (a failed read is tried again at the next use: a file
/// briefly out of reach must not disable a long-running server).
#[derive(Default)]
pub(crate) struct Keyring {
    master: OnceLock<[u8; 32]>,
    checked: tokio::sync::OnceCell<()>,
}

fn aead(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

fn random_nonce() -> Result<[u8; NONCE], String> {
    let mut nonce = [0u8; NONCE];
    getrandom::getrandom(&mut nonce).map_err(|e| format!("no randomness for a nonce: {e}"))?;
    Ok(nonce)
}

fn wrap_context(child: &str) -> Vec<u8> {
    format!("lifecourse-child-key-1:{child}").into_bytes()
}

impl Keyring {
    fn master(&self) -> Result<&[u8; 32], StoreError> {
        if let Some(key) = self.master.get() {
            return Ok(key);
        }
        let path = master_key_path()?;
        let named = std::env::var_os(MASTER_KEY_ENV).is_some_and(|p| !p.is_empty());
        let key = load_or_create(&path, !named).map_err(StoreError::MasterKey)?;
        // Two first uses at once read the same file: whichever sets it, the key is the same.
        Ok(self.master.get_or_init(|| key))
    }

    /// The check value stored in `master_key_check`: a hash of the master key, never the key.
    pub fn check_hash(&self) -> Result<String, StoreError> {
        let mut hasher = Sha256::new();
        hasher.update(b"lifecourse-master-key-check-1\0");
        hasher.update(self.master()?);
        Ok(hex::encode(hasher.finalize()))
    }

    /// A new data key for `child`, and its wrapped form for `child_keys`.
    pub fn new_child_key(&self, child: &str) -> Result<([u8; 32], Vec<u8>), StoreError> {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key)
            .map_err(|e| StoreError::MasterKey(format!("no randomness for a key: {e}")))?;
        let nonce = random_nonce().map_err(StoreError::MasterKey)?;
        let sealed = aead(self.master()?)
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &key,
                    aad: &wrap_context(child),
                },
            )
            .map_err(|_| StoreError::MasterKey("cannot wrap a child key".into()))?;
        let mut wrapped = nonce.to_vec();
        wrapped.extend_from_slice(&sealed);
        Ok((key, wrapped))
    }

    /// `child`'s data key from its wrapped form.
    pub fn unwrap(&self, child: &str, wrapped: &[u8]) -> Result<[u8; 32], StoreError> {
        let wrong = || {
            StoreError::MasterKey(format!(
                "child {child}'s key does not open under this master key: is {MASTER_KEY_ENV} the key this store was created with?"
            ))
        };
        if wrapped.len() < NONCE {
            return Err(wrong());
        }
        let (nonce, sealed) = wrapped.split_at(NONCE);
        let key = aead(self.master()?)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &wrap_context(child),
                },
            )
            .map_err(|_| wrong())?;
        key.try_into().map_err(|_| wrong())
    }

    /// A child's key state as stored: no row, a wrapped key, or erased.
    pub fn child_key(
        &self,
        child: &str,
        row: Option<(Option<Vec<u8>>, bool)>,
    ) -> Result<ChildKey, StoreError> {
        Ok(match row {
            None => ChildKey::Absent,
            Some((_, true)) | Some((None, _)) => ChildKey::Erased,
            Some((Some(wrapped), false)) => ChildKey::Key(self.unwrap(child, &wrapped)?),
        })
    }
}

/// One child's data key, as the store holds it.
#[derive(Clone)]
pub(crate) enum ChildKey {
    /// No key yet: the child's events were recorded before sealing existed, or there are none.
    Absent,
    Key([u8; 32]),
    /// Destroyed by erasure.
    Erased,
}

impl ChildKey {
    /// The digest of a command as stored in its events' metadata: an HMAC-SHA256 under the
    /// child's key (`hmac-sha256:<hex>`), so that nobody without the key — and, after an
    /// erasure, nobody at all — can confirm a guess of what the command said; a plain SHA-256
    /// for a child without a key.
    pub fn command_digest(&self, command: &[u8]) -> String {
        use hmac::Mac;
        match self {
            ChildKey::Key(key) => {
                let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(key)
                    .expect("HMAC takes a key of any length");
                mac.update(b"lifecourse-command-digest-1\0");
                mac.update(command);
                format!("hmac-sha256:{}", hex::encode(mac.finalize().into_bytes()))
            }
            ChildKey::Absent | ChildKey::Erased => hex::encode(Sha256::digest(command)),
        }
    }

    /// The cipher to read or write `child`'s identifying fields under; none for `Absent`.
    pub fn cipher(&self, child: &str) -> Option<Rc<dyn FieldCipher>> {
        match self {
            ChildKey::Absent => None,
            ChildKey::Key(key) => Some(Rc::new(ChildCipher {
                child: child.as_bytes().to_vec(),
                key: Some(aead(key)),
            })),
            ChildKey::Erased => Some(Rc::new(ChildCipher {
                child: child.as_bytes().to_vec(),
                key: None,
            })),
        }
    }
}

/// XChaCha20-Poly1305 under one child's key, each field bound to the child's id.
struct ChildCipher {
    child: Vec<u8>,
    key: Option<XChaCha20Poly1305>,
}

impl FieldCipher for ChildCipher {
    fn seal(&self, plaintext: &[u8]) -> Result<String, String> {
        let Some(aead) = &self.key else {
            return Err("this child's identifying data was erased: nothing identifying can be recorded in the file".into());
        };
        let nonce = random_nonce()?;
        let sealed = aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &self.child,
                },
            )
            .map_err(|_| "cannot seal an identifying field".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(B64.encode(out))
    }

    fn open(&self, sealed: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(aead) = &self.key else {
            return Ok(None);
        };
        let bytes = B64
            .decode(sealed)
            .map_err(|_| "a sealed field is not valid base64".to_string())?;
        if bytes.len() < NONCE {
            return Err("a sealed field is too short".into());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE);
        aead.decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &self.child,
            },
        )
        .map(Some)
        .map_err(|_| "a sealed field does not open under its child's key (altered, or copied from another child)".to_string())
    }

    fn erased(&self) -> bool {
        self.key.is_none()
    }
}

/// The keys of many children at once (the runner's batches), from their rows.
fn keys_of_rows(
    keyring: &Keyring,
    rows: Vec<(String, Option<Vec<u8>>, bool)>,
) -> Result<HashMap<String, ChildKey>, StoreError> {
    rows.into_iter()
        .map(|(child, wrapped, erased)| {
            let key = keyring.child_key(&child, Some((wrapped, erased)))?;
            Ok((child, key))
        })
        .collect()
}

/// A database the key queries run on.
#[derive(Clone, Copy)]
pub(crate) enum Db<'a> {
    Sqlite(&'a sqlx::SqlitePool),
    Postgres(&'a sqlx::PgPool),
}

/// A key row: child, wrapped key (none once erased), erased.
type KeyRow = (String, Option<Vec<u8>>, bool);

impl Keyring {
    /// Compares the store's master key check value with this master key, writing it when the
    /// store has none yet; once per process.
    pub async fn ensure_checked(&self, db: Db<'_>) -> Result<(), StoreError> {
        self.checked
            .get_or_try_init(|| async {
                let mine = self.check_hash()?;
                // Read first: a store that has its check value is only read here.
                let mut stored = self.stored_check(db).await?;
                if stored.is_none() {
                    match db {
                        Db::Sqlite(pool) => {
                            sqlx::query(
                                "INSERT INTO master_key_check (id, check_hash) VALUES (1, ?)
                                 ON CONFLICT (id) DO NOTHING",
                            )
                            .bind(&mine)
                            .execute(pool)
                            .await?;
                        }
                        Db::Postgres(pool) => {
                            sqlx::query(
                                "INSERT INTO master_key_check (id, check_hash) VALUES (1, $1)
                                 ON CONFLICT (id) DO NOTHING",
                            )
                            .bind(&mine)
                            .execute(pool)
                            .await?;
                        }
                    }
                    stored = self.stored_check(db).await?;
                }
                if stored.as_deref() == Some(mine.as_str()) {
                    Ok(())
                } else {
                    Err(StoreError::MasterKey(format!(
                        "this store's identifying fields are sealed under another master key: set {MASTER_KEY_ENV} to the key file this store was created with"
                    )))
                }
            })
            .await
            .map(|_| ())
    }

    async fn stored_check(&self, db: Db<'_>) -> Result<Option<String>, StoreError> {
        let sql = "SELECT check_hash FROM master_key_check WHERE id = 1";
        Ok(match db {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_optional(pool).await?,
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_optional(pool).await?,
        })
    }

    /// The keys of `children` (absent ones are left out).
    pub async fn keys_for(
        &self,
        db: Db<'_>,
        children: &[String],
    ) -> Result<HashMap<String, ChildKey>, StoreError> {
        if children.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<KeyRow> = match db {
            Db::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT aggregate_id, wrapped, erased_at IS NOT NULL FROM child_keys
                      WHERE aggregate_id IN (SELECT value FROM json_each(?))",
                )
                .bind(serde_json::to_string(children).expect("ids serialise"))
                .fetch_all(pool)
                .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT aggregate_id, wrapped, erased_at IS NOT NULL FROM child_keys
                      WHERE aggregate_id = ANY($1)",
                )
                .bind(children)
                .fetch_all(pool)
                .await?
            }
        };
        if rows.iter().any(|(_, wrapped, _)| wrapped.is_some()) {
            self.ensure_checked(db).await?;
        }
        keys_of_rows(self, rows)
    }

    /// `child`'s key for recording, made and stored when the child has none yet (its first
    /// entry, or the first since sealing existed).
    pub async fn key_for_writing(&self, db: Db<'_>, child: &str) -> Result<ChildKey, StoreError> {
        self.ensure_checked(db).await?;
        let (_, wrapped) = self.new_child_key(child)?;
        let row: (Option<Vec<u8>>, bool) = match db {
            Db::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO child_keys (aggregate_id, wrapped) VALUES (?, ?)
                     ON CONFLICT (aggregate_id) DO NOTHING",
                )
                .bind(child)
                .bind(&wrapped)
                .execute(pool)
                .await?;
                sqlx::query_as(
                    "SELECT wrapped, erased_at IS NOT NULL FROM child_keys WHERE aggregate_id = ?",
                )
                .bind(child)
                .fetch_one(pool)
                .await?
            }
            Db::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO child_keys (aggregate_id, wrapped) VALUES ($1, $2)
                     ON CONFLICT (aggregate_id) DO NOTHING",
                )
                .bind(child)
                .bind(&wrapped)
                .execute(pool)
                .await?;
                sqlx::query_as(
                    "SELECT wrapped, erased_at IS NOT NULL FROM child_keys WHERE aggregate_id = $1",
                )
                .bind(child)
                .fetch_one(pool)
                .await?
            }
        };
        self.child_key(child, Some(row))
    }

    /// The keys for recording of `children`, made and stored in one statement for those without
    /// a key row (a row stored meanwhile by another writer wins, as in `key_for_writing`).
    pub async fn keys_for_writing(
        &self,
        db: Db<'_>,
        children: &[String],
    ) -> Result<HashMap<String, ChildKey>, StoreError> {
        if children.is_empty() {
            return Ok(HashMap::new());
        }
        self.ensure_checked(db).await?;
        let mut wrapped = Vec::with_capacity(children.len());
        for child in children {
            wrapped.push(self.new_child_key(child)?.1);
        }
        match db {
            Db::Sqlite(pool) => {
                let pairs: Vec<(&str, String)> = children
                    .iter()
                    .zip(&wrapped)
                    .map(|(c, w)| (c.as_str(), hex::encode(w)))
                    .collect();
                sqlx::query(
                    "INSERT INTO child_keys (aggregate_id, wrapped)
                     SELECT json_extract(value, '$[0]'), unhex(json_extract(value, '$[1]'))
                       FROM json_each(?) WHERE true
                     ON CONFLICT (aggregate_id) DO NOTHING",
                )
                .bind(serde_json::to_string(&pairs).expect("keys serialise"))
                .execute(pool)
                .await?;
            }
            Db::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO child_keys (aggregate_id, wrapped)
                     SELECT * FROM unnest($1::text[], $2::bytea[])
                     ON CONFLICT (aggregate_id) DO NOTHING",
                )
                .bind(children)
                .bind(&wrapped)
                .execute(pool)
                .await?;
            }
        }
        self.keys_for(db, children).await
    }

    /// Destroys `child`'s key (or marks a child without one as erased); true when this call
    /// erased it, false when it was erased already.
    pub async fn erase(&self, db: Db<'_>, child: &str) -> Result<bool, StoreError> {
        let now = chrono::Utc::now();
        let changed = match db {
            Db::Sqlite(pool) => {
                let stamp = now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
                let updated = sqlx::query(
                    "UPDATE child_keys SET wrapped = NULL, erased_at = ?
                      WHERE aggregate_id = ? AND wrapped IS NOT NULL",
                )
                .bind(&stamp)
                .bind(child)
                .execute(pool)
                .await?
                .rows_affected();
                let inserted = sqlx::query(
                    "INSERT INTO child_keys (aggregate_id, wrapped, erased_at) VALUES (?, NULL, ?)
                     ON CONFLICT (aggregate_id) DO NOTHING",
                )
                .bind(child)
                .bind(&stamp)
                .execute(pool)
                .await?
                .rows_affected();
                updated + inserted
            }
            Db::Postgres(pool) => {
                let updated = sqlx::query(
                    "UPDATE child_keys SET wrapped = NULL, erased_at = $1
                      WHERE aggregate_id = $2 AND wrapped IS NOT NULL",
                )
                .bind(now)
                .bind(child)
                .execute(pool)
                .await?
                .rows_affected();
                let inserted = sqlx::query(
                    "INSERT INTO child_keys (aggregate_id, wrapped, erased_at) VALUES ($1, NULL, $2)
                     ON CONFLICT (aggregate_id) DO NOTHING",
                )
                .bind(child)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected();
                updated + inserted
            }
        };
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecourse_events::identifying::with_cipher;
    use lifecourse_events::Identifying;

    #[test]
    fn a_field_opens_for_its_own_child_only() {
        let key = ChildKey::Key([9u8; 32]);
        let name = Identifying::new("Léa".to_string());
        let stored = with_cipher(key.cipher("child-a").unwrap(), || {
            serde_json::to_string(&name).unwrap()
        });
        assert!(!stored.contains("Léa"));
        let back: Identifying<String> = with_cipher(key.cipher("child-a").unwrap(), || {
            serde_json::from_str(&stored).unwrap()
        });
        assert_eq!(back, name);
        let other = with_cipher(key.cipher("child-b").unwrap(), || {
            serde_json::from_str::<Identifying<String>>(&stored)
        });
        assert!(other.unwrap_err().to_string().contains("does not open"));
        let erased: Identifying<String> =
            with_cipher(ChildKey::Erased.cipher("child-a").unwrap(), || {
                serde_json::from_str(&stored).unwrap()
            });
        assert!(erased.is_erased());
    }

    #[test]
    fn a_wrapped_key_needs_the_same_master_key_and_child() {
        let keyring = Keyring::default();
        let _ = keyring.master.set([1u8; 32]);
        let (key, wrapped) = keyring.new_child_key("child-a").unwrap();
        assert_eq!(keyring.unwrap("child-a", &wrapped).unwrap(), key);
        assert!(keyring.unwrap("child-b", &wrapped).is_err());
        let other = Keyring::default();
        let _ = other.master.set([2u8; 32]);
        assert!(other.unwrap("child-a", &wrapped).is_err());
        assert_ne!(keyring.check_hash().unwrap(), other.check_hash().unwrap());
    }
}
