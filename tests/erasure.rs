//! A family asks for the child's data to be erased: the centre's coordinator erases it, and from
//! then on none of the child's identifying values appears in any view, in the logs or anywhere in
//! the database's bytes (the SQLite file, a `pg_dump`), while another child is untouched, the
//! non-identifying trajectory remains and every seal still verifies.

mod common;

use common::{calendar, TestStore};
use lifecourse::app::{App, AppError, NewStaff, Principal, Role};
use lifecourse::fixtures::*;
use lifecourse::ChildFileCommand;
use lifecourse_events::*;
use uuid::Uuid;

/// The identifying values of one child, each found nowhere else in the test.
struct Identity {
    given: &'static str,
    family: &'static str,
    born: &'static str,
    address: &'static str,
    phone: &'static str,
    school: &'static str,
    request: &'static str,
    parent: &'static str,
    organisation: &'static str,
    provider: &'static str,
    note: &'static str,
    reason: &'static str,
}

const ERASED_CHILD: Identity = Identity {
    given: "Zéphyrine",
    family: "Quibblesworth-Ngata",
    born: "2016-02-29",
    address: "77 rue Introuvable, app. 4",
    phone: "514-555-0199",
    school: "École Pamplemousse",
    request: "Mme Ondine Farfadet s'inquiète; '); DROP TABLE events; -- <script>",
    parent: "Ondine Farfadet-Ngata",
    organisation: "Clinique Hibou-Lune",
    provider: "Atelier Colibri-Farfadet",
    note: "Zéphyrine a parlé de son oncle Horace Vermicelle",
    reason: "notes papier de Mme Pistachio",
};

const OTHER_CHILD: Identity = Identity {
    given: "Barnabé",
    family: "Witness-Control",
    born: "2015-11-11",
    address: "12 avenue Témoin",
    phone: "438-555-0123",
    school: "École Contrôle",
    request: "demande de Mme Témoin-Contrôle",
    parent: "Gertrude Witness-Control",
    organisation: "Centre Contrôle-Témoin",
    provider: "Studio Témoin",
    note: "Barnabé aime le soccer au parc Témoin",
    reason: "notes papier de M. Contrôle",
};

impl Identity {
    fn values(&self) -> Vec<&'static str> {
        vec![
            self.given,
            self.family,
            self.born,
            self.address,
            self.phone,
            self.school,
            self.request,
            self.parent,
            self.organisation,
            self.provider,
            self.note,
            self.reason,
        ]
    }
}

fn person(id: &str) -> PersonId {
    PersonId::parse(id).unwrap()
}

async fn staff(app: &App, id: &str, role: Role) -> Principal {
    app.add_staff(NewStaff {
        person: person(id),
        display_name: id.to_string(),
        role,
        centres: vec![centre()],
    })
    .await
    .unwrap();
    app.principal(&person(id)).await.unwrap()
}

/// Records a file holding every kind of identifying value of `who`.
async fn record_child(app: &App, sw: &Principal, who: &Identity) -> ChildId {
    let child = ChildId::new_random();
    let parent = CircleMemberId(Uuid::new_v4());
    let (referral, service) = (ReferralId(Uuid::new_v4()), ServiceId(Uuid::new_v4()));
    let commands = vec![
        ChildFileCommand::OpenFile(ChildFileOpened {
            occurred_on: date("2024-03-01"),
            centre: centre(),
            child: ChildIdentity {
                given_name: who.given.into(),
                family_name: who.family.into(),
                birth_date: Identifying::new(date(who.born)),
                address: Some(who.address.into()),
                phone: Some(who.phone.into()),
            },
            request: Request {
                source: ReferralSource::School,
                source_detail: Some(who.school.into()),
                reason: who.request.into(),
            },
        }),
        ChildFileCommand::AddCircleMember(CircleMemberAdded {
            occurred_on: date("2024-03-01"),
            member_id: parent,
            name: who.parent.into(),
            relation: Relation::Mother,
            contact_role: ContactRole::PrimaryContact,
            parental_authority: true,
            phone: Some(who.phone.into()),
        }),
        accept("2024-03-04"),
        ChildFileCommand::MakeReferral(ReferralMade {
            occurred_on: date("2024-03-05"),
            referral_id: referral,
            resource: ExternalResource::SpeechTherapy,
            organisation: Some(who.organisation.into()),
            expected_outcome_by: Some(date("2024-04-05")),
            reason: Some(who.note.into()),
        }),
        ChildFileCommand::StartService(ServiceStarted {
            occurred_on: date("2024-03-06"),
            service_id: service,
            kind: ServiceKind::SportsAndArt,
            format: ServiceFormat::Group,
            provider: ServiceProvider::Partner,
            provider_name: Some(who.provider.into()),
            provider_person: None,
            linked_goals: vec![],
        }),
        ChildFileCommand::RecordFamilyContact(FamilyContactRecorded {
            note: Some(who.note.into()),
            ..contact_details("2024-03-07")
        }),
    ];
    for (i, command) in commands.into_iter().enumerate() {
        let mut request = request(child, &format!("k{i}"), command);
        if i == 5 {
            request.reason = Some(who.reason.into());
        }
        app.record_request(sw, calendar(), request).await.unwrap();
    }
    child
}

/// Every value of `values` found in `haystack`.
fn found_in<'a>(haystack: &[u8], values: &[&'a str]) -> Vec<&'a str> {
    values
        .iter()
        .copied()
        .filter(|v| haystack.windows(v.len()).any(|w| w == v.as_bytes()))
        .collect()
}

/// Everything the database holds, as bytes: the SQLite file and its logs, or a `pg_dump`.
fn database_bytes(store: &TestStore) -> Vec<u8> {
    if let Some(path) = store.url.strip_prefix("sqlite://") {
        let mut bytes = std::fs::read(path).unwrap();
        for suffix in ["-wal", "-journal"] {
            if let Ok(more) = std::fs::read(format!("{path}{suffix}")) {
                bytes.extend(more);
            }
        }
        bytes
    } else {
        let output = std::process::Command::new(common::cluster::pg_bin("pg_dump"))
            .args(["--dbname", &store.url, "--data-only"])
            .output()
            .expect("run pg_dump");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

/// What every reader could see of `child`: its history, plan and trajectory, as JSON.
async fn every_view(app: &App, child: ChildId) -> Vec<u8> {
    let mut out = Vec::new();
    let history = app.history(child).await.unwrap().value;
    out.extend(serde_json::to_vec(&history).unwrap());
    let plan = app.plan(child, None, None).await.unwrap().value;
    out.extend(serde_json::to_vec(&plan).unwrap());
    let trajectory = app.trajectory(child, None, None).await.unwrap().value;
    out.extend(serde_json::to_vec(&trajectory).unwrap());
    let text = lifecourse::cli::history::render_text(&history);
    out.extend(text.into_bytes());
    out
}

async fn erasing_leaves_no_identifying_value_anywhere(store: TestStore) {
    let app = App::open(&store.url).await.unwrap();
    let sw = staff(&app, "sw1@centre-sud", Role::Staff(StaffRole::SocialWorker)).await;
    let coordinator = staff(
        &app,
        "coord@centre-sud",
        Role::Staff(StaffRole::Coordinator),
    )
    .await;
    let erased = record_child(&app, &sw, &ERASED_CHILD).await;
    let other = record_child(&app, &sw, &OTHER_CHILD).await;
    common::catch_up_fully(&app).await;

    // Before: the views show both children; the events hold no identifying value in plain text.
    let views = every_view(&app, erased).await;
    assert_eq!(found_in(&views, &ERASED_CHILD.values()).len(), 12);
    let events_only = store.history(erased).await.unwrap();
    assert_eq!(events_only[0].event.event_type(), "ChildFileOpened");
    let raw_payloads = raw_payloads(&store).await;
    assert_eq!(
        found_in(&raw_payloads, &ERASED_CHILD.values()),
        Vec::<&str>::new()
    );
    assert_eq!(
        found_in(&raw_payloads, &OTHER_CHILD.values()),
        Vec::<&str>::new()
    );

    // Only the coordinator erases.
    let refused = app
        .erase(&sw, erased, ErasureReason::RequestOfThePerson)
        .await
        .unwrap_err();
    assert!(matches!(refused, AppError::Denied(_)), "{refused}");
    let erasure = app
        .erase(&coordinator, erased, ErasureReason::RequestOfThePerson)
        .await
        .unwrap();
    assert!(erasure.key_destroyed);
    assert_eq!(erasure.recorded.entries[0].sequence, 7);
    // A repeat stores nothing new.
    let again = app
        .erase(&coordinator, erased, ErasureReason::RequestOfThePerson)
        .await
        .unwrap();
    assert!(again.recorded.replayed && !again.key_destroyed);
    // `erase` itself brought the read models up to date (on either store) and scrubbed SQLite's
    // log: nothing is caught up here.

    // Every view of the erased child: nothing identifying; the rest of the trajectory remains.
    let views = every_view(&app, erased).await;
    assert_eq!(found_in(&views, &ERASED_CHILD.values()), Vec::<&str>::new());
    let trajectory = app.trajectory(erased, None, None).await.unwrap().value;
    assert_eq!(trajectory.referrals.len(), 1);
    assert_eq!(trajectory.services.len(), 1);
    assert_eq!(trajectory.timeline.len(), 7);
    assert!(trajectory.timeline.iter().all(|e| e.age_months.is_none()));
    // As known before the erasure, too.
    let before = erasure_moment(&app, erased).await;
    let old = app
        .trajectory(erased, None, Some(before))
        .await
        .unwrap()
        .value;
    assert_eq!(
        found_in(&serde_json::to_vec(&old).unwrap(), &ERASED_CHILD.values()),
        Vec::<&str>::new()
    );
    // The other child is untouched.
    let views = every_view(&app, other).await;
    assert_eq!(found_in(&views, &OTHER_CHILD.values()).len(), 12);

    // The database's bytes: none of the erased child's values; the other child's circle and
    // referral, which its read models show, are there, so the scan finds what is there.
    let bytes = database_bytes(&store);
    assert_eq!(found_in(&bytes, &ERASED_CHILD.values()), Vec::<&str>::new());
    let other_found = found_in(&bytes, &OTHER_CHILD.values());
    assert!(
        other_found.contains(&OTHER_CHILD.parent)
            && other_found.contains(&OTHER_CHILD.organisation),
        "{other_found:?}"
    );

    // Nothing more can be recorded in the file.
    let refused = app
        .record_request(
            &sw,
            calendar(),
            request(erased, "late", contact("2024-04-01")),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("erased"), "{refused}");

    // The seals still verify: they cover the sealed text.
    let report = app.verify(None, None).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!(report.events, 13);

    // The command line and its logs, at the most talkative level, show none of it either.
    let output = common::cli::command(
        &store.url,
        &["--as", "sw1@centre-sud", "trajectory", &erased.to_string()],
    )
    .env("LIFECOURSE_LOG", "trace")
    .output()
    .unwrap();
    assert!(output.status.success());
    let mut printed = output.stdout.clone();
    printed.extend(&output.stderr);
    assert_eq!(
        found_in(&printed, &ERASED_CHILD.values()),
        Vec::<&str>::new()
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("(erased)"));
    app.close().await;
}

/// When the erasure was recorded, less a millisecond.
async fn erasure_moment(app: &App, child: ChildId) -> chrono::DateTime<chrono::Utc> {
    let history = app.history(child).await.unwrap().value;
    history.last().unwrap().recorded_at - chrono::Duration::milliseconds(1)
}

/// Every stored payload and metadata, as text.
async fn raw_payloads(store: &TestStore) -> Vec<u8> {
    let mut out = Vec::new();
    store
        .sealed_streams(None, |_, rows| {
            for row in rows {
                out.extend(row.payload.to_string().into_bytes());
                out.extend(row.metadata.to_string().into_bytes());
            }
        })
        .await
        .unwrap();
    assert!(!out.is_empty());
    out
}

async fn the_command_line_erases_with_confirmation_only(store: TestStore) {
    let app = App::open(&store.url).await.unwrap();
    let sw = staff(&app, "sw1@centre-sud", Role::Staff(StaffRole::SocialWorker)).await;
    staff(
        &app,
        "coord@centre-sud",
        Role::Staff(StaffRole::Coordinator),
    )
    .await;
    let child = record_child(&app, &sw, &ERASED_CHILD).await;
    app.close().await;
    let id = child.to_string();
    let erase = |args: &[&str]| {
        let mut all = vec!["--as", "coord@centre-sud", "erase", &id];
        all.extend_from_slice(args);
        common::cli::run(&store.url, &all)
    };
    // An erasure is not an ordinary command: it would leave the key alive.
    let as_command = format!(
        r#"{{"child_id":"{id}","idempotency_key":"e1","command":{{"type":"erase_identity","occurred_on":"2024-03-08","reason":"court_order"}}}}"#
    );
    let refused = common::cli::record(&store.url, "coord@centre-sud", &as_command);
    assert_eq!(
        common::cli::code(&refused),
        Some(2),
        "{}",
        common::cli::stderr(&refused)
    );
    assert!(common::cli::stderr(&refused).contains("use `lifecourse --as COORDINATOR erase"));
    let unconfirmed = erase(&["--reason", "court-order"]);
    assert_eq!(common::cli::code(&unconfirmed), Some(2));
    assert!(common::cli::stderr(&unconfirmed).contains("cannot be undone: add --yes"));
    let bad_reason = erase(&["--reason", "because", "--yes"]);
    assert_eq!(common::cli::code(&bad_reason), Some(2));
    assert!(common::cli::stderr(&bad_reason).contains("court_order"));
    let not_coordinator = common::cli::run(
        &store.url,
        &[
            "--as",
            "sw1@centre-sud",
            "erase",
            &id,
            "--reason",
            "court-order",
            "--yes",
        ],
    );
    assert_eq!(common::cli::code(&not_coordinator), Some(3));
    // Nothing was erased so far.
    assert_eq!(store.history(child).await.unwrap().len(), 6);
    // At the most talkative log level, the erasure's own run prints none of the values either.
    let done = common::cli::command(
        &store.url,
        &[
            "--as",
            "coord@centre-sud",
            "erase",
            &id,
            "--reason",
            "court-order",
            "--yes",
        ],
    )
    .env("LIFECOURSE_LOG", "trace")
    .output()
    .unwrap();
    assert_eq!(
        common::cli::code(&done),
        Some(0),
        "{}",
        common::cli::stderr(&done)
    );
    assert!(common::cli::stdout(&done).contains("is erased (entry #7)"));
    let mut printed = done.stdout.clone();
    printed.extend(&done.stderr);
    assert!(printed.len() > 1000, "trace logging is on");
    assert_eq!(
        found_in(&printed, &ERASED_CHILD.values()),
        Vec::<&str>::new()
    );
    let again = erase(&["--reason", "court-order", "--yes"]);
    assert_eq!(common::cli::code(&again), Some(0));
    assert!(common::cli::stdout(&again).contains("already erased"));
    let history = store.history(child).await.unwrap();
    assert_eq!(history.len(), 7);
    assert!(history[0].event.event_type() == "ChildFileOpened");
    match &history[0].event {
        ChildEvent::ChildFileOpened(o) => {
            assert!(o.child.given_name.is_erased());
            assert_eq!(o.child.birth_date.known(), None);
        }
        other => panic!("{other:?}"),
    }
}

/// An erasure stored, then the process stopped before the key was destroyed: every reader
/// already sees the file without its identity, and `erase` again — another day, another reason
/// — completes it instead of being refused.
async fn a_half_done_erasure_hides_the_identity_and_is_completed(store: TestStore) {
    let app = App::open(&store.url).await.unwrap();
    let sw = staff(&app, "sw1@centre-sud", Role::Staff(StaffRole::SocialWorker)).await;
    let coordinator = staff(
        &app,
        "coord@centre-sud",
        Role::Staff(StaffRole::Coordinator),
    )
    .await;
    let child = record_child(&app, &sw, &ERASED_CHILD).await;
    // The entry alone, as the first half of an erasure leaves it (below the application layer).
    store
        .record(
            calendar(),
            request(
                child,
                &format!("erase-{child}"),
                ChildFileCommand::EraseIdentity(IdentityErased {
                    occurred_on: date("2024-03-09"),
                    reason: ErasureReason::CourtOrder,
                }),
            ),
        )
        .await
        .unwrap();
    let history = app.history(child).await.unwrap().value;
    let shown = lifecourse::cli::history::render_text(&history);
    assert_eq!(
        found_in(shown.as_bytes(), &ERASED_CHILD.values()),
        Vec::<&str>::new()
    );
    let done = app
        .erase(&coordinator, child, ErasureReason::RequestOfThePerson)
        .await
        .unwrap();
    assert!(done.recorded.replayed && done.key_destroyed);
    assert_eq!(done.recorded.entries[0].sequence, 7);
    assert_eq!(store.history(child).await.unwrap().len(), 7);
    let bytes = database_bytes(&store);
    assert_eq!(found_in(&bytes, &ERASED_CHILD.values()), Vec::<&str>::new());
    app.close().await;
}

on_both_stores!(
    erasing_leaves_no_identifying_value_anywhere,
    the_command_line_erases_with_confirmation_only,
    a_half_done_erasure_hides_the_identity_and_is_completed,
);
