import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type {GraphQLSchema} from 'graphql'
import {DEMO_GRAPHQL_SDL} from '../../src/demo/admin/graphql-sdl.js'
import {MISSING_SCHEMA_MESSAGE, loadRealSchema} from './helpers.js'

const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID'])

/** Every way `mine` could accept or answer something Vector's schema would not; empty when it is a true subset. */
async function subsetProblems(mine: GraphQLSchema, real: GraphQLSchema): Promise<string[]> {
  const gql = await import('graphql')
  const problems: string[] = []
  const kindOf = (t: unknown) =>
    gql.isObjectType(t)
      ? 'object'
      : gql.isInterfaceType(t)
        ? 'interface'
        : gql.isUnionType(t)
          ? 'union'
          : gql.isEnumType(t)
            ? 'enum'
            : gql.isInputObjectType(t)
              ? 'input'
              : 'scalar'
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

  if (mine.getQueryType()?.name !== real.getQueryType()?.name) problems.push('query root type differs')
  if (mine.getMutationType() != null) problems.push('mine has a mutation root')
  if (mine.getSubscriptionType() != null && mine.getSubscriptionType()?.name !== real.getSubscriptionType()?.name) {
    problems.push('subscription root type differs')
  }

  for (const [name, type] of Object.entries(mine.getTypeMap())) {
    if (name.startsWith('__') || BUILT_IN_SCALARS.has(name)) continue
    const other = real.getType(name)
    if (other == null) {
      problems.push(`type ${name} is not in Vector's schema`)
      continue
    }
    if (kindOf(type) !== kindOf(other)) {
      problems.push(`type ${name} is ${kindOf(type)}, Vector's is ${kindOf(other)}`)
      continue
    }
    if ((gql.isObjectType(type) || gql.isInterfaceType(type)) && (gql.isObjectType(other) || gql.isInterfaceType(other))) {
      const realFields = other.getFields()
      for (const field of Object.values(type.getFields())) {
        const realField = realFields[field.name]
        if (realField === undefined) {
          problems.push(`field ${name}.${field.name} is not in Vector's schema`)
          continue
        }
        if (String(field.type) !== String(realField.type)) {
          problems.push(`field ${name}.${field.name}: ${String(field.type)} vs Vector's ${String(realField.type)}`)
        }
        for (const arg of field.args) {
          const realArg = realField.args.find((a) => a.name === arg.name)
          if (realArg === undefined) problems.push(`argument ${name}.${field.name}(${arg.name}) is not in Vector's schema`)
          else if (String(arg.type) !== String(realArg.type) || !same(arg.defaultValue, realArg.defaultValue)) {
            problems.push(`argument ${name}.${field.name}(${arg.name}) differs from Vector's`)
          }
        }
        for (const realArg of realField.args) {
          if (gql.isRequiredArgument(realArg) && !field.args.some((a) => a.name === realArg.name)) {
            problems.push(`required argument ${name}.${field.name}(${realArg.name}) is missing`)
          }
        }
      }
      const realInterfaces = new Set(other.getInterfaces().map((i) => i.name))
      for (const i of type.getInterfaces()) {
        if (!realInterfaces.has(i.name)) problems.push(`${name} implements ${i.name}, Vector's does not`)
      }
    } else if (gql.isEnumType(type) && gql.isEnumType(other)) {
      const realValues = new Set(other.getValues().map((v) => v.name))
      for (const v of type.getValues()) if (!realValues.has(v.name)) problems.push(`enum value ${name}.${v.name} is not in Vector's schema`)
    } else if (gql.isInputObjectType(type) && gql.isInputObjectType(other)) {
      const realFields = other.getFields()
      for (const field of Object.values(type.getFields())) {
        const realField = realFields[field.name]
        if (realField === undefined) problems.push(`input field ${name}.${field.name} is not in Vector's schema`)
        else if (String(field.type) !== String(realField.type) || !same(field.defaultValue, realField.defaultValue)) {
          problems.push(`input field ${name}.${field.name} differs from Vector's`)
        }
      }
      for (const realField of Object.values(realFields)) {
        if (gql.isRequiredInputField(realField) && type.getFields()[realField.name] === undefined) {
          problems.push(`required input field ${name}.${realField.name} is missing`)
        }
      }
    } else if (gql.isUnionType(type) && gql.isUnionType(other)) {
      const realMembers = new Set(other.getTypes().map((t) => t.name))
      for (const t of type.getTypes()) if (!realMembers.has(t.name)) problems.push(`union ${name} member ${t.name} is not Vector's`)
    }
  }
  return problems
}

describe('demo GraphQL SDL against Vector 0.54', () => {
  it('is a subset of the real schema: same names, types, arguments, defaults, enum values', {timeout: 30_000}, async (t) => {
    const real = await loadRealSchema()
    if (real === undefined) {
      t.skip(MISSING_SCHEMA_MESSAGE)
      return
    }
    const {buildSchema} = await import('graphql')
    const mine = buildSchema(DEMO_GRAPHQL_SDL)
    assert.deepEqual(await subsetProblems(mine, real), [])
    // The subset is not trivially small: the parts vdiag needs are all there.
    for (const name of ['Query', 'Meta', 'Component', 'Source', 'Transform', 'Sink', 'ComponentConnection', 'SourceMetrics']) {
      assert.ok(mine.getType(name), `${name} present`)
    }
  })

  it('the comparison catches a wrong type, a foreign field and a foreign enum value', {timeout: 30_000}, async (t) => {
    const real = await loadRealSchema()
    if (real === undefined) {
      t.skip(MISSING_SCHEMA_MESSAGE)
      return
    }
    const {buildSchema} = await import('graphql')
    const broken = buildSchema(`
      type Query { health: Boolean, meta: Meta!, componentByComponentKey: Component }
      type Meta { versionString: String!, utilization: Float }
      interface Component { componentId: String!, componentType: String! }
      enum ComponentKind { SOURCE ROUTER }
      type Extra { componentKind: ComponentKind }
    `)
    const problems = await subsetProblems(broken, real)
    assert.ok(problems.some((p) => p.startsWith('field Query.health')), 'nullable health is caught')
    assert.ok(problems.some((p) => p.includes('Meta.utilization')), 'invented field is caught')
    assert.ok(problems.some((p) => p.includes('ComponentKind.ROUTER')), 'invented enum value is caught')
    assert.ok(problems.some((p) => p.includes('type Extra')), 'invented type is caught')
    assert.ok(problems.some((p) => p.includes('required argument Query.componentByComponentKey(componentId)')))
  })
})
