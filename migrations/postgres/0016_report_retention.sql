-- Retention of report content (issue 15): after `reports.retention_months`
-- the sealed body is emptied and `purged_at` set; the row stays, so that a
-- report existed (and when it was sent) is still known. `reaction_from`
-- says which versions were added by a reaction (parents, professional), so
-- the half-yearly evaluation counts reactions without opening content.
-- Keep in step with the other dialect.
ALTER TABLE reports ADD COLUMN purged_at BIGINT NULL;
ALTER TABLE reports ADD COLUMN reaction_from TEXT NULL;
-- Versions added by a reaction before this column: sent the moment they
-- were written (a draft is sent later than it is written).
UPDATE reports SET reaction_from = 'unknown'
WHERE version > 1 AND sent_at IS NOT NULL AND sent_at = written_at;
