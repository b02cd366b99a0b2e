-- One audit row per request that shows referrals (a board, a list), with
-- the ids it showed, instead of one row per referral shown (issue 17.12).
-- Stored as ",12,15,19," so a referral's reads are found with LIKE.
-- Keep in step with the other dialect.
ALTER TABLE audit_log ADD COLUMN referral_ids TEXT NULL;
CREATE INDEX audit_log_at ON audit_log (at);
