/** Worker-thread entry for collectHostFacts (see there for why): collect, answer once. */
import {parentPort} from 'node:worker_threads'
import {collectHostFactsHere} from './host-facts.js'

parentPort?.postMessage(await collectHostFactsHere())
