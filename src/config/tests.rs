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
fn production_refuses_links_the_teams_cannot_open() {
    for bad in [
        "http://127.0.0.1:8080",
        "http://jemput.jemberkab.go.id",
        "https://127.0.0.1",
        "https://localhost:8443/x",
        "https://[::1]/",
        "https://0.0.0.0",
    ] {
        assert!(unreachable_link_base(bad).is_some(), "{bad}");
    }
    assert_eq!(
        unreachable_link_base("https://jemput.jemberkab.go.id"),
        None
    );
    assert_eq!(unreachable_link_base("https://10.20.0.5:8443/jemput"), None);
    let mut s = Settings::from_figment(base()).unwrap();
    s.email.transport = MailTransport::Smtp;
    s.auth.link_secret = Secret::new("a-production-key-of-at-least-32-characters");
    s.clock.fixed = None;
    let err = s.validate_production().unwrap_err().to_string();
    assert!(err.contains("auth.public_base_url"), "{err}");
    s.auth.public_base_url = "https://jemput.jemberkab.go.id".into();
    s.validate_production().unwrap();
}

#[test]
fn a_bad_value_names_its_key() {
    let err = Settings::from_figment(base().merge(Serialized::default("server.port", "eighty")))
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
fn a_lease_shorter_than_an_smtp_command_is_refused() {
    let err = Settings::from_figment(
        base()
            .merge(Serialized::default("outbox.lease_ms", 3000))
            .merge(Serialized::default("email.smtp.timeout_ms", 15000)),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("outbox.lease_ms"), "{err}");
    let err = Settings::from_figment(
        base().merge(Serialized::default("email.smtp.data_timeout_ms", 1000)),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("email.smtp.data_timeout_ms"), "{err}");
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
