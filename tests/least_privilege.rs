//! A production deployment on PostgreSQL: the owner migrates, the application runs under a role
//! with exactly the grants README.md documents, records, projects and reads under it, and cannot
//! rewrite history — no `DROP TRIGGER`, `UPDATE`, `DELETE`, `TRUNCATE` or `ALTER TABLE` on
//! events. A schema behind the release is refused, not migrated, by the application.

mod common;

use lifecourse::app::{App, AppError, NewStaff, Role};
use lifecourse::fixtures::*;
use lifecourse::store::StoreError;
use lifecourse_events::*;
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_records_and_reads_but_cannot_rewrite_events() {
    let owned = common::postgres().await; // created and migrated by the owner
    let database = owned.url.rsplit('/').next().unwrap().to_string();
    let role = format!(
        "lc_app_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut owner = sqlx::PgConnection::connect(&owned.url).await.unwrap();
    let grants = common::documented_grants(&role, &database);
    assert_eq!(grants.len(), 12, "{grants:#?}");
    for statement in &grants {
        sqlx::query(statement)
            .execute(&mut owner)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }

    let app_url = common::as_role(&owned.url, &role);
    let outcome = async move {
        let app = App::open(&app_url).await.unwrap();
        app.add_staff(NewStaff {
            person: PersonId::parse("sw1@centre-sud").unwrap(),
            display_name: "Sophie Wilson".into(),
            role: Role::Staff(StaffRole::SocialWorker),
            centres: vec![CentreId::parse("centre-sud").unwrap()],
        })
        .await
        .unwrap();
        let sw1 = app
            .principal(&PersonId::parse("sw1@centre-sud").unwrap())
            .await
            .unwrap();
        let child = ChildId::new_random();
        for (key, command) in [
            ("open", open_file("2024-03-01", "2017-05-10")),
            ("accept", accept("2024-03-04")),
        ] {
            app.record_request(&sw1, common::calendar(), request(child, key, command))
                .await
                .unwrap();
        }
        // The first catch-up rebuilds into scratch tables of the role's own.
        common::catch_up_fully(&app).await;
        let plan = app.plan(child, None, None).await.unwrap();
        assert_eq!(plan.freshness.behind, 0);
        assert_eq!(
            serde_json::to_value(&plan.value).unwrap()["status"],
            "active"
        );
        // Verifying and anchoring need no more than the documented grants.
        let key = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
        let anchor = app.anchor(&key).await.unwrap();
        assert_eq!((anchor.anchor.children, anchor.anchor.events), (1, 2));
        assert!(app.verify(None, Some(&anchor)).await.unwrap().is_clean());
        app.set_setting("follow_up.family_contact_days", "45")
            .await
            .unwrap();
        common::catch_up_fully(&app).await;
        let gaps = app
            .gaps(None, date("2024-04-20"), None, lifecourse::app::Page::ALL)
            .await
            .unwrap();
        let found: Vec<(String, String)> = gaps
            .value
            .gaps
            .iter()
            .map(|g| (g.rule.as_str().to_string(), g.due_on.to_string()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("first_meeting".to_string(), "2024-04-03".to_string()),
                ("family_contact".to_string(), "2024-04-18".to_string()),
            ]
        );
        app.close().await;

        let mut conn = sqlx::PgConnection::connect(&app_url).await.unwrap();
        for (statement, expected) in [
            (
                "DROP TRIGGER events_no_update_or_delete ON events",
                "must be owner of",
            ),
            ("UPDATE events SET sequence = sequence", "permission denied"),
            ("DELETE FROM events", "permission denied"),
            ("TRUNCATE events", "permission denied"),
            (
                "ALTER TABLE events ADD COLUMN note text",
                "must be owner of",
            ),
            ("DROP TABLE proj_action_plan", "must be owner of"),
            (
                "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete",
                "must be owner of",
            ),
            (
                "SET session_replication_role = replica",
                "permission denied",
            ),
            ("UPDATE anchors SET root = 'forged'", "permission denied"),
            ("DELETE FROM anchors", "permission denied"),
            ("DELETE FROM child_keys", "permission denied"),
            (
                "UPDATE child_keys SET aggregate_id = 'x'",
                "permission denied",
            ),
        ] {
            let err = sqlx::query(statement)
                .execute(&mut conn)
                .await
                .expect_err(statement)
                .to_string();
            assert!(err.contains(expected), "{statement}: {err}");
        }
        let _ = conn.close().await;
    };
    let result = tokio::spawn(outcome).await;
    drop(owner);
    drop(owned); // drops the database, and with it every grant
    let mut admin = sqlx::PgConnection::connect(&common::admin_url())
        .await
        .unwrap();
    sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_behind_the_release_is_refused_not_migrated() {
    let owned = common::postgres().await;
    let mut owner = sqlx::PgConnection::connect(&owned.url).await.unwrap();
    // As if the database were still at the previous release.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    let err = App::open(&owned.url).await.err().expect("refused");
    assert!(
        matches!(
            err,
            AppError::Store(StoreError::SchemaBehind {
                applied: 10, // 0001-0006, 0008-0011 shipped, 0011 undone: the highest left is 10
                expected: 11
            })
        ),
        "{err}"
    );
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string().contains("run `lifecourse migrate`"),
        "{err}"
    );
}
