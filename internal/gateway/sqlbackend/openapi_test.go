package sqlbackend

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

func TestOperation(t *testing.T) {
	be := wizard()
	be.ResultColumns = []spec.SQLColumn{{Name: "id", Type: "integer"}, {Name: "name", Type: "string"}}
	b, _ := json.Marshal(Operation(&be))
	for _, want := range []string{`"name":"min_age"`, `"type":"integer"`, `"name":"page_size"`, `"maximum":100`,
		`"id":{"type":["integer","null"]}`, `"total":{"type":"integer"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("wizard operation lacks %s: %s", want, b)
		}
	}
	script := spec.SQLBackend{SQL: "insert into users (id, name) values (:id, :name)", AllowWrite: true,
		Params: []spec.SQLParam{{Name: "id", In: "path", Type: "integer"}, {Name: "name", In: "body"}}}
	b, _ = json.Marshal(Operation(&script))
	for _, want := range []string{`"in":"path"`, `"requestBody"`, `"required":["name"]`, `"rows_affected"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("script operation lacks %s: %s", want, b)
		}
	}
}
