//! The time, from one place, so tests can move it (offer expiry over a
//! weekend, the morning re-plan) without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A source of the current instant: [`SystemClock`] in service, [`FakeClock`]
/// in tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant (UTC).
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock: [`Utc::now`].
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<Mutex<DateTime<Utc>>>);

impl FakeClock {
    /// A clock standing at `t`; clones share the same time.
    pub fn at(t: DateTime<Utc>) -> FakeClock {
        FakeClock(Arc::new(Mutex::new(t)))
    }

    /// Moves the clock to `t` (backwards too), for every clone.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Moves the clock forward by `by`, for every clone.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
