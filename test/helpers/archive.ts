/** Checks bundles with the system's own tar and unzip, independently of vdiag's reader. */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, readdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {Manifest} from '../../src/bundle/format.js'

export function extractWithSystemTools(archive: string): {root: string; top: string; listing: string[]} {
  const dest = mkdtempSync(path.join(os.tmpdir(), 'vdiag-test-extract-'))
  let listing: string[]
  if (archive.endsWith('.zip')) {
    execFileSync('unzip', ['-t', '-q', archive])
    listing = execFileSync('unzip', ['-Z1', archive], {encoding: 'utf8'}).split('\n').filter(Boolean)
    execFileSync('unzip', ['-q', archive, '-d', dest])
  } else {
    listing = execFileSync('tar', ['-tzf', archive], {encoding: 'utf8'}).split('\n').filter(Boolean)
    execFileSync('tar', ['-xzf', archive, '-C', dest])
  }
  const tops = readdirSync(dest)
  if (tops.length !== 1) throw new Error(`expected one top folder, got ${tops.join(', ')}`)
  return {root: path.join(dest, tops[0]), top: tops[0], listing}
}

export function readManifest(root: string): Manifest {
  return JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')) as Manifest
}

/** Every file the manifest lists exists with that size and sha256. Returns the mismatches. */
export function checksumMismatches(root: string, manifest: Manifest): string[] {
  const bad: string[] = []
  for (const f of manifest.files) {
    const data = readFileSync(path.join(root, f.path))
    const sha = createHash('sha256').update(data).digest('hex')
    if (sha !== f.sha256 || data.length !== f.size) bad.push(f.path)
  }
  return bad
}
