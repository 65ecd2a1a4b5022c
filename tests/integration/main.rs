//! The one integration test binary: the real `kepuasan` binary and the real HTTP service over
//! SQLite and PostgreSQL.

mod access;
mod api;
mod archive;
mod browser;
mod cli;
mod common;
mod crash;
mod diskfault;
mod document;
mod fleet;
mod hardening;
mod imports;
mod instances;
mod layers;
mod migrations;
mod ops;
mod pages;
mod pgfault;
mod replica;
mod reports;
mod sessions;
mod surfaces;
mod tallies;
mod tokens;
mod tree;
mod users;
mod webhooks;
mod writer;
