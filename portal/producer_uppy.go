package portal

import (
	"strconv"

	"github.com/syndication-hub/hub/portal/i18n"
)

// The drag-and-drop uploader's strings come from the portal's catalogs
// (keys "uppy.<its key>"): its own locales lack Kazakh and Kyrgyz. Only
// the strings of what the studio uses are there (the dashboard, its
// status bar, the restrictions and the upload's errors); a string
// missing shows in its English default.

// uppyStrings are its plain strings. A button's label must contain its
// visible text (addMoreFiles contains addMore), or screen reader users
// who say what they see cannot press it.
var uppyStrings = []string{
	"addMore", "addMoreFiles", "addingMoreFiles", "back", "browseFiles", "cancel", "cancelUpload", "complete",
	"connectedToInternet", "dashboardTitle", "dataUploadedOfTotal", "done", "dropHint", "dropPasteFiles", "editFile",
	"editFileWithFilename", "editing", "error", "exceedsSize", "failedToUpload", "finishEditingFile",
	"noDuplicates", "noInternetConnection", "pause", "pauseUpload", "paused", "pleaseWait", "removeFile", "resume",
	"resumeUpload", "retry", "retryUpload", "save", "saveChanges", "showErrorDetails", "upload", "uploadComplete",
	"uploadFailed", "uploadPaused", "uploading", "xTimeLeft", "youCanOnlyUploadFileTypes",
}

// uppyPlurals are its strings with a count (%{smart_count}).
var uppyPlurals = []string{
	"filesUploadedOfTotal", "uploadXFiles", "uploadXNewFiles", "uploadingXFiles", "xFilesSelected", "xMoreFilesAdded",
}

// uppyForms are the catalog's plural forms in the order of the
// uploader's indexes, and the rule producer.js picks an index by: "ru"
// (one, few, many) or "one" (one, other).
func uppyForms(l i18n.Lang) (forms []string, rule string) {
	if l == i18n.RU {
		return []string{"one", "few", "many"}, "ru"
	}
	return []string{"one", "other"}, "one"
}

// uppyLocale is the uploader's locale in t's language, for the page's
// JSON data block.
func uppyLocale(t *i18n.Printer) map[string]any {
	strs := map[string]any{}
	for _, k := range uppyStrings {
		strs[k] = t.T("uppy." + k)
	}
	forms, rule := uppyForms(t.Lang())
	for _, k := range uppyPlurals {
		m := map[string]string{}
		for i, f := range forms {
			m[strconv.Itoa(i)] = t.T("uppy." + k + "#" + f)
		}
		strs[k] = m
	}
	return map[string]any{"strings": strs, "plural": rule, "note": t.T("studio.upload.note")}
}
