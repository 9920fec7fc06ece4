//! A scripted SMTP server on 127.0.0.1 for the outbox tests (and the email throughput bench).
//!
//! It speaks enough ESMTP for lettre (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT). What
//! it answers at the end of each DATA comes from a script, then from a default: accept (250),
//! a transient 451, a permanent 550, hang (never answer), close the connection, or hold the 250
//! until the test releases it. Every transaction and every accepted message is recorded.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Clone)]
pub enum Reply {
    Accept,
    /// 451: try again later.
    Transient,
    /// 550: mailbox unavailable.
    Permanent,
    /// Never answer the DATA (the client must time out).
    Hang,
    /// Drop the connection after DATA without answering.
    Close,
    /// Answer 250 only once the notify fires (a worker can be killed meanwhile).
    Hold(Arc<Notify>),
    /// Store the message at once, answer 250 this much later (a slow relay).
    Slow(std::time::Duration),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    pub message_id: Option<String>,
    pub at: Instant,
}

#[derive(Debug, Clone)]
pub struct Transaction {
    pub message_id: Option<String>,
    pub code: u16,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    default: Option<Reply>,
    received: Vec<Received>,
    transactions: Vec<Transaction>,
    connections: usize,
    auth: Vec<String>,
}

pub struct FakeSmtp {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

/// A free port on 127.0.0.1, closed again (for "the server is down, then comes up").
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl FakeSmtp {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the fake SMTP server");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            default: Some(Reply::Accept),
            ..Default::default()
        }));
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                st.lock().unwrap().connections += 1;
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = session(sock, st).await;
                });
            }
        });
        Self { addr, state, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Replies for the next transactions, in order; then the default.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    pub fn set_default(&self, reply: Reply) {
        self.state.lock().unwrap().default = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn transactions(&self) -> Vec<Transaction> {
        self.state.lock().unwrap().transactions.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Decoded `AUTH PLAIN` credentials seen, as `user:password`.
    pub fn auth(&self) -> Vec<String> {
        self.state.lock().unwrap().auth.clone()
    }

    /// Stop accepting; open sessions end with their sockets.
    pub fn stop(self) {
        self.task.abort();
    }
}

fn header(data: &str, name: &str) -> Option<String> {
    data.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l.as_bytes()[name.len()] == b':'
        })
        .map(|l| l[name.len() + 1..].trim().to_string())
}

fn b64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| *c != b'=') {
        let Some(v) = A.iter().position(|a| *a == c) else {
            continue;
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

async fn session(sock: tokio::net::TcpStream, st: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 fake.smtp.test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            w.write_all(
                b"250-fake.smtp.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN\r\n",
            )
            .await?;
        } else if upper.starts_with("AUTH PLAIN") {
            let creds = b64_decode(cmd[10..].trim());
            let parts: Vec<String> = creds
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            if parts.len() == 3 {
                st.lock()
                    .unwrap()
                    .auth
                    .push(format!("{}:{}", parts[1], parts[2]));
            }
            w.write_all(b"235 2.7.0 Authentication successful\r\n")
                .await?;
        } else if upper.starts_with("MAIL FROM") {
            from = cmd[10..].trim().to_string();
            to.clear();
            w.write_all(b"250 2.1.0 Ok\r\n").await?;
        } else if upper.starts_with("RCPT TO") {
            to.push(cmd[8..].trim().to_string());
            w.write_all(b"250 2.1.5 Ok\r\n").await?;
        } else if upper == "DATA" {
            w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            let message_id = header(&data, "Message-ID");
            let reply = {
                let mut s = st.lock().unwrap();
                s.script
                    .pop_front()
                    .or_else(|| s.default.clone())
                    .unwrap_or(Reply::Accept)
            };
            let record = |code: u16, accepted: bool| {
                let mut s = st.lock().unwrap();
                s.transactions.push(Transaction {
                    message_id: message_id.clone(),
                    code,
                    at: Instant::now(),
                });
                if accepted {
                    s.received.push(Received {
                        from: from.clone(),
                        to: to.clone(),
                        data: data.clone(),
                        message_id: message_id.clone(),
                        at: Instant::now(),
                    });
                }
            };
            match reply {
                Reply::Accept => {
                    record(250, true);
                    w.write_all(b"250 2.0.0 Ok: queued\r\n").await?;
                }
                Reply::Transient => {
                    record(451, false);
                    w.write_all(b"451 4.3.0 Try again later\r\n").await?;
                }
                Reply::Permanent => {
                    record(550, false);
                    w.write_all(b"550 5.1.1 Mailbox unavailable\r\n").await?;
                }
                Reply::Hang => {
                    record(0, false);
                    std::future::pending::<()>().await;
                }
                Reply::Close => {
                    record(0, false);
                    return Ok(());
                }
                Reply::Hold(release) => {
                    release.notified().await;
                    record(250, true);
                    w.write_all(b"250 2.0.0 Ok: queued\r\n").await?;
                }
                Reply::Slow(after) => {
                    record(250, true);
                    tokio::time::sleep(after).await;
                    w.write_all(b"250 2.0.0 Ok: queued\r\n").await?;
                }
            }
        } else if upper == "QUIT" {
            w.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            // RSET, NOOP and anything else lettre may say.
            w.write_all(b"250 2.0.0 Ok\r\n").await?;
        }
    }
}
