//! The report benchmark: bulk-loads synthetic responses (rows and their tallies) for many
//! units over several years, then times one unit's quarterly report and the overview of every
//! unit under one parent, each against a GROUP BY over the raw rows of the same quarter in the
//! same engine, and prints the ratio.
//!
//! cargo bench --bench reports -- [--responses 10000000] [--units 500] [--years 3]
//!     [--rounds 5] [--backend sqlite|postgres]
//!
//! With `--tree PxDxU` (38x14x100: the nation, 38 provinces, 14 districts each and 100 units
//! in each district, 53,200 units) the responses are spread over the units of that tree
//! instead, and a district's, a province's and the nation's quarterly reports are timed with
//! the nation over 20 years, each with the tally rows it read; the ratios the design holds to
//! (nation at most 5x a district, 20 years at most 2x a quarter) are printed beside them.
//!
//! The full report (services, channels, profile, suggestions, four earlier quarters with
//! Welch's test, the children ranked) is timed; the GROUP BY baseline computes only the item
//! counts, so the comparison flatters the rows.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use kepuasan::access;
use kepuasan::auth::{Origin, Principal, Role};
use kepuasan::db::queries;
use kepuasan::db::schema::responses;
use kepuasan::db::{Db, DbConn, write_tx};
use kepuasan::domain::units::{
    CreateServiceRequest, CreateUnitRequest, create_service, create_unit,
};
use kepuasan::engine::{self, Answers, Options, Tally};
use kepuasan::instrument::{Instrument, Registry};
use kepuasan::period::{Period, parse_timezone};
use kepuasan::quality::FlagRules;
use kepuasan::reporting::{self, ReportRequest};
use kepuasan::tallies::{Entry, Pending};

struct Args {
    responses: u64,
    units: u64,
    years: i64,
    rounds: usize,
    backend: String,
    /// A SQLite file (or, on PostgreSQL, a database name) to keep: loaded when missing or
    /// empty, reused (and not loaded again) when it holds responses, never dropped.
    keep: Option<String>,
    /// Print the statements each tree report ran, with their times.
    queries: bool,
    /// Provinces, districts per province and units per district.
    tree: Option<[u64; 3]>,
}

fn args() -> Args {
    let mut out = Args {
        responses: 10_000_000,
        units: 500,
        years: 3,
        rounds: 5,
        backend: "sqlite".into(),
        keep: None,
        queries: false,
        tree: None,
    };
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{what} N"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--responses" => out.responses = number(it.next(), "--responses"),
            "--units" => out.units = number(it.next(), "--units"),
            "--years" => out.years = number(it.next(), "--years") as i64,
            "--rounds" => out.rounds = number(it.next(), "--rounds") as usize,
            "--backend" => out.backend = it.next().expect("--backend sqlite|postgres"),
            "--keep" => out.keep = Some(it.next().expect("--keep FILE|DATABASE")),
            "--queries" => out.queries = true,
            "--tree" => {
                let shape = it.next().expect("--tree PxDxU");
                let parts: Vec<u64> = shape.split('x').filter_map(|p| p.parse().ok()).collect();
                let [p, d, u] = parts[..] else {
                    panic!("--tree PxDxU, such as 38x14x100")
                };
                out.tree = Some([p, d, u]);
            }
            // cargo bench passes --bench; ignore what is not ours.
            _ => {}
        }
    }
    assert!(
        out.responses <= 50_000_000 && out.units >= 1 && out.units <= 5_000 && out.rounds <= 50,
        "bounded runs only"
    );
    if let Some(shape) = out.tree {
        assert!(
            shape.iter().all(|n| (1..=100).contains(n)),
            "a tree of at most 100 provinces, districts and units each"
        );
    }
    out
}

/// The zones Indonesia's units are in.
const ZONES: [&str; 3] = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"];
const SERVICES: &[(&str, &str)] = &[("layanan-1", "Layanan 1"), ("layanan-2", "Layanan 2")];

fn unit_code(i: u64) -> String {
    format!("unit-{i:04}")
}

/// Creates the parent and its units, then loads each unit's rows and tallies in one
/// transaction per unit.
fn load(db: &Db, registry: &Registry, args: &Args, end: NaiveDateTime) {
    let instrument = registry.get("skm-2017").expect("skm-2017");
    let made = end - chrono::Duration::days(args.years * 365 + 30);
    db.write_blocking(|conn| {
        write_tx(conn, |conn| {
            create_unit(conn, &unit("prov", "Provinsi", ZONES[0], None), made)?;
            for i in 0..args.units {
                let code = unit_code(i);
                let zone = ZONES[(i % 3) as usize];
                create_unit(conn, &unit(&code, &code, zone, Some("prov")), made)?;
                for (s, name) in SERVICES {
                    create_service(
                        conn,
                        &code,
                        &CreateServiceRequest {
                            code: (*s).into(),
                            name: (*name).into(),
                        },
                        made,
                    )?;
                }
            }
            Ok(())
        })
    })
    .expect("units");
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(14_2017);
    let per_unit = args.responses / args.units;
    for i in 0..args.units {
        let code = unit_code(i);
        let tz = parse_timezone(ZONES[(i % 3) as usize]).expect("zone");
        let quality = (i % 4) as u8;
        let count = per_unit + u64::from(i < args.responses % args.units);
        let rows: Vec<_> = (0..count)
            .map(|_| {
                kepuasan::demo::response(&mut rng, &code, SERVICES, quality, end, args.years * 365)
            })
            .collect();
        let mut pending = Pending::default();
        for row in &rows {
            pending.add(&Entry::of(instrument, tz, row).expect("entry"), &row.flags);
        }
        db.write_blocking(|conn| {
            write_tx(conn, |conn| {
                queries::insert_fresh_responses(conn, &rows)?;
                pending.flush(conn)
            })
        })
        .expect("bulk load");
        if (i + 1) % 50 == 0 || i + 1 == args.units {
            let done = per_unit * (i + 1);
            eprintln!(
                "loaded {} units, about {done} responses, {:.0} responses/s",
                i + 1,
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
}

/// The codes of a tree's provinces, districts and units.
fn province(p: u64) -> String {
    format!("p{p:02}")
}
fn district(p: u64, d: u64) -> String {
    format!("p{p:02}-d{d:02}")
}
fn leaf(p: u64, d: u64, u: u64) -> String {
    format!("p{p:02}-d{d:02}-u{u:03}")
}

/// Creates the nation, its provinces, districts and units (each province in one of the three
/// zones), then loads the rows (`COPY` on PostgreSQL) one district a transaction with the
/// units' own tallies and the district's `below` rows; the `below` rows of a province and of
/// the nation are merged in memory as the load goes and written once each.
fn load_tree(db: &Db, registry: &Registry, args: &Args, [p, d, u]: [u64; 3], end: NaiveDateTime) {
    let made = end - chrono::Duration::days(args.years * 365 + 30);
    db.write_blocking(|conn| {
        write_tx(conn, |conn| {
            create_unit(conn, &unit("nasional", "Indonesia", ZONES[0], None), made)?;
            for i in 0..p {
                let zone = ZONES[(i % 3) as usize];
                create_unit(
                    conn,
                    &unit(&province(i), &province(i), zone, Some("nasional")),
                    made,
                )?;
                for j in 0..d {
                    let parent = district(i, j);
                    create_unit(
                        conn,
                        &unit(&parent, &parent, zone, Some(&province(i))),
                        made,
                    )?;
                    for k in 0..u {
                        let code = leaf(i, j, k);
                        create_unit(conn, &unit(&code, &code, zone, Some(&parent)), made)?;
                        for (s, name) in SERVICES {
                            let service = CreateServiceRequest {
                                code: (*s).into(),
                                name: (*name).into(),
                            };
                            create_service(conn, &code, &service, made)?;
                        }
                    }
                }
            }
            Ok(())
        })
    })
    .expect("units");
    let started = Instant::now();
    let units = p * d * u;
    let days = args.years * 365;
    let responses = args.responses;
    // One thread makes each district's rows and tallies while this one writes the one before.
    let (send, batches) = std::sync::mpsc::sync_channel(2);
    let registry_ = registry.clone();
    let maker = std::thread::spawn(move || {
        let instrument = registry_.get("skm-2017").expect("skm-2017");
        let mut rng = StdRng::seed_from_u64(14_2017);
        for i in 0..p {
            let tz = parse_timezone(ZONES[(i % 3) as usize]).expect("zone");
            for j in 0..d {
                let mut rows = Vec::new();
                for k in 0..u {
                    let n = i * d * u + j * u + k;
                    let count = responses / units + u64::from(n < responses % units);
                    let code = leaf(i, j, k);
                    rows.extend((0..count).map(|_| {
                        kepuasan::demo::response(
                            &mut rng,
                            &code,
                            SERVICES,
                            (n % 4) as u8,
                            end,
                            days,
                        )
                    }));
                }
                let mut own = Pending::default();
                for row in &rows {
                    own.add(&Entry::of(instrument, tz, row).expect("entry"), &row.flags);
                }
                let below = own.lifted(&district(i, j));
                if send.send((i, j, rows, own, below)).is_err() {
                    return;
                }
            }
        }
    });
    let mut done = 0u64;
    let mut nation = Pending::default();
    let mut province_below = Pending::default();
    // Seconds spent writing the rows and the tallies.
    let mut writing = [0.0; 2];
    for (i, j, rows, own, below_district) in batches {
        province_below.absorb(below_district.lifted(&province(i)));
        bulk_tx(db, |conn| {
            let t = Instant::now();
            queries::insert_fresh_responses(conn, &rows)?;
            writing[0] += t.elapsed().as_secs_f64();
            let t = Instant::now();
            own.insert_new(conn)?;
            below_district.insert_new(conn)?;
            writing[1] += t.elapsed().as_secs_f64();
            Ok(())
        });
        done += rows.len() as u64;
        if j + 1 < d {
            continue;
        }
        let below = std::mem::take(&mut province_below);
        nation.absorb(below.lifted("nasional"));
        let t = Instant::now();
        bulk_tx(db, |conn| below.insert_new(conn));
        writing[1] += t.elapsed().as_secs_f64();
        let all = started.elapsed().as_secs_f64();
        eprintln!(
            "loaded {} of {p} provinces, {done} responses, {:.0} responses/s ({:.0}% of the time writing rows, {:.0}% tallies)",
            i + 1,
            done as f64 / all,
            100.0 * writing[0] / all,
            100.0 * writing[1] / all
        );
    }
    maker.join().expect("the rows were made");
    bulk_tx(db, |conn| nation.insert_new(conn));
}

/// One transaction of the bulk load. On PostgreSQL it skips the foreign-key checks, as a bulk
/// load does (`pg_restore --disable-triggers`): every unit the rows name was just created.
fn bulk_tx(db: &Db, f: impl FnOnce(&mut DbConn) -> Result<(), kepuasan::error::AppError>) {
    db.write_blocking(|conn| {
        write_tx(conn, |conn| {
            if let DbConn::Postgres(pg) = conn {
                diesel::sql_query("SET LOCAL session_replication_role = replica").execute(pg)?;
            }
            f(conn)
        })
    })
    .expect("bulk load");
}

/// A report timed (median of the rounds), with the tally rows its last round read.
fn timed(
    db: &Db,
    registry: &Registry,
    rounds: usize,
    req: &ReportRequest,
) -> (f64, reporting::UnitReport, u64) {
    let rules = FlagRules::default();
    let (ms, (report, rows)) = time(rounds, || {
        STATEMENTS.lock().unwrap().clear();
        db.read_blocking(|c| {
            let before = kepuasan::tallies::rows_read();
            let report = reporting::unit_report(c, registry, &rules, req)?;
            Ok((report, kepuasan::tallies::rows_read() - before))
        })
        .expect("report")
    });
    (ms, report, rows)
}

/// The statements run since the last round began, with their times (`--queries`).
static STATEMENTS: std::sync::Mutex<Vec<(String, f64)>> = std::sync::Mutex::new(Vec::new());

/// Whether statements are recorded: during the tree's reports, not the load.
static RECORDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Times every statement of every connection opened after it is installed, into
/// [`STATEMENTS`] while [`RECORDING`].
#[derive(Default)]
struct StatementTimer(Option<Instant>);

impl diesel::connection::Instrumentation for StatementTimer {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::connection::InstrumentationEvent as E;
        match event {
            E::StartQuery { .. } => self.0 = Some(Instant::now()),
            E::FinishQuery { query, .. } => {
                if let Some(t) = self.0.take()
                    && RECORDING.load(std::sync::atomic::Ordering::Relaxed)
                {
                    let sql: String = query.to_string().chars().take(160).collect();
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    STATEMENTS.lock().unwrap().push((sql, ms));
                }
            }
            _ => {}
        }
    }
}

/// Prints the statements of the last report round: how many, their total time, the slowest.
fn print_statements(name: &str) {
    let statements = STATEMENTS.lock().unwrap();
    let total: f64 = statements.iter().map(|s| s.1).sum();
    println!(
        "  {name}: {} statements, {total:.1} ms in the database",
        statements.len()
    );
    let mut slowest: Vec<&(String, f64)> = statements.iter().collect();
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (sql, ms) in slowest.into_iter().take(12) {
        println!("    {ms:7.2} ms  {sql}");
    }
}

/// The tree's reports: a district, a province and the nation over the last quarter, and the
/// nation over 20 years; a district's IKM checked against a GROUP BY over its rows.
fn tree_reports(db: &Db, registry: &Registry, args: &Args, [p, d, u]: [u64; 3]) {
    let quarter: Period = "2026-Q2".parse().unwrap();
    let years: Period = "2006-07-01..2026-06-30".parse().unwrap();
    let request = |unit: String, period: Period| ReportRequest {
        unit,
        period,
        service: None,
        mode: None,
        instrument: None,
        exclude_flagged: false,
    };
    let (mp, md) = (p / 2, d / 2);
    let cases = [
        ("district", request(district(mp, md), quarter)),
        ("province", request(province(mp), quarter)),
        ("nation", request("nasional".into(), quarter)),
        ("nation, 20 years", request("nasional".into(), years)),
    ];
    let mut ms = Vec::new();
    for (name, req) in &cases {
        let (took, report, rows) = timed(db, registry, args.rounds, req);
        if args.queries {
            print_statements(name);
        }
        println!(
            "{name} {} {}: report {took:.1} ms (median of {}), {rows} tally rows read, {} units pooled, {} respondents, IKM {}",
            req.unit,
            req.period,
            args.rounds,
            report.units_count,
            report.report.respondents,
            report
                .report
                .ikm
                .as_ref()
                .map_or("-".into(), |v| v.format_id())
        );
        if *name == "district" {
            let instrument = registry.get("skm-2017").expect("skm-2017");
            let tz = parse_timezone(ZONES[(mp % 3) as usize]).unwrap();
            let units: Vec<(String, chrono_tz::Tz)> =
                (0..u).map(|k| (leaf(mp, md, k), tz)).collect();
            let rows = db
                .read_blocking(|c| Ok(group_by_rows(c, instrument, &units, &quarter)))
                .expect("rows");
            for child in &report.rollup.as_ref().expect("children").children {
                let code = child.code.clone().unwrap();
                assert_eq!(
                    rows.get(&code).cloned().flatten(),
                    child.ikm.as_ref().map(|v| v.format_id()),
                    "{code}: the rows and the tallies give one IKM"
                );
            }
        }
        if *name == "province" || *name == "nation" {
            // The tallies below were merged in memory as the load went: their pooled count
            // and IKM must be the rows'.
            let instrument = registry.get("skm-2017").expect("skm-2017");
            let provinces: Vec<u64> = if *name == "nation" {
                (0..p).collect()
            } else {
                vec![mp]
            };
            let mut tally = Tally::new(instrument);
            for zone in 0..3 {
                let mine: Vec<String> = provinces
                    .iter()
                    .filter(|i| *i % 3 == zone)
                    .map(|i| format!("{}-", province(*i)))
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                let tz = parse_timezone(ZONES[zone as usize]).unwrap();
                let keep = |code: &str| mine.iter().any(|m| code.starts_with(m.as_str()));
                let part = db
                    .read_blocking(|c| Ok(rows_tally(c, instrument, None, &keep, tz, &quarter)))
                    .expect("rows");
                tally.merge(&part);
            }
            assert_eq!(
                score(instrument, &tally),
                (
                    report.report.respondents,
                    report.report.ikm.as_ref().map(|v| v.format_id())
                ),
                "{}: the rows and the tallies give one count and one IKM",
                req.unit
            );
        }
        ms.push(took);
    }
    println!(
        "ratios: nation / district {:.1}x (goal at most 5x), nation 20 years / its quarter {:.1}x (goal at most 2x); goals: district 50 ms, province 200 ms, nation 1,000 ms",
        ms[2] / ms[0],
        ms[3] / ms[2]
    );
    unit_list(db, args.rounds, &province(mp));
}

/// Times the unit list a province's viewer is shown (`GET /api/v1/units`: every unit read,
/// those in the viewer's scope kept).
fn unit_list(db: &Db, rounds: usize, province: &str) {
    let viewer = Principal {
        key_id: "bench".into(),
        role: Role::Viewer,
        units: vec![province.to_owned()],
        last_used_at: None,
        origin: Origin::Key,
    };
    let mut took = Vec::new();
    let mut shown = (0, 0);
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let all = db.read_blocking(queries::list_units).expect("units");
        let index = access::UnitIndex::of(&all);
        let seen = all
            .iter()
            .filter(|u| access::sees(&viewer, &index, &u.code))
            .count();
        took.push(start.elapsed().as_secs_f64() * 1e3);
        shown = (seen, all.len());
    }
    took.sort_by(f64::total_cmp);
    println!(
        "unit list of a viewer of {province}: {} of {} units in {:.1} ms (median of {})",
        shown.0,
        shown.1,
        took[took.len() / 2],
        took.len()
    );
}

fn unit(code: &str, name: &str, tz: &str, parent: Option<&str>) -> CreateUnitRequest {
    CreateUnitRequest {
        code: code.into(),
        name: name.into(),
        timezone: tz.into(),
        parent: parent.map(str::to_owned),
        open_link: false,
        public_results: false,
    }
}

/// The baseline: a GROUP BY over the raw rows of the units in the quarter (each cut at its own
/// local midnight), folded into one tally per unit and scored.
fn group_by_rows(
    conn: &mut DbConn,
    instrument: &Instrument,
    units: &[(String, chrono_tz::Tz)],
    period: &Period,
) -> BTreeMap<String, Option<String>> {
    units
        .iter()
        .map(|(code, tz)| {
            let tally = rows_tally(conn, instrument, Some(code), &|_| true, *tz, period);
            (code.clone(), score(instrument, &tally).1)
        })
        .collect()
}

/// The tally of the rows received in `period` in time zone `tz`, by a GROUP BY over the rows:
/// of `unit` alone, or (`None`) of every unit whose code `keep` takes.
fn rows_tally(
    conn: &mut DbConn,
    instrument: &Instrument,
    unit: Option<&str>,
    keep: &dyn Fn(&str) -> bool,
    tz: chrono_tz::Tz,
    period: &Period,
) -> Tally {
    let (from, to) = period.utc_range(tz);
    let query = responses::table
        .filter(responses::received_at.ge(from))
        .filter(responses::received_at.lt(to))
        .group_by((responses::unit_code, responses::answers))
        .select((
            responses::unit_code,
            responses::answers,
            diesel::dsl::count_star(),
        ));
    let groups: Vec<(String, String, i64)> = match unit {
        Some(unit) => query.filter(responses::unit_code.eq(unit)).load(conn),
        None => query.load(conn),
    }
    .expect("group by");
    let mut tally = Tally::new(instrument);
    for (_, answers, n) in groups.into_iter().filter(|g| keep(&g.0)) {
        let map: BTreeMap<String, i64> = serde_json::from_str(&answers).expect("answers");
        let answers = Answers::from_pairs(instrument, map.iter().map(|(k, v)| (k.as_str(), *v)))
            .expect("valid answers");
        for _ in 0..n {
            tally.add_checked(&answers);
        }
    }
    tally
}

/// Respondents and IKM (as printed) of a tally.
fn score(instrument: &Instrument, tally: &Tally) -> (u64, Option<String>) {
    let report = engine::compute(instrument, tally, &Options::default()).expect("score");
    (report.respondents, report.ikm.map(|v| v.format_id()))
}

/// Median milliseconds of `rounds` runs of `f`, and its last result.
fn time<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut ms = Vec::new();
    let mut last = None;
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        last = Some(f());
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], last.expect("one round"))
}

fn main() {
    // Errors are logged where they happen: show them.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = args();
    if args.queries {
        diesel::connection::set_default_instrumentation(|| {
            Some(Box::new(StatementTimer::default()))
        })
        .expect("instrumentation");
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let (url, pg_name) = match args.backend.as_str() {
        "sqlite" => (
            args.keep
                .clone()
                .unwrap_or_else(|| dir.path().join("reports.db").to_str().unwrap().to_owned()),
            None,
        ),
        "postgres" => {
            let base = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let root = base.rsplit_once('/').unwrap().0;
            match &args.keep {
                Some(name) => {
                    assert!(
                        name.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                        "--keep takes a database name of lowercase letters, digits and underscores"
                    );
                    let mut conn = diesel::PgConnection::establish(&base).expect("PostgreSQL");
                    let exists: i64 =
                        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                            "(SELECT count(*) FROM pg_database WHERE datname = '{name}')"
                        )))
                        .get_result(&mut conn)
                        .expect("pg_database");
                    if exists == 0 {
                        admin_sql(&base, &format!("CREATE DATABASE {name}"));
                    }
                    (format!("{root}/{name}"), None)
                }
                None => {
                    let name = format!("kepuasan_reports_{}", std::process::id());
                    admin_sql(&base, &format!("CREATE DATABASE {name}"));
                    (format!("{root}/{name}"), Some((base, name)))
                }
            }
        }
        other => panic!("unknown backend {other}"),
    };
    let registry = Registry::built_in().expect("instruments");
    let instrument = registry.get("skm-2017").expect("skm-2017");
    let db = Db::open(&url).expect("database");
    // The data ends on 2026-06-30, so 2026-Q2 and the four quarters before it are full.
    let end = NaiveDateTime::parse_from_str("2026-06-30 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let started = Instant::now();
    let reuse = args
        .keep
        .as_ref()
        .is_some_and(|_| db.read_blocking(queries::count_responses).expect("count") > 0);
    if !reuse {
        match args.tree {
            Some(shape) => load_tree(&db, &registry, &args, shape, end),
            None => load(&db, &registry, &args, end),
        }
    }
    let load_s = started.elapsed().as_secs_f64();
    // What autovacuum and SQLite's optimize do in service: plans made on fresh statistics.
    db.write_blocking(|c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE").map_err(Into::into)
    })
    .expect("analyze");
    // Every tally row counted: at 20 million responses on PostgreSQL a scan longer than the
    // service's statement timeout, lifted for this one transaction.
    let tally_rows: i64 = db
        .write_blocking(|conn| {
            write_tx(conn, |c| {
                if let DbConn::Postgres(pg) = c {
                    diesel::sql_query("SET LOCAL statement_timeout = 0").execute(pg)?;
                }
                kepuasan::db::schema::tallies::table
                    .count()
                    .get_result(c)
                    .map_err(Into::into)
            })
        })
        .expect("count");

    if let Some(shape) = args.tree {
        println!(
            "backend {} | tree {}x{}x{} ({} units) | {} responses, {} years | {}, {tally_rows} tally rows",
            args.backend,
            shape[0],
            shape[1],
            shape[2],
            shape.iter().product::<u64>(),
            args.responses,
            args.years,
            if reuse {
                "database reused".to_owned()
            } else {
                format!("loaded in {load_s:.0} s")
            }
        );
        RECORDING.store(args.queries, std::sync::atomic::Ordering::Relaxed);
        tree_reports(&db, &registry, &args, shape);
        finish(db, pg_name);
        return;
    }
    let period: Period = "2026-Q2".parse().unwrap();
    let rules = FlagRules::default();
    let request = |unit: &str| ReportRequest {
        unit: unit.into(),
        period,
        service: None,
        mode: None,
        instrument: None,
        exclude_flagged: false,
    };
    let one = unit_code(args.units / 2);
    let one_tz = parse_timezone(ZONES[((args.units / 2) % 3) as usize]).unwrap();
    let (unit_ms, unit_report) = time(args.rounds, || {
        db.read_blocking(|c| reporting::unit_report(c, &registry, &rules, &request(&one)))
            .expect("unit report")
    });
    let (unit_rows_ms, unit_rows) = time(args.rounds, || {
        db.read_blocking(|c| {
            Ok(group_by_rows(
                c,
                instrument,
                &[(one.clone(), one_tz)],
                &period,
            ))
        })
        .expect("rows")
    });
    assert_eq!(
        unit_rows.get(&one).cloned().flatten(),
        unit_report.report.ikm.as_ref().map(|v| v.format_id()),
        "the rows and the tallies give one IKM"
    );
    let all: Vec<(String, chrono_tz::Tz)> = (0..args.units)
        .map(|i| {
            (
                unit_code(i),
                parse_timezone(ZONES[(i % 3) as usize]).unwrap(),
            )
        })
        .collect();
    let (overview_ms, overview) = time(args.rounds, || {
        db.read_blocking(|c| reporting::unit_report(c, &registry, &rules, &request("prov")))
            .expect("overview")
    });
    let (overview_rows_ms, overview_rows) = time(args.rounds.min(3), || {
        db.read_blocking(|c| Ok(group_by_rows(c, instrument, &all, &period)))
            .expect("rows")
    });
    let ranked = &overview.rollup.as_ref().expect("children").children;
    assert_eq!(ranked.len() as u64, args.units);
    for child in ranked {
        let code = child.code.clone().unwrap();
        assert_eq!(
            overview_rows.get(&code).cloned().flatten(),
            child.ikm.as_ref().map(|v| v.format_id()),
            "{code}: the rows and the tallies give one IKM"
        );
    }
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    println!(
        "backend {} | {} responses, {} units, {} years | {}, {tally_rows} tally rows",
        args.backend,
        args.responses,
        args.units,
        args.years,
        if reuse {
            "database reused".to_owned()
        } else {
            format!(
                "loaded in {load_s:.0} s ({:.0} responses/s)",
                args.responses as f64 / load_s
            )
        }
    );
    println!(
        "one unit, {period}: report {unit_ms:.1} ms (median of {}), GROUP BY rows {unit_rows_ms:.1} ms, ratio {:.1}x; {} respondents, IKM {}",
        args.rounds,
        unit_rows_ms / unit_ms,
        unit_report.report.respondents,
        unit_report
            .report
            .ikm
            .as_ref()
            .map_or("-".into(), |v| v.format_id())
    );
    println!(
        "overview of {} units, {period}: report {overview_ms:.1} ms, GROUP BY rows {overview_rows_ms:.1} ms, ratio {:.1}x; {} respondents",
        args.units,
        overview_rows_ms / overview_ms,
        overview.report.respondents
    );
    println!("peak resident memory of the benchmark process: {rss}");
    finish(db, pg_name);
}

/// Closes the database, and drops the PostgreSQL one the run made.
fn finish(db: Db, pg_name: Option<(String, String)>) {
    drop(db);
    if let Some((base, name)) = pg_name {
        admin_sql(&base, &format!("DROP DATABASE {name} WITH (FORCE)"));
    }
}

/// Runs a statement on PostgreSQL's administrative database.
fn admin_sql(base: &str, sql: &str) {
    let mut conn = diesel::PgConnection::establish(base).expect("PostgreSQL is reachable");
    diesel::sql_query(sql).execute(&mut conn).expect(sql);
}
