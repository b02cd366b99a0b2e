-- Server-issued case references (JBT-26-0815): one counter per year.
-- Keep in step with the other dialect.
CREATE TABLE case_ref_counters (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- References compare case-insensitively: they are stored in capitals.
-- Existing ones are folded unless that would collide with another.
UPDATE referrals SET case_ref = UPPER(case_ref)
    WHERE case_ref <> UPPER(case_ref)
      AND UPPER(case_ref) NOT IN (SELECT case_ref FROM referrals);
