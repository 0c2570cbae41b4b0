package hub_test

import (
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

func TestSessionLifetimes(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		lastSeen time.Duration // after start
		now      time.Duration // after start
		expired  bool
	}{
		{"fresh", 0, time.Minute, false},
		{"idle just under the limit", 0, hub.SessionIdleLifetime - time.Second, false},
		{"idle at the limit", 0, hub.SessionIdleLifetime, true},
		{"busy on day six", 6 * 24 * time.Hour, 6*24*time.Hour + time.Hour, false},
		{"busy past the absolute limit", hub.SessionAbsoluteLifetime - time.Minute, hub.SessionAbsoluteLifetime, true},
	}
	for _, tt := range tests {
		s := &hub.Session{Created: start, LastSeen: start.Add(tt.lastSeen)}
		if got := s.Expired(start.Add(tt.now)); got != tt.expired {
			t.Errorf("%s: expired %v, want %v", tt.name, got, tt.expired)
		}
		if !s.Ends().After(start) || s.Ends().After(start.Add(hub.SessionAbsoluteLifetime)) {
			t.Errorf("%s: ends %v", tt.name, s.Ends())
		}
	}
}
