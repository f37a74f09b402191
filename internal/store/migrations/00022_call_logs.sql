-- The calls gateways answered, as they send them to their control plane
-- (spec.CallRecord), kept for a short time so that a provider can find a
-- call by its request id and search the recent ones. The columns are what
-- a search filters on; record holds the whole record as JSON, which is
-- what reads answer. Times are unix nanoseconds like every other table's.
-- Ids come from the counters table (the two databases share no
-- auto-increment syntax); a batch takes its whole range in one statement.
-- The retention job deletes rows past an age and past a count per group;
-- backups leave the table out (backup.go).
--
-- Searches are newest first by (at, id): each index ends in those
-- columns so that a page is read in index order.

-- +goose Up
CREATE TABLE call_logs (
    id          BIGINT PRIMARY KEY,
    group_name  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    request_id  TEXT NOT NULL,
    trace_id    TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    service     TEXT NOT NULL,
    service_id  TEXT NOT NULL,
    route       TEXT NOT NULL,
    consumer    TEXT NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  DOUBLE PRECISION NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX call_logs_at ON call_logs (at, id);
CREATE INDEX call_logs_group_at ON call_logs (group_name, at, id);
CREATE INDEX call_logs_project_at ON call_logs (project_id, at, id);
CREATE INDEX call_logs_project_service_at ON call_logs (project_id, service_id, at, id);
CREATE INDEX call_logs_request_id ON call_logs (request_id);
CREATE INDEX call_logs_trace_id ON call_logs (trace_id);
INSERT INTO counters (name, value) VALUES ('call_logs', 0);

-- +goose Down
DELETE FROM counters WHERE name = 'call_logs';
DROP TABLE call_logs;
