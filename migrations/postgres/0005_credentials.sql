-- Credentials hardening (issue 17). Keep in step with the other dialect.

-- Failed logins, per account and per client address: what the login
-- throttle counts. Kept apart from the audit log (which records them too)
-- so they can be pruned; no password is ever stored, only the address tried.
CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    email TEXT NOT NULL,
    client TEXT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

-- A password an admin made must be changed at the first login.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
-- The TOTP secret, sealed with the at-rest key (crypto::Cipher); NULL:
-- no second factor.
ALTER TABLE users ADD COLUMN totp_secret TEXT NULL;
-- The last TOTP time step used, so one code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NULL;

-- API tokens expire and record their last use. Tokens made before this
-- migration expire 90 days after they were made.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NULL;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT NULL;
UPDATE api_tokens SET expires_at = created_at + 7776000000;
ALTER TABLE sessions ADD COLUMN stage TEXT NULL;

-- E-mail addresses are compared case-folded (the login always was): fold
-- the stored ones, except where that would collide with another user.
UPDATE users SET email = LOWER(email)
    WHERE email <> LOWER(email)
      AND LOWER(email) NOT IN (SELECT email FROM users);
