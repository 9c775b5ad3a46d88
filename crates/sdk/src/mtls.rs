//! The plugin side of automatic mTLS (docs/protocol.md §3.5): the host's certificate comes in
//! `PLUGIN_CLIENT_CERT`; the plugin makes its own (self-signed, for `localhost`), prints it on the
//! handshake line, and serves TLS that accepts exactly the host's certificate as the client's.

use crate::{json, Logger, SdkError};
use hector_plugins_protocol::tls::{Identity, PinnedCertificate};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::ReceiverStream;

/// The plugin's TLS server: its certificate and the host's, pinned.
pub(crate) struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    cert_der: CertificateDer<'static>,
}

impl ServerTls {
    /// From `PLUGIN_CLIENT_CERT` (the host's certificate, PEM).
    pub fn for_host_certificate(pem: &str) -> Result<ServerTls, SdkError> {
        let host_cert = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| SdkError::Mtls(format!("PLUGIN_CLIENT_CERT holds no PEM certificate ({e})")))?;
        let own = Identity::generate().map_err(|e| SdkError::Mtls(format!("cannot generate our certificate: {e}")))?;
        let (cert_der, key) = (own.cert_der.clone(), own.key());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = PinnedClientCert(PinnedCertificate::new(host_cert, provider.signature_verification_algorithms));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SdkError::Mtls(e.to_string()))?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(vec![cert_der.clone()], key)
            .map_err(|e| SdkError::Mtls(format!("our certificate is unusable: {e}")))?;
        // gRPC clients (grpc-go among them) require HTTP/2 to be negotiated by ALPN.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(ServerTls { config: Arc::new(config), cert_der })
    }

    /// The certificate to print on the handshake line (DER).
    pub fn certificate(&self) -> &[u8] {
        self.cert_der.as_ref()
    }

    /// The connections accepted on `listener`, each once its TLS handshake succeeded (a failed
    /// one is logged and dropped; it does not hold up the others).
    pub fn incoming(self, listener: UnixListener, log: Logger) -> ReceiverStream<std::io::Result<TlsConnection>> {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let acceptor = tokio_rustls::TlsAcceptor::from(self.config);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = tx.closed() => return,
                    accepted = listener.accept() => accepted,
                };
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        continue;
                    }
                };
                let (acceptor, tx, log) = (acceptor.clone(), tx.clone(), log.clone());
                tokio::spawn(async move {
                    match acceptor.accept(stream).await {
                        Ok(tls) => drop(tx.send(Ok(TlsConnection(tls))).await),
                        Err(e) => log.warn("TLS handshake refused", &[("error", json!(e.to_string()))]),
                    }
                });
            }
        });
        ReceiverStream::new(rx)
    }
}

/// Accepts exactly the host's certificate, and a handshake signed by its key.
#[derive(Debug)]
struct PinnedClientCert(PinnedCertificate);

#[derive(Debug, thiserror::Error)]
#[error("it is not the certificate the host gave in PLUGIN_CLIENT_CERT")]
struct NotTheHostsCertificate;

impl ClientCertVerifier for PinnedClientCert {
    /// No hints: a client that is told no CA names sends its certificate anyway.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0.check(end_entity, NotTheHostsCertificate).map(|()| ClientCertVerified::assertion())
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

/// A TLS connection as tonic's server takes it.
pub(crate) struct TlsConnection(tokio_rustls::server::TlsStream<UnixStream>);

impl tonic::transport::server::Connected for TlsConnection {
    type ConnectInfo = <UnixStream as tonic::transport::server::Connected>::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.get_ref().0.connect_info()
    }
}

impl tokio::io::AsyncRead for TlsConnection {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_certificate_that_is_no_pem_is_an_error() {
        let error = ServerTls::for_host_certificate("not a certificate").err().unwrap();
        assert!(error.to_string().contains("PLUGIN_CLIENT_CERT holds no PEM certificate"), "{error}");
    }

    #[test]
    fn our_certificate_is_a_fresh_one_ready_for_the_handshake_line() {
        let host = Identity::generate().unwrap();
        let tls = ServerTls::for_host_certificate(&host.cert_pem).unwrap();
        assert_ne!(tls.certificate(), host.cert_der.as_ref());
        let line = crate::env::handshake_line(1, "/d/plugin1", Some(tls.certificate()), false);
        let parsed = hector_plugins_protocol::handshake::parse(&line, &[1]).unwrap();
        assert_eq!(parsed.server_cert.as_deref(), Some(tls.certificate()));
    }
}
