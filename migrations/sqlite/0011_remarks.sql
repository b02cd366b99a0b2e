-- The professional's remarks for the chair, given with a registration
-- (issue 18): case content, sealed with the at-rest key (crypto::Cipher,
-- "v1:..."), never in logs, mails or the audit log. Keep in step with the
-- other dialect.
CREATE TABLE referral_remarks (
    referral_id BIGINT PRIMARY KEY REFERENCES referrals (id),
    text TEXT NOT NULL,
    written_at BIGINT NOT NULL
);
