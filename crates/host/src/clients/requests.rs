//! Request streams fed from outside the call (the Python layer's iterables): a bounded channel
//! whose stream ends only when its sender says the requests are complete. A sender dropped
//! without saying so (its producer abandoned, the call about to be cancelled) leaves the stream
//! pending: ending it would tell the plugin the requests were complete, while the call's reset
//! is what must reach it (docs/protocol.md §4.2).

use futures_util::Stream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{self, error::TrySendError};

/// A sender and the request stream it feeds; at most `capacity` requests wait in between.
pub fn request_channel<T: Send + 'static>(
    capacity: usize,
) -> (RequestSender<T>, impl Stream<Item = T> + Send + 'static) {
    let (sender, receiver) = mpsc::channel(capacity);
    let finished = Arc::new(AtomicBool::new(false));
    let requests = futures_util::stream::unfold((receiver, finished.clone()), |(mut receiver, finished)| async move {
        match receiver.recv().await {
            Some(request) => Some((request, (receiver, finished))),
            None if finished.load(Ordering::SeqCst) => None,
            None => std::future::pending().await,
        }
    });
    (RequestSender { sender, finished }, requests)
}

/// Queues requests in order; clones share the stream.
pub struct RequestSender<T> {
    sender: mpsc::Sender<T>,
    finished: Arc<AtomicBool>,
}

impl<T> Clone for RequestSender<T> {
    fn clone(&self) -> Self {
        RequestSender { sender: self.sender.clone(), finished: self.finished.clone() }
    }
}

impl<T> RequestSender<T> {
    /// Queues `request` if there is room; gives it back if there is none. Once the call takes no
    /// more requests ([`RequestSender::is_closed`]), requests are dropped: the call's own
    /// outcome says why.
    pub fn try_send(&self, request: T) -> Result<(), T> {
        match self.sender.try_send(request) {
            Ok(()) | Err(TrySendError::Closed(_)) => Ok(()),
            Err(TrySendError::Full(request)) => Err(request),
        }
    }

    /// Queues `request` once there is room (or drops it once the call takes no more requests).
    pub async fn send(&self, request: T) {
        let _ = self.sender.send(request).await;
    }

    /// The requests are complete: the stream ends once every clone of this sender is gone.
    pub fn finish(self) {
        self.finished.store(true, Ordering::SeqCst);
    }

    /// Whether the call takes no more requests: it ended, failed or was cancelled.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{FutureExt, StreamExt};

    #[tokio::test]
    async fn the_requests_end_after_finish_only() {
        let (sender, requests) = request_channel(2);
        let mut requests = Box::pin(requests);
        sender.try_send(1).unwrap();
        sender.try_send(2).unwrap();
        assert_eq!(sender.try_send(3), Err(3), "full");
        sender.finish();
        assert_eq!(requests.by_ref().collect::<Vec<_>>().await, [1, 2]);

        let (sender, requests) = request_channel(2);
        let mut requests = Box::pin(requests);
        sender.try_send(1).unwrap();
        drop(sender);
        assert_eq!(requests.next().await, Some(1));
        assert_eq!(requests.next().now_or_never(), None, "a sender gone without finish() must not end them");
    }

    #[tokio::test]
    async fn a_sender_sees_the_call_stop_taking_requests() {
        let (sender, requests) = request_channel(1);
        assert!(!sender.is_closed());
        sender.try_send(1).unwrap();
        let waiting = tokio::spawn({
            let sender = sender.clone();
            async move { sender.send(2).await }
        });
        drop(requests);
        waiting.await.unwrap(); // a send waiting for room ends with the call
        assert!(sender.is_closed());
        assert_eq!(sender.try_send(3), Ok(()), "dropped, not refused");
    }
}
