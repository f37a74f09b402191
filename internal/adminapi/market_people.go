package adminapi

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webhook"
)

// Sign-up and project webhooks: the market's doors for developers and
// for the systems that follow approvals.

// signupRequest is the body of POST /auth/signup.
type signupRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
}

// Sign-ups per client address: enough for a family behind one NAT, too
// few to fill the users table.
const (
	signupLimit  = 5
	signupPeriod = time.Hour
)

// signup creates an account with the system role user and answers a
// session, as logging in does. Only when the install opened sign-up
// (--portal-signup); otherwise it does not exist.
func (c *call) signup() (any, error) {
	if !c.s.signup {
		return nil, withDetail(store.ErrNotFound, "sign-up is not open on this install; ask an administrator for an account")
	}
	var req signupRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var fe spec.FieldErrors
	if !spec.ValidUsername(req.Username) {
		fe.Add("username", "must be 1 to 64 letters, digits and . _ @ -, starting and ending with a letter or digit")
	}
	checkProfile(&fe, rbac.User, req.DisplayName, req.Email)
	if req.Password == "" {
		fe.Add("password", "is required")
	} else {
		passwordFieldErrors(&fe, "password", req.Username, req.Password)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	s, client, now := c.s, clientAddr(c.r), c.s.now()
	if wait, ok := s.signups.allow(client, now); !ok {
		return nil, lockedOut(now.Add(wait), now)
	}
	hash, err := HashPassword(req.Password)
	if err != nil {
		return nil, fmt.Errorf("sign up %q: %w", req.Username, err)
	}
	var resp loginResponse
	err = c.tx(func(tx store.Tx) error {
		u := spec.User{Username: req.Username, Role: rbac.User, DisplayName: req.DisplayName, Email: req.Email}
		if err := tx.CreateUser(c.ctx(), &u, hash); err != nil {
			return onConflict(err, "the user name %q is taken", req.Username)
		}
		tok := rand.Text()
		t := &store.Token{ID: newID(), UserID: u.ID, Hash: tokenHash(tok), Name: "session", Kind: store.TokenSession,
			ExpiresAt: now.Add(s.ttl), CreatedAt: now, Client: client, UserAgent: userAgent(c.r)}
		if err := tx.CreateToken(c.ctx(), t); err != nil {
			return fmt.Errorf("sign up %q: create token: %w", req.Username, err)
		}
		if err := tx.TouchLogin(c.ctx(), u.ID, now); err != nil {
			return fmt.Errorf("sign up %q: %w", req.Username, err)
		}
		u.LastLoginAt = now
		c.user = u
		resp = loginResponse{Token: tok, ExpiresAt: t.ExpiresAt, User: u}
		return c.audit(tx, "user.signup", userResource(u), map[string]string{"username": u.Username, "client": client})
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// webhookRequest is the body of PUT /projects/{p}/webhook.
type webhookRequest struct {
	URL string `json:"url"`
	// Secret signs the deliveries (at least 16 characters). Left out,
	// the secret held is kept, or, when there is none or RotateSecret is
	// set, a new one is generated and shown in this answer only.
	Secret       string `json:"secret,omitempty"`
	RotateSecret bool   `json:"rotate_secret,omitempty"`
}

// webhookDelivery is one delivery as the API shows it (without its body).
type webhookDelivery struct {
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	Delivered   bool      `json:"delivered"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	NextAt      time.Time `json:"next_at,omitzero"` // the next attempt, while undelivered
	CreatedAt   time.Time `json:"created_at"`
}

func webhookResource(project string) string { return "/projects/" + project + "/webhook" }

// loadWebhook reads the receiver of the path's project; none is 404.
func (c *call) loadWebhook(tx store.Tx) (project string, w spec.Webhook, err error) {
	p, err := c.loadProject(tx, c.path("p"))
	if err != nil {
		return "", w, err
	}
	url, sealed, err := tx.GetProjectWebhook(c.ctx(), p.ID)
	if err != nil {
		return "", w, err
	}
	if url == "" {
		return "", w, withDetail(store.ErrNotFound, "project %q has no webhook", p.ID)
	}
	return p.ID, spec.Webhook{URL: url, SecretSet: sealed != ""}, nil
}

func (c *call) getWebhook() (any, error) {
	var out spec.Webhook
	err := c.view(func(tx store.Tx) error {
		var err error
		_, out, err = c.loadWebhook(tx)
		return err
	})
	return out, err
}

func (c *call) putWebhook() (any, error) {
	var req webhookRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var fe spec.FieldErrors
	if req.URL == "" {
		fe.Add("url", "is required")
	}
	spec.ValidateWebhookURL(&fe, "url", req.URL)
	if req.Secret != "" && (len(req.Secret) < 16 || len(req.Secret) > 256) {
		fe.Add("secret", "must be 16 to 256 characters (leave it out to have one generated)")
	}
	if req.Secret != "" && req.RotateSecret {
		fe.Add("rotate_secret", "give a secret or ask for a new one, not both")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	out := spec.Webhook{URL: req.URL, SecretSet: true}
	err := c.tx(func(tx store.Tx) error {
		p, err := c.loadProject(tx, c.path("p"))
		if err != nil {
			return err
		}
		oldURL, oldSealed, err := tx.GetProjectWebhook(c.ctx(), p.ID)
		if err != nil {
			return err
		}
		sealed := oldSealed
		if req.Secret != "" || req.RotateSecret || oldSealed == "" {
			secret := req.Secret
			if secret == "" {
				secret = "whsec_" + rand.Text()
				out.Secret = secret // shown once
			}
			if sealed, err = c.s.secrets.Seal(secret, webhook.SecretAAD(p.ID)); err != nil {
				return fmt.Errorf("seal the webhook secret: %w", err)
			}
		}
		if err := tx.SetProjectWebhook(c.ctx(), p.ID, req.URL, sealed); err != nil {
			return err
		}
		var before any
		if oldURL != "" {
			before = spec.Webhook{URL: oldURL, SecretSet: oldSealed != ""}
		}
		return c.auditChange(tx, "webhook.put", webhookResource(p.ID), before, spec.Webhook{URL: req.URL, SecretSet: true})
	})
	return out, err
}

func (c *call) deleteWebhook() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		project, w, err := c.loadWebhook(tx)
		if err != nil {
			return err
		}
		if err := tx.SetProjectWebhook(c.ctx(), project, "", ""); err != nil {
			return err
		}
		return c.auditChange(tx, "webhook.delete", webhookResource(project), w, nil)
	})
}

func (c *call) listWebhookDeliveries() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		p, err := c.loadProject(tx, c.path("p"))
		if err != nil {
			return err
		}
		ds, total, err := tx.ListWebhookDeliveries(c.ctx(), p.ID, q)
		if err != nil {
			return err
		}
		items := make([]webhookDelivery, len(ds))
		for i, d := range ds {
			items[i] = webhookDelivery{ID: d.ID, Event: d.Event, Attempts: d.Attempts, LastError: d.LastError,
				Delivered: !d.DeliveredAt.IsZero(), DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt}
			if d.DeliveredAt.IsZero() && d.NextAt.Year() < 3000 {
				items[i].NextAt = d.NextAt
			}
		}
		res = list(items, total)
		return nil
	})
	return res, err
}
