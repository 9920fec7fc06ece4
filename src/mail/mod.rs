//! Mail delivery: the transport (SMTP or `.eml` files) and the outbox worker that claims queued
//! messages with a lease and sends them. What a message says is the pure `email` module's; when it
//! is queued is `services::publishing`'s.

pub mod outbox;
pub mod transport;
