//! Anchors: a Merkle root over every child's chain head at one moment, signed with an ed25519
//! key kept outside the database, stored in the `anchors` table and written out as a small file
//! that a centre keeps elsewhere or publishes. A store rewritten behind the engine's back — even a
//! whole chain recomputed by someone with the database owner's rights — no longer matches the
//! anchors taken before.

use std::path::Path;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::chain::{canonical, Digest32};
use super::verify::Head;

/// The format name written in every anchor file.
pub const FORMAT: &str = "lifecourse-anchor-1";

/// What an anchor records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub format: String,
    pub created_at: DateTime<Utc>,
    /// "sqlite" or "postgres".
    pub store: String,
    pub children: u64,
    pub events: u64,
    /// The Merkle root over `heads` (hex SHA-256).
    pub root: String,
    /// Every child's last event when the anchor was taken, by child id.
    pub heads: Vec<Head>,
}

/// An anchor with its signature: the anchor file's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAnchor {
    #[serde(flatten)]
    pub anchor: Anchor,
    /// The ed25519 public key that signed it (hex).
    pub public_key: String,
    /// The ed25519 signature over the anchor's canonical JSON (hex).
    pub signature: String,
}

/// Why an anchor cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("cannot read the anchor key file {path}: {source}")]
    KeyUnreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("the anchor key file {path} does not hold a key: expected 64 hexadecimal characters (an ed25519 secret key, as `lifecourse anchor --new-key` writes it)")]
    KeyInvalid { path: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} already exists; a key is never overwritten: choose another path or remove it yourself")]
    KeyExists { path: String },
    #[error("cannot read the anchor file {path}: {problem}")]
    FileUnreadable { path: String, problem: String },
    #[error(
        "the anchor file is not signed by the key it names (its signature or content was changed)"
    )]
    BadSignature,
    #[error("the anchor file's root does not match its heads (its content was changed)")]
    RootMismatch,
    #[error("the anchor file was signed by key {found}, not by the expected key {expected}")]
    UnexpectedKey { found: String, expected: String },
}

/// The Merkle root over heads sorted by child: leaves hash (child, sequence, seal), inner nodes
/// hash their two children, an odd node is carried up unchanged.
pub fn merkle_root(heads: &[Head]) -> Digest32 {
    let mut level: Vec<[u8; 32]> = heads
        .iter()
        .map(|h| {
            let mut hasher = Sha256::new();
            hasher.update(b"lifecourse-leaf-1\0");
            hasher.update(h.child.as_bytes());
            hasher.update(b"\0");
            hasher.update(h.sequence.to_be_bytes());
            hasher.update(h.seal.as_bytes());
            hasher.finalize().into()
        })
        .collect();
    if level.is_empty() {
        return Digest32(Sha256::digest(b"lifecourse-empty-1").into());
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => {
                    let mut hasher = Sha256::new();
                    hasher.update(b"lifecourse-node-1\0");
                    hasher.update(left);
                    hasher.update(right);
                    hasher.finalize().into()
                }
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two"),
            })
            .collect();
    }
    Digest32(level[0])
}

fn signed_bytes(anchor: &Anchor) -> Vec<u8> {
    let value = serde_json::to_value(anchor).expect("an anchor always serialises");
    let mut out = Vec::new();
    canonical(&value, &mut out, None);
    out
}

impl Anchor {
    /// An anchor over `heads` (sorted here by child).
    pub fn new(store: &str, created_at: DateTime<Utc>, mut heads: Vec<Head>) -> Self {
        heads.sort_by(|a, b| a.child.cmp(&b.child));
        Self {
            format: FORMAT.to_string(),
            created_at,
            store: store.to_string(),
            children: heads.len() as u64,
            events: heads.iter().map(|h| h.sequence).sum(),
            root: merkle_root(&heads).to_hex(),
            heads,
        }
    }

    pub fn sign(self, key: &SigningKey) -> SignedAnchor {
        let signature = key.sign(&signed_bytes(&self));
        SignedAnchor {
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
            anchor: self,
        }
    }
}

impl SignedAnchor {
    /// Checks the signature against the key the anchor names and the root against its heads.
    pub fn check(&self) -> Result<(), AnchorError> {
        let key_bytes: [u8; 32] = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(AnchorError::BadSignature)?;
        let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| AnchorError::BadSignature)?;
        let signature_bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(AnchorError::BadSignature)?;
        let signature = Signature::from_bytes(&signature_bytes);
        key.verify(&signed_bytes(&self.anchor), &signature)
            .map_err(|_| AnchorError::BadSignature)?;
        if merkle_root(&self.anchor.heads).to_hex() != self.anchor.root {
            return Err(AnchorError::RootMismatch);
        }
        Ok(())
    }

    /// The file's text: pretty JSON, one field per line.
    pub fn to_file_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("an anchor always serialises");
        text.push('\n');
        text
    }

    pub fn read(path: &Path) -> Result<Self, AnchorError> {
        let unreadable = |problem: String| AnchorError::FileUnreadable {
            path: path.display().to_string(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
        let anchor: SignedAnchor =
            serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
        if anchor.anchor.format != FORMAT {
            return Err(unreadable(format!(
                "format {:?}, expected {FORMAT:?}",
                anchor.anchor.format
            )));
        }
        Ok(anchor)
    }
}

/// Reads an ed25519 secret key (64 hex characters) from a file.
pub fn read_key(path: &Path) -> Result<SigningKey, AnchorError> {
    let text = std::fs::read_to_string(path).map_err(|source| AnchorError::KeyUnreadable {
        path: path.display().to_string(),
        source,
    })?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| AnchorError::KeyInvalid {
        path: path.display().to_string(),
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Writes a new random key to `path` (readable by its owner only); never overwrites a file.
pub fn new_key(path: &Path) -> Result<SigningKey, AnchorError> {
    use std::io::Write;
    let write_error = |source| AnchorError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| write_error(std::io::Error::other(e)))?;
    let key = SigningKey::from_bytes(&bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            AnchorError::KeyExists {
                path: path.display().to_string(),
            }
        } else {
            write_error(e)
        }
    })?;
    writeln!(file, "{}", hex::encode(bytes)).map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    Ok(key)
}

/// A public key's short fingerprint, for people to compare.
pub fn fingerprint(public_key_hex: &str) -> String {
    public_key_hex.chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(child: &str, sequence: u64, seal: &str) -> Head {
        Head {
            child: child.into(),
            sequence,
            seal: seal.into(),
        }
    }

    #[test]
    fn a_signed_anchor_checks_and_any_change_is_caught() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let heads = vec![head("b", 3, "bb"), head("a", 2, "aa"), head("c", 1, "cc")];
        let signed = Anchor::new("sqlite", DateTime::UNIX_EPOCH, heads).sign(&key);
        assert_eq!(signed.anchor.heads[0].child, "a");
        assert_eq!(signed.anchor.events, 6);
        signed.check().unwrap();

        let text = signed.to_file_text();
        let back: SignedAnchor = serde_json::from_str(&text).unwrap();
        back.check().unwrap();

        let mut forged = signed.clone();
        forged.anchor.heads[1].seal = "zz".into();
        forged.anchor.root = merkle_root(&forged.anchor.heads).to_hex();
        assert!(matches!(forged.check(), Err(AnchorError::BadSignature)));
    }

    #[test]
    fn the_root_depends_on_every_head_and_its_place() {
        let a = [head("a", 1, "x"), head("b", 1, "y"), head("c", 1, "z")];
        let root = merkle_root(&a);
        let mut b = a.clone();
        b[2].sequence = 2;
        assert_ne!(root, merkle_root(&b));
        assert_ne!(root, merkle_root(&a[..2]));
        assert_ne!(merkle_root(&a[..1]), merkle_root(&[]));
    }
}
