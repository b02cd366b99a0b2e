-- A written evaluation an outcome plans (issue 15): by a date, delivered by
-- someone named by role or organisation; on the table's worklist from that
-- date until it is recorded as received or not. One per referral. Keep in
-- step with the other dialect.
CREATE TABLE written_evaluations (
    referral_id BIGINT PRIMARY KEY REFERENCES referrals (id),
    due_date TEXT NOT NULL,
    deliverer TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('expected', 'received', 'not_received')),
    recorded_at BIGINT NULL,
    recorded_by BIGINT NULL REFERENCES users (id)
);
