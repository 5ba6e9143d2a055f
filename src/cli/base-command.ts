import {Command} from '@oclif/core'
import {ExitCode, VdiagError, formatError, isVdiagError} from '../errors.js'

/**
 * Shared error handling: a VdiagError is printed as its message and hint (or
 * as `{"error": ...}` with --json) and exits with its own code; oclif's own
 * parse errors are usage errors (exit 2). Anything else is a bug: one line
 * asking for a report, and the stack only with VDIAG_DEBUG=1.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(err: Error & {oclif?: {exit?: number}; parse?: unknown}): Promise<unknown> {
    if (isVdiagError(err)) return this.fail(err)
    if (err.name === 'ExitError' || (err as {code?: string}).code === 'EEXIT') throw err
    if (err.parse !== undefined || /^(Nonexistent flag|Unexpected argument|Missing required|Expected --|The following error)/m.test(err.message)) {
      return this.fail(new VdiagError('usage', err.message.replace(/\nSee more help with --help$/, ''), {hint: `see vdiag ${this.id ?? ''} --help`.trim(), exitCode: ExitCode.Usage}))
    }
    const bug = new VdiagError('failed', `internal error: ${err.message}`, {
      hint: 'this is a bug in vdiag; please report it with the command you ran' + (process.env.VDIAG_DEBUG ? '' : ' (set VDIAG_DEBUG=1 for the stack trace)'),
    })
    if (process.env.VDIAG_DEBUG) process.stderr.write(`${err.stack ?? err}\n`)
    return this.fail(bug)
  }

  private fail(err: VdiagError): never {
    if (this.jsonEnabled() || this.argv.includes('--json')) {
      process.stdout.write(JSON.stringify({event: 'error', error: err.toJSON()}) + '\n')
    } else {
      process.stderr.write(`Error: ${formatError(err)}\n`)
    }
    process.exitCode = err.exitCode
    this.exit(err.exitCode)
  }
}
