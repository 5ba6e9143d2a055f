/**
 * The report's only script: a "copy findings" button and opening the evidence
 * before printing. The page works without it; the button stays hidden then.
 * It is allowed by its sha256 in the CSP, so no other inline script can run.
 */
export const SCRIPT = `(function () {
  'use strict';
  var data = null;
  function load() {
    if (data === null) {
      try { data = JSON.parse(document.getElementById('vdiag-data').textContent || 'null') || {}; } catch (e) { data = {}; }
    }
    return data;
  }
  function findingsText() {
    var f = load().findings || [];
    if (!f.length) return 'vdiag: no findings.';
    return f.map(function (x, i) { return (i + 1) + '. [' + x.severity + '] ' + x.summary; }).join('\\n');
  }
  function fallbackCopy(text) {
    var ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }
  var button = document.getElementById('copy-findings');
  var status = document.getElementById('copy-status');
  function report(ok) { if (status) status.textContent = ok ? 'Copied.' : 'Could not copy: select the text instead.'; }
  if (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var text = findingsText();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { report(true); }, function () { report(fallbackCopy(text)); });
      } else {
        report(fallbackCopy(text));
      }
    });
  }
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  });
})();`
