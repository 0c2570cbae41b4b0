package portal

import (
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/portal/i18n"
)

// TestDayChart: one bar a day, heights in proportion to a round top, a
// title per bar in the visitor's language, and dates below.
func TestDayChart(t *testing.T) {
	day := func(d, n int) hub.DayDownloads {
		return hub.DayDownloads{Day: time.Date(2026, 5, d, 0, 0, 0, 0, time.UTC), Requests: n}
	}
	ru := i18n.For(i18n.RU)
	tests := []struct {
		name   string
		days   []hub.DayDownloads
		bars   int
		top    string
		labels int
	}{
		{"one day", []hub.DayDownloads{day(1, 3)}, 1, "5", 1},
		{"three days", []hub.DayDownloads{day(1, 3), day(2, 0), day(3, 7)}, 3, "10", 2},
		{"a week", []hub.DayDownloads{day(1, 1), day(2, 2), day(3, 1200), day(4, 0), day(5, 1), day(6, 0), day(7, 9)}, 7, "2\u00a0000", 3},
	}
	for _, tt := range tests {
		c := dayChart(ru, tt.days)
		if len(c.Bars) != tt.bars || len(c.XLabels) != tt.labels {
			t.Errorf("%s: %d bars, %d labels; want %d, %d", tt.name, len(c.Bars), len(c.XLabels), tt.bars, tt.labels)
		}
		if got := c.YTicks[len(c.YTicks)-1].Text; got != tt.top {
			t.Errorf("%s: top tick %q, want %q", tt.name, got, tt.top)
		}
		for i, b := range c.Bars {
			if b.Y+b.H != float64(c.Bottom) || b.X < float64(c.Left) || b.X+b.W > float64(c.Right) {
				t.Errorf("%s: bar %d %+v outside the plot", tt.name, i, b)
			}
			if !strings.HasPrefix(b.Title, ru.Date(tt.days[i].Day)+": ") {
				t.Errorf("%s: bar %d title %q", tt.name, i, b.Title)
			}
		}
	}
	if dayChart(ru, nil) != nil {
		t.Error("no days drew a chart")
	}
	if c := newHbarChart(ru, []hbarRow{{"Алматы", 4}, {"Ош", 0}}, func(l string, n int64) string { return l }); c.Rows[1].W != 0 || c.Rows[0].W == 0 {
		t.Errorf("horizontal bars: %+v", c.Rows)
	}
}
