//! Layered configuration: `config/default.toml`, then `config/{JEMPUT_ENV}.toml`, then
//! `JEMPUT__SECTION__KEY` environment variables. Every key is documented in `config/default.toml`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// Which deployment the process runs as; selects `config/{name}.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("JEMPUT_ENV").as_deref() {
            Err(_) | Ok("") | Ok("development") => Ok(Self::Development),
            Ok("test") => Ok(Self::Test),
            Ok("production") => Ok(Self::Production),
            Ok(other) => Err(ConfigError(format!(
                "JEMPUT_ENV: unknown environment {other:?} (expected development, test or production)"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub web: WebSettings,
    pub log: LogSettings,
    pub import: ImportSettings,
    pub priority: crate::priority::Params,
    pub planner: crate::planner::week::WeekSettings,
    pub email: EmailSettings,
    pub outbox: OutboxSettings,
    pub weekly: WeeklySettings,
    pub auth: AuthSettings,
    pub visit_logs: VisitLogSettings,
    pub notices: NoticeSettings,
    #[serde(default)]
    pub clock: ClockSettings,
}

/// Notices to the places a published plan visits (`[notices]` in config/default.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeSettings {
    /// Send each site with a contact email a notice of its visit.
    pub enabled: bool,
    /// The notice goes out this many working days before the visit's first day (at once when
    /// that moment has passed; then it says it is short and the site is listed for a call).
    pub lead_days: u32,
    /// Local time the notice goes out on its day (HH:MM).
    pub send_time: String,
}

/// `fixed`: an RFC 3339 instant every calendar decision uses instead of the system clock (tests,
/// demonstrations of a given week); refused in production.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSettings {
    pub fixed: Option<chrono::DateTime<chrono::Utc>>,
}

impl Settings {
    /// The clock for calendar decisions (see `crate::clock`).
    pub fn clock(&self) -> crate::clock::SharedClock {
        crate::clock::from_fixed(self.clock.fixed)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// A bearer token stops working this long after login.
    pub session_ttl_hours: i64,
    /// Signs the per-visit links in the weekly emails (HMAC-SHA256); at least 32 characters.
    pub link_secret: Secret,
    /// A visit's link works until this many days after the visit.
    pub link_valid_days: i64,
    /// Where the links in the emails point (scheme, host and port jemput is reached at).
    pub public_base_url: String,
    /// Login attempts per client address and per username: `login_burst` at once, then one more
    /// every `login_replenish_ms`.
    pub login_burst: u32,
    pub login_replenish_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitLogSettings {
    /// Flag a check-in farther than this from the site (metres).
    pub far_check_in_m: f64,
    /// Flag a log written this long after the visit's day ended (hours).
    pub late_hours: i64,
    /// Flag counts needing more kit-minutes than the logged time × kits × this factor.
    pub capacity_tolerance: f64,
    /// A retried POST with the same Idempotency-Key replays the first answer this long (hours).
    pub idempotency_ttl_hours: i64,
}

/// Why links under `base` would not open on a field team's phone, if they would not: not HTTPS
/// (browsers give "Ambil lokasi" only to secure pages) or a loopback/unspecified host.
pub fn unreachable_link_base(base: &str) -> Option<String> {
    let Some(rest) = base.trim().strip_prefix("https://") else {
        return Some(format!("{base:?} is not an https:// address"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    let local = host.is_empty()
        || host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    local.then(|| format!("{base:?} points at this machine, not at an address the teams can reach"))
}

/// The development link key in config/default.toml: fine on a laptop, refused in production.
pub const DEV_LINK_SECRET: &str = "dev-only-link-secret-change-me-0123456789";

/// A value that must never appear in logs or `Debug` output (passwords, keys).
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// `.eml` files under `email.file_dir` (the embedded default; refused in production).
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// STARTTLS required (port 587); a server that cannot upgrade is an error, never plaintext.
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
    /// Plaintext: only for a relay on localhost or tests; refused in production.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub transport: MailTransport,
    pub file_dir: PathBuf,
    /// `From:` of every message, e.g. `Disdukcapil jemput <jadwal@example.go.id>`.
    pub from: String,
    /// The part after `@` of every Message-ID and iCalendar UID.
    pub message_id_domain: String,
    /// Per kabupaten/kota: the coordinator the teams' replies go to (Reply-To) and whom the
    /// schedule's signature names.
    #[serde(default)]
    pub contacts: std::collections::BTreeMap<String, ContactSettings>,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ContactSettings {
    pub name: String,
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: Secret,
    /// The connect and each command before the message data.
    pub timeout_ms: u64,
    /// Writing the message data and waiting for the reply to its final "." (RFC 5321: 10 min).
    pub data_timeout_ms: u64,
    pub pool_max: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// Messages one worker sends at the same time (over pooled SMTP connections).
    pub concurrency: usize,
    pub poll_ms: u64,
    pub lease_ms: u64,
    pub max_attempts: i32,
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklySettings {
    /// Local day (`mon`..`sun`) and time (`HH:MM`) in each region's time zone.
    pub day: String,
    pub time: String,
    pub check_interval_ms: u64,
    /// Per-region overrides: `{ "64.72" = { day = "thu", time = "15:00" } }`.
    #[serde(default)]
    pub regions: std::collections::BTreeMap<String, WeeklyRegion>,
    /// Who gets the reminder when next week's plan is not approved: region code -> addresses.
    #[serde(default)]
    pub coordinators: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyRegion {
    pub day: Option<String>,
    pub time: Option<String>,
}

impl WeeklySettings {
    /// The trigger's local weekday and time for a region.
    pub fn for_region(
        &self,
        region: &str,
    ) -> Result<(chrono::Weekday, chrono::NaiveTime), ConfigError> {
        let o = self.regions.get(region);
        let day = o.and_then(|o| o.day.as_deref()).unwrap_or(&self.day);
        let time = o.and_then(|o| o.time.as_deref()).unwrap_or(&self.time);
        let day: chrono::Weekday = day
            .parse()
            .map_err(|_| ConfigError(format!("weekly.day: {day:?} is not a weekday (mon..sun)")))?;
        let time = chrono::NaiveTime::parse_from_str(time, "%H:%M")
            .map_err(|_| ConfigError(format!("weekly.time: {time:?} is not HH:MM")))?;
        Ok((day, time))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
    pub sqlite_busy_timeout_ms: u64,
    pub sqlite_synchronous: SqliteSynchronous,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Normal,
    Full,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: std::net::IpAddr,
    pub port: u16,
    pub max_body_bytes: u64,
    /// Reverse proxies (CIDRs) whose `X-Forwarded-For` names the client; empty = none.
    #[serde(default)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Heavy work (rankings not yet cached, plan searches) runs one job per core; this many more
    /// may wait, each at most `heavy_wait_s`; beyond that a request gets 503 + Retry-After at once.
    pub heavy_queue: usize,
    pub heavy_wait_s: u64,
}

/// The console's pages (`/app/…`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Map tiles (`{z}/{x}/{y}`); empty: none.
    pub tile_url: String,
    pub tile_attribution: String,
    /// The session cookie is `Secure`.
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSettings {
    pub progress_min_rows: usize,
}

/// A configuration problem; the message always names the offending key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// The kind of database a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DatabaseSettings {
    pub fn backend(&self) -> Result<Backend, ConfigError> {
        backend_of(&self.url)
    }
}

pub fn backend_of(url: &str) -> Result<Backend, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        // Refuse rather than guess: a typo must not silently create a new empty database file.
        Err(ConfigError(format!(
            "database.url: unsupported URL {:?} (expected sqlite://PATH or postgres://...)",
            redact_url(url)
        )))
    }
}

/// Hide a password in a database URL before it is shown in an error or a log line.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:[REDACTED]{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Settings {
    /// Load from the config directory (`JEMPUT_CONFIG_DIR`, default `./config`), the
    /// environment-specific file and `JEMPUT__*` variables.
    pub fn load() -> Result<Self, ConfigError> {
        let dir = std::env::var_os("JEMPUT_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        Self::load_from(&dir, Environment::from_env()?)
    }

    pub fn load_from(dir: &Path, env: Environment) -> Result<Self, ConfigError> {
        let default = dir.join("default.toml");
        if !default.is_file() {
            return Err(ConfigError(format!(
                "{} not found (run jemput from the project directory or set JEMPUT_CONFIG_DIR)",
                default.display()
            )));
        }
        let figment = Figment::new()
            .merge(Toml::file(default))
            .merge(Toml::file(dir.join(format!("{}.toml", env.name()))))
            .merge(Env::prefixed("JEMPUT__").split("__").lowercase(true));
        let settings = Self::from_figment(figment)?;
        if env == Environment::Production {
            settings.validate_production()?;
        }
        Ok(settings)
    }

    /// Production sends real mail, encrypted: no `.eml` files, no plaintext SMTP.
    pub fn validate_production(&self) -> Result<(), ConfigError> {
        if self.email.transport == MailTransport::File {
            return Err(ConfigError(
                "email.transport: \"file\" writes .eml files instead of sending; production needs \"smtp\"".into(),
            ));
        }
        if self.auth.link_secret.expose() == DEV_LINK_SECRET {
            return Err(ConfigError(
                "auth.link_secret: the development key cannot sign links in production (set JEMPUT__AUTH__LINK_SECRET)".into(),
            ));
        }
        if self.clock.fixed.is_some() {
            return Err(ConfigError(
                "clock.fixed: a fixed clock is for tests and demonstrations; production runs on the system clock".into(),
            ));
        }
        if self.email.smtp.tls == SmtpTls::None {
            return Err(ConfigError(
                "email.smtp.tls: plaintext SMTP is refused in production (use starttls or tls)"
                    .into(),
            ));
        }
        if let Some(why) = unreachable_link_base(&self.auth.public_base_url) {
            return Err(ConfigError(format!(
                "auth.public_base_url: {why}; the links in the teams' emails must open on their phones (set JEMPUT__AUTH__PUBLIC_BASE_URL)"
            )));
        }
        Ok(())
    }

    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(|errors| {
            // Name every offending key the way config/default.toml spells it ("server.port"),
            // whether it came from a file or from JEMPUT__SERVER__PORT.
            let messages: Vec<String> = errors
                .into_iter()
                .map(|e| {
                    let key = e.path.join(".").to_lowercase();
                    let source = e
                        .metadata
                        .as_ref()
                        .map(|m| m.name.to_string())
                        .unwrap_or_default();
                    format!("{key}: {} ({source})", e.kind)
                })
                .collect();
            ConfigError(messages.join("; "))
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.database.backend()?;
        if self.auth.link_secret.expose().len() < 32 {
            return Err(ConfigError(
                "auth.link_secret: at least 32 characters are needed to sign visit links".into(),
            ));
        }
        if self.auth.login_burst == 0 || self.auth.login_replenish_ms == 0 {
            return Err(ConfigError(
                "auth.login_burst and auth.login_replenish_ms must be positive".into(),
            ));
        }
        if self.auth.session_ttl_hours <= 0 {
            return Err(ConfigError(
                "auth.session_ttl_hours must be positive".into(),
            ));
        }
        if self.outbox.lease_ms < 1000 || self.outbox.lease_ms <= self.email.smtp.timeout_ms {
            return Err(ConfigError(format!(
                "outbox.lease_ms: {} ms is too short: a claimed message must stay with its worker longer than one SMTP command may take (email.smtp.timeout_ms = {} ms), and at least 1000 ms; the worker renews the lease every third of it while a send lasts",
                self.outbox.lease_ms, self.email.smtp.timeout_ms
            )));
        }
        if self.email.smtp.data_timeout_ms < self.email.smtp.timeout_ms {
            return Err(ConfigError(
                "email.smtp.data_timeout_ms: must be at least email.smtp.timeout_ms (RFC 5321 allows a relay 10 minutes to accept a message)".into(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "database.max_connections: must be at least 1".into(),
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError(format!("log.level: {e}")))?;
        self.priority.validate().map_err(ConfigError)?;
        self.planner.validate().map_err(ConfigError)?;
        self.email
            .from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| ConfigError(format!("email.from: {e}")))?;
        if self.email.message_id_domain.is_empty()
            || self.email.message_id_domain.contains(['@', '<', '>', ' '])
        {
            return Err(ConfigError(
                "email.message_id_domain: a bare domain, e.g. jemput.example.go.id".into(),
            ));
        }
        if self.email.transport == MailTransport::Smtp && self.email.smtp.host.is_empty() {
            return Err(ConfigError(
                "email.smtp.host: required when email.transport = \"smtp\"".into(),
            ));
        }
        if self.outbox.concurrency == 0 || self.outbox.max_attempts < 1 || self.outbox.poll_ms == 0
        {
            return Err(ConfigError(
                "outbox: concurrency, max_attempts and poll_ms must be at least 1".into(),
            ));
        }
        if self.outbox.backoff_cap_ms < self.outbox.backoff_base_ms {
            return Err(ConfigError(
                "outbox.backoff_cap_ms: must be at least backoff_base_ms".into(),
            ));
        }
        chrono::NaiveTime::parse_from_str(&self.notices.send_time, "%H:%M").map_err(|_| {
            ConfigError("notices.send_time: a local time as HH:MM, e.g. \"07:00\"".into())
        })?;
        self.weekly.for_region("")?;
        for region in self.weekly.regions.keys() {
            self.weekly
                .for_region(region)
                .map_err(|e| ConfigError(format!("weekly.regions.{region}: {}", e.0)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
