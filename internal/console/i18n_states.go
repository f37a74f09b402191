package console

import "github.com/portico-gw/portico/internal/webpage"

// stateMessages say the admin API's enumerated values — a service's
// lifecycle state, a canary's, a gateway instance's, a release history
// action, an import's plan for a service, a built-in role, an account's
// source — in the page's language. The key is the prefix and the value
// exactly as the API sends it, so a value is looked up, never mapped by
// hand in a template; one missing here is shown as it came (page.Enum). The approval and subscription states
// (state.pending…) live with the market's messages, in the same
// namespace.
var stateMessages = webpage.Catalogue{
	// A service's lifecycle.
	"state.draft": {"en": "draft", "zh-CN": "草稿"}, "state.submitted": {"en": "submitted", "zh-CN": "已提交"},
	"state.published": {"en": "published", "zh-CN": "已上线"}, "state.disabled": {"en": "disabled", "zh-CN": "已下线"},
	// A canary.
	"state.running": {"en": "running", "zh-CN": "进行中"}, "state.completed": {"en": "completed", "zh-CN": "已完成"},
	// A gateway instance (the monitoring page).
	"state.healthy": {"en": "healthy", "zh-CN": "正常"}, "state.lagging": {"en": "lagging", "zh-CN": "落后"},
	"state.refused": {"en": "refused", "zh-CN": "已拒绝"}, "state.lost": {"en": "lost", "zh-CN": "失联"},
	"state.offline": {"en": "offline", "zh-CN": "离线"},
	// An alert rule.
	"state.ok": {"en": "ok", "zh-CN": "正常"}, "state.firing": {"en": "firing", "zh-CN": "告警中"},
	"state.resolved": {"en": "resolved", "zh-CN": "已恢复"},

	// A service's release history (spec.HistoryEvent.Action).
	"action.edit": {"en": "edit", "zh-CN": "编辑"}, "action.submit": {"en": "submit", "zh-CN": "提交"},
	"action.withdraw": {"en": "withdraw", "zh-CN": "撤回"}, "action.publish": {"en": "publish", "zh-CN": "发布"},
	"action.republish": {"en": "republish", "zh-CN": "二次发布"}, "action.disable": {"en": "disable", "zh-CN": "下线"},
	"action.enable": {"en": "enable", "zh-CN": "启用"}, "action.delete": {"en": "delete", "zh-CN": "删除"},
	"action.unpublish": {"en": "take off", "zh-CN": "从网关组下线"}, "action.rollback": {"en": "rollback", "zh-CN": "回滚"},
	"action.sync": {"en": "sync", "zh-CN": "同步"}, "action.move": {"en": "move", "zh-CN": "迁移"},
	"action.version-routing":    {"en": "version routing", "zh-CN": "版本路由"},
	"action.cache.purge":        {"en": "cache purge", "zh-CN": "清除缓存"},
	"action.canary.create":      {"en": "canary started", "zh-CN": "开始灰度"},
	"action.canary.update":      {"en": "canary weight changed", "zh-CN": "调整灰度权重"},
	"action.canary.cancel":      {"en": "canary cancelled", "zh-CN": "取消灰度"},
	"action.canary.promote":     {"en": "full release", "zh-CN": "全量发布"},
	"action.data_source.update": {"en": "data source changed", "zh-CN": "数据源变更"},
	// What an OpenAPI import does to the service.
	"action.create": {"en": "create", "zh-CN": "新建"}, "action.update": {"en": "update", "zh-CN": "修改"},
	"action.unchanged": {"en": "unchanged", "zh-CN": "未变化"},

	// The built-in roles; in English the identifier itself, which the
	// admin API and the CLI take.
	"role_name.super_admin": {"en": "super_admin", "zh-CN": "超级管理员"}, "role_name.user": {"en": "user", "zh-CN": "普通用户"},
	"role_name.project_admin": {"en": "project_admin", "zh-CN": "项目管理员"}, "role_name.api_provider": {"en": "api_provider", "zh-CN": "API 提供者"},
	"role_name.developer": {"en": "developer", "zh-CN": "开发者"}, "role_name.viewer": {"en": "viewer", "zh-CN": "只读成员"},
	// An application's credential: the plugin that checks it, whose name
	// stays (plugin names are never translated), said in words in Chinese.
	"cred.key-auth": {"en": "key-auth", "zh-CN": "密钥认证（key-auth）"}, "cred.basic-auth": {"en": "basic-auth", "zh-CN": "用户名密码认证（basic-auth）"},
	"cred.hmac-auth": {"en": "hmac-auth", "zh-CN": "HMAC 签名认证（hmac-auth）"}, "cred.jwt-auth": {"en": "jwt-auth", "zh-CN": "JWT 认证（jwt-auth）"},
	"cred.mtls-auth": {"en": "mtls-auth", "zh-CN": "双向 TLS 认证（mtls-auth）"}, "cred.oauth2": {"en": "oauth2", "zh-CN": "OAuth 2.0 客户端（oauth2）"},
	// Where a user account comes from.
	"source.local": {"en": "local", "zh-CN": "本地"}, "source.oidc": {"en": "single sign-on", "zh-CN": "单点登录"},
}

var statesOverridden []string

func init() { statesOverridden = messages.Add(stateMessages) }
