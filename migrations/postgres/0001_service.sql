-- jbt-planner schema, PostgreSQL flavour. Keep in step with ../sqlite/0001_service.sql:
-- the same tables, columns, constraints and meaning. Conventions on both sides:
-- instants are BIGINT milliseconds since the Unix epoch (UTC), local calendar
-- dates (Europe/Amsterdam) are TEXT 'YYYY-MM-DD', booleans are BOOLEAN.

CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('coordinator', 'chair', 'referrer', 'municipal_contact', 'admin')),
    region_id TEXT NULL,
    organisation TEXT NULL,
    municipality_cbs TEXT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);

CREATE TABLE slots (
    id TEXT PRIMARY KEY,
    region_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    start_at BIGINT NOT NULL,
    minutes BIGINT NOT NULL CHECK (minutes > 0),
    origin TEXT NOT NULL CHECK (origin IN ('template', 'extra')),
    cancelled_at BIGINT NULL,
    cancel_reason TEXT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX slots_region_date ON slots (region_id, local_date);
CREATE INDEX slots_start ON slots (start_at);

CREATE TABLE referrals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_ref TEXT NOT NULL UNIQUE,
    municipality_cbs TEXT NOT NULL,
    region_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('vtb', 'ots_end', 'evaluation')),
    referrer_kind TEXT NOT NULL CHECK (referrer_kind IN ('local_team', 'veilig_thuis', 'certified_institution', 'attendance_officer', 'care_provider')),
    referrer_org TEXT NOT NULL,
    referrer_email TEXT NOT NULL,
    safety_plan BOOLEAN NOT NULL,
    parents_informed BOOLEAN NOT NULL,
    child_12_plus BOOLEAN NOT NULL,
    minutes BIGINT NOT NULL CHECK (minutes > 0),
    unavailable TEXT NOT NULL DEFAULT '[]',
    earliest_date TEXT NULL,
    cross_region BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('registered', 'incomplete', 'planned', 'booked', 'held', 'outcome_recorded', 'withdrawn', 'cancelled')),
    registered_at BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    planned_slot_id TEXT NULL REFERENCES slots (id),
    booked_slot_id TEXT NULL REFERENCES slots (id),
    plan_explanation TEXT NULL,
    excluded_regions TEXT NOT NULL DEFAULT '[]',
    parent_referral_id BIGINT NULL REFERENCES referrals (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One booking per slot, one tentative plan per slot: the database decides races.
CREATE UNIQUE INDEX referrals_booked_slot ON referrals (booked_slot_id) WHERE booked_slot_id IS NOT NULL;
CREATE UNIQUE INDEX referrals_planned_slot ON referrals (planned_slot_id) WHERE planned_slot_id IS NOT NULL;
CREATE INDEX referrals_region_status ON referrals (region_id, status);
CREATE INDEX referrals_municipality ON referrals (municipality_cbs);

CREATE TABLE outcomes (
    referral_id BIGINT PRIMARY KEY REFERENCES referrals (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('voluntary_local_team', 'voluntary_binding', 'voluntary_binding_raad', 'raad_investigation')),
    route TEXT NOT NULL,
    help TEXT NOT NULL,
    safety_agreements TEXT NOT NULL,
    evaluation_date TEXT NULL,
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id BIGINT NULL,
    role TEXT NULL,
    action TEXT NOT NULL,
    referral_id BIGINT NULL,
    result TEXT NOT NULL,
    detail TEXT NULL,
    request_id TEXT NULL
);
CREATE INDEX audit_log_referral ON audit_log (referral_id);
-- Append-only: nobody edits or removes history, not even the service.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- Row triggers do not fire on TRUNCATE (SQLite has no TRUNCATE).
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- scope: a hash of the credential that sent the request; a key is only
-- ever replayed to the same credential.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NULL,
    response_body TEXT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE plan_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    referrals BIGINT NOT NULL,
    planned BIGINT NOT NULL,
    unplanned BIGINT NOT NULL,
    score TEXT NOT NULL,
    solve_millis DOUBLE PRECISION NOT NULL
);
