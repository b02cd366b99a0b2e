-- The chair asks the professional for missing information (working
-- agreement, section 3). Question and answer are case content: sealed
-- with the at-rest key (crypto::Cipher, "v1:..."), never in logs, mails or
-- the audit log. Keep in step with the other dialect.
CREATE TABLE info_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    asked_by BIGINT NOT NULL REFERENCES users (id),
    asked_at BIGINT NOT NULL,
    question TEXT NOT NULL,
    answered_by BIGINT NULL REFERENCES users (id),
    answered_at BIGINT NULL,
    answer TEXT NULL
);
CREATE INDEX info_requests_referral ON info_requests (referral_id);
