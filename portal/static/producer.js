// The studio's script: the drag-and-drop uploader (resumable, one
// progress bar per file) on a package page, and the producer's time zone
// for an embargo. The page works without it: the plain upload form and
// an embargo read as UTC.
(function () {
  'use strict';

  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  // The offset, in minutes east of UTC, of the zone the browser is in at
  // the date and time typed: the server reads the embargo in it.
  function zoneOffset(value) {
    var d = value ? new Date(value) : new Date();
    if (isNaN(d.getTime())) d = new Date();
    return -d.getTimezoneOffset();
  }

  function offsetName(minutes) {
    var sign = minutes < 0 ? '-' : '+';
    var m = Math.abs(minutes);
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return 'UTC' + sign + pad(Math.floor(m / 60)) + ':' + pad(m % 60);
  }

  var embargo = document.getElementById('embargo-input');
  var tz = document.getElementById('tz');
  if (embargo && tz) {
    var update = function () {
      var off = zoneOffset(embargo.value);
      tz.value = String(off);
      var help = document.getElementById('tz-help');
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
      if (help) help.textContent = (help.dataset.zoneText || '').replace('{zone}', (zone ? zone + ', ' : '') + offsetName(off));
    };
    embargo.addEventListener('input', update);
    embargo.form.addEventListener('submit', update);
    update();
  }

  var area = document.getElementById('uppy-area');
  var data = document.getElementById('uppy-strings');
  if (!area || !data || typeof Uppy === 'undefined') return;
  var locale = JSON.parse(data.textContent);
  // Plural indexes as the catalog's forms are ordered (producer_uppy.go).
  var pluralize = locale.plural === 'ru' ? function (n) {
    var m10 = n % 10, m100 = n % 100;
    if (m10 === 1 && m100 !== 11) return 0;
    if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return 1;
    return 2;
  } : function (n) { return n === 1 ? 0 : 1; };

  var type = document.getElementById('uppy-type');
  var uppy = new Uppy.Uppy({
    locale: { strings: locale.strings, pluralize: pluralize },
    meta: { package: area.dataset.package },
    restrictions: { maxFileSize: Number(area.dataset.max) || null },
    autoProceed: false
  });
  uppy.use(Uppy.Dashboard, {
    inline: true,
    target: '#uppy',
    width: '100%',
    height: 320,
    showProgressDetails: true,
    proudlyDisplayPoweredByUppy: false,
    disableThumbnailGenerator: true,
    note: locale.note,
    theme: 'light'
  });
  uppy.use(Uppy.Tus, {
    endpoint: area.dataset.endpoint,
    chunkSize: Number(area.dataset.chunk),
    headers: { 'X-CSRF-Token': csrf },
    // The hub reads package, name and type (an asset type, not the file's
    // media type, which it sniffs itself).
    allowedMetaFields: ['package', 'name', 'type'],
    removeFingerprintOnSuccess: true,
    // A producer on a flaky connection, or uploading while the hub
    // restarts, would rather the upload wait a minute and go on from
    // where it stopped than fail and ask to be retried: about 70 s of
    // attempts (each failed attempt's wait is the next delay; an attempt
    // that moved the file on starts the list again). After that the
    // dashboard's retry button is there.
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000]
  });
  uppy.on('file-added', function (file) {
    uppy.setFileMeta(file.id, { type: type ? type.value : '' });
  });
  if (type) {
    type.addEventListener('change', function () {
      uppy.getFiles().forEach(function (f) {
        if (!f.progress.uploadStarted) uppy.setFileMeta(f.id, { type: type.value });
      });
    });
  }
  // The hub answers a refusal as a problem document: show its sentence.
  uppy.on('upload-error', function (file, err, response) {
    var body = response && response.body;
    var raw = err && err.originalResponse && err.originalResponse.getBody && err.originalResponse.getBody();
    try {
      var problem = JSON.parse(raw || '');
      if (problem && problem.detail) uppy.info(file.name + ': ' + problem.detail, 'error', 10000);
    } catch (e) { /* not a problem document */ }
    return body;
  });
  // Once every file is stored, the page shows them with their scrub
  // reports.
  uppy.on('complete', function (result) {
    if (result.successful.length > 0 && result.failed.length === 0) {
      window.location.assign(window.location.pathname + '?done=uploaded');
    }
  });
  // With one file the dashboard lists it as a list item outside any
  // list (its list of many has role="list"): give its container the role,
  // as often as the dashboard draws it anew.
  var target = document.getElementById('uppy');
  var listRole = function () {
    target.querySelectorAll('.uppy-Dashboard-files:not([role])').forEach(function (el) {
      el.setAttribute('role', 'list');
    });
  };
  new MutationObserver(listRole).observe(target, { childList: true, subtree: true });
  listRole();
  area.hidden = false;
}());
