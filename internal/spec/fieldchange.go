package spec

// Operations of a FieldChange.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// FieldChange is one difference between two configurations of a service
// (two versions, a version and the template, what a gateway group runs
// and what it would run). Path names the member the JSON way, with list
// elements by what identifies them rather than by index:
// routes[name=list].backend.path, plugins.limit-count.count,
// upstream.nodes[host:port=10.0.0.1:80].weight, labels["team.io/owner"].
// From is the value before (absent when added), To the value after
// (absent when removed).
type FieldChange struct {
	Path string `json:"path"`
	Op   string `json:"op"` // added | removed | changed
	From any    `json:"from,omitempty"`
	To   any    `json:"to,omitempty"`
}
