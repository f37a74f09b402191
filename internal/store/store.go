// Package store keeps Portico's state: SQLite by default (pure Go, WAL),
// PostgreSQL later, behind one interface so callers never know which. Every
// admin action runs in one transaction (Store.Tx); a failed action leaves
// nothing behind. Commits that change what a gateway group runs bump the
// group's revision and wake watchers (Store.WaitRevision).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Sentinels callers branch on (test with errors.Is).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict") // unique name, version exists, still in use
	// ErrUnavailable: the database could not be reached (PostgreSQL down
	// or restarting); nothing was written, and the same call may succeed
	// in a moment.
	ErrUnavailable = errors.New("the store's database is unavailable")
)

// ListQuery selects one page of a list; Q filters by a substring of the name.
type ListQuery struct {
	Page     int // 1-based; 0 means 1
	PageSize int // 0 means 20; capped at 500
	Q        string
}

// Token is a bearer token; only its SHA-256 hash is stored.
type Token struct {
	ID        string
	UserID    string
	Hash      string // hex SHA-256 of the token
	Name      string // "session" for login tokens, else the name of a personal access token
	Kind      string // TokenSession, TokenPAT, TokenInvite, TokenReset
	Scope     string // spec.ScopeFull or spec.ScopeRead (personal access tokens)
	ExpiresAt time.Time
	// LastUsedAt is when the token last authenticated a request, to the
	// minute (it is written at most once a minute).
	LastUsedAt time.Time
	Client     string // the address that made the token (a session: the login's)
	UserAgent  string
	CreatedAt  time.Time
}

// Store is the handle the control plane holds.
type Store interface {
	// Tx runs fn in one transaction: it commits when fn returns nil and rolls
	// back otherwise. Revisions bumped inside fn wake WaitRevision after commit.
	Tx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction that sees one consistent
	// state of committed data and never takes the write lock, so reads do
	// not queue behind admin writes and publishes. Any write inside fn
	// returns an error, and so does View; its error is fn's as is.
	View(ctx context.Context, fn func(Tx) error) error
	// WaitRevision blocks until the highest revision of the named groups is
	// greater than after, or ctx ends; it returns that revision.
	WaitRevision(ctx context.Context, groups []string, after int64) (int64, error)
	// Lead runs fn while this process holds the named periodic job, one
	// process at a time among those sharing the store, until ctx ends.
	Lead(ctx context.Context, job string, fn func(context.Context))
	Close() error
}

// Tx is one transaction. Reads see the transaction's own writes. Every
// Get/Update/Delete of a missing object returns an error wrapping
// ErrNotFound; a duplicate name or version wraps ErrConflict.
type Tx interface {
	// Users (users.go).
	CreateUser(ctx context.Context, u *spec.User, passwordHash string) error // "" hash: no password yet
	CreateExternalUser(ctx context.Context, u *spec.User, external string) error
	UserByName(ctx context.Context, username string) (spec.User, string, error) // user, password hash
	UserByExternal(ctx context.Context, external string) (spec.User, error)
	GetUser(ctx context.Context, id string) (spec.User, error)
	CountUsers(ctx context.Context) (int, error)
	CountActiveSuperAdmins(ctx context.Context) (int, error)
	ListUsers(ctx context.Context, q ListQuery) ([]spec.User, int, error)
	UpdateUser(ctx context.Context, u *spec.User) error // role, display name, email, disabled
	SetPassword(ctx context.Context, id, hash string) error
	TouchLogin(ctx context.Context, id string, at time.Time) error
	DeleteUser(ctx context.Context, id string) error // with tokens and memberships
	// Tokens of users (tokens.go): sessions, personal access tokens, one-time links.
	CreateToken(ctx context.Context, t *Token) error
	TokenByHash(ctx context.Context, hash string) (Token, spec.User, error) // sessions and PATs of enabled users; else ErrNotFound
	TakeLinkToken(ctx context.Context, hash, kind string) (Token, error)    // a live one-time link, deleted as it is taken
	ListTokens(ctx context.Context, userID, kind string) ([]Token, error)   // live ones, newest first
	DeleteToken(ctx context.Context, hash string) error
	DeleteUserToken(ctx context.Context, userID, kind, id string) error
	DeleteUserTokens(ctx context.Context, userID string, kinds ...string) (int, error)
	TouchToken(ctx context.Context, id string, at time.Time) error
	PruneTokens(ctx context.Context, cutoff time.Time) (int, error)
	// Project members and custom roles (members.go).
	PutMember(ctx context.Context, m *spec.Member) (created bool, err error)
	GetMember(ctx context.Context, project, userID string) (spec.Member, error)
	ListMembers(ctx context.Context, project string) ([]spec.Member, error)
	ListUserMembers(ctx context.Context, userID string) ([]spec.Member, error)
	DeleteMember(ctx context.Context, project, userID string) error
	CountRoleMembers(ctx context.Context, role string) (int, error)
	CreateRole(ctx context.Context, r *spec.Role) error
	GetRole(ctx context.Context, name string) (spec.Role, error)
	ListRoles(ctx context.Context) ([]spec.Role, error)
	UpdateRole(ctx context.Context, r *spec.Role) error
	DeleteRole(ctx context.Context, name string) error
	// Failed logins per username (logins.go), known or not.
	GetLoginState(ctx context.Context, username string) (LoginState, error) // none: ErrNotFound
	ListLoginStates(ctx context.Context) ([]LoginState, error)              // every record, by username
	PutLoginState(ctx context.Context, s *LoginState) error                 // insert or replace
	DeleteLoginState(ctx context.Context, username string) error            // none: ErrNotFound
	PruneLoginStates(ctx context.Context, cutoff time.Time) (int, error)    // quiet since cutoff

	// Projects (ID is the slug).
	CreateProject(ctx context.Context, p *spec.Project) error
	GetProject(ctx context.Context, id string) (spec.Project, error)
	ListProjects(ctx context.Context, q ListQuery) ([]spec.Project, int, error)
	UpdateProject(ctx context.Context, p *spec.Project) error
	DeleteProject(ctx context.Context, id string) error

	// Gateway groups (keyed by name).
	CreateGroup(ctx context.Context, g *spec.GatewayGroup) error
	GetGroup(ctx context.Context, name string) (spec.GatewayGroup, error)
	ListGroups(ctx context.Context, q ListQuery) ([]spec.GatewayGroup, int, error)
	UpdateGroup(ctx context.Context, g *spec.GatewayGroup) error
	DeleteGroup(ctx context.Context, name string) error
	// BumpRevision sets the named groups' revision to a new value of the
	// global, monotonically increasing config revision and returns it;
	// a missing group is ErrNotFound. Changes of one group are merged (the
	// union of their services, whole if any is whole). In the same
	// transaction it logs what the revision changes in each group, for
	// ChangedSince (changes.go): each service, or the whole group (a
	// change without services, or of more than 1000).
	BumpRevision(ctx context.Context, changes ...RevisionChange) (int64, error)
	// ChangedSince answers which services of group changed in the
	// revisions after `after` up to the group's current revision: their
	// ids (sorted, unique), or whole = true when the log cannot say (a
	// whole-group change in that range, `after` older than what the log
	// keeps, `after` above the current revision, or more than maxServices
	// services changed). after == current: no services, whole false. The
	// log keeps about the newest 10 000 revisions; a group's log starts
	// after its creation (a gateway at revision 0 reloads whole). A
	// missing group is ErrNotFound.
	ChangedSince(ctx context.Context, group string, after int64, maxServices int) (services []string, whole bool, err error)

	// The route-shape index of a group (routeshapes.go): the public path
	// shapes of the online routes its services run, kept by the release
	// package so that it finds route collisions without the whole
	// snapshot. Shapes go with the service's deployment (and so with the
	// group). PutRouteShapes replaces one service's shapes (none: it no
	// longer runs there; the service must be deployed in the group);
	// ResetRouteShapes replaces every shape of the group and marks its
	// index complete; RouteShapesComplete is false only for a group that
	// ran services before the index existed, until it is reset;
	// FindRouteShapes returns the group's shapes equal to any of shapes,
	// of services other than except.
	PutRouteShapes(ctx context.Context, group, service string, shapes []RouteShape) error
	ResetRouteShapes(ctx context.Context, group string, shapes []RouteShape) error
	RouteShapesComplete(ctx context.Context, group string) (bool, error)
	FindRouteShapes(ctx context.Context, group string, shapes []string, except string) ([]RouteShape, error)
	// ServicesRunningAs answers the services of project running in group
	// under a name with an online route, from the same index.
	ServicesRunningAs(ctx context.Context, group, project, name string) ([]string, error)

	// The dependency graph of composite APIs (composite_uses.go): what
	// each online composite route running in a group calls, kept by the
	// release package with every change of what the group runs. Edges go
	// with the composite's deployment. PutCompositeUses replaces one
	// composite service's edges in a group, ResetCompositeUses a group's;
	// CompositeUsesOf answers the edges calling a service (in a group, or
	// "" for all), CompositeUsesBy those of a composite service.
	// ListCompositeRoutes answers the composite routes of a project's
	// templates.
	PutCompositeUses(ctx context.Context, group, service string, uses []CompositeUse) error
	ResetCompositeUses(ctx context.Context, group string, uses []CompositeUse) error
	CompositeUsesOf(ctx context.Context, group, service string) ([]CompositeUse, error)
	CompositeUsesBy(ctx context.Context, service string) ([]CompositeUse, error)
	ListCompositeRoutes(ctx context.Context, project string) ([]TemplateRoute, error)

	// Upstreams of a project. Get accepts the id or the name.
	CreateUpstream(ctx context.Context, u *spec.Upstream) error
	GetUpstream(ctx context.Context, project, idOrName string) (spec.Upstream, error)
	ListUpstreams(ctx context.Context, project string, q ListQuery) ([]spec.Upstream, int, error)
	UpdateUpstream(ctx context.Context, u *spec.Upstream) error
	DeleteUpstream(ctx context.Context, project, id string) error // ErrConflict while a service refers to it

	// Services of a project, without routes. Get accepts the id or the name.
	CreateService(ctx context.Context, s *spec.Service) error
	GetService(ctx context.Context, project, idOrName string) (spec.Service, error)
	ListServices(ctx context.Context, project string, q ListQuery) ([]spec.Service, int, error)
	UpdateService(ctx context.Context, s *spec.Service) error
	DeleteService(ctx context.Context, project, id string) error // routes, versions and history go with it

	// Catalog folders of a project (a tree through ParentID). Create and
	// Update refuse a parent outside the project (ErrNotFound), a sibling
	// of the same name and a loop (ErrConflict); Delete refuses a folder
	// that still holds folders or services (ErrConflict). Services read by
	// GetService, GetVersion, ListVersions and Snapshot carry the current
	// path of their folder in FolderPath.
	CreateFolder(ctx context.Context, f *spec.Folder) error
	GetFolder(ctx context.Context, project, id string) (spec.Folder, error)
	ListFolders(ctx context.Context, project string, q ListQuery) ([]spec.Folder, int, error)
	UpdateFolder(ctx context.Context, f *spec.Folder) error
	DeleteFolder(ctx context.Context, project, id string) error

	// Routes of a service. Get accepts the id or the name.
	CreateRoute(ctx context.Context, r *spec.Route) error
	GetRoute(ctx context.Context, service, idOrName string) (spec.Route, error)
	ListRoutes(ctx context.Context, service string) ([]spec.Route, error) // ordered by creation
	UpdateRoute(ctx context.Context, r *spec.Route) error
	DeleteRoute(ctx context.Context, service, id string) error

	// Versions: immutable; a second CreateVersion with the same version string
	// for the service is ErrConflict.
	CreateVersion(ctx context.Context, v *spec.Version) error
	GetVersion(ctx context.Context, service, version string) (spec.Version, error)
	ListVersions(ctx context.Context, service string) ([]spec.Version, error) // newest first

	// Deployments: what runs for a service in a group.
	PutDeployment(ctx context.Context, d *spec.Deployment) error // insert or replace
	GetDeployment(ctx context.Context, group, service string) (spec.Deployment, error)
	DeleteDeployment(ctx context.Context, group, service string) error
	// SetVersionRouting sets (nil: deletes) the versions a deployment
	// runs beside its own; PutDeployment keeps them.
	SetVersionRouting(ctx context.Context, group, service string, vr *spec.VersionRouting) error
	ListDeploymentsByGroup(ctx context.Context, group string) ([]spec.Deployment, error)
	ListDeploymentsByService(ctx context.Context, service string) ([]spec.Deployment, error)

	// Release history and audit log.
	AddHistory(ctx context.Context, e *spec.HistoryEvent) error                                     // sets ID
	ListHistory(ctx context.Context, service string, q ListQuery) ([]spec.HistoryEvent, int, error) // newest first
	AddAudit(ctx context.Context, e *spec.AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter, q ListQuery) ([]spec.AuditEvent, int, error)            // newest first
	ScanAudit(ctx context.Context, f AuditFilter, limit int, fn func(spec.AuditEvent) error) (int, error) // oldest first
	PruneAudit(ctx context.Context, cutoff time.Time) (int, error)

	// Publishing lifecycle (lifecycle.go): what a "disable" took off, kept
	// for "enable"; per-group history; services by state (the catalog).
	ParkDeployment(ctx context.Context, d *spec.Deployment) error // insert or replace
	ListParkedDeployments(ctx context.Context, service string) ([]spec.Deployment, error)
	DeleteParkedDeployments(ctx context.Context, service string) error
	ListGroupHistory(ctx context.Context, group string, q ListQuery) ([]spec.HistoryEvent, int, error) // newest first
	ListServicesInState(ctx context.Context, state string, q ListQuery) ([]spec.Service, int, error)   // by name

	// Canary release tasks (canaries.go). At most one running task per
	// service and group: a second is ErrConflict. Snapshot attaches a
	// group's running tasks to the services they split.
	CreateCanary(ctx context.Context, c *spec.Canary) error
	GetCanary(ctx context.Context, service, id string) (spec.Canary, error)
	UpdateCanary(ctx context.Context, c *spec.Canary) error
	ListCanaries(ctx context.Context, service, group string) ([]spec.Canary, error) // newest first; group "" = all
	RunningCanary(ctx context.Context, group, service string) (spec.Canary, error)
	ListRunningCanaries(ctx context.Context) ([]spec.Canary, error)
	// Proxy-cache purges of a service in a group (cache_purges.go); the
	// snapshot carries them with the deployment. None: the zero value.
	GetCachePurges(ctx context.Context, group, service string) (spec.CachePurges, error)
	PutCachePurges(ctx context.Context, group, service string, p *spec.CachePurges) error

	// Applications, credentials and subscriptions (applications.go,
	// credentials.go, subscriptions.go). Credentials come back redacted:
	// the store keeps only CredentialSecret. Snapshot carries the consumers
	// admitted in each group (consumers.go).
	CreateApplication(ctx context.Context, a *spec.Application) error
	GetApplication(ctx context.Context, id string) (spec.Application, error)
	ListApplications(ctx context.Context, f ApplicationFilter, q ListQuery) ([]spec.Application, int, error)
	UpdateApplication(ctx context.Context, a *spec.Application) error
	DeleteApplication(ctx context.Context, id string) error // credentials and subscriptions go with it
	CreateCredential(ctx context.Context, c *spec.Credential, sec CredentialSecret) error
	GetCredential(ctx context.Context, app, id string) (spec.Credential, error)
	ListCredentials(ctx context.Context, app string) ([]spec.Credential, error)
	SetCredentialExpiry(ctx context.Context, app, id string, at time.Time) error
	DeleteCredential(ctx context.Context, app, id string) error
	CreateSubscription(ctx context.Context, s *spec.Subscription) error
	GetSubscription(ctx context.Context, id string) (spec.Subscription, error)
	ListSubscriptions(ctx context.Context, f SubscriptionFilter, q ListQuery) ([]spec.Subscription, int, error)
	DeleteSubscription(ctx context.Context, id string) error
	GetSubscriptionOf(ctx context.Context, app, service string) (spec.Subscription, error)
	UpdateSubscription(ctx context.Context, s *spec.Subscription) error // state, plan, approval

	PutListing(ctx context.Context, l *spec.Listing) error // insert or replace
	GetListing(ctx context.Context, service string) (spec.Listing, error)
	DeleteListing(ctx context.Context, service string) error
	ListCatalog(ctx context.Context, f CatalogFilter, q ListQuery) ([]spec.Service, int, error) // listed and published, by name
	CreatePlan(ctx context.Context, p *spec.Plan) error
	GetPlan(ctx context.Context, service, idOrName string) (spec.Plan, error)
	ListPlans(ctx context.Context, service string) ([]spec.Plan, error) // by name
	UpdatePlan(ctx context.Context, p *spec.Plan) error
	DeletePlan(ctx context.Context, service, id string) error // ErrConflict while subscriptions use it
	CreateApproval(ctx context.Context, a *spec.Approval) error
	GetApproval(ctx context.Context, id string) (spec.Approval, error)                              // with history
	ListApprovals(ctx context.Context, f ApprovalFilter, q ListQuery) ([]spec.Approval, int, error) // newest first
	DecideApproval(ctx context.Context, id, state string, ev *spec.ApprovalEvent) error             // ErrConflict unless pending
	AddApprovalEvent(ctx context.Context, id string, ev *spec.ApprovalEvent) error
	GetProjectWebhook(ctx context.Context, project string) (url, sealed string, err error)
	SetProjectWebhook(ctx context.Context, project, url, sealed string) error
	EnqueueWebhook(ctx context.Context, d *WebhookDelivery) error
	DueWebhooks(ctx context.Context, at time.Time, limit int) ([]WebhookDelivery, error) // oldest first
	ListWebhookDeliveries(ctx context.Context, project string, q ListQuery) ([]WebhookDelivery, int, error)
	MarkWebhook(ctx context.Context, id string, deliveredAt, next time.Time, lastError string) error
	PruneWebhooks(ctx context.Context, cutoff time.Time) (int, error)

	// Alert rules of services (alerts.go), read with their service's
	// name; they and their history go with the service. TransitionAlert
	// changes an enabled rule's state only from the state given (else
	// ErrConflict), so a crossing is recorded once; AddAlertEvent keeps a
	// rule's newest `keep` changes of state.
	CreateAlertRule(ctx context.Context, r *spec.AlertRule) error
	GetAlertRule(ctx context.Context, service, id string) (spec.AlertRule, error)
	ListAlertRules(ctx context.Context, project, service string) ([]spec.AlertRule, error) // firing first; service "": all
	ListEnabledAlertRules(ctx context.Context) ([]spec.AlertRule, error)
	UpdateAlertRule(ctx context.Context, r *spec.AlertRule) error
	TransitionAlert(ctx context.Context, id, from, to string, value float64, at time.Time) error
	DeleteAlertRule(ctx context.Context, service, id string) error
	AddAlertEvent(ctx context.Context, ev *spec.AlertEvent, keep int) error
	ListAlertEvents(ctx context.Context, project, rule string, limit int) ([]spec.AlertEvent, error) // newest first; rule "": all

	// Join tokens of stand-alone gateways (gateway_tokens.go), kept as
	// the SHA-256 of the token. GatewayTokenByHash finds only a live one.
	CreateGatewayToken(ctx context.Context, tok *spec.GatewayToken, hash string) error
	GetGatewayToken(ctx context.Context, group, id string) (spec.GatewayToken, error)
	ListGatewayTokens(ctx context.Context, group string) ([]spec.GatewayToken, error) // by creation
	DeleteGatewayToken(ctx context.Context, group, id string) error
	GatewayTokenByHash(ctx context.Context, hash string) (spec.GatewayToken, error)
	TouchGatewayToken(ctx context.Context, id string, at time.Time) error

	// TLS certificates of a group (certificates.go), with Sealed filled:
	// callers redact. At most one is the group's default: storing a
	// default one makes the others not.
	CreateCertificate(ctx context.Context, c *spec.Certificate) error
	GetCertificate(ctx context.Context, group, idOrName string) (spec.Certificate, error)
	ListCertificates(ctx context.Context, group string) ([]spec.Certificate, error) // by creation
	UpdateCertificate(ctx context.Context, c *spec.Certificate) error
	DeleteCertificate(ctx context.Context, group, id string) error

	// Service registry connections of a group (registries.go), with
	// Sealed filled (the credentials, sealed; Password and Token are never
	// stored): callers redact. Get accepts the id or the name.
	CreateRegistry(ctx context.Context, r *spec.Registry) error
	GetRegistry(ctx context.Context, group, idOrName string) (spec.Registry, error)
	ListRegistries(ctx context.Context, group string) ([]spec.Registry, error) // by creation
	UpdateRegistry(ctx context.Context, r *spec.Registry) error
	DeleteRegistry(ctx context.Context, group, id string) error

	// Gateway processes of a group (gateway_instances.go), one row each,
	// replaced by every heartbeat.
	PutGatewayInstance(ctx context.Context, in *spec.GatewayInstance) error
	ListGatewayInstances(ctx context.Context, group string) ([]spec.GatewayInstance, error) // by id; State unset
	PruneGatewayInstances(ctx context.Context, cutoff time.Time) (int, error)               // last seen before cutoff
	CountGatewayInstances(ctx context.Context, group string) (int, error)
	// DeployedAmong answers which of ids are services deployed in group.
	DeployedAmong(ctx context.Context, group string, ids []string) (map[string]bool, error)

	// The figures log (figures.go): gateways' traffic reports as control
	// planes received them, read in id order by every control plane of
	// the store; pruned past the longest window.
	AddFigureReport(ctx context.Context, r *FigureReport) error
	FigureReportsAfter(ctx context.Context, after int64, since time.Time, limit int) ([]FigureReport, error)
	PruneFigureReports(ctx context.Context, cutoff time.Time) (int, error) // reported before cutoff

	// The call log (call_logs.go): every call gateways answered, as they
	// sent it, kept for a short time (PruneCallRecords) to be searched.
	// InsertCallRecords sets each record's ID; SearchCallRecords answers
	// newest first, with the cursor of the next page (zero: none).
	InsertCallRecords(ctx context.Context, recs []spec.CallRecord) error
	SearchCallRecords(ctx context.Context, f CallLogFilter) ([]spec.CallRecord, CallLogCursor, error)
	CallRecord(ctx context.Context, id int64) (spec.CallRecord, error)
	PruneCallRecords(ctx context.Context, olderThan time.Time, keepPerGroup int) (int64, error)
	// Monitoring rollups (monitoring.go): the figures of services and
	// routes per group in spans of 10 s, 1 min and 1 h, added to by the
	// job that folds the figures log, pruned per resolution.
	AddMonitoringRows(ctx context.Context, rows []MonitoringRow) error
	MonitoringRows(ctx context.Context, q MonitoringQuery) ([]MonitoringRow, error)
	MonitoringTotals(ctx context.Context, q MonitoringQuery) ([]MonitoringTotal, error)
	PruneMonitoringRows(ctx context.Context, resolution time.Duration, cutoff time.Time) (int, error) // spans started before cutoff

	// Facts about the store itself (SettingSecretKeyID); unset: ErrNotFound.
	GetSetting(ctx context.Context, name string) (string, error)
	PutSetting(ctx context.Context, name, value string) error
	SealedSample(ctx context.Context) (string, error) // one sealed secret; none: ErrNotFound

	// Data sources of a project (datasources.go). Get accepts the id or
	// the name and fills Sealed (the sealed password); callers redact.
	// DataSourceUsers names the routes and data-source maps that use one.
	// A data-source map says, for a service in a group, which data source
	// stands in for which; Snapshot applies it and carries the group's
	// data sources with their passwords sealed.
	CreateDataSource(ctx context.Context, d *spec.DataSource) error
	GetDataSource(ctx context.Context, project, idOrName string) (spec.DataSource, error)
	ListDataSources(ctx context.Context, project string, q ListQuery) ([]spec.DataSource, int, error)
	UpdateDataSource(ctx context.Context, d *spec.DataSource) error
	DeleteDataSource(ctx context.Context, project, id string) error
	DataSourceUsers(ctx context.Context, d *spec.DataSource) ([]string, error)
	PutDataSourceMap(ctx context.Context, group, service string, m map[string]string) error
	GetDataSourceMap(ctx context.Context, group, service string) (map[string]string, error)

	// Packages imported into a project (packages.go), newest first, read
	// without their zip (PackageContent); UpdatePackage records an
	// attempt, and drops the zip of a published one.
	CreatePackage(ctx context.Context, p *spec.Package, content []byte) error
	GetPackage(ctx context.Context, project, id string) (spec.Package, error)
	PackageContent(ctx context.Context, project, id string) ([]byte, error)
	ListPackages(ctx context.Context, project, state string, q ListQuery) ([]spec.Package, int, error)
	UpdatePackage(ctx context.Context, p *spec.Package) error
	DeletePackage(ctx context.Context, project, id string) error

	// Snapshot assembles the running config of the named groups: each group
	// with its deployments, the service taken from the deployed version.
	// Revision is the highest revision among the groups. Unknown groups
	// are skipped.
	Snapshot(ctx context.Context, groups []string) (spec.Snapshot, error)
	// SnapshotServices assembles, for one group, exactly what Snapshot
	// would carry for the given services: the group row, the deployed ones
	// among ids (others are absent; Snapshot's order) with their running
	// canaries, folder paths and resolved data-source references, the data
	// sources those services use (passwords sealed), and the group's whole
	// consumer list. Its cost follows len(ids) and the applications, not
	// the services of the group. A missing group is ErrNotFound.
	SnapshotServices(ctx context.Context, group string, ids []string) (spec.GroupSnapshot, error)
}
