//! Properties of the stores over random valid histories: a file reloaded from either store equals
//! the file as it was built in memory; sequences have no gaps; global positions only grow.

mod common;

use std::cell::Cell;

use common::journeys::{steps, Journey};
use common::{calendar, TestStore};
use lifecourse::fixtures::request;
use lifecourse::ChildFile;
use lifecourse_events::ChildId;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

async fn a_reloaded_file_equals_the_file_in_memory(store: TestStore) {
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    });
    let highest_position = Cell::new(0i64);
    let result = tokio::task::block_in_place(|| {
        runner.run(&steps(60), |steps| {
            handle.block_on(async {
                let child = ChildId::new_random();
                let (mut journey, mut commands) = Journey::open(child, calendar().today);
                commands.extend(steps.iter().filter_map(|step| journey.command_for(step)));
                for (n, command) in commands.iter().enumerate() {
                    let req = request(child, &format!("p-{n}"), command.clone());
                    store.record(calendar(), req).await.map_err(fail)?;
                }

                let history = store.history(child).await.map_err(fail)?;
                let sequences: Vec<u64> = history.iter().map(|e| e.sequence).collect();
                prop_assert_eq!(sequences, (1..=commands.len() as u64).collect::<Vec<_>>());
                let positions: Vec<i64> = history.iter().map(|e| e.position).collect();
                prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "{:?}", positions);
                prop_assert!(
                    positions[0] > highest_position.get(),
                    "later commits, higher positions"
                );
                highest_position.set(*positions.last().expect("at least the opening"));

                let rebuilt = ChildFile::from_entries(history.into_iter().map(|e| e.event));
                prop_assert_eq!(&rebuilt, &journey.file);
                let loaded = store.load(child).await.map_err(fail)?;
                prop_assert_eq!(&loaded, &journey.file);
                Ok(())
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

on_both_stores!(a_reloaded_file_equals_the_file_in_memory);
