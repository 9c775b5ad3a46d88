//! A queue filled from tokio threads and emptied by an event loop, which it wakes through a
//! socket the loop watches (`loop.add_reader`), only when the queue goes from empty to non-empty:
//! one wake-up per batch. Both directions of the bridge use it: completions of calls to plugins
//! (`mod.rs`) and calls into Python plugins (`inbox.rs`).

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

pub struct WakeQueue<T> {
    items: Mutex<Vec<T>>,
    wake: UnixStream,
    /// Set when the loop stopped watching: items are refused (dropped) instead of piling up.
    closed: AtomicBool,
}

impl<T> WakeQueue<T> {
    /// A queue and the socket end the loop watches.
    pub fn new() -> std::io::Result<(WakeQueue<T>, UnixStream)> {
        let (reader, wake) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        Ok((WakeQueue { items: Mutex::new(Vec::new()), wake, closed: AtomicBool::new(false) }, reader))
    }

    /// Queues `item`, waking the loop if it was idle; false (and `item` dropped) once closed.
    pub fn push(&self, item: T) -> bool {
        let first = {
            let mut items = self.items.lock().unwrap();
            if self.closed.load(Ordering::Acquire) {
                return false;
            }
            items.push(item);
            items.len() == 1
        };
        if first {
            // A full socket buffer already means "wake up": EAGAIN is fine. MSG_NOSIGNAL: a
            // closed loop must not raise SIGPIPE in a host that restored its default action.
            // SAFETY: a one-byte send on a socket we own.
            unsafe {
                libc::send(self.wake.as_raw_fd(), [1u8].as_ptr().cast(), 1, libc::MSG_NOSIGNAL);
            }
        }
        true
    }

    /// On the loop thread, when `reader` is readable: everything queued so far.
    pub fn take(&self, reader: &UnixStream) -> Vec<T> {
        let mut scratch = [0u8; 256];
        while matches!((&*reader).read(&mut scratch), Ok(n) if n > 0) {}
        std::mem::take(&mut *self.items.lock().unwrap())
    }

    /// Refuses further items and returns (to drop) those still queued.
    pub fn close(&self) -> Vec<T> {
        let mut items = self.items.lock().unwrap();
        self.closed.store(true, Ordering::Release);
        std::mem::take(&mut *items)
    }
}
