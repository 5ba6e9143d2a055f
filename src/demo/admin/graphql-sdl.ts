/**
 * The part of Vector's (0.31–0.54) GraphQL schema the demo serves: health,
 * meta, the component connections with their relations and metrics. Every
 * type, field, argument and enum value here exists with the same type in
 * ../shared/vector/graphql-schema-v0.54.json (test/demo-admin checks it), so a
 * document that validates against this subset validates against Vector too.
 *
 * Left out on purpose: subscriptions (served over WebSocket by Vector, not
 * part of the demo), hostMetrics, tap event types, and `FileSourceMetrics.files`
 * (the demo has no per-file counters to report).
 */
export const DEMO_GRAPHQL_SDL = /* GraphQL */ `
"""An RFC 3339 UTC timestamp, as Vector's chrono DateTime<Utc>."""
scalar DateTime

type Query {
  health: Boolean!
  components(
    after: String
    before: String
    first: Int
    last: Int
    filter: ComponentsFilter
    sort: [ComponentsSortField!]
  ): ComponentConnection!
  sources(
    after: String
    before: String
    first: Int
    last: Int
    filter: SourcesFilter
    sort: [SourcesSortField!]
  ): SourceConnection!
  transforms(
    after: String
    before: String
    first: Int
    last: Int
    filter: TransformsFilter
    sort: [TransformsSortField!]
  ): TransformConnection!
  sinks(
    after: String
    before: String
    first: Int
    last: Int
    filter: SinksFilter
    sort: [SinksSortField!]
  ): SinkConnection!
  componentByComponentKey(componentId: String!): Component
  meta: Meta!
}

type Meta {
  versionString: String!
  hostname: String
}

interface Component {
  componentId: String!
  componentType: String!
}

type Source implements Component {
  componentId: String!
  componentType: String!
  outputTypes: [SourceOutputType!]!
  outputs: [Output!]!
  transforms: [Transform!]!
  sinks: [Sink!]!
  metrics: SourceMetrics!
}

type Transform implements Component {
  componentId: String!
  componentType: String!
  outputs: [Output!]!
  sources: [Source!]!
  transforms: [Transform!]!
  sinks: [Sink!]!
  metrics: TransformMetrics!
}

type Sink implements Component {
  componentId: String!
  componentType: String!
  sources: [Source!]!
  transforms: [Transform!]!
  metrics: SinkMetrics!
}

type Output {
  outputId: String!
  sentEventsTotal: SentEventsTotal
}

enum SourceOutputType {
  LOG
  METRIC
  TRACE
}

interface SourceMetrics {
  receivedBytesTotal: ReceivedBytesTotal
  receivedEventsTotal: ReceivedEventsTotal
  sentEventsTotal: SentEventsTotal
}

type GenericSourceMetrics implements SourceMetrics {
  receivedBytesTotal: ReceivedBytesTotal
  receivedEventsTotal: ReceivedEventsTotal
  sentEventsTotal: SentEventsTotal
}

type FileSourceMetrics implements SourceMetrics {
  receivedBytesTotal: ReceivedBytesTotal
  receivedEventsTotal: ReceivedEventsTotal
  sentEventsTotal: SentEventsTotal
}

interface TransformMetrics {
  receivedEventsTotal: ReceivedEventsTotal
  sentEventsTotal: SentEventsTotal
}

type GenericTransformMetrics implements TransformMetrics {
  receivedEventsTotal: ReceivedEventsTotal
  sentEventsTotal: SentEventsTotal
}

interface SinkMetrics {
  receivedEventsTotal: ReceivedEventsTotal
  sentBytesTotal: SentBytesTotal
  sentEventsTotal: SentEventsTotal
}

type GenericSinkMetrics implements SinkMetrics {
  receivedEventsTotal: ReceivedEventsTotal
  sentBytesTotal: SentBytesTotal
  sentEventsTotal: SentEventsTotal
}

type ReceivedEventsTotal {
  timestamp: DateTime
  receivedEventsTotal: Float!
}

type SentEventsTotal {
  timestamp: DateTime
  sentEventsTotal: Float!
}

type ReceivedBytesTotal {
  timestamp: DateTime
  receivedBytesTotal: Float!
}

type SentBytesTotal {
  timestamp: DateTime
  sentBytesTotal: Float!
}

type PageInfo {
  hasPreviousPage: Boolean!
  hasNextPage: Boolean!
  startCursor: String
  endCursor: String
}

type ComponentConnection {
  pageInfo: PageInfo!
  edges: [ComponentEdge!]!
  nodes: [Component!]!
  totalCount: Int!
}

type ComponentEdge {
  cursor: String!
  node: Component!
}

type SourceConnection {
  pageInfo: PageInfo!
  edges: [SourceEdge!]!
  nodes: [Source!]!
  totalCount: Int!
}

type SourceEdge {
  cursor: String!
  node: Source!
}

type TransformConnection {
  pageInfo: PageInfo!
  edges: [TransformEdge!]!
  nodes: [Transform!]!
  totalCount: Int!
}

type TransformEdge {
  cursor: String!
  node: Transform!
}

type SinkConnection {
  pageInfo: PageInfo!
  edges: [SinkEdge!]!
  nodes: [Sink!]!
  totalCount: Int!
}

type SinkEdge {
  cursor: String!
  node: Sink!
}

enum ComponentKind {
  SOURCE
  TRANSFORM
  SINK
}

enum Direction {
  ASC
  DESC
}

"""Filter for String values"""
input StringFilter {
  equals: String
  notEquals: String
  contains: String
  notContains: String
  startsWith: String
  endsWith: String
}

input ComponentKindFilter {
  equals: ComponentKind
  notEquals: ComponentKind
}

input SourceOutputTypeFilter {
  equals: [SourceOutputType!]
  notEquals: [SourceOutputType!]
  contains: SourceOutputType
  notContains: SourceOutputType
}

input ComponentsFilter {
  componentId: [StringFilter!]
  componentKind: [ComponentKindFilter!]
  or: [ComponentsFilter!]
}

input SourcesFilter {
  componentId: [StringFilter!]
  componentType: [StringFilter!]
  outputType: [SourceOutputTypeFilter!]
  or: [SourcesFilter!]
}

input TransformsFilter {
  componentId: [StringFilter!]
  componentType: [StringFilter!]
  or: [TransformsFilter!]
}

input SinksFilter {
  componentId: [StringFilter!]
  componentType: [StringFilter!]
  or: [SinksFilter!]
}

enum ComponentsSortFieldName {
  COMPONENT_KEY
  COMPONENT_KIND
}

enum SourcesSortFieldName {
  COMPONENT_KEY
  COMPONENT_TYPE
  OUTPUT_TYPE
}

enum TransformsSortFieldName {
  COMPONENT_KEY
  COMPONENT_TYPE
}

enum SinksSortFieldName {
  COMPONENT_KEY
  COMPONENT_TYPE
}

input ComponentsSortField {
  field: ComponentsSortFieldName!
  direction: Direction! = ASC
}

input SourcesSortField {
  field: SourcesSortFieldName!
  direction: Direction! = ASC
}

input TransformsSortField {
  field: TransformsSortFieldName!
  direction: Direction! = ASC
}

input SinksSortField {
  field: SinksSortFieldName!
  direction: Direction! = ASC
}
`
