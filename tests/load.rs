//! The load test (ignored by default; BENCHMARKS.md, "Serving a team under load"): `lifecourse
//! serve` runs as its own process on loopback over the demo cohort, and this process plays
//! concurrent clinicians, each in turn recording a family contact, reading that child's
//! trajectory with `wait_for_position` (read-your-writes: the time includes waiting for the
//! runner), reading another child's trajectory, and reading a page of 20 of the worklist, for a
//! bounded time. Only documented answers are allowed (201,
//! 200, 422 refused by the rules, 409 conflict); every acknowledged command must be in the store
//! afterwards, and nothing else; the server stops gracefully on SIGTERM.
//!
//! ```sh
//! cargo test --release --test load -- --ignored --nocapture
//! LOAD_SECONDS=60 LOAD_CLINICIANS=8 LOAD_CHILDREN=400 cargo test --release --test load -- --ignored --nocapture
//! ```

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifecourse::app::App;
use lifecourse_events::*;
use serde_json::{json, Value};
use tokio::sync::Mutex;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn lifecourse(url: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("LIFECOURSE_AS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lifecourse");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "lifecourse {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    statuses: BTreeMap<(&'static str, u16), u64>,
    acknowledged: Vec<(ChildId, String)>,
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a minute of load; run with --ignored (BENCHMARKS.md)"]
async fn clinicians_record_and_read_concurrently() {
    let seconds = env_or("LOAD_SECONDS", 60);
    let clinicians = env_or("LOAD_CLINICIANS", 8) as usize;
    let children = env_or("LOAD_CHILDREN", 400);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("LOAD_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("load.db").display()));
    if url.starts_with("postgres") {
        lifecourse(&url, &["migrate"], None);
    }
    lifecourse(&url, &["demo", "--children", &children.to_string()], None);
    for i in 0..clinicians {
        let person = format!("load-sw{i}@centre-sud");
        lifecourse(
            &url,
            &[
                "staff",
                "add",
                &person,
                "--name",
                "Load",
                "--role",
                "social_worker",
                "--centre",
                "centre-sud",
            ],
            None,
        );
        lifecourse(
            &url,
            &["staff", "set-password", &person],
            Some("load test password\n"),
        );
    }
    let before = App::open(&url).await.unwrap().stats().await.unwrap().events;

    // The server: a second process, on a free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_lifecourse"))
        .args(["serve", "--bind", &bind])
        .env("DATABASE_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let base = format!("http://{bind}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    for _ in 0..200 {
        if client.get(format!("{base}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The centre's children with something on the worklist: who the clinicians work on.
    let mut tokens = Vec::new();
    for i in 0..clinicians {
        let reply: Value = client
            .post(format!("{base}/tokens"))
            .json(&json!({"person": format!("load-sw{i}@centre-sud"), "password": "load test password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(reply["token"].as_str().expect("a token").to_string());
    }
    let page: Value = client
        .get(format!("{base}/gaps?limit=1000"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<ChildId> = page["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["child_id"].as_str().unwrap().parse().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert!(!ids.is_empty(), "the demo cohort has gaps");
    let ids = Arc::new(ids);

    let tally = Arc::new(Mutex::new(Tally::default()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let today = chrono::Local::now().date_naive().to_string();
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (client, base, ids, tally, today) = (
            client.clone(),
            base.clone(),
            ids.clone(),
            tally.clone(),
            today.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            // Bounded in count as well as in time.
            while Instant::now() < deadline && n < 100_000 {
                let child = ids[(i * 7919 + n * 104_729) % ids.len()];
                let key = format!("load-{i}-{n}");
                let started = Instant::now();
                let reply = client
                    .post(format!("{base}/children/{child}/entries"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", &key)
                    .json(&json!({"command": {"type": "record_family_contact", "occurred_on": today, "mode": "phone", "with": "parent_or_guardian"}}))
                    .send()
                    .await
                    .unwrap();
                let record_status = reply.status().as_u16();
                let body: Value = reply.json().await.unwrap_or(Value::Null);
                let record_took = started.elapsed();
                let position = body["position"].as_i64();

                let started = Instant::now();
                let path = match position {
                    Some(p) => format!("{base}/children/{child}/trajectory?wait_for_position={p}"),
                    None => format!("{base}/children/{child}/trajectory"),
                };
                let status = client.get(path).bearer_auth(&token).send().await.unwrap();
                let trajectory_status = status.status().as_u16();
                let _ = status.bytes().await;
                let trajectory_took = started.elapsed();

                // A plain read of another child (no waiting).
                let other = ids[(i * 31 + n * 17 + 1) % ids.len()];
                let started = Instant::now();
                let status = client
                    .get(format!("{base}/children/{other}/trajectory"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let plain_status = status.status().as_u16();
                let _ = status.bytes().await;
                let plain_took = started.elapsed();

                let started = Instant::now();
                let offset = (n * 20) % 200;
                let status = client
                    .get(format!("{base}/gaps?limit=20&offset={offset}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let gaps_status = status.status().as_u16();
                let _ = status.bytes().await;
                let gaps_took = started.elapsed();

                let mut t = tally.lock().await;
                for (name, status, took) in [
                    ("record", record_status, record_took),
                    ("trajectory_after_write", trajectory_status, trajectory_took),
                    ("trajectory", plain_status, plain_took),
                    ("gaps", gaps_status, gaps_took),
                ] {
                    t.latencies.entry(name).or_default().push(took);
                    *t.statuses.entry((name, status)).or_default() += 1;
                }
                if record_status == 201 && body["replayed"] == false {
                    t.acknowledged.push((child, key));
                }
                n += 1;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    // Graceful stop: SIGTERM, in-flight requests and the runner's round finish, exit 0.
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = server.wait().unwrap();
    assert!(
        exit.success(),
        "the server stops cleanly on SIGTERM: {exit:?}"
    );

    let tally = Arc::try_unwrap(tally).ok().unwrap().into_inner();
    for ((name, status), count) in &tally.statuses {
        println!("{name:<22} {status}: {count}");
        let documented = match *name {
            "record" => [201, 409, 422].contains(status),
            _ => *status == 200,
        };
        assert!(documented, "{name} answered {status} {count} time(s)");
    }
    println!(
        "{} clinicians, {seconds} s, {} children on the worklist",
        clinicians,
        ids.len()
    );
    for (name, mut latencies) in tally.latencies {
        latencies.sort();
        println!(
            "{name:<22} n={:<6} p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  ({:.0}/s)",
            latencies.len(),
            percentile(&latencies, 50).as_secs_f64() * 1000.0,
            percentile(&latencies, 99).as_secs_f64() * 1000.0,
            latencies.last().unwrap().as_secs_f64() * 1000.0,
            latencies.len() as f64 / seconds as f64
        );
    }

    // Nothing lost, nothing extra: every acknowledged command is in the store, and only they.
    let app = App::open(&url).await.unwrap();
    let after = app.stats().await.unwrap().events;
    println!(
        "acknowledged commands: {}; events in the store: {before} before, {after} after",
        tally.acknowledged.len()
    );
    assert_eq!(after - before, tally.acknowledged.len() as u64);
    let mut by_child: BTreeMap<ChildId, Vec<String>> = BTreeMap::new();
    for (child, key) in tally.acknowledged {
        by_child.entry(child).or_default().push(key);
    }
    for (child, keys) in by_child {
        let stored: Vec<String> = app
            .store()
            .history(child)
            .await
            .unwrap()
            .iter()
            .map(|e| e.metadata.idempotency_key.to_string())
            .collect();
        for key in keys {
            assert!(
                stored.contains(&key),
                "{child}: acknowledged {key} is stored"
            );
        }
    }
    app.close().await;
}
