//! Prometheus metrics (`GET /metrics`): HTTP requests by route and status with their latency,
//! submissions by channel and outcome, imported questionnaires, refusals by reason, kiosk
//! tablets by state, and the database pools. One
//! registry per application state, so tests and several servers in one process never mix.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

/// The application's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `kepuasan_http_requests_total{method, route, status}`.
    pub requests: IntCounterVec,
    /// `kepuasan_http_request_duration_seconds{route}`.
    pub latency: HistogramVec,
    /// `kepuasan_submissions_total{channel, outcome}`: outcome `created`, `duplicate` or `refused`.
    pub submissions: IntCounterVec,
    /// `kepuasan_imported_questionnaires_total{outcome}`: `imported` or `already_imported`.
    pub imported: IntCounterVec,
    /// `kepuasan_db_connections{pool, state}`: `read`/`write` pools, `idle`/`in_use`.
    pub db_connections: IntGaugeVec,
    /// `kepuasan_write_queue_depth`: submissions waiting for the writer.
    pub write_queue: IntGauge,
    /// `kepuasan_write_batch_size`: submissions per group commit.
    pub batch_size: Histogram,
    /// `kepuasan_refusals_total{status, reason}`: requests refused (4xx, 503) by error code,
    /// such as `too_large`, `rate_limited`, `busy` or `validation_failed`.
    pub refusals: IntCounterVec,
    /// `kepuasan_kiosks{state}`: kiosk tablets by state (`online`, `late`, `offline`,
    /// `retired`), counted when scraped.
    pub kiosks: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Fresh metrics in their own registry.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("kepuasan_http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kepuasan_http_request_duration_seconds",
                "Time from request to response",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let submissions = IntCounterVec::new(
            Opts::new(
                "kepuasan_submissions_total",
                "Survey submissions by channel and outcome",
            ),
            &["channel", "outcome"],
        )
        .expect("valid metric");
        let imported = IntCounterVec::new(
            Opts::new(
                "kepuasan_imported_questionnaires_total",
                "Paper questionnaires in imports",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let db_connections = IntGaugeVec::new(
            Opts::new("kepuasan_db_connections", "Database pool connections"),
            &["pool", "state"],
        )
        .expect("valid metric");
        let write_queue = IntGauge::new(
            "kepuasan_write_queue_depth",
            "Submissions waiting for the writer",
        )
        .expect("valid metric");
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("kepuasan_write_batch_size", "Submissions per group commit")
                .buckets(vec![
                    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0,
                ]),
        )
        .expect("valid metric");
        let refusals = IntCounterVec::new(
            Opts::new(
                "kepuasan_refusals_total",
                "Requests refused, by status and error code",
            ),
            &["status", "reason"],
        )
        .expect("valid metric");
        let kiosks = IntGaugeVec::new(
            Opts::new("kepuasan_kiosks", "Kiosk tablets by state"),
            &["state"],
        )
        .expect("valid metric");
        for metric in [
            Box::new(refusals.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(kiosks.clone()),
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(submissions.clone()),
            Box::new(imported.clone()),
            Box::new(db_connections.clone()),
            Box::new(write_queue.clone()),
            Box::new(batch_size.clone()),
        ] {
            registry.register(metric).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            latency,
            submissions,
            imported,
            db_connections,
            write_queue,
            batch_size,
            refusals,
            kiosks,
        }
    }

    /// Everything in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}
