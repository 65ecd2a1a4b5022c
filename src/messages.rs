//! What every message a person may be shown says in Bahasa Indonesia: the `message` and the
//! `fields` of an error, and the row problems and warnings of a paper import.
//!
//! The code writes its messages once, in English (the API's language when a client asks for
//! none); this catalogue gives each its Indonesian. The pages ask for their language
//! (`Accept-Language`), the command line speaks `--lang` (Indonesian by default), and a
//! message the catalogue does not know stays as it was written. A test reads the sources and
//! fails on a field message without an entry here.

use std::borrow::Cow;

use crate::instrument::Lang;

/// English templates and their Indonesian. `{}` in an English template stands for a value
/// (a code, a number, a name); `{0}`, `{1}` ... in the Indonesian put them back in order.
const CATALOGUE: &[(&str, &str)] = &[
    ("invalid field(s): {}", "isian tidak sah: {0}"),
    // Values of fields.
    ("must not be empty", "tidak boleh kosong"),
    ("is missing", "tidak diisi"),
    ("is empty", "kosong"),
    ("must be 1 to 200 characters", "harus 1 sampai 200 karakter"),
    ("must be 1 to 64 characters", "harus 1 sampai 64 karakter"),
    ("must be 1 to 100 characters", "harus 1 sampai 100 karakter"),
    (
        "must be 1 to 1024 characters",
        "harus 1 sampai 1024 karakter",
    ),
    (
        "must be at most {} characters",
        "paling banyak {0} karakter",
    ),
    (
        "must be at least {} characters",
        "paling sedikit {0} karakter",
    ),
    ("must be at least 1", "paling sedikit 1"),
    ("must be 1 to 500", "harus 1 sampai 500"),
    ("must be 25 to 100", "harus 25 sampai 100"),
    (
        "must be 16 to 200 characters",
        "harus 16 sampai 200 karakter",
    ),
    ("must be between {} and {}", "harus antara {0} dan {1}"),
    (
        "must be a whole number between {} and {}",
        "harus bilangan bulat dari {0} sampai {1}",
    ),
    ("must be one of {}", "harus salah satu dari {0}"),
    ("must be within a year", "harus dalam rentang satu tahun"),
    ("must be `id` or `en`", "harus `id` atau `en`"),
    ("must be id or en", "harus id atau en"),
    ("must be comma or semicolon", "harus comma atau semicolon"),
    ("must be a UUID", "harus berupa UUID"),
    (
        "must be a date such as 2025-12-31",
        "harus tanggal seperti 2025-12-31",
    ),
    (
        "must be an RFC 3339 time such as 2025-07-01T09:30:00+07:00",
        "harus waktu RFC 3339 seperti 2025-07-01T09:30:00+07:00",
    ),
    ("must be a year such as 2025", "harus tahun seperti 2025"),
    (
        "must be a year from 2000 to 2100",
        "harus tahun 2000 sampai 2100",
    ),
    (
        "must be a year whose 1 January has passed everywhere (2000 to {})",
        "harus tahun yang 1 Januarinya sudah lewat di semua zona waktu (2000 sampai {0})",
    ),
    (
        "must be 1 to 64 letters, digits, '.', '_' or '-'",
        "harus 1 sampai 64 huruf, angka, '.', '_' atau '-'",
    ),
    (
        "must be 1 to 64 letters, digits, '-' or '_'",
        "harus 1 sampai 64 huruf, angka, '-' atau '_'",
    ),
    (
        "must be 3 to 64 letters, digits, '.', '_' or '-'",
        "harus 3 sampai 64 huruf, angka, '.', '_' atau '-'",
    ),
    ("must be at most 3 characters", "paling banyak 3 karakter"),
    (
        "`{}` is not an IANA time zone such as Asia/Jakarta",
        "`{0}` bukan zona waktu IANA seperti Asia/Jakarta",
    ),
    (
        "must not hold control characters (U+0000 to U+001F other than tab, line feed and carriage return)",
        "tidak boleh berisi karakter kendali (U+0000 sampai U+001F selain tab, ganti baris dan carriage return)",
    ),
    ("must be between 1 and 120", "harus antara 1 dan 120"),
    (
        "must be between 0 and 1000000",
        "harus antara 0 dan 1000000",
    ),
    // Units, people and their settings.
    ("must be a NIP of 18 digits", "harus NIP 18 angka"),
    (
        "must be at most 3 lines of at most 100 characters",
        "paling banyak 3 baris, masing-masing paling banyak 100 karakter",
    ),
    (
        "must be a telephone number such as (022) 4234567",
        "harus nomor telepon seperti (022) 4234567",
    ),
    (
        "must be an e-mail address such as dinas@bandung.go.id",
        "harus alamat pos-el seperti dinas@bandung.go.id",
    ),
    (
        "must be a website such as disdukcapil.bandung.go.id",
        "harus alamat laman seperti disdukcapil.bandung.go.id",
    ),
    ("unknown unit `{}`", "unit `{0}` tidak dikenal"),
    (
        "must be opening and closing times such as 08:00-16:00, the opening before the closing",
        "harus jam buka dan jam tutup seperti 08:00-16:00, jam buka sebelum jam tutup",
    ),
    (
        "must be a day: mon, tue, wed, thu, fri, sat or sun",
        "harus hari: mon, tue, wed, thu, fri, sat atau sun",
    ),
    ("unit `{}` already exists", "unit `{0}` sudah ada"),
    (
        "service `{}` of unit {} already exists",
        "layanan `{0}` pada unit {1} sudah ada",
    ),
    (
        "a unit cannot be placed under itself or its own descendant",
        "unit tidak dapat ditempatkan di bawah dirinya sendiri atau unit di bawahnya",
    ),
    (
        "only an administrator may change {}; a unit's manager changes its name, address, city and head",
        "hanya administrator yang dapat mengubah {0}; pengelola unit mengubah nama, alamat, kontak dan kepala unitnya",
    ),
    ("this unit has no logo", "unit ini belum punya logo"),
    (
        "send the logo as image/png or image/svg+xml, not `{}`",
        "kirim logo sebagai image/png atau image/svg+xml, bukan `{0}`",
    ),
    (
        "the picture takes too long to read; simplify it or send a PNG",
        "gambar terlalu lama dibaca; sederhanakan atau kirim PNG",
    ),
    (
        "must be at least 10 characters",
        "paling sedikit 10 karakter",
    ),
    (
        "is one of the most common passwords; choose another",
        "termasuk kata sandi yang paling umum; pilih yang lain",
    ),
    (
        "must not be the user name",
        "tidak boleh sama dengan nama pengguna",
    ),
    (
        "an admin works for every unit; give none",
        "administrator bekerja untuk semua unit; jangan pilih unit",
    ),
    (
        "a manager or viewer needs at least one unit",
        "pengelola atau pemantau memerlukan paling sedikit satu unit",
    ),
    (
        "a unit's manager manages viewers only; ask an administrator",
        "pengelola unit hanya mengelola pemantau; minta kepada administrator",
    ),
    (
        "the user name `{}` is taken",
        "nama pengguna `{0}` sudah dipakai",
    ),
    (
        "a person turns two-step sign-in on themselves, at /admin",
        "masuk dua langkah dinyalakan oleh orangnya sendiri, di /admin",
    ),
    ("unknown user `{}`", "pengguna `{0}` tidak dikenal"),
    (
        "a person cannot disable themselves; another administrator or manager does",
        "seseorang tidak dapat menonaktifkan dirinya sendiri; administrator atau pengelola lain yang melakukannya",
    ),
    (
        "two-step sign-in is already on; an administrator can reset it",
        "masuk dua langkah sudah aktif; administrator dapat mengatur ulang",
    ),
    (
        "begin two-step sign-in first",
        "mulai masuk dua langkah lebih dulu",
    ),
    ("must be the six-digit code", "harus kode enam angka"),
    (
        "two-step sign-in is on: send the six-digit code of the authenticator app as `totp`",
        "masuk dua langkah aktif: masukkan kode enam angka dari aplikasi autentikator",
    ),
    (
        "the code is wrong or already used; type the newest one",
        "kode salah atau sudah dipakai; ketik kode yang terbaru",
    ),
    (
        "a unit's manager makes kiosk and counter keys only",
        "pengelola unit hanya membuat kunci kios dan loket",
    ),
    (
        "a {} key needs at least one unit",
        "kunci {0} memerlukan paling sedikit satu unit",
    ),
    // Follow-up plans, suggestions, notifications, the Ombudsman.
    ("`{}` is not an item of {}", "`{0}` bukan unsur {1}"),
    (
        "each tag is 1 to 30 characters, without commas",
        "setiap label 1 sampai 30 karakter, tanpa koma",
    ),
    ("at most 5 tags", "paling banyak 5 label"),
    ("no suggestion `{}`", "saran `{0}` tidak ada"),
    (
        "not a follow-up plan of the suggestion's unit",
        "bukan rencana tindak lanjut unit saran ini",
    ),
    ("unknown follow-up", "rencana tindak lanjut tidak dikenal"),
    (
        "must be 0 to 100 with at most two decimals, as the Ombudsman published it",
        "harus 0 sampai 100 dengan paling banyak dua angka di belakang koma, seperti diterbitkan Ombudsman",
    ),
    (
        "a mailto: address must hold one e-mail address",
        "alamat mailto: harus berisi satu alamat pos-el",
    ),
    (
        "must be an http:// or https:// address of at most 2,000 characters, or mailto: and an e-mail address",
        "harus alamat http:// atau https:// paling panjang 2.000 karakter, atau mailto: dan alamat pos-el",
    ),
    (
        "`{}` is not an event; use response.low, unit.drop, kiosk.offline, suggestion.new, summary.daily or summary.weekly",
        "`{0}` bukan peristiwa; pakai response.low, unit.drop, kiosk.offline, suggestion.new, summary.daily atau summary.weekly",
    ),
    ("name one to six events", "pilih satu sampai enam peristiwa"),
    (
        "no mail server is set (KEPUASAN_SMTP_URL), so nothing can be mailed",
        "server surat belum diatur (KEPUASAN_SMTP_URL), jadi tidak ada yang dapat dikirim lewat pos-el",
    ),
    (
        "a posted webhook needs a secret to sign its deliveries with",
        "webhook memerlukan rahasia untuk menandatangani kirimannya",
    ),
    (
        "name the unit the webhook watches; only an administrator watches every unit",
        "pilih unit yang dipantau webhook; hanya administrator yang memantau semua unit",
    ),
    ("no webhook `{}`", "webhook `{0}` tidak ada"),
    // Responses.
    ("unknown instrument `{}`", "instrumen `{0}` tidak dikenal"),
    ("unknown item for {}", "bukan unsur {0}"),
    ("unknown profile field", "isian profil tidak dikenal"),
    (
        "at least one item must be answered",
        "paling sedikit satu unsur harus dijawab",
    ),
    (
        "unknown service `{}` of unit {}",
        "layanan `{0}` tidak ada pada unit {1}",
    ),
    (
        "this unit no longer takes responses",
        "unit ini tidak lagi menerima survei",
    ),
    (
        "this service no longer takes responses",
        "layanan ini tidak lagi menerima survei",
    ),
    (
        "the receipt is for service `{}`",
        "struk ini untuk layanan `{0}`",
    ),
    (
        "this {} {} does not serve unit {}",
        "{0} {1} ini tidak melayani unit {2}",
    ),
    (
        "a {} key cannot submit responses",
        "kunci {0} tidak dapat mengirim survei",
    ),
    (
        "responses through {} come through channel `{}`, not `{}`",
        "survei melalui {0} masuk lewat saluran `{1}`, bukan `{2}`",
    ),
    (
        "this submission_id was already used for a submission with different content",
        "submission_id ini sudah dipakai untuk kiriman dengan isi yang berbeda",
    ),
    (
        "a response through an open link needs the form ticket of the survey page; open the page again",
        "survei melalui tautan terbuka memerlukan tiket formulir halaman survei; buka halamannya lagi",
    ),
    (
        "this receipt has already been used for a survey; terima kasih",
        "struk ini sudah dipakai untuk survei; terima kasih",
    ),
    (
        "this survey form was already sent; open the survey page again for a new response",
        "formulir survei ini sudah dikirim; buka halaman survei lagi untuk survei baru",
    ),
    (
        "the survey form is not valid here; open the survey page again",
        "formulir survei tidak berlaku di sini; buka halaman survei lagi",
    ),
    (
        "this survey form is for unit {}",
        "formulir survei ini untuk unit {0}",
    ),
    (
        "this survey form was opened too long ago; open the survey page again",
        "formulir survei ini dibuka terlalu lama; buka halaman survei lagi",
    ),
    // Paper questionnaires.
    (
        "`{}` is not a date such as 2025-07-14 or 14/07/2025",
        "`{0}` bukan tanggal seperti 2025-07-14 atau 14/07/2025",
    ),
    ("`{}` is not a whole number", "`{0}` bukan bilangan bulat"),
    ("{} is in the future", "{0} belum terjadi"),
    (
        "{} is before {}, when the skm-2017 instrument began",
        "{0} sebelum {1}, saat instrumen skm-2017 mulai berlaku",
    ),
    (
        "{} is in a year archived and closed (before {})",
        "{0} termasuk tahun yang sudah diarsipkan dan ditutup (sebelum {1})",
    ),
    (
        "`{}` is not recognised, so it is left empty; the questionnaire's answers still count",
        "`{0}` tidak dikenali, jadi dikosongkan; jawaban kuesioner tetap dihitung",
    ),
    (
        "this line has {} columns where the header has {}: column {} and those after it are missing",
        "baris ini hanya berisi {0} kolom, padahal judulnya {1} kolom: kolom {2} dan sesudahnya tidak ada",
    ),
    (
        "the file is not UTF-8 text ({})",
        "berkas ini bukan teks UTF-8 ({0})",
    ),
    (
        "cannot read the header line: {}",
        "baris judul tidak terbaca: {0}",
    ),
    (
        "the header has no column for {}",
        "baris judul tidak punya kolom {0}",
    ),
    (
        "`{}` is not an item of {} (items {}..{})",
        "`{0}` bukan unsur {1} (unsur {2}..{3})",
    ),
    (
        "the file has no header line",
        "berkas ini tidak punya baris judul",
    ),
    ("unreadable CSV: {}", "CSV tidak terbaca: {0}"),
    (
        "not an XLSX workbook (no xl/workbook.xml)",
        "bukan buku kerja XLSX (tidak ada xl/workbook.xml)",
    ),
    (
        "not a readable XLSX workbook: {}",
        "buku kerja XLSX tidak terbaca: {0}",
    ),
    (
        "the workbook has no sheet",
        "buku kerja ini tidak punya lembar",
    ),
    ("the request body is empty", "isi permintaan kosong"),
    // Requests.
    (
        "the body is larger than {} KiB",
        "isi permintaan lebih dari {0} KiB",
    ),
    (
        "send the body as Content-Type: application/json",
        "kirim isi permintaan sebagai Content-Type: application/json",
    ),
    (
        "the body is not valid JSON: {}",
        "isi permintaan bukan JSON yang sah: {0}",
    ),
    ("no such endpoint: {} {}", "alamat tidak ada: {0} {1}"),
    ("not found", "tidak ditemukan"),
    ("unknown key", "kunci tidak dikenal"),
    (
        "unknown or revoked key",
        "kunci tidak dikenal atau sudah dicabut",
    ),
    (
        "the user name or password is wrong",
        "nama pengguna atau kata sandi salah",
    ),
    ("not signed in", "belum masuk"),
    (
        "the session has ended; sign in again",
        "sesi sudah berakhir; silakan masuk lagi",
    ),
    (
        "an Authorization: Bearer key is required",
        "diperlukan kunci Authorization: Bearer",
    ),
    (
        "the Authorization header must be `Bearer KEY`",
        "header Authorization harus berbentuk `Bearer KUNCI`",
    ),
    (
        "the Authorization header is not text",
        "header Authorization bukan teks",
    ),
    ("this key has been revoked", "kunci ini sudah dicabut"),
    (
        "this needs an administrator, not a {} {}",
        "ini memerlukan administrator, bukan {0} {1}",
    ),
    ("a {} {} cannot {} a unit", "{0} {1} tidak dapat {2} unit"),
    (
        "this {} {} cannot {} unit {}",
        "{0} {1} ini tidak dapat {2} unit {3}",
    ),
    (
        "this {} {} cannot revoke a key of units it does not manage",
        "{0} {1} ini tidak dapat mencabut kunci unit yang tidak dikelolanya",
    ),
    (
        "a change made with a session cookie needs its {} header",
        "perubahan lewat sesi masuk memerlukan header {0}",
    ),
    (
        "this server requires administrators to use two-step sign-in: set it up first",
        "server ini mewajibkan administrator memakai masuk dua langkah: atur lebih dulu",
    ),
    ("name at least one chapter", "pilih paling sedikit satu bab"),
    (
        "internal error; it has been logged",
        "kesalahan di server; sudah dicatat",
    ),
    ("a chart is always SVG", "grafik selalu berupa SVG"),
    (
        "must be /kiosk, /u/{} or /s/{}",
        "harus /kiosk, /u/{0} atau /s/{1}",
    ),
    // The command line's own.
    (
        "{} exists; an archive is never overwritten",
        "{0} sudah ada; arsip tidak pernah ditimpa",
    ),
    (
        "{} is left from an archive that did not finish (nothing was removed then); if no other `kepuasan archive` is running, delete it and run again",
        "{0} tersisa dari pengarsipan yang tidak selesai (saat itu tidak ada yang dihapus); bila tidak ada `kepuasan archive` lain yang berjalan, hapus berkas itu dan jalankan lagi",
    ),
    (
        "{} exists; a backup never overwrites a file",
        "{0} sudah ada; cadangan tidak pernah menimpa berkas",
    ),
    ("the path is not UTF-8", "jalur berkas bukan UTF-8"),
    (
        "PostgreSQL is backed up with pg_dump (for example `pg_dump -Fc \"$DATABASE_URL\" > kepuasan.dump`); see docs/deployment.md",
        "PostgreSQL dicadangkan dengan pg_dump (misalnya `pg_dump -Fc \"$DATABASE_URL\" > kepuasan.dump`); lihat docs/deployment.md",
    ),
    (
        "the database already has units; the demo fills only an empty one",
        "basis data sudah berisi unit; demo hanya mengisi basis data yang kosong",
    ),
];

/// The values a template's `{}` stand for in a message, or `None` when the message is not
/// of that template.
fn values<'a>(template: &str, message: &'a str) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = template.split("{}").collect();
    if parts.len() == 1 {
        return (template == message).then(Vec::new);
    }
    let mut rest = message.strip_prefix(parts[0])?;
    let mut found = Vec::with_capacity(parts.len() - 1);
    for part in &parts[1..parts.len() - 1] {
        let at = rest.find(part)?;
        found.push(&rest[..at]);
        rest = &rest[at + part.len()..];
    }
    found.push(rest.strip_suffix(parts[parts.len() - 1])?);
    Some(found)
}

/// A message in Bahasa Indonesia, when the catalogue knows it.
pub fn indonesian(message: &str) -> Option<String> {
    CATALOGUE.iter().find_map(|(english, id)| {
        let found = values(english, message)?;
        let mut text = (*id).to_owned();
        for (n, value) in found.iter().enumerate() {
            text = text.replace(&format!("{{{n}}}"), value);
        }
        Some(text)
    })
}

/// A message in `lang`: the Indonesian the catalogue has for it, or the message as written.
pub fn say(message: &str, lang: Lang) -> Cow<'_, str> {
    match lang {
        Lang::Id => indonesian(message).map_or(Cow::Borrowed(message), Cow::Owned),
        Lang::En => Cow::Borrowed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_values_comes_back_in_indonesian_with_them_in_order() {
        assert_eq!(
            indonesian("must be a whole number between 1 and 4").as_deref(),
            Some("harus bilangan bulat dari 1 sampai 4")
        );
        assert_eq!(
            indonesian("unknown service `ktp` of unit dukcapil").as_deref(),
            Some("layanan `ktp` tidak ada pada unit dukcapil")
        );
        assert_eq!(
            indonesian("`31/02/2025` is not a date such as 2025-07-14 or 14/07/2025").as_deref(),
            Some("`31/02/2025` bukan tanggal seperti 2025-07-14 atau 14/07/2025")
        );
        assert_eq!(
            say("must not be empty", Lang::En),
            "must not be empty",
            "English stays"
        );
        assert_eq!(
            say("a sentence nobody wrote down", Lang::Id),
            "a sentence nobody wrote down"
        );
    }

    /// Every field message the sources write through the validation helpers has its
    /// Indonesian: the literal after `problem(`, `message = ` and `AppError::field("x", `.
    #[test]
    fn every_field_message_in_the_sources_has_its_indonesian() {
        let mut missing = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("messages.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for literal in field_messages(&text) {
                        // A value in the sample: the template with each `{...}` a word.
                        let sample = fill_placeholders(&literal);
                        if indonesian(&sample).is_none() {
                            missing.push(format!("{}: {literal}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "no Indonesian for:\n{}",
            missing.join("\n")
        );
    }

    /// The message literals after the validation helpers in a source text.
    fn field_messages(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for opener in ["problem(\"", "message = \"", "AppError::field("] {
            let mut from = 0;
            while let Some(at) = text[from..].find(opener) {
                let start = from + at + opener.len();
                from = start;
                let rest = &text[start..];
                let literal = if opener.ends_with('"') {
                    Some(until_quote(rest))
                } else {
                    // `AppError::field("name", "message")` or `..., format!("message", ...)`.
                    let after_name = rest.trim_start().strip_prefix('"').and_then(|r| {
                        let end = r.find('"')?;
                        Some(r[end + 1..].trim_start().strip_prefix(',')?.trim_start())
                    });
                    after_name
                        .map(|r| r.strip_prefix("format!(").unwrap_or(r).trim_start())
                        .and_then(|r| r.strip_prefix('"'))
                        .map(until_quote)
                };
                // A literal continued on the next line (`\` and a line break) is one line; one
                // that is only values (`{name}: {e}`) says nothing to translate.
                let joined = literal.map(|l| {
                    l.split("\\\n")
                        .map(str::trim_start)
                        .collect::<String>()
                        .replace("\\\"", "\"")
                });
                if let Some(literal) = joined.filter(|l| {
                    !fill_placeholders(l)
                        .trim_matches(|c: char| c == 'x' || c == ':' || c == ' ')
                        .is_empty()
                }) {
                    found.push(literal);
                }
            }
        }
        found
    }

    /// A string literal's source up to its closing quote (an escaped quote does not close it).
    fn until_quote(source: &str) -> &str {
        let mut escaped = false;
        for (i, c) in source.char_indices() {
            match c {
                '"' if !escaped => return &source[..i],
                '\\' => escaped = !escaped,
                _ => escaped = false,
            }
        }
        source
    }

    /// A template with each `{...}` made a word.
    fn fill_placeholders(template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            match rest[open..].find('}') {
                Some(close) => {
                    out.push('x');
                    rest = &rest[open + close + 1..];
                }
                None => {
                    rest = &rest[open..];
                    break;
                }
            }
        }
        out.push_str(rest);
        out
    }
}
