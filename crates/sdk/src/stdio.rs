//! go-plugin's `plugin.GRPCStdio` (docs/protocol.md §8.2): after the handshake line, what the
//! plugin writes to stdout (a stray `print`, a library's chatter) is sent to the host over gRPC,
//! as go-plugin plugins do, where hosts log it as the plugin's output. stderr stays the pipe the
//! host reads log lines from.
//!
//! Nothing waits on the host: output beyond what is buffered while nobody reads is dropped
//! (and counted), so a plugin whose host never opens the stream cannot block on `print`.

use crate::proto::goplugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::goplugin::stdio_data::Channel;
use crate::proto::goplugin::StdioData;
use crate::{MessageLimits as _, MAX_MESSAGE_SIZE};
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
}

impl StdoutCapture {
    /// Points fd 1 at a pipe read by a thread of its own. Call once, after the handshake line.
    pub fn start() -> std::io::Result<Arc<StdoutCapture>> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds we then own.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned here only.
        let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: dup2 onto stdout; `writer` is closed afterwards, fd 1 keeps the pipe open.
        if unsafe { libc::dup2(writer.as_raw_fd(), libc::STDOUT_FILENO) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        drop(writer);
        let (sender, receiver) = mpsc::channel(BUFFERED_CHUNKS);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        std::thread::Builder::new().name("plugin-stdout".into()).spawn(move || {
            let mut pipe = std::fs::File::from(reader);
            let mut buffer = vec![0u8; CHUNK];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                if sender.try_send(buffer[..n].to_vec()).is_err() {
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        })?;
        Ok(Arc::new(StdoutCapture { chunks: Mutex::new(Some(receiver)), dropped }))
    }

    /// Bytes of stdout dropped because the host was not reading.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The service over a capture; one stream at a time, as go-plugin hosts open one.
#[derive(Clone)]
pub struct StdioService(Arc<StdoutCapture>);

/// Response stream type of [`StdioService::stream_stdio`].
pub type StdioStream = tonic::codegen::BoxStream<StdioData>;

#[tonic::async_trait]
impl GrpcStdio for StdioService {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(&self, _request: Request<()>) -> Result<Response<StdioStream>, Status> {
        use tokio_stream::StreamExt as _;
        let Some(chunks) = self.0.chunks.lock().unwrap().take() else {
            return Err(Status::failed_precondition("the plugin's stdout is already being streamed"));
        };
        let stream = tokio_stream::wrappers::ReceiverStream::new(chunks)
            .map(|data| Ok(StdioData { channel: Channel::Stdout as i32, data }));
        Ok(Response::new(Box::pin(stream)))
    }
}

/// The service, message limits raised.
pub fn stdio_server(capture: Arc<StdoutCapture>) -> GrpcStdioServer<StdioService> {
    GrpcStdioServer::new(StdioService(capture)).with_max_message_size(MAX_MESSAGE_SIZE)
}
