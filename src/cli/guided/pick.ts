/**
 * The question "which pipeline?" once discovery found some. Shaped as an
 * inquirer prompt (config, context) so @inquirer/testing's render() can drive
 * it; resolves with the chosen URL, or null when the person said no or
 * pressed Ctrl-C.
 */
import {describeCandidate, type PipelineCandidate} from './discover.js'
import {isPromptExit, type PromptContext} from './terminal.js'

export interface PickConfig {
  pipelines: PipelineCandidate[]
}

/** Enough rows to show every candidate discovery may return without scrolling on a normal terminal. */
const PAGE_SIZE = 12

export async function pickPipeline(config: PickConfig, context?: PromptContext): Promise<string | null> {
  const {confirm, select} = await import('@inquirer/prompts')
  const {pipelines} = config
  if (pipelines.length === 0) return null
  try {
    if (pipelines.length === 1) {
      const only = pipelines[0]
      const yes = await confirm({message: `Capture from the pipeline at ${only.url} (${only.sources.join(', ')})?`, default: true}, context)
      return yes ? only.url : null
    }
    return await select(
      {
        message: `${pipelines.length} pipelines answer on this host. Which one should vdiag capture from?`,
        choices: pipelines.map((p) => ({name: describeCandidate(p), value: p.url, short: p.url})),
        pageSize: PAGE_SIZE,
      },
      context,
    )
  } catch (e) {
    if (isPromptExit(e)) return null
    throw e
  }
}
