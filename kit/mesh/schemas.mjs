// Validates Istio resources against Istio's published CRD schemas, as packaged
// by @kubernetes-models/istio (pinned in package.json), for kit/mesh/schemas.py.
//
// stdin:  [{"source": "<file>#<index>", "resource": {...}}, ...]
// stdout: [{"source", "kind", "name", "errors": ["<path> <message>", ...]}, ...]
//         for the invalid resources only; an unknown apiVersion/kind is invalid.
// Exit 0 whenever the check ran, whatever it found; 2 for input it cannot read,
// 3 when the package is not installed (the caller tells the user to install it).

import { isMissingModule, isObject, modelCache, readStdin, violations } from "./crd_models.mjs";

const PACKAGE = "@kubernetes-models/istio";
// The groups of the mesh's policy; the package's other groups (telemetry,
// extensions, install) are not part of it, so their kinds count as unknown.
const GROUPS = new Set(["security.istio.io", "networking.istio.io"]);
// Both patterns keep an apiVersion or kind from naming any other file of the
// package (an index, a schema module, a relative path) through the import.
const VERSION = /^v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
// Every kind of those groups, as a check that the package is there at all.
const PROBE = `${PACKAGE}/security.istio.io/v1/AuthorizationPolicy`;

const EXIT_BAD_INPUT = 2;
const EXIT_NOT_INSTALLED = 3;

class Unknown extends Error {}




// What the package offers for a group/version, named in the error so a typo
// in a kind or version is easy to fix; only read when something is unknown.
async function offered(group, version) {
  if (VERSION.test(version)) {
    try {
      const kinds = Object.keys(await import(`${PACKAGE}/${group}/${version}`)).sort();
      return `${group}/${version} offers ${kinds.join(", ")}`;
    } catch (error) {
      if (!isMissingModule(error)) throw error;
    }
  }
  const versions = Object.keys(await import(`${PACKAGE}/${group}`)).sort();
  return `${group} offers versions ${versions.join(", ")}`;
}


async function importModel(apiVersion, kind) {
  const [group, version, ...rest] = apiVersion.split("/");
  if (!GROUPS.has(group) || rest.length > 0 || version === undefined) {
    const expected = [...GROUPS].map((known) => `${known}/<version>`).join(" or ");
    throw new Unknown(`unknown apiVersion ${apiVersion}: expected ${expected}`);
  }
  if (!VERSION.test(version) || !KIND.test(kind)) {
    throw new Unknown(`unknown apiVersion/kind ${apiVersion} ${kind}: ${await offered(group, version)}`);
  }
  let module;
  try {
    module = await import(`${PACKAGE}/${group}/${version}/${kind}`);
  } catch (error) {
    if (!isMissingModule(error)) throw error;
    throw new Unknown(`unknown apiVersion/kind ${apiVersion} ${kind}: ${await offered(group, version)}`);
  }
  const Model = module[kind];
  if (typeof Model !== "function" || Model.apiVersion !== apiVersion || Model.kind !== kind) {
    throw new Unknown(`unknown apiVersion/kind ${apiVersion} ${kind}: ${await offered(group, version)}`);
  }
  return Model;
}

const modelFor = modelCache(importModel);


async function check(resource) {
  if (!isObject(resource)) {
    return ["must be object (a Kubernetes resource)"];
  }
  const { apiVersion, kind } = resource;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return [
      ...(typeof apiVersion === "string" ? [] : ["apiVersion must be string"]),
      ...(typeof kind === "string" ? [] : ["kind must be string"]),
    ];
  }
  let Model;
  try {
    Model = await modelFor(apiVersion, kind);
  } catch (error) {
    if (error instanceof Unknown) return [error.message];
    throw error;
  }
  return violations(Model, resource);
}

async function main() {
  let items;
  try {
    items = JSON.parse(await readStdin());
  } catch (error) {
    console.error(`schemas.mjs: stdin is not JSON: ${error.message}`);
    return EXIT_BAD_INPUT;
  }
  if (!Array.isArray(items) || !items.every((item) => isObject(item) && typeof item.source === "string")) {
    console.error('schemas.mjs: stdin must be a JSON array of {"source": string, "resource": object}');
    return EXIT_BAD_INPUT;
  }
  try {
    await import(PROBE);
  } catch (error) {
    if (!isMissingModule(error)) throw error;
    console.error(`schemas.mjs: ${PACKAGE} is not installed (${error.message}); run npm install`);
    return EXIT_NOT_INSTALLED;
  }
  const invalid = [];
  for (const { source, resource } of items) {
    const errors = await check(resource);
    if (errors.length > 0) {
      const name = isObject(resource) && isObject(resource.metadata) ? resource.metadata.name : undefined;
      invalid.push({
        source,
        kind: isObject(resource) && typeof resource.kind === "string" ? resource.kind : null,
        name: typeof name === "string" ? name : null,
        errors,
      });
    }
  }
  process.stdout.write(`${JSON.stringify(invalid)}\n`);
  return 0;
}

// exitCode rather than process.exit(): exiting at once could cut off the
// output still being written to a pipe.
process.exitCode = await main();
