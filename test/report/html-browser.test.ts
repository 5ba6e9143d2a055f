/**
 * The HTML report in Debian's headless Chromium: loads from file:// with no
 * console error and no request besides the page, shows the findings, never
 * runs injected script. Screenshots go to test-artifacts/ (git-ignored).
 */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {type BrowserContext, chromium} from 'playwright-core'
import type {AnalysisResult} from '../../src/analysis/types.js'
import {renderHtml} from '../../src/report/html.js'
import {packageRoot} from '../../src/util/paths.js'
import {HOSTILE, METRICS_SUMMARY, PRIMARY_SUMMARY, hostileResult, largeResult, metricsRichResult, slowSinkResult} from './html-fixtures.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = path.join(packageRoot, 'test-artifacts')
let tmp = ''
let context: BrowserContext | null = null

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'vdiag-html-'))
  await mkdir(ARTIFACTS, {recursive: true})
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: {width: 1280, height: 900},
    timeout: 60_000,
  })
})

after(async () => {
  await context?.close().catch(() => undefined)
  await rm(tmp, {recursive: true, force: true})
})

interface Loaded {
  page: import('playwright-core').Page
  requests: string[]
  blocked: string[]
  errors: string[]
  url: string
}

async function load(name: string, result: AnalysisResult): Promise<Loaded> {
  const file = path.join(tmp, `${name}.html`)
  await writeFile(file, renderHtml(result))
  const url = pathToFileURL(file).href
  const page = await context!.newPage()
  const requests: string[] = []
  const blocked: string[] = []
  const errors: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  await page.route('**/*', async (route) => {
    if (route.request().url() === url) return route.continue()
    blocked.push(route.request().url())
    return route.abort()
  })
  await page.goto(url, {waitUntil: 'load', timeout: 30_000})
  return {page, requests, blocked, errors, url}
}

const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed'

test('html in chromium: slow-sink report loads offline, shows the answer', {timeout: 120_000, skip}, async () => {
  const {page, requests, blocked, errors, url} = await load('slow-sink', slowSinkResult())
  try {
    assert.deepEqual(requests, [url], 'the page itself is the only request')
    assert.deepEqual(blocked, [])
    assert.deepEqual(errors, [])
    await assert.doesNotReject(page.getByText(PRIMARY_SUMMARY).first().waitFor({state: 'visible', timeout: 5_000}))
    const answer = page.locator('#answer')
    assert.ok((await answer.innerText()).includes(PRIMARY_SUMMARY))
    // The answer is on the first screen.
    const box = await answer.boundingBox()
    assert.ok(box !== null && box.y + box.height < 900, `answer at y=${box?.y}`)
    // Every section drew something.
    assert.equal(await page.locator('#topology svg rect').count() >= 3, true)
    assert.ok((await page.locator('#timeline svg rect').count()) > 300)
    assert.equal(await page.locator('#metrics svg polyline').count(), 6)
    assert.ok((await page.locator('#stages .bar span').count()) >= 10)
    // The report script ran under the CSP (its hash matched): the copy button is shown, and works.
    const button = page.locator('#copy-findings')
    assert.equal(await button.isVisible(), true)
    await context!.grantPermissions(['clipboard-read', 'clipboard-write'])
    await button.click()
    await page.locator('#copy-status').filter({hasText: /Copied|Could not copy/}).waitFor({timeout: 5_000})
    const status = await page.locator('#copy-status').innerText()
    if (status === 'Copied.') {
      const copied = (await page.evaluate('navigator.clipboard.readText()')) as string
      assert.equal(copied.split('\n')[0], `1. [high] ${PRIMARY_SUMMARY}`)
    }
    await page.screenshot({path: path.join(ARTIFACTS, 'html-report-slow-sink.png'), fullPage: true})
    await page.emulateMedia({media: 'print'})
    await page.screenshot({path: path.join(ARTIFACTS, 'html-report-slow-sink-print.png'), fullPage: true})
    assert.deepEqual(errors, [])
  } finally {
    await page.close()
  }
})

test('html in chromium: hostile strings never run, and show as text', {timeout: 120_000, skip}, async () => {
  const result = hostileResult()
  const {page, requests, blocked, errors, url} = await load('hostile', result)
  try {
    assert.deepEqual(requests, [url])
    assert.deepEqual(blocked, [], 'no <img src=x> or other fetch was attempted')
    assert.deepEqual(errors, [])
    assert.equal(await page.evaluate('window.__pwned'), undefined)
    assert.equal(await page.locator('img').count(), 0)
    assert.equal(await page.locator('script').count(), 2)
    const answer = await page.locator('#answer').innerText()
    assert.ok(answer.includes(HOSTILE), 'the hostile id is shown literally')
    // Parsed in the page (it must be valid there), compared in Node: Playwright's own
    // transfer would turn the hostile `__proto__` key into a prototype.
    const text = (await page.evaluate("JSON.stringify(JSON.parse(document.getElementById('vdiag-data').textContent))")) as string
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(result)))
    await page.screenshot({path: path.join(ARTIFACTS, 'html-report-hostile.png'), fullPage: true})
  } finally {
    await page.close()
  }
})

test('html in chromium: large timelines stay drawable', {timeout: 120_000, skip}, async () => {
  const {page, errors, requests, url} = await load('large', largeResult())
  try {
    assert.deepEqual(requests, [url])
    assert.deepEqual(errors, [])
    await page.getByText(/40,000 iterations drawn as \d+ time columns/).first().waitFor({state: 'visible', timeout: 5_000})
    await page.screenshot({path: path.join(ARTIFACTS, 'html-report-large.png'), fullPage: true})
  } finally {
    await page.close()
  }
})

test('html in chromium: utilization and errors charts of a metrics-only bundle', {timeout: 120_000, skip}, async () => {
  const {page, errors, requests, url} = await load('metrics-rich', metricsRichResult())
  try {
    assert.deepEqual(requests, [url])
    assert.deepEqual(errors, [])
    assert.ok((await page.locator('#answer').innerText()).includes(METRICS_SUMMARY))
    const util = page.locator('#metrics figure.series').first()
    await util.waitFor({state: 'visible', timeout: 5_000})
    assert.equal(await util.locator('svg polyline').count(), 3)
    const box = await util.locator('svg').boundingBox()
    assert.ok(box !== null && box.width > 300 && box.height > 80, JSON.stringify(box))
    await page.getByText('journalctl is not installed').first().waitFor({state: 'visible', timeout: 5_000})
    await page.screenshot({path: path.join(ARTIFACTS, 'html-report-metrics.png'), fullPage: true})
  } finally {
    await page.close()
  }
})
