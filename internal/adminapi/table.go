package adminapi

import (
	"net/http"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

// endpoint is one row of the route table: it registers the handler and
// describes the operation in the OpenAPI document, so the two cannot drift.
type endpoint struct {
	method  string
	path    string // under Prefix; ServeMux pattern and OpenAPI path template at once
	tag     string
	summary string
	req     any      // zero value of the request body type; nil: no body (one sent is refused unless rawBody)
	rawBody bool     // the handler reads the body itself, not as JSON of req (a document, a zip): wrap leaves it alone
	resp    any      // zero value of the answer type (the item type when list is set); nil: no body
	list    bool     // the answer is {items: [resp], total}
	query   []string // query parameters the handler reads (names of queryParams)
	search  string   // what ?q= matches when query holds "q" (default: the name)
	status  int      // success status
	public  bool     // no bearer token needed
	// perm is the permission a caller needs (every endpoint but the public
	// ones names one; TestEveryEndpointDeclaresAPermission). Under
	// /projects/{p} it is checked in that project, and a project the caller
	// may not see answers 404; elsewhere in the system scope, or, with
	// anyProject, in any project (the handler narrows the answer to them).
	perm       rbac.Permission
	anyProject bool
	// providerQuery: the query is an identity provider's (a sign-in
	// callback): parameters not in query are its own additions (Google
	// adds scope, authuser, prompt) and are ignored, not refused.
	providerQuery bool
	openapi       bool // serves the OpenAPI document itself
	handle        func(*call) (any, error)
}

var listParams = []string{"page", "page_size", "q"}

// queryParams describes every query parameter a handler reads, once; the
// rows above name them. The OpenAPI document is built from these entries,
// so a name missing here is a parameter the document cannot describe
// (openapi_test.go checks every name a handler reads is listed here).
var queryParams = map[string]queryParam{
	"page":        {schema: obj{"type": "integer", "minimum": 1, "maximum": maxPage, "default": 1}, desc: "1-based page number"},
	"page_size":   {schema: obj{"type": "integer", "minimum": 1, "maximum": 500, "default": 20}, desc: "items per page"},
	"q":           {schema: obj{"type": "string"}, desc: "only items whose %s contains this text (case-insensitive)"},
	"group":       {schema: obj{"type": "string"}, desc: "only this gateway group"},
	"state":       {schema: obj{"type": "string"}, desc: "only items in this state: a canary task's (running, cancelled, completed), a request's (pending, approved, rejected, cancelled), a subscription's (pending, approved, rejected, cancelled) or an imported package's (pending, published, failed)"},
	"box":         {schema: obj{"type": "string", "enum": []any{"mine", "todo"}, "default": "mine"}, desc: "mine: the requests the caller submitted; todo: those the caller may decide (pending unless ?state= says otherwise)"},
	"kind":        {schema: obj{"type": "string", "enum": []any{spec.ApprovalListing, spec.ApprovalDelisting, spec.ApprovalSubscription}}, desc: "only requests of this kind"},
	"tag":         {schema: obj{"type": "string", "examples": []any{"team", "team=payments"}}, desc: "only services with this label (key, or key=value)"},
	"folder":      {schema: obj{"type": "string"}, desc: "only services in this catalog folder (id)"},
	"confirm":     {schema: obj{"type": "boolean", "default": false}, desc: "true: do it even though it moves the URLs of running services (otherwise 409 with the list)"},
	"project":     {schema: obj{"type": "string"}, desc: "only this project (for the catalog: the project, when several list a service of that name)"},
	"application": {schema: obj{"type": "string"}, desc: "only subscriptions of this application id"},
	"name":        {schema: obj{"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,100}$"}, desc: "the package's name (the body's wins)"},
	"description": {schema: obj{"type": "string", "maxLength": 2000}, desc: "the package's description (the body's wins)"},
	"service":     {schema: obj{"type": "string"}, desc: "a service id or name: for subscriptions and requests, only those about this service (id); for an OpenAPI import, the service to update in place (default: the one named like the document's title)"},
	"dry_run":     {schema: obj{"type": "boolean", "default": false}, desc: "true: run everything in a transaction that is rolled back and answer what would happen (the same refusals as the real run)"},
	"mock":        {schema: obj{"type": "boolean", "default": false}, desc: "true: turn the document's response examples into mock plugins on the imported routes"},
	"prune":       {schema: obj{"type": "boolean", "default": false}, desc: "true: remove the services and upstreams of the project that the document does not name"},
	"format":      {schema: obj{"type": "string", "enum": []any{"json", "yaml"}}, desc: "answer format; without it the Accept header decides (declarative configuration: YAML unless json)"},
	"window":      {schema: obj{"type": "string", "default": "15m", "examples": []any{"15m", "1h", "24h", "720h"}}, desc: "a Go duration from 10s to 720h (30 days): how far back the figures reach; it sets the points' span (10s up to 1h, 1m up to 24h, 1h beyond)"},
	"route":       {schema: obj{"type": "string"}, desc: "a route id or name of the service: its figures instead of the whole service's"},
	"wait":        {schema: obj{"type": "string", "default": "0s", "examples": []any{"5s"}}, desc: "a Go duration up to 30s: answer once every live gateway instance of the group serves the new revision, or when it ends (convergence says how many do)"},
	"upstream":    {schema: obj{"type": "array", "items": obj{"type": "string", "pattern": "^[^:]+:[^:]+$"}}, desc: "SOURCE:TARGET, repeatable: the package's upstream SOURCE becomes the project's upstream TARGET (with a raw zip body; a multipart mapping part says the same)", explode: true},
	"actor":       {schema: obj{"type": "string", "maxLength": maxAuditActor}, desc: "only events of this user name (exactly)"},
	"resource":    {schema: obj{"type": "string", "pattern": "^/", "maxLength": maxAuditResource, "examples": []any{"/projects/default/services/ID"}}, desc: "only events of this resource path or of what is under it (/projects/a: not /projects/ab)"},
	"action":      {schema: obj{"type": "string", "maxLength": maxAuditAction, "examples": []any{"service.update", "service."}}, desc: "only this action, or with a final dot a family of them (service. is service.create, service.update, …)"},
	"since":       {schema: obj{"type": "string", "format": "date-time"}, desc: "only events at or after this RFC 3339 time"},
	"until":       {schema: obj{"type": "string", "format": "date-time"}, desc: "only events before this RFC 3339 time"},
	"after_id":    {schema: obj{"type": "integer", "minimum": 0, "default": 0}, desc: "only events with a higher id: where the previous export stopped (its last line's next_after_id)"},
	"limit":       {schema: obj{"type": "integer", "minimum": 1, "maximum": maxExportLines, "default": maxExportLines}, desc: "at most this many events"},
	"from":        {schema: obj{"type": "string", "examples": []any{"1.0.0", "template"}}, desc: "a version string, or template for the service template: the configuration the changes start from"},
	"to":          {schema: obj{"type": "string", "default": "template", "examples": []any{"1.1.0", "template"}}, desc: "a version string, or template (the default) for the service template: the configuration the changes lead to"},
	"data_source": {schema: obj{"type": "array", "items": obj{"type": "string", "pattern": "^[^:]+:[^:]+$"}}, desc: "SOURCE:TARGET, repeatable: the package's data source SOURCE becomes the project's data source TARGET", explode: true},
}

// queryParam is the type and meaning of one query parameter.
type queryParam struct {
	schema  obj
	desc    string // for "q", a format taking what it matches
	explode bool   // repeatable: ?x=a&x=b
}

// pathParams describes the path parameters by the collection they pick
// from (the segment before them): {c} is a credential under /credentials
// and a canary task under /canary.
var pathParams = map[string]string{
	"users":          "user name",
	"projects":       "project id",
	"gateway-groups": "gateway group name",
	"upstreams":      "upstream id or name",
	"data-sources":   "data source id or name",
	"folders":        "catalog folder id",
	"services":       "service id or name",
	"routes":         "route id or name",
	"versions":       "version string (such as 1.0.2)",
	"canary":         "canary task id",
	"catalog":        "published service id or name",
	"applications":   "application id",
	"credentials":    "credential id",
	"subscriptions":  "subscription id",
	"tokens":         "token id: a gateway join token under /gateway-groups, a personal access token elsewhere",
	"certificates":   "certificate id or name",
	"registries":     "service registry id or name",
	"sessions":       "session id",
	"members":        "user name of a member",
	"roles":          "role name",
	"alerts":         "alert rule id",
	"packages":       "imported package id",
}

func (s *server) endpoints() []endpoint {
	eps := append(s.coreEndpoints(), s.peopleEndpoints()...)
	eps = append(eps, s.marketEndpoints()...)
	eps = append(eps, s.monitoringEndpoints()...)
	eps = append(eps, s.alertEndpoints()...)
	eps = append(eps, s.callLogEndpoints()...)
	eps = append(eps, s.dependencyEndpoints()...)
	eps = append(eps, s.pluginEndpoints()...)
	return append(eps, s.oidcEndpoints()...)
}

// coreEndpoints are the rows of sessions, projects, gateway groups, the
// resources of a project, applications, the catalog and the audit log.
func (s *server) coreEndpoints() []endpoint {
	const (
		P  = "/projects/{p}"
		G  = "/gateway-groups/{g}"
		U  = P + "/upstreams/{u}"
		S  = P + "/services/{s}"
		R  = S + "/routes/{r}"
		F  = P + "/folders/{f}"
		A  = "/applications/{a}"
		C  = A + "/credentials/{c}"
		ok = http.StatusOK
		cr = http.StatusCreated
		nc = http.StatusNoContent
	)
	return []endpoint{
		{method: "POST", path: "/auth/login", tag: "session", summary: "Log in; answers a bearer token", req: loginRequest{}, resp: loginResponse{}, status: ok, public: true, handle: (*call).login},
		{method: "POST", path: "/auth/logout", tag: "session", perm: rbac.SessionSelf, summary: "Invalidate the presented token", status: nc, handle: (*call).logout},
		{method: "POST", path: "/users/{username}/unlock", tag: "session", perm: rbac.LockoutManage, anyProject: true, summary: "Lift a user's login lockout and forget its failed logins (admin only); 404 when none are on record", resp: unlockResult{}, status: ok, handle: (*call).unlockUser},
		{method: "GET", path: "/me", tag: "session", perm: rbac.SessionSelf, summary: "The calling user, with the permissions they hold everywhere and in each of their projects", resp: spec.Identity{}, status: ok, handle: (*call).me},
		{method: "GET", path: "/openapi.json", tag: "meta", summary: "This document (OpenAPI 3.1)", status: ok, public: true, openapi: true},

		{method: "GET", path: "/projects", tag: "projects", perm: rbac.SessionSelf, summary: "List projects", resp: spec.Project{}, list: true, query: listParams, status: ok, handle: (*call).listProjects},
		{method: "POST", path: "/projects", tag: "projects", perm: rbac.ProjectCreate, summary: "Create a project", req: spec.Project{}, resp: spec.Project{}, status: cr, handle: (*call).createProject},
		{method: "GET", path: P, tag: "projects", perm: rbac.ProjectRead, summary: "Get a project", resp: spec.Project{}, status: ok, handle: (*call).getProject},
		{method: "PATCH", path: P, tag: "projects", perm: rbac.ProjectUpdate, summary: "Change a project (JSON merge patch)", req: spec.Project{}, resp: spec.Project{}, status: ok, handle: (*call).patchProject},
		{method: "PUT", path: P, tag: "projects", perm: rbac.ProjectUpdate, summary: "Replace a project", req: spec.Project{}, resp: spec.Project{}, status: ok, handle: (*call).putProject},
		{method: "DELETE", path: P, tag: "projects", perm: rbac.ProjectDelete, summary: "Delete a project without services or upstreams", status: nc, handle: (*call).deleteProject},

		{method: "GET", path: "/gateway-groups", tag: "gateway groups", perm: rbac.GroupRead, summary: "List gateway groups", resp: spec.GatewayGroup{}, list: true, query: listParams, status: ok, handle: (*call).listGroups},
		{method: "POST", path: "/gateway-groups", tag: "gateway groups", perm: rbac.GroupManage, summary: "Create a gateway group", req: spec.GatewayGroup{}, resp: spec.GatewayGroup{}, status: cr, handle: (*call).createGroup},
		{method: "GET", path: G, tag: "gateway groups", perm: rbac.GroupRead, summary: "Get a gateway group", resp: spec.GatewayGroup{}, status: ok, handle: (*call).getGroup},
		{method: "PATCH", path: G, tag: "gateway groups", perm: rbac.GroupManage, summary: "Change a gateway group (JSON merge patch); a new path_prefix that moves running URLs needs ?confirm=true", req: spec.GatewayGroup{}, resp: spec.GatewayGroup{}, query: []string{"confirm"}, status: ok, handle: (*call).patchGroup},
		{method: "PUT", path: G, tag: "gateway groups", perm: rbac.GroupManage, summary: "Replace a gateway group; a new path_prefix that moves running URLs needs ?confirm=true", req: spec.GatewayGroup{}, resp: spec.GatewayGroup{}, query: []string{"confirm"}, status: ok, handle: (*call).putGroup},
		{method: "DELETE", path: G, tag: "gateway groups", perm: rbac.GroupManage, summary: "Delete a gateway group where nothing runs and no project stage points", status: nc, handle: (*call).deleteGroup},
		{method: "GET", path: G + "/instances", tag: "gateway groups", perm: rbac.GroupRead, summary: "Gateway processes serving the group (stand-alone and embedded), with their state (healthy, lagging, refused, lost, offline) and how many serve the group's revision", resp: instancesResult{}, query: listParams, search: "instance id or host name", status: ok, handle: (*call).listInstances},
		{method: "GET", path: G + "/tokens", tag: "gateway groups", perm: rbac.GatewayManage, summary: "Join tokens of the group's stand-alone gateways (admin only; secrets never shown)", resp: spec.GatewayToken{}, list: true, status: ok, handle: (*call).listGatewayTokens},
		{method: "POST", path: G + "/tokens", tag: "gateway groups", perm: rbac.GatewayManage, summary: "Make a join token for the group's stand-alone gateways (admin only); the answer holds the token, the only time it is shown", req: gatewayTokenRequest{}, resp: spec.GatewayToken{}, status: cr, handle: (*call).createGatewayToken},
		{method: "GET", path: G + "/tokens/{t}", tag: "gateway groups", perm: rbac.GatewayManage, summary: "Get a join token (admin only; the secret is never shown)", resp: spec.GatewayToken{}, status: ok, handle: (*call).getGatewayToken},
		{method: "DELETE", path: G + "/tokens/{t}", tag: "gateway groups", perm: rbac.GatewayManage, summary: "Revoke a join token (admin only): a gateway presenting it is refused from its next request on", status: nc, handle: (*call).revokeGatewayToken},
		{method: "GET", path: G + "/certificates", tag: "gateway groups", perm: rbac.GroupRead, summary: "TLS certificates of the group's gateways (private keys never shown)", resp: spec.Certificate{}, list: true, status: ok, handle: (*call).listCertificates},
		{method: "POST", path: G + "/certificates", tag: "gateway groups", perm: rbac.GroupManage, summary: "Add a TLS certificate (PEM chain and private key; admin only): its gateways serve it to clients asking for one of its names; the key is stored encrypted and never shown again", req: spec.Certificate{}, resp: spec.Certificate{}, status: cr, handle: (*call).createCertificate},
		{method: "GET", path: G + "/certificates/{cert}", tag: "gateway groups", perm: rbac.GroupRead, summary: "Get a TLS certificate (the private key is never shown)", resp: spec.Certificate{}, status: ok, handle: (*call).getCertificate},
		{method: "PATCH", path: G + "/certificates/{cert}", tag: "gateway groups", perm: rbac.GroupManage, summary: "Change a TLS certificate (JSON merge patch; admin only; the private key is kept unless given)", req: spec.Certificate{}, resp: spec.Certificate{}, status: ok, handle: (*call).patchCertificate},
		{method: "PUT", path: G + "/certificates/{cert}", tag: "gateway groups", perm: rbac.GroupManage, summary: "Replace a TLS certificate, e.g. a renewed one (admin only; the private key is kept unless given)", req: spec.Certificate{}, resp: spec.Certificate{}, status: ok, handle: (*call).putCertificate},
		{method: "DELETE", path: G + "/certificates/{cert}", tag: "gateway groups", perm: rbac.GroupManage, summary: "Delete a TLS certificate (admin only)", status: nc, handle: (*call).deleteCertificate},
		{method: "GET", path: G + "/registries", tag: "gateway groups", perm: rbac.GroupRead, summary: "Service registry connections of the group's gateways (dns, consul, kubernetes, nacos, eureka), each with what the group's instances that are not offline report of it (credentials never shown)", resp: spec.Registry{}, list: true, status: ok, handle: (*call).listRegistries},
		{method: "POST", path: G + "/registries", tag: "gateway groups", perm: rbac.GroupManage, summary: "Add a service registry connection (admin only): upstreams whose discovery names it get their nodes from it; a password or token is stored encrypted and never shown again", req: spec.Registry{}, resp: spec.Registry{}, status: cr, handle: (*call).createRegistry},
		{method: "GET", path: G + "/registries/{reg}", tag: "gateway groups", perm: rbac.GroupRead, summary: "Get a service registry connection, with what the group's instances report of it (credentials never shown)", resp: spec.Registry{}, status: ok, handle: (*call).getRegistry},
		{method: "PUT", path: G + "/registries/{reg}", tag: "gateway groups", perm: rbac.GroupManage, summary: "Replace a service registry connection (admin only): a password or token the body leaves out is kept, \"\" removes it; a rename that a running service's discovery uses is refused (400 naming the service)", req: spec.Registry{}, resp: spec.Registry{}, status: ok, handle: (*call).putRegistry},
		{method: "DELETE", path: G + "/registries/{reg}", tag: "gateway groups", perm: rbac.GroupManage, summary: "Delete a service registry connection (admin only); refused (400 naming the service) while a running service's discovery uses it", status: nc, handle: (*call).deleteRegistry},
		{method: "GET", path: G + "/services", tag: "gateway groups", perm: rbac.GroupRead, summary: "Services running in a gateway group, with version and URLs", resp: groupService{}, list: true, query: listParams, search: "service name", status: ok, handle: (*call).groupServices},

		{method: "GET", path: P + "/upstreams", tag: "upstreams", perm: rbac.UpstreamRead, summary: "List upstreams", resp: spec.Upstream{}, list: true, query: listParams, status: ok, handle: (*call).listUpstreams},
		{method: "POST", path: P + "/upstreams", tag: "upstreams", perm: rbac.UpstreamWrite, summary: "Create an upstream", req: spec.Upstream{}, resp: spec.Upstream{}, status: cr, handle: (*call).createUpstream},
		{method: "GET", path: U, tag: "upstreams", perm: rbac.UpstreamRead, summary: "Get an upstream", resp: spec.Upstream{}, status: ok, handle: (*call).getUpstream},
		{method: "PATCH", path: U, tag: "upstreams", perm: rbac.UpstreamWrite, summary: "Change an upstream (JSON merge patch)", req: spec.Upstream{}, resp: spec.Upstream{}, status: ok, handle: (*call).patchUpstream},
		{method: "PUT", path: U, tag: "upstreams", perm: rbac.UpstreamWrite, summary: "Replace an upstream", req: spec.Upstream{}, resp: spec.Upstream{}, status: ok, handle: (*call).putUpstream},
		{method: "DELETE", path: U, tag: "upstreams", perm: rbac.UpstreamWrite, summary: "Delete an upstream no service uses", status: nc, handle: (*call).deleteUpstream},
		{method: "GET", path: P + "/data-sources", tag: "data sources", perm: rbac.DataSourceRead, summary: "List data sources (passwords never shown)", resp: spec.DataSource{}, list: true, query: listParams, status: ok, handle: (*call).listDataSources},
		{method: "POST", path: P + "/data-sources", tag: "data sources", perm: rbac.DataSourceWrite, summary: "Register a database (postgres, mysql); the password is stored encrypted and never shown again", req: spec.DataSource{}, resp: spec.DataSource{}, status: cr, handle: (*call).createDataSource},
		{method: "GET", path: P + "/data-sources/{d}", tag: "data sources", perm: rbac.DataSourceRead, summary: "Get a data source", resp: spec.DataSource{}, status: ok, handle: (*call).getDataSource},
		{method: "PATCH", path: P + "/data-sources/{d}", tag: "data sources", perm: rbac.DataSourceWrite, summary: "Change a data source (JSON merge patch; the password is kept unless given)", req: spec.DataSource{}, resp: spec.DataSource{}, status: ok, handle: (*call).patchDataSource},
		{method: "PUT", path: P + "/data-sources/{d}", tag: "data sources", perm: rbac.DataSourceWrite, summary: "Replace a data source (the password is kept unless given)", req: spec.DataSource{}, resp: spec.DataSource{}, status: ok, handle: (*call).putDataSource},
		{method: "DELETE", path: P + "/data-sources/{d}", tag: "data sources", perm: rbac.DataSourceWrite, summary: "Delete a data source no route uses (409 names the routes that do)", status: nc, handle: (*call).deleteDataSource},
		{method: "POST", path: P + "/data-sources/{d}/test", tag: "data sources", perm: rbac.DataSourceWrite, summary: "Connect to the saved data source (its saved host and port only; no body): whether it answers and how long it took; at most 10 a minute per user (429 with Retry-After)", resp: dataSourceTest{}, status: ok, handle: (*call).testDataSource},
		{method: "GET", path: P + "/data-sources/{d}/tables", tag: "data sources", perm: rbac.DataSourceWrite, summary: "List the tables and their columns of the saved data source (what a wizard route may read; at most 500 tables of 200 columns, truncated says more exist); counted with the connection tests: at most 10 a minute per user (429 with Retry-After)", resp: dataSourceTables{}, status: ok, handle: (*call).listDataSourceTables},

		{method: "GET", path: P + "/folders", tag: "folders", perm: rbac.FolderRead, summary: "List the catalog folders of a project (a tree: parent_id)", resp: spec.Folder{}, list: true, query: listParams, status: ok, handle: (*call).listFolders},
		{method: "POST", path: P + "/folders", tag: "folders", perm: rbac.FolderWrite, summary: "Create a catalog folder", req: spec.Folder{}, resp: spec.Folder{}, status: cr, handle: (*call).createFolder},
		{method: "GET", path: F, tag: "folders", perm: rbac.FolderRead, summary: "Get a catalog folder", resp: spec.Folder{}, status: ok, handle: (*call).getFolder},
		{method: "PATCH", path: F, tag: "folders", perm: rbac.FolderWrite, summary: "Change a catalog folder (JSON merge patch); a new path that moves running URLs needs ?confirm=true", req: spec.Folder{}, resp: spec.Folder{}, query: []string{"confirm"}, status: ok, handle: (*call).patchFolder},
		{method: "PUT", path: F, tag: "folders", perm: rbac.FolderWrite, summary: "Replace a catalog folder; a new path that moves running URLs needs ?confirm=true", req: spec.Folder{}, resp: spec.Folder{}, query: []string{"confirm"}, status: ok, handle: (*call).putFolder},
		{method: "DELETE", path: F, tag: "folders", perm: rbac.FolderWrite, summary: "Delete a catalog folder without folders or services", status: nc, handle: (*call).deleteFolder},

		{method: "GET", path: P + "/services", tag: "services", perm: rbac.ServiceRead, summary: "List services (without routes)", resp: spec.Service{}, list: true, query: listParams, status: ok, handle: (*call).listServices},
		{method: "POST", path: P + "/services", tag: "services", perm: rbac.ServiceWrite, summary: "Create a service (state draft); routes given inline are created with it", req: spec.Service{}, resp: spec.Service{}, status: cr, handle: (*call).createService},
		{method: "GET", path: S, tag: "services", perm: rbac.ServiceRead, summary: "Get a service with its routes", resp: spec.Service{}, status: ok, handle: (*call).getService},
		{method: "PATCH", path: S, tag: "services", perm: rbac.ServiceWrite, summary: "Change a service template (JSON merge patch; routes are changed under /routes)", req: spec.Service{}, resp: spec.Service{}, status: ok, handle: (*call).patchService},
		{method: "PUT", path: S, tag: "services", perm: rbac.ServiceWrite, summary: "Replace a service template (routes are changed under /routes)", req: spec.Service{}, resp: spec.Service{}, status: ok, handle: (*call).putService},
		{method: "DELETE", path: S, tag: "services", perm: rbac.ServiceWrite, summary: "Delete a service that runs nowhere and that no composite route calls, in a template or running (409 naming them: see …/dependencies)", status: nc, handle: (*call).deleteService},

		{method: "POST", path: P + "/services/import", tag: "openapi", perm: rbac.ServiceWrite, summary: "Import an OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML body) as a service with its routes, or update the service of the same name (or ?service=) in place; ?dry_run=true answers the report only; ?mock=true turns response examples into mock plugins", resp: importResult{}, rawBody: true, query: []string{"dry_run", "mock", "service"}, status: ok, handle: (*call).importOpenAPI},
		{method: "GET", path: S + "/openapi", tag: "openapi", perm: rbac.ServiceRead, summary: "The service's OpenAPI 3.1 description (JSON; YAML with Accept: application/yaml or ?format=yaml)", query: []string{"format"}, status: ok, handle: (*call).exportOpenAPI},
		{method: "GET", path: S + "/versions/{v}/openapi", tag: "openapi", perm: rbac.ServiceRead, summary: "A published version's OpenAPI 3.1 description (JSON; YAML with Accept: application/yaml or ?format=yaml)", query: []string{"format"}, status: ok, handle: (*call).exportVersionOpenAPI},

		{method: "GET", path: S + "/routes", tag: "routes", perm: rbac.ServiceRead, summary: "List the routes of a service", resp: spec.Route{}, list: true, query: listParams, status: ok, handle: (*call).listRoutes},
		{method: "POST", path: S + "/routes", tag: "routes", perm: rbac.ServiceWrite, summary: "Create a route", req: spec.Route{}, resp: spec.Route{}, status: cr, handle: (*call).createRoute},
		{method: "GET", path: R, tag: "routes", perm: rbac.ServiceRead, summary: "Get a route", resp: spec.Route{}, status: ok, handle: (*call).getRoute},
		{method: "PATCH", path: R, tag: "routes", perm: rbac.ServiceWrite, summary: "Change a route (JSON merge patch)", req: spec.Route{}, resp: spec.Route{}, status: ok, handle: (*call).patchRoute},
		{method: "PUT", path: R, tag: "routes", perm: rbac.ServiceWrite, summary: "Replace a route", req: spec.Route{}, resp: spec.Route{}, status: ok, handle: (*call).putRoute},
		{method: "DELETE", path: R, tag: "routes", perm: rbac.ServiceWrite, summary: "Delete a route", status: nc, handle: (*call).deleteRoute},

		{method: "POST", path: S + "/publish", tag: "publishing", perm: rbac.ServicePublish, summary: "Publish the template as a new version to a gateway group", req: release.PublishRequest{}, resp: publishResponse{}, query: []string{"wait"}, status: cr, handle: (*call).publish},
		{method: "POST", path: S + "/sync", tag: "publishing", perm: rbac.ServicePublish, summary: "Run the version running in from_group in to_group too, same version string, with the upstream given for the target; only the running version can be synced; the answer lists what changes in to_group field by field, and ?dry_run=true answers that without applying it", req: release.SyncRequest{}, resp: syncResponse{}, query: []string{"wait", "dry_run"}, status: ok, handle: (*call).syncVersion},
		{method: "POST", path: S + "/unpublish", tag: "publishing", perm: rbac.ServicePublish, summary: "Take the service off a gateway group (下线), whatever put it there; recorded in the release history; the service's state then says where it still runs", req: release.UnpublishRequest{}, resp: unpublishResponse{}, query: []string{"wait"}, status: ok, handle: (*call).unpublish},
		{method: "PUT", path: S + "/version-routing", tag: "publishing", perm: rbac.ServicePublish, summary: "Run other versions beside the one a gateway group runs (the default), named by a header, a query parameter or a path segment (version routing); kept across publishes", req: release.VersionRoutingRequest{}, resp: publishResponse{}, query: []string{"wait"}, status: ok, handle: (*call).setVersionRouting},
		{method: "DELETE", path: S + "/version-routing", tag: "publishing", perm: rbac.ServicePublish, summary: "Stop the versions running beside the group's own: only the default answers again", resp: publishResponse{}, query: []string{"group", "wait"}, status: ok, handle: (*call).deleteVersionRouting},
		{method: "POST", path: S + "/rollback", tag: "publishing", perm: rbac.ServicePublish, summary: "Run an earlier version in a gateway group", req: release.RollbackRequest{}, resp: publishResponse{}, query: []string{"wait"}, status: ok, handle: (*call).rollback},
		{method: "GET", path: S + "/versions", tag: "publishing", perm: rbac.ServiceRead, summary: "List versions (newest first) with the groups each runs in", resp: versionInfo{}, list: true, query: listParams, search: "version string", status: ok, handle: (*call).listVersions},
		{method: "GET", path: S + "/versions/{v}", tag: "publishing", perm: rbac.ServiceRead, summary: "Get a version", resp: versionInfo{}, status: ok, handle: (*call).getVersion},
		{method: "POST", path: S + "/versions/{v}/restore", tag: "publishing", perm: rbac.ServiceWrite, summary: "Edit from this version: make the template what the version holds (members, plugins, upstream, OpenAPI parts, routes matched by name), in one transaction; the service keeps its id, state and folder, and nothing runs differently until the next publish", resp: spec.Service{}, status: ok, handle: (*call).restoreVersion},
		{method: "GET", path: S + "/diff", tag: "publishing", perm: rbac.ServiceRead, summary: "What changes, field by field, from one version to another or to the template (routes matched by name, plugins by name, upstream nodes by host:port; ids, timestamps and lifecycle state left out)", resp: serviceDiff{}, query: []string{"from", "to"}, status: ok, handle: (*call).diffService},
		{method: "GET", path: S + "/history", tag: "publishing", perm: rbac.ServiceRead, summary: "Release history (newest first)", resp: historyEntry{}, list: true, query: []string{"page", "page_size", "group"}, status: ok, handle: (*call).history},

		{method: "POST", path: S + "/canary", tag: "canary", perm: rbac.CanaryWrite, summary: "Start a canary release in a gateway group: weight % (and every request a rule matches) to the target upstream or version; at most one running per service and group", req: release.CanaryCreate{}, resp: canaryResponse{}, status: cr, handle: (*call).createCanary},
		{method: "GET", path: S + "/canary", tag: "canary", perm: rbac.ServiceRead, summary: "Canary tasks of a service (newest first); running ones carry live per-side figures over 1, 5 and 15 minutes", resp: spec.Canary{}, list: true, query: []string{"page", "page_size", "group", "state"}, status: ok, handle: (*call).listCanaries},
		{method: "GET", path: S + "/canary/{c}", tag: "canary", perm: rbac.ServiceRead, summary: "Get a canary task with its figures", resp: spec.Canary{}, status: ok, handle: (*call).getCanary},
		{method: "PATCH", path: S + "/canary/{c}", tag: "canary", perm: rbac.CanaryWrite, summary: "Change a running canary's weight, rules, routes or guard", req: release.CanaryPatch{}, resp: canaryResponse{}, status: ok, handle: (*call).patchCanary},
		{method: "POST", path: S + "/canary/{c}/cancel", tag: "canary", perm: rbac.CanaryWrite, summary: "Cancel a running canary: all traffic back to the current backend", resp: canaryResponse{}, status: ok, handle: (*call).cancelCanary},
		{method: "POST", path: S + "/canary/{c}/promote", tag: "canary", perm: rbac.CanaryWrite, summary: "Promote (full release): the target becomes the group's backend, recorded as a new version; the task is completed", req: release.CanaryPromote{}, resp: canaryResponse{}, status: ok, handle: (*call).promoteCanary},
		{method: "POST", path: S + "/cache/purge", tag: "publishing", perm: rbac.ServicePublish, summary: "Purge the service's proxy-cache in a gateway group: the keys named (as X-Cache-Key shows them), or every cached answer; a release (new revision, history line) every gateway of the group applies, embedded or stand-alone", req: release.PurgeCacheRequest{}, resp: purgeCacheResponse{}, query: []string{"wait"}, status: ok, handle: (*call).purgeCache},

		{method: "POST", path: S + "/actions/submit", tag: "lifecycle", perm: rbac.ServicePublish, summary: "Submit: publish the template as a new version (default: next patch version, 1.0.0 first) to the project's test group (draft → submitted; published stays published)", req: release.ActionRequest{}, resp: release.ActionResult{}, status: ok, handle: lifecycleAction(release.ActionSubmit)},
		{method: "POST", path: S + "/actions/withdraw", tag: "lifecycle", perm: rbac.ServicePublish, summary: "Withdraw: take the submitted version off the test group (submitted → draft)", resp: release.ActionResult{}, status: ok, handle: lifecycleAction(release.ActionWithdraw)},
		{method: "POST", path: S + "/actions/publish", tag: "lifecycle", perm: rbac.ServicePublish, summary: "Publish: run the test group's version in the production group and list it in the catalog (submitted → published)", req: promoteRequest{}, resp: release.ActionResult{}, status: ok, handle: lifecycleAction(release.ActionPublish)},
		{method: "POST", path: S + "/actions/republish", tag: "lifecycle", perm: rbac.ServicePublish, summary: "Republish: replace production's version with the one now in the test group (published)", req: promoteRequest{}, resp: release.ActionResult{}, status: ok, handle: lifecycleAction(release.ActionRepublish)},
		{method: "POST", path: S + "/actions/disable", tag: "lifecycle", perm: rbac.ServicePublish, summary: "Disable: take the service off production and test, hide it from the catalog, remember what ran (published → disabled)", resp: release.ActionResult{}, status: ok, handle: lifecycleAction(release.ActionDisable)},
		{method: "POST", path: S + "/actions/enable", tag: "lifecycle", perm: rbac.ServicePublish, summary: "Enable: restore exactly what ran before disable (disabled → published)", resp: release.ActionResult{}, status: ok, handle: lifecycleAction(release.ActionEnable)},
		{method: "POST", path: S + "/debug", tag: "observability", perm: rbac.ServiceDebug, summary: "Send one request through a gateway group (default: the project's test group) to the service and answer status, headers, body and latency (what the console's Debug tab shows)", req: debugRequest{}, resp: debugResponse{}, status: ok, handle: (*call).debugService},
		{method: "GET", path: G + "/history", tag: "gateway groups", perm: rbac.GroupRead, summary: "Release history of a gateway group (newest first)", resp: historyEntry{}, list: true, query: listParams, search: "action, version or service id", status: ok, handle: (*call).groupHistory},

		{method: "GET", path: "/applications", tag: "applications", perm: rbac.ApplicationOwn, summary: "List applications (an admin sees all, filtered by ?project=; a user their own)", resp: spec.Application{}, list: true, query: []string{"page", "page_size", "q", "project"}, status: ok, handle: (*call).listApplications},
		{method: "POST", path: "/applications", tag: "applications", perm: rbac.ApplicationOwn, summary: "Create an application: with project, the project's call credentials (admitted to its services, or only to services); without, the caller's own", req: spec.Application{}, resp: spec.Application{}, status: cr, handle: (*call).createApplication},
		{method: "GET", path: A, tag: "applications", perm: rbac.ApplicationOwn, summary: "Get an application", resp: spec.Application{}, status: ok, handle: (*call).getApplication},
		{method: "PATCH", path: A, tag: "applications", perm: rbac.ApplicationOwn, summary: "Change an application (JSON merge patch)", req: spec.Application{}, resp: spec.Application{}, status: ok, handle: (*call).patchApplication},
		{method: "PUT", path: A, tag: "applications", perm: rbac.ApplicationOwn, summary: "Replace an application", req: spec.Application{}, resp: spec.Application{}, status: ok, handle: (*call).putApplication},
		{method: "DELETE", path: A, tag: "applications", perm: rbac.ApplicationOwn, summary: "Delete an application with its credentials and subscriptions", status: nc, handle: (*call).deleteApplication},
		{method: "GET", path: A + "/credentials", tag: "applications", perm: rbac.ApplicationOwn, summary: "List an application's credentials (never with secrets)", resp: spec.Credential{}, list: true, status: ok, handle: (*call).listCredentials},
		{method: "POST", path: A + "/credentials", tag: "applications", perm: rbac.ApplicationOwn, summary: "Create a credential (key-auth, basic-auth, hmac-auth, jwt-auth, oauth2); secrets left out are generated; this answer is the only one showing them", req: spec.Credential{}, resp: spec.Credential{}, status: cr, handle: (*call).createCredential},
		{method: "GET", path: C, tag: "applications", perm: rbac.ApplicationOwn, summary: "Get a credential (without secret)", resp: spec.Credential{}, status: ok, handle: (*call).getCredential},
		{method: "PATCH", path: C, tag: "applications", perm: rbac.ApplicationOwn, summary: "Set or clear (null) a credential's expires_at", req: credentialPatch{}, resp: spec.Credential{}, status: ok, handle: (*call).patchCredential},
		{method: "POST", path: C + "/rotate", tag: "applications", perm: rbac.ApplicationOwn, summary: "Rotate: a new secret for the same identifier (a new key for key-auth), shown once; the old one expires after overlap seconds (default 3600)", req: rotateRequest{}, resp: spec.Credential{}, status: cr, handle: (*call).rotateCredential},
		{method: "DELETE", path: C, tag: "applications", perm: rbac.ApplicationOwn, summary: "Revoke a credential at once", status: nc, handle: (*call).deleteCredential},

		{method: "GET", path: P + "/config", tag: "declarative", perm: rbac.ConfigRead, summary: "The project's declarative configuration (upstreams, services, routes, plugins) as YAML; ?format=json for JSON", query: []string{"format"}, status: ok, handle: (*call).getConfig},
		{method: "PUT", path: P + "/config", tag: "declarative", perm: rbac.ConfigWrite, summary: "Make the project what a YAML document says, in one transaction; ?dry_run=true answers the plan only; ?prune=true removes what the document does not name", req: manifest.Document{}, resp: configResult{}, query: []string{"dry_run", "prune"}, status: ok, handle: (*call).putConfig},

		{method: "POST", path: P + "/export", tag: "packages", perm: rbac.PackageExport, summary: "The project's services and upstreams as a package (zip of JSON; no secrets, no applications) for another install, named by the body or ?name= (letters, digits, _ - .; default: the project and the day) with a description", req: exportRequest{}, query: []string{"name", "description"}, status: ok, handle: (*call).exportPackage},
		{method: "POST", path: P + "/import", tag: "packages", perm: rbac.PackageImport, summary: "Import a package (multipart: package + mapping, or a raw zip with ?upstream=SOURCE:TARGET); every upstream used must be mapped, else nothing happens and each unmapped one is listed; new services arrive as drafts. The package is recorded in the project (package_id): published, or failed with the refusal, to retry", resp: packageResult{}, rawBody: true, query: packageQuery, status: ok, handle: (*call).importPackage},
		{method: "GET", path: P + "/packages", tag: "packages", perm: rbac.PackageImport, summary: "The packages imported into the project, newest first, with their state (pending, published, failed), why a failed one was refused, where each came from and who imported it", resp: spec.Package{}, list: true, query: packageListQuery, search: "name, description or source project", status: ok, handle: (*call).listPackages},
		{method: "GET", path: P + "/packages/{pkg}", tag: "packages", perm: rbac.PackageImport, summary: "An imported package with its state, reason, mapping and (published) what it changed", resp: spec.Package{}, status: ok, handle: (*call).getPackage},
		{method: "POST", path: P + "/packages/{pkg}/retry", tag: "packages", perm: rbac.PackageImport, summary: "Apply a pending or failed package again with the body's mapping ({upstreams, data_sources}; none: the last attempt's): published, or failed again with the new reason (answered as the refusal, with package_id)", req: packageMapping{}, resp: spec.Package{}, status: ok, handle: (*call).retryPackage},
		{method: "DELETE", path: P + "/packages/{pkg}", tag: "packages", perm: rbac.PackageImport, summary: "Delete a package's record and its stored zip (what a published one changed stays)", status: nc, handle: (*call).deletePackage},

		{method: "GET", path: "/audit-events", tag: "audit", perm: rbac.AuditRead, anyProject: true, summary: "Audit log (newest first): a super_admin sees every event, those of no project too (users, groups, logins); anyone else the events of the projects where they hold audit:read (?project= of another selects nothing). A change carries detail {before, after, changed} with secrets masked (\"***\")", resp: spec.AuditEvent{}, list: true, query: auditQuery, search: "actor, action or resource", status: ok, handle: (*call).auditEvents},
		{method: "GET", path: "/audit-events/export", tag: "audit", perm: rbac.AuditRead, anyProject: true, summary: "The audit log as JSON lines (application/x-ndjson), one event per line, oldest first, with the list's filters and visibility, at most limit events (at most and by default 100000); when more remain, the last line is {next_after_id, next} instead of an event: GET next to go on", query: auditExportQuery, search: "actor, action or resource", status: ok, handle: (*call).exportAuditEvents},
	}
}
