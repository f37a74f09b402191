package cli

import (
	"net/url"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
)

// The API market from the command line: the inbox and its decisions, and
// asking to list or delist a service. The lists (approvals, requests,
// plans, subscriptions, catalog) are resources of `list` and `get`.

// approvalCols are the columns of both inboxes.
var approvalCols = []column{{"ID", "id"}, {"KIND", "kind"}, {"SERVICE", "service_name"}, {"PROJECT", "project"},
	{"REQUESTER", "requester_name"}, {"APPROVER", "approver_role"}, {"STATE", "state"}, {"CREATED", "created_at"}}

func (a *app) marketCmds() []*cobra.Command {
	decide := func(verb, short string) *cobra.Command {
		var comment string
		cmd := &cobra.Command{
			Use:   verb + " REQUEST",
			Short: short,
			Args:  nArgs("REQUEST"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := a.client()
				if err != nil {
					return err
				}
				var out map[string]any
				if err := c.Post(cmd.Context(), "/approvals/"+url.PathEscape(args[0])+"/"+verb, map[string]string{"comment": comment}, &out); err != nil {
					return err
				}
				return a.printObject(out)
			},
		}
		cmd.Flags().StringVar(&comment, "comment", "", "a comment kept in the request's history")
		return cmd
	}
	var version, comment string
	var autoApprove bool
	list := &cobra.Command{
		Use:   "list-service SERVICE",
		Short: "Ask to launch a service of the project into the catalog (approved at once when you may approve it)",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.post(cmd, args[0], "/listing", map[string]any{"version": version, "auto_approve": autoApprove, "comment": comment})
		},
	}
	list.Flags().StringVar(&version, "version", "", "the version whose documentation the catalog shows (default: the one in production)")
	list.Flags().BoolVar(&autoApprove, "auto-approve", false, "approve subscriptions without review")
	list.Flags().StringVar(&comment, "comment", "", "a comment for the approver")
	var delistComment string
	delist := &cobra.Command{
		Use:   "delist-service SERVICE",
		Short: "Ask to remove a service of the project from the catalog (it keeps running)",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var out map[string]any
			req := adminclient.Request{Method: "DELETE", Path: a.servicePath(args[0]) + "/listing",
				Body: map[string]string{"comment": delistComment}, Out: &out}
			if err := c.Do(cmd.Context(), req); err != nil {
				return err
			}
			return a.printObject(out)
		},
	}
	delist.Flags().StringVar(&delistComment, "comment", "", "a comment for the approver")
	return []*cobra.Command{
		decide("approve", "Approve a request you may decide (ctl list approvals shows them)"),
		decide("reject", "Reject a request you may decide"),
		decide("cancel", "Cancel a request you made (ctl list requests shows them)"),
		list, delist,
	}
}
