//! Settings sections that are plain values, checked in
//! [`super::Settings::load`].

use serde::Deserialize;

/// Offers of a referral to a neighbouring region's table (`[offers]`).
#[derive(Debug, Clone, Deserialize)]
pub struct OfferSettings {
    /// An unanswered offer expires after this many working days
    /// (Europe/Amsterdam; weekends and holidays do not count).
    pub expiry_working_days: u32,
    /// The answer is due this many working days before the slot at the
    /// latest, so the family can still be told.
    pub family_notice_working_days: u32,
    /// A neighbouring table gets at least this many working hours (office
    /// hours of working days) to answer; a slot starting sooner than that
    /// allows is not offered at all.
    pub min_answer_working_hours: u32,
}

/// Reports of a held conversation (`[reports]`, issue 15). Working days as
/// for offers (Europe/Amsterdam; weekends and holidays do not count).
#[derive(Debug, Clone, Deserialize)]
pub struct ReportSettings {
    /// A report is due this many working days after the conversation; a
    /// later one is on the table's worklist as late.
    pub norm_working_days: u32,
    /// The family and the referring professional may react this many
    /// working days after the report was first sent.
    pub reaction_working_days: u32,
    /// The content of a report is deleted this many months after the
    /// conversation (`reports::retention`); that it existed stays.
    pub retention_months: u32,
}
