//! A team at work: each command is recorded as the person acting, as the staff register knows
//! them, for a file of one of their centres; the request body never says who records.

mod common;

use common::{calendar, TestStore};
use lifecourse::app::{App, AppError, ErrorKind, NewStaff, Principal, Role};
use lifecourse::fixtures::*;
use lifecourse_events::*;

fn person(id: &str) -> PersonId {
    PersonId::parse(id).unwrap()
}

fn centre_id(id: &str) -> CentreId {
    CentreId::parse(id).unwrap()
}

async fn register(app: &App, id: &str, role: Role, centres: &[&str]) -> Principal {
    app.add_staff(NewStaff {
        person: person(id),
        display_name: id.to_uppercase(),
        role,
        centres: centres.iter().map(|c| centre_id(c)).collect(),
    })
    .await
    .unwrap();
    app.principal(&person(id)).await.unwrap()
}

async fn the_principal_records_whatever_the_request_says(store: TestStore) {
    let app = App::new(store.store.clone());
    let doctor = register(
        &app,
        "md1@centre-sud",
        Role::Staff(StaffRole::Doctor),
        &["centre-sud"],
    )
    .await;
    let child = ChildId::new_random();
    // The request names sw1 (the fixtures' recorder); the doctor is the one acting.
    app.record_request(
        &doctor,
        calendar(),
        request(child, "open", open_file("2024-03-01", "2017-05-10")),
    )
    .await
    .unwrap();
    let history = app.history(child).await.unwrap().value;
    assert_eq!(
        history[0].metadata.recorded_by,
        Recorder {
            person: person("md1@centre-sud"),
            role: StaffRole::Doctor,
            centre: centre_id("centre-sud"),
        }
    );
}

async fn a_file_is_recorded_in_only_by_its_centres_staff(store: TestStore) {
    let app = App::new(store.store.clone());
    let sud = register(
        &app,
        "sw1@centre-sud",
        Role::Staff(StaffRole::SocialWorker),
        &["centre-sud"],
    )
    .await;
    let hochelaga = register(
        &app,
        "sw1@hochelaga",
        Role::Staff(StaffRole::SocialWorker),
        &["hochelaga"],
    )
    .await;
    let child = ChildId::new_random();
    let err = app
        .record_request(
            &hochelaga,
            calendar(),
            request(child, "open", open_file("2024-03-01", "2017-05-10")),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(err.exit_code(), 3);
    assert!(app.history(child).await.is_err(), "nothing stored");

    app.record_request(
        &sud,
        calendar(),
        request(child, "open", open_file("2024-03-01", "2017-05-10")),
    )
    .await
    .unwrap();
    app.record_request(
        &sud,
        calendar(),
        request(child, "accept", accept("2024-03-04")),
    )
    .await
    .unwrap();
    let err = app
        .record_request(
            &hochelaga,
            calendar(),
            request(child, "contact", contact("2024-03-05")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::OtherCentre { centre, .. } if centre.as_str() == "centre-sud"),
        "{err}"
    );
    // Once the file is transferred, it is Hochelaga's: the receiving team records, the sending
    // team no longer does.
    app.record_request(
        &sud,
        calendar(),
        request(child, "transfer", transfer("2024-04-01", "hochelaga")),
    )
    .await
    .unwrap();
    app.record_request(
        &hochelaga,
        calendar(),
        request(child, "contact", contact("2024-04-02")),
    )
    .await
    .unwrap();
    let err = app
        .record_request(
            &sud,
            calendar(),
            request(child, "contact2", contact("2024-04-03")),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let history = app.history(child).await.unwrap().value;
    let recorded: Vec<(u64, &str, &str)> = history
        .iter()
        .map(|e| {
            (
                e.sequence,
                e.metadata.recorded_by.person.as_str(),
                e.metadata.recorded_by.centre.as_str(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        vec![
            (1, "sw1@centre-sud", "centre-sud"),
            (2, "sw1@centre-sud", "centre-sud"),
            (3, "sw1@centre-sud", "centre-sud"),
            (4, "sw1@hochelaga", "hochelaga"),
        ]
    );
}

async fn unknown_and_disabled_people_cannot_act(store: TestStore) {
    let app = App::new(store.store.clone());
    let err = app
        .principal(&person("nobody@centre-sud"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.exit_code(), 2);
    register(
        &app,
        "sw2@centre-sud",
        Role::Staff(StaffRole::SocialWorker),
        &["centre-sud"],
    )
    .await;
    app.disable_staff(&person("sw2@centre-sud")).await.unwrap();
    let err = app.principal(&person("sw2@centre-sud")).await.unwrap_err();
    assert!(matches!(err, AppError::DisabledPerson(_)), "{err}");
    let err = app
        .disable_staff(&person("nobody@centre-sud"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::UnknownPerson(_)), "{err}");
    // Adding someone twice changes nothing.
    let again = app
        .add_staff(NewStaff {
            person: person("sw2@centre-sud"),
            display_name: "someone else".into(),
            role: Role::Auditor,
            centres: vec![centre_id("hochelaga")],
        })
        .await
        .unwrap();
    assert!(!again);
    let staff = app.list_staff().await.unwrap();
    assert_eq!(staff.len(), 1);
    assert_eq!(staff[0].role, Role::Staff(StaffRole::SocialWorker));
    assert_eq!(staff[0].centres, vec![centre_id("centre-sud")]);
    assert!(!staff[0].active);
}

async fn an_unknown_child_is_not_found_for_commands_and_queries(store: TestStore) {
    let app = App::new(store.store.clone());
    let sud = register(
        &app,
        "sw1@centre-sud",
        Role::Staff(StaffRole::SocialWorker),
        &["centre-sud"],
    )
    .await;
    let child = ChildId::new_random();
    let err = app
        .record_request(
            &sud,
            calendar(),
            request(child, "contact", contact("2024-03-05")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::UnknownChild(c) if c == child));
    assert_eq!(err.exit_code(), 2);
    let err = app.plan(child, None, None).await.unwrap_err();
    assert!(matches!(err, AppError::UnknownChild(c) if c == child));
    let err = app.trajectory(child, None, None).await.unwrap_err();
    assert!(matches!(err, AppError::UnknownChild(c) if c == child));
    let err = app.history(child).await.unwrap_err();
    assert!(matches!(err, AppError::UnknownChild(c) if c == child));
}

on_both_stores!(
    the_principal_records_whatever_the_request_says,
    a_file_is_recorded_in_only_by_its_centres_staff,
    unknown_and_disabled_people_cannot_act,
    an_unknown_child_is_not_found_for_commands_and_queries,
);

#[test]
fn each_kind_of_failure_has_one_exit_code() {
    let codes: Vec<(ErrorKind, u8)> = [
        ErrorKind::Store,
        ErrorKind::Internal,
        ErrorKind::Invalid,
        ErrorKind::NotFound,
        ErrorKind::Refused,
        ErrorKind::Forbidden,
        ErrorKind::Conflict,
    ]
    .into_iter()
    .map(|k| (k, k.exit_code()))
    .collect();
    assert_eq!(
        codes,
        vec![
            (ErrorKind::Store, 1),
            (ErrorKind::Internal, 1),
            (ErrorKind::Invalid, 2),
            (ErrorKind::NotFound, 2),
            (ErrorKind::Refused, 3),
            (ErrorKind::Forbidden, 3),
            (ErrorKind::Conflict, 4),
        ]
    );
}
