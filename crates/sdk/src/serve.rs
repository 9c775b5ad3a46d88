//! The plugin's entry point: [`serve`] checks the environment the
//! host gave, listen, print the handshake line, then run the server (docs/protocol.md §1–§3).
//! The steps are listed in the [crate docs](crate).

use crate::mtls::ServerTls;
use crate::server::{run_server, Endpoint, ResponseBody, RouterService};
use crate::{env, json, listener, socket_dir, Logger, SdkError, ServeOptions};
use tokio::signal::unix::{signal, SignalKind};
use tonic::service::Routes;
use tonic::transport::server::Router;

/// Reads the cookie and `PLUGIN_PROTOCOL_VERSIONS` from the process environment and returns the
/// app protocol version to announce. [`serve`] calls this and exits on error; call it yourself
/// to handle the error differently.
pub fn check_environment(opts: &ServeOptions) -> Result<u32, SdkError> {
    opts.validate()?;
    let cookie = std::env::var_os(&opts.magic_cookie_key);
    env::check_cookie(opts, cookie.as_deref().and_then(|v| v.to_str()))?;
    let versions = std::env::var(env::ENV_PROTOCOL_VERSIONS).ok();
    env::negotiate_version(versions.as_deref(), &opts.protocol_versions)
}

/// Runs the plugin side of the go-plugin protocol around `router` (your services) until the host
/// or a signal stops it. See the [crate docs](crate) for the steps.
///
/// Do not add `grpc.health.v1.Health` or `plugin.GRPCController` to `router` yourself: they are
/// added here, and tonic panics on a duplicate service.
///
/// Exits the process with status 1 (after a message on stderr) when the cookie is wrong or no
/// protocol version is common, like go-plugin. Other failures are returned.
pub async fn serve<L, ResBody>(opts: ServeOptions, router: Router<L>) -> Result<(), SdkError>
where
    L: tower::Layer<Routes>,
    L::Service: RouterService<ResBody>,
    ResBody: ResponseBody,
{
    let version = match check_environment(&opts) {
        Ok(version) => version,
        Err(err @ (SdkError::NotLaunchedByHost { .. } | SdkError::NoCommonVersion { .. })) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
        Err(err) => return Err(err),
    };

    // Install the handlers before the handshake: from then on the host may signal us.
    let mut sigterm = signal(SignalKind::terminate()).map_err(SdkError::Signal)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(SdkError::Signal)?;
    let signals = async move {
        tokio::select! {
            _ = sigterm.recv() => "SIGTERM",
            _ = sigint.recv() => "SIGINT",
        }
    };
    serve_checked(opts, version, router, signals).await
}

/// [`serve`] after its environment check, for a plugin runtime that checks the environment
/// ([`check_environment`]) and handles signals itself: the Python SDK, whose event loop owns
/// SIGTERM and SIGINT. `external_stop` completes (naming the reason) when the plugin should stop.
pub async fn serve_checked<L, ResBody>(
    opts: ServeOptions,
    version: u32,
    router: Router<L>,
    external_stop: impl std::future::Future<Output = &'static str>,
) -> Result<(), SdkError>
where
    L: tower::Layer<Routes>,
    L::Service: RouterService<ResBody>,
    ResBody: ResponseBody,
{
    let log = Logger::named("plugin-sdk");
    // The host offers automatic mTLS by giving its certificate (docs/protocol.md §3.5).
    let tls = match std::env::var(env::ENV_CLIENT_CERT) {
        Ok(pem) if !pem.is_empty() => Some(ServerTls::for_host_certificate(&pem)?),
        _ => None,
    };

    let dir = socket_dir(std::env::var(env::ENV_UNIX_SOCKET_DIR).ok().as_deref());
    let group = std::env::var(env::ENV_UNIX_SOCKET_GROUP).ok();
    let (listener, socket) = listener::bind(&dir, group.as_deref())?;
    let socket_path = socket.path().to_string_lossy().into_owned();

    let host_asked_mux = std::env::var_os(env::ENV_MULTIPLEX_GRPC).is_some_and(|v| !v.is_empty());
    let cert = tls.as_ref().map(ServerTls::certificate);
    write_handshake(&env::handshake_line(version, &socket_path, cert, host_asked_mux))?;
    log.debug(
        "plugin server listening",
        &[
            ("address", json!(socket_path)),
            ("network", json!("unix")),
            ("version", json!(version)),
            ("tls", json!(tls.is_some())),
        ],
    );

    // From here on stdout is the host's GRPCStdio stream, not the pipe that carried the line.
    let stdout = match crate::stdio::StdoutCapture::start() {
        Ok(capture) => Some(capture),
        Err(error) => {
            log.warn("stdout is not captured for GRPCStdio", &[("error", json!(error.to_string()))]);
            None
        }
    };
    run_server(router, Endpoint { listener, socket, tls }, &opts, external_stop, stdout, &log).await
}

/// Writes the handshake line in one go and flushes it, so the host sees it at once whatever
/// buffering stdout has.
fn write_handshake(line: &str) -> Result<(), SdkError> {
    use std::io::Write as _;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(line.as_bytes()).and_then(|()| out.flush()).map_err(SdkError::Handshake)
}
