//! A server whose certificate no trusted authority signed: the client must refuse it, send nothing, and
//! say so in words a technician understands.
//!
//! tests/tls/untrusted-localhost.*.pem is a throwaway self-signed pair made for this test only:
//! `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=localhost
//!  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout untrusted-localhost.key.pem -out untrusted-localhost.cert.pem`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ota_clouds::http::{build_client, BaseUrl, HttpConfig};
use ota_clouds::vicohome::{VicohomeClient, VicohomeOptions};
use ota_clouds::RetryPolicy;
use ota_core::cloud::{Credentials, SessionCache};
use ota_core::{ErrorKind, Secret};
use tokio::io::AsyncReadExt;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CERT: &[u8] = include_bytes!("tls/untrusted-localhost.cert.pem");
const KEY: &[u8] = include_bytes!("tls/untrusted-localhost.key.pem");

/// A TLS server that counts how many requests got through the handshake (there must be none).
async fn untrusted_server() -> (String, Arc<AtomicUsize>) {
    let cert = CertificateDer::from_pem_slice(CERT).unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 64];
                    if tls.read(&mut buf).await.unwrap_or(0) > 0 {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    (format!("https://localhost:{}", addr.port()), requests)
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_and_explained() {
    let (url, requests) = untrusted_server().await;
    let client = VicohomeClient::new(
        build_client(&HttpConfig::default()).unwrap(),
        BaseUrl::parse(&url).unwrap(),
        Credentials {
            username: Some("tech@example.com".into()),
            secret: Secret::new("never-sent"),
        },
        SessionCache::in_memory(),
        VicohomeOptions {
            retry: RetryPolicy::default(),
            ..VicohomeOptions::default()
        },
    )
    .unwrap();
    let err = client.sign_in().await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Offline);
    assert!(
        err.message.contains("certificate was rejected"),
        "{}",
        err.message
    );
    assert!(err.message.contains("localhost"), "{}", err.message);
    assert!(err.hint.is_some());
    assert!(
        !ota_clouds::retry::is_retryable(&err),
        "a rejected certificate is not retried"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "no request (and no password) was sent"
    );
}
