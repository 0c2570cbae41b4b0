// Package websession carries portal sessions over HTTP: the cookie that
// holds a session's secret, and the CSRF token every state-changing
// request of a session must carry. The portal and the API both read
// sessions through it, so a browser signed in to the portal calls the
// same /v1 routes, through the same checks, as a bearer key.
package websession

import (
	"context"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// Names on the wire.
const (
	// Cookie holds the session's secret, nothing else.
	Cookie = "hub_session"
	// CSRFHeader carries the session's CSRF token on htmx and script
	// requests; CSRFField on forms.
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf"
)

// Secret returns the session secret the request's cookie holds, or "".
func Secret(r *http.Request) string {
	c, err := r.Cookie(Cookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// Has reports whether the request carries a session cookie at all.
func Has(r *http.Request) bool { return Secret(r) != "" }

// Safe reports whether a method changes nothing, so needs no CSRF token:
// a link from another site may make the browser send one with the cookie.
func Safe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// TokenOK reports whether token is the session's CSRF token.
func TokenOK(s *hub.Session, token string) bool {
	return s != nil && s.CSRF != "" && subtle.ConstantTimeCompare([]byte(s.CSRF), []byte(token)) == 1
}

// Authenticate resolves the request's session and its key, as the API's
// bearer check does, and refuses a state-changing request without the
// session's token in CSRFHeader (EFORBIDDEN): that is what keeps another
// site from acting through a signed-in browser.
func Authenticate(ctx context.Context, svc *hub.Service, r *http.Request) (*hub.Session, *hub.Key, error) {
	s, k, err := svc.Session(ctx, Secret(r))
	if err != nil {
		return nil, nil, err
	}
	if !Safe(r.Method) && !TokenOK(s, r.Header.Get(CSRFHeader)) {
		return nil, nil, hub.Errorf(hub.EFORBIDDEN, "a call made with a portal session must carry the session's %s header", CSRFHeader)
	}
	return s, k, nil
}

// Set gives the browser the session's cookie: HttpOnly (no script reads
// it), SameSite=Lax (another site's forms do not send it), Secure when
// the hub is served over https. It lives as long as the session can.
func Set(w http.ResponseWriter, secret string, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: Cookie, Value: secret, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
		MaxAge: int(hub.SessionAbsoluteLifetime / time.Second),
	})
}

// Clear removes the session's cookie.
func Clear(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: Cookie, Value: "", Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: -1,
	})
}

// LinkURL is where a sign-in link's token is opened: the portal's
// confirmation page, under the hub's public URL.
func LinkURL(publicURL, token string) string { return publicURL + "/signin/" + token }
