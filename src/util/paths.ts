import {fileURLToPath} from 'node:url'
import path from 'node:path'

/**
 * The package root, found from this file's compiled location
 * (dist/src/util/paths.js). Non-TypeScript assets (.proto, templates) are read
 * from `src/` under it, which ships with the package.
 */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export function assetPath(...parts: string[]): string {
  return path.join(packageRoot, 'src', ...parts)
}
