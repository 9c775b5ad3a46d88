//! `--garbage`: stdout with lines that are not JSON-RPC messages among the real ones, for
//! the host's tolerance of a noisy server.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::AsyncWrite;

/// Written once before serving: text, broken JSON, and well-formed JSON that is no message.
const PREAMBLE: &[u8] = b"rmcp-test-server: this line is not JSON\n\
{\"broken\": \n\
{\"hello\":\"a JSON object that is not a JSON-RPC message\"}\n";

/// Written before every message the server sends.
const NOISE_LINE: &[u8] = b"rmcp-test-server: noise before a message\n";

pub fn write_preamble() -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(PREAMBLE)?;
    stdout.flush()
}

/// A writer that puts `NOISE_LINE` before each line written through it. rmcp writes one JSON
/// message per line, so every message is preceded by noise.
pub struct NoisyLines<W> {
    inner: W,
    at_line_start: bool,
    /// How much of `NOISE_LINE` is written, while it is being written.
    noise_written: Option<usize>,
}

impl<W> NoisyLines<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, at_line_start: true, noise_written: None }
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for NoisyLines<W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.at_line_start {
            let written = this.noise_written.get_or_insert(0);
            while *written < NOISE_LINE.len() {
                match ready!(Pin::new(&mut this.inner).poll_write(cx, &NOISE_LINE[*written..]))? {
                    0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    n => *written += n,
                }
            }
            this.noise_written = None;
            this.at_line_start = false;
        }
        // At most one line per call, so the next line starts a fresh call.
        let line_end = buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |i| i + 1);
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..line_end]))?;
        this.at_line_start = n > 0 && buf[n - 1] == b'\n';
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
