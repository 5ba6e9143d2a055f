/**
 * Admin API addresses advertised in this shell's `VECTOR_*` variables (for
 * example `VECTOR_API_ADDRESS=127.0.0.1:8686`, as Vector's own `api.address`
 * is written). Only values shaped like an address count; `VECTOR_LOG=info`
 * and config paths are ignored.
 */
import {loopbackUrl} from './proc-listeners.js'

/** More than a few address-shaped VECTOR_* variables is noise, not a choice for a person. */
const MAX_ENV_ADDRESSES = 16

export interface EnvAddress {
  variable: string
  url: string
}

export interface EnvAddresses {
  found: EnvAddress[]
  /** Address-shaped values that point off this host: discovery never probes those. */
  offHost: EnvAddress[]
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/

export function addressesFromEnv(env: NodeJS.ProcessEnv): EnvAddresses {
  const found: EnvAddress[] = []
  const offHost: EnvAddress[] = []
  for (const variable of Object.keys(env).filter((k) => k.startsWith('VECTOR_')).sort()) {
    const value = env[variable]?.trim() ?? ''
    const parsed = parseAddress(value)
    if (!parsed) continue
    const url = toLoopback(parsed)
    if (url) found.push({variable, url})
    else offHost.push({variable, url: parsed.origin})
    if (found.length + offHost.length >= MAX_ENV_ADDRESSES) break
  }
  return {found, offHost}
}

function parseAddress(value: string): URL | null {
  let text: string
  if (/^https?:\/\//i.test(value)) text = value
  else if (HOST_PORT.test(value)) text = `http://${value}`
  else return null
  try {
    return new URL(text)
  } catch {
    return null
  }
}

function toLoopback(u: URL): string | null {
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
  const base = host === 'localhost' ? `http://127.0.0.1:${port}` : loopbackUrl(host, port)
  if (!base) return null
  // Keep the scheme and any path prefix the variable gave (a proxy in front of the API).
  const path = u.pathname.replace(/\/+$/, '')
  return `${u.protocol}//${new URL(base).host}${path}`
}
