/**
 * Helpers for the guided-flow tests: a stand-in health endpoint, and a
 * private tmux server that gives the real CLI a real pseudo-terminal.
 */
import {execFile} from 'node:child_process'
import http from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {promisify} from 'node:util'

const run = promisify(execFile)

export interface HealthServer {
  url: string
  port: number
  /** Paths asked, in order. */
  requests: string[]
  close(): Promise<void>
}

/** Answers `GET /health` with `{"ok":true}` (or the given status), 404 elsewhere. */
export async function startHealthServer(status = 200): Promise<HealthServer> {
  const requests: string[] = []
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '')
    if (req.url === '/health') {
      res.writeHead(status, {'content-type': 'application/json'}).end(JSON.stringify({ok: status === 200}))
    } else {
      res.writeHead(404).end()
    }
  })
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

let sessions = 0

/** Quotes one word for the shell tmux runs the command with. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * One tmux server per test on a private socket (`-L`), so it never touches a
 * user's tmux and can always be killed whole.
 */
export class TmuxSession {
  readonly socket = `vdiag-test-${process.pid}-${++sessions}`

  private tmux(args: string[], timeoutMs = 15_000) {
    // -f /dev/null: no user config, the same pane everywhere.
    return run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {timeout: timeoutMs, env: {...process.env, TMUX: ''}})
  }

  /**
   * Runs `command` (a shell command line) in a 120x40 pane. The pane then
   * prints `EXIT=<code>` and stays open, so the screen can still be read.
   */
  async start(command: string, opts: {cwd: string; env?: Record<string, string>}): Promise<void> {
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    await this.tmux(['-u', 'new-session', '-d', '-x', '120', '-y', '40', '-c', opts.cwd, ...env, `${command}; echo EXIT=$?; sleep 600`])
  }

  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', '0', ...keys])
  }

  /** The pane's scrollback and screen, wrapped lines joined. */
  async screen(): Promise<string> {
    const {stdout} = await this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', '0'])
    return stdout
  }

  /** Polls the screen until `test` matches; throws with the screen after `timeoutMs`. */
  async waitFor(test: RegExp, timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      last = await this.screen().catch((e: Error) => `(capture-pane failed: ${e.message})`)
      if (test.test(last)) return last
      await new Promise((r) => setTimeout(r, 250))
    }
    throw new Error(`screen did not show ${test} within ${timeoutMs} ms; screen:\n${last}`)
  }

  /** The exit code the pane printed, waiting for it. */
  async exitCode(timeoutMs = 120_000): Promise<number> {
    const s = await this.waitFor(/^EXIT=\d+$/m, timeoutMs)
    return Number(/^EXIT=(\d+)$/m.exec(s)![1])
  }

  async kill(): Promise<void> {
    await this.tmux(['kill-server'], 10_000).catch(() => undefined)
  }
}
