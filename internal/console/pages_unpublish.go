package console

import (
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// releaseMessages are the catalogue's keys of where a service runs and of
// taking it off a gateway group. init merges them into messages.
var releaseMessages = webpage.Catalogue{
	"svc.running":   {"en": "Runs in", "zh-CN": "运行于"},
	"act.unpublish": {"en": "Take off", "zh-CN": "下线"},
	"confirm.unpublish": {
		"en":    "Take the service off this gateway group? Its routes stop answering there at once; the release history records it.",
		"zh-CN": "确定从该网关组下线此服务？其路由在该组立即停止响应，发布历史会记录此操作。",
	},
	"flash.unpublished": {"en": "Taken off the gateway group.", "zh-CN": "已从网关组下线。"},
	"stage.production":  {"en": "production", "zh-CN": "生产"},
	"stage.test":        {"en": "test", "zh-CN": "测试"},
	"canary.share":      {"en": "canary", "zh-CN": "灰度"},
}

// releaseOverridden are the keys releaseMessages redefined (none, or a
// test fails).
var releaseOverridden []string

func init() { releaseOverridden = messages.Add(releaseMessages) }

// unpublish takes the service off the gateway group of the form (下线).
// The admin API checks the stage's permission and the running canary.
func (q *req) unpublish() error {
	body := map[string]any{"group": q.r.PostFormValue("group")}
	if err := q.call("POST", q.svcPath()+"/unpublish", body, nil); err != nil {
		return q.reshow(err, "unpublish-"+q.r.PostFormValue("group"), serviceView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "unpublished")
	return nil
}

// placementText is where a service runs in one group, in the page's
// language: "production (prod) 1.3.1 · canary 20 % → 1.4.0".
func placementText(p *page, pl spec.Placement) string {
	var b strings.Builder
	if pl.Stage != "" {
		b.WriteString(p.T("stage." + pl.Stage))
		b.WriteString(" (" + pl.Group + ")")
	} else {
		b.WriteString(pl.Group)
	}
	b.WriteString(" " + pl.Version)
	if c := pl.Canary; c != nil {
		fmt.Fprintf(&b, " · %s %d %%", p.T("canary.share"), c.Weight)
		if c.Version != "" {
			b.WriteString(" → " + c.Version)
		}
	}
	return b.String()
}
