//! go-plugin's `plugin.GRPCStdio/StreamStdio`: Go plugins that redirect their stdout/stderr send
//! it over gRPC and block when nobody reads, so the host reads it for the plugin's whole life
//! (docs/protocol.md §8.2).

use crate::logs::{Level, LineLogger, LineSplitter, LogRecord, LogSink, Source, MAX_LINE_BYTES};
use crate::proto::goplugin::grpc_stdio_client::GrpcStdioClient;
use crate::proto::goplugin::stdio_data::Channel as StdioChannel;
use crate::transport::{origin, PluginChannel};
use std::sync::Arc;

pub async fn forward(channel: PluginChannel, plugin: String, sink: Arc<dyn LogSink>) {
    let limit = channel.max_message_bytes();
    let mut client = GrpcStdioClient::with_origin(channel, origin()).max_decoding_message_size(limit);
    let mut stream = match client.stream_stdio(()).await {
        Ok(response) => response.into_inner(),
        Err(status) => {
            // Only go-plugin plugins serve it; the others' output still arrives on their pipes.
            let message = match status.code() {
                tonic::Code::Unimplemented | tonic::Code::Unknown => {
                    "the plugin has no go-plugin GRPCStdio service (normal for plugins not built with go-plugin); \
                     its stdout and stderr are read from its pipes"
                        .to_string()
                }
                code => format!(
                    "go-plugin's GRPCStdio stream could not be opened ({}: {}); stdout and stderr are still read \
                     from the plugin's pipes",
                    crate::error::code_name(code),
                    status.message()
                ),
            };
            sink.log(LogRecord::plain(plugin, Level::Trace, message, Source::GrpcStdio));
            return;
        }
    };
    let mut out_lines = LineSplitter::new(MAX_LINE_BYTES);
    let mut err_lines = LineSplitter::new(MAX_LINE_BYTES);
    let mut logger = LineLogger::new(plugin, sink, Source::GrpcStdio);
    while let Ok(Some(data)) = stream.message().await {
        let is_stderr = data.channel == StdioChannel::Stderr as i32;
        let splitter = if is_stderr { &mut err_lines } else { &mut out_lines };
        splitter.feed(&data.data, |line| logger.log(&line));
    }
}
