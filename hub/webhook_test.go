package hub_test

import (
	"net/netip"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

func TestPublicAddr(t *testing.T) {
	for addr, public := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true, "8.8.8.8": true,
		"127.0.0.1": false, "127.1.2.3": false, "::1": false, "10.0.0.1": false, "172.16.5.4": false,
		"192.168.1.1": false, "169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false,
		"::": false, "100.100.100.200": false, "224.0.0.1": false, "255.255.255.255": false,
		"::ffff:127.0.0.1": false, "::ffff:10.1.2.3": false, "64:ff9b::a00:1": false, "198.18.0.1": false,
		// IPv6 wrappings of IPv4 and retired ranges (issue 9).
		"::127.0.0.1": false, "::10.0.0.1": false, "2002:a00:1::1": false, "2002:7f00:1::": false,
		"2001:0:4136:e378:8000:63bf:3fff:fdd2": false, "fec0::1": false, "feff::1": false, "100::1": false,
		"2001:4860:4860::8888": true, "2a00:1450:4001::1": true,
	} {
		if got := hub.PublicAddr(netip.MustParseAddr(addr)); got != public {
			t.Errorf("PublicAddr(%s) = %v", addr, got)
		}
	}
}

func TestWebhookMayReceive(t *testing.T) {
	public := &hub.Campaign{Slug: "korgau123", Visibility: hub.VisibilityPublic}
	closed := &hub.Campaign{Slug: "survivors", Visibility: hub.VisibilityPartners}
	entitled := &hub.Partner{ID: "P1", Active: true, Campaigns: []string{"survivors"}}
	other := &hub.Partner{ID: "P2", Active: true}
	inactive := &hub.Partner{ID: "P3", Campaigns: []string{"survivors"}}
	hook := func(p *hub.Partner) *hub.Webhook { return &hub.Webhook{Partner: p.ID, Active: true} }
	for _, tc := range []struct {
		name string
		w    *hub.Webhook
		p    *hub.Partner
		c    *hub.Campaign
		want bool
	}{
		{"public campaign", hook(other), other, public, true},
		{"entitled, partners-only", hook(entitled), entitled, closed, true},
		{"not entitled, partners-only", hook(other), other, closed, false},
		{"inactive partner, public campaign", hook(inactive), inactive, public, false},
		{"inactive webhook", &hub.Webhook{Partner: other.ID}, other, public, false},
		{"partner record gone", hook(other), nil, public, false},
		{"another partner's record", hook(other), entitled, closed, false},
		{"unknown campaign", hook(entitled), entitled, nil, false},
	} {
		if got := tc.w.MayReceive(tc.p, tc.c); got != tc.want {
			t.Errorf("%s: MayReceive = %v", tc.name, got)
		}
	}
}

func TestWebhookSecret(t *testing.T) {
	s, err := hub.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := hub.WebhookSigningKey(s)
	if err != nil || len(key) != 32 {
		t.Fatalf("secret %q gives a key of %d bytes: %v", s, len(key), err)
	}
	if _, err := hub.WebhookSigningKey("hub_notawebhooksecret"); err == nil {
		t.Error("a secret without whsec_ gives a key")
	}
}
