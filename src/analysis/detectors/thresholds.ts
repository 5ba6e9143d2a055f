/** Thresholds shared by the detectors, with their units. */

/** spans: below this a window says nothing reliable about shares. */
export const MIN_SPANS = 50
/** iterations per component: fewer and its shares are noise. */
export const MIN_ITERATIONS = 5
/** seconds: shorter windows miss periodic work (flushes, rotations). */
export const MIN_WINDOW_S = 1

/** busy share of the window (0..1) at which a component counts as saturated. */
export const SATURATED_BUSY = 0.75
/** busy share (0..1) at which saturation is critical rather than high. */
export const CRITICAL_BUSY = 0.9
/** busy share (0..1) from which the busiest unsaturated component is worth a mention. */
export const NEAR_SATURATION_BUSY = 0.5
/** fraction of busy time (0..1) that must be own work for a saturated component to be a cause. */
export const OWN_WORK_MIN = 0.5
/** fraction of a stage's time (0..1) from which the summary says the stage is "mostly" its largest sub-stage. */
export const SUBSTAGE_MOSTLY = 0.5
/** fraction of busy time (0..1) in `send` from which a source/transform is reported as blocked. */
export const BLOCKED_MIN = 0.5

/** fraction of iteration time (0..1) not under any stage that is worth a warning. */
export const UNTRACKED_WARN = 0.25
/** errors per iteration (0..1) from which errors are medium rather than low. */
export const ERROR_RATE_MEDIUM = 0.01
/** fraction of spans (0..1) lost or dropped from which the loss is medium rather than low. */
export const LOSS_MEDIUM = 0.01
/** fraction (0..1) lost from which shares may be skewed: high. */
export const LOSS_HIGH = 0.1

/** Vector `utilization` (0..1) at which a component is saturated (issue 5). */
export const UTILIZATION_SATURATED = 0.9
/** sent/received below this (0..1) means events pile up in front of a component. */
export const THROUGHPUT_RATIO_MIN = 0.9
