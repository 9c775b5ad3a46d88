//! A test MCP server built with rmcp's server side, for the host's MCP tests: an implementation
//! independent of the Python `mcp` example (examples/python-mcp/notes_server.py), with tools and
//! flags that make it misbehave on purpose.
//!
//! It speaks MCP over stdio (stdin/stdout carry JSON-RPC, one message a line); logs go to
//! stderr only. Tools: `add` (structured), `echo`, `fail` (isError), `protocol_error` (a JSON-RPC
//! error), `slow` (notices cancellation), `crash` (exits mid-call), `image` (text, image and
//! resource parts) and `add_tool` (registers a tool and sends tools/list_changed).
//!
//! Flags: `--silent` (never answers), `--garbage` (non-JSON-RPC lines on stdout), `--ignore-stdin-close`
//! (keeps running after stdin closes; `--exit-on-stdin-close`, exit 0, is the default) and
//! `--stderr-lines N` (N log lines at start).

mod flags;
mod garbage;
mod tools;

use flags::Flags;
use rmcp::service::ServerInitializeError;
use rmcp::ServiceExt;
use tokio::io::AsyncWriteExt;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let flags = match Flags::parse(std::env::args().skip(1)) {
        Ok(flags) => flags,
        Err(error) => {
            eprintln!("rmcp-test-server: {error}\n{}", flags::USAGE);
            std::process::exit(2);
        }
    };
    for n in 1..=flags.stderr_lines {
        eprintln!("rmcp-test-server: log line {n} of {}", flags.stderr_lines);
    }

    if flags.silent {
        discard_stdin().await;
    } else if let Err(error) = serve(&flags).await {
        eprintln!("rmcp-test-server: {error}");
        std::process::exit(1);
    }

    eprintln!("rmcp-test-server: stdin closed");
    if flags.ignore_stdin_close {
        eprintln!("rmcp-test-server: staying up until killed");
        std::future::pending::<()>().await;
    }
}

/// Serves MCP until stdin closes.
async fn serve(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let (stdin, stdout) = rmcp::transport::stdio();
    if flags.garbage {
        garbage::write_preamble()?;
        serve_on(stdin, garbage::NoisyLines::new(stdout)).await
    } else {
        serve_on(stdin, stdout).await
    }
}

async fn serve_on<W>(stdin: tokio::io::Stdin, stdout: W) -> Result<(), Box<dyn std::error::Error>>
where
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let running = match tools::TestServer::new().serve((stdin, stdout)).await {
        Ok(running) => running,
        // stdin closed before the handshake: a host that gave up early, not a failure.
        Err(ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    running.waiting().await?;
    Ok(())
}

/// `--silent`: reads stdin to its end and answers nothing.
async fn discard_stdin() {
    let mut sink = tokio::io::sink();
    let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut sink).await;
    let _ = sink.shutdown().await;
}
