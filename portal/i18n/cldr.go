package i18n

import (
	"strconv"
	"strings"
	"time"
)

// The month and weekday names and the date patterns below are taken from
// the Unicode CLDR, version 48.2.0 (npm cldr-dates-full@48.2.0,
// main/<locale>/ca-gregorian.json), the Gregorian calendar's "format"
// forms. Months run January to December, weekdays Sunday to Saturday.
// x/text has plural rules and numbers but no date formatting, hence these.

// dateTable is one language's names and patterns.
type dateTable struct {
	monthsWide, monthsAbbr [12]string
	daysWide               [7]string
	// medium is dateFormats.medium, time is timeFormats.short, dateTime
	// dateTimeFormats.medium ({1} the date, {0} the time).
	medium, time, dateTime string
	am, pm                 string
}

var dateTables = map[Lang]dateTable{
	KK: {
		monthsWide: [12]string{"қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"},
		monthsAbbr: [12]string{"қаң.", "ақп.", "нау.", "сәу.", "мам.", "мау.", "шіл.", "там.", "қыр.", "қаз.", "қар.", "жел."},
		daysWide:   [7]string{"жексенбі", "дүйсенбі", "сейсенбі", "сәрсенбі", "бейсенбі", "жұма", "сенбі"},
		medium:     "y 'ж'. dd MMM", time: "HH:mm", dateTime: "{1}, {0}",
	},
	KY: {
		monthsWide: [12]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"},
		monthsAbbr: [12]string{"янв.", "фев.", "мар.", "апр.", "май", "июн.", "июл.", "авг.", "сен.", "окт.", "ноя.", "дек."},
		daysWide:   [7]string{"жекшемби", "дүйшөмбү", "шейшемби", "шаршемби", "бейшемби", "жума", "ишемби"},
		medium:     "y-'ж'., d-MMM", time: "HH:mm", dateTime: "{1} {0}",
	},
	RU: {
		monthsWide: [12]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"},
		monthsAbbr: [12]string{"янв.", "февр.", "мар.", "апр.", "мая", "июн.", "июл.", "авг.", "сент.", "окт.", "нояб.", "дек."},
		daysWide:   [7]string{"воскресенье", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота"},
		medium:     "d MMM y 'г'.", time: "HH:mm", dateTime: "{1}, {0}",
	},
	EN: {
		monthsWide: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		monthsAbbr: [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
		daysWide:   [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		medium:     "MMM d, y", time: "h:mm a", dateTime: "{1}, {0}", am: "AM", pm: "PM",
	},
}

// formatCLDR formats t by a CLDR pattern, knowing the fields our
// patterns use: y, MMM, MMMM, d, dd, EEEE, HH, h, mm, a, and 'quoted'
// literals.
func formatCLDR(d dateTable, pattern string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			end := strings.IndexByte(pattern[i+1:], '\'')
			if end < 0 {
				b.WriteString(pattern[i+1:])
				break
			}
			b.WriteString(pattern[i+1 : i+1+end])
			i += end + 2
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		i += n
		switch {
		case c == 'y':
			b.WriteString(strconv.Itoa(t.Year()))
		case c == 'M' && n >= 4:
			b.WriteString(d.monthsWide[t.Month()-1])
		case c == 'M' && n == 3:
			b.WriteString(d.monthsAbbr[t.Month()-1])
		case c == 'd' && n == 2:
			b.WriteString(pad2(t.Day()))
		case c == 'd':
			b.WriteString(strconv.Itoa(t.Day()))
		case c == 'E':
			b.WriteString(d.daysWide[t.Weekday()])
		case c == 'H':
			b.WriteString(pad2(t.Hour()))
		case c == 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(strconv.Itoa(h))
		case c == 'm':
			b.WriteString(pad2(t.Minute()))
		case c == 'a':
			if t.Hour() < 12 {
				b.WriteString(d.am)
			} else {
				b.WriteString(d.pm)
			}
		}
	}
	return b.String()
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
