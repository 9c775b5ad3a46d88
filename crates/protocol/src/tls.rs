//! The certificates of automatic mTLS (docs/protocol.md §3.5), made and checked the same way on
//! both sides: each side makes a self-signed certificate shaped like go-plugin's, and trusts
//! exactly the other's, byte for byte, with the handshake signed by its key. No CA, name or
//! date enters into it: the certificate handed over (`PLUGIN_CLIENT_CERT`, field 6 of the
//! handshake line) is the only source of trust.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use std::sync::Arc;

/// A certificate and its private key.
#[derive(Debug)]
pub struct Identity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// A fresh self-signed certificate shaped like go-plugin's: for `localhost` (the server name
    /// both sides use), usable for client and server authentication, and its own CA, since each
    /// side trusts exactly the other's certificate. ECDSA P-256: go-plugin accepts any ECDSA curve.
    pub fn generate() -> Result<Identity, rcgen::Error> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.distinguished_name.push(DnType::OrganizationName, "hector-plugins");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.self_signed(&key)?;
        Ok(Identity {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone_key())
    }
}

/// Trusts exactly one certificate: what the host's server-certificate verifier and the plugin's
/// client-certificate verifier both do.
#[derive(Debug)]
pub struct PinnedCertificate {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCertificate {
    pub fn new(pinned: CertificateDer<'static>, algorithms: WebPkiSupportedAlgorithms) -> Self {
        PinnedCertificate { pinned, algorithms }
    }

    /// `presented` must be the pinned certificate; otherwise `mismatch` is the refusal (shown as
    /// "invalid peer certificate: ...").
    pub fn check(
        &self,
        presented: &CertificateDer<'_>,
        mismatch: impl std::error::Error + Send + Sync + 'static,
    ) -> Result<(), rustls::Error> {
        if presented.as_ref() == self.pinned.as_ref() {
            return Ok(());
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(mismatch)))))
    }

    pub fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    pub fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    pub fn supported_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("not the one")]
    struct NotTheOne;

    #[test]
    fn the_pem_holds_the_der_and_only_the_pinned_certificate_passes() {
        let identity = Identity::generate().unwrap();
        assert!(identity.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"), "{}", identity.cert_pem);
        let parsed = rustls::pki_types::pem::PemObject::from_pem_slice(identity.cert_pem.as_bytes());
        let parsed: CertificateDer<'static> = parsed.unwrap();
        assert_eq!(parsed, identity.cert_der);

        let algorithms = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        let pinned = PinnedCertificate::new(identity.cert_der.clone(), algorithms);
        assert!(pinned.check(&identity.cert_der, NotTheOne).is_ok());
        let other = Identity::generate().unwrap();
        let refusal = pinned.check(&other.cert_der, NotTheOne).unwrap_err();
        assert!(matches!(refusal, rustls::Error::InvalidCertificate(CertificateError::Other(_))), "{refusal}");
    }
}
