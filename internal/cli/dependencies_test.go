package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

func TestPrintDependencies(t *testing.T) {
	var b bytes.Buffer
	err := printDependencies(&b, &spec.ServiceDependencies{
		Uses: []spec.UsedAPI{
			{Service: "users", Route: "get-user", By: []string{"get-profile"}, Groups: []string{"default"}, MissingIn: []string{}},
			{Service: "orders", Route: "list", By: []string{"summary", "get-profile"}, Groups: []string{}, MissingIn: []string{"default", "prod"}},
		},
		UsedBy: []spec.UsingCall{
			{Service: "dashboard", Route: "home", UsesRoute: "get-profile", Group: "default", Version: "1.2.0"},
			{Service: "dashboard", Route: "home", UsesRoute: "get-profile", Template: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for l := range strings.SplitSeq(strings.TrimSuffix(b.String(), "\n"), "\n") {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	want := []string{
		"USES BY GROUPS MISSING IN",
		"users/get-user get-profile default -",
		"orders/list summary,get-profile - default,prod",
		"",
		"USED BY CALLS GROUP VERSION",
		"dashboard/home get-profile default 1.2.0",
		"dashboard/home get-profile template -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant (spaces squeezed):\n%s", b.String(), strings.Join(want, "\n"))
	}
}
