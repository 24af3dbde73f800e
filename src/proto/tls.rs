//! The run's TLS configurations, each built once.
//!
//! Every client instance has its own HTTP connection pool, but building reqwest's default TLS
//! setup costs milliseconds and ~100 KB per client; 10,000 clients would spend half a minute
//! on it. The configuration is the same for all of them, so it is built once and cloned (cheap:
//! its parts are shared). Database connections get their own, with PostgreSQL's ALPN.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The shared HTTP client TLS configuration: the platform's roots, HTTP/2 and HTTP/1.1 by ALPN.
pub fn client_config() -> Result<rustls::ClientConfig, String> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| build(&[b"h2", b"http/1.1"], Check::Verify))
        .clone()
}

/// The TLS configuration of MCP connections, which speak HTTP/1.1 only
/// ([`crate::proto::http1`]).
pub fn http1_config() -> Result<rustls::ClientConfig, String> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG.get_or_init(|| build(&[b"http/1.1"], Check::Verify)).clone()
}

/// The TLS configuration for PostgreSQL: the platform's roots when `verify` (libpq's
/// `verify-full`), otherwise any certificate (libpq's `require` and `prefer` without a root
/// certificate: encrypted, not authenticated).
pub fn database_config(verify: bool) -> Result<rustls::ClientConfig, String> {
    static VERIFIED: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    static UNVERIFIED: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    let (cell, check) = match verify {
        true => (&VERIFIED, Check::Verify),
        false => (&UNVERIFIED, Check::AnyCertificate),
    };
    cell.get_or_init(|| build(&[b"postgresql"], check)).clone()
}

/// Whether the server's certificate is checked.
#[derive(Clone, Copy)]
enum Check {
    Verify,
    AnyCertificate,
}

fn build(alpn: &[&[u8]], check: Check) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Verify => {
            Arc::new(rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?)
        }
        Check::AnyCertificate => Arc::new(AnyCertificate(provider.signature_verification_algorithms)),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Accepts any certificate but still checks the handshake's signatures, so the session is
/// encrypted to whoever holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
