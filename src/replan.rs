//! Asking for a re-plan: the handle every change that affects the plan
//! uses. The plan runs themselves (debounced, one at a time) are the jobs'
//! business; this handle only queues the request, so any module can hold
//! it without depending on how plans are made.

use tokio::sync::mpsc;

/// Asks for re-plans; cheap to clone, never blocks.
#[derive(Clone, Debug)]
pub struct Replanner {
    tx: mpsc::UnboundedSender<String>,
}

impl Replanner {
    /// A handle and the receiving end of its queue, on which each request
    /// arrives as its reason; the plan-run loop (`jobs`) owns the receiver.
    pub fn channel() -> (Replanner, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Replanner { tx }, rx)
    }

    /// Asks for a run soon. If the loop has stopped (shutdown), the request
    /// is dropped: the next start-up plans anyway.
    pub fn request(&self, reason: &str) {
        let _ = self.tx.send(reason.to_string());
    }
}
