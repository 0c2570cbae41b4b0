package hub

import (
	"bytes"
	"mime"
	"strings"
	"time"

	"github.com/gabriel-vasile/mimetype"
)

// AssetType is the ninjs type of an asset.
type AssetType string

// Asset types, as ninjs names them.
const (
	AssetPicture AssetType = "picture"
	AssetGraphic AssetType = "graphic"
	AssetVideo   AssetType = "video"
	AssetAudio   AssetType = "audio"
	AssetText    AssetType = "text"
)

// AssetTypes lists every asset type, in the order documentation shows them.
var AssetTypes = []AssetType{AssetPicture, AssetGraphic, AssetVideo, AssetAudio, AssetText}

// ParseAssetType returns the AssetType named s, or EINVALID.
func ParseAssetType(s string) (AssetType, error) {
	for _, t := range AssetTypes {
		if string(t) == s {
			return t, nil
		}
	}
	return "", Errorf(EINVALID, "asset type %q is not one of picture, graphic, video, audio, text", s)
}

// Asset is one file of a package: a poster, an infographic, an interview.
// Its bytes live in the blob store under BlobKey, which the hub generated;
// Name is only a label and a download file name.
type Asset struct {
	Name        string    `json:"name"`
	Type        AssetType `json:"type"`
	ContentType string    `json:"contenttype"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	BlobKey     string    `json:"blobkey"`
	Caption     string    `json:"caption,omitempty"`
	Credit      string    `json:"credit,omitempty"`
	Language    string    `json:"language,omitempty"`
	Primary     bool      `json:"primary,omitempty"`
	Uploaded    time.Time `json:"uploaded"`
	// AltText describes a picture or graphic for people who cannot see
	// it: feeds and the portal carry it.
	AltText string `json:"alttext,omitempty"`
	// Captions, on a WebVTT or SRT asset, names the video or audio of the
	// package it captions.
	Captions string `json:"captions,omitempty"`
	// Scrub is how the stored bytes were scrubbed; "" for assets stored
	// before the hub scrubbed anything.
	Scrub ScrubLevel `json:"scrub,omitempty"`
	// Received is the digest of the bytes the client sent, which hub push
	// compares its files with; SHA256 and Size are those of the stored,
	// scrubbed bytes. Producers only: released versions do not carry it.
	Received *Digest `json:"received,omitempty"`
	// Source, on an asset of a released version, is the SHA-256 of the
	// stored bytes its own were made from by writing the release's
	// credit into them (SHA256 and Size are the credited bytes'): their
	// renditions and scrub report are the asset's. It is the digest of
	// bytes the hub stored, never of what a client sent.
	Source string `json:"source,omitempty"`
}

// ScrubLevel is how an asset's bytes were scrubbed.
type ScrubLevel string

const (
	// ScrubStandard removed locations and device identifiers.
	ScrubStandard ScrubLevel = "standard"
	// ScrubAnonymized removed those and names, dates, software and
	// comments too, as an anonymized package needs.
	ScrubAnonymized ScrubLevel = "anonymized"
	// ScrubNotParsed means the bytes are stored as received: the hub could
	// not read the file (never in an anonymized package).
	ScrubNotParsed ScrubLevel = "not_parsed"
)

// Level is the scrub level a policy gives.
func (p ScrubPolicy) Level() ScrubLevel {
	if p.Anonymized {
		return ScrubAnonymized
	}
	return ScrubStandard
}

// allowedContentTypes is the allow-list per asset type, by media type
// without parameters. A picture is a photo or a poster; a graphic an
// infographic, which may also come as PDF or SVG; a text an article.
var allowedContentTypes = map[AssetType][]string{
	AssetPicture: {"image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff", "image/bmp", "image/heic", "image/heif", "image/avif", "image/jxl"},
	AssetGraphic: {"image/svg+xml", "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "image/avif"},
	AssetVideo: {"video/mp4", "video/quicktime", "video/x-m4v", "video/webm", "video/matroska", "video/mpeg", "video/x-msvideo",
		"video/3gpp", "video/3gpp2", "video/ogg", "video/x-ms-asf", "video/x-flv", "application/mxf"},
	AssetAudio: {"audio/mpeg", "audio/wav", "audio/x-m4a", "audio/mp4", "audio/aac", "audio/flac", "audio/ogg", "audio/aiff", "audio/amr", "audio/webm"},
	AssetText: {"text/plain", "text/rtf", "application/pdf", "application/msword",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.oasis.opendocument.text",
		"text/vtt", "application/x-subrip"},
}

// SniffLength is how many leading bytes SniffContentType wants to see.
const SniffLength = 3072

// mxfHeader is the start of an MXF header partition pack key (SMPTE 377M).
// mimetype does not know MXF, the broadcast master format TV stations send.
var mxfHeader = []byte{0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0d, 0x01, 0x02, 0x01, 0x01}

// SniffContentType returns the media type of a file from its first bytes;
// what the uploader claims is ignored, because a mislabelled file is how a
// script ends up served as a poster.
func SniffContentType(head []byte) string {
	if bytes.HasPrefix(head, mxfHeader) {
		return "application/mxf"
	}
	return mimetype.Detect(head).String()
}

// InferAssetType picks the asset type for a sniffed content type.
func InferAssetType(contentType string) (AssetType, bool) {
	base := baseMediaType(contentType)
	switch {
	case base == "image/svg+xml" || base == "application/pdf":
		return AssetGraphic, true
	case strings.HasPrefix(base, "image/"):
		return AssetPicture, true
	case strings.HasPrefix(base, "video/") || base == "application/mxf":
		return AssetVideo, true
	case strings.HasPrefix(base, "audio/"):
		return AssetAudio, true
	}
	for _, ct := range allowedContentTypes[AssetText] {
		if base == ct {
			return AssetText, true
		}
	}
	return "", false
}

// CheckAssetContent decides the asset type for an upload: the type the
// uploader asked for (may be "") and the sniffed content type. Returns
// EUNSUPPORTED when the content is not allowed for that type.
func CheckAssetContent(requested AssetType, contentType string) (AssetType, error) {
	t := requested
	if t == "" {
		inferred, ok := InferAssetType(contentType)
		if !ok {
			return "", Errorf(EUNSUPPORTED, "the file looks like %s, which is not a picture, graphic, video, audio or text the hub accepts", baseMediaType(contentType))
		}
		t = inferred
	}
	base := baseMediaType(contentType)
	for _, ct := range allowedContentTypes[t] {
		if ct == base {
			return t, nil
		}
	}
	return "", Errorf(EUNSUPPORTED, "the file looks like %s, which is not allowed for a %s asset (allowed: %s)", base, t, strings.Join(allowedContentTypes[t], ", "))
}

func baseMediaType(contentType string) string {
	base, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType
	}
	return base
}
