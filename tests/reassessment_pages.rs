//! Before Noah's reassessment, his pediatrician and social worker read his file in the terminal:
//! the plan as it stood the day before the meeting, the worklist before and after it, the whole
//! trajectory and the history. Every page is compared with an expected file under
//! `tests/golden/noah/`, written by hand from the story below (not produced by the code).
//!
//! The story (`tests/golden/noah/story.jsonl`; Noah, born 2019-02-14, at a centre with a long id):
//!
//! | #  | clinical date | entry |
//! |----|---------------|-------|
//! | 1  | 2025-01-06 | request from school (École Baril); file opened |
//! | 2  | 2025-01-06 | circle: Amina Diallo, mother, primary contact, parental authority |
//! | 3  | 2025-01-08 | circle: Moussa Diallo, grandparent |
//! | 4  | 2025-01-10 | request accepted |
//! | 5  | 2025-01-10 | consent to information sharing, given by Amina |
//! | 6  | 2025-01-29 | first meeting: Amina, the doctor, the social worker, the teacher; four needs |
//! | 7  | 2025-01-29 | EDI screening, five domains |
//! | 8  | 2025-02-05 | plan v1: G1 dental (family + md1), G2 school (child, Amina, school), G3 flat, G6 reading; reassess by 2025-07-31 |
//! | 9  | 2025-02-10 | referral to dentistry (Clinique dentaire Hochelaga), expected 2025-03-31 |
//! | 10 | 2025-02-10 | referral to speech therapy (CIUSSS), expected 2025-05-31 |
//! | 11 | 2025-02-17 | homework tutoring by a volunteer, for G2 |
//! | 12 | 2025-02-20 | housing mediation (legal) |
//! | 13 | 2025-03-03 | speech therapy: waiting |
//! | 14 | 2025-03-15 | family contact with Amina (by phone; corrected by #22: a home visit) |
//! | 15 | 2025-03-20 | dentistry: seen |
//! | 16 | 2025-04-15 | G1 achieved |
//! | 17 | 2025-05-05 | G2 in progress |
//! | 18 | 2025-05-20 | mediation resolved |
//! | 19 | 2025-08-25 | reassessment, late, with Amina and Moussa (school need corrected by #23 to severe) |
//! | 20 | 2025-09-01 | plan v2: G2 carried, G4 replaces G3, G5 new; G1 achieved, G6 abandoned |
//! | 21 | 2025-09-01 | consent to research, given by Moussa as a significant adult |
//! | 22, 23 | 2025-09-10 | the two corrections |
//! | 24 | 2025-10-01 | mentoring by a volunteer, for G5 |
//! | 25–27 | 2025-10-20 … 2026-01-15 | G5 achieved, tutoring completed, G4 achieved |
//! | 28 | 2026-03-06 | file closed: moved out of the territory |
//! | 29 | 2026-02-20 | speech therapy seen — recorded after the closure, dated before it |

mod common;

use common::{cli, TestStore};

const CHILD: &str = "3f2a1c00-0000-4000-8000-000000000001";
const CENTRE: &str = "centre-de-pediatrie-sociale-hochelaga-maisonneuve";
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/noah");

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("{GOLDEN}/{name}")).expect("expected page")
}

/// The page without its last line (how current the read models are, which differs between
/// stores) and, for the history, with each record time and event id replaced by a placeholder.
fn page(url: &str, args: &[&str]) -> String {
    let out = cli::stdout(&cli::ok(url, args));
    let mut lines: Vec<&str> = out.lines().collect();
    let last = lines.pop().unwrap_or_default();
    assert!(
        last.starts_with("(up to date") || last.starts_with("(reflects"),
        "the page should end with how current it is: {last:?}"
    );
    let mut text = lines.join("\n") + "\n";
    text = mask(&text, "\n      recorded ", 24, "<recorded at>");
    mask(&text, "· event ", 36, "<event id>")
}

fn mask(text: &str, after: &str, width: usize, placeholder: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(after) {
        let start = i + after.len();
        out.push_str(&rest[..start]);
        out.push_str(placeholder);
        rest = &rest[(start + width).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

fn same(actual: &str, name: &str) {
    let expected = expected(name);
    if actual != expected {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines().chain(std::iter::repeat("<missing>")))
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(5)
            .map(|(i, (e, a))| format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1))
            .collect();
        panic!(
            "{name} differs from the expected page:\n{}\n--- whole page ---\n{actual}",
            diff.join("\n")
        );
    }
}

async fn noah_reads_as_written(store: TestStore) {
    let url = store.url.clone();
    for (person, role) in [
        ("sw1@hm", "social_worker"),
        ("md1@hm", "doctor"),
        ("legal1@hm", "legal_advisor"),
    ] {
        cli::ok(
            &url,
            &[
                "staff", "add", person, "--name", person, "--role", role, "--centre", CENTRE,
            ],
        );
    }
    let story = expected("story.jsonl");
    let steps: Vec<serde_json::Value> = story
        .lines()
        .map(|l| serde_json::from_str(l).expect("a story line"))
        .collect();
    assert_eq!(steps.len(), 29);
    for (n, step) in steps.iter().enumerate() {
        let person = step["as"].as_str().expect("as");
        let out = cli::record(&url, person, &step["request"].to_string());
        assert!(
            out.status.success(),
            "step {} refused: {}",
            n + 1,
            cli::stderr(&out)
        );
    }
    cli::ok(&url, &["project"]);
    fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [&["--as", "sw1@hm"][..], args].concat()
    }

    same(
        &page(&url, &with(&["plan", CHILD, "--as-of", "2025-08-24"])),
        "plan_2025-08-24.txt",
    );
    same(
        &page(&url, &with(&["gaps", "--as-of", "2025-08-24"])),
        "gaps_2025-08-24.txt",
    );
    same(
        &page(&url, &["gaps", "--as-of", "2025-08-26"]),
        "gaps_2025-08-26_every_centre.txt",
    );
    same(&page(&url, &with(&["trajectory", CHILD])), "trajectory.txt");
    same(&page(&url, &with(&["history", CHILD])), "history.txt");

    // As of a date between an entry and its correction: the entry reads corrected, and the
    // correction is said to come later (it is not in that view).
    let before_corrections = page(&url, &with(&["trajectory", CHILD, "--as-of", "2025-09-05"]));
    let words = before_corrections
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains(
            "corrected later, on 2025-09-10 (after this view's date) by entry #22: it was a home \
             visit, not a call mode: phone → home visit"
        ),
        "{before_corrections}"
    );
    assert!(!words.contains("2025-09-10 #22"), "{before_corrections}");
    assert!(
        words.contains("first meeting 2025-01-29 → open"),
        "{before_corrections}"
    );
    assert!(!words.contains("file closed"), "{before_corrections}");

    // A revision reads as a revision.
    let revised = page(&url, &with(&["plan", CHILD, "--as-of", "2025-09-05"]));
    assert!(
        revised.contains("Plan v2, revised 2025-09-01 after meeting #2: 3 goals"),
        "{revised}"
    );

    // Every page fits in 100 columns.
    for args in [
        vec!["trajectory", CHILD],
        vec!["history", CHILD],
        vec!["plan", CHILD, "--as-of", "2025-09-05"],
        vec!["gaps", "--as-of", "2025-12-01"],
    ] {
        let out = cli::stdout(&cli::ok(&url, &with(&args)));
        let widest = out.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(
            widest <= 100,
            "{args:?} has a line of {widest} columns:\n{out}"
        );
        assert!(widest > 60, "{args:?} printed almost nothing:\n{out}");
    }

    // Before the file existed there is no trajectory to show, and the page says why.
    let none = cli::run(&url, &with(&["trajectory", CHILD, "--as-of", "2024-12-31"]));
    assert_eq!(cli::code(&none), Some(2), "{}", cli::stderr(&none));
    assert!(cli::stdout(&none).is_empty());
    assert!(
        cli::stderr(&none).contains(&format!(
            "child {CHILD} had no file on 2024-12-31: the file was opened on 2025-01-06"
        )),
        "{}",
        cli::stderr(&none)
    );
}

on_both_stores!(noah_reads_as_written);
