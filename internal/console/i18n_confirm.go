package console

import "github.com/portico-gw/portico/internal/webpage"

// confirmMessages are the confirmations of destructive actions, each
// naming what it removes (the object's name is the argument), so that a
// click on the wrong row's button is caught before it is too late.
var confirmMessages = webpage.Catalogue{
	"confirm.delete_user":       {"en": "Delete user %s with their tokens and memberships? This cannot be undone.", "zh-CN": "删除用户 %s 及其令牌和项目成员身份？此操作不可撤销。"},
	"confirm.delete_role":       {"en": "Delete role %s? Only a role no member holds can be deleted.", "zh-CN": "删除角色 %s？只有无成员使用的角色才能删除。"},
	"confirm.revoke_credential": {"en": "Revoke the %[1]s credential %[2]s of application %[3]s? Calls that present it are refused from then on.", "zh-CN": "吊销应用 %[3]s 的 %[1]s 凭证 %[2]s？此后使用它的调用将被拒绝。"},
	"confirm.rotate_credential": {"en": "Rotate the %[1]s credential %[2]s of application %[3]s? Its new secret is shown once; the old one keeps working for the overlap chosen.", "zh-CN": "轮换应用 %[3]s 的 %[1]s 凭证 %[2]s？新密钥只显示一次；旧密钥在所选的重叠时间内继续有效。"},
	"confirm.revoke_token":      {"en": "Revoke personal access token %s? Scripts that use it stop working.", "zh-CN": "吊销个人访问令牌 %s？使用它的脚本将无法再访问。"},
	"confirm.delete_package":    {"en": "Delete the record of package %s and its file? The services it made stay.", "zh-CN": "删除包 %s 的记录及其文件？它创建的服务会保留。"},
	"confirm.remove_member":     {"en": "Remove %s from project %s? They lose their role in it.", "zh-CN": "将 %s 移出项目 %s？其在该项目中的角色将被移除。"},
	"confirm.delete_service":    {"en": "Delete service %s and its routes? This cannot be undone.", "zh-CN": "删除服务 %s 及其全部 API？此操作不可撤销。"},
	"confirm.delete_route":      {"en": "Delete route %[1]s of service %[2]s? Gateways stop serving it at the next publish.", "zh-CN": "删除服务 %[2]s 的 API %[1]s？下次发布后网关不再提供它。"},
	"confirm.delete_upstream":   {"en": "Delete upstream %s? The admin API refuses while a service still uses it.", "zh-CN": "删除上游 %s？仍被服务使用的上游无法删除。"},
	"confirm.delete_registry":   {"en": "Delete service registry %[1]s of gateway group %[2]s? Upstreams discovering through it get no more nodes from it; the admin API refuses while a running service uses it.", "zh-CN": "删除网关组 %[2]s 的服务注册中心 %[1]s？通过它发现的上游将不再获得节点；仍有运行中的服务使用它时无法删除。"},
}

var confirmOverridden []string

func init() { confirmOverridden = messages.Add(confirmMessages) }
