//! The TLS leg: a certificate authority and a `localhost` certificate made for
//! this run (by the `openssl` command), and a TLS endpoint on loopback in front
//! of each plain-HTTP service (DynamoDB Local, moto), so the functions pay the
//! handshake where they would on AWS. The functions trust the certificate the
//! way a Lambda function trusts its CA bundle: `SSL_CERT_FILE` names a bundle,
//! here the system's bundle with this run's authority added, which the SDK's
//! TLS stack (rustls-native-certs) reads instead of the system's certificates.

use crate::scenarios::Error;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// The system CA bundles rustls-native-certs (through openssl-probe) looks for first.
pub const SYSTEM_BUNDLES: [&str; 2] = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];

pub fn system_bundle() -> Option<&'static str> {
    SYSTEM_BUNDLES.iter().copied().find(|p| Path::new(p).is_file())
}

/// This run's certificates, in `dir`.
pub struct Certificates {
    /// The system bundle plus this run's authority: what `SSL_CERT_FILE` names.
    pub bundle: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), Error> {
    let out = Command::new("openssl").args(args).current_dir(dir).output().map_err(|e| format!("openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

impl Certificates {
    /// An authority and a certificate for `localhost` and 127.0.0.1 it signed,
    /// RSA 2048 as AWS's service endpoints present, valid for a day.
    pub fn make(dir: &Path) -> Result<Self, Error> {
        std::fs::create_dir_all(dir)?;
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )?;
        #[rustfmt::skip]
        let steps: [&[&str]; 3] = [
            &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
              "-subj", "/CN=account-deletion bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign"],
            &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
              "-subj", "/CN=localhost"],
            &["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
              "-out", "server.pem", "-days", "1", "-extfile", "server.ext"],
        ];
        for args in steps {
            openssl(dir, args)?;
        }
        let ca = std::fs::read(dir.join("ca.pem"))?;
        let mut bundle = system_bundle().map(std::fs::read).transpose()?.unwrap_or_default();
        bundle.push(b'\n');
        bundle.extend_from_slice(&ca);
        let bundle_path = dir.join("bundle.pem");
        std::fs::write(&bundle_path, bundle)?;
        let server = std::fs::read(dir.join("server.pem"))?;
        let chain = CertificateDer::pem_slice_iter(&server).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_file(dir.join("server.key"))?;
        Ok(Self { bundle: bundle_path, chain, key })
    }

    fn acceptor(&self) -> Result<TlsAcceptor, Error> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A TLS endpoint on a free loopback port that hands each connection, decrypted, to `upstream`.
/// Returns its `https://localhost:PORT` URL; it serves until the bench exits.
pub async fn front(certificates: &Certificates, upstream: &str) -> Result<String, Error> {
    let upstream: SocketAddr = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .replace("localhost", "127.0.0.1")
        .parse()
        .map_err(|e| format!("{upstream:?} is not an http://HOST:PORT endpoint: {e}"))?;
    let acceptor = certificates.acceptor()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = client.set_nodelay(true);
                let Ok(mut tls) = acceptor.accept(client).await else { return };
                let Ok(mut service) = TcpStream::connect(upstream).await else { return };
                let _ = service.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut service).await;
            });
        }
    });
    Ok(format!("https://localhost:{port}"))
}
