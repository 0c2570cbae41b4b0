package hub

import (
	"context"
	"io"
)

// DigestForTest drains r through a digestReader in reads of readSize and
// returns the hex SHA-256 and the count.
func DigestForTest(r io.Reader, readSize int) (string, int64, error) {
	d := newDigestReader(r, 1<<40)
	buf := make([]byte, readSize)
	for {
		_, err := d.Read(buf)
		if err == io.EOF {
			break
		} else if err != nil {
			d.Close()
			return "", 0, err
		}
	}
	return d.Sum(), d.n, nil
}

// CreditForTest credits p's pictures and stores them, as a release does
// before it writes the package, and stops there: the state a process
// killed between the two leaves.
func (s *Service) CreditForTest(ctx context.Context, p *Package) error {
	_, err := s.prepareCredits(ctx, p)
	return err
}

// SearchAsForTest is Search as audience a (which need not have a key in
// the catalog), for the differential test of search against CanRead.
func (s *Service) SearchAsForTest(ctx context.Context, a Audience, text string, filters PackageQuery, limit int) (SearchPage, error) {
	return s.searchAs(ctx, a, text, 0, limit, filters)
}
