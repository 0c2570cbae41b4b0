package credit

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"slices"
	"unicode/utf8"
)

// IPTC IIM, in the Photoshop image resources of a JPEG's APP13: written
// only where the picture has an IIM record already (older newsroom
// systems read it and nothing else; a picture without one was not meant
// for them). 2:110 is the credit, 2:116 the copyright notice, and 1:90
// says the record is UTF-8 (ESC % G), which the values need. IIM has no
// usage terms. A block the writer cannot read is left as it is.

const sigPhotoshop = "Photoshop 3.0\x00"

var utf8Charset = []byte("\x1b%G")

// editPhotoshop returns the resource block after "Photoshop 3.0\0" with v
// written into its IIM record, or same when it has no IIM record, holds v
// already, or cannot be read.
func editPhotoshop(b []byte, v values) (out []byte, same bool) {
	type resource struct {
		id         uint16
		head, data []byte // head: signature, id, name, size
	}
	var res []resource
	for len(b) > 0 {
		if len(b) < 12 || string(b[:4]) != "8BIM" {
			if allZero(b) {
				break
			}
			return nil, true
		}
		name := 1 + int(b[6])
		name += name % 2
		if 6+name+4 > len(b) {
			return nil, true
		}
		size := uint64(binary.BigEndian.Uint32(b[6+name:]))
		start := 6 + name + 4
		if size > uint64(len(b)-start) {
			return nil, true
		}
		end := start + int(size)
		res = append(res, resource{id: binary.BigEndian.Uint16(b[4:]), head: b[:start], data: b[start:end]})
		if end%2 == 1 && end < len(b) {
			end++
		}
		b = b[end:]
	}
	i := slices.IndexFunc(res, func(r resource) bool { return r.id == 0x0404 })
	if i < 0 {
		return nil, true
	}
	iim, same := editIIM(res[i].data, v)
	if same {
		return nil, true
	}
	res[i].data = iim
	var w bytes.Buffer
	for _, r := range res {
		data := r.data
		if r.id == 0x0425 && len(data) == md5.Size {
			// The IPTC digest: how Photoshop tells an IIM record edited by
			// others from its own.
			sum := md5.Sum(iim)
			data = sum[:]
		}
		w.Write(r.head[:len(r.head)-4])
		w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
		w.Write(data)
		if len(data)%2 == 1 {
			w.WriteByte(0)
		}
	}
	return w.Bytes(), false
}

// dataset is one IIM dataset.
type dataset struct {
	rec, ds byte
	val     []byte
}

// editIIM returns the IIM record d with v's credit and copyright notice,
// or same when it holds them already or cannot be read.
func editIIM(d []byte, v values) ([]byte, bool) {
	var sets []dataset
	for len(d) > 0 {
		if d[0] != 0x1C {
			if allZero(d) {
				break
			}
			return nil, true
		}
		if len(d) < 5 {
			return nil, true
		}
		n, hdr := int(binary.BigEndian.Uint16(d[3:])), 5
		if n&0x8000 != 0 {
			k := n & 0x7FFF
			if k == 0 || k > 4 || len(d) < 5+k {
				return nil, true
			}
			n = 0
			for _, c := range d[5 : 5+k] {
				n = n<<8 | int(c)
			}
			hdr += k
		}
		if n < 0 || n > len(d)-hdr {
			return nil, true
		}
		sets = append(sets, dataset{rec: d[1], ds: d[2], val: d[hdr : hdr+n]})
		d = d[hdr+n:]
	}
	isUTF8 := slices.ContainsFunc(sets, func(s dataset) bool { return s.rec == 1 && s.ds == 90 && bytes.Equal(s.val, utf8Charset) })
	want := map[byte]string{110: v.credit, 116: v.rights}
	same := isUTF8 || (ascii(v.credit) && ascii(v.rights))
	for ds, text := range want {
		if text == "" {
			continue
		}
		i := slices.IndexFunc(sets, func(s dataset) bool { return s.rec == 2 && s.ds == ds })
		same = same && i >= 0 && string(sets[i].val) == text
	}
	if same {
		return nil, true
	}
	out := sets[:0:0]
	for _, s := range sets {
		switch {
		case s.rec == 1 && s.ds == 90:
			continue // written anew below
		case s.rec == 2 && want[s.ds] != "":
			continue
		case !isUTF8 && !utf8.Valid(s.val):
			s.val = latin1ToUTF8(s.val) // the record is UTF-8 from now on
		}
		out = append(out, s)
	}
	out = append(out, dataset{rec: 1, ds: 90, val: utf8Charset})
	for _, ds := range []byte{110, 116} {
		if want[ds] != "" {
			out = append(out, dataset{rec: 2, ds: ds, val: []byte(want[ds])})
		}
	}
	// Datasets go in record and number order; repeated ones (keywords)
	// keep theirs.
	slices.SortStableFunc(out, func(a, b dataset) int {
		return int(a.rec)<<8 + int(a.ds) - (int(b.rec)<<8 + int(b.ds))
	})
	var w bytes.Buffer
	for _, s := range out {
		w.Write([]byte{0x1C, s.rec, s.ds})
		if n := len(s.val); n < 0x8000 {
			w.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
		} else {
			w.Write([]byte{0x80, 4})
			w.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
		}
		w.Write(s.val)
	}
	return w.Bytes(), false
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func latin1ToUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)*2)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
