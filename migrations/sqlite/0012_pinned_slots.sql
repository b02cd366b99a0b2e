-- A slot chosen by hand for a referral that is not booked (issue 14, "move
-- or reschedule"): the planner keeps the referral there (a pin) while the
-- slot is still usable, instead of choosing again. Cleared when the
-- referral is booked, withdrawn or cancelled. Keep in step with the other
-- dialect.
ALTER TABLE referrals ADD COLUMN pinned_slot_id TEXT REFERENCES slots (id);
