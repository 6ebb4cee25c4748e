//! How corrections read: an entry named by a later `EntryCorrected` counts as its latest
//! correction says (replaced, or gone if entered in error). The entries themselves never change.

use std::collections::HashMap;

use crate::event::{ChildEvent, Correction};

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
