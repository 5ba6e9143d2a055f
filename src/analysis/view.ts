import type {AnalysisResult, Finding} from './types.js'

/** What detectors see: the analysis without findings, plus the topology depth. */
export interface AnalysisView {
  result: Omit<AnalysisResult, 'findings'>
  /** Longest path from a source per component id: larger is further downstream. */
  depth: Record<string, number>
}

/** A detector is a pure function of the view; it returns zero or more findings. */
export type Detector = (view: AnalysisView) => Finding[]
