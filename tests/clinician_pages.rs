//! The clinicians' pages, over real HTTP against the real server: a social worker in real headless
//! Chromium (WebDriver) signs in, opens the worklist of the demo cohort, follows a gap to the
//! child's page, finds the chart and the timeline, records a family contact through the form and
//! sees the gap go; and, without a browser, hostile text rendered as text, forms refused without
//! the session's token, the access policy on pages, a form sent twice stored once, a rule's
//! refusal next to its field, and the child page of a hand-written child against a golden file.

mod common;
mod http_support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lifecourse::fixtures::*;
use lifecourse::ChildFileCommand;
use lifecourse_events::*;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use common::TestStore;
use http_support::pages::{form_token, hidden_value, plain_client, PageSession};
use http_support::start;

// ---------------------------------------------------------------------------------------------
// Helpers

/// Where screenshots and the golden file's actual output go, for people to look at.
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    std::fs::create_dir_all(&dir).expect("create an output folder under target/");
    dir
}

fn child_id(text: &str) -> ChildId {
    ChildId(Uuid::parse_str(text).unwrap())
}

/// The part of a page between `<main id="main">` and `</main>`.
fn main_of(html: &str) -> &str {
    let start = html
        .find("<main id=\"main\">")
        .expect("a page has a main element");
    let end = html.rfind("</main>").expect("main is closed");
    &html[start..end + "</main>".len()]
}

/// Records `command` in `child`'s file as the fixtures' social worker of centre-sud.
async fn record(store: &TestStore, child: ChildId, key: &str, command: ChildFileCommand) {
    store
        .record(common::calendar(), request(child, key, command))
        .await
        .unwrap_or_else(|e| panic!("recording {key}: {e}"));
}

/// How many entries of `event_type` the file holds.
async fn count_of(store: &TestStore, child: ChildId, event_type: &str) -> usize {
    store
        .history(child)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == event_type)
        .count()
}

/// A child of centre-sud, accepted, with a meeting and a plan: followed, so it has gaps.
async fn followed_child(store: &TestStore, child: ChildId) {
    record(
        store,
        child,
        &format!("{child}-open"),
        open_file("2025-01-06", "2017-05-10"),
    )
    .await;
    record(
        store,
        child,
        &format!("{child}-accept"),
        accept("2025-01-10"),
    )
    .await;
    record(
        store,
        child,
        &format!("{child}-meeting"),
        meeting("2025-01-20"),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// The browser

/// chromedriver on a free port, stopped (by its process id) when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not be started ({e}). This test needs Debian's chromium and \
                     chromium-driver: apt-get install -y chromium chromium-driver (.ci/run installs them)"
                )
            });
        let url = format!("http://127.0.0.1:{port}");
        let driver = Driver { process, url };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/status", driver.url)).send().await {
                if r.status().is_success() {
                    return driver;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer on {} within 20 s", driver.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn browser(driver: &Driver) -> fantoccini::Client {
    // The WebDriver client links two TLS back ends; it speaks plain HTTP to chromedriver, but
    // rustls wants one chosen.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_string(),
        json!({"args": ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1024"]}),
    );
    fantoccini::ClientBuilder::rustls()
        .expect("a TLS configuration")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with headless Chromium")
}

/// Waits until the browser has gone to `path` after a click (a click may return before the next
/// page has loaded on a busy machine), up to a minute; then the path must be `path`.
async fn arrived_at(client: &fantoccini::Client, path: &str) {
    for _ in 0..600 {
        if client.current_url().await.unwrap().path() == path {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(client.current_url().await.unwrap().path(), path);
}

async fn screenshot(client: &fantoccini::Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(out_dir("pages-screenshots").join(name), png).expect("save the screenshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_social_worker_follows_a_gap_and_records_a_family_contact_in_chromium() {
    use fantoccini::Locator;

    let store = common::sqlite().await;
    common::record_cohort(&store, 40).await;
    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let driver = Driver::start().await;
    let c = browser(&driver).await;

    // Not signed in: the worklist leads to the sign-in page, which leads back.
    c.goto(&format!(
        "{}/pages/worklist?rule=family_contact",
        server.base
    ))
    .await
    .unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/pages/sign-in"));
    c.find(Locator::Id("person"))
        .await
        .unwrap()
        .send_keys("sw1@centre-sud")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&http_support::password_of("sw1@centre-sud"))
        .await
        .unwrap();
    c.find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The worklist of family contacts, with its counts per kind.
    arrived_at(&c, "/pages/worklist").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/pages/worklist");
    assert_eq!(url.query(), Some("rule=family_contact"));
    let counts = c
        .find(Locator::Css("ul.counts"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(counts.contains("Family contact"), "{counts}");
    screenshot(&c, "worklist.png").await;

    // Follow the first gap to the child's page.
    let first = c
        .find(Locator::Css("main table tbody tr td a"))
        .await
        .expect("at least one family-contact gap in the demo cohort");
    let href = first.attr("href").await.unwrap().expect("a link");
    let name = first.text().await.unwrap();
    first.click().await.unwrap();
    arrived_at(&c, &href).await;
    let heading = c
        .find(Locator::Css("main h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, name);

    // The chart of needs and the timeline are there; the gap is listed.
    c.find(Locator::Css(
        "#needs ~ div.chart svg polyline, #needs ~ div.chart svg circle",
    ))
    .await
    .expect("the needs chart draws the meetings' levels");
    let timeline_rows = c
        .find_all(Locator::Css(
            "section[aria-labelledby=timeline] table tbody tr",
        ))
        .await
        .unwrap();
    assert!(
        timeline_rows.len() >= 3,
        "{} timeline rows",
        timeline_rows.len()
    );
    let gaps = c
        .find(Locator::Css("section[aria-labelledby=gaps]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(gaps.contains("Family contact"), "{gaps}");
    c.set_window_size(1280, 2000).await.unwrap();
    screenshot(&c, "child.png").await;
    c.set_window_size(1280, 1024).await.unwrap();
    let chart = c
        .find(Locator::Css("section[aria-labelledby=needs]"))
        .await
        .unwrap()
        .screenshot()
        .await
        .unwrap();
    std::fs::write(out_dir("pages-screenshots").join("child-needs.png"), chart).unwrap();

    // Record a family contact through the form (dated today, the default).
    c.find(Locator::LinkText("Record: Family contact"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrived_at(&c, &format!("{href}/record/family-contact")).await;
    c.find(Locator::Css("select#mode option[value=phone]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("select#with option[value=parent_or_guardian]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("note"))
        .await
        .unwrap()
        .send_keys("Called the mother: the appointment is confirmed.")
        .await
        .unwrap();
    screenshot(&c, "family-contact-form.png").await;
    c.find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Back on the child's page: recorded, the note in the timeline, the gap gone.
    arrived_at(&c, &href).await;
    let notice = c
        .find(Locator::Css("p.notice"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(notice, "Recorded.");
    let page = c.source().await.unwrap();
    assert!(page.contains("Called the mother: the appointment is confirmed."));
    let gaps = c
        .find(Locator::Css("section[aria-labelledby=gaps]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!gaps.contains("Family contact"), "{gaps}");

    // And off the worklist.
    c.goto(&format!(
        "{}/pages/worklist?rule=family_contact",
        server.base
    ))
    .await
    .unwrap();
    let links = c
        .find_all(Locator::Css("main table tbody tr td a"))
        .await
        .unwrap();
    for link in links {
        assert_ne!(
            link.attr("href").await.unwrap().as_deref(),
            Some(href.as_str())
        );
    }
    c.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Without a browser

async fn hostile_text_renders_as_text(store: TestStore) {
    let child = ChildId::new_random();
    let mut open = open_file("2025-01-06", "2017-05-10");
    if let ChildFileCommand::OpenFile(o) = &mut open {
        o.child.given_name = "<script>alert('name')</script>".into();
        o.child.family_name = "O'Brien & \"Co\"".into();
    }
    record(&store, child, "open", open).await;
    record(&store, child, "accept", accept("2025-01-10")).await;
    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let session = PageSession::sign_in(&server, "sw1@centre-sud").await;
    let path = format!("/pages/children/{child}/record/family-contact");
    let form = session.get(&path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let key = hidden_value(&form.body, "idempotency_key").unwrap();
    let sent = session
        .post(
            &path,
            &[
                ("csrf", &session.token().await),
                ("idempotency_key", &key),
                ("occurred_on", "2025-02-03"),
                ("mode", "phone"),
                ("with", "parent_or_guardian"),
                (
                    "note",
                    "<script>alert('note')</script><img src=x onerror=alert(1)>",
                ),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);

    let page = session.get(&format!("/pages/children/{child}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(!body.contains("<script"), "no script element on the page");
    assert!(!body.contains("<img"), "no image element on the page");
    assert!(
        body.contains("&lt;script&gt;alert('name')&lt;/script&gt; O'Brien &amp; &quot;Co&quot;")
    );
    assert!(body
        .contains("&lt;script&gt;alert('note')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // No script can run even if one slipped through: the page forbids them.
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(!policy.contains("script-src"), "{policy}");
    // The worklist and the search name the child as text too.
    let search = session.get("/pages/search?q=brien").await;
    assert!(search
        .body
        .contains("&lt;script&gt;alert('name')&lt;/script&gt;"));
    assert!(!search.body.contains("<script"));
    server.stop().await;
}

/// A family contact form with `token`, its token field first.
fn contact_form(token: &str) -> [(&str, &str); 5] {
    [
        ("csrf", token),
        ("idempotency_key", "page-csrf-test"),
        ("occurred_on", "2025-02-03"),
        ("mode", "phone"),
        ("with", "parent_or_guardian"),
    ]
}

async fn forms_without_the_sessions_token_are_refused(store: TestStore) {
    let child = ChildId::new_random();
    followed_child(&store, child).await;
    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    server
        .staff("sw2@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let session = PageSession::sign_in(&server, "sw1@centre-sud").await;
    let other = PageSession::sign_in(&server, "sw2@centre-sud").await;
    let path = format!("/pages/children/{child}/record/family-contact");
    // No token, an empty one, a made-up one, another session's.
    let others = other.token().await;
    for token in ["", "0000", others.as_str()] {
        let reply = session.post(&path, &contact_form(token)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert!(reply
            .body
            .contains("This form has expired or did not come from this site"));
    }
    assert_eq!(
        session.post(&path, &contact_form("")[1..]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        count_of(&server.store, child, "FamilyContactRecorded").await,
        0
    );

    // Sign-out is a form too.
    let reply = session.post("/pages/sign-out", &[("csrf", "0000")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(session.get("/pages/worklist").await.status, StatusCode::OK);

    // The sign-in form needs its cookie's token.
    let client = plain_client();
    let body = serde_urlencoded::to_string([
        ("csrf", "made-up"),
        ("person", "sw1@centre-sud"),
        (
            "password",
            http_support::password_of("sw1@centre-sud").as_str(),
        ),
    ])
    .unwrap();
    let reply = client
        .post(format!("{}/pages/sign-in", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "lifecourse_sign_in=another")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
    assert!(
        reply.headers().get("set-cookie").is_none(),
        "no session for a forged sign-in"
    );

    // With the token, the same form is stored; then sign-out ends the session.
    let token = session.token().await;
    let reply = session.post(&path, &contact_form(&token)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        count_of(&server.store, child, "FamilyContactRecorded").await,
        1
    );
    let reply = session.post("/pages/sign-out", &[("csrf", &token)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/pages/sign-in");
    let after = session.get("/pages/worklist").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location(), "/pages/sign-in?next=%2Fpages%2Fworklist");
    server.stop().await;
}

async fn the_access_policy_holds_on_pages(store: TestStore) {
    // A child of centre-sud with a clinical note, and one of centre-nord.
    let sud = ChildId::new_random();
    followed_child(&store, sud).await;
    let goal_id = GoalId::new_random();
    record(
        &store,
        sud,
        "plan",
        adopt_plan("2025-01-27", vec![goal(goal_id, "2025-03-01")]),
    )
    .await;
    let mut progress_note = progress("2025-02-10", goal_id, GoalStatus::InProgress);
    if let ChildFileCommand::RecordGoalProgress(p) = &mut progress_note {
        p.note = Some("clinical: suspected dyslexia, confidential".into());
    }
    record(&store, sud, "progress", progress_note).await;
    let nord = ChildId::new_random();
    let mut open = open_file("2025-01-06", "2016-02-02");
    if let ChildFileCommand::OpenFile(o) = &mut open {
        o.centre = CentreId::parse("centre-nord").unwrap();
    }
    let mut nord_request = request(nord, "nord-open", open);
    nord_request.recorded_by.centre = CentreId::parse("centre-nord").unwrap();
    store
        .record(common::calendar(), nord_request)
        .await
        .unwrap();

    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    server
        .staff("vol1@centre-sud", "volunteer", &["centre-sud"])
        .await;
    let sw = PageSession::sign_in(&server, "sw1@centre-sud").await;

    // Another centre's child reads exactly like a child that does not exist.
    let foreign = sw.get(&format!("/pages/children/{nord}")).await;
    let unknown = sw
        .get(&format!("/pages/children/{}", ChildId::new_random()))
        .await;
    let malformed = sw.get("/pages/children/not-a-child").await;
    for reply in [&foreign, &unknown, &malformed] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(main_of(&reply.body), main_of(&unknown.body));
    }
    assert!(unknown
        .body
        .contains("There is no such child in your centres."));
    let form = sw
        .get(&format!("/pages/children/{nord}/record/family-contact"))
        .await;
    assert_eq!(form.status, StatusCode::NOT_FOUND);
    assert_eq!(main_of(&form.body), main_of(&unknown.body));
    let search = sw.get("/pages/search?q=Tremblay").await;
    assert!(search.body.contains(&format!("/pages/children/{sud}")));
    assert!(
        !search.body.contains(&nord.to_string()),
        "another centre's child is not found"
    );

    // The clinician sees the note; the volunteer sees no clinical note, no plan, no worklist.
    let clinician = sw.get(&format!("/pages/children/{sud}")).await;
    assert!(clinician
        .body
        .contains("clinical: suspected dyslexia, confidential"));
    let vol = PageSession::sign_in(&server, "vol1@centre-sud").await;
    let page = vol.get(&format!("/pages/children/{sud}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page
        .body
        .contains("You see the entries you recorded yourself."));
    for clinical in [
        "suspected dyslexia",
        "speech assessment",
        "I want to read",
        "Marie Tremblay",
        "Léa",
    ] {
        assert!(
            !page.body.contains(clinical),
            "a volunteer sees {clinical:?}"
        );
    }
    assert!(page.body.contains("Record: Family contact"));
    assert!(!page.body.contains("Record: Goal progress"));
    let worklist = vol.get("/pages/worklist").await;
    assert_eq!(worklist.status, StatusCode::FORBIDDEN);
    let search = vol.get("/pages/search?q=Tremblay").await;
    assert_eq!(search.status, StatusCode::FORBIDDEN);
    assert!(!search.body.contains(&sud.to_string()));
    let goal_form = vol
        .get(&format!("/pages/children/{sud}/record/goal-progress"))
        .await;
    assert_eq!(goal_form.status, StatusCode::FORBIDDEN);
    assert!(!goal_form.body.contains("speech assessment"));

    // A volunteer records a family contact and then sees that entry, and only it.
    let path = format!("/pages/children/{sud}/record/family-contact");
    let form = vol.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    let key = hidden_value(&form.body, "idempotency_key").unwrap();
    let token = form_token(&form.body).unwrap();
    let reply = vol
        .post(
            &path,
            &[
                ("csrf", &token),
                ("idempotency_key", &key),
                ("occurred_on", "2025-02-12"),
                ("mode", "at_activity"),
                ("with", "child"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = vol.get(&format!("/pages/children/{sud}")).await;
    assert!(
        page.body.contains("family contact"),
        "{}",
        main_of(&page.body)
    );
    assert!(!page.body.contains("suspected dyslexia"));
    server.stop().await;
}

async fn a_form_sent_twice_is_stored_once(store: TestStore) {
    let child = ChildId::new_random();
    followed_child(&store, child).await;
    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let session = PageSession::sign_in(&server, "sw1@centre-sud").await;
    let path = format!("/pages/children/{child}/record/family-contact");
    let form = session.get(&path).await;
    let key = hidden_value(&form.body, "idempotency_key").unwrap();
    assert!(key.starts_with("page-"), "{key}");
    let token = form_token(&form.body).unwrap();
    let fields = [
        ("csrf", token.as_str()),
        ("idempotency_key", key.as_str()),
        ("occurred_on", "2025-02-03"),
        ("mode", "home_visit"),
        ("with", "whole_family"),
        ("note", "first visit at home"),
    ];
    for _ in 0..2 {
        let reply = session.post(&path, &fields).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(
            reply.location(),
            format!("/pages/children/{child}?recorded=family-contact")
        );
    }
    assert_eq!(
        count_of(&server.store, child, "FamilyContactRecorded").await,
        1
    );
    // A new showing of the form is a new key: a second contact is a second entry.
    let again = session.get(&path).await;
    let second = hidden_value(&again.body, "idempotency_key").unwrap();
    assert_ne!(second, key);
    server.stop().await;
}

async fn a_rule_refusal_is_shown_next_to_its_field(store: TestStore) {
    let child = ChildId::new_random();
    followed_child(&store, child).await;
    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let session = PageSession::sign_in(&server, "sw1@centre-sud").await;
    let token = session.token().await;
    let path = format!("/pages/children/{child}/record/family-contact");
    // Before the file was opened (2025-01-06), and an unchosen field.
    let reply = session
        .post(
            &path,
            &[
                ("csrf", &token),
                ("idempotency_key", "page-refused"),
                ("occurred_on", "2024-12-01"),
                ("mode", "phone"),
                ("with", "parent_or_guardian"),
                ("note", "kept as typed"),
            ],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let error = between(
        &reply.body,
        "<p class=\"error\" id=\"err-occurred_on\">",
        "</p>",
    );
    assert!(
        error.contains("2024-12-01") && error.contains("2025-01-06"),
        "{error}"
    );
    assert!(reply.body.contains("aria-describedby=\"err-occurred_on\""));
    assert!(
        reply.body.contains(">kept as typed</textarea>"),
        "what was typed stays"
    );
    let reply = session
        .post(
            &path,
            &[
                ("csrf", &token),
                ("idempotency_key", "page-refused-2"),
                ("occurred_on", "2025-13-01"),
                ("with", "parent_or_guardian"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        between(
            &reply.body,
            "<p class=\"error\" id=\"err-occurred_on\">",
            "</p>"
        ),
        "Expected a date such as 2026-04-01."
    );
    assert_eq!(
        between(&reply.body, "<p class=\"error\" id=\"err-mode\">", "</p>"),
        "Required."
    );
    assert_eq!(
        count_of(&server.store, child, "FamilyContactRecorded").await,
        0
    );
    server.stop().await;
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found in {text}"))
        + start.len();
    let to = text[from..].find(end).expect("the end marker") + from;
    &text[from..to]
}

on_both_stores!(
    hostile_text_renders_as_text,
    forms_without_the_sessions_token_are_refused,
    the_access_policy_holds_on_pages,
    a_form_sent_twice_is_stored_once,
    a_rule_refusal_is_shown_next_to_its_field,
);

// ---------------------------------------------------------------------------------------------
// The golden child page

/// One line per tag or text, so the golden file can be read and written by hand.
fn lines_of(html: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current = String::new();
    for c in html.chars() {
        match c {
            '<' => {
                if !current.trim().is_empty() {
                    out.push(current.trim().to_string());
                }
                current = String::from("<");
            }
            '>' => {
                current.push('>');
                out.push(current.trim().to_string());
                current.clear();
            }
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_child_page_of_a_hand_written_child_matches_its_golden_file() {
    let store = common::sqlite().await;
    let child = child_id("5a1e0000-0000-4000-8000-000000000001");
    let g1 = GoalId(Uuid::parse_str("90000000-0000-4000-8000-000000000001").unwrap());
    let g2 = GoalId(Uuid::parse_str("90000000-0000-4000-8000-000000000002").unwrap());
    let r1 = ReferralId(Uuid::parse_str("7e000000-0000-4000-8000-000000000001").unwrap());
    let s1 = ServiceId(Uuid::parse_str("5e000000-0000-4000-8000-000000000001").unwrap());
    record(
        &store,
        child,
        "g-open",
        open_file("2025-01-06", "2017-05-10"),
    )
    .await; // #1
    record(&store, child, "g-accept", accept("2025-01-10")).await; // #2
    record(&store, child, "g-meeting-1", meeting("2025-01-20")).await; // #3
    let mut second = goal(g2, "2025-04-30");
    second.domain = NeedDomain::SchoolLearning;
    second.description = "homework help twice a week".into();
    second.responsible = vec![Responsible::Role(ResponsibleParty::CentreTeam)];
    record(
        &store,
        child,
        "g-plan",
        adopt_plan("2025-01-27", vec![goal(g1, "2025-03-31"), second.clone()]),
    )
    .await; // #4
    record(
        &store,
        child,
        "g-service",
        start_service("2025-02-03", s1, vec![g2]),
    )
    .await; // #5
    let mut referral_made = referral("2025-02-03", r1, Some("2025-04-01"));
    if let ChildFileCommand::MakeReferral(r) = &mut referral_made {
        r.organisation = Some("CLSC <Hochelaga>".into());
    }
    record(&store, child, "g-referral", referral_made).await; // #6
    let mut call = contact_details("2025-02-10");
    call.note = Some("mother asks for a <b>school</b> meeting".into());
    record(
        &store,
        child,
        "g-contact",
        ChildFileCommand::RecordFamilyContact(call.clone()),
    )
    .await; // #7
    record(
        &store,
        child,
        "g-progress",
        progress("2025-03-03", g1, GoalStatus::InProgress),
    )
    .await; // #8
    record(
        &store,
        child,
        "g-waiting",
        outcome("2025-03-10", r1, ReferralOutcome::Waiting),
    )
    .await; // #9
    let mut fixed = call;
    fixed.mode = ContactMode::HomeVisit;
    record(
        &store,
        child,
        "g-correct",
        correct(
            "2025-03-12",
            7,
            lifecourse::domain::CorrectionRequest::ReplacedBy(Box::new(
                ChildEvent::FamilyContactRecorded(fixed),
            )),
        ),
    )
    .await; // #10
    let mut reassessment = meeting_details("2025-04-14");
    reassessment.needs[0].level = NeedLevel::Moderate;
    reassessment.needs[1].level = NeedLevel::Mild;
    reassessment.child_voice = None;
    record(
        &store,
        child,
        "g-meeting-2",
        ChildFileCommand::HoldAssessmentMeeting(reassessment),
    )
    .await; // #11
    let mut kept = goal(g1, "2025-09-30");
    kept.description = "speech assessment and daily reading at home".into();
    record(
        &store,
        child,
        "g-revise",
        revise_plan("2025-04-22", vec![kept]),
    )
    .await; // #12

    let server = start(store).await;
    server
        .staff("sw1@centre-sud", "social_worker", &["centre-sud"])
        .await;
    let session = PageSession::sign_in(&server, "sw1@centre-sud").await;
    let page = session
        .get(&format!("/pages/children/{child}?as_of=2025-05-15"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let actual = lines_of(main_of(&page.body));
    let golden_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/pages/child_page.html.txt");
    let expected: Vec<String> = std::fs::read_to_string(&golden_path)
        .expect("the golden file")
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if actual != expected {
        let written = out_dir("golden-actual").join("child_page.html.txt");
        std::fs::write(&written, actual.join("\n") + "\n").unwrap();
        let at = actual
            .iter()
            .zip(&expected)
            .position(|(a, e)| a != e)
            .unwrap_or(actual.len().min(expected.len()));
        panic!(
            "the child page differs from {} at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (the whole actual page, one tag or text a line: {})",
            golden_path.display(),
            at + 1,
            expected.get(at),
            actual.get(at),
            written.display()
        );
    }
    server.stop().await;
}
