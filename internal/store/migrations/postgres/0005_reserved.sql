-- 0005: reserved. Branch "webhooks" adds the real 0005 (webhooks); this
-- placeholder only keeps the versions of this branch gap-free (loadMigrations
-- requires 1..n). DELETE THIS FILE when merging with that branch.
SELECT 1;
