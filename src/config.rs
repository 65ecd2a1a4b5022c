//! Settings, read once from the environment and an optional TOML file; passed explicitly.
//!
//! Every setting has a default, so `kepuasan serve` needs nothing. `KEPUASAN_CONFIG` names a TOML
//! file whose keys are the lower-case setting names without the prefix (`bind`,
//! `database_url`, `survey_defs`, `secret`, `public_url`, `token_days`); the environment wins
//! over the file.

use std::path::PathBuf;

use serde::Deserialize;

/// The process's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `DATABASE_URL`: a SQLite path or `sqlite://` URL, or a `postgres://` URL.
    pub database_url: String,
    /// `DATABASE_READ_URL`: a PostgreSQL streaming replica of `database_url` that reports,
    /// exports, public pages and the dashboard read from; shown with its password redacted.
    pub database_read_url: Option<String>,
    /// `KEPUASAN_BIND`: the address the server listens on.
    pub bind: String,
    /// `KEPUASAN_SURVEY_DEFS`: a directory of instrument files that add to or override the
    /// built-in ones.
    pub survey_defs: Option<PathBuf>,
    /// `KEPUASAN_SECRET`: the master secret units' offline signing secrets derive from; offline
    /// receipt tokens are refused without it. Never logged.
    pub secret: Option<String>,
    /// `KEPUASAN_PUBLIC_URL`: the address respondents reach, for survey links and QR codes;
    /// default `http://` and the bind address.
    pub public_url: String,
    /// Whether `public_url` was configured rather than made from the bind address: commands
    /// that print or draw addresses for phones refuse without it.
    pub public_url_configured: bool,
    /// `KEPUASAN_TOKEN_DAYS`: how many days a receipt token stays valid (default 14).
    pub token_days: u32,
    /// Abuse-control thresholds (flag, never drop).
    pub flags: crate::quality::FlagRules,
    /// `KEPUASAN_GROUP_COMMIT` (`on` by default): concurrent submissions share one durable
    /// transaction; `off` commits each on its own.
    pub group_commit: bool,
    /// `KEPUASAN_DIRECTORY_SECONDS` (default 2): how long keys, units and services read for
    /// submissions are kept in memory; a change through another instance or the command line
    /// takes effect within it. 0 reads them every time.
    pub directory_seconds: u32,
    /// `KEPUASAN_HEAVY_LIMIT` (default: the number of cores): how many heavy requests (imports,
    /// exports, reports over more than a year) run at once; the rest wait.
    pub heavy_limit: u32,
    /// `KEPUASAN_HEAVY_WAIT_SECONDS` (default 20): how long a heavy request waits for its turn
    /// before it is answered 503 with `Retry-After`.
    pub heavy_wait_seconds: u32,
    /// `KEPUASAN_ANONYMOUS_PER_MINUTE` (default 30): open-link and receipt submissions one
    /// client address may send a minute before it is answered 429.
    pub anonymous_per_minute: u32,
    /// `KEPUASAN_FLAG_KEY_PER_MINUTE` (default 60): submissions one kiosk key may send a minute,
    /// whatever device ids they carry, before the rest are flagged `rate`.
    pub key_per_minute: u32,
    /// `KEPUASAN_TRUST_PROXY` (`off` by default): the reverse proxies whose `X-Forwarded-For`
    /// is believed, as comma-separated addresses or CIDRs (`on` means loopback, a proxy on the
    /// same machine). A request from one of them has the client's address taken from the
    /// header's last entry, which the proxy appends; from any other peer the header is ignored.
    pub trust_proxy: Vec<ipnet::IpNet>,
    /// `KEPUASAN_REQUIRE_TOTP` (`off` by default): an administrator must set up two-step
    /// sign-in (TOTP) before their session may do anything else.
    pub require_totp: bool,
    /// `KEPUASAN_SMTP_URL`: the mail server e-mail summaries go through, such as
    /// `smtps://user:password@mail.example.go.id` or `smtp://127.0.0.1:25`; without it no
    /// e-mail is sent. Never logged.
    pub smtp_url: Option<String>,
    /// `KEPUASAN_SMTP_FROM` (default `kepuasan@localhost`): the sender of e-mail summaries.
    pub smtp_from: String,
    /// `KEPUASAN_WEBHOOK_ALLOW` (empty by default): receivers inside private or local networks
    /// that webhooks may post to all the same, as comma-separated host names and CIDRs.
    pub webhook_allow: crate::domain::destinations::Allow,
    /// `KEPUASAN_SETTLE_MS` (default 600, at most 3000): after each screen change of the kiosk
    /// and the phone survey, how long taps are ignored, so that a second tap (a double tap, a
    /// slow tap of an unsteady hand) never answers a screen the respondent has not seen.
    pub settle_ms: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            database_url: Self::DEFAULT_DATABASE_URL.to_owned(),
            bind: Self::DEFAULT_BIND.to_owned(),
            survey_defs: None,
            secret: None,
            public_url: format!("http://{}", Self::DEFAULT_BIND),
            public_url_configured: false,
            token_days: crate::tokens::DEFAULT_VALID_DAYS,
            flags: crate::quality::FlagRules::default(),
            group_commit: true,
            directory_seconds: Self::DEFAULT_DIRECTORY_SECONDS,
            heavy_limit: Self::default_heavy_limit(),
            heavy_wait_seconds: Self::DEFAULT_HEAVY_WAIT_SECONDS,
            anonymous_per_minute: Self::DEFAULT_ANONYMOUS_PER_MINUTE,
            key_per_minute: Self::DEFAULT_KEY_PER_MINUTE,
            trust_proxy: Vec::new(),
            require_totp: false,
            smtp_url: None,
            database_read_url: None,
            smtp_from: Self::DEFAULT_SMTP_FROM.to_owned(),
            webhook_allow: Default::default(),
            settle_ms: Self::DEFAULT_SETTLE_MS,
        }
    }
}

/// `trust_proxy` in the file: `true`/`false`, or the proxies' addresses as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ProxySetting {
    Switch(bool),
    List(String),
}

/// The proxies of `KEPUASAN_TRUST_PROXY`: `on` is loopback, `off` none, otherwise
/// comma-separated addresses and CIDRs.
fn trusted_proxies(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    match text.trim() {
        "on" | "true" | "1" => Ok(vec![
            "127.0.0.0/8".parse().expect("a CIDR"),
            "::1/128".parse().expect("a CIDR"),
        ]),
        "off" | "false" | "0" | "" => Ok(Vec::new()),
        list => list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<ipnet::IpNet>()
                    .or_else(|_| e.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!("KEPUASAN_TRUST_PROXY: `{e}` is not on, off, an address or a CIDR")
                    })
            })
            .collect(),
    }
}

/// The file form of the settings; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    database_read_url: Option<String>,
    bind: Option<String>,
    survey_defs: Option<PathBuf>,
    secret: Option<String>,
    public_url: Option<String>,
    token_days: Option<u32>,
    flag_min_seconds: Option<u32>,
    flag_per_minute: Option<u32>,
    group_commit: Option<bool>,
    directory_seconds: Option<u32>,
    heavy_limit: Option<u32>,
    heavy_wait_seconds: Option<u32>,
    anonymous_per_minute: Option<u32>,
    flag_key_per_minute: Option<u32>,
    trust_proxy: Option<ProxySetting>,
    require_totp: Option<bool>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    webhook_allow: Option<String>,
    settle_ms: Option<u32>,
}

impl Settings {
    /// What receipt-token checks need.
    pub fn token_settings(&self) -> crate::tokens::TokenSettings {
        crate::tokens::TokenSettings {
            master: self.secret.clone(),
            valid_days: self.token_days,
        }
    }

    /// Who issues server receipt tokens with these settings.
    pub fn issuer<'a>(
        &'a self,
        key_id: Option<&'a str>,
        now: chrono::NaiveDateTime,
    ) -> crate::tokens::Issuer<'a> {
        crate::tokens::Issuer {
            key_id,
            now,
            valid_days: self.token_days,
            public_url: &self.public_url,
        }
    }

    /// Default sender of e-mail summaries.
    pub const DEFAULT_SMTP_FROM: &'static str = "kepuasan@localhost";
    /// Default database: a SQLite file in the working directory.
    pub const DEFAULT_DATABASE_URL: &'static str = "kepuasan.db";
    /// Default listening address.
    pub const DEFAULT_BIND: &'static str = "127.0.0.1:8080";
    /// Default seconds the directory of keys, units and services is kept in memory.
    pub const DEFAULT_DIRECTORY_SECONDS: u32 = 2;

    /// Default seconds a heavy request waits for its turn.
    pub const DEFAULT_HEAVY_WAIT_SECONDS: u32 = 20;
    /// Default anonymous submissions a client address may send a minute.
    pub const DEFAULT_ANONYMOUS_PER_MINUTE: u32 = 30;
    /// Default submissions a kiosk key may send a minute before they are flagged.
    pub const DEFAULT_KEY_PER_MINUTE: u32 = 60;
    /// Default pause for taps after a respondent screen changes (milliseconds).
    pub const DEFAULT_SETTLE_MS: u32 = 600;

    /// Default heavy requests at once: the number of cores.
    pub fn default_heavy_limit() -> u32 {
        std::thread::available_parallelism().map_or(2, |n| u32::try_from(n.get()).unwrap_or(2))
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Settings, String> {
        Settings::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads the settings through a variable lookup (the environment, or a map in tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let file = match var("KEPUASAN_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("KEPUASAN_CONFIG: cannot read {path}: {e}"))?;
                toml::from_str::<FileSettings>(&text)
                    .map_err(|e| format!("KEPUASAN_CONFIG: {path}: {}", e.message()))?
            }
            None => FileSettings::default(),
        };
        let bind = var("KEPUASAN_BIND")
            .or(file.bind)
            .unwrap_or_else(|| Self::DEFAULT_BIND.to_owned());
        let token_days = match var("KEPUASAN_TOKEN_DAYS") {
            Some(text) => text.parse().map_err(|_| {
                format!("KEPUASAN_TOKEN_DAYS: `{text}` is not a whole number of days")
            })?,
            None => file.token_days.unwrap_or(crate::tokens::DEFAULT_VALID_DAYS),
        };
        if token_days == 0 {
            return Err("KEPUASAN_TOKEN_DAYS: must be at least 1".to_owned());
        }
        let number = |name: &str, file_value: Option<u32>, default: u32| -> Result<u32, String> {
            match var(name) {
                Some(text) => text
                    .parse()
                    .map_err(|_| format!("{name}: `{text}` is not a whole number")),
                None => Ok(file_value.unwrap_or(default)),
            }
        };
        let defaults = crate::quality::FlagRules::default();
        let flags = crate::quality::FlagRules {
            min_seconds: number(
                "KEPUASAN_FLAG_MIN_SECONDS",
                file.flag_min_seconds,
                defaults.min_seconds,
            )?,
            per_minute: number(
                "KEPUASAN_FLAG_PER_MINUTE",
                file.flag_per_minute,
                defaults.per_minute,
            )?,
        };
        let switch =
            |name: &str, file_value: Option<bool>, default: bool| -> Result<bool, String> {
                match var(name).as_deref() {
                    None => Ok(file_value.unwrap_or(default)),
                    Some("on" | "true" | "1") => Ok(true),
                    Some("off" | "false" | "0") => Ok(false),
                    Some(other) => Err(format!("{name}: `{other}` is not on or off")),
                }
            };
        let trust_proxy = match var("KEPUASAN_TRUST_PROXY") {
            Some(text) => trusted_proxies(&text)?,
            None => match file.trust_proxy {
                Some(ProxySetting::Switch(on)) => trusted_proxies(if on { "on" } else { "off" })?,
                Some(ProxySetting::List(text)) => trusted_proxies(&text)?,
                None => Vec::new(),
            },
        };
        let require_totp = switch("KEPUASAN_REQUIRE_TOTP", file.require_totp, false)?;
        let key_per_minute = number(
            "KEPUASAN_FLAG_KEY_PER_MINUTE",
            file.flag_key_per_minute,
            Self::DEFAULT_KEY_PER_MINUTE,
        )?;
        let group_commit = switch("KEPUASAN_GROUP_COMMIT", file.group_commit, true)?;
        let directory_seconds = number(
            "KEPUASAN_DIRECTORY_SECONDS",
            file.directory_seconds,
            Self::DEFAULT_DIRECTORY_SECONDS,
        )?;
        let heavy_limit = number(
            "KEPUASAN_HEAVY_LIMIT",
            file.heavy_limit,
            Self::default_heavy_limit(),
        )?;
        if heavy_limit == 0 {
            return Err("KEPUASAN_HEAVY_LIMIT: must be at least 1".to_owned());
        }
        let heavy_wait_seconds = number(
            "KEPUASAN_HEAVY_WAIT_SECONDS",
            file.heavy_wait_seconds,
            Self::DEFAULT_HEAVY_WAIT_SECONDS,
        )?;
        let anonymous_per_minute = number(
            "KEPUASAN_ANONYMOUS_PER_MINUTE",
            file.anonymous_per_minute,
            Self::DEFAULT_ANONYMOUS_PER_MINUTE,
        )?;
        let webhook_allow = crate::domain::destinations::Allow::parse(
            &var("KEPUASAN_WEBHOOK_ALLOW")
                .or(file.webhook_allow)
                .unwrap_or_default(),
        )?;
        let settle_ms = number(
            "KEPUASAN_SETTLE_MS",
            file.settle_ms,
            Self::DEFAULT_SETTLE_MS,
        )?;
        if settle_ms > 3000 {
            return Err("KEPUASAN_SETTLE_MS: must be at most 3000 (three seconds)".to_owned());
        }
        Ok(Settings {
            settle_ms,
            webhook_allow,
            key_per_minute,
            trust_proxy,
            require_totp,
            heavy_limit,
            heavy_wait_seconds,
            anonymous_per_minute,
            group_commit,
            directory_seconds,
            flags,
            database_url: var("DATABASE_URL")
                .or(file.database_url)
                .unwrap_or_else(|| Self::DEFAULT_DATABASE_URL.to_owned()),
            public_url_configured: var("KEPUASAN_PUBLIC_URL").is_some()
                || file.public_url.is_some(),
            public_url: var("KEPUASAN_PUBLIC_URL")
                .or(file.public_url)
                .unwrap_or_else(|| format!("http://{bind}")),
            bind,
            survey_defs: var("KEPUASAN_SURVEY_DEFS")
                .map(PathBuf::from)
                .or(file.survey_defs),
            secret: var("KEPUASAN_SECRET").or(file.secret),
            smtp_url: var("KEPUASAN_SMTP_URL").or(file.smtp_url),
            database_read_url: var("DATABASE_READ_URL").or(file.database_read_url),
            smtp_from: var("KEPUASAN_SMTP_FROM")
                .or(file.smtp_from)
                .unwrap_or_else(|| Self::DEFAULT_SMTP_FROM.to_owned()),
            token_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_nothing() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            (s.database_url.as_str(), s.bind.as_str()),
            ("kepuasan.db", "127.0.0.1:8080")
        );
        assert_eq!(s.survey_defs, None);
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\nsurvey_defs = \"/srv/defs\"\n",
        )
        .unwrap();
        let path = path.to_str().unwrap();
        let s = settings(&[
            ("KEPUASAN_CONFIG", path),
            ("KEPUASAN_BIND", "127.0.0.1:9100"),
        ])
        .unwrap();
        assert_eq!(s.bind, "127.0.0.1:9100");
        assert_eq!(s.survey_defs, Some(PathBuf::from("/srv/defs")));
    }

    #[test]
    fn the_directory_time_defaults_to_two_seconds_and_must_be_a_number() {
        assert_eq!(settings(&[]).unwrap().directory_seconds, 2);
        let off = settings(&[("KEPUASAN_DIRECTORY_SECONDS", "0")]).unwrap();
        assert_eq!(off.directory_seconds, 0);
        let e = settings(&[("KEPUASAN_DIRECTORY_SECONDS", "soon")]).unwrap_err();
        assert!(e.contains("KEPUASAN_DIRECTORY_SECONDS"), "{e}");
    }

    #[test]
    fn mail_goes_through_the_smtp_server_named_and_from_its_sender() {
        let none = settings(&[]).unwrap();
        assert_eq!(none.smtp_url, None);
        assert_eq!(none.smtp_from, "kepuasan@localhost");
        let set = settings(&[
            (
                "KEPUASAN_SMTP_URL",
                "smtps://skm:rahasia@mail.example.go.id",
            ),
            ("KEPUASAN_SMTP_FROM", "skm@example.go.id"),
        ])
        .unwrap();
        assert_eq!(
            set.smtp_url.as_deref(),
            Some("smtps://skm:rahasia@mail.example.go.id")
        );
        assert_eq!(set.smtp_from, "skm@example.go.id");
    }

    #[test]
    fn a_bad_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(&path, "bnd = 1\n").unwrap();
        let e = settings(&[("KEPUASAN_CONFIG", path.to_str().unwrap())]).unwrap_err();
        assert!(e.contains("KEPUASAN_CONFIG") && e.contains("bnd"), "{e}");
    }
}
