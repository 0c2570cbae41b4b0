package portal_test

// The portal's authorization matrix: every route the portal registers
// (read from Echo, so a page added without a row here fails
// TestPortalMatrix), every GET by HEAD too, asked by every kind of
// visitor, and on a package's routes about a package in every state, with
// the answer expected in each cell.
//
// The portal decides nothing (hub.Service does); the matrix checks that
// its pages pass the domain's answers on, and that no page tells a
// visitor more than the domain lets it know:
//
//   - a 404 is byte for byte the 404 of something that does not exist
//     (the same route with an id nothing has, or a path nobody serves),
//     so existence never leaks;
//   - a signed-out GET is the sign-in page, coming back to the page
//     asked for, or a redirect to it with that page as next;
//   - a HEAD answers as its GET, status and headers, without a body;
//   - every POST is sent first without its CSRF token (403, and nothing
//     in the hub changed), then with it; a refused POST changes nothing.
//     A POST that succeeds is sent about a fresh target of its own, so
//     the shared fixtures stay in their states;
//   - a session whose key was revoked, and one signed out, are visitors
//     signed out whose cookie each answer removes.
//
// One hub holds every fixture: a package in each state (made by the
// producer through the API, with a real poster and its renditions), the
// directory's scratch records and one webhook dead letter.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/hub/websession"
	"github.com/syndication-hub/hub/portal"
	"github.com/syndication-hub/hub/publisher/webhooks"
)

// pxVisitor is a kind of visitor.
type pxVisitor string

const (
	vAnon          pxVisitor = "anonymous"
	vRevoked       pxVisitor = "session-of-revoked-key"
	vSignedOut     pxVisitor = "session-signed-out"
	vEntitled      pxVisitor = "partner-entitled"
	vOther         pxVisitor = "partner-not-entitled"
	vProducerOther pxVisitor = "producer-of-another-campaign"
	vProducer      pxVisitor = "producer-of-campaign"
	vAdmin         pxVisitor = "admin"
)

// pxVisitors in the order cells run: the admin last, whose directory
// forms succeed. The revoked session was a producer's of the campaign,
// the signed-out one an admin's: neither may see anything any more.
var pxVisitors = []pxVisitor{vAnon, vRevoked, vSignedOut, vEntitled, vOther, vProducerOther, vProducer, vAdmin}

func (v pxVisitor) signedOut() bool { return v == vAnon || v == vRevoked || v == vSignedOut }
func (v pxVisitor) partner() bool   { return v == vEntitled || v == vOther }
func (v pxVisitor) deadSession() bool {
	return v == vRevoked || v == vSignedOut
}

// pxState is the state of a row's target: a package's, or a campaign's.
type pxState string

const (
	sDraft       pxState = "draft"
	sScheduled   pxState = "scheduled"
	sReleased    pxState = "released"
	sWithdrawn   pxState = "withdrawn"
	sPurged      pxState = "purged"
	sPurgedDraft pxState = "purged-never-released"
	sPublic      pxState = "released-public-campaign"

	cPartners pxState = "partners-only-campaign"
	cPublic   pxState = "public-campaign"
)

// pxStates are the package states, the columns of pxSees. Every package
// is in the partners-only campaign shelters but sPublic's (open-doors).
var pxStates = []pxState{sDraft, sScheduled, sReleased, sWithdrawn, sPurged, sPurgedDraft, sPublic}

// pxCampaignStates are the states of a campaign's page.
var pxCampaignStates = []pxState{cPartners, cPublic}

// pxSees is the visibility rule the pages must follow, one letter per
// state of pxStates: '-' nothing (not even that it exists), 'F' the
// released version, 'K' a kill notice (no files), 'T' a purge's
// tombstone, 'E' the working copy (an editor). The entitled partner is
// entitled to shelters; the other partner to nothing; the other producer
// works in the campaign elsewhere.
var pxSees = map[pxVisitor]string{
	//               draft sched rel wd purged purged-draft public
	vAnon:          "------F",
	vRevoked:       "------F",
	vSignedOut:     "------F",
	vEntitled:      "--FKT-F",
	vOther:         "------F",
	vProducerOther: "-------",
	vProducer:      "EEEEEEE",
	vAdmin:         "EEEEEEE",
}

func (v pxVisitor) sees(s pxState) byte { return pxSees[v][slices.Index(pxStates, s)] }

// pxHeadlines are the fixtures' headlines, one a state, so a page that
// shows a hidden one is caught.
var pxHeadlines = map[pxState]string{
	sDraft: "Матрица: черновик", sScheduled: "Матрица: под эмбарго", sReleased: "Матрица: выпущен",
	sWithdrawn: "Матрица: отозван", sPurged: "Матрица: стёрт", sPurgedDraft: "Матрица: стёртый черновик",
	sPublic: "Матрица: открытый",
}

// pxWant is a cell's expectation: the status, for a 303 the Location,
// and what the body must and must not contain ({id} and the matrix's
// other names are replaced).
type pxWant struct {
	status     int
	location   string
	has, lacks []string
}

func pxOK(has ...string) pxWant            { return pxWant{status: http.StatusOK, has: has} }
func pxTo(location string) pxWant          { return pxWant{status: http.StatusSeeOther, location: location} }
func pxStatus(status int) pxWant           { return pxWant{status: status} }
func pxPage(status int, has string) pxWant { return pxWant{status: status, has: []string{has}} }

var (
	pxSignin    = pxPage(http.StatusUnauthorized, `action="/signin"`)
	pxForbidden = pxPage(http.StatusForbidden, `data-status="403"`)
	pxNotFound  = pxPage(http.StatusNotFound, `data-status="404"`)
)

// pxRule is a row's expectation by visitor and state.
type pxRule func(v pxVisitor, s pxState) pxWant

// pxSignedIn is a page for signed-in visitors: the sign-in page to
// anyone else.
func pxSignedIn(rule pxRule) pxRule {
	return func(v pxVisitor, s pxState) pxWant {
		if v.signedOut() {
			return pxSignin
		}
		return rule(v, s)
	}
}

// pxStudio is a studio page: partners are refused by their role (403,
// whatever the package); a producer of another campaign finds no package
// there (404) when the page is a package's; the package's editors get
// editors' answer.
func pxStudio(onPackage bool, editors func(v pxVisitor, s pxState) pxWant) pxRule {
	return pxSignedIn(func(v pxVisitor, s pxState) pxWant {
		switch {
		case v.partner():
			return pxForbidden
		case v == vProducerOther && onPackage:
			return pxNotFound
		}
		return editors(v, s)
	})
}

// pxAdmin is an admin's directory page: to anyone else signed in it does
// not exist.
func pxAdmin(w pxWant) pxRule {
	return pxSignedIn(func(v pxVisitor, _ pxState) pxWant {
		if v != vAdmin {
			return pxNotFound
		}
		return w
	})
}

// pxAdminRefused is an admin's page that refuses others with a 403 (the
// sign-in links and sessions pages, older than the directory's).
func pxAdminRefused(w pxWant) pxRule {
	return pxSignedIn(func(v pxVisitor, _ pxState) pxWant {
		if v != vAdmin {
			return pxForbidden
		}
		return w
	})
}

// pxOutlet is a page of a partner's own outlet: to anyone else signed in
// a refusal by role.
func pxOutlet(w pxWant) pxRule {
	return pxSignedIn(func(v pxVisitor, _ pxState) pxWant {
		if !v.partner() {
			return pxForbidden
		}
		return w
	})
}

// pxHook is the webhook of the hooked outlet, which no visitor is.
func pxHook(m *pxMatrix, _ *testing.T, _ pxState, _ bool) string { return m.vars["hook"] }

// pxAll answers every visitor alike.
func pxAll(w pxWant) pxRule { return func(pxVisitor, pxState) pxWant { return w } }

// pxEditable are the states in which an editor may still change a
// package's fields and files.
func pxEditable(s pxState) bool {
	return s == sDraft || s == sScheduled || s == sReleased || s == sPublic
}

// pxDone is an editor's redirect after a studio action, or the domain's
// refusal (a conflict: not in this state).
func pxDone(ok bool, done string) pxWant {
	if !ok {
		return pxPage(http.StatusConflict, `id="problem"`)
	}
	return pxTo("/studio/{id}?done=" + done)
}

// pxRow is one route of the portal.
type pxRow struct {
	// route is method and path as Echo lists them.
	route string
	// ask is the method sent, when the route's is not one (a route that
	// is not found).
	ask string
	// path is what is asked: {id} is the row's target, other {names} the
	// matrix's fixtures.
	path string
	// states are the target's states; nil is one cell per visitor.
	states []pxState
	// pkg says {id} is a package, whose record the snapshot compares.
	pkg bool
	// target returns {id} for a cell in state s; fresh asks for one of
	// the cell's own (a POST expected to succeed).
	target func(m *pxMatrix, t *testing.T, s pxState, fresh bool) string
	// missing is an {id} nothing has: its 404 is the reference.
	missing string
	// form is the POST's form (its CSRF token is added).
	form func(m *pxMatrix, s pxState) url.Values
	// upload sends the form as multipart with a file.
	upload bool
	// mutates says a success changes the hub: such cells get a fresh
	// target.
	mutates bool
	// ownSession runs the cell on a throwaway session of the visitor's
	// key; again signs the visitor in again after it (the cell ends every
	// session of the key).
	ownSession, again bool
	want              pxRule
}

func (r pxRow) method() string {
	if r.ask != "" {
		return r.ask
	}
	m, _, _ := strings.Cut(r.route, " ")
	return m
}

// pxMissingID is a package id nothing has.
const pxMissingID = "01J0000000000000000000000Z"

// pxNoPage is a path nobody serves: the reference of the 404 of a route
// without an id.
const pxNoPage = "/no-such-page"

func pxPackage(m *pxMatrix, t *testing.T, s pxState, fresh bool) string {
	if fresh {
		return m.freshPackage(t, s)
	}
	return m.pkgs[s]
}

func pxCampaign(_ *pxMatrix, _ *testing.T, s pxState, _ bool) string {
	if s == cPublic {
		return "open-doors"
	}
	return "shelters"
}

// statusOf is the status of a package in state s.
func statusOf(s pxState) hub.Status {
	switch s {
	case sPublic:
		return hub.StatusReleased
	case sPurgedDraft:
		return hub.StatusPurged
	}
	return hub.Status(s)
}

// campaignOf is the campaign of a package in state s.
func campaignOf(s pxState) string {
	if s == sPublic {
		return "open-doors"
	}
	return "shelters"
}

func pxRows() []pxRow {
	// listed: the listing shows the package to whoever may see it.
	listed := func(v pxVisitor, s pxState) pxWant {
		if v.sees(s) == '-' {
			return pxWant{status: http.StatusOK, lacks: []string{"{id}", pxHeadlines[s]}}
		}
		return pxOK("{id}")
	}
	edit := func(s pxState) url.Values {
		return url.Values{"campaign": {campaignOf(s)}, "language": {"ru"}, "headline": {"Матрица: изменено"}}
	}
	pkgRow := func(route, path string, form func(*pxMatrix, pxState) url.Values, want pxRule) pxRow {
		return pxRow{route: route, path: path, states: pxStates, pkg: true, target: pxPackage, missing: pxMissingID,
			form: form, mutates: strings.HasPrefix(route, "POST"), want: want}
	}
	noForm := func(*pxMatrix, pxState) url.Values { return url.Values{} }
	return []pxRow{
		// Pages for everyone.
		{route: "GET /", path: "/", want: func(v pxVisitor, _ pxState) pxWant {
			if v.signedOut() {
				return pxOK(`action="/signin"`)
			}
			return pxOK(`id="signed-in"`)
		}},
		{route: "GET /signin", path: "/signin", want: func(v pxVisitor, _ pxState) pxWant {
			if v.signedOut() {
				return pxOK(`action="/signin"`)
			}
			return pxTo("/")
		}},
		{route: "POST /signin", path: "/signin", form: func(*pxMatrix, pxState) url.Values {
			return url.Values{"key": {"hub_not-a-key-of-this-hub"}}
		}, want: pxAll(pxPage(http.StatusUnauthorized, `id="signin-error"`))},
		{route: "GET /signin/:token", path: "/signin/{link}", want: pxAll(pxOK(`id="use-link"`))},
		{route: "POST /signin/:token", path: "/signin/{id}", target: func(m *pxMatrix, t *testing.T, _ pxState, fresh bool) string {
			if fresh {
				return m.freshLink(t).token
			}
			return m.vars["link"]
		}, mutates: true, ownSession: true, form: noForm, want: pxAll(pxTo("/"))},
		{route: "POST /signout", path: "/signout", ownSession: true, form: noForm, want: pxAll(pxTo("/"))},
		{route: "POST /signout/everywhere", path: "/signout/everywhere", ownSession: true, again: true, form: noForm,
			want: pxSignedIn(pxAll(pxTo("/")))},
		{route: "POST /lang", path: "/lang", form: func(*pxMatrix, pxState) url.Values {
			return url.Values{"lang": {"kk"}, "back": {"/releases"}}
		}, want: pxAll(pxTo("/releases"))},

		// Partners' pages.
		{route: "GET /releases", path: "/releases", states: pxStates, target: pxPackage, want: pxSignedIn(listed)},
		pkgRow("GET /packages/:id", "/packages/{id}", nil, func(v pxVisitor, s pxState) pxWant {
			switch v.sees(s) {
			case '-':
				if v.signedOut() {
					return pxTo("/signin?next=%2Fpackages%2F{id}")
				}
				return pxNotFound
			case 'F':
				return pxOK(pxHeadlines[s], `poster.jpg?rendition=web`)
			case 'K':
				return pxWant{status: http.StatusOK, has: []string{`id="takendown"`, pxHeadlines[s]}, lacks: []string{"poster.jpg"}}
			case 'T':
				return pxWant{status: http.StatusOK, has: []string{`id="takendown"`}, lacks: []string{pxHeadlines[s], "poster.jpg"}}
			}
			switch s { // an editor: the working copy
			case sDraft, sScheduled:
				return pxOK(`id="status-note"`, pxHeadlines[s])
			case sReleased, sPublic:
				return pxOK(pxHeadlines[s])
			}
			return pxOK()
		}),
		pkgRow("POST /packages/:id/takedown", "/packages/{id}/takedown", noForm, pxSignedIn(func(v pxVisitor, s pxState) pxWant {
			switch {
			case !v.partner():
				return pxForbidden // only outlets confirm takedowns
			case v.sees(s) == 'K', v.sees(s) == 'T':
				return pxOK(`id="takedown-confirmed"`)
			case v.sees(s) == 'F':
				return pxStatus(http.StatusConflict) // nothing to take down
			}
			return pxNotFound
		})),

		// The studio.
		{route: "GET /studio", path: "/studio", states: pxStates, target: pxPackage, want: pxStudio(false, listed)},
		{route: "GET /studio/new", path: "/studio/new", want: pxStudio(false, pxAll(pxOK(`id="package-form"`)))},
		{route: "POST /studio/new", path: "/studio/new", mutates: true, form: func(*pxMatrix, pxState) url.Values {
			return url.Values{"campaign": {"shelters"}, "language": {"ru"}, "headline": {"Матрица: новый"}}
		}, want: pxStudio(false, func(v pxVisitor, _ pxState) pxWant {
			if v == vProducerOther {
				return pxPage(http.StatusForbidden, `id="form-problem"`) // not its campaign
			}
			return pxStatus(http.StatusSeeOther)
		})},
		pkgRow("GET /studio/:id", "/studio/{id}", nil, pxStudio(true, func(_ pxVisitor, s pxState) pxWant {
			if !pxEditable(s) {
				return pxWant{status: http.StatusOK, has: []string{`data-status="` + string(statusOf(s)) + `"`}, lacks: []string{`id="package-form"`}}
			}
			return pxOK(`id="package-form"`, `data-status="`+string(statusOf(s))+`"`)
		})),
		pkgRow("POST /studio/:id", "/studio/{id}", func(_ *pxMatrix, s pxState) url.Values { return edit(s) },
			pxStudio(true, func(_ pxVisitor, s pxState) pxWant { return pxDone(pxEditable(s), "saved") })),
		func() pxRow {
			r := pkgRow("POST /studio/:id/assets", "/studio/{id}/assets", func(*pxMatrix, pxState) url.Values {
				return url.Values{"type": {"picture"}}
			}, pxStudio(true, func(_ pxVisitor, s pxState) pxWant { return pxDone(pxEditable(s), "uploaded") }))
			r.upload = true
			return r
		}(),
		pkgRow("POST /studio/:id/asset", "/studio/{id}/asset", func(*pxMatrix, pxState) url.Values {
			return url.Values{"name": {"poster.jpg"}, "alttext": {"Матрица: новый текст"}}
		}, pxStudio(true, func(_ pxVisitor, s pxState) pxWant { return pxDone(pxEditable(s), "asset_saved") })),
		pkgRow("POST /studio/:id/asset/delete", "/studio/{id}/asset/delete", func(*pxMatrix, pxState) url.Values {
			return url.Values{"name": {"poster.jpg"}}
		}, pxStudio(true, func(_ pxVisitor, s pxState) pxWant { return pxDone(pxEditable(s), "asset_deleted") })),
		pkgRow("POST /studio/:id/release", "/studio/{id}/release", noForm, pxStudio(true, func(_ pxVisitor, s pxState) pxWant {
			return pxDone(s == sDraft || s == sScheduled, "released")
		})),
		pkgRow("POST /studio/:id/unschedule", "/studio/{id}/unschedule", noForm, pxStudio(true, func(_ pxVisitor, s pxState) pxWant {
			return pxDone(s == sScheduled, "unscheduled")
		})),
		pkgRow("POST /studio/:id/withdraw", "/studio/{id}/withdraw", noForm, pxStudio(true, func(_ pxVisitor, s pxState) pxWant {
			return pxDone(s == sReleased || s == sPublic, "withdrawn")
		})),
		pkgRow("GET /studio/:id/purge", "/studio/{id}/purge", nil, pxStudio(true, func(_ pxVisitor, s pxState) pxWant {
			if s == sPurged || s == sPurgedDraft {
				return pxTo("/studio/{id}")
			}
			return pxOK(`id="confirm-purge"`)
		})),
		pkgRow("POST /studio/:id/purge", "/studio/{id}/purge", noForm, pxStudio(true, func(_ pxVisitor, s pxState) pxWant {
			return pxDone(s != sPurged && s != sPurgedDraft, "purged")
		})),

		// The admin's pages.
		{route: "GET /admin/signin-links", path: "/admin/signin-links", want: pxAdminRefused(pxOK(`action="/admin/signin-links"`))},
		{route: "POST /admin/signin-links", path: "/admin/signin-links", mutates: true, form: func(*pxMatrix, pxState) url.Values {
			return url.Values{"person": {"Матрица: человек"}, "role": {"producer"}, "hours": {"1"}}
		}, want: pxAdminRefused(pxPage(http.StatusCreated, "Матрица: человек"))},
		{route: "POST /admin/signin-links/:key/revoke", path: "/admin/signin-links/{id}/revoke", mutates: true, missing: pxMissingID,
			target: func(m *pxMatrix, t *testing.T, _ pxState, fresh bool) string {
				if fresh {
					return m.freshLink(t).key
				}
				return m.vars["linkkey"]
			}, form: noForm, want: pxAdminRefused(pxTo("/admin/signin-links"))},
		{route: "GET /admin/sessions", path: "/admin/sessions", want: pxAdminRefused(pxOK(`id="session-count"`))},
		{route: "POST /admin/sessions/:id/revoke", path: "/admin/sessions/{id}/revoke", mutates: true, missing: pxMissingID,
			target: func(m *pxMatrix, t *testing.T, _ pxState, fresh bool) string {
				if fresh {
					return m.freshSession(t)
				}
				return m.vars["session"]
			}, form: noForm, want: pxAdminRefused(pxTo("/admin/sessions"))},
		{route: "GET /admin/partners", path: "/admin/partners", want: pxAdmin(pxOK("Regional TV"))},
		{route: "POST /admin/partners", path: "/admin/partners", mutates: true, form: func(*pxMatrix, pxState) url.Values {
			return url.Values{"name": {"Матрица: издание"}, "medium": {"tv"}, "active": {"on"}}
		}, want: pxAdmin(pxPage(http.StatusCreated, `id="partner-created"`))},
		{route: "GET /admin/partners/:id", path: "/admin/partners/{id}", missing: pxMissingID,
			target: func(m *pxMatrix, _ *testing.T, _ pxState, _ bool) string { return m.vars["partner"] },
			want:   pxAdmin(pxOK("Regional TV"))},
		{route: "POST /admin/partners/:id", path: "/admin/partners/{id}", mutates: true, missing: pxMissingID,
			target: func(m *pxMatrix, t *testing.T, _ pxState, fresh bool) string {
				if fresh {
					return m.freshPartner(t)
				}
				return m.vars["scratchpartner"]
			}, form: func(*pxMatrix, pxState) url.Values {
				return url.Values{"campaigns": {"shelters"}, "active": {"on"}}
			}, want: pxAdmin(pxTo("/admin/partners/{id}?saved=1"))},
		{route: "GET /admin/keys", path: "/admin/keys", want: pxAdmin(pxOK("Regional TV ingest"))},
		{route: "POST /admin/keys", path: "/admin/keys", mutates: true, form: func(*pxMatrix, pxState) url.Values {
			return url.Values{"name": {"Матрица: ключ"}, "role": {"producer"}, "days": {"1"}}
		}, want: pxAdmin(pxPage(http.StatusCreated, `id="key-secret"`))},
		{route: "GET /admin/keys/:id/revoke", path: "/admin/keys/{id}/revoke", missing: pxMissingID,
			target: func(m *pxMatrix, _ *testing.T, _ pxState, _ bool) string { return m.vars["scratchkey"] },
			want:   pxAdmin(pxOK(`id="confirm-revoke"`))},
		{route: "POST /admin/keys/:id/revoke", path: "/admin/keys/{id}/revoke", mutates: true, missing: pxMissingID,
			target: func(m *pxMatrix, t *testing.T, _ pxState, fresh bool) string {
				if fresh {
					return m.freshKey(t)
				}
				return m.vars["scratchkey"]
			}, form: noForm, want: pxAdmin(pxTo("/admin/keys?revoked={id}"))},
		{route: "GET /admin/campaigns", path: "/admin/campaigns", want: pxAdmin(pxOK("shelters"))},
		{route: "POST /admin/campaigns", path: "/admin/campaigns", mutates: true, form: func(m *pxMatrix, _ pxState) url.Values {
			m.n++
			return url.Values{"slug": {fmt.Sprintf("matrix-%d", m.n)}, "name": {"Матрица"}, "visibility": {"partners"}}
		}, want: pxAdmin(pxPage(http.StatusCreated, `id="campaign-created"`))},
		{route: "POST /admin/campaigns/:slug/visibility", path: "/admin/campaigns/{id}/visibility", mutates: true, missing: "no-such-campaign",
			target: func(m *pxMatrix, t *testing.T, _ pxState, fresh bool) string {
				if fresh {
					return m.freshCampaign(t)
				}
				return "scratch"
			}, form: func(*pxMatrix, pxState) url.Values { return url.Values{"visibility": {"public"}} },
			want: pxAdmin(pxTo("/admin/campaigns"))},
		{route: "GET /admin/webhooks", path: "/admin/webhooks", want: pxAdmin(pxOK("{letter}"))},
		{route: "POST /admin/webhooks/:id/deadletters/:msgid/replay", path: "/admin/webhooks/{hook}/deadletters/{id}/replay",
			mutates: true, missing: pxMissingID + ".1.released",
			target: func(m *pxMatrix, _ *testing.T, _ pxState, _ bool) string { return m.vars["letter"] },
			form:   noForm, want: pxAdmin(pxOK(`id="replayed"`))},
		{route: "GET /admin/audit", path: "/admin/audit", want: pxAdmin(pxOK("key.create"))},
		{route: "GET /admin/health", path: "/admin/health", want: pxAdmin(pxOK("Regional TV"))},
		{route: "GET /campaigns/:campaign/reach", path: "/campaigns/{id}/reach", states: pxCampaignStates, target: pxCampaign,
			missing: "no-such-campaign", want: pxSignedIn(func(v pxVisitor, _ pxState) pxWant {
				if v == vProducer || v == vAdmin {
					return pxOK(`id="reach-empty"`)
				}
				return pxNotFound // partners never read reach; the other producer does not know the campaign
			})},

		// An outlet's set-up (partner.go): any partner key's own outlet's;
		// other roles are refused by role. The webhook is another outlet's
		// (the hooked one, which no visitor is): no visitor may touch it.
		{route: "GET /setup", path: "/setup", want: pxOutlet(pxOK(`id="setup-title"`))},
		{route: "POST /setup/feedtoken", path: "/setup/feedtoken", mutates: true, form: noForm,
			want: pxOutlet(pxPage(http.StatusCreated, `id="feed-issued"`))},
		{route: "POST /setup/feedtoken/revoke", path: "/setup/feedtoken/revoke", mutates: true, form: noForm,
			want: pxOutlet(pxTo("/setup?done=revoked"))},
		{route: "POST /setup/webhooks", path: "/setup/webhooks", mutates: true,
			form: func(*pxMatrix, pxState) url.Values { return url.Values{"url": {"http://127.0.0.1:9/matrix"}} },
			want: pxOutlet(pxPage(http.StatusCreated, `id="webhook-secret"`))},
		{route: "GET /setup/webhooks/:id/delete", path: "/setup/webhooks/{id}/delete", missing: pxMissingID, target: pxHook,
			want: pxOutlet(pxNotFound)},
		{route: "POST /setup/webhooks/:id/delete", path: "/setup/webhooks/{id}/delete", mutates: true, missing: pxMissingID,
			target: pxHook, form: noForm, want: pxOutlet(pxNotFound)},
		{route: "POST /setup/webhooks/:id/deadletters/:msgid/replay", path: "/setup/webhooks/{hook}/deadletters/{id}/replay",
			mutates: true, missing: pxMissingID + ".1.released",
			target: func(m *pxMatrix, _ *testing.T, _ pxState, _ bool) string { return m.vars["letter"] },
			form:   noForm, want: pxOutlet(pxNotFound)},
		pkgRow("POST /packages/:id/republications", "/packages/{id}/republications",
			func(*pxMatrix, pxState) url.Values {
				return url.Values{"url": {"https://example.org/matrix"}, "medium": {"online"}, "audience": {"1000"}}
			},
			pxSignedIn(func(v pxVisitor, s pxState) pxWant {
				switch {
				case v.partner() && (v.sees(s) == 'F' || v.sees(s) == 'K'):
					// A withdrawn package's republication is still reach:
					// the outlet may have published it while it was out.
					return pxTo("/packages/{id}?reported=*")
				case v.partner():
					return pxNotFound
				}
				return pxForbidden
			})),

		// What nobody serves.
		{route: echo.RouteNotFound + " /*", ask: "GET", path: "/no/such/page", want: pxAll(pxNotFound)},
		{route: echo.RouteNotFound + " /", ask: "POST", path: "/", want: pxAll(pxNotFound)},
	}
}

// pxExempt are routes without a row: the static files, which are the
// same for everyone.
var pxExempt = []string{"GET /static/*", "HEAD /static/*"}

func TestPortalMatrix(t *testing.T) {
	start := time.Now()
	m := newPxMatrix(t)
	rows := pxRows()
	routes := m.routes(t)
	have := map[string]bool{}
	for _, r := range rows {
		if have[r.route] {
			t.Errorf("two rows for %s", r.route)
		}
		have[r.route] = true
		if !slices.Contains(routes, r.route) {
			t.Errorf("the matrix has a row for %s, which the portal does not register", r.route)
		}
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		switch {
		case slices.Contains(pxExempt, route):
		case method == http.MethodHead:
			// A HEAD is asked in its GET's cells.
			if !have["GET "+path] {
				t.Errorf("the portal registers %s, which the authorization matrix has no GET row for", route)
			}
		case !have[route]:
			t.Errorf("the portal registers %s, which the authorization matrix has no row for", route)
		}
		if method == http.MethodGet && !slices.Contains(routes, "HEAD "+path) {
			t.Errorf("%s has no HEAD beside it", route)
		}
	}
	t.Logf("setup: %v", time.Since(start).Round(time.Millisecond))

	// Reads first, while the shared fixtures are as made; then the
	// changes, each success on a target of its own.
	cells := 0
	for _, reads := range []bool{true, false} {
		for _, row := range rows {
			if (row.method() == http.MethodGet) != reads {
				continue
			}
			t.Run(row.route, func(t *testing.T) {
				states := row.states
				if states == nil {
					states = []pxState{""}
				}
				for _, s := range states {
					for _, v := range pxVisitors {
						name := string(v)
						if s != "" {
							name = string(s) + "/" + name
						}
						cells++
						t.Run(name, func(t *testing.T) { m.cell(t, row, v, s) })
					}
				}
			})
		}
	}
	var heads int
	for _, r := range routes {
		if strings.HasPrefix(r, "HEAD ") && !slices.Contains(pxExempt, r) {
			heads++
		}
	}
	t.Logf("%d routes (%d rows; %d HEADs asked in their GETs' cells) × %d visitors × up to %d states: %d cells, %d of them with a HEAD, in %v",
		len(routes)-len(pxExempt), len(rows), heads, len(pxVisitors), len(pxStates), cells, m.heads, time.Since(start).Round(time.Millisecond))
}

// pxMatrix is the hub the matrix asks, its visitors and fixtures.
type pxMatrix struct {
	h       *hubtest.Hub
	admin   *hub.Key
	clients map[pxVisitor]*pxClient
	keys    map[pxVisitor]string
	pkgs    map[pxState]string
	// vars are the fixtures' names a row's path and expectations use.
	vars   map[string]string
	poster []byte
	n      int
	heads  int
	// auditSeq is the last audit entry's sequence seen, where the next
	// snapshot starts reading.
	auditSeq  uint64
	auditLast string
}

func newPxMatrix(t *testing.T) *pxMatrix {
	ctx := context.Background()
	rcv := webhooktest.Start(t, webhooktest.FailTimes(1))
	h := hubtest.Start(t, hubtest.Options{Webhooks: &webhooks.Options{AllowPrivateTargets: true, MaxAttempts: 1, SyncEvery: 100 * time.Millisecond}})
	m := &pxMatrix{h: h, admin: h.Admin(t), clients: map[pxVisitor]*pxClient{}, keys: map[pxVisitor]string{},
		pkgs: map[pxState]string{}, vars: map[string]string{}, poster: picture(t, 64, 48)}
	for _, c := range []struct{ slug, visibility string }{{"open-doors", "public"}, {"shelters", "partners"},
		{"elsewhere", "partners"}, {"hooked", "partners"}, {"scratch", "partners"}} {
		apiCall(t, h, "POST", "/v1/campaigns", h.AdminKey, map[string]any{"slug": c.slug, "name": c.slug, "visibility": c.visibility}).expect(t, 201)
	}
	m.keys[vAdmin] = h.AdminKey
	m.keys[vEntitled] = h.PartnerKey(t, "Regional TV", "shelters")
	m.keys[vOther] = h.PartnerKey(t, "Other outlet", "elsewhere")
	m.keys[vProducer] = producerFor(t, h, "Shelters team", "shelters", "open-doors")
	m.keys[vProducerOther] = producerFor(t, h, "Elsewhere team", "elsewhere")
	entitled, err := h.Service.Authenticate(ctx, m.keys[vEntitled])
	if err != nil {
		t.Fatal(err)
	}
	m.vars["partner"] = entitled.Partner

	// The packages, one a state, as the producer makes them.
	n := &newsroom{t: t, h: h, producer: m.keys[vProducer]}
	for _, s := range pxStates {
		spec := pkgSpec{campaign: campaignOf(s), headline: pxHeadlines[s]}
		switch s {
		case sScheduled:
			spec.release = "embargo"
		case sReleased, sPublic, sPurged:
			spec.release = "now"
		case sWithdrawn:
			spec.release, spec.withdraw = "now", true
		}
		id := n.make(spec)
		if s == sPurged || s == sPurgedDraft {
			apiCall(t, h, "POST", "/v1/packages/"+id+"/purge", m.keys[vProducer], nil).expect(t, 200)
		}
		m.pkgs[s] = id
	}

	for _, v := range pxVisitors {
		switch v {
		case vAnon:
			m.clients[v] = m.client(t, v, "")
		case vRevoked:
			key := producerFor(t, h, "Revoked team", "shelters", "open-doors")
			m.clients[v] = m.client(t, v, key)
			k, err := h.Service.Authenticate(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Service.RevokeKey(ctx, m.admin, k.ID); err != nil {
				t.Fatal(err)
			}
		case vSignedOut:
			m.clients[v] = m.client(t, v, h.AdminKey)
			if err := h.Service.SignOut(ctx, m.clients[v].session); err != nil {
				t.Fatal(err)
			}
		default:
			m.clients[v] = m.client(t, v, m.keys[v])
		}
		// The dead sessions act as visitors signed out: their token is
		// the pre-session one.
		if v.deadSession() {
			m.clients[v].csrf = m.clients[v].pre
		}
	}

	// The directory's scratch records, which refused forms must leave
	// alone.
	l := m.freshLink(t)
	m.vars["link"], m.vars["linkkey"] = l.token, l.key
	m.vars["session"] = m.freshSession(t)
	m.vars["scratchpartner"] = m.freshPartner(t)
	m.vars["scratchkey"] = m.freshKey(t)

	// A webhook whose endpoint fails the first attempt of each delivery,
	// with one attempt allowed: its partner's first release is a dead
	// letter, which a replay then delivers.
	hooked, err := h.Service.CreatePartner(ctx, m.admin, &hub.Partner{Name: "Hooked outlet", Medium: hub.MediumOnline,
		Campaigns: []string{"hooked"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	w, err := h.Service.CreateWebhook(ctx, m.admin, hooked.ID, rcv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rcv.SetSecret(w.Secret)
	m.vars["hook"] = w.ID
	// Its deliveries start at its creation, whenever its consumer runs.
	p := h.ReadyPackage(t, "hooked")
	if _, err := h.Service.Release(ctx, m.admin, p.ID, nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		dead, err := h.Service.DeadLetters(ctx, m.admin, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) > 0 {
			m.vars["letter"] = dead[0].MessageID
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no dead letter after 30 s")
		}
	}
	return m
}

// routes are the routes the portal registers, as "METHOD path".
func (m *pxMatrix) routes(t *testing.T) []string {
	p, err := portal.New(m.h.Service, portal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	p.Register(e)
	var out []string
	for _, r := range e.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// cell asks one cell and checks its answer.
func (m *pxMatrix) cell(t *testing.T, row pxRow, v pxVisitor, s pxState) {
	want := row.want(v, s)
	method := row.method()
	fresh := row.mutates && want.status < 400
	var id string
	if row.target != nil {
		id = row.target(m, t, s, fresh)
	}
	c := m.clients[v]
	if row.ownSession {
		c = m.throwaway(t, v)
	}
	path := m.resolve(row.path, id)
	pkg := ""
	if row.pkg {
		pkg = id
	}
	var form url.Values
	if method == http.MethodPost && row.form != nil {
		form = row.form(m, s)
	}
	before := ""
	if method == http.MethodPost {
		before = m.snapshot(t, pkg)
	}
	if method == http.MethodPost && row.ask == "" {
		a := c.do(t, method, path, form, row.upload, false)
		if a.status != http.StatusForbidden || !strings.Contains(a.body, `data-status="403"`) {
			t.Errorf("without a CSRF token: %d, want the 403 page\n%.600s", a.status, a.body)
		}
		after := m.snapshot(t, pkg)
		if d := pxChanged(before, after); d != "" {
			t.Errorf("a POST without its CSRF token changed the hub:\n%s", d)
		}
		before = after
	}
	if want.status < 400 {
		before = "" // a success changes its own target
	}
	a := c.do(t, method, path, form, row.upload, true)
	m.check(t, v, method, path, id, want, a)
	if before != "" {
		if d := pxChanged(before, m.snapshot(t, pkg)); d != "" {
			t.Errorf("a refused POST (%d) changed the hub:\n%s", a.status, d)
		}
	}
	if a.status == http.StatusNotFound && path != pxNoPage && row.ask == "" {
		// Existence never leaks: the 404 is that of what is not there.
		ref := pxNoPage
		if row.missing != "" {
			ref = m.resolve(row.path, row.missing)
		}
		r := c.do(t, method, ref, form, row.upload, true)
		got := a.body
		if row.missing != "" {
			got = strings.ReplaceAll(got, id, row.missing)
		} else {
			r.body = strings.ReplaceAll(r.body, pxNoPage, path)
		}
		if r.status != http.StatusNotFound || got != r.body {
			t.Errorf("the 404 differs from that of %s (%d):\n%s\n---\n%s", ref, r.status, got, r.body)
		}
	}
	if method == http.MethodGet {
		m.heads++
		hd := c.do(t, http.MethodHead, path, nil, false, false)
		if hd.status != a.status || hd.body != "" {
			t.Errorf("HEAD: %d with %d bytes, the GET %d", hd.status, len(hd.body), a.status)
		}
		if g, h := pxHeaders(a.header), pxHeaders(hd.header); g != h {
			t.Errorf("HEAD's headers differ from GET's:\nGET  %s\nHEAD %s", g, h)
		}
	}
	if row.again {
		m.clients[v] = m.throwaway(t, v)
	}
}

// check compares an answer with the cell's expectation, and with the
// rules every answer follows.
func (m *pxMatrix) check(t *testing.T, v pxVisitor, method, path, id string, want pxWant, a answer) {
	t.Helper()
	if a.status != want.status {
		t.Errorf("%s %s: %d, want %d\n%.800s", method, path, a.status, want.status, a.body)
		return
	}
	if want.location != "" {
		// A location ending in * is a prefix (a redirect naming a record
		// the cell made).
		loc, wantLoc := a.header.Get("Location"), m.resolve(want.location, id)
		if prefix, ok := strings.CutSuffix(wantLoc, "*"); ok && !strings.HasPrefix(loc, prefix) || !ok && loc != wantLoc {
			t.Errorf("sent to %q, want %q", loc, wantLoc)
		}
	}
	for _, s := range want.has {
		if s = m.resolve(s, id); !strings.Contains(a.body, s) {
			t.Errorf("the answer lacks %q\n%.800s", s, a.body)
		}
	}
	for _, s := range want.lacks {
		if s = m.resolve(s, id); strings.Contains(a.body, s) {
			t.Errorf("the answer shows %q", s)
		}
	}
	if v.signedOut() && method == http.MethodGet {
		// Signed out, a page for the signed-in asks to sign in and comes
		// back to it, or sends there with it as next.
		switch a.status {
		case http.StatusUnauthorized:
			if n := `name="next" value="` + path + `"`; !strings.Contains(a.body, n) {
				t.Errorf("the sign-in page does not come back to %s (no %s)", path, n)
			}
		case http.StatusSeeOther:
			loc, err := url.Parse(a.header.Get("Location"))
			if err == nil && loc.Path == "/signin" {
				if next := loc.Query().Get("next"); next != path || loc.Host != "" || strings.HasPrefix(next, "//") {
					t.Errorf("the sign-in redirect's next is %q, want %q", next, path)
				}
			}
		}
	}
	if v.deadSession() {
		// The dead session's cookie goes.
		if !slices.ContainsFunc(a.header.Values("Set-Cookie"), func(c string) bool {
			return strings.HasPrefix(c, websession.Cookie+"=;") && strings.Contains(c, "Max-Age=0")
		}) {
			t.Errorf("the answer keeps the ended session's cookie: %q", a.header.Values("Set-Cookie"))
		}
	}
}

// pxHeaders are an answer's headers but its date, as one line.
func pxHeaders(h http.Header) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if k != "Date" {
			fmt.Fprintf(&b, "%s: %q; ", k, h.Values(k))
		}
	}
	return b.String()
}

// resolve replaces {id} with id and the matrix's names with theirs.
func (m *pxMatrix) resolve(s, id string) string {
	s = strings.ReplaceAll(s, "{id}", id)
	for k, v := range m.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// snapshot is what the hub holds that a portal form could change, as one
// string: keys, sessions, sign-in links, partners, campaigns, webhooks'
// dead letters, new audit entries, and package pkg (as the admin reads
// it, its outbox mark aside, which the hub clears by itself) with its
// takedowns.
func (m *pxMatrix) snapshot(t *testing.T, pkg string) string {
	t.Helper()
	ctx, svc := context.Background(), m.h.Service
	var parts []any
	add := func(v any, err error) {
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		parts = append(parts, v)
	}
	keys, err := svc.Keys(ctx, m.admin)
	var keyIDs []string
	for _, k := range keys {
		keyIDs = append(keyIDs, k.Key.ID+k.Key.Hash)
	}
	add(keyIDs, err)
	sessions, err := svc.Sessions(ctx, m.admin)
	var sessionIDs []string
	for _, s := range sessions {
		sessionIDs = append(sessionIDs, s.ID)
	}
	add(sessionIDs, err)
	add(svc.SigninLinks(ctx, m.admin))
	add(svc.Partners(ctx, m.admin))
	add(svc.Campaigns(ctx, m.admin))
	// Whether the dead letter is still there (public releases add
	// others, which the webhook's outlet may receive).
	dead, err := svc.DeadLetters(ctx, m.admin, m.vars["hook"])
	add(slices.ContainsFunc(dead, func(d *hub.DeadLetter) bool { return d.MessageID == m.vars["letter"] }), err)
	for {
		entries, _, err := svc.Audit(ctx, m.admin, m.auditSeq, hub.MaxPageSize)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		if len(entries) == 0 {
			break
		}
		m.auditSeq = entries[len(entries)-1].Sequence
		m.auditLast = string(entries[len(entries)-1].Action) + " " + entries[len(entries)-1].Target
	}
	parts = append(parts, fmt.Sprintf("audit log up to %d (%s)", m.auditSeq, m.auditLast))
	if pkg != "" {
		p, err := svc.Package(ctx, m.admin, pkg)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		p.Pending = nil
		parts = append(parts, p)
		r, err := svc.Takedowns(ctx, m.admin, pkg)
		if hub.ErrorCode(err) != hub.ECONFLICT {
			add(r, err)
		}
	}
	lines := make([]string, len(parts))
	for i, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = string(b)
	}
	return strings.Join(lines, "\n")
}

// pxChanged says what differs between two snapshots, "" when nothing.
func pxChanged(before, after string) string {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	var out []string
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// freshPackage makes a package in state s, through the service: the
// target of one cell whose form succeeds.
func (m *pxMatrix) freshPackage(t *testing.T, s pxState) string {
	t.Helper()
	ctx, svc := context.Background(), m.h.Service
	m.n++
	p, err := svc.CreatePackage(ctx, m.admin, &hub.Package{Campaign: campaignOf(s), Language: "ru",
		Headlines: []hub.Text{{Value: fmt.Sprintf("Матрица: свежий %d", m.n)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.PutAsset(ctx, m.admin, p.ID, hub.AssetUpload{Name: "poster.jpg", Body: bytes.NewReader(m.poster),
		Size: int64(len(m.poster))}); err != nil {
		t.Fatal(err)
	}
	step := func(_ *hub.Package, err error) {
		if err != nil {
			t.Fatalf("fresh %s package: %v", s, err)
		}
	}
	switch s {
	case sScheduled:
		embargo := time.Now().Add(48 * time.Hour)
		step(svc.Release(ctx, m.admin, p.ID, &embargo))
	case sReleased, sPublic:
		step(svc.Release(ctx, m.admin, p.ID, nil))
	case sWithdrawn:
		step(svc.Release(ctx, m.admin, p.ID, nil))
		step(svc.Withdraw(ctx, m.admin, p.ID))
	case sPurged:
		step(svc.Release(ctx, m.admin, p.ID, nil))
		step(svc.Purge(ctx, m.admin, p.ID))
	case sPurgedDraft:
		step(svc.Purge(ctx, m.admin, p.ID))
	}
	return p.ID
}

type pxLink struct{ token, key string }

func (m *pxMatrix) freshLink(t *testing.T) pxLink {
	t.Helper()
	m.n++
	l, token, err := m.h.Service.CreateSigninLink(context.Background(), m.admin, hub.SigninLinkRequest{
		Person: fmt.Sprintf("Матрица: ссылка %d", m.n), Role: hub.RoleProducer, Campaigns: []string{"scratch"}})
	if err != nil {
		t.Fatal(err)
	}
	return pxLink{token: token, key: l.KeyID}
}

func (m *pxMatrix) freshKey(t *testing.T) string {
	t.Helper()
	m.n++
	k, _, err := m.h.Service.CreateKey(context.Background(), m.admin, hub.Key{Role: hub.RoleProducer,
		Name: fmt.Sprintf("Матрица: ключ %d", m.n), Campaigns: []string{"scratch"}})
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

// freshSession signs a scratch key in and returns the session's id.
func (m *pxMatrix) freshSession(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	m.n++
	_, secret, err := m.h.Service.CreateKey(ctx, m.admin, hub.Key{Role: hub.RoleProducer,
		Name: fmt.Sprintf("Матрица: сеанс %d", m.n), Campaigns: []string{"scratch"}})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := m.h.Service.SignIn(ctx, secret, hub.SessionMeta{UserAgent: "matrix"})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (m *pxMatrix) freshPartner(t *testing.T) string {
	t.Helper()
	m.n++
	p, err := m.h.Service.CreatePartner(context.Background(), m.admin, &hub.Partner{
		Name: fmt.Sprintf("Матрица: издание %d", m.n), Medium: hub.MediumPrint, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func (m *pxMatrix) freshCampaign(t *testing.T) string {
	t.Helper()
	m.n++
	slug := fmt.Sprintf("fresh-%d", m.n)
	if _, err := m.h.Service.CreateCampaign(context.Background(), m.admin, &hub.Campaign{Slug: slug, Name: slug,
		Visibility: hub.VisibilityPartners}); err != nil {
		t.Fatal(err)
	}
	return slug
}

// pxClient is a browser of one visitor, without a browser: a session
// cookie (or none) and a pre-session one it always sends, whatever the
// hub answers (a dead session keeps being sent), and the token its forms
// carry. It follows no redirect.
type pxClient struct {
	kind               pxVisitor
	base               string
	session, pre, csrf string
	// file is what an upload sends.
	file []byte
}

// client signs key in (none: a visitor signed out).
func (m *pxMatrix) client(t *testing.T, v pxVisitor, key string) *pxClient {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	c := &pxClient{kind: v, base: m.h.URL, pre: base64.RawURLEncoding.EncodeToString(b), file: m.poster}
	c.csrf = c.pre
	if key != "" {
		s, secret, err := m.h.Service.SignIn(context.Background(), key, hub.SessionMeta{UserAgent: "matrix " + string(v)})
		if err != nil {
			t.Fatalf("sign %s in: %v", v, err)
		}
		c.session, c.csrf = secret, s.CSRF
	}
	return c
}

// throwaway is a session of v's key of its own, for a cell that ends it;
// visitors without a live session are themselves.
func (m *pxMatrix) throwaway(t *testing.T, v pxVisitor) *pxClient {
	if v.signedOut() {
		return m.clients[v]
	}
	return m.client(t, v, m.keys[v])
}

var pxHTTP = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request; a POST carries form (multipart with a file when
// upload), with the visitor's token when token.
func (c *pxClient) do(t *testing.T, method, path string, form url.Values, upload, token bool) answer {
	t.Helper()
	f := url.Values{}
	maps.Copy(f, form)
	if token {
		f.Set(websession.CSRFField, c.csrf)
	}
	var body io.Reader
	contentType := ""
	switch {
	case method != http.MethodPost:
	case upload:
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k := range f {
			w.WriteField(k, f.Get(k))
		}
		fw, _ := w.CreateFormFile("file", "extra.jpg")
		fw.Write(c.file)
		w.Close()
		body, contentType = &b, w.FormDataContentType()
	default:
		body, contentType = strings.NewReader(f.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept-Language", "ru")
	req.AddCookie(&http.Cookie{Name: "hub_presession", Value: c.pre})
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: websession.Cookie, Value: c.session})
	}
	resp, err := pxHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}
