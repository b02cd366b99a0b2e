-- The report of a held conversation (issue 15): versions, never
-- overwritten once sent; the draft is the one row without sent_at. The
-- content (text, safety agreements, participants, reactions) is case
-- content, sealed with the at-rest key (crypto::Cipher, "v1:...", bound to
-- referral and version). Keep in step with the other dialect.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    written_by BIGINT NULL REFERENCES users (id),
    written_at BIGINT NOT NULL,
    sent_at BIGINT NULL,
    UNIQUE (referral_id, version)
);
CREATE INDEX reports_referral ON reports (referral_id);
