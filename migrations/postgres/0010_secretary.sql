-- The table's secretary (issue 18): a new role in users.role's CHECK. Keep
-- in step with the other dialect.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('coordinator', 'chair', 'referrer', 'municipal_contact', 'admin', 'secretary'));
