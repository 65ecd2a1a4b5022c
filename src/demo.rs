//! Demo data: a realistic Mal Pelayanan Publik with a dozen units in two time zones, their
//! services, and a year of responses, so a newcomer sees real reports within a minute.

use chrono::{Duration, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::queries::{self, ResponseRow};
use crate::db::{DbConn, write_tx};
use crate::domain::units::{CreateServiceRequest, CreateUnitRequest, create_service, create_unit};
use crate::error::{AppError, Kind};

/// (code, name, time zone, parent, quality from 0 = weak to 3 = excellent, services)
type UnitSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u8,
    &'static [(&'static str, &'static str)],
);

const UNITS: &[UnitSpec] = &[
    (
        "dukcapil-bdg",
        "Disdukcapil Kota Bandung",
        "Asia/Jakarta",
        "mpp-bandung",
        2,
        &[
            ("ktp-el", "KTP-el"),
            ("kk", "Kartu Keluarga"),
            ("akta-lahir", "Akta Kelahiran"),
        ],
    ),
    (
        "samsat-bdg",
        "Samsat Bandung Tengah",
        "Asia/Jakarta",
        "mpp-bandung",
        1,
        &[
            ("pajak-tahunan", "Pajak Kendaraan Tahunan"),
            ("stnk-5th", "Pengesahan STNK 5 Tahunan"),
        ],
    ),
    (
        "imigrasi-bdg",
        "Kantor Imigrasi Bandung",
        "Asia/Jakarta",
        "mpp-bandung",
        3,
        &[
            ("paspor-baru", "Paspor Baru"),
            ("paspor-ganti", "Penggantian Paspor"),
        ],
    ),
    (
        "bpjs-kes-bdg",
        "BPJS Kesehatan Cabang Bandung",
        "Asia/Jakarta",
        "mpp-bandung",
        2,
        &[
            ("daftar", "Pendaftaran Peserta"),
            ("ubah-data", "Perubahan Data"),
        ],
    ),
    (
        "polres-bdg",
        "Satpas Polrestabes Bandung",
        "Asia/Jakarta",
        "mpp-bandung",
        1,
        &[
            ("sim-baru", "SIM Baru"),
            ("sim-perpanjang", "Perpanjangan SIM"),
            ("skck", "SKCK"),
        ],
    ),
    (
        "dpmptsp-bdg",
        "DPMPTSP Kota Bandung",
        "Asia/Jakarta",
        "mpp-bandung",
        2,
        &[
            ("pbg", "Persetujuan Bangunan Gedung"),
            ("nib", "Nomor Induk Berusaha"),
        ],
    ),
    (
        "pajak-bdg",
        "KPP Pratama Bandung",
        "Asia/Jakarta",
        "mpp-bandung",
        3,
        &[("npwp", "Pendaftaran NPWP"), ("spt", "Pelaporan SPT")],
    ),
    (
        "dukcapil-mks",
        "Disdukcapil Kota Makassar",
        "Asia/Makassar",
        "mpp-makassar",
        1,
        &[("ktp-el", "KTP-el"), ("kk", "Kartu Keluarga")],
    ),
    (
        "samsat-mks",
        "Samsat Makassar",
        "Asia/Makassar",
        "mpp-makassar",
        2,
        &[("pajak-tahunan", "Pajak Kendaraan Tahunan")],
    ),
    (
        "bpn-mks",
        "Kantor Pertanahan Kota Makassar",
        "Asia/Makassar",
        "mpp-makassar",
        0,
        &[("sertifikat", "Pendaftaran Sertifikat"), ("roya", "Roya")],
    ),
    (
        "pdam-mks",
        "Perumda Air Minum Makassar",
        "Asia/Makassar",
        "mpp-makassar",
        1,
        &[
            ("sambung-baru", "Sambungan Baru"),
            ("pengaduan", "Pengaduan Tagihan"),
        ],
    ),
    (
        "bpjs-tk-mks",
        "BPJS Ketenagakerjaan Makassar",
        "Asia/Makassar",
        "mpp-makassar",
        3,
        &[("klaim-jht", "Klaim JHT")],
    ),
];

const SUGGESTIONS: &[&str] = &[
    "Antrean terlalu lama, mohon tambah loket.",
    "Petugas ramah dan cepat, terima kasih.",
    "Ruang tunggu panas, AC perlu diperbaiki.",
    "Informasi persyaratan di website kurang jelas.",
    "Pelayanan sudah bagus, pertahankan.",
    "Parkir sempit dan penuh.",
    "Mohon disediakan kursi prioritas untuk lansia.",
    "Sistem antrean online sering gangguan.",
    "Prosesnya lebih cepat dari yang saya kira.",
    "Tidak ada petunjuk arah ke loket.",
];

/// Fills a database that has no units yet; returns the number of responses made.
pub fn fill(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    if !queries::list_units(conn)?.is_empty() {
        return Err(AppError::new(
            Kind::NotEmpty,
            "the database already has units; the demo fills only an empty one",
        ));
    }
    let mut rng = StdRng::seed_from_u64(14_2017);
    let registry = crate::instrument::Registry::built_in().map_err(AppError::internal)?;
    let instrument = registry
        .get("skm-2017")
        .cloned()
        .ok_or_else(|| AppError::internal("the skm-2017 instrument is missing"))?;
    write_tx(conn, |conn| {
        for (code, name, tz) in [
            (
                "mpp-bandung",
                "Mal Pelayanan Publik Kota Bandung",
                "Asia/Jakarta",
            ),
            (
                "mpp-makassar",
                "Mal Pelayanan Publik Kota Makassar",
                "Asia/Makassar",
            ),
        ] {
            create_unit(
                conn,
                &CreateUnitRequest {
                    code: code.into(),
                    name: name.into(),
                    timezone: tz.into(),
                    parent: None,
                    open_link: false,
                    public_results: true,
                },
                now,
            )?;
        }
        let mut made = 0;
        for (code, name, tz, parent, quality, services) in UNITS {
            create_unit(
                conn,
                &CreateUnitRequest {
                    code: (*code).into(),
                    name: (*name).into(),
                    timezone: (*tz).into(),
                    parent: Some((*parent).into()),
                    open_link: true,
                    public_results: true,
                },
                now,
            )?;
            for (s_code, s_name) in *services {
                create_service(
                    conn,
                    code,
                    &CreateServiceRequest {
                        code: (*s_code).into(),
                        name: (*s_name).into(),
                    },
                    now,
                )?;
            }
            follow_up_plans(conn, &instrument, code, now)?;
            // About 60 to 140 responses a month over the past year.
            let count = rng.random_range(700..1700);
            let zone = crate::period::parse_timezone(tz)
                .ok_or_else(|| AppError::internal(format!("bad demo time zone {tz}")))?;
            let mut pending = crate::tallies::Pending::default();
            for _ in 0..count {
                let row = response(&mut rng, code, services, *quality, now, 365);
                queries::insert_response(conn, &row)?;
                pending.add(
                    &crate::tallies::Entry::of(&instrument, zone, &row)?,
                    &row.flags,
                );
                made += 1;
            }
            pending.flush(conn)?;
        }
        Ok(made)
    })
}

/// Follow-up plans for the weak items (U3 waiting time, U8 facilities): last quarter's, one
/// done and one still running, and this quarter's.
fn follow_up_plans(
    conn: &mut DbConn,
    instrument: &crate::instrument::Instrument,
    unit: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    use crate::followup::{NewFollowUpRequest, UpdateFollowUpRequest, create, update};
    let this = {
        use chrono::Datelike;
        crate::period::Period::quarter(now.year(), now.month0() / 3 + 1)
    };
    let plans = [
        (
            this.previous(),
            "U3",
            "Tambah satu loket pada jam sibuk (08.00-11.00)",
            "Kepala Seksi Pelayanan",
            this.previous().last,
            Some("done"),
        ),
        (
            this.previous(),
            "U8",
            "Ganti kursi ruang tunggu dan perbaiki pendingin ruangan",
            "Kepala Subbagian Umum",
            this.previous().last,
            Some("in_progress"),
        ),
        (
            this,
            "U3",
            "Antrean daring dengan perkiraan waktu tunggu",
            "Kepala Seksi Pelayanan",
            this.last,
            None,
        ),
    ];
    for (period, item, action, owner, due, status) in plans {
        let plan = create(
            conn,
            instrument,
            unit,
            &NewFollowUpRequest {
                period: period.to_string(),
                item: item.into(),
                action: action.into(),
                owner: owner.into(),
                due: due.to_string(),
                status: None,
                note: None,
            },
            now,
        )?;
        if let Some(status) = status {
            let change = UpdateFollowUpRequest {
                status: Some(status.into()),
                ..Default::default()
            };
            update(conn, &plan.id, &change, now)?;
        }
    }
    Ok(())
}

/// One synthetic response of a unit received in the `days` before `now`: answers shaped by the
/// unit's quality (0 to 3) with the weak items real units have, a profile, sometimes a
/// suggestion. The demo and the report benchmark's bulk loader both use it.
pub fn response(
    rng: &mut StdRng,
    unit: &str,
    services: &[(&str, &str)],
    quality: u8,
    now: NaiveDateTime,
    days: i64,
) -> ResponseRow {
    // Each unit has its typical strengths: U3 (time) and U8 (facilities) are weaker everywhere,
    // U4 (cost) is usually free. Quality shifts everything.
    let base = 2.55 + f64::from(quality) * 0.3;
    let offsets = [0.05, 0.0, -0.35, 0.45, 0.05, 0.1, 0.15, -0.25, -0.15];
    let mood: f64 = rng.random_range(-0.6..0.6);
    let mut answers = std::collections::BTreeMap::new();
    for (i, offset) in offsets.iter().enumerate() {
        if rng.random_bool(0.02) {
            continue;
        }
        let score = base + offset + mood + rng.random_range(-0.7..0.7);
        answers.insert(format!("U{}", i + 1), score.round().clamp(1.0, 4.0) as i64);
    }
    if answers.is_empty() {
        answers.insert("U1".into(), 3);
    }
    let age = rng.random_range(17..75);
    const EDUCATION: [&str; 9] = ["SD", "SMP", "SMA", "SMA", "SMA", "D1-D3", "S1", "S1", "S2"];
    const OCCUPATION: [&str; 9] = [
        "PNS",
        "Swasta",
        "Swasta",
        "Wirausaha",
        "Wirausaha",
        "Pelajar/Mahasiswa",
        "Lainnya",
        "TNI",
        "POLRI",
    ];
    let education = EDUCATION[rng.random_range(0..9)];
    let occupation = OCCUPATION[rng.random_range(0..9)];
    let profile = serde_json::json!({
        "gender": if rng.random_bool(0.52) { "P" } else { "L" },
        "age": age,
        "education": education,
        "occupation": occupation,
    });
    let received_at = now - Duration::minutes(rng.random_range(0..days * 24 * 60));
    let channel = ["kiosk", "kiosk", "kiosk", "qr", "qr", "web", "paper"][rng.random_range(0..7)];
    let suggestion = rng
        .random_bool(0.18)
        .then(|| SUGGESTIONS[rng.random_range(0..SUGGESTIONS.len())].to_owned());
    let id = uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string();
    ResponseRow {
        content_hash: crate::auth::sha256_hex(&id),
        submission_id: id,
        instrument: "skm-2017".into(),
        instrument_version: 1,
        unit_code: unit.into(),
        service_code: Some(services[rng.random_range(0..services.len())].0.into()),
        channel: channel.into(),
        answers: serde_json::to_string(&answers).expect("map serializes"),
        profile: Some(profile.to_string()),
        suggestion,
        received_at,
        client_time: Some(received_at),
        flags: String::new(),
        key_id: None,
        started_at: Some(received_at - Duration::seconds(rng.random_range(25..200))),
        clock_offset_ms: None,
        device_id: None,
    }
}
