//! The root certificates the functions' HTTPS connections trust.
//!
//! Every AWS endpoint the functions call presents a certificate that chains to one of
//! Amazon Trust Services' five roots (Amazon Root CA 1 – 4 and Starfield Services Root
//! CA – G2; <https://www.amazontrust.com/repository/> asks a custom trust store to hold
//! all five). The SDK's default client instead reads and parses the system's whole store
//! (146 roots, 220 KB of PEM) at every cold start: about 0.9 ms of init, the largest step
//! the code controls (docs/benchmark.md, "Amazon's roots only"). So the functions trust
//! those five, compiled in, unless the environment configures the connection itself: a
//! trust of its own (`SSL_CERT_FILE`, `SSL_CERT_DIR`) or a proxy, for which the SDK's
//! default client is kept as it is.

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};

/// Amazon Root CA 1, 2, 3, 4 and Starfield Services Root Certificate Authority – G2, as PEM
/// (from the Mozilla store Debian's ca-certificates ships; their SHA-256 fingerprints are checked below).
pub const AMAZON_TRUST_SERVICES_ROOTS: &str = include_str!("trust/amazon-trust-services.pem");

/// The settings that configure the SDK's connections themselves.
pub const CONFIGURING: [&str; 8] = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// What the functions' HTTPS connections trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Amazon Trust Services' five roots: nothing read from the file system.
    AmazonRoots,
    /// The environment's own trust or proxy: the SDK's default client, unchanged.
    Configured,
}

impl Trust {
    /// The trust the environment (`lookup`) asks for.
    pub fn choose(lookup: impl Fn(&str) -> Option<String>) -> Self {
        if CONFIGURING.iter().any(|name| lookup(name).is_some_and(|v| !v.is_empty())) {
            Self::Configured
        } else {
            Self::AmazonRoots
        }
    }

    /// `loader` with the HTTP client this trust needs (the SDK's default where [`Trust::Configured`]).
    pub fn configure(self, loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
        match self {
            Self::Configured => loader,
            Self::AmazonRoots => loader.http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                    .tls_context(amazon_roots())
                    .build_https(),
            ),
        }
    }
}

/// A TLS context that trusts Amazon's roots only (for the SDK's own hyper and rustls client).
fn amazon_roots() -> TlsContext {
    let trust =
        TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS.as_bytes());
    // `build` refuses only a context with additional server names, which this one has none of
    // (were it to, the default context is the SDK's own trust).
    TlsContext::builder().with_trust_store(trust).build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_trust_or_proxy_keeps_the_sdks_client() {
        for name in CONFIGURING {
            let set = |n: &str| (n == name).then(|| "/opt/ca.pem".to_string());
            assert_eq!(Trust::choose(set), Trust::Configured, "{name}");
        }
        let empty = |n: &str| (n == "SSL_CERT_FILE").then(String::new);
        assert_eq!(Trust::choose(empty), Trust::AmazonRoots);
        assert_eq!(Trust::choose(|_| None), Trust::AmazonRoots);
    }

    #[test]
    fn the_roots_are_amazon_trust_services_five() {
        use sha2::{Digest, Sha256};
        // The fingerprints https://www.amazontrust.com/repository/ publishes, in the file's order.
        let published = [
            "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
            "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
            "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
            "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
            "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
        ];
        use rustls_pki_types::{pem::PemObject, CertificateDer};
        let ders = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_ROOTS.as_bytes());
        let seen: Vec<String> =
            ders.map(|der| crate::crypto::hex(&Sha256::digest(der.expect("a certificate")))).collect();
        assert_eq!(seen, published);
    }

    #[tokio::test]
    async fn a_client_builds_with_them() {
        // A client's construction builds its connector, which parses the roots (and would panic on a bad one).
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).region("eu-west-1");
        let sdk = Trust::AmazonRoots.configure(loader).load().await;
        let _ = aws_sdk_dynamodb::Client::new(&sdk);
    }
}
