//! The root certificates the functions' HTTPS connections trust: the system's, read
//! from its one bundle file.
//!
//! Without `SSL_CERT_FILE` the SDK's client (rustls-native-certs) reads the system's
//! bundle and then every file of its certificate directory (292 on Debian), the same
//! certificates again: about 2 ms of every cold start (docs/benchmark.md, "The
//! system's trust in one file"). Naming the bundle in `SSL_CERT_FILE` before anything
//! reads the environment leaves that directory unread. A trust the operator set
//! (`SSL_CERT_FILE` or `SSL_CERT_DIR`) is kept as it is.

use std::path::Path;

/// Where each family of Linux keeps its bundle (Debian and Ubuntu; Amazon Linux, the
/// Lambda runtimes', and RHEL; SUSE; Alpine), in the order openssl-probe tries them.
pub const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// What the process's TLS trusts, once [`prefer_system_bundle`] has run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The operator's `SSL_CERT_FILE` or `SSL_CERT_DIR`, untouched.
    Configured,
    /// The system's bundle, now named in `SSL_CERT_FILE`.
    SystemBundle(&'static str),
    /// No bundle found: the SDK looks for the system's certificates itself.
    Probed,
}

/// The trust `lookup` (the environment) already names, or the system bundle to name.
pub fn choose(lookup: impl Fn(&str) -> Option<String>, exists: impl Fn(&Path) -> bool) -> Trust {
    if ["SSL_CERT_FILE", "SSL_CERT_DIR"].iter().any(|name| lookup(name).is_some_and(|v| !v.is_empty())) {
        return Trust::Configured;
    }
    SYSTEM_BUNDLES.iter().find(|path| exists(Path::new(path))).map_or(Trust::Probed, |path| Trust::SystemBundle(path))
}

/// Names the system's bundle in `SSL_CERT_FILE` unless a trust is configured. Called by
/// [`crate::runtime::main`] before the runtime starts any thread: the environment is
/// written while nothing else can read it.
pub fn prefer_system_bundle() -> Trust {
    let trust = choose(|name| std::env::var(name).ok(), |path| path.is_file());
    if let Trust::SystemBundle(path) = trust {
        std::env::set_var("SSL_CERT_FILE", path);
    }
    trust
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_trust_is_kept() {
        let file = |name: &str| (name == "SSL_CERT_FILE").then(|| "/opt/ca.pem".to_string());
        assert_eq!(choose(file, |_| true), Trust::Configured);
        let dir = |name: &str| (name == "SSL_CERT_DIR").then(|| "/opt/certs".to_string());
        assert_eq!(choose(dir, |_| true), Trust::Configured);
    }

    #[test]
    fn the_first_bundle_present_is_named() {
        let amazon_linux = |path: &Path| path == Path::new("/etc/pki/tls/certs/ca-bundle.crt");
        assert_eq!(choose(|_| None, amazon_linux), Trust::SystemBundle("/etc/pki/tls/certs/ca-bundle.crt"));
        assert_eq!(choose(|_| None, |_| true), Trust::SystemBundle("/etc/ssl/certs/ca-certificates.crt"));
        let empty = |name: &str| (name == "SSL_CERT_FILE").then(String::new);
        assert_eq!(choose(empty, |_| false), Trust::Probed);
    }
}
