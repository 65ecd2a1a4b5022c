//! kepuasan: collects Survei Kepuasan Masyarakat responses and computes the IKM exactly as
//! PermenPAN-RB 14/2017 does.
//!
//! The map of the crate: [`instrument`] reads and validates the survey definitions,
//! [`engine`] is the pure index engine (no database, no HTTP), [`csv_input`] reads response
//! files, [`text`] renders reports for people, [`config`] holds the settings and [`cli`] is the command line.

pub mod cli;
pub mod config;
pub mod csv_input;
pub mod engine;
pub mod instrument;
pub mod text;
