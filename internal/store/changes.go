package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
)

// RevisionChange names what one group's next revision changes: Services
// (service ids) when the change is confined to them; nil or empty: the
// whole group (its settings, consumers, data sources, or anything else).
type RevisionChange struct {
	Group    string
	Services []string
}

// Bounds of the revision change log (revision_changes). They are variables
// only so that the suite can watch a prune without 10 000 commits.
var (
	// changeLogKeep is how many of the newest global revisions the log
	// keeps: a gateway further behind than that reloads its group whole,
	// which it would nearly have to anyway.
	changeLogKeep int64 = 10000
	// changeLogPruneEvery spaces the prunes: BumpRevision prunes when the
	// revision it takes is a multiple of it, so a prune deletes the rows
	// of about that many revisions through the revision index and every
	// other bump pays nothing. Revisions are handed out one by one (a
	// rolled-back bump gives its value back), so no multiple is skipped.
	changeLogPruneEvery int64 = 1000
)

// changeLogMaxServices bounds the rows one revision writes for one group:
// a change of more services is logged as the whole group. With the prune
// it bounds the log's size, and a gateway that must rebuild that many
// services gains little from a partial reload.
const changeLogMaxServices = 1000

// wholeGroup is the service_id of a log row that says the whole group
// changed; no service has an empty id.
const wholeGroup = ""

// bindChunk bounds the values bound in one statement when a list is
// spread over IN (…) or VALUES lists: far below SQLite's (32766) and
// PostgreSQL's (65535) limits on bind parameters.
const bindChunk = 500

// groupChange is one group's share of a bump once duplicates are merged.
type groupChange struct {
	group    string
	whole    bool
	services []string // sorted, unique; nil when whole
}

// mergeChanges merges the changes of each group: the union of their
// services, whole if any is whole. An empty service id, which names no
// service, makes the change whole rather than being dropped. The result is
// sorted by group.
func mergeChanges(changes []RevisionChange) []groupChange {
	byGroup := make(map[string]*groupChange, len(changes))
	var order []string
	for _, c := range changes {
		g := byGroup[c.Group]
		if g == nil {
			g = &groupChange{group: c.Group}
			byGroup[c.Group] = g
			order = append(order, c.Group)
		}
		if len(c.Services) == 0 || slices.Contains(c.Services, wholeGroup) {
			g.whole = true
		}
		if !g.whole {
			g.services = append(g.services, c.Services...)
		}
	}
	slices.Sort(order)
	out := make([]groupChange, 0, len(order))
	for _, name := range order {
		g := byGroup[name]
		slices.Sort(g.services)
		g.services = slices.Compact(g.services)
		if len(g.services) > changeLogMaxServices {
			g.whole = true
		}
		if g.whole {
			g.services = nil
		}
		out = append(out, *g)
	}
	return out
}

// BumpRevision takes the next global revision, assigns it to the named
// groups and logs what it changes in each. Watchers are woken by Store.Tx
// after the commit, not here.
func (t *txn) BumpRevision(ctx context.Context, changes ...RevisionChange) (int64, error) {
	merged := mergeChanges(changes)
	names := make([]string, len(merged))
	for i, g := range merged {
		names[i] = g.group
	}

	rev, err := t.nextID(ctx, "revision")
	if err != nil {
		return 0, err
	}
	for chunk := range slices.Chunk(names, bindChunk) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, rev)
		for _, n := range chunk {
			args = append(args, n)
		}
		res, err := t.exec(ctx, "UPDATE gateway_groups SET revision = $1 WHERE name IN ("+placeholders(2, len(chunk))+")", args...)
		if err != nil {
			return 0, fmt.Errorf("bump revision of %v: %w", names, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("bump revision of %v: rows affected: %w", names, err)
		}
		if int(n) != len(chunk) {
			return 0, fmt.Errorf("bump revision of %v: %d of the groups %v exist: %w", names, n, chunk, ErrNotFound)
		}
	}
	for _, g := range merged {
		if err := t.logChange(ctx, rev, g); err != nil {
			return 0, err
		}
	}
	if rev%changeLogPruneEvery == 0 {
		if err := t.pruneChanges(ctx, rev-changeLogKeep); err != nil {
			return 0, err
		}
	}
	t.bumped = true
	return rev, nil
}

// logChange writes the log rows of one group's change at rev.
func (t *txn) logChange(ctx context.Context, rev int64, g groupChange) error {
	services := g.services
	if g.whole {
		services = []string{wholeGroup}
	}
	for chunk := range slices.Chunk(services, bindChunk) {
		args := make([]any, 0, len(chunk)+2)
		args = append(args, g.group, rev)
		var values strings.Builder
		for i, s := range chunk {
			if i > 0 {
				values.WriteString(", ")
			}
			fmt.Fprintf(&values, "($1, $2, $%d)", i+3)
			args = append(args, s)
		}
		if _, err := t.exec(ctx, "INSERT INTO revision_changes (group_name, revision, service_id) VALUES "+values.String(), args...); err != nil {
			return fmt.Errorf("log the changes of revision %d in %q: %w", rev, g.group, err)
		}
	}
	return nil
}

// pruneChanges drops the log rows at or below horizon and records, for
// every group, that its log is complete only from there on. Both
// statements are indexed (the rows by revision, the groups are few), so a
// prune costs what it deletes.
func (t *txn) pruneChanges(ctx context.Context, horizon int64) error {
	if horizon <= 0 {
		return nil
	}
	if _, err := t.exec(ctx, "DELETE FROM revision_changes WHERE revision <= $1", horizon); err != nil {
		return fmt.Errorf("prune the change log to revision %d: %w", horizon, err)
	}
	if _, err := t.exec(ctx, "UPDATE gateway_groups SET changes_from = $1 WHERE changes_from < $1", horizon); err != nil {
		return fmt.Errorf("prune the change log to revision %d: %w", horizon, err)
	}
	return nil
}

// ChangedSince answers which services of group changed in the revisions
// after `after` up to the group's current revision: their ids (sorted,
// unique), or whole = true when the log cannot say (a whole-group change
// in that range, `after` older than what the log keeps, `after` above the
// current revision, or more than maxServices services changed; a
// maxServices of 0 or less makes any service change whole). after ==
// current: no services, whole false. A missing group is ErrNotFound.
//
// The log of a group is complete from the later of its creation (the
// first global revision after it, so a gateway that knew an earlier group
// of the same name reloads whole) and the last prune (changeLogKeep
// revisions back, at most changeLogPruneEvery more).
func (t *txn) ChangedSince(ctx context.Context, group string, after int64, maxServices int) (services []string, whole bool, err error) {
	var current, from int64
	err = t.queryRow(ctx, "SELECT revision, changes_from FROM gateway_groups WHERE name = $1", group).Scan(&current, &from)
	if err != nil {
		return nil, false, notFound(err, "changes of gateway group %q", group)
	}
	switch {
	case after == current:
		return nil, false, nil
	case after > current, after < from:
		return nil, true, nil
	}
	maxServices = min(max(maxServices, 0), math.MaxInt32-1)
	// '' (the whole group) sorts before every id, so the limit never hides it.
	err = t.each(ctx, fmt.Sprintf("changes of gateway group %q after revision %d", group, after), func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if id == wholeGroup {
			whole = true
		}
		services = append(services, id)
		return nil
	}, `SELECT DISTINCT service_id FROM revision_changes
		WHERE group_name = $1 AND revision > $2 AND revision <= $3
		ORDER BY service_id LIMIT $4`, group, after, current, maxServices+1)
	if err != nil {
		return nil, false, err
	}
	if whole || len(services) > maxServices {
		return nil, true, nil
	}
	return services, false, nil
}
