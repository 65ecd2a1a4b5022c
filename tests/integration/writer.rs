//! Group commit on both backends: one transaction for a batch, each submission's outcome its
//! own.

use chrono::NaiveDateTime;
use kepuasan::auth::{Principal, Role};
use kepuasan::collect::{self, SubmissionRequest};
use serde_json::json;

use crate::both_backends;
use crate::common::*;

/// The principal of a new kiosk key of the MPP.
fn mpp_kiosk(app: &TestApp) -> Principal {
    let kiosk = app.key(Role::Kiosk, &["mpp-jpr"]);
    app.state
        .db
        .read_blocking(|c| {
            kepuasan::auth::authenticate(c, &app.state.directory, Some(&format!("Bearer {kiosk}")))
        })
        .unwrap()
}

/// A request checked as the writer's queue receives it, received at `now`.
fn prepare(
    app: &TestApp,
    caller: Option<&Principal>,
    req: &SubmissionRequest,
    now: NaiveDateTime,
) -> (collect::Prepared, NaiveDateTime) {
    let token_settings = app.state.settings.token_settings();
    let p = app
        .state
        .db
        .read_blocking(|c| {
            let checker = collect::Checker {
                directory: &app.state.directory,
                registry: &app.state.registry,
                tokens: &token_settings,
                secrets: None,
                address: None,
            };
            checker.prepare(c, caller, req, now, now)
        })
        .unwrap();
    (p, now)
}

/// Stores a batch as the writer does; each submission's outcome, an error by its code.
fn store_batch(
    app: &TestApp,
    batch: &[(collect::Prepared, NaiveDateTime)],
) -> Vec<Result<bool, &'static str>> {
    let flags = &app.state.settings.flags;
    let results = app
        .state
        .db
        .write_blocking(|c| collect::store_batch(c, flags, batch))
        .unwrap();
    results
        .iter()
        .map(|r| r.as_ref().map(|b| *b).map_err(|e| e.code()))
        .collect()
}

async fn a_batch_commits_together_and_answers_each_submission_alone(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let now = at("2025-08-15 03:00:00");
    let (_, issued) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/receipt-tokens",
            Some(&w.counter_a),
            &json!({}),
        ),
    )
    .await;
    let token = issued["token"].as_str().unwrap().to_owned();
    let request = |answers: [i64; 9], token: Option<&str>| -> SubmissionRequest {
        let mut body = submission("unit-a", answers);
        if let Some(t) = token {
            body["token"] = json!(t);
            body["channel"] = json!("qr");
        }
        serde_json::from_value(body).unwrap()
    };
    let plain = request([4; 9], None);
    let mut conflicting = request([1; 9], None);
    conflicting.submission_id = plain.submission_id.clone();
    let batch_requests = [
        plain.clone(),                 // new
        plain.clone(),                 // the same again: a retry, not a second response
        conflicting,                   // its id with other answers: 409
        request([3; 9], Some(&token)), // spends the receipt
        request([2; 9], Some(&token)), // the same receipt again: 409 token_spent
        request([2; 9], None),         // new
    ];
    let caller = mpp_kiosk(&app);
    let prepared: Vec<_> = batch_requests
        .iter()
        .map(|req| prepare(&app, req.token.is_none().then_some(&caller), req, now))
        .collect();
    assert_eq!(
        store_batch(&app, &prepared),
        [
            Ok(true),
            Ok(false),
            Err("submission_id_conflict"),
            Ok(true),
            Err("token_spent"),
            Ok(true)
        ]
    );
    assert_eq!(app.response_count(), 3, "exactly the three new responses");
    // The refused ones left nothing behind: the receipt is spent by the fourth only.
    // (4 + 3 + 2) / 3 = 3 → 75,00.
    assert_eq!(
        unit_a_ikm(&svc, "2025-Q3", &w.admin).await,
        (Some(3), Some(75.0))
    );
    // A later batch meets ids stored by this one: a retry is a repeat, other answers under a
    // stored id are a 409, and the new one beside them is stored once.
    let mut reused = request([1; 9], None);
    reused.submission_id = plain.submission_id.clone();
    let later: Vec<_> = [request([4; 9], None), plain.clone(), reused]
        .iter()
        .map(|req| prepare(&app, Some(&caller), req, now))
        .collect();
    assert_eq!(
        store_batch(&app, &later),
        [Ok(true), Ok(false), Err("submission_id_conflict")]
    );
    assert_eq!(app.response_count(), 4, "one more response, stored once");
    // (4 + 3 + 2 + 4) / 4 = 3,25 → 81,25.
    assert_eq!(
        unit_a_ikm(&svc, "2025-Q3", &w.admin).await,
        (Some(4), Some(81.25))
    );
}

async fn concurrent_submissions_share_commits_and_each_is_stored_once(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    app.clock.set(at("2025-08-15 03:00:00"));
    let bodies: Vec<_> = (0..40).map(|_| submission("unit-a", [3; 9])).collect();
    let answers = futures::future::join_all(
        bodies
            .iter()
            .map(|b| send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), b))),
    )
    .await;
    assert!(answers.iter().all(|(s, _)| *s == 201), "{answers:?}");
    assert_eq!(app.response_count(), 40);
    let text = send(&svc, get("/metrics", None)).await.1;
    let text = text.as_str().unwrap();
    let sum = text
        .lines()
        .find_map(|l| l.strip_prefix("kepuasan_write_batch_size_sum "))
        .unwrap();
    assert_eq!(sum, "40", "every submission went through the writer");
    assert!(text.contains("kepuasan_write_queue_depth 0"), "{text}");
    // The batches' tallies count each response once: 40 all-3 responses, 3 × 25 = 75,00.
    assert_eq!(
        unit_a_ikm(&svc, "2025-08", &w.admin).await,
        (Some(40), Some(75.0))
    );
}

async fn a_batch_flags_each_response_against_the_ones_before_it(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let now = at("2025-08-15 03:00:00");
    let settings = app.state.settings.clone();
    let caller = mpp_kiosk(&app);
    // Eight surveys of one device in the same minute: each different, but the last the same
    // as the seventh.
    let surveys = |device: &str| -> Vec<(collect::Prepared, NaiveDateTime)> {
        (0..8)
            .map(|i| {
                let mut answers = [2; 9];
                answers[i.min(6)] = 4;
                let mut body = submission("unit-a", answers);
                body["device_id"] = json!(device);
                let req: SubmissionRequest = serde_json::from_value(body).unwrap();
                prepare(&app, Some(&caller), &req, now)
            })
            .collect()
    };
    let store = |batch: &[(collect::Prepared, NaiveDateTime)]| {
        let results = app
            .state
            .db
            .write_blocking(|c| collect::store_batch(c, &settings.flags, batch))
            .unwrap();
        assert!(results.iter().all(|r| matches!(r, Ok(true))));
    };
    // Tablet 1: three stored one by one, then five in one batch. Tablet 2: all eight in one.
    let first = surveys("tablet-1");
    for one in first[..3].chunks(1) {
        store(one);
    }
    store(&first[3..]);
    store(&surveys("tablet-2"));
    // Each tablet: the seventh and eighth follow six in the minute (rate), the eighth repeats
    // the seventh (repeat); 6 per minute is the default limit.
    let r = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
        &w.admin,
    )
    .await;
    let q = &r["quality"];
    assert_eq!(
        (
            r["respondents"].as_u64(),
            q["rate"].as_u64(),
            q["repeat"].as_u64(),
            q["flagged"].as_u64()
        ),
        (Some(16), Some(4), Some(2), Some(4)),
        "{q}"
    );
}

/// Transactions nest through diesel on both backends: an inner write that fails is undone
/// alone (a savepoint), the outer one still commits; an outer failure undoes everything; and
/// the connection is usable afterwards.
async fn nested_writes_are_savepoints_and_a_failed_outer_write_leaves_nothing(app: TestApp) {
    use kepuasan::db::{queries, write_tx};
    use kepuasan::domain::units::{CreateUnitRequest, create_unit};
    use kepuasan::error::AppError;
    let unit = |code: &str| CreateUnitRequest {
        code: code.into(),
        name: code.into(),
        timezone: "Asia/Jakarta".into(),
        parent: None,
        open_link: false,
        public_results: false,
    };
    let now = at("2025-08-01 00:00:00");
    let db = &app.state.db;
    db.write_blocking(|conn| {
        write_tx(conn, |conn| {
            create_unit(conn, &unit("outer"), now)?;
            write_tx(conn, |conn| create_unit(conn, &unit("kept"), now))?;
            let inner = write_tx(conn, |conn| {
                create_unit(conn, &unit("inner"), now)?;
                Err::<(), _>(AppError::field("inner", "fails on purpose"))
            });
            assert!(inner.is_err());
            // The outer transaction is still usable after its savepoint was rolled back.
            assert!(queries::find_unit(conn, "outer")?.is_some());
            assert!(queries::find_unit(conn, "inner")?.is_none());
            Ok(())
        })
    })
    .unwrap();
    let failed = db.write_blocking(|conn| {
        write_tx(conn, |conn| {
            create_unit(conn, &unit("doomed"), now)?;
            write_tx(conn, |conn| create_unit(conn, &unit("doomed-child"), now))?;
            Err::<(), _>(AppError::field("outer", "fails on purpose"))
        })
    });
    assert!(failed.is_err());
    let codes: Vec<String> = db
        .read_blocking(queries::list_units)
        .unwrap()
        .into_iter()
        .map(|u| u.code)
        .collect();
    assert_eq!(codes, ["kept", "outer"]);
}

both_backends!(
    nested_writes_are_savepoints_and_a_failed_outer_write_leaves_nothing,
    a_batch_flags_each_response_against_the_ones_before_it,
    a_batch_commits_together_and_answers_each_submission_alone,
    concurrent_submissions_share_commits_and_each_is_stored_once,
);

/// Issue 28: a row the database refuses fails only itself. PostgreSQL cannot store U+0000 in
/// text (the text rule keeps such rows out; this one is forced past it): the batch's
/// transaction fails, and its rows are stored one by one. SQLite stores the character.
async fn a_row_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(app: TestApp) {
    let svc = app.service().await;
    crate::api::world(&app, &svc).await;
    let now = at("2025-08-15 03:00:00");
    let caller = mpp_kiosk(&app);
    let mut prepared: Vec<_> = (0..5)
        .map(|i| {
            let req: SubmissionRequest =
                serde_json::from_value(submission("unit-a", [1 + i % 4; 9])).unwrap();
            prepare(&app, Some(&caller), &req, now)
        })
        .collect();
    prepared[2].0.row.suggestion = Some("antre\u{0}an".into());
    let results = store_batch(&app, &prepared);
    let refused = matches!(app.state.db.kind(), kepuasan::db::DbKind::Postgres(_));
    for (i, result) in results.iter().enumerate() {
        if i == 2 && refused {
            assert!(result.is_err(), "{results:?}");
        } else {
            assert_eq!(*result, Ok(true), "row {i}: {results:?}");
        }
    }
    assert_eq!(app.response_count(), if refused { 4 } else { 5 });
}

both_backends!(a_row_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored);
