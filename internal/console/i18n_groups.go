package console

import "github.com/portico-gw/portico/internal/webpage"

// groupsMessages are the catalogue's keys of a gateway group's page
// (instances, certificates, join tokens, registries, node health,
// history) and of the header's project switcher. init merges them into
// messages; a key another file defines is reported by
// TestGroupMessagesOverrideNothing.
var groupsMessages = webpage.Catalogue{
	"grp.sections": {"en": "Sections of the gateway group", "zh-CN": "网关组页面分区"}, "grp.open": {"en": "Open", "zh-CN": "打开"},
	"grp.back": {"en": "All gateway groups", "zh-CN": "全部网关组"},

	"grp.instances":        {"en": "Gateway instances", "zh-CN": "网关实例"},
	"grp.converged":        {"en": "Revision %d: %d of %d live instances serve it", "zh-CN": "配置版本 %d：%d / %d 个在线实例已生效"},
	"grp.all_converged":    {"en": "every live instance serves the current revision", "zh-CN": "所有在线实例均已生效"},
	"grp.not_converged":    {"en": "some instances still serve an older revision", "zh-CN": "部分实例仍在运行旧配置版本"},
	"grp.no_instances":     {"en": "No gateway instance of this group has reported.", "zh-CN": "该网关组尚无网关实例上报。"},
	"grp.no_match":         {"en": "No instance matches the search.", "zh-CN": "没有匹配的实例。"},
	"grp.search_instances": {"en": "Search by instance id or host name", "zh-CN": "按实例 ID 或主机名搜索"},
	"grp.instance":         {"en": "Instance", "zh-CN": "实例"}, "grp.host": {"en": "Host", "zh-CN": "主机"}, "grp.engine": {"en": "Engine", "zh-CN": "引擎"},
	"grp.applied": {"en": "Applied revision", "zh-CN": "已生效版本"}, "grp.current": {"en": "current", "zh-CN": "当前"},
	"grp.behind": {"en": "behind (current %d)", "zh-CN": "落后（当前 %d）"}, "grp.last_seen": {"en": "Last seen", "zh-CN": "最近心跳"},
	"grp.embedded": {"en": "embedded", "zh-CN": "内置"}, "grp.from_cache": {"en": "from its cache", "zh-CN": "来自本地缓存"},
	"grp.ago": {"en": "%s ago", "zh-CN": "%s前"}, "grp.just_now": {"en": "just now", "zh-CN": "刚刚"},
	"grp.state_healthy": {"en": "healthy", "zh-CN": "正常"}, "grp.state_lagging": {"en": "lagging", "zh-CN": "落后"},
	"grp.state_refused": {"en": "refused", "zh-CN": "已拒绝"}, "grp.state_lost": {"en": "lost", "zh-CN": "失联"},
	"grp.state_offline": {"en": "offline", "zh-CN": "离线"}, "grp.state_unhealthy": {"en": "unhealthy", "zh-CN": "不健康"},
	"grp.state_ejected": {"en": "ejected (circuit open)", "zh-CN": "已摘除（熔断）"}, "grp.state_half_open": {"en": "half open", "zh-CN": "半开"},
	"grp.state_ok": {"en": "valid", "zh-CN": "有效"}, "grp.state_expiring": {"en": "expires soon", "zh-CN": "即将过期"},
	"grp.state_expired": {"en": "expired", "zh-CN": "已过期"},

	"grp.certificates": {"en": "TLS certificates", "zh-CN": "TLS 证书"},
	"grp.certs_help":   {"en": "The group's gateways present these on their HTTPS listener, chosen by the name a client asks for. A private key is stored encrypted and never shown again.", "zh-CN": "该组网关在 HTTPS 监听器上按客户端请求的域名出示这些证书。私钥加密保存，之后不再显示。"},
	"grp.no_certs":     {"en": "No certificate yet.", "zh-CN": "还没有证书。"}, "grp.cert_names": {"en": "Names", "zh-CN": "域名"},
	"grp.not_before": {"en": "Valid from", "zh-CN": "生效时间"}, "grp.not_after": {"en": "Expires", "zh-CN": "过期时间"},
	"grp.days_left": {"en": "%d days left", "zh-CN": "剩余 %d 天"}, "grp.days_ago": {"en": "expired %d days ago", "zh-CN": "已过期 %d 天"},
	"grp.default": {"en": "default", "zh-CN": "默认"}, "grp.set_default": {"en": "Make default", "zh-CN": "设为默认"},
	"grp.default_help":        {"en": "the certificate of clients that send no name, or one no certificate has", "zh-CN": "客户端未发送域名或域名无匹配证书时使用"},
	"grp.renew":               {"en": "Renew", "zh-CN": "更新证书"},
	"grp.key_kept":            {"en": "empty: the stored key is kept", "zh-CN": "留空则保留已保存的私钥"},
	"grp.upload_cert":         {"en": "Upload certificate", "zh-CN": "上传证书"},
	"grp.chain":               {"en": "Certificate chain (PEM, leaf first)", "zh-CN": "证书链（PEM，叶证书在前）"},
	"grp.private_key":         {"en": "Private key (PEM)", "zh-CN": "私钥（PEM）"},
	"grp.key_write_only":      {"en": "The key is sent once and never shown back, not even when the form is refused: paste it again then.", "zh-CN": "私钥只提交一次且不会回显，表单被拒绝时也不会保留：请重新粘贴。"},
	"grp.confirm_delete_cert": {"en": "Delete certificate %s? Clients asking for its names get the default certificate, or none.", "zh-CN": "删除证书 %s？请求其域名的客户端将得到默认证书，或没有证书。"},

	"grp.tokens":      {"en": "Join tokens", "zh-CN": "接入令牌"},
	"grp.tokens_help": {"en": "A stand-alone gateway presents a join token to receive this group's configuration.", "zh-CN": "独立部署的网关凭接入令牌获取该组配置。"},
	"grp.no_tokens":   {"en": "No join token yet.", "zh-CN": "还没有接入令牌。"}, "grp.new_token": {"en": "New join token", "zh-CN": "新建接入令牌"},
	"grp.token_once":    {"en": "Copy the join token now: it is shown only this once.", "zh-CN": "请立即复制接入令牌：它只显示这一次。"},
	"grp.token_created": {"en": "Join token created.", "zh-CN": "接入令牌已创建。"}, "grp.token_hint": {"en": "Ends with", "zh-CN": "末四位"},
	"grp.expires": {"en": "Expires", "zh-CN": "过期时间"}, "grp.never": {"en": "never", "zh-CN": "永不"},
	"grp.last_used": {"en": "Last used", "zh-CN": "最近使用"}, "grp.created_by": {"en": "Created by", "zh-CN": "创建人"},
	"grp.expires_in_days":      {"en": "Expires in days (empty: never)", "zh-CN": "有效天数（留空：永不过期）"},
	"grp.token_days_invalid":   {"en": "must be a whole number of days from 1 to 3650", "zh-CN": "须为 1 到 3650 之间的整数天"},
	"grp.confirm_revoke_token": {"en": "Revoke join token %s? Gateways presenting it are refused from their next request on.", "zh-CN": "吊销接入令牌 %s？使用它的网关此后的请求将被拒绝。"},

	"grp.registries":      {"en": "Service registries", "zh-CN": "服务注册中心"},
	"grp.registries_help": {"en": "Upstreams whose discovery names a registry get their nodes from it.", "zh-CN": "服务发现指向注册中心的上游从中获取节点。"},
	"grp.no_registries":   {"en": "No service registry connection.", "zh-CN": "没有服务注册中心连接。"},
	"grp.address":         {"en": "Address", "zh-CN": "地址"}, "grp.namespace": {"en": "Namespace", "zh-CN": "命名空间"},
	"grp.poll": {"en": "Poll every", "zh-CN": "轮询间隔"}, "grp.credentials": {"en": "Credentials", "zh-CN": "凭据"},
	"grp.has_token": {"en": "token set", "zh-CN": "已设置令牌"}, "grp.has_password": {"en": "password set", "zh-CN": "已设置密码"},
	"grp.reg_status":    {"en": "As the instances find it", "zh-CN": "各实例连接状态"},
	"grp.reg_no_status": {"en": "no live instance has reported it", "zh-CN": "尚无在线实例上报"},
	"grp.reg_healthy":   {"en": "reachable", "zh-CN": "可连接"}, "grp.reg_failing": {"en": "failing", "zh-CN": "连接失败"},
	"grp.last_sync": {"en": "nodes last came", "zh-CN": "最近同步"}, "grp.followed": {"en": "%d services followed", "zh-CN": "跟踪 %d 个服务"},
	"grp.reg_add":          {"en": "Add registry", "zh-CN": "添加注册中心"},
	"grp.reg_edit_named":   {"en": "Edit registry %s", "zh-CN": "编辑注册中心 %s"},
	"grp.reg_delete_named": {"en": "Delete registry %s", "zh-CN": "删除注册中心 %s"},
	"grp.reg_types_help": {"en": "Fill in only what the type takes (the others are refused): dns takes an address and a poll interval; consul and kubernetes a token; nacos a service group, a username and password; eureka a username and password, no namespace. Every type but dns takes a CA for an https address.",
		"zh-CN": "只填写该类型接受的字段（其余字段会被拒绝）：dns 只接受地址和轮询间隔；consul 和 kubernetes 接受令牌；nacos 接受服务分组、用户名和密码；eureka 接受用户名和密码，不接受命名空间。除 dns 外的类型都可为 https 地址指定 CA。"},
	"grp.reg_address_hint":       {"en": "dns: host:port of a DNS server, empty for the gateway's resolver; the other types: the http or https URL, required", "zh-CN": "dns：DNS 服务器的 host:port，留空则用网关的解析器；其他类型：http 或 https 地址，必填"},
	"grp.reg_namespace_hint":     {"en": "consul, kubernetes, nacos", "zh-CN": "consul、kubernetes、nacos"},
	"grp.reg_poll":               {"en": "Poll interval (seconds)", "zh-CN": "轮询间隔（秒）"},
	"grp.reg_poll_hint":          {"en": "1 to 3600; empty: 5", "zh-CN": "1 到 3600；留空为 5"},
	"grp.reg_poll_invalid":       {"en": "must be a number of seconds from 1 to 3600", "zh-CN": "须为 1 到 3600 之间的秒数"},
	"grp.reg_service_group":      {"en": "Service group", "zh-CN": "服务分组"},
	"grp.reg_service_group_hint": {"en": "nacos only; empty: DEFAULT_GROUP", "zh-CN": "仅 nacos；留空为 DEFAULT_GROUP"},
	"grp.reg_username":           {"en": "Username", "zh-CN": "用户名"}, "grp.reg_username_hint": {"en": "nacos, eureka", "zh-CN": "nacos、eureka"},
	"grp.reg_password": {"en": "Password", "zh-CN": "密码"}, "grp.reg_password_hint": {"en": "nacos, eureka; needs a username", "zh-CN": "nacos、eureka；需同时填写用户名"},
	"grp.reg_token": {"en": "Token", "zh-CN": "令牌"}, "grp.reg_token_hint": {"en": "consul ACL token, kubernetes service-account token", "zh-CN": "consul ACL 令牌、kubernetes 服务账号令牌"},
	"grp.reg_ca":              {"en": "CA bundle (PEM)", "zh-CN": "CA 证书（PEM）"},
	"grp.reg_ca_hint":         {"en": "every type but dns, for an https address; empty: the system's roots", "zh-CN": "除 dns 外的类型，用于 https 地址；留空则用系统根证书"},
	"grp.reg_cred_kept":       {"en": "; empty: the stored one is kept", "zh-CN": "；留空则保留已保存的值"},
	"grp.reg_remove_password": {"en": "Remove the stored password", "zh-CN": "删除已保存的密码"},
	"grp.reg_remove_token":    {"en": "Remove the stored token", "zh-CN": "删除已保存的令牌"},
	"grp.reg_remove_and_new":  {"en": "type a new one or remove the stored one, not both", "zh-CN": "请输入新值或删除已保存的值，不能同时进行"},
	"grp.reg_write_only":      {"en": "A password or token is stored encrypted and never shown again, not even when the form is refused: type it again then.", "zh-CN": "密码和令牌加密保存且不会回显，表单被拒绝时也不会保留：请重新输入。"},

	"grp.health":      {"en": "Upstream node health", "zh-CN": "上游节点健康"},
	"grp.health_help": {"en": "Nodes with active probes or a circuit breaker, as each gateway instance listed above checks them.", "zh-CN": "配置了主动探测或熔断的节点，按上方各网关实例的检查结果显示。"},
	"grp.no_health":   {"en": "No instance reports a checked node: no upstream of what runs here has health checks.", "zh-CN": "没有实例上报被检查的节点：此处运行的上游均未配置健康检查。"},
	"grp.node":        {"en": "Node", "zh-CN": "节点"}, "grp.upstream": {"en": "Upstream", "zh-CN": "上游"}, "grp.own_nodes": {"en": "the service's own", "zh-CN": "服务自有节点"},
	"grp.checks": {"en": "Checks", "zh-CN": "检查方式"}, "grp.active": {"en": "active probe", "zh-CN": "主动探测"}, "grp.passive": {"en": "circuit breaker", "zh-CN": "熔断"},
	"grp.since": {"en": "Since", "zh-CN": "持续"}, "grp.last_error": {"en": "Last error", "zh-CN": "最近错误"},
	"grp.probes": {"en": "Probes (failed)", "zh-CN": "探测（失败）"}, "grp.ejections": {"en": "Ejections", "zh-CN": "摘除次数"},

	"grp.history": {"en": "Recent history", "zh-CN": "最近变更"}, "grp.no_history": {"en": "Nothing changed in this group yet.", "zh-CN": "该网关组尚无变更。"},
	"grp.convergence": {"en": "Reached", "zh-CN": "生效情况"}, "grp.reached": {"en": "%d of %d instances", "zh-CN": "%d / %d 个实例"},

	"ups.health_hint": {"en": "How each gateway finds these nodes — active probes, circuit breakers — and the service registries that fill discovered upstreams are on each gateway group's page:",
		"zh-CN": "各网关检查这些节点的结果（主动探测、熔断）以及为服务发现上游提供节点的注册中心，见各网关组页面："},

	"switch.label": {"en": "Project", "zh-CN": "项目"}, "switch.menu": {"en": "Switch project", "zh-CN": "切换项目"},
}

var groupsOverridden []string

func init() { groupsOverridden = messages.Add(groupsMessages) }
