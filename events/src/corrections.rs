//! How corrections read: an entry named by a later `EntryCorrected` counts as its latest
//! correction says (replaced, or gone if entered in error). The entries themselves never change.

use std::collections::HashMap;

use serde_json::Value;

use crate::event::{ChildEvent, Correction};
use crate::identifying::Identifying;

/// The entries of one file as they now count, each with its sequence number. `entries` yields the
/// file's entries in sequence order starting at sequence 1 (a whole file, or the prefix known at
/// some moment). Corrections themselves are left out; the latest correction of an entry wins.
pub fn effective_entries<'a, I>(entries: I) -> Vec<(u64, &'a ChildEvent)>
where
    I: IntoIterator<Item = &'a ChildEvent>,
    I::IntoIter: Clone,
{
    let entries = entries.into_iter();
    let mut latest: HashMap<u64, &Correction> = HashMap::new();
    for entry in entries.clone() {
        if let ChildEvent::EntryCorrected(c) = entry {
            latest.insert(c.corrects_sequence, &c.correction);
        }
    }
    entries
        .zip(1u64..)
        .filter_map(|(entry, sequence)| {
            if matches!(entry, ChildEvent::EntryCorrected(_)) {
                return None;
            }
            match latest.get(&sequence) {
                None => Some((sequence, entry)),
                Some(Correction::EnteredInError) => None,
                Some(Correction::Replaced { replacement, .. }) => {
                    Some((sequence, replacement.as_ref()))
                }
            }
        })
        .collect()
}

/// One field a correction changed: where it is in the entry (`participants #5`,
/// `needs #2 level`), and its value before and after (`None` where it was or became absent).
/// Values may identify someone (a name, a note), so they are `Identifying`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Identifying<String>>,
    pub after: Option<Identifying<String>>,
}

/// What a replacement changes in an entry of the same type, field by field, in the order the
/// fields are written. Lists are compared item by item (`participants #5`); an item or object
/// present on one side only is shown whole.
pub fn changes(before: &ChildEvent, after: &ChildEvent) -> Vec<FieldChange> {
    let (Ok(before), Ok(after)) = (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return vec![];
    };
    // Both are `{"EventType": {...}}`: compare the bodies.
    let body = |v: &Value| {
        v.as_object()
            .and_then(|o| o.values().next())
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut out = vec![];
    diff(String::new(), &body(&before), &body(&after), &mut out);
    out
}

fn diff(path: String, before: &Value, after: &Value, out: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.replace('_', " ")
        } else {
            format!("{path} {}", key.replace('_', " "))
        }
    };
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().collect();
            keys.extend(a.keys().filter(|k| !b.contains_key(*k)));
            for key in keys {
                let (vb, va) = (
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                );
                diff(join(key), vb, va, out);
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            for i in 0..b.len().max(a.len()) {
                let (vb, va) = (
                    b.get(i).unwrap_or(&Value::Null),
                    a.get(i).unwrap_or(&Value::Null),
                );
                // An item of a list by domain (needs, goals, screening results) is named by its
                // domain where that names one item only; otherwise by its place in the list.
                let item = match domain_of(vb).or_else(|| domain_of(va)) {
                    Some(domain)
                        if [b, a].iter().all(|list| {
                            list.iter().filter(|v| domain_of(v) == Some(domain)).count() <= 1
                        }) =>
                    {
                        format!("{path} ({})", domain.replace('_', " "))
                    }
                    _ => format!("{path} #{}", i + 1),
                };
                diff(item, vb, va, out);
            }
        }
        _ => out.push(FieldChange {
            field: path,
            before: plain(before).map(Identifying::new),
            after: plain(after).map(Identifying::new),
        }),
    }
}

fn domain_of(value: &Value) -> Option<&str> {
    value.get("domain").and_then(Value::as_str)
}

/// A JSON value as a person reads it: text bare, objects as `key value, key value`.
fn plain(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        // A vocabulary word reads as words ("home_visit" as "home visit").
        Value::String(s)
            if !s.is_empty()
                && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && s.contains('_') =>
        {
            Some(s.replace('_', " "))
        }
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("yes".into()),
        Value::Bool(false) => Some("no".into()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(plain)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Value::Object(fields) => Some(
            fields
                .iter()
                .filter_map(|(k, v)| plain(v).map(|v| format!("{} {v}", k.replace('_', " "))))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(with: &str, note: Option<&str>) -> ChildEvent {
        let mut body =
            serde_json::json!({"occurred_on": "2024-03-02", "mode": "phone", "with": with});
        if let Some(n) = note {
            body["note"] = n.into();
        }
        serde_json::from_value(serde_json::json!({ "FamilyContactRecorded": body })).unwrap()
    }

    #[test]
    fn a_changed_field_reads_before_and_after() {
        let c = changes(
            &contact("child", None),
            &contact("parent_or_guardian", Some("called back")),
        );
        let shown: Vec<(String, Option<String>, Option<String>)> = c
            .into_iter()
            .map(|c| {
                (
                    c.field,
                    c.before.map(Identifying::into_inner),
                    c.after.map(Identifying::into_inner),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (
                    "with".into(),
                    Some("child".into()),
                    Some("parent or guardian".into())
                ),
                ("note".into(), None, Some("called back".into())),
            ]
        );
    }

    #[test]
    fn list_items_are_named_by_their_domain_where_it_is_theirs_alone() {
        let meeting = |level: &str| -> ChildEvent {
            serde_json::from_value(serde_json::json!({"AssessmentMeetingHeld": {
                "occurred_on": "2024-03-02", "meeting_number": 1, "kind": "initial",
                "participants": [{"role": "parent"}], "child_took_part": false,
                "needs": [{"domain": "development", "level": "mild"},
                          {"domain": "school_learning", "level": level}]}}))
            .unwrap()
        };
        let c = changes(&meeting("mild"), &meeting("severe"));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "needs (school learning) level");
    }

    #[test]
    fn an_identical_entry_has_no_changes() {
        assert!(changes(&contact("child", None), &contact("child", None)).is_empty());
    }
}
