//! The IPC floor: a blocking request/response round trip on a unix socket, with no HTTP/2, no
//! protobuf and no async runtime. Nothing that talks to a plugin over a socket can beat it.
//!
//! Both ends are pinned to CPUs, because where they run decides the result: on one CPU a round
//! trip is two syscalls and a local context switch each way; across CPUs every message must also
//! wake the other (idle) CPU, which on a small VM costs several times the rest. Left to the
//! scheduler, the same loop flips between the two from one phase to the next.

use crate::stats::Sequential;
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Instant;

/// About the size of a framed gRPC `Generate` request with one short message.
pub const REQUEST_BYTES: usize = 64;

/// A connection to an echo server thread in this process, on a fresh socket in a temp dir.
pub struct RawSocket {
    stream: UnixStream,
    client_cpu: usize,
    /// Removed (with the socket) on drop.
    _dir: tempfile::TempDir,
}

impl RawSocket {
    /// An echo server pinned to `echo_cpu`, measured from a client pinned to `client_cpu`.
    pub fn start(client_cpu: usize, echo_cpu: usize) -> io::Result<RawSocket> {
        let dir = tempfile::Builder::new().prefix("bench-floor-").tempdir()?;
        let path = dir.path().join("echo.sock");
        let listener = UnixListener::bind(&path)?;
        // Detached: blocked in accept() until the process exits, which is all it has to do.
        // Its connection threads inherit its CPU.
        std::thread::Builder::new().name("raw-echo".into()).spawn(move || {
            if pin_current_thread(echo_cpu).is_ok() {
                serve(listener);
            }
        })?;
        let stream = UnixStream::connect(&path)?;
        Ok(RawSocket { stream, client_cpu, _dir: dir })
    }

    /// `warm` untimed round trips, then `n` timed one by one, on a client thread of their own:
    /// pinning the caller would pin a tokio worker for the rest of the run.
    pub fn sequential(&mut self, warm: usize, n: usize) -> io::Result<Sequential> {
        let (stream, cpu) = (&mut self.stream, self.client_cpu);
        std::thread::scope(|scope| {
            let client = scope.spawn(move || {
                pin_current_thread(cpu)?;
                timed_round_trips(stream, warm)?;
                timed_round_trips(stream, n)
            });
            client.join().unwrap_or_else(|_| Err(io::Error::other("raw client thread panicked")))
        })
    }
}

fn timed_round_trips(stream: &mut UnixStream, n: usize) -> io::Result<Sequential> {
    let mut buf = [b'x'; REQUEST_BYTES];
    let mut latencies_ns = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        stream.write_all(&buf)?;
        stream.read_exact(&mut buf)?;
        latencies_ns.push(t0.elapsed().as_nanos() as u64);
    }
    let calls_per_s = n as f64 / start.elapsed().as_secs_f64();
    Ok(Sequential { latencies_ns, calls_per_s })
}

/// One thread per connection, so a second client never waits behind the first.
/// `bench-floor --serve-echo PATH`: the same echo as a process of its own, so that other
/// clients (the Python harness's asyncio floor) can measure a bare round trip. Serves until
/// killed.
pub fn serve_forever(path: &std::path::Path) -> io::Result<()> {
    let listener = UnixListener::bind(path)?;
    serve(listener);
    Ok(())
}

fn serve(listener: UnixListener) {
    for stream in listener.incoming().flatten() {
        let _ = std::thread::Builder::new().name("raw-echo-conn".into()).spawn(move || echo(stream));
    }
}

/// Sends every request back as it came, until the client hangs up.
fn echo(mut stream: UnixStream) {
    let mut buf = [0u8; REQUEST_BYTES];
    while stream.read_exact(&mut buf).is_ok() {
        if stream.write_all(&buf).is_err() {
            return;
        }
    }
}

/// The CPUs this process may run on (respects `taskset` and cgroup cpusets), in order.
pub fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: cpu_set_t is plain bits; sched_getaffinity fills at most its size.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(io::Error::last_os_error());
        }
        set
    };
    // SAFETY: CPU_ISSET only reads the set, for indices below CPU_SETSIZE.
    Ok((0..libc::CPU_SETSIZE as usize).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) }).collect())
}

fn pin_current_thread(cpu: usize) -> io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is the empty set; pid 0 means the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
