//! The portable launcher (docs/protocol.md §1.4), the one macOS uses, run here on real processes:
//! a shell script started through it, its exit status, its process group killed on request, on
//! its own exit and when the last handle is dropped, and what it inherits from the host (stdio,
//! environment, working directory, signal dispositions, descriptors).

use hector_plugins_host::portable_launcher::spawn;
use hector_plugins_host::supervised::{Command, PluginProcess};
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::unix::pipe;

/// One script, whose behaviour `MODE` picks. Arguments cannot pick it: a plugin gets none.
const SCRIPT: &str = r#"#!/bin/sh
case "$MODE" in
  exit) echo started; echo to-stderr >&2; exit 3 ;;
  # A child in the plugin's group: its pid first, then the plugin waits (or exits at once).
  family) sleep 300 & echo "$!"; wait ;;
  family-exit) sleep 300 & echo "$!"; exit 0 ;;
  signals) kill -USR2 $$; echo survived ;;
  inherited)
    if [ /dev/fd/0 -ef /dev/null ]; then echo "stdin null"; else echo "stdin other"; fi
    if [ -e "/dev/fd/$LEAK_FD" ]; then echo "fd leaked"; else echo "fd closed"; fi
    echo "ONLY=${ONLY:-unset} HOME=${HOME:-unset}"
    pwd ;;
esac
"#;

/// A hang guard, not a measurement: each wait here needs a tiny fraction of it.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// The script, written once before any test starts a process (a process forked while it is
/// open for writing would make its exec fail with ETXTBSY).
fn script() -> &'static Path {
    static WRITTEN: OnceLock<PathBuf> = OnceLock::new();
    WRITTEN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portable-launcher");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plugin.sh");
        std::fs::write(&path, SCRIPT).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    })
}

fn command(mode: &str, extra: &[(&str, &str)]) -> Command {
    let mut env: Vec<(OsString, OsString)> = vec![("MODE".into(), mode.into())];
    env.push(("PATH".into(), std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into())));
    env.extend(extra.iter().map(|(k, v)| (k.into(), v.into())));
    Command {
        program: script().to_owned(),
        args: Vec::new(),
        pipe_stdin: false,
        env,
        cwd: None,
        socket_dir: std::env::temp_dir(),
        executable: None,
        confinement: Default::default(),
    }
}

async fn start(command: Command) -> PluginProcess {
    match spawn(command).await {
        Ok(process) => process,
        Err(e) => panic!("the script did not start: {e}"),
    }
}

async fn guarded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT_LIMIT, future).await.unwrap_or_else(|_| panic!("no end to: {what}"))
}

async fn read_all(pipe: Option<pipe::Receiver>) -> String {
    let mut text = String::new();
    guarded("reading a pipe to its end", pipe.expect("piped").read_to_string(&mut text)).await.unwrap();
    text
}

/// The first stdout line: the pid of the child the script started in its group.
async fn first_line(process: &mut PluginProcess) -> (u32, BufReader<pipe::Receiver>) {
    let mut lines = BufReader::new(process.stdout.take().expect("piped"));
    let mut line = String::new();
    guarded("the script's first line", lines.read_line(&mut line)).await.unwrap();
    (line.trim().parse().unwrap_or_else(|_| panic!("not a pid: {line:?}")), lines)
}

/// Running, as opposed to gone or a zombie (an orphan's new parent may not reap it): `ps`
/// tells on Linux and macOS alike.
fn is_running(pid: u32) -> bool {
    let out = std::process::Command::new("ps").args(["-o", "stat=", "-p", &pid.to_string()]).output().unwrap();
    let stat = String::from_utf8_lossy(&out.stdout);
    let stat = stat.trim();
    !stat.is_empty() && !stat.starts_with('Z')
}

async fn wait_until_dead(pid: u32) {
    guarded(&format!("process {pid} dying"), async {
        while is_running(pid) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

fn process_group(pid: u32) -> i32 {
    // SAFETY: getpgid(2) reads nothing of ours.
    unsafe { libc::getpgid(pid as libc::pid_t) }
}

#[tokio::test]
async fn the_exit_status_and_output_are_the_plugins() {
    let mut process = start(command("exit", &[])).await;
    let (stdout, stderr) = (read_all(process.stdout.take()).await, read_all(process.stderr.take()).await);
    assert_eq!((stdout.as_str(), stderr.as_str()), ("started\n", "to-stderr\n"));
    let status = guarded("the exit", process.wait()).await.expect("a status");
    assert_eq!(status.code(), Some(3));
}

#[tokio::test]
async fn a_kill_takes_the_whole_group() {
    let mut process = start(command("family", &[])).await;
    let (child, _stdout) = first_line(&mut process).await;
    assert_eq!(process_group(process.pid), process.pid as i32, "the plugin leads its own group");
    assert_eq!(process_group(child), process.pid as i32, "its child is in that group");
    assert!(is_running(child));

    process.kill_handle.kill();
    let status = guarded("the exit", process.wait()).await.expect("a status");
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    wait_until_dead(child).await;
    // Reaped by the launcher: not even a zombie is left.
    assert!(!is_running(process.pid));
    process.kill_handle.kill(); // harmless once it is gone
}

#[tokio::test]
async fn what_the_plugin_leaves_in_its_group_dies_with_it() {
    let mut process = start(command("family-exit", &[])).await;
    let (child, _stdout) = first_line(&mut process).await;
    let status = guarded("the exit", process.wait()).await.expect("a status");
    assert_eq!(status.code(), Some(0));
    wait_until_dead(child).await;
}

#[tokio::test]
async fn dropping_the_last_handle_kills_the_group() {
    let mut process = start(command("family", &[])).await;
    let (child, _stdout) = first_line(&mut process).await;
    let plugin = process.pid;
    let extra_handle = process.kill_handle.clone();
    drop(process);
    assert!(is_running(child), "a clone of the handle is still held");
    drop(extra_handle);
    wait_until_dead(child).await;
    wait_until_dead(plugin).await;
}

#[tokio::test]
async fn signals_the_host_ignores_are_at_their_default_in_the_plugin() {
    // SAFETY: this test binary uses SIGUSR2 nowhere else.
    unsafe { libc::signal(libc::SIGUSR2, libc::SIG_IGN) };
    let mut process = start(command("signals", &[])).await;
    let stdout = read_all(process.stdout.take()).await;
    let status = guarded("the exit", process.wait()).await.expect("a status");
    assert_eq!((status.signal(), stdout.as_str()), (Some(libc::SIGUSR2), ""), "{status:?}");
}

#[tokio::test]
async fn only_stdio_the_given_environment_and_working_directory_are_inherited() {
    let null = std::fs::File::open("/dev/null").unwrap();
    // A descriptor without FD_CLOEXEC, as C code in the host might open one.
    // SAFETY: F_DUPFD makes a new fd, closed at the end of the test.
    let leaked = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&null), libc::F_DUPFD, 100) };
    assert!(leaked >= 100, "{}", std::io::Error::last_os_error());
    let dir = tempfile::tempdir().unwrap();
    let mut command = command("inherited", &[("ONLY", "this"), ("LEAK_FD", &leaked.to_string())]);
    command.cwd = Some(dir.path().to_owned());

    let mut process = start(command).await;
    let stdout = read_all(process.stdout.take()).await;
    // SAFETY: our own fd from above.
    unsafe { libc::close(leaked) };
    let cwd = dir.path().canonicalize().unwrap();
    let expected = format!("stdin null\nfd closed\nONLY=this HOME=unset\n{}\n", cwd.display());
    assert_eq!(stdout, expected);
    assert_eq!(guarded("the exit", process.wait()).await.and_then(|s| s.code()), Some(0));
}

#[tokio::test]
async fn start_failures_say_what_failed() {
    let mut missing = command("exit", &[]);
    missing.program = script().with_file_name("no-such-plugin");
    let error = spawn(missing).await.err().expect("no such executable");
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound, "{error}");

    let mut bad_dir = command("exit", &[]);
    bad_dir.cwd = Some(script().with_file_name("no-such-dir"));
    let error = spawn(bad_dir).await.err().expect("no such working directory");
    assert!(error.to_string().contains("cannot change to its working directory"), "{error}");
}
