package scrub_test

import (
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/scrub"
)

// The containers only a remux scrubs: their tags go, their packets stay.
func TestScrubRemux(t *testing.T) {
	t.Parallel()
	tags := []string{"-metadata", "artist=ArtistAigerim", "-metadata", "comment=CommentSecret",
		"-metadata", "location=+43.2416+076.9453/", "-metadata", "make=CanonTest", "-metadata", "date=2024-03-01"}
	for _, c := range []struct {
		name, contentType string
		maps              []string
		args              []string
	}{
		{"planted.webm", "video/webm", []string{"0:v", "0:a"}, append(avTestsrc(), "-c:v", "libvpx", "-c:a", "libvorbis")},
		{"planted.mkv", "video/matroska", []string{"0:v", "0:a"}, append(avTestsrc(), "-c:v", "libx264", "-c:a", "aac",
			"-metadata:s:a:0", "title=StreamSecret")},
		{"planted.flac", "audio/flac", []string{"0:a"}, []string{"-f", "lavfi", "-i", "sine", "-t", "1"}},
		{"planted.ogg", "audio/ogg", []string{"0:a"}, []string{"-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "libvorbis"}},
	} {
		t.Run(c.contentType, func(t *testing.T) {
			path := avMake(t, c.name, append(c.args, tags...)...)
			s := avWithFFmpeg(t)
			res := avMustScrub(t, s, path, c.contentType, hub.ScrubPolicy{Anonymized: true})
			avGone(t, res, []string{"ArtistAigerim", "CommentSecret", "43.2416", "CanonTest", "2024-03-01", "StreamSecret", "Lavf5"},
				"Artist", "Comment", "Make", "Encoder", "GPSCoordinates")
			avRemoved(t, res.rep, "author", "comment", "GPS position")
			avSameFrames(t, path, res.path, true, c.maps...)

			_, err := avScrub(t, scrub.New(scrub.Options{}), path, c.contentType, hub.ScrubPolicy{})
			avNotParsed(t, err)
		})
	}
}
