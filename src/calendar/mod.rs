//! Calendar of table sessions: Dutch holidays and the concrete slots that the
//! weekly session templates of `config/regions.toml` produce.

mod holidays;
mod session;
mod slot;
mod slots;

pub use holidays::{
    easter_sunday, Blocking, Holiday, HolidayDate, HolidayPeriod, HolidayRule, HolidayRules,
    MonthDay,
};
pub use session::{overlap, session_slots, slot_id, InGap};
pub use slot::{local_to_utc, CalendarSlot};
pub use slots::{day_status, generate_slots, DayStatus};
mod working_days;
pub use working_days::*;
