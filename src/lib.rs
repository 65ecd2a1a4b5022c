//! kepuasan: collects Survei Kepuasan Masyarakat responses and computes the IKM exactly as
//! PermenPAN-RB 14/2017 does.
//!
//! The map of the crate, by layer, lowest first (`tests/integration/layers.rs` holds the code
//! to it; `docs/architecture.md` draws it):
//!
//! - Numbers and formats: [`error`] (error kinds and their statuses), [`exact`] (exact
//!   rationals), [`period`] (periods in a unit's time zone), [`instrument`] (the survey
//!   definitions), [`engine`] (the pure index maths), [`text`] (Indonesian numbers, dates and
//!   the command line's text report), [`messages`] (the Indonesian of every message),
//!   [`csv_input`] and [`spreadsheet`] (reading files within bounds), [`metrics`].
//! - Storage: [`db`] (backends, pools, migrations, queries).
//! - Domain: [`auth`] (keys and roles), [`access`] (who may do what), [`directory`] (a short
//!   cache of keys, units and services), [`tokens`] (receipt tokens), [`abuse`] (form tickets)
//!   and [`quality`] (flags), [`collect`] (taking in a submission), [`writer`] (group commit),
//!   [`tallies`] (stored summaries), [`reporting`] (a unit's full report), [`followup`]
//!   (follow-up plans), [`domain`] (units, services, keys, people, kiosks, hours, logos ...),
//!   [`signals`] (webhooks and e-mail: "Pemberitahuan" in the pages), [`import`] (paper and
//!   populations), [`archive`] (closed years), [`demo`], [`config`] (settings).
//! - Documents: [`export`] (CSV, XLSX, PDF, Word, charts).
//! - HTTP: [`state`], [`extract`] (extractors, the text rule, addresses), [`pages`] (kiosk,
//!   phone, dashboard, /admin, public pages), [`api`] (the route table and handlers).
//! - Process: [`server`] and [`cli`]; `main.rs` only parses the command line.

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
