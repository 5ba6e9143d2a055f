/**
 * A buffered output file that respects backpressure and appears under its
 * final name only once complete (written as `<name>.partial`, then renamed),
 * so an interrupted export never leaves a truncated file that looks whole.
 */
import {createWriteStream, type WriteStream} from 'node:fs'
import {rename, rm} from 'node:fs/promises'
import {VdiagError, errorMessage} from '../errors.js'

/** Strings are joined up to this size before one write: fewer, larger writes. */
const BUFFER_CHARS = 64 * 1024

export class OutputFile {
  private chunks: string[] = []
  private size = 0
  private failure: unknown = null
  private readonly stream: WriteStream
  private readonly partial: string

  constructor(readonly path: string) {
    this.partial = `${path}.partial`
    this.stream = createWriteStream(this.partial)
    this.stream.on('error', (e) => {
      this.failure ??= e
    })
  }

  /** Queue text; resolves at once unless a flush has to wait for the disk. */
  async write(text: string): Promise<void> {
    this.chunks.push(text)
    this.size += text.length
    if (this.size >= BUFFER_CHARS) await this.flush()
  }

  private async flush(): Promise<void> {
    this.check()
    if (this.chunks.length === 0) return
    const text = this.chunks.join('')
    this.chunks = []
    this.size = 0
    if (!this.stream.write(text)) await this.settled('drain')
    this.check()
  }

  /** Resolves on `event`, or on close/error (the error is kept by the constructor's listener). */
  private settled(event: 'drain' | 'close'): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off(event, done)
        this.stream.off('close', done)
        this.stream.off('error', done)
        resolve()
      }
      this.stream.on(event, done)
      this.stream.on('close', done)
      this.stream.on('error', done)
    })
  }

  private check(): void {
    if (this.failure !== null) {
      throw new VdiagError('output_unwritable', `Could not write ${this.path}: ${errorMessage(this.failure)}`, {
        hint: 'Check that the --out directory is writable and the disk has space.',
        cause: this.failure,
      })
    }
  }

  async close(): Promise<void> {
    await this.flush()
    if (!this.stream.closed) {
      const closed = this.settled('close')
      this.stream.end()
      await closed
    }
    this.check()
    await rename(this.partial, this.path)
  }

  /** Drop the partial file after a failure. Never throws. */
  async abort(): Promise<void> {
    // Wait for the close, or a file still being opened could appear after the rm.
    if (!this.stream.closed) {
      const closed = this.settled('close')
      this.stream.destroy()
      await closed
    }
    await rm(this.partial, {force: true}).catch(() => undefined)
  }
}
