-- What gateways report of their traffic (canary sides, per-service
-- series), one row per report as a control plane received it, so that
-- every control plane sharing the store adds up every gateway's figures
-- (the canary guard runs on one of them, gateways report to any) and a
-- restarted control plane starts from the last 15 minutes instead of
-- nothing. Ids come from the counters table like history's: taking one
-- locks the counter row to commit, so rows become visible in id order and
-- a reader that follows "id > last" misses none. Rows older than the
-- longest window are removed by the retention job.
--
-- store_settings holds facts about the store itself, such as which secret
-- key sealed its secrets.

-- +goose Up
CREATE TABLE gateway_figures (
    id          BIGINT PRIMARY KEY,
    group_name  TEXT NOT NULL,
    replica     TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX gateway_figures_reported_at ON gateway_figures (reported_at);
INSERT INTO counters (name, value) VALUES ('gateway_figures', 0);

CREATE TABLE store_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE store_settings;
DELETE FROM counters WHERE name = 'gateway_figures';
DROP TABLE gateway_figures;
