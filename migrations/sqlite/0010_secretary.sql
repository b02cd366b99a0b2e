-- The table's secretary (issue 18): a new role in users.role's CHECK. Keep
-- in step with the other dialect. SQLite cannot change a CHECK in place,
-- so the table is rebuilt (SQLite's documented procedure for ALTER TABLE);
-- store::run_migrations runs migrations with foreign keys off and checks
-- them all afterwards.
CREATE TABLE users_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('coordinator', 'chair', 'referrer', 'municipal_contact', 'admin', 'secretary')),
    region_id TEXT NULL,
    organisation TEXT NULL,
    municipality_cbs TEXT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret TEXT NULL,
    totp_last_step BIGINT NULL
);
INSERT INTO users_rebuilt (id, email, role, region_id, organisation, municipality_cbs,
        password_hash, active, created_at, must_change_password, totp_secret, totp_last_step)
    SELECT id, email, role, region_id, organisation, municipality_cbs,
        password_hash, active, created_at, must_change_password, totp_secret, totp_last_step
    FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
