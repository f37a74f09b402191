-- Alert rules: a service's error rate or p99 latency in one gateway group
-- over a window, against a threshold. The rule keeps what the evaluator
-- last decided (state, the value at that change, when it fired and
-- resolved); alert_events keep its last changes of state (the evaluator
-- trims each rule's to the newest few), with what they were measured
-- against, so a rule changed later still shows why it fired. Both go
-- with their service.

-- +goose Up
CREATE TABLE alert_rules (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL,
    service_id   TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    group_name   TEXT NOT NULL,
    name         TEXT NOT NULL,
    metric       TEXT NOT NULL,
    threshold    DOUBLE PRECISION NOT NULL,
    window_spec  TEXT NOT NULL,
    min_requests INTEGER NOT NULL,
    enabled      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    last_value   DOUBLE PRECISION NOT NULL,
    fired_at     BIGINT NOT NULL,
    resolved_at  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (service_id, name)
);
CREATE INDEX alert_rules_project ON alert_rules (project_id);

CREATE TABLE alert_events (
    rule_id      TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    project_id   TEXT NOT NULL,
    service_id   TEXT NOT NULL,
    service_name TEXT NOT NULL,
    rule_name    TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    state        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    threshold    DOUBLE PRECISION NOT NULL,
    window_spec  TEXT NOT NULL,
    requests     BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (rule_id, seq)
);
CREATE INDEX alert_events_project ON alert_events (project_id, at);

-- +goose Down
DROP TABLE alert_events;
DROP TABLE alert_rules;
