-- key-auth hints used to be "sha256:" and the first hex digits of the
-- key's unsalted SHA-256: enough to test guesses of a weak key offline.
-- They are blanked; keys created from now on carry the key's last four
-- characters instead, and the old ones cannot be recomputed (only the
-- hash is stored).

-- +goose Up
UPDATE credentials SET hint = '' WHERE hint LIKE 'sha256:%';

-- +goose Down
-- The old hints are gone for good; nothing to restore.
SELECT 1;
