//! The command line of the `kepuasan` binary: its arguments and what each command does.
//!
//! Commands print their result on standard output and any error on standard error, in the
//! language chosen with `--lang` (Bahasa Indonesia by default). Exit status: 0 done, 1 the
//! input or the settings are wrong, 2 the command line itself is wrong (clap's own).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Settings;
use crate::db::queries;
use crate::domain::audit::What;
use crate::engine::{self, Options, Tally};
use crate::error::AppError;
use crate::instrument::{Instrument, Lang, Registry};
use crate::{csv_input, text};

/// kepuasan: Survei Kepuasan Masyarakat and the IKM of PermenPAN-RB 14/2017.
#[derive(Debug, Parser)]
#[command(name = "kepuasan", version, about)]
pub struct Cli {
    /// Language of the output: `id` (Bahasa Indonesia) or `en`.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "id",
        env = "KEPUASAN_LANG"
    )]
    pub lang: LangArg,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output language on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    /// Bahasa Indonesia.
    Id,
    /// English.
    En,
}

impl From<LangArg> for Lang {
    fn from(value: LangArg) -> Lang {
        match value {
            LangArg::Id => Lang::Id,
            LangArg::En => Lang::En,
        }
    }
}

/// Output format of a computed report.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Readable text.
    Text,
    /// JSON in the contract's report shape.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the IKM of a CSV file of questionnaires, without a database.
    Ikm(IkmArgs),
    /// Print the minimum sample for a population (Krejcie & Morgan).
    SampleSize(SampleArgs),
    /// Migrate the database, then serve the API.
    Serve {
        /// Fill an empty database with demo data first and print an admin key.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill an empty database with a demo MPP: a dozen units and a year of responses.
    Demo,
    /// People served per unit and period, for sample adequacy and weighted roll-ups.
    #[command(subcommand)]
    Populations(PopulationsCommand),
    /// Copy the SQLite database to FILE, consistently, while the service runs (PostgreSQL:
    /// use pg_dump; see docs/deployment.md).
    Backup {
        /// Where the copy goes; it must not exist.
        file: PathBuf,
    },
    /// The stored tallies that reports read instead of rows.
    #[command(subcommand)]
    Tallies(TalliesCommand),
    /// Archive closed years: write the responses of every unit's local years before YEAR to
    /// a gzip file of JSON lines and, with --drop, remove them from the database while their
    /// tallies stay (reports of those years keep working). `archive suggestions FILE` reads
    /// the suggestions back.
    Archive(ArchiveArgs),
    /// Follow-up plans (rencana tindak lanjut) of a unit.
    #[command(subcommand, name = "follow-ups")]
    FollowUps(FollowUpsCommand),
    /// Import paper questionnaires from a CSV or XLSX file (columns U1..U9, unit, service,
    /// date, and optionally gender, age, education, occupation, suggestion); prints what was
    /// imported and every bad row. Importing the same file twice stores its rows once.
    Import {
        /// The CSV or XLSX file.
        file: PathBuf,
        /// Check every row and store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Unit of rows without a unit column.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the people who sign in.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage units.
    #[command(subcommand)]
    Units(UnitsCommand),
    /// Manage services.
    #[command(subcommand)]
    Services(ServicesCommand),
    /// Print a unit's report from the database.
    Report(ReportArgs),
    /// Receipt tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
}

/// `kepuasan follow-ups ...`
#[derive(Debug, Subcommand)]
pub enum FollowUpsCommand {
    /// Add an action to a unit's plan for a period.
    Add {
        /// Unit code.
        #[arg(long)]
        unit: String,
        /// Period, such as 2025-Q3.
        #[arg(long)]
        period: String,
        /// Item code, such as U3.
        #[arg(long)]
        item: String,
        /// What will be done.
        #[arg(long)]
        action: String,
        /// Who is responsible.
        #[arg(long)]
        owner: String,
        /// Due date, YYYY-MM-DD.
        #[arg(long)]
        due: String,
    },
    /// A unit's plans.
    List {
        /// Unit code.
        #[arg(long)]
        unit: String,
        /// Only this period.
        #[arg(long)]
        period: Option<String>,
    },
    /// Set an action's status (planned, in_progress, done, cancelled) and note.
    Set {
        /// The action's id.
        id: String,
        /// New status.
        #[arg(long)]
        status: Option<String>,
        /// A note on progress.
        #[arg(long)]
        note: Option<String>,
    },
}

/// `kepuasan tallies ...`
#[derive(Debug, Subcommand)]
pub enum TalliesCommand {
    /// Recompute the tallies from the stored responses, in one transaction (every unit, or
    /// one); reports made meanwhile see the old tallies or the new.
    Rebuild {
        /// Only this unit.
        #[arg(long)]
        unit: Option<String>,
    },
}

/// `kepuasan archive ...`
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ArchiveArgs {
    /// Archive each unit's local years before this one (a year already begun).
    #[arg(long, required = true, value_name = "YEAR")]
    before: Option<i32>,
    /// The file to write (gzip, JSON lines); never overwritten.
    #[arg(long, required = true, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Remove the archived rows from the database once the file is written and read back.
    #[arg(long)]
    drop: bool,
    #[command(subcommand)]
    read: Option<ArchiveRead>,
}

/// `kepuasan archive suggestions ...`
#[derive(Debug, Subcommand)]
pub enum ArchiveRead {
    /// Print a unit's suggestions kept in an archive file, as CSV (year, received_at UTC,
    /// service, channel, suggestion).
    Suggestions {
        /// The archive file.
        file: PathBuf,
        /// The unit.
        #[arg(long)]
        unit: String,
        /// Only this local year.
        #[arg(long)]
        year: Option<i32>,
    },
}

/// `kepuasan populations ...`
#[derive(Debug, Subcommand)]
pub enum PopulationsCommand {
    /// Set the number of people a unit served in a period.
    Set {
        /// Unit code.
        #[arg(long)]
        unit: String,
        /// Period: 2025, 2025-S1, 2025-Q3, 2025-07 or 2025-07-01..2025-09-30.
        #[arg(long)]
        period: String,
        /// People served.
        population: i64,
    },
    /// Set many from a CSV or XLSX file with columns unit, period, population.
    Import {
        /// The file.
        file: PathBuf,
    },
    /// List a unit's populations.
    List {
        /// Unit code.
        #[arg(long)]
        unit: String,
    },
}

/// `kepuasan tokens ...`
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Mint offline receipt tokens with the unit's signing secret (needs KEPUASAN_SECRET),
    /// one survey URL per line.
    Mint {
        /// Unit code.
        #[arg(long)]
        unit: String,
        /// Service code.
        #[arg(long)]
        service: Option<String>,
        /// Transaction number; with --count, a running number is appended.
        #[arg(long)]
        transaction: Option<String>,
        /// Local issue date, YYYY-MM-DD; today by default.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// How many tokens (each needs its own transaction number).
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// Issue one-use server tokens and write them as a printable A4 sheet of QR slips (HTML,
    /// 12 to a page), for a unit whose receipts cannot print a QR code.
    Sheet {
        /// Unit code.
        #[arg(long)]
        unit: String,
        /// Service code; any service of the unit when absent.
        #[arg(long)]
        service: Option<String>,
        /// How many slips.
        #[arg(long, default_value_t = crate::pages::sheet::DEFAULT_COUNT,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::pages::sheet::MAX_COUNT)))]
        count: u32,
        /// Days the slips stay valid (1 to 365); KEPUASAN_TOKEN_DAYS (14) by default.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::pages::sheet::MAX_DAYS)))]
        days: Option<u32>,
        /// Where to write the sheet.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `kepuasan keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; its secret is the last line of standard output.
    Create {
        /// admin, viewer, counter or kiosk.
        #[arg(long)]
        role: String,
        /// A unit in the key's scope (repeat for more).
        #[arg(long = "unit")]
        units: Vec<String>,
        /// Who or what holds it.
        #[arg(long, default_value = "")]
        name: String,
        /// For a kiosk key: also write the QR code of its enrolment address to this SVG file.
        #[arg(long)]
        enrol_qr: Option<PathBuf>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// `kepuasan users ...`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a person; the password is the first line of standard input.
    Add {
        /// The user name (3 to 64 letters, digits, '.', '_' or '-').
        username: String,
        /// admin, manager or viewer.
        #[arg(long)]
        role: String,
        /// A unit the person works for (repeat for more; none for an admin).
        #[arg(long = "unit")]
        units: Vec<String>,
    },
    /// List people (never their passwords).
    List,
    /// Disable a person: they can no longer sign in.
    Disable {
        /// The user name.
        username: String,
    },
    /// Set a person's password from the first line of standard input.
    Password {
        /// The user name.
        username: String,
    },
}

/// `kepuasan units update`: what changes; every option left out stays as it is.
#[derive(Debug, clap::Args)]
pub struct UnitUpdate {
    /// Unit code.
    code: String,
    /// New name.
    #[arg(long)]
    name: Option<String>,
    /// New IANA time zone.
    #[arg(long)]
    timezone: Option<String>,
    /// New parent unit.
    #[arg(long, conflicts_with = "no_parent")]
    parent: Option<String>,
    /// Make it a top unit, under no parent.
    #[arg(long)]
    no_parent: bool,
    /// Allow an open survey link: true or false.
    #[arg(long)]
    open_link: Option<bool>,
    /// Publish its results: true or false.
    #[arg(long)]
    public_results: Option<bool>,
    /// Take responses: true, or false to close the unit.
    #[arg(long)]
    active: Option<bool>,
    /// Street address for the report's letterhead ("" clears it).
    #[arg(long)]
    address: Option<String>,
    /// City, for the letterhead and the place-and-date line ("" clears it).
    #[arg(long)]
    city: Option<String>,
    /// The unit head's name, printed under the signature ("" clears it).
    #[arg(long)]
    head_name: Option<String>,
    /// The unit head's NIP, 18 digits ("" clears it).
    #[arg(long)]
    head_id: Option<String>,
    /// The authority above the unit in its letterhead, such as "PEMERINTAH KOTA BANDUNG";
    /// "\n" between lines ("" clears it: the unit above lends its own).
    #[arg(long)]
    authority: Option<String>,
    /// Telephone for the letterhead ("" clears it).
    #[arg(long)]
    phone: Option<String>,
    /// E-mail address for the letterhead ("" clears it).
    #[arg(long)]
    email: Option<String>,
    /// Website for the letterhead ("" clears it).
    #[arg(long)]
    website: Option<String>,
    /// The head's rank (pangkat/golongan) under their name ("" clears it).
    #[arg(long)]
    head_rank: Option<String>,
    /// The head's title as they sign, such as "Plt. Kepala Dinas ..." ("" clears it).
    #[arg(long)]
    head_title: Option<String>,
    /// Service hours as JSON, such as '{"mon":"08:00-16:00","sat":"08:00-12:00"}' (days left
    /// out are closed; '{}' clears them: the unit above's, else Monday to Saturday 07-17).
    #[arg(long)]
    service_hours: Option<String>,
}

/// `kepuasan units ...`
#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// Add a unit.
    Add {
        /// Stable code.
        code: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// IANA time zone.
        #[arg(long, default_value = "Asia/Jakarta")]
        timezone: String,
        /// Parent unit (an MPP or district).
        #[arg(long)]
        parent: Option<String>,
        /// Allow an open survey link.
        #[arg(long)]
        open_link: bool,
        /// Publish its results: a public page (/p/CODE) and an embeddable badge.
        #[arg(long)]
        public_results: bool,
    },
    /// Change a unit: its name, time zone (its responses are counted again on their new local
    /// days), parent, open link, published results, whether it takes responses, or what its
    /// report's letterhead and signature print.
    Update(Box<UnitUpdate>),
    /// List units.
    List,
    /// Print a unit's signing secret for minting offline receipt tokens (needs KEPUASAN_SECRET).
    SigningSecret {
        /// Unit code.
        code: String,
    },
}

/// `kepuasan services ...`
#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// Add a service to a unit.
    Add {
        /// Unit code.
        #[arg(long)]
        unit: String,
        /// Service code.
        code: String,
        /// Name.
        #[arg(long)]
        name: String,
    },
}

/// Arguments of `kepuasan report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Unit code.
    #[arg(long)]
    pub unit: String,
    /// Period: 2025, 2025-S1, 2025-Q3, 2025-07 or 2025-07-01..2025-09-30.
    #[arg(long)]
    pub period: String,
    /// One service only.
    #[arg(long)]
    pub service: Option<String>,
    /// Computation mode.
    #[arg(long)]
    pub mode: Option<String>,
    /// Output format: json, csv, xlsx, pdf or docx (xlsx, pdf and docx need --out).
    #[arg(long, default_value = "json")]
    pub format: String,
    /// CSV: semicolons between fields and decimal commas, as Indonesian spreadsheets expect.
    #[arg(long)]
    pub semicolon: bool,
    /// PDF: the document's number (nomor surat); a blank line to write it on when absent.
    #[arg(long)]
    pub number: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Arguments of `kepuasan ikm`.
#[derive(Debug, Args)]
pub struct IkmArgs {
    /// CSV file: one row per questionnaire, columns named by item code (U1..U9).
    pub file: PathBuf,
    /// Instrument the questionnaires answered.
    #[arg(long, default_value = "skm-2017")]
    pub instrument: String,
    /// Computation mode (`exact` or `form-0.111` for skm-2017); the instrument's default if omitted.
    #[arg(long)]
    pub mode: Option<String>,
    /// People served in the period, to check the sample size.
    #[arg(long)]
    pub population: Option<u64>,
    /// A second CSV file (for example the previous period) to test for a difference.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Arguments of `kepuasan sample-size`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Population: people served in the period.
    pub population: u64,
    /// Confidence level.
    #[arg(long, default_value_t = engine::sample::DEFAULT_CONFIDENCE)]
    pub confidence: f64,
    /// Margin of error.
    #[arg(long, default_value_t = engine::sample::DEFAULT_MARGIN)]
    pub margin: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// A command that failed, with the message for standard error.
#[derive(Debug)]
pub struct CliError(pub String);

/// Runs the command line and turns the outcome into an exit status.
pub fn main(cli: Cli) -> ExitCode {
    let lang = Lang::from(cli.lang);
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            let prefix = if lang == Lang::Id { "galat" } else { "error" };
            eprintln!("{prefix}: {message}");
            ExitCode::from(1)
        }
    }
}

/// Runs a parsed command, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let lang = Lang::from(cli.lang);
    LANG.set(lang);
    let output = match cli.command {
        Command::Ikm(args) => ikm(&args, lang)?,
        Command::SampleSize(args) => sample_size(&args, lang)?,
        Command::Serve { demo } => return serve(demo, out),
        Command::Migrate => migrate()?,
        Command::Demo => demo(out)?,
        Command::Import {
            file,
            dry_run,
            unit,
        } => import(&file, dry_run, unit.as_deref(), lang)?,
        Command::Populations(command) => populations(command)?,
        Command::FollowUps(command) => follow_ups(command)?,
        Command::Backup { file } => {
            let state = Session::read()?;
            state
                .db
                .read_blocking(|conn| crate::db::backup(conn, &file))
                .map_err(app)?;
            format!("backup: {}\n", file.display())
        }
        Command::Tallies(TalliesCommand::Rebuild { unit }) => {
            let state = Session::write()?;
            let done = state
                .db
                .write_blocking(|conn| {
                    crate::tallies::rebuild(conn, &state.registry, unit.as_deref())
                })
                .map_err(app)?;
            format!(
                "tallies rebuilt: {} units, {} responses\n",
                done.units, done.responses
            )
        }
        Command::Archive(args) => archive(args)?,
        Command::Keys(command) => keys(command)?,
        Command::Users(command) => users(command)?,
        Command::Units(command) => units(command)?,
        Command::Services(command) => services(command)?,
        Command::Report(args) => report(&args, lang)?,
        Command::Tokens(command) => tokens_command(command, lang)?,
    };
    out.write_all(output.as_bytes())
        .map_err(|e| CliError(e.to_string()))
}

fn registry() -> Result<Registry, CliError> {
    registry_of(&settings()?)
}

fn read_tally(instrument: &Instrument, path: &PathBuf) -> Result<Tally, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    let rows = csv_input::read_responses(instrument, &bytes)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    let mut tally = Tally::new(instrument);
    for row in &rows {
        tally.add_checked(&row.answers);
    }
    Ok(tally)
}

fn ikm(args: &IkmArgs, lang: Lang) -> Result<String, CliError> {
    let registry = registry()?;
    let instrument = registry.get(&args.instrument).ok_or_else(|| {
        let known: Vec<&str> = registry.iter().map(|i| i.key.as_str()).collect();
        CliError(format!(
            "instrument: `{}` is unknown; known: {}",
            args.instrument,
            known.join(", ")
        ))
    })?;
    let tally = read_tally(instrument, &args.file)?;
    let options = Options {
        mode: args.mode.clone(),
        population: args.population,
        ..Options::default()
    };
    let report =
        engine::compute(instrument, &tally, &options).map_err(|e| CliError(e.to_string()))?;
    let comparison = match &args.compare {
        Some(other) => Some(engine::compare(
            instrument,
            &tally,
            &read_tally(instrument, other)?,
        )),
        None => None,
    };
    Ok(match args.format {
        Format::Json => {
            let mut value = serde_json::to_value(&report).map_err(|e| CliError(e.to_string()))?;
            if let Some(comparison) = comparison {
                value["comparison"] =
                    serde_json::to_value(comparison).map_err(|e| CliError(e.to_string()))?;
            }
            serde_json::to_string_pretty(&value).map_err(|e| CliError(e.to_string()))? + "\n"
        }
        Format::Text => {
            let mut out = text::report(instrument, &report, lang);
            match comparison {
                Some(Some(w)) => out.push_str(&text::comparison(&w, lang)),
                Some(None) => out.push_str(if lang == Lang::Id {
                    "Perbandingan: tidak dapat diuji (perlu sedikitnya 2 responden di tiap berkas dan skor yang bervariasi)\n"
                } else {
                    "Comparison: cannot be tested (needs at least 2 respondents in each file and varying scores)\n"
                }),
                None => {}
            }
            out
        }
    })
}

fn sample_size(args: &SampleArgs, lang: Lang) -> Result<String, CliError> {
    let size = engine::sample::krejcie_morgan(args.population, args.confidence, args.margin)
        .map_err(|e| CliError(e.to_string()))?;
    Ok(match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&size).map_err(|e| CliError(e.to_string()))? + "\n"
        }
        Format::Text => text::sample_size(&size, lang),
    })
}

fn settings() -> Result<Settings, CliError> {
    Settings::from_env().map_err(CliError)
}

/// What a command opens: the settings, the instruments and the database. Never the server's
/// writer thread, metrics or caches; those belong to `serve`.
/// The operator at the console, who acts as an administrator and is named so in the audit log.
fn operator() -> crate::auth::Principal {
    crate::auth::Principal::command_line()
}

/// Makes a change as the operator, recorded in the audit log in the same transaction.
fn audited<B: serde::Serialize, T: serde::Serialize>(
    state: &Session,
    what: What<'_>,
    before: impl FnOnce(&mut crate::db::DbConn) -> Result<Option<B>, AppError>,
    change: impl FnOnce(&mut crate::db::DbConn) -> Result<T, AppError>,
) -> Result<T, CliError> {
    state
        .db
        .write_blocking(|conn| {
            crate::domain::audit::change(conn, &operator(), what, now(), before, change)
        })
        .map_err(app)
}

struct Session {
    settings: Settings,
    registry: Registry,
    db: crate::db::Db,
}

impl Session {
    /// For a command that only reads: the database as it is, not migrated. A database that
    /// this build would migrate is refused with the command that does it, and so is a SQLite
    /// file that does not exist (reading must not create one).
    fn read() -> Result<Session, CliError> {
        let settings = settings()?;
        let kind = crate::db::DbKind::from_url(&settings.database_url).map_err(CliError)?;
        if let crate::db::DbKind::Sqlite(path) = &kind
            && !std::path::Path::new(path).exists()
        {
            return Err(CliError(format!(
                "no database at {path}; `kepuasan migrate` creates it"
            )));
        }
        let db =
            crate::db::Db::connect(&settings.database_url).map_err(|e| CliError(e.to_string()))?;
        let pending = db
            .read_blocking(crate::db::pending_migrations)
            .map_err(app)?;
        if pending > 0 {
            return Err(CliError(format!(
                "the database needs {pending} migration(s) of this version; run `kepuasan migrate` first \
                 (commands that only read never change the database)"
            )));
        }
        Ok(Session {
            registry: registry_of(&settings)?,
            settings,
            db,
        })
    }

    /// [`Session::read`] when the command only reads, [`Session::write`] otherwise.
    fn open(only_reads: bool) -> Result<Session, CliError> {
        if only_reads {
            Session::read()
        } else {
            Session::write()
        }
    }

    /// For a command that writes: the database migrated first, and the tallies of one made
    /// before tallies existed built, as `serve` does.
    fn write() -> Result<Session, CliError> {
        let settings = settings()?;
        let registry = registry_of(&settings)?;
        let db =
            crate::db::Db::open(&settings.database_url).map_err(|e| CliError(e.to_string()))?;
        db.write_blocking(|conn| crate::tallies::ensure(conn, &registry))
            .map_err(app)?;
        Ok(Session {
            settings,
            registry,
            db,
        })
    }
}

/// The address phones and tablets reach, for what a command prints or draws as a link or QR
/// code. Without `KEPUASAN_PUBLIC_URL` it would be the bind address (`http://127.0.0.1:8080`),
/// which no phone can open: printed slips and enrolment codes would be dead.
fn public_url(settings: &Settings) -> Result<&str, CliError> {
    if settings.public_url_configured {
        Ok(&settings.public_url)
    } else {
        Err(CliError(not_public(settings)))
    }
}

fn not_public(settings: &Settings) -> String {
    format!(
        "KEPUASAN_PUBLIC_URL is not set, so the address would be {}, which no phone or tablet \
         can open; set it to the address respondents reach, such as https://skm.example.go.id",
        settings.public_url
    )
}

fn registry_of(settings: &Settings) -> Result<Registry, CliError> {
    Registry::load(settings.survey_defs.as_deref()).map_err(|e| CliError(e.to_string()))
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// `kepuasan archive`: writes (and drops) closed years, or reads an archive's suggestions.
fn archive(args: ArchiveArgs) -> Result<String, CliError> {
    if let Some(ArchiveRead::Suggestions { file, unit, year }) = args.read {
        let found = crate::archive::suggestions(&file, &unit, year).map_err(app)?;
        let mut csv = csv::Writer::from_writer(Vec::new());
        let row = |csv: &mut csv::Writer<Vec<u8>>, r: [&str; 5]| {
            csv.write_record(r).map_err(|e| CliError(e.to_string()))
        };
        row(
            &mut csv,
            ["year", "received_at", "service", "channel", "suggestion"],
        )?;
        for s in &found {
            let (year, at) = (s.year.to_string(), s.received_at.to_string());
            let service = s.service.as_deref().unwrap_or("");
            row(&mut csv, [&year, &at, service, &s.channel, &s.suggestion])?;
        }
        let bytes = csv.into_inner().map_err(|e| CliError(e.to_string()))?;
        return String::from_utf8(bytes).map_err(|e| CliError(e.to_string()));
    }
    let (Some(before), Some(out)) = (args.before, args.out) else {
        return Err(CliError(
            "archive needs --before YEAR and --out FILE".into(),
        ));
    };
    let state = Session::write()?;
    let now = chrono::Utc::now().naive_utc();
    let done = crate::archive::run(&state.db, before, &out, args.drop, now).map_err(app)?;
    let mut text = format!(
        "archived: {} responses of {} units before {} to {} (sha256 {})\n",
        done.rows, done.units, done.before_year, done.file, done.sha256
    );
    if done.dropped {
        text.push_str("dropped from the database; their tallies stay\n");
    }
    for p in &done.partitions_dropped {
        text.push_str(&format!("partition dropped: {p}\n"));
    }
    Ok(text)
}

thread_local! {
    /// The language of the command being run (`--lang`), for its errors.
    static LANG: std::cell::Cell<Lang> = const { std::cell::Cell::new(Lang::Id) };
}

/// An error of the application as the command line says it, in the command's language.
fn app(e: AppError) -> CliError {
    let e = e.localized(LANG.get());
    match (e.fields(), e.cause()) {
        (Some(fields), _) => CliError(
            fields
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        (None, Some(cause)) => CliError(format!("internal error: {cause}")),
        (None, None) => CliError(e.message().to_owned()),
    }
}

fn json(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError(e.to_string()))
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`), as text or, with
/// `KEPUASAN_LOG_FORMAT=json`, one JSON object a line for a log collector.
fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("KEPUASAN_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn serve(demo_first: bool, out: &mut dyn Write) -> Result<(), CliError> {
    init_logging();
    let state = crate::server::system_state(settings()?).map_err(CliError)?;
    if demo_first {
        let empty = state
            .db
            .read_blocking(queries::list_units)
            .map_err(app)?
            .is_empty();
        if empty {
            let made = state
                .db
                .write_blocking(|conn| crate::demo::fill(conn, now()))
                .map_err(app)?;
            let (_, secret) = state
                .db
                .write_blocking(|conn| {
                    crate::auth::create_key(
                        conn,
                        &crate::auth::NewKey {
                            role: crate::auth::Role::Admin,
                            units: vec![],
                            name: "demo admin".into(),
                        },
                        now(),
                    )
                })
                .map_err(app)?;
            // A person to sign in at /admin and /dashboard, with a password made now.
            let password = format!("demo-{}", &crate::auth::new_secret()[3..15]);
            let person = crate::domain::users::NewUser {
                username: "admin".into(),
                password: password.clone(),
                role: "admin".into(),
                units: Vec::new(),
            };
            state
                .db
                .write_blocking(|conn| crate::domain::users::add(conn, &operator(), person, now()))
                .map_err(app)?;
            let _ = writeln!(
                out,
                "demo: {made} responses in 12 units of 2 MPPs\n\
                 demo: sign in at http://{}/admin as `admin` with the password {password}\n\
                 demo: admin key for scripts:\n{secret}",
                state.settings.bind
            );
        } else {
            let _ = writeln!(
                out,
                "demo: the database already has units; serving it as it is"
            );
        }
    }
    let _ = writeln!(
        out,
        "kepuasan: http://{}/ (database: {}{})",
        state.settings.bind,
        crate::db::redact(&state.settings.database_url),
        state
            .settings
            .database_read_url
            .as_deref()
            .map(|r| format!("; reports read from {}", crate::db::redact(r)))
            .unwrap_or_default()
    );
    if !state.settings.public_url_configured {
        // Receipt tokens, sheets and kiosk keys made through the API, and the PDF's
        // verification code, carry this address.
        tracing::warn!(
            "{}; receipt QR codes, kiosk enrolment links and report verification codes made by this server carry it",
            not_public(&state.settings)
        );
    }
    let _ = out.flush();
    actix_web::rt::System::new()
        .block_on(crate::server::run(state))
        .map_err(|e| CliError(format!("server: {e}")))
}

fn migrate() -> Result<String, CliError> {
    let settings = settings()?;
    let kind = crate::db::DbKind::from_url(&settings.database_url).map_err(CliError)?;
    let applied = crate::db::migrate(&kind).map_err(|e| CliError(e.to_string()))?;
    // A migration may have emptied the tallies: build them now, not at the next write.
    Session::write()?;
    Ok(format!("{applied} migration(s) applied\n"))
}

fn demo(out: &mut dyn Write) -> Result<String, CliError> {
    let state = Session::write()?;
    let made = state
        .db
        .write_blocking(|conn| crate::demo::fill(conn, now()))
        .map_err(app)?;
    let _ = out.flush();
    Ok(format!(
        "{made} demo responses in 12 units of 2 MPPs (mpp-bandung, mpp-makassar)\n"
    ))
}

/// The password on the first line of standard input, never echoed or logged.
fn password_from_stdin() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError(format!("standard input: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(CliError(
            "give the password on the first line of standard input".to_owned(),
        ));
    }
    Ok(password)
}

fn users(command: UsersCommand) -> Result<String, CliError> {
    use crate::domain::users;
    let state = Session::open(matches!(command, UsersCommand::List))?;
    match command {
        UsersCommand::Add {
            username,
            role,
            units,
        } => {
            let new = users::NewUser {
                username,
                password: password_from_stdin()?,
                role,
                units,
            };
            let user = state
                .db
                .write_blocking(|conn| users::add(conn, &operator(), new, now()))
                .map_err(app)?;
            Ok(format!(
                "added {} ({}{})\n",
                user.username,
                user.role,
                if user.units.is_empty() {
                    String::new()
                } else {
                    format!(": {}", user.units.join(", "))
                }
            ))
        }
        UsersCommand::List => json(
            &state
                .db
                .read_blocking(|conn| users::list(conn, &operator()))
                .map_err(app)?,
        ),
        UsersCommand::Disable { username } => {
            state
                .db
                .write_blocking(|conn| {
                    let change = users::UserChange {
                        disabled: Some(true),
                        ..Default::default()
                    };
                    users::change(conn, &operator(), &username, change, now())
                })
                .map_err(app)?;
            Ok(format!(
                "disabled {}\n",
                username.trim().to_ascii_lowercase()
            ))
        }
        UsersCommand::Password { username } => {
            let password = password_from_stdin()?;
            state
                .db
                .write_blocking(|conn| {
                    let change = users::UserChange {
                        password: Some(password),
                        ..Default::default()
                    };
                    users::change(conn, &operator(), &username, change, now())
                })
                .map_err(app)?;
            Ok(format!(
                "password set for {}\n",
                username.trim().to_ascii_lowercase()
            ))
        }
    }
}

fn keys(command: KeysCommand) -> Result<String, CliError> {
    let state = Session::open(matches!(command, KeysCommand::List))?;
    match command {
        KeysCommand::Create {
            role,
            units,
            name,
            enrol_qr,
        } => {
            if enrol_qr.is_some() {
                public_url(&state.settings)?;
            } else if role == "kiosk" && !state.settings.public_url_configured {
                eprintln!("warning: {}", not_public(&state.settings));
            }
            let body = crate::domain::keys::CreateKeyRequest {
                role,
                units,
                name: Some(name),
            };
            let public_url = state.settings.public_url.clone();
            let key = state
                .db
                .write_blocking(|conn| {
                    crate::domain::keys::create_key(conn, &operator(), body, &public_url, now())
                })
                .map_err(app)?;
            let enrol = match (&key.enrol_url, &key.enrol_qr_svg) {
                (Some(url), Some(svg)) => {
                    if let Some(path) = &enrol_qr {
                        std::fs::write(path, svg)
                            .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
                    }
                    format!("enrol: {url}\n")
                }
                _ => String::new(),
            };
            Ok(format!(
                "id: {}\nrole: {}\nunits: {}\n{enrol}{}\n",
                key.id,
                key.role,
                serde_json::to_string(&key.units).map_err(|e| CliError(e.to_string()))?,
                key.secret.unwrap_or_default()
            ))
        }
        KeysCommand::List => {
            let keys = state.db.read_blocking(queries::list_keys).map_err(app)?;
            json(
                &keys
                    .into_iter()
                    .map(|k| crate::domain::keys::KeyView::of(k, None))
                    .collect::<Vec<_>>(),
            )
        }
        KeysCommand::Revoke { id } => {
            state
                .db
                .write_blocking(|conn| {
                    crate::domain::keys::revoke_key(conn, &operator(), &id, now(), |_, _| Ok(()))
                })
                .map_err(|e| {
                    if e.is(crate::error::Kind::NotFound) {
                        CliError(format!("no key with id {id}"))
                    } else {
                        app(e)
                    }
                })?;
            Ok(format!("revoked {id}\n"))
        }
    }
}

fn units(command: UnitsCommand) -> Result<String, CliError> {
    let state = Session::open(matches!(
        command,
        UnitsCommand::List | UnitsCommand::SigningSecret { .. }
    ))?;
    match command {
        UnitsCommand::Add {
            code,
            name,
            timezone,
            parent,
            open_link,
            public_results,
        } => {
            let body = crate::domain::units::CreateUnitRequest {
                code,
                name,
                timezone,
                parent,
                open_link,
                public_results,
            };
            let target = body.code.to_ascii_lowercase();
            json(&audited(
                &state,
                What {
                    action: "unit.create",
                    target: &target,
                    unit: Some(&target),
                },
                |_| Ok(None::<()>),
                |conn| crate::domain::units::create_unit(conn, &body, now()),
            )?)
        }
        UnitsCommand::Update(update) => {
            let UnitUpdate {
                code,
                name,
                timezone,
                parent,
                no_parent,
                open_link,
                public_results,
                active,
                address,
                city,
                head_name,
                head_id,
                authority,
                phone,
                email,
                website,
                head_rank,
                head_title,
                service_hours,
            } = *update;
            let service_hours = match service_hours {
                Some(text) => Some(
                    serde_json::from_str(&text)
                        .map_err(|e| CliError(format!("--service-hours: {e}")))?,
                ),
                None => None,
            };
            let body = crate::domain::units::UpdateUnitRequest {
                address,
                city,
                head_name,
                head_id,
                authority: authority.map(|a| a.replace("\\n", "\n")),
                phone,
                email,
                website,
                head_rank,
                head_title,
                service_hours,
                name,
                timezone,
                parent: if no_parent {
                    Some(None)
                } else {
                    parent.map(Some)
                },
                open_link,
                active,
                public_results,
            };
            let registry = state.registry.clone();
            json(&audited(
                &state,
                What {
                    action: "unit.update",
                    target: &code,
                    unit: Some(&code),
                },
                |conn| queries::find_unit(conn, &code),
                |conn| crate::domain::units::update_unit(conn, &registry, &code, body),
            )?)
        }
        UnitsCommand::List => json(&state.db.read_blocking(queries::list_units).map_err(app)?),
        UnitsCommand::SigningSecret { code } => {
            let unit = state
                .db
                .read_blocking(|c| queries::find_unit(c, &code))
                .map_err(app)?
                .ok_or_else(|| CliError(format!("unit: unknown unit `{code}`")))?;
            let master = state.settings.secret.as_deref().ok_or_else(|| {
                CliError("KEPUASAN_SECRET is not set; signing secrets derive from it".into())
            })?;
            Ok(format!(
                "{}\n",
                crate::tokens::unit_secret(master, &unit.code)
            ))
        }
    }
}

fn services(command: ServicesCommand) -> Result<String, CliError> {
    let state = Session::write()?;
    match command {
        ServicesCommand::Add { unit, code, name } => {
            let target = format!("{unit}/{}", code.to_ascii_lowercase());
            let body = crate::domain::units::CreateServiceRequest { code, name };
            json(&audited(
                &state,
                What {
                    action: "service.create",
                    target: &target,
                    unit: Some(&unit),
                },
                |_| Ok(None::<()>),
                |conn| crate::domain::units::create_service(conn, &unit, &body, now()),
            )?)
        }
    }
}

fn report(args: &ReportArgs, lang: Lang) -> Result<String, CliError> {
    use crate::export::Format;
    let format: Format = args
        .format
        .parse()
        .map_err(|e: String| CliError(format!("format: {e}")))?;
    if matches!(format, Format::Xlsx | Format::Pdf | Format::Docx) && args.out.is_none() {
        return Err(CliError(format!(
            "out: a {} report is a binary file; name it with --out",
            format.extension()
        )));
    }
    let period = args
        .period
        .parse()
        .map_err(|e: crate::period::PeriodError| CliError(e.to_string()))?;
    // A document records its verification code: a write. Other formats only read.
    let state = Session::open(!format.is_document())?;
    let request = crate::reporting::ReportRequest {
        unit: args.unit.clone(),
        period,
        service: args.service.clone(),
        mode: args.mode.clone(),
        instrument: None,
        exclude_flagged: false,
    };
    let options = crate::export::ExportOptions {
        lang,
        semicolon: args.semicolon,
        number: args.number.clone(),
        ..Default::default()
    };
    let context = crate::export::ExportContext {
        now: now(),
        public_url: &state.settings.public_url,
        freshness: crate::db::Freshness::PRIMARY,
    };
    let build = |conn: &mut crate::db::DbConn| {
        crate::export::build(
            conn,
            &state.registry,
            &state.settings.flags,
            &request,
            format,
            &options,
            &context,
        )
    };
    let (report, bytes) = if format.is_document() {
        state.db.write_blocking(build)
    } else {
        state.db.read_blocking(build)
    }
    .map_err(app)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &bytes)
                .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
            Ok(String::new())
        }
        None if format == Format::Json => json(&report),
        None => String::from_utf8(bytes).map_err(|e| CliError(e.to_string())),
    }
}

fn follow_ups(command: FollowUpsCommand) -> Result<String, CliError> {
    use crate::followup;
    let state = Session::open(matches!(command, FollowUpsCommand::List { .. }))?;
    match command {
        FollowUpsCommand::Add {
            unit,
            period,
            item,
            action,
            owner,
            due,
        } => {
            let instrument = state
                .registry
                .get("skm-2017")
                .cloned()
                .ok_or_else(|| CliError("the skm-2017 instrument is missing".into()))?;
            let req = followup::NewFollowUpRequest {
                period,
                item,
                action,
                owner,
                due,
                status: None,
                note: None,
            };
            json(&audited(
                &state,
                What {
                    action: "followup.create",
                    target: &format!("{unit}/{}", req.item),
                    unit: Some(&unit),
                },
                |_| Ok(None::<()>),
                |conn| followup::create(conn, &instrument, &unit, &req, now()),
            )?)
        }
        FollowUpsCommand::List { unit, period } => json(
            &state
                .db
                .read_blocking(|conn| followup::list(conn, &unit, period.as_deref()))
                .map_err(app)?,
        ),
        FollowUpsCommand::Set { id, status, note } => {
            let req = followup::UpdateFollowUpRequest {
                status,
                note,
                ..Default::default()
            };
            let unit = state
                .db
                .read_blocking(|conn| followup::find(conn, &id))
                .map_err(app)?
                .map(|f| f.unit_code);
            json(&audited(
                &state,
                What {
                    action: "followup.update",
                    target: &id,
                    unit: unit.as_deref(),
                },
                |conn| followup::find(conn, &id),
                |conn| followup::update(conn, &id, &req, now()),
            )?)
        }
    }
}

fn populations(command: PopulationsCommand) -> Result<String, CliError> {
    let state = Session::open(matches!(command, PopulationsCommand::List { .. }))?;
    match command {
        PopulationsCommand::Set {
            unit,
            period,
            population,
        } => json(&audited(
            &state,
            What {
                action: "population.set",
                target: &format!("{unit}/{period}"),
                unit: Some(&unit),
            },
            |conn| queries::find_population(conn, &unit, &period),
            |conn| {
                crate::domain::populations::set_population(
                    conn,
                    &unit,
                    &period,
                    &crate::domain::populations::PopulationRequest { population },
                    now(),
                )
            },
        )?),
        PopulationsCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).map_err(|e| CliError(format!("{}: {e}", file.display())))?;
            json(&audited(
                &state,
                What {
                    action: "populations.import",
                    target: "file",
                    unit: None,
                },
                |_| Ok(None::<()>),
                |conn| crate::import::populations(conn, &operator(), &bytes, now()),
            )?)
        }
        PopulationsCommand::List { unit } => json(
            &state
                .db
                .read_blocking(|conn| queries::list_populations(conn, &unit))
                .map_err(app)?,
        ),
    }
}

fn import(
    file: &PathBuf,
    dry_run: bool,
    unit: Option<&str>,
    lang: Lang,
) -> Result<String, CliError> {
    let bytes = std::fs::read(file).map_err(|e| CliError(format!("{}: {e}", file.display())))?;
    let state = Session::open(dry_run)?;
    // The operator at the console acts as an administrator.
    let operator = operator();
    let token_settings = state.settings.token_settings();
    let job = |conn: &mut crate::db::DbConn| {
        crate::import::import(
            conn,
            &state.registry,
            &token_settings,
            &operator,
            &bytes,
            unit,
            dry_run,
            now(),
        )
    };
    let report = if dry_run {
        state.db.read_blocking(job)
    } else {
        state.db.write_blocking(job)
    }
    .map_err(app)?;
    json(&report.localized(lang))
}

fn tokens_sheet(
    unit: &str,
    service: Option<&str>,
    (count, days): (u32, Option<u32>),
    path: &PathBuf,
    lang: Lang,
) -> Result<String, CliError> {
    let state = Session::write()?;
    public_url(&state.settings)?;
    let html = state
        .db
        .write_blocking(|conn| {
            let mut issuer = state.settings.issuer(None, now());
            if let Some(days) = days {
                issuer.valid_days = days;
            }
            crate::pages::sheet::issue(conn, &issuer, unit, service, count, lang)
        })
        .map_err(app)?;
    std::fs::write(path, html).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    Ok(format!("{count} slips: {}\n", path.display()))
}

fn tokens_command(command: TokensCommand, lang: Lang) -> Result<String, CliError> {
    let (unit, service, transaction, date, count) = match command {
        TokensCommand::Sheet {
            unit,
            service,
            count,
            days,
            out,
        } => return tokens_sheet(&unit, service.as_deref(), (count, days), &out, lang),
        TokensCommand::Mint {
            unit,
            service,
            transaction,
            date,
            count,
        } => (unit, service, transaction, date, count),
    };
    let state = Session::read()?;
    let base = public_url(&state.settings)?;
    let found = state
        .db
        .read_blocking(|c| queries::find_unit(c, &unit))
        .map_err(app)?
        .ok_or_else(|| CliError(format!("unit: unknown unit `{unit}`")))?;
    let master = state.settings.secret.as_deref().ok_or_else(|| {
        CliError(
            "KEPUASAN_SECRET is not set; offline tokens are signed with secrets derived from it"
                .into(),
        )
    })?;
    let tz = crate::period::parse_timezone(&found.timezone)
        .ok_or_else(|| CliError(format!("unit {unit} has a bad time zone")))?;
    let issued = date.unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
    if count > 1 && transaction.is_none() {
        return Err(CliError(
            "transaction: --count needs --transaction, so that every receipt has its own number"
                .into(),
        ));
    }
    let secret = crate::tokens::unit_secret(master, &found.code);
    let mut out = String::new();
    for i in 1..=count {
        let transaction = transaction.as_ref().map(|t| {
            if count > 1 {
                format!("{t}-{i}")
            } else {
                t.clone()
            }
        });
        let claims = crate::tokens::Claims {
            unit: found.code.clone(),
            service: service.clone(),
            transaction,
            issued,
        };
        let token = crate::tokens::mint_offline(&secret, &claims).map_err(CliError)?;
        out.push_str(&crate::tokens::survey_url(base, &token));
        out.push('\n');
    }
    Ok(out)
}
