//! One TLS configuration for the whole run.
//!
//! Every client instance has its own HTTP connection pool, but building reqwest's default TLS
//! setup costs milliseconds and ~100 KB per client; 10,000 clients would spend half a minute
//! on it. The configuration is the same for all of them, so it is built once and cloned (cheap:
//! its parts are shared).

use std::sync::{Arc, OnceLock};

/// The shared client TLS configuration: the platform's roots, HTTP/2 and HTTP/1.1 by ALPN.
pub fn client_config() -> Result<rustls::ClientConfig, String> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG.get_or_init(build).clone()
}

fn build() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
