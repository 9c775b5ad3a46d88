//! Server streams as Python async iterators: chunks that are ready are handed over in batches,
//! and the event loop is woken only when Python is already waiting.

use super::*;

/// How many items a stream buffers ahead of Python before the producer waits.
const STREAM_BUFFER: usize = 1024;

#[derive(Default)]
struct StreamState {
    items: VecDeque<Resolve>,
    finished: bool,
    /// Set when Python cancelled the stream: later reads say so instead of looking like a
    /// normal end.
    cancelled: bool,
    /// Set when Python closed or cancelled the stream: nothing more is buffered.
    closed: bool,
    /// The future an `__anext__` is waiting on, and the queue of its loop.
    waiter: Option<(u64, Arc<CompletionQueue>)>,
}

#[derive(Default)]
struct StreamShared {
    state: Mutex<StreamState>,
    space: tokio::sync::Notify,
    plugin: String,
}

impl StreamShared {
    /// The next buffered item, if any.
    fn pop(&self) -> Option<Resolve> {
        let item = self.state.lock().unwrap().items.pop_front();
        if item.is_some() {
            self.space.notify_one();
        }
        item
    }

    /// What a read returns once nothing is buffered.
    fn end(&self, cancelled: bool) -> PyErr {
        if cancelled {
            let state = hector_plugins_host::error::Closed::Cancelled;
            let error = hector_plugins_host::Error::Closed { plugin: self.plugin.clone(), state };
            Python::attach(|py| crate::errors::to_pyerr(py, &error))
        } else {
            PyStopAsyncIteration::new_err(())
        }
    }
}

/// A Rust stream as a Python async iterator. Chunks that are ready are handed over without an
/// event-loop round trip each; the loop is woken only when Python is already waiting.
#[pyclass(module = "hector_plugins._core", frozen)]
pub struct AsyncStream {
    shared: Arc<StreamShared>,
    task: AbortHandle,
}

impl AsyncStream {
    /// Starts pulling `stream` on tokio; each item becomes a Python value through `convert`.
    pub fn start<S, T, C>(plugin: &str, stream_opener: S, convert: C) -> AsyncStream
    where
        S: Future<
                Output = hector_plugins_host::Result<
                    futures_util::stream::BoxStream<'static, hector_plugins_host::Result<T>>,
                >,
            > + Send
            + 'static,
        T: Send + 'static,
        C: Fn(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + Sync + Copy + 'static,
    {
        use futures_util::FutureExt;
        let shared = Arc::new(StreamShared { plugin: plugin.to_string(), ..Default::default() });
        let producer = shared.clone();
        let pull = async move {
            use futures_util::StreamExt;
            let mut stream = match stream_opener.await {
                Ok(stream) => stream,
                Err(error) => {
                    deliver(&producer, Box::new(move |py| Err(crate::errors::to_pyerr(py, &error))), true);
                    return;
                }
            };
            loop {
                let (resolve, last): (Resolve, bool) = match stream.next().await {
                    Some(Ok(item)) => (Box::new(move |py| convert(py, item)), false),
                    Some(Err(error)) => (Box::new(move |py| Err(crate::errors::to_pyerr(py, &error))), true),
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
        };
        let on_panic = shared.clone();
        let task = hector_plugins_host::runtime::runtime().spawn(async move {
            if let Err(panic) = std::panic::AssertUnwindSafe(pull).catch_unwind().await {
                let message = panic_message(&panic);
                let resolve: Resolve = Box::new(move |_py| Err(crate::errors::internal_error(message)));
                deliver(&on_panic, resolve, true);
            }
        });
        AsyncStream { shared, task: task.abort_handle() }
    }

    /// Stops the producer (cancelling the gRPC call) and ends any waiting read.
    fn close(&self, cancelled: bool) {
        self.task.abort();
        let waiter = {
            let mut state = self.shared.state.lock().unwrap();
            state.finished = true;
            state.closed = true;
            state.cancelled |= cancelled;
            state.items.clear();
            state.waiter.take()
        };
        wake_waiter(&self.shared, waiter);
    }
}

/// Buffers one item and wakes the waiting `__anext__`, if any.
fn deliver(shared: &Arc<StreamShared>, resolve: Resolve, last: bool) {
    let waiter = {
        let mut state = shared.state.lock().unwrap();
        if state.closed {
            return;
        }
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
        let resolve: super::Resolve = Box::new(move |py| match shared.pop() {
            Some(resolve) => resolve(py),
            None => {
                let cancelled = shared.state.lock().unwrap().cancelled;
                Err(shared.end(cancelled))
            }
        });
        queue.push((id, resolve));
    }
}

#[pymethods]
impl AsyncStream {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(slf: &Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let this = slf.get();
        if let Some(resolve) = this.shared.pop() {
            return Ok(Bound::new(py, Ready::new(resolve(py)))?.into_any());
        }
        // Registered before taking the state lock: never call into Python while holding it.
        let completer = completer_for_running_loop(py)?;
        let completer = completer.get();
        let (id, future) = completer.register(py)?;
        let mut state = this.shared.state.lock().unwrap();
        let early = if let Some(resolve) = state.items.pop_front() {
            // The producer pushed between pop() and this lock.
            Some(Ok(resolve))
        } else if state.finished {
            Some(Err(state.cancelled))
        } else if state.waiter.is_some() {
            drop(state);
            completer.pending.lock().unwrap().remove(&id);
            return Err(crate::errors::usage_error("anext(): this stream is already being awaited by another task"));
        } else {
            state.waiter = Some((id, completer.queue.clone()));
            None
        };
        drop(state);
        if let Some(early) = early {
            completer.pending.lock().unwrap().remove(&id);
            let outcome = match early {
                Ok(resolve) => {
                    this.shared.space.notify_one();
                    resolve(py)
                }
                Err(cancelled) => Err(this.shared.end(cancelled)),
            };
            return Ok(Bound::new(py, Ready::new(outcome))?.into_any());
        }
        // Cancelling the waiting task cancels the whole stream (and the gRPC call). The
        // callback also keeps the stream alive while the read is pending, so that
        // `await anext(llm.generate_stream(...))` works on a temporary stream.
        let shared = this.shared.clone();
        let task = this.task.clone();
        let pending = completer.pending.clone();
        let keep_alive = slf.clone().unbind();
        on_cancel(py, &future, move || {
            let _stream = &keep_alive;
            task.abort();
            pending.lock().unwrap().remove(&id);
            let mut state = shared.state.lock().unwrap();
            state.finished = true;
            state.closed = true;
            state.cancelled = true;
            state.items.clear();
            state.waiter = None;
        })?;
        Ok(future)
    }

    /// Stops the stream early; the plugin sees the call cancelled.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.close(false);
        Ok(Bound::new(py, Ready::new(Ok(py.None())))?.into_any())
    }
}

impl Drop for AsyncStream {
    fn drop(&mut self) {
        self.close(false);
    }
}
