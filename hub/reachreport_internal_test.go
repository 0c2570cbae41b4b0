package hub

import (
	"testing"
	"time"
)

// TestDayRun: downloads by day run from the first day to the last, the
// days between at zero, in the report's zone, the newest MaxReachDays.
func TestDayRun(t *testing.T) {
	almaty := time.FixedZone("Asia/Almaty", 5*3600)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, almaty) }
	long := map[time.Time]int{}
	for i := range MaxReachDays + 10 {
		long[dayOf(day(1).AddDate(0, 0, i), almaty)] = 1
	}
	tests := []struct {
		name   string
		counts map[time.Time]int
		want   int // days
		first  time.Time
	}{
		{"none", nil, 0, time.Time{}},
		{"one day", map[time.Time]int{day(3): 4}, 1, day(3)},
		{"a gap", map[time.Time]int{day(3): 4, day(7): 1}, 5, day(3)},
		{"longer than the cap", long, MaxReachDays, day(11)},
	}
	for _, tt := range tests {
		got := dayRun(tt.counts, almaty)
		if len(got) != tt.want {
			t.Errorf("%s: %d days, want %d", tt.name, len(got), tt.want)
			continue
		}
		if tt.want > 0 && !got[0].Day.Equal(tt.first) {
			t.Errorf("%s: starts %v, want %v", tt.name, got[0].Day, tt.first)
		}
	}
	if got := dayRun(map[time.Time]int{day(3): 4, day(5): 2}, almaty); got[1].Requests != 0 || got[2].Requests != 2 {
		t.Errorf("a gap day: %+v", got)
	}
	// 20:30 UTC on the 2nd is the 3rd in Almaty.
	if d := dayOf(time.Date(2026, 3, 2, 20, 30, 0, 0, time.UTC), almaty); !d.Equal(day(3)) {
		t.Errorf("dayOf: %v", d)
	}
}
