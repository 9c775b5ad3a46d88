//! go-plugin's `plugin.GRPCStdio/StreamStdio`: Go plugins that redirect their stdout/stderr send
//! it over gRPC and block when nobody reads, so the host reads it for the plugin's whole life
//! (docs/protocol.md §8.2). Its lines pass the plugin's log budget like those of its pipes (§5.2).

use crate::log_budget::LogGate;
use crate::logs::{Level, LineLogger, LineSplitter, LogRecord, Source, MAX_LINE_BYTES};
use crate::proto::goplugin::grpc_stdio_client::GrpcStdioClient;
use crate::proto::goplugin::stdio_data::Channel as StdioChannel;
use crate::proto::goplugin::StdioData;
use crate::transport::{origin, PluginChannel};
use std::sync::Arc;

pub async fn forward(channel: PluginChannel, gate: Arc<LogGate>) {
    let (plugin, sink) = (gate.plugin().to_string(), gate.sink().clone());
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
    while let Some(data) = next_message(&mut stream, &gate).await {
        let is_stderr = data.channel == StdioChannel::Stderr as i32;
        let splitter = if is_stderr { &mut err_lines } else { &mut out_lines };
        let mut admission = gate.admission();
        splitter.feed(&data.data, |line| {
            if admission.admit(line.len()) {
                logger.log(&String::from_utf8_lossy(line));
            }
        });
    }
    gate.flush();
}

/// The stream's next message (`None`: it ended). While the gate has drops to report, waits no
/// longer than until they are due, and reports them then.
async fn next_message(stream: &mut tonic::Streaming<StdioData>, gate: &LogGate) -> Option<StdioData> {
    loop {
        let Some(due) = gate.report_due() else { return stream.message().await.ok().flatten() };
        match tokio::time::timeout_at(tokio::time::Instant::from_std(due), stream.message()).await {
            Ok(message) => return message.ok().flatten(),
            Err(_elapsed) => gate.report_if_due(),
        }
    }
}
