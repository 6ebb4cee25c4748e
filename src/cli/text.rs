//! One format for every text page: dates as YYYY-MM-DD, ages as "8y 6m", durations as
//! "41 days", counts with their noun ("1 goal", "3 goals"), lines wrapped to [`WIDTH`] columns
//! with continuation lines indented, free text with control characters escaped.

use lifecourse_events::*;
use lifecourse_projections::CircleStory;

use super::shown;

/// The widest line a text page writes.
pub const WIDTH: usize = 100;

/// An age in whole months as "8y 6m".
pub fn age(months: i32) -> String {
    format!("{}y {}m", months / 12, months % 12)
}

/// A number of days as "1 day", "41 days".
pub fn days(n: i64) -> String {
    if n == 1 || n == -1 {
        format!("{n} day")
    } else {
        format!("{n} days")
    }
}

/// `text` wrapped to [`WIDTH`] columns, as many words on a line as fit (first fit, so a reader
/// can predict it): the first line starts with `first`, the others with `rest` (spaces). Words
/// are never split at hyphens (dates stay whole). Free text inside must already be escaped with
/// [`shown`].
pub fn wrapped(first: &str, rest: &str, text: &str) -> String {
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
        .break_words(true);
    let mut out = textwrap::fill(text, options);
    out.push('\n');
    out
}

/// Free text as shown: control characters escaped, quoted.
pub fn quoted(text: &Identifying<String>) -> String {
    format!("\"{}\"", shown(text.expose()))
}

/// Who answers for a goal, in words: roles as words, staff by their id, circle members by name
/// and relation.
pub fn responsible(parties: &[Responsible], circle: &[CircleStory]) -> String {
    parties
        .iter()
        .map(|p| match p {
            Responsible::Role(role) => role.to_string(),
            Responsible::Staff(person) => shown(person.as_str()).into_owned(),
            Responsible::Member(member) => member_name(*member, circle),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A circle member as "Name (relation)", or their id where the file does not know them.
pub fn member_name(member: CircleMemberId, circle: &[CircleStory]) -> String {
    circle
        .iter()
        .find(|m| m.member_id == member)
        .map(|m| format!("{} ({})", shown(m.name.expose()), m.relation))
        .unwrap_or_else(|| format!("circle member {member}"))
}

/// One member of the circle on one line: name, relation, how to reach them, since when.
pub fn circle_line(m: &CircleStory) -> String {
    let mut line = format!(
        "{} — {}, {}",
        shown(m.name.expose()),
        m.relation,
        m.contact_role
    );
    if m.parental_authority {
        line.push_str(", parental authority");
    }
    line.push_str(&format!(", since {}", m.since));
    if let Some(left) = m.left_on {
        line.push_str(&format!(", left {left}"));
    }
    line
}

/// "none" for an empty list, else the items joined with ", ".
pub fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_days_and_wrapping_follow_one_format() {
        assert_eq!(age(102), "8y 6m");
        assert_eq!(days(1), "1 day");
        assert_eq!(days(41), "41 days");
        let dates = "2025-02-10 ".repeat(20);
        assert!(wrapped("", "", dates.trim())
            .lines()
            .all(|l| l.split(' ').all(|w| w.len() == 10)));
        let long = "word ".repeat(40);
        let text = wrapped("  - ", "    ", long.trim());
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(
            text.lines().skip(1).all(|l| l.starts_with("    word")),
            "{text}"
        );
    }
}
