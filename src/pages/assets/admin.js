// The administration pages (/admin): an administrator or a unit's manager signs in with a user
// name and password and sets up what the MPP floor needs: units and their services, kiosk
// enrolment codes, counter keys and signing secrets, receipt QR sheets, populations, paper
// imports, people, the unit's report settings, notifications (webhooks and e-mailed summaries),
// the Ombudsman's yearly assessment, and (administrators) the audit log. Every
// change goes through the same API as scripts use, with the session's CSRF token.
// Bahasa Indonesia first, English one tap away. Everything comes from this server.
(function () {
  "use strict";
  const { esc, config, translator, signIn: startSession, signInForm, signInProblem, zoneLabel } = window.kepuasan;
  const PUBLIC_URL = config().public_url || location.origin;
  const LANG = "kepuasan.admin.lang";
  const ZONES = [["Asia/Jakarta", "WIB"], ["Asia/Makassar", "WITA"], ["Asia/Jayapura", "WIT"]];
  const T = {
    id: {
      title: "Administrasi SKM", language: "English", signInTitle: "Masuk", signInText: "Masuk dengan nama pengguna dan kata sandi Anda.",
      username: "Nama pengguna", password: "Kata sandi", signIn: "Masuk", signOut: "Keluar", dashboard: "Dasbor IKM",
      wrong: "Nama pengguna atau kata sandi salah.", wait: (s) => `Terlalu banyak percobaan gagal. Coba lagi dalam ${Math.ceil(s / 60)} menit.`,
      totpCode: "Kode verifikasi", totpHint: "6 angka dari aplikasi autentikator di ponsel Anda.", codeAsk: "Verifikasi dua langkah aktif: masukkan kode dari aplikasi autentikator.",
      codeWrong: "Kode salah atau sudah dipakai. Masukkan kode terbaru.",
      account: "Akun saya", twoStep: "Verifikasi dua langkah", twoStepOn: "Verifikasi dua langkah aktif: masuk memerlukan kata sandi dan kode dari aplikasi autentikator.",
      twoStepOff: "Verifikasi dua langkah belum aktif. Dengan verifikasi dua langkah, kata sandi yang bocor saja tidak cukup untuk masuk.",
      twoStepRequired: "Server ini mewajibkan administrator memakai verifikasi dua langkah. Aktifkan sekarang untuk melanjutkan.",
      twoStepBegin: "Aktifkan verifikasi dua langkah", twoStepScan: "Pindai kode QR ini dengan aplikasi autentikator (misalnya Google Authenticator, Microsoft Authenticator, FreeOTP), atau ketik kunci di bawahnya. Lalu masukkan kode 6 angka yang muncul.",
      twoStepConfirm: "Konfirmasi", resetTwoStep: "Atur ulang verifikasi dua langkah", twoStepCol: "2 langkah",
      unreachable: "Server tidak dapat dihubungi; periksa jaringan, lalu coba lagi. Isian Anda tetap di sini.",
      readerOnly: "Akun pembaca laporan tidak mengelola apa pun di sini. Laporan unit Anda ada di Dasbor IKM.",
      ended: "Sesi Anda telah berakhir. Silakan masuk lagi.", signedInAs: (u, r) => `Masuk sebagai ${u} (${r})`,
      roles: { admin: "administrator", manager: "kepala unit", viewer: "pembaca laporan", kiosk: "kiosk", counter: "loket" },
      nav: { units: "Unit & layanan", kiosks: "Kiosk", keys: "Loket & antrean", sheets: "Lembar QR struk", populations: "Populasi",
        imports: "Kuesioner kertas", people: "Pengguna", settings: "Pengaturan laporan", signals: "Pemberitahuan", ombudsman: "Penilaian Ombudsman",
        audit: "Log audit", account: "Akun saya" },
      unit: "Unit", code: "Kode", name: "Nama", timezone: "Zona waktu", parent: "Induk", noParent: "— tidak ada (unit teratas) —",
      openLink: "Tautan survei terbuka", publicResults: "Hasil dipublikasikan", closed: "Ditutup", active: "Aktif",
      newUnit: "Unit baru", createUnit: "Buat unit", edit: "Ubah", save: "Simpan", cancel: "Batal", services: "Layanan",
      newService: "Layanan baru", addService: "Tambah layanan", rename: "Ubah nama", deactivate: "Nonaktifkan", activate: "Aktifkan",
      noServices: "Unit ini belum memiliki layanan.", chooseUnit: "Pilih unit", saved: "Tersimpan.",
      codeHint: "Huruf kecil, angka dan tanda hubung, misalnya dukcapil-kota.",
      kioskName: "Nama tablet", kioskNameHint: "Misalnya: Tablet pintu keluar 1.", makeEnrolment: "Buat kode pendaftaran kiosk",
      enrolTitle: "Kode pendaftaran tablet kiosk", enrolSteps: "Buka kamera tablet dan pindai kode ini, atau buka alamat di bawahnya di peramban tablet. Kode ini berlaku sampai tablet dipensiunkan; simpan di tempat aman.",
      print: "Cetak", tablets: "Tablet unit ini", noTablets: "Belum ada tablet yang terdaftar.", device: "Perangkat", state: "Keadaan",
      waiting: "Menunggu dikirim", lastSeen: "Terakhir terdengar", retire: "Pensiunkan",
      kioskStates: { online: "Aktif", late: "Terlambat", offline: "Tidak aktif (di luar jam layanan)", retired: "Dipensiunkan" },
      retireConfirm: (n) => `Pensiunkan "${n}"? Tablet yang memakai kunci ini berhenti menerima survei dan harus didaftarkan ulang.`,
      counterName: "Nama loket atau sistem antrean", makeCounter: "Buat kunci loket", secretOnce: "Salin sekarang: rahasia ini hanya ditampilkan sekali.",
      keysOfUnit: "Kunci unit ini", role: "Peran", created: "Dibuat", lastUsed: "Terakhir dipakai", revoked: "Dicabut", revoke: "Cabut",
      revokeConfirm: (n) => `Cabut kunci "${n}"? Perangkat yang memakainya berhenti bekerja.`,
      signingTitle: "Rahasia penandatanganan token struk", signingText: "Sistem antrean yang mencetak QR sendiri menandatangani token dengan rahasia ini (lihat docs/api.md).",
      showSigning: "Tampilkan rahasia penandatanganan",
      service: "Layanan", anyService: "Semua layanan unit", count: "Jumlah slip", countHint: "1 sampai 120; 12 slip per halaman A4.",
      validDays: "Berlaku (hari)", daysHint: "1 sampai 365. Lembar yang dibagikan sepanjang triwulan perlu sekitar 100 hari.",
      sheetLang: "Bahasa pertama", makeSheet: "Buat lembar untuk dicetak", sheetReady: (n) => `Lembar ${n} slip siap dicetak di jendela baru.`,
      sheetBlocked: "Jendela baru diblokir peramban; buka lembarnya di sini:", openSheet: "Buka lembar",
      year: "Tahun", populationsText: "Jumlah orang yang dilayani per triwulan. Ubah angkanya; setiap isian tersimpan saat Anda meninggalkannya.",
      uploadCsv: "Unggah CSV populasi", csvHint: "Kolom: unit, period, population (misalnya dukcapil,2026-Q3,4200).", upload: "Unggah",
      setRows: (n, all) => `${n} dari ${all} baris tersimpan.`, line: "Baris", problem: "Masalah",
      importText: "Unggah berkas CSV atau XLSX kuesioner kertas. Berkas diperiksa dulu tanpa disimpan; periksa hasilnya, lalu impor.",
      file: "Berkas", defaultUnit: "Unit untuk baris tanpa kolom unit", check: "Periksa berkas",
      dryRun: (r) => `Pemeriksaan: ${r.rows} baris, ${r.valid} siap diimpor, ${r.already_imported} sudah pernah diimpor, ${r.errors.length} bermasalah.`,
      fixErrors: "Perbaiki baris bermasalah di berkas lalu periksa lagi, atau impor baris yang siap saja.",
      importWarnings: "Baris berikut tetap diimpor dengan jawabannya, tetapi isian profil yang tidak dikenali dikosongkan:",
      confirmImport: (n) => `Impor ${n} baris`, imported: (r) => `Selesai: ${r.imported} baris diimpor, ${r.already_imported} sudah ada sebelumnya (tidak dihitung dua kali).`,
      people: "Pengguna", newPerson: "Pengguna baru", addPerson: "Tambah pengguna", units: "Unit", status: "Status",
      disabled: "Nonaktif", enabled: "Aktif", disable: "Nonaktifkan", enable: "Aktifkan", resetPassword: "Atur ulang kata sandi",
      newPassword: "Kata sandi baru", passwordHint: "Minimal 10 karakter; bukan kata sandi umum.", changeAccess: "Ubah peran dan unit",
      settingsText: "Kop surat dan tanda tangan laporan: instansi induk, alamat, kontak, kepala unit beserta pangkat dan jabatannya, logo.",
      address: "Alamat", city: "Kota", headName: "Nama kepala unit", headId: "NIP kepala unit", headIdHint: "18 angka, boleh dengan spasi.",
      authority: "Instansi di atas nama unit pada kop", authorityHint: "Misalnya PEMERINTAH KOTA BANDUNG; satu baris per baris, paling banyak 3. Kosongkan untuk memakai milik unit induk (bukan nama MPP).",
      phone: "Telepon", unitEmail: "Pos-el (e-mail)", website: "Laman (situs web)",
      headRank: "Pangkat/golongan kepala unit", headRankHint: "Misalnya Pembina Tingkat I (IV/b).",
      hours: "Jam layanan", hoursHint: "Tablet kiosk yang diam pada jam layanan ditandai terlambat. Bila tidak ada hari yang dicentang, unit mengikuti jam layanan unit induknya, atau Senin–Sabtu 07.00–17.00.",
      days: ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"], open: "Buka", opens: "Jam buka", closes: "Jam tutup",
      headTitle: "Jabatan penanda tangan", headTitleHint: "Misalnya Plt. Kepala Dinas Kependudukan dan Pencatatan Sipil. Kosong: Kepala dan nama unit.",
      logo: "Logo", logoHint: "PNG atau SVG, paling besar 512 KiB.", uploadLogo: "Unggah logo", noLogo: "Belum ada logo.",
      lobby: "Layar lobi (TV di ruang tunggu, memperbarui sendiri):",
      embed: "Hasil survei di situs web unit", embedText: "Salin kode ini ke halaman situs web unit: lencana IKM terbaru yang menautkan ke halaman hasil survei publik.",
      embedOff: "Hasil survei unit ini belum dipublikasikan. Administrator menyalakan \"Hasil dipublikasikan\" di Unit & layanan.",
      filters: "Saring", actor: "Pelaku", actionCol: "Tindakan", target: "Objek", when: "Waktu", from: "Dari", to: "Sampai",
      changes: "Perubahan", noEntries: "Tidak ada catatan.",
      signalsText: "Kabari sistem lain atau e-mail Anda pada hari yang sama: jawaban dengan IKM rendah, saran baru, tablet kiosk yang tidak terdengar, IKM sepekan yang turun satu mutu, dan ringkasan harian atau mingguan.",
      newSignal: "Pemberitahuan baru", sendTo: "Kirim ke", toWeb: "Sistem lain, lewat alamat web (webhook)", toMail: "E-mail",
      url: "Alamat web penerima", urlHint: "https://… Setiap kiriman adalah POST JSON yang ditandatangani (lihat docs/api.md, Webhooks).",
      email: "Alamat e-mail", mailOff: "E-mail belum bisa dipakai: server ini belum diberi server surat (KEPUASAN_SMTP_URL).",
      events: "Peristiwa", allUnits: "Semua unit",
      eventNames: { "response.low": "Jawaban dengan IKM di bawah ambang", "unit.drop": "IKM 7 hari terakhir turun satu mutu dari triwulan lalu",
        "kiosk.offline": "Tablet kiosk tidak terdengar pada jam layanan", "suggestion.new": "Saran baru",
        "summary.daily": "Ringkasan harian (pukul 07.00)", "summary.weekly": "Ringkasan mingguan (Senin pukul 07.00)" },
      threshold: "Ambang IKM jawaban rendah", thresholdHint: "25 sampai 100; bawaan 50.",
      secret: "Rahasia penandatanganan", secretHint: "16 sampai 200 karakter, sudah dibuatkan acak. Penerima memeriksa X-Kepuasan-Signature dengan rahasia ini; salin sebelum menyimpan, karena tidak ditampilkan lagi.",
      addSignal: "Simpan pemberitahuan", signalsList: "Pemberitahuan terdaftar", noSignals: "Belum ada pemberitahuan.",
      destination: "Tujuan", removed: "Dihapus", remove: "Hapus", showDeliveries: "Riwayat kiriman",
      removeConfirm: (u) => `Hapus pemberitahuan ke ${u}? Kiriman yang masih menunggu dibatalkan.`,
      deliveriesOf: (u) => `Kiriman ke ${u}`, noDeliveries: "Belum ada kiriman.", attempts: "Percobaan", lastAnswer: "Jawaban terakhir",
      nextAttempt: "Percobaan berikutnya", close: "Tutup",
      deliveryStates: { pending: "Menunggu dicoba lagi", delivered: "Terkirim", failed: "Gagal (dihentikan setelah 24 jam)" },
      ombudsmanText: "Penilaian kepatuhan standar pelayanan publik oleh Ombudsman RI, dicatat persis seperti yang diterbitkan. Penilaian ini tampil di samping IKM pada laporan, dasbor dan halaman publik; kepuasan tidak menghitungnya.",
      score: "Nilai", scoreHint: "0 sampai 100, paling banyak dua angka desimal, misalnya 85,98.",
      zoneCol: "Zona", zones: { green: "Hijau", yellow: "Kuning", red: "Merah" },
      category: "Kategori kualitas", categoryHint: "Sejak 2022, misalnya Kualitas Tertinggi. Kosongkan bila tidak ada.",
      source: "Sumber", sourceHint: "Judul, nomor atau alamat laporan Ombudsman.", record: "Simpan penilaian",
      assessments: "Penilaian tercatat", noAssessments: "Belum ada penilaian untuk unit ini.", recordedBy: "Dicatat oleh",
      refused: { validation_failed: "Isian tidak valid", not_found: "Tidak ditemukan", forbidden: "Anda tidak berhak melakukan itu",
        conflict: "Sudah ada", public_url_needed: "Alamat yang bisa dibuka ponsel belum diatur", unit_exists: "Kode unit sudah dipakai", service_exists: "Kode layanan sudah dipakai",
        too_large: "Berkas terlalu besar", unsupported_content_type: "Jenis berkas tidak didukung", rate_limited: "Terlalu banyak percobaan",
        db_unavailable: "Server sedang sibuk; coba lagi sebentar lagi", busy: "Server sedang sibuk; coba lagi sebentar lagi",
        reference_not_found: "Data yang dirujuk tidak ada", other: "Permintaan ditolak" },
      fields: { code: "Kode", name: "Nama", timezone: "Zona waktu", parent: "Induk", units: "Unit", username: "Nama pengguna",
        password: "Kata sandi", role: "Peran", population: "Populasi", period: "Periode", address: "Alamat", city: "Kota",
        head_name: "Nama kepala unit", head_id: "NIP", authority: "Instansi pada kop", phone: "Telepon", email: "Pos-el", website: "Laman",
        head_rank: "Pangkat/golongan", head_title: "Jabatan penanda tangan", logo: "Logo", file: "Berkas", count: "Jumlah", service: "Layanan", unit: "Unit",
        url: "Tujuan", events: "Peristiwa", secret: "Rahasia", threshold: "Ambang", year: "Tahun", score: "Nilai", zone: "Zona",
        category: "Kategori", source: "Sumber", columns: "Kolom", "profile.gender": "Jenis kelamin", "profile.age": "Usia",
        "profile.education": "Pendidikan", "profile.occupation": "Pekerjaan" },
    },
    en: {
      title: "SKM administration", language: "Bahasa Indonesia", signInTitle: "Sign in", signInText: "Sign in with your user name and password.",
      username: "User name", password: "Password", signIn: "Sign in", signOut: "Sign out", dashboard: "IKM dashboard",
      wrong: "The user name or password is wrong.", wait: (s) => `Too many failed tries. Try again in ${Math.ceil(s / 60)} minutes.`,
      totpCode: "Verification code", totpHint: "6 digits from the authenticator app on your phone.", codeAsk: "Two-step sign-in is on: enter the code from your authenticator app.",
      codeWrong: "The code is wrong or already used. Enter the newest one.",
      account: "My account", twoStep: "Two-step sign-in", twoStepOn: "Two-step sign-in is on: signing in needs the password and a code from the authenticator app.",
      twoStepOff: "Two-step sign-in is off. With it on, a leaked password alone is not enough to sign in.",
      twoStepRequired: "This server requires administrators to use two-step sign-in. Turn it on now to go on.",
      twoStepBegin: "Turn on two-step sign-in", twoStepScan: "Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP, ...), or type the key below it. Then enter the 6-digit code it shows.",
      twoStepConfirm: "Confirm", resetTwoStep: "Reset two-step sign-in", twoStepCol: "Two-step",
      unreachable: "The server cannot be reached; check the network and try again. What you typed is kept.",
      readerOnly: "A report reader's account manages nothing here. Your units' reports are on the IKM dashboard.",
      ended: "Your session has ended. Please sign in again.", signedInAs: (u, r) => `Signed in as ${u} (${r})`,
      roles: { admin: "administrator", manager: "unit head", viewer: "report reader", kiosk: "kiosk", counter: "counter" },
      nav: { units: "Units & services", kiosks: "Kiosks", keys: "Counters & queues", sheets: "Receipt QR sheets", populations: "Populations",
        imports: "Paper questionnaires", people: "People", settings: "Report settings", signals: "Notifications", ombudsman: "Ombudsman assessment",
        audit: "Audit log", account: "My account" },
      unit: "Unit", code: "Code", name: "Name", timezone: "Time zone", parent: "Parent", noParent: "— none (a top unit) —",
      openLink: "Open survey link", publicResults: "Results published", closed: "Closed", active: "Active",
      newUnit: "New unit", createUnit: "Create unit", edit: "Edit", save: "Save", cancel: "Cancel", services: "Services",
      newService: "New service", addService: "Add service", rename: "Rename", deactivate: "Deactivate", activate: "Activate",
      noServices: "This unit has no services yet.", chooseUnit: "Choose a unit", saved: "Saved.",
      codeHint: "Lower-case letters, digits and hyphens, e.g. dukcapil-kota.",
      kioskName: "Tablet name", kioskNameHint: "For example: Exit tablet 1.", makeEnrolment: "Create a kiosk enrolment code",
      enrolTitle: "Kiosk tablet enrolment code", enrolSteps: "Open the tablet's camera and scan this code, or open the address below it in the tablet's browser. The code works until the tablet is retired; keep it safe.",
      print: "Print", tablets: "This unit's tablets", noTablets: "No tablet is enrolled yet.", device: "Device", state: "State",
      waiting: "Waiting to send", lastSeen: "Last heard from", retire: "Retire",
      kioskStates: { online: "Online", late: "Late", offline: "Offline (outside service hours)", retired: "Retired" },
      retireConfirm: (n) => `Retire "${n}"? Tablets using this key stop taking surveys and must be enrolled again.`,
      counterName: "Counter or queue system name", makeCounter: "Create a counter key", secretOnce: "Copy it now: this secret is shown only once.",
      keysOfUnit: "This unit's keys", role: "Role", created: "Created", lastUsed: "Last used", revoked: "Revoked", revoke: "Revoke",
      revokeConfirm: (n) => `Revoke the key "${n}"? Devices using it stop working.`,
      signingTitle: "Receipt token signing secret", signingText: "A queue system that prints its own QR codes signs their tokens with this secret (see docs/api.md).",
      showSigning: "Show the signing secret",
      service: "Service", anyService: "Any service of the unit", count: "Number of slips", countHint: "1 to 120; 12 slips to an A4 page.",
      validDays: "Valid for (days)", daysHint: "1 to 365. A sheet handed out over a quarter needs about 100 days.",
      sheetLang: "First language", makeSheet: "Make a sheet to print", sheetReady: (n) => `A sheet of ${n} slips is ready to print in a new window.`,
      sheetBlocked: "The browser blocked the new window; open the sheet here:", openSheet: "Open the sheet",
      year: "Year", populationsText: "How many people were served each quarter. Change a number; each field is saved when you leave it.",
      uploadCsv: "Upload a population CSV", csvHint: "Columns: unit, period, population (e.g. dukcapil,2026-Q3,4200).", upload: "Upload",
      setRows: (n, all) => `${n} of ${all} rows saved.`, line: "Line", problem: "Problem",
      importText: "Upload a CSV or XLSX file of paper questionnaires. It is checked first without storing anything; read the result, then import.",
      file: "File", defaultUnit: "Unit of rows without a unit column", check: "Check the file",
      dryRun: (r) => `Check: ${r.rows} rows, ${r.valid} ready to import, ${r.already_imported} imported before, ${r.errors.length} with problems.`,
      fixErrors: "Fix the rows with problems in the file and check again, or import the ready rows only.",
      importWarnings: "These rows are imported with their answers, but a profile value that was not recognised is left empty:",
      confirmImport: (n) => `Import ${n} rows`, imported: (r) => `Done: ${r.imported} rows imported, ${r.already_imported} were there before (never counted twice).`,
      people: "People", newPerson: "New person", addPerson: "Add person", units: "Units", status: "Status",
      disabled: "Disabled", enabled: "Active", disable: "Disable", enable: "Enable", resetPassword: "Reset password",
      newPassword: "New password", passwordHint: "At least 10 characters; not a common password.", changeAccess: "Change role and units",
      settingsText: "The report's letterhead and signature: the authority above the unit, address, contacts, the unit head with rank and title, logo.",
      address: "Address", city: "City", headName: "Unit head's name", headId: "Unit head's NIP", headIdHint: "18 digits, spaces allowed.",
      authority: "Authority above the unit's name in the letterhead", authorityHint: "Such as PEMERINTAH KOTA BANDUNG; one line per line, at most 3. Leave empty to use the unit above's (never the MPP's name).",
      phone: "Telephone", unitEmail: "E-mail", website: "Website",
      headRank: "Unit head's rank (pangkat/golongan)", headRankHint: "Such as Pembina Tingkat I (IV/b).",
      hours: "Service hours", hoursHint: "A kiosk tablet silent during service hours is marked late. With no day ticked, the unit keeps the hours of the unit above it, or Monday–Saturday 07:00–17:00.",
      days: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], open: "Open", opens: "Opens", closes: "Closes",
      headTitle: "Signer's title", headTitleHint: "Such as Plt. Kepala Dinas Kependudukan dan Pencatatan Sipil. Empty: Kepala and the unit's name.",
      logo: "Logo", logoHint: "PNG or SVG, at most 512 KiB.", uploadLogo: "Upload logo", noLogo: "No logo yet.",
      lobby: "Lobby display (a TV in the waiting hall, updating itself):",
      embed: "Survey results on the unit's website", embedText: "Copy this code into a page of the unit's website: the latest IKM badge, linking to the public results page.",
      embedOff: "This unit's results are not published yet. An administrator switches on \"Results published\" under Units & services.",
      filters: "Filter", actor: "Who", actionCol: "Action", target: "Target", when: "When", from: "From", to: "To",
      changes: "Changes", noEntries: "No entries.",
      signalsText: "Tell another system or your e-mail the same day: responses with a low IKM, new suggestions, kiosk tablets gone quiet, a week's IKM a grade down, and daily or weekly summaries.",
      newSignal: "New notification", sendTo: "Send to", toWeb: "Another system, at a web address (webhook)", toMail: "E-mail",
      url: "Receiver's web address", urlHint: "https://… Each delivery is a signed JSON POST (see docs/api.md, Webhooks).",
      email: "E-mail address", mailOff: "E-mail cannot be used yet: this server has no mail server set (KEPUASAN_SMTP_URL).",
      events: "Events", allUnits: "Every unit",
      eventNames: { "response.low": "A response with an IKM below the threshold", "unit.drop": "The last 7 days' IKM a grade below last quarter's",
        "kiosk.offline": "A kiosk tablet not heard from in service hours", "suggestion.new": "A new suggestion",
        "summary.daily": "Daily summary (at 07:00)", "summary.weekly": "Weekly summary (Mondays at 07:00)" },
      threshold: "Low-response IKM threshold", thresholdHint: "25 to 100; 50 by default.",
      secret: "Signing secret", secretHint: "16 to 200 characters, made at random for you. The receiver checks X-Kepuasan-Signature with it; copy it before saving, as it is never shown again.",
      addSignal: "Save notification", signalsList: "Registered notifications", noSignals: "No notification yet.",
      destination: "Destination", removed: "Removed", remove: "Remove", showDeliveries: "Deliveries",
      removeConfirm: (u) => `Remove the notification to ${u}? Deliveries still waiting are given up.`,
      deliveriesOf: (u) => `Deliveries to ${u}`, noDeliveries: "Nothing delivered yet.", attempts: "Attempts", lastAnswer: "Last answer",
      nextAttempt: "Next attempt", close: "Close",
      deliveryStates: { pending: "Waiting to be tried again", delivered: "Delivered", failed: "Failed (given up after 24 hours)" },
      ombudsmanText: "The Ombudsman RI's assessment of compliance with public-service standards, recorded exactly as published. It stands beside the IKM in the report, the dashboard and the public page; kepuasan does not compute it.",
      score: "Score", scoreHint: "0 to 100, at most two decimals, e.g. 85.98.",
      zoneCol: "Zone", zones: { green: "Green", yellow: "Yellow", red: "Red" },
      category: "Quality category", categoryHint: "Since 2022, e.g. Kualitas Tertinggi. Leave empty if none.",
      source: "Source", sourceHint: "The Ombudsman report's title, number or address.", record: "Save assessment",
      assessments: "Recorded assessments", noAssessments: "No assessment recorded for this unit yet.", recordedBy: "Recorded by",
      refused: { validation_failed: "Invalid input", not_found: "Not found", forbidden: "You may not do that",
        conflict: "Already exists", public_url_needed: "No address phones can open is set", unit_exists: "The unit code is taken", service_exists: "The service code is taken",
        too_large: "The file is too large", unsupported_content_type: "This kind of file is not supported", rate_limited: "Too many tries",
        db_unavailable: "The server is busy; try again shortly", busy: "The server is busy; try again shortly",
        reference_not_found: "What it refers to does not exist", other: "Request refused" },
      fields: { code: "Code", name: "Name", timezone: "Time zone", parent: "Parent", units: "Units", username: "User name",
        password: "Password", role: "Role", population: "Population", period: "Period", address: "Address", city: "City",
        head_name: "Head's name", head_id: "NIP", authority: "Letterhead authority", phone: "Telephone", email: "E-mail", website: "Website",
        head_rank: "Rank", head_title: "Signer's title", logo: "Logo", file: "File", count: "Count", service: "Service", unit: "Unit",
        url: "Destination", events: "Events", secret: "Secret", threshold: "Threshold", year: "Year", score: "Score", zone: "Zone",
        category: "Category", source: "Source", columns: "Columns", "profile.gender": "Gender", "profile.age": "Age",
        "profile.education": "Education", "profile.occupation": "Occupation" },
    },
  };
  const SECTIONS = ["units", "kiosks", "keys", "sheets", "populations", "imports", "people", "settings", "signals", "ombudsman", "audit", "account"];
  const EVENTS = ["response.low", "suggestion.new", "kiosk.offline", "unit.drop", "summary.daily", "summary.weekly"];
  const app = document.getElementById("app");
  const state = {
    lang: localStorage.getItem(LANG) || "id", me: null, checked: false, units: [], unit: null, services: [], error: "", note: "",
    editing: null, secret: null, enrolment: null, tablets: [], keys: [], sheet: null, year: new Date().getFullYear(),
    populations: {}, cells: {}, upload: null, file: null, dry: null, done: null, people: [], person: null, audit: [], auditQuery: {},
    hooks: [], hook: null, deliveries: [], mailed: false, assessments: [], assessing: null,
  };
  const t = translator(T, () => state.lang);
  const L = () => T[state.lang];
  const admin = () => state.me && state.me.role === "admin";
  const zone = zoneLabel;
  const unitName = (code) => { const u = state.units.find((x) => x.code === code); return u ? u.name : code; };
  const when = (iso) => (iso ? new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z").toLocaleString(state.lang === "id" ? "id-ID" : "en-GB", { dateStyle: "short", timeStyle: "short" }) : "-");
  const held = () => Boolean(state.me && state.me.totp_setup_required);
  // A report reader manages nothing: their page is their account, pointing to the dashboard.
  const reader = () => Boolean(state.me && state.me.role === "viewer");
  const section = () => {
    if (held() || reader()) return "account";
    const s = location.hash.slice(1);
    return SECTIONS.includes(s) && (s !== "audit" || admin()) ? s : "units";
  };
  const value = (id) => { const el = document.getElementById(id); return el ? el.value.trim() : ""; };
  const checked = (id) => { const el = document.getElementById(id); return Boolean(el && el.checked); };

  // A request with the session's cookie (sent by the browser) and, for a change, its CSRF token.
  async function call(path, { method = "GET", json, body, type } = {}) {
    // The server's messages in the page's language.
    const headers = { "Accept-Language": state.lang };
    if (method !== "GET" && state.me) headers["X-CSRF-Token"] = state.me.csrf_token;
    let payload = body;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(json); } else if (type) headers["Content-Type"] = type;
    const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
    if (res.status === 401 && state.me) { state.me = null; state.error = t("ended"); render(); throw new Error("signed out"); }
    return res;
  }
  const answer = async (res) => { try { return await res.json(); } catch (e) { return {}; } };

  // Why a request was refused, in the page's language, naming its fields, then the server's
  // own sentence as detail.
  function refusal(body) {
    const reason = L().refused[body.error] || L().refused.other;
    const fields = Object.entries(body.fields || {}).map(([k, v]) => `${L().fields[k] || k} (${v})`).join("; ");
    return `${reason}${fields ? ": " + fields : ""}.${body.message && !fields ? ` (${body.message})` : ""}`;
  }
  // A row's problems, each under its field's name (`answers.U3` named U3); the server says
  // them in the page's language (call() asks for it).
  const rowProblems = (errors) => table([t("line"), t("problem")], errors.map((e) => [String(e.line),
    esc(Object.entries(e.fields).map(([k, v]) => `${L().fields[k] || k.replace(/^answers\./, "")}: ${v}`).join("; "))]), "errors");

  // Runs a change (a request, or its promise); a refusal is shown at the top of the section,
  // a success noted.
  // Brings a refusal, or a secret shown once, into view: on a phone the form's button is far
  // below the top of the page where they are drawn.
  const reveal = () => {
    const shown = document.querySelector("main .error, #secret");
    if (shown) shown.scrollIntoView({ block: "center" });
  };

  async function act(sent, done) {
    const res = await sent;
    const body = await answer(res);
    if (!res.ok) { state.error = refusal(body); state.note = ""; keepTyped = true; render(); reveal(); return null; }
    state.error = ""; state.note = t("saved");
    const secret = state.secret;
    if (done) await done(body);
    render();
    if (state.secret && state.secret !== secret) reveal();
    return body;
  }

  async function loadUnits() {
    state.units = await answer(await call("/api/v1/units"));
    if (!Array.isArray(state.units)) state.units = [];
    if (!state.unit || !state.units.some((u) => u.code === state.unit)) {
      const mine = state.me && state.me.units.length ? state.units.find((u) => u.code === state.me.units[0]) : null;
      state.unit = (mine || (tree()[0] || [])[0] || {}).code || null;
    }
    await loadServices();
  }
  async function loadServices() {
    state.services = [];
    if (state.unit) { const res = await call(`/api/v1/units/${encodeURIComponent(state.unit)}/services`); if (res.ok) state.services = await res.json(); }
  }

  // The units as a tree: each unit after its parent, with its depth.
  function tree() {
    const out = [];
    const codes = new Set(state.units.map((u) => u.code));
    const visit = (parent, depth) => state.units.filter((u) => (parent ? u.parent === parent : !codes.has(u.parent)))
      .sort((a, b) => a.name.localeCompare(b.name)).forEach((u) => { out.push([u, depth]); visit(u.code, depth + 1); });
    visit(null, 0);
    return out;
  }
  const unitOptions = (chosen, blank) => (blank ? `<option value="">${esc(blank)}</option>` : "") + tree()
    .map(([u, d]) => `<option value="${esc(u.code)}"${u.code === chosen ? " selected" : ""}>${"\u00a0\u00a0".repeat(d)}${esc(u.name)} (${esc(u.code)})</option>`).join("");
  const zoneOptions = (chosen) => ZONES.map(([z, label]) => `<option value="${z}"${z === chosen ? " selected" : ""}>${label} (${z})</option>`).join("");
  const unitPicker = (id = "unit-pick") => `<div class="field"><label for="${id}">${t("unit")}</label><select id="${id}" data-pick-unit>${unitOptions(state.unit)}</select></div>`;
  // Each cell carries its column's name, which a phone shows beside it (admin.css).
  const table = (head, rows, cls = "") => `<div class="scroll" tabindex="0"><table class="${cls}"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${head[i] ? ` data-label="${esc(head[i])}"` : ""}>${c}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`;
  const field = (id, label, input, hint) => `<div class="field"><label for="${id}">${esc(label)}</label>${input}${hint ? `<span class="hint" id="${id}-hint">${esc(hint)}</span>` : ""}</div>`;
  const text = (id, v = "", extra = "") => `<input id="${id}" value="${esc(v || "")}" ${extra}>`;
  const box = (id, label, on, extra = "") => `<div class="check"><input type="checkbox" id="${id}"${extra ? " " + extra : ""}${on ? " checked" : ""}><label for="${id}">${esc(label)}</label></div>`;
  // A secret shown once, to copy now (a counter key, a signing secret, a webhook's secret).
  const secretBox = () => (state.secret ? `<div class="secret" role="status" id="secret"><p><strong>${t("secretOnce")}</strong></p><p><code>${esc(state.secret)}</code></p></div>` : "");

  // ---- units and services ------------------------------------------------------------------
  function unitsView() {
    const rows = tree().map(([u, d]) => {
      const flags = [u.open_link ? t("openLink") : "", u.public_results ? t("publicResults") : "", u.active ? "" : t("closed")].filter(Boolean);
      const editing = state.editing === u.code;
      return `<li style="margin-left:${d * 1.5}rem" class="unit${u.active ? "" : " closed"}">
        <div class="unit-line"><strong>${esc(u.name)}</strong> <span class="hint">${esc(u.code)} · ${esc(zone(u.timezone))}${flags.length ? " · " + esc(flags.join(" · ")) : ""}</span>
        <span class="actions"><button type="button" data-edit-unit="${esc(u.code)}" aria-label="${esc(`${t("edit")}: ${u.name}`)}">${t("edit")}</button>
        <button type="button" class="secondary" data-services="${esc(u.code)}" aria-label="${esc(`${t("services")}: ${u.name}`)}">${t("services")}</button></span></div>
        ${editing ? editUnitForm(u) : ""}</li>`;
    }).join("");
    const create = admin() ? `<form id="new-unit" class="panel"><h3>${t("newUnit")}</h3>
        ${field("unit-code", t("code"), text("unit-code", "", 'required maxlength="64" autocomplete="off" aria-describedby="unit-code-hint"'), t("codeHint"))}
        ${field("unit-name", t("name"), text("unit-name", "", 'required maxlength="200"'))}
        ${field("unit-tz", t("timezone"), `<select id="unit-tz">${zoneOptions("Asia/Jakarta")}</select>`)}
        ${field("unit-parent", t("parent"), `<select id="unit-parent">${unitOptions(null, t("noParent"))}</select>`)}
        ${box("unit-open", t("openLink"), false)}${box("unit-public", t("publicResults"), false)}
        <div><button type="submit">${t("createUnit")}</button></div></form>` : "";
    return `<h2>${t("nav").units}</h2><ul class="tree" id="unit-tree">${rows}</ul>${servicesView()}${create}`;
  }
  function editUnitForm(u) {
    const structural = admin() ? `${field("edit-tz", t("timezone"), `<select id="edit-tz">${zoneOptions(u.timezone)}</select>`)}
      ${field("edit-parent", t("parent"), `<select id="edit-parent">${unitOptions(u.parent, t("noParent"))}</select>`)}
      ${box("edit-open", t("openLink"), u.open_link)}${box("edit-public", t("publicResults"), u.public_results)}${box("edit-active", t("active"), u.active)}` : "";
    return `<form id="edit-unit" class="panel" data-code="${esc(u.code)}">${field("edit-name", t("name"), text("edit-name", u.name, 'required maxlength="200"'))}${structural}
      <div class="buttons"><button type="submit">${t("save")}</button><button type="button" class="secondary" id="edit-cancel">${t("cancel")}</button></div></form>`;
  }
  function servicesView() {
    if (!state.unit) return "";
    const rows = state.services.map((s) => (state.renaming === s.code
      ? [esc(s.code), `<form id="rename-service" class="row" data-code="${esc(s.code)}">${field("rename-name", t("name"), text("rename-name", s.name, 'required maxlength="200"'))}
          <div class="buttons"><button type="submit">${t("save")}</button><button type="button" class="secondary" id="rename-cancel">${t("cancel")}</button></div></form>`, s.active ? t("active") : t("disabled"), ""]
      : [esc(s.code), esc(s.name), s.active ? t("active") : t("disabled"),
        `<button type="button" class="secondary" data-rename-service="${esc(s.code)}" aria-label="${esc(`${t("rename")}: ${s.name}`)}">${t("rename")}</button>
        <button type="button" class="secondary" data-service-active="${esc(s.code)}" data-on="${s.active ? "false" : "true"}">${s.active ? t("deactivate") : t("activate")}</button>`]));
    return `<section class="panel" id="services" aria-labelledby="services-title"><h3 id="services-title">${t("services")}: ${esc(unitName(state.unit))}</h3>
      ${rows.length ? table([t("code"), t("name"), t("status"), ""], rows) : `<p>${t("noServices")}</p>`}
      <form id="new-service" class="row"><h4>${t("newService")}</h4>${field("service-code", t("code"), text("service-code", "", 'required maxlength="64" autocomplete="off"'))}
      ${field("service-name", t("name"), text("service-name", "", 'required maxlength="200"'))}<div><button type="submit">${t("addService")}</button></div></form></section>`;
  }

  // ---- kiosks ------------------------------------------------------------------------------
  async function loadTablets() {
    const res = state.unit ? await call("/api/v1/kiosks?unit=" + encodeURIComponent(state.unit)) : null;
    state.tablets = res && res.ok ? await res.json() : [];
  }
  function kiosksView() {
    const e = state.enrolment;
    const card = e ? `<section class="panel print-card" id="enrolment" aria-labelledby="enrol-title"><h3 id="enrol-title">${t("enrolTitle")}</h3>
      <p class="print-unit">${esc(unitName(e.units[0]))}</p><p>${esc(e.name)}</p><div class="qr" role="img" aria-label="${esc(t("enrolTitle"))}">${e.enrol_qr_svg}</div>
      <p>${t("enrolSteps")}</p><p class="url">${esc(e.enrol_url)}</p><p class="no-print"><button type="button" id="print">${t("print")}</button></p></section>` : "";
    const L_ = L();
    const rows = state.tablets.map((k) => [esc(k.device_id), esc(k.key_name), `<span class="kiosk-${esc(k.state)}">${esc(L_.kioskStates[k.state] || k.state)}</span>`,
      String(k.waiting), esc(when(k.last_seen_at)), !k.retirable ? "" : `<button type="button" class="danger" data-retire="${esc(k.key_id)}" data-name="${esc(k.key_name)}">${t("retire")}</button>`]);
    return `<h2>${t("nav").kiosks}</h2><form id="enrol" class="panel no-print">${unitPicker()}
      ${field("kiosk-name", t("kioskName"), text("kiosk-name", "", 'required maxlength="200" aria-describedby="kiosk-name-hint"'), t("kioskNameHint"))}
      <div><button type="submit">${t("makeEnrolment")}</button></div></form>${card}
      <section class="panel no-print" aria-labelledby="tablets-title"><h3 id="tablets-title">${t("tablets")}</h3>
      ${rows.length ? table([t("device"), t("name"), t("state"), t("waiting"), t("lastSeen"), ""], rows) : `<p>${t("noTablets")}</p>`}</section>`;
  }

  // ---- counter keys and signing secrets ----------------------------------------------------
  async function loadKeys() {
    const res = await call("/api/v1/keys");
    const all = res.ok ? await res.json() : [];
    state.keys = all.filter((k) => k.units.includes(state.unit));
  }
  function keysView() {
    const rows = state.keys.map((k) => [esc(L().roles[k.role] || k.role), esc(k.name), esc(when(k.created_at)), esc(when(k.last_used_at)),
      k.revoked_at ? esc(when(k.revoked_at)) : `<button type="button" class="danger" data-revoke="${esc(k.id)}" data-name="${esc(k.name)}">${t("revoke")}</button>`]);
    return `<h2>${t("nav").keys}</h2>${secretBox()}<form id="counter" class="panel">${unitPicker()}
      ${field("counter-name", t("counterName"), text("counter-name", "", 'required maxlength="200"'))}<div><button type="submit">${t("makeCounter")}</button></div></form>
      <section class="panel"><h3>${t("signingTitle")}</h3><p>${t("signingText")}</p><button type="button" id="signing">${t("showSigning")}</button></section>
      <section class="panel" aria-labelledby="keys-title"><h3 id="keys-title">${t("keysOfUnit")}</h3>${rows.length ? table([t("role"), t("name"), t("created"), t("lastUsed"), t("revoked")], rows) : "<p>-</p>"}</section>`;
  }

  // ---- receipt QR sheets -------------------------------------------------------------------
  function sheetsView() {
    const services = `<option value="">${t("anyService")}</option>` + state.services.filter((s) => s.active).map((s) => `<option value="${esc(s.code)}">${esc(s.name)}</option>`).join("");
    const ready = state.sheet ? `<p role="status" id="sheet-ready">${esc(state.sheet.blocked ? t("sheetBlocked") : L().sheetReady(state.sheet.count))} <a href="${state.sheet.url}" target="_blank" rel="noopener">${t("openSheet")}</a></p>` : "";
    return `<h2>${t("nav").sheets}</h2><form id="sheet" class="panel">${unitPicker()}
      ${field("sheet-service", t("service"), `<select id="sheet-service">${services}</select>`)}
      ${field("sheet-count", t("count"), '<input id="sheet-count" type="number" min="1" max="120" value="24" required aria-describedby="sheet-count-hint">', t("countHint"))}
      ${field("sheet-days", t("validDays"), '<input id="sheet-days" type="number" min="1" max="365" value="14" required aria-describedby="sheet-days-hint">', t("daysHint"))}
      ${field("sheet-lang", t("sheetLang"), '<select id="sheet-lang"><option value="id">Bahasa Indonesia</option><option value="en">English</option></select>')}
      <div><button type="submit">${t("makeSheet")}</button></div></form>${ready}`;
  }

  // ---- populations -------------------------------------------------------------------------
  async function loadPopulations() {
    state.populations = {};
    for (const u of state.units) {
      const res = await call(`/api/v1/units/${encodeURIComponent(u.code)}/populations`);
      if (res.ok) for (const p of await res.json()) state.populations[`${u.code}/${p.period}`] = p.population;
    }
  }
  function populationsView() {
    const quarters = [1, 2, 3, 4].map((q) => `${state.year}-Q${q}`);
    const rows = tree().map(([u, d]) => [`<span style="padding-left:${d}rem">${esc(u.name)}</span>`, ...quarters.map((p) => {
      const k = `${u.code}/${p}`; const cell = state.cells[k] || "";
      return `<input class="cell" type="number" min="1" step="1" data-cell="${esc(k)}" value="${state.populations[k] || ""}" aria-label="${esc(`${u.name} ${p}`)}">${cell ? `<span class="cell-${cell === "ok" ? "ok" : "bad"}" role="status">${cell === "ok" ? "✓" : esc(cell)}</span>` : ""}`;
    })]);
    const years = [state.year - 2, state.year - 1, state.year, state.year + 1];
    const up = state.upload ? `<div role="status" id="upload-result"><p>${esc(L().setRows(state.upload.set, state.upload.rows))}</p>${state.upload.errors.length ? rowProblems(state.upload.errors) : ""}</div>` : "";
    return `<h2>${t("nav").populations}</h2><p>${t("populationsText")}</p>
      <div class="row">${field("year", t("year"), `<select id="year">${years.map((y) => `<option${y === state.year ? " selected" : ""}>${y}</option>`).join("")}</select>`)}</div>
      ${table([t("unit"), ...quarters.map((q) => q.replace(/^\d+-Q/, "Triwulan ").replace("Triwulan", state.lang === "id" ? "Triwulan" : "Quarter"))], rows, "grid")}
      <form id="population-csv" class="panel">${field("population-file", t("uploadCsv"), '<input id="population-file" type="file" accept=".csv,text/csv" required aria-describedby="population-file-hint">', t("csvHint"))}
      <div><button type="submit">${t("upload")}</button></div></form>${up}`;
  }

  // ---- paper imports -----------------------------------------------------------------------
  function importsView() {
    const d = state.dry;
    const errors = d && d.errors.length ? rowProblems(d.errors) : "";
    const warned = d && d.warnings && d.warnings.length ? `<p>${t("importWarnings")}</p>${rowProblems(d.warnings)}` : "";
    const result = d ? `<section class="panel" id="dry-run" role="status"><p>${esc(L().dryRun(d))}</p>${errors}${d.errors.length ? `<p>${t("fixErrors")}</p>` : ""}${warned}
      ${d.valid - d.already_imported > 0 ? `<button type="button" id="confirm-import">${esc(L().confirmImport(d.valid - d.already_imported))}</button>` : ""}</section>` : "";
    const done = state.done ? `<p role="status" id="import-done" class="done">${esc(L().imported(state.done))}</p>` : "";
    return `<h2>${t("nav").imports}</h2><p>${t("importText")}</p><form id="import" class="panel">
      ${field("import-unit", t("defaultUnit"), `<select id="import-unit">${unitOptions("", "-")}</select>`)}
      ${field("import-file", t("file"), '<input id="import-file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required>')}
      <div><button type="submit">${t("check")}</button></div></form>${result}${done}`;
  }

  // ---- people ------------------------------------------------------------------------------
  async function loadPeople() {
    const res = await call("/api/v1/users");
    state.people = res.ok ? await res.json() : [];
  }
  const roleOptions = (chosen) => (admin() ? ["admin", "manager", "viewer"] : ["viewer"]).map((r) => `<option value="${r}"${r === chosen ? " selected" : ""}>${esc(L().roles[r])}</option>`).join("");
  const unitChecks = (prefix, chosen) => `<fieldset class="units"><legend>${t("units")}</legend>${tree().map(([u, d]) => `<div class="check" style="margin-left:${d}rem"><input type="checkbox" id="${prefix}-${esc(u.code)}" data-unit-check="${prefix}" value="${esc(u.code)}"${chosen.includes(u.code) ? " checked" : ""}><label for="${prefix}-${esc(u.code)}">${esc(u.name)}</label></div>`).join("")}</fieldset>`;
  const chosenUnits = (prefix) => [...document.querySelectorAll(`[data-unit-check="${prefix}"]:checked`)].map((c) => c.value);
  function peopleView() {
    const rows = state.people.map((p) => [esc(p.username), esc(L().roles[p.role] || p.role), esc(p.units.map(unitName).join(", ") || "-"),
      p.disabled_at ? t("disabled") : t("enabled"), p.totp ? t("enabled") : "-",
      // No one is offered to disable themselves (the server refuses it too).
      `<button type="button" class="secondary" data-person="${esc(p.username)}">${t("edit")}</button>${state.me && p.username === state.me.username ? "" : ` <button type="button" class="${p.disabled_at ? "secondary" : "danger"}" data-person-disable="${esc(p.username)}" data-on="${p.disabled_at ? "false" : "true"}">${p.disabled_at ? t("enable") : t("disable")}</button>`}`]);
    const p = state.person && state.people.find((x) => x.username === state.person);
    const edit = p ? `<form id="person-edit" class="panel" data-username="${esc(p.username)}"><h3>${t("changeAccess")}: ${esc(p.username)}</h3>
      ${field("person-role", t("role"), `<select id="person-role">${roleOptions(p.role)}</select>`)}${unitChecks("edit", p.units)}
      <div class="buttons"><button type="submit">${t("save")}</button><button type="button" class="secondary" id="person-cancel">${t("cancel")}</button></div></form>
      <form id="person-password" class="panel"><h3>${t("resetPassword")}: ${esc(p.username)}</h3>
      ${field("person-new-password", t("newPassword"), '<input id="person-new-password" type="password" minlength="10" required autocomplete="new-password" aria-describedby="person-new-password-hint">', t("passwordHint"))}
      <div><button type="submit">${t("resetPassword")}</button></div></form>` : "";
    const resetTotp = p && p.totp ? `<p><button type="button" class="danger" id="person-totp-reset" data-username="${esc(p.username)}">${t("resetTwoStep")}</button></p>` : "";
    return `<h2>${t("people")}</h2>${table([t("username"), t("role"), t("units"), t("status"), t("twoStepCol"), ""], rows)}${edit}${resetTotp}
      <form id="new-person" class="panel"><h3>${t("newPerson")}</h3>
      ${field("person-name", t("username"), text("person-name", "", 'required minlength="3" maxlength="64" autocomplete="off"'))}
      ${field("person-pass", t("password"), '<input id="person-pass" type="password" minlength="10" required autocomplete="new-password" aria-describedby="person-pass-hint">', t("passwordHint"))}
      ${field("person-new-role", t("role"), `<select id="person-new-role">${roleOptions("viewer")}</select>`)}${unitChecks("new", [])}
      <div><button type="submit">${t("addPerson")}</button></div></form>`;
  }

  // ---- report settings ---------------------------------------------------------------------
  function settingsView() {
    const u = state.units.find((x) => x.code === state.unit);
    if (!u) return `<h2>${t("nav").settings}</h2>`;
    const logo = `/api/v1/units/${encodeURIComponent(u.code)}/logo?v=${state.logoVersion || 0}`;
    return `<h2>${t("nav").settings}</h2><p>${t("settingsText")}</p><form id="settings" class="panel">${unitPicker()}
      ${field("set-authority", t("authority"), `<textarea id="set-authority" rows="2" maxlength="310" aria-describedby="set-authority-hint">${esc(u.authority || "")}</textarea>`, t("authorityHint"))}
      ${field("set-name", t("name"), text("set-name", u.name, 'required maxlength="200"'))}
      ${field("set-address", t("address"), text("set-address", u.address, 'maxlength="300"'))}
      ${field("set-city", t("city"), text("set-city", u.city, 'maxlength="100"'))}
      ${field("set-phone", t("phone"), text("set-phone", u.phone, 'type="tel" maxlength="60" autocomplete="off"'))}
      ${field("set-email", t("unitEmail"), text("set-email", u.email, 'type="email" maxlength="200" autocomplete="off"'))}
      ${field("set-website", t("website"), text("set-website", u.website, 'maxlength="200" autocomplete="off"'))}
      ${field("set-head", t("headName"), text("set-head", u.head_name, 'maxlength="200"'))}
      ${field("set-nip", t("headId"), text("set-nip", u.head_id, 'inputmode="numeric" maxlength="24" aria-describedby="set-nip-hint"'), t("headIdHint"))}
      ${field("set-rank", t("headRank"), text("set-rank", u.head_rank, 'maxlength="100" aria-describedby="set-rank-hint"'), t("headRankHint"))}
      ${field("set-title", t("headTitle"), text("set-title", u.head_title, 'maxlength="200" aria-describedby="set-title-hint"'), t("headTitleHint"))}
      ${hoursView(u)}
      <div><button type="submit">${t("save")}</button></div></form>
      <form id="logo" class="panel"><h3>${t("logo")}</h3><img id="logo-preview" src="${logo}" alt="${esc(`${t("logo")} ${u.name}`)}" hidden>
      ${field("logo-file", t("logo"), '<input id="logo-file" type="file" accept="image/png,image/svg+xml,.png,.svg" required aria-describedby="logo-file-hint">', t("logoHint"))}
      <div><button type="submit">${t("uploadLogo")}</button></div></form>${embedView(u)}`;
  }

  // A unit's service hours, a day a row: ticked, with its opening and closing times.
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  function hoursView(u) {
    const kept = u.service_hours || {};
    const rows = DAYS.map((d, i) => {
      const [opens, closes] = (kept[d] || "08:00-16:00").split("-");
      const name = L().days[i];
      return `<div class="day"><div class="check"><input type="checkbox" id="day-${d}" data-day="${d}"${kept[d] ? " checked" : ""}><label for="day-${d}">${esc(name)}</label></div>
        <label class="sr" for="opens-${d}">${esc(`${t("opens")} ${name}`)}</label><input id="opens-${d}" type="time" value="${esc(opens)}">
        <label class="sr" for="closes-${d}">${esc(`${t("closes")} ${name}`)}</label><input id="closes-${d}" type="time" value="${esc(closes)}"></div>`;
    }).join("");
    return `<fieldset class="hours" aria-describedby="hours-hint"><legend>${t("hours")}</legend><p class="hint" id="hours-hint">${esc(t("hoursHint"))}</p>${rows}</fieldset>`;
  }
  const chosenHours = () => Object.fromEntries(DAYS.filter((d) => document.getElementById(`day-${d}`).checked)
    .map((d) => [d, `${value(`opens-${d}`)}-${value(`closes-${d}`)}`]));

  // The snippet that puts a unit's published results on its own website.
  function embedView(u) {
    if (!u.public_results) return `<section class="panel"><h3>${t("embed")}</h3><p>${t("embedOff")}</p></section>`;
    const page = `${PUBLIC_URL}/p/${encodeURIComponent(u.code)}`;
    const snippet = `<a href="${page}"><img src="${page}/badge.svg" alt="IKM ${esc(u.name)}"></a>`;
    return `<section class="panel" id="embed"><h3>${t("embed")}</h3><p>${t("embedText")}</p>
      <p><a href="${esc(page)}" target="_blank" rel="noopener">${esc(page)}</a></p>
      <p>${t("lobby")} <a href="${esc(page)}/tv" target="_blank" rel="noopener">${esc(page)}/tv</a></p>
      <textarea id="embed-code" readonly rows="3" aria-label="${esc(t("embed"))}">${esc(snippet)}</textarea></section>`;
  }

  // ---- notifications: webhooks and e-mail summaries ----------------------------------------
  async function loadHooks() {
    const res = await call("/api/v1/webhooks");
    state.hooks = res.ok ? await res.json() : [];
    if (state.hook && !state.hooks.some((h) => h.id === state.hook)) { state.hook = null; state.deliveries = []; }
  }
  async function loadDeliveries(id) {
    const res = await call(`/api/v1/webhooks/${encodeURIComponent(id)}/deliveries`);
    state.hook = id; state.deliveries = res.ok ? await res.json() : [];
  }
  // A secret for a new webhook: 32 random hexadecimal characters, made in the browser.
  const randomSecret = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const destination = (h) => (h.url.startsWith("mailto:") ? h.url.slice(7) : h.url);
  function signalsView() {
    const mail = Boolean(config().mail);
    const mailed = state.mailed && mail;
    const units = admin() ? unitOptions(state.unit, t("allUnits")) : unitOptions(state.unit);
    const events = `<fieldset class="events" id="hook-events"><legend>${t("events")}</legend>${EVENTS.map((e) => box(`ev-${e.replace(".", "-")}`, L().eventNames[e], mailed === e.startsWith("summary."), `data-event value="${e}"`)).join("")}</fieldset>`;
    const target = mailed
      ? field("hook-email", t("email"), '<input id="hook-email" type="email" required maxlength="200" autocomplete="email">')
      : `${field("hook-url", t("url"), '<input id="hook-url" type="url" required maxlength="2000" placeholder="https://" aria-describedby="hook-url-hint">', t("urlHint"))}
        ${field("hook-secret", t("secret"), `<input id="hook-secret" required minlength="16" maxlength="200" autocomplete="off" spellcheck="false" value="${randomSecret()}" aria-describedby="hook-secret-hint">`, t("secretHint"))}`;
    const form = `<form id="new-hook" class="panel"><h3>${t("newSignal")}</h3>
      ${field("hook-unit", t("unit"), `<select id="hook-unit">${units}</select>`)}
      <fieldset class="choice"><legend>${t("sendTo")}</legend>
        <div class="check"><input type="radio" name="hook-kind" id="hook-web" value="web"${mailed ? "" : " checked"}><label for="hook-web">${t("toWeb")}</label></div>
        <div class="check"><input type="radio" name="hook-kind" id="hook-mail" value="mail"${mailed ? " checked" : ""}${mail ? "" : ' disabled aria-describedby="mail-off"'}><label for="hook-mail">${t("toMail")}</label></div>
        ${mail ? "" : `<span class="hint" id="mail-off">${t("mailOff")}</span>`}</fieldset>
      ${target}${events}
      ${field("hook-threshold", t("threshold"), '<input id="hook-threshold" type="number" min="25" max="100" step="1" value="50" aria-describedby="hook-threshold-hint">', t("thresholdHint"))}
      <div><button type="submit">${t("addSignal")}</button></div></form>`;
    const names = (h) => h.events.map((e) => esc(L().eventNames[e] || e)).join("<br>");
    const rows = state.hooks.map((h) => [esc(destination(h)), esc(h.unit ? unitName(h.unit) : t("allUnits")), names(h), String(h.threshold),
      esc(when(h.created_at)), h.active ? t("active") : t("removed"),
      `<button type="button" class="secondary" data-deliveries="${esc(h.id)}">${t("showDeliveries")}</button>${h.active ? ` <button type="button" class="danger" data-remove-hook="${esc(h.id)}" data-name="${esc(destination(h))}">${t("remove")}</button>` : ""}`]);
    const hook = state.hook && state.hooks.find((h) => h.id === state.hook);
    const sent = hook ? `<section class="panel" id="deliveries" aria-labelledby="deliveries-title"><h3 id="deliveries-title">${esc(L().deliveriesOf(destination(hook)))}</h3>
      ${state.deliveries.length ? table([t("when"), t("events"), t("status"), t("attempts"), t("lastAnswer"), t("nextAttempt")], state.deliveries.map((d) => [
        esc(when(d.created_at)), esc(L().eventNames[d.event] || d.event), `<span class="delivery-${esc(d.status)}">${esc(L().deliveryStates[d.status] || d.status)}</span>`,
        String(d.attempts), esc([d.last_status, d.last_error].filter((x) => x !== null && x !== undefined && x !== "").join(" · ") || "-"),
        d.status === "pending" && d.next_attempt_at ? esc(when(d.next_attempt_at)) : "-"])) : `<p>${t("noDeliveries")}</p>`}
      <div><button type="button" class="secondary" id="deliveries-close">${t("close")}</button></div></section>` : "";
    return `<h2>${t("nav").signals}</h2><p>${t("signalsText")}</p>${secretBox()}
      <section class="panel" aria-labelledby="hooks-title"><h3 id="hooks-title">${t("signalsList")}</h3>
      ${rows.length ? table([t("destination"), t("unit"), t("events"), t("threshold"), t("created"), t("status"), ""], rows, "hooks") : `<p>${t("noSignals")}</p>`}</section>
      ${sent}${form}`;
  }
  function newHook() {
    const body = { unit: value("hook-unit") || null, events: [...document.querySelectorAll("[data-event]:checked")].map((c) => c.value) };
    const threshold = value("hook-threshold");
    if (threshold) body.threshold = Number(threshold);
    if (checked("hook-mail")) body.url = "mailto:" + value("hook-email");
    else { body.url = value("hook-url"); body.secret = value("hook-secret"); }
    return act(post("/api/v1/webhooks", body), async () => { state.secret = body.secret || null; await loadHooks(); });
  }

  // ---- the Ombudsman's assessment ----------------------------------------------------------
  async function loadAssessments() {
    const res = state.unit ? await call(unitPath(state.unit, "/ombudsman")) : null;
    state.assessments = res && res.ok ? await res.json() : [];
  }
  // "85,98" or "85.98" as the number 85.98; anything else is sent as written, for the server to name.
  const decimal = (v) => (/^\d{1,3}([.,]\d{1,2})?$/.test(v) ? Number(v.replace(",", ".")) : v);
  const score = (n) => Number(n).toLocaleString(state.lang === "id" ? "id-ID" : "en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function ombudsmanView() {
    const a = state.assessments.find((x) => x.year === state.assessing) || {};
    const year = a.year || new Date().getFullYear() - 1;
    const zones = Object.entries(L().zones).map(([z, label]) => `<option value="${z}"${z === (a.zone || "green") ? " selected" : ""}>${esc(label)}</option>`).join("");
    const rows = state.assessments.map((x) => [String(x.year), esc(score(x.score)), `<span class="zone-${esc(x.zone)}">${esc(L().zones[x.zone] || x.zone)}</span>`,
      esc(x.category || "-"), esc(x.source), esc(`${when(x.recorded_at)} · ${x.recorded_by}`),
      `<button type="button" class="secondary" data-assess="${x.year}" aria-label="${esc(`${t("edit")}: ${x.year}`)}">${t("edit")}</button>`]);
    return `<h2>${t("nav").ombudsman}</h2><p>${t("ombudsmanText")}</p>
      <form id="assessment" class="panel">${unitPicker()}
      ${field("om-year", t("year"), `<input id="om-year" type="number" min="2000" max="2100" step="1" required value="${year}">`)}
      ${field("om-score", t("score"), `<input id="om-score" inputmode="decimal" required maxlength="6" value="${a.score !== undefined ? esc(score(a.score)) : ""}" aria-describedby="om-score-hint">`, t("scoreHint"))}
      ${field("om-zone", t("zoneCol"), `<select id="om-zone">${zones}</select>`)}
      ${field("om-category", t("category"), text("om-category", a.category, 'maxlength="100" aria-describedby="om-category-hint"'), t("categoryHint"))}
      ${field("om-source", t("source"), text("om-source", a.source, 'required maxlength="200" aria-describedby="om-source-hint"'), t("sourceHint"))}
      <div><button type="submit">${t("record")}</button></div></form>
      <section class="panel" aria-labelledby="assessments-title"><h3 id="assessments-title">${t("assessments")}: ${esc(unitName(state.unit))}</h3>
      ${rows.length ? table([t("year"), t("score"), t("zoneCol"), t("category"), t("source"), t("recordedBy"), ""], rows, "assessments") : `<p>${t("noAssessments")}</p>`}</section>`;
  }

  // ---- audit log ---------------------------------------------------------------------------
  async function loadAudit() {
    const q = new URLSearchParams(Object.entries(state.auditQuery).filter(([, v]) => v));
    const res = await call("/api/v1/audit?" + q);
    const body = await answer(res);
    if (!res.ok) { state.error = refusal(body); state.audit = []; return; }
    state.audit = body;
  }
  // What changed between two records, as `field: before → after`.
  function changes(e) {
    const before = e.before ? JSON.parse(e.before) : {}; const after = e.after ? JSON.parse(e.after) : {};
    const shown = (v) => (v === null || v === undefined ? "–" : typeof v === "object" ? JSON.stringify(v) : String(v));
    return Object.keys({ ...before, ...after }).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      .map((k) => `${esc(k)}: ${e.before ? esc(shown(before[k])) + " → " : ""}${esc(shown(after[k]))}`).join("<br>");
  }
  function auditView() {
    const q = state.auditQuery;
    const rows = state.audit.map((e) => [esc(when(e.at)), esc(e.actor), esc(e.action), esc(e.target), `<span class="changes">${changes(e)}</span>`]);
    return `<h2>${t("nav").audit}</h2><form id="audit-filter" class="panel row">
      ${field("audit-unit", t("unit"), `<select id="audit-unit">${unitOptions(q.unit || "", "-")}</select>`)}
      ${field("audit-actor", t("actor"), text("audit-actor", q.actor, 'maxlength="100" placeholder="user:nama"'))}
      ${field("audit-action", t("actionCol"), text("audit-action", q.action, 'maxlength="60" placeholder="unit"'))}
      ${field("audit-from", t("from"), `<input id="audit-from" type="date" value="${esc((q.from || "").slice(0, 10))}">`)}
      ${field("audit-to", t("to"), `<input id="audit-to" type="date" value="${esc((q.to || "").slice(0, 10))}">`)}
      <div><button type="submit">${t("filters")}</button></div></form>
      ${rows.length ? table([t("when"), t("actor"), t("actionCol"), t("target"), t("changes")], rows, "audit") : `<p>${t("noEntries")}</p>`}`;
  }

  // ---- the signed-in person's own account: two-step sign-in ---------------------------------
  function accountView() {
    const e = state.totp;
    const on = state.me.totp;
    const begin = e ? `<section class="panel" id="totp-setup" aria-labelledby="totp-title"><h3 id="totp-title">${t("twoStep")}</h3><p>${t("twoStepScan")}</p>
      <div class="qr" role="img" aria-label="${esc(t("twoStep"))}">${e.qr_svg}</div><p><code id="totp-secret">${esc(e.secret.replace(/(.{4})/g, "$1 ").trim())}</code></p>
      <form id="totp-confirm" class="row">${field("totp-code", t("totpCode"), '<input id="totp-code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required>')}
      <div><button type="submit">${t("twoStepConfirm")}</button></div></form></section>` : "";
    return `<h2>${t("account")}</h2>${held() ? `<p class="error" role="alert">${t("twoStepRequired")}</p>` : ""}
      ${reader() ? `<p class="panel" id="reader-only">${t("readerOnly")} <a href="/dashboard">${t("dashboard")}</a></p>` : ""}
      <section class="panel"><h3>${t("twoStep")}</h3><p id="totp-state">${on ? t("twoStepOn") : t("twoStepOff")}</p>
      ${on || e ? "" : `<div><button type="button" id="totp-begin">${t("twoStepBegin")}</button></div>`}</section>${begin}`;
  }

  const VIEWS = { account: accountView, units: unitsView, kiosks: kiosksView, keys: keysView, sheets: sheetsView, populations: populationsView, imports: importsView, people: peopleView, settings: settingsView,
    signals: signalsView, ombudsman: ombudsmanView, audit: auditView };
  const LOADS = { kiosks: loadTablets, keys: loadKeys, populations: loadPopulations, people: loadPeople, signals: loadHooks, ombudsman: loadAssessments, audit: loadAudit };

  // What was typed into the section's fields, kept through the next drawing when a change was
  // refused or could not be sent (so a person corrects it rather than types it all again).
  let keepTyped = false;
  const typedFields = () => [...app.querySelectorAll("main input:not([type=file]):not([type=password]), main select, main textarea")]
    .filter((e) => e.id).map((e) => [e.id, e.type === "checkbox" ? e.checked : e.value]);

  function render() {
    const focused = document.activeElement && document.activeElement.id;
    const typed = keepTyped ? typedFields() : [];
    keepTyped = false;
    document.documentElement.lang = state.lang;
    document.title = t("title");
    const tools = `<button type="button" id="lang" lang="${state.lang === "id" ? "en" : "id"}">${t("language")}</button>${state.me ? `<a class="button" href="/dashboard">${t("dashboard")}</a><button type="button" id="sign-out">${t("signOut")}</button>` : ""}`;
    const header = `<header><h1>${t("title")}</h1><div class="tools">${tools}</div></header>`;
    const messages = `${state.error ? `<p class="error" role="alert">${esc(state.error)}</p>` : ""}${state.note && !state.error ? `<p class="note" role="status">${esc(state.note)}</p>` : ""}`;
    if (!state.checked) { app.innerHTML = `${header}<main><p>…</p></main>`; return; }
    if (!state.me) {
      app.innerHTML = `${header}<main class="narrow"><h2>${t("signInTitle")}</h2><p>${t("signInText")}</p>${messages}
        ${signInForm(L(), state.name, state.askCode)}</main>`;
    } else {
      const current = section();
      const nav = SECTIONS.filter((s) => (s !== "audit" || admin()) && (!(held() || reader()) || s === "account")).map((s) => `<a href="#${s}"${s === current ? ' aria-current="page"' : ""}>${esc(t("nav")[s])}</a>`).join("");
      app.innerHTML = `${header}<nav aria-label="${esc(t("title"))}">${nav}</nav><main><p class="hint">${esc(L().signedInAs(state.me.username, L().roles[state.me.role]))}</p>${messages}${VIEWS[current]()}</main>`;
    }
    bind();
    // What is on screen, for whoever waits for a choice to take effect (the browser tests).
    for (const [id, v] of typed) {
      const e = document.getElementById(id);
      if (e && e.type === "checkbox") e.checked = v; else if (e) e.value = v;
    }
    app.dataset.unit = state.unit || "";
    app.dataset.renders = String(Number(app.dataset.renders || 0) + 1);
    const again = focused && document.getElementById(focused);
    if (again) again.focus();
  }

  async function show() {
    const current = section();
    if (LOADS[current]) await LOADS[current]();
    render();
  }

  async function signIn(e) {
    e.preventDefault();
    state.name = value("username");
    const code = state.askCode ? value("totp").replace(/\s/g, "") : "";
    const result = await startSession(state.name, document.getElementById("password").value, code);
    if (result.person) {
      Object.assign(state, { me: result.person, error: "", note: "", askCode: false });
      if (held()) { render(); return; }
      await loadUnits(); await show(); return;
    }
    state.error = signInProblem(L(), result, Boolean(code));
    if (result.problem === "code") state.askCode = true;
    render();
    document.getElementById("password").focus();
  }

  const post = (path, json, method = "POST") => call(path, { method, json });
  const unitPath = (code, rest = "") => `/api/v1/units/${encodeURIComponent(code)}${rest}`;

  // Each form and button of the section on screen.
  const HANDLERS = {
    "#new-unit": ["submit", () => act(post("/api/v1/units", { code: value("unit-code"), name: value("unit-name"), timezone: value("unit-tz"),
      parent: value("unit-parent") || null, open_link: checked("unit-open"), public_results: checked("unit-public") }), loadUnits)],
    "#edit-unit": ["submit", (e) => {
      const code = e.target.dataset.code; const u = state.units.find((x) => x.code === code);
      const body = { name: value("edit-name") };
      if (admin()) {
        if (value("edit-tz") !== u.timezone) body.timezone = value("edit-tz");
        if ((value("edit-parent") || null) !== (u.parent || null)) body.parent = value("edit-parent") || null;
        for (const [id, k] of [["edit-open", "open_link"], ["edit-public", "public_results"], ["edit-active", "active"]]) if (checked(id) !== u[k]) body[k] = checked(id);
      }
      return act(post(unitPath(code), body, "PATCH"), async () => { state.editing = null; await loadUnits(); });
    }],
    "#edit-cancel": ["click", () => { state.editing = null; render(); }],
    "#rename-service": ["submit", (e) => act(post(unitPath(state.unit, `/services/${encodeURIComponent(e.target.dataset.code)}`), { name: value("rename-name") }, "PATCH"),
      async () => { state.renaming = null; await loadServices(); })],
    "#rename-cancel": ["click", () => { state.renaming = null; render(); }],
    "#new-service": ["submit", () => act(post(unitPath(state.unit, "/services"), { code: value("service-code"), name: value("service-name") }), loadServices)],
    "#enrol": ["submit", () => act(post("/api/v1/keys", { role: "kiosk", units: [state.unit], name: value("kiosk-name") }), async (k) => { state.enrolment = k; await loadTablets(); })],
    "#print": ["click", () => window.print()],
    "#counter": ["submit", () => act(post("/api/v1/keys", { role: "counter", units: [state.unit], name: value("counter-name") }), async (k) => { state.secret = k.secret; await loadKeys(); })],
    "#signing": ["click", () => act(post(unitPath(state.unit, "/signing-secret"), {}), (s) => { state.secret = s.signing_secret; })],
    "#sheet": ["submit", async () => {
      const count = Number(value("sheet-count"));
      const body = { count, days: Number(value("sheet-days")), lang: value("sheet-lang") }; if (value("sheet-service")) body.service = value("sheet-service");
      const res = await post(unitPath(state.unit, "/receipt-sheets"), body);
      if (!res.ok) { state.error = refusal(await answer(res)); render(); return; }
      const url = URL.createObjectURL(new Blob([await res.text()], { type: "text/html" }));
      const opened = window.open(url, "_blank");
      state.sheet = { count, url, blocked: !opened }; state.error = ""; render();
    }],
    "#year": ["change", (e) => { state.year = Number(e.target.value); render(); }],
    "#population-csv": ["submit", async () => {
      const file = document.getElementById("population-file").files[0]; if (!file) return;
      const res = await call("/api/v1/populations", { method: "POST", body: await file.arrayBuffer(), type: "text/csv" });
      await act(res, async (r) => { state.upload = r; await loadPopulations(); });
    }],
    "#import": ["submit", async () => {
      const file = document.getElementById("import-file").files[0]; if (!file) return;
      state.file = { bytes: await file.arrayBuffer(), type: /\.xlsx$/i.test(file.name) ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv", unit: value("import-unit") };
      state.done = null;
      await sendImport(true);
    }],
    "#confirm-import": ["click", () => sendImport(false)],
    "#new-person": ["submit", () => act(post("/api/v1/users", { username: value("person-name"), password: document.getElementById("person-pass").value,
      role: value("person-new-role"), units: value("person-new-role") === "admin" ? [] : chosenUnits("new") }), loadPeople)],
    "#person-edit": ["submit", (e) => act(post(`/api/v1/users/${encodeURIComponent(e.target.dataset.username)}`, { role: value("person-role"),
      units: value("person-role") === "admin" ? [] : chosenUnits("edit") }, "PATCH"), async () => { state.person = null; await loadPeople(); })],
    "#person-password": ["submit", () => act(post(`/api/v1/users/${encodeURIComponent(state.person)}`, { password: document.getElementById("person-new-password").value }, "PATCH"))],
    "#person-cancel": ["click", () => { state.person = null; render(); }],
    "#settings": ["submit", () => act(post(unitPath(state.unit), { name: value("set-name"), address: value("set-address"), city: value("set-city"),
      head_name: value("set-head"), head_id: value("set-nip"), authority: value("set-authority"), phone: value("set-phone"), email: value("set-email"),
      website: value("set-website"), head_rank: value("set-rank"), head_title: value("set-title"), service_hours: chosenHours() }, "PATCH"), loadUnits)],
    "#logo": ["submit", async () => {
      const file = document.getElementById("logo-file").files[0]; if (!file) return;
      const type = file.type || (/\.svg$/i.test(file.name) ? "image/svg+xml" : "image/png");
      await act(await call(unitPath(state.unit, "/logo"), { method: "PUT", body: await file.arrayBuffer(), type }), () => { state.logoVersion = Date.now(); });
    }],
    "#totp-begin": ["click", () => act(post("/api/v1/sessions/current/totp", {}), (enrolment) => { state.totp = enrolment; state.note = ""; })],
    "#totp-confirm": ["submit", () => act(post("/api/v1/sessions/current/totp", { code: value("totp-code").replace(/\s/g, "") }, "PUT"), async () => {
      state.totp = null;
      state.me = await answer(await call("/api/v1/sessions/current"));
      await loadUnits();
    })],
    "#person-totp-reset": ["click", (e) => act(post(`/api/v1/users/${encodeURIComponent(e.target.dataset.username)}`, { totp: false }, "PATCH"), loadPeople)],
    "#new-hook": ["submit", newHook],
    "#hook-web": ["change", () => { state.mailed = false; render(); }],
    "#hook-mail": ["change", () => { state.mailed = true; render(); }],
    "#deliveries-close": ["click", () => { state.hook = null; state.deliveries = []; render(); }],
    "#assessment": ["submit", () => act(post(unitPath(state.unit, `/ombudsman/${encodeURIComponent(value("om-year"))}`), { score: decimal(value("om-score")),
      zone: value("om-zone"), category: value("om-category") || null, source: value("om-source") }, "PUT"), async () => { state.assessing = null; await loadAssessments(); })],
    "#audit-filter": ["submit", async () => {
      state.auditQuery = { unit: value("audit-unit"), actor: value("audit-actor"), action: value("audit-action"),
        from: value("audit-from") ? value("audit-from") + "T00:00:00Z" : "", to: value("audit-to") ? value("audit-to") + "T23:59:59Z" : "" };
      await loadAudit(); render();
    }],
  };

  async function sendImport(dry) {
    const f = state.file; if (!f) return;
    const q = new URLSearchParams(); if (dry) q.set("dry_run", "true"); if (f.unit) q.set("unit", f.unit);
    const res = await call("/api/v1/imports?" + q, { method: "POST", body: f.bytes, type: f.type });
    const body = await answer(res);
    if (!res.ok) { state.error = refusal(body); state.dry = null; render(); return; }
    state.error = ""; state.note = "";
    if (dry) state.dry = body; else { state.done = body; state.dry = null; }
    render();
  }

  function bind() {
    // A request that never reached the server (offline, or the server down) says so.
    const unreachable = (err) => {
      if (err && err.message === "signed out") return;
      state.error = t("unreachable"); state.note = ""; keepTyped = true; render(); reveal();
    };
    // A form sends once: a second tap while the first is on its way is ignored.
    let busy = false;
    const on = (sel, ev, fn) => {
      const el = document.querySelector(sel);
      if (!el) return;
      el.addEventListener(ev, (e) => {
        if (ev === "submit") { e.preventDefault(); if (busy) return; busy = true; }
        Promise.resolve(fn(e)).catch(unreachable).finally(() => { if (ev === "submit") busy = false; });
      });
    };
    on("#lang", "click", () => { state.lang = state.lang === "id" ? "en" : "id"; localStorage.setItem(LANG, state.lang); render(); });
    on("#sign-in", "submit", signIn);
    on("#sign-out", "click", async () => { await call("/api/v1/sessions/current", { method: "DELETE" }); state.me = null; state.error = ""; state.note = ""; render(); });
    for (const [sel, [ev, fn]] of Object.entries(HANDLERS)) on(sel, ev, fn);
    document.querySelectorAll("[data-pick-unit]").forEach((s) => s.addEventListener("change", async () => {
      state.unit = s.value; state.enrolment = null; state.secret = null; state.sheet = null;
      await loadServices(); await show();
    }));
    document.querySelectorAll("[data-edit-unit]").forEach((b) => b.addEventListener("click", () => { state.editing = b.dataset.editUnit; render(); }));
    document.querySelectorAll("[data-services]").forEach((b) => b.addEventListener("click", async () => {
      state.unit = b.dataset.services; await loadServices(); render(); const s = document.getElementById("services"); if (s) s.scrollIntoView();
    }));
    document.querySelectorAll("[data-rename-service]").forEach((b) => b.addEventListener("click", () => { state.renaming = b.dataset.renameService; render(); }));
    document.querySelectorAll("[data-service-active]").forEach((b) => b.addEventListener("click", () => {
      act(post(unitPath(state.unit, `/services/${encodeURIComponent(b.dataset.serviceActive)}`), { active: b.dataset.on === "true" }, "PATCH"), loadServices).catch(() => {});
    }));
    document.querySelectorAll("[data-retire]").forEach((b) => b.addEventListener("click", () => {
      if (confirm(L().retireConfirm(b.dataset.name))) act(call(`/api/v1/keys/${encodeURIComponent(b.dataset.retire)}`, { method: "DELETE" }), loadTablets).catch(() => {});
    }));
    document.querySelectorAll("[data-revoke]").forEach((b) => b.addEventListener("click", () => {
      if (confirm(L().revokeConfirm(b.dataset.name))) act(call(`/api/v1/keys/${encodeURIComponent(b.dataset.revoke)}`, { method: "DELETE" }), loadKeys).catch(() => {});
    }));
    document.querySelectorAll("[data-cell]").forEach((input) => input.addEventListener("change", async () => {
      const [unit, period] = input.dataset.cell.split("/");
      const res = await post(unitPath(unit, `/populations/${period}`), { population: Number(input.value) }, "PUT");
      const body = await answer(res);
      if (res.ok) { state.populations[input.dataset.cell] = body.population; state.cells[input.dataset.cell] = "ok"; } else state.cells[input.dataset.cell] = refusal(body);
      render();
    }));
    document.querySelectorAll("[data-person]").forEach((b) => b.addEventListener("click", () => { state.person = b.dataset.person; render(); }));
    document.querySelectorAll("[data-person-disable]").forEach((b) => b.addEventListener("click", () => {
      act(post(`/api/v1/users/${encodeURIComponent(b.dataset.personDisable)}`, { disabled: b.dataset.on === "true" }, "PATCH"), loadPeople).catch(() => {});
    }));
    document.querySelectorAll("[data-deliveries]").forEach((b) => b.addEventListener("click", async () => {
      await loadDeliveries(b.dataset.deliveries).catch(() => {}); render(); const d = document.getElementById("deliveries"); if (d) d.scrollIntoView();
    }));
    document.querySelectorAll("[data-remove-hook]").forEach((b) => b.addEventListener("click", () => {
      if (confirm(L().removeConfirm(b.dataset.name))) act(call(`/api/v1/webhooks/${encodeURIComponent(b.dataset.removeHook)}`, { method: "DELETE" }), loadHooks).catch(() => {});
    }));
    document.querySelectorAll("[data-assess]").forEach((b) => b.addEventListener("click", () => { state.assessing = Number(b.dataset.assess); render(); document.getElementById("om-score").focus(); }));
    const preview = document.getElementById("logo-preview");
    if (preview) preview.addEventListener("load", () => { preview.hidden = false; });
  }

  window.addEventListener("hashchange", () => { state.error = ""; state.note = ""; state.secret = null; show().catch(() => {}); });
  render();
  // Already signed in (a reload, or from the dashboard)? The session says so, with its token.
  fetch("/api/v1/sessions/current", { credentials: "same-origin" }).then(async (res) => {
    state.checked = true;
    if (res.ok) { state.me = await res.json(); await loadUnits(); await show(); } else render();
  }).catch(() => { state.checked = true; render(); });
})();
