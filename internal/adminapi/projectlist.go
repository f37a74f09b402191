package adminapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/store"
)

// listInProject answers one page of a project's objects of one kind (what,
// e.g. "upstreams"), read by read; shown, when set, prepares each item for
// the answer (redaction, allowed actions). A missing project is a 404
// naming it.
func listInProject[T any](c *call, what string, read func(tx store.Tx, project string, q store.ListQuery) ([]T, int, error), shown func(*T)) (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var res listResult
	err = c.view(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		items, total, err := read(tx, p, q)
		if err != nil {
			return fmt.Errorf("list %s of %q: %w", what, p, err)
		}
		if shown != nil {
			for i := range items {
				shown(&items[i])
			}
		}
		res = list(items, total)
		return nil
	})
	return res, err
}
