//! Migrations on both backends: up, down, up again, and the tables match `schema.rs`.

use diesel::prelude::*;
use kepuasan::db::schema::{
    api_keys, follow_ups, populations, receipt_tokens, report_verifications, responses, services,
    token_spends, units,
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
        for (table, columns) in [("units", 8), ("services", 5), ("api_keys", 8), ("responses", 17), ("populations", 4), ("receipt_tokens", 7), ("token_spends", 3), ("report_verifications", 11), ("follow_ups", 11)] {
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
