-- The media files a person can open now: present (not missed by a scan
-- whose absence is unconfirmed) under a folder that is mounted. Queries
-- that offer items read this view, so "available" is said once.
-- SQLite refuses to rebuild `files` or `roots` (create, copy, drop,
-- rename) while this view reads them: a later migration that does drops
-- the view first and creates it again after.
CREATE VIEW available_media AS
SELECT f.*
FROM files f
JOIN roots r ON r.id = f.root_id
WHERE f.role = 'media' AND f.missing_since IS NULL AND r.state = 'ok';
