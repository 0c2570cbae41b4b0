package hub

// This file is the one place that decides what a caller may see and change.
// Every path (API, downloads, listings, and later feeds, zips, NATS and
// webhooks) asks these functions, so a rule changes in one place.

// CanRead reports whether the holder of k may see p at all. Whatever it
// may not see is answered as not found, so existence does not leak.
func CanRead(k *Key, p *Package) bool {
	switch k.Role {
	case RoleAdmin:
		return true
	case RoleProducer:
		return k.mayUseCampaign(p.Campaign)
	case RolePartner:
		// Partners see a package only once it is released; entitlements
		// per partner narrow this further when partners exist.
		return p.Status == StatusReleased || p.Status == StatusWithdrawn
	}
	return false
}

// CanEdit reports whether the holder of k may change p.
func CanEdit(k *Key, p *Package) bool {
	switch k.Role {
	case RoleAdmin:
		return true
	case RoleProducer:
		return k.mayUseCampaign(p.Campaign)
	}
	return false
}

// CanCreateIn reports whether k may create packages in campaign c.
// Returns EFORBIDDEN with the reason when it may not.
func CanCreateIn(k *Key, campaign string) error {
	switch {
	case k.Role == RoleAdmin:
		return nil
	case k.Role != RoleProducer:
		return Errorf(EFORBIDDEN, "only producer and admin keys create packages")
	case !k.mayUseCampaign(campaign):
		return Errorf(EFORBIDDEN, "this key is limited to the campaigns %v", k.Campaigns)
	}
	return nil
}

// CanDownload reports whether the holder of k may fetch the bytes of p's
// assets. A withdrawn package stays readable as a kill notice, but its
// assets stop being served to partners: they must take it down.
func CanDownload(k *Key, p *Package) bool {
	if !CanRead(k, p) {
		return false
	}
	return p.Status != StatusWithdrawn || CanEdit(k, p)
}
