//! kepuasan: collects Survei Kepuasan Masyarakat responses and computes the IKM exactly as
//! PermenPAN-RB 14/2017 does.
//!
//! The map of the crate: [`instrument`] reads and validates the survey definitions,
//! [`engine`] is the pure index engine (no database, no HTTP), [`csv_input`] reads response
//! files, [`text`] renders reports for people, [`config`] holds the settings and [`cli`] is the command line.

pub mod abuse;
pub mod access;
pub mod api;
pub mod archive;
pub mod auth;
pub mod cli;
pub mod collect;
pub mod config;
pub mod csv_input;
pub mod db;
pub mod demo;
pub mod directory;
pub mod domain;
pub mod engine;
pub mod error;
pub mod exact;
pub mod export;
pub mod extract;
pub mod followup;
pub mod import;
pub mod instrument;
pub mod messages;
pub mod metrics;
pub mod pages;
pub mod period;
pub mod quality;
pub mod reporting;
pub mod server;
pub mod signals;
pub mod spreadsheet;
pub mod state;
pub mod tallies;
pub mod text;
pub mod tokens;
pub mod writer;
