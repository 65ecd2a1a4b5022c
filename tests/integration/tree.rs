//! Reports that follow the tree, on both backends: a parent's report reads the same number of
//! tally rows however deep and wide the tree below it grows, its pooled and weighted numbers
//! equal those worked out by hand from what was sent, and the tallies of the units below each
//! unit follow moves and time-zone changes exactly as a rebuild from the rows counts them.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;

async fn add_unit<S: Svc>(svc: &S, admin: &str, code: &str, zone: &str, parent: Option<&str>) {
    let mut body = json!({"code": code, "name": format!("Unit {code}"), "timezone": zone});
    if let Some(parent) = parent {
        body["parent"] = json!(parent);
    }
    let (status, created) = send(svc, post("/api/v1/units", Some(admin), &body)).await;
    assert_eq!(status, 201, "{created}");
}

async fn submit<S: Svc>(svc: &S, admin: &str, unit: &str, answer: i64) {
    let (status, body) = send(
        svc,
        post(
            "/api/v1/responses",
            Some(admin),
            &submission(unit, [answer; 9]),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

async fn patch_unit<S: Svc>(svc: &S, admin: &str, code: &str, body: Value) {
    let (status, answer) = send(
        svc,
        with_key(
            actix_web::test::TestRequest::patch()
                .uri(&format!("/api/v1/units/{code}"))
                .set_json(body),
            Some(admin),
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

/// A unit's report of 2026-Q3 made on this thread, and the tally rows it read.
fn report_and_rows(app: &TestApp, unit: &str) -> (kepuasan::reporting::UnitReport, u64) {
    app.state
        .db
        .read_blocking(|conn| {
            let before = kepuasan::tallies::rows_read();
            let request = kepuasan::reporting::ReportRequest {
                unit: unit.to_owned(),
                period: "2026-Q3".parse().unwrap(),
                instrument: None,
                service: None,
                mode: None,
                exclude_flagged: false,
            };
            let report = kepuasan::reporting::unit_report(
                conn,
                &app.state.registry,
                &app.state.settings.flags,
                &request,
            )?;
            Ok((report, kepuasan::tallies::rows_read() - before))
        })
        .unwrap()
}

async fn a_parents_report_reads_the_same_rows_however_deep_and_wide_the_tree_below(app: TestApp) {
    let svc = app.service().await;
    let admin = app.admin.clone();
    // The nation, two provinces; a district with two units under one, a unit right under the
    // other.
    add_unit(&svc, &admin, "nasional", "Asia/Jakarta", None).await;
    add_unit(&svc, &admin, "prov-a", "Asia/Jakarta", Some("nasional")).await;
    add_unit(&svc, &admin, "prov-b", "Asia/Makassar", Some("nasional")).await;
    add_unit(&svc, &admin, "kab-a1", "Asia/Jakarta", Some("prov-a")).await;
    add_unit(&svc, &admin, "u1", "Asia/Jakarta", Some("kab-a1")).await;
    add_unit(&svc, &admin, "u2", "Asia/Jakarta", Some("kab-a1")).await;
    add_unit(&svc, &admin, "u3", "Asia/Makassar", Some("prov-b")).await;
    // Midday of 2026-08-12 in every zone of the tree: one local day for every response.
    app.clock.set(at("2026-08-12 04:00:00"));
    // Three respondents answer 4 to everything, one answers 2: every item's NRR is
    // (3 x 4 + 2) / 4 = 3.5, the IKM 3.5 x 25 = 87.50, grade B.
    submit(&svc, &admin, "u1", 4).await;
    submit(&svc, &admin, "u2", 4).await;
    submit(&svc, &admin, "u3", 4).await;
    submit(&svc, &admin, "u3", 2).await;
    let (nation, rows) = report_and_rows(&app, "nasional");
    assert_eq!(nation.report.respondents, 4);
    assert_eq!(nation.report.ikm.as_ref().unwrap().to_string(), "87.50");
    assert_eq!(nation.report.grade.as_deref(), Some("B"));
    let children: Vec<(String, u64)> = nation
        .rollup
        .as_ref()
        .unwrap()
        .children
        .iter()
        .map(|c| (c.code.clone().unwrap(), c.respondents))
        .collect();
    assert_eq!(
        children,
        [("prov-a".to_owned(), 2), ("prov-b".to_owned(), 2)],
        "prov-a (IKM 100) ranks above prov-b (IKM 75)"
    );
    assert!(rows > 0);

    // Three levels more under u1, thirty new units, each answering like u1's respondent.
    for i in 0..3 {
        let sub = format!("u1-{i}");
        add_unit(&svc, &admin, &sub, "Asia/Jakarta", Some("u1")).await;
        for j in 0..3 {
            let leaf = format!("u1-{i}-{j}");
            add_unit(&svc, &admin, &leaf, "Asia/Jakarta", Some(&sub)).await;
            let deep = format!("u1-{i}-{j}-x");
            add_unit(&svc, &admin, &deep, "Asia/Jakarta", Some(&leaf)).await;
            submit(&svc, &admin, &deep, 4).await;
            submit(&svc, &admin, &leaf, 4).await;
        }
        submit(&svc, &admin, &sub, 4).await;
    }
    let (nation, deeper) = report_and_rows(&app, "nasional");
    assert_eq!(nation.report.respondents, 4 + 21);
    // (24 x 4 + 2) / 25 = 3.92 per item, x 25 = 98.00.
    assert_eq!(nation.report.ikm.as_ref().unwrap().to_string(), "98.00");
    assert_eq!(nation.units_included.len(), 7 + 21);
    assert_eq!(nation.units_count, 7 + 21);
    // Past a listing limit the tree is counted, not read: the same 28, none listed.
    let walk = |most: usize| {
        app.state
            .db
            .read_blocking(|c| kepuasan::db::queries::subtree_listed(c, "nasional", most))
            .unwrap()
    };
    let (count, listed) = walk(5);
    assert_eq!((count, listed.is_none()), (28, true));
    let (count, listed) = walk(28);
    let listed = listed.expect("28 units fit a limit of 28");
    assert_eq!(count, 28);
    assert_eq!(listed[0].code, "nasional");
    let mut codes: Vec<&str> = listed.iter().map(|m| m.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 28);
    assert_eq!(walk(27).0, 28);
    assert_eq!(
        deeper, rows,
        "the nation's report reads as many tally rows with 21 more units three levels deeper"
    );
    // The province above them, and the district, read no more than they did either: each
    // reads its own rows and its children's.
    let (district, _) = report_and_rows(&app, "kab-a1");
    assert_eq!(district.report.respondents, 2 + 21);
    assert_eq!(district.report.ikm.as_ref().unwrap().to_string(), "100.00");
}

both_backends!(a_parents_report_reads_the_same_rows_however_deep_and_wide_the_tree_below);

fn dump(app: &TestApp) -> Vec<(Vec<String>, kepuasan::tallies::Bucket)> {
    app.state.db.read_blocking(kepuasan::tallies::dump).unwrap()
}

async fn reports<S: Svc>(svc: &S, admin: &str, units: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for unit in units {
        for period in ["2026-Q3", "2026-07", "2026-06-30..2026-07-02", "2026"] {
            let path = format!("/api/v1/reports/ikm?unit={unit}&period={period}");
            let (status, body) = send(svc, get(&path, Some(admin))).await;
            assert_eq!(status, 200, "{path}: {body}");
            out.push(body);
        }
    }
    out
}

/// The stored tallies as they are, then rebuilt from the rows: equal, and every report equal.
async fn same_as_a_rebuild<S: Svc>(app: &TestApp, svc: &S, units: &[&str], when: &str) {
    let kept = dump(app);
    let before = reports(svc, &app.admin, units).await;
    app.state
        .db
        .write_blocking(|c| kepuasan::tallies::rebuild(c, &app.state.registry, None))
        .unwrap();
    assert!(
        dump(app) == kept,
        "{when}: the stored tallies differ from a rebuild"
    );
    assert!(
        reports(svc, &app.admin, units).await == before,
        "{when}: reports differ after a rebuild"
    );
}

async fn the_tallies_below_each_unit_follow_moves_and_time_zones_as_a_rebuild_does(app: TestApp) {
    let svc = app.service().await;
    let admin = app.admin.clone();
    add_unit(&svc, &admin, "nasional", "Asia/Jakarta", None).await;
    add_unit(&svc, &admin, "prov-a", "Asia/Jakarta", Some("nasional")).await;
    add_unit(&svc, &admin, "prov-b", "Asia/Jayapura", Some("nasional")).await;
    add_unit(&svc, &admin, "kab-a1", "Asia/Jakarta", Some("prov-a")).await;
    add_unit(&svc, &admin, "u1", "Asia/Jakarta", Some("kab-a1")).await;
    add_unit(&svc, &admin, "u2", "Asia/Makassar", Some("kab-a1")).await;
    add_unit(&svc, &admin, "u3", "Asia/Jayapura", Some("prov-b")).await;
    let units = ["nasional", "prov-a", "prov-b", "kab-a1"];
    // 90 responses around the turn of 2026-Q2 to Q3, many near midnight in one zone or
    // another; the district answers some itself.
    let mut rng = StdRng::seed_from_u64(17);
    let mut sent: Vec<(&str, chrono::NaiveDateTime)> = Vec::new();
    for _ in 0..90 {
        let when = at("2026-06-29 14:00:00")
            + chrono::Duration::hours(rng.random_range(0..72))
            + chrono::Duration::minutes(rng.random_range(0..60));
        app.clock.set(when);
        let unit = ["u1", "u2", "u3", "kab-a1"][rng.random_range(0..4)];
        let answers: [i64; 9] = std::array::from_fn(|_| rng.random_range(1..=4));
        let mut body = submission(unit, answers);
        body["channel"] = json!(["kiosk", "web", "paper"][rng.random_range(0..3)]);
        let (status, answer) = send(&svc, post("/api/v1/responses", Some(&admin), &body)).await;
        assert_eq!(status, 201, "{answer}");
        sent.push((unit, when));
    }
    same_as_a_rebuild(&app, &svc, &units, "as written").await;

    // u2 moves from the district to the other province.
    patch_unit(&svc, &admin, "u2", json!({"parent": "prov-b"})).await;
    same_as_a_rebuild(&app, &svc, &units, "after a move").await;
    // prov-b's 2026 holds u3's and u2's responses, and prov-a's no longer u2's.
    let year = |unit: &str| format!("/api/v1/reports/ikm?unit={unit}&period=2026");
    let count = |of: &[&str]| sent.iter().filter(|(u, _)| of.contains(u)).count() as u64;
    let (_, b) = send(&svc, get(&year("prov-b"), Some(&admin))).await;
    assert_eq!(b["respondents"], count(&["u2", "u3"]));
    let (_, a) = send(&svc, get(&year("prov-a"), Some(&admin))).await;
    assert_eq!(a["respondents"], count(&["u1", "kab-a1"]));

    // The district, a parent answering itself, moves to another zone; then a whole branch
    // (the district with u1 under it) moves under prov-b.
    patch_unit(&svc, &admin, "kab-a1", json!({"timezone": "Asia/Jayapura"})).await;
    same_as_a_rebuild(&app, &svc, &units, "after a parent's time zone").await;
    patch_unit(&svc, &admin, "u3", json!({"timezone": "Asia/Jakarta"})).await;
    same_as_a_rebuild(&app, &svc, &units, "after a unit's time zone").await;
    patch_unit(&svc, &admin, "kab-a1", json!({"parent": "prov-b"})).await;
    same_as_a_rebuild(&app, &svc, &units, "after a branch moved").await;
    let (_, a) = send(&svc, get(&year("prov-a"), Some(&admin))).await;
    assert_eq!(a["respondents"], 0);
    let (_, nation) = send(&svc, get(&year("nasional"), Some(&admin))).await;
    assert_eq!(nation["respondents"], sent.len() as u64);
    // Each response of Q3 by its own unit's local day: u1 and kab-a1 on Jayapura's clock now,
    // u2 on Makassar's, u3 on Jakarta's.
    let offset = |u: &str| match u {
        "u2" => 8,
        "u3" => 7,
        _ => 9,
    };
    let q3 = sent
        .iter()
        .filter(|(u, t)| (*t + chrono::Duration::hours(offset(u))).date() >= day("2026-07-01"))
        .count() as u64;
    let (_, nation) = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=nasional&period=2026-Q3",
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(nation["respondents"], q3);
}

fn day(text: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

both_backends!(the_tallies_below_each_unit_follow_moves_and_time_zones_as_a_rebuild_does);

/// The bulk loader's path (the report benchmark's): rows inserted as new, each unit's own
/// tallies and the `below` rows of every unit above them counted in memory and inserted as new
/// rows, equal what a rebuild counts from the rows; an id or a tally key already stored is
/// refused, and the transaction leaves nothing behind.
async fn a_bulk_loads_tallies_counted_up_the_tree_in_memory_equal_a_rebuild(app: TestApp) {
    use kepuasan::db::{queries, write_tx};
    use kepuasan::tallies::{Entry, Pending};
    app.clock.set(at("2026-05-01 00:00:00"));
    let svc = app.service().await;
    add_unit(&svc, &app.admin, "nasional", "Asia/Jakarta", None).await;
    add_unit(&svc, &app.admin, "prov", "Asia/Jayapura", Some("nasional")).await;
    add_unit(&svc, &app.admin, "kab", "Asia/Jayapura", Some("prov")).await;
    let services = [("ktp", "KTP"), ("kk", "KK")];
    for unit in ["u1", "u2"] {
        add_unit(&svc, &app.admin, unit, "Asia/Jayapura", Some("kab")).await;
        for (code, name) in services {
            let path = format!("/api/v1/units/{unit}/services");
            let body = json!({"code": code, "name": name});
            let (status, made) = send(&svc, post(&path, Some(&app.admin), &body)).await;
            assert_eq!(status, 201, "{made}");
        }
    }
    let registry = &app.state.registry;
    let instrument = registry.get("skm-2017").unwrap();
    let zone: chrono_tz::Tz = "Asia/Jayapura".parse().unwrap();
    let now = at("2026-07-02 03:00:00");
    app.clock.set(now);
    let mut rng = StdRng::seed_from_u64(14);
    let rows: Vec<_> = (0..80)
        .map(|i| {
            let unit = if i % 3 == 0 { "u1" } else { "u2" };
            // Up to 40 days back: June and July, days cut at Jayapura's midnight.
            kepuasan::demo::response(&mut rng, unit, &services, (i % 4) as u8, now, 40)
        })
        .collect();
    let mut own = Pending::default();
    for row in &rows {
        own.add(&Entry::of(instrument, zone, row).unwrap(), &row.flags);
    }
    let kab = own.lifted("kab");
    let prov = kab.lifted("prov");
    let nation = prov.lifted("nasional");
    app.state
        .db
        .write_blocking(|c| {
            write_tx(c, |c| {
                queries::insert_fresh_responses(c, &rows)?;
                for pending in [own, kab, prov, nation] {
                    pending.insert_new(c)?;
                }
                Ok(())
            })
        })
        .unwrap();
    let loaded = dump(&app);
    assert!(
        loaded.iter().any(|(key, _)| key[0] == "nasional"),
        "the nation has rows below it"
    );
    same_as_a_rebuild(
        &app,
        &svc,
        &["nasional", "prov", "kab", "u1"],
        "after a bulk load",
    )
    .await;

    // Again: the ids are stored, and so are the tally keys. Each is refused whole.
    let count = || {
        app.state
            .db
            .read_blocking(queries::count_responses)
            .unwrap()
    };
    let before = count();
    let again = app
        .state
        .db
        .write_blocking(|c| write_tx(c, |c| queries::insert_fresh_responses(c, &rows[..5])));
    assert!(again.is_err(), "an id stored already is refused");
    let mut twice = Pending::default();
    twice.add(&Entry::of(instrument, zone, &rows[0]).unwrap(), "");
    let again = app
        .state
        .db
        .write_blocking(|c| write_tx(c, |c| twice.insert_new(c)));
    assert!(again.is_err(), "a tally key stored already is refused");
    assert_eq!(count(), before);
    assert!(
        dump(&app) == loaded,
        "nothing was added by the refused loads"
    );
}

both_backends!(a_bulk_loads_tallies_counted_up_the_tree_in_memory_equal_a_rebuild);
