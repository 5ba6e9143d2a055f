import net from 'node:net'
import {usageError} from '../errors.js'

export interface ListenAddress {
  host: string
  port: number
}

/**
 * `--listen HOST[:PORT]` for a pipeline in another network namespace. The
 * address is also what the pipeline is told to send spans to, so a wildcard
 * (0.0.0.0, ::) is refused: it would both expose the intake everywhere and
 * give the pipeline an address it cannot use.
 */
export function parseListen(text: string): ListenAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text)
  const host = m?.[1]
  const port = m?.[2] === undefined ? 0 : Number(m[2])
  if (!host || !net.isIP(host) || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw usageError(`--listen: "${text}" is not an IP address with an optional port`, 'e.g. --listen 10.0.0.5 or --listen 10.0.0.5:8126')
  }
  if (host === '0.0.0.0' || host === '::') {
    throw usageError(`--listen ${text}: a wildcard address would expose the intake on every interface`, 'name the one address the pipeline can reach, e.g. --listen 10.0.0.5')
  }
  return {host, port}
}

export function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.')
}
