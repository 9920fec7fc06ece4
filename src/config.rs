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
    pub log: LogSettings,
    pub import: ImportSettings,
    pub priority: crate::priority::Params,
    pub planner: crate::planner::week::WeekSettings,
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
        Self::from_figment(figment)
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
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "database.max_connections: must be at least 1".into(),
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError(format!("log.level: {e}")))?;
        self.priority.validate().map_err(ConfigError)?;
        self.planner.validate().map_err(ConfigError)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn base() -> Figment {
        Figment::new().merge(Toml::file(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        ))
    }

    #[test]
    fn default_file_documents_a_valid_configuration() {
        let s = Settings::from_figment(base()).unwrap();
        assert_eq!(s.database.url, "sqlite://var/jemput.db");
        assert_eq!(s.server.port, 8080);
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err =
            Settings::from_figment(base().merge(Serialized::default("server.port", "eighty")))
                .unwrap_err()
                .to_string();
        assert!(err.contains("server.port"), "{err}");
        let err =
            Settings::from_figment(base().merge(Serialized::default("database.url", "mysql://x")))
                .unwrap_err()
                .to_string();
        assert!(err.contains("database.url"), "{err}");
        let err = Settings::from_figment(base().merge(Serialized::default("log.format", "xml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("log.format"), "{err}");
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://jemput:s3cret@db:5432/jemput"),
            "postgres://jemput:[REDACTED]@db:5432/jemput"
        );
        assert_eq!(
            redact_url("sqlite://var/jemput.db"),
            "sqlite://var/jemput.db"
        );
    }
}
