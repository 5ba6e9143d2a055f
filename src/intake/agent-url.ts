/**
 * The address of a Datadog Agent's trace receiver (`--agent-url`,
 * `--to-agent`), checked once where the flag is read. Kept apart from the
 * HTTP client so that commands can validate it without loading anything.
 */
import net from 'node:net'
import {usageError} from '../errors.js'

/** Where a Datadog Agent listens for traces unless configured otherwise (apm_config.receiver_port). */
export const DEFAULT_AGENT_URL = 'http://127.0.0.1:8126'

export interface AgentUrl {
  /** `http://host:port`, no path. */
  origin: string
  /** For http.request: an IPv6 address without its brackets. */
  host: string
  port: number
  loopback: boolean
}

/**
 * Plain `http://host[:port]` only: the Agent's receiver speaks HTTP at its
 * root. Credentials in the URL are refused (they would end up in the bundle
 * and in logs); so is any path, which the receiver would not serve.
 */
export function parseAgentUrl(text: string, flag: string): AgentUrl {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    throw usageError(`${flag}: "${text}" is not a URL`, `e.g. ${flag} ${DEFAULT_AGENT_URL}`)
  }
  if (u.protocol !== 'http:') throw usageError(`${flag} ${text}: only http:// is supported`, `the Agent's trace receiver speaks plain HTTP, e.g. ${DEFAULT_AGENT_URL}`)
  if (u.username || u.password) throw usageError(`${flag}: credentials in the URL are not supported`, 'the Agent needs none on its trace receiver; give http://host:port')
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw usageError(`${flag} ${text}: give the Agent's address without a path`, `e.g. ${DEFAULT_AGENT_URL}`)
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = u.port === '' ? 80 : Number(u.port)
  return {origin: u.origin, host, port, loopback: isLoopbackHost(host)}
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  if (net.isIPv4(host)) return host.startsWith('127.')
  return host === '::1'
}
