// Package accesslog writes the gateway's access log: one JSON line per
// request (the shape of spec.CallRecord) to any number of sinks — standard
// output, a size-rotated file, an HTTP collector, syslog, or a function in
// the process (the control plane's feed of its embedded gateway).
//
// A request must never wait for its log line, and one broken destination
// must not cost the others anything. So:
//
//   - Log encodes the record synchronously, by hand (no reflection, no
//     encoding/json), into a pooled buffer. Encoding in the caller is what
//     lets the engine pass records whose strings point into its reused
//     request buffers: nothing of the record is kept after Log returns. It
//     is also where the query's secrets are redacted, so no sink ever sees
//     them.
//   - The line, shared by reference count, goes into each sink's own
//     bounded queue with a non-blocking send. A full queue drops the line
//     for that sink only and counts it
//     (portico_access_log_dropped_total{reason="queue_full"}); logging
//     never blocks and never allocates once the pool is warm.
//   - Each sink has one goroutine that collects lines into batches (up to
//     BatchEntries, or when the first line has waited FlushInterval) and
//     writes a batch with one call. A failed write drops that batch and
//     counts it (reason="write_error"); the HTTP sink retries once after a
//     second, never more, so a failing collector cannot cause a retry
//     storm, and its timeout bounds a hanging one. A slow sink only fills
//     its own queue.
//
// Bounded queues trade completeness for the gateway's latency under
// overload: the drop counters say how much was lost, per sink.
//
// The package also holds the access-log plugin's per-route Policy
// (sampling, opt-in request and response bodies with masked JSON fields).
package accesslog
