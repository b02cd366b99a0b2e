-- Offers to neighbouring tables, the mail outbox and delay alerts (SQLite).
-- Keep in step with ../postgres/0002_offers_mail.sql.

CREATE TABLE offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    slot_id TEXT NOT NULL REFERENCES slots (id),
    from_region TEXT NOT NULL,
    to_region TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT NULL,
    answered_by BIGINT NULL REFERENCES users (id),
    decline_reason TEXT NULL
);
-- A slot is held for one open offer at a time; a referral has one open offer.
CREATE UNIQUE INDEX offers_open_slot ON offers (slot_id) WHERE status = 'open';
CREATE UNIQUE INDEX offers_open_referral ON offers (referral_id) WHERE status = 'open';
CREATE INDEX offers_to_region_status ON offers (to_region, status);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    ics TEXT NULL,
    referral_id BIGINT NULL REFERENCES referrals (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NULL,
    lease_owner TEXT NULL,
    last_error TEXT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- One row per referral: the current foreseen-delay episode and what the
-- municipal contact was last told.
CREATE TABLE delay_alerts (
    referral_id BIGINT PRIMARY KEY REFERENCES referrals (id),
    episode BIGINT NOT NULL,
    open BOOLEAN NOT NULL,
    notified_late_days BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One forecast digest per region per local day, however many instances run.
CREATE TABLE forecast_digests (
    region_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    forecast_days BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (region_id, local_date)
);
