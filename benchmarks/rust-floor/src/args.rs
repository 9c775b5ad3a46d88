//! Command-line flags. Hand-parsed: a handful of `--flag value` pairs do not justify a parser
//! dependency in the workspace.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: bench-floor (--address ADDRESS | --launch PLUGIN) [options]
       bench-floor --serve-echo PATH    (a 64-byte echo on a unix socket, until killed)

  --address A        gRPC address of a running echo LLM plugin: unix:/path/to/sock or a bare path
  --launch PATH      start the plugin at PATH through hector_plugins first (standalone runs)
  --calls N          calls per measurement (default 5000)
  --rounds R         rounds, client order alternating (default 5)
  --stream-chunks C  TEXT chunks in the streaming workload (default 10000)
  --samples-dir DIR  write DIR/<client>.txt: per-call ns of the last sequential round
  --workers W        tokio worker threads (default 2)
  --current-thread   one thread instead: IO, HTTP/2 connection and calls on the calling thread
                     (what a transport driven from the caller's event loop would do)

Prints one JSON object on stdout; progress goes to stderr.";

#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub address: Option<String>,
    pub launch: Option<PathBuf>,
    pub calls: usize,
    pub rounds: usize,
    pub stream_chunks: usize,
    pub samples_dir: Option<PathBuf>,
    pub workers: usize,
    pub current_thread: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            address: None,
            launch: None,
            calls: 5000,
            rounds: 5,
            stream_chunks: 10000,
            samples_dir: None,
            workers: 2,
            current_thread: false,
        }
    }
}

impl Args {
    /// Parses the flags (without the program name); accepts `--flag value` and `--flag=value`.
    pub fn parse(raw: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut raw = raw.into_iter();
        let mut args = Args::default();
        while let Some(flag) = raw.next() {
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (flag.clone(), None),
            };
            let mut value = || inline.clone().or_else(|| raw.next()).ok_or_else(|| format!("{name} needs a value"));
            match name.as_str() {
                "--address" => args.address = Some(value()?),
                "--launch" => args.launch = Some(value()?.into()),
                "--calls" => args.calls = count(&name, &value()?)?,
                "--rounds" => args.rounds = count(&name, &value()?)?,
                "--stream-chunks" => args.stream_chunks = count(&name, &value()?)?,
                "--samples-dir" => args.samples_dir = Some(value()?.into()),
                "--workers" => args.workers = count(&name, &value()?)?,
                "--current-thread" if inline.is_none() => args.current_thread = true,
                _ => return Err(format!("unknown argument {flag:?}")),
            }
        }
        match (&args.address, &args.launch) {
            (None, None) => Err("--address (or --launch) is required".into()),
            (Some(_), Some(_)) => Err("give --address or --launch, not both".into()),
            _ => Ok(args),
        }
    }

    /// Warm-up calls before each measurement, as the Python benchmark does.
    pub fn warm_up_calls(&self) -> usize {
        (self.calls / 10).max(50)
    }
}

/// A count of at least 1: zero calls, rounds or workers would only produce empty statistics.
fn count(name: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name} must be a positive integer, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, String> {
        Args::parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn defaults_and_both_spellings() {
        let args = parse("--address unix:/tmp/s --calls=500 --rounds 2").unwrap();
        assert_eq!(args.address.as_deref(), Some("unix:/tmp/s"));
        assert_eq!((args.calls, args.rounds, args.stream_chunks, args.workers), (500, 2, 10000, 2));
        assert_eq!(args.warm_up_calls(), 50);
    }

    #[test]
    fn refuses_bad_input() {
        assert!(parse("").is_err());
        assert!(parse("--address a --launch b").is_err());
        assert!(parse("--address a --calls 0").is_err());
        assert!(parse("--address").is_err());
        assert!(parse("--address a --bogus 1").is_err());
    }
}
