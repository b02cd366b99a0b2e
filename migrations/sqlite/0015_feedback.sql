-- Feedback forms after a report (issue 15): one-time links for the
-- referring professional and for the parents, and the answers. Neither
-- table names a referral: only the region of the table and the half-year,
-- so an answer cannot be traced to a family. Tokens are stored as their
-- SHA-256. Keep in step with the other dialect.
CREATE TABLE feedback_tokens (
    token_hash TEXT PRIMARY KEY,
    region_id TEXT NOT NULL,
    half_year TEXT NOT NULL,
    respondent TEXT NOT NULL CHECK (respondent IN ('professional', 'parents')),
    created_at BIGINT NOT NULL,
    used_at BIGINT NULL
);
CREATE TABLE feedback_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id TEXT NOT NULL,
    half_year TEXT NOT NULL,
    respondent TEXT NOT NULL,
    prepared BIGINT NOT NULL,
    heard BIGINT NOT NULL,
    clear BIGINT NOT NULL,
    useful BIGINT NOT NULL,
    remark TEXT NULL,
    answered_on TEXT NOT NULL
);
