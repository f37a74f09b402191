package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LoginState is the failed-login record of one username: consecutive
// failures, how many lockouts followed each other, the last failure and
// the end of the current lockout (zero: none).
type LoginState struct {
	Username    string
	Failures    int
	Lockouts    int
	LastFailure time.Time
	LockedUntil time.Time
}

// GetLoginState returns a username's record; none is ErrNotFound.
func (t *txn) GetLoginState(ctx context.Context, username string) (LoginState, error) {
	s := LoginState{Username: username}
	var last, until int64
	err := t.queryRow(ctx, `SELECT failures, lockouts, last_failure, locked_until
		FROM login_throttle WHERE username = $1`, username).Scan(&s.Failures, &s.Lockouts, &last, &until)
	if err != nil {
		return LoginState{}, notFound(err, "login state of %q", username)
	}
	s.LastFailure, s.LockedUntil = fromNanos(last), fromNanos(until)
	return s, nil
}

// ListLoginStates returns every username's record, by username: the
// admin API lists the locked ones. The table stays small: records quiet
// for the policy's window are pruned.
func (t *txn) ListLoginStates(ctx context.Context) ([]LoginState, error) {
	out := []LoginState{}
	err := t.each(ctx, "list login states", func(rows *sql.Rows) error {
		var s LoginState
		var last, until int64
		if err := rows.Scan(&s.Username, &s.Failures, &s.Lockouts, &last, &until); err != nil {
			return err
		}
		s.LastFailure, s.LockedUntil = fromNanos(last), fromNanos(until)
		out = append(out, s)
		return nil
	}, `SELECT username, failures, lockouts, last_failure, locked_until FROM login_throttle ORDER BY username`)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutLoginState inserts or replaces a username's record.
func (t *txn) PutLoginState(ctx context.Context, s *LoginState) error {
	_, err := t.exec(ctx, `INSERT INTO login_throttle (username, failures, lockouts, last_failure, locked_until)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (username) DO UPDATE SET failures = excluded.failures, lockouts = excluded.lockouts,
			last_failure = excluded.last_failure, locked_until = excluded.locked_until`,
		s.Username, s.Failures, s.Lockouts, toNanos(s.LastFailure), toNanos(s.LockedUntil))
	if err != nil {
		return fmt.Errorf("put login state of %q: %w", s.Username, err)
	}
	return nil
}

// DeleteLoginState forgets a username's record; none is ErrNotFound.
func (t *txn) DeleteLoginState(ctx context.Context, username string) error {
	return t.execOne(ctx, fmt.Sprintf("delete login state of %q", username),
		"DELETE FROM login_throttle WHERE username = $1", username)
}

// PruneLoginStates deletes the records whose last failure and lockout both
// ended before cutoff, and answers how many went.
func (t *txn) PruneLoginStates(ctx context.Context, cutoff time.Time) (int, error) {
	c := toNanos(cutoff)
	res, err := t.exec(ctx, "DELETE FROM login_throttle WHERE last_failure < $1 AND locked_until < $1", c)
	if err != nil {
		return 0, fmt.Errorf("prune login states: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune login states: rows affected: %w", err)
	}
	return int(n), nil
}
