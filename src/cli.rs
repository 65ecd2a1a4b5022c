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
use crate::engine::{self, Options, Tally};
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
    let output = match cli.command {
        Command::Ikm(args) => ikm(&args, lang)?,
        Command::SampleSize(args) => sample_size(&args, lang)?,
    };
    out.write_all(output.as_bytes())
        .map_err(|e| CliError(e.to_string()))
}

fn registry() -> Result<Registry, CliError> {
    let settings = Settings::from_env().map_err(CliError)?;
    Registry::load(settings.survey_defs.as_deref()).map_err(|e| CliError(e.to_string()))
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
