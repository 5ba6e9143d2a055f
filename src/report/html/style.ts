/** The report's stylesheet: system fonts only (no web fonts to fetch), print-friendly. */
export const STYLE = `
:root { --fg: #1d1d1f; --muted: #5a5a60; --line: #d6d6da; --bg-soft: #f6f6f8; --err: #B3261E; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
main, header.page, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header.page { padding-top: 20px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 6px; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 13px; }
.sub { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
.answer { border: 2px solid var(--sev, #555); border-radius: 8px; padding: 14px 18px; margin: 16px 0; background: #fff; }
.answer h2 { border: 0; margin: 0 0 6px; padding: 0; font-size: 14px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.answer .primary { font-size: 19px; font-weight: 600; margin: 0 0 6px; overflow-wrap: anywhere; }
.answer .where { margin: 0; color: var(--muted); overflow-wrap: anywhere; }
.badge { display: inline-block; min-width: 64px; text-align: center; padding: 1px 8px; margin-right: 8px; border-radius: 4px; color: #fff; background: var(--sev, #555); font-size: 12px; font-weight: 700; letter-spacing: .04em; text-transform: uppercase; vertical-align: 2px; }
.sev-critical { --sev: #7A0010; } .sev-high { --sev: #B3261E; } .sev-medium { --sev: #8A5300; } .sev-low { --sev: #1F5F99; } .sev-info { --sev: #55555B; }
.warnings { list-style: none; padding: 0; margin: 12px 0; }
.warnings li { border-left: 4px solid #8A5300; background: #FFF6E5; padding: 6px 10px; margin: 4px 0; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 10px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.files { margin: 2px 0 4px; padding-left: 18px; } ul.files li { margin: 0; }
ol.findings { padding-left: 22px; } ol.findings > li { margin: 10px 0; }
.finding .summary { font-weight: 600; overflow-wrap: anywhere; }
.finding .where { color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
details { margin: 4px 0; } summary { cursor: pointer; color: #1F5F99; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; max-width: 380px; overflow-wrap: anywhere; }
thead th { background: var(--bg-soft); font-weight: 600; }
td.text { text-align: left; overflow-wrap: anywhere; max-width: 640px; }
tr.sub td:first-child { padding-left: 26px; color: var(--muted); }
table.evidence td, table.evidence th { text-align: left; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; border: 1px solid rgba(0,0,0,.25); }
.bar { display: flex; height: 22px; border: 1px solid #9a9aa0; border-radius: 3px; overflow: hidden; background: #fff; max-width: 900px; }
.bar span { display: block; height: 100%; min-width: 0; border-right: 1px solid rgba(255,255,255,.7); }
.bar span.idle { background-image: repeating-linear-gradient(45deg, rgba(0,0,0,.10) 0 3px, transparent 3px 7px); }
.bar span.sub { opacity: .7; background-image: repeating-linear-gradient(-45deg, rgba(255,255,255,.35) 0 2px, transparent 2px 6px); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; color: var(--muted); margin: 6px 0; }
.stats { color: var(--muted); margin: 0 0 6px; }
.kind { color: var(--muted); font-weight: 400; font-size: 14px; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px 20px; }
figure { margin: 0; } figcaption { font-size: 13px; font-weight: 600; overflow-wrap: anywhere; }
figure.series { max-width: 760px; margin: 6px 0; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: inherit; }
button { font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid #8a8a90; border-radius: 4px; background: var(--bg-soft); cursor: pointer; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; padding-bottom: 24px; border-top: 1px solid var(--line); padding-top: 8px; overflow-wrap: anywhere; }
@media print {
  body { font-size: 12px; }
  button, #copy-status { display: none !important; }
  h2 { break-after: avoid; } article, figure, table, .answer, svg { break-inside: avoid; }
  main, header.page, footer { max-width: none; padding: 0; }
}
`
