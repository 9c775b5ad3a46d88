//! gRPC channels to a plugin over a unix socket or TCP (PROTOCOL.md §3).

use crate::handshake::Address;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// Like the Go host: accept messages up to 2^31-1 bytes both ways (tonic's default is 4 MiB).
pub const MAX_MESSAGE_BYTES: usize = i32::MAX as usize;

/// Opens an HTTP/2 channel to the address a plugin printed. Plaintext: automatic mTLS is not
/// requested by this host yet.
pub async fn connect(address: &Address, timeout: Duration) -> Result<Channel, String> {
    let connecting = async {
        match address {
            Address::Unix(path) => {
                let path = path.clone();
                // The URI is only used for the :authority header; the connector ignores it.
                endpoint("http://localhost")?
                    .connect_with_connector(tower::service_fn(move |_| {
                        let path = path.clone();
                        async move {
                            let stream = tokio::net::UnixStream::connect(path).await?;
                            Ok::<_, std::io::Error>(TokioIo::new(stream))
                        }
                    }))
                    .await
                    .map_err(|e| describe(&e))
            }
            Address::Tcp(addr) => endpoint(&format!("http://{addr}"))?.connect().await.map_err(|e| describe(&e)),
        }
    };
    match tokio::time::timeout(timeout, connecting).await {
        Ok(result) => result.map_err(|e| format!("cannot connect to {address}: {e}")),
        Err(_) => Err(format!("cannot connect to {address}: timed out after {:.1}s", timeout.as_secs_f64())),
    }
}

fn endpoint(uri: &str) -> Result<Endpoint, String> {
    Ok(Endpoint::from_shared(uri.to_string())
        .map_err(|e| format!("bad address {uri:?}: {e}"))?
        .tcp_nodelay(true)
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(8 << 20)))
}

/// tonic's transport errors hide the cause behind "transport error"; show the chain.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
