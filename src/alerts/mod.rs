//! Alerts to the people who must act on a waiting time:
//!
//! - [`after_plan`]: foreseen delays, per referral, to the contact person of
//!   the referral's municipality, written in the plan run's transaction;
//! - [`forecast_digest`]: once a day per region, when a referral registered
//!   today could not be discussed within the norm, to the region's municipal
//!   contacts and the coordinators.
//!
//! Mails go through the outbox (`crate::mail`) and name a case only by its
//! case reference.

mod delay;
pub mod forecast;
pub mod municipality;

pub use delay::after_plan;
pub use forecast::{digest_sent, forecast_digest, region_forecast, RegionForecast};
