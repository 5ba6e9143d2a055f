/**
 * The four ways a bundle can be refused, each a one-line VdiagError (exit 1)
 * with a hint saying what the person holding the bundle can do.
 */
import {VdiagError} from '../errors.js'
import {FORMAT_VERSION} from './format.js'

export function bundleUnsafe(message: string, details?: Record<string, unknown>): VdiagError {
  return new VdiagError('bundle_unsafe', message, {
    hint: 'The archive holds entries vdiag will not extract. Do not unpack it by hand; ask for a new bundle made with `vdiag capture`.',
    details,
  })
}

export function bundleCorrupt(message: string, details?: Record<string, unknown>): VdiagError {
  return new VdiagError('bundle_corrupt', message, {
    hint: 'The file is damaged or is not a vdiag bundle. Compare its size and sha256 with what the sender has, or ask for a new capture.',
    details,
  })
}

export function bundleChecksum(message: string, details?: Record<string, unknown>): VdiagError {
  return new VdiagError('bundle_checksum', message, {
    hint: 'The bundle no longer matches its manifest (damaged or edited after capture). Ask for it again, or use --no-verify to read it anyway.',
    details,
  })
}

export function bundleVersion(message: string, details?: Record<string, unknown>): VdiagError {
  return new VdiagError('bundle_version', message, {
    hint: `This vdiag reads bundle format ${FORMAT_VERSION}. Use the vdiag release that wrote the bundle (see vdiag_version in its manifest.json).`,
    details,
  })
}

/** An archive entry name as shown in a message: quoted, control characters escaped, cut short. */
export function showName(name: string): string {
  const quoted = JSON.stringify(name)
  return quoted.length > 160 ? `${quoted.slice(0, 157)}…"` : quoted
}
