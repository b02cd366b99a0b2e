-- A replayed 201 carries its Location header again, as the first answer
-- did. Keep in step with the other dialect.
ALTER TABLE idempotency_keys ADD COLUMN location TEXT NULL;
