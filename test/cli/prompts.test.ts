/**
 * The guided flow's questions, driven with @inquirer/testing's render() (its
 * `screen` API needs vitest/jest module mocking, so it is not used here).
 */
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {render} from '@inquirer/testing'
import {pickPipeline} from '../../src/cli/guided/pick.js'
import {askConsent, CONSENT_QUESTION} from '../../src/cli/guided/consent.js'
import type {CapturePlanView} from '../../src/capture/options.js'

const T = {timeout: 20_000}
const CTRL_C = {name: 'c', ctrl: true}

const two = [
  {url: 'http://127.0.0.1:8686', sources: ['default address', 'vector (pid 42)']},
  {url: 'http://127.0.0.1:40123', sources: ['VECTOR_API_ADDRESS']},
]

const plan: CapturePlanView = {
  api: 'http://127.0.0.1:8686',
  lines: [
    'internal tracing at level info for 30s (the pipeline switches it off by itself at the end, even if vdiag is killed)',
    'component metrics every 10s, plus host facts (OS, CPU, memory, load, disks)',
    'secrets are redacted before anything is written (rules and counts in manifest.json)',
    'one file, about 1.2 MiB or less: /tmp/case.tar.gz',
  ],
  output: '/tmp/case.tar.gz',
  estimated_bytes: 1_200_000,
}

describe('which pipeline', () => {
  test('several: a list naming each address and why it is there; arrows and enter choose', T, async () => {
    const {answer, events, getScreen} = await render(pickPipeline, {pipelines: two})
    const screen = getScreen()
    assert.match(screen, /2 pipelines answer on this host\. Which one should vdiag capture from\?/)
    assert.match(screen, /❯ http:\/\/127\.0\.0\.1:8686 {2}\(default address, vector \(pid 42\)\)/)
    assert.match(screen, /^ {2}http:\/\/127\.0\.0\.1:40123 {2}\(VECTOR_API_ADDRESS\)$/m)
    events.keypress('down')
    assert.match(getScreen(), /❯ http:\/\/127\.0\.0\.1:40123/)
    events.keypress('enter')
    assert.equal(await answer, 'http://127.0.0.1:40123')
    assert.match(getScreen(), /capture from\? http:\/\/127\.0\.0\.1:40123$/)
  })

  test('one: a yes/no question, yes by default', T, async () => {
    const {answer, events, getScreen} = await render(pickPipeline, {pipelines: [two[1]]})
    assert.equal(getScreen(), '? Capture from the pipeline at http://127.0.0.1:40123 (VECTOR_API_ADDRESS)? (Y/n)')
    events.keypress('enter')
    assert.equal(await answer, 'http://127.0.0.1:40123')
  })

  test('one, answered no: null', T, async () => {
    const {answer, events} = await render(pickPipeline, {pipelines: [two[1]]})
    events.type('n')
    events.keypress('enter')
    assert.equal(await answer, null)
  })

  test('Ctrl-C: null, not an exception', T, async () => {
    const {answer, events} = await render(pickPipeline, {pipelines: two})
    events.keypress(CTRL_C)
    assert.equal(await answer, null)
  })
})

describe('consent', () => {
  test('shows the whole plan above the question; enter means yes', T, async () => {
    const {answer, events, getScreen, getFullOutput} = await render(askConsent, {plan})
    assert.equal(getScreen(), `? ${CONSENT_QUESTION} (Y/n)`)
    const full = await getFullOutput()
    assert.match(full, /vdiag will collect from http:\/\/127\.0\.0\.1:8686:/)
    for (const line of plan.lines) assert.ok(full.includes(`  - ${line}`), `plan line missing: ${line}\n${full}`)
    assert.ok(full.indexOf('secrets are redacted') < full.indexOf(CONSENT_QUESTION), 'plan comes before the question')
    events.keypress('enter')
    assert.equal(await answer, true)
  })

  test('no: false', T, async () => {
    const {answer, events, getScreen} = await render(askConsent, {plan})
    events.type('n')
    events.keypress('enter')
    assert.equal(await answer, false)
    assert.equal(getScreen(), `✔ ${CONSENT_QUESTION} No`)
  })

  test('an unclear answer is asked again, not taken as yes', T, async () => {
    const {answer, events, getScreen, nextRender} = await render(askConsent, {plan})
    events.type('maybe')
    events.keypress('enter')
    await nextRender()
    assert.match(getScreen(), /You must answer with "Yes" or "No"/)
    for (let i = 0; i < 'maybe'.length; i++) events.keypress('backspace')
    events.type('y')
    events.keypress('enter')
    assert.equal(await answer, true)
  })

  test('Ctrl-C: false (runCapture then switches nothing on)', T, async () => {
    const {answer, events} = await render(askConsent, {plan})
    events.keypress(CTRL_C)
    assert.equal(await answer, false)
  })
})
