//! Migrations on both backends: up, down, up again, and the tables match `schema.rs`.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use kepuasan::db::schema::{
    api_keys, archives, audit_log, follow_ups, kiosk_devices, ombudsman_assessments, populations,
    receipt_tokens, report_narratives, report_verifications, responses, services, sessions,
    sign_in_failures, submissions, suggestion_notes, tallies, token_spends, unit_logos, units,
    users, webhook_deliveries, webhooks,
};
use kepuasan::db::{Db, DbConn, DbKind};

use crate::common::PgDatabase;

/// Selecting every column of schema.rs from every table proves no column is missing, and the
/// column counts from the catalogue prove there is none extra.
fn schema_matches(db: &Db) {
    db.read_blocking(|conn| {
        units::table.select(units::all_columns).limit(0).load::<kepuasan::db::queries::Unit>(conn)?;
        services::table.select(services::all_columns).limit(0).load::<kepuasan::db::queries::Service>(conn)?;
        api_keys::table.select(api_keys::all_columns).limit(0).load::<kepuasan::db::queries::ApiKey>(conn)?;
        responses::table.select(responses::all_columns).limit(0).load::<kepuasan::db::queries::ResponseRow>(conn)?;
        receipt_tokens::table.select(receipt_tokens::all_columns).limit(0).execute(conn)?;
        token_spends::table.select(token_spends::all_columns).limit(0).execute(conn)?;
        follow_ups::table.select(follow_ups::all_columns).limit(0).load::<kepuasan::followup::FollowUp>(conn)?;
        report_verifications::table.select(report_verifications::all_columns).limit(0).load::<kepuasan::reporting::verify::Verification>(conn)?;
        populations::table.select(populations::all_columns).limit(0).load::<kepuasan::db::queries::Population>(conn)?;
        kiosk_devices::table.select(kiosk_devices::all_columns).limit(0).load::<kepuasan::db::queries::KioskDevice>(conn)?;
        users::table.select(users::all_columns).limit(0).load::<kepuasan::db::queries::User>(conn)?;
        sessions::table.select(sessions::all_columns).limit(0).execute(conn)?;
        sign_in_failures::table.select(sign_in_failures::all_columns).limit(0).execute(conn)?;
        audit_log::table.select(audit_log::all_columns).limit(0).load::<kepuasan::domain::audit::Entry>(conn)?;
        unit_logos::table.select(unit_logos::all_columns).limit(0).execute(conn)?;
        report_narratives::table.select(report_narratives::all_columns).limit(0).execute(conn)?;
        webhooks::table.select(webhooks::all_columns).limit(0).execute(conn)?;
        suggestion_notes::table.select(suggestion_notes::all_columns).limit(0).execute(conn)?;
        ombudsman_assessments::table.select(ombudsman_assessments::all_columns).limit(0).execute(conn)?;
        webhook_deliveries::table.select(webhook_deliveries::all_columns).limit(0).execute(conn)?;
        tallies::table.select(tallies::all_columns).limit(0).execute(conn)?;
        submissions::table.select(submissions::all_columns).limit(0).execute(conn)?;
        archives::table.select(archives::all_columns).limit(0).execute(conn)?;
        for (table, columns) in [("submissions", 3), ("archives", 7), ("units", 19), ("services", 5), ("api_keys", 8), ("responses", 17), ("populations", 4), ("receipt_tokens", 7), ("token_spends", 3), ("report_verifications", 11), ("follow_ups", 11), ("kiosk_devices", 9), ("users", 10), ("sessions", 5), ("sign_in_failures", 5), ("audit_log", 8), ("unit_logos", 4), ("report_narratives", 7), ("webhooks", 9), ("webhook_deliveries", 12), ("suggestion_notes", 6), ("ombudsman_assessments", 8), ("tallies", 9)] {
            let sql = match conn {
                DbConn::Sqlite(_) => format!("SELECT COUNT(*) AS n FROM pragma_table_info('{table}')"),
                DbConn::Postgres(_) => format!("SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}'"),
            };
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let count: Count = diesel::sql_query(sql).get_result(conn)?;
            assert_eq!(count.n, columns, "columns of {table}");
        }
        Ok(())
    })
    .unwrap();
}

fn round_trip(url: &str) {
    let kind = DbKind::from_url(url).unwrap();
    assert!(kepuasan::db::migrate(&kind).unwrap() >= 1);
    kepuasan::db::revert_all(&kind).unwrap();
    assert!(
        kepuasan::db::migrate(&kind).unwrap() >= 1,
        "every migration applies again after its down.sql"
    );
    assert_eq!(kepuasan::db::migrate(&kind).unwrap(), 0, "nothing pending");
    let db = Db::open(url).unwrap();
    schema_matches(&db);
}

#[test]
fn sqlite_migrations_go_down_and_up_and_match_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(dir.path().join("m.db").to_str().unwrap());
}

#[test]
fn postgres_migrations_go_down_and_up_and_match_the_schema() {
    if let Some(db) = PgDatabase::create() {
        round_trip(&db.url);
    }
}

#[test]
fn both_trees_have_the_same_migrations() {
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[test]
fn postgres_instances_starting_together_migrate_once() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let kind = DbKind::from_url(&db.url).unwrap();
    let applied: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| kepuasan::db::migrate(&kind).expect("each instance starts")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(applied.iter().sum::<usize>(), total, "{applied:?}");
    assert_eq!(kepuasan::db::migrate(&kind).unwrap(), 0);
}

/// The migration that puts the encoding version in front of every stored tally keeps each
/// byte after it (NUL and high bytes included), and its down.sql takes exactly that byte off.
fn the_tally_version_byte_is_added_and_removed_byte_for_byte(url: &str, backend: &str) {
    use diesel::sql_types::Binary;
    let kind = DbKind::from_url(url).unwrap();
    kepuasan::db::migrate(&kind).unwrap();
    let db = Db::open(url).unwrap();
    let folder = format!(
        "{}/migrations/{backend}/2026-12-01-000000_tally_version",
        env!("CARGO_MANIFEST_DIR")
    );
    let script = |name: &str| std::fs::read_to_string(format!("{folder}/{name}")).unwrap();
    let stored: Vec<u8> = vec![0x01, 0x00, 0x08, b's', 0xff, 0x80, 0x00, 0x7f];
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Binary)]
        data: Vec<u8>,
        #[diesel(sql_type = Binary)]
        profile: Vec<u8>,
    }
    let read = |conn: &mut DbConn| -> Row {
        diesel::sql_query("SELECT data, profile FROM tallies")
            .get_result(conn)
            .unwrap()
    };
    db.write_blocking(|conn| {
        kepuasan::domain::units::create_unit(
            conn,
            &kepuasan::domain::units::CreateUnitRequest {
                code: "u".into(),
                name: "U".into(),
                timezone: "Asia/Jakarta".into(),
                parent: None,
                open_link: false,
                public_results: false,
            },
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().into(),
        )?;
        diesel::sql_query(
            "INSERT INTO tallies (unit_code, below, instrument, span, service_code, channel, flags, data, profile) \
             VALUES ('u', false, 'skm-2017', '2026-Q1', '', 'kiosk', '', $1, $2)",
        )
        .bind::<Binary, _>(&stored)
        .bind::<Binary, _>(&stored[..1])
        .execute(conn)?;
        conn.batch_execute(&script("down.sql"))?;
        let down = read(conn);
        assert_eq!(down.data, stored[1..], "down.sql takes the first byte off");
        assert_eq!(down.profile, b"");
        conn.batch_execute(&script("up.sql"))?;
        let up = read(conn);
        assert_eq!(up.data, stored, "up.sql puts the version byte back, the rest unchanged");
        assert_eq!(up.profile, [0x01]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn sqlite_tally_version_migration_keeps_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    the_tally_version_byte_is_added_and_removed_byte_for_byte(
        dir.path().join("v.db").to_str().unwrap(),
        "sqlite",
    );
}

#[test]
fn postgres_tally_version_migration_keeps_every_byte() {
    if let Some(db) = PgDatabase::create() {
        the_tally_version_byte_is_added_and_removed_byte_for_byte(&db.url, "postgres");
    }
}

/// The migration to yearly partitions (PostgreSQL) and the `submissions` table (both) keeps
/// every stored response and receipt spend: from the schema before it, with rows of two
/// years and a spend, its up.sql leaves each row in its year's partition, each id in
/// `submissions`, and the spend pointing there; a second spend of an unknown id is refused.
fn the_partition_migration_keeps_every_row(url: &str, backend: &str) {
    let kind = DbKind::from_url(url).unwrap();
    kepuasan::db::migrate(&kind).unwrap();
    let db = Db::open(url).unwrap();
    let folder = format!(
        "{}/migrations/{backend}/2026-12-03-000012_response_partitions",
        env!("CARGO_MANIFEST_DIR")
    );
    let script = |name: &str| std::fs::read_to_string(format!("{folder}/{name}")).unwrap();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |conn: &mut DbConn, sql: &str| -> i64 {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql}"))
            .get_result::<Count>(conn)
            .unwrap()
            .n
    };
    db.write_blocking(|conn| {
        conn.batch_execute(&script("down.sql"))?;
        conn.batch_execute(
            "INSERT INTO units (code, name, timezone, created_at) \
             VALUES ('u', 'U', 'Asia/Jakarta', '2024-01-01 00:00:00')",
        )?;
        for (id, at) in [("a", "2024-06-01 03:00:00"), ("b", "2025-02-03 04:00:00")] {
            conn.batch_execute(&format!(
                "INSERT INTO responses (submission_id, content_hash, instrument, instrument_version, \
                 unit_code, channel, answers, received_at, flags) \
                 VALUES ('{id}', 'hash-{id}', 'skm-2017', 1, 'u', 'kiosk', '{{}}', '{at}', '')"
            ))?;
        }
        conn.batch_execute(
            "INSERT INTO token_spends (token_hash, submission_id, spent_at) \
             VALUES ('t', 'a', '2024-06-01 03:00:00')",
        )?;
        conn.batch_execute(&script("up.sql"))?;
        assert_eq!(count(conn, "responses"), 2);
        assert_eq!(count(conn, "submissions"), 2);
        assert_eq!(count(conn, "submissions WHERE content_hash = 'hash-a'"), 1);
        assert_eq!(count(conn, "token_spends WHERE submission_id = 'a'"), 1);
        if backend == "postgres" {
            assert_eq!(count(conn, "responses_y2024"), 1);
            assert_eq!(count(conn, "responses_y2025"), 1);
            assert_eq!(count(conn, "responses_default"), 0);
            let orphan = conn.batch_execute(
                "INSERT INTO token_spends (token_hash, submission_id, spent_at) \
                 VALUES ('t2', 'nobody', '2025-01-01 00:00:00')",
            );
            assert!(orphan.is_err(), "a spend refers to a stored submission");
        }
        Ok(())
    })
    .unwrap();
    schema_matches(&db);
}

#[test]
fn sqlite_partition_migration_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    the_partition_migration_keeps_every_row(dir.path().join("p.db").to_str().unwrap(), "sqlite");
}

#[test]
fn postgres_partition_migration_keeps_every_row() {
    if let Some(db) = PgDatabase::create() {
        the_partition_migration_keeps_every_row(&db.url, "postgres");
    }
}
