//! The one integration test binary: drives the real `kepuasan` binary and, later, the real
//! HTTP service over SQLite and PostgreSQL.

mod cli;
