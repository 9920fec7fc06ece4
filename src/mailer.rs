//! Email transport: SMTP through lettre (pooled, with TLS and per-command timeouts), or `.eml`
//! files for the embedded default. The outbox worker is the only caller.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailSettings, MailTransport, SmtpTls};

/// How a send failed, which decides what the outbox does next.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: 4xx replies, refused connections, timeouts, TLS hiccups, a full disk.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot help: 5xx replies, an address that does not parse.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// What the outbox hands over: the stored fields of one message.
pub struct Outgoing<'a> {
    pub message_id: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub ics: Option<&'a str>,
}

#[derive(Clone)]
pub enum Mailer {
    Smtp(Smtp),
    File(PathBuf),
}

/// The pooled transport, replaceable: lettre's async transport bounds only the connect with its
/// timeout, so each send is bounded here, and after a timeout the pool is rebuilt — a connection
/// whose server stopped answering must not be handed to the next send.
#[derive(Clone)]
pub struct Smtp {
    transport: std::sync::Arc<std::sync::RwLock<AsyncSmtpTransport<Tokio1Executor>>>,
    settings: crate::config::SmtpSettings,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::File(p) => write!(f, "Mailer::File({})", p.display()),
        }
    }
}

impl Mailer {
    /// Built once per process and cloned: lettre's connection pool lives inside the transport.
    pub fn from_settings(settings: &EmailSettings) -> Result<Self, SendError> {
        match settings.transport {
            MailTransport::File => Ok(Mailer::File(settings.file_dir.clone())),
            MailTransport::Smtp => {
                let transport = build_smtp(&settings.smtp)?;
                Ok(Mailer::Smtp(Smtp {
                    transport: std::sync::Arc::new(std::sync::RwLock::new(transport)),
                    settings: settings.smtp.clone(),
                }))
            }
        }
    }

    /// Send one message; the answer is the server's reply (or where the file went).
    pub async fn send(&self, from: &Mailbox, out: &Outgoing<'_>) -> Result<String, SendError> {
        let message = build(from, out)?;
        match self {
            Mailer::Smtp(smtp) => {
                let transport = smtp
                    .transport
                    .read()
                    .expect("the transport lock is never poisoned")
                    .clone();
                let limit = Duration::from_millis(smtp.settings.timeout_ms);
                match tokio::time::timeout(limit, transport.send(message)).await {
                    Ok(Ok(resp)) => Ok(format!(
                        "{} {}",
                        resp.code(),
                        resp.message().collect::<Vec<_>>().join(" ")
                    )),
                    Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(error_chain(&e))),
                    Ok(Err(e)) => Err(SendError::Transient(error_chain(&e))),
                    Err(_) => {
                        if let Ok(fresh) = build_smtp(&smtp.settings) {
                            *smtp.transport.write().expect("never poisoned") = fresh;
                        }
                        Err(SendError::Transient(format!(
                            "SMTP server did not answer within {} ms (timeout)",
                            smtp.settings.timeout_ms
                        )))
                    }
                }
            }
            Mailer::File(dir) => write_eml(dir, out.message_id, &message.formatted()).await,
        }
    }
}

fn build_smtp(
    s: &crate::config::SmtpSettings,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let builder = match s.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        SmtpTls::Starttls | SmtpTls::Tls => {
            let params = TlsParameters::new(s.host.clone())
                .map_err(|e| SendError::Permanent(format!("email.smtp.host: {e}")))?;
            let tls = if s.tls == SmtpTls::Tls {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            };
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host).tls(tls)
        }
    };
    let mut builder = builder
        .port(s.port)
        .timeout(Some(Duration::from_millis(s.timeout_ms)))
        .pool_config(PoolConfig::new().max_size(s.pool_max.max(1)));
    if !s.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            s.username.clone(),
            s.password.expose().to_string(),
        ));
    }
    Ok(builder.build())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

/// Multipart: text and HTML alternatives, plus the calendar when there is one.
pub fn build(from: &Mailbox, out: &Outgoing<'_>) -> Result<Message, SendError> {
    let to: Mailbox = out
        .recipient
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient address: {e}")))?;
    let body = MultiPart::alternative_plain_html(out.text.to_string(), out.html.to_string());
    let body = match out.ics {
        None => body,
        Some(ics) => MultiPart::mixed().multipart(body).singlepart(
            Attachment::new("jadwal.ics".to_string()).body(
                ics.to_string(),
                ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                    .expect("a valid content type"),
            ),
        ),
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(out.subject)
        .message_id(Some(out.message_id.to_string()))
        .multipart(body)
        .map_err(|e| SendError::Permanent(format!("building the message: {e}")))
}

/// One file per Message-ID, written to a temporary name and renamed: a retry overwrites the same
/// file instead of adding a second copy, and a reader never sees half a message.
async fn write_eml(
    dir: &std::path::Path,
    message_id: &str,
    bytes: &[u8],
) -> Result<String, SendError> {
    let name: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{name}.eml"));
    let tmp = dir.join(format!(".{name}.eml.tmp"));
    let io = |e: std::io::Error| SendError::Transient(format!("{}: {e}", path.display()));
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(format!("written {}", path.display()))
}
