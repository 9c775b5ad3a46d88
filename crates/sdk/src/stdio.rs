//! go-plugin's `plugin.GRPCStdio` (docs/protocol.md §8.2): while the server runs, what the
//! plugin writes to stdout (a stray `print`, a library's chatter) is sent to the host over gRPC,
//! as go-plugin plugins do, where hosts log it as the plugin's output. stderr stays the pipe the
//! host reads log lines from.
//!
//! Nothing waits on the host: output beyond what is buffered while nobody reads is dropped and
//! counted (the server logs the count when it stops), so a plugin whose host never opens the
//! stream cannot block on `print`. The host opens the stream once per process; it ends when the
//! server stops, and stdout is the original one again.

use crate::proto::goplugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::goplugin::stdio_data::Channel;
use crate::proto::goplugin::StdioData;
use crate::{MessageLimits as _, ShutdownHandle, MAX_MESSAGE_SIZE};
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

/// Chunks of stdout waiting for the host (each at most [`CHUNK`] bytes).
const BUFFERED_CHUNKS: usize = 256;
const CHUNK: usize = 16 * 1024;

/// The stdout of this process, captured; served as `plugin.GRPCStdio`.
pub struct StdoutCapture {
    chunks: Mutex<Option<mpsc::Receiver<Vec<u8>>>>,
    dropped: Arc<AtomicU64>,
    /// The stdout the process had before, put back by [`restore`](Self::restore).
    original: Mutex<Option<OwnedFd>>,
}

impl StdoutCapture {
    /// Points fd 1 at a pipe read by a thread of its own. Call once, after the handshake line.
    pub fn start() -> std::io::Result<Arc<StdoutCapture>> {
        // SAFETY: dup of fd 1 into a new descriptor we own.
        let original = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 3) };
        if original < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: just created, owned here only.
        let original = unsafe { OwnedFd::from_raw_fd(original) };
        let (reader, writer) = cloexec_pipe()?;
        // SAFETY: dup2 onto stdout (which a child still inherits); `writer` is closed afterwards.
        if unsafe { libc::dup2(writer.as_raw_fd(), libc::STDOUT_FILENO) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        drop(writer);
        let (sender, receiver) = mpsc::channel(BUFFERED_CHUNKS);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        std::thread::Builder::new().name("plugin-stdout".into()).spawn(move || {
            block_signals();
            let mut pipe = std::fs::File::from(reader);
            let mut buffer = vec![0u8; CHUNK];
            loop {
                let n = match pipe.read(&mut buffer) {
                    Ok(0) => break, // stdout restored: no writer left
                    Ok(n) => n,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                if sender.try_send(buffer[..n].to_vec()).is_err() {
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        })?;
        Ok(Arc::new(StdoutCapture {
            chunks: Mutex::new(Some(receiver)),
            dropped,
            original: Mutex::new(Some(original)),
        }))
    }

    /// Bytes of stdout dropped because the host was not reading.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Puts the original stdout back (the reader thread then sees the pipe's end and exits).
    pub fn restore(&self) {
        if let Some(original) = self.original.lock().unwrap().take() {
            // SAFETY: dup2 of a descriptor we own onto fd 1.
            unsafe { libc::dup2(original.as_raw_fd(), libc::STDOUT_FILENO) };
        }
    }
}

/// A pipe whose ends children of the plugin do not inherit.
fn cloexec_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds we then own.
    #[cfg(target_os = "linux")]
    let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    // SAFETY: as above; macOS has no pipe2, so the flag is set right after.
    #[cfg(not(target_os = "linux"))]
    let made = unsafe { libc::pipe(fds.as_mut_ptr()) };
    if made != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned here only.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(not(target_os = "linux"))]
    for end in [&ends.0, &ends.1] {
        // SAFETY: fcntl on a descriptor we own.
        unsafe { libc::fcntl(end.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(ends)
}

/// The reader thread takes no signal: an interrupted read is no reason to stop, and a signal the
/// program handles belongs on its own threads.
fn block_signals() {
    // SAFETY: a full set, applied to this thread's mask only.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
}

/// The service over a capture: the first `StreamStdio` gets the output until the server stops.
#[derive(Clone)]
pub struct StdioService {
    capture: Arc<StdoutCapture>,
    stop: ShutdownHandle,
}

/// Response stream type of [`StdioService::stream_stdio`].
pub type StdioStream = tonic::codegen::BoxStream<StdioData>;

#[tonic::async_trait]
impl GrpcStdio for StdioService {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(&self, _request: Request<()>) -> Result<Response<StdioStream>, Status> {
        use futures_util::StreamExt as _;
        let Some(chunks) = self.capture.chunks.lock().unwrap().take() else {
            return Err(Status::failed_precondition("the plugin's stdout is already being streamed"));
        };
        // Ends at the stop, so the host's open stream does not hold the graceful stop back.
        let stop = self.stop.clone();
        let stream = tokio_stream::wrappers::ReceiverStream::new(chunks)
            .map(|data| Ok(StdioData { channel: Channel::Stdout as i32, data }))
            .take_until(Box::pin(async move { stop.requested().await }));
        Ok(Response::new(Box::pin(stream)))
    }
}

/// The service, ending its stream when `stop` is triggered; message limits raised.
pub fn stdio_server(capture: Arc<StdoutCapture>, stop: ShutdownHandle) -> GrpcStdioServer<StdioService> {
    GrpcStdioServer::new(StdioService { capture, stop }).with_max_message_size(MAX_MESSAGE_SIZE)
}
