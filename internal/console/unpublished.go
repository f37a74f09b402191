package console

import (
	"net/url"

	"github.com/portico-gw/portico/internal/spec"
)

// unpublishedMark is what the service page says of one gateway group when
// the template differs from the version the group runs: how many fields
// differ, and the Versions tab's diff of the two.
type unpublishedMark struct {
	P       *page
	Group   string
	Version string
	Changes int
	DiffURL string
}

// unpublishedChanges compares the template with the version each group
// runs (one diff per version, however many groups run it) and answers
// the groups where they differ. A diff the admin API refuses (a version
// gone meanwhile) gives no marker rather than a broken page.
func (q *req) unpublishedChanges(d *serviceData) map[string]unpublishedMark {
	counts := map[string]int{}
	out := map[string]unpublishedMark{}
	for _, pl := range d.Svc.Running {
		n, seen := counts[pl.Version]
		if !seen {
			var diff struct {
				Changes []spec.FieldChange `json:"changes"`
			}
			v := url.Values{"from": {pl.Version}, "to": {templateSide}}
			if err := q.call("GET", q.svcPath()+"/diff?"+v.Encode(), nil, &diff); err != nil {
				n = 0
			} else {
				n = len(diff.Changes)
			}
			counts[pl.Version] = n
		}
		if n > 0 {
			out[pl.Group] = unpublishedMark{P: d.P, Group: pl.Group, Version: pl.Version, Changes: n,
				DiffURL: q.svcPage() + "/versions?" + url.Values{"from": {pl.Version}, "to": {templateSide}}.Encode()}
		}
	}
	return out
}
