-- 0007_nightly: the file's modification time when it was loaded, so the nightly job can pass over
-- files it has seen (same path, size and mtime) without hashing them again.
alter table sources add column mtime_ns bigint;
