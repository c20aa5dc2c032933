//! TLS to PostgreSQL, chosen by the URL's `sslmode` (libpq's names and meanings) and
//! `sslrootcert`. tokio-postgres itself knows only `disable`, `prefer` and `require`, so
//! both parameters are taken off the URL here and turned into a rustls configuration.
//!
//! With no `sslmode` the URL gets `verify-full`: a connection is encrypted and the server
//! proves its name unless the URL says otherwise (`sslmode=disable` for a local server).
//! Roots are the file named by `sslrootcert` (the RDS CA bundle for a direct RDS
//! connection) or, without one, the system's (RDS Proxy's ACM certificates chain to
//! Amazon's public roots, which every system store has).

use std::path::PathBuf;
use std::sync::Arc;

use pm_config::ConfigError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plaintext only.
    Disable,
    /// TLS when the server offers it, unverified; plaintext otherwise.
    Prefer,
    /// TLS, the certificate unverified (it protects against eavesdropping, not against
    /// an impostor).
    Require,
    /// TLS, the certificate chained to a trusted root, any name.
    VerifyCa,
    /// TLS, the certificate chained to a trusted root and naming the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    pub(crate) fn wire(self) -> WireMode {
        match self {
            Self::Disable => WireMode::Disable,
            Self::Prefer => WireMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => WireMode::Require,
        }
    }
}

/// The TLS half of a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
}

/// Splits `sslmode` and `sslrootcert` off a `postgres://` URL: the URL tokio-postgres
/// can parse, and the settings. A key/value connection string (`host=… dbname=…`) is
/// left whole and gets the default settings.
pub(crate) fn split_url(url: &str) -> Result<(String, TlsSettings), ConfigError> {
    let mut settings = TlsSettings {
        mode: SslMode::VerifyFull,
        root_cert: None,
    };
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
        return Ok((url.to_string(), settings));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                settings.mode = SslMode::parse(value).ok_or_else(|| {
                    ConfigError::invalid(
                        "DATABASE_URL",
                        "sslmode must be disable, prefer, require, verify-ca or verify-full",
                    )
                })?;
            }
            "sslrootcert" => {
                let path = urlencoding::decode(value).map_err(|_| {
                    ConfigError::invalid("DATABASE_URL", "sslrootcert is not valid UTF-8")
                })?;
                settings.root_cert = Some(PathBuf::from(path.into_owned()));
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, settings))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// The connector for these settings; built once per pool.
pub(crate) fn connector(settings: &TlsSettings) -> Result<MakeRustlsConnect, ConfigError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default TLS versions");
    let config = match settings.mode {
        // The verifier is never asked under `disable`; `prefer` and `require` encrypt
        // without authenticating the server, as libpq does.
        SslMode::Disable | SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider())))
            .with_no_client_auth(),
        SslMode::VerifyCa => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(webpki(settings)?)))
            .with_no_client_auth(),
        SslMode::VerifyFull => builder
            .with_webpki_verifier(webpki(settings)?)
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

fn webpki(settings: &TlsSettings) -> Result<Arc<WebPkiServerVerifier>, ConfigError> {
    let mut roots = RootCertStore::empty();
    match &settings.root_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|_| {
                    ConfigError::invalid(
                        "DATABASE_URL",
                        format!("sslrootcert {} is not a readable PEM file", path.display()),
                    )
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(ConfigError::invalid(
                    "DATABASE_URL",
                    format!("sslrootcert {} holds no certificate", path.display()),
                ));
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                return Err(ConfigError::invalid(
                    "DATABASE_URL",
                    "the system has no trusted roots; name them with sslrootcert",
                ));
            }
        }
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| ConfigError::invalid("DATABASE_URL", format!("sslrootcert: {e}")))
}

/// `prefer` and `require`: any certificate, but the handshake's signatures are still
/// checked, so the session key belongs to whoever sent the certificate.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the full chain check, with a name mismatch forgiven.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sslmode_means_verify_full() {
        let (url, tls) = split_url("postgres://db.example/app").unwrap();
        assert_eq!(url, "postgres://db.example/app");
        assert_eq!(tls.mode, SslMode::VerifyFull);
    }

    #[test]
    fn tls_parameters_come_off_the_url_and_the_rest_stays() {
        let (url, tls) = split_url(
            "postgres://u@db/app?application_name=x&sslmode=verify-ca&sslrootcert=%2Fopt%2Frds.pem",
        )
        .unwrap();
        assert_eq!(url, "postgres://u@db/app?application_name=x");
        assert_eq!(tls.mode, SslMode::VerifyCa);
        assert_eq!(tls.root_cert, Some(PathBuf::from("/opt/rds.pem")));
        let (url, tls) = split_url("postgres://db/app?sslmode=disable").unwrap();
        assert_eq!(
            (url.as_str(), tls.mode),
            ("postgres://db/app", SslMode::Disable)
        );
    }

    #[test]
    fn an_unknown_sslmode_is_refused_by_name() {
        let err = split_url("postgres://db/app?sslmode=allow")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sslmode"), "{err}");
    }

    #[test]
    fn a_missing_root_file_is_refused_when_the_pool_is_built() {
        let (_, tls) = split_url("postgres://db/app?sslrootcert=/nonexistent/ca.pem").unwrap();
        let err = connector(&tls).err().unwrap().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
