-- Browser sessions (SQLite). Keep in step with ../postgres/0003_sessions.sql.
-- The cookie carries a random id; only its SHA-256 is stored, so a copy of
-- the database holds no usable session.

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    -- Synchroniser token for the forms of this session.
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ended_at BIGINT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins are counted from the audit log (rate limit per address).
CREATE INDEX audit_log_action_at ON audit_log (action, at);
