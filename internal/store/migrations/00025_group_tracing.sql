-- gateway_groups gain the share of new traces their gateways sample;
-- NULL: each gateway's --trace-sample-ratio.

-- +goose Up
ALTER TABLE gateway_groups ADD COLUMN trace_sample_ratio DOUBLE PRECISION;

-- +goose Down
ALTER TABLE gateway_groups DROP COLUMN trace_sample_ratio;
