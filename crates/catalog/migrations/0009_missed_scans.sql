-- How many scans in a row missed a file whose absence they could not
-- confirm (a polled share, an empty mount point): it is hidden meanwhile,
-- and forgotten only when several agree (engine `absence.rs`).
ALTER TABLE files ADD COLUMN missed_scans INTEGER NOT NULL DEFAULT 0;
