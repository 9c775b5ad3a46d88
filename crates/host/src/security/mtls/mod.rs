//! Automatic mTLS with go-plugin plugins (docs/protocol.md §3.5): the host offers its
//! certificate (`PLUGIN_CLIENT_CERT`), a plugin that answers with its own on the handshake line
//! is reached over TLS that trusts exactly that certificate, and the `mtls` setting says what is
//! acceptable without one.

mod identity;
mod pinned;

pub use identity::{generate, host_identity, Identity};
pub use pinned::{NotThePrintedCertificate, PinnedServerCert};

use crate::handshake::{Address, Handshake};
use rustls::pki_types::{CertificateDer, ServerName};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// The per-plugin `mtls` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MtlsMode {
    /// No TLS where it adds nothing: a unix socket in the plugin's private directory, whose
    /// server the peer check proves, is plaintext; plain TCP, which any local process can
    /// reach, is refused. So no certificate is offered (go-plugin's host offers none by
    /// default either), and a plugin that prints one anyway gets TLS.
    #[default]
    Auto,
    /// Offer the certificate; a plugin must answer with its own, on any transport.
    On,
    /// Offer nothing; a plugin that prints a certificate anyway is refused.
    Off,
}

impl MtlsMode {
    pub const CHOICES: &'static str = "auto, on or off";
}

impl FromStr for MtlsMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(MtlsMode::Auto),
            "on" => Ok(MtlsMode::On),
            "off" => Ok(MtlsMode::Off),
            other => Err(format!("must be {}, not {other:?}", MtlsMode::CHOICES)),
        }
    }
}

impl fmt::Display for MtlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MtlsMode::Auto => "auto",
            MtlsMode::On => "on",
            MtlsMode::Off => "off",
        })
    }
}

/// What the host puts in `PLUGIN_CLIENT_CERT` for a plugin with this setting: its certificate
/// (PEM), or nothing when mTLS is off.
pub fn offered_certificate(mode: MtlsMode) -> Result<Option<String>, String> {
    match mode {
        MtlsMode::Auto | MtlsMode::Off => Ok(None),
        MtlsMode::On => host_identity().map(|identity| Some(identity.cert_pem.clone())),
    }
}

/// How to reach a plugin, decided from its handshake line and its `mtls` setting: `Some` TLS
/// pinned to the printed certificate, `None` plaintext, or a refusal that states the rule.
pub fn plan(mode: MtlsMode, handshake: &Handshake) -> Result<Option<PinnedTls>, String> {
    match (&handshake.server_cert, mode) {
        (Some(_), MtlsMode::Off) => Err("it requires TLS (it printed a server certificate on its handshake line), \
             but mtls is off for it, so the host offered no certificate; set mtls: auto or on"
            .into()),
        (Some(cert), MtlsMode::Auto | MtlsMode::On) => PinnedTls::new(cert.clone()).map(Some),
        (None, MtlsMode::On) => Err("mtls is on for it, but it printed no server certificate on its handshake line \
             (it does not do automatic mTLS); set mtls: auto or off to accept it without TLS"
            .into()),
        (None, MtlsMode::Auto) => match &handshake.address {
            Address::Unix(_) => Ok(None),
            Address::Tcp(_) => Err(format!(
                "it serves plain TCP ({}) without a certificate; any local process could call it; \
                 set mtls: on for it if it does automatic mTLS (go-plugin plugins and this project's \
                 SDKs do), or mtls: off to accept plain TCP",
                crate::handshake::shorten(&handshake.address.to_string())
            )),
        },
        (None, MtlsMode::Off) => Ok(None),
    }
}

/// A TLS client for one plugin: presents the host's certificate and trusts exactly the one the
/// plugin printed.
#[derive(Debug, Clone)]
pub struct PinnedTls {
    config: Arc<rustls::ClientConfig>,
}

/// The name both sides use, as go-plugin does (the certificates are for `localhost`).
const SERVER_NAME: &str = "localhost";

impl PinnedTls {
    /// `printed`: the DER the plugin printed on its handshake line.
    pub fn new(printed: Vec<u8>) -> Result<Self, String> {
        let printed = CertificateDer::from(printed);
        // A DER blob that is not a certificate is refused now, not as a TLS failure later.
        webpki::EndEntityCert::try_from(&printed)
            .map_err(|e| format!("the server certificate on its handshake line is not an X.509 certificate ({e})"))?;
        let identity = host_identity()?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = PinnedServerCert::new(printed, provider.signature_verification_algorithms);
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_auth_cert(vec![identity.cert_der.clone()], identity.key())
            .map_err(|e| format!("the host's mTLS certificate is unusable: {e}"))?;
        // gRPC servers (grpc-go among them) refuse a TLS client that does not offer HTTP/2.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(PinnedTls { config: Arc::new(config) })
    }

    /// The TLS handshake over an already connected (and peer-checked) stream. A failure is a
    /// full sentence about `shown` (the address).
    pub async fn wrap<S>(&self, stream: S, shown: &str) -> Result<tokio_rustls::client::TlsStream<S>, String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let name = ServerName::try_from(SERVER_NAME).expect("a valid DNS name");
        connector.connect(name, stream).await.map_err(|e| {
            let cause = match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                // rustls shows its own verifier's error with Debug; ours is a sentence.
                Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))) => {
                    format!("the TLS certificate it presented was refused: {}", other.0)
                }
                Some(tls) => tls.to_string(),
                None => e.to_string(),
            };
            format!("automatic mTLS with {shown} failed: {cause}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(address: Address, server_cert: Option<Vec<u8>>) -> Handshake {
        Handshake { app_version: 1, address, server_cert, multiplexed: None }
    }

    #[test]
    fn the_mode_reads_and_prints_its_three_words() {
        for word in ["auto", "on", "off"] {
            assert_eq!(word.parse::<MtlsMode>().unwrap().to_string(), word);
        }
        assert!("yes".parse::<MtlsMode>().unwrap_err().contains("auto, on or off"));
        assert_eq!(MtlsMode::default(), MtlsMode::Auto);
    }

    #[test]
    fn the_rules_without_a_certificate() {
        let unix = handshake(Address::Unix("/d/plugin1".into()), None);
        let tcp = handshake(Address::Tcp("127.0.0.1:10000".into()), None);
        assert!(plan(MtlsMode::Auto, &unix).unwrap().is_none());
        assert!(plan(MtlsMode::Off, &tcp).unwrap().is_none());
        let refusal = plan(MtlsMode::Auto, &tcp).unwrap_err();
        assert!(
            refusal.contains("serves plain TCP")
                && refusal.contains("set mtls: on")
                && refusal.contains("mtls: off to accept"),
            "{refusal}"
        );
        assert!(plan(MtlsMode::On, &unix).unwrap_err().contains("mtls is on for it"));
    }

    #[test]
    fn the_rules_with_a_certificate() {
        let cert = generate().unwrap().cert_der.to_vec();
        let unix = handshake(Address::Unix("/d/plugin1".into()), Some(cert));
        assert!(plan(MtlsMode::Auto, &unix).unwrap().is_some());
        assert!(plan(MtlsMode::On, &unix).unwrap().is_some());
        assert!(plan(MtlsMode::Off, &unix).unwrap_err().contains("mtls is off for it"));
        // A DER SEQUENCE that is no certificate.
        let not_a_cert = handshake(Address::Unix("/d/plugin1".into()), Some(vec![0x30, 0x03, 2, 1, 5]));
        assert!(plan(MtlsMode::Auto, &not_a_cert).unwrap_err().contains("not an X.509 certificate"));
    }

    #[test]
    fn offered_only_when_on() {
        assert_eq!(offered_certificate(MtlsMode::Off).unwrap(), None);
        assert_eq!(offered_certificate(MtlsMode::Auto).unwrap(), None);
        assert!(offered_certificate(MtlsMode::On).unwrap().unwrap().contains("BEGIN CERTIFICATE"));
    }
}
