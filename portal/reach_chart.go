package portal

import (
	"math"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/portal/i18n"
)

// The charts' geometry, in SVG user units: the viewBox scales them to
// the page's width, so these are proportions more than pixels.
const (
	chartWidth  = 720
	chartHeight = 260
	// Room for the y axis' numbers on the left and the dates below.
	chartLeft, chartRight, chartTop, chartBottom = 64, 16, 16, 44
	// Horizontal bar charts sit two abreast, so they are drawn narrower
	// and their text stays as large as the page's.
	hbarWidth, hbarRowHeight       = 400, 30
	hbarLabelWidth, hbarValueWidth = 130, 80
	// maxBarWidth keeps a chart of one or two days from one slab.
	maxBarWidth = 48
)

// barChart is a vertical bar chart ready for the template.
type barChart struct {
	Width, Height    int
	Left, Right      int
	Top, Bottom      int
	Bars             []bar
	YTicks, XLabels  []axisLabel
	AxisY, AxisRight int
}

// bar is one bar: its box and what a screen reader or a hover says.
type bar struct {
	X, Y, W, H float64
	Title      string
}

// axisLabel is a number or date on an axis, where it stands and how it
// is anchored ("start", "middle", "end").
type axisLabel struct {
	X, Y   float64
	Text   string
	Anchor string
}

// round1 keeps one decimal: enough for a crisp bar, short in the HTML.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// niceCeil is the smallest of 1, 2 or 5 times a power of ten (at least
// 2, so the axis' middle tick is whole) at or above n.
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// dayChart draws downloads per day: one bar a day, the y axis at 0, half
// and the top, the first, middle and last days named below.
func dayChart(t *i18n.Printer, days []hub.DayDownloads) *barChart {
	if len(days) == 0 {
		return nil
	}
	c := &barChart{Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartWidth - chartRight,
		Top: chartTop, Bottom: chartHeight - chartBottom}
	c.AxisY, c.AxisRight = c.Bottom, c.Right
	most := 0
	for _, d := range days {
		most = max(most, d.Requests)
	}
	top := niceCeil(most)
	plotW, plotH := float64(c.Right-c.Left), float64(c.Bottom-c.Top)
	slot := plotW / float64(len(days))
	w := min(max(slot*0.7, 1), maxBarWidth)
	for i, d := range days {
		h := plotH * float64(d.Requests) / float64(top)
		c.Bars = append(c.Bars, bar{
			X: round1(float64(c.Left) + float64(i)*slot + (slot-w)/2), W: round1(w),
			Y: round1(float64(c.Bottom) - h), H: round1(h),
			Title: t.N("reach.day_bar", d.Requests, "date", t.Date(d.Day)),
		})
	}
	for _, v := range []int{0, top / 2, top} {
		c.YTicks = append(c.YTicks, axisLabel{X: float64(c.Left - 8), Y: round1(float64(c.Bottom) - plotH*float64(v)/float64(top) + 4),
			Text: t.Number(v), Anchor: "end"})
	}
	label := func(i int, anchor string) {
		x := float64(c.Left) + (float64(i)+0.5)*slot
		switch anchor {
		case "start":
			x = float64(c.Left)
		case "end":
			x = float64(c.Right)
		}
		c.XLabels = append(c.XLabels, axisLabel{X: round1(x), Y: float64(c.Bottom + 22), Text: t.Date(days[i].Day), Anchor: anchor})
	}
	switch n := len(days); {
	case n == 1:
		label(0, "middle")
	case n < 5:
		label(0, "start")
		label(n-1, "end")
	default:
		label(0, "start")
		label(n/2, "middle")
		label(n-1, "end")
	}
	return c
}

// hbarChart is a horizontal bar chart: one row per group.
type hbarChart struct {
	Width, Height int
	LabelX        int
	Rows          []hbarRowView
}

// hbarRow is one group's name and figure.
type hbarRow struct {
	Label string
	Value int64
}

// hbarRowView is a row placed: its name, its bar and the figure beside it.
type hbarRowView struct {
	Label, Value, Title string
	LabelX              int
	Y, TextY, BarX, W   float64
	ValueX              float64
	H                   int
}

// newHbarChart draws rows, each bar's length its share of the largest;
// title says a row's figure in words. No rows, no chart.
func newHbarChart(t *i18n.Printer, rows []hbarRow, title func(label string, n int64) string) *hbarChart {
	if len(rows) == 0 {
		return nil
	}
	c := &hbarChart{Width: hbarWidth, Height: len(rows)*hbarRowHeight + 8, LabelX: hbarLabelWidth - 10}
	var most int64
	for _, r := range rows {
		most = max(most, r.Value)
	}
	span := float64(hbarWidth - hbarLabelWidth - hbarValueWidth)
	for i, r := range rows {
		w := 0.0
		if most > 0 && r.Value > 0 {
			w = max(span*float64(r.Value)/float64(most), 1)
		}
		y := float64(i*hbarRowHeight + 4)
		c.Rows = append(c.Rows, hbarRowView{
			Label: r.Label, Value: t.Number(int(r.Value)), Title: title(r.Label, r.Value), LabelX: c.LabelX,
			Y: y, TextY: y + 16, BarX: hbarLabelWidth, W: round1(w), H: hbarRowHeight - 8,
			ValueX: round1(hbarLabelWidth + w + 8),
		})
	}
	return c
}
