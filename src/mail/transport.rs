//! Email transport: SMTP over lettre's connection (kept open between messages, TLS, a deadline
//! per phase of the conversation), or `.eml` files for the embedded default. The outbox worker is the only caller.

use std::path::PathBuf;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use lettre::Message;
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, MailBodyParameter, MailParameter};

use crate::config::{EmailSettings, MailTransport, SmtpTls};

/// How a send failed, which decides what the outbox does next.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth retrying, and nothing was delivered: 4xx replies, refused connections, a timeout
    /// before the message data was sent, TLS hiccups, a full disk.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot help: 5xx replies, an address that does not parse.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The message data was sent but no reply to its final "." came (a timeout or a dropped
    /// connection): the relay may or may not have it. Retried like a transient failure, within
    /// the same `max_attempts`, so the deliveries of one message stay bounded.
    #[error("unknown outcome: {0}")]
    Unknown(String),
}

/// What the outbox hands over: the stored fields of one message.
pub struct Outgoing<'a> {
    pub message_id: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub ics: Option<&'a str>,
    /// Where replies go: the region's coordinator.
    pub reply_to: Option<&'a Mailbox>,
}

#[derive(Clone)]
pub enum Mailer {
    Smtp(Smtp),
    File(PathBuf),
}

/// SMTP over lettre's connection type, with the conversation driven here so that each phase has
/// its own deadline (lettre's pooled transport bounds only the connect): the connect and every
/// command before the message data use `timeout_ms` (a timeout there delivered nothing and is
/// transient); writing the data and waiting for the reply to its final "." use
/// `data_timeout_ms`, 10 minutes by default as RFC 5321 §4.5.3.2.6 asks, because a timeout there
/// is an unknown outcome. Idle connections are kept (up to `pool_max`) and reused; a connection
/// that saw any error or timeout is closed, never reused.
#[derive(Clone)]
pub struct Smtp {
    idle: Arc<Mutex<Vec<AsyncSmtpConnection>>>,
    settings: crate::config::SmtpSettings,
    hello: ClientId,
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
    /// Built once per process and cloned: the idle connections are shared by the clones.
    pub fn from_settings(settings: &EmailSettings) -> Result<Self, SendError> {
        match settings.transport {
            MailTransport::File => Ok(Mailer::File(settings.file_dir.clone())),
            MailTransport::Smtp => {
                if settings.smtp.tls != SmtpTls::None {
                    tls_parameters(&settings.smtp)?;
                }
                Ok(Mailer::Smtp(Smtp {
                    idle: Arc::new(Mutex::new(Vec::new())),
                    settings: settings.smtp.clone(),
                    hello: ClientId::default(),
                }))
            }
        }
    }

    /// Send one message; the answer is the server's reply (or where the file went).
    pub async fn send(&self, from: &Mailbox, out: &Outgoing<'_>) -> Result<String, SendError> {
        let message = build(from, out)?;
        match self {
            Mailer::Smtp(smtp) => smtp.send(&message).await,
            Mailer::File(dir) => write_eml(dir, out.message_id, &message.formatted()).await,
        }
    }
}

fn tls_parameters(s: &crate::config::SmtpSettings) -> Result<TlsParameters, SendError> {
    TlsParameters::new(s.host.clone())
        .map_err(|e| SendError::Permanent(format!("email.smtp.host: {e}")))
}

/// Before the data, every failure is known: permanent for 5xx, transient otherwise.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(error_chain(e))
    } else {
        SendError::Transient(error_chain(e))
    }
}

impl Smtp {
    fn command_timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    fn timed_out(&self, what: &str) -> SendError {
        SendError::Transient(format!(
            "SMTP server did not answer {what} within {} ms (timeout)",
            self.settings.timeout_ms
        ))
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let s = &self.settings;
        let limit = self.command_timeout();
        let conversation = async {
            let wrapper = match s.tls {
                SmtpTls::Tls => Some(tls_parameters(s)?),
                _ => None,
            };
            let mut conn = AsyncSmtpConnection::connect_tokio1(
                (s.host.as_str(), s.port),
                Some(limit),
                &self.hello,
                wrapper,
                None,
            )
            .await
            .map_err(|e| classify(&e))?;
            if s.tls == SmtpTls::Starttls {
                if !conn.can_starttls() {
                    return Err(SendError::Transient(
                        "the SMTP server does not offer STARTTLS (email.smtp.tls = \"starttls\")"
                            .into(),
                    ));
                }
                conn.starttls(tls_parameters(s)?, &self.hello)
                    .await
                    .map_err(|e| classify(&e))?;
            }
            if !s.username.is_empty() {
                let credentials =
                    Credentials::new(s.username.clone(), s.password.expose().to_string());
                conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                    .await
                    .map_err(|e| classify(&e))?;
            }
            Ok(conn)
        };
        tokio::time::timeout(limit, conversation)
            .await
            .map_err(|_| self.timed_out("the greeting"))?
    }

    /// MAIL, RCPT and DATA, each within the command timeout.
    async fn envelope(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        body: &[u8],
    ) -> Result<(), SendError> {
        let mut options = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            options.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let limit = self.command_timeout();
        tokio::time::timeout(
            limit,
            conn.command(Mail::new(envelope.from().cloned(), options)),
        )
        .await
        .map_err(|_| self.timed_out("MAIL FROM"))?
        .map_err(|e| classify(&e))?;
        for to in envelope.to() {
            tokio::time::timeout(limit, conn.command(Rcpt::new(to.clone(), vec![])))
                .await
                .map_err(|_| self.timed_out("RCPT TO"))?
                .map_err(|e| classify(&e))?;
        }
        tokio::time::timeout(limit, conn.command(Data))
            .await
            .map_err(|_| self.timed_out("DATA"))?
            .map_err(|e| classify(&e))?;
        Ok(())
    }

    async fn send(&self, message: &Message) -> Result<String, SendError> {
        let envelope = message.envelope().clone();
        let body = message.formatted();
        let pooled = self.idle.lock().expect("never poisoned").pop();
        let mut conn = match pooled {
            Some(mut conn) => match self.envelope(&mut conn, &envelope, &body).await {
                Ok(()) => conn,
                // A kept connection the server closed while it was idle: nothing was sent, so a
                // fresh connection is tried at once.
                Err(SendError::Transient(_)) => {
                    close(conn).await;
                    self.fresh(&envelope, &body).await?
                }
                Err(e) => {
                    close(conn).await;
                    return Err(e);
                }
            },
            None => self.fresh(&envelope, &body).await?,
        };
        let limit = Duration::from_millis(self.settings.data_timeout_ms);
        match tokio::time::timeout(limit, conn.message(&body)).await {
            Ok(Ok(resp)) => {
                {
                    let mut idle = self.idle.lock().expect("never poisoned");
                    if idle.len() < self.settings.pool_max.max(1) as usize {
                        idle.push(conn);
                    }
                }
                Ok(format!(
                    "{} {}",
                    resp.code(),
                    resp.message().collect::<Vec<_>>().join(" ")
                ))
            }
            Ok(Err(e)) if e.is_transient() || e.is_permanent() => {
                close(conn).await;
                Err(classify(&e))
            }
            Ok(Err(e)) => {
                drop(conn);
                Err(SendError::Unknown(format!(
                    "the connection failed after the message data was sent: {}",
                    error_chain(&e)
                )))
            }
            Err(_) => {
                // A server that stopped answering gets no QUIT: the connection is just dropped.
                drop(conn);
                Err(SendError::Unknown(format!(
                    "no reply to the end of the message data within {} ms (timeout)",
                    self.settings.data_timeout_ms
                )))
            }
        }
    }

    async fn fresh(
        &self,
        envelope: &Envelope,
        body: &[u8],
    ) -> Result<AsyncSmtpConnection, SendError> {
        let mut conn = self.connect().await?;
        match self.envelope(&mut conn, envelope, body).await {
            Ok(()) => Ok(conn),
            Err(e) => {
                close(conn).await;
                Err(e)
            }
        }
    }
}

/// QUIT and close, without waiting long for a server that stopped answering.
async fn close(mut conn: AsyncSmtpConnection) {
    let _ = tokio::time::timeout(Duration::from_millis(500), conn.abort()).await;
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
    let mut builder = Message::builder().from(from.clone()).to(to);
    if let Some(r) = out.reply_to {
        builder = builder.reply_to(r.clone());
    }
    builder
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

#[cfg(test)]
mod tests {
    use crate::email::tests::{fixture, has_digit_run, regex_free_redact, stamp};
    use crate::email::{Lang, render_schedule};

    #[test]
    fn the_whole_message_with_volatile_headers_redacted() {
        let r = render_schedule(&fixture(), Lang::Id, stamp());
        let from: lettre::message::Mailbox = "Disdukcapil jemput <jadwal@jemput.invalid>"
            .parse()
            .unwrap();
        let reply_to: lettre::message::Mailbox =
            "Koordinator jemput bola Jember <koordinator.jember@dispendukcapil.example.org>"
                .parse()
                .unwrap();
        let out = super::Outgoing {
            message_id: "<0123456789abcdef@jemput.invalid>",
            recipient: "Budi Santoso <budi.tim2@dispendukcapil.example.org>",
            subject: &r.subject,
            text: &r.text,
            html: &r.html,
            ics: r.ics.as_deref(),
            reply_to: Some(&reply_to),
        };
        let raw = String::from_utf8(super::build(&from, &out).unwrap().formatted()).unwrap();
        // Headers only: the bodies are snapshotted above, decoded.
        let head: Vec<&str> = raw
            .split("\r\n")
            .filter(|l| {
                [
                    "From:",
                    "Reply-To:",
                    "To:",
                    "Subject:",
                    "Message-ID:",
                    "MIME-Version:",
                    "Content-Type:",
                    "Date:",
                ]
                .iter()
                .any(|h| l.starts_with(h))
                    || l.starts_with(' ')
            })
            .take_while(|l| !l.starts_with("Content-Type: text"))
            .collect();
        let mut head = head.join("\n");
        // Volatile: the date and MIME boundaries.
        head = regex_free_redact(&head, "Date: ", "\n", "Date: [DATE]\n");
        head = regex_free_redact(&head, "boundary=\"", "\"", "boundary=\"[BOUNDARY]\"");
        insta::assert_snapshot!("schedule_id_headers", head);
        assert!(raw.contains("Content-Type: text/calendar"));
        assert!(raw.contains("filename=\"jadwal.ics\""));
        // No personal identifiers: a NIK is 16 digits; nothing of the kind is in any part.
        for part in [&r.text, &r.html, r.ics.as_ref().unwrap()] {
            assert!(!has_digit_run(part, 16), "a 16-digit number in {part}");
        }
    }
}
