//! The check of the plugin's TLS certificate (docs/protocol.md §3.5): it must be, byte for byte,
//! the certificate the plugin printed on its handshake line, and the handshake must be signed by
//! its key (`PinnedCertificate`, shared with the SDK's check of the host's certificate).

use hector_plugins_protocol::tls::PinnedCertificate;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Trusts exactly the certificate the plugin printed.
#[derive(Debug)]
pub struct PinnedServerCert(PinnedCertificate);

impl PinnedServerCert {
    pub fn new(pinned: CertificateDer<'static>, algorithms: WebPkiSupportedAlgorithms) -> Self {
        PinnedServerCert(PinnedCertificate::new(pinned, algorithms))
    }
}

/// The refusal a mismatching certificate gets (shown as "invalid peer certificate: ...").
#[derive(Debug, thiserror::Error)]
#[error("it is not the certificate the plugin printed on its handshake line")]
pub struct NotThePrintedCertificate;

impl ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.check(end_entity, NotThePrintedCertificate).map(|()| ServerCertVerified::assertion())
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
        self.0.supported_schemes()
    }
}
