-- What a file's state was read by, and files that went missing where
-- their absence could not be confirmed.

-- The media readers' version (moodshelf_media::READER_VERSION) that read a
-- file. A file that failed is read again when the readers change, not only
-- when the file does; 0 for rows written before this column.
ALTER TABLE files ADD COLUMN reader INTEGER NOT NULL DEFAULT 0;

-- Set (Unix seconds) when a file was not found but its folder could not be
-- seen whole: a share that stopped listing, a folder that turned
-- unreadable, a polled root. Its item is hidden and keeps its id, likes and
-- history; the file is forgotten only when a scan sees its root whole
-- without it, and the mark is cleared when it is seen again.
ALTER TABLE files ADD COLUMN missing_since INTEGER;
