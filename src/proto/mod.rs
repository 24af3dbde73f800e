//! Wire clients. They know requests and answers, not scenarios.

pub mod http;
pub mod http1;
pub mod mcp;
pub mod sql;
pub mod tls;
