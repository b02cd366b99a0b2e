//! What every handler and background job shares.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::RegionsConfig;
use crate::replan::Replanner;
use crate::settings::Settings;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub regions: Arc<RegionsConfig>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Ask for a re-plan; debounced (see `planning`).
    pub replan: Replanner,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
