/**
 * Every GraphQL document vdiag sends to Vector <= 0.54 (`POST /graphql`), in
 * one place so a test can validate all of them against Vector's published
 * schema (../shared/vector/graphql-schema-v0.54.json). Add new documents here,
 * never inline elsewhere.
 */

/**
 * Components per page. `components` returns only 10 nodes when `first` is
 * omitted; 100 keeps each reply small (tens of KiB with relations) and needs
 * few round trips for any real pipeline.
 */
export const COMPONENTS_PAGE_SIZE = 100

export const META_QUERY = /* GraphQL */ `
query VdiagMeta {
  meta {
    versionString
    hostname
  }
}`

/**
 * Identity and topology: kind is `__typename`, the plugin is `componentType`,
 * and edges come from the relations (each side lists its neighbours).
 */
export const COMPONENTS_QUERY = /* GraphQL */ `
query VdiagComponents($first: Int!, $after: String) {
  components(first: $first, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      __typename
      componentId
      componentType
      ... on Source {
        outputs { outputId }
        transforms { componentId }
        sinks { componentId }
      }
      ... on Transform {
        outputs { outputId }
        sources { componentId }
        transforms { componentId }
        sinks { componentId }
      }
      ... on Sink {
        sources { componentId }
        transforms { componentId }
      }
    }
  }
}`

/** Cumulative counters per component (errors exist only as a subscription, so not here). */
export const COUNTERS_QUERY = /* GraphQL */ `
query VdiagCounters($first: Int!, $after: String) {
  components(first: $first, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      componentId
      ... on Source {
        metrics {
          receivedEventsTotal { receivedEventsTotal }
          sentEventsTotal { sentEventsTotal }
          receivedBytesTotal { receivedBytesTotal }
        }
      }
      ... on Transform {
        metrics {
          receivedEventsTotal { receivedEventsTotal }
          sentEventsTotal { sentEventsTotal }
        }
      }
      ... on Sink {
        metrics {
          receivedEventsTotal { receivedEventsTotal }
          sentEventsTotal { sentEventsTotal }
          sentBytesTotal { sentBytesTotal }
        }
      }
    }
  }
}`

/**
 * Cumulative `component_errors_total` per component, one array over all
 * components per tick. Errors exist only as a subscription, served over
 * WebSocket (legacy `graphql-ws`), never over `POST /graphql`.
 */
export const COMPONENT_ERRORS_SUBSCRIPTION = /* GraphQL */ `
subscription VdiagComponentErrors($interval: Int!) {
  componentErrorsTotals(interval: $interval) {
    componentId
    metric {
      errorsTotal
      timestamp
    }
  }
}`

/** All documents with their operation names, for validation and for `operationName`. */
export const GRAPHQL_DOCUMENTS = {
  VdiagMeta: META_QUERY,
  VdiagComponents: COMPONENTS_QUERY,
  VdiagCounters: COUNTERS_QUERY,
  VdiagComponentErrors: COMPONENT_ERRORS_SUBSCRIPTION,
} as const

/** Operations sent over WebSocket only. */
export type SubscriptionName = 'VdiagComponentErrors'

/** Operations for `POST /graphql` (subscriptions are excluded: they need the WebSocket). */
export type OperationName = Exclude<keyof typeof GRAPHQL_DOCUMENTS, SubscriptionName>
