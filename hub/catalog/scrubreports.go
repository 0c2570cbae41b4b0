package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// ScrubReportsBucket keeps each stored blob's scrub report, by the blob's
// content sum, beside the blob records (see hub.ScrubReportStore).
const ScrubReportsBucket = "hub_scrub_reports"

// PutScrubReport records the report for sum; the last upload of the same
// stored bytes wins, which is harmless: it removed the same things.
func (c *Catalog) PutScrubReport(ctx context.Context, sum string, r *hub.ScrubReport) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode scrub report: %w", err)
	}
	if _, err := c.scrubReports.Put(ctx, sum, b); err != nil {
		return fmt.Errorf("put scrub report %s: %w", sum, err)
	}
	return nil
}

// ScrubReport returns the report for sum.
func (c *Catalog) ScrubReport(ctx context.Context, sum string) (*hub.ScrubReport, error) {
	if !validKey(sum) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no scrub report for %s", sum)
	}
	e, err := c.scrubReports.Get(ctx, sum)
	if natsfault.Missing(err) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no scrub report for %s", sum)
	} else if err != nil {
		return nil, fmt.Errorf("get scrub report %s: %w", sum, err)
	}
	var r hub.ScrubReport
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, fmt.Errorf("decode scrub report %s: %w", sum, err)
	}
	return &r, nil
}

// DeleteScrubReport removes the report for sum.
func (c *Catalog) DeleteScrubReport(ctx context.Context, sum string) error {
	if err := c.scrubReports.Delete(ctx, sum); err != nil && !natsfault.Missing(err) {
		return fmt.Errorf("delete scrub report %s: %w", sum, err)
	}
	return nil
}
