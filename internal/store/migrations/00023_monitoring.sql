-- Monitoring rollups: what gateways reported of each service and route of
-- a group, folded from the figures log into spans of 10 seconds, 1 minute
-- and 1 hour, so the console and the admin API chart an hour, a day and
-- 30 days. route_id '' is the whole service. latency and upstream are
-- histograms as JSON (slot, count) pairs in the layout of the gateway's
-- series (svcstats.HistogramShift): spans add up slot by slot, so a
-- percentile over a day is read off the day's histogram, not averaged.
-- resolution is the span in seconds, start_at its start in Unix
-- nanoseconds. Rows past their resolution's retention (1 h, 24 h, 30 days)
-- are removed by the housekeeping job.

-- +goose Up
CREATE TABLE monitoring_points (
    resolution BIGINT NOT NULL,
    group_name TEXT NOT NULL,
    service_id TEXT NOT NULL,
    route_id   TEXT NOT NULL,
    start_at   BIGINT NOT NULL,
    requests   BIGINT NOT NULL,
    errors     BIGINT NOT NULL,
    latency    TEXT NOT NULL,
    upstream   TEXT NOT NULL,
    PRIMARY KEY (resolution, group_name, service_id, route_id, start_at)
);
CREATE INDEX monitoring_points_start ON monitoring_points (resolution, start_at);

-- +goose Down
DROP TABLE monitoring_points;
