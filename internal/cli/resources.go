package cli

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
)

// resource is what `list` and `get` know of one kind of object.
type resource struct {
	// path of the list; "{p}" is the project, "{s}" the service argument.
	path string
	cols []column
	// needsService: the list is under a service (list routes SERVICE).
	needsService bool
	// query is added to every list request (the inbox's box).
	query url.Values
}

var resources = map[string]resource{
	"projects":     {path: "/projects", cols: []column{{"ID", "id"}, {"NAME", "name"}, {"TEST GROUP", "test_group"}, {"PRODUCTION GROUP", "production_group"}}},
	"groups":       {path: "/gateway-groups", cols: []column{{"NAME", "name"}, {"PATH PREFIX", "path_prefix"}, {"REVISION", "revision"}}},
	"upstreams":    {path: "/projects/{p}/upstreams", cols: []column{{"ID", "id"}, {"NAME", "name"}, {"SCHEME", "scheme"}, {"NODES", "nodes"}, {"URL", "url"}}},
	"services":     {path: "/projects/{p}/services", cols: []column{{"ID", "id"}, {"NAME", "name"}, {"STATE", "state"}, {"RUNNING", "running"}, {"PATH", "path"}}},
	"folders":      {path: "/projects/{p}/folders", cols: []column{{"ID", "id"}, {"NAME", "name"}, {"PATH", "path"}, {"PARENT", "parent_id"}}},
	"routes":       {path: "/projects/{p}/services/{s}/routes", needsService: true, cols: []column{{"NAME", "name"}, {"PATHS", "paths"}, {"METHODS", "methods"}}},
	"versions":     {path: "/projects/{p}/services/{s}/versions", needsService: true, cols: []column{{"VERSION", "version"}, {"GROUPS", "groups"}, {"CREATED", "created_at"}}},
	"history":      {path: "/projects/{p}/services/{s}/history", needsService: true, cols: []column{{"AT", "at"}, {"GROUP", "group"}, {"ACTION", "action"}, {"VERSION", "version"}, {"ACTOR", "actor"}, {"DETAIL", "detail"}}},
	"canaries":     {path: "/projects/{p}/services/{s}/canary", needsService: true, cols: canaryCols},
	"catalog":      {path: "/catalog", cols: []column{{"SERVICE", "name"}, {"PROJECT", "project"}, {"VERSION", "listing.version"}, {"DESCRIPTION", "description"}}},
	"applications": {path: "/applications", cols: []column{{"ID", "id"}, {"NAME", "name"}, {"PROJECT", "project"}}},
	"plans":        {path: "/projects/{p}/services/{s}/plans", needsService: true, cols: []column{{"ID", "id"}, {"NAME", "name"}, {"QUOTAS", "quotas"}, {"DESCRIPTION", "description"}}},
	"subscriptions": {path: "/subscriptions", cols: []column{{"ID", "id"}, {"APPLICATION", "application"}, {"SERVICE", "service"},
		{"PROJECT", "project"}, {"PLAN", "plan"}, {"STATE", "state"}}},
	"approvals": {path: "/approvals", query: url.Values{"box": {"todo"}}, cols: approvalCols},
	"requests":  {path: "/approvals", query: url.Values{"box": {"mine"}}, cols: approvalCols},
}

var canaryCols = []column{{"ID", "id"}, {"GROUP", "group"}, {"STATE", "state"}, {"WEIGHT", "weight"}, {"BASE", "base_version"}, {"REASON", "reason"}}

func resourceNames() string {
	names := make([]string, 0, len(resources))
	for n := range resources {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (a *app) resourcePath(r resource, service string) string {
	p := strings.ReplaceAll(r.path, "{p}", url.PathEscape(a.project))
	return strings.ReplaceAll(p, "{s}", url.PathEscape(service))
}

func (a *app) listCmd() *cobra.Command {
	var q string
	return &cobra.Command{
		Use:   "list RESOURCE [SERVICE]",
		Short: "List objects: " + resourceNames(),
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return usageErr("want RESOURCE [SERVICE]; resources: %s", resourceNames())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, ok := resources[args[0]]
			if !ok {
				return usageErr("unknown resource %q; resources: %s", args[0], resourceNames())
			}
			service := ""
			if r.needsService {
				if len(args) != 2 {
					return usageErr("list %s needs a SERVICE", args[0])
				}
				service = args[1]
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var all []map[string]any
			for page := 1; ; page++ {
				var l adminclient.List[map[string]any]
				qv := url.Values{"page": {fmt.Sprint(page)}, "page_size": {"500"}}
				for k, v := range r.query {
					qv[k] = v
				}
				if q != "" {
					qv.Set("q", q)
				}
				if err := c.Get(cmd.Context(), a.resourcePath(r, service), qv, &l); err != nil {
					return err
				}
				all = append(all, l.Items...)
				if len(l.Items) == 0 || len(all) >= l.Total {
					break
				}
			}
			return a.printList(all, r.cols)
		},
	}
}

func (a *app) getCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get RESOURCE [SERVICE] NAME",
		Short: "Show one object (YAML by default): " + resourceNames(),
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usageErr("want RESOURCE [SERVICE] NAME")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, ok := resources[args[0]]
			if !ok || args[0] == "history" {
				return usageErr("unknown resource %q; resources: %s", args[0], resourceNames())
			}
			service, name := "", args[1]
			if r.needsService {
				if len(args) != 3 {
					return usageErr("get %s needs SERVICE NAME", args[0])
				}
				service, name = args[1], args[2]
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var obj map[string]any
			if err := c.Get(cmd.Context(), a.resourcePath(r, service)+"/"+url.PathEscape(name), nil, &obj); err != nil {
				return err
			}
			return a.printObject(obj)
		},
	}
}

// readFileArg reads a file argument; "-" is stdin.
func readFileArg(cmd *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// adminclientRequest is a request with a document as its body: JSON when
// it looks like JSON, else YAML.
func adminclientRequest(method, path string, q url.Values, body []byte, out any) adminclient.Request {
	ct := "application/yaml"
	if t := strings.TrimLeft(string(body), " \t\r\n"); strings.HasPrefix(t, "{") {
		ct = "application/json"
	}
	if body == nil {
		ct = ""
	}
	return adminclient.Request{Method: method, Path: path, Query: q, RawBody: body, ContentType: ct, Out: out}
}
