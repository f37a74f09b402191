package adminapi

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/store"
)

// lockout is a username locked out by failed logins.
type lockout struct {
	Username    string    `json:"username"`
	Failures    int       `json:"failures"`
	LastFailure time.Time `json:"last_failure"`
	LockedUntil time.Time `json:"locked_until"`
}

// lockoutScope answers the usernames whose lockouts the caller may see and
// lift: every one (nil, all true) for a super_admin, else the members of
// the projects where the caller holds lockout:manage.
func (c *call) lockoutScope(tx store.Tx) (names map[string]bool, all bool, err error) {
	projects, all := c.who.Projects(rbac.LockoutManage)
	if all {
		return nil, true, nil
	}
	names = map[string]bool{}
	for _, p := range projects {
		ms, err := tx.ListMembers(c.ctx(), p)
		if err != nil {
			return nil, false, fmt.Errorf("lockouts: members of project %q: %w", p, err)
		}
		for _, m := range ms {
			names[m.Username] = true
		}
	}
	return names, false, nil
}

// listLockouts lists the usernames locked out now, known users or not
// (only a super_admin sees unknown ones: they are nobody's member).
func (c *call) listLockouts() (any, error) {
	now := c.s.now()
	var res listResult
	err := c.view(func(tx store.Tx) error {
		names, all, err := c.lockoutScope(tx)
		if err != nil {
			return err
		}
		states, err := tx.ListLoginStates(c.ctx())
		if err != nil {
			return fmt.Errorf("list lockouts: %w", err)
		}
		items := []lockout{}
		for _, st := range states {
			if st.LockedUntil.After(now) && (all || names[st.Username]) {
				items = append(items, lockout{Username: st.Username, Failures: st.Failures, LastFailure: st.LastFailure, LockedUntil: st.LockedUntil})
			}
		}
		res = list(items, len(items))
		return nil
	})
	return res, err
}

// mayUnlock refuses (403) to lift the lockout of a username the caller may
// not see locked: a super_admin may lift any, known or not; anyone else
// only those of members of a project where they hold lockout:manage.
func (c *call) mayUnlock(tx store.Tx, username string) error {
	projects, all := c.who.Projects(rbac.LockoutManage)
	if all {
		return nil
	}
	denied := withDetail(&rbac.DeniedError{Permission: rbac.LockoutManage},
		"you may unlock only members of projects where you hold %s", rbac.LockoutManage)
	u, _, err := tx.UserByName(c.ctx(), username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return denied // the same answer as for a user of another project
	case err != nil:
		return fmt.Errorf("unlock %q: %w", username, err)
	}
	ms, err := tx.ListUserMembers(c.ctx(), u.ID)
	if err != nil {
		return fmt.Errorf("unlock %q: %w", username, err)
	}
	for _, m := range ms {
		if slices.Contains(projects, m.Project) {
			return nil
		}
	}
	return denied
}
