//! The asyncio ↔ tokio bridge.
//!
//! A call runs on tokio and never touches Python there: its result is pushed, as a closure that
//! builds the Python value, onto a queue owned by the calling event loop, and the loop is woken
//! through a socket it watches (`loop.add_reader`) only when the queue goes from empty to
//! non-empty. The loop thread drains the whole batch, builds the values and resolves the futures.
//! No GIL hand-off and no `call_soon_threadsafe` per call: this is what makes an async call cost
//! about as much as the RPC itself (see DESIGN.md, "Performance").

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use tokio::task::AbortHandle;

/// Builds the Python result of a finished call; runs on the event loop thread with the GIL.
pub type Resolve = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Completions waiting for their event loop, plus the socket that wakes it.
struct CompletionQueue {
    items: Mutex<Vec<(u64, Resolve)>>,
    wake: UnixStream,
}

impl CompletionQueue {
    fn push(&self, id: u64, resolve: Resolve) {
        let first = {
            let mut items = self.items.lock().unwrap();
            items.push((id, resolve));
            items.len() == 1
        };
        if first {
            // A full socket buffer already means "wake up": WouldBlock is fine.
            let _ = (&self.wake).write(&[1]);
        }
    }
}

/// One per event loop: the futures it is waiting for, by id.
#[pyclass(module = "hector_plugins._core", frozen)]
pub struct Completer {
    queue: Arc<CompletionQueue>,
    reader: UnixStream,
    /// Shared with cancel callbacks, which drop the entry of a cancelled call.
    pending: Arc<Mutex<HashMap<u64, Py<PyAny>>>>,
    next_id: Mutex<u64>,
    event_loop: Py<PyAny>,
}

#[pymethods]
impl Completer {
    /// Called by the event loop when the wake socket is readable.
    fn _drain(&self, py: Python<'_>) -> PyResult<()> {
        let mut scratch = [0u8; 256];
        while matches!((&self.reader).read(&mut scratch), Ok(n) if n > 0) {}
        let batch = std::mem::take(&mut *self.queue.items.lock().unwrap());
        for (id, resolve) in batch {
            let Some(future) = self.pending.lock().unwrap().remove(&id) else { continue };
            let future = future.into_bound(py);
            let outcome = resolve(py);
            // A cancelled future is done: its result is dropped.
            if future.call_method0(intern!(py, "done"))?.is_truthy()? {
                continue;
            }
            match outcome {
                Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
                Err(error) => future.call_method1(intern!(py, "set_exception"), (error.into_value(py),))?,
            };
        }
        Ok(())
    }
}

impl Completer {
    fn new(py: Python<'_>, event_loop: Bound<'_, PyAny>) -> PyResult<Py<Completer>> {
        let (reader, wake) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        let fd = reader.as_raw_fd();
        let completer = Py::new(
            py,
            Completer {
                queue: Arc::new(CompletionQueue { items: Mutex::new(Vec::new()), wake }),
                reader,
                pending: Arc::new(Mutex::new(HashMap::new())),
                next_id: Mutex::new(0),
                event_loop: event_loop.clone().unbind(),
            },
        )?;
        let drain = completer.bind(py).getattr("_drain")?;
        event_loop.call_method1("add_reader", (fd, drain))?;
        Ok(completer)
    }

    /// A new asyncio future on this loop and the id its completion will carry.
    fn register<'py>(&self, py: Python<'py>) -> PyResult<(u64, Bound<'py, PyAny>)> {
        let future = self.event_loop.bind(py).call_method0(intern!(py, "create_future"))?;
        let id = {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            *next
        };
        self.pending.lock().unwrap().insert(id, future.clone().unbind());
        Ok((id, future))
    }
}

thread_local! {
    /// Completers of the event loops that ran on this thread. Never dropped at thread exit:
    /// the interpreter may be gone by then.
    static COMPLETERS: ManuallyDrop<RefCell<Vec<Py<Completer>>>> = ManuallyDrop::new(RefCell::new(Vec::new()));
}

/// The completer of the running event loop, created on first use.
fn completer_for_running_loop(py: Python<'_>) -> PyResult<Py<Completer>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get_running_loop = GET_RUNNING_LOOP.get_or_try_init(py, || {
        PyResult::Ok(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
    })?;
    let event_loop = get_running_loop.bind(py).call0()?;
    COMPLETERS.with(|completers| {
        let mut completers = completers.borrow_mut();
        if let Some(found) = completers.iter().find(|c| c.get().event_loop.bind(py).is(&event_loop)) {
            return Ok(found.clone_ref(py));
        }
        // Forget loops that were closed (asyncio.run makes a new loop each time).
        completers.retain(|c| {
            !c.get().event_loop.bind(py).call_method0("is_closed").and_then(|r| r.is_truthy()).unwrap_or(true)
        });
        let completer = Completer::new(py, event_loop)?;
        completers.push(completer.clone_ref(py));
        Ok(completer)
    })
}

/// Runs `work` on tokio and returns an asyncio future resolved by `convert(result)` on the
/// loop. Cancelling the future aborts the work (and with it the gRPC call).
pub fn spawn<'py, T, F>(
    py: Python<'py>,
    work: F,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: Future<Output = hector_plugins::Result<T>> + Send + 'static,
{
    let completer = completer_for_running_loop(py)?;
    let completer = completer.get();
    let (id, future) = completer.register(py)?;
    let queue = completer.queue.clone();
    let task = hector_plugins::runtime::runtime().spawn(async move {
        let outcome = work.await;
        let resolve: Resolve = Box::new(move |py| match outcome {
            Ok(value) => convert(py, value),
            Err(error) => Err(super::errors::to_pyerr(py, &error)),
        });
        queue.push(id, resolve);
    });
    let pending = completer.pending.clone();
    let abort = task.abort_handle();
    on_cancel(py, &future, move || {
        abort.abort();
        pending.lock().unwrap().remove(&id);
    })?;
    Ok(future)
}

/// Runs `cancelled` if the future ends up cancelled (a done-callback, on the loop thread).
fn on_cancel(py: Python<'_>, future: &Bound<'_, PyAny>, cancelled: impl Fn() + Send + Sync + 'static) -> PyResult<()> {
    let callback = PyCFunction::new_closure(py, None, None, move |args, _kwargs| -> PyResult<()> {
        if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
            cancelled();
        }
        Ok(())
    })?;
    future.call_method1(intern!(py, "add_done_callback"), (callback,))?;
    Ok(())
}

/// An awaitable whose value is already known: `await` returns it without a loop round trip.
#[pyclass(module = "hector_plugins._core")]
pub struct Ready {
    outcome: Option<PyResult<Py<PyAny>>>,
}

impl Ready {
    pub fn new(outcome: PyResult<Py<PyAny>>) -> Self {
        Ready { outcome: Some(outcome) }
    }
}

#[pymethods]
impl Ready {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> PyResult<Py<PyAny>> {
        match self.outcome.take() {
            Some(Ok(value)) => Err(PyStopIteration::new_err((value,))),
            Some(Err(error)) => Err(error),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}

/// How many items a stream buffers ahead of Python before the producer waits.
const STREAM_BUFFER: usize = 1024;

#[derive(Default)]
struct StreamState {
    items: VecDeque<Resolve>,
    finished: bool,
    /// The future an `__anext__` is waiting on, and the queue of its loop.
    waiter: Option<(u64, Arc<CompletionQueue>)>,
}

#[derive(Default)]
struct StreamShared {
    state: Mutex<StreamState>,
    space: tokio::sync::Notify,
}

impl StreamShared {
    /// The next item for Python: a buffered one, or the end.
    fn pop(&self) -> Option<Resolve> {
        let item = self.state.lock().unwrap().items.pop_front();
        if item.is_some() {
            self.space.notify_one();
        }
        item
    }
}

/// A Rust stream as a Python async iterator. Chunks that are ready are handed over without an
/// event-loop round trip each; the loop is woken only when Python is already waiting.
#[pyclass(module = "hector_plugins._core")]
pub struct AsyncStream {
    shared: Arc<StreamShared>,
    task: AbortHandle,
}

impl AsyncStream {
    /// Starts pulling `stream` on tokio; each item becomes a Python value through `convert`.
    pub fn start<S, T, C>(stream_opener: S, convert: C) -> AsyncStream
    where
        S: Future<Output = hector_plugins::Result<futures_util::stream::BoxStream<'static, hector_plugins::Result<T>>>> + Send + 'static,
        T: Send + 'static,
        C: Fn(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + Sync + Copy + 'static,
    {
        let shared = Arc::new(StreamShared::default());
        let producer = shared.clone();
        let task = hector_plugins::runtime::runtime().spawn(async move {
            use futures_util::StreamExt;
            let mut stream = match stream_opener.await {
                Ok(stream) => stream,
                Err(error) => {
                    deliver(&producer, Box::new(move |py| Err(super::errors::to_pyerr(py, &error))), true);
                    return;
                }
            };
            loop {
                let (resolve, last): (Resolve, bool) = match stream.next().await {
                    Some(Ok(item)) => (Box::new(move |py| convert(py, item)), false),
                    Some(Err(error)) => (Box::new(move |py| Err(super::errors::to_pyerr(py, &error))), true),
                    None => {
                        finish(&producer);
                        return;
                    }
                };
                deliver(&producer, resolve, last);
                if last {
                    return;
                }
                loop {
                    let space = producer.space.notified();
                    if producer.state.lock().unwrap().items.len() < STREAM_BUFFER {
                        break;
                    }
                    space.await;
                }
            }
        });
        AsyncStream { shared, task: task.abort_handle() }
    }

    fn close(&self) {
        self.task.abort();
        let mut state = self.shared.state.lock().unwrap();
        state.finished = true;
        state.items.clear();
    }
}

/// Buffers one item and wakes the waiting `__anext__`, if any.
fn deliver(shared: &Arc<StreamShared>, resolve: Resolve, last: bool) {
    let waiter = {
        let mut state = shared.state.lock().unwrap();
        state.items.push_back(resolve);
        state.finished |= last;
        state.waiter.take()
    };
    wake_waiter(shared, waiter);
}

fn finish(shared: &Arc<StreamShared>) {
    let waiter = {
        let mut state = shared.state.lock().unwrap();
        state.finished = true;
        state.waiter.take()
    };
    wake_waiter(shared, waiter);
}

fn wake_waiter(shared: &Arc<StreamShared>, waiter: Option<(u64, Arc<CompletionQueue>)>) {
    if let Some((id, queue)) = waiter {
        let shared = shared.clone();
        queue.push(
            id,
            Box::new(move |py| match shared.pop() {
                Some(resolve) => resolve(py),
                None => Err(PyStopAsyncIteration::new_err(())),
            }),
        );
    }
}

#[pymethods]
impl AsyncStream {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(resolve) = self.shared.pop() {
            return Ok(Bound::new(py, Ready::new(resolve(py)))?.into_any());
        }
        let completer = completer_for_running_loop(py)?;
        let completer = completer.get();
        let mut state = self.shared.state.lock().unwrap();
        // The producer may have pushed between pop() and this lock.
        if let Some(resolve) = state.items.pop_front() {
            drop(state);
            self.shared.space.notify_one();
            return Ok(Bound::new(py, Ready::new(resolve(py)))?.into_any());
        }
        if state.finished {
            return Err(PyStopAsyncIteration::new_err(()));
        }
        let (id, future) = completer.register(py)?;
        state.waiter = Some((id, completer.queue.clone()));
        drop(state);
        // Cancelling the waiting task cancels the whole stream (and the gRPC call).
        let shared = self.shared.clone();
        let task = self.task.clone();
        let pending = completer.pending.clone();
        on_cancel(py, &future, move || {
            task.abort();
            pending.lock().unwrap().remove(&id);
            let mut state = shared.state.lock().unwrap();
            state.finished = true;
            state.items.clear();
        })?;
        Ok(future)
    }

    /// Stops the stream early; the plugin sees the call cancelled.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.close();
        Ok(Bound::new(py, Ready::new(Ok(py.None())))?.into_any())
    }
}

impl Drop for AsyncStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}
