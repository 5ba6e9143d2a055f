import {Flags} from '@oclif/core'
import {parseDuration} from '../util/duration.js'

/** A duration flag (`500ms`, `30s`, `5m`) parsed once into milliseconds. */
export function durationFlag(opts: {description: string; char?: 'd' | 'i'}) {
  return Flags.custom<number>({
    helpValue: '<duration>',
    parse: async (input, _ctx, flag) => parseDuration(input, flag.name),
  })({description: opts.description, char: opts.char})
}

export const apiFlag = Flags.string({
  description: "the pipeline's admin API address (Vector's api.address)",
  default: 'http://127.0.0.1:8686',
  helpValue: '<url>',
})

export const tokenFlag = Flags.string({
  description: 'bearer token for the admin API (never written to the bundle)',
  env: 'VDIAG_API_TOKEN',
  helpValue: '<token>',
})
