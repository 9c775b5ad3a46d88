//! The host's own certificate for automatic mTLS (docs/protocol.md §3.5): self-signed, made once
//! per host process, handed to every plugin as `PLUGIN_CLIENT_CERT` and presented on every TLS
//! connection. Only the certificate leaves the process; its key never does.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::{Arc, OnceLock};

/// A certificate and its private key.
#[derive(Debug)]
pub struct Identity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone_key())
    }
}

/// The host's identity, generated on first use.
pub fn host_identity() -> Result<Arc<Identity>, String> {
    static IDENTITY: OnceLock<Result<Arc<Identity>, String>> = OnceLock::new();
    IDENTITY.get_or_init(|| generate().map(Arc::new)).clone()
}

/// A fresh self-signed certificate shaped like go-plugin's: for `localhost` (the server name both
/// sides use), usable for client and server authentication, and its own CA, since each side
/// trusts exactly the other's certificate. ECDSA P-256: go-plugin accepts any ECDSA curve.
pub fn generate() -> Result<Identity, String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
    let failed = |e: rcgen::Error| format!("cannot generate the automatic mTLS certificate: {e}");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(failed)?;
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.distinguished_name.push(DnType::OrganizationName, "hector-plugins");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok(Identity {
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pem_holds_the_der_and_the_identity_is_made_once() {
        let identity = generate().unwrap();
        assert!(identity.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"), "{}", identity.cert_pem);
        let parsed = rustls::pki_types::pem::PemObject::from_pem_slice(identity.cert_pem.as_bytes());
        let parsed: CertificateDer<'static> = parsed.unwrap();
        assert_eq!(parsed, identity.cert_der);
        assert!(Arc::ptr_eq(&host_identity().unwrap(), &host_identity().unwrap()));
    }
}
