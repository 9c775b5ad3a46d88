//! The command line: behaviours a host test selects per launch.

/// What the server does besides serving MCP.
#[derive(Debug, Default)]
pub struct Flags {
    /// Read stdin and discard it; never write a byte to stdout.
    pub silent: bool,
    /// Write lines that are not JSON-RPC messages to stdout among the real ones.
    pub garbage: bool,
    /// Keep running after stdin closes, until killed.
    pub ignore_stdin_close: bool,
    /// Log lines to write to stderr at start.
    pub stderr_lines: u64,
}

pub const USAGE: &str =
    "usage: rmcp-test-server [--silent] [--garbage] [--exit-on-stdin-close | --ignore-stdin-close] [--stderr-lines N]";

impl Flags {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut flags = Flags::default();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--silent" => flags.silent = true,
                "--garbage" => flags.garbage = true,
                // The default, accepted so a test can spell it out.
                "--exit-on-stdin-close" => flags.ignore_stdin_close = false,
                "--ignore-stdin-close" => flags.ignore_stdin_close = true,
                "--stderr-lines" => {
                    let count = args.next().ok_or("--stderr-lines needs a count")?;
                    flags.stderr_lines =
                        count.parse().map_err(|_| format!("--stderr-lines: not a count: {count:?}"))?;
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(flags)
    }
}
