//! The `kepuasan` binary: parses the command line and hands it to [`kepuasan::cli`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    kepuasan::cli::main(kepuasan::cli::Cli::parse())
}
