//! The seal of one event: SHA-256 over a canonical encoding of what the engine wrote (child,
//! sequence, event type, schema version, payload, metadata) and the previous event's seal.
//!
//! The encoding is canonical, not the stored bytes: PostgreSQL's `jsonb` reorders keys and drops
//! whitespace, so the payload and metadata are re-encoded with object keys in byte order and no
//! whitespace before hashing. Every field is length-prefixed, so no two different events encode
//! alike. The seal is stored in the event's own metadata under [`SEAL_KEY`], which the seal itself
//! does not cover. The database adds `position`, `event_id` and `recorded_at` after the engine
//! has sealed the event: they are not covered.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The metadata key under which an event's seal is stored (hex SHA-256).
pub const SEAL_KEY: &str = "seal";

/// Names the encoding, so a later one cannot be confused with it.
const DOMAIN: &[u8] = b"lifecourse-seal-1";

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }
}

impl std::fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl std::fmt::Display for Digest32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

/// What a seal covers, as the engine wrote it (payload and metadata as JSON values).
pub struct Link<'a> {
    pub child: &'a str,
    pub sequence: u64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a Value,
    pub metadata: &'a Value,
}

/// The seal of `link` following the seal `previous` (`None` for a stream's first event).
pub fn seal(link: &Link<'_>, previous: Option<&Digest32>) -> Digest32 {
    let mut buffer = Vec::with_capacity(1024);
    seal_with(&mut buffer, link, previous)
}

/// As [`seal`], reusing `buffer` for the encoding.
pub fn seal_with(buffer: &mut Vec<u8>, link: &Link<'_>, previous: Option<&Digest32>) -> Digest32 {
    buffer.clear();
    field(buffer, DOMAIN);
    field(buffer, link.child.as_bytes());
    field(buffer, link.sequence.to_string().as_bytes());
    field(buffer, link.event_type.as_bytes());
    field(buffer, link.event_version.as_bytes());
    let start = begin(buffer);
    canonical(link.payload, buffer, None);
    end(buffer, start);
    let start = begin(buffer);
    canonical(link.metadata, buffer, Some(SEAL_KEY));
    end(buffer, start);
    match previous {
        Some(p) => field(buffer, &p.0),
        None => field(buffer, b""),
    }
    Digest32(Sha256::digest(&buffer[..]).into())
}

fn field(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    buffer.extend_from_slice(bytes);
}

/// Reserves a length prefix; `end` fills it in.
fn begin(buffer: &mut Vec<u8>) -> usize {
    buffer.extend_from_slice(&[0u8; 8]);
    buffer.len()
}

fn end(buffer: &mut [u8], start: usize) {
    let len = (buffer.len() - start) as u64;
    buffer[start - 8..start].copy_from_slice(&len.to_be_bytes());
}

/// Canonical JSON: object keys in byte order, no whitespace, strings and numbers as serde_json
/// writes them. `skip` leaves out one key of the top-level object (the seal itself).
pub fn canonical(value: &Value, out: &mut Vec<u8>, skip: Option<&str>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| skip != Some(k.as_str())).collect();
            keys.sort_unstable();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                canonical(&map[key], out, None);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out, None);
            }
            out.push(b']');
        }
        Value::String(s) => write_string(s, out),
        other => {
            // null, booleans and numbers: serde_json's own text (a number as it was parsed).
            serde_json::to_writer(&mut *out, other).expect("writing to a Vec cannot fail");
        }
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn link<'a>(payload: &'a Value, metadata: &'a Value) -> Link<'a> {
        Link {
            child: "c1",
            sequence: 1,
            event_type: "ChildFileOpened",
            event_version: "1.0",
            payload,
            metadata,
        }
    }

    #[test]
    fn key_order_and_whitespace_do_not_change_the_seal() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": "é"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":"\u00e9","y":[1,2]},"b":1}"#).unwrap();
        let m = json!({"k": "v"});
        assert_eq!(seal(&link(&a, &m), None), seal(&link(&b, &m), None));
    }

    #[test]
    fn the_stored_seal_is_not_covered_but_everything_else_is() {
        let p = json!({"a": 1});
        let m = json!({"k": "v"});
        let sealed = json!({"k": "v", "seal": "abc"});
        let base = seal(&link(&p, &m), None);
        assert_eq!(base, seal(&link(&p, &sealed), None));
        assert_ne!(base, seal(&link(&json!({"a": 2}), &m), None));
        assert_ne!(base, seal(&link(&p, &json!({"k": "w"})), None));
        assert_ne!(base, seal(&link(&p, &m), Some(&base)));
        let mut other = link(&p, &m);
        other.sequence = 2;
        assert_ne!(base, seal(&other, None));
    }

    #[test]
    fn canonical_json_is_sorted_and_compact() {
        let v: Value = serde_json::from_str(r#"{ "z": [true, null, 1.5], "a": "x\"y" }"#).unwrap();
        let mut out = Vec::new();
        canonical(&v, &mut out, None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x\"y","z":[true,null,1.5]}"#
        );
    }

    #[test]
    fn fields_cannot_run_into_each_other() {
        let p = json!({});
        let m = json!({});
        let mut a = link(&p, &m);
        a.child = "ab";
        a.event_type = "c";
        let mut b = link(&p, &m);
        b.child = "a";
        b.event_type = "bc";
        assert_ne!(seal(&a, None), seal(&b, None));
    }
}
