// The hub's query limits, enforced by a router on the whole client document.
//
// Behind a router each subgraph sees only its part of a document, so only the router can hold
// the whole of it to the limits the single process holds it to (hub/limits.py, one tier's
// numbers, passed as JSON: {"maxDepth", "maxAliases", "maxDirectives", "maxTokens", "maxCost"}).
// Both test routers use this module: gateway.js (@apollo/gateway, which has no demand control
// of its own) and hive.config.js (Hive Gateway).
//
// - depth, aliases and directives are counted as schema/limits.py counts them: fragments once
//   per spread, introspection fields without depth;
// - the cost is the IBM cost of the document (what Apollo Router's demand control and Hive
//   Gateway read), from the @cost and @listSize directives the subgraphs publish and the
//   composition keeps in the supergraph: a field costs its @cost weight plus 1 if it returns an
//   object; a list multiplies by its @listSize (the slicing argument's value, else the assumed
//   size), and a field with sizedFields passes that size to those fields instead. The subgraphs
//   derive the directives from the hub's own rule (schema/federation/directives.py), so the two
//   agree but for what the directives cannot say (a connection's pageInfo and totalCount count
//   once here, once per item in the hub).
//
// A refused document gets the hub's own answer: only QUERY_TOO_COMPLEX errors, with the value
// and the limit in the extensions, on the operation.
"use strict";

const {
	GraphQLError,
	Kind,
	getNamedType,
	isCompositeType,
	isInterfaceType,
	isObjectType,
	parse,
	valueFromASTUntyped,
} = require("graphql");

const QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX";
const COST_SPEC = "https://specs.apollo.dev/cost/";

// The names the supergraph gives the cost spec's directives: @link(url: ".../cost/v0.1",
// import: ["@listSize"]) imports @listSize by name; @cost, named like the spec, keeps its name.
function costDirectiveNames(document) {
	const names = { cost: "cost", listSize: "cost__listSize" };
	for (const definition of document.definitions) {
		if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) {
			continue;
		}
		for (const directive of definition.directives ?? []) {
			const argument = (name) => directive.arguments?.find((a) => a.name.value === name)?.value;
			const url = argument("url");
			if (directive.name.value !== "link" || url?.kind !== Kind.STRING) continue;
			if (!url.value.startsWith(COST_SPEC)) continue;
			const as = argument("as");
			const prefix = as?.kind === Kind.STRING ? as.value : "cost";
			names.cost = prefix;
			names.listSize = `${prefix}__listSize`;
			for (const entry of argument("import")?.values ?? []) {
				if (entry.kind === Kind.STRING) {
					const name = entry.value.replace(/^@/, "");
					if (name === "listSize" || name === "cost") names[name] = name;
				} else if (entry.kind === Kind.OBJECT) {
					const field = (n) => entry.fields.find((f) => f.name.value === n)?.value?.value;
					const name = field("name")?.replace(/^@/, "");
					if (name === "listSize" || name === "cost") {
						names[name] = (field("as") ?? name).replace(/^@/, "");
					}
				}
			}
		}
	}
	return names;
}

/** The @cost weight and @listSize of every field of the supergraph: "Type.field" -> {...}. */
function costModel(supergraphSdl) {
	const document = parse(supergraphSdl);
	const names = costDirectiveNames(document);
	const model = new Map();
	for (const definition of document.definitions) {
		if (
			definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
			definition.kind !== Kind.OBJECT_TYPE_EXTENSION
		) {
			continue;
		}
		for (const field of definition.fields ?? []) {
			const annotation = {};
			for (const directive of field.directives ?? []) {
				const values = Object.fromEntries(
					(directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]),
				);
				if (directive.name.value === names.cost) annotation.weight = Number(values.weight) || 0;
				if (directive.name.value === names.listSize) annotation.listSize = values;
			}
			if (Object.keys(annotation).length > 0) {
				model.set(`${definition.name.value}.${field.name.value}`, annotation);
			}
		}
	}
	return model;
}

function operationOf(document, operationName) {
	const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
	if (!operationName) return operations.length === 1 ? operations[0] : undefined;
	return operations.find((o) => o.name?.value === operationName);
}

const NOTHING = { depth: 0, aliases: 0, directives: 0, cost: 0 };

/** Depth, aliases, directives and cost of the operation the request executes. */
function measure(schema, model, document, operationName, variables) {
	const operation = operationOf(document, operationName);
	if (!operation) return undefined;
	const fragments = new Map(
		document.definitions
			.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)
			.map((d) => [d.name.value, d]),
	);
	const defaults = new Map(
		(operation.variableDefinitions ?? []).map((d) => [d.variable.name.value, d.defaultValue]),
	);
	// A fragment is measured once per place it can be spread in (the sizes a connection passes
	// down); a spread that closes a cycle counts as nothing, as validation refuses it anyway.
	const measured = new Map();
	const measuring = new Set();

	function argument(node, definition, name) {
		const given = node.arguments?.find((a) => a.name.value === name)?.value;
		if (given?.kind === Kind.VARIABLE) {
			const variable = given.name.value;
			if (variables && variable in variables) return variables[variable];
			const fallback = defaults.get(variable);
			if (fallback) return valueFromASTUntyped(fallback);
		} else if (given) {
			return valueFromASTUntyped(given, variables);
		}
		return definition.args.find((a) => a.name === name)?.defaultValue;
	}

	function listFactor(node, definition, listSize) {
		if (!listSize) return 1;
		if (Array.isArray(listSize.slicingArguments) && listSize.slicingArguments.length > 0) {
			const values = listSize.slicingArguments
				.map((name) => argument(node, definition, name))
				.filter((value) => typeof value === "number" && Number.isFinite(value));
			if (values.length > 0) return Math.max(0, ...values);
		}
		return typeof listSize.assumedSize === "number" ? listSize.assumedSize : 1;
	}

	function selections(selectionSet, parent, sized) {
		let depth = 0;
		let aliases = 0;
		let directives = 0;
		let cost = 0;
		for (const selection of selectionSet.selections) {
			directives += selection.directives?.length ?? 0;
			let inner = NOTHING;
			if (selection.kind === Kind.FIELD) {
				inner = field(selection, parent, sized);
			} else if (selection.kind === Kind.INLINE_FRAGMENT) {
				const condition = selection.typeCondition;
				const typed = condition ? schema.getType(condition.name.value) : parent;
				inner = selections(selection.selectionSet, typed, sized);
			} else if (selection.kind === Kind.FRAGMENT_SPREAD) {
				inner = spread(selection.name.value, sized);
			}
			depth = Math.max(depth, inner.depth);
			aliases += inner.aliases;
			directives += inner.directives;
			cost += inner.cost;
		}
		return { depth, aliases, directives, cost };
	}

	function spread(name, sized) {
		const fragment = fragments.get(name);
		const key = `${name} ${JSON.stringify([...(sized ?? new Map())])}`;
		if (!fragment || measuring.has(key)) return NOTHING;
		if (!measured.has(key)) {
			measuring.add(key);
			const condition = schema.getType(fragment.typeCondition.name.value);
			measured.set(key, selections(fragment.selectionSet, condition, sized));
			measuring.delete(key);
		}
		return measured.get(key);
	}

	function field(node, parent, sized) {
		const aliases = node.alias ? 1 : 0;
		const name = node.name.value;
		const definition =
			isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
		const named = definition ? getNamedType(definition.type) : undefined;
		const annotation = (parent && model.get(`${parent.name}.${name}`)) ?? {};
		const listSize = annotation.listSize;
		const passesSize = Array.isArray(listSize?.sizedFields) && listSize.sizedFields.length > 0;
		const factor =
			sized?.get(name) ?? (definition && !passesSize ? listFactor(node, definition, listSize) : 1);
		const inner =
			node.selectionSet && definition
				? selections(
						node.selectionSet,
						named,
						passesSize
							? new Map(
									listSize.sizedFields.map((f) => [f, listFactor(node, definition, listSize)]),
								)
							: undefined,
					)
				: NOTHING;
		if (name.startsWith("__")) {
			return { depth: 0, aliases: aliases + inner.aliases, directives: inner.directives, cost: 0 };
		}
		const own = (annotation.weight ?? 0) + (named && isCompositeType(named) ? 1 : 0);
		return {
			depth: 1 + inner.depth,
			aliases: aliases + inner.aliases,
			directives: inner.directives,
			cost: factor * (own + inner.cost),
		};
	}

	const root = schema.getRootType(operation.operation);
	const inner = selections(operation.selectionSet, root, undefined);
	return { ...inner, directives: inner.directives + (operation.directives?.length ?? 0), operation };
}

function tooComplex(message, operation, extensions) {
	return new GraphQLError(message, {
		nodes: [operation],
		extensions: { code: QUERY_TOO_COMPLEX, ...extensions },
	});
}

/** The QUERY_TOO_COMPLEX errors of the request, in the hub's words; [] when it is within. */
function check(limits, schema, model, document, operationName, variables) {
	const measured = measure(schema, model, document, operationName, variables);
	if (!measured) return [];
	const { operation } = measured;
	const errors = [];
	if (measured.depth > limits.maxDepth) {
		errors.push(
			tooComplex(
				`The query nests fields ${measured.depth} deep; the limit is ${limits.maxDepth}.`,
				operation,
				{ depth: measured.depth, maxDepth: limits.maxDepth },
			),
		);
	}
	if (measured.aliases > limits.maxAliases) {
		errors.push(
			tooComplex(
				`The query uses ${measured.aliases} aliases; the limit is ${limits.maxAliases}.`,
				operation,
				{ aliases: measured.aliases, maxAliases: limits.maxAliases },
			),
		);
	}
	if (measured.directives > limits.maxDirectives) {
		errors.push(
			tooComplex(
				`The query uses ${measured.directives} directives; the limit is ${limits.maxDirectives}.`,
				operation,
				{ directives: measured.directives, maxDirectives: limits.maxDirectives },
			),
		);
	}
	if (measured.cost > limits.maxCost) {
		errors.push(
			tooComplex(
				`The query costs ${measured.cost}; the limit is ${limits.maxCost}. ` +
					"Ask for fewer items with `first`, or nest fewer lists.",
				operation,
				{ cost: measured.cost, maxCost: limits.maxCost },
			),
		);
	}
	return errors;
}

/** The parser's token limit, in the hub's words. */
function tooManyTokens(limits) {
	return new GraphQLError(
		`The document has more than ${limits.maxTokens} tokens; the limit is ${limits.maxTokens}.`,
		{ extensions: { code: QUERY_TOO_COMPLEX, maxTokens: limits.maxTokens } },
	);
}

module.exports = { QUERY_TOO_COMPLEX, check, costModel, measure, tooManyTokens };

// node limits.js < {"supergraphSdl": ..., "apiSchema": ..., "documents": [{"query", "variables"}]}
// prints [{"depth", "aliases", "directives", "cost"}, ...]: what a router measures, for the
// tests that compare it with what the hub measures (test_limits.py).
if (require.main === module) {
	const { buildSchema } = require("graphql");
	const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
	const schema = buildSchema(input.apiSchema);
	const model = costModel(input.supergraphSdl);
	const measures = input.documents.map(({ query, variables }) => {
		const { depth, aliases, directives, cost } = measure(
			schema,
			model,
			parse(query),
			undefined,
			variables ?? {},
		);
		return { depth, aliases, directives, cost };
	});
	process.stdout.write(`${JSON.stringify(measures)}\n`);
}
