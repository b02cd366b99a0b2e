//! What every handler, service and background job shares: the store, the
//! region configuration, the settings, the clock, the re-plan handle, and
//! the hooks the composition root wires in.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::RegionsConfig;
use crate::replan::Replanner;
use crate::settings::Settings;
use crate::store::Store;

/// The shared state; cheap to clone (everything in it is shared).
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The regions, their tables, sessions and holidays.
    pub regions: Arc<RegionsConfig>,
    /// The service settings.
    pub settings: Arc<Settings>,
    /// Now (the system clock; a fake one in tests).
    pub clock: Arc<dyn Clock>,
    /// Ask for a re-plan; debounced (see `jobs`).
    pub replan: Replanner,
    /// What a change of a referral or a cancelled session means for holds
    /// at other tables.
    pub holds: Arc<dyn Holds>,
    /// Encryption at rest of case text and second-factor secrets; `None`
    /// without `security.encryption_key` (then nothing is sealed).
    pub cipher: Option<Arc<crate::crypto::Cipher>>,
    /// The Prometheus recorder, when installed.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Capacity advice given since the last plan run (see `jobs::advice`).
    pub advice: Arc<AdviceCache>,
    /// The planner with the last run's network kept, so the next run can
    /// go on from it (a cache the planner checks every run; see
    /// [`crate::planner::warm`]).
    pub planner: Arc<std::sync::Mutex<crate::planner::WarmPlanner>>,
}

/// A capacity advice search and the candidates it chose from.
pub type Advised = Arc<(crate::advice::Advice, Vec<crate::advice::Candidate>)>;

/// Capacity advice kept until the plan changes: a search takes up to about
/// a second per region, and pages and the digest ask for it often.
#[derive(Default)]
pub struct AdviceCache(std::sync::Mutex<Option<(i64, std::collections::HashMap<String, Advised>)>>);

impl AdviceCache {
    /// The advice for `region` given after plan run `run`, if any.
    pub fn get(&self, run: i64, region: &str) -> Option<Advised> {
        let kept = self.0.lock().ok()?;
        let (at, map) = kept.as_ref()?;
        (*at == run).then(|| map.get(region).cloned()).flatten()
    }

    /// Keeps `advice` for `region` after plan run `run`; advice of earlier
    /// runs is dropped.
    pub fn put(&self, run: i64, region: &str, advice: Advised) {
        if let Ok(mut kept) = self.0.lock() {
            let map = match kept.as_mut() {
                Some((at, map)) if *at == run => map,
                _ => &mut kept.insert((run, Default::default())).1,
            };
            map.insert(region.to_string(), advice);
        }
    }
}

impl AppState {
    /// The current instant, from [`AppState::clock`].
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The at-rest cipher, or a refusal naming the missing setting.
    ///
    /// # Errors
    /// [`crate::error::Error::Refused`] when no key is configured.
    pub fn cipher(&self) -> crate::error::Result<&crate::crypto::Cipher> {
        self.cipher.as_deref().ok_or_else(|| {
            crate::error::Error::refused(
                "no encryption key is configured (security.encryption_key)",
                "Versleuteling is niet ingesteld; vraag de beheerder om security.encryption_key.",
            )
        })
    }
}

/// A change of a referral that may end a hold on a slot at another table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralChange {
    /// Its details changed (dates, length, where it may be held).
    Edited,
    /// It was withdrawn or cancelled.
    Closed,
}

/// The future of the [`Holds`] hooks: whether a hold was given up.
pub type HoldFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<bool>> + Send + 'a>>;

/// Reacts, in the transaction of a change, to what it means for holds on
/// slots at other tables (open offers): a slot the referral can no longer
/// use, or whose session was cancelled, is given up and its table told at
/// once.
///
/// The offers module implements it and the composition root hands it to
/// the state, so the referral and slot services, which offers build on,
/// need not know about offers (dependencies run one way).
pub trait Holds: Send + Sync {
    /// Called after `referral_id` changed by `change`, in `conn`'s
    /// transaction. Returns whether a hold was given up (the caller then
    /// asks for a re-plan).
    fn after_change<'a>(
        &'a self,
        conn: &'a mut sqlx::AnyConnection,
        state: &'a AppState,
        referral_id: i64,
        change: ReferralChange,
    ) -> HoldFuture<'a>;

    /// Called after the slots `slot_ids` were cancelled (their session),
    /// in `conn`'s transaction, at `now`. Returns whether a hold was given
    /// up.
    fn after_slots_cancelled<'a>(
        &'a self,
        conn: &'a mut sqlx::AnyConnection,
        state: &'a AppState,
        slot_ids: &'a [String],
        now: chrono::DateTime<chrono::Utc>,
    ) -> HoldFuture<'a>;
}
