/**
 * CEL rules derived from the reference table: for each reference field, the grammar, the
 * kind requirement (fields without a default kind) and the allowed kinds. Each rule is
 * guarded so a bad value gets exactly one message, and the message quotes the value (CEL
 * errors otherwise show only its type).
 */
import type { CelRule } from './common.ts';
import type { JsonSchema } from './crd-schema.ts';
import { formatMessage, kindAllowedMessage, kindRequiredMessage, REF_PATTERN, staticText, type RefField, type RefMessage } from './refs.ts';

/** Text placed inside a single-quoted CEL string literal must need no escaping. */
function celLiteral(text: string): string {
  if (/['\\]/.test(text)) throw new Error(`cannot embed ${JSON.stringify(text)} in a CEL string literal`);
  return `'${text}'`;
}

function celRule(rule: string, message: RefMessage): CelRule {
  return {
    rule,
    message: staticText(message),
    messageExpression: `${celLiteral(`${message.subject} "`)} + self + ${celLiteral(`" ${message.problem}: ${message.hint}`)}`,
  };
}

/** The CEL rules that check one reference string (the field itself, or each item of a list). */
export function refRules(field: RefField): CelRule[] {
  const wellFormed = `self.matches(${celLiteral(REF_PATTERN)})`;
  const rules = [celRule(wellFormed, formatMessage(field))];
  if (!field.defaultKind) rules.push(celRule(`!${wellFormed} || self.contains(':')`, kindRequiredMessage(field)));
  const allowed = `^(?i)(${field.allowedKinds.join('|')}):`;
  rules.push(celRule(`!${wellFormed} || !self.contains(':') || self.matches(${celLiteral(allowed)})`, kindAllowedMessage(field)));
  return rules;
}

function withRules(schema: JsonSchema, rules: CelRule[]): JsonSchema {
  const existing = (schema['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
  return { ...schema, 'x-kubernetes-validations': [...existing, ...rules] };
}

/** Adds the reference rules of `fields` to a spec schema; a field missing from the schema is a model error. */
export function addRefRules(spec: JsonSchema, fields: readonly RefField[]): JsonSchema {
  const properties = { ...(spec.properties as Record<string, JsonSchema>) };
  for (const field of fields) {
    const node = properties[field.field];
    if (!node) throw new Error(`reference field ${field.field} is not in the spec schema`);
    if (field.list !== (node.type === 'array'))
      throw new Error(`reference field ${field.field}: list is ${field.list} but the schema type is ${String(node.type)}`);
    properties[field.field] = field.list ? { ...node, items: withRules(node.items as JsonSchema, refRules(field)) } : withRules(node, refRules(field));
  }
  return { ...spec, properties };
}
