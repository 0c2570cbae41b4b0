package hub

import (
	"context"
	"fmt"
)

// NATSAccess tells a partner how to receive its releases over NATS: where
// to connect, as whom, and which durable consumer on which stream the hub
// keeps for it (filtered to the campaigns it may see).
type NATSAccess struct {
	URL         string
	User        string
	Password    string
	Stream      string
	Consumer    string
	InboxPrefix string
	Subjects    []string
}

// NATSAccessProvider hands out partners' NATS access; its implementation
// is publisher/partners.Access, which also keeps the consumers and users current.
type NATSAccessProvider interface {
	// PartnerAccess returns p's access. User and Password are empty when
	// the operator manages NATS users (an external cluster).
	PartnerAccess(ctx context.Context, p *Partner, a Audience) (NATSAccess, error)
}

// PartnerNATS returns the caller's NATS access. Only keys that belong to
// a partner record have a consumer; other keys get ENOTFOUND.
func (s *Service) PartnerNATS(ctx context.Context, k *Key, provider NATSAccessProvider) (NATSAccess, error) {
	if !belongsToPartnerRecord(k) || provider == nil {
		return NATSAccess{}, Errorf(ENOTFOUND, "NATS access belongs to partner keys of a partner record")
	}
	a, err := s.Audience(ctx, k)
	if err != nil {
		return NATSAccess{}, err
	}
	if a.Partner == nil || !a.Partner.Active {
		return NATSAccess{}, Errorf(ENOTFOUND, "NATS access belongs to active partners")
	}
	acc, err := provider.PartnerAccess(ctx, a.Partner, a)
	if err != nil {
		return NATSAccess{}, fmt.Errorf("partner NATS access: %w", err)
	}
	return acc, nil
}
