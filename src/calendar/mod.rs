//! Calendar of table sessions: the concrete slots that the weekly session
//! templates of `config/regions.toml` produce, which days a table can sit
//! (the holiday rules themselves are configuration: `config::holidays`,
//! re-exported here), and working days for deadlines.

mod session;
mod slot;
mod slots;
mod working_days;

pub use crate::config::holidays::{
    easter_sunday, Blocking, Holiday, HolidayDate, HolidayPeriod, HolidayRule, HolidayRules,
    MonthDay,
};
pub use session::{overlap, session_slots, slot_id, InGap};
pub use slot::{local_to_utc, CalendarSlot};
pub use slots::{day_status, generate_slots, DayStatus};
pub use working_days::{
    add_working_days, is_working_day, sub_working_days, working_time_between, OFFICE_HOURS,
};
