#!/usr/bin/env node
// Composes subgraph schemas into a supergraph with @apollo/composition, as a router's tooling
// would.
//
//   node compose.js SUBGRAPHS.json [--strip-authorization]
//
// SUBGRAPHS.json: [{"name": "credit", "url": "http://127.0.0.1:4101/graphql", "sdl": "..."}].
// Prints one JSON object: {"errors": [...], "hints": [...], "supergraphSdl": ..., "apiSchema": ...}
// where apiSchema is the SDL clients of the router see. Exits 1 when composition fails.
//
// --strip-authorization removes @authenticated, @requiresScopes and @policy first: the supergraph
// then links no authorization spec, which @apollo/gateway refuses to run with. The subgraphs
// enforce access themselves, so a gateway without those directives still answers correctly.
"use strict";

const fs = require("node:fs");
const { composeServices } = require("@apollo/composition");
const { Kind, parse, printSchema, visit } = require("graphql");

const AUTHORIZATION = new Set(["authenticated", "requiresScopes", "policy"]);

function stripAuthorization(document) {
	return visit(document, {
		Directive(node) {
			if (AUTHORIZATION.has(node.name.value)) {
				return null;
			}
			if (node.name.value !== "link") {
				return undefined;
			}
			return {
				...node,
				arguments: node.arguments.map((argument) =>
					argument.name.value === "import" && argument.value.kind === Kind.LIST
						? {
								...argument,
								value: {
									...argument.value,
									values: argument.value.values.filter(
										(value) =>
											value.kind !== Kind.STRING ||
											!AUTHORIZATION.has(value.value.replace(/^@/, "")),
									),
								},
							}
						: argument,
				),
			};
		},
	});
}

function main(argv) {
	const [path, ...flags] = argv;
	if (!path || flags.some((flag) => flag !== "--strip-authorization")) {
		process.stderr.write("usage: node compose.js SUBGRAPHS.json [--strip-authorization]\n");
		return 2;
	}
	const strip = flags.includes("--strip-authorization");
	const subgraphs = JSON.parse(fs.readFileSync(path, "utf8"));
	const services = subgraphs.map(({ name, url, sdl }) => {
		const document = parse(sdl);
		return { name, url, typeDefs: strip ? stripAuthorization(document) : document };
	});
	const result = composeServices(services);
	const answer = {
		errors: (result.errors ?? []).map((error) => ({
			code: error.extensions?.code ?? null,
			message: error.message,
		})),
		hints: (result.hints ?? []).map((hint) => ({
			code: hint.definition.code,
			message: hint.message,
		})),
		supergraphSdl: result.supergraphSdl ?? null,
		apiSchema: result.schema ? printSchema(result.schema.toAPISchema().toGraphQLJSSchema()) : null,
	};
	process.stdout.write(`${JSON.stringify(answer)}\n`);
	return result.errors ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
