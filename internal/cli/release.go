package cli

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
	"github.com/portico-gw/portico/internal/spec"
)

// upstreamFlags build an upstream from --node host:port[@weight] and
// --scheme, or take --upstream-id.
type upstreamFlags struct {
	nodes  []string
	scheme string
	url    string
}

func (u *upstreamFlags) add(cmd *cobra.Command, what string) {
	f := cmd.Flags()
	f.StringArrayVar(&u.nodes, "node", nil, what+" node host:port[@weight] (repeatable)")
	f.StringVar(&u.scheme, "scheme", "http", "scheme of the nodes: http or https")
	f.StringVar(&u.url, "url", "", what+" as a URL (a registered API), instead of nodes")
}

// upstream is nil when no node or URL was given.
func (u *upstreamFlags) upstream() (*spec.Upstream, error) {
	if u.url != "" {
		if len(u.nodes) > 0 {
			return nil, usageErr("give --node or --url, not both")
		}
		return &spec.Upstream{URL: u.url}, nil
	}
	if len(u.nodes) == 0 {
		return nil, nil
	}
	up := &spec.Upstream{Scheme: u.scheme}
	for _, n := range u.nodes {
		addr, weight, hasWeight := strings.Cut(n, "@")
		host, portStr, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, usageErr("--node %q: want host:port[@weight]", n)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < 1 || port > 65535 {
			return nil, usageErr("--node %q: bad port", n)
		}
		w := 100
		if hasWeight {
			if w, err = strconv.Atoi(weight); err != nil || w < 0 {
				return nil, usageErr("--node %q: bad weight", n)
			}
		}
		up.Nodes = append(up.Nodes, spec.Node{Host: host, Port: port, Weight: w})
	}
	return up, nil
}

func (a *app) servicePath(service string) string { return adminclient.ServicePath(a.project, service) }

// post sends body to a service's sub-path and prints the answer.
func (a *app) post(cmd *cobra.Command, service, sub string, body any) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var out map[string]any
	if err := c.Post(cmd.Context(), a.servicePath(service)+sub, body, &out); err != nil {
		return err
	}
	return a.printObject(out)
}

func (a *app) publishCmd() *cobra.Command {
	var group, version string
	var up upstreamFlags
	cmd := &cobra.Command{
		Use:   "publish SERVICE --group G --version V [--node host:port]…",
		Short: "Publish the service template as a new version to a gateway group",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := up.upstream()
			if err != nil {
				return err
			}
			body := map[string]any{"group": group, "version": version}
			if u != nil {
				body["upstream"] = u
			}
			return a.post(cmd, args[0], "/publish", body)
		},
	}
	cmd.Flags().StringVarP(&group, "group", "g", "default", "gateway group")
	cmd.Flags().StringVar(&version, "version", "", "the new version string")
	_ = cmd.MarkFlagRequired("version")
	up.add(cmd, "upstream")
	return cmd
}

func (a *app) syncVersionCmd() *cobra.Command {
	var from, to string
	var dryRun bool
	var up upstreamFlags
	cmd := &cobra.Command{
		Use:   "sync-version SERVICE --from G --to G2 [--node host:port]… [--dry-run]",
		Short: "Run the version running in one group in another too (same version string, the target's nodes); --dry-run shows what would change in the target, field by field",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := up.upstream()
			if err != nil {
				return err
			}
			body := map[string]any{"from_group": from, "to_group": to}
			if u != nil {
				body["upstream"] = u
			}
			if !dryRun {
				return a.post(cmd, args[0], "/sync", body)
			}
			return a.previewSync(cmd, args[0], body)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "group the version runs in")
	cmd.Flags().StringVar(&to, "to", "", "group to run it in")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "change nothing: show what the sync would change in the target group")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	up.add(cmd, "target")
	return cmd
}

func (a *app) unpublishCmd() *cobra.Command {
	var group string
	cmd := &cobra.Command{
		Use:   "unpublish SERVICE --group G",
		Short: "Take the service off a gateway group (下线), whatever put it there; the service's state then says where it still runs",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.post(cmd, args[0], "/unpublish", map[string]any{"group": group})
		},
	}
	cmd.Flags().StringVarP(&group, "group", "g", "", "gateway group to take the service off")
	_ = cmd.MarkFlagRequired("group")
	return cmd
}

func (a *app) rollbackCmd() *cobra.Command {
	var group, version string
	cmd := &cobra.Command{
		Use:   "rollback SERVICE --group G --version V",
		Short: "Run an earlier version in a gateway group",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.post(cmd, args[0], "/rollback", map[string]any{"group": group, "version": version})
		},
	}
	cmd.Flags().StringVarP(&group, "group", "g", "default", "gateway group")
	cmd.Flags().StringVar(&version, "version", "", "the version to run")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}

var lifecycleActions = []string{"submit", "withdraw", "publish", "disable", "enable", "republish"}

func (a *app) lifecycleCmd() *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "lifecycle ACTION SERVICE",
		Short: "Run a lifecycle action: " + strings.Join(lifecycleActions, ", "),
		Args:  nArgs("ACTION", "SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			action := args[0]
			known := false
			for _, k := range lifecycleActions {
				known = known || k == action
			}
			if !known {
				return usageErr("unknown action %q; actions: %s", action, strings.Join(lifecycleActions, ", "))
			}
			var body any
			if version != "" {
				body = map[string]string{"version": version}
			}
			return a.post(cmd, args[1], "/actions/"+action, body)
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version for submit (default: the next patch version)")
	return cmd
}

func (a *app) canaryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "canary", Short: "Canary releases: create, set, cancel, promote, list", Args: noArgs, RunE: needSubcommand}
	cmd.AddCommand(a.canaryCreateCmd(), a.canarySetCmd(),
		a.canaryEndCmd("cancel", "Cancel a running canary: all traffic back to the current backend"),
		a.canaryEndCmd("promote", "Promote a canary (full release): the target becomes the backend"),
		&cobra.Command{
			Use: "list SERVICE", Short: "List a service's canary tasks", Args: nArgs("SERVICE"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.listCmd().RunE(cmd, []string{"canaries", args[0]})
			},
		})
	return cmd
}

// canarySplit are the flags create and set share.
type canarySplit struct {
	weight        int
	rules, routes []string
	hashOn        string
	guardRate     float64
	guardMin      int
	guardWindow   string
}

func (s *canarySplit) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVarP(&s.weight, "weight", "w", 0, "percentage of traffic to the target (0–100)")
	f.StringArrayVar(&s.rules, "rule", nil, "send matching requests to the target: header:NAME=VALUE, cookie:NAME=VALUE, query:NAME=VALUE, or ~= for a regular expression (repeatable)")
	f.StringArrayVar(&s.routes, "route", nil, "limit the canary to this route (repeatable; default all)")
	f.StringVar(&s.hashOn, "hash-on", "", "sticky split: header:NAME, cookie:NAME or ip")
	f.Float64Var(&s.guardRate, "guard-max-error-rate", 0, "cancel automatically when the target's error rate passes this fraction")
	f.IntVar(&s.guardMin, "guard-min-requests", 100, "guard: target answers needed first")
	f.StringVar(&s.guardWindow, "guard-window", "1m", "guard: window, 10s–15m")
}

// fill puts the flags the user set into body.
func (s *canarySplit) fill(cmd *cobra.Command, body map[string]any) error {
	f := cmd.Flags()
	if f.Changed("weight") {
		body["weight"] = s.weight
	}
	if f.Changed("rule") {
		rules := []spec.CanaryRule{}
		for _, r := range s.rules {
			rule, err := parseRule(r)
			if err != nil {
				return err
			}
			rules = append(rules, rule)
		}
		body["rules"] = rules
	}
	if f.Changed("route") {
		body["routes"] = s.routes
	}
	if f.Changed("hash-on") {
		body["hash_on"] = s.hashOn
	}
	if f.Changed("guard-max-error-rate") {
		body["guard"] = spec.CanaryGuard{MaxErrorRate: s.guardRate, MinRequests: s.guardMin, Window: s.guardWindow}
	}
	return nil
}

func parseRule(s string) (spec.CanaryRule, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return spec.CanaryRule{}, usageErr("--rule %q: want KIND:NAME=VALUE or KIND:NAME~=REGEX", s)
	}
	op, sep := spec.RuleEquals, "="
	if strings.Contains(rest, "~=") {
		op, sep = spec.RuleMatches, "~="
	}
	name, value, ok := strings.Cut(rest, sep)
	if !ok {
		return spec.CanaryRule{}, usageErr("--rule %q: want KIND:NAME=VALUE or KIND:NAME~=REGEX", s)
	}
	return spec.CanaryRule{Kind: kind, Name: name, Op: op, Value: value}, nil
}

func (a *app) canaryCreateCmd() *cobra.Command {
	var group, name, toUpstream, toVersion string
	var split canarySplit
	var up upstreamFlags
	cmd := &cobra.Command{
		Use:   "create SERVICE --group G --weight N (--to-upstream ID | --to-version V | --node host:port…)",
		Short: "Start a canary release",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := up.upstream()
			if err != nil {
				return err
			}
			target := spec.CanaryTarget{UpstreamID: toUpstream, Version: toVersion, Upstream: u}
			body := map[string]any{"group": group, "name": name, "target": target, "weight": split.weight}
			if err := split.fill(cmd, body); err != nil {
				return err
			}
			return a.post(cmd, args[0], "/canary", body)
		},
	}
	cmd.Flags().StringVarP(&group, "group", "g", "default", "gateway group")
	cmd.Flags().StringVar(&name, "name", "", "task name")
	cmd.Flags().StringVar(&toUpstream, "to-upstream", "", "target: a project upstream (id or name)")
	cmd.Flags().StringVar(&toVersion, "to-version", "", "target: another version of the service")
	up.add(cmd, "target")
	split.add(cmd)
	return cmd
}

func (a *app) canarySetCmd() *cobra.Command {
	var split canarySplit
	cmd := &cobra.Command{
		Use:   "set SERVICE ID [--weight N] [--rule …]",
		Short: "Change a running canary",
		Args:  nArgs("SERVICE", "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if err := split.fill(cmd, body); err != nil {
				return err
			}
			if len(body) == 0 {
				return usageErr("nothing to change: give --weight, --rule, --route, --hash-on or --guard-max-error-rate")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var out map[string]any
			if err := c.Patch(cmd.Context(), a.servicePath(args[0])+"/canary/"+url.PathEscape(args[1]), body, &out); err != nil {
				return err
			}
			return a.printObject(out)
		},
	}
	split.add(cmd)
	return cmd
}

func (a *app) canaryEndCmd(action, short string) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   action + " SERVICE ID",
		Short: short,
		Args:  nArgs("SERVICE", "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body any
			if version != "" {
				body = map[string]string{"version": version}
			}
			return a.post(cmd, args[0], fmt.Sprintf("/canary/%s/%s", url.PathEscape(args[1]), action), body)
		},
	}
	if action == "promote" {
		cmd.Flags().StringVar(&version, "version", "", "version string recorded for an upstream target (default: the next patch version)")
	}
	return cmd
}
