package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// TestIndexBuildingIs503: a search refused while the index builds is a
// 503 problem saying so, with a Retry-After of seconds, not a minute.
func TestIndexBuildingIs503(t *testing.T) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/v1/search?q=x", nil), rec)
	err := searchAnswer(c, hub.ErrIndexBuilding)
	p := problemFor(err, "/v1/search")
	if p.Status != http.StatusServiceUnavailable || !strings.HasPrefix(p.Detail, "index building") {
		t.Fatalf("problem %+v", p)
	}
	if got := rec.Header().Get("Retry-After"); got != "5" {
		t.Fatalf("Retry-After %q", got)
	}
}
