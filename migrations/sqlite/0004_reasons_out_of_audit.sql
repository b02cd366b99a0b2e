-- Free-text reasons are case content: they live with the referral, scoped
-- like it, never in the audit log (which records who did what to which
-- referral, and the result).
ALTER TABLE referrals ADD COLUMN close_reason TEXT NULL;

-- The one stated exception to the append-only audit log: blank the free
-- text that earlier versions wrote into it. The triggers come back at once.
DROP TRIGGER audit_log_no_update;
UPDATE audit_log SET detail = NULL
    WHERE action IN ('referral.withdraw', 'referral.cancel') AND result = 'ok';
UPDATE audit_log SET detail = 'session cancelled'
    WHERE action = 'referral.release' AND detail LIKE 'session cancelled:%';
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
